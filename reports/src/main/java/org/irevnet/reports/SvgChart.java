package org.irevnet.reports;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The geometry of a {@link Figure.Line} as an inline SVG chart: axes with round ticks, one
 * polyline per series (broken where a value is missing), dots when there are few points. The
 * markup is in {@code chart.mustache}; every coordinate here is a string with one decimal.
 */
final class SvgChart {
  static final int WIDTH = 440, HEIGHT = 250, LEFT = 62, RIGHT = 14, TOP = 10, BOTTOM = 40;
  /** Colour-blind safe (Okabe-Ito) series colours. */
  static final List<String> COLORS = List.of("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
      "#000000", "#F0E442");
  /**
   * Each colour's line pattern (SVG stroke-dasharray; empty: solid), so curves stay apart in grey
   * print and where one lies on another (a run compared with its copy showed one curve of two).
   * The light sky blue and yellow, faint on white, get patterns mostly of ink; the sparse dots go
   * to black.
   */
  static final List<String> DASHES = List.of("", "7 3", "2 2.5", "9 3 2 3", "4 4", "12 3", "1 3", "10 2");
  /** Series with at most this many points are also drawn as dots. */
  static final int MAX_DOTS = 40;
  /** Longer series are drawn through every k-th point (and the last); report.json keeps them all. */
  static final int MAX_POINTS = 1000;
  /** Right edge of the rotated y-axis label (its baseline at x = 13, descenders below). */
  private static final double Y_LABEL_RIGHT = 16;
  /** Room between the y-axis label and a tick label, and between a tick label and the axis (dx -5). */
  private static final double TICK_GAP = 3 + 5;

  private SvgChart() {}

  public record Tick(String pos, String label) {}

  public record Dot(String x, String y) {}

  /** {@code bars}: SVG path data of the error bars (each point's 95% interval, with end caps). */
  public record Curve(String color, String dash, String name, List<String> paths, List<Dot> dots, List<String> bars) {}

  /** Everything chart.mustache needs; {@code x0, x1, y0, y1} bound the plot area. */
  public record View(int width, int height, int x0, int x1, int y0, int y1, List<Tick> xTicks, List<Tick> yTicks,
      List<Curve> curves, String xLabel, String yLabel, String xLabelX, String xLabelY, String yLabelY, boolean empty) {
    public int plotWidth() {
      return x1 - x0;
    }

    public int plotHeight() {
      return y1 - y0;
    }
  }

