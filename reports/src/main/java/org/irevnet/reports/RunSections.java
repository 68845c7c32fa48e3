package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.irevnet.data.DataIdentity;

/**
 * The sections of one run's report, each from the files that exist in its run directory (the
 * mapping is in {@code docs/report.md}). A section without its files is {@code not_run} and says
 * which command makes them; a file that cannot be read makes its section {@code error}, never
 * the whole report.
 */
final class RunSections {
  static final String METRICS = "metrics.jsonl";
  static final String ANALYSIS = "analysis";
  static final String VAE = "vae.json";

  private RunSections() {}

  /**
   * A section's content from the run's files, under its {@link Spec}'s id and title; an
   * IOException turns the section into an error.
   */
  @FunctionalInterface
  private interface Builder {
    Section build(RunFiles f, String id, String title) throws IOException;
  }

  private record Spec(String id, String title, Builder builder) {}

  private static final List<Spec> SPECS = List.of(
      new Spec("config", "Run configuration and environment", RunSections::config),
      new Spec("training", "Training curves", RunSections::training),
      new Spec("accuracy", "Accuracy and confusion matrix", RunSections::accuracy),
      new Spec("invertibility", "Invertibility", RunSections::invertibility),
      new Spec("probes", "Per-layer probes and PCA", RunSections::probes),
      new Spec("nuisance", "Nuisance probe", RunSections::nuisance),
      new Spec("metamers", "Metamers", (f, id, title) -> generic(f, id, title, List.of("metamers*.json"),
          List.of("metamers*.png"), null, "bin/irevnet metamers --run RUN_DIR")),
      new Spec("interpolation", "Interpolation", (f, id, title) -> generic(f, id, title,
          List.of("interpolat*.json"), List.of("interpolat*.png"), null, "bin/irevnet interpolate --run RUN_DIR")),
      new Spec("samples", "Samples from the model (density)", (f, id, title) -> generic(f, id, title,
          List.of("samples*.json"), List.of("samples*.png"), null, "bin/irevnet sample --run RUN_DIR")),
      new Spec("attacks", "Attacks", RunSections::attacks),
      new Spec("vae", "VAE with a flow posterior", RunSections::vae),
      new Spec("other", "Other results", RunSections::other));

  /** Ids of every section, in report order. */
  static final List<String> IDS = SPECS.stream().map(Spec::id).toList();

  /**
   * The sections whose command needs an invertible model, by id, to that command: a DL4J network's
   * run cannot have them, and "not run" with the command to make them named a command that refuses it.
   */
  private static final Map<String, String> NEEDS_INVERTIBLE = Map.of("invertibility", "invert", "nuisance",
      "probe --nuisance", "metamers", "metamers", "interpolation", "interpolate", "samples", "sample");

  static List<Section> of(RunFiles f) {
    // A VAE run is no classifier: its "not run" sections would name commands (eval, invert, ...) that refuse it.
    boolean vaeRun = f.exists(VAE);
    String network = dl4jNetwork(f);
    JsonNode zip = network == null ? null : runConfig(f).path("model");
    List<Section> out = new ArrayList<>();
    for (Spec s : SPECS) {
      Section sec;
      try {
        sec = s.builder().build(f, s.id(), s.title());
        if (sec != null && sec.status().equals(Section.OK)) sec = checked(f, sec);
      } catch (IOException | RuntimeException e) {
        sec = Section.error(s.id(), s.title(), List.of(), RunFiles.firstLine(e.getMessage()));
      }
      if (network != null && sec != null && sec.status().equals(Section.NOT_RUN) && NEEDS_INVERTIBLE.containsKey(s.id())) {
        sec = Section.notApplicable(s.id(), s.title(), network + " is a DL4J network, not invertible (bin/irevnet "
            + NEEDS_INVERTIBLE.get(s.id()) + " needs an invertible model)");
      } else if (zip != null && zip.isTextual() && sec != null && sec.status().equals(Section.NOT_RUN)) {
        // A model zip's analysis directory: it was trained elsewhere, and its analyses are made
        // with --model, not with --run on this directory.
        sec = s.id().equals("training") ? Section.notApplicable(s.id(), s.title(), network
            + " was given as a model zip (--model), not trained here")
            : Section.notRun(s.id(), s.title(), sec.note().replace("--run RUN_DIR", "--model " + zip.asText()
                + " --data " + runConfig(f).path("data").asText("DATA")));
      }
      if (sec != null && !(vaeRun && sec.status().equals(Section.NOT_RUN))) out.add(sec);
    }
    return out;
  }

  /**
   * The model of a run whose model is a DL4J network, as its config.json names it: a baseline
   * trained here ({@code resnet-s}, {@code cnn-s}) or a model zip analysed with {@code --model}
   * (whose analysis directory's config names the zip in {@code model}); null for any other run,
   * or when config.json cannot be read (the config section says why).
   */
  private static String dl4jNetwork(RunFiles f) {
    String arch = runConfig(f).path("arch").asText("");
    if (org.irevnet.models.Baselines.NAMES.contains(arch)) return arch;
    JsonNode model = runConfig(f).path("model");
    if (!model.isTextual()) return null;
    java.nio.file.Path zip = java.nio.file.Path.of(model.asText()).getFileName();
    return zip == null ? arch : zip.toString();
  }

  /** config.json, checked; a missing node when it is absent or does not read (the config section says why). */
  private static JsonNode configFile(RunFiles f) {
    return checked(f, RunFiles.CONFIG, (g, rel) -> checkedConfig(g));
  }

  /** config.json's {@code config}: the run's settings, or a missing node ({@link #configFile}). */
  private static JsonNode runConfig(RunFiles f) {
    return configFile(f).path("config");
  }

  /**
   * The section marked {@code failed} when one of its JSON files records a failed check of its
   * own ({@link AnalysisChecks#failed}), and with the files of {@code analysis/} computed on other
   * data than the run's ({@link AnalysisChecks#otherData}). Its files were read to build it.
   */
  private static Section checked(RunFiles f, Section sec) throws IOException {
    List<String> failures = new ArrayList<>();
    Map<String, String> other = new LinkedHashMap<>();
    for (String src : sec.sources()) {
      if (!src.endsWith(".json")) continue;
      JsonNode n = f.json(src);
      List<String> failed = AnalysisChecks.failed(n);
      if (!failed.isEmpty()) failures.add(src + ": " + String.join(", ", failed));
      if (src.startsWith(ANALYSIS + "/")) {
        String data = otherData(f, n);
        if (data != null) other.put(src, data);
      }
    }
    Section out = other.isEmpty() ? sec : sec.withOtherData(other);
    return failures.isEmpty() ? out : out.failed(String.join("; ", failures));
  }

