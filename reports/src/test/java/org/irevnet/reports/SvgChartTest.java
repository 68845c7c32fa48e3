package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The chart geometry, worked out by hand: the plot area is x in [62, 426] and y in [10, 210] (y
 * grows downwards), so a value at fraction t of the x range is at 62 + 364 t and at fraction t of
 * the y range at 210 - 200 t.
 */
class SvgChartTest {

  private static SvgChart.View chart(List<String> categories, boolean logY, Figure.Series... series) {
    return SvgChart.of(new Figure.Line("f", "step", "loss", categories, logY, List.of(series)));
  }

  private static Figure.Series series(String name, List<Double> x, List<Double> y) {
    return new Figure.Series(name, x, y);
  }

  private static List<String> labels(List<SvgChart.Tick> ticks) {
    return ticks.stream().map(SvgChart.Tick::label).toList();
  }

  private static List<String> positions(List<SvgChart.Tick> ticks) {
    return ticks.stream().map(SvgChart.Tick::pos).toList();
  }

  @Test
  void aLineOnUnitTicksIsPlacedOnThePlotArea() {
    SvgChart.View v = chart(null, false, series("a", List.of(0.0, 1.0, 2.0, 3.0, 4.0),
        List.of(0.0, 0.25, 0.5, 0.75, 1.0)));
    assertThat(List.of(v.width(), v.height(), v.x0(), v.x1(), v.y0(), v.y1())).containsExactly(440, 250, 62, 426, 10,
        210);
    assertThat(v.plotWidth()).isEqualTo(364);
    assertThat(v.plotHeight()).isEqualTo(200);
    assertThat(labels(v.xTicks())).containsExactly("0", "1", "2", "3", "4");
    assertThat(positions(v.xTicks())).containsExactly("62.0", "153.0", "244.0", "335.0", "426.0");
    // Steps of 0.2 from 0 to 1: one decimal.
    assertThat(labels(v.yTicks())).containsExactly("0.0", "0.2", "0.4", "0.6", "0.8", "1.0");
    assertThat(positions(v.yTicks())).containsExactly("210.0", "170.0", "130.0", "90.0", "50.0", "10.0");
    assertThat(v.curves()).singleElement().isEqualTo(new SvgChart.Curve("#0072B2", "", "a",
        List.of("62.0,210.0 153.0,160.0 244.0,110.0 335.0,60.0 426.0,10.0"), List.of(new SvgChart.Dot("62.0", "210.0"),
            new SvgChart.Dot("153.0", "160.0"), new SvgChart.Dot("244.0", "110.0"), new SvgChart.Dot("335.0", "60.0"),
            new SvgChart.Dot("426.0", "10.0")), List.of()));
    assertThat(List.of(v.xLabel(), v.yLabel(), v.xLabelX(), v.xLabelY(), v.yLabelY())).containsExactly("step", "loss",
        "244.0", "244", "110.0");
    assertThat(v.empty()).isFalse();
  }

  /**
   * A series with 95% intervals draws an error bar at each point that has one, capped at both
   * ends, and the y axis takes in the bars (here 0.1 to 0.6, not the values' 0.25 to 0.5); a point
   * without an interval, and a series without intervals, draw none.
   */
  @Test
  void intervalsAreErrorBarsOnThePlot() {
    SvgChart.View v = chart(null, false, new Figure.Series("a", List.of(0.0, 0.5, 1.0), List.of(0.5, 0.4, 0.25),
        Arrays.asList(0.4, null, 0.1), Arrays.asList(0.6, null, 0.5)), series("b", List.of(0.0, 1.0), List.of(0.3, 0.3)));
    assertThat(labels(v.yTicks())).first().isEqualTo("0.1");
    assertThat(labels(v.yTicks())).last().isEqualTo("0.6");
    assertThat(v.curves().get(0).bars()).containsExactly("M62.0,90.0V10.0M59.5,90.0h5M59.5,10.0h5",
        "M426.0,210.0V50.0M423.5,210.0h5M423.5,50.0h5");
    assertThat(v.curves().get(1).bars()).isEmpty();
  }

