package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** report.html's view model: how values are written, how matrices are shaded, how runs line up. */
class HtmlPageTest {

  @Test
  void valuesAreWrittenAsIntegersWithFourSignificantDigitsOrInScientificNotation() {
    assertThat(HtmlPage.text(null)).isEqualTo("–");
    assertThat(HtmlPage.text(3.0)).isEqualTo("3");
    assertThat(HtmlPage.text(-2.0)).isEqualTo("-2");
    assertThat(HtmlPage.text(999_999_999_999_999.0)).isEqualTo("999999999999999");
    assertThat(HtmlPage.text(1e15)).as("integers from 1e15 on are too long").isEqualTo("1.000e+15");
    assertThat(HtmlPage.text(-1e15)).isEqualTo("-1.000e+15");
    assertThat(HtmlPage.text(0.123456)).isEqualTo("0.1235");
    assertThat(HtmlPage.text(-0.5)).isEqualTo("-0.5");
    assertThat(HtmlPage.text(123456.7)).isEqualTo("123500");
    assertThat(HtmlPage.text(0.001)).as("the smallest plain number").isEqualTo("0.001");
    assertThat(HtmlPage.text(-0.001)).isEqualTo("-0.001");
    assertThat(HtmlPage.text(0.000999)).isEqualTo("9.990e-04");
    assertThat(HtmlPage.text(1234567.5)).isEqualTo("1.235e+06");
    assertThat(HtmlPage.text(Double.NaN)).isEqualTo("NaN");
    assertThat(HtmlPage.text(7L)).isEqualTo("7");
    assertThat(HtmlPage.text("fgsm")).isEqualTo("fgsm");
    assertThat(HtmlPage.text(true)).isEqualTo("true");
  }

  @Test
  void onlyTextLongerThan24CharactersWraps() {
    assertThat(HtmlPage.Text.of("a".repeat(24))).isEqualTo(new HtmlPage.Text("a".repeat(24), false));
    assertThat(HtmlPage.Text.of("a".repeat(25))).isEqualTo(new HtmlPage.Text("a".repeat(25), true));
  }

  /**
   * A long key wrapped anywhere, mid-word ("sanity.max_abs_diff_at_zer" / "o"): the page now
   * offers a break after each '.' and '_', so a line ends between its parts first. A path keeps
   * the browser's own breaks (after its hyphens, else anywhere).
   */
  @Test
  void aWrappingCellMayBreakAfterDotsUnderscoresAndSlashes() {
    assertThat(HtmlPage.Text.of("sanity.max_abs_diff_at_zero").parts()).extracting(HtmlPage.Part::text)
        .containsExactly("sanity.", "max_", "abs_", "diff_", "at_", "zero");
    assertThat(HtmlPage.Text.of("a_b").parts()).containsExactly(new HtmlPage.Part("a_b", false));
    // Not at a decimal point: a list of accuracies broke between "0." and its digits.
    assertThat(HtmlPage.breakable("[0.76, 0.94, 1.5e-3] of x.y")).containsExactly(
        new HtmlPage.Part("[0.76, 0.94, 1.5e-3] of x.", true), new HtmlPage.Part("y", false));
    // A decimal point has a digit on both sides: a key's list index ("curve.0.accuracy") has one
    // on a single side of each dot and breaks at both.
    assertThat(HtmlPage.breakable("curve.0.accuracy")).extracting(HtmlPage.Part::text)
        .containsExactly("curve.", "0.", "accuracy");
    // No break at the end, nor a look before the start: a cell ending "1." or starting "." is one part.
    assertThat(HtmlPage.breakable("epoch 1.")).containsExactly(new HtmlPage.Part("epoch 1.", false));
    assertThat(HtmlPage.breakable("rate_")).containsExactly(new HtmlPage.Part("rate_", false));
    assertThat(HtmlPage.breakable(".5")).containsExactly(new HtmlPage.Part(".", true), new HtmlPage.Part("5", false));
    Figure.Table t = new Figure.Table("t", List.of("field", "value"), List.of(List.of("timing.load_average_start",
        "/tmp/qsclone/data/fashion-mnist-mini/")), null);
    String html = HtmlPage.render(report(List.of(t), run("a"), run("b")));
    assertThat(html).contains("<td class=\"wrap\">timing.<wbr>load_<wbr>average_<wbr>start</td>")
        .contains("<td class=\"wrap\">/tmp/qsclone/data/fashion-mnist-mini/</td>")
        .contains("<td>steps</td>");
  }

