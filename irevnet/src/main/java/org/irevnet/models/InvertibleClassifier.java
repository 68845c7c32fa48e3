package org.irevnet.models;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.irevnet.layers.ActNorm;
import org.irevnet.layers.AdditiveCoupling;
import org.irevnet.layers.AffineCoupling;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.ChannelReverse;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.InjectivePad;
import org.irevnet.layers.Invertible1x1Conv;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.ParamTable;
import org.irevnet.layers.Sequential;
import org.irevnet.layers.SpaceToDepth;
import org.irevnet.layers.Tapes;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A classifier built from an {@link Architecture}: an invertible body (a {@link Sequential}) and
 * a readout. For {@code fi-revnet} the readout is the identity on the first {@code numClasses}
 * entries of the flattened output {@code z} (the logits {@code z_s}; the rest is the nuisance
 * {@code z_n}). For {@code irevnet} it is the {@link ReadoutHead}.
 *
 * <p>Training keeps only the body's output: {@link #backward} rebuilds every activation from it
 * (unless {@link #setStoredActivations} trades memory for time).
 */
public final class InvertibleClassifier implements Classifier {
  private final Architecture arch;
  private final Sequential body;
  private Consumer<ParamTable> gradientListener;
  private final ReadoutHead head;
  private final ParamTable params = ParamTable.empty();
  private final List<Integer> stageEnds = new ArrayList<>();
  private final DataType dtype;
  private final java.util.Map<Integer, Sequential> prefixes = new java.util.HashMap<>();
  private Tapes tapes;

  /**
   * One forward pass: the body output (NCHW), its log-det, the logits, the head's tape, and the
   * body's tapes when activations are stored ({@link #setStoredActivations}), else null.
   */
  public record Forward(INDArray out, INDArray logDet, INDArray logits, ReadoutHead.Tape headTape,
      Tapes.Pass bodyTapes) {
    /** The body output flattened to {@code [n, d]} (the fi-RevNet's z). */
    public INDArray z() {
      return out.reshape('c', out.size(0), out.length() / out.size(0));
    }

    /**
     * Frees the pass's arrays now, not when the collector finds them (each of {@code out} and the
     * readout's activations is the size of the batch's images): for an evaluation's pass, never
     * for one whose backward pass is still to come.
     */
    public void free() {
      freeAllButLogits();
      Tensors.free(logits, null);
    }

    /** {@link #free} of everything but the logits: for a pass whose logits are returned. */
    void freeAllButLogits() {
      Tensors.freeAll(out, logDet);
      if (headTape != null) headTape.free();
    }
  }

  /** @param rng draws the initial weights; null: zeros (identities), for weights assigned next */
  private InvertibleClassifier(Architecture arch, DataType dt, Random rng) {
    this.arch = arch;
    this.dtype = dt;
    long[] in = inputShape(1);
    Sequential.Builder b = Sequential.builder(in);
    int layer = 0, squeeze = 0, pads = 0;
    for (Architecture.Stage st : arch.stages()) {
      if (st.hasSqueeze()) b.add("psi" + squeeze++, new SpaceToDepth(2));
      if (st.padChannels() > 0) b.add("pad" + pads++, new InjectivePad(st.padChannels()));
      int c = (int) b.shape()[1];
      for (int i = 0; i < st.steps(); i++) {
        if (st.hasActnorm()) b.add("layers." + layer++, new ActNorm(c, dt));
        switch (st.permutationKind()) {
          case "reverse" -> b.add("reverse" + layer, new ChannelReverse());
          case "1x1conv" -> b.add("layers." + layer++, new Invertible1x1Conv(c, dt, rng));
          default -> { }
        }
        Bijection coupling = "affine".equals(st.coupling())
            ? new AffineCoupling(c, st.hidden(), st.kernel(), st.scaleFloorValue(), dt, rng, 0.0)
            : new AdditiveCoupling(c, st.hidden(), st.kernel(), dt, rng, 0.0);
        b.add("layers." + layer++, coupling);
      }
      stageEnds.add(b.size() - 1);
    }
    this.body = b.build();
    params.include("", body.params());
    long[] out = body.outputShape(in);
    if (isFullyInvertible()) {
      this.head = null;
    } else {
      this.head = new ReadoutHead((int) out[1], arch.numClasses(), dt, rng);
      params.include("head", head.params());
    }
  }

  /** Builds the model with seeded initial weights. */
  public static InvertibleClassifier build(Architecture arch, DataType dt, long seed) {
    return new InvertibleClassifier(arch, dt, new Random(seed));
  }

  /**
   * The same architecture and weights (including buffers such as ActNorm's init flag) in {@code
   * dt}; float32 weights widen exactly. Analyses that need exact inverses use a float64 copy.
   */
  public InvertibleClassifier withDataType(DataType dt) {
    if (dt == dtype) return this;
    // Built without drawing initial weights that the cast ones replace: the draws took 0.3 s and
    // the cast of the whole table a second copy of the weights, per unit of fi-revnet-s's depth.
    InvertibleClassifier copy = new InvertibleClassifier(arch, dt, null);
    copy.params().copyFrom(params);
    return copy;
  }

  public Architecture architecture() { return arch; }
  public Sequential body() { return body; }
  public ParamTable params() { return params; }
  @Override public DataType dataType() { return dtype; }
  @Override public int numClasses() { return arch.numClasses(); }
  public boolean isFullyInvertible() { return arch.isFullyInvertible(); }

  /** Whether the body is bijective (no injective padding). */
  public boolean isBijective() {
    return body.logDetKind() != LogDetKind.INJECTIVE;
  }

  /** {@code [n, c, h, w]} for this architecture's input. */
  @Override
  public long[] inputShape(long n) {
    List<Integer> s = arch.inputShape();
    return new long[] {n, s.get(0), s.get(1), s.get(2)};
  }

  /** Indices (into {@link Sequential#blocks()}) of the last block of every stage. */
  public List<Integer> stageEnds() {
    return List.copyOf(stageEnds);
  }

  /** Data-dependent initialisation (ActNorm) from the first training batch. */
  public void initialize(INDArray x) {
    body.initialize(x);
  }

  /**
   * One forward pass of {@code x} ({@link #inputShape}, the model's type).
   *
   * @param training a pass that a {@link #backward} follows: the i-RevNet readout normalises by the
   *     batch's statistics and updates its running ones, and the pass keeps its activations when
   *     {@link #setStoredActivations} asks for them; false (evaluation, analyses) changes nothing
   */
  public Forward forward(INDArray x, boolean training) {
    requireInput(arch.name(), x);
    Tapes.Pass pass = training && tapes != null ? tapes.record() : null;
    Flow f = body.forward(x, pass == null ? null : tapes);
    if (head == null) return new Forward(f.out(), f.logDet(), firstDims(f.out()), null, pass);
    ReadoutHead.Tape[] tape = new ReadoutHead.Tape[1];
    INDArray logits = head.forward(f.out(), training, tape);
    return new Forward(f.out(), f.logDet(), logits, tape[0], pass);
  }

  /** The first {@link #numClasses()} entries of each row of the body output: the fi-RevNet's logits, a new array. */
  private INDArray firstDims(INDArray out) {
    INDArray z = out.reshape('c', out.size(0), out.length() / out.size(0));
    return z.get(NDArrayIndex.all(), NDArrayIndex.interval(0, numClasses())).dup();
  }

  /**
   * Whether training forward passes store the couplings' conditioner activations for the backward
   * pass (faster; memory grows with depth and batch) instead of the default reversible backward,
   * which recomputes them (memory flat in depth). Gradients agree up to rounding.
   */
  public void setStoredActivations(boolean store) {
    tapes = store ? new Tapes() : null;
  }

  public boolean storesActivations() {
    return tapes != null;
  }

  /** Bytes of the stored activations of the last training pass (0 for the reversible backward). */
  public long storedActivationBytes() {
    return tapes == null ? 0 : tapes.bytes();
  }

  /**
   * The logits alone, a new array: the body's output and log-det and the readout's activations
   * are freed now, not left to the collector (9 KB an image at fi-revnet-s, 13 at irevnet-s; every
   * evaluation and attack sweep asks for the logits of each batch).
   */
  @Override
  public INDArray logits(INDArray x) {
    requireInput(arch.name(), x);
    Flow f = body.forward(x, null);
    INDArray logits = head == null ? firstDims(f.out()) : head.forward(f.out(), false, null);
    Tensors.free(f.out(), x);
    Tensors.free(f.logDet(), null);
    return logits;
  }

  /**
   * Backward pass of a loss of the logits, the body output and the log-det: reversible, or from
   * the pass's stored activations while they are the latest (a later training forward pass
   * replaces them, and the pass is then reversible).
   *
   * @param dLogits {@code dL/dlogits}, or null
   * @param dOut additional {@code dL/d out} on the body output (any shape with the same number of
   *     entries per sample, e.g. {@code dL/dz} for nuisance terms), or null
   * @param dLogDet {@code dL/dlogdet} per sample, or null
   * @return the rebuilt input and {@code dL/dx}; parameter gradients are accumulated
   */
  public Grad backward(Forward f, INDArray dLogits, INDArray dOut, INDArray dLogDet) {
    Consumer<ParamTable> groupDone = gradientListener;
    INDArray out = f.out();
    long n = out.size(0);
    requireGradient("dL/dlogits", dLogits, new long[] {n, numClasses()}, false);
    requireGradient("dL/dout", dOut, out.shape(), true);
    requireGradient("dL/dlogdet", dLogDet, new long[] {n}, false);
    INDArray d = dOut == null ? Nd4j.zeros(out.dataType(), out.shape()) : dOut.reshape('c', out.shape()).dup('c');
    if (dLogits != null) {
      if (head == null) {
        INDArray flat = d.reshape('c', n, out.length() / n);
        flat.get(NDArrayIndex.all(), NDArrayIndex.interval(0, numClasses())).addi(dLogits);
      } else {
        // In a reused workspace, as the body's blocks are: only its sum into d outlives the pass.
        // Left to the collector, the readout's backward arrays (a dozen the size of the body's
        // output) were most of what an irevnet-s training step left: 2.8 of its 4.0 MB at batch 64.
        BlockWorkspace.run(() -> head.backward(f.headTape(), dLogits), d::addi);
      }
    }
    if (head != null && groupDone != null) groupDone.accept(head.params());
    INDArray dl = dLogDet == null ? Nd4j.zeros(out.dataType(), n) : dLogDet;
    Tapes stored = f.bodyTapes() != null && f.bodyTapes().isCurrent() ? f.bodyTapes().tapes() : null;
    Grad g = body.backward(out, d, dl, groupDone == null ? null : b -> groupDone.accept(b.params()), stored);
    Tensors.free(d, null); // the body output's size, every training step
    Tensors.free(dl, dLogDet);
    return g;
  }

  /**
   * Refuses a gradient given to {@link #backward} unless it is of the model's type and of {@code
   * shape} (with {@code anyShapePerSample}, of its entries per sample): one of another type was
   * refused, if at all, by the first block it reached, in a message naming that block.
   */
  private void requireGradient(String what, INDArray g, long[] shape, boolean anyShapePerSample) {
    if (g == null) return;
    boolean fits = anyShapePerSample
        ? g.rank() > 0 && g.size(0) == shape[0] && g.length() == java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)
        : java.util.Arrays.equals(g.shape(), shape);
    if (!fits || g.dataType() != dataType()) {
      throw new IllegalArgumentException(arch.name() + " backward expects " + what + " of shape " + Tensors.shape(shape)
          + (anyShapePerSample ? " (or its entries per sample in another shape)" : "") + ", " + Tensors.typeName(dataType())
          + ", got " + Tensors.shape(g.shape()) + " " + Tensors.typeName(g.dataType()));
    }
  }

  /**
   * Called by every later {@link #backward} with each of {@link #parameterGroups()} as soon as its
   * gradients are complete, so that an optimiser can update that block at once and reuse its
   * gradient memory for the next ({@code AdamOptimizer.grouped}); null: none.
   */
  public void setGradientListener(Consumer<ParamTable> listener) {
    this.gradientListener = listener;
  }

  /**
   * The parameters by block, in the order the backward pass finishes them: the readout head, then
   * the body's blocks from last to first.
   */
  public List<ParamTable> parameterGroups() {
    List<ParamTable> g = new ArrayList<>();
    if (head != null) g.add(head.params());
    List<Bijection> blocks = body.blocks();
    for (int i = blocks.size() - 1; i >= 0; i--) g.add(blocks.get(i).params());
    return g;
  }

  /**
   * One of {@link #parameterGroups()} with parameters as messages name it: {@code block i (name,
   * Class)} of the body ({@link Sequential#describe}), or the readout head. A block without
   * parameters has no group to name (each call of its {@code params()} makes a new empty one).
   */
  public String describeGroup(ParamTable group) {
    if (head != null && group == head.params()) return "the readout head";
    List<Bijection> blocks = body.blocks();
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i).params() == group) return body.describe(i);
    }
    throw new IllegalArgumentException("not a parameter group of '" + arch.name() + "'");
  }

  /** The input whose body output is {@code out} (NCHW, or flattened {@code z}). */
  public INDArray invert(INDArray out) {
    // The reshaped copy is freed now, not left to the collector (sampling inverts batch after batch).
    INDArray own = asBodyOutput(out);
    INDArray x = body.invertFrom(body.blocks().size() - 1, own);
    Tensors.free(own, out);
    return x;
  }

  /** {@link Sequential#firstNonFiniteInverse} of {@link #invert}{@code (out)}: why it is not finite, or null. */
  public String firstNonFiniteInverse(INDArray out) {
    return body.firstNonFiniteInverse(body.blocks().size() - 1, asBodyOutput(out));
  }

  /**
   * {@code out} (NCHW, or flattened {@code z}) in the body's output shape, as its own array. One of
   * other entries a row, or without its batch axis, failed in ND4J's reshape ("New shape length
   * doesn't match original length"), naming neither the model nor the shape it takes; one of
   * another type was refused by the last block, by its name.
   */
  private INDArray asBodyOutput(INDArray out) {
    long n = out.rank() < 2 ? 0 : out.size(0);
    long[] shape = body.outputShape(inputShape(n));
    long perRow = shape[1] * shape[2] * shape[3];
    if (out.rank() < 2 || out.length() != n * perRow || out.dataType() != dtype) {
      throw new IllegalArgumentException(arch.name() + " inverts outputs of shape " + Tensors.shape(shape) + " (or z, "
          + Tensors.shape(new long[] {n, perRow}) + "), " + Tensors.typeName(dtype) + ", got " + Tensors.shape(out.shape())
          + " " + Tensors.typeName(out.dataType()));
    }
    return out.reshape('c', shape).dup('c');
  }

  /** The output of every stage (NCHW), in order. */
  public List<INDArray> stageOutputs(INDArray x) {
    requireInput(arch.name(), x);
    List<INDArray> all = body.forwardWithIntermediates(x);
    List<INDArray> out = new ArrayList<>();
    for (int i : stageEnds) out.add(all.get(i));
    // The other blocks' outputs (copies, 28 of fi-revnet-s's 33) are freed now, not when the
    // collector finds them: probe's features and invert's stages ask for every batch's.
    for (int i = 0; i < all.size(); i++) if (!stageEnds.contains(i)) Tensors.free(all.get(i), x);
    return out;
  }

  /** The stages, named {@code stage0, stage1, ...}: the probed layers of an invertible model. */
  @Override
  public List<String> layerNames() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < stageEnds.size(); i++) names.add("stage" + i);
    return names;
  }

  @Override
  public List<INDArray> layerOutputs(INDArray x) {
    return stageOutputs(x);
  }

  @Override
  public INDArray layerOutput(INDArray x, int stage) {
    requireInput(arch.name(), x);
    return stagePrefix(stage).forward(x).out();
  }

  /**
   * The body up to the end of {@code stage}: the map {@code x -> h(x)} of that stage's output,
   * sharing the model's blocks and parameters.
   */
  public Sequential stagePrefix(int stage) {
    if (stage < 0 || stage >= stageEnds.size()) {
      throw new IllegalArgumentException("stage must be in 0.." + (stageEnds.size() - 1) + ", got " + stage);
    }
    return prefixes.computeIfAbsent(stage, s -> {
      Sequential.Builder b = Sequential.builder(inputShape(1));
      for (int i = 0; i <= stageEnds.get(s); i++) b.add(body.names().get(i), body.blocks().get(i));
      return b.build();
    });
  }

  /** Through the reversible backward pass; parameter gradients are put back as they were. */
  @Override
  public Gradient logitGradient(INDArray x, UnaryOperator<INDArray> dLogits) {
    return keepingParamGradients(() -> {
      Forward f = forward(x, false);
      INDArray d = dLogits.apply(f.logits());
      Grad g = backward(f, d, null, null);
      // What the pass made, but the logits and dx, freed now: attacks ask for hundreds of these in a
      // row. Not d: the caller's function may give back an array the caller keeps.
      f.freeAllButLogits();
      Tensors.free(g.x(), null);
      return new Gradient(f.logits(), g.dx());
    });
  }

  /** Through the reversible backward pass of the stages up to {@code stage}; parameter gradients are put back. */
  @Override
  public Gradient layerGradient(INDArray x, int stage, UnaryOperator<INDArray> dOutput) {
    requireInput(arch.name(), x);
    Sequential prefix = stagePrefix(stage);
    return keepingParamGradients(() -> {
      Flow f = prefix.forward(x);
      INDArray d = dOutput.apply(f.out()), noLogDet = Nd4j.zeros(x.dataType(), x.size(0));
      Grad g = prefix.backward(f.out(), d, noLogDet);
      Tensors.freeAll(f.logDet(), noLogDet, g.x()); // as logitGradient does, and not d either
      return new Gradient(f.out(), g.dx());
    });
  }

  /**
   * Backward passes accumulate parameter gradients and call the gradient listener (a training
   * optimiser's block update): an analysis must neither leak into the optimiser nor step it, also
   * when the pass throws.
   */
  private Gradient keepingParamGradients(java.util.function.Supplier<Gradient> pass) {
    List<org.irevnet.layers.Param> trainable = new ArrayList<>();
    List<INDArray> saved = new ArrayList<>();
    for (org.irevnet.layers.Param p : params.entries().values()) {
      if (!p.trainable()) continue;
      trainable.add(p);
      saved.add(p.grad().dup());
    }
    Consumer<ParamTable> listener = gradientListener;
    gradientListener = null;
    try {
      return pass.get();
    } finally {
      gradientListener = listener;
      for (int i = 0; i < trainable.size(); i++) trainable.get(i).grad().assign(saved.get(i));
      Tensors.freeAll(saved); // the parameters' size each call: 14.6 MB at fi-revnet-s
    }
  }

  /** One line describing the model, for logs and reports. */
  @Override
  public String summary() {
    long[] out = body.outputShape(inputShape(1));
    return arch.name() + " (" + arch.type() + ", " + (isBijective() ? "bijective" : "injective")
        + "): input " + Tensors.shape(inputShape(1)) + " -> " + Tensors.shape(out) + ", "
        + String.format("%,d", params.count()) + " parameters";
  }
}
