package org.irevnet.stats;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * How sure a share of a finite set of images is: the 95% Wilson score interval of k of n, and the
 * exact McNemar test of two classifiers judged on the same images.
 *
 * <p>Both describe the sampling of the test images, given the trained models: an accuracy of
 * 0.84 on 1000 images says the model's accuracy on images drawn like them lies in [0.817, 0.861]
 * with 95% confidence; it says nothing of how much another training run (another seed) would
 * differ, which only more trainings measure.
 *
 * <p>Wilson rather than the normal ({@code p +- 1.96 sqrt(p(1-p)/n)}) interval: the normal one
 * collapses to a point at 0 and 1 (an attack that broke every image) and covers far less than 95%
 * near them; Wilson's stays inside [0, 1] and covers close to 95% down to small n (Brown, Cai and
 * DasGupta 2001, "Interval estimation for a binomial proportion").
 */
public final class Proportions {
  private Proportions() {}

  /**
   * A confidence interval, written in JSON as {@code [lo, hi]} (the order fixed: the reports'
   * mapper sorts properties by name, which would put hi first).
   */
  @JsonFormat(shape = JsonFormat.Shape.ARRAY)
  @JsonPropertyOrder({"lo", "hi"})
  public record Interval(double lo, double hi) {
    public boolean contains(double p) {
      return lo <= p && p <= hi;
    }
  }

  /** The two-sided 95% quantile of the standard normal, {@code Phi^-1(0.975)}. */
  public static final double Z95 = 1.959963984540054;

  /**
   * The 95% Wilson score interval of {@code k} successes in {@code n} trials:
   * the proportions p whose score test {@code |k - np| / sqrt(np(1-p)) <= 1.96} does not reject.
   * Exactly 0 at k = 0 and exactly 1 at k = n.
   *
   * @return null when {@code n == 0} (no images: no share, no interval; null in JSON)
   * @throws IllegalArgumentException when not {@code 0 <= k <= n}
   */
  public static Interval wilson95(long k, long n) {
    if (n < 0 || k < 0 || k > n) {
      throw new IllegalArgumentException("a share of " + k + " of " + n + ": need 0 <= k <= n");
    }
    if (n == 0) return null;
    double z2 = Z95 * Z95;
    double p = (double) k / n;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = Z95 / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    // The closed form's bounds at k = 0 and k = n are 0 and 1 exactly; in floating point they
    // came out a rounding error away (1e-17 below 0), which a reader's "lo == 0" would miss.
    double lo = k == 0 ? 0 : Math.max(0, centre - half);
    double hi = k == n ? 1 : Math.min(1, centre + half);
    return new Interval(lo, hi);
  }

  /**
   * {@link #wilson95(long, long)} of a share already computed as {@code k / n} (an accuracy of
   * {@code n} images), its k recovered; null when n is 0 or the share is not a number (no image).
   *
   * @throws IllegalArgumentException when {@code share} is no k/n of these n images
   */
  public static Interval wilson95OfShare(double share, long n) {
    if (n == 0 || Double.isNaN(share)) return null;
    long k = Math.round(share * n);
    // k / n rounds to the double nearest k / n; a share of other images (or of another n) does not.
    if (k < 0 || k > n || (double) k / n != share) {
      throw new IllegalArgumentException("a share of " + share + " is no count of " + n + " images");
    }
    return wilson95(k, n);
  }

  /**
   * The exact McNemar test: the two-sided p-value that two classifiers judged on the same images
   * are equally accurate, given the images only the first got right ({@code onlyFirst}) and those
   * only the second got right ({@code onlySecond}). Under that hypothesis each such discordant
   * image is either kind with probability 1/2, so the p-value is {@code min(1, 2 P(X <= min(b, c)))}
   * for X ~ Binomial(b + c, 1/2); the images both got right or both got wrong tell nothing about
   * the difference. 1 when there are no discordant images.
   */
  public static double mcnemarExact(long onlyFirst, long onlySecond) {
    if (onlyFirst < 0 || onlySecond < 0) {
      throw new IllegalArgumentException("discordant counts must be non-negative, got " + onlyFirst + " and " + onlySecond);
    }
    long m = onlyFirst + onlySecond, low = Math.min(onlyFirst, onlySecond);
    if (2 * low == m) return 1;
    // P(X <= low) = sum_{i <= low} C(m, i) / 2^m: the largest term is i = low (low < m / 2), so the
    // sum runs down from it in ratios t_{i-1} = t_i * i / (m - i + 1), scaled by that term, which is
    // computed in logarithms (2^m overflows at m = 1024).
    double logTop = logChoose(m, low) - m * Math.log(2);
    double sum = 0, t = 1;
    for (long i = low; i >= 0 && t > 1e-300; i--) {
      sum += t;
      t *= (double) i / (m - i + 1);
    }
    return Math.min(1, 2 * Math.exp(logTop + Math.log(sum)));
  }

