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
    return estimates(vectorJacobian, noise, 1)[0];
  }

  /**
   * One estimate {@code e_b^T A_b e_b} per row for a block-diagonal {@code A} (rows that do not
   * interact, such as the points of a batch), all from one vector-Jacobian product.
   *
   * @param noise {@code rows} rows of equal length, one noise vector each
   */
  public static double[] estimates(UnaryOperator<double[]> vectorJacobian, double[] noise, int rows) {
    if (rows < 1 || noise.length % rows != 0) {
      throw new IllegalArgumentException(noise.length + " noise values do not split into " + rows + " rows");
    }
    int d = noise.length / rows;
    double[] vA = vectorJacobian.apply(noise);
    double[] out = new double[rows];
    for (int b = 0; b < rows; b++) {
      double s = 0;
      for (int i = 0; i < d; i++) s += vA[b * d + i] * noise[b * d + i];
      out[b] = s;
    }
    return out;
  }
}
