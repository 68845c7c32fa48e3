package org.irevnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.irevnet.reports.JsonReport;
import org.irevnet.stats.Proportions;
import org.irevnet.stats.Spread;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * The spread over training seeds of the default experiment's headline: CE against iCE, each pair
 * trained alike but for {@code train --seed}, and probed with one probe recipe and probe seed, so
 * that what moves between the columns is the training's draws alone.
 */
@Command(name = "seeds", mixinStandardHelpOptions = true,
    header = "The spread over training seeds of CE against iCE: per seed, mean, sd and range of the headline numbers.",
    description = {
        "Each DIR holds a CE and an iCE run, ce/ and ice/ (a quickstart's --out; experiments/seeds.sh makes them),",
        "trained alike but for --seed, both probed with probe --nuisance. Prints, for the logits' and the nuisance",
        "probe's accuracy of each model, the points of probe accuracy iCE removed (CE's probe minus iCE's) and the",
        "points of accuracy it cost (CE's logits minus iCE's): the value at each seed, the mean, the sample sd (n - 1),",
        "the range and Student's 95%% interval of the mean, clipped to the values it can take (0 to 1, -100 to 100",
        "points). Refuses runs that differ in more than their seed, or probes of another recipe, probe seed or test set."})
final class SeedsCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(arity = "1..*", paramLabel = "DIR", description = "Directories of one seed's CE and iCE runs (ce/, ice/).")
  List<Path> dirs;

  /**
   * One seed's pair: its training seed, the two runs' training settings but the seed ({@code
   * config.json}'s config), the threads they were trained with, and their nuisance probes.
   */
  record Pair(Path dir, long seed, JsonNode ceSettings, JsonNode iceSettings, List<Integer> threads, JsonNode ce,
      JsonNode ice) {}

  /** The rows: what each is, and its value at one seed. */
  private static final Map<String, ToDoubleFunction<Pair>> ROWS = new LinkedHashMap<>();

  static {
    ROWS.put("CE logits", p -> p.ce().path("logit_accuracy").asDouble());
    ROWS.put("CE probe", p -> p.ce().path("nuisance_accuracy").asDouble());
    ROWS.put("iCE logits", p -> p.ice().path("logit_accuracy").asDouble());
    ROWS.put("iCE probe", p -> p.ice().path("nuisance_accuracy").asDouble());
    ROWS.put("removed, points", p -> 100 * (p.ce().path("nuisance_accuracy").asDouble()
        - p.ice().path("nuisance_accuracy").asDouble()));
    ROWS.put("cost, points", p -> 100 * (p.ce().path("logit_accuracy").asDouble()
        - p.ice().path("logit_accuracy").asDouble()));
  }

  @Override
  public Integer call() throws IOException {
    // No common.apply(): it reads JSON files only, it never starts ND4J.
    if (dirs.size() < 2) {
      throw new IllegalArgumentException("a spread over seeds needs the runs of at least two seeds, got one directory");
    }
    List<Pair> pairs = new ArrayList<>();
    for (Path dir : dirs) pairs.add(pair(dir));
    checkOnlySeedsDiffer(pairs);
    // Not refused: float32 sums in another order move the numbers too (README: about a point),
    // which the spread then includes.
    TreeSet<Integer> threads = new TreeSet<>();
    for (Pair p : pairs) threads.addAll(p.threads());
    if (threads.size() > 1) {
      System.err.println("irevnet seeds: note: the runs were trained with --threads " + threads + ", whose float32"
          + " results differ by the thread count too: the spread is not the seeds' alone");
    }
    for (String line : table(pairs)) System.out.println(line);
    return 0;
  }

  /** The CE and iCE runs in {@code dir}, checked to be one seed's pair. */
  static Pair pair(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such directory");
    JsonNode ceRun = config(dir.resolve("ce"), "ce"), iceRun = config(dir.resolve("ice"), "ice");
    ObjectNode ce = (ObjectNode) ceRun.path("config").deepCopy(), ice = (ObjectNode) iceRun.path("config").deepCopy();
    long ceSeed = ce.remove("seed").asLong(), iceSeed = ice.remove("seed").asLong();
    if (ceSeed != iceSeed) {
      throw new IllegalArgumentException(dir + ": ce was trained with --seed " + ceSeed + ", ice with --seed " + iceSeed
          + ": a directory holds one seed's two runs");
    }
    List<Integer> threads = List.of(ceRun.at("/environment/threads").asInt(), iceRun.at("/environment/threads").asInt());
    return new Pair(dir, ceSeed, ce, ice, threads, probe(dir.resolve("ce")), probe(dir.resolve("ice")));
  }

  /** {@code run}'s config.json, refused unless its objective is {@code objective}. */
  private static JsonNode config(Path run, String objective) throws IOException {
    Path file = run.resolve(Trainer.CONFIG);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(run + ": not a trained run (no " + Trainer.CONFIG + ")");
    }
    JsonNode config = Json.read(file, "run config");
    String trained = config.at("/config/objective").asText();
    if (!trained.equals(objective) || !config.at("/config/seed").canConvertToLong()) {
      throw new IllegalArgumentException(run + ": " + (trained.equals(objective) ? "its " + Trainer.CONFIG
          + " has no seed" : "trained with --objective " + trained + ", where " + run.getFileName() + "/ holds the "
          + objective + " run"));
    }
    return config;
  }

  private static JsonNode probe(Path run) throws IOException {
    Path file = run.resolve(QuickstartCommand.NUISANCE_PROBE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(run + ": no nuisance probe (" + QuickstartCommand.NUISANCE_PROBE
          + "): run probe --run " + QuickstartCommand.shellWord(run.toString()) + " --nuisance");
    }
    JsonNode probe = Json.read(file, "nuisance probe");
    for (String field : List.of("logit_accuracy", "nuisance_accuracy")) {
      if (!probe.path(field).isNumber()) throw new IllegalArgumentException(file + ": no " + field + " (a number)");
    }
    // A run trained again after its probe: the probe's numbers are of the weights before.
    JsonReport.RecordedWeights recorded = JsonReport.recordedWeights(run, probe);
    if (recorded != null && !recorded.sha256().equals(Checkpoints.weightsSha256(recorded.path()))) {
      throw new IllegalArgumentException(file + ": made from other weights than " + recorded.path() + " holds now: probe the"
          + " run again (probe --run " + QuickstartCommand.shellWord(run.toString()) + " --nuisance)");
    }
    return probe;
  }

  /**
   * Refuses pairs whose runs differ in more than their seed (another recipe's numbers would pass for
   * the seed's spread), whose probes differ in their recipe, probe seed or test images, or two
   * pairs of one seed (the same draw counted twice understates the spread).
   */
  static void checkOnlySeedsDiffer(List<Pair> pairs) {
    Pair first = pairs.get(0);
    JsonNode probeSettings = probeSettings(first.ce());
    Map<Long, Path> seen = new LinkedHashMap<>();
    for (Pair p : pairs) {
      Path twin = seen.putIfAbsent(p.seed(), p.dir());
      if (twin != null) {
        throw new IllegalArgumentException(twin + " and " + p.dir() + " were both trained with --seed " + p.seed()
            + ": each seed once");
      }
      for (String run : List.of("ce", "ice")) {
        String differs = run.equals("ce") ? difference(first.ceSettings(), p.ceSettings())
            : difference(first.iceSettings(), p.iceSettings());
        if (differs != null) {
          throw new IllegalArgumentException(p.dir().resolve(run) + " was trained otherwise than "
              + first.dir().resolve(run) + ", not only with another seed: " + differs);
        }
      }
      for (JsonNode probe : List.of(p.ce(), p.ice())) {
        String differs = difference(probeSettings, probeSettings(probe));
        if (differs != null) {
          throw new IllegalArgumentException((probe == p.ce() ? p.dir().resolve("ce") : p.dir().resolve("ice"))
              + "'s nuisance probe was made otherwise than " + first.dir().resolve("ce") + "'s: " + differs);
        }
      }
    }
  }

  /** What a probe's numbers depend on but the model: its recipe (with its seed) and its test images. */
  private static JsonNode probeSettings(JsonNode probe) {
    ObjectNode s = Json.MAPPER.createObjectNode();
    for (String field : List.of("recipe", "data", "data_path", "train_count", "test_count")) s.set(field, probe.path(field));
    // Written only when true: an unwhitened probe has no such field.
    s.put("whitened", probe.path("whitened").asBoolean(false));
    return s;
  }

  /**
   * The first setting in which {@code b} differs from {@code a}, in words, or null when none does. A
   * setting only one of them records (a run of another version) is said to be not recorded: Jackson
   * writes a missing value as {@code null}, which read as a setting of that value.
   */
  private static String difference(JsonNode a, JsonNode b) {
    TreeSet<String> names = new TreeSet<>();
    a.fieldNames().forEachRemaining(names::add);
    b.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      JsonNode was = a.path(name), is = b.path(name);
      if (!was.equals(is)) {
        return name + " " + (is.isMissingNode() ? "not recorded" : Json.line(is)) + ", not "
            + (was.isMissingNode() ? "recorded there" : Json.line(was));
      }
    }
    return null;
  }

  /** The summary, one line each: a heading, the rows, and whether removal and cost held at every seed. */
  static List<String> table(List<Pair> pairs) {
    List<String> lines = new ArrayList<>();
    JsonNode probe = pairs.get(0).ce();
    lines.add(String.format(Locale.ROOT, "CE against iCE over %d training seeds; nuisance probes of recipe seed %s on"
        + " the %d images of %s", pairs.size(), probe.at("/recipe/seed").asText(), probe.path("test_count").asInt(),
        probe.path("data").asText()));
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s", ""));
    for (Pair p : pairs) head.append(String.format(Locale.ROOT, " %7s", "seed " + p.seed()));
    head.append(String.format(Locale.ROOT, " %8s %8s %7s %7s  %s", "mean", "sd", "min", "max", "95% interval of the mean"));
    lines.add(head.toString());
    Map<String, String> held = new LinkedHashMap<>();
    for (var row : ROWS.entrySet()) {
      boolean points = row.getKey().endsWith("points");
      double[] v = pairs.stream().mapToDouble(row.getValue()).toArray();
      Spread s = Spread.of(v);
      if (points) held.put(row.getKey(), held(v, s));
      String value = points ? " %7.1f" : " %7.3f", summary = points ? "%.2f" : "%.4f";
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-16s", row.getKey()));
      for (double x : v) line.append(String.format(Locale.ROOT, value, x));
      Proportions.Interval ci = points ? s.meanCi95Within(-100, 100) : s.meanCi95Within(0, 1);
      line.append(String.format(Locale.ROOT, " %8s %8s" + value + value + "  [" + summary + ", " + summary + "]",
          String.format(Locale.ROOT, summary, s.mean()), String.format(Locale.ROOT, summary, s.sd()), s.min(), s.max(),
          ci.lo(), ci.hi()));
      lines.add(line.toString());
    }
    lines.add("removed " + held.get("removed, points") + "; cost " + held.get("cost, points"));
    return lines;
  }

  /** At how many seeds the paired difference {@code v} is above 0, and the verdict of its spread {@code s} on the mean. */
  private static String held(double[] v, Spread s) {
    long above = Arrays.stream(v).filter(x -> x > 0).count();
    Proportions.Interval ci = s.meanCi95();
    String mean = ci.lo() > 0 ? "its mean's 95% interval above 0: beyond the seeds' spread"
        : ci.hi() < 0 ? "its mean's 95% interval below 0: beyond the seeds' spread"
        : "its mean's 95% interval holds 0: within the seeds' spread";
    return String.format(Locale.ROOT, "above 0 at %d of %d seeds, %s", above, v.length, mean);
  }
}