  /** {@code log C(m, i)} as a sum of logarithms (exact enough: a relative error near i * 1e-16). */
  private static double logChoose(long m, long i) {
    double s = 0;
    for (long j = 1; j <= i; j++) s += Math.log((double) (m - i + j) / j);
    return s;
  }

  /**
   * Fisher's exact test: the two-sided p-value that two shares of different images, {@code k1} of
   * {@code n1} and {@code k2} of {@code n2}, come from one proportion. Given the successes in all,
   * {@code k1} is hypergeometric under that hypothesis; the p-value sums the probabilities of every
   * table no more probable than the one seen (R's {@code fisher.test}, with its relative allowance
   * of 1e-7 for ties). For shares of the same images, {@link #mcnemar} is the test: it uses the
   * pairing, which this one ignores.
   */
  public static double fisherExact(long k1, long n1, long k2, long n2) {
    if (n1 < 1 || n2 < 1 || k1 < 0 || k2 < 0 || k1 > n1 || k2 > n2) {
      throw new IllegalArgumentException("Fisher's exact test of " + k1 + " of " + n1 + " and " + k2 + " of " + n2
          + ": need 0 <= k <= n and n >= 1");
    }
    int n = Math.toIntExact(n1 + n2), k = Math.toIntExact(k1 + k2);
    double[] logFactorial = new double[n + 1];
    for (int i = 2; i <= n; i++) logFactorial[i] = logFactorial[i - 1] + Math.log(i);
    long lo = Math.max(0, k - n2), hi = Math.min(k, n1);
    double seen = logHypergeometric(k1, n1, n2, k, logFactorial), p = 0;
    for (long x = lo; x <= hi; x++) {
      double logP = logHypergeometric(x, n1, n2, k, logFactorial);
      if (logP <= seen + 1e-7) p += Math.exp(logP);
    }
    return Math.min(1, p);
  }

  /** log P(X = x) for X the successes among n1 of n1 + n2 items of which k are successes. */
  private static double logHypergeometric(long x, long n1, long n2, int k, double[] lf) {
    return lf[(int) n1] - lf[(int) x] - lf[(int) (n1 - x)] + lf[(int) n2] - lf[(int) (k - x)] - lf[(int) (n2 - k + x)]
        - (lf[(int) (n1 + n2)] - lf[k] - lf[(int) (n1 + n2 - k)]);
  }

  /**
   * Two classifiers on the same images: how many images each alone got right and McNemar's
   * exact p-value that they are equally accurate.
   *
   * @param images the images both were judged on
   * @param onlyFirst images the first got right and the second wrong ({@code onlySecond} the reverse)
   */
  public record Paired(int images, int onlyFirst, int onlySecond, double pValue) {}

  /**
   * {@link #mcnemarExact} of per-image correctness of two classifiers on the same images, in the
   * same order.
   */
  public static Paired mcnemar(boolean[] firstRight, boolean[] secondRight) {
    if (firstRight.length != secondRight.length) {
      throw new IllegalArgumentException("paired test: " + firstRight.length + " and " + secondRight.length
          + " images; the two must be judged on the same images");
    }
    int onlyFirst = 0, onlySecond = 0;
    for (int i = 0; i < firstRight.length; i++) {
      if (firstRight[i] && !secondRight[i]) onlyFirst++;
      if (secondRight[i] && !firstRight[i]) onlySecond++;
    }
    return new Paired(firstRight.length, onlyFirst, onlySecond, mcnemarExact(onlyFirst, onlySecond));
  }
}
