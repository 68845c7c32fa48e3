package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;
import org.irevnet.io.AtomicFiles;
import org.irevnet.testing.TinyData;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default experiment end to end on a tiny model and tiny data, and its bad-input errors. */
class QuickstartCommandTest {

  @Test
  void runsEveryStepAndWritesTheComparisonReport(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path out = tmp.resolve("qs");
    MainTest.Run r = run("quickstart", "--arch", arch.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--count", "8", "--skip-selftest", "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [1/").contains("report.html");

    JsonNode summary = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(summary.get("complete").asBoolean()).isTrue();
    assertThat(summary.get("steps")).hasSize(19);
    for (JsonNode s : summary.get("steps")) assertThat(s.get("exit_code").asInt()).as(s.get("name").asText()).isZero();

    for (String run : new String[] {"ce", "ice"}) {
      Path a = out.resolve(run).resolve("analysis");
      for (String f : new String[] {"invert.json", "nuisance-probe.json", "layer-probes.json", "metamers.json",
          "interpolate.json", "attack-fgsm.json", "attack-pgd-linf.json", "attack-metamer.json"}) {
        assertThat(a.resolve(f)).as(run + "/" + f).exists();
      }
    }
    JsonNode metamers = Json.MAPPER.readTree(out.resolve("ice/analysis/metamers.json").toFile());
    assertThat(metamers.at("/summary/rate_probe_class_is_label_of_b").isNumber()).as("metamers --probe-class").isTrue();
    JsonNode ice = Json.MAPPER.readTree(out.resolve("ice/config.json").toFile());
    assertThat(ice.at("/config/objective").asText()).isEqualTo("ice");
    JsonNode report = Json.MAPPER.readTree(out.resolve("report.json").toFile());
    assertThat(report.get("runs")).hasSize(2);
    assertThat(Files.readString(out.resolve("report.html"))).contains("Nuisance probe").contains("ice");
    // Each compared difference, with whether the 20 test images can tell it from their sampling noise.
    assertThat(r.out()).containsPattern("CE vs iCE, logit accuracy [0-9.]+ vs [0-9.]+ on the same 20 test images: "
        + "(beyond|within) sampling noise \\(exact McNemar test, [0-9]+ and [0-9]+ images only one got right, p = ")
        .contains("CE vs iCE, nuisance probe accuracy ");
  }

  /**
   * The comparison's lines: on the same images the exact McNemar test of the images only one model
   * got right (by hand: 10 and 0 of 30 is p = 2 / 2^10; 3 and 2, p = 1); on different images
   * Fisher's exact test (p as R's fisher.test, recomputed by integer sums in Python: 0.26 for 20
   * of 30 against 10 of 20, 0.025 for 25 of 30 against 10 of 20); untested, saying why, without
   * per-image results; nothing without both files.
   */
  @Test
  void theComparisonSaysWhetherEachDifferenceIsBeyondTheTestImagesNoise(@TempDir Path tmp) throws Exception {
    boolean[] ceLogits = new boolean[30], iceLogits = new boolean[30], ceProbe = new boolean[30], iceProbe = new boolean[30];
    for (int i = 0; i < 30; i++) {
      ceLogits[i] = i < 20;
      iceLogits[i] = i < 17 || (i >= 20 && i < 22); // 3 right only for CE, 2 only for iCE
      ceProbe[i] = i < 25;
      iceProbe[i] = i < 15; // 10 right only for CE's probe
    }
    Path ce = probeFile(tmp.resolve("ce"), "test", 30, ceLogits, ceProbe);
    Path ice = probeFile(tmp.resolve("ice"), "test", 30, iceLogits, iceProbe);
    String same = " on the same 30 test images: %s sampling noise (exact McNemar test, %s images only one got right, p = %s)";
    assertThat(QuickstartCommand.comparison(ce, ice)).containsExactly(
        "CE vs iCE, logit accuracy 0.667 vs 0.633" + String.format(same, "within", "3 and 2", "1.0"),
        "CE vs iCE, nuisance probe accuracy 0.833 vs 0.500" + String.format(same, "beyond", "10 and 0", "0.0020"));

    boolean[] half = new boolean[20];
    for (int i = 0; i < 10; i++) half[i] = true;
    Path other = probeFile(tmp.resolve("other"), "test[20 of 30]", 20, half, half);
    String different = " on different test images (d/test, d/test[20 of 30]): %s sampling noise (Fisher's exact test,"
        + " the images being different, p = %s)";
    assertThat(QuickstartCommand.comparison(ce, other)).containsExactly(
        "CE vs iCE, logit accuracy 0.667 vs 0.500" + String.format(different, "within", "0.26"),
        "CE vs iCE, nuisance probe accuracy 0.833 vs 0.500" + String.format(different, "beyond", "0.025"));
    Path old = probeFile(tmp.resolve("old"), "test", 30, iceLogits, iceProbe);
    ObjectNode before = (ObjectNode) Json.MAPPER.readTree(old.resolve(QuickstartCommand.NUISANCE_PROBE).toFile());
    before.remove(List.of("logit_correct", "nuisance_correct"));
    Files.writeString(old.resolve(QuickstartCommand.NUISANCE_PROBE), Json.pretty(before));
    assertThat(QuickstartCommand.comparison(ce, old)).allSatisfy(line -> assertThat(line).endsWith(": not tested (a probe"
        + " file from before 2026-12-06 has no per-image results: run probe --nuisance again)"));
    assertThat(QuickstartCommand.comparison(ce, tmp.resolve("none"))).isEmpty();
    // A damaged file is named on the line, after every step has run, not an error of the experiment.
    Files.writeString(old.resolve(QuickstartCommand.NUISANCE_PROBE), "{\"test_count\": 0, \"data\": \"x\"}");
    assertThat(QuickstartCommand.comparison(ce, old)).containsExactly("CE vs iCE: not compared: Fisher's exact test of"
        + " 20 of 30 and 0 of 0: need 0 <= k <= n and n >= 1");
  }

  /**
   * Each part of the pairing rule alone: the same split from another data directory is other
   * images (Fisher's test), a whole split probed with other seeds is the same images (paired).
   * Per-image results that are no booleans of the test count are a damaged file, said so; only
   * absent ones are a file from before them. Nothing is compared when CE's file is missing.
   */
  @Test
  void eachPartOfThePairingRuleAloneAndDamagedPerImageResults(@TempDir Path tmp) throws Exception {
    boolean[] first = new boolean[20], second = new boolean[20];
    for (int i = 0; i < 20; i++) {
      first[i] = i < 15;
      second[i] = i >= 5;
    }
    Path ce = withSeed(probeFile(tmp.resolve("ce"), "test", 20, first, first), 0);
    Path elsewhere = probeFile(tmp.resolve("elsewhere"), "test", 20, second, second);
    Path file = elsewhere.resolve(QuickstartCommand.NUISANCE_PROBE);
    ObjectNode f = (ObjectNode) Json.MAPPER.readTree(file.toFile());
    Files.writeString(file, Json.pretty(f.put("data_path", "/data/other")));
    assertThat(QuickstartCommand.comparison(ce, elsewhere)).allSatisfy(line -> assertThat(line)
        .contains(" on different test images (d/test, d/test): within sampling noise (Fisher's exact test"));
    Path otherSeed = withSeed(probeFile(tmp.resolve("seed"), "test", 20, second, second), 1);
    assertThat(QuickstartCommand.comparison(ce, otherSeed)).allSatisfy(line -> assertThat(line)
        .contains(" on the same 20 test images: within sampling noise (exact McNemar test, 5 and 5 images"));

    Path damaged = probeFile(tmp.resolve("damaged"), "test", 20, second, second);
    file = damaged.resolve(QuickstartCommand.NUISANCE_PROBE);
    f = (ObjectNode) Json.MAPPER.readTree(file.toFile());
    f.set("logit_correct", Json.MAPPER.valueToTree(java.util.Arrays.copyOf(second, 19)));
    f.set("nuisance_correct", Json.MAPPER.valueToTree(new int[20]));
    Files.writeString(file, Json.pretty(f));
    assertThat(QuickstartCommand.comparison(ce, damaged)).containsExactly(
        "CE vs iCE, logit accuracy 0.750 vs 0.750: not tested (logit_correct is not 20 booleans, one per test image:"
            + " a damaged probe file)",
        "CE vs iCE, nuisance probe accuracy 0.750 vs 0.750: not tested (nuisance_correct is not 20 booleans, one per"
            + " test image: a damaged probe file)");
    // Either side's file alone: CE's damaged, or CE's from before the per-image results.
    assertThat(QuickstartCommand.comparison(damaged, ce)).allSatisfy(line -> assertThat(line)
        .endsWith(" booleans, one per test image: a damaged probe file)"));
    f.remove(List.of("logit_correct", "nuisance_correct"));
    Files.writeString(file, Json.pretty(f));
    assertThat(QuickstartCommand.comparison(damaged, ce)).allSatisfy(line -> assertThat(line)
        .endsWith(": not tested (a probe file from before 2026-12-06 has no per-image results: run probe --nuisance again)"));
    assertThat(QuickstartCommand.comparison(tmp.resolve("none"), ce)).isEmpty();
  }

  /**
   * A difference of thousands of images: McNemar's p of 1100 and 0 discordant images is 2 / 2^1100
   * = 2^-1099, about 1e-331, below the smallest double, so it is computed as 0 and said as a bound
   * ("p = < 1e-300" before).
   */
  @Test
  void aPValueBelowTheSmallestDoubleIsSaidAsABound(@TempDir Path tmp) throws Exception {
    boolean[] all = new boolean[1100], none = new boolean[1100];
    java.util.Arrays.fill(all, true);
    Path ce = probeFile(tmp.resolve("ce"), "test", 1100, all, all);
    Path ice = probeFile(tmp.resolve("ice"), "test", 1100, none, none);
    assertThat(QuickstartCommand.comparison(ce, ice)).containsExactly(
        "CE vs iCE, logit accuracy 1.000 vs 0.000 on the same 1100 test images: beyond sampling noise (exact McNemar"
            + " test, 1100 and 0 images only one got right, p < 1e-300)",
        "CE vs iCE, nuisance probe accuracy 1.000 vs 0.000 on the same 1100 test images: beyond sampling noise (exact"
            + " McNemar test, 1100 and 0 images only one got right, p < 1e-300)");
  }

  /**
   * Two probes of one seeded subset's name ("test[20 of 30]") but other seeds measured other images:
   * not paired (Fisher's test, saying which draws), while the same seed's are.
   */
  @Test
  void probesOfSubsetsDrawnWithOtherSeedsAreNotPaired(@TempDir Path tmp) throws Exception {
    boolean[] first = new boolean[20], second = new boolean[20];
    for (int i = 0; i < 20; i++) {
      first[i] = i < 15;
      second[i] = i >= 5; // as accurate, on other images: 5 and 5 only one got right when paired
    }
    Path ce = withSeed(probeFile(tmp.resolve("ce"), "test[20 of 30]", 20, first, first), 0);
    Path sameSeed = withSeed(probeFile(tmp.resolve("same"), "test[20 of 30]", 20, second, second), 0);
    Path otherSeed = withSeed(probeFile(tmp.resolve("other"), "test[20 of 30]", 20, second, second), 1);
    assertThat(QuickstartCommand.comparison(ce, sameSeed)).allSatisfy(line -> assertThat(line)
        .contains(" on the same 20 test images: within sampling noise (exact McNemar test, 5 and 5 images"));
    assertThat(QuickstartCommand.comparison(ce, otherSeed)).allSatisfy(line -> assertThat(line)
        .contains(" on different test images (d/test[20 of 30] drawn with seeds 0 and 1): within sampling noise"
            + " (Fisher's exact test, the images being different, p = 1.0)"));
  }

  private static Path withSeed(Path run, long seed) throws IOException {
    Path file = run.resolve(QuickstartCommand.NUISANCE_PROBE);
    ObjectNode f = (ObjectNode) Json.MAPPER.readTree(file.toFile());
    f.putObject("recipe").put("seed", seed);
    Files.writeString(file, Json.pretty(f));
    return run;
  }

  /** A run's nuisance-probe.json with the fields the comparison reads, its accuracies those of the per-image results. */
  private static Path probeFile(Path run, String split, int images, boolean[] logitCorrect, boolean[] probeCorrect)
      throws IOException {
    ObjectNode f = Json.MAPPER.createObjectNode().put("data", "d/" + split).put("data_path", "/data/d")
        .put("test_count", images).put("logit_accuracy", share(logitCorrect)).put("nuisance_accuracy", share(probeCorrect));
    f.set("logit_correct", Json.MAPPER.valueToTree(logitCorrect));
    f.set("nuisance_correct", Json.MAPPER.valueToTree(probeCorrect));
    Path file = run.resolve(QuickstartCommand.NUISANCE_PROBE);
    Files.createDirectories(file.getParent());
    Files.writeString(file, Json.pretty(f));
    return run;
  }

  private static double share(boolean[] right) {
    int k = 0;
    for (boolean r : right) if (r) k++;
    return (double) k / right.length;
  }

  /**
   * A quickstart stopped after its first step (its record says so, as one written after each step
   * does) continues with --resume: the finished step is kept, the training it was in goes on from
   * its checkpoint, the rest runs. Resumed with other settings it is refused.
   */
  @Test
  void aStoppedQuickstartContinuesWithResume(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path out = tmp.resolve("qs");
    String[] args = {"quickstart", "--arch", arch.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--count", "8", "--skip-selftest", "--no-progress", "--threads", "1"};
    assertThat(run(args).code()).isZero();
    Path record = out.resolve("quickstart.json");
    ObjectNode summary = (ObjectNode)
        Json.MAPPER.readTree(record.toFile());
    JsonNode first = summary.get("steps").get(0);
    summary.put("complete", false);
    ((ArrayNode) summary.get("steps")).removeAll().add(first);
    Files.writeString(record, Json.MAPPER.writeValueAsString(summary));
    for (String gone : new String[] {"report.html", "report.json", "ce/analysis", "ice/analysis"}) {
      AtomicFiles.deleteTree(out.resolve(gone));
    }
    String ceMetrics = Files.readString(out.resolve("ce/metrics.jsonl"));

    MainTest.Run r = run(Stream.concat(Arrays.stream(args), Stream.of("--resume"))
        .toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [1/19] done before: " + first.get("name").asText());
    assertThat(r.err()).containsPattern("quickstart \\[2/19, [0-9:]+ elapsed\\] train .* --resume");
    assertThat(out.resolve("ce/metrics.jsonl")).as("the finished training is kept").hasContent(ceMetrics);
    JsonNode after = Json.MAPPER.readTree(record.toFile());
    assertThat(after.get("complete").asBoolean()).isTrue();
    assertThat(after.get("steps")).hasSize(19);
    assertThat(after.get("steps").get(0)).isEqualTo(first);
    for (JsonNode s : after.get("steps")) assertThat(s.get("exit_code").asInt()).as(s.get("name").asText()).isZero();
    assertThat(out.resolve("ice/analysis/attack-metamer.json")).exists();
    assertThat(out.resolve("report.html")).exists();

    String[] other = args.clone();
    other[Arrays.asList(args).indexOf("--epochs") + 1] = "2";
    MainTest.Run refused = run(Stream.concat(Arrays.stream(other),
        Stream.of("--resume")).toArray(String[]::new));
    assertThat(refused.code()).isEqualTo(2);
    // Each path as the command quotes it (the temporary directory's may hold a space).
    String started = "--resume --arch " + QuickstartCommand.shellWord(arch.toString()) + " --data "
        + QuickstartCommand.shellWord(data.toString()) + " --epochs 1 --count 8";
    assertThat(refused.err().strip()).isEqualTo("irevnet quickstart: --resume continues the quickstart in " + out
        + " as it was started: its --epochs was 1, not 2 (continue it with " + started
        + ", or start again with --fresh)");
    // "continue with --resume" alone, as the interrupted quickstart said, takes the defaults: every
    // setting that differs is named at once, with the command that continues it.
    MainTest.Run bare = run("quickstart", "--out", out.toString(), "--resume", "--arch", arch.toString(), "--data",
        data.toString(), "--no-progress");
    assertThat(bare.code()).isEqualTo(2);
    assertThat(bare.err().strip()).isEqualTo("irevnet quickstart: --resume continues the quickstart in " + out
        + " as it was started: its --epochs was 1, not 3; its --count was 8, not 256 (continue it with " + started
        + ", or start again with --fresh)");
    // Another training seed is another experiment: its runs would be the first seed's, continued.
    MainTest.Run seeded = run(Stream.concat(Arrays.stream(args), Stream.of("--resume", "--seed", "3"))
        .toArray(String[]::new));
    assertThat(seeded.code()).isEqualTo(2);
    assertThat(seeded.err().strip()).isEqualTo("irevnet quickstart: --resume continues the quickstart in " + out
        + " as it was started: its --seed was 0, not 3 (continue it with " + started + ", or start again with --fresh)");
  }

  /** Stands for a stop (Ctrl-C, kill): an Error, so no command's error handling runs after it, as none runs after a signal. */
  private static final class Stop extends Error {
    Stop() {
      super("stopped", null, false, false);
    }
  }

  /** A command stopped: the line it said as it was stopped, and its standard error up to then. */
  record Stopped(String line, String err) {}

  /**
   * Runs {@code args} until its standard error says {@code at}, and stops it there: the rest of
   * the command, and of the quickstart around it, does not run (its record of the step is not
   * written), as after a signal.
   */
  private static Stopped stoppedAt(String at, String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] line = new String[1];
    OutputStream stopping = new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        err.write(b, off, len);
        if (line[0] == null && err.toString(StandardCharsets.UTF_8).contains(at)) {
          line[0] = Interruption.line();
          throw new Stop();
        }
      }
    };
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    System.setErr(new PrintStream(stopping, true));
    try {
      int code = Main.execute(args);
      throw new AssertionError("ended (exit code " + code + ") before '" + at + "': " + err);
    } catch (Stop stopped) {
      return new Stopped(line[0], err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * A quickstart stopped during its first step, the CE training, had no record yet (it was
   * written after each step): --resume, as the interrupted one said, was refused ("no quickstart
   * to resume"), and only --fresh started it again, losing that training. Now its record is
   * written first: the printed command continues it, and the training goes on from its checkpoint.
   * A quickstart started --fresh over another no longer leaves the old one's finished steps for
   * --resume to keep while its first step runs.
   */
  @Test
  void aQuickstartStoppedDuringItsFirstStepResumesWithThePrintedCommand(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    // Paths with a space and a quote, as the printed command quotes them for a shell.
    Path data = TinyData.idx(tmp.resolve("the data"), 64, 20); // one batch of 64 a training epoch
    Path out = tmp.resolve("Anne's qs");
    List<String> common = List.of("quickstart", "--out", out.toString(), "--skip-selftest", "--no-progress",
        "--threads", "1");
    List<String> started = new ArrayList<>(common);
    started.addAll(List.of("--arch", arch.toString(), "--data", data.toString(), "--epochs", "2", "--count", "8"));
    // Stopped at the second of its two training steps: the first's checkpoint (epoch 1) is saved.
    Stopped first = stoppedAt("step 2/2", started.toArray(String[]::new));
    assertThat(first.err()).contains("quickstart [1/19, ").contains("epoch 1 done");
    assertThat(QuickstartCommand.shellWord(out.toString())).startsWith("'").endsWith("/Anne'\\''s qs'");
    assertThat(QuickstartCommand.shellWord(data.toString())).startsWith("'").endsWith("/the data'");
    String resumeWith = "--resume --out " + QuickstartCommand.shellWord(out.toString()) + " --arch "
        + QuickstartCommand.shellWord(arch.toString()) + " --data " + QuickstartCommand.shellWord(data.toString())
        + " --epochs 2 --count 8 --skip-selftest";
    assertThat(first.line()).isEqualTo("irevnet quickstart: interrupted during train; what it finished is in " + out
        + "; continue with " + resumeWith + " (or start again with --fresh)");
    JsonNode record = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(record.get("complete").asBoolean()).isFalse();
    assertThat(record.get("epochs").asInt()).isEqualTo(2);
    assertThat(record.get("steps")).isEmpty();
    Path latest = Trainer.latest(out.resolve("ce"));
    assertThat(Checkpoints.trainingState(latest).step()).isEqualTo(1);
    // Without --resume or --fresh it is refused, as a quickstart in OUT is.
    MainTest.assertRefused(started, out + " already holds a quickstart; pass --resume to continue it or --fresh to"
        + " replace it");

    // The printed command (with the options that do not change results), read as a shell reads it
    // (a space in a path split it in two), stopped again as the second step starts.
    Process words = new ProcessBuilder("bash", "-c", "printf '%s\\n' " + resumeWith).start();
    List<String> resumed = new ArrayList<>(List.of("quickstart", "--no-progress", "--threads", "1"));
    resumed.addAll(new String(words.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList());
    assertThat(words.waitFor()).isZero();
    assertThat(resumed).contains(out.toString(), data.toString());
    Stopped second = stoppedAt("quickstart [2/19, ", resumed.toArray(String[]::new));
    assertThat(second.err()).contains(" elapsed] train --arch " + arch + " --data " + data + " --epochs 2 --out "
        + out.resolve("ce") + " --resume --objective ce").contains("resuming " + out.resolve("ce") + " after step 1 ")
        .doesNotContain("no quickstart to resume").doesNotContain("epoch 1 done");
    record = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(record.get("steps")).hasSize(1);
    assertThat(record.get("steps").get(0).get("exit_code").asInt()).isZero();
    assertThat(Checkpoints.trainingState(latest).step()).isEqualTo(2);

    // Started again with --fresh, and stopped before its first step ends: the record is this
    // quickstart's, with nothing finished, not the one before's with its CE training done.
    List<String> fresh = new ArrayList<>(started);
    fresh.add("--fresh");
    stoppedAt("quickstart [1/19, ", fresh.toArray(String[]::new));
    assertThat(Json.MAPPER.readTree(out.resolve("quickstart.json").toFile()).get("steps")).isEmpty();
  }

  /**
   * The words of the printed resume command: a word of letters (any script), digits and
   * {@code _./:,+@%=-} as it is, so that the usual path reads as typed; any other (an empty one, a
   * space, a quote, a character a shell expands) single-quoted, and read back by bash as the same word.
   */
  @Test
  void theResumeCommandsWordsReadBackAsTheyWere() throws Exception {
    List<String> plain = List.of("runs/qs_1", "-x", "a=b", "x:y,z+w@v%u", MainTest.fileName("./ü/データ/9"));
    for (String w : plain) assertThat(QuickstartCommand.shellWord(w)).isEqualTo(w);
    List<String> quoted = List.of("", "Anne's qs", "$HOME", "~/x", "a*b", "a;b", "a\\b", "!x", "a\tb", "'", "`x`");
    List<String> words = new ArrayList<>(plain);
    words.addAll(quoted);
    StringBuilder command = new StringBuilder("printf '%s\\0'");
    for (String w : words) {
      String s = QuickstartCommand.shellWord(w);
      if (quoted.contains(w)) assertThat(s).as(w).startsWith("'").endsWith("'");
      command.append(' ').append(s);
    }
    Process bash = new ProcessBuilder("bash", "-c", command.toString()).start();
    String read = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(bash.waitFor()).isZero();
    assertThat(read.split("\0", -1)).containsExactlyElementsOf(Stream.concat(words.stream(), Stream.of("")).toList());
  }

  private static QuickstartCommand quickstart(Path out, boolean skipSelftest, Integer threads, boolean noProgress,
      boolean verbose) {
    QuickstartCommand q = new QuickstartCommand();
    q.common = new CommonOptions();
    q.common.threads = threads;
    q.common.noProgress = noProgress;
    q.common.verbose = verbose;
    q.out = out;
    q.data = "d";
    q.arch = "a";
    q.epochs = 2;
    q.count = 5;
    q.skipSelftest = skipSelftest;
    return q;
  }

  /** The plan is the README's list of commands, with --threads and --no-progress for all but report, and -v for all. */
  @Test
  void thePlanIsTheDocumentedCommandsInOrder() {
    Path out = Path.of("o");
    String ce = out.resolve("ce").toString(), ice = out.resolve("ice").toString();
    List<List<String>> expected = new ArrayList<>();
    expected.add(List.of("selftest"));
    for (String[] r : new String[][] {{ce, "ce"}, {ice, "ice"}}) {
      expected.add(List.of("train", "--arch", "a", "--data", "d", "--epochs", "2", "--out", r[0], "--fresh",
          "--objective", r[1]));
    }
    for (String r : new String[] {ce, ice}) {
      expected.add(List.of("eval", "--run", r, "--data", "d"));
      expected.add(List.of("invert", "--run", r, "--data", "d", "--stability", "--stability-images", "worst"));
      expected.add(List.of("probe", "--run", r, "--data", "d", "--layers", "--nuisance"));
      expected.add(List.of("metamers", "--run", r, "--data", "d", "--probe-class"));
      expected.add(List.of("interpolate", "--run", r, "--data", "d"));
      for (String a : new String[] {"fgsm", "pgd-linf", "metamer"}) {
        expected.add(List.of("attack", "--run", r, "--data", "d", "--attack", a, "--count", "5"));
      }
    }
    expected.add(List.of("report", ce, ice, "--out", "o"));
    assertThat(quickstart(out, false, null, false, false).plan()).isEqualTo(expected);
    assertThat(quickstart(out, true, null, false, false).plan()).isEqualTo(expected.subList(1, expected.size()));

    List<List<String>> passed = quickstart(out, true, 3, true, true).plan();
    assertThat(passed.get(0)).endsWith("--objective", "ce", "--threads", "3", "--no-progress", "-v");
    assertThat(passed.get(passed.size() - 1)).containsExactly("report", ce, ice, "--out", "o", "-v");
    assertThat(quickstart(out, true, 3, false, false).plan().get(2)).endsWith("--data", "d", "--threads", "3");

    // Another --seed trains both models with it, and nothing else: the probes keep their own seed.
    QuickstartCommand seeded = quickstart(out, false, null, false, false);
    seeded.seed = 3;
    List<List<String>> other = new ArrayList<>(expected);
    for (int i : new int[] {1, 2}) {
      List<String> train = new ArrayList<>(expected.get(i));
      train.addAll(List.of("--seed", "3"));
      other.set(i, train);
    }
    assertThat(seeded.plan()).isEqualTo(other);
  }

  /**
   * Steps are recognised on --resume by their command without the options that do not change a
   * result, and with their run directories by name, so another spelling of --out finds them.
   */
  @Test
  void aStepsKeyLeavesOutThreadsProgressVerbosityAndFreshOrResume(@TempDir Path tmp) {
    assertThat(QuickstartCommand.key(List.of("train", "--threads", "2", "--out", "o/ce", "--fresh", "--no-progress",
        "-v", "--resume", "--epochs", "3"))).containsExactly("train", "--out", "ce", "--epochs", "3");
    assertThat(QuickstartCommand.key(List.of("report", "o/ce", "o/ice", "--out", "o", "-v")))
        .containsExactly("report", "ce", "ice", "--out", "o");
    String abs = tmp.resolve("o").toString();
    assertThat(QuickstartCommand.key(List.of("eval", "--run", abs + "/ce/", "--data", "d")))
        .isEqualTo(QuickstartCommand.key(List.of("eval", "--run", "./o/ce", "--data", "d")));
    assertThat(QuickstartCommand.key(List.of("report", abs + "/ce", abs + "/ice", "--out", abs)))
        .isEqualTo(QuickstartCommand.key(List.of("report", "o/ce", "o/ice", "--out", "o")));
  }

  /**
   * Writes OUT/quickstart.json as a stopped quickstart leaves it: {@code settings}, then each step
   * of {@code plan} with its exit code and name, taking 1 s.
   */
  private static void record(Path out, ObjectNode settings,
      List<List<String>> plan, IntUnaryOperator exitCode,
      IntFunction<String> name) throws IOException {
    ArrayNode steps = settings.putArray("steps");
    for (int i = 0; i < plan.size(); i++) {
      ObjectNode st = steps.addObject().put("name", name.apply(i))
          .put("exit_code", exitCode.applyAsInt(i)).put("seconds", 1.0);
      plan.get(i).forEach(st.putArray("args")::add);
    }
    Files.writeString(out.resolve("quickstart.json"), Json.MAPPER.writeValueAsString(settings));
  }

  /** The plan of a quickstart of fi-revnet-s at {@code seed} into {@code out}, with {@link #quickstart}'s other settings. */
  private static List<List<String>> fiRevNetSPlan(Path out, long seed) {
    QuickstartCommand q = quickstart(out, true, null, true, false);
    q.arch = "fi-revnet-s";
    q.seed = seed;
    return q.plan();
  }

  /** The settings a record of {@link #fiRevNetSPlan}'s quickstart holds, unfinished. */
  private static ObjectNode fiRevNetSSettings() {
    return Json.MAPPER.createObjectNode().put("complete", false).put("arch", "fi-revnet-s").put("data", "d")
        .put("epochs", 2).put("count", 5);
  }

  /**
   * A resumed quickstart keeps the steps its record says ended with 0 or 1, reruns the others, adds
   * the time it took before, and still names a failed check at the end. Here every step is done but
   * the report, which the record says failed with exit code 2: it runs again, on runs that are not
   * there, and fails again.
   */
  @Test
  void aResumeKeepsFinishedStepsAndRerunsFailedOnes(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("qs"));
    List<List<String>> plan = fiRevNetSPlan(out, 0);
    ObjectNode settings = fiRevNetSSettings().put("seconds", 1000.0);
    record(out, settings, plan, i -> i == 3 ? 1 : i == plan.size() - 1 ? 2 : 0, i -> String.join(" ", plan.get(i)));
    String invertCe = String.join(" ", plan.get(3));

    MainTest.Run r = run("quickstart", "--out", out.toString(), "--arch", "fi-revnet-s", "--data", "d", "--epochs", "2",
        "--count", "5", "--skip-selftest", "--resume", "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("quickstart [1/19] done before: " + String.join(" ", plan.get(0)))
        .contains("quickstart [4/19] done before: " + invertCe)
        .contains("quickstart [18/19] done before: ")
        .containsPattern("quickstart \\[19/19, [0-9:]+ elapsed\\] report ")
        .endsWith("irevnet quickstart: step failed with exit code 2: irevnet " + String.join(" ", plan.get(18)) + "\n");
    JsonNode after = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(after.get("complete").asBoolean()).isFalse();
    assertThat(after.get("seconds").asDouble()).as("the time before, and this call's").isGreaterThan(1000.0);
    assertThat(after.get("steps")).hasSize(19);
    assertThat(after.get("steps").get(3).get("exit_code").asInt()).isEqualTo(1);
    assertThat(after.get("steps").get(18).get("exit_code").asInt()).isEqualTo(2);
    assertThat(after.get("steps").get(18).get("seconds").asDouble()).as("measured again").isNotEqualTo(1.0);
  }

  /**
   * A record from before --seed has no seed: its trainings were seed 0's. Resumed with another seed
   * it went on, its finished steps taken for the new seed's: the trainings ran again (resumed from the
   * seed-0 checkpoints) while the evaluations, probes and attacks of the seed-0 models stayed as
   * finished. It is refused as a record of seed 0 is; one of another seed resumes with that seed.
   */
  @Test
  void aRecordFromBeforeSeedIsOfSeedZero(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("qs"));
    List<List<String>> plan = fiRevNetSPlan(out, 0);
    ObjectNode settings = fiRevNetSSettings();
    record(out, settings, plan, i -> 0, i -> String.join(" ", plan.get(i)));
    MainTest.assertRefused(List.of("quickstart", "--out", out.toString(), "--arch", "fi-revnet-s", "--data", "d",
        "--epochs", "2", "--count", "5", "--seed", "3", "--skip-selftest", "--resume", "--no-progress"),
        "--resume continues the quickstart in " + out + " as it was started: its --seed was 0, not 3 (continue it with"
        + " --resume --data d --epochs 2 --count 5, or start again with --fresh)");

    // A record of --seed 3 resumes with --seed 3, every step done before (the record's "seed" read
    // as recorded, not as the 0 of a record without one).
    Path seeded = Files.createDirectories(tmp.resolve("seeded"));
    List<List<String>> seededPlan = fiRevNetSPlan(seeded, 3);
    record(seeded, fiRevNetSSettings().put("seed", 3), seededPlan, i -> 0, i -> String.join(" ", seededPlan.get(i)));
    MainTest.Run r = run("quickstart", "--out", seeded.toString(), "--arch", "fi-revnet-s", "--data", "d", "--epochs",
        "2", "--count", "5", "--seed", "3", "--skip-selftest", "--resume", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [19/19] done before: ").doesNotContain("elapsed");
  }

  /** A finished record whose steps all ended 0 or 1 runs nothing, and exits 1 naming the failed checks. */
  @Test
  void aResumeOfAFinishedQuickstartNamesItsFailedChecks(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("qs"));
    QuickstartCommand q = quickstart(out, true, null, true, false);
    q.arch = "fi-revnet-s";
    ObjectNode settings = Json.MAPPER.createObjectNode();
    settings.put("arch", "fi-revnet-s");   // the other settings missing: nothing to compare them with
    record(out, settings, q.plan(), i -> i == 5 || i == 9 ? 1 : 0, i -> "step " + i);
    MainTest.Run r = run("quickstart", "--out", out.toString(), "--arch", "fi-revnet-s", "--data", "d", "--epochs", "2",
        "--count", "5", "--skip-selftest", "--resume", "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip().lines().toList()).last()
        .isEqualTo("irevnet quickstart: 2 check(s) failed (see quickstart.json and the report): step 5; step 9");
    assertThat(r.err()).contains("quickstart: done in ").doesNotContain("elapsed");
    JsonNode after = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(after.get("complete").asBoolean()).isTrue();
    assertThat(after.get("epochs").asInt()).isEqualTo(2);
  }

  /**
   * quickstart.json recorded --arch and --data as typed, so a quickstart begun with relative paths
   * could not be resumed from another directory: the same files spelled absolute were refused ("its
   * --arch was arch/tiny4.json, not /.../arch/tiny4.json"), and the relative ones it suggested were
   * not found. Now both are recorded absolute, in the settings and in the steps' commands.
   */
  @Test
  void aQuickstartRecordsItsArchitectureFileAndDataDirectoryAbsolute(@TempDir Path tmp) throws Exception {
    Path cwd = Path.of("").toAbsolutePath();
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = Files.createDirectories(tmp.resolve("empty")); // the training fails at once: no dataset
    Path out = tmp.resolve("qs");
    MainTest.Run r = run("quickstart", "--arch", cwd.relativize(arch).toString(), "--data",
        cwd.relativize(data).toString(), "--out", out.toString(), "--epochs", "1", "--count", "1", "--skip-selftest",
        "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    JsonNode record = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(record.get("arch").asText()).isEqualTo(arch.toString());
    assertThat(record.get("data").asText()).isEqualTo(data.toString());
    assertThat(record.get("steps").get(0).get("name").asText()).startsWith("train --arch " + arch + " --data " + data
        + " --epochs 1 --out ");
  }

  /**
   * A quickstart.json written before that has the paths as typed: they are read from the working
   * directory, as train reads an older run's, so the quickstart resumes from where it was started,
   * with the paths spelled either way, and its finished steps are recognised.
   */
  @Test
  void anOlderRecordWithRelativePathsResumesWithThemSpelledAbsolute(@TempDir Path tmp) throws Exception {
    Path cwd = Path.of("").toAbsolutePath();
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = Files.createDirectories(tmp.resolve("data"));
    String relArch = cwd.relativize(arch).toString(), relData = cwd.relativize(data).toString();
    Path out = Files.createDirectories(tmp.resolve("qs"));
    QuickstartCommand q = quickstart(out, true, null, true, false);
    q.arch = relArch;
    q.data = relData;
    List<List<String>> plan = q.plan();
    ObjectNode settings = Json.MAPPER.createObjectNode();
    settings.put("complete", false).put("arch", relArch).put("data", relData).put("epochs", 2).put("count", 5);
    record(out, settings, plan, i -> 0, i -> String.join(" ", plan.get(i)));

    MainTest.Run r = run("quickstart", "--out", out.toString(), "--arch", arch.toString(), "--data", data.toString(),
        "--epochs", "2", "--count", "5", "--skip-selftest", "--resume", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [1/19] done before: " + String.join(" ", plan.get(0)))
        .contains("quickstart [19/19] done before: ").doesNotContain("elapsed");
    JsonNode after = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(after.get("arch").asText()).isEqualTo(arch.toString());
    assertThat(after.get("data").asText()).isEqualTo(data.toString());

    // A relative path that names nothing from here is another setting, refused as before.
    settings.put("arch", "moved/tiny.json");
    record(out, settings, plan, i -> 0, i -> String.join(" ", plan.get(i)));
    MainTest.assertRefused(List.of("quickstart", "--out", out.toString(), "--arch", arch.toString(), "--data",
        data.toString(), "--epochs", "2", "--count", "5", "--skip-selftest", "--resume", "--no-progress"),
        "--resume continues the quickstart in " + out + " as it was started: its --arch was moved/tiny.json, not "
        + arch + " (continue it with --resume --arch moved/tiny.json --data " + QuickstartCommand.shellWord(data.toString())
        + " --epochs 2 --count 5,"
        + " or start again with --fresh)");
  }

  @Test
  void resumeAndFreshExcludeEachOther(@TempDir Path tmp) {
    MainTest.assertRefused(List.of("quickstart", "--out", tmp.toString(), "--resume", "--fresh", "--no-progress"),
        "--resume and --fresh exclude each other");
    MainTest.assertRefused(List.of("quickstart", "--out", tmp.toString(), "--count", "0", "--no-progress"),
        "--count must be at least 1, got 0");
  }

  /** An injective fi-revnet is refused at once too: it trained the CE model, then failed at the iCE one. */
  @Test
  void refusesAnInjectiveFiRevNetBeforeTraining(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("fi-inj.json"), """
        {"name": "fi-inj", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "pad": 4}]}""");
    assertRefusedBeforeTraining(tmp, arch, "--arch must be a bijective fi-revnet, as the iCE model's MLE term and the"
        + " metamers need one; '" + arch + "' is injective (a stage pads zero channels)");
  }

  /** So is one with nothing to train: its CE training refused it after quickstart.json was written. */
  @Test
  void refusesAFiRevNetWithoutStepsBeforeTraining(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("squeezes.json"), """
        {"name": "squeezes", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 0}, {"steps": 0}]}""");
    assertRefusedBeforeTraining(tmp, arch, "--arch must have a stage with steps, as the models are trained; '" + arch
        + "' has no parameters to train (no stage has a step)");
  }

  /**
   * A --count whose metamer pairs cannot be held (in memory, or in one array) was accepted, and
   * refused by the metamer attack's step after both trainings; now at once, as the attack refuses it.
   */
  @Test
  void refusesACountTheMetamerAttackCannotHoldBeforeTraining(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), """
        {"name": "tiny", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine"}]}""");
    Path where = tmp.resolve("qs");
    // 3,000,000 pairs of 1024 values: 24.6 GB, and more values than one array holds.
    MainTest.Run r = run("quickstart", "--arch", arch.toString(), "--out", where.toString(), "--epochs", "1",
        "--count", "3000000", "--skip-selftest", "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).startsWith("irevnet quickstart: --count 3000000: the metamer attack's image pairs")
        .hasLineCount(1);
    assertThat(where).as("refused before the CE model's training").doesNotExist();
  }

  /**
   * A quickstart into an --out that another quickstart is writing is refused, naming it, whatever
   * its options: a --fresh one replaced the first's record and retrained its CE model under the
   * first one's analyses (train refused it only while the first trained that model). The lock is
   * train's, taken here as another quickstart of this process would; nothing is written.
   */
  @Test
  void aSecondQuickstartIntoOneOutIsRefused(@TempDir Path tmp) throws Exception {
    Path where = tmp.resolve("qs");
    for (String mode : new String[] {"--resume", "--fresh", "--no-progress"}) {
      try (org.irevnet.io.RunLock running = org.irevnet.io.RunLock.acquire(where)) {
        MainTest.Run r = run("quickstart", "--out", where.toString(), "--epochs", "1", "--skip-selftest", mode,
            "--threads", "1");
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("irevnet quickstart: " + where + " is being written by another process (pid "
            + ProcessHandle.current().pid() + "): wait for it to end, or stop it and continue with --resume");
      }
      assertThat(tmp).as(mode).isEmptyDirectory();
    }
  }

  private static void assertRefusedBeforeTraining(Path tmp, Path arch, String message) {
    Path where = tmp.resolve("qs");
    MainTest.Run r = run("quickstart", "--arch", arch.toString(), "--out", where.toString(), "--epochs", "1",
        "--count", "1", "--skip-selftest", "--no-progress", "--threads", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet quickstart: " + message);
    assertThat(where).as("refused before the CE model's training").doesNotExist();
  }

  @Test
  void refusesAnExistingQuickstartAndBadCounts(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("qs/ce"));
    MainTest.Run again = run("quickstart", "--out", tmp.resolve("qs").toString(), "--no-progress");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("--resume").contains("--fresh").hasLineCount(1);
    // Stopped before its first training made ce/, a quickstart is known by its record alone (it
    // started over; a regression here fails fast on the missing dataset).
    Path early = Files.createDirectories(tmp.resolve("early"));
    Files.writeString(early.resolve("quickstart.json"), "{\"steps\": []}");
    MainTest.Run recorded = run("quickstart", "--out", early.toString(), "--skip-selftest",
        "--data", tmp.resolve("no-such-data").toString(), "--no-progress");
    assertThat(recorded.code()).isEqualTo(2);
    assertThat(recorded.err().strip()).isEqualTo("irevnet quickstart: " + early
        + " already holds a quickstart; pass --resume to continue it or --fresh to replace it");
    // Inside a checkpoint, which the next save of its run replaces whole (as every command refuses).
    Path checkpoint = Files.createDirectories(tmp.resolve("run/checkpoints/best"));
    Files.writeString(checkpoint.resolve("manifest.json"), "{}");
    Files.writeString(checkpoint.resolve("training.json"), "{}");
    MainTest.Run inCheckpoint = run("quickstart", "--out", checkpoint.resolve("qs").toString(), "--no-progress");
    assertThat(inCheckpoint.code()).isEqualTo(2);
    assertThat(inCheckpoint.err().strip()).isEqualTo("irevnet quickstart: " + checkpoint.resolve("qs") + " is inside "
        + checkpoint + ", a checkpoint, which training replaces whole: choose another directory");
    assertThat(checkpoint.resolve("qs")).doesNotExist();
    // A run's directory or its analysis/, where the last step's report is refused: it was found
    // only after both trainings, with quickstart.json left among the run's files (a regression
    // fails fast on the missing dataset).
    Path aRun = tmp.resolve("a-run"), itsAnalysis = MainTest.runsAnalysis(aRun);
    MainTest.Run intoRun = run("quickstart", "--out", aRun.toString(), "--skip-selftest",
        "--data", tmp.resolve("no-such-data").toString(), "--no-progress");
    assertThat(intoRun.code()).isEqualTo(2);
    assertThat(intoRun.err().strip()).isEqualTo("irevnet quickstart: --out " + aRun + " is the directory of a run,"
        + " whose report the quickstart's would replace: give another directory");
    MainTest.Run intoAnalysis = run("quickstart", "--out", itsAnalysis.toString(), "--skip-selftest",
        "--data", tmp.resolve("no-such-data").toString(), "--no-progress");
    assertThat(intoAnalysis.code()).isEqualTo(2);
    assertThat(intoAnalysis.err().strip()).isEqualTo("irevnet quickstart: --out " + itsAnalysis + " is the analysis"
        + " directory of the run " + aRun + ", whose report would show the quickstart's report as that run's own"
        + " results: give another directory");
    assertThat(aRun.resolve("quickstart.json")).doesNotExist();
    assertThat(itsAnalysis).isEmptyDirectory();
    MainTest.Run nothing = run("quickstart", "--out", tmp.resolve("none").toString(), "--resume", "--no-progress");
    assertThat(nothing.code()).isEqualTo(2);
    assertThat(nothing.err().strip()).isEqualTo("irevnet quickstart: " + tmp.resolve("none")
        + ": no quickstart to resume (no quickstart.json)");
    // A record damaged by hand: a step without its command line cannot be matched to the plan, nor
    // a null in place of a step (read as no step, it would end the quickstart as an internal error).
    Path damaged = Files.createDirectories(tmp.resolve("damaged"));
    String train = "{\"name\": \"train\", \"exit_code\": 0";
    for (String step : new String[] {train + "}", train + ", \"args\": null}", train + ", \"args\": []}", "null"}) {
      Files.writeString(damaged.resolve("quickstart.json"), "{\"steps\": [{\"name\": \"selftest\", \"args\": [\"selftest\"],"
          + " \"exit_code\": 0, \"seconds\": 1}, " + step + "]}");
      MainTest.Run bad = run("quickstart", "--out", damaged.toString(), "--resume", "--no-progress");
      assertThat(bad.code()).as(step).isEqualTo(2);
      assertThat(bad.err().strip()).isEqualTo("irevnet quickstart: " + damaged.resolve("quickstart.json")
          + ": step 2 has no args (start again with --fresh)");
    }
    // A step damaged otherwise: an exit code that is no integer was refused in Jackson's words without
    // the file, and a null arg stopped the quickstart as an internal error (exit code 3).
    java.util.Map<String, String> steps = java.util.Map.of(
        "{\"name\": \"train\", \"args\": [\"train\"], \"exit_code\": \"zero\"}",
        "step 2: key 'exit_code' must be an integer, got \"zero\" (start again with --fresh)",
        "{\"name\": \"train\", \"args\": [\"train\", null], \"exit_code\": 0}",
        "step 2: an arg is null, not a string (start again with --fresh)");
    for (var step : steps.entrySet()) {
      Files.writeString(damaged.resolve("quickstart.json"), "{\"steps\": [{\"name\": \"selftest\", \"args\": [\"selftest\"],"
          + " \"exit_code\": 0, \"seconds\": 1}, " + step.getKey() + "]}");
      MainTest.Run bad = run("quickstart", "--out", damaged.toString(), "--resume", "--no-progress");
      assertThat(bad.code()).as(step.getKey()).isEqualTo(2);
      assertThat(bad.err().strip()).isEqualTo("irevnet quickstart: " + damaged.resolve("quickstart.json") + ": "
          + step.getValue());
    }
    // A record that is not JSON at all was refused with the parser's words alone, naming no file;
    // then in words of its own, where train's and eval's for a run's config.json were others.
    Files.writeString(damaged.resolve("quickstart.json"), "{garbage");
    MainTest.Run garbled = run("quickstart", "--out", damaged.toString(), "--resume", "--no-progress");
    assertThat(garbled.code()).isEqualTo(2);
    assertThat(garbled.err().strip()).isEqualTo("irevnet quickstart: " + damaged.resolve("quickstart.json")
        + ": malformed quickstart record JSON at line 1, column 2: Unexpected character ('g' (code 103)): was"
        + " expecting double-quote to start field name (start again with --fresh)");
    MainTest.Run zero = run("quickstart", "--out", tmp.resolve("other").toString(), "--epochs", "0");
    assertThat(zero.code()).isEqualTo(2);
    assertThat(zero.err()).contains("--epochs");
    for (String[] a : new String[][] {{"cnn-s", "a non-invertible baseline"}, {"irevnet-s", "irevnet"}}) {
      Path where = tmp.resolve("arch-" + a[0]);
      MainTest.Run notFi = run("quickstart", "--arch", a[0], "--out", where.toString(), "--epochs", "1", "--count", "1",
          "--skip-selftest", "--no-progress", "--threads", "1");
      assertThat(notFi.code()).as(a[0]).isEqualTo(2);
      assertThat(notFi.err().strip()).isEqualTo("irevnet quickstart: --arch must be a fully invertible (fi-revnet)"
          + " architecture, as the iCE model needs one; '" + a[0] + "' is " + a[1]);
      assertThat(where).as("refused before the CE model's training").doesNotExist();
    }
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    MainTest.Run onAFile = run("quickstart", "--out", file.toString(), "--no-progress");
    assertThat(onAFile.code()).isEqualTo(2);
    assertThat(onAFile.err().strip()).isEqualTo("irevnet quickstart: " + file + ": exists and is not a directory");
  }
}