  /**
   * Column names of fields (forward_lipschitz_max) kept a table as wide as its names: with two
   * runs at 1280 px, 23 of the quickstart report's 117 figures scrolled part of a table out of
   * sight (14 now). A name may now wrap after its '_' and '.'.
   */
  @Test
  void columnNamesMayWrapAfterUnderscoresAndDots() {
    Figure.Table t = new Figure.Table("t", List.of("stage", "forward_lipschitz_max", "timing.seconds"),
        List.of(List.of("0", 4.594, 2.0)), null);
    String html = HtmlPage.render(report(List.of(t), run("a"), run("b")));
    assertThat(html).contains("<thead><tr><th>stage</th><th>forward_<wbr>lipschitz_<wbr>max</th><th>timing.<wbr>seconds"
        + "</th></tr></thead>");
  }

  private static Report.Run run(String name, Section... sections) {
    return new Report.Run(name, "/runs/" + name, JsonReport.MAPPER.createObjectNode(),
        JsonReport.MAPPER.createObjectNode(), Map.of(), List.of(sections));
  }

  private static Report report(List<Figure> comparison, Report.Run... runs) {
    return new Report(JsonReport.SCHEMA_VERSION, List.of(runs), new Figure.Table("headline", List.of("", "a"),
        List.of(Arrays.asList("steps", 60.0)), null), comparison);
  }

  /** The one figure of the one section of run 0. */
  private static HtmlPage.FigureView only(Figure f) {
    HtmlPage.Page p = HtmlPage.page(report(List.of(), run("a", Section.ok("accuracy", "Accuracy", List.of(), List.of(f)))));
    return p.sections().get(0).cells().get(0).figures().get(0);
  }

  /**
   * Each cell is shaded by its share of the row's total: 0.2, 0.6 (white text above one half),
   * exactly 0.5 (still black); a missing value, a negative one and a row without a positive total
   * are not shaded. Rows without a label are numbered.
   */
  @Test
  void matrixCellsAreShadedByTheirShareOfTheRow() {
    HtmlPage.FigureView v = only(new Figure.Matrix("confusion", "label", "class", List.of("x", "y", "z"), List.of(
        List.of(2.0, 6.0, 2.0), Arrays.asList(1.0, null, 1.0), List.of(-1.0, 1.0, 0.0), List.of(0.0, 0.0, 0.0))));
    assertThat(v.title()).isEqualTo("confusion");
    assertThat(List.of(v.chart() == null, v.table() == null, v.image() == null, v.legend().isEmpty()))
        .containsOnly(true);
    HtmlPage.MatrixView m = v.matrix();
    assertThat(List.of(m.rowLabel(), m.columnLabel())).containsExactly("label", "class");
    assertThat(m.labels()).containsExactly("x", "y", "z");
    assertThat(m.rows()).extracting(HtmlPage.MatrixRow::label).containsExactly("x", "y", "z", "3");
    String white = "background:rgba(0,114,178,%s);color:#fff", black = "background:rgba(0,114,178,%s);color:#000";
    assertThat(m.rows().get(0).cells()).containsExactly(new HtmlPage.MatrixCell("2", black.formatted("0.20")),
        new HtmlPage.MatrixCell("6", white.formatted("0.60")), new HtmlPage.MatrixCell("2", black.formatted("0.20")));
    assertThat(m.rows().get(1).cells()).containsExactly(new HtmlPage.MatrixCell("1", black.formatted("0.50")),
        new HtmlPage.MatrixCell("–", black.formatted("0.00")), new HtmlPage.MatrixCell("1", black.formatted("0.50")));
    // The row's total is 0: nothing is shaded, the -1 included.
    assertThat(m.rows().get(2).cells()).extracting(HtmlPage.MatrixCell::style).containsOnly(black.formatted("0.00"));
    assertThat(m.rows().get(3).cells()).extracting(HtmlPage.MatrixCell::style).containsOnly(black.formatted("0.00"));
  }

