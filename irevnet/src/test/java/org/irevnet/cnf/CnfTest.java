package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.irevnet.layers.LogDetKind;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The flow's arguments, shapes and the density bookkeeping of {@link CnfTraining}, on the identity
 * flow (a zero last layer: {@code f = 0}, so {@code z(T) = x} and the log-det is 0) where every
 * number is known in closed form.
 */
class CnfTest {
  private static final double LOG_2PI = Math.log(2 * Math.PI);

  private static Cnf identity() {
    return new Cnf(new MlpDynamics(2, 4, DataType.DOUBLE, 1, 0.0), new Rk4(2), 1.0);
  }

  @Test
  void badArgumentsAreClearErrors() {
    MlpDynamics m = new MlpDynamics(2, 4, DataType.DOUBLE, 1, 1.0);
    for (double t : new double[] {0, -1, Double.NaN}) {
      assertThatThrownBy(() -> new Cnf(m, new Rk4(1), t)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("integration time must be > 0, got " + t);
    }
    assertThatThrownBy(() -> new MlpDynamics(0, 4, DataType.DOUBLE, 1, 1.0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("dimension and width must be >= 1");
    assertThatThrownBy(() -> new MlpDynamics(2, 0, DataType.DOUBLE, 1, 1.0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("dimension and width must be >= 1");
    assertThatThrownBy(() -> m.accumulateGradient(new double[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("gradient length 3");
    Cnf cnf = new Cnf(m, new Rk4(1), 1.0);
    assertThatThrownBy(() -> cnf.forward(new double[5], 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expected 2 rows of 2 values, got 5 values");
    assertThatThrownBy(() -> cnf.adjoint(new double[4], new double[4], new double[1], 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("dLogDet needs 2 values");
    assertThatThrownBy(() -> cnf.adjoint(new double[3], new double[4], new double[2], 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("expected 2 rows of 2 values, got 3 values");
    assertThatThrownBy(() -> cnf.adjoint(new double[4], new double[3], new double[2], 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("expected 2 rows of 2 values, got 3 values");
    for (long[] shape : new long[][] {{1, 3}, {1, 2, 1}, {1, 2, 2, 1}, {1, 2, 1, 2}, {1, 3, 1, 1}}) {
      assertThatThrownBy(() -> cnf.outputShape(shape)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a CNF on 2-D points expects [batch, 2, 1, 1] or [batch, 2], got " + java.util.Arrays.toString(shape));
    }
    assertThat(cnf.outputShape(new long[] {3, 2})).containsExactly(3, 2);
    assertThat(cnf.outputShape(new long[] {3, 2, 1, 1})).containsExactly(3, 2, 1, 1);
  }

  @Test
  void accessorsAndParameterCount() {
    MlpDynamics m = new MlpDynamics(3, 5, DataType.DOUBLE, 1, 1.0);
    assertThat(m.dim()).isEqualTo(3);
    assertThat(m.parameterCount()).isEqualTo(m.params().count()).isEqualTo(5 * 4 + 5 + 25 + 5 + 15 + 3);
    Rk4 rk4 = new Rk4(3);
    Cnf cnf = new Cnf(m, rk4, 0.5);
    assertThat(cnf.solver()).isSameAs(rk4);
    assertThat(cnf.params()).isSameAs(m.params());
    assertThat(cnf.logDetKind()).isEqualTo(LogDetKind.EXACT);
    DormandPrince dp = new DormandPrince(1e-9, 1e-9);
    Cnf other = cnf.withSolver(dp);
    assertThat(other.solver()).isSameAs(dp);
    assertThat(other.params()).isSameAs(m.params());
    // Same flow, same end time: both solvers move a point to the same place.
    double[] x = {0.3, -0.2, 0.7};
    double[] a = new Cnf(m, new Rk4(64), 0.5).forward(x, 1).z(), b = other.forward(x, 1).z();
    for (int i = 0; i < 3; i++) assertThat(b[i]).isCloseTo(a[i], within(1e-8));
  }

  @Test
  void theIdentityFlowGivesTheStandardNormalDensity() {
    Cnf cnf = identity();
    double[] x = {0.5, -1.0, 2.0, 0.0};
    CnfTraining.Densities d = CnfTraining.logDensities(cnf, x);
    assertThat(d.logDensity()).hasSize(2);
    assertThat(d.logDensity()[0]).isCloseTo(-0.5 * 1.25 - LOG_2PI, within(1e-15));
    assertThat(d.logDensity()[1]).isCloseTo(-0.5 * 4 - LOG_2PI, within(1e-15));
    assertThat(d.evaluations()).isEqualTo(8);
    assertThat(CnfTraining.roundTripError(cnf, x)).isZero();
    // Sampling integrates standard normal draws back: the identity returns the draws.
    Cnf.Transport s = CnfTraining.sample(cnf, new Random(4), 3);
    Random r = new Random(4);
    for (double v : s.z()) assertThat(v).isEqualTo(r.nextGaussian());
    assertThat(s.z()).hasSize(6);
  }

  @Test
  void logDensityAddsTheLogDetToTheGaussianOfEachRow() {
    Cnf.Transport t = new Cnf.Transport(new double[] {1, 2, -3, 0.5}, new double[] {0.25, -1.5}, 0);
    assertThat(CnfTraining.logDensity(t, 0)).isCloseTo(-2.5 - LOG_2PI + 0.25, within(1e-15));
    assertThat(CnfTraining.logDensity(t, 1)).isCloseTo(-0.5 * 9.25 - LOG_2PI - 1.5, within(1e-15));
  }

  @Test
  void roundTripErrorIsTheLargestCoordinateError() {
    // Two RK4 steps forward and back are not exact inverses: the error is what the solves leave.
    Cnf cnf = new Cnf(new MlpDynamics(2, 4, DataType.DOUBLE, 1, 3.0), new Rk4(1), 1.0);
    double[] x = {0.5, -1.0, 2.0, 0.0};
    double[] back = cnf.inverse(cnf.forward(x, 2).z(), 2).z();
    double expected = 0;
    for (int i = 0; i < 4; i++) expected = Math.max(expected, Math.abs(back[i] - x[i]));
    assertThat(expected).as("the fixture's round trip is not exact").isGreaterThan(1e-6);
    assertThat(CnfTraining.roundTripError(cnf, x)).isEqualTo(expected);
  }

  @Test
  void tensorsKeepTheirShapeAndDtype() {
    Cnf cnf = identity();
    INDArray x = Nd4j.createFromArray(0.5f, -1f, 2f, 0f).reshape(2, 2);
    var f = cnf.forward(x);
    assertThat(f.out().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(f.out().shape()).containsExactly(2, 2);
    assertThat(f.out()).isEqualTo(x);
    assertThat(f.logDet().shape()).containsExactly(2);
    assertThat(f.logDet().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(cnf.inverse(x.reshape(2, 2, 1, 1)).out().shape()).containsExactly(2, 2, 1, 1);
  }

  @Test
  void trainingConfigurationsAreChecked() {
    for (int[] bad : new int[][] {{0, 1, 1}, {1, 0, 1}, {1, 1, 0}}) {
      assertThatThrownBy(() -> new CnfTraining.Config(ToyDensity.RINGS, bad[0], 1.0, new Rk4(1), bad[1], bad[2], 0.1, 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("hidden width, iterations and batch must be >= 1");
    }
    for (double lr : new double[] {0, Double.NaN}) {
      assertThatThrownBy(() -> new CnfTraining.Config(ToyDensity.RINGS, 1, 1.0, new Rk4(1), 1, 1, lr, 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("learning rate must be > 0, got " + lr);
    }
    new CnfTraining.Config(ToyDensity.RINGS, 1, 1.0, new Rk4(1), 1, 1, 1e-9, 0);
  }

  @Test
  void trainingReportsEveryStepAndTheMeanEvaluations() {
    CnfTraining.Config c = new CnfTraining.Config(ToyDensity.TWO_MOONS, 4, 1.0, new Rk4(3), 3, 8, 1e-2, 5);
    java.util.List<CnfTraining.Step> steps = new java.util.ArrayList<>();
    CnfTraining.Result r = CnfTraining.train(c, steps::add);
    assertThat(steps).extracting(CnfTraining.Step::iteration).containsExactly(0, 1, 2);
    assertThat(steps).allMatch(s -> s.forwardEvaluations() == 12 && s.backwardEvaluations() == 12);
    assertThat(r.meanForwardEvaluations()).isEqualTo(12.0);
    assertThat(r.meanBackwardEvaluations()).isEqualTo(12.0);
    assertThat(r.finalLoss()).isEqualTo(steps.get(2).loss());
    assertThat(r.seconds()).isPositive();
    // The reported loss is -mean log p of the batch the step drew, under the flow before its update.
    CnfTraining.Config one = new CnfTraining.Config(ToyDensity.TWO_MOONS, 4, 1.0, new Rk4(3), 1, 8, 1e-2, 5);
    double[] x = ToyDensity.TWO_MOONS.sample(new Random(6), 8);
    Cnf fresh = new Cnf(new MlpDynamics(2, 4, DataType.DOUBLE, 5, 0.1), new Rk4(3), 1.0);
    double expected = 0;
    for (double lp : CnfTraining.logDensities(fresh, x).logDensity()) expected -= lp / 8;
    assertThat(CnfTraining.train(one, s -> { }).finalLoss()).isCloseTo(expected, within(1e-12));
    assertThat(steps.get(0).loss()).isCloseTo(expected, within(1e-12));
  }

  @Test
  void toyDensitiesAreFoundByTheirNames() {
    for (ToyDensity t : ToyDensity.values()) assertThat(ToyDensity.of(t.id())).isEqualTo(t);
    assertThat(ToyDensity.TWO_MOONS.id()).isEqualTo("two-moons");
    assertThatThrownBy(() -> ToyDensity.of("spirals")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown target 'spirals' (expected one of two-moons, rings, checkerboard, 8-gaussians)");
  }

  @Test
  void dynamicsInitialiseAsPyTorchWithTheLastLayerScaled() {
    // W1 [H, d+1], b1 [H] with bound 1/sqrt(d+1); W2 [H, H], b2 [H] with 1/sqrt(H); W3 [d, H],
    // b3 [d] with outputScale/sqrt(H): in that order from one Random.
    MlpDynamics m = new MlpDynamics(2, 3, DataType.DOUBLE, 8, 0.5);
    Random r = new Random(8);
    String[] names = {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias"};
    double[] bounds = {1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3), 0.5 / Math.sqrt(3),
        0.5 / Math.sqrt(3)};
    long[][] shapes = {{3, 3}, {3}, {3, 3}, {3}, {2, 3}, {2}};
    for (int k = 0; k < names.length; k++) {
      INDArray v = m.params().get(names[k]).value();
      assertThat(v.shape()).as(names[k]).isEqualTo(shapes[k]);
      for (double x : org.irevnet.nn.Tensors.doubles(v)) assertThat(x).isEqualTo((2 * r.nextDouble() - 1) * bounds[k]);
    }
    // d = 1 and H = 1 are allowed.
    assertThat(new MlpDynamics(1, 1, DataType.DOUBLE, 1, 1.0).parameterCount()).isEqualTo(2 + 1 + 1 + 1 + 1 + 1);
  }

  @Test
  void noiseHasTheDocumentedEntries() {
    double[] rademacher = Hutchinson.Noise.RADEMACHER.sample(new Random(1), 50);
    for (double e : rademacher) assertThat(Math.abs(e)).isEqualTo(1.0);
    double[] gaussian = Hutchinson.Noise.GAUSSIAN.sample(new Random(1), 50);
    Random r = new Random(1);
    for (double e : gaussian) assertThat(e).isEqualTo(r.nextGaussian());
  }

  @Test
  void toyPointsLieOnTheirShapes() {
    Random rng = new Random(3);
    int n = 2000;
    // Two moons: before the affine map (2x - 1, 2y - 0.2), each point is within its noise
    // (0.1 per coordinate) of the unit circle about (0, 0) (upper) or (1, 0.5) (lower).
    double[] m = ToyDensity.TWO_MOONS.sample(rng, n);
    int upper = 0, upperHigh = 0, upperLeft = 0, below = 0;
    double meanY = 0, meanDeviation = 0;
    for (int k = 0; k < n; k++) {
      double x = (m[2 * k] + 1) / 2, y = (m[2 * k + 1] + 0.2) / 2;
      double ru = Math.hypot(x, y), rl = Math.hypot(x - 1, y - 0.5);
      assertThat(Math.min(Math.abs(ru - 1), Math.abs(rl - 1))).as("moon point %d", k).isLessThan(0.6);
      meanDeviation += Math.min(Math.abs(ru - 1), Math.abs(rl - 1)) / n;
      // The upper moon is the upper half circle (y >= 0 before the noise), the lower one the lower.
      if (Math.abs(ru - 1) < Math.abs(rl - 1)) upper++;
      if (Math.abs(ru - 1) < Math.abs(rl - 1) && y > 0.25) {
        upperHigh++;
        if (x < 0) upperLeft++;
      }
      meanY += m[2 * k + 1] / n;
      if (y < -0.9) below++;
    }
    // Angles within [0, pi]: the upper moon is the upper half circle (sin >= 0), and the lower moon
    // reaches down to -0.5: below -0.9 only 4 standard deviations of noise could take a point.
    assertThat(below).isLessThan(3);
    // The distance to a circle is about |N(0, 0.1^2)| along the normal: mean 0.1 sqrt(2/pi) = 0.08.
    assertThat(meanDeviation).isLessThan(0.1);
    assertThat(upper).isBetween(n / 2 - 150, n / 2 + 150);
    // Angles uniform over [0, pi]: half of the upper moon lies left of its centre.
    assertThat(upperLeft).isBetween(upperHigh / 2 - 100, upperHigh / 2 + 100);
    // E[y] = (2/pi)/2 + (0.5 - 2/pi)/2 = 0.25 before the map, 0.3 after.
    assertThat(meanY).isCloseTo(0.3, within(0.05));
    // Rings: angles uniform, so the mean point is the origin.
    double[] rings = ToyDensity.RINGS.sample(rng, n);
    double sx = 0, sy = 0;
    for (int k = 0; k < n; k++) {
      sx += rings[2 * k] / n;
      sy += rings[2 * k + 1] / n;
    }
    assertThat(Math.hypot(sx, sy)).isLessThan(0.2);
    // Eight Gaussians: within 5 standard deviations (0.5/sqrt 2) of a centre at a multiple of 45 degrees.
    double[] g = ToyDensity.EIGHT_GAUSSIANS.sample(rng, n);
    int[] perCentre = new int[8];
    for (int k = 0; k < n; k++) {
      int best = 0;
      double bestD = Double.MAX_VALUE;
      for (int c = 0; c < 8; c++) {
        double a = Math.PI / 4 * c;
        double dist = Math.hypot(g[2 * k] - 4 * Math.cos(a) / Math.sqrt(2), g[2 * k + 1] - 4 * Math.sin(a) / Math.sqrt(2));
        if (dist < bestD) {
          bestD = dist;
          best = c;
        }
      }
      assertThat(bestD).isLessThan(5 * 0.5 / Math.sqrt(2));
      perCentre[best]++;
    }
    for (int count : perCentre) assertThat(count).isBetween(n / 8 - 80, n / 8 + 80);
    // Checkerboard: x uniform over [-4, 4]: its mean 0 and variance 64/12.
    double[] c = ToyDensity.CHECKERBOARD.sample(rng, n);
    double mx = 0, vx = 0, my = 0;
    for (int k = 0; k < n; k++) {
      mx += c[2 * k] / n;
      my += c[2 * k + 1] / n;
      assertThat(Math.abs(c[2 * k + 1])).isLessThanOrEqualTo(4.0);
    }
    for (int k = 0; k < n; k++) vx += (c[2 * k] - mx) * (c[2 * k] - mx) / n;
    assertThat(mx).isCloseTo(0, within(0.25));
    assertThat(my).as("y, uniform over the dark squares, is symmetric about 0 too").isCloseTo(0, within(0.25));
    assertThat(vx).isCloseTo(64.0 / 12, within(0.5));
  }
}