  /** config.json's {@code config.data}: the run's data, or null when it has none (the config section says why). */
  private static String runData(RunFiles f) {
    JsonNode d = runConfig(f).path("data");
    return d.isTextual() ? d.asText() : null;
  }

  /**
   * {@link AnalysisChecks#otherData} of an analysis file against the run's config.json: its data and
   * its record of that data by content ({@code dataset}, absent in runs from before).
   */
  private static String otherData(RunFiles f, JsonNode n) {
    DataIdentity recorded = DataIdentity.read(configFile(f).path("dataset"));
    return AnalysisChecks.otherData(runData(f), recorded, f::dataIdentity, n);
  }

  /**
   * What a headline label from an analysis file adds: {@code (on DATA)} when it was computed on
   * other data than the run's, {@code (check failed: ...)} when it records a failed check; empty
   * for a clean result on the run's data.
   */
  private static String qualifier(RunFiles f, JsonNode n) {
    String q = "";
    if (otherData(f, n) != null) q += " (on " + AnalysisChecks.otherDataShort(runData(f), n) + ")";
    List<String> failed = AnalysisChecks.failed(n);
    // The details stay in the section's note: a label names the check.
    if (!failed.isEmpty()) {
      q += " (check failed: " + String.join(", ", failed.stream().map(c -> c.replaceFirst(" \\(.*", "")).toList()) + ")";
    }
    return q;
  }

  private static Section config(RunFiles f, String id, String title) throws IOException {
    JsonNode c = checkedConfig(f);
    List<Figure> figs = new ArrayList<>(TreeFigures.of("config", c.path("config")));
    figs.addAll(TreeFigures.of("environment", c.path("environment")));
    // What the data was, by content (runs from before it was recorded have none).
    figs.addAll(TreeFigures.of("dataset", c.path("dataset")));
    return Section.ok(id, title, List.of(RunFiles.CONFIG), figs);
  }

  /**
   * config.json with the fields the headline and report.json take from it checked (absent ones
   * pass); a wrong type is an IOException naming the file and the field.
   */
  static JsonNode checkedConfig(RunFiles f) throws IOException {
    JsonNode c = f.json(RunFiles.CONFIG);
    RunFiles.expect(RunFiles.CONFIG, "config", c.get("config"), RunFiles.Kind.OBJECT);
    RunFiles.expect(RunFiles.CONFIG, "environment", c.get("environment"), RunFiles.Kind.OBJECT);
    RunFiles.expectFields(RunFiles.CONFIG, "config.", c.path("config"), RunFiles.Kind.TEXT, "arch", "objective", "data");
    RunFiles.expect(RunFiles.CONFIG, "config.epochs", c.path("config").get("epochs"), RunFiles.Kind.INTEGER);
    return c;
  }

  /** The {@code train} line's count of steps its means are over ({@link #training}). */
  private static final String WINDOW = "window_steps";