  @Test
  void aNegativeValueInARowWithAPositiveTotalIsNotShaded() {
    HtmlPage.MatrixView m = only(new Figure.Matrix("m", "r", "c", List.of("x", "y"),
        List.of(List.of(-1.0, 3.0)))).matrix();
    assertThat(m.rows().get(0).cells()).extracting(HtmlPage.MatrixCell::style).containsExactly(
        "background:rgba(0,114,178,0.00);color:#000", "background:rgba(0,114,178,1.00);color:#fff");
  }

  @Test
  void aChartHasALegendOnlyForMoreThanOneCurve() {
    Figure.Series s = new Figure.Series("s", List.of(0.0, 1.0), List.of(1.0, 2.0));
    HtmlPage.FigureView one = only(new Figure.Line("one", "x", "y", null, false, List.of(s)));
    assertThat(one.chart()).isNotNull();
    assertThat(one.legend()).isEmpty();
    assertThat(one.hasLegend()).isFalse();
    HtmlPage.FigureView two = only(new Figure.Line("two", "x", "y", null, false,
        List.of(s, new Figure.Series("t", List.of(0.0), List.of(3.0)))));
    assertThat(two.legend()).containsExactly(new HtmlPage.Legend(SvgChart.COLORS.get(0), "", "s"),
        new HtmlPage.Legend(SvgChart.COLORS.get(1), "7 3", "t"));
    assertThat(two.hasLegend()).isTrue();
    assertThat(List.of(two.table() == null, two.matrix() == null, two.image() == null)).containsOnly(true);
  }

  /**
   * Curves were told apart by colour alone: in grey print, and where one lies on another (a run
   * beside its copy), a reader saw fewer curves than the legend named. The second curve is dashed,
   * and its legend swatch is a line dashed alike; the first stays solid.
   */
  @Test
  void aCurveAndItsLegendSwatchShareTheirDashPattern() {
    Figure.Series s = new Figure.Series("s", List.of(0.0, 1.0), List.of(1.0, 2.0));
    String html = HtmlPage.render(report(List.of(new Figure.Line("two", "x", "y", null, false,
        List.of(s, new Figure.Series("t", List.of(0.0, 1.0), List.of(1.0, 2.0))))), run("a"), run("b")));
    String second = "stroke=\"" + SvgChart.COLORS.get(1) + "\" stroke-dasharray=\"7 3\"";
    assertThat(html).contains("<polyline class=\"curve\" points=\"62.0,210.0 426.0,10.0\" " + second + "/>")
        .contains("<line x1=\"0\" x2=\"26\" y1=\"4\" y2=\"4\" " + second + "/></svg>t</li>")
        .contains("<polyline class=\"curve\" points=\"62.0,210.0 426.0,10.0\" stroke=\"" + SvgChart.COLORS.get(0)
            + "\"/>");
  }

  @Test
  void tablesAndImagesBecomeTheirViews() {
    HtmlPage.FigureView t = only(new Figure.Table("t", List.of("name", "value"),
        List.of(Arrays.asList("a much longer name than that", 0.5), Arrays.asList("b", null)), "first 2 of 3 rows"));
    assertThat(t.table()).isEqualTo(new HtmlPage.TableView(List.of("name", "value"), List.of(
        new HtmlPage.RowView(List.of(new HtmlPage.Text("a much longer name than that", true),
            new HtmlPage.Text("0.5", false))),
        new HtmlPage.RowView(List.of(new HtmlPage.Text("b", false), new HtmlPage.Text("–", false)))),
        "first 2 of 3 rows"));
    assertThat(List.of(t.chart() == null, t.matrix() == null, t.image() == null)).containsOnly(true);
    // The bytes "PNG" are "UE5H" in base 64.
    HtmlPage.FigureView i = only(new Figure.Image("samples", "analysis/s.png", 20, 12, new byte[] {'P', 'N', 'G'}));
    assertThat(i.image()).isEqualTo(new HtmlPage.ImageView("data:image/png;base64,UE5H", 20, 12, "analysis/s.png"));
    assertThat(i.title()).isEqualTo("samples");
    assertThat(List.of(i.chart() == null, i.table() == null, i.matrix() == null)).containsOnly(true);
  }

