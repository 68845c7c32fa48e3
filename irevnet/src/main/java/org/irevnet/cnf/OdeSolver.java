package org.irevnet.cnf;

/**
 * Integrates an {@link OdeSystem} from {@code t0} to {@code t1}; {@code t1 < t0} integrates
 * backwards in time (how a continuous flow is inverted and how its adjoint is solved).
 */
public interface OdeSolver {

  /** The state at {@code t1} and what the solve cost. {@code y0} is not modified. */
  Solution solve(OdeSystem system, double[] y0, double t0, double t1);

  /** Short description for logs and result files, e.g. {@code rk4(steps=8)}. */
  String describe();

  /**
   * The end state, the number of function evaluations (calls of {@link OdeSystem#derivative})
   * and the number of accepted and rejected steps.
   */
  record Solution(double[] y, int evaluations, int acceptedSteps, int rejectedSteps) {}

  /**
   * Refuses what no solver can integrate, naming {@code solver}: a time that is not finite (dopri5
   * returned its start for a NaN time, every comparison false; RK4 a NaN state) and a start whose
   * length is not the system's (values past it came back untouched).
   */
  static void checkStart(String solver, OdeSystem system, double[] y0, double t0, double t1) {
    if (!Double.isFinite(t0) || !Double.isFinite(t1)) {
      throw new IllegalArgumentException(solver + ": times must be finite, got t0=" + t0 + " and t1=" + t1);
    }
    if (y0.length != system.dimension()) {
      throw new IllegalArgumentException(solver + ": y0 has " + y0.length + " values for a system of dimension "
          + system.dimension());
    }
  }
}