  /**
   * One chart per numeric field of each line type: {@code train} lines by step, {@code epoch} lines
   * by epoch. A {@code train} line averages its {@code window_steps}; one that averages fewer than
   * the run's most (the end of training, a resume) is its own series of dots, not joined to the
   * curve: a mean of 2 steps beside means of 20 read as a sudden change of trend.
   */
  private static Section training(RunFiles f, String id, String title) throws IOException {
    if (!f.exists(METRICS)) return Section.notRun(id, title, "no " + METRICS + " (made by bin/irevnet train)");
    Map<String, List<JsonNode>> byType = new LinkedHashMap<>();
    for (JsonNode line : f.jsonLines(METRICS)) byType.computeIfAbsent(line.path("type").asText("train"), t -> new ArrayList<>()).add(line);
    List<Figure> figs = new ArrayList<>();
    for (Map.Entry<String, List<JsonNode>> e : byType.entrySet()) {
      String x = e.getKey().equals("epoch") ? "epoch" : "step";
      Set<String> fields = new LinkedHashSet<>();
      for (JsonNode line : e.getValue()) {
        for (Iterator<String> it = line.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (line.get(k).isNumber() && !List.of("step", "epoch", WINDOW).contains(k)) fields.add(k);
        }
      }
      int fullWindow = e.getValue().stream().mapToInt(l -> l.path(WINDOW).asInt(0)).max().orElse(0);
      for (String field : fields) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>(), shortYs = new ArrayList<>();
        for (JsonNode line : e.getValue()) {
          Double xv = TreeFigures.number(line.get(x));
          if (xv == null) continue;
          xs.add(xv);
          Double y = TreeFigures.number(line.get(field));
          // The learning rate is the step's own, not a mean.
          boolean isShort = !field.equals("lr") && line.path(WINDOW).asInt(fullWindow) < fullWindow;
          ys.add(isShort ? null : y);
          shortYs.add(isShort ? y : null);
        }
        if (ys.stream().allMatch(java.util.Objects::isNull) && shortYs.stream().allMatch(java.util.Objects::isNull)) continue;
        List<Figure.Series> series = new ArrayList<>(List.of(new Figure.Series(field, xs, ys)));
        if (shortYs.stream().anyMatch(java.util.Objects::nonNull)) {
          series.add(new Figure.Series(field + " (over fewer than " + fullWindow + " steps)", xs, shortYs));
        }
        // iCE's largest |z_n| spans decades when nothing bounds it (README, iCE experiments).
        figs.add(new Figure.Line(e.getKey() + ": " + field, x, field, null, field.equals("zn_max_abs"), series));
      }
    }
    if (byType.containsKey("epoch")) figs.add(linesTable("epochs", byType.get("epoch")));
    return Section.ok(id, title, List.of(METRICS), figs);
  }

  /** {@code eval-test.json}, {@code eval-train.json}, then the other test sets ({@code eval --as NAME}) by name. */
  private static List<String> evalFiles(RunFiles f) throws IOException {
    List<String> files = new ArrayList<>(f.matching(".", "eval-test.json"));
    files.addAll(f.matching(".", "eval-train.json"));
    f.matching(".", "eval-*.json").stream().filter(n -> !files.contains(n)).sorted().forEach(files::add);
    return files;
  }

  private static Figure.Table linesTable(String title, List<JsonNode> lines) {
    Set<String> keys = new LinkedHashSet<>();
    lines.forEach(l -> l.fieldNames().forEachRemaining(k -> {
      if (!k.equals("type")) keys.add(k);
    }));
    List<List<Object>> rows = new ArrayList<>();
    for (JsonNode l : lines) rows.add(keys.stream().map(k -> TreeFigures.scalar(l.get(k))).toList());
    return new Figure.Table(title, List.copyOf(keys), rows, null);
  }

  /** {@code eval-<split>.json} written by eval: headline numbers, per-class accuracy, confusion matrix. */
  private static Section accuracy(RunFiles f, String id, String title) throws IOException {
    List<String> files = evalFiles(f);
    if (files.isEmpty()) return Section.notRun(id, title, "no eval-test.json (made by bin/irevnet eval --run RUN_DIR)");
    List<Figure> figs = new ArrayList<>();
    for (String file : files) {
      JsonNode e = checkedEval(f, file);
      String split = e.path("name").asText(e.path("split").asText(file));
      List<List<Object>> head = new ArrayList<>();
      for (String k : List.of("accuracy", "loss", "bits_per_dim", "bits_per_input_dim", "count", "non_finite_logits",
          "data", "data_path", "checkpoint")) {
        // The accuracy with its 95% interval over the images (eval files from before it: alone).
        Object v = k.equals("accuracy") ? TreeFigures.withInterval(e.get(k), e.get(k + TreeFigures.INTERVAL))
            : TreeFigures.scalar(e.get(k));
        if (e.has(k)) head.add(Arrays.asList(k, v));
      }
      figs.add(new Figure.Table(split, List.of("field", "value"), head, null));
      List<String> names = new ArrayList<>();
      e.path("class_names").forEach(n -> names.add(n.asText()));
      JsonNode cm = e.path("confusion_matrix");
      JsonNode counts = e.path("per_class_count");
      // Images without a prediction are in no confusion row: without per_class_count (eval files
      // written before it) the rows undercount their classes, and by how much per class is unknown.
      boolean rowsUndercount = !counts.isArray() && e.path("non_finite_logits").asLong(0) > 0;
      List<List<Object>> perClass = new ArrayList<>();
      JsonNode pca = e.path("per_class_accuracy");
      // Each class's interval is over its few images (a tenth of the test set's, or fewer): wider
      // than the accuracy's by about sqrt(10). Files from before the intervals have no column.
      JsonNode intervals = e.path("per_class_accuracy" + TreeFigures.INTERVAL);
      for (int c = 0; c < pca.size(); c++) {
        Object support = null;
        if (counts.isArray()) {
          if (counts.path(c).isIntegralNumber()) support = counts.get(c).asLong();
        } else if (cm.has(c) && !rowsUndercount) {
          long sum = 0;
          for (JsonNode v : cm.get(c)) sum += v.asLong();
          support = sum;
        }
        List<Object> row = new ArrayList<>(Arrays.asList(c < names.size() ? names.get(c) : String.valueOf(c),
            TreeFigures.number(pca.get(c)), support));
        if (intervals.isArray()) row.add(2, TreeFigures.interval(intervals.get(c)));
        perClass.add(row);
      }
      if (!perClass.isEmpty()) {
        String note = rowsUndercount ? "images per class left out: " + e.get("non_finite_logits").asLong()
            + " image(s) with non-finite logits are in no confusion row, and this file has no per_class_count"
            + " (eval writes it now)" : null;
        List<String> columns = intervals.isArray() ? List.of("class", "accuracy", "95% interval", "images")
            : List.of("class", "accuracy", "images");
        figs.add(new Figure.Table(split + ": per-class accuracy", columns, perClass, note));
      }
      if (cm.isArray() && !cm.isEmpty()) {
        List<List<Double>> values = new ArrayList<>();
        cm.forEach(row -> {
          List<Double> r = new ArrayList<>();
          row.forEach(v -> r.add(TreeFigures.number(v)));
          values.add(r);
        });
        List<String> labels = new ArrayList<>(names);
        for (int c = labels.size(); c < values.size(); c++) labels.add(String.valueOf(c));
        figs.add(new Figure.Matrix(split + ": confusion matrix", "true", "predicted", labels, values));
      }
    }
    return Section.ok(id, title, files, figs);
  }

  /**
   * An {@code eval-*.json} with the fields the accuracy section and the headline take from it
   * checked (absent ones pass); a wrong type is an IOException naming the file and the field.
   */
  static JsonNode checkedEval(RunFiles f, String file) throws IOException {
    JsonNode e = f.json(file);
    RunFiles.expectFields(file, "", e, RunFiles.Kind.NUMBER, "accuracy", "loss", "bits_per_dim", "bits_per_input_dim");
    RunFiles.expectFields(file, "", e, RunFiles.Kind.INTEGER, "count", "non_finite_logits");
    RunFiles.expectFields(file, "", e, RunFiles.Kind.TEXT, "name", "split", "data", "data_path", "checkpoint");
    RunFiles.expectArray(file, "class_names", e.get("class_names"), RunFiles.Kind.TEXT);
    RunFiles.expectArray(file, "per_class_accuracy", e.get("per_class_accuracy"), RunFiles.Kind.NUMBER);
    RunFiles.expectArray(file, "per_class_count", e.get("per_class_count"), RunFiles.Kind.INTEGER);
    JsonNode cm = e.get("confusion_matrix");
    if (cm != null && !cm.isNull() && !cm.isArray()) throw new IOException(file + ": confusion_matrix is not an array");
    for (int r = 0; cm != null && r < cm.size(); r++) {
      RunFiles.expectArray(file, "confusion_matrix[" + r + "]", cm.get(r), RunFiles.Kind.NUMBER);
      if (cm.get(r).size() != cm.size()) {
        throw new IOException(file + ": confusion_matrix[" + r + "] has " + cm.get(r).size() + " entries, the matrix "
            + cm.size() + " rows");
      }
    }
    // A 10x10 matrix was shown under 3 class names, the rest labelled by number as if classes.
    JsonNode names = e.get("class_names");
    if (cm != null && cm.isArray() && names != null && names.isArray() && cm.size() != names.size()) {
      throw new IOException(file + ": confusion_matrix is " + cm.size() + "x" + cm.size() + ", but class_names has "
          + names.size() + " names");
    }
    return e;
  }

  /** invert.json (per-stage reconstruction error, stability table), invert.png, and any stability*.json. */
  private static Section invertibility(RunFiles f, String id, String title) throws IOException {
    String inv = ANALYSIS + "/invert.json";
    List<String> stability = f.matching(ANALYSIS, "stability*.json");
    List<String> pngs = f.matching(ANALYSIS, "invert*.png");
    if (!f.exists(inv) && stability.isEmpty() && pngs.isEmpty()) {
      return Section.notRun(id, title, "no analysis/invert.json (made by bin/irevnet invert --run RUN_DIR)");
    }
    List<String> sources = new ArrayList<>();
    List<Figure> figs = new ArrayList<>();
    if (f.exists(inv)) {
      sources.add(inv);
      JsonNode node = f.json(inv);
      figs.addAll(reconstruction(node));
      // invert --stability adds its Lipschitz and condition estimates to the same file.
      if (node.path("stability").size() > 0) {
        List<String> at = new ArrayList<>();
        node.path("stability_images").forEach(i -> at.add(i.asText()));
        figs.addAll(TreeFigures.tables("inverse stability" + (at.isEmpty() ? "" : " at images " + String.join(", ", at)),
            node.get("stability")));
      }
    }
    for (String png : pngs) {
      sources.add(png);
      figs.add(f.image(png, "original / reconstruction from z / 10x |difference|"));
    }
    for (String s : stability) {
      sources.add(s);
      figs.addAll(TreeFigures.of(baseName(s), f.json(s)));
    }
    return Section.ok(id, title, sources, figs);
  }

  private static List<Figure> reconstruction(JsonNode inv) {
    List<JsonNode> stages = new ArrayList<>();
    inv.path("stages").forEach(stages::add);
    if (inv.has("z")) stages.add(inv.get("z"));
    List<String> cats = new ArrayList<>();
    List<List<Object>> rows = new ArrayList<>();
    String[][] cols = {{"float32", "max_abs_err"}, {"float32", "mean_abs_err"}, {"float64", "max_abs_err"},
        {"float64", "mean_abs_err"}};
    List<List<Double>> ys = new ArrayList<>();
    for (String[] c : cols) ys.add(new ArrayList<>());
    List<Double> xs = new ArrayList<>();
    for (JsonNode s : stages) {
      String stage = s.path("stage").asText("?");
      List<String> shape = new ArrayList<>();
      s.path("shape").forEach(d -> shape.add(d.asText()));
      List<Object> row = new ArrayList<>(List.of(stage, String.join("x", shape)));
      for (int i = 0; i < cols.length; i++) {
        Double v = TreeFigures.number(s.path(cols[i][0]).get(cols[i][1]));
        row.add(v);
        ys.get(i).add(v);
      }
      JsonNode worst = s.path("float32").path("worst_image"); // absent in files before it existed
      row.add(3, worst.isIntegralNumber() ? worst.asLong() : null);
      xs.add((double) cats.size());
      cats.add(stage);
      rows.add(row);
    }
    List<Figure.Series> series = new ArrayList<>();
    for (int i = 0; i < cols.length; i++) {
      series.add(new Figure.Series(cols[i][0] + " " + cols[i][1].replace("_abs_err", ""), xs, ys.get(i)));
    }
    String data = inv.path("data").asText("");
    String title = "reconstruction error |x - F^-1(h)|" + (data.isEmpty() ? "" : " on " + data);
    return List.of(
        new Figure.Line(title, "from the output of stage", "abs error", cats, true, series),
        new Figure.Table(title, List.of("stage", "shape", "max f32", "at image", "mean f32", "max f64", "mean f64"), rows,
            null));
  }

  /**
   * {@code attack-<name>.json} (one attack each: {@code attack}, {@code norm}, {@code targeted},
   * {@code count}, {@code clean_accuracy}, {@code curve[]} of {@code eps}/{@code accuracy}/..., {@code
   * monotone}, {@code sanity.passed}): robustness curves by epsilon, one chart per norm with a
   * curve per attack, a summary table, the example grids, and each file's tables. The summary
   * table's note names the metamer attacks whose metamers miss their logits in float32 ({@link
   * #float32Shortfall}).
   */
  private static Section attacks(RunFiles f, String id, String title) throws IOException {
    List<String> json = f.matching(ANALYSIS, "attack*.json"), png = f.matching(ANALYSIS, "attack*.png");
    if (json.isEmpty() && png.isEmpty()) {
      return Section.notRun(id, title, "no analysis/attack*.json (made by bin/irevnet attack --run RUN_DIR)");
    }
    Map<String, List<Figure.Series>> byNorm = new LinkedHashMap<>();
    List<List<Object>> summary = new ArrayList<>();
    List<String> shortfalls = new ArrayList<>();
    List<Figure> details = new ArrayList<>();
    for (String j : json) {
      JsonNode a = checkedAttack(f, j);
      String shortfall = float32Shortfall(a);
      if (shortfall != null) shortfalls.add(j + ": " + shortfall);
      Attack at = Attack.of(a, baseName(j));
      if (at.eps().size() > 1) {
        byNorm.computeIfAbsent(at.norm(), n -> new ArrayList<>()).add(new Figure.Series(at.name(), at.eps(), at.accuracy(),
            at.lo(), at.hi()));
      }
      // Each share with its 95% interval over the attacked images, where the file gives one.
      summary.add(Arrays.asList(at.name(), at.norm(), TreeFigures.scalar(a.get("count")),
          TreeFigures.withInterval(a.get("clean_accuracy"), a.get("clean_accuracy" + TreeFigures.INTERVAL)),
          at.lastEps(), at.lastAtEps() == null ? null : TreeFigures.withInterval(at.lastAtEps().get("accuracy"),
              at.lastAtEps().get("accuracy" + TreeFigures.INTERVAL)),
          TreeFigures.withInterval(at.last().get("success_rate"), at.last().get("success_rate" + TreeFigures.INTERVAL)),
          TreeFigures.scalar(a.get("monotone")), TreeFigures.scalar(a.path("sanity").get("passed"))));
      details.addAll(TreeFigures.tables(baseName(j), a));
    }
    List<Figure> figs = new ArrayList<>();
    byNorm.forEach((norm, series) -> figs.add(new Figure.Line("robustness" + (norm.isEmpty() ? "" : " (" + norm + ")"),
        "epsilon", "accuracy", null, false, series)));
    if (!summary.isEmpty()) {
      // The invariance attacks count pairs (a, b) of images, as the headline's "pairs" says.
      figs.add(new Figure.Table("attacks", List.of("attack", "norm", "images (or pairs)", "clean accuracy", "largest eps",
          "accuracy there", "success rate", "monotone", "sanity"), summary,
          shortfalls.isEmpty() ? null : String.join("; ", shortfalls)));
    }
    for (String p : png) figs.add(f.image(p, captioned(p, attackRows(read(f, p.replaceFirst("\\.png$", ".json"))))));
    figs.addAll(details);
    List<String> sources = new ArrayList<>(json);
    sources.addAll(png);
    return Section.ok(id, title, sources, figs);
  }

  /**
   * An {@code attack-*.json} with the fields the attacks section, the headline and the comparison
   * read by name checked (absent and null ones pass); a wrong type is an IOException naming the file
   * and the field. A curve point's {@code "eps": "0.05"} was dropped from the chart and the summary
   * without a word, its section still "ok".
   */
  static JsonNode checkedAttack(RunFiles f, String file) throws IOException {
    JsonNode a = f.json(file);
    RunFiles.expectFields(file, "", a, RunFiles.Kind.TEXT, "attack", "norm", "targeted", "layer_name");
    RunFiles.expectFields(file, "", a, RunFiles.Kind.INTEGER, "count");
    RunFiles.expectFields(file, "", a, RunFiles.Kind.NUMBER, "clean_accuracy");
    // sanity.passed, a verdict, is checked wherever it is (RunFiles.json).
    RunFiles.expectFields(file, "", a, RunFiles.Kind.BOOLEAN, "monotone", "multi_targeted");
    JsonNode curve = a.get("curve");
    if (curve != null && !curve.isNull() && !curve.isArray()) throw new IOException(file + ": curve is not an array");
    for (int i = 0; curve != null && i < curve.size(); i++) {
      JsonNode p = curve.get(i);
      if (!p.isObject()) throw new IOException(file + ": curve[" + i + "] is not an object");
      RunFiles.expectFields(file, "curve[" + i + "].", p, RunFiles.Kind.NUMBER, "eps", "epsilon", "accuracy",
          "accuracy_at_eps", "success_rate", "representation_distance", "mean_l2", "mean_linf", "mean_l2_at_eps",
          "mean_linf_at_eps");
    }
    return a;
  }

  /**
   * What a metamer attack file with {@code float32_holds} false says of its numbers: its {@code
   * max_logit_abs_diff} is then the float64 one, while its success rate, distances and norms are of
   * the float32 metamers, whose logits miss a's by {@code max_logit_abs_diff_f32}. The report once
   * showed the float64 7.7e-10 next to a success rate of 1 with nothing to say that the metamers
   * measured were 0.11 off. Null otherwise, also for files from before these fields.
   */
  static String float32Shortfall(JsonNode attack) {
    JsonNode holds = attack.get("float32_holds");
    if (holds == null || !holds.isBoolean() || holds.booleanValue()) return null;
    String f64 = attack.has("max_logit_abs_diff_f64") ? "max_logit_abs_diff "
        + exponent(attack.get("max_logit_abs_diff")) + " is float64 (max_logit_abs_diff_f64); " : "";
    return "float32_holds false: " + f64 + "the float32 metamers, whose success rate, distances and norms are shown,"
        + " miss a's logits by " + exponent(attack.get("max_logit_abs_diff_f32")) + " (max_logit_abs_diff_f32)";
  }

  private static String exponent(JsonNode v) {
    Double d = TreeFigures.number(v);
    return d != null ? String.format(Locale.ROOT, "%.2e", d) : v == null ? "?" : v.asText();
  }

  /**
   * A curve point's epsilon, {@code eps} or else {@code epsilon} (both spellings occur in attack
   * files); null when it has none or it is not finite.
   */
  static Double epsilon(JsonNode point) {
    return TreeFigures.number(point.has("eps") ? point.get("eps") : point.get("epsilon"));
  }

  /**
   * One attack file's robustness curve (points without an epsilon left out) with its accuracies'
   * 95% intervals ({@code lo}, {@code hi}; null when no point has one: files from before them), its
   * last point, and its last point with an epsilon (null when none has one).
   */
  private record Attack(String name, String norm, List<Double> eps, List<Double> accuracy, List<Double> lo,
      List<Double> hi, JsonNode last, JsonNode lastAtEps) {
    static Attack of(JsonNode a, String fallbackName) {
      // A fixed target by its class name where the data has one: `--targeted 3` and `--targeted
      // Dress` are one attack, and made two rows of a comparison.
      JsonNode targetName = a.path("target_class_name");
      String targeted = targetName.isTextual() ? targetName.asText() : a.path("targeted").asText("");
      // A multi-targeted PGD file has the attack and targeted fields of the plain one; without the
      // suffix both would draw and tabulate under one name.
      String name = a.path("attack").asText(fallbackName) + (targeted.isEmpty() ? "" : " targeted " + targeted)
          + (a.path("multi_targeted").asBoolean(false) ? " multi-targeted" : "");
      List<Double> eps = new ArrayList<>(), acc = new ArrayList<>(), lo = new ArrayList<>(), hi = new ArrayList<>();
      boolean intervals = false;
      JsonNode last = com.fasterxml.jackson.databind.node.MissingNode.getInstance(), lastAtEps = null;
      for (JsonNode p : a.path("curve")) {
        last = p;
        Double e = epsilon(p);
        if (e == null) continue;
        lastAtEps = p;
        eps.add(e);
        acc.add(TreeFigures.number(p.get("accuracy")));
        JsonNode ci = p.get("accuracy" + TreeFigures.INTERVAL);
        boolean pair = TreeFigures.isInterval(ci);
        intervals |= pair;
        lo.add(pair ? ci.get(0).asDouble() : null);
        hi.add(pair ? ci.get(1).asDouble() : null);
      }
      return new Attack(name, a.path("norm").asText(""), eps, acc, intervals ? lo : null, intervals ? hi : null, last,
          lastAtEps);
    }

    Double lastEps() {
      return eps.isEmpty() ? null : eps.get(eps.size() - 1);
    }

    Double lastAccuracy() {
      return eps.isEmpty() ? null : accuracy.get(accuracy.size() - 1);
    }
  }

  /**
   * A section whose JSON files ({@code analysis/} globs, minus {@code exclude}) are rendered by
   * {@link TreeFigures} and whose PNGs are embedded.
   */
  private static Section generic(RunFiles f, String id, String title, List<String> jsonGlobs, List<String> pngGlobs,
      String exclude, String command) throws IOException {
    List<String> json = collect(f, jsonGlobs, exclude), png = collect(f, pngGlobs, exclude);
    if (json.isEmpty() && png.isEmpty()) {
      return Section.notRun(id, title, "no analysis/" + String.join(" or ", jsonGlobs) + " (made by " + command + ")");
    }
    List<Figure> figs = new ArrayList<>();
    for (String j : json) figs.addAll(TreeFigures.of(baseName(j), f.json(j)));
    for (String p : png) figs.add(f.image(p, captioned(p, gridRows(f, id, p))));
    List<String> sources = new ArrayList<>(json);
    sources.addAll(png);
    return Section.ok(id, title, sources, figs);
  }

  /**
   * The layer probes' files as {@link #generic} shows them, with a note under a file's stages and
   * PCA tables naming the probes whose penalty was chosen on a tie ({@code linear_l2_ties} not
   * empty; {@link LayerProbeReport#tieNote}): a row's penalty alone does not say a weaker one did as well.
   */
  private static Section probes(RunFiles f, String id, String title) throws IOException {
    Section s = generic(f, id, title, List.of("*probe*.json", "pca*.json"), List.of("*probe*.png", "pca*.png"),
        "*nuisance*", "bin/irevnet probe --run RUN_DIR --layers");
    if (!s.status().equals(Section.OK)) return s;
    Map<String, String> notes = new LinkedHashMap<>();
    for (String j : s.sources()) {
      if (!j.endsWith(".json")) continue;
      JsonNode file = f.json(j);
      List<LayerProbeReport.Tie> ties = new ArrayList<>();
      file.path("stages").forEach(st -> ties.add(tie("stage " + st.path("stage").asInt(), st)));
      file.path("pca").forEach(p -> ties.add(tie("PCA " + p.path("components").asInt(), p)));
      ties.removeIf(java.util.Objects::isNull);
      String note = LayerProbeReport.tieNote(ties);
      if (note == null) continue;
      notes.put(baseName(j) + ": stages", note);
      notes.put(baseName(j) + ": pca", note);
    }
    return noted(s, notes);
  }

  /**
   * The linear probe {@code name} of a file's node as a tie, its {@code linear_l2} over the numbers
   * of its {@code linear_l2_ties}; null when it has none of those, or no numeric {@code linear_l2}.
   */
  private static LayerProbeReport.Tie tie(String name, JsonNode probe) {
    if (!probe.path("linear_l2").isNumber()) return null;
    List<Double> tied = new ArrayList<>();
    for (JsonNode t : probe.path("linear_l2_ties")) if (t.isNumber()) tied.add(t.asDouble());
    return tied.isEmpty() ? null : new LayerProbeReport.Tie(name, probe.get("linear_l2").asDouble(), tied);
  }

  /**
   * The nuisance probe's files as {@link #generic} shows them, with a note under {@code probe
   * --linear}'s held-out table when the reader's penalty was chosen on a tie ({@code linear_l2_ties}
   * not empty): the table shows the equal accuracies but not that the rule took the stronger.
   */
  private static Section nuisance(RunFiles f, String id, String title) throws IOException {
    Section s = generic(f, id, title, List.of("*nuisance*.json"), List.of("*nuisance*.png"), null,
        "bin/irevnet probe --run RUN_DIR --nuisance");
    if (!s.status().equals(Section.OK)) return s;
    Map<String, String> notes = new LinkedHashMap<>();
    for (String j : s.sources()) {
      if (!j.endsWith(".json")) continue;
      LayerProbeReport.Tie tie = tie("linear reader", f.json(j));
      if (tie != null) notes.put(baseName(j) + ": linear_held_out", NuisanceProbeReport.tieNote(tie.l2(), tie.tied()));
    }
    return noted(s, notes);
  }

  /** {@code s} with each table whose title {@code notes} has given that note, after its own (rows left out). */
  private static Section noted(Section s, Map<String, String> notes) {
    if (notes.isEmpty()) return s;
    List<Figure> figs = new ArrayList<>();
    for (Figure fig : s.figures()) {
      figs.add(fig instanceof Figure.Table t && notes.containsKey(t.title()) ? new Figure.Table(t.title(), t.columns(),
          t.rows(), t.note() == null ? notes.get(t.title()) : t.note() + "; " + notes.get(t.title())) : fig);
    }
    return Section.ok(s.id(), s.title(), s.sources(), figs);
  }

  /** An image's title: its file's base name, then what its rows show where that is known. */
  private static String captioned(String png, String rows) {
    return rows == null ? baseName(png) : baseName(png) + ": " + rows;
  }

  /**
   * What the rows of a grid written by metamers or interpolate show (their PNGs have no labels of
   * their own, and a caption of the file name alone left the reader to guess which row was the
   * metamer); null for other PNGs.
   */
  private static String gridRows(RunFiles f, String id, String png) {
    if (id.equals("metamers")) {
      return "rows: a (logit source), the metamer, b (nuisance source), for the first pairs of the table; pixels"
          + " clipped to [0, 1]";
    }
    if (!id.equals("interpolation")) return null;
    // interpolate leaves the nuisance path out for a model without one (an injective i-RevNet).
    JsonNode pairs = read(f, png.replaceFirst("\\.png$", ".json")).path("pairs");
    String paths = !pairs.isArray() || pairs.isEmpty() ? "its full path, then its nuisance path where the model has one"
        : pairs.get(0).has("nuisance") ? "its full path, then its nuisance path" : "its full path";
    return "rows: for each of the first pairs of the table in order, " + paths
        + "; a = 0 (index_from) on the left, 1 (index_to) on the right";
  }

  /**
   * What the rows of an attack's grid show ({@link AttackReport#writePng}), from its JSON file
   * ({@code attack}, {@code curve[].eps}); null when that cannot be read.
   */
  static String attackRows(JsonNode a) {
    if (!a.path("curve").isArray() || a.path("curve").isEmpty()) return null;
    String change = " amplified per image (mid grey: unchanged)";
    if (a.path("attack").asText().equals("metamer")) {
      return "rows: a (logit source), b (nuisance source), the metamer, its difference from b" + change
          + "; pixels clipped to [0, 1]";
    }
    List<String> eps = new ArrayList<>();
    JsonNode curve = a.get("curve");
    // The grid shows every epsilon after the first, the sanity point 0.
    for (int k = 1; k < curve.size(); k++) eps.add(HtmlPage.text(epsilon(curve.get(k))));
    String at = eps.isEmpty() ? "" : ", then at eps " + String.join(", ", eps);
    // Feature matching shows each epsilon's own examples; FGSM and PGD those the robustness curve
    // counts, so an image broken at a smaller epsilon shows that example again.
    if (a.path("attack").asText().equals("feature-match")) {
      return "rows: a (matched), b (attacked)" + (at.isEmpty() ? "" : at + " that epsilon's example and its change"
          + " from b" + change);
    }
    return "rows: the attacked images" + (at.isEmpty() ? "" : at + " the example the curve counts (broken at a smaller"
        + " eps: that one) and its perturbation" + change);
  }

  /**
   * {@code vae.json} written by the vae command, as a table; absent (not "not run") in classifier
   * runs, whose report it does not concern.
   */
  private static Section vae(RunFiles f, String id, String title) throws IOException {
    if (!f.exists(VAE)) return null;
    return Section.ok(id, title, List.of(VAE), TreeFigures.of("vae", f.json(VAE)));
  }

  /** Every analysis/ JSON or PNG that no other section reads, rendered generically; absent when none. */
  private static Section other(RunFiles f, String id, String title) throws IOException {
    Set<String> claimed = new LinkedHashSet<>();
    for (String g : List.of("invert*", "stability*", "*probe*", "pca*", "*nuisance*", "metamers*", "interpolat*",
        "attack*", "samples*")) {
      claimed.addAll(f.matching(ANALYSIS, g));
    }
    List<String> rest = new ArrayList<>();
    for (String g : List.of("*.json", "*.png")) {
      for (String file : f.matching(ANALYSIS, g)) if (!claimed.contains(file)) rest.add(file);
    }
    if (rest.isEmpty()) return null;
    List<Figure> figs = new ArrayList<>();
    for (String r : rest) figs.addAll(r.endsWith(".png") ? List.of(f.image(r, baseName(r))) : TreeFigures.of(baseName(r), f.json(r)));
    return Section.ok(id, title, rest, figs);
  }

  private static List<String> collect(RunFiles f, List<String> globs, String exclude) throws IOException {
    Set<String> out = new LinkedHashSet<>();
    java.nio.file.PathMatcher ex = exclude == null ? null
        : java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + exclude);
    for (String g : globs) {
      for (String file : f.matching(ANALYSIS, g)) {
        if (ex == null || !ex.matches(java.nio.file.Path.of(file).getFileName())) out.add(file);
      }
    }
    return List.copyOf(out);
  }

  static String baseName(String rel) {
    String name = rel.substring(rel.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /**
   * The run's headline numbers (label to value; labels missing for what was not run): what a
   * comparison of runs puts side by side.
   */
  static Map<String, Object> headline(RunFiles f) {
    Map<String, Object> h = new LinkedHashMap<>();
    JsonNode cfg = runConfig(f);
    for (String k : List.of("arch", "objective", "data", "epochs")) {
      if (cfg.has(k)) h.put(k, TreeFigures.scalar(cfg.get(k)));
    }
    // The data by content, as the run recorded it: "data" is a name for one run and a path for
    // another given the same directory, and the number of classes says what chance is.
    DataIdentity data = DataIdentity.read(configFile(f).path("dataset"));
    if (data != null) {
      if (data.classes() != null) h.put("classes", (long) data.classes().size());
      h.put("test images (SHA-256)", data.testImages() + " (" + data.testSha256().substring(0, Math.min(12,
          data.testSha256().length())) + ")");
    }
    JsonNode lastEpoch = null, last = null;
    if (f.exists(METRICS)) {
      try {
        for (JsonNode l : f.jsonLines(METRICS)) {
          last = l;
          if (l.path("type").asText().equals("epoch")) lastEpoch = l;
        }
      } catch (IOException e) {
        // The training section reports it.
      }
    }
    if (last != null && last.has("step")) h.put("steps", TreeFigures.scalar(last.get("step")));
    if (lastEpoch != null && lastEpoch.has("seconds")) h.put("training time (s)", TreeFigures.scalar(lastEpoch.get("seconds")));
    JsonNode eval = checked(f, "eval-test.json", RunSections::checkedEval);
    if (eval.has("accuracy")) {
      h.put("test accuracy", TreeFigures.scalar(eval.get("accuracy")));
      putInterval(h, "test accuracy", eval.get("accuracy" + TreeFigures.INTERVAL), "");
      h.put("test loss", TreeFigures.scalar(eval.get("loss")));
      // A classifier's density is in the accuracy section; next to accuracy it reads as a result.
      if (eval.has("bits_per_dim") && "mle".equals(cfg.path("objective").asText())) {
        h.put("test bits/dim", TreeFigures.scalar(eval.get("bits_per_dim")));
      }
    } else if (lastEpoch != null) {
      h.put("test accuracy", TreeFigures.scalar(lastEpoch.get("test_accuracy")));
      // An mle run's test_loss is its NLL in nats per dimension, and its cross-entropy has a name
      // of its own: the headline's test loss stays eval's, the cross-entropy, whichever file it comes from.
      h.put("test loss", TreeFigures.scalar(lastEpoch.has("test_cross_entropy") ? lastEpoch.get("test_cross_entropy")
          : lastEpoch.get("test_loss")));
    }
    try {
      for (String n : evalFiles(f)) {
        JsonNode e = checked(f, n, RunSections::checkedEval);
        String name = e.path("name").asText("");
        if (!name.isEmpty() && !name.equals("test") && !name.equals("train") && e.has("accuracy")) {
          String label = "accuracy on " + name + " (" + e.path("data").asText("?") + ")";
          h.put(label, TreeFigures.scalar(e.get("accuracy")));
          putInterval(h, label, e.get("accuracy" + TreeFigures.INTERVAL), "");
        }
      }
    } catch (IOException e) {
      // The accuracy section reports it.
    }
    JsonNode vae = read(f, VAE);
    // How many images a VAE trained on and was tested on, and the NLL's standard error: VAEs tested
    // on 20 and on 500 images sat side by side with nothing to say so, and their differences are
    // often within that error (README, VAE with flow posteriors).
    for (String k : List.of("flow", "train_images", "test_elbo_nats", "test_is_nll_nats", "test_is_nll_std_error",
        "test_images", "is_samples", "train_seconds")) {
      if (vae.has(k)) h.put("vae " + k, TreeFigures.scalar(vae.get(k)));
    }
    // An analysis's labels say when its file is of other data or records a failed check: a
    // comparison puts it in a row of its own, not next to clean results on the run's data.
    JsonNode inv = read(f, ANALYSIS + "/invert.json");
    String q = qualifier(f, inv);
    if (inv.has("max_abs_err_f32")) h.put("reconstruction max error f32" + q, TreeFigures.scalar(inv.get("max_abs_err_f32")));
    if (inv.has("max_abs_err_f64")) h.put("reconstruction max error f64" + q, TreeFigures.scalar(inv.get("max_abs_err_f64")));
    JsonNode metamers = read(f, ANALYSIS + "/metamers.json"), met = metamers.path("summary");
    q = qualifier(f, metamers);
    if (met.has("rate_metamer_class_is_class_of_a")) {
      h.put("metamers: model class is class of a" + q, TreeFigures.scalar(met.get("rate_metamer_class_is_class_of_a")));
      putInterval(h, "metamers: model class is class of a", met.get("rate_metamer_class_is_class_of_a" + TreeFigures.INTERVAL), q);
    }
    if (met.path("rate_probe_class_is_label_of_b").isNumber()) {
      h.put("metamers: nuisance probe reads label of b" + q, TreeFigures.scalar(met.get("rate_probe_class_is_label_of_b")));
      putInterval(h, "metamers: nuisance probe reads label of b", met.get("rate_probe_class_is_label_of_b" + TreeFigures.INTERVAL), q);
    }
    try {
      for (String n : f.matching(ANALYSIS, "*nuisance*.json")) {
        JsonNode nuisance = read(f, n);
        accuracies(nuisance, "nuisance probe", qualifier(f, nuisance), h);
      }
      for (String n : f.matching(ANALYSIS, "attack*.json")) {
        JsonNode a = checked(f, n, RunSections::checkedAttack);
        if (a.isMissingNode()) continue;
        Attack at = Attack.of(a, baseName(n));
        String aq = qualifier(f, a);
        if (at.lastEps() != null) {
          String label = "attack " + at.name() + ": accuracy at eps " + HtmlPage.text(at.lastEps());
          h.put(label + aq, at.lastAccuracy());
          putInterval(h, label, at.lastAtEps().get("accuracy" + TreeFigures.INTERVAL), aq);
        } else if (at.last().has("success_rate")) {
          String label = "attack " + at.name() + ": success rate";
          h.put(label + aq, TreeFigures.scalar(at.last().get("success_rate")));
          putInterval(h, label, at.last().get("success_rate" + TreeFigures.INTERVAL), aq);
        }
        // Runs attacked with different --count sat side by side with nothing to say so.
        if (a.path("count").isIntegralNumber()) {
          boolean pairs = List.of("metamer", "feature-match").contains(a.path("attack").asText());
          h.put("attack " + at.name() + ": " + (pairs ? "pairs" : "images") + aq, a.get("count").asLong());
        }
      }
    } catch (IOException e) {
      // The sections report it.
    }
    return h;
  }

  /**
   * The headline row {@code "<label> 95% interval<suffix>"} of a share's interval, as text {@code
   * [lo, hi]}: a row of its own, so that the share's row stays a number (report.json's headline
   * keeps its types). None when the file gives no interval (files from before 2026-12-06).
   */
  private static void putInterval(Map<String, Object> h, String label, JsonNode ci, String suffix) {
    String interval = TreeFigures.interval(ci);
    if (interval != null) h.put(label + " 95% interval" + suffix, interval);
  }

  /**
   * Numeric fields named like an accuracy, or {@code excess}, outside arrays, as {@code "<prefix>:
   * <field><suffix>"}.
   */
  private static void accuracies(JsonNode n, String prefix, String suffix, Map<String, Object> h) {
    n.fields().forEachRemaining(e -> {
      if (e.getValue().isObject()) accuracies(e.getValue(), prefix + ": " + e.getKey(), suffix, h);
      else if ((e.getKey().contains("acc") || e.getKey().equals("excess")) && e.getValue().isNumber()) {
        h.put(prefix + ": " + e.getKey() + suffix, TreeFigures.scalar(e.getValue()));
        putInterval(h, prefix + ": " + e.getKey(), n.get(e.getKey() + TreeFigures.INTERVAL), suffix);
      }
    });
  }

  /** A file reader that checks the types of the fields it is read for. */
  @FunctionalInterface
  private interface Checked {
    JsonNode read(RunFiles f, String rel) throws IOException;
  }

  /**
   * The file as {@code reader} reads and checks it, or a missing node when it is absent, unreadable
   * or has a field of the wrong type (its section says why).
   */
  private static JsonNode checked(RunFiles f, String rel, Checked reader) {
    if (!f.exists(rel)) return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    try {
      return reader.read(f, rel);
    } catch (IOException e) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
  }

  /** The JSON file, or a missing node when it is absent or unreadable (its section says why). */
  static JsonNode read(RunFiles f, String rel) {
    return checked(f, rel, RunFiles::json);
  }
}
