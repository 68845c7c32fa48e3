package org.irevnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.data.Datasets;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.RunLock;
import org.irevnet.models.Architecture;
import org.irevnet.models.Baselines;
import org.irevnet.nn.NativeHeap;
import org.irevnet.reports.JsonReport;
import org.irevnet.stats.Proportions;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The default experiment: a CE and an iCE {@code fi-revnet-s} trained with short recipes, every
 * analysis and attack on both, and one comparison report. Each step is the same command a user
 * would type (run through {@link Main#execute}), so the experiment exercises exactly the tool's
 * public surface and a failing step names the command to rerun by hand.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
    header = "The default experiment end to end: train CE and iCE models, analyse and attack both, write the report.",
    description = {
        "Runs selftest; trains a CE and an iCE model of --arch (default: fi-revnet-s) on --data (default: the",
        "shipped fashion-mnist-mini); runs eval, invert --stability, probe --layers --nuisance, metamers",
        "--probe-class, interpolate, and the fgsm, pgd-linf and metamer attacks on both; writes the comparison",
        "report (report.json, report.html) and quickstart.json (steps, times, exit codes) into --out; prints whether",
        "the two models' logit and nuisance probe accuracies differ beyond the test images' sampling noise (exact",
        "McNemar test on the same images)."})
final class QuickstartCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  private static final String DEFAULT_OUT = "runs/quickstart";

  @Option(names = "--out", defaultValue = DEFAULT_OUT, description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--data", defaultValue = "fashion-mnist-mini",
      description = "Dataset (default: ${DEFAULT-VALUE}; fashion-mnist for the full set).")
  String data;

  @Option(names = "--arch", defaultValue = "fi-revnet-s",
      description = "Architecture of both models, bundled name or JSON file; must be a fi-revnet (default: ${DEFAULT-VALUE}).")
  String arch;

  @Option(names = "--epochs", defaultValue = "3", description = "Training epochs of each model (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--seed", defaultValue = "0", description = "Training seed of both models (train --seed; default:"
      + " ${DEFAULT-VALUE}). The probes keep their own seed, so another --seed measures how far a retraining moves the"
      + " results (irevnet seeds compares the quickstarts).")
  long seed;

  @Option(names = "--count", defaultValue = "256",
      description = "Test images (FGSM, PGD) and image pairs (metamer) attacked (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--skip-selftest", description = "Do not run the self-test first.")
  boolean skipSelftest;

  @Option(names = "--fresh", description = "Replace runs already in --out instead of refusing.")
  boolean fresh;

  @Option(names = "--resume", description = "Continue a stopped quickstart in --out: the steps it finished are kept,"
      + " a training it was in goes on from its checkpoint.")
  boolean resume;

  /** The record of every step, in --out: what --resume continues from. */
  static final String RECORD = "quickstart.json";

  /** Seconds the quickstart took before this call (when resumed). */
  private double earlier;

  /** One step of the experiment and how it went. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Step(String name, List<String> args, int exitCode, double seconds) {}

  @Override
  public Integer call() throws IOException {
    CommonOptions.positive("--epochs", epochs);
    CommonOptions.positive("--count", count);
    // Recorded (quickstart.json, the steps' commands) as train records them: an architecture file
    // and a data directory absolute, so the quickstart resumes, and a step reruns, from any directory.
    arch = Architecture.recorded(arch);
    data = Datasets.recorded(data);
    checkFullyInvertible(arch);
    // The metamer attack builds --count pairs of the model's input images (FGSM and PGD take at most
    // the test split): a count they cannot be held for was refused by that step, after both trainings.
    CommonOptions.checkCountFits("--count", count, Architecture.load(arch).inputDims(),
        "the metamer attack's image pairs", "a", "b");
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new IllegalArgumentException(out + ": exists and is not a directory");
    }
    if (resume && fresh) throw new IllegalArgumentException("--resume and --fresh exclude each other");
    CommonOptions.refuseInCheckpoints(out);
    // Its report goes into --out, which report refuses as a run's directory or a run's analysis/:
    // found at the last step, after both trainings, with quickstart.json left among the run's files.
    if (CommonOptions.isRun(out)) {
      throw new IllegalArgumentException("--out " + out + " is the directory of a run, whose report the quickstart's"
          + " would replace: give another directory");
    }
    CommonOptions.refuseRunsAnalysis(out, "the quickstart's report");
    // A second quickstart into one --out (--fresh, --resume, or both started at once) replaced the
    // first's record and, once the first had trained its CE model, retrained that model under the
    // first one's analyses; only train's refusal of a run being trained stopped it, at that step.
    try (RunLock running = RunLock.acquire(out, "written", "wait for it to end, or stop it and continue with --resume")) {
      return run();
    }
  }

  /** The quickstart, once no other process writes {@code out}. */
  private int run() throws IOException {
    Map<List<String>, Step> finished = new LinkedHashMap<>();
    if (resume) {
      earlier = finishedSteps(finished);
    } else if (!fresh && (Files.exists(out.resolve("ce")) || Files.exists(out.resolve(RECORD)))) {
      throw new IllegalArgumentException(out + " already holds a quickstart; pass --resume to continue it or --fresh"
          + " to replace it");
    }
    // Named as --out, not as the record's temporary file that would fail to be made in it.
    AtomicFiles.checkCanCreate(out);
    AtomicFiles.createDirectories(out);
    List<Step> done = new ArrayList<>();
    long start = System.nanoTime();
    // The record is written before the first step, with no steps, not only after each: a quickstart
    // stopped during its first step (minutes into the CE training) had none, so --resume refused it
    // and only --fresh, which threw that training away, started it again; and one started --fresh
    // over another kept the old record until a step ended, whose finished steps --resume would have
    // taken for this one's. A resumed quickstart keeps its record: it holds the steps it finished.
    if (!resume) writeSummary(done, start, false);
    // The command that continues it, whole: without --out another quickstart's (the default) was
    // resumed or refused, and without --skip-selftest the resumed one ran the self-test.
    String resumeWith = "--resume" + (out.equals(Path.of(DEFAULT_OUT)) ? "" : " --out " + shellWord(out.toString()))
        + repeated(settings())
        + (skipSelftest ? " --skip-selftest" : "");
    Interruption.hint(() -> "what it finished is in " + out + "; continue with " + resumeWith
        + " (or start again with --fresh)");
    List<List<String>> plan = plan();
    PrintStream err = System.err;
    for (int i = 0; i < plan.size(); i++) {
      List<String> args = plan.get(i);
      Step before = finished.get(key(args));
      if (before != null) {
        err.printf("quickstart [%d/%d] done before: %s%n", i + 1, plan.size(), before.name());
        done.add(before);
        continue;
      }
      if (resume) args = continuingTraining(args);
      String name = String.join(" ", args);
      err.printf("quickstart [%d/%d, %s elapsed] %s%n", i + 1, plan.size(), clock(start), name);
      long t0 = System.nanoTime();
      int code = Main.execute(args.toArray(String[]::new));
      done.add(new Step(name, args, code, (System.nanoTime() - t0) / 1e9));
      NativeHeap.releaseGarbage(); // the next step starts from what it needs, not from the last one's
      writeSummary(done, start, false); // what a stop leaves for --resume
      // Exit code 1 is a failed check (a result, e.g. metamers that float64 cannot represent):
      // the experiment goes on so the report shows it. Anything else means the later steps
      // cannot run.
      if (code == 1) {
        err.println("irevnet quickstart: a check failed (exit code 1), continuing: irevnet " + name);
      } else if (code != 0) {
        err.println("irevnet quickstart: step failed with exit code " + code + ": irevnet " + name);
        return code;
      }
    }
    writeSummary(done, start, true);
    for (String line : comparison(out.resolve("ce"), out.resolve("ice"))) System.out.println(line);
    List<String> failed = done.stream().filter(d -> d.exitCode() != 0).map(Step::name).toList();
    err.printf("quickstart: done in %s; open %s%n", clock(start), out.resolve("report.html"));
    if (!failed.isEmpty()) {
      err.println("irevnet quickstart: " + failed.size() + " check(s) failed (see quickstart.json and the report): "
          + String.join("; ", failed));
      return 1;
    }
    return 0;
  }

  /**
   * Reads the steps a stopped quickstart in {@code out} finished (exit code 0 or 1) into {@code
   * finished}, by {@link #key}, and returns the seconds it took; refuses one started with other
   * settings.
   */
  private double finishedSteps(Map<List<String>, Step> finished) throws IOException {
    Path record = out.resolve(RECORD);
    if (!Files.isRegularFile(record)) throw new IllegalArgumentException(out + ": no quickstart to resume (no quickstart.json)");
    JsonNode s;
    try {
      s = Json.read(record, "quickstart record");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + " (start again with --fresh)", e);
    }
    Map<String, Object> now = settings(), started = new LinkedHashMap<>(now);
    List<String> changed = new ArrayList<>();
    for (var e : now.entrySet()) {
      JsonNode was = s.path(e.getKey());
      // A record from before --seed trained at seed 0: taken as any seed, its finished steps passed
      // for another seed's.
      if (was.isMissingNode() && e.getKey().equals("seed")) was = Json.MAPPER.getNodeFactory().numberNode(0);
      if (!was.isMissingNode() && !recorded(e.getKey(), was.asText()).equals(String.valueOf(e.getValue()))) {
        changed.add("its --" + e.getKey() + " was " + was.asText() + ", not " + e.getValue());
        started.put(e.getKey(), was.asText());
      }
    }
    if (!changed.isEmpty()) {
      throw new IllegalArgumentException("--resume continues the quickstart in " + out + " as it was started: "
          + String.join("; ", changed) + " (continue it with --resume" + repeated(started)
          + ", or start again with --fresh)");
    }
    finishedSteps(record, s, finished);
    return s.path("seconds").asDouble(0);
  }

  /**
   * Puts the steps that the record {@code s}, read from {@code record}, lists as finished (exit code
   * 0, or 1: a failed check) into {@code finished} by {@link #key}.
   *
   * @throws IllegalArgumentException in one line naming {@code record} and the step it cannot read:
   *     a damaged step was refused in Jackson's words, without the file ("Cannot deserialize value
   *     of type `int`..."), and a null among its args stopped the quickstart as an internal error
   */
  static void finishedSteps(Path record, JsonNode s, Map<List<String>, Step> finished) {
    int i = 0;
    for (JsonNode n : s.path("steps")) {
      i++;
      Step step;
      try {
        step = Json.MAPPER.treeToValue(n, Step.class);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(record + ": step " + i + ": "
            + org.irevnet.io.JsonErrors.describe(e, "quickstart record") + " (start again with --fresh)", e);
      }
      if (step == null || step.args() == null || step.args().isEmpty()) {
        throw new IllegalArgumentException(record + ": step " + i + " has no args (start again with --fresh)");
      }
      if (step.args().contains(null)) {
        throw new IllegalArgumentException(record + ": step " + i + ": an arg is null, not a string (start again with"
            + " --fresh)");
      }
      if (step.exitCode() == 0 || step.exitCode() == 1) finished.put(key(step.args()), step);
    }
  }

  /** A train step whose run has a checkpoint goes on from it (--resume), where the plan starts it afresh. */
  private static List<String> continuingTraining(List<String> args) {
    if (!args.get(0).equals("train")) return args;
    Path run = Path.of(args.get(args.indexOf("--out") + 1));
    if (!Checkpoints.exists(Trainer.latest(run))) return args;
    List<String> a = new ArrayList<>(args);
    a.set(a.indexOf("--fresh"), "--resume");
    return a;
  }

  /**
   * A setting as this quickstart records it. A quickstart.json written before the architecture file
   * and the data directory were recorded absolute has them as typed: read, as train reads such a
   * run's (Trainer.checkResumeSettings), from the working directory, so it resumes from the
   * directory it was started in, as it did.
   */
  private static String recorded(String setting, String value) {
    return switch (setting) {
      case "arch" -> Architecture.recorded(value);
      case "data" -> Datasets.recorded(value);
      default -> value;
    };
  }

  /**
   * A step's command without the options that do not change its result (threads, progress,
   * verbosity), its --arch and --data as recorded (a step of an older quickstart.json has them as
   * typed), and its run directories (--run, --out, report's runs) by name in the quickstart's
   * directory: they are OUT/ce, OUT/ice and OUT, and OUT spelled another way (absolute, or from
   * another working directory) made every finished step run again.
   */
  static List<String> key(List<String> args) {
    List<String> k = new ArrayList<>();
    boolean report = !args.isEmpty() && args.get(0).equals("report");
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if ((a.equals("--arch") || a.equals("--data")) && i + 1 < args.size()) {
        k.add(a);
        k.add(recorded(a.substring(2), args.get(++i)));
      } else if ((a.equals("--run") || a.equals("--out")) && i + 1 < args.size()) {
        k.add(a);
        k.add(nameOf(args.get(++i)));
      } else if (report && i > 0 && !a.startsWith("-")) {
        k.add(nameOf(a));
      } else if (a.equals("--threads")) i++;
      else if (!a.equals("--no-progress") && !a.equals("-v") && !a.equals("--fresh") && !a.equals("--resume")) k.add(a);
    }
    return k;
  }

  /** The last name of a directory however it is spelled ("runs/q/ce", "/abs/runs/q/ce/", "./ce"). */
  private static String nameOf(String dir) {
    Path name = Path.of(dir).toAbsolutePath().normalize().getFileName();
    return name == null ? dir : name.toString();
  }

  /**
   * The options among {@code settings} that are not at their defaults, as --resume must repeat
   * them (" --epochs 1 --count 8"): "continue with --resume" alone was refused after a
   * quickstart started with other settings.
   */
  private static String repeated(Map<String, Object> settings) {
    CommandSpec defaults = new CommandLine(new QuickstartCommand()).getCommandSpec();
    StringBuilder b = new StringBuilder();
    settings.forEach((key, value) -> {
      if (!String.valueOf(value).equals(defaults.findOption("--" + key).defaultValue())) {
        b.append(" --").append(key).append(' ').append(shellWord(String.valueOf(value)));
      }
    });
    return b.toString();
  }

  /**
   * {@code word} as a shell reads it back, for a command to copy: single-quoted where it has more
   * than letters, digits and {@code _./:,+@%=-} (a path with a space, pasted, was two arguments).
   */
  static String shellWord(String word) {
    if (!word.isEmpty() && word.codePoints().allMatch(c -> Character.isLetterOrDigit(c) || "_./:,+@%=-".indexOf(c) >= 0)) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }

  /** The settings a resumed quickstart must share with the one it continues. */
  private Map<String, Object> settings() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("arch", arch);
    m.put("data", data);
    m.put("epochs", epochs);
    m.put("seed", seed);
    m.put("count", count);
    return m;
  }

  /**
   * Refuses an architecture the iCE model cannot be trained on: without this a baseline or an
   * injective i-RevNet trained the whole CE model first and failed only at the iCE training.
   */
  static void checkFullyInvertible(String arch) {
    Architecture a = Baselines.isBaseline(arch) ? null : Architecture.load(arch);
    String kind = a == null ? "a non-invertible baseline" : a.type();
    if (a == null || !a.isFullyInvertible()) {
      throw new IllegalArgumentException("--arch must be a fully invertible (fi-revnet) architecture, as the iCE model"
          + " needs one; '" + arch + "' is " + kind);
    }
    // An injective fi-revnet trained the CE model, then failed at the iCE model's MLE term (and its
    // metamers would not keep the logits).
    if (!a.isBijective()) {
      throw new IllegalArgumentException("--arch must be a bijective fi-revnet, as the iCE model's MLE term and the"
          + " metamers need one; '" + arch + "' is injective (a stage pads zero channels)");
    }
    // Refused by its CE training, after quickstart.json was written, so that the next quickstart
    // into the same --out needed --fresh.
    if (a.parameterCount() == 0) {
      throw new IllegalArgumentException("--arch must have a stage with steps, as the models are trained; '" + arch
          + "' has no parameters to train (no stage has a step)");
    }
  }

  /** The probe file whose per-image results the comparison of the two runs reads. */
  static final String NUISANCE_PROBE = "analysis/nuisance-probe.json";

  /**
   * One line for each difference the experiment's headline rests on, CE against iCE: the logits'
   * accuracy and the nuisance probe's, each with whether it is beyond the sampling noise of the
   * test images, by the exact McNemar test of the images only one of the two models got right
   * (the two probes are tested on the same images: one split, one seed); on different images (a
   * probe run again by hand on others), Fisher's exact test of the two shares. Untested, saying
   * so, where files from before 2026-12-06 have no per-image results; nothing for a run without
   * the probe's file.
   */
  static List<String> comparison(Path ce, Path ice) {
    Path a = ce.resolve(NUISANCE_PROBE), b = ice.resolve(NUISANCE_PROBE);
    if (!Files.isRegularFile(a) || !Files.isRegularFile(b)) return List.of();
    // After every step has run: a damaged file is named on this line, it does not fail the experiment.
    try {
      JsonNode x = Json.read(a, "nuisance probe"), y = Json.read(b, "nuisance probe");
      return List.of(compared("logit accuracy", "logit", x, y), compared("nuisance probe accuracy", "nuisance", x, y));
    } catch (IOException | IllegalArgumentException e) {
      return List.of("CE vs iCE: not compared: " + e.getMessage());
    }
  }

  private static String compared(String what, String field, JsonNode ce, JsonNode ice) {
    String head = String.format(Locale.ROOT, "CE vs iCE, %s %.3f vs %.3f", what, ce.path(field + "_accuracy").asDouble(),
        ice.path(field + "_accuracy").asDouble());
    // A seeded subset of the test split (probe --test-count N: "test[N of M]") holds other images
    // under another probe seed, though its name and size are the same.
    int n1 = ce.path("test_count").asInt(), n2 = ice.path("test_count").asInt();
    boolean sameData = ce.path("data_path").equals(ice.path("data_path")) && ce.path("data").equals(ice.path("data"))
        && n1 == n2;
    boolean otherDraw = sameData && ProbeCommand.SEEDED_SUBSET.matcher(ce.path("data").asText()).find()
        && !ce.at("/recipe/seed").equals(ice.at("/recipe/seed"));
    if (!sameData || otherDraw) {
      // Independent sets of images: no pairing to use, and an exact test rather than the normal
      // approximation, which is poor for shares near 0 or 1 of few images.
      double p = Proportions.fisherExact(Math.round(ce.path(field + "_accuracy").asDouble() * n1), n1,
          Math.round(ice.path(field + "_accuracy").asDouble() * n2), n2);
      String which = otherDraw
          ? String.format(Locale.ROOT, "%s drawn with seeds %s and %s", ce.path("data").asText(),
              ce.at("/recipe/seed").asText(), ice.at("/recipe/seed").asText())
          : ce.path("data").asText() + ", " + ice.path("data").asText();
      return head + String.format(Locale.ROOT, " on different test images (%s): %s (Fisher's exact test, the"
          + " images being different, %s)", which, noise(p), pValue(p));
    }
    JsonNode ceCorrect = ce.path(field + "_correct"), iceCorrect = ice.path(field + "_correct");
    if (ceCorrect.isMissingNode() || iceCorrect.isMissingNode()) {
      return head + ": not tested (a probe file from before 2026-12-06 has no per-image results: run probe --nuisance"
          + " again)";
    }
    boolean[] first = correct(ceCorrect, n1), second = correct(iceCorrect, n1);
    if (first == null || second == null) {
      // Present but not one boolean per test image: no older version wrote that, so the file is damaged.
      return head + String.format(Locale.ROOT, ": not tested (%s_correct is not %d booleans, one per test image: a"
          + " damaged probe file)", field, n1);
    }
    Proportions.Paired p = Proportions.mcnemar(first, second);
    return head + String.format(Locale.ROOT, " on the same %d test images: %s (exact McNemar test, %d and %d images"
        + " only one got right, %s)", p.images(), noise(p.pValue()), p.onlyFirst(), p.onlySecond(),
        pValue(p.pValue()));
  }

  private static String noise(double p) {
    return p < 0.05 ? "beyond sampling noise" : "within sampling noise";
  }

  /** {@code p = 0.0020}; {@code p < 1e-300} where the p-value underflowed to 0 (thousands of images). */
  private static String pValue(double p) {
    return p == 0 ? "p < 1e-300" : String.format(Locale.ROOT, "p = %.2g", p);
  }

  /** A per-image array of {@code images} booleans, or null when it is not one. */
  private static boolean[] correct(JsonNode a, int images) {
    if (!a.isArray() || a.size() != images) return null;
    boolean[] right = new boolean[a.size()];
    for (int i = 0; i < right.length; i++) {
      if (!a.get(i).isBoolean()) return null;
      right[i] = a.get(i).asBoolean();
    }
    return right;
  }

  /** The commands, in order, with the common options passed on. */
  List<List<String>> plan() {
    List<List<String>> p = new ArrayList<>();
    if (!skipSelftest) p.add(cmd("selftest"));
    Path ce = out.resolve("ce"), ice = out.resolve("ice");
    for (Path run : List.of(ce, ice)) {
      List<String> train = new ArrayList<>(List.of("train", "--arch", arch, "--data", data, "--epochs", "" + epochs,
          "--out", run.toString(), "--fresh", "--objective", run == ce ? "ce" : "ice"));
      // Only another seed is named: the default's steps stay as a quickstart.json of before --seed
      // recorded them, which --resume recognises its finished steps by.
      if (seed != 0) train.addAll(List.of("--seed", "" + seed));
      p.add(cmd(train.toArray(String[]::new)));
    }
    for (Path run : List.of(ce, ice)) {
      String r = run.toString();
      p.add(cmd("eval", "--run", r, "--data", data));
      // At the image least well reconstructed: the whole Jacobian costs about 45 s an image here.
      p.add(cmd("invert", "--run", r, "--data", data, "--stability", "--stability-images", "worst"));
      p.add(cmd("probe", "--run", r, "--data", data, "--layers", "--nuisance"));
      p.add(cmd("metamers", "--run", r, "--data", data, "--probe-class"));
      p.add(cmd("interpolate", "--run", r, "--data", data));
      p.add(cmd("attack", "--run", r, "--data", data, "--attack", "fgsm", "--count", "" + count));
      p.add(cmd("attack", "--run", r, "--data", data, "--attack", "pgd-linf", "--count", "" + count));
      // --count was not passed on: a quickstart cut to a few images still built 256 metamer pairs.
      p.add(cmd("attack", "--run", r, "--data", data, "--attack", "metamer", "--count", "" + count));
    }
    p.add(cmd("report", ce.toString(), ice.toString(), "--out", out.toString()));
    return p;
  }

  private List<String> cmd(String... words) {
    List<String> a = new ArrayList<>(List.of(words));
    boolean nd4j = !"report".equals(words[0]);
    if (nd4j && common.threads != null) {
      a.add("--threads");
      a.add("" + common.threads);
    }
    if (nd4j && common.noProgress) a.add("--no-progress");
    if (common.verbose) a.add("-v");
    return a;
  }

  private void writeSummary(List<Step> steps, long start, boolean complete) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("complete", complete);
    m.putAll(settings());
    m.put("seconds", earlier + (System.nanoTime() - start) / 1e9);
    m.put("steps", steps);
    JsonReport.writeRecord(out.resolve(RECORD), m);
  }

  private static String clock(long start) {
    long s = (System.nanoTime() - start) / 1_000_000_000L;
    return String.format("%d:%02d", s / 60, s % 60);
  }
}
