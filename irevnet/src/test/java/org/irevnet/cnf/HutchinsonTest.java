package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** Hutchinson's estimator is unbiased, with the variance theory predicts. */
class HutchinsonTest {
  private static final double[][] A = {{2.0, -1.0, 0.5}, {0.3, -0.7, 1.2}, {-0.4, 2.2, 1.5}};

  private static double[] vectorTimesA(double[] v) {
    double[] r = new double[3];
    for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) r[j] += v[i] * A[i][j];
    return r;
  }

  // Var(e^T A e) = 2 ||S||_F^2 (Gaussian) and 2 (||S||_F^2 - sum_i S_ii^2) (Rademacher), S = (A + A^T)/2.
  private static double variance(Hutchinson.Noise noise) {
    double frob = 0, diag = 0;
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        double s = (A[i][j] + A[j][i]) / 2;
        frob += s * s;
      }
      diag += A[i][i] * A[i][i];
    }
    return noise == Hutchinson.Noise.GAUSSIAN ? 2 * frob : 2 * (frob - diag);
  }

  @Test
  void unbiasedOnAKnownMatrixWithTheTheoreticalVariance() {
    double trace = A[0][0] + A[1][1] + A[2][2];
    int n = 200_000;
    for (Hutchinson.Noise noise : Hutchinson.Noise.values()) {
      Random rng = new Random(11);
      double sum = 0, sumSq = 0;
      for (int k = 0; k < n; k++) {
        double e = Hutchinson.estimate(HutchinsonTest::vectorTimesA, noise.sample(rng, 3));
        sum += e;
        sumSq += e * e;
      }
      double mean = sum / n, var = sumSq / n - mean * mean;
      double standardError = Math.sqrt(variance(noise) / n);
      assertThat(Math.abs(mean - trace)).as(noise + " mean vs trace").isLessThan(4 * standardError);
      assertThat(var / variance(noise)).as(noise + " variance vs theory").isBetween(0.95, 1.05);
    }
  }

  @Test
  void rademacherNoiseIsExactOnDiagonalMatrices() {
    Random rng = new Random(3);
    for (int k = 0; k < 20; k++) {
      double est = Hutchinson.estimate(v -> new double[] {2 * v[0], -3 * v[1]}, Hutchinson.Noise.RADEMACHER.sample(rng, 2));
      assertThat(est).isEqualTo(-1.0);
    }
  }

  @Test
  void rowsOfABlockDiagonalMatrixGetOneEstimateEach() {
    Random rng = new Random(9);
    double[] noise = Hutchinson.Noise.GAUSSIAN.sample(rng, 9);
    // Three rows, each multiplied by A on its own.
    double[] rows = Hutchinson.estimates(v -> {
      double[] r = new double[9];
      for (int b = 0; b < 3; b++) {
        System.arraycopy(vectorTimesA(java.util.Arrays.copyOfRange(v, 3 * b, 3 * b + 3)), 0, r, 3 * b, 3);
      }
      return r;
    }, noise, 3);
    for (int b = 0; b < 3; b++) {
      double[] e = java.util.Arrays.copyOfRange(noise, 3 * b, 3 * b + 3);
      assertThat(rows[b]).isEqualTo(Hutchinson.estimate(HutchinsonTest::vectorTimesA, e));
    }
    assertThat(rows[0]).isNotEqualTo(rows[1]);
    assertThatThrownBy(() -> Hutchinson.estimates(v -> v, noise, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("9 noise values do not split into 2 rows");
  }

  @Test
  void estimatedLogDetOfTheFlowAveragesToTheExactOne() {
    // Many copies of one point, each with its own noise: rows are independent solves.
    int copies = 4000;
    Cnf cnf = new Cnf(new MlpDynamics(2, 6, DataType.DOUBLE, 2, 1.0), new Rk4(16), 1.0);
    double[] x = new double[2 * copies];
    for (int b = 0; b < copies; b++) {
      x[2 * b] = 0.4;
      x[2 * b + 1] = -0.9;
    }
    Cnf.Transport exact = cnf.forward(new double[] {0.4, -0.9}, 1);
    for (Hutchinson.Noise noise : Hutchinson.Noise.values()) {
      Cnf.Transport est = cnf.forwardEstimated(x, copies, noise.sample(new Random(5), 2 * copies));
      double sum = 0, sumSq = 0;
      for (double v : est.logDet()) {
        sum += v;
        sumSq += v * v;
      }
      double mean = sum / copies, sd = Math.sqrt(sumSq / copies - mean * mean);
      assertThat(sd).as("the estimate is random").isGreaterThan(1e-3);
      assertThat(Math.abs(mean - exact.logDet()[0])).as(noise + " mean estimate vs exact log-det")
          .isLessThan(4 * sd / Math.sqrt(copies));
      assertThat(est.z()[0]).isEqualTo(exact.z()[0]);
      assertThat(est.z()[1]).isEqualTo(exact.z()[1]);
    }
  }
}
