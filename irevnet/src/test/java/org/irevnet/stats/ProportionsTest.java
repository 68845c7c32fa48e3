package org.irevnet.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProportionsTest {
  private static final double Z2 = Proportions.Z95 * Proportions.Z95;

  /** Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (four decimals). */
  @Test
  void wilsonIntervalMatchesThePublishedExamples() {
    double[][] published = {{81, 263, 0.2553, 0.3662}, {15, 148, 0.0624, 0.1605}, {0, 20, 0, 0.1611}, {1, 29, 0.0061, 0.1718}};
    for (double[] row : published) {
      Proportions.Interval ci = Proportions.wilson95((long) row[0], (long) row[1]);
      assertThat(ci.lo()).as("%s of %s, lower", row[0], row[1]).isCloseTo(row[2], within(5e-5));
      assertThat(ci.hi()).as("%s of %s, upper", row[0], row[1]).isCloseTo(row[3], within(5e-5));
    }
  }

  /** At k = 0 the interval is [0, z^2 / (n + z^2)], at k = n [n / (n + z^2), 1]: by hand from the score equation. */
  @Test
  void boundsAreExactAtNoneAndAll() {
    for (long n = 1; n <= 2000; n++) {
      Proportions.Interval none = Proportions.wilson95(0, n), all = Proportions.wilson95(n, n);
      assertThat(none.lo()).as("0 of %d", n).isEqualTo(0.0);
      assertThat(none.hi()).as("0 of %d", n).isCloseTo(Z2 / (n + Z2), within(1e-15));
      assertThat(all.hi()).as("%d of %d", n, n).isEqualTo(1.0);
      assertThat(all.lo()).as("%d of %d", n, n).isCloseTo(n / (n + Z2), within(1e-15));
    }
  }

  /**
   * The interval is the set of p the score test accepts, |k - np| <= z sqrt(np(1 - p)): each bound,
   * found independently by bisection on that statistic, is where it equals z.
   */
  @Test
  void boundsAreWhereTheScoreTestRejects() {
    for (long n : new long[] {1, 2, 3, 7, 50, 263, 1000, 60000}) {
      for (long k = 0; k <= n; k += Math.max(1, n / 97)) {
        Proportions.Interval ci = Proportions.wilson95(k, n);
        double p = (double) k / n;
        if (k > 0) assertThat(ci.lo()).as("%d of %d, lower", k, n).isCloseTo(scoreRoot(k, n, 0, p), within(1e-12));
        if (k < n) assertThat(ci.hi()).as("%d of %d, upper", k, n).isCloseTo(scoreRoot(k, n, p, 1), within(1e-12));
        assertThat(ci.lo()).isLessThanOrEqualTo(p);
        assertThat(ci.hi()).isGreaterThanOrEqualTo(p);
      }
    }
  }

  /** The p in [a, b] where the score statistic crosses z (outside rejected, inside accepted). */
  private static double scoreRoot(long k, long n, double a, double b) {
    boolean rejectAtA = score(k, n, a) > Proportions.Z95;
    for (int i = 0; i < 200; i++) {
      double mid = (a + b) / 2;
      if ((score(k, n, mid) > Proportions.Z95) == rejectAtA) a = mid;
      else b = mid;
    }
    return (a + b) / 2;
  }

  private static double score(long k, long n, double p) {
    return Math.abs(k - n * p) / Math.sqrt(n * p * (1 - p));
  }

  /**
   * Its coverage, summed exactly over Binomial(n, p) in float64: near 95% on average over p in
   * [0.05, 0.95], never far below (Brown, Cai and DasGupta 2001: it oscillates; numpy reads
   * min / mean 0.930 / 0.9515 at n = 30, 0.933 / 0.9497 at 100, 0.946 / 0.9494 at 1000).
   */
  @Test
  void coverageIsNearNinetyFivePercent() {
    for (int n : new int[] {30, 100, 1000}) {
      double min = 1, sum = 0;
      int points = 0;
      for (int j = 0; j <= 90; j++) {
        double p = 0.05 + 0.01 * j, covered = 0;
        for (int k = 0; k <= n; k++) {
          Proportions.Interval ci = Proportions.wilson95(k, n);
          if (ci.contains(p)) covered += Math.exp(logBinomialPmf(k, n, p));
        }
        min = Math.min(min, covered);
        sum += covered;
        points++;
      }
      assertThat(sum / points).as("mean coverage at n = %d", n).isBetween(0.945, 0.955);
      assertThat(min).as("least coverage at n = %d", n).isGreaterThan(0.92);
    }
  }

  /** Seeded draws of 1000 images at the quickstart's accuracies: the interval holds the truth about 95% of the time. */
  @Test
  void coverageOverSeededDrawsIsNearNinetyFivePercent() {
    SplittableRandom random = new SplittableRandom(20261206);
    for (double p : new double[] {0.722, 0.865, 0.99}) {
      int draws = 4000, covered = 0;
      for (int d = 0; d < draws; d++) {
        int k = 0;
        for (int i = 0; i < 1000; i++) if (random.nextDouble() < p) k++;
        Proportions.Interval ci = Proportions.wilson95(k, 1000);
        if (ci.contains(p)) covered++;
      }
      // 4000 draws: a standard error of 0.0034 about the interval's own coverage at these p,
      // summed exactly (numpy): 0.948, 0.954 and 0.964.
      assertThat((double) covered / draws).as("coverage at p = %s", p).isBetween(0.935, 0.975);
    }
  }

  private static double logBinomialPmf(int k, int n, double p) {
    double logChoose = 0;
    for (int j = 1; j <= k; j++) logChoose += Math.log((double) (n - k + j) / j);
    return logChoose + (k == 0 ? 0 : k * Math.log(p)) + (k == n ? 0 : (n - k) * Math.log1p(-p));
  }

  /** [lo, hi] in JSON, also through a mapper that sorts properties by name (the reports' does: hi came first). */
  @Test
  void anIntervalIsWrittenAsLowThenHigh() throws Exception {
    var sorting = com.fasterxml.jackson.databind.json.JsonMapper.builder()
        .enable(com.fasterxml.jackson.databind.MapperFeature.SORT_PROPERTIES_ALPHABETICALLY).build();
    assertThat(sorting.writeValueAsString(new Proportions.Interval(0.25, 0.75))).isEqualTo("[0.25,0.75]");
  }

  /** An interval holds its bounds: the interval of 0 of n holds a proportion of 0, that of n of n one of 1. */
  @Test
  void anIntervalContainsItsBounds() {
    Proportions.Interval none = Proportions.wilson95(0, 20), all = Proportions.wilson95(20, 20);
    assertThat(none.contains(0.0)).isTrue();
    assertThat(all.contains(1.0)).isTrue();
    assertThat(none.contains(none.hi())).isTrue();
    assertThat(none.contains(Math.nextUp(none.hi()))).isFalse();
    assertThat(all.contains(Math.nextDown(all.lo()))).isFalse();
  }

  @Test
  void noImagesHaveNoInterval() {
    assertThat(Proportions.wilson95(0, 0)).isNull();
    assertThat(Proportions.wilson95OfShare(Double.NaN, 0)).isNull();
    assertThat(Proportions.wilson95OfShare(Double.NaN, 10)).as("a class without images, NaN").isNull();
    assertThatThrownBy(() -> Proportions.wilson95(3, 2)).hasMessage("a share of 3 of 2: need 0 <= k <= n");
    assertThatThrownBy(() -> Proportions.wilson95(-1, 2)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aShareIsTheIntervalOfItsCount() {
    assertThat(Proportions.wilson95OfShare(0.842, 1000)).isEqualTo(Proportions.wilson95(842, 1000));
    assertThat(Proportions.wilson95OfShare(2.0 / 3, 3)).isEqualTo(Proportions.wilson95(2, 3));
    assertThat(Proportions.wilson95OfShare(1.0, 7)).isEqualTo(Proportions.wilson95(7, 7));
    // An attack that broke every image: accuracy 0, the interval [0, z^2 / (n + z^2)] (by hand,
    // 3.8415 / 13.8415 = 0.27753 at n = 10), not a refusal of the share.
    assertThat(Proportions.wilson95OfShare(0.0, 10)).isEqualTo(new Proportions.Interval(0, Z2 / (10 + Z2)));
    assertThat(Proportions.wilson95OfShare(0.0, 10).hi()).isCloseTo(0.27753, within(1e-5));
    assertThatThrownBy(() -> Proportions.wilson95OfShare(0.3333, 10)).hasMessage("a share of 0.3333 is no count of 10 images");
    // Each refusal alone (pitest's STRONGER mutators removed one check at a time), named as a share.
    assertThatThrownBy(() -> Proportions.wilson95OfShare(1.5, 10)).hasMessage("a share of 1.5 is no count of 10 images");
    assertThatThrownBy(() -> Proportions.wilson95OfShare(-0.1, 10)).hasMessage("a share of -0.1 is no count of 10 images");
    assertThat(Proportions.wilson95OfShare(0.0, 0)).as("no images, a share of 0 of them").isNull();
  }

  /** By hand: 0 and 5 discordant images, 2 P(X <= 0) = 2 / 32; 1 and 9, 2 (1 + 10) / 1024. */
  @Test
  void mcnemarByHand() {
    assertThat(Proportions.mcnemarExact(0, 5)).isEqualTo(2.0 / 32);
    assertThat(Proportions.mcnemarExact(9, 1)).isCloseTo(22.0 / 1024, within(1e-16));
    assertThat(Proportions.mcnemarExact(0, 0)).as("no discordant image").isEqualTo(1.0);
    assertThat(Proportions.mcnemarExact(7, 7)).isEqualTo(1.0);
    assertThat(Proportions.mcnemarExact(3, 4)).as("2 P(X <= 3) of 7 is above 1").isEqualTo(1.0);
    assertThat(Proportions.mcnemarExact(1, 0)).isEqualTo(1.0);
    assertThatThrownBy(() -> Proportions.mcnemarExact(-1, 3)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Proportions.mcnemarExact(3, -1)).hasMessage("discordant counts must be non-negative, got 3 and -1");
  }

  /** Against the binomial sum in exact integers, for every split of up to 80 discordant images and a few large ones. */
  @Test
  void mcnemarMatchesTheExactBinomialSum() {
    for (int b = 0; b <= 80; b++) {
      for (int c = 0; b + c <= 80; c++) {
        assertThat(Proportions.mcnemarExact(b, c)).as("%d and %d", b, c).isCloseTo(exact(b, c), within(1e-13));
        assertThat(Proportions.mcnemarExact(b, c)).isEqualTo(Proportions.mcnemarExact(c, b));
      }
    }
    for (int[] bc : new int[][] {{100, 143}, {470, 530}, {4000, 4200}, {30, 2000}, {2900, 3100}}) {
      double exact = exact(bc[0], bc[1]);
      assertThat(Proportions.mcnemarExact(bc[0], bc[1])).as("%d and %d", bc[0], bc[1])
          .isCloseTo(exact, within(1e-10 * exact + 1e-300));
    }
  }

  /** min(1, 2 sum_{i <= min} C(m, i) / 2^m) in BigInteger arithmetic. */
  private static double exact(int b, int c) {
    int m = b + c;
    BigInteger sum = BigInteger.ZERO, choose = BigInteger.ONE;
    for (int i = 0; i <= Math.min(b, c); i++) {
      sum = sum.add(choose);
      choose = choose.multiply(BigInteger.valueOf(m - i)).divide(BigInteger.valueOf(i + 1));
    }
    BigDecimal p = new BigDecimal(sum.shiftLeft(1)).divide(new BigDecimal(BigInteger.ONE.shiftLeft(m)), MathContext.DECIMAL128);
    return Math.min(1, p.doubleValue());
  }

  /**
   * Under the null (two equally accurate models: each discordant image either way with 1/2), the
   * exact test rejects at most as often as its level, and not far less (it is conservative:
   * numpy's simulation of the same setting read 0.038 at 5%, 0.084 at 10%).
   */
  @Test
  void mcnemarPValuesUnderTheNullAreUniformOrConservative() {
    SplittableRandom random = new SplittableRandom(7);
    double[] p = new double[20000];
    for (int t = 0; t < p.length; t++) {
      boolean[] first = new boolean[1000], second = new boolean[1000];
      for (int i = 0; i < 1000; i++) {
        first[i] = random.nextDouble() < 0.8;
        // Discordant with probability 0.1, the right one either model with one half.
        second[i] = random.nextDouble() < 0.1 ? !first[i] : first[i];
        if (first[i] == second[i]) continue;
        boolean firstRight = random.nextBoolean();
        first[i] = firstRight;
        second[i] = !firstRight;
      }
      p[t] = Proportions.mcnemar(first, second).pValue();
    }
    assertRejectsAtMostItsLevel(p, 0.6);
  }

  /**
   * Of p-values under the null: the share at most each level is no more than the level (up to
   * three standard errors of the simulation) and, from 5% up, more than {@code least} of it.
   */
  private static void assertRejectsAtMostItsLevel(double[] p, double least) {
    for (double level : new double[] {0.01, 0.05, 0.1, 0.2, 0.5}) {
      double rate = java.util.Arrays.stream(p).filter(v -> v <= level).count() / (double) p.length;
      double sd = Math.sqrt(level * (1 - level) / p.length);
      assertThat(rate).as("rejected at %s", level).isLessThanOrEqualTo(level + 3 * sd);
      if (level >= 0.05) assertThat(rate).as("rejected at %s", level).isGreaterThan(least * level);
    }
  }

  /**
   * By hand: 3 of 4 against 1 of 4 (the tables' probabilities are 1, 16, 36, 16, 1 of 70; those no
   * more probable than 16 sum to 34 / 70, R's fisher.test 0.4857); 10 of 10 against 0 of 10, 2 / C(20, 10).
   */
  @Test
  void fisherByHand() {
    assertThat(Proportions.fisherExact(3, 4, 1, 4)).isCloseTo(34.0 / 70, within(1e-14));
    assertThat(Proportions.fisherExact(10, 10, 0, 10)).isCloseTo(2.0 / 184756, within(1e-18));
    assertThat(Proportions.fisherExact(5, 10, 5, 10)).isEqualTo(1.0);
    assertThatThrownBy(() -> Proportions.fisherExact(3, 2, 1, 4))
        .hasMessage("Fisher's exact test of 3 of 2 and 1 of 4: need 0 <= k <= n and n >= 1");
    assertThatThrownBy(() -> Proportions.fisherExact(0, 0, 1, 4)).isInstanceOf(IllegalArgumentException.class);
    // Each check alone: the second set empty (a damaged probe file's test count of 0), negative counts, too many.
    for (long[] t : new long[][] {{1, 4, 0, 0}, {-1, 4, 1, 4}, {1, 4, -1, 4}, {1, 4, 5, 4}}) {
      assertThatThrownBy(() -> Proportions.fisherExact(t[0], t[1], t[2], t[3])).as(java.util.Arrays.toString(t))
          .hasMessageEndingWith(": need 0 <= k <= n and n >= 1");
    }
  }

  /** Against the hypergeometric sums in exact integers, for every table of up to 14 and 11 images and two large ones. */
  @Test
  void fisherMatchesTheExactHypergeometricSum() {
    for (int n1 = 1; n1 <= 14; n1++) {
      for (int n2 = 1; n2 <= 11; n2++) {
        for (int k1 = 0; k1 <= n1; k1++) {
          for (int k2 = 0; k2 <= n2; k2++) {
            assertThat(Proportions.fisherExact(k1, n1, k2, n2)).as("%d of %d and %d of %d", k1, n1, k2, n2)
                .isCloseTo(exactFisher(k1, n1, k2, n2), within(1e-12));
          }
        }
      }
    }
    for (int[] t : new int[][] {{865, 1000, 722, 1000}, {120, 256, 131, 256}}) {
      double exact = exactFisher(t[0], t[1], t[2], t[3]);
      assertThat(Proportions.fisherExact(t[0], t[1], t[2], t[3])).isCloseTo(exact, within(1e-9 * exact));
    }
  }

  /** The sum of C(n1, x) C(n2, k - x) over the tables no more probable than the one seen, over C(n, k), in BigInteger. */
  private static double exactFisher(int k1, int n1, int k2, int n2) {
    int k = k1 + k2;
    BigInteger seen = choose(n1, k1).multiply(choose(n2, k2)), sum = BigInteger.ZERO;
    for (int x = Math.max(0, k - n2); x <= Math.min(k, n1); x++) {
      BigInteger ways = choose(n1, x).multiply(choose(n2, k - x));
      if (ways.compareTo(seen) <= 0) sum = sum.add(ways);
    }
    return Math.min(1, new BigDecimal(sum).divide(new BigDecimal(choose(n1 + n2, k)), MathContext.DECIMAL128).doubleValue());
  }

  private static BigInteger choose(int n, int k) {
    BigInteger c = BigInteger.ONE;
    for (int i = 0; i < k; i++) c = c.multiply(BigInteger.valueOf(n - i)).divide(BigInteger.valueOf(i + 1));
    return c;
  }

  /** Under the null (two independent sets of 200 images, one proportion 0.8), it rejects at most as often as its level. */
  @Test
  void fisherPValuesUnderTheNullAreUniformOrConservative() {
    SplittableRandom random = new SplittableRandom(11);
    double[] p = new double[10000];
    for (int t = 0; t < p.length; t++) {
      int k1 = 0, k2 = 0;
      for (int i = 0; i < 200; i++) {
        if (random.nextDouble() < 0.8) k1++;
        if (random.nextDouble() < 0.8) k2++;
      }
      p[t] = Proportions.fisherExact(k1, 200, k2, 200);
    }
    assertRejectsAtMostItsLevel(p, 0.5);
  }

  @Test
  void pairedCountsTheImagesEachAloneGotRight() {
    boolean[] first = {true, true, false, false, true, true};
    boolean[] second = {true, false, true, false, false, true};
    Proportions.Paired p = Proportions.mcnemar(first, second);
    assertThat(p.images()).isEqualTo(6);
    assertThat(p.onlyFirst()).isEqualTo(2);
    assertThat(p.onlySecond()).isEqualTo(1);
    assertThat(p.pValue()).isEqualTo(1.0);
    boolean[] none = new boolean[20], all = new boolean[20];
    java.util.Arrays.fill(all, true);
    assertThat(Proportions.mcnemar(all, none).pValue()).isEqualTo(2.0 / (1 << 20));
    assertThatThrownBy(() -> Proportions.mcnemar(first, new boolean[5]))
        .hasMessage("paired test: 6 and 5 images; the two must be judged on the same images");
  }
}
