package org.irevnet.check;

import static org.assertj.core.api.Assertions.assertThat;

import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.ParamTable;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class SelfTestTest {

  @Test
  void everyCatalogueBlockPasses() {
    for (BlockCatalog.Spec s : BlockCatalog.all().values()) {
      SelfTest.Row r = SelfTest.checkBlock(s);
      assertThat(r.pass()).as(r.toString()).isTrue();
    }
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

  @Test
  void aSmallModelPassesTheModelChecks() {
    SelfTest.Row r = SelfTest.checkArchitecture(org.irevnet.models.Architecture.fromJson(
        org.irevnet.testing.TinyData.ARCH), null);
    assertThat(r.pass()).as(r.toString()).isTrue();
    assertThat(r.gradErr()).isLessThan(1e-7);
  }
}