  static View of(Figure.Line f) {
    int x0 = LEFT, x1 = WIDTH - RIGHT, y0 = TOP, y1 = HEIGHT - BOTTOM;
    boolean cats = f.xCategories() != null && !f.xCategories().isEmpty(), logX = !cats && geometric(f);
    double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY;
    double ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
    for (Figure.Series s : f.series()) {
      for (int i = 0; i < s.x().size(); i++) {
        Double x = x(s, i, logX), y = y(f, s, i);
        if (x == null || y == null) continue;
        xmin = Math.min(xmin, x);
        xmax = Math.max(xmax, x);
        ymin = Math.min(ymin, y);
        ymax = Math.max(ymax, y);
        // The error bars stay on the plot.
        Double lo = bound(f, s.lo(), i), hi = bound(f, s.hi(), i);
        if (lo != null && hi != null) {
          ymin = Math.min(ymin, lo);
          ymax = Math.max(ymax, hi);
        }
      }
    }
    boolean empty = !(xmin <= xmax);
    if (empty) {
      xmin = ymin = 0;
      xmax = ymax = 1;
    }
    if (cats) {
      xmin = -0.5;
      xmax = f.xCategories().size() - 0.5;
    } else if (xmin == xmax) {
      xmin -= 1;
      xmax += 1;
    }
    List<Double> yt;
    if (f.logY()) {
      ymin = Math.floor(ymin);
      ymax = Math.max(Math.ceil(ymax), ymin + 1);
      int step = (int) Math.ceil((ymax - ymin) / 8);
      ymax = ymin + Math.ceil((ymax - ymin) / step) * step;
      yt = new ArrayList<>();
      for (double v = ymin; v <= ymax + 1e-9; v += step) yt.add(v);
    } else {
      if (ymin == ymax) {
        double pad = ymin == 0 ? 1 : Math.abs(ymin) * 0.1;
        ymin -= pad;
        ymax += pad;
      }
      yt = ticks(ymin, ymax);
      ymin = Math.min(ymin, yt.get(0));
      ymax = Math.max(ymax, yt.get(yt.size() - 1));
    }
    List<String> yLabels = new ArrayList<>();
    for (double v : yt) yLabels.add(f.logY() ? "1e" + (long) v : label(v, yt));
    // Long tick labels (1.5e-14) push the plot right, so they end clear of the rotated axis label.
    for (String l : yLabels) x0 = Math.max(x0, (int) Math.ceil(Y_LABEL_RIGHT + TICK_GAP + textWidth(l)));
    Scale sx = new Scale(xmin, xmax, x0, x1), sy = new Scale(ymin, ymax, y1, y0);
    List<Tick> xTicks = new ArrayList<>();
    if (cats) {
      int n = f.xCategories().size(), every = Math.max(1, (int) Math.ceil(n / 12.0));
      for (int i = 0; i < n; i += every) xTicks.add(new Tick(fmt(sx.at(i)), shorten(f.xCategories().get(i))));
    } else if (logX) {
      for (double d = Math.ceil(xmin - 1e-9); d <= xmax + 1e-9; d++) xTicks.add(new Tick(fmt(sx.at(d)), decade((int) d)));
    } else {
      List<Double> xt = ticks(xmin, xmax);
      if (integral(f) && xt.size() > 1 && xt.get(1) - xt.get(0) < 1) xt = ticks(xmin, xmax, 1);
      for (double v : xt) if (v >= xmin - 1e-9 && v <= xmax + 1e-9) xTicks.add(new Tick(fmt(sx.at(v)), label(v, xt)));
    }
    List<Tick> yTicks = new ArrayList<>();
    for (int i = 0; i < yt.size(); i++) yTicks.add(new Tick(fmt(sy.at(yt.get(i))), yLabels.get(i)));
    List<Curve> curves = new ArrayList<>();
    for (int k = 0; k < f.series().size(); k++) {
      Figure.Series s = f.series().get(k);
      List<String> paths = new ArrayList<>();
      List<Dot> dots = new ArrayList<>();
      List<String> bars = new ArrayList<>();
      StringBuilder path = new StringBuilder();
      int points = 0, n = s.x().size(), stride = Math.max(1, (n + MAX_POINTS - 1) / MAX_POINTS);
      for (int i = 0; i < n; i++) {
        if (i % stride != 0 && i != n - 1) continue;
        Double x = x(s, i, logX), y = y(f, s, i);
        if (x == null || y == null) {
          if (path.length() > 0) paths.add(path.toString());
          path.setLength(0);
          continue;
        }
        String px = fmt(sx.at(x)), py = fmt(sy.at(y));
        path.append(path.length() > 0 ? " " : "").append(px).append(',').append(py);
        dots.add(new Dot(px, py));
        Double lo = bound(f, s.lo(), i), hi = bound(f, s.hi(), i);
        if (lo != null && hi != null) {
          // A vertical bar from lo to hi with a cap at each end, 5 px wide.
          String bl = fmt(sy.at(lo)), bh = fmt(sy.at(hi)), left = fmt(sx.at(x) - 2.5);
          bars.add("M" + px + "," + bl + "V" + bh + "M" + left + "," + bl + "h5M" + left + "," + bh + "h5");
        }
        points++;
      }
      if (path.length() > 0) paths.add(path.toString());
      curves.add(new Curve(COLORS.get(k % COLORS.size()), DASHES.get(k % DASHES.size()), s.name(), paths,
          points <= MAX_DOTS ? dots : List.of(), points <= MAX_DOTS ? bars : List.of()));
    }
    String yLabel = f.logY() ? f.yLabel() + " (log scale)" : f.yLabel();
    String xLabel = logX ? f.xLabel() + " (log scale)" : f.xLabel();
    return new View(WIDTH, HEIGHT, x0, x1, y0, y1, xTicks, yTicks, curves, xLabel, yLabel,
        fmt((x0 + x1) / 2.0), String.valueOf(HEIGHT - 6), fmt((y0 + y1) / 2.0), empty);
  }

  /** Whether every x is a whole number (epochs, stages): then ticks are too. */
  private static boolean integral(Figure.Line f) {
    return f.series().stream().flatMap(s -> s.x().stream()).allMatch(x -> x == null || x == Math.rint(x));
  }

  /**
   * The plotted x of point i: the value, or its log10 on a log axis; null when missing or not
   * finite (an infinite x would stretch the axis away).
   */
  private static Double x(Figure.Series s, int i, boolean logX) {
    Double v = s.x().get(i);
    if (v == null || !Double.isFinite(v)) return null;
    return logX ? Math.log10(v) : v;
  }