  @Test
  void aMissingOrNonFiniteValueBreaksTheLineAndAShortYListEndsIt() {
    SvgChart.View v = chart(null, false, series("a", List.of(0.0, 1.0, 2.0, 3.0, 4.0),
        Arrays.asList(1.0, null, 0.0, Double.NaN, 1.0)), series("b", Arrays.asList(0.0, null, 2.0, 4.0),
        List.of(0.5, 0.5, 0.5)));
    SvgChart.Curve a = v.curves().get(0), b = v.curves().get(1);
    assertThat(a.paths()).containsExactly("62.0,10.0", "244.0,210.0", "426.0,10.0");
    assertThat(a.dots()).hasSize(3);
    // b's null x breaks it too; its y list has no value for x = 4.
    assertThat(b.paths()).containsExactly("62.0,110.0", "244.0,110.0");
    assertThat(b.color()).isEqualTo("#D55E00");
  }

  @Test
  void aRangeOfAFewUlpsGetsOneTickInsteadOfALoop() {
    // 1e17 and the next double but one: the round step, 5, is below their spacing of 16
    SvgChart.View v = chart(null, false, series("s", List.of(0.0, 1.0), List.of(1e17, 1e17 + 32)));
    assertThat(labels(v.yTicks())).containsExactly("1e17");
    assertThat(v.curves().get(0).paths()).containsExactly("62.0,210.0 426.0,10.0");
    // A range past the largest double: no loop without end, whatever the ticks then say.
    assertThat(chart(null, false, series("s", List.of(0.0, 1.0), List.of(-1e308, 1e308))).yTicks()).hasSizeLessThan(52);
    SvgChart.View x = chart(null, false, series("s", List.of(1e17, 1e17 + 32), List.of(0.0, 1.0)));
    assertThat(labels(x.xTicks())).containsExactly("1e17");
    assertThat(x.curves().get(0).paths()).containsExactly("62.0,210.0 426.0,10.0");
  }

  @Test
  void aNonFiniteXIsAMissingPointAndLeavesTheAxisToTheOthers() {
    SvgChart.View v = chart(null, false, series("a", Arrays.asList(0.0, Double.POSITIVE_INFINITY, 2.0, Double.NaN, 4.0),
        List.of(0.0, 5.0, 0.5, 5.0, 1.0)));
    assertThat(labels(v.xTicks())).containsExactly("0", "1", "2", "3", "4");
    assertThat(labels(v.yTicks())).containsExactly("0.0", "0.2", "0.4", "0.6", "0.8", "1.0");
    assertThat(v.curves().get(0).paths()).containsExactly("62.0,210.0", "244.0,110.0", "426.0,10.0");
  }

  @Test
  void coloursRepeatAfterEightSeries() {
    Figure.Series[] nine = new Figure.Series[9];
    for (int k = 0; k < 9; k++) nine[k] = series("s" + k, List.of(0.0, 1.0), List.of(0.0, k + 1.0));
    assertThat(chart(null, false, nine).curves()).extracting(SvgChart.Curve::color).containsExactly("#0072B2",
        "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#0072B2");
    // Each of a chart's eight curves has a line pattern of its own, repeating with the colours.
    List<String> dashes = chart(null, false, nine).curves().stream().map(SvgChart.Curve::dash).toList();
    assertThat(dashes.subList(0, 8)).doesNotHaveDuplicates().first().isEqualTo("");
    assertThat(dashes.get(8)).isEqualTo(dashes.get(0));
    // Sky blue and yellow are faint on white: their patterns are at least 3/4 ink (a dotted yellow,
    // 1 on 3 off, all but vanished).
    for (int k : new int[] {5, 7}) assertThat(ink(dashes.get(k))).as(SvgChart.COLORS.get(k)).isGreaterThanOrEqualTo(0.75);
  }

  /** The share of a dash pattern that is drawn: the sum of its odd-numbered lengths over the whole. */
  private static double ink(String dasharray) {
    double on = 0, all = 0;
    String[] lengths = dasharray.split(" ");
    for (int i = 0; i < lengths.length; i++) {
      double l = Double.parseDouble(lengths[i]);
      all += l;
      if (i % 2 == 0) on += l;
    }
    return on / all;
  }

