package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.irevnet.nn.Init;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.Relative;
import org.irevnet.testing.SameDiffReference;
import org.irevnet.testing.SameDiffReference.ConvImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every layer's reversible backward pass against an independent SameDiff autodiff graph of the
 * same function ({@link SameDiffReference}), in float64. The loss is {@code L = sum(y * R) +
 * sum(logdet * r)} for fixed random {@code R, r}; {@code dL/dx} and every accumulated parameter
 * gradient must agree to 1e-9 relative, the forward output and log-det to 1e-10.
 */
class SameDiffGradientTest {
  static final DataType F64 = DataType.DOUBLE;
  static final double FORWARD_TOL = 1e-10;
  static final double GRAD_TOL = 1e-9;

  /** A layer under test: a seeded factory and a small input shape. */
  record Case(String name, Function<Random, Bijection> factory, long[] shape) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    c.add(new Case("SpaceToDepth(2)", r -> new SpaceToDepth(2), new long[] {2, 2, 4, 6}));
    c.add(new Case("SpaceToDepth(3)", r -> new SpaceToDepth(3), new long[] {2, 1, 6, 3}));
    c.add(new Case("InjectivePad(3)", r -> new InjectivePad(3), new long[] {2, 2, 3, 3}));
    c.add(new Case("ChannelReverse", r -> new ChannelReverse(), new long[] {2, 5, 2, 3}));
    c.add(new Case("ActNorm", r -> actNorm(3, r), new long[] {2, 3, 3, 2}));
    c.add(new Case("Invertible1x1Conv", r -> oneByOne(5, r), new long[] {2, 5, 3, 2}));
    c.add(new Case("AffineCoupling k3", r -> new AffineCoupling(4, 6, 3, F64, r, 1.0), new long[] {2, 4, 4, 3}));
    c.add(new Case("AffineCoupling k3 floor 0.05", r -> new AffineCoupling(4, 6, 3, 0.05, F64, r, 1.0), new long[] {2, 4, 4, 3}));
    c.add(new Case("AffineCoupling k1", r -> new AffineCoupling(8, 5, 1, F64, r, 1.0), new long[] {2, 8, 2, 2}));
    c.add(new Case("AffineCoupling k5", r -> new AffineCoupling(2, 3, 5, F64, r, 1.0), new long[] {2, 2, 4, 5}));
    c.add(new Case("AdditiveCoupling k3", r -> new AdditiveCoupling(6, 5, 3, F64, r, 1.0), new long[] {2, 6, 3, 4}));
    c.add(new Case("AdditiveCoupling k1", r -> new AdditiveCoupling(4, 3, 1, F64, r, 1.0), new long[] {2, 4, 2, 2}));
    c.add(new Case("Sequential bijective", SameDiffGradientTest::bijectiveChain, new long[] {2, 1, 4, 4}));
    c.add(new Case("Sequential injective", SameDiffGradientTest::injectiveChain, new long[] {2, 1, 4, 4}));
    return c;
  }

  static ActNorm actNorm(int c, Random r) {
    ActNorm a = new ActNorm(c, F64);
    a.logs().set(Init.uniform(F64, r, 0.5, 1, c, 1, 1));
    a.bias().set(Init.uniform(F64, r, 0.5, 1, c, 1, 1));
    return a;
  }

  static Invertible1x1Conv oneByOne(int c, Random r) {
    Invertible1x1Conv conv = new Invertible1x1Conv(c, F64, r);
    // Off a pure rotation: non-zero log-det, and every factor contributes.
    conv.params().get("log_s").set(Init.uniform(F64, r, 0.4, c));
    ParamTable p = conv.params();
    p.get("lower").set(p.get("lower").value().add(Init.uniform(F64, r, 0.2, c, c)));
    p.get("upper").set(p.get("upper").value().add(Init.uniform(F64, r, 0.2, c, c)));
    return conv;
  }

  static Bijection bijectiveChain(Random r) {
    return Sequential.of(new long[] {1, 1, 4, 4},
        new SpaceToDepth(2), actNorm(4, r), new AffineCoupling(4, 4, 3, F64, r, 1.0),
        oneByOne(4, r), new ChannelReverse(), new AdditiveCoupling(4, 4, 1, F64, r, 1.0),
        new SpaceToDepth(2), actNorm(16, r), new AffineCoupling(16, 3, 1, F64, r, 1.0));
  }

  static Bijection injectiveChain(Random r) {
    return Sequential.of(new long[] {1, 1, 4, 4},
        new SpaceToDepth(2), new InjectivePad(2), new AdditiveCoupling(6, 4, 3, F64, r, 1.0),
        actNorm(6, r), new AffineCoupling(6, 3, 3, F64, r, 1.0));
  }

  static Stream<Arguments> casesWithConv() {
    List<Arguments> a = new ArrayList<>();
    for (Case c : cases()) {
      boolean hasConv = c.factory().apply(new Random(0)).params().entries().keySet().stream()
          .anyMatch(k -> k.endsWith(".weight"));
      a.add(Arguments.of(c, ConvImpl.CONV2D_OP));
      if (hasConv) a.add(Arguments.of(c, ConvImpl.SHIFTED_MATMUL));
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} ({1})")
  @MethodSource("casesWithConv")
  void reversibleBackwardMatchesSameDiff(Case c, ConvImpl conv) {
    Bijection b = c.factory().apply(new Random(17));
    INDArray x = Numerics.normal(F64, 3, c.shape());
    Flow f = b.forward(x.dup());
    INDArray dy = Numerics.normal(F64, 4, f.out().shape());
    INDArray dLogDet = Numerics.normal(F64, 5, c.shape()[0]);

    SameDiffReference ref = SameDiffReference.of(b, x, conv);
    Map<String, INDArray> fwd = ref.eval(ref.out(), ref.logDet());
    assertThat(Numerics.maxRelDiff(fwd.get(ref.out().name()), f.out())).as("forward output")
        .isLessThanOrEqualTo(FORWARD_TOL);
    assertThat(Numerics.maxRelDiff(fwd.get(ref.logDet().name()), f.logDet())).as("forward log-det")
        .isLessThanOrEqualTo(FORWARD_TOL);

    Map<String, INDArray> expected = ref.gradients(ref.linearLoss(dy, dLogDet));

    b.params().zeroGrad();
    Grad g = b.backward(f.out(), dy, dLogDet);
    assertThat(Numerics.maxRelDiff(g.x(), x)).as("rebuilt input").isLessThanOrEqualTo(FORWARD_TOL);
    assertGradientsMatch(b.params(), g.dx(), expected);
  }

  /**
   * The block's gradients against the reference's; every reference gradient must also be
   * non-zero, so that no comparison passes because both sides are zero.
   */
  static void assertGradientsMatch(ParamTable params, INDArray dx, Map<String, INDArray> expected) {
    INDArray refDx = expected.get(SameDiffReference.INPUT);
    assertThat(Tensors.maxAbs(refDx)).as("reference dL/dx is non-zero").isGreaterThan(1e-6);
    assertThat(Numerics.maxRelDiff(dx, refDx)).as("dL/dx").isLessThanOrEqualTo(GRAD_TOL);
    Relative.assertRelativeToLargest("dL/dx", dx, refDx, GRAD_TOL);
    int compared = 0;
    for (Map.Entry<String, Param> e : params.entries().entrySet()) {
      if (!e.getValue().trainable()) continue;
      INDArray ref = expected.get(e.getKey());
      assertThat(ref).as("reference gradient for " + e.getKey()).isNotNull();
      assertThat(Tensors.maxAbs(ref)).as("reference dL/d" + e.getKey() + " is non-zero")
          .isGreaterThan(1e-6);
      assertThat(Numerics.maxRelDiff(e.getValue().grad(), ref)).as("dL/d" + e.getKey())
          .isLessThanOrEqualTo(GRAD_TOL);
      Relative.assertRelativeToLargest("dL/d" + e.getKey(), e.getValue().grad(), ref, GRAD_TOL);
      compared++;
    }
    assertThat(compared).as("parameters compared").isEqualTo(expected.size() - 1);
  }

  // --- Negative controls: the comparison notices the kinds of error it is meant to catch. ---

  @Test
  void aForgottenLogDetTermIsCaught() {
    for (Function<Random, Bijection> factory : List.<Function<Random, Bijection>>of(
        r -> actNorm(3, r), r -> oneByOne(3, r), r -> new AffineCoupling(4, 3, 3, F64, r, 1.0))) {
      Bijection b = factory.apply(new Random(5));
      INDArray x = Numerics.normal(F64, 6, 2, b instanceof AffineCoupling ? 4 : 3, 3, 3);
      Flow f = b.forward(x.dup());
      INDArray dy = Numerics.normal(F64, 7, f.out().shape());
      INDArray dLogDet = Numerics.normal(F64, 8, 2);
      SameDiffReference ref = SameDiffReference.of(b, x, ConvImpl.CONV2D_OP);
      Map<String, INDArray> expected = ref.gradients(ref.linearLoss(dy, dLogDet));
      b.params().zeroGrad();
      // The log-det's gradient left out: what a block that forgot it would accumulate.
      b.backward(f.out(), dy, dLogDet.mul(0));
      double worst = 0;
      for (Map.Entry<String, Param> e : b.params().entries().entrySet()) {
        if (!e.getValue().trainable()) continue;
        worst = Math.max(worst, Numerics.maxRelDiff(e.getValue().grad(), expected.get(e.getKey())));
      }
      assertThat(worst).as(b.getClass().getSimpleName()).isGreaterThan(1e3 * GRAD_TOL);
    }
  }

  @Test
  void aSlightlyDifferentParameterIsCaught() {
    Bijection b = new AffineCoupling(4, 3, 3, F64, new Random(9), 1.0);
    INDArray x = Numerics.normal(F64, 10, 2, 4, 3, 3);
    SameDiffReference ref = SameDiffReference.of(b, x, ConvImpl.SHIFTED_MATMUL);
    // The reference copied the values; now move one weight of the first conv by 1e-5.
    INDArray w = b.params().get("net.0.weight").value();
    w.putScalar(new long[] {1, 0, 1, 2}, w.getDouble(1, 0, 1, 2) + 1e-5);
    Flow f = b.forward(x.dup());
    INDArray dy = Numerics.normal(F64, 11, f.out().shape());
    INDArray dLogDet = Numerics.normal(F64, 12, 2);
    assertThat(Numerics.maxRelDiff(ref.eval(ref.out()).get(ref.out().name()), f.out()))
        .isGreaterThan(100 * FORWARD_TOL);
    Map<String, INDArray> expected = ref.gradients(ref.linearLoss(dy, dLogDet));
    b.params().zeroGrad();
    Grad g = b.backward(f.out(), dy, dLogDet);
    assertThat(Numerics.maxRelDiff(g.dx(), expected.get(SameDiffReference.INPUT)))
        .isGreaterThan(10 * GRAD_TOL);
  }

  @Test
  void theReferenceRefusesBlocksItCannotRebuild() {
    Bijection unknown = new Bijection() {
      public Flow forward(INDArray x) { return new Flow(x, x.sum(1, 2, 3).muli(0)); }
      public Flow inverse(INDArray y) { return forward(y); }
      public Grad backward(INDArray y, INDArray dy, INDArray dl) { return new Grad(y, dy); }
      public long[] outputShape(long[] s) { return s.clone(); }
      public ParamTable params() { return ParamTable.empty(); }
      public LogDetKind logDetKind() { return LogDetKind.ZERO; }
    };
    assertThatThrownBy(
        () -> SameDiffReference.of(unknown, Numerics.normal(F64, 1, 1, 2, 2, 2), ConvImpl.CONV2D_OP))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no SameDiff reference");
  }
}