  /**
   * Whether the x values lie on a geometric grid (at least 4 distinct, all positive, each at least
   * 1.5 times the one before, spanning two decades or more: PCA's 1, 2, 4, ..., 1024 components),
   * which a linear axis crowds into its left end; such an axis is drawn in log scale. Steps,
   * epochs and epsilons (evenly spaced, or from 0) stay linear.
   */
  static boolean geometric(Figure.Line f) {
    java.util.TreeSet<Double> xs = new java.util.TreeSet<>();
    for (Figure.Series s : f.series()) {
      for (Double v : s.x()) {
        if (v == null || !Double.isFinite(v)) continue;
        if (v <= 0) return false;
        xs.add(v);
      }
    }
    if (xs.size() < 4 || xs.last() / xs.first() < 100) return false;
    Double previous = null;
    for (double v : xs) {
      if (previous != null && v / previous < 1.5) return false;
      previous = v;
    }
    return true;
  }

  /** The label of the decade tick 10^d: plain from 0.001 to 100000, else 1e-4, 1e6. */
  private static String decade(int d) {
    return d >= -3 && d <= 5 ? java.math.BigDecimal.ONE.scaleByPowerOfTen(d).toPlainString() : "1e" + d;
  }

  /** The plotted y of point i: the value, or its log10 on a log chart (null when not positive). */
  private static Double y(Figure.Line f, Figure.Series s, int i) {
    return plotted(f, s.y(), i);
  }

  /** An interval's bound of point i as plotted, null where the series has none. */
  private static Double bound(Figure.Line f, List<Double> bounds, int i) {
    return bounds == null ? null : plotted(f, bounds, i);
  }

  /** {@code values[i]}, or its log10 on a log chart; null when missing, not finite or not positive there. */
  private static Double plotted(Figure.Line f, List<Double> values, int i) {
    Double v = i < values.size() ? values.get(i) : null;
    if (v == null || !Double.isFinite(v)) return null;
    if (!f.logY()) return v;
    return v > 0 ? Math.log10(v) : null;
  }

  private record Scale(double d0, double d1, double r0, double r1) {
    double at(double v) {
      return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
    }
  }

  /**
   * About five round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]: the first at or
   * below lo, the last at or above hi, so a y axis stretched to them has both ends labelled.
   */
  static List<Double> ticks(double lo, double hi) {
    double raw = (hi - lo) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return ticks(lo, hi, (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag);
  }

  private static List<Double> ticks(double lo, double hi, double step) {
    List<Double> out = new ArrayList<>();
    for (double v = Math.floor(lo / step) * step; ; v += step) {
      double tick = Math.abs(v) < step * 1e-9 ? 0 : v;
      out.add(tick);
      // v + step == v: the range is a few ulps of huge values and the step cannot advance; more
      // than 50: a range that overflows (near +-1e308) makes the step infinite and v NaN
      if (tick >= hi - step * 1e-9 && out.size() >= 2 || v + step == v || out.size() > 50) break;
    }
    return out;
  }

  /**
   * A tick label with as many decimals as the tick spacing needs; from 10^6 on, or for steps below
   * 10^-4, in short scientific notation ({@code 1.5e-14}, {@code 2e6}, {@code 0}) whose mantissa
   * has the digits the step needs, so ticks 1e-4 apart by 5e-7 read 1.005e-4, not all 1.0e-04.
   */
  private static String label(double v, List<Double> ticks) {
    double step = ticks.size() > 1 ? Math.abs(ticks.get(1) - ticks.get(0)) : 1;
    double big = Math.max(Math.abs(ticks.get(0)), Math.abs(ticks.get(ticks.size() - 1)));
    if (big >= 1e6 || step < 1e-4) return scientific(v, step);
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String scientific(double v, double step) {
    if (v == 0) return "0";
    int exponent = (int) Math.floor(Math.log10(Math.abs(v)) + 1e-9);
    int digits = step > 0 && Double.isFinite(step) ? exponent - (int) Math.floor(Math.log10(step) + 1e-9) : 1;
    String[] parts = String.format(Locale.ROOT, "%." + Math.max(1, Math.min(digits, 15)) + "e", v).split("e");
    String mantissa = parts[0].replaceAll("0+$", "").replaceAll("\\.$", "");
    return mantissa + "e" + Integer.parseInt(parts[1]);
  }

  /**
   * The width in px of a tick label at the charts' 11 px, from DejaVu Sans's advance widths (the
   * widest of the usual system fonts for digits), so the estimate errs wide.
   */
  static double textWidth(String s) {
    double em = 0;
    for (char c : s.toCharArray()) em += Character.isDigit(c) ? 0.636 : c == '.' ? 0.318 : c == '-' ? 0.361
        : c == 'e' ? 0.615 : 0.7;
    return em * 11;
  }

  private static String shorten(String s) {
    return s.length() <= 10 ? s : s.substring(0, 9) + "…";
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
