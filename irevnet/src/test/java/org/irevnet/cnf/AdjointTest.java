package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The adjoint method (constant memory in the number of solver steps) against backpropagation
 * through the stored RK4 stages (memory that grows with the steps), and both against finite
 * differences of the loss, on a tiny float64 problem.
 */
class AdjointTest {
  private static final int BATCH = 2, D = 2, H = 5, STEPS = 200;
  private static final double T = 1.0;

  private static double[] gaussian(long seed, int n) {
    Random rng = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
    return v;
  }

  /** dL/dx and dL/dtheta of L = <dy, z(T)> + <c, logDet> by reverse mode through every RK4 stage. */
  static double[][] backpropThroughRk4(MlpDynamics m, double[] x, double[] dy, double[] c, int steps, double endTime) {
    MlpDynamics.Weights w = m.snapshot();
    int n = x.length, batch = n / m.dim();
    double h = endTime / steps;
    double[][][] stages = new double[steps][4][];
    double[] z = x.clone();
    double[] k1 = new double[n], k2 = new double[n], k3 = new double[n], k4 = new double[n];
    for (int s = 0; s < steps; s++) {
      double t = s * h;
      stages[s][0] = z.clone();
      w.evaluate(t, stages[s][0], batch, k1, null);
      stages[s][1] = axpy(z, 0.5 * h, k1);
      w.evaluate(t + 0.5 * h, stages[s][1], batch, k2, null);
      stages[s][2] = axpy(z, 0.5 * h, k2);
      w.evaluate(t + 0.5 * h, stages[s][2], batch, k3, null);
      stages[s][3] = axpy(z, h, k3);
      w.evaluate(t + h, stages[s][3], batch, k4, null);
      for (int i = 0; i < n; i++) z[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    double[] zbar = dy.clone();
    double[] thetaBar = new double[m.parameterCount()];
    double[] in = new double[n];
    for (int s = steps - 1; s >= 0; s--) {
      double t = s * h;
      double[] times = {t, t + 0.5 * h, t + 0.5 * h, t + h};
      double[] weights = {h / 6, h / 3, h / 3, h / 6};
      // How each stage input depends on the previous stage's slope: Z2 = z + h/2 k1, Z3 = z + h/2 k2, Z4 = z + h k3.
      double[] feed = {0, 0.5 * h, 0.5 * h, h};
      double[] kbar = new double[n];
      double[] next = zbar.clone();
      for (int stage = 3; stage >= 0; stage--) {
        double[] af = new double[n];
        for (int i = 0; i < n; i++) af[i] = weights[stage] * zbar[i] + kbar[i];
        double[] ct = new double[batch];
        for (int b = 0; b < batch; b++) ct[b] = weights[stage] * c[b];
        w.vjp(times[stage], stages[s][stage], batch, af, ct, in, thetaBar, null);
        for (int i = 0; i < n; i++) {
          next[i] += in[i];
          kbar[i] = feed[stage] * in[i];
        }
      }
      zbar = next;
    }
    return new double[][] {zbar, thetaBar};
  }

  private static double[] axpy(double[] z, double a, double[] k) {
    double[] r = z.clone();
    for (int i = 0; i < r.length; i++) r[i] += a * k[i];
    return r;
  }

  private static double loss(Cnf cnf, double[] x, double[] dy, double[] c) {
    Cnf.Transport t = cnf.forward(x, BATCH);
    double s = 0;
    for (int i = 0; i < x.length; i++) s += dy[i] * t.z()[i];
    for (int b = 0; b < BATCH; b++) s += c[b] * t.logDet()[b];
    return s;
  }

  @Test
  void adjointGradientsEqualBackpropThroughTheSolver() {
    MlpDynamics m = new MlpDynamics(D, H, DataType.DOUBLE, 5, 1.0);
    Cnf cnf = new Cnf(m, new Rk4(STEPS), T);
    double[] x = gaussian(1, BATCH * D), dy = gaussian(2, BATCH * D), c = gaussian(3, BATCH);
    Cnf.Transport fwd = cnf.forward(x, BATCH);
    Cnf.Adjoint adj = cnf.adjoint(fwd.z(), dy, c, BATCH);
    double[][] bp = backpropThroughRk4(m, x, dy, c, STEPS, T);
    assertThat(Numerics.maxRelDiff(adj.x(), x)).as("rebuilt input").isLessThan(1e-10);
    assertThat(Numerics.maxRelDiff(adj.dx(), bp[0])).as("dL/dx adjoint vs backprop").isLessThan(1e-9);
    assertThat(Numerics.maxRelDiff(adj.dTheta(), bp[1])).as("dL/dtheta adjoint vs backprop").isLessThan(1e-9);
    // The two agree because both are accurate, not because one copies the other: with 4 steps
    // the discretisations differ visibly.
    double[][] coarse = backpropThroughRk4(m, x, dy, c, 4, T);
    assertThat(Numerics.maxRelDiff(adj.dTheta(), coarse[1])).isGreaterThan(1e-7);
  }

  @Test
  void backpropThroughTheSolverMatchesFiniteDifferencesOfTheDiscreteLoss() {
    MlpDynamics m = new MlpDynamics(D, H, DataType.DOUBLE, 6, 1.0);
    int steps = 6; // coarse on purpose: exact reverse mode of the discrete map at any step count
    Cnf cnf = new Cnf(m, new Rk4(steps), T);
    double[] x = gaussian(4, BATCH * D), dy = gaussian(5, BATCH * D), c = gaussian(6, BATCH);
    double[][] bp = backpropThroughRk4(m, x, dy, c, steps, T);
    double eps = 1e-6;
    for (int i = 0; i < x.length; i++) {
      double[] p = x.clone(), q = x.clone();
      p[i] += eps;
      q[i] -= eps;
      double fd = (loss(cnf, p, dy, c) - loss(cnf, q, dy, c)) / (2 * eps);
      assertThat(bp[0][i]).isCloseTo(fd, offset(1e-8 * Math.max(1, Math.abs(fd))));
    }
    var w2 = m.params().get("net.2.weight").value();
    int[] idx = Numerics.sampleIndices(w2.length(), 10, 1);
    int offset = H * (D + 1) + H; // W2 follows W1 and b1 in the flat layout
    for (int k : idx) {
      double v = w2.getDouble(k);
      w2.putScalar(k, v + eps);
      double lp = loss(cnf, x, dy, c);
      w2.putScalar(k, v - eps);
      double lm = loss(cnf, x, dy, c);
      w2.putScalar(k, v);
      double fd = (lp - lm) / (2 * eps);
      assertThat(bp[1][offset + k]).isCloseTo(fd, offset(1e-8 * Math.max(1, Math.abs(fd))));
    }
  }

  @Test
  void adaptiveAdjointAgreesWithFixedStepBackprop() {
    MlpDynamics m = new MlpDynamics(D, H, DataType.DOUBLE, 7, 1.0);
    Cnf cnf = new Cnf(m, new DormandPrince(1e-11, 1e-11), T);
    double[] x = gaussian(7, BATCH * D), dy = gaussian(8, BATCH * D), c = gaussian(9, BATCH);
    Cnf.Adjoint adj = cnf.adjoint(cnf.forward(x, BATCH).z(), dy, c, BATCH);
    double[][] bp = backpropThroughRk4(m, x, dy, c, STEPS, T);
    assertThat(Numerics.maxRelDiff(adj.dx(), bp[0])).isLessThan(1e-8);
    assertThat(Numerics.maxRelDiff(adj.dTheta(), bp[1])).isLessThan(1e-8);
    assertThat(adj.evaluations()).isGreaterThan(0);
  }
}
