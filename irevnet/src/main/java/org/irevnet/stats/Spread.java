package org.irevnet.stats;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * How far a number moves between repetitions of one experiment (trainings that differ only in their
 * seed): the mean, the sample standard deviation and the range of its values.
 *
 * <p>The sample standard deviation divides by {@code n - 1}: the mean is estimated from the same
 * few values, and dividing by {@code n} would understate the spread by a factor of {@code
 * sqrt((n-1)/n)}, 0.89 at five seeds.
 *
 * <p>{@link #meanCi95} is Student's 95% interval of the mean, {@code mean +- t sd / sqrt(n)} with
 * {@code n - 1} degrees of freedom: for the difference of two models trained with the same seed
 * (CE against iCE), whether it is beyond the spread of the trainings, if the seeds' values are
 * roughly normal. With five seeds t is 2.78, not the normal 1.96.
 *
 * @param sd the sample standard deviation; NaN for a single value, which says nothing of the spread
 */
public record Spread(int n, double mean, double sd, double min, double max) {

  /** The 95% interval of the mean (Student's t, {@code n - 1} degrees of freedom); null for one value. */
  public Proportions.Interval meanCi95() {
    if (n < 2) return null;
    double half = t975(n - 1) * sd / Math.sqrt(n);
    return new Proportions.Interval(mean - half, mean + half);
  }

  /**
   * {@link #meanCi95} clipped to {@code [lowest, highest]}, the values the quantity can take (an
   * accuracy: 0 to 1): Student's interval assumes normal values, and at few seeds with a mean near
   * a bound it reaches past it (0.993 over three seeds: up to 1.022). Null for one value.
   */
  public Proportions.Interval meanCi95Within(double lowest, double highest) {
    Proportions.Interval ci = meanCi95();
    return ci == null ? null : new Proportions.Interval(Math.max(lowest, ci.lo()), Math.min(highest, ci.hi()));
  }

  /** The 97.5% quantile of Student's t with {@code df} degrees of freedom. */
  static double t975(int df) {
    return student(df).inverseCumulativeProbability(0.975);
  }

  /** {@code P(|T| <= t)} for Student's T with {@code df} degrees of freedom. */
  static double tWithin(double t, int df) {
    return 2 * student(df).cumulativeProbability(t) - 1;
  }

  // Solved to 1e-15, not commons-math's default 1e-9: the quantile to double precision, as scipy gives it.
  private static TDistribution student(int df) {
    if (df < 1) throw new IllegalArgumentException("degrees of freedom must be at least 1, got " + df);
    return new TDistribution(null, df, 1e-15);
  }

  /**
   * The spread of {@code values}.
   *
   * @throws IllegalArgumentException for no values, or a value that is not finite
   */
  public static Spread of(double... values) {
    if (values.length == 0) throw new IllegalArgumentException("no values: a spread needs at least one");
    double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (!Double.isFinite(v)) throw new IllegalArgumentException("a value is " + v + ", not a finite number");
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    double mean = sum / values.length;
    // Two passes: the one-pass sum of squares minus n mean^2 cancels catastrophically for values
    // close together, as accuracies of one recipe are.
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    double sd = values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : Double.NaN;
    return new Spread(values.length, mean, sd, min, max);
  }
}
