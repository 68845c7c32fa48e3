package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The readout head's initialisation and running statistics, against PyTorch's conventions computed by hand. */
class ReadoutHeadTest {

  @Test
  void linearWeightsStartUniformWithinOneOverRootChannels() {
    ReadoutHead head = new ReadoutHead(16, 10, DataType.DOUBLE, new Random(1));
    // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) = U(-0.25, 0.25) here.
    // 160 seeded draws also reach well past half the bound, so a smaller bound shows too.
    assertThat(Tensors.maxAbs(head.params().get("linear.weight").value())).isLessThanOrEqualTo(0.25).isGreaterThan(0.2);
    assertThat(Tensors.maxAbs(head.params().get("linear.bias").value())).isLessThanOrEqualTo(0.25);
  }

  @Test
  void aTrainingPassMovesTheRunningStatisticsATenthOfTheWayToTheBatchOnes() {
    ReadoutHead head = new ReadoutHead(2, 3, DataType.DOUBLE, new Random(1));
    INDArray x = Numerics.normal(DataType.DOUBLE, 2, 3, 2, 2, 2).muli(2).addi(1);
    head.forward(x, true, null);
    // By hand: per channel over n*h*w = 12 values; the running variance takes the unbiased one.
    double[] mean = new double[2], var = new double[2];
    for (int c = 0; c < 2; c++) {
      double s = 0, ss = 0;
      for (int n = 0; n < 3; n++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) s += x.getDouble(n, c, i, j);
      double mu = s / 12;
      for (int n = 0; n < 3; n++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {
        ss += Math.pow(x.getDouble(n, c, i, j) - mu, 2);
      }
      mean[c] = 0.9 * 0 + 0.1 * mu;
      var[c] = 0.9 * 1 + 0.1 * ss / 11;
    }
    INDArray runMean = head.params().get("bn.running_mean").value();
    INDArray runVar = head.params().get("bn.running_var").value();
    assertThat(maxAbsDiff(runMean.reshape(2), org.nd4j.linalg.factory.Nd4j.createFromArray(mean))).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(runVar.reshape(2), org.nd4j.linalg.factory.Nd4j.createFromArray(var))).isLessThanOrEqualTo(1e-12);
    // Evaluation passes leave them alone.
    INDArray before = runVar.dup();
    head.forward(x, false, null);
    assertThat(maxAbsDiff(runVar, before)).isZero();
  }
}
