package org.irevnet.reports;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code report.html}: one self-contained page (inline CSS, charts as inline SVG, images as
 * {@code data:} URIs, no script, nothing fetched) rendered from {@code report.mustache}. Every
 * value goes through Mustache's {@code {{...}}}, which HTML-escapes it; the templates use no
 * unescaped {@code {{{...}}}}. Several runs are laid out side by side, one column per run.
 */
final class HtmlPage {
  private static final Mustache PAGE = new DefaultMustacheFactory("org/irevnet/reports").compile("report.mustache");

  private HtmlPage() {}

  // The view model: what report.mustache reads. Records are public for Mustache's reflection.
  public record Page(String title, int columns, List<String> runs, TableView headline, List<FigureView> comparison,
      List<SectionView> sections) {
    public boolean hasComparison() {
      return !comparison.isEmpty();
    }
  }

  public record SectionView(String id, String title, List<Cell> cells) {
    /** Whether a run's part could not be used: the table of contents marks the section. */
    public boolean anyError() {
      return cells.stream().anyMatch(Cell::error);
    }

    /** Whether a run's part records a failed check of its own. */
    public boolean anyFailed() {
      return cells.stream().anyMatch(Cell::failed);
    }
  }

  /** One run's part of a section. */
  public record Cell(String run, String status, boolean notRun, boolean error, boolean failed, String note,
      String sources, List<String> otherData, List<FigureView> figures) {
    /** What the note of a section without results starts with: it was not run, or cannot be. */
    public String notRunLabel() {
      return status.equals(NOT_APPLICABLE) ? "Not applicable" : "Not run";
    }
  }

  static final String NOT_APPLICABLE = "not applicable";

  /** Exactly one of chart, table, matrix, image is set. */
  public record FigureView(String title, SvgChart.View chart, List<Legend> legend, TableView table,
      MatrixView matrix, ImageView image) {
    public boolean hasLegend() {
      return !legend.isEmpty();
    }
  }

  public record Legend(String color, String dash, String name) {}

  public record TableView(List<String> columns, List<RowView> rows, String note) {
    /**
     * The column names, each breakable after its '.' and '_': a table of long field names
     * ({@code forward_lipschitz_max}, {@code adversary_test_accuracy}) was as wide as its names,
     * and in a run's column its right part scrolled out of sight.
     */
    public List<List<Part>> headers() {
      return columns.stream().map(HtmlPage::breakable).toList();
    }
  }

  public record RowView(List<Text> cells) {}

  /** A table cell; long text may wrap, the rest (numbers, short names) stays on one line. */
  public record Text(String text, boolean wrap) {
    static Text of(Object v) {
      String t = HtmlPage.text(v);
      return new Text(t, t.length() > 24);
    }

    /**
     * The text of a cell that wraps, cut after each '.' and '_' where the template puts a
     * {@code <wbr>}: a dotted key then wraps between its parts ({@code timing.} /
     * {@code load_average_start}), not inside a word, and copies as it is.
     */
    public List<Part> parts() {
      return wrap ? breakable(text) : List.of(new Part(text, false));
    }
  }

