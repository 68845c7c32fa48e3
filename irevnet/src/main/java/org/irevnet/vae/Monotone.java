package org.irevnet.vae;

import java.util.function.DoubleUnaryOperator;

/** Root of a strictly increasing scalar function on a bracket: Newton steps kept inside by bisection. */
final class Monotone {
  private Monotone() {}

  /**
   * The {@code a} in {@code [lo, hi]} with {@code f(a) = target}, for {@code f} strictly increasing
   * with derivative {@code df} and {@code f(lo) <= target <= f(hi)}; to float64 round-off.
   */
  static double solve(DoubleUnaryOperator f, DoubleUnaryOperator df, double target, double lo, double hi) {
    double a = 0.5 * (lo + hi);
    for (int it = 0; it < 200; it++) {
      double r = f.applyAsDouble(a) - target;
      if (r == 0) return a;
      if (r > 0) hi = a; else lo = a;
      double next = a - r / df.applyAsDouble(a);
      // A Newton step that leaves the bracket (flat derivative) falls back to bisection.
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (Math.abs(next - a) <= 1e-16 * Math.max(1, Math.abs(a)) || hi - lo <= 1e-300) return next;
      a = next;
    }
    return a;
  }
}
