package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Every entry, in row-major order, is the next draw of the given Random, in every dtype. */
class InitTest {
  @Test
  void uniformIsTheRandomsDoublesMappedOntoTheBoundInEveryDtype() {
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT, DataType.HALF}) {
      INDArray a = Init.uniform(dt, new Random(7), 0.25, 2, 3, 4);
      assertThat(a.dataType()).isEqualTo(dt);
      assertThat(a.shape()).containsExactly(2, 3, 4);
      Random r = new Random(7);
      double[] got = Tensors.doubles(a);
      for (int i = 0; i < 24; i++) {
        double expected = (2 * r.nextDouble() - 1) * 0.25;
        if (dt == DataType.DOUBLE) assertThat(got[i]).isEqualTo(expected);
        else if (dt == DataType.FLOAT) assertThat(got[i]).isEqualTo((double) (float) expected);
        else assertThat(got[i]).as("half precision, entry %d", i).isCloseTo(expected, within(2e-4));
      }
    }
  }

  @Test
  void normalIsTheRandomsGaussians() {
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double[] got = Tensors.doubles(Init.normal(dt, new Random(3), 5, 2));
      Random r = new Random(3);
      for (double g : got) {
        double expected = r.nextGaussian();
        assertThat(g).isEqualTo(dt == DataType.DOUBLE ? expected : (double) (float) expected);
      }
      assertThat(got).hasSize(10);
    }
  }

  @Test
  void uniformWithoutARandomIsZerosAndDrawsNothing() {
    // A model's copy in another type: its weights are assigned next, so nothing is drawn.
    INDArray a = Init.uniform(DataType.DOUBLE, null, 0.25, 3, 2);
    assertThat(a.shape()).containsExactly(3, 2);
    assertThat(Tensors.doubles(a)).containsOnly(0.0);
  }
}
