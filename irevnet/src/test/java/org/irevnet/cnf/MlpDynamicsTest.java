package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The dynamics' exact trace and its vector-Jacobian products (which contain second derivatives of
 * the MLP) against central finite differences in float64.
 */
class MlpDynamicsTest {
  private static final int BATCH = 3, D = 2, H = 7;
  private static final double T = 0.37;

  private static double[] randomRows(long seed, int n) {
    Random rng = new Random(seed);
    double[] z = new double[n];
    for (int i = 0; i < n; i++) z[i] = rng.nextGaussian();
    return z;
  }

  private static MlpDynamics dynamics() {
    return new MlpDynamics(D, H, DataType.DOUBLE, 3, 1.0);
  }

  private static double[] f(MlpDynamics.Weights w, double[] z) {
    double[] f = new double[z.length];
    w.evaluate(T, z, z.length / D, f, null);
    return f;
  }

  @Test
  void traceEqualsTraceOfFiniteDifferenceJacobian() {
    MlpDynamics.Weights w = dynamics().snapshot();
    double[] z = randomRows(1, BATCH * D);
    double[] f = new double[BATCH * D], trace = new double[BATCH];
    w.evaluate(T, z, BATCH, f, trace);
    double eps = 1e-6;
    for (int b = 0; b < BATCH; b++) {
      double tr = 0;
      for (int i = 0; i < D; i++) {
        double[] plus = z.clone(), minus = z.clone();
        plus[b * D + i] += eps;
        minus[b * D + i] -= eps;
        tr += (f(w, plus)[b * D + i] - f(w, minus)[b * D + i]) / (2 * eps);
      }
      assertThat(trace[b]).isCloseTo(tr, offset(1e-8));
    }
  }

  // S(z, theta) = sum_b <af_b, f(z_b)> + c_b Tr(df/dz)(z_b): its gradient is the VJP.
  private static double scalar(MlpDynamics.Weights w, double[] z, double[] af, double[] c) {
    double[] f = new double[z.length], trace = new double[BATCH];
    w.evaluate(T, z, BATCH, f, trace);
    double s = 0;
    for (int i = 0; i < f.length; i++) s += af[i] * f[i];
    for (int b = 0; b < BATCH; b++) s += c[b] * trace[b];
    return s;
  }

  @Test
  void vectorJacobianProductsMatchFiniteDifferences() {
    MlpDynamics m = dynamics();
    double[] z = randomRows(1, BATCH * D), af = randomRows(2, BATCH * D), c = randomRows(3, BATCH);
    MlpDynamics.Weights w = m.snapshot();
    double[] zbar = new double[BATCH * D], thetaBar = new double[m.parameterCount()], fOut = new double[BATCH * D];
    w.vjp(T, z, BATCH, af, c, zbar, thetaBar, fOut);
    assertThat(fOut).containsExactly(f(w, z), offset(1e-15));
    double eps = 1e-6;
    double[] fd = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      double[] plus = z.clone(), minus = z.clone();
      plus[i] += eps;
      minus[i] -= eps;
      fd[i] = (scalar(w, plus, af, c) - scalar(w, minus, af, c)) / (2 * eps);
    }
    assertThat(Numerics.maxRelDiff(zbar, fd)).as("d/dz").isLessThan(1e-7);

    // Every parameter scalar, through the ParamTable (independent of the flat layout's offsets).
    double[] fdTheta = new double[m.parameterCount()];
    int o = 0;
    for (var p : m.params().entries().values()) {
      for (int k = 0; k < p.value().length(); k++) {
        double v = p.value().getDouble(k);
        p.value().putScalar(k, v + eps);
        double sp = scalar(m.snapshot(), z, af, c);
        p.value().putScalar(k, v - eps);
        double sm = scalar(m.snapshot(), z, af, c);
        p.value().putScalar(k, v);
        fdTheta[o++] = (sp - sm) / (2 * eps);
      }
    }
    assertThat(o).isEqualTo(m.parameterCount());
    assertThat(Numerics.maxRelDiff(thetaBar, fdTheta)).as("d/dtheta").isLessThan(1e-7);
  }

  @Test
  void withoutTraceCotangentTheProductIsTheJacobianTransposeTimesVector() {
    MlpDynamics.Weights w = dynamics().snapshot();
    double[] z = randomRows(4, BATCH * D), v = randomRows(5, BATCH * D);
    double[] zbar = new double[BATCH * D];
    w.vjp(T, z, BATCH, v, null, zbar, null, null);
    double eps = 1e-6;
    for (int b = 0; b < BATCH; b++) {
      for (int i = 0; i < D; i++) {
        double[] plus = z.clone(), minus = z.clone();
        plus[b * D + i] += eps;
        minus[b * D + i] -= eps;
        double[] fp = f(w, plus), fm = f(w, minus);
        double s = 0;
        for (int j = 0; j < D; j++) s += v[b * D + j] * (fp[b * D + j] - fm[b * D + j]) / (2 * eps);
        assertThat(zbar[b * D + i]).isCloseTo(s, offset(1e-8));
      }
    }
  }

  @Test
  void accumulatedGradientLandsInTheNamedParameters() {
    MlpDynamics m = dynamics();
    double[] flat = new double[m.parameterCount()];
    for (int i = 0; i < flat.length; i++) flat[i] = i;
    m.params().zeroGrad();
    m.accumulateGradient(flat);
    m.accumulateGradient(flat);
    // W1 is [H, d+1] row-major at offset 0; b1 follows it.
    assertThat(m.params().get("net.0.weight").grad().getDouble(1, 2)).isEqualTo(2.0 * (D + 1 + 2));
    assertThat(m.params().get("net.0.bias").grad().getDouble(0)).isEqualTo(2.0 * H * (D + 1));
    assertThat(m.params().get("net.4.bias").grad().getDouble(D - 1)).isEqualTo(2.0 * (flat.length - 1));
  }
}
