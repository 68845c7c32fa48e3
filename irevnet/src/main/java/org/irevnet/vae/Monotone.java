package org.irevnet.vae;

import java.util.function.DoubleUnaryOperator;

/**
 * Root of a strictly increasing scalar function on a bracket: Newton steps, replaced by bisection
 * when they leave the bracket or stop shrinking (as in Numerical Recipes' {@code rtsafe}).
 */
final class Monotone {
  private Monotone() {}

  /**
   * The {@code a} in {@code [lo, hi]} with {@code f(a) = target}, for {@code f} strictly increasing
   * with derivative {@code df} and {@code f(lo) <= target <= f(hi)}; to float64 round-off.
   */
  static double solve(DoubleUnaryOperator f, DoubleUnaryOperator df, double target, double lo, double hi) {
    double a = 0.5 * (lo + hi);
    double before = hi - lo, last = before;
    for (int it = 0; it < 200; it++) {
      double r = f.applyAsDouble(a) - target;
      if (r == 0) return a;
      if (r > 0) hi = a; else lo = a;
      double next = a - r / df.applyAsDouble(a);
      // A Newton step that leaves the bracket (flat derivative) falls back to bisection, and so
      // does one longer than half the step before the last: on an S-shaped f (a + c tanh(a + b)
      // with c > 5) Newton can jump back and forth inside the bracket without closing in.
      if (!(next > lo && next < hi) || Math.abs(next - a) > 0.5 * Math.abs(before)) next = 0.5 * (lo + hi);
      before = last;
      last = next - a;
      if (Math.abs(next - a) <= 1e-16 * Math.max(1, Math.abs(a)) || hi - lo <= 1e-300) return next;
      a = next;
    }
    return a;
  }
}
