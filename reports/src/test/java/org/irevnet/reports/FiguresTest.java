package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generic JSON adapter and the chart geometry on awkward input. */
class FiguresTest {

  private static JsonNode json(String s) throws Exception {
    return JsonReport.MAPPER.readTree(s);
  }

  @Test
  void oddJsonShapesGiveTablesAndNeverFail() throws Exception {
    for (String s : List.of("{}", "[]", "[1, 2]", "3", "\"text\"", "null", "{\"a\": [[1, 2], [3]]}",
        "{\"rows\": [{\"x\": 1}, 2, {\"x\": \"two\"}]}", "{\"a\": {\"b\": {\"c\": [{\"d\": {\"e\": 1}}]}}}")) {
      List<Figure> figs = TreeFigures.of("t", json(s));
      figs.forEach(f -> assertThat(f.title()).startsWith("t"));
      figs.stream().filter(f -> f instanceof Figure.Line).forEach(f -> SvgChart.of((Figure.Line) f));
    }
    Figure.Table t = (Figure.Table) TreeFigures.of("t", json("{\"a\": {\"b\": {\"c\": [{\"d\": {\"e\": 1}}]}}}")).get(0);
    assertThat(t.title()).isEqualTo("t: a.b.c");
    assertThat(t.columns()).containsExactly("d.e");
  }

  /**
   * A table's column that places its rows (here invert --stability's "stage", last of the file's
   * alphabetical fields) comes first: last, it sat off the right edge of the page and the rows
   * could not be told apart. The other columns keep the file's order.
   */
  @Test
  void theColumnThatPlacesTheRowsComesFirst() throws Exception {
    Figure.Table t = (Figure.Table) TreeFigures.tables("s", json("""
        {"stability": [{"condition_max": 1.5, "input_dims": 1024, "stage": "0"},
                       {"condition_max": 16.3, "input_dims": 1024, "stage": "z"}]}""")).get(0);
    assertThat(t.columns()).containsExactly("stage", "condition_max", "input_dims");
    assertThat(t.rows()).containsExactly(List.of("0", 1.5, 1024L), List.of("z", 16.3, 1024L));
    Figure.Table curve = (Figure.Table) TreeFigures.tables("a", json("""
        {"curve": [{"accuracy": 0.9, "eps": 0.0}, {"accuracy": 0.5, "eps": 0.1}]}""")).get(0);
    assertThat(curve.columns()).containsExactly("eps", "accuracy");
  }

  @Test
  void mixedColumnsAreTabledButOnlyNumbersCharted() throws Exception {
    List<Figure> figs = TreeFigures.of("t", json("""
        {"curve": [{"eps": 0, "acc": 0.9, "note": "a", "n": 10}, {"eps": 0.1, "acc": "NaN", "note": "a", "n": 10},
                   {"eps": 0.2, "acc": 0.5, "note": "a", "n": 10}]}"""));
    Figure.Line line = (Figure.Line) figs.get(0);
    assertThat(line.xLabel()).isEqualTo("eps");
    assertThat(line.series()).hasSize(1);
    assertThat(line.series().get(0).y()).containsExactly(0.9, null, 0.5);
    Figure.Table table = (Figure.Table) figs.get(1);
    assertThat(table.rows().get(1)).isEqualTo(Arrays.asList(0.1, "NaN", "a", 10L));
  }

  @Test
  void chartsSurviveEmptyConstantAndNonPositiveLogData() {
    List<Double> x = List.of(0.0, 1.0, 2.0);
    Figure.Line empty = new Figure.Line("e", "x", "y", null, false, List.of(new Figure.Series("s", x,
        Arrays.asList(null, null, null))));
    assertThat(SvgChart.of(empty).empty()).isTrue();
    SvgChart.View flat = SvgChart.of(new Figure.Line("f", "x", "y", null, false,
        List.of(new Figure.Series("s", List.of(5.0), List.of(0.0)))));
    assertThat(flat.curves().get(0).dots()).hasSize(1);
    SvgChart.View log = SvgChart.of(new Figure.Line("l", "x", "y", List.of("a", "b", "c"), true,
        List.of(new Figure.Series("s", x, List.of(0.0, 1e-15, 1e-6)))));
    assertThat(log.curves().get(0).dots()).hasSize(2);
    assertThat(log.yTicks()).extracting(SvgChart.Tick::label).containsExactly("1e-15", "1e-13", "1e-11", "1e-9", "1e-7", "1e-5");
    assertThat(log.xTicks()).extracting(SvgChart.Tick::label).containsExactly("a", "b", "c");
  }

