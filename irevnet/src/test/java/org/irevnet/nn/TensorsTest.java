package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The per-sample broadcast against an entry-by-entry computation, on contiguous and strided inputs. */
class TensorsTest {
  @Test
  void perSampleOverDividesEachSamplesFactorByItsEntries() {
    INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4, 2, 5).addi(0.5);
    INDArray v = Nd4j.createFromArray(2.0, -0.5, 3.0);
    INDArray before = x.dup();
    assertThat(Tensors.perSampleOver(v, x).equalsWithEps(expected(v, x), 0)).isTrue();
    assertThat(x).as("the input is left alone").isEqualTo(before);
  }

  @Test
  void perSampleOverIsRightOnAStridedView() {
    INDArray base = Nd4j.rand(DataType.DOUBLE, 2, 6, 3, 3).addi(0.5);
    INDArray view = base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4));
    INDArray v = Nd4j.createFromArray(-1.0, 4.0);
    INDArray got = Tensors.perSampleOver(v, view);
    assertThat(got.shape()).isEqualTo(view.shape());
    assertThat(got.equalsWithEps(expected(v, view), 0)).isTrue();
  }

  private static INDArray expected(INDArray v, INDArray x) {
    INDArray e = x.dup('c');
    for (int i = 0; i < x.size(0); i++) e.slice(i).rdivi(v.getDouble(i));
    return e;
  }
}
