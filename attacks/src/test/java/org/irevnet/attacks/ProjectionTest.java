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

  /**
   * The L2 random start's radius is eps * u^(1/d), d = the 36 content pixels of a row, whatever
   * the batch size and whether the mask is one row or one per image: its mean is d / (d + 1) =
   * 0.973 eps. (Once d came from the batch size, and a single image started at 0.5 eps on average.)
   */
  @Test
  void theL2RandomStartFillsTheBallOfTheContentPixelsAtAnyBatchSize() {
    INDArray mask = Nd4j.zeros(DataType.DOUBLE, 1, 1, 8, 8);
    mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(1, 7), NDArrayIndex.interval(1, 7)).assign(1);
    double eps = 0.1;
    Random r = new Random(3);
    for (int batch : new int[] {1, 64}) {
      INDArray x = mask.mul(0.5).repeat(0, batch);
      for (INDArray m : new INDArray[] {mask, mask.repeat(0, batch)}) {
        double sum = 0;
        int draws = 0;
        for (int t = 0; t < 400 / batch + 1; t++) {
          INDArray norms = Norm.rowNorms(Norm.L2.randomStart(x, eps, m, r).sub(x), Norm.L2);
          assertThat(norms.maxNumber().doubleValue()).isLessThanOrEqualTo(eps + 1e-12);
          sum += norms.sumNumber().doubleValue();
          draws += batch;
        }
        assertThat(sum / draws / eps).as("mean radius / eps at batch %d, mask rows %d", batch, m.size(0)).isBetween(0.95, 0.99);
      }
    }
  }
}
