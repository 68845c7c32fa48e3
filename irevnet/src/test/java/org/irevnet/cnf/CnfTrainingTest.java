package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** Densities of the flow integrate to one, training lowers the loss, the toy samplers draw their shapes. */
class CnfTrainingTest {

  @Test
  void learnedDensityIntegratesToOne() {
    // A flow far from the identity, so a wrong sign or factor in the log-det would show.
    Cnf cnf = new Cnf(new MlpDynamics(2, 8, DataType.DOUBLE, 4, 2.0), new DormandPrince(1e-7, 1e-7), 1.0);
    int grid = 140;
    double lo = -7, hi = 7, cell = (hi - lo) / grid;
    double[] xy = new double[2 * grid * grid];
    for (int i = 0; i < grid; i++) {
      for (int j = 0; j < grid; j++) {
        xy[2 * (i * grid + j)] = lo + (j + 0.5) * cell;
        xy[2 * (i * grid + j) + 1] = lo + (i + 0.5) * cell;
      }
    }
    double mass = 0;
    for (double lp : CnfTraining.logDensities(cnf, xy).logDensity()) mass += Math.exp(lp) * cell * cell;
    assertThat(mass).isCloseTo(1.0, offset(5e-3));
    double moved = 0;
    Cnf.Transport t = cnf.forward(xy, grid * grid);
    for (int b = 0; b < grid * grid; b++) moved = Math.max(moved, Math.abs(t.logDet()[b]));
    assertThat(moved).as("the flow changes volume").isGreaterThan(0.3);
  }

  @Test
  void trainingLowersTheNegativeLogLikelihood() {
    CnfTraining.Config c = new CnfTraining.Config(ToyDensity.EIGHT_GAUSSIANS, 16, 1.0, new Rk4(4), 60, 64, 1e-2, 3);
    double[] losses = new double[c.iterations()];
    CnfTraining.Result r = CnfTraining.train(c, s -> losses[s.iteration()] = s.loss());
    double first = (losses[0] + losses[1] + losses[2]) / 3;
    double last = (losses[57] + losses[58] + losses[59]) / 3;
    assertThat(last).isLessThan(first - 0.3);
    assertThat(r.meanForwardEvaluations()).isEqualTo(16.0);
    double[] x = ToyDensity.EIGHT_GAUSSIANS.sample(new Random(9), 50);
    assertThat(CnfTraining.roundTripError(r.cnf().withSolver(new DormandPrince(1e-9, 1e-9)), x)).isLessThan(1e-6);
    double[] samples = CnfTraining.sample(r.cnf(), new Random(1), 50).z();
    for (double v : samples) assertThat(v).isFinite();
  }

  @Test
  void toySamplersDrawTheirShapes() {
    Random rng = new Random(1);
    int n = 2000;
    double[] g = ToyDensity.EIGHT_GAUSSIANS.sample(rng, n);
    for (int k = 0; k < n; k++) {
      double r = Math.hypot(g[2 * k], g[2 * k + 1]);
      assertThat(r).isBetween(4 / Math.sqrt(2) - 2.0, 4 / Math.sqrt(2) + 2.0);
    }
    double[] c = ToyDensity.CHECKERBOARD.sample(rng, n);
    for (int k = 0; k < n; k++) {
      int cx = (int) Math.floor(c[2 * k] / 2), cy = (int) Math.floor(c[2 * k + 1] / 2);
      assertThat(Math.floorMod(cx + cy, 2)).as("a dark square").isZero();
      assertThat(Math.abs(c[2 * k])).isLessThanOrEqualTo(4.0);
    }
    double[] rings = ToyDensity.RINGS.sample(rng, n);
    int[] perRing = new int[4];
    for (int k = 0; k < n; k++) {
      double r = Math.hypot(rings[2 * k], rings[2 * k + 1]);
      int ring = (int) Math.round(4 - r / 0.75);
      assertThat(Math.abs(r - 3 * (1 - 0.25 * ring))).isLessThan(0.4);
      perRing[ring]++;
    }
    for (int count : perRing) assertThat(count).isBetween(n / 4 - 100, n / 4 + 100);
    double[] moons = ToyDensity.TWO_MOONS.sample(rng, n);
    double meanX = 0;
    for (int k = 0; k < n; k++) meanX += moons[2 * k] / n;
    assertThat(meanX).isCloseTo(0.0, offset(0.1));
    assertThat(ToyDensity.of("8-gaussians")).isEqualTo(ToyDensity.EIGHT_GAUSSIANS);
  }
}