  @Test
  void dotsAreDrawnUpToFortyPoints() {
    for (int n : new int[] {SvgChart.MAX_DOTS, SvgChart.MAX_DOTS + 1}) {
      Double[] x = new Double[n];
      for (int i = 0; i < n; i++) x[i] = (double) i;
      SvgChart.View v = chart(null, false, series("s", List.of(x), List.of(x)));
      assertThat(v.curves().get(0).dots()).as("n = " + n).hasSize(n == SvgChart.MAX_DOTS ? n : 0);
    }
  }

  /** 2001 points: every third is drawn (stride ceil(2001 / 1000)), and the last. */
  @Test
  void aLongSeriesIsDrawnThroughEveryKthPointAndItsLast() {
    int n = 2 * SvgChart.MAX_POINTS + 1;
    Double[] x = new Double[n];
    for (int i = 0; i < n; i++) x[i] = (double) i;
    String path = chart(null, false, series("s", List.of(x), List.of(x))).curves().get(0).paths().get(0);
    assertThat(path.split(" ")).hasSize(668);
    // Exactly 1000 points: all drawn.
    Double[] k = Arrays.copyOf(x, SvgChart.MAX_POINTS);
    assertThat(chart(null, false, series("s", List.of(k), List.of(k))).curves().get(0).paths().get(0).split(" "))
        .hasSize(SvgChart.MAX_POINTS);
  }

  @Test
  void categoriesAreCentredInTheirSlotsAndLabelledEveryKthBeyondTwelve() {
    SvgChart.View two = chart(List.of("stage0", "a-very-long-name"), false,
        series("s", List.of(0.0, 1.0), List.of(1.0, 2.0)));
    // x in [-0.5, 1.5]: 0 at a quarter, 1 at three quarters.
    assertThat(positions(two.xTicks())).containsExactly("153.0", "335.0");
    assertThat(labels(two.xTicks())).containsExactly("stage0", "a-very-lo…");
    List<String> twelve = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11");
    assertThat(labels(chart(twelve, false, series("s", List.of(0.0), List.of(1.0))).xTicks())).isEqualTo(twelve);
    List<String> thirteen = new java.util.ArrayList<>(twelve);
    thirteen.add("12");
    assertThat(labels(chart(thirteen, false, series("s", List.of(0.0), List.of(1.0))).xTicks()))
        .containsExactly("0", "2", "4", "6", "8", "10", "12");
    // Ten characters are kept.
    assertThat(labels(chart(List.of("abcdefghij"), false, series("s", List.of(0.0), List.of(1.0))).xTicks()))
        .containsExactly("abcdefghij");
  }

  @Test
  void aLogAxisHasTicksAtWholeDecades() {
    SvgChart.View v = chart(null, true, series("s", List.of(0.0, 1.0), List.of(0.01, 10.0)));
    assertThat(labels(v.yTicks())).containsExactly("1e-2", "1e-1", "1e0", "1e1");
    assertThat(positions(v.yTicks())).containsExactly("210.0", "143.3", "76.7", "10.0");
    assertThat(v.curves().get(0).paths()).containsExactly("62.0,210.0 426.0,10.0");
    assertThat(v.yLabel()).isEqualTo("loss (log scale)");
    // Twenty decades: a tick every third, the axis extended to the next one.
    assertThat(labels(chart(null, true, series("s", List.of(0.0, 1.0), List.of(1e-20, 1.0))).yTicks()))
        .containsExactly("1e-20", "1e-17", "1e-14", "1e-11", "1e-8", "1e-5", "1e-2", "1e1");
    // Eight decades: every one.
    assertThat(labels(chart(null, true, series("s", List.of(0.0, 1.0), List.of(1e-8, 1.0))).yTicks())).hasSize(9);
    // One value: one decade above it.
    SvgChart.View one = chart(null, true, series("s", List.of(0.0), List.of(100.0)));
    assertThat(labels(one.yTicks())).containsExactly("1e2", "1e3");
    assertThat(one.curves().get(0).dots()).containsExactly(new SvgChart.Dot("244.0", "210.0"));
    // Zero and negative values have no place on it: missing points, the axis as without them.
    SvgChart.View zero = chart(null, true, series("s", List.of(0.0, 1.0, 2.0, 3.0), List.of(0.01, 0.0, -1.0, 10.0)));
    assertThat(labels(zero.yTicks())).containsExactly("1e-2", "1e-1", "1e0", "1e1");
    assertThat(zero.curves().get(0).paths()).containsExactly("62.0,210.0", "426.0,10.0");
  }

