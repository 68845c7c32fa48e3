package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.Param;
import org.irevnet.nn.Init;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.Relative;
import org.irevnet.testing.SameDiffReference;
import org.irevnet.testing.SameDiffReference.ConvImpl;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Whole models: the reversible backward pass of {@link InvertibleClassifier} (body rebuilt from
 * its output, i-RevNet readout head with batch statistics) against a SameDiff autodiff graph of
 * the same model ({@link SameDiffReference#ofClassifier}), in float64, for the loss
 *
 * <pre>L = mean_i CE(softmax(logits_i), label_i) + sum(out * R) + sum(logdet * r)</pre>
 *
 * with fixed random labels, {@code R} and {@code r}. Every parameter gradient and {@code dL/dx}
 * must agree to 1e-9 relative; the forward output, log-det and logits to 1e-10. Weights are
 * perturbed first (the last convs start at zero and ActNorm at the identity), so that every path
 * carries gradient.
 */
class ModelGradientTest {
  static final DataType F64 = DataType.DOUBLE;
  static final double FORWARD_TOL = 1e-10;
  static final double GRAD_TOL = 1e-9;

  @Test
  void fiRevnetSmall() {
    check(Architecture.load("fi-revnet-s"), 2, ConvImpl.CONV2D_OP, Set.of());
  }

  /** The bundled irevnet-s as it is (1x32x32, its widths and steps), not a reduced copy. */
  @Test
  void irevnetSmallWhole() {
    check(Architecture.load("irevnet-s"), 2, ConvImpl.CONV2D_OP, Set.of());
  }

  @Test
  void irevnetSmallInjectiveWhole() {
    check(Architecture.load("irevnet-s-inj"), 2, ConvImpl.CONV2D_OP, FIRST_BLOCK_SEES_ONLY_PADDING);
  }

  @Test
  void irevnetSmallReduced() {
    check(reduced(Architecture.load("irevnet-s"), 16, 4, 2), 3, ConvImpl.CONV2D_OP, Set.of());
  }

  @Test
  void irevnetSmallInjectiveReduced() {
    check(reduced(Architecture.load("irevnet-s-inj"), 16, 4, 2), 3, ConvImpl.CONV2D_OP, FIRST_BLOCK_SEES_ONLY_PADDING);
  }

  /**
   * The stage options the bundled architectures do not use (1x1 conv and reversal
   * permutations, additive couplings with ActNorm, no squeeze), with convolutions that share no
   * code with conv2d_bp, and with the parameters moved into one flat buffer as the trainer does.
   */
  @Test
  void everyStageOptionReduced() {
    Architecture a = Architecture.fromJson("""
        {"name": "options", "type": "fi-revnet", "inputShape": [2, 8, 8], "numClasses": 3,
         "stages": [
           {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
           {"steps": 1, "hidden": 3, "kernel": 1, "coupling": "additive", "actnorm": true, "permutation": "reverse"},
           {"steps": 1, "hidden": 5, "kernel": 3, "coupling": "affine", "squeeze": false, "permutation": "reverse"}
         ]}""");
    check(a, 2, ConvImpl.SHIFTED_MATMUL, Set.of(), true);
  }

  /**
   * The stored-activation backward ({@link InvertibleClassifier#setStoredActivations}) against the
   * same references: the couplings' conditioners come from the forward pass, not recomputed.
   */
  @Test
  void fiRevnetSmallStoredActivations() {
    check(Architecture.load("fi-revnet-s"), 2, ConvImpl.CONV2D_OP, Set.of(), false, true);
  }

  @Test
  void irevnetSmallInjectiveReducedStoredActivations() {
    check(reduced(Architecture.load("irevnet-s-inj"), 16, 4, 2), 3, ConvImpl.CONV2D_OP,
        FIRST_BLOCK_SEES_ONLY_PADDING, false, true);
  }

  @Test
  void everyStageOptionReducedStoredActivations() {
    check(Architecture.fromJson("""
        {"name": "options", "type": "fi-revnet", "inputShape": [2, 8, 8], "numClasses": 3,
         "stages": [
           {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
           {"steps": 1, "hidden": 3, "kernel": 1, "coupling": "additive", "actnorm": true, "permutation": "reverse"}
         ]}"""), 2, ConvImpl.SHIFTED_MATMUL, Set.of(), true, true);
  }

  /** With shifted-matmul convolutions and the parameters in one flat buffer. */
  @Test
  void irevnetInjectiveWithShiftedMatmulConvs() {
    check(reduced(Architecture.load("irevnet-s-inj"), 8, 3, 1), 2, ConvImpl.SHIFTED_MATMUL,
        FIRST_BLOCK_SEES_ONLY_PADDING, true);
  }

  /** The same stages with the given input size, hidden width and steps per stage. */
  static Architecture reduced(Architecture a, int size, int hidden, int steps) {
    List<Architecture.Stage> s = new ArrayList<>();
    for (Architecture.Stage st : a.stages()) {
      s.add(new Architecture.Stage(steps, hidden, st.kernel(), st.coupling(), st.actnorm(), st.squeeze(),
          st.pad(), st.permutation(), st.scaleFloor()));
    }
    List<Integer> in = List.of(a.inputShape().get(0), size, size);
    return Architecture.fromJson(new Architecture(a.name() + "-reduced", a.type(), a.description(), in,
        a.numClasses(), s).toJson());
  }

  /** Sets every trainable parameter to small random values (fan-in scaled for weights). */
  static void perturb(InvertibleClassifier m, long seed) {
    Random r = new Random(seed);
    for (Map.Entry<String, Param> e : m.params().entries().entrySet()) {
      Param p = e.getValue();
      if (!p.trainable()) continue;
      String k = e.getKey();
      INDArray v = p.value();
      long[] s = v.shape();
      INDArray nv;
      if (s.length == 4 && k.endsWith(".weight") && !k.startsWith("head.")) {
        // A conv weight [out, in, k, k]: PyTorch's default scale.
        nv = Init.uniform(F64, r, 1.0 / Math.sqrt((double) s[1] * s[2] * s[3]), s);
      } else if (k.endsWith("lower") || k.endsWith("upper") || k.endsWith("log_s")) {
        nv = v.add(Init.uniform(F64, r, 0.2, s));
      } else if (k.endsWith("bn.weight")) {
        nv = Init.uniform(F64, r, 0.3, s).addi(1.0);
      } else if (k.endsWith("linear.weight")) {
        nv = Init.uniform(F64, r, 1.0 / Math.sqrt(s[1]), s);
      } else {
        nv = Init.uniform(F64, r, 0.2, s);
      }
      p.set(nv);
    }
  }

  /**
   * In irevnet-s-inj the 12 zero channels appended after the first SpaceToDepth (4 -> 16) fill
   * the whole second half, which is what the first block's bottleneck F reads: F sees only zeros,
   * its first conv's weight never matters, and its gradient is zero (exactly in the reference, up
   * to rounding in the model, which rebuilds the zeros from its output; pytorch-i-revnet pads the
   * same way).
   */
  static final Set<String> FIRST_BLOCK_SEES_ONLY_PADDING = Set.of("layers.0.bottleneck.0.weight");

  /**
   * @param zeroGradient parameters whose gradient is zero by construction: for these the
   *     reference gradient must be exactly zero and the model's zero up to rounding; every other
   *     reference gradient must be non-zero
   */
  static void check(Architecture arch, int batch, ConvImpl conv, Set<String> zeroGradient) {
    check(arch, batch, conv, zeroGradient, false);
  }

  /**
   * @param flatten whether to move every parameter and gradient into views of one flat buffer
   *     first ({@link org.irevnet.layers.ParamTable#flatten})
   */
  static void check(Architecture arch, int batch, ConvImpl conv, Set<String> zeroGradient, boolean flatten) {
    check(arch, batch, conv, zeroGradient, flatten, false);
  }

  /** @param stored whether the backward pass reads stored activations instead of rebuilding them */
  static void check(Architecture arch, int batch, ConvImpl conv, Set<String> zeroGradient, boolean flatten,
      boolean stored) {
    InvertibleClassifier m = InvertibleClassifier.build(arch, F64, 7);
    if (flatten) m.params().flatten(F64);
    m.setStoredActivations(stored);
    perturb(m, 8);
    INDArray x = Numerics.normal(F64, 9, m.inputShape(batch));
    int classes = m.numClasses();
    Random r = new Random(10);
    int[] labels = new int[batch];
    for (int i = 0; i < batch; i++) labels[i] = r.nextInt(classes);
    INDArray oneHot = Nd4j.zeros(F64, batch, classes);
    for (int i = 0; i < batch; i++) oneHot.putScalar(i, labels[i], 1.0);

    // The reference is built before the model runs: a training-mode forward updates the BN
    // running statistics, which the batch-statistics reference must not need.
    SameDiffReference ref = SameDiffReference.ofClassifier(m, x, conv);

    InvertibleClassifier.Forward f = m.forward(x.dup(), true);
    assertThat(m.storedActivationBytes() > 0).as("activations stored").isEqualTo(stored);
    INDArray dOut = Numerics.normal(F64, 11, f.out().shape());
    INDArray dLogDet = Numerics.normal(F64, 12, batch);

    Map<String, INDArray> fwd = ref.eval(ref.out(), ref.logDet(), ref.logits());
    assertThat(Numerics.maxRelDiff(fwd.get(ref.out().name()), f.out())).as("body output")
        .isLessThanOrEqualTo(FORWARD_TOL);
    assertThat(Numerics.maxRelDiff(fwd.get(ref.logDet().name()), f.logDet())).as("log-det")
        .isLessThanOrEqualTo(FORWARD_TOL);
    assertThat(Numerics.maxRelDiff(fwd.get(ref.logits().name()), f.logits())).as("logits")
        .isLessThanOrEqualTo(FORWARD_TOL);
    if (m.body().logDetKind() == LogDetKind.EXACT) {
      assertThat(Tensors.maxAbs(fwd.get(ref.logDet().name()))).as("log-det is non-zero")
          .isGreaterThan(1e-6);
    }

    // L = mean cross-entropy + <out, R> + <logdet, r>.
    // log softmax = logits - log sum exp (written out: sd.nn().logSoftmax(x, 1) fails to build in
    // M2.1; the logits here are O(1), so no shift is needed).
    SDVariable z = ref.logits();
    SDVariable logSoftmax = z.sub(ref.sd().math().log(ref.sd().math().exp(z).sum(true, 1)));
    SDVariable ce = logSoftmax.mul(ref.constant(oneHot)).sum().mul(-1.0 / batch);
    Map<String, INDArray> expected = ref.gradients(ce.add(ref.linearLoss(dOut, dLogDet)));

    // dL/dlogits of the mean cross-entropy: (softmax - onehot) / n, from the model's logits.
    INDArray logits = f.logits();
    INDArray shifted = logits.subColumnVector(logits.max(1).reshape(new long[] {batch, 1}));
    INDArray e = Transforms.exp(shifted, true);
    INDArray softmax = e.divColumnVector(e.sum(1).reshape(new long[] {batch, 1}));
    INDArray dLogits = softmax.sub(oneHot).divi(batch);

    m.params().zeroGrad();
    // A fi-RevNet's nuisance terms come as dL/dz on the flattened output; backward takes either.
    INDArray dOutArg = m.isFullyInvertible() ? dOut.reshape('c', new long[] {batch, dOut.length() / batch}) : dOut;
    Grad g = m.backward(f, dLogits, dOutArg, dLogDet);
    assertThat(Numerics.maxRelDiff(g.x(), x)).as("rebuilt input").isLessThanOrEqualTo(FORWARD_TOL);

    INDArray refDx = expected.get(SameDiffReference.INPUT);
    assertThat(Tensors.maxAbs(refDx)).as("reference dL/dx is non-zero").isGreaterThan(1e-6);
    assertThat(Numerics.maxRelDiff(g.dx(), refDx)).as("dL/dx").isLessThanOrEqualTo(GRAD_TOL);
    Relative.assertRelativeToLargest("dL/dx", g.dx(), refDx, GRAD_TOL);
    int compared = 0;
    for (Map.Entry<String, Param> en : m.params().entries().entrySet()) {
      if (!en.getValue().trainable()) continue;
      INDArray want = expected.get(en.getKey());
      assertThat(want).as("reference gradient for " + en.getKey()).isNotNull();
      if (zeroGradient.contains(en.getKey())) {
        assertThat(Tensors.maxAbs(want)).as("reference dL/d" + en.getKey() + " is zero").isZero();
        // The model rebuilds the padding from the output, so its zeros carry rounding noise.
        assertThat(Tensors.maxAbs(en.getValue().grad())).as("dL/d" + en.getKey() + " is ~zero")
            .isLessThanOrEqualTo(1e-12);
      } else {
        assertThat(Tensors.maxAbs(want)).as("reference dL/d" + en.getKey() + " is non-zero")
            .isGreaterThan(1e-8);
      }
      assertThat(Numerics.maxRelDiff(en.getValue().grad(), want)).as("dL/d" + en.getKey())
          .isLessThanOrEqualTo(GRAD_TOL);
      if (!zeroGradient.contains(en.getKey())) Relative.assertRelativeToLargest("dL/d" + en.getKey(), en.getValue().grad(), want, GRAD_TOL);
      compared++;
    }
    assertThat(compared).as("parameters compared").isEqualTo(expected.size() - 1).isPositive();
  }

}
