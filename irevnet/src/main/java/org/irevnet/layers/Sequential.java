package org.irevnet.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Blocks applied in order: {@code forward} runs {@code blocks[0]} first and sums the log-dets;
 * {@code inverse} and {@code backward} walk the blocks from last to first. Shapes are checked as
 * blocks are added. Each block's parameters appear under the name it was added with.
 *
 * <p>Every result a caller gets (of {@code forward}, {@code inverse}, {@code backward}, {@link
 * #invertFrom}, {@link #forwardWithIntermediates}) is a new array outside any workspace, made for
 * that call: the caller's to keep, or to free once read ({@link Tensors#free}). Each block runs in
 * a workspace of its own, so what it makes on the way is freed when it returns.
 */
public final class Sequential implements Bijection {
  private final List<String> names;
  private final List<Bijection> blocks;
  private final long[] inputShape;
  private final ParamTable params = ParamTable.empty();

  private Sequential(long[] inputShape, List<String> names, List<Bijection> blocks) {
    this.inputShape = inputShape;
    this.names = List.copyOf(names);
    this.blocks = List.copyOf(blocks);
    for (int i = 0; i < blocks.size(); i++) params.include(names.get(i), blocks.get(i).params());
  }

  /** Starts a chain for inputs of shape {@code [batch, c, h, w]} (the batch size is ignored). */
  public static Builder builder(long... inputShape) {
    return new Builder(inputShape);
  }

  /** A chain of unnamed blocks, named by position. */
  public static Sequential of(long[] inputShape, Bijection... blocks) {
    Builder b = builder(inputShape);
    for (int i = 0; i < blocks.length; i++) b.add(Integer.toString(i), blocks[i]);
    return b.build();
  }

  public static final class Builder {
    private final long[] inputShape;
    private long[] shape;
    private final List<String> names = new ArrayList<>();
    private final List<Bijection> blocks = new ArrayList<>();

    private Builder(long[] inputShape) {
      this.inputShape = inputShape.clone();
      this.shape = inputShape.clone();
    }

    public Builder add(String name, Bijection block) {
      // Names index the chain's outputs (layer probes, per-block benchmarks): a repeated name would
      // silently stand for its first block.
      int taken = names.indexOf(name);
      if (taken >= 0) {
        throw new IllegalArgumentException("block " + blocks.size() + " (" + block.getClass().getSimpleName()
            + "): the name '" + name + "' is already block " + taken + "'s");
      }
      try {
        shape = block.outputShape(shape);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("block " + blocks.size() + " (" + name + ", "
            + block.getClass().getSimpleName() + ") does not fit the output of the blocks before it: "
            + e.getMessage(), e);
      }
      names.add(name);
      blocks.add(block);
      return this;
    }

    /** The shape the chain produces so far. */
    public long[] shape() {
      return shape.clone();
    }

    public int size() {
      return blocks.size();
    }

    public Sequential build() {
      return new Sequential(inputShape, names, blocks);
    }
  }

  public List<Bijection> blocks() {
    return Collections.unmodifiableList(blocks);
  }

  public List<String> names() {
    return names;
  }

  public long[] inputShape() {
    return inputShape.clone();
  }

  /**
   * Reusable buffers for the results blocks hand each other: two per role and shape, used
   * alternately, so block i reads what block i-1 wrote while writing the other one; the results
   * a caller gets are still new arrays. A chain is therefore not safe for concurrent calls from
   * several threads.
   *
   * <p>At most {@link #scratchCapacity} buffers, the least recently used dropped first: kept per
   * shape, one per batch size ever seen grew without bound (an evaluation's last, smaller batch,
   * an analysis over many sizes). The capacity holds all four roles of two batch shapes (a
   * training batch and its epoch's last one), and a buffer being read, written by the block just
   * before, is always the most recently used one, so it is never the one dropped.
   */
  private final Map<List<Object>, INDArray> scratch = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<List<Object>, INDArray> eldest) {
      return size() > scratchCapacity();
    }
  };

  /** Four roles (forward, inverse, rebuilt input, input gradient), each one buffer per block, for two batch shapes. */
  int scratchCapacity() {
    return 8 * Math.max(1, blocks.size());
  }

  /** How many reusable buffers the chain holds now. */
  int scratchBuffers() {
    return scratch.size();
  }

  private INDArray slot(String role, int i, INDArray like) {
    List<Object> key = List.of(role, i % 2, like.dataType(), Arrays.toString(like.shape()));
    return scratch.computeIfAbsent(key, k -> BlockWorkspace.outside(like.dataType(), like.shape()));
  }

  /** Copies a block's result out of its workspace: into a buffer, or fresh for the chain's result. */
  private INDArray keep(String role, int i, boolean last, INDArray a) {
    return last ? BlockWorkspace.copyOutside(a) : slot(role, i, a).assign(a);
  }

  @Override
  public Flow forward(INDArray x) {
    return forward(x, null);
  }

  /**
   * {@link #forward(INDArray)}, keeping the tape of every {@link TapedBlock} (also inside nested
   * chains) in {@code tapes} for {@link #backward(INDArray, INDArray, INDArray, Consumer, Tapes)};
   * null keeps nothing.
   */
  public Flow forward(INDArray x, Tapes tapes) {
    INDArray logDet = BlockWorkspace.outside(x.dataType(), x.size(0)).assign(0);
    if (blocks.isEmpty()) return new Flow(BlockWorkspace.copyOutside(x), logDet);
    for (int i = 0; i < blocks.size(); i++) {
      final Bijection b = blocks.get(i);
      final INDArray in = x;
      final int k = i;
      x = BlockWorkspace.run(() -> forward(b, in, tapes), f -> {
        logDet.addi(f.logDet());
        return keep("fwd", k, k == blocks.size() - 1, f.out());
      });
    }
    return new Flow(x, logDet);
  }

  // Inside the block's workspace: a tape is copied out before the workspace closes.
  private static Flow forward(Bijection b, INDArray x, Tapes tapes) {
    if (tapes == null) return b.forward(x);
    if (b instanceof Sequential s) return s.forward(x, tapes);
    if (!(b instanceof TapedBlock t)) return b.forward(x);
    TapedBlock.Taped r = t.forwardTaped(x);
    tapes.keep(t, r.tape());
    return r.flow();
  }

  /**
   * Every block's output in order ({@code blocks().size()} arrays; the last is {@code forward(x).out()}),
   * for the per-layer analyses.
   */
  public List<INDArray> forwardWithIntermediates(INDArray x) {
    List<INDArray> outs = new ArrayList<>(blocks.size());
    for (Bijection b : blocks) {
      final INDArray in = x;
      x = BlockWorkspace.run(() -> b.forward(in), f -> BlockWorkspace.copyOutside(f.out()));
      outs.add(x);
    }
    return outs;
  }

  @Override
  public Flow inverse(INDArray y) {
    INDArray logDet = BlockWorkspace.outside(y.dataType(), y.size(0)).assign(0);
    if (blocks.isEmpty()) return new Flow(BlockWorkspace.copyOutside(y), logDet);
    for (int i = blocks.size() - 1; i >= 0; i--) {
      final Bijection b = blocks.get(i);
      final INDArray out = y;
      final int k = i;
      y = BlockWorkspace.run(() -> b.inverse(out), f -> {
        logDet.addi(f.logDet());
        return keep("inv", k, k == 0, f.out());
      });
    }
    return new Flow(y, logDet);
  }

  /** Inverts the output of block {@code index} back to the chain's input. */
  public INDArray invertFrom(int index, INDArray h) {
    if (index < 0) return BlockWorkspace.copyOutside(h);
    for (int i = index; i >= 0; i--) {
      final Bijection b = blocks.get(i);
      final INDArray out = h;
      final int k = i;
      h = BlockWorkspace.run(() -> b.inverse(out), f -> keep("inv", k, k == 0, f.out()));
    }
    return h;
  }

  /** {@code block i (name, Class)}: how messages name block {@code i}. */
  public String describe(int i) {
    return "block " + i + " (" + names.get(i) + ", " + blocks.get(i).getClass().getSimpleName() + ")";
  }

  /**
   * Why {@link #invertFrom}{@code (index, h)} is not all finite, in one line: the first block, from
   * {@code index} down, whose inverse gave a NaN or infinity from a finite input, how many, and
   * its input's largest magnitude (float32 overflows past 3.4e38); or that {@code h} itself is not
   * finite; null when every block's inverse is finite. Inverts again, one block at a time: for a
   * command that found a result not finite, never for the training path.
   */
  public String firstNonFiniteInverse(int index, INDArray h) {
    long given = Tensors.nonFinite(h);
    if (given > 0) return "the representation to invert has " + given + " non-finite value(s) of " + h.length();
    return firstNonFinite(true, index, h);
  }

  /**
   * {@link #firstNonFiniteInverse} for the forward pass of {@code x}: the first block whose output
   * is not all finite from a finite input, or that {@code x} is not; null when all are finite.
   */
  public String firstNonFiniteForward(INDArray x) {
    long given = Tensors.nonFinite(x);
    if (given > 0) return "the input has " + given + " non-finite value(s) of " + x.length();
    return firstNonFinite(false, 0, x);
  }

  private String firstNonFinite(boolean inverse, int first, INDArray h) {
    for (int i = first; i >= 0 && i < blocks.size(); i += inverse ? -1 : 1) {
      final Bijection b = blocks.get(i);
      final INDArray in = h;
      h = BlockWorkspace.run(() -> inverse ? b.inverse(in) : b.forward(in), f -> BlockWorkspace.copyOutside(f.out()));
      long bad = Tensors.nonFinite(h);
      if (bad > 0) {
        return String.format(java.util.Locale.ROOT, "the %s of %s gave %d non-finite value(s) of %d from an input"
            + " whose largest magnitude is %.3e", inverse ? "inverse" : "forward pass", describe(i), bad, h.length(),
            in.amaxNumber().doubleValue());   // NaN-blind on purpose: the largest finite magnitude
      }
    }
    return null;
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    return backward(y, dy, dLogDet, null);
  }

  /**
   * {@link #backward(INDArray, INDArray, INDArray)}, calling {@code blockDone} with each block as
   * soon as its parameter gradients are complete (last block first). Nothing later in the pass
   * reads a finished block's parameters, so the callback may update them at once.
   */
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet, Consumer<Bijection> blockDone) {
    return backward(y, dy, dLogDet, blockDone, null);
  }

  /**
   * {@link #backward(INDArray, INDArray, INDArray, Consumer)} using the tapes that {@link
   * #forward(INDArray, Tapes)} kept in {@code tapes} for the pass that produced {@code y}; blocks
   * without a tape (and every block when {@code tapes} is null) run their reversible backward.
   */
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet, Consumer<Bijection> blockDone, Tapes tapes) {
    // Every block's log-det enters the total with weight one, so each sees the same dL/dlogdet.
    if (blocks.isEmpty()) return new Grad(BlockWorkspace.copyOutside(y), BlockWorkspace.copyOutside(dy));
    for (int i = blocks.size() - 1; i >= 0; i--) {
      final Bijection b = blocks.get(i);
      final INDArray out = y, dOut = dy;
      final int k = i;
      Grad g = BlockWorkspace.run(() -> backward(b, out, dOut, dLogDet, tapes),
          r -> new Grad(keep("x", k, k == 0, r.x()), keep("dx", k, k == 0, r.dx())));
      if (blockDone != null) blockDone.accept(b);
      y = g.x();
      dy = g.dx();
    }
    return new Grad(y, dy);
  }

  private static Grad backward(Bijection b, INDArray y, INDArray dy, INDArray dLogDet, Tapes tapes) {
    if (tapes == null) return b.backward(y, dy, dLogDet);
    if (b instanceof Sequential s) return s.backward(y, dy, dLogDet, null, tapes);
    if (b instanceof TapedBlock t) return t.backward(y, dy, dLogDet, tapes.get(t));
    return b.backward(y, dy, dLogDet);
  }

  /** Data-dependent initialisation of every block that has one, from one input batch. */
  public void initialize(INDArray x) {
    for (int i = 0; i < blocks.size(); i++) {
      final Bijection b = blocks.get(i);
      final INDArray in = x;
      final int k = i;
      x = BlockWorkspace.run(() -> {
        if (b instanceof DataDependentInit d) d.initFrom(in);
        if (b instanceof Sequential s) s.initialize(in);
        return b.forward(in);
      }, f -> slot("fwd", k, f.out()).assign(f.out()));
    }
  }

  @Override
  public long[] outputShape(long[] s) {
    for (int i = 0; i < blocks.size(); i++) {
      try {
        s = blocks.get(i).outputShape(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("block " + i + " (" + names.get(i) + "): " + e.getMessage(), e);
      }
    }
    return s;
  }

  @Override
  public ParamTable params() {
    return params;
  }

  @Override
  public LogDetKind logDetKind() {
    boolean injective = blocks.stream().anyMatch(b -> b.logDetKind() == LogDetKind.INJECTIVE);
    if (injective) return LogDetKind.INJECTIVE;
    boolean exact = blocks.stream().anyMatch(b -> b.logDetKind() == LogDetKind.EXACT);
    return exact ? LogDetKind.EXACT : LogDetKind.ZERO;
  }

  @Override
  public String toString() {
    return "Sequential" + names + " on " + Tensors.shape(inputShape);
  }
}