  @Test
  void aConstantSeriesIsPaddedAndAnEmptyChartSaysSo() {
    // One point at x = 5: x in [4, 6]; y = 0 is padded by 1.
    SvgChart.View zero = chart(null, false, series("s", List.of(5.0), List.of(0.0)));
    assertThat(zero.curves().get(0).dots()).containsExactly(new SvgChart.Dot("244.0", "110.0"));
    assertThat(labels(zero.xTicks())).containsExactly("4", "5", "6");
    assertThat(labels(zero.yTicks())).containsExactly("-1.0", "-0.5", "0.0", "0.5", "1.0");
    // y = -5 is padded by a tenth of its size, [-5.5, -4.5], and ticked every 0.2 from -5.6 to -4.4.
    SvgChart.View five = chart(null, false, series("s", List.of(5.0), List.of(-5.0)));
    assertThat(labels(five.yTicks())).containsExactly("-5.6", "-5.4", "-5.2", "-5.0", "-4.8", "-4.6", "-4.4");
    SvgChart.View empty = chart(null, false, series("s", List.of(0.0), Arrays.asList((Double) null)));
    assertThat(empty.empty()).isTrue();
    // The x of the missing point is a whole number: whole ticks on the unit range.
    assertThat(labels(empty.xTicks())).containsExactly("0", "1");
    assertThat(labels(empty.yTicks())).containsExactly("0.0", "0.2", "0.4", "0.6", "0.8", "1.0");
    assertThat(empty.curves().get(0).paths()).isEmpty();
  }

