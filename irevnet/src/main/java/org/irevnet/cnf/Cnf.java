package org.irevnet.cnf;

import static org.irevnet.nn.Tensors.doubles;

import java.util.Arrays;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.ParamTable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A continuous normalising flow (Chen et al. 2018; FFJORD, Grathwohl et al. 2019): the map
 * {@code x = z(0) -> y = z(T)} of the ODE {@code dz/dt = f(z, t)}, with
 * {@code log|det dy/dx| = integral_0^T Tr(df/dz(z(t), t)) dt} integrated alongside {@code z}.
 * The inverse integrates the same ODE from {@code T} back to {@code 0}.
 *
 * <p>{@link #backward} is the adjoint method: it integrates {@code z}, the adjoint
 * {@code a = dL/dz(t)} and the parameter gradient backwards from {@code T} to {@code 0} in one
 * ODE, so its memory does not depend on the number of solver steps, and the input comes back
 * from the output for free (the same memory argument as reversible networks).
 *
 * <p>Points of dimension {@code d} are tensors {@code [batch, d, 1, 1]} (or {@code [batch, d]});
 * the arithmetic is float64 whatever the input dtype, and results are cast back.
 */
public final class Cnf implements Bijection {
  private final MlpDynamics dynamics;
  private final OdeSolver solver;
  private final double endTime;

  /**
   * @param solver used for the forward and inverse solves and for the adjoint solve
   * @param endTime the integration time {@code T > 0}
   */
  public Cnf(MlpDynamics dynamics, OdeSolver solver, double endTime) {
    if (!(endTime > 0)) throw new IllegalArgumentException("integration time must be > 0, got " + endTime);
    this.dynamics = dynamics;
    this.solver = solver;
    this.endTime = endTime;
  }

  public OdeSolver solver() {
    return solver;
  }

  /** The same flow (shared parameters) solved with another solver. */
  public Cnf withSolver(OdeSolver other) {
    return new Cnf(dynamics, other, endTime);
  }

  /** Points moved by the flow, the per-row log-det of the map, and the solver's evaluation count. */
  public record Transport(double[] z, double[] logDet, int evaluations) {}

  /** The adjoint solve's results: the rebuilt input, {@code dL/dx}, {@code dL/dtheta} (flat). */
  public record Adjoint(double[] x, double[] dx, double[] dTheta, int evaluations) {}

  /** {@code x -> z(T)} with the exact log-det ({@code batch} rows of {@code d} values). */
  public Transport forward(double[] x, int batch) {
    return transport(x, batch, 0, endTime, null);
  }

  /** {@code z(T) -> x}; the log-det is that of the inverse map (minus the forward one). */
  public Transport inverse(double[] y, int batch) {
    return transport(y, batch, endTime, 0, null);
  }

  /**
   * {@code x -> z(T)} with Hutchinson's estimate of the log-det: {@code Tr(df/dz)} is replaced by
   * {@code e^T (df/dz) e} with one noise vector {@code e} per row held fixed over the solve (one
   * vector-Jacobian product per evaluation instead of {@code d} tangents). Unbiased because the
   * trajectory itself does not depend on the noise.
   *
   * @param noise {@code batch x d} values with {@code E[e e^T] = I} ({@link Hutchinson.Noise})
   */
  public Transport forwardEstimated(double[] x, int batch, double[] noise) {
    return transport(x, batch, 0, endTime, noise);
  }

  private Transport transport(double[] z0, int batch, double t0, double t1, double[] noise) {
    int d = dynamics.dim();
    checkLength(z0, batch);
    MlpDynamics.Weights w = dynamics.snapshot();
    int nz = batch * d;
    double[] y0 = Arrays.copyOf(z0, nz + batch);
    OdeSystem augmented = new OdeSystem() {
      final double[] zbar = noise == null ? null : new double[nz];

      @Override
      public int dimension() {
        return nz + batch;
      }

      @Override
      public void derivative(double t, double[] y, double[] dydt) {
        double[] trace;
        double[] f = new double[nz];
        if (noise == null) {
          trace = new double[batch];
          w.evaluate(t, y, batch, f, trace);
        } else {
          trace = Hutchinson.estimates(e -> {
            w.vjp(t, y, batch, e, null, zbar, null, f); // f(z, t) comes with the product
            return zbar;
          }, noise, batch);
        }
        System.arraycopy(f, 0, dydt, 0, nz);
        System.arraycopy(trace, 0, dydt, nz, batch);
      }
    };
    OdeSolver.Solution s = solver.solve(augmented, y0, t0, t1);
    return new Transport(Arrays.copyOf(s.y(), nz), Arrays.copyOfRange(s.y(), nz, nz + batch), s.evaluations());
  }

  /**
   * The adjoint method for a loss {@code L(y, logDet)} of the forward output: integrates
   * {@code (z, a, g)} from {@code T} to {@code 0} with {@code dz/dt = f},
   * {@code da/dt = -(a^T df/dz + c dTr/dz)} and {@code dg/dt = -(a^T df/dtheta + c dTr/dtheta)},
   * starting from {@code (y, dL/dy, 0)}, where {@code c = dL/dlogDet} (constant in time because
   * nothing depends on the log-det state).
   */
  public Adjoint adjoint(double[] y, double[] dy, double[] dLogDet, int batch) {
    int d = dynamics.dim();
    checkLength(y, batch);
    checkLength(dy, batch);
    if (dLogDet.length != batch) throw new IllegalArgumentException("dLogDet needs " + batch + " values");
    MlpDynamics.Weights w = dynamics.snapshot();
    int nz = batch * d, np = dynamics.parameterCount();
    double[] start = new double[2 * nz + np];
    System.arraycopy(y, 0, start, 0, nz);
    System.arraycopy(dy, 0, start, nz, nz);
    OdeSystem system = new OdeSystem() {
      final double[] z = new double[nz], a = new double[nz], f = new double[nz], zbar = new double[nz];

      @Override
      public int dimension() {
        return 2 * nz + np;
      }

      @Override
      public void derivative(double t, double[] state, double[] dstate) {
        System.arraycopy(state, 0, z, 0, nz);
        System.arraycopy(state, nz, a, 0, nz);
        double[] thetaBar = new double[np];
        w.vjp(t, z, batch, a, dLogDet, zbar, thetaBar, f);
        System.arraycopy(f, 0, dstate, 0, nz);
        for (int i = 0; i < nz; i++) dstate[nz + i] = -zbar[i];
        for (int i = 0; i < np; i++) dstate[2 * nz + i] = -thetaBar[i];
      }
    };
    OdeSolver.Solution s = solver.solve(system, start, endTime, 0);
    double[] out = s.y();
    return new Adjoint(Arrays.copyOf(out, nz), Arrays.copyOfRange(out, nz, 2 * nz),
        Arrays.copyOfRange(out, 2 * nz, 2 * nz + np), s.evaluations());
  }

  private void checkLength(double[] z, int batch) {
    if (z.length != batch * dynamics.dim()) {
      throw new IllegalArgumentException("expected " + batch + " rows of " + dynamics.dim() + " values, got "
          + z.length + " values");
    }
  }

  // ---- Bijection: tensors [batch, d, 1, 1] ----

  @Override
  public Flow forward(INDArray x) {
    Transport t = forward(doubles(x), batch(x));
    return new Flow(tensor(t.z(), x), vector(t.logDet(), x.dataType()));
  }

  @Override
  public Flow inverse(INDArray y) {
    Transport t = inverse(doubles(y), batch(y));
    return new Flow(tensor(t.z(), y), vector(t.logDet(), y.dataType()));
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    Adjoint a = adjoint(doubles(y), doubles(dy), doubles(dLogDet), batch(y));
    dynamics.accumulateGradient(a.dTheta());
    return new Grad(tensor(a.x(), y), tensor(a.dx(), y));
  }

  @Override
  public long[] outputShape(long[] inputShape) {
    boolean points = inputShape.length == 2 && inputShape[1] == dynamics.dim();
    boolean tensors = inputShape.length == 4 && inputShape[1] == dynamics.dim() && inputShape[2] == 1
        && inputShape[3] == 1;
    if (!points && !tensors) {
      throw new IllegalArgumentException("a CNF on " + dynamics.dim() + "-D points expects [batch, "
          + dynamics.dim() + ", 1, 1] or [batch, " + dynamics.dim() + "], got " + Arrays.toString(inputShape));
    }
    return inputShape.clone();
  }

  @Override
  public ParamTable params() {
    return dynamics.params();
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }

  private int batch(INDArray x) {
    outputShape(x.shape());
    return (int) x.size(0);
  }

  private static INDArray tensor(double[] values, INDArray like) {
    return Nd4j.create(values, like.shape(), DataType.DOUBLE).castTo(like.dataType());
  }

  private static INDArray vector(double[] values, DataType dt) {
    return Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE).castTo(dt);
  }
}
