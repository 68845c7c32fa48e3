package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.Datasets;

/**
 * What an analysis file says of itself that the report must not pass off as a clean result of the
 * run: a check of its own that failed (the command exited 1 and still wrote the file), and data
 * other than the run's own test data ({@code --data OTHER}, which reaches the run's {@code analysis/}
 * only when {@code --out} puts it there, or in files from before the commands refused it).
 */
final class AnalysisChecks {
  private AnalysisChecks() {}

  /**
   * The verdicts of {@link #failed}, true or false wherever a file has them ({@link RunFiles#json}),
   * by name ({@code sanity.passed} is {@code passed} inside {@code sanity}).
   */
  static final List<String> VERDICTS = List.of("invariant_holds", "passed", "finite", "inversionHolds", "sanity.passed");

  /** The verdict {@code name} of {@link #VERDICTS} in {@code n} (missing: a missing node). */
  static JsonNode verdict(JsonNode n, String name) {
    return n.at("/" + name.replace('.', '/'));
  }

  /**
   * The checks the file records as failed, each as {@code field false} or what failed, details
   * in parentheses after it (empty: none failed, or none recorded). The verdicts are those that make the analysis command exit 1:
   * {@code invariant_holds} (metamers, the metamer attack), {@code sanity.passed} (attacks),
   * {@code finite} (sample), {@code passed} (selftest --json), {@code inversionHolds} (cnf, which writes camel case), an
   * invert.json whose reconstructions are not finite or whose float64 error is above its {@code
   * float64_bound}, and an interpolate.json with a step without a class ({@code model_class} -1:
   * non-finite logits). {@code float32_holds} (metamers, the metamer attack) and {@code
   * ill_conditioned} (stability) are properties of the model the commands only note, not failed
   * checks.
   */
  static List<String> failed(JsonNode n) {
    List<String> out = new ArrayList<>();
    for (String k : VERDICTS) {
      if (isFalse(verdict(n, k))) out.add(k + " false");
    }
    if ("metamer".equals(n.path("attack").asText()) && !n.has("invariant_holds")) metamerAttackBefore(n, out);
    // An invert.json from before float64_bound (2026-12-04) has no bound to hold its errors to, but a
    // reconstruction that is not finite failed then as now (its command, which judged nothing,
    // exited 0, and the report passed it as "ok"). Its max_abs_err_f64 tells it from layer-probes.json.
    if (n.has("stages") && (n.has("float64_bound") || n.has("max_abs_err_f64"))) invert(n, out);
    if (n.path("pairs").isArray()) interpolation(n, out);
    return out;
  }

  /**
   * The check of a metamer attack's file from before it recorded {@code invariant_holds}
   * (2026-12-05): its command exited 1 when {@code max_logit_abs_diff} was above 1e-4 (or not a
   * number), unless, from 2026-12-02, float64 rounding accounted for the difference, which such a
   * file cannot tell. Read as passed, a failed attack of those versions showed as a clean result.
   */
  private static void metamerAttackBefore(JsonNode n, List<String> out) {
    JsonNode diff = n.get("max_logit_abs_diff");
    if (diff == null || diff.isNull()) return;
    Double d = TreeFigures.number(diff);
    if (d != null && d <= MetamerSampler.TOLERANCE) return;
    out.add("max_logit_abs_diff " + (d == null ? diff.asText() : String.format(Locale.ROOT, "%.2e", d))
        + " above 1e-4 (a file from before the attack recorded invariant_holds, 2026-12-05: it failed unless float64"
        + " rounding accounted for it; run the attack again to know)");
  }

  private static boolean isFalse(JsonNode v) {
    return v != null && v.isBoolean() && !v.booleanValue();
  }

  /** invert's own check (InvertCommand): every reconstruction finite, every float64 one within float64_bound. */
  private static void invert(JsonNode n, List<String> out) {
    List<JsonNode> rows = new ArrayList<>();
    n.path("stages").forEach(rows::add);
    if (n.has("z")) rows.add(n.get("z"));
    Double bound = TreeFigures.number(n.get("float64_bound"));
    double worst = 0;
    String worstStage = null;
    for (JsonNode r : rows) {
      for (String precision : List.of("float32", "float64")) {
        JsonNode v = r.path(precision).get("max_abs_err");
        if (v == null || v.isNull()) continue;
        Double e = TreeFigures.number(v);
        if (e == null) {
          out.add("non-finite " + precision + " max_abs_err (the reconstruction from " + from(r) + ")");
          return;
        }
        if (precision.equals("float64") && e > worst) {
          worst = e;
          worstStage = from(r);
        }
      }
    }
    if (bound != null && worstStage != null && worst > bound) {
      out.add(String.format(Locale.ROOT, "float64 max_abs_err %.2e above float64_bound %.2e (the reconstruction from %s)",
          worst, bound, worstStage));
    }
  }

  private static String from(JsonNode stage) {
    String s = stage.path("stage").asText("?");
    return s.equals("z") ? "z" : "stage " + s + "'s output";
  }