  @Test
  void tickLabelsSwitchToScientificNotationForLargeValuesAndFineSteps() {
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 2e6))).yTicks()))
        .containsExactly("0", "5e5", "1e6", "1.5e6", "2e6");
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 2e-4))).yTicks()))
        .containsExactly("0", "5e-5", "1e-4", "1.5e-4", "2e-4");
    // A step of 1e-4 is still written out.
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 5e-4))).yTicks()))
        .containsExactly("0.0000", "0.0001", "0.0002", "0.0003", "0.0004", "0.0005");
    // Ticks reaching a million are written in scientific notation, below it plainly (steps of 200000: no decimals).
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 1e6))).yTicks()))
        .containsExactly("0", "2e5", "4e5", "6e5", "8e5", "1e6");
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 799999.0))).yTicks()))
        .containsExactly("0", "200000", "400000", "600000", "800000");
  }

  /** Ticks 5e-7 apart near 1e-4 were all "1.0e-04" (one mantissa digit whatever the step). */
  @Test
  void scientificTickLabelsHaveTheDigitsTheirStepNeeds() {
    List<String> fine = labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(1e-4, 1.02e-4))).yTicks());
    assertThat(fine).containsExactly("1e-4", "1.005e-4", "1.01e-4", "1.015e-4", "1.02e-4");
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0), List.of(-3e-14, 2.2e-14))).yTicks()))
        .containsExactly("-3e-14", "-2e-14", "-1e-14", "0", "1e-14", "2e-14", "3e-14");
  }

  /**
   * The rotated y-axis label ends at x = 16; a tick label ends 5 px left of the plot. A label like
   * 1.005e-4 (about 51 px at 11 px DejaVu Sans) overran the axis label with the plot at 62: the
   * plot now starts right of 16 + 3 + its width + 5. Short labels leave it at 62.
   */
  @Test
  void longTickLabelsMoveThePlotClearOfTheAxisLabel() {
    SvgChart.View v = chart(null, false, series("s", List.of(0.0, 1.0), List.of(1e-4, 1.02e-4)));
    double widest = v.yTicks().stream().mapToDouble(t -> SvgChart.textWidth(t.label())).max().orElseThrow();
    assertThat(widest).isGreaterThan(62 - 5 - 16);
    assertThat(v.x0() - 5 - widest).isGreaterThanOrEqualTo(16 + 3);
    assertThat(v.x0() - 5 - widest).isLessThan(16 + 3 + 1);
    assertThat(v.curves().get(0).paths()).containsExactly(v.x0() + ".0,210.0 426.0,10.0");
    assertThat(v.xLabelX()).isEqualTo(String.format(java.util.Locale.ROOT, "%.1f", (v.x0() + 426) / 2.0));
    // 1.005e-4 measured as DejaVu Sans's advances: 5 digits, a point, an e and a minus sign.
    assertThat(SvgChart.textWidth("1.005e-4")).isCloseTo((5 * 0.636 + 0.318 + 0.615 + 0.361) * 11, offset(1e-9));
    assertThat(chart(null, false, series("s", List.of(0.0, 1.0), List.of(0.0, 1.0))).x0()).isEqualTo(62);
  }

  /**
   * PCA's components 1, 2, 4, ..., 1024 on a linear axis put 8 of 11 points in its first 3%: a
   * geometric grid is drawn on a log axis (ticks at the decades, the label saying so), at the
   * positions log10 gives. Evenly spaced steps over three decades, and x from 0, stay linear.
   */
  @Test
  void xOnAGeometricGridIsDrawnOnALogAxis() {
    List<Double> components = new java.util.ArrayList<>(), acc = new java.util.ArrayList<>();
    for (int k = 0; k <= 10; k++) {
      components.add(Math.pow(2, k));
      acc.add(0.3 + 0.05 * k);
    }
    SvgChart.View v = chart(null, false, series("s", components, acc));
    assertThat(v.xLabel()).isEqualTo("step (log scale)");
    assertThat(labels(v.xTicks())).containsExactly("1", "10", "100", "1000");
    double per = 364 / Math.log10(1024);
    assertThat(positions(v.xTicks())).containsExactly("62.0", String.format(java.util.Locale.ROOT, "%.1f", 62 + per),
        String.format(java.util.Locale.ROOT, "%.1f", 62 + 2 * per), String.format(java.util.Locale.ROOT, "%.1f", 62 + 3 * per));
    String[] points = v.curves().get(0).paths().get(0).split(" ");
    assertThat(points).hasSize(11);
    for (int k = 0; k <= 10; k++) {
      assertThat(Double.parseDouble(points[k].split(",")[0])).isCloseTo(62 + k * Math.log10(2) * per, offset(0.051));
    }
    List<Double> steps = new java.util.ArrayList<>();
    for (int k = 1; k <= 1000; k += 111) steps.add((double) k);
    assertThat(chart(null, false, series("s", steps, steps)).xLabel()).isEqualTo("step");
    List<Double> fromZero = new java.util.ArrayList<>(components);
    fromZero.set(0, 0.0);
    assertThat(chart(null, false, series("s", fromZero, acc)).xLabel()).isEqualTo("step");
    assertThat(SvgChart.geometric(new Figure.Line("f", "x", "y", null, false, List.of(series("s",
        List.of(1.0, 2.0, 4.0, 8.0), List.of(1.0, 1.0, 1.0, 1.0)))))).as("less than two decades").isFalse();
  }

  private static boolean geometric(Double... x) {
    List<Double> y = java.util.Collections.nCopies(x.length, 1.0);
    return SvgChart.geometric(new Figure.Line("f", "x", "y", null, false, List.of(series("s", List.of(x), y))));
  }

  /**
   * The log axis's rule at its documented edges: 4 distinct x (not 3), each at least 1.5 times the
   * one before (exactly 1.5 is enough), spanning two decades or more (exactly two is enough; 10 to
   * 80 is less, however large the numbers).
   */
  @Test
  void aGeometricGridIsTakenAtItsEdges() {
    assertThat(geometric(2.0, 20.0, 60.0, 200.0)).as("4 values over exactly two decades").isTrue();
    assertThat(geometric(2.0, 20.0, 200.0)).as("3 values").isFalse();
    assertThat(geometric(2.0, 20.0, 60.0, 199.0)).as("just under two decades").isFalse();
    assertThat(geometric(10.0, 20.0, 40.0, 80.0)).as("one decade of large values").isFalse();
    // 1.5^j is exact in binary up to j = 33 (3^j / 2^j), so each ratio is exactly 1.5; 1.5^12 = 129.7.
    Double[] ratio15 = new Double[13];
    for (int j = 0; j <= 12; j++) ratio15[j] = Math.pow(1.5, j);
    assertThat(geometric(ratio15)).as("ratios of exactly 1.5").isTrue();
    ratio15[12] = ratio15[11] * 1.4999;
    ratio15[11] = ratio15[10] * 1.4999;
    assertThat(geometric(ratio15)).as("a ratio just under 1.5").isFalse();
  }

  /**
   * Decade ticks read plain from 0.001 to 100000 and as 1e-4, 1e6 beyond; a last x exactly at a
   * decade (a stage of 100 features: components 1, 2, 4, ..., 64, 100) gets its tick.
   */
  @Test
  void decadeTicksReadPlainFromAThousandthToAHundredThousandAndTheLastDecadeIsTicked() {
    List<Double> x = List.of(1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6);
    SvgChart.View v = chart(null, false, series("s", x, java.util.Collections.nCopies(x.size(), 1.0)));
    assertThat(v.xLabel()).isEqualTo("step (log scale)");
    assertThat(labels(v.xTicks())).containsExactly("1e-4", "0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000",
        "100000", "1e6");
    List<Double> components = List.of(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0);
    v = chart(null, false, series("s", components, java.util.Collections.nCopies(components.size(), 0.5)));
    assertThat(labels(v.xTicks())).containsExactly("1", "10", "100");
    assertThat(positions(v.xTicks())).containsExactly("62.0", "244.0", "426.0");
  }

  /** Error bars are drawn with the dots, up to forty points: a longer series draws neither. */
  @Test
  void errorBarsAreDrawnUpToFortyPoints() {
    for (int n : new int[] {SvgChart.MAX_DOTS, SvgChart.MAX_DOTS + 1}) {
      Double[] x = new Double[n], lo = new Double[n], hi = new Double[n];
      for (int i = 0; i < n; i++) {
        x[i] = (double) i;
        lo[i] = i - 0.5;
        hi[i] = i + 0.5;
      }
      SvgChart.View v = chart(null, false, new Figure.Series("s", List.of(x), List.of(x), List.of(lo), List.of(hi)));
      assertThat(v.curves().get(0).bars()).as("n = " + n).hasSize(n == SvgChart.MAX_DOTS ? n : 0);
    }
  }

  @Test
  void wholeNumberXHasWholeTicksAndFractionalXHasFractionalOnes() {
    // Two whole ticks just below a million: plain, as the largest tick is not a million.
    assertThat(labels(chart(null, false, series("s", List.of(999998.0, 999999.0), List.of(1.0, 2.0))).xTicks()))
        .containsExactly("999998", "999999");
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 1.0, 2.0), List.of(1.0, 2.0, 3.0))).xTicks()))
        .containsExactly("0", "1", "2");
    assertThat(labels(chart(null, false, series("s", List.of(0.0, 0.5, 2.0), List.of(1.0, 2.0, 3.0))).xTicks()))
        .containsExactly("0.0", "0.5", "1.0", "1.5", "2.0");
  }

  @Test
  void ticksAreMultiplesOfOneTwoOrFiveTimesAPowerOfTen() {
    // r = (hi - lo) / 5: below 1.5 steps of 1, below 3 of 2, below 7 of 5, else of 10.
    assertThat(SvgChart.ticks(0, 7)).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    assertThat(SvgChart.ticks(0, 7.5)).containsExactly(0.0, 2.0, 4.0, 6.0, 8.0);
    assertThat(SvgChart.ticks(0, 14)).containsExactly(0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0);
    assertThat(SvgChart.ticks(0, 15)).containsExactly(0.0, 5.0, 10.0, 15.0);
    assertThat(SvgChart.ticks(0, 34)).containsExactly(0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0);
    assertThat(SvgChart.ticks(0, 35)).containsExactly(0.0, 10.0, 20.0, 30.0, 40.0);
    // The first tick is at or below lo; steps of 0.1 from -0.3 reach 0 only within rounding, and it is written as 0.
    List<Double> t = SvgChart.ticks(-0.3, 0.3);
    assertThat(t).hasSize(7).contains(0.0);
    assertThat(t.get(0)).isCloseTo(-0.3, offset(1e-12));
    // ... and the last at or above hi, so the top of a y axis is labelled too.
    List<Double> u = SvgChart.ticks(4.5, 5.5);
    assertThat(u).hasSize(7);
    assertThat(u.get(0)).isCloseTo(4.4, offset(1e-12));
    assertThat(u.get(6)).isCloseTo(5.6, offset(1e-12));
  }
}
