package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.irevnet.nn.Init;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ProjectionTest {

  @Test
  void staysInTheBallTheBoxAndTheContent() {
    Random r = new Random(1);
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 3, 1, 8, 8);
    INDArray mask = Nd4j.zeros(DataType.DOUBLE, 3, 1, 8, 8);
    x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 6), NDArrayIndex.interval(2, 6))
        .assign(Init.uniform(DataType.DOUBLE, r, 0.5, 3, 1, 4, 4).addi(0.5));
    mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 6), NDArrayIndex.interval(2, 6)).assign(1);
    INDArray adv = x.add(Init.normal(DataType.DOUBLE, r, 3, 1, 8, 8));
    Projection.linf(adv, x, 0.1, mask);
    INDArray delta = adv.sub(x);
    assertThat(delta.amaxNumber().doubleValue()).isLessThanOrEqualTo(0.1 + 1e-12).isGreaterThan(0.05);
    assertThat(adv.minNumber().doubleValue()).isGreaterThanOrEqualTo(0.0);
    assertThat(adv.maxNumber().doubleValue()).isLessThanOrEqualTo(1.0);
    assertThat(delta.mul(mask.rsub(1.0)).amaxNumber().doubleValue()).isZero();
    Projection.linf(adv, x, 0.0, mask);
    assertThat(adv).isEqualTo(x);
  }
}
