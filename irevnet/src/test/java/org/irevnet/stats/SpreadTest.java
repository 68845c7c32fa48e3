package org.irevnet.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SpreadTest {

  /** numpy (float64): {@code x.mean()}, {@code x.std(ddof=1)} of the same values. */
  @Test
  void matchesNumpysSampleStandardDeviation() {
    Spread s = Spread.of(0.842, 0.852, 0.845, 0.838, 0.835);
    assertThat(s.n()).isEqualTo(5);
    assertThat(s.mean()).isCloseTo(0.8423999999999999, within(1e-15));
    assertThat(s.sd()).isCloseTo(0.006580273550544846, within(1e-15));
    assertThat(s.min()).isEqualTo(0.835);
    assertThat(s.max()).isEqualTo(0.852);
  }

  /**
   * The sample variance is half the mean squared difference of all ordered pairs of distinct values,
   * {@code sum_{i<j} (x_i - x_j)^2 / (n (n - 1) / 2) / 2}: no mean in it, computed here by brute force.
   * The population variance (divided by n) is smaller by (n - 1) / n and fails this.
   */
  @Test
  void equalsThePairwiseFormulaByBruteForce() {
    SplittableRandom rng = new SplittableRandom(7);
    for (int n = 2; n <= 9; n++) {
      double[] x = new double[n];
      for (int i = 0; i < n; i++) x[i] = 0.6 + 0.3 * rng.nextDouble();
      double pairs = 0;
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) pairs += (x[i] - x[j]) * (x[i] - x[j]);
      }
      double variance = pairs / (n * (n - 1.0) / 2) / 2;
      assertThat(Spread.of(x).sd()).as("n = %d", n).isCloseTo(Math.sqrt(variance), within(1e-14));
    }
  }

  /** numpy gives 0.15275249455030648 for these; a one-pass sum of squares loses most digits. */
  @Test
  void keepsItsDigitsForValuesCloseTogether() {
    assertThat(Spread.of(1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.4).sd()).isCloseTo(0.15275249455030648, within(1e-6));
  }

  /** scipy.stats.t.ppf(0.975, df), float64. */
  @Test
  void studentsQuantileMatchesScipy() {
    int[] df = {1, 2, 3, 4, 5, 9, 30, 100};
    double[] scipy = {12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
        2.5705818356363146, 2.262157162798205, 2.0422724563012378, 1.9839715185235518};
    for (int i = 0; i < df.length; i++) {
      assertThat(Spread.t975(df[i])).as("df %d", df[i]).isCloseTo(scipy[i], within(1e-12 * scipy[i]));
    }
    // Both parities of the closed form away from the quantile: scipy's t.cdf(t) - t.cdf(-t).
    assertThat(Spread.tWithin(1.3, 4)).isCloseTo(0.7365484035287759, within(1e-15));
    assertThat(Spread.tWithin(0.7, 7)).isCloseTo(0.4934824478044, within(1e-14));
    // Without the check, 0 degrees of freedom gave P = 1 at every t > 0, and so a quantile of 0.
    assertThatThrownBy(() -> Spread.tWithin(1, 0)).hasMessage("degrees of freedom must be at least 1, got 0");
  }

  /** mean +- t(0.975, n-1) sd / sqrt(n), with scipy's quantile for 4 degrees of freedom. */
  @Test
  void meanIntervalIsStudentsOfTheSampleSd() {
    Spread s = Spread.of(0.842, 0.852, 0.845, 0.838, 0.835);
    double half = 2.7764451051977934 * 0.006580273550544846 / Math.sqrt(5);
    assertThat(s.meanCi95().lo()).isCloseTo(0.8423999999999999 - half, within(1e-14));
    assertThat(s.meanCi95().hi()).isCloseTo(0.8423999999999999 + half, within(1e-14));
    assertThat(Spread.of(0.5).meanCi95()).isNull();
  }

  /**
   * An accuracy's interval stays within 0 to 1. scipy: mean +- t.ppf(0.975, 2) * std(ddof=1) / sqrt(3)
   * of 1.0, 0.98, 1.0 is [0.9646489818016701, 1.0220176848649964], of 0.0, 0.02, 0.0
   * [-0.022017684864996414, 0.035351018198329746]: each clipped at its bound, the other end kept.
   */
  @Test
  void meanIntervalWithinBoundsIsClippedAtThem() {
    Proportions.Interval high = Spread.of(1.0, 0.98, 1.0).meanCi95Within(0, 1);
    assertThat(high.lo()).isCloseTo(0.9646489818016701, within(1e-14));
    assertThat(high.hi()).isEqualTo(1.0);
    Proportions.Interval low = Spread.of(0.0, 0.02, 0.0).meanCi95Within(0, 1);
    assertThat(low.lo()).isEqualTo(0.0);
    assertThat(low.hi()).isCloseTo(0.035351018198329746, within(1e-14));
    assertThat(Spread.of(1.0, 0.98, 1.0).meanCi95().hi()).as("unclipped").isCloseTo(1.0220176848649964, within(1e-14));
    assertThat(Spread.of(0.5).meanCi95Within(0, 1)).isNull();
  }

  /**
   * Two values, the fewest `seeds` takes, have an interval. By hand: sd / sqrt(2) = |x1 - x2| / 2 =
   * 0.02, and one degree of freedom is Cauchy's law, P(|T| <= t) = 2 atan(t) / pi, so its 97.5%
   * quantile is tan(0.475 pi) = 12.7062 (Student's table: 12.706).
   */
  @Test
  void twoValuesHaveCauchysInterval() {
    Spread s = Spread.of(0.80, 0.84);
    double half = 0.02 * Math.tan(0.475 * Math.PI);
    assertThat(s.meanCi95().lo()).isCloseTo(0.82 - half, within(1e-13));
    assertThat(s.meanCi95().hi()).isCloseTo(0.82 + half, within(1e-13));
  }

  @Test
  void oneValueHasNoSpreadAndNoValueIsRefused() {
    Spread one = Spread.of(0.5);
    assertThat(one.mean()).isEqualTo(0.5);
    assertThat(one.sd()).isNaN();
    assertThat(one.min()).isEqualTo(0.5);
    assertThat(one.max()).isEqualTo(0.5);
    assertThatThrownBy(Spread::of).hasMessage("no values: a spread needs at least one");
    assertThatThrownBy(() -> Spread.of(0.5, Double.NaN)).hasMessage("a value is NaN, not a finite number");
  }
}
