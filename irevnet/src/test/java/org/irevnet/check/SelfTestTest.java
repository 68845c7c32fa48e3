package org.irevnet.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.ParamTable;
import org.irevnet.layers.Sequential;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SelfTestTest {

  @Test
  void everyCatalogueBlockPasses() {
    for (BlockCatalog.Spec s : BlockCatalog.all().values()) {
      SelfTest.Row r = SelfTest.checkBlock(s);
      assertThat(r.pass()).as(r.toString()).isTrue();
    }
  }

  @Test
  void aPermutationsFloat32RoundTripReadsZero() {
    // max |x - F^-1(F(x))| of the float32 input: exactly zero for blocks that only move values;
    // measured against the float64 original it read the input's float32 rounding (1.03e-7).
    for (String name : new String[] {"SpaceToDepth", "InjectivePad", "ChannelReverse"}) {
      SelfTest.Row r = SelfTest.checkBlock(BlockCatalog.get(name));
      assertThat(r.reconF32()).as(name).isZero();
    }
    SelfTest.Row model = checkModel(Scaler.exact(false), Scaler.exact(false));
    assertThat(model.reconF32()).as("an exact model").isZero();
  }

  /** A block that lies: it claims log-det 1 and a gradient of twice the truth. */
  static final class Liar implements Bijection {
    public Flow forward(INDArray x) { return new Flow(x.mul(2), org.nd4j.linalg.factory.Nd4j.ones(x.dataType(), x.size(0))); }
    public Flow inverse(INDArray y) { return new Flow(y.div(2), org.nd4j.linalg.factory.Nd4j.ones(y.dataType(), y.size(0)).negi()); }
    public Grad backward(INDArray y, INDArray dy, INDArray dl) { return new Grad(y.div(2), dy.mul(4)); }
    public long[] outputShape(long[] s) { return s.clone(); }
    public ParamTable params() { return ParamTable.empty(); }
    public LogDetKind logDetKind() { return LogDetKind.EXACT; }
  }

  @Test
  void aWrongLogDetAndAWrongGradientFail() {
    SelfTest.Row r = SelfTest.checkBlock(new BlockCatalog.Spec("liar", (dt, s) -> new Liar(), new long[] {1, 2, 2, 2}));
    assertThat(r.pass()).isFalse();
    // log|det 2I| over 8 dims = 8 ln 2, not 1.
    assertThat(r.logDetErr()).isGreaterThan(0.5);
    assertThat(r.gradErr()).isGreaterThan(0.5);
    assertThat(r.reconF64()).isZero();
    INDArray x = Numerics.normal(DataType.DOUBLE, 1, 2, 2, 2, 2);
    // The liar reports twice the true dx: a relative error of one half.
    assertThat(SelfTest.directionalGradientError(new Liar(), x, 2)).isGreaterThan(0.4);
  }

  /**
   * {@code y = 2x} (with {@code injective}: {@code [2x, 0]}, twice the channels), exact unless
   * told to err by the given amounts: its inverse's output, its log-det, its dL/dx (a factor), the
   * input its backward rebuilds. Each check must fail on its own error alone.
   */
  record Scaler(boolean injective, double inverseError, double logDetError, double gradFactor, double rebuildError)
      implements Bijection {
    static Scaler exact(boolean injective) {
      return new Scaler(injective, 0, 0, 1, 0);
    }

    /** n ln 2 per sample; for [2x, 0] too, as 1/2 log det(J^T J) = 1/2 log 4^n. */
    private INDArray trueLogDet(INDArray x) {
      return Nd4j.ones(x.dataType(), x.size(0)).muli(x.length() / x.size(0) * Math.log(2));
    }

    private INDArray firstHalf(INDArray y) {
      return injective ? y.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
          org.nd4j.linalg.indexing.NDArrayIndex.interval(0, y.size(1) / 2)).dup() : y;
    }

    public Flow forward(INDArray x) {
      INDArray y = injective ? Nd4j.concat(1, x.mul(2), Nd4j.zerosLike(x)) : x.mul(2);
      return new Flow(y, trueLogDet(x).addi(logDetError));
    }

    public Flow inverse(INDArray y) {
      INDArray x = firstHalf(y).div(2).addi(inverseError);
      return new Flow(x, trueLogDet(x).negi().subi(logDetError));
    }

    public Grad backward(INDArray y, INDArray dy, INDArray dl) {
      return new Grad(firstHalf(y).div(2).addi(rebuildError), firstHalf(dy).mul(2 * gradFactor));
    }

    public long[] outputShape(long[] s) {
      long[] o = s.clone();
      if (injective) o[1] *= 2;
      return o;
    }

    public ParamTable params() { return ParamTable.empty(); }

    public LogDetKind logDetKind() { return injective ? LogDetKind.INJECTIVE : LogDetKind.EXACT; }
  }

  private static SelfTest.Row check(Scaler f64, Scaler f32) {
    return SelfTest.checkBlock(new BlockCatalog.Spec("scaler", (dt, s) -> dt == DataType.FLOAT ? f32 : f64, new long[] {1, 2, 2, 2}));
  }

  private static SelfTest.Row check(Scaler both) {
    return check(both, both);
  }

  @Test
  void anExactBlockPassesAndEachSingleErrorFailsItsOwnCheck() {
    for (boolean injective : new boolean[] {false, true}) {
      SelfTest.Row exact = check(Scaler.exact(injective));
      assertThat(exact.pass()).as(exact.toString()).isTrue();
      assertThat(exact.reconF64()).isZero();
      assertThat(exact.logDetErr()).isLessThan(1e-9);
      assertThat(exact.gradErr()).isLessThan(1e-8);
    }

    SelfTest.Row inverse = check(new Scaler(false, 1e-9, 0, 1, 0));
    assertThat(inverse.pass()).as(inverse.toString()).isFalse();
    assertThat(inverse.reconF64()).isCloseTo(1e-9, within(1e-15));
    assertThat(inverse.logDetErr()).isLessThan(1e-9);

    SelfTest.Row inverse32 = check(Scaler.exact(false), new Scaler(false, 1e-4, 0, 1, 0));
    assertThat(inverse32.pass()).as(inverse32.toString()).isFalse();
    assertThat(inverse32.reconF32()).isCloseTo(1e-4, within(1e-6));
    assertThat(inverse32.reconF64()).isZero();

    // Relative to the true 8 ln 2 (above 1, so the error is divided by it).
    SelfTest.Row logDet = check(new Scaler(false, 0, 1e-5, 1, 0));
    assertThat(logDet.pass()).as(logDet.toString()).isFalse();
    assertThat(logDet.logDetErr()).isCloseTo(1e-5 / (8 * Math.log(2)), within(1e-9));
    assertThat(logDet.gradErr()).isLessThan(1e-8);

    // [2x, 0] reporting the log-det of 2x alone, as if it were a square map: 8 ln 2 is missed.
    SelfTest.Row injective = check(new Scaler(true, 0, -8 * Math.log(2), 1, 0));
    assertThat(injective.pass()).as(injective.toString()).isFalse();
    assertThat(injective.logDetErr()).isCloseTo(1, within(1e-6));

    // dL/dx of 2 dy (1 + 1e-5): entries of |dL/dx| below 1 are compared absolutely.
    SelfTest.Row grad = check(new Scaler(false, 0, 0, 1 + 1e-5, 0));
    assertThat(grad.pass()).as(grad.toString()).isFalse();
    assertThat(grad.gradErr()).isGreaterThan(SelfTest.GRAD).isLessThan(1e-4);
    assertThat(grad.logDetErr()).isLessThan(1e-9);

    // A backward that rebuilds another input than x computes its gradient at the wrong point.
    SelfTest.Row rebuild = check(new Scaler(false, 0, 0, 1, 1e-6));
    assertThat(rebuild.pass()).as(rebuild.toString()).isFalse();
    assertThat(rebuild.gradErr()).isInfinite();
    INDArray x = Numerics.normal(DataType.DOUBLE, 1, 2, 2, 2, 2);
    assertThat(SelfTest.directionalGradientError(new Scaler(false, 0, 0, 1, 1e-6), x, 2)).isInfinite();
    assertThat(SelfTest.directionalGradientError(Scaler.exact(false), x, 2)).isLessThan(1e-6);
  }

  /** {@code inner}, but its inverse reports a log-det off by {@code error}: forward and inverse disagree. */
  record InverseLogDetOff(Bijection inner, double error) implements Bijection {
    public Flow forward(INDArray x) { return inner.forward(x); }
    public Flow inverse(INDArray y) {
      Flow f = inner.inverse(y);
      return new Flow(f.out(), f.logDet().add(error));
    }
    public Grad backward(INDArray y, INDArray dy, INDArray dl) { return inner.backward(y, dy, dl); }
    public long[] outputShape(long[] s) { return inner.outputShape(s); }
    public ParamTable params() { return inner.params(); }
    public LogDetKind logDetKind() { return inner.logDetKind(); }
  }

  /** The whole-model checks on a one-block chain of {@code f64}, with {@code f32} as its float32 model. */
  private static SelfTest.Row checkModel(Bijection f64, Bijection f32) {
    long[] shape = {1, 1, 2, 2};
    return SelfTest.checkModel("scalers", Sequential.of(shape, f32), Sequential.of(shape, f64),
        Numerics.normal(DataType.DOUBLE, 1, 2, 1, 2, 2));
  }

  /**
   * The model checks, reached with a broken body (a model checkArchitecture builds passes them
   * all): each fails on its own error alone. Log-dets are 4 ln 2 a sample, so an inverse's log-det
   * off by 1e-5 is a relative error of 1e-5 / (4 ln 2).
   */
  @Test
  void eachModelCheckFailsOnItsOwnError() {
    SelfTest.Row exact = checkModel(Scaler.exact(false), Scaler.exact(false));
    assertThat(exact.pass()).as(exact.toString()).isTrue();
    assertThat(exact.kind()).isEqualTo("model");
    assertThat(exact.reconF64()).isZero();
    assertThat(exact.logDetErr()).isZero();
    assertThat(exact.gradErr()).isLessThan(1e-8);

    SelfTest.Row inverse = checkModel(new Scaler(false, 1e-9, 0, 1, 0), Scaler.exact(false));
    assertThat(inverse.pass()).as(inverse.toString()).isFalse();
    assertThat(inverse.reconF64()).isCloseTo(1e-9, within(1e-15));
    assertThat(inverse.reconF32()).isLessThan(SelfTest.RECON_F32);

    SelfTest.Row inverse32 = checkModel(Scaler.exact(false), new Scaler(false, 1e-4, 0, 1, 0));
    assertThat(inverse32.pass()).as(inverse32.toString()).isFalse();
    assertThat(inverse32.reconF32()).isCloseTo(1e-4, within(1e-6));
    assertThat(inverse32.reconF64()).isZero();

    SelfTest.Row logDet = checkModel(new InverseLogDetOff(Scaler.exact(false), 1e-5), Scaler.exact(false));
    assertThat(logDet.pass()).as(logDet.toString()).isFalse();
    assertThat(logDet.logDetErr()).isCloseTo(1e-5 / (4 * Math.log(2)), within(1e-12));
    assertThat(logDet.reconF64()).isZero();
    assertThat(logDet.gradErr()).isLessThan(1e-8);

    SelfTest.Row grad = checkModel(new Scaler(false, 0, 0, 1 + 1e-5, 0), Scaler.exact(false));
    assertThat(grad.pass()).as(grad.toString()).isFalse();
    assertThat(grad.gradErr()).isGreaterThan(SelfTest.GRAD);
    assertThat(grad.logDetErr()).isZero();
  }

  @Test
  void leftoverGradientsDoNotCount() {
    // backward adds to the parameters' gradients: a check run on a block whose gradients are not
    // zero must clear them first, or it would see their sum.
    Bijection b = BlockCatalog.get("AffineCoupling").create(DataType.DOUBLE, 1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 2, 3, 4, 3, 3);
    assertThat(SelfTest.gradientError(b, x, 7)).isLessThan(SelfTest.GRAD);
    assertThat(SelfTest.gradientError(b, x, 7)).isLessThan(SelfTest.GRAD);
  }

  @Test
  void theCatalogueHasEveryLayerTypeAndNamesItsBlocks() {
    java.util.Set<Class<?>> types = new java.util.HashSet<>();
    for (BlockCatalog.Spec s : BlockCatalog.all().values()) {
      Bijection b = s.create(DataType.DOUBLE, 1);
      types.add(b.getClass());
      if (b instanceof org.irevnet.layers.Sequential q) q.blocks().forEach(c -> types.add(c.getClass()));
    }
    assertThat(types).contains(org.irevnet.layers.SpaceToDepth.class, org.irevnet.layers.InjectivePad.class,
        org.irevnet.layers.ChannelReverse.class, org.irevnet.layers.ActNorm.class,
        org.irevnet.layers.AffineCoupling.class, org.irevnet.layers.AdditiveCoupling.class,
        org.irevnet.layers.Invertible1x1Conv.class, org.irevnet.layers.Sequential.class);
    assertThat(BlockCatalog.get("ActNorm").name()).isEqualTo("ActNorm");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> BlockCatalog.get("Actnorm"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no block named Actnorm").hasMessageContaining("ActNorm");
  }

  @Test
  void aSmallModelPassesTheModelChecks() {
    SelfTest.Row r = SelfTest.checkArchitecture(org.irevnet.models.Architecture.fromJson(
        org.irevnet.testing.TinyData.ARCH), null);
    assertThat(r.pass()).as(r.toString()).isTrue();
    assertThat(r.gradErr()).isLessThan(1e-7);
  }
}
