package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

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
    assertThat(unit.get(5)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(SvgChart.ticks(3, 9380).get(1)).isEqualTo(2000.0);
  }
}