  @Test
  void longSeriesAreThinnedForDrawingOnly() {
    List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      xs.add((double) i);
      ys.add(Math.sin(i / 100.0));
    }
    SvgChart.View v = SvgChart.of(new Figure.Line("s", "step", "y", null, false, List.of(new Figure.Series("s", xs, ys))));
    String path = v.curves().get(0).paths().get(0);
    assertThat(path.split(" ").length).isBetween(SvgChart.MAX_POINTS / 2, SvgChart.MAX_POINTS + 1);
    assertThat(v.curves().get(0).dots()).isEmpty();
  }

  @Test
  void ticksAreRound() {
    List<Double> unit = SvgChart.ticks(0, 1);
    assertThat(unit).hasSize(6);
    assertThat(unit.get(5)).isCloseTo(1.0, offset(1e-12));
    assertThat(SvgChart.ticks(3, 9380).get(1)).isEqualTo(2000.0);
  }

  private static List<String> titles(List<Figure> figs) {
    return figs.stream().map(Figure::title).toList();
  }

  @Test
  void scalarsOutsideArraysFormOneTableWithArraysSummarised() throws Exception {
    List<Figure> figs = TreeFigures.of("t", json("""
        {"schemaVersion": 1, "name": "x", "ok": true, "rate": 0.25, "n": null,
         "nested": {"schemaVersion": 2, "deep": {"k": 3}},
         "twelve": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "thirteen": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
         "mixed": ["a", 1.5, {"o": 1}, [2]], "none": []}"""));
    // Only the file's own schemaVersion is bookkeeping; a nested one is data.
    assertThat(figs).singleElement().isEqualTo(new Figure.Table("t", List.of("field", "value"), List.of(
        Arrays.asList("name", "x"), Arrays.asList("ok", true), Arrays.asList("rate", 0.25), Arrays.asList("n", null),
        Arrays.asList("nested.schemaVersion", 2L), Arrays.asList("nested.deep.k", 3L),
        Arrays.asList("twelve", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"), Arrays.asList("thirteen", "[13 values]"),
        Arrays.asList("mixed", "[a, 1.5, {..}, {..}]"), Arrays.asList("none", "[]")), null));
    assertThat(TreeFigures.of("t", json("3"))).singleElement()
        .isEqualTo(new Figure.Table("t", List.of("field", "value"), List.of(Arrays.asList("value", 3L)), null));
    // A root array of non-objects is one value, shown as its JSON.
    assertThat(TreeFigures.of("t", json("[1, [2]]"))).singleElement()
        .isEqualTo(new Figure.Table("t", List.of("field", "value"), List.of(Arrays.asList("value", "[1,[2]]")), null));
    assertThat(TreeFigures.of("t", com.fasterxml.jackson.databind.node.MissingNode.getInstance())).isEmpty();
  }

  @Test
  void siblingNumericArraysOfOneLengthAreRowsAndALoneOneIsNot() throws Exception {
    List<Figure> figs = TreeFigures.of("t", json("""
        {"dims": [1, 2, 4], "accuracy": [0.5, null, "NaN"], "loss": [2.0, 1.0], "note": ["a", "b", "c"],
         "one": [1], "other": [2], "probe": {"k": [1, 2], "err": [0.1, 1e-5]}}"""));
    // probe's arrays are found while walking the root, before the root's own.
    assertThat(titles(figs)).containsExactly("t", "t: probe: err", "t: probe", "t: accuracy", "t");
    Figure.Line err = (Figure.Line) figs.get(1);
    assertThat(err.xLabel()).isEqualTo("k");
    assertThat(err.logY()).as("0.1 over 1e-5 spans four decades").isTrue();
    assertThat(figs.get(2)).isEqualTo(new Figure.Table("t: probe", List.of("k", "err"),
        List.of(Arrays.asList(1L, 0.1), Arrays.asList(2L, 1e-5)), null));
    Figure.Line acc = (Figure.Line) figs.get(3);
    assertThat(acc.xLabel()).isEqualTo("dims");
    assertThat(acc.series()).singleElement().isEqualTo(new Figure.Series("accuracy", List.of(1.0, 2.0, 4.0),
        Arrays.asList(0.5, null, null)));
    assertThat(figs.get(4)).isEqualTo(new Figure.Table("t", List.of("dims", "accuracy"),
        List.of(Arrays.asList(1L, 0.5), Arrays.asList(2L, null), Arrays.asList(4L, "NaN")), null));
  }

  /**
   * Two accuracies' 95% intervals (nuisance-probe.json's) are two values of the key/value table, to
   * a cell's digits: taken for sibling numeric arrays, their bounds made a stray two-row table, and
   * each read with all seventeen digits.
   */
  @Test
  void intervalsAreValuesNotRows() throws Exception {
    List<Figure> figs = TreeFigures.of("t", json("""
        {"logit_accuracy": 0.842, "logit_accuracy_ci95": [0.8180901541085861, 0.8632923430872941],
         "nuisance_accuracy_ci95": [0.8424178447972049, 0.8847886215083399], "lengths": [1.5, 2.5]}"""));
    assertThat(figs).singleElement().isEqualTo(new Figure.Table("t", List.of("field", "value"), List.of(
        Arrays.asList("logit_accuracy", 0.842), Arrays.asList("logit_accuracy_ci95", "[0.8181, 0.8633]"),
        Arrays.asList("nuisance_accuracy_ci95", "[0.8424, 0.8848]"), Arrays.asList("lengths", "[1.5, 2.5]")), null));
  }

  @Test
  void ratesShareAChartOtherColumnsGetTheirOwnUpToTheCap() throws Exception {
    StringBuilder rows = new StringBuilder();
    double[][] v = {{0.0, 0.0, 1.0}, {0.5, 0.5, 0.25}};
    for (String attack : List.of("fgsm", "pgd")) {
      for (double[] p : v) {
        if (rows.length() > 0) rows.append(", ");
        rows.append(String.format(java.util.Locale.ROOT, """
            {"eps": %s, "attack": "%s", "note": "%s", "tags": ["%s"], "accuracy": %s, "success_rate": %s,
             "top_acc": 1.5, "l2": %s, "dist": %s, "zero": %s, "e1": 0.5, "e2": 0.5}""", p[0], attack,
            p[0] == 0 && attack.equals("fgsm") ? "NaN" : "ok", attack, p[1], p[2], p[0] == 0 ? 1e-3 : 10.0,
            p[0] == 0 ? 1.0 : 1000.0, p[0] == 0 ? 0.0 : 1e6));
      }
    }
    List<Figure> figs = TreeFigures.of("t", json("{\"curve\": [" + rows + "]}"));
    // At most MAX_CHARTS charts: e2 is tabled only.
    assertThat(titles(figs)).containsExactly("t: curve", "t: curve: top_acc", "t: curve: l2", "t: curve: dist",
        "t: curve: zero", "t: curve: e1", "t: curve");
    Figure.Line rates = (Figure.Line) figs.get(0);
    // 0 and 1 are rates; "note" has a non-finite number in one row and "tags" are lists: neither names a curve.
    assertThat(rates.yLabel()).isEqualTo("value");
    assertThat(rates.series()).extracting(Figure.Series::name).containsExactly("fgsm accuracy", "pgd accuracy",
        "fgsm success_rate", "pgd success_rate");
    assertThat(rates.series().get(3).y()).containsExactly(1.0, 0.25);
    assertThat(rates.logY()).isFalse();
    assertThat(((Figure.Line) figs.get(1)).series()).extracting(Figure.Series::name).containsExactly("fgsm", "pgd");
    assertThat(((Figure.Line) figs.get(1)).yLabel()).isEqualTo("top_acc");
    // A span over three decades is drawn on a log axis; exactly three, or down to 0, is not.
    assertThat(figs.subList(2, 5)).extracting(f -> ((Figure.Line) f).logY()).containsExactly(true, false, false);
  }

  @Test
  void rowsOfNestedArraysAreGroupedByTheTextOfTheirElement() throws Exception {
    List<Figure> figs = TreeFigures.of("t", json("""
        {"attacks": [{"name": "fgsm", "tags": ["a"], "curve": [{"eps": 0.0, "norm": "linf", "accuracy": 0.9},
                                                             {"eps": 0.1, "norm": "linf", "accuracy": 0.4, "clean_accuracy": 0.9}]},
                     {"name": "pgd", "cfg": {"steps": 10}, "curve": [{"eps": 0.0, "norm": "linf", "accuracy": 0.9},
                                                                   {"eps": 0.1, "norm": "linf", "accuracy": 0.2}]}]}"""));
    assertThat(titles(figs)).containsExactly("t: attacks", "t: attacks[].curve", "t: attacks[].curve");
    assertThat(figs.get(0)).isEqualTo(new Figure.Table("t: attacks", List.of("name", "tags", "cfg.steps"),
        List.of(Arrays.asList("fgsm", "[a]", null), Arrays.asList("pgd", null, 10L)), null));
    Figure.Line acc = (Figure.Line) figs.get(1);
    // Curves of two accuracies share the label; a group whose curve has no number at all is left out.
    assertThat(acc.yLabel()).isEqualTo("accuracy");
    assertThat(acc.series()).extracting(Figure.Series::name).containsExactly("fgsm linf accuracy",
        "pgd linf accuracy", "fgsm linf clean_accuracy");
    assertThat(acc.series().get(1).y()).containsExactly(0.9, 0.2);
    assertThat(acc.series().get(2).y()).containsExactly(null, 0.9);
    assertThat(figs.get(2)).isEqualTo(new Figure.Table("t: attacks[].curve", List.of("group", "eps", "norm", "accuracy",
        "clean_accuracy"), List.of(Arrays.asList("fgsm", 0.0, "linf", 0.9, null), Arrays.asList("fgsm", 0.1, "linf", 0.4, 0.9),
            Arrays.asList("pgd", 0.0, "linf", 0.9, null), Arrays.asList("pgd", 0.1, "linf", 0.2, null)), null));
  }

  @Test
  void aTextColumnNamingTheXPositionNamesNoCurve() throws Exception {
    // "layer" has one value per stage and one stage per value: a name of the position. "probe"
    // repeats at every stage and "kind" is the same throughout: they still name the curves.
    StringBuilder rows = new StringBuilder();
    for (String probe : List.of("linear", "knn")) {
      for (int stage = 0; stage < 3; stage++) {
        rows.append(rows.length() == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT,
            "{\"stage\": %d, \"layer\": \"block%d\", \"probe\": \"%s\", \"kind\": \"test\", \"accuracy\": %s}",
            stage, stage, probe, (probe.equals("knn") ? 0.25 : 0.5) + stage / 8.0));
      }
    }
    Figure.Line acc = (Figure.Line) TreeFigures.of("t", json("{\"stages\": [" + rows + "]}")).get(0);
    assertThat(acc.xLabel()).isEqualTo("stage");
    assertThat(acc.series()).extracting(Figure.Series::name).containsExactly("linear test", "knn test");
    assertThat(acc.series().get(1).x()).containsExactly(0.0, 1.0, 2.0);
    assertThat(acc.series().get(1).y()).containsExactly(0.25, 0.375, 0.5);
  }

  @Test
  void elementsNoTextTellsApartKeepACurveEachByPosition() throws Exception {
    // interpolate.json's shape: pairs without class names, and two pairs of the same two classes.
    List<Figure> figs = TreeFigures.of("t", json("""
        {"pairs": [{"label_from": 1, "full": [{"alpha": 0.0, "probability": 0.9}, {"alpha": 1.0, "probability": 0.8}]},
                   {"label_from": 2, "full": [{"alpha": 0.0, "probability": 0.7}, {"alpha": 1.0, "probability": 0.6}]}],
         "named": [{"from": "Bag", "steps": [{"alpha": 0.0, "p": 0.5}, {"alpha": 1.0, "p": 0.25}]},
                   {"from": "Bag", "steps": [{"alpha": 0.0, "p": 0.75}, {"alpha": 1.0, "p": 0.5}]},
                   {"from": "Coat", "steps": [{"alpha": 0.0, "p": 0.125}, {"alpha": 1.0, "p": 0.5}]}]}"""));
    Figure.Line full = (Figure.Line) figs.stream().filter(f -> f.title().equals("t: pairs[].full: probability"))
        .findFirst().orElseThrow();
    assertThat(full.series()).extracting(Figure.Series::name).containsExactly("#0", "#1");
    assertThat(full.series().get(1).y()).containsExactly(0.7, 0.6);
    Figure.Line named = (Figure.Line) figs.stream().filter(f -> f.title().equals("t: named[].steps: p"))
        .findFirst().orElseThrow();
    assertThat(named.series()).extracting(Figure.Series::name).containsExactly("Bag #0", "Bag #1", "Coat");
    assertThat(named.series().get(1).y()).containsExactly(0.75, 0.5);
  }

  @Test
  void aChartDrawsAtMostMaxCurvesAndSaysSo() throws Exception {
    for (int n : new int[] {TreeFigures.MAX_CURVES, TreeFigures.MAX_CURVES + 3}) {
      StringBuilder pairs = new StringBuilder();
      for (int i = 0; i < n; i++) {
        pairs.append(i == 0 ? "" : ",").append("{\"full\": [{\"alpha\": 0.0, \"probability\": ").append(i / 100.0)
            .append("}, {\"alpha\": 1.0, \"probability\": 0.5}]}");
      }
      Figure.Line full = (Figure.Line) TreeFigures.of("t", json("{\"pairs\": [" + pairs + "]}")).stream()
          .filter(f -> f instanceof Figure.Line).findFirst().orElseThrow();
      assertThat(full.series()).as("n = " + n).hasSize(TreeFigures.MAX_CURVES);
      assertThat(full.series().get(TreeFigures.MAX_CURVES - 1).y()).containsExactly((TreeFigures.MAX_CURVES - 1) / 100.0, 0.5);
      assertThat(full.title()).as("n = " + n).isEqualTo("t: pairs[].full: probability"
          + (n > TreeFigures.MAX_CURVES ? " (first " + TreeFigures.MAX_CURVES + " of " + n + " curves)" : ""));
    }
  }

  @Test
  void onlyTheDrawnCurvesChooseTheLogScale() throws Exception {
    // A hidden ninth curve at 1e-6 would have made a chart of values in [1, 2] logarithmic, and a
    // hidden zero a chart spanning four decades linear.
    assertThat(lineOfNinePairs(i -> 1 + i / 8.0, 1e-6).logY()).isFalse();
    assertThat(lineOfNinePairs(i -> Math.pow(10, -i / 2.0), 0).logY()).isTrue();
    assertThat(lineOfNinePairs(i -> 1 + i / 8.0, 1.5).logY()).isFalse();
    assertThat(lineOfNinePairs(i -> Math.pow(10, -i / 2.0), 0.5).logY()).isTrue();
  }

  /** A chart of nine curves (one hidden): the first eight at {@code drawn(i)} and 1, the ninth at {@code hidden}. */
  private static Figure.Line lineOfNinePairs(java.util.function.IntToDoubleFunction drawn, double hidden) throws Exception {
    StringBuilder pairs = new StringBuilder();
    for (int i = 0; i <= TreeFigures.MAX_CURVES; i++) {
      double v = i < TreeFigures.MAX_CURVES ? drawn.applyAsDouble(i) : hidden;
      pairs.append(i == 0 ? "" : ",").append("{\"full\": [{\"alpha\": 0.0, \"loss\": ").append(v)
          .append("}, {\"alpha\": 1.0, \"loss\": 1.0}]}");
    }
    Figure.Line line = (Figure.Line) TreeFigures.of("t", json("{\"pairs\": [" + pairs + "]}")).stream()
        .filter(f -> f instanceof Figure.Line).findFirst().orElseThrow();
    assertThat(line.series()).hasSize(TreeFigures.MAX_CURVES);
    return line;
  }

  @Test
  void aTableShowsAtMostMaxRowsAndSaysSo() throws Exception {
    for (int n : new int[] {TreeFigures.MAX_ROWS, TreeFigures.MAX_ROWS + 1}) {
      StringBuilder rows = new StringBuilder();
      for (int i = 0; i < n; i++) rows.append(i == 0 ? "" : ", ").append("{\"name\": \"r").append(i).append("\"}");
      Figure.Table t = (Figure.Table) TreeFigures.of("t", json("{\"rows\": [" + rows + "]}")).get(0);
      assertThat(t.rows()).as("n = " + n).hasSize(TreeFigures.MAX_ROWS);
      assertThat(t.note()).as("n = " + n).isEqualTo(n > TreeFigures.MAX_ROWS ? "first 40 of 41 rows" : null);
    }
  }
}