  /**
   * {@code text} cut after each '.' and '_' (not at its end, nor at a decimal point: a list of
   * accuracies broke as "0." / "8181"), where a line may break.
   */
  static List<Part> breakable(String text) {
    List<Part> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < text.length() - 1; i++) {
      char c = text.charAt(i);
      boolean decimalPoint = c == '.' && i > 0 && Character.isDigit(text.charAt(i - 1))
          && Character.isDigit(text.charAt(i + 1));
      if ((c == '.' || c == '_') && !decimalPoint) {
        out.add(new Part(text.substring(start, i + 1), true));
        start = i + 1;
      }
    }
    out.add(new Part(text.substring(start), false));
    return out;
  }

  /** A piece of a cell's text; {@code breakAfter}: a line may break after it. */
  public record Part(String text, boolean breakAfter) {}

  public record MatrixView(String rowLabel, String columnLabel, List<String> labels, List<MatrixRow> rows) {}

  public record MatrixRow(String label, List<MatrixCell> cells) {}

  public record MatrixCell(String text, String style) {}

  public record ImageView(String src, int width, int height, String file) {}

  static String render(Report r) {
    StringWriter w = new StringWriter();
    PAGE.execute(w, page(r));
    return w.toString();
  }

  static Page page(Report r) {
    List<String> names = r.runs().stream().map(Report.Run::name).toList();
    List<SectionView> sections = new ArrayList<>();
    for (String id : RunSections.IDS) {
      if (r.runs().stream().noneMatch(run -> section(run, id).isPresent())) continue;
      String title = null;
      List<Cell> cells = new ArrayList<>();
      for (Report.Run run : r.runs()) {
        Optional<Section> s = section(run, id);
        if (s.isPresent()) title = s.get().title();
        cells.add(s.map(sec -> cell(run.name(), sec)).orElse(
            new Cell(run.name(), "not run", true, false, false, "nothing in this run", "", List.of(), List.of())));
      }
      sections.add(new SectionView(id, title, cells));
    }
    String title = "irevnet report: " + String.join(" vs ", names);
    List<FigureView> comparison = new ArrayList<>();
    for (Figure f : r.comparison()) comparison.add(figure(f));
    return new Page(title, names.size(), names, table(r.headline()), comparison, sections);
  }

  private static Optional<Section> section(Report.Run run, String id) {
    return run.sections().stream().filter(s -> s.id().equals(id)).findFirst();
  }

  private static Cell cell(String run, Section s) {
    List<FigureView> figs = new ArrayList<>();
    for (Figure f : s.figures()) figs.add(figure(f));
    boolean notApplicable = s.status().equals(Section.NOT_APPLICABLE);
    // Shown as a section without results (greyed, its note), under its own label.
    boolean notRun = s.status().equals(Section.NOT_RUN) || notApplicable, error = s.status().equals(Section.ERROR);
    boolean failed = s.status().equals(Section.FAILED);
    String status = notApplicable ? NOT_APPLICABLE : notRun ? "not run" : error ? "error" : failed ? "check failed" : "ok";
    List<String> otherData = new ArrayList<>();
    s.otherData().forEach((file, data) -> otherData.add(file + " on " + data));
    return new Cell(run, status, notRun, error, failed, s.note(), String.join(", ", s.sources()), otherData, figs);
  }

  private static FigureView figure(Figure f) {
    // Java 17: no pattern matching in switch yet.
    if (f instanceof Figure.Line l) {
      SvgChart.View v = SvgChart.of(l);
      List<Legend> legend = v.curves().stream().map(c -> new Legend(c.color(), c.dash(), c.name())).toList();
      return new FigureView(l.title(), v, legend.size() > 1 ? legend : List.<Legend>of(), null, null, null);
    }
    if (f instanceof Figure.Table t) return new FigureView(t.title(), null, List.of(), table(t), null, null);
    if (f instanceof Figure.Matrix m) return new FigureView(m.title(), null, List.of(), null, matrix(m), null);
    Figure.Image i = (Figure.Image) f;
    String src = "data:image/png;base64," + Base64.getEncoder().encodeToString(i.png());
    return new FigureView(i.title(), null, List.of(), null, null, new ImageView(src, i.width(), i.height(), i.file()));
  }

  private static TableView table(Figure.Table t) {
    List<RowView> rows = new ArrayList<>();
    for (List<Object> row : t.rows()) rows.add(new RowView(row.stream().map(Text::of).toList()));
    return new TableView(t.columns(), rows, t.note());
  }

  /** Cells shaded by their share of the row total (the row's recall for a confusion matrix). */
  private static MatrixView matrix(Figure.Matrix m) {
    List<MatrixRow> rows = new ArrayList<>();
    for (int i = 0; i < m.values().size(); i++) {
      List<Double> row = m.values().get(i);
      double sum = row.stream().filter(v -> v != null).mapToDouble(Double::doubleValue).sum();
      List<MatrixCell> cells = new ArrayList<>();
      for (Double v : row) {
        double share = v == null || sum <= 0 ? 0 : Math.max(0, v / sum);
        String style = String.format(Locale.ROOT, "background:rgba(0,114,178,%.2f);color:%s", Math.min(1, share),
            share > 0.5 ? "#fff" : "#000");
        cells.add(new MatrixCell(text(v), style));
      }
      rows.add(new MatrixRow(i < m.labels().size() ? m.labels().get(i) : String.valueOf(i), cells));
    }
    return new MatrixView(m.rowLabel(), m.columnLabel(), m.labels(), rows);
  }

  /** A table value as text: integers as such, other numbers with 4 significant digits, null as a dash. */
  static String text(Object v) {
    if (v == null) return "–";
    if (v instanceof Double d) {
      if (d == Math.rint(d) && Math.abs(d) < 1e15) return String.valueOf(d.longValue());
      double a = Math.abs(d);
      if (a >= 1e-3 && a < 1e6) return new java.math.BigDecimal(d).round(new java.math.MathContext(4)).stripTrailingZeros()
          .toPlainString();
      return String.format(Locale.ROOT, "%.3e", d);
    }
    return String.valueOf(v);
  }
}