  /** interpolate's own check (InterpolateCommand): every step of every path has a class (finite logits). */
  private static void interpolation(JsonNode n, List<String> out) {
    int paths = 0;
    for (JsonNode p : n.get("pairs")) {
      for (String path : List.of("full", "nuisance")) {
        boolean bad = false;
        for (JsonNode step : p.path(path)) bad |= step.path("model_class").isIntegralNumber() && step.get("model_class").asInt() < 0;
        if (bad) paths++;
      }
    }
    if (paths > 0) out.add("model_class -1 (a non-finite step) on " + paths + " path(s)");
  }

  /**
   * The data the file was computed on, as {@code data (data_path)}, when that is not the run's
   * own test data (config.json's {@code config.data}); null when it is, or when that cannot be
   * told (the file records no data, or the run's data is neither an absolute path nor a name).
   * Other data is: another split than {@code test} in {@code data} ({@code name/split}, possibly
   * followed by {@code [from:to]}); for a run whose data is a directory, a {@code data_path} that is
   * neither that directory (through links) nor, for a run that recorded its data by content
   * ({@code recorded}, null for a run from before), a directory whose test split is the recorded one
   * ({@code identityOf} reads it): a copy, or the data moved, is the run's, as the analysis commands
   * judge it; failing both (no {@code data_path}, or the directories gone), a name other than the
   * run directory's last part; for a run whose data is a dataset name, another name, unless its
   * {@code data_path} holds the recorded test split (a copy under another name, as the commands judge it).
   */
  static String otherData(String runData, DataIdentity recorded, Function<String, DataIdentity> identityOf,
      JsonNode n) {
    String data = text(n, "data"), dataPath = text(n, "data_path");
    if ((data == null && dataPath == null) || runData == null || runData.isBlank()) return null;
    String shown = data == null ? dataPath : dataPath == null ? data : data + " (" + dataPath + ")";
    DataName named = DataName.of(data);
    if (named != null && !named.isTest()) return shown;
    Path runDir = runDataDir(runData);
    if (runDir != null && dataPath != null && Files.isDirectory(runDir)
        && Datasets.sameDirectory(runDir, Path.of(dataPath))) return null;
    if (runDir != null && recorded != null && dataPath != null && Files.isDirectory(Path.of(dataPath))) {
      return recorded.sameData(identityOf.apply(dataPath)) ? null : shown;
    }
    if (runDir != null && dataPath != null && Files.isDirectory(runDir)) return shown;
    String runName = runName(runData);
    boolean otherName = named != null && runName != null && !named.name().equals(runName);
    // A run of a dataset name: a copy of it under another name is the run's data, as the analysis
    // commands judge it (they wrote its results into the run's analysis/, which this then showed as
    // "Not the run's test data").
    if (otherName && runDir == null && recorded != null && dataPath != null && Files.isDirectory(Path.of(dataPath))) {
      return recorded.sameData(identityOf.apply(dataPath)) ? null : shown;
    }
    return otherName ? shown : null;
  }

  /**
   * {@link #otherData}'s short form for a headline label: {@code data}, or {@code data_path} where
   * the dataset's name and split are the run's (another directory of the same name).
   */
  static String otherDataShort(String runData, JsonNode n) {
    String data = text(n, "data"), dataPath = text(n, "data_path");
    if (data == null || dataPath == null) return data == null ? dataPath : data;
    DataName named = DataName.of(data);
    boolean alike = named != null && named.isTest() && named.name().equals(runName(runData));
    return alike ? dataPath : data;
  }

  private static String text(JsonNode n, String key) {
    return n.path(key).isTextual() ? n.get(key).asText() : null;
  }

  /** An analysis file's {@code data}, {@code NAME/SPLIT} possibly followed by {@code [from:to]}. */
  private record DataName(String name, String split) {
    /** Null for no data, or data without a split. */
    static DataName of(String data) {
      if (data == null) return null;
      String d = data.replaceFirst("\\[[^\\]]*\\]$", "");
      int slash = d.lastIndexOf('/');
      return slash < 0 ? null : new DataName(d.substring(0, slash), d.substring(slash + 1));
    }

    boolean isTest() {
      return split.equals("test");
    }
  }

  /** The run's dataset name: config.data itself when it is a name, else its directory's last part (or null). */
  private static String runName(String runData) {
    if (isName(runData)) return runData;
    Path runDir = runDataDir(runData);
    return runDir == null || runDir.getFileName() == null ? null : runDir.getFileName().toString();
  }

  /** A dataset name as Datasets resolves one (not a path). */
  private static boolean isName(String s) {
    return !(s.contains("/") || s.contains("\\") || s.startsWith(".") || s.startsWith("~"));
  }

  /**
   * The run's data directory: config.data when it is an absolute path (train records a directory
   * given relative to it so), else null. A dataset name is compared as a name: where it resolves
   * depends on the checkout and working directory, and the same name is the same dataset.
   */
  private static Path runDataDir(String runData) {
    try {
      return !isName(runData) && Path.of(runData).isAbsolute() ? Path.of(runData).normalize() : null;
    } catch (RuntimeException notAPath) {
      return null;
    }
  }

  /** What the data in {@code dir} is by content; null when it cannot be read (then it is not the run's). */
  static DataIdentity identityOf(String dir) {
    try {
      return DataIdentity.of(Datasets.open(Path.of(dir)));
    } catch (RuntimeException unreadable) {
      return null;
    }
  }
}
