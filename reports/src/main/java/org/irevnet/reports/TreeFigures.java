package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Figures for a JSON result of a shape this module does not know field by field (probes,
 * nuisance probe, stability, interpolation, attacks): missing or unknown fields never fail.
 * <ul>
 *   <li>Scalars outside arrays (nested objects flattened to dotted keys) form one key/value table.
 *   <li>Every array of objects is a table (nested objects flattened; arrays of objects inside its
 *       elements are arrays of their own, whose rows carry the element's text fields as a group,
 *       followed by its position {@code #i} where the text does not tell elements apart), with the
 *       first of {@link #X_KEYS} that every row has as its first column.
 *       Sibling numeric arrays of one length in one object count as such an array too.
 *   <li>Such an array is also charted when it has an x column ({@link #X_KEYS}, in that order):
 *       one curve per group (the text columns, except those that only name the x position) and
 *       non-integer numeric column; accuracy-like
 *       columns ({@link #RATE} in the name, values in [0, 1]) share one chart, every other column
 *       gets its own (log scale when it spans more than three decades), at most {@link
 *       #MAX_CURVES} curves each.
 * </ul>
 */
final class TreeFigures {
  /** Column names taken as the x axis, in order of preference. */
  static final List<String> X_KEYS = List.of("epsilon", "eps", "step", "epoch", "components", "dims", "d", "k",
      "alpha", "t", "layer", "stage", "depth");
  /** Rows shown per table; report.json's figures keep the same cap, the source file has all. */
  static final int MAX_ROWS = 40;
  /** Names of columns that share one [0, 1] chart when their values are in [0, 1]. */
  private static final java.util.regex.Pattern RATE = java.util.regex.Pattern.compile("acc|rate|success|fraction");
  /** How Jackson writes non-finite numbers. */
  private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");
  /** Charts per array at most. */
  static final int MAX_CHARTS = 6;
  /**
   * Curves per chart at most: as many as the charts have colours. {@code interpolate --count 256}
   * gave 256 curves of 8 colours, a chart nobody could read.
   */
  static final int MAX_CURVES = SvgChart.COLORS.size();
  /** The suffix of a 95% interval's field, {@code [lo, hi]} ({@code org.irevnet.stats.Proportions}). */
  static final String INTERVAL = "_ci95";

  private TreeFigures() {}

  /**
   * A row of an array: its group label (text fields of the enclosing elements), its flattened
   * scalars, and which of them are arrays shown as text (never a curve's group).
   */
  private record Row(String group, Map<String, Object> cells, Set<String> lists) {}

  static List<Figure> of(String title, JsonNode root) {
    return of(title, root, true);
  }

  /** Tables only: for results whose curves a section draws itself. */
  static List<Figure> tables(String title, JsonNode root) {
    return of(title, root, false);
  }

  private static List<Figure> of(String title, JsonNode root, boolean charts) {
    Map<String, Object> scalars = new LinkedHashMap<>();
    Map<String, List<Row>> arrays = new LinkedHashMap<>();
    walk(root, "", scalars, arrays);
    List<Figure> out = new ArrayList<>();
    if (!scalars.isEmpty()) {
      List<List<Object>> rows = new ArrayList<>();
      scalars.forEach((k, v) -> rows.add(java.util.Arrays.asList(k, v)));
      out.add(new Figure.Table(title, List.of("field", "value"), rows, null));
    }
    arrays.forEach((path, rows) -> {
      String name = path.isEmpty() ? title : title + ": " + path;
      if (charts) out.addAll(charts(name, rows));
      out.add(table(name, rows));
    });
    return out;
  }

  private static void walk(JsonNode node, String prefix, Map<String, Object> scalars, Map<String, List<Row>> arrays) {
    if (!node.isObject()) {
      if (node.isArray() && isArrayOfObjects(node)) rows(node, prefix, "", arrays);
      else if (!node.isMissingNode()) scalars.put(prefix.isEmpty() ? "value" : prefix, scalar(node));
      return;
    }
    Map<String, JsonNode> numericArrays = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix + e.getKey();
      JsonNode v = e.getValue();
      if (prefix.isEmpty() && e.getKey().equals("schemaVersion")) continue;
      if (v.isObject()) {
        walk(v, key + ".", scalars, arrays);
      } else if (v.isArray() && isArrayOfObjects(v)) {
        rows(v, key, "", arrays);
      } else if (v.isArray()) {
        // An interval ([lo, hi], the *_ci95 of an accuracy) is one value: tabulated with other
        // pairs, intervals of two accuracies made a stray two-row table of their bounds.
        if (isNumericArray(v) && v.size() >= 2 && !e.getKey().endsWith(INTERVAL)) numericArrays.put(e.getKey(), v);
        scalars.put(key, summary(v));
      } else {
        scalars.put(key, scalar(v));
      }
    }
    parallelArrays(numericArrays, prefix, arrays);
  }

  /** Sibling numeric arrays of one length as rows: {@code {"d": [1, 2], "acc": [.5, .7]}}. */
  private static void parallelArrays(Map<String, JsonNode> numeric, String prefix, Map<String, List<Row>> arrays) {
    Map<Integer, List<String>> byLength = new LinkedHashMap<>();
    numeric.forEach((k, v) -> byLength.computeIfAbsent(v.size(), n -> new ArrayList<>()).add(k));
    byLength.forEach((n, keys) -> {
      if (keys.size() < 2) return;
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Map<String, Object> cells = new LinkedHashMap<>();
        for (String k : keys) cells.put(k, scalar(numeric.get(k).get(i)));
        rows.add(new Row("", cells, Set.of()));
      }
      String path = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
      arrays.computeIfAbsent(path, p -> new ArrayList<>()).addAll(rows);
    });
  }

  private static void rows(JsonNode array, String path, String group, Map<String, List<Row>> arrays) {
    List<Row> rows = arrays.computeIfAbsent(path, p -> new ArrayList<>());
    List<String> labels = new ArrayList<>();
    List<Map<String, JsonNode>> nestedOf = new ArrayList<>();
    for (JsonNode el : array) {
      if (!el.isObject()) continue;
      Map<String, Object> cells = new LinkedHashMap<>();
      Map<String, JsonNode> nested = new LinkedHashMap<>();
      Set<String> lists = new LinkedHashSet<>();
      flatten(el, "", cells, nested, lists);
      rows.add(new Row(group, cells, lists));
      List<String> texts = new ArrayList<>();
      if (!group.isEmpty()) texts.add(group);
      cells.forEach((k, v) -> {
        if (v instanceof String s && !lists.contains(k)) texts.add(s);
      });
      labels.add(String.join(" ", texts));
      nestedOf.add(nested);
    }
    // Elements that no text tells apart (interpolate's pairs without class names, or two pairs of
    // the same two classes) get their position: their rows would otherwise join one zigzag curve.
    Map<String, Integer> uses = new HashMap<>();
    labels.forEach(l -> uses.merge(l, 1, Integer::sum));
    for (int i = 0; i < labels.size(); i++) {
      String text = labels.get(i);
      String label = uses.get(text) == 1 ? text : (text + " #" + i).strip();
      nestedOf.get(i).forEach((k, v) -> rows(v, path + "[]." + k, label, arrays));
    }
  }

  private static void flatten(JsonNode obj, String prefix, Map<String, Object> cells, Map<String, JsonNode> nested,
      Set<String> lists) {
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix + e.getKey();
      JsonNode v = e.getValue();
      if (v.isObject()) {
        flatten(v, key + ".", cells, nested, lists);
      } else if (v.isArray() && isArrayOfObjects(v)) {
        nested.put(key, v);
      } else if (v.isArray()) {
        cells.put(key, summary(v));
        lists.add(key);
      } else {
        cells.put(key, scalar(v));
      }
    }
  }

  private static Figure.Table table(String title, List<Row> rows) {
    boolean grouped = rows.stream().anyMatch(r -> !r.group().isEmpty());
    Set<String> keys = new LinkedHashSet<>();
    // The column that names a row's place (stage, epsilon, components, ...) first: the files' fields
    // are in alphabetical order, which put invert --stability's "stage" last, off the right edge of
    // a 1400-pixel page, where its rows could not be told apart.
    X_KEYS.stream().filter(k -> rows.stream().allMatch(r -> r.cells().containsKey(k))).findFirst().ifPresent(keys::add);
    rows.forEach(r -> keys.addAll(r.cells().keySet()));
    List<String> columns = new ArrayList<>();
    if (grouped) columns.add("group");
    columns.addAll(keys);
    List<List<Object>> out = new ArrayList<>();
    for (Row r : rows.subList(0, Math.min(rows.size(), MAX_ROWS))) {
      List<Object> cells = new ArrayList<>();
      if (grouped) cells.add(r.group());
      for (String k : keys) cells.add(r.cells().get(k));
      out.add(cells);
    }
    String note = rows.size() > MAX_ROWS ? "first " + MAX_ROWS + " of " + rows.size() + " rows" : null;
    return new Figure.Table(title, columns, out, note);
  }

  private static List<Figure> charts(String title, List<Row> rows) {
    String x = X_KEYS.stream().filter(k -> rows.stream().allMatch(r -> r.cells().get(k) instanceof Number))
        .findFirst().orElse(null);
    if (x == null || rows.size() < 2) return List.of();
    // Columns of text in every row (attack name, norm) and the enclosing group name a curve.
    Set<String> textColumns = new LinkedHashSet<>(rows.get(0).cells().keySet());
    textColumns.removeIf(k -> rows.stream().anyMatch(r -> !(r.cells().get(k) instanceof String s) || NON_FINITE.contains(s)
        || r.lists().contains(k)));
    // A text column that only names the x position names no curve: layer-probes.json's layer
    // ("stage0".."stage4" beside stage 0..4) made every stage a group of its own, one dot per curve.
    textColumns.removeIf(k -> namesX(rows, x, k));
    Map<String, List<Row>> groups = new LinkedHashMap<>();
    for (Row r : rows) {
      List<String> texts = new ArrayList<>();
      if (!r.group().isEmpty()) texts.add(r.group());
      textColumns.forEach(k -> texts.add((String) r.cells().get(k)));
      groups.computeIfAbsent(String.join(" ", texts), g -> new ArrayList<>()).add(r);
    }
    Set<String> ys = new LinkedHashSet<>();
    rows.forEach(r -> r.cells().forEach((k, v) -> {
      if (v instanceof Double && !k.equals(x)) ys.add(k);
    }));
    List<String> unit = new ArrayList<>(), other = new ArrayList<>();
    for (String y : ys) {
      boolean rate = RATE.matcher(y).find() && rows.stream().map(r -> r.cells().get(y))
          .allMatch(v -> !(v instanceof Number n) || n.doubleValue() >= 0 && n.doubleValue() <= 1);
      (rate ? unit : other).add(y);
    }
    List<Figure> out = new ArrayList<>();
    if (!unit.isEmpty()) out.add(line(title, x, unit, groups));
    for (String y : other) {
      if (out.size() < MAX_CHARTS) out.add(line(title, x, List.of(y), groups));
    }
    return out;
  }

  /**
   * Whether text column {@code k} has one value at each x and each of its values one x, and more
   * than one value: a name of the position, not of a curve. A column of one value (an attack's
   * norm) names every curve alike and stays in their names; one that repeats at two x (an attack's
   * name) or differs at one x tells curves apart.
   */
  private static boolean namesX(List<Row> rows, String x, String k) {
    Map<Double, String> textAt = new HashMap<>();
    Map<String, Double> xOf = new HashMap<>();
    for (Row r : rows) {
      Double at = ((Number) r.cells().get(x)).doubleValue();
      String text = (String) r.cells().get(k);
      if (!text.equals(textAt.computeIfAbsent(at, a -> text)) || !at.equals(xOf.computeIfAbsent(text, t -> at))) {
        return false;
      }
    }
    return xOf.size() > 1;
  }

  private static Figure.Line line(String title, String x, List<String> ys, Map<String, List<Row>> groups) {
    List<Figure.Series> series = new ArrayList<>();
    for (String y : ys) {
      for (Map.Entry<String, List<Row>> g : groups.entrySet()) {
        List<Double> xs = new ArrayList<>(), vs = new ArrayList<>();
        for (Row r : g.getValue()) {
          Double v = r.cells().get(y) instanceof Number n ? finite(n.doubleValue()) : null;
          xs.add(((Number) r.cells().get(x)).doubleValue());
          vs.add(v);
        }
        if (vs.stream().allMatch(java.util.Objects::isNull)) continue;
        String name = ys.size() == 1 ? g.getKey() : (g.getKey() + " " + y).strip();
        series.add(new Figure.Series(name.isEmpty() ? y : name, xs, vs));
      }
    }
    List<Figure.Series> shown = series.subList(0, Math.min(series.size(), MAX_CURVES));
    // The scale is the drawn curves' business: a hidden curve's zero or spread must not decide it.
    double min = Double.POSITIVE_INFINITY, max = 0;
    for (Figure.Series s : shown) {
      for (Double v : s.y()) {
        if (v == null) continue;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    boolean log = min > 0 && max / min > 1e3;
    String yLabel = ys.size() == 1 ? ys.get(0) : ys.stream().allMatch(y -> y.contains("accuracy")) ? "accuracy" : "value";
    String chart = (ys.size() == 1 ? title + ": " + ys.get(0) : title)
        + (series.size() > MAX_CURVES ? " (first " + MAX_CURVES + " of " + series.size() + " curves)" : "");
    return new Figure.Line(chart, x, yLabel, null, log, shown);
  }

  private static boolean isArrayOfObjects(JsonNode a) {
    if (a.isEmpty()) return false;
    for (JsonNode e : a) if (!e.isObject()) return false;
    return true;
  }

  private static boolean isNumericArray(JsonNode a) {
    for (JsonNode e : a) if (number(e) == null && !e.isNull() && !isNonFiniteText(e)) return false;
    return true;
  }

  /**
   * Short arrays as text ("[1, 2, 3]", numbers to the digits of a table's cells: an interval read
   * [0.8180901541085861, 0.8632923430872941]), long ones by their length.
   */
  private static String summary(JsonNode a) {
    if (a.size() > 12) return "[" + a.size() + " values]";
    List<String> parts = new ArrayList<>();
    for (JsonNode e : a) {
      parts.add(e.isTextual() ? e.asText() : e.isContainerNode() ? "{..}"
          : e.isFloatingPointNumber() && number(e) != null ? HtmlPage.text(e.asDouble()) : e.toString());
    }
    return "[" + String.join(", ", parts) + "]";
  }

  /** A JSON scalar as a Java value for tables: String, Long, Double (null when not finite), Boolean or null. */
  static Object scalar(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) return null;
    if (v.isIntegralNumber()) return v.asLong();
    if (v.isNumber()) return finite(v.asDouble());
    if (v.isBoolean()) return v.asBoolean();
    if (v.isContainerNode()) return v.toString();
    return v.asText();
  }

  /** A number, or null when the node is none or not finite ({@code "NaN"} text included). */
  static Double number(JsonNode v) {
    return v != null && v.isNumber() ? finite(v.asDouble()) : null;
  }

  /**
   * A 95% interval ({@code [lo, hi]}, a {@code *_ci95} field) as {@code [0.818, 0.863]}: three
   * decimals, as finely as a few thousand images measure a share. Null when the node is no such
   * pair (files from before the intervals have none: nothing is computed in their place).
   */
  static String interval(JsonNode ci) {
    if (!isInterval(ci)) return null;
    return String.format(Locale.ROOT, "[%.3f, %.3f]", ci.get(0).asDouble(), ci.get(1).asDouble());
  }

  /** Whether the node is a 95% interval: two finite numbers. */
  static boolean isInterval(JsonNode ci) {
    return ci != null && ci.isArray() && ci.size() == 2 && number(ci.get(0)) != null && number(ci.get(1)) != null;
  }

  /**
   * A share with its 95% interval, {@code 0.842 [0.818, 0.863]}; without an interval, or without a
   * finite share, the share as {@link #scalar} gives it (a number, as before the intervals).
   */
  static Object withInterval(JsonNode share, JsonNode ci) {
    String interval = interval(ci);
    Double value = number(share);
    return interval == null || value == null ? scalar(share)
        : String.format(Locale.ROOT, "%.3f %s", value, interval);
  }

  static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static boolean isNonFiniteText(JsonNode v) {
    return v.isTextual() && NON_FINITE.contains(v.asText());
  }
}
