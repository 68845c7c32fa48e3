package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.irevnet.io.AtomicFiles;

/**
 * The report of one run, or the side-by-side comparison of several (DESIGN.md section 7):
 * {@code report.json} (this record, validated by {@code report.schema.json}) and the
 * self-contained {@code report.html} rendered from the same figures.
 *
 * @param headline one row per headline number, one column per run ({@code headline} of each run)
 * @param comparison figures across runs on shared axes ({@link Comparison}); absent for one run
 */
public record Report(int schemaVersion, List<Run> runs, Figure.Table headline,
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
    List<Figure> comparison) {
  public static final String JSON = "report.json", HTML = "report.html";
  /** Where the JSON Schema of report.json is on the classpath. */
  public static final String SCHEMA = "/org/irevnet/reports/report.schema.json";

  /**
   * One run: its resolved config and environment (from {@code config.json}), its headline
   * numbers and its sections in report order.
   */
  public record Run(String name, String path, JsonNode config, JsonNode environment, Map<String, Object> headline,
      List<Section> sections) {}

  /** Reads the run directories; one that is not a run directory is an IllegalArgumentException. */
  public static Report of(List<Path> runDirs) throws IOException {
    if (runDirs.isEmpty()) throw new IllegalArgumentException("no run directory given");
    List<RunFiles> files = runDirs.stream().map(RunFiles::new).toList();
    List<String> names = names(runDirs);
    List<Run> runs = new ArrayList<>();
    // A command that finished while the report read (invert, between its invert.json and its
    // invert.png; vae, between config.json and vae.json) put one set's numbers beside another's
    // picture: no set is renamed into the runs' directories while they are read.
    try (java.io.Closeable reading = AtomicFiles.lockResults(runDirs.stream()
        .flatMap(d -> java.util.stream.Stream.of(d, d.resolve(RunSections.ANALYSIS))).toList())) {
      for (int i = 0; i < files.size(); i++) {
        RunFiles f = files.get(i);
        JsonNode cfg = f.config();
        runs.add(new Run(names.get(i), runDirs.get(i).toString(), object(cfg.get("config")),
            object(cfg.get("environment")), RunSections.headline(f), RunSections.of(f)));
      }
      return new Report(JsonReport.SCHEMA_VERSION, runs, headline(runs), Comparison.of(names, files));
    }
  }

  /** The node, or an empty object where report.json's schema needs one (the config section says what is wrong). */
  private static JsonNode object(JsonNode n) {
    return n != null && n.isObject() ? n : JsonReport.MAPPER.createObjectNode();
  }

  /** Directory names, or the paths as given where two runs share a name. */
  private static List<String> names(List<Path> dirs) {
    List<String> short_ = dirs.stream().map(d -> {
      Path n = d.toAbsolutePath().normalize().getFileName();
      return n == null ? d.toString() : n.toString();
    }).toList();
    Set<String> seen = new HashSet<>();
    boolean clash = short_.stream().anyMatch(n -> !seen.add(n));
    return clash ? dirs.stream().map(Path::toString).toList() : short_;
  }

  private static Figure.Table headline(List<Run> runs) {
    Set<String> labels = new LinkedHashSet<>();
    runs.forEach(r -> labels.addAll(r.headline().keySet()));
    List<String> columns = new ArrayList<>(List.of(""));
    runs.forEach(r -> columns.add(r.name()));
    List<List<Object>> rows = new ArrayList<>();
    for (String l : labels) {
      List<Object> row = new ArrayList<>();
      row.add(l);
      runs.forEach(r -> row.add(r.headline().get(l)));
      rows.add(row);
    }
    return new Figure.Table("headline", columns, rows, null);
  }

  /** Writes report.json and report.html into {@code dir}, both or neither. */
  public void write(Path dir) throws IOException {
    String html = HtmlPage.render(this);
    AtomicFiles.together(() -> {
      AtomicFiles.write(dir.resolve(JSON), out -> JsonReport.MAPPER.writeValue(out, this));
      AtomicFiles.writeString(dir.resolve(HTML), html);
    });
  }
}
