package org.irevnet.cnf;

import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * Hutchinson's trace estimator {@code Tr(A) = E[e^T A e]} for noise with {@code E[e e^T] = I},
 * computed from one vector-Jacobian product {@code e^T A} (FFJORD's estimator of the log-density
 * change, cost O(d) instead of O(d^2)).
 */
public final class Hutchinson {
  private Hutchinson() {}

  /** Noise distributions with identity second moment. */
  public enum Noise {
    /** Standard normal entries. */
    GAUSSIAN,
    /** Entries +1 or -1 with probability 1/2 (lower variance: the diagonal contributes none). */
    RADEMACHER;

    /** {@code n} independent draws. */
    public double[] sample(Random rng, int n) {
      double[] e = new double[n];
      for (int i = 0; i < n; i++) e[i] = this == GAUSSIAN ? rng.nextGaussian() : (rng.nextBoolean() ? 1 : -1);
      return e;
    }
  }

  /**
   * One estimate {@code e^T A e}.
   *
   * @param vectorJacobian {@code v -> v^T A} (one vector-Jacobian product)
   */
  public static double estimate(UnaryOperator<double[]> vectorJacobian, double[] noise) {
    double[] vA = vectorJacobian.apply(noise);
    double s = 0;
    for (int i = 0; i < noise.length; i++) s += vA[i] * noise[i];
    return s;
  }
}