  /**
   * Sections in report order, one cell per run: a run without the section gets a "not run" cell of
   * its own, and a section no run has is left out.
   */
  @Test
  void sectionsFollowTheReportOrderWithACellPerRun() {
    Section attacksA = Section.error("attacks", "Attacks", List.of("analysis/attack-x.json", "analysis/attack-y.json"),
        "attack-x.json: broken");
    Section configA = Section.ok("config", "Run configuration and environment", List.of("config.json"), List.of());
    Section attacksB = Section.notRun("attacks", "Attacks", "bin/irevnet attack");
    HtmlPage.Page p = HtmlPage.page(report(List.of(), run("a", attacksA, configA), run("b", attacksB)));
    assertThat(p.title()).isEqualTo("irevnet report: a vs b");
    assertThat(p.columns()).isEqualTo(2);
    assertThat(p.runs()).containsExactly("a", "b");
    assertThat(p.hasComparison()).isFalse();
    assertThat(p.headline().rows()).containsExactly(new HtmlPage.RowView(List.of(new HtmlPage.Text("steps", false),
        new HtmlPage.Text("60", false))));
    assertThat(p.sections()).extracting(HtmlPage.SectionView::id).containsExactly("config", "attacks");
    HtmlPage.SectionView config = p.sections().get(0), attacks = p.sections().get(1);
    assertThat(config.title()).isEqualTo("Run configuration and environment");
    assertThat(config.cells()).containsExactly(
        new HtmlPage.Cell("a", "ok", false, false, false, null, "config.json", List.of(), List.of()),
        new HtmlPage.Cell("b", "not run", true, false, false, "nothing in this run", "", List.of(), List.of()));
    assertThat(attacks.title()).isEqualTo("Attacks");
    assertThat(attacks.cells()).containsExactly(
        new HtmlPage.Cell("a", "error", false, true, false, "attack-x.json: broken",
            "analysis/attack-x.json, analysis/attack-y.json", List.of(), List.of()),
        new HtmlPage.Cell("b", "not run", true, false, false, "bin/irevnet attack", "", List.of(), List.of()));

    // Only the second run has the section: its title is still the section's.
    HtmlPage.Page second = HtmlPage.page(report(List.of(), run("a"), run("b", attacksB)));
    assertThat(second.sections()).singleElement().satisfies(s -> assertThat(s.title()).isEqualTo("Attacks"));
  }

  /**
   * A section that a run could not use, or whose check failed, was marked only in that run's column
   * further down: with five runs a reader scrolled every section to find it. The table of contents
   * now marks it; sections without either are plain links.
   */
  @Test
  void theTableOfContentsMarksSectionsWithAnErrorOrAFailedCheck() {
    Section metamers = Section.ok("metamers", "Metamers", List.of("analysis/metamers.json"), List.of())
        .failed("analysis/metamers.json: invariant_holds false");
    Section attacks = Section.error("attacks", "Attacks", List.of("analysis/attack-x.json"), "attack-x.json: broken");
    Section config = Section.ok("config", "Run configuration and environment", List.of("config.json"), List.of());
    String html = HtmlPage.render(report(List.of(), run("a", config, metamers, attacks), run("b", config,
        Section.notRun("attacks", "Attacks", "bin/irevnet attack"))));
    String nav = html.substring(html.indexOf("<nav>"), html.indexOf("</nav>"));
    assertThat(nav).contains("<a href=\"#config\">Run configuration and environment</a>")
        .contains("<a href=\"#metamers\">Metamers<span class=\"status failed\">check failed</span></a>")
        .contains("<a href=\"#attacks\">Attacks<span class=\"status error\">error</span></a>");
  }

  @Test
  void comparisonFiguresAreRenderedLikeSectionFigures() {
    Figure.Table t = new Figure.Table("per-layer probes", List.of("run"), List.of(List.of("a")), null);
    HtmlPage.Page p = HtmlPage.page(report(List.of(t), run("a"), run("b")));
    assertThat(p.hasComparison()).isTrue();
    assertThat(p.comparison()).singleElement().satisfies(f -> {
      assertThat(f.title()).isEqualTo("per-layer probes");
      assertThat(f.table().rows()).containsExactly(new HtmlPage.RowView(List.of(new HtmlPage.Text("a", false))));
    });
    assertThat(p.sections()).isEmpty();
  }
}
