package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.irevnet.testing.TinyData;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seeds} on tiny CE and iCE runs trained, evaluated and probed at three seeds, as
 * experiments/seeds.sh makes them: its numbers are the probe files', its spread computed here
 * again; and its refusals of runs that differ in more than the seed.
 */
class SeedsCommandTest {
  @TempDir static Path tmp;
  private static final long[] SEEDS = {0, 1, 2};
  private static final List<Path> DIRS = new ArrayList<>();

  @BeforeAll
  static void trainAndProbe() throws IOException {
    // Static: pitest runs this class once per mutant in one JVM, and the runs of the first were gone.
    DIRS.clear();
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    for (long seed : SEEDS) {
      Path dir = tmp.resolve("seed" + seed);
      for (String objective : List.of("ce", "ice")) {
        String run = dir.resolve(objective).toString();
        ok(run("train", "--arch", arch.toString(), "--data", data.toString(), "--epochs", "1", "--out", run,
            "--objective", objective, "--seed", "" + seed, "--no-progress", "--threads", "1"));
        ok(run("probe", "--run", run, "--nuisance", "--epochs", "2", "--no-progress", "--threads", "1"));
      }
      DIRS.add(dir);
    }
  }

  private static void ok(MainTest.Run r) {
    assertThat(r.code()).as(r.err()).isZero();
  }

  private static JsonNode probe(Path dir, String run) throws IOException {
    return Json.MAPPER.readTree(dir.resolve(run).resolve(QuickstartCommand.NUISANCE_PROBE).toFile());
  }

  /**
   * Every row's value at each seed is the probe files' (or their paired difference, in points), its
   * mean and sample sd (n - 1) and Student's interval (scipy's t quantile for 2 degrees of freedom,
   * clipped to 0 to 1, or -100 to 100 points: at these tiny runs' accuracies near 1 it passes 1)
   * recomputed here; a seed dropped, or the sd divided by n, changes the line.
   */
  @Test
  void summarisesTheProbeFilesOfEverySeed() throws IOException {
    MainTest.Run r = run(Stream.concat(Stream.of("seeds"), DIRS.stream().map(Path::toString)).toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0)).isEqualTo("CE against iCE over 3 training seeds; nuisance probes of recipe seed 0 on the 20"
        + " images of " + probe(DIRS.get(0), "ce").path("data").asText());
    assertThat(lines.get(1)).containsSubsequence("seed 0", "seed 1", "seed 2", "mean", "sd", "min", "max");

    String[][] rows = {{"CE logits", "ce", "logit_accuracy"}, {"CE probe", "ce", "nuisance_accuracy"},
        {"iCE logits", "ice", "logit_accuracy"}, {"iCE probe", "ice", "nuisance_accuracy"},
        {"removed, points", null, "nuisance_accuracy"}, {"cost, points", null, "logit_accuracy"}};
    boolean spread = false;
    for (int i = 0; i < rows.length; i++) {
      String[] row = rows[i];
      boolean points = row[1] == null;
      double[] v = new double[SEEDS.length];
      for (int s = 0; s < v.length; s++) {
        v[s] = points ? 100 * (probe(DIRS.get(s), "ce").path(row[2]).asDouble() - probe(DIRS.get(s), "ice")
            .path(row[2]).asDouble()) : probe(DIRS.get(s), row[1]).path(row[2]).asDouble();
      }
      double mean = Arrays.stream(v).sum() / v.length;
      double sd = Math.sqrt(Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / (v.length - 1));
      spread |= sd > 0;
      double half = 4.302652729749462 * sd / Math.sqrt(v.length), bound = points ? 100 : 1;
      String value = points ? "%.1f" : "%.3f", summary = points ? "%.2f" : "%.4f";
      List<String> expected = new ArrayList<>();
      for (double x : v) expected.add(f(value, x));
      expected.addAll(List.of(f(summary, mean), f(summary, sd), f(value, Arrays.stream(v).min().getAsDouble()),
          f(value, Arrays.stream(v).max().getAsDouble()), "[" + f(summary, Math.max(points ? -bound : 0, mean - half)) + ",",
          f(summary, Math.min(bound, mean + half)) + "]"));
      String line = lines.get(2 + i);
      assertThat(line).startsWith(row[0] + " ");
      assertThat(line.substring(row[0].length()).trim().split("\\s+")).as(line).containsExactlyElementsOf(expected);
    }
    assertThat(spread).as("the seeds' numbers differ somewhere, so that the sd is tested").isTrue();
    long removed = Arrays.stream(SEEDS).filter(s -> {
      try {
        return probe(DIRS.get((int) s), "ce").path("nuisance_accuracy").asDouble()
            > probe(DIRS.get((int) s), "ice").path("nuisance_accuracy").asDouble();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).count();
    assertThat(lines.get(8)).startsWith("removed above 0 at " + removed + " of 3 seeds, its mean's 95% interval ");
    assertThat(lines).hasSize(9);
  }

  private static String f(String format, double x) {
    return String.format(Locale.ROOT, format, x);
  }

  /** A copy of one seed's directory, its files editable without touching the original. */
  private static Path copy(Path dir, String name) throws IOException {
    Path to = tmp.resolve(name);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else Files.copy(p, target);
      }
    }
    return to;
  }

  private static void edit(Path file, String pointer, String field, long value) throws IOException {
    edit(file, pointer, o -> o.put(field, value));
  }

  private static void edit(Path file, String pointer, Consumer<ObjectNode> change) throws IOException {
    ObjectNode root = (ObjectNode) Json.MAPPER.readTree(file.toFile());
    change.accept((ObjectNode) root.at(pointer));
    Files.writeString(file, Json.MAPPER.writeValueAsString(root));
  }

  @Test
  void refusesRunsThatDifferInMoreThanTheirSeed() throws IOException {
    String s0 = DIRS.get(0).toString(), s1 = DIRS.get(1).toString();
    MainTest.assertRefused(List.of("seeds", s0), "a spread over seeds needs the runs of at least two seeds, got one"
        + " directory");
    MainTest.assertRefused(List.of("seeds", s0, s1, s0), s0 + " and " + s0 + " were both trained with --seed 0: each"
        + " seed once");

    Path epochs = copy(DIRS.get(1), "other-epochs");
    edit(epochs.resolve("ice/config.json"), "/config", "epochs", 2);
    MainTest.assertRefused(List.of("seeds", s0, epochs.toString()), epochs.resolve("ice") + " was trained otherwise"
        + " than " + DIRS.get(0).resolve("ice") + ", not only with another seed: epochs 2, not 1");

    Path mixed = copy(DIRS.get(1), "mixed-seeds");
    edit(mixed.resolve("ice/config.json"), "/config", "seed", 5);
    MainTest.assertRefused(List.of("seeds", s0, mixed.toString()), mixed + ": ce was trained with --seed 1, ice with"
        + " --seed 5: a directory holds one seed's two runs");

    Path probeSeed = copy(DIRS.get(1), "other-probe-seed");
    edit(probeSeed.resolve("ice").resolve(QuickstartCommand.NUISANCE_PROBE), "/recipe", "seed", 7);
    MainTest.Run r = run("seeds", s0, probeSeed.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).startsWith("irevnet seeds: " + probeSeed.resolve("ice") + "'s nuisance probe was made"
        + " otherwise than " + DIRS.get(0).resolve("ce") + "'s: recipe {").contains("\"seed\":7").doesNotContain("\n");

    // A probe of whitened z_n (probe --whiten) reads another quantity with the same recipe.
    Path whitened = copy(DIRS.get(1), "whitened-probe");
    Path whiteFile = whitened.resolve("ice").resolve(QuickstartCommand.NUISANCE_PROBE);
    edit(whiteFile, "", o -> o.put("whitened", true));
    MainTest.Run w = run("seeds", s0, whitened.toString());
    assertThat(w.code()).isEqualTo(2);
    assertThat(w.err().strip()).isEqualTo("irevnet seeds: " + whitened.resolve("ice") + "'s nuisance probe was made"
        + " otherwise than " + DIRS.get(0).resolve("ce") + "'s: whitened true, not false");

    Path unprobed = copy(DIRS.get(1), "unprobed");
    Files.delete(unprobed.resolve("ce").resolve(QuickstartCommand.NUISANCE_PROBE));
    MainTest.assertRefused(List.of("seeds", s0, unprobed.toString()), unprobed.resolve("ce") + ": no nuisance probe ("
        + QuickstartCommand.NUISANCE_PROBE + "): run probe --run " + MainTest.shellWord(unprobed.resolve("ce"))
        + " --nuisance");

    Path damaged = copy(DIRS.get(1), "damaged");
    Path probeFile = damaged.resolve("ce").resolve(QuickstartCommand.NUISANCE_PROBE);
    ObjectNode fields = (ObjectNode) Json.MAPPER.readTree(probeFile.toFile());
    fields.remove("nuisance_accuracy");
    Files.writeString(probeFile, Json.MAPPER.writeValueAsString(fields));
    MainTest.assertRefused(List.of("seeds", s0, damaged.toString()), probeFile + ": no nuisance_accuracy (a number)");

    // Trained again after its probe (here: another run's checkpoint in its place), its probe is stale.
    Path retrained = copy(DIRS.get(1), "retrained");
    Path best = Trainer.best(retrained.resolve("ice"));
    org.irevnet.io.AtomicFiles.deleteTree(best);
    copy(Trainer.best(DIRS.get(2).resolve("ice")), tmp.relativize(best).toString());
    MainTest.assertRefused(List.of("seeds", s0, retrained.toString()), retrained.resolve("ice").resolve(
        QuickstartCommand.NUISANCE_PROBE) + ": made from other weights than " + best + " holds now: probe the run again"
        + " (probe --run " + MainTest.shellWord(retrained.resolve("ice")) + " --nuisance)");

    MainTest.assertRefused(List.of("seeds", s0, DIRS.get(1).resolve("ce").toString()), DIRS.get(1).resolve("ce")
        + "/ce: not a trained run (no config.json)");
  }

  /**
   * The refusals the first test leaves out: a directory that is not there, a ce/ that holds the iCE
   * run (its removal would read with the sign flipped), a config.json without a seed, a setting only
   * one of two runs has (a run of an older version), a CE probe of another recipe (named as CE's),
   * and a probe of the latest checkpoint trained on after it; and taken as they are, a probe without
   * weights_sha256 (older than the field) and one of a checkpoint named by its path.
   */
  @Test
  void refusesWhatTheFirstTestLeavesOut() throws IOException {
    String s0 = DIRS.get(0).toString();
    Path absent = tmp.resolve("absent");
    MainTest.assertRefused(List.of("seeds", s0, absent.toString()), absent + ": no such directory");

    Path swapped = copy(DIRS.get(1), "swapped");
    edit(swapped.resolve("ce/config.json"), "/config", o -> o.put("objective", "ice"));
    MainTest.assertRefused(List.of("seeds", s0, swapped.toString()), swapped.resolve("ce") + ": trained with"
        + " --objective ice, where ce/ holds the ce run");

    Path seedless = copy(DIRS.get(1), "seedless");
    edit(seedless.resolve("ice/config.json"), "/config", o -> o.remove("seed"));
    MainTest.assertRefused(List.of("seeds", s0, seedless.toString()), seedless.resolve("ice") + ": its config.json"
        + " has no seed");

    Path fewer = copy(DIRS.get(1), "fewer-settings");
    edit(fewer.resolve("ce/config.json"), "/config", o -> o.remove("epochs"));
    MainTest.Run r = run("seeds", s0, fewer.toString());
    assertThat(r.code()).isEqualTo(2);
    // Jackson writes a missing setting as null, which read as a setting of that value.
    assertThat(r.err().strip()).isEqualTo("irevnet seeds: " + fewer.resolve("ce") + " was trained otherwise than "
        + DIRS.get(0).resolve("ce") + ", not only with another seed: epochs not recorded, not 1");
    Path more = copy(DIRS.get(1), "more-settings");
    edit(more.resolve("ce/config.json"), "/config", o -> o.put("aNewSetting", 3));
    r = run("seeds", s0, more.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet seeds: " + more.resolve("ce") + " was trained otherwise than "
        + DIRS.get(0).resolve("ce") + ", not only with another seed: aNewSetting 3, not recorded there");

    Path ceProbe = copy(DIRS.get(1), "other-ce-probe");
    edit(ceProbe.resolve("ce").resolve(QuickstartCommand.NUISANCE_PROBE), "/recipe", "epochs", 9);
    r = run("seeds", s0, ceProbe.toString());
    assertThat(r.err().strip()).startsWith("irevnet seeds: " + ceProbe.resolve("ce") + "'s nuisance probe was made"
        + " otherwise than " + DIRS.get(0).resolve("ce") + "'s: recipe {").contains("\"epochs\":9");

    Path older = copy(DIRS.get(1), "older-probe");
    edit(older.resolve("ice").resolve(QuickstartCommand.NUISANCE_PROBE), "", o -> o.remove("weights_sha256"));
    r = run("seeds", s0, older.toString());
    assertThat(r.code()).as(r.err()).isZero();

    // A probe of a checkpoint named by its path is not the run's best or latest: not compared with them.
    Path elsewhere = copy(DIRS.get(1), "probe-of-a-path");
    edit(elsewhere.resolve("ice").resolve(QuickstartCommand.NUISANCE_PROBE), "",
        o -> o.put("checkpoint", "/elsewhere/checkpoint").put("weights_sha256", "0".repeat(64)));
    r = run("seeds", s0, elsewhere.toString());
    assertThat(r.code()).as(r.err()).isZero();

    // A probe of --checkpoint latest, whose run trained on after it (another run's latest in its place).
    Path latest = copy(DIRS.get(1), "latest-probe");
    Path probeFile = latest.resolve("ice").resolve(QuickstartCommand.NUISANCE_PROBE);
    String latestSha = org.irevnet.train.Checkpoints.weightsSha256(Trainer.latest(latest.resolve("ice")));
    edit(probeFile, "", o -> o.put("checkpoint", "latest").put("weights_sha256", latestSha));
    r = run("seeds", s0, latest.toString());
    assertThat(r.code()).as(r.err()).isZero();
    Path checkpoint = Trainer.latest(latest.resolve("ice"));
    org.irevnet.io.AtomicFiles.deleteTree(checkpoint);
    copy(Trainer.latest(DIRS.get(2).resolve("ice")), tmp.relativize(checkpoint).toString());
    MainTest.assertRefused(List.of("seeds", s0, latest.toString()), probeFile + ": made from other weights than "
        + checkpoint + " holds now: probe the run again (probe --run " + MainTest.shellWord(latest.resolve("ice"))
        + " --nuisance)");
  }

  private static JsonNode probe(double logitAccuracy, double nuisanceAccuracy) {
    ObjectNode p = Json.MAPPER.createObjectNode().put("logit_accuracy", logitAccuracy)
        .put("nuisance_accuracy", nuisanceAccuracy).put("test_count", 100).put("data", "data/test");
    p.putObject("recipe").put("seed", 0);
    return p;
  }

  private static SeedsCommand.Pair pair(long seed, double ceLogits, double ceProbe, double iceLogits, double iceProbe) {
    return new SeedsCommand.Pair(Path.of("seed" + seed), seed, null, null, List.of(1, 1), probe(ceLogits, ceProbe),
        probe(iceLogits, iceProbe));
  }

  /**
   * The verdict on each mean, by hand (t(0.975, 2) = 4.303 from Student's table, half = t sd / sqrt 3):
   * removed 10, 12, 14 points: mean 12, sd 2, [7.03, 16.97], above 0; removed -3, -4, -5: mean -4,
   * sd 1, [-6.48, -1.52], below 0; cost 1, 2, 1: [-0.10, 2.77], holds 0; cost 0 at every seed: [0, 0],
   * which holds 0 too (no seed's difference is above 0, none below).
   */
  @Test
  void saysWhetherEachMeanIsBeyondTheSeedsSpread() {
    List<String> lines = SeedsCommand.table(List.of(pair(0, 0.80, 0.50, 0.80, 0.40), pair(1, 0.80, 0.52, 0.80, 0.40),
        pair(2, 0.80, 0.54, 0.80, 0.40)));
    assertThat(lines.get(6).split("\\s+")).containsExactly("removed,", "points", "10.0", "12.0", "14.0", "12.00", "2.00",
        "10.0", "14.0", "[7.03,", "16.97]");
    assertThat(lines.get(7).split("\\s+")).containsExactly("cost,", "points", "0.0", "0.0", "0.0", "0.00", "0.00", "0.0",
        "0.0", "[0.00,", "0.00]");
    assertThat(lines.get(8)).isEqualTo("removed above 0 at 3 of 3 seeds, its mean's 95% interval above 0: beyond the"
        + " seeds' spread; cost above 0 at 0 of 3 seeds, its mean's 95% interval holds 0: within the seeds' spread");

    lines = SeedsCommand.table(List.of(pair(0, 0.81, 0.40, 0.80, 0.43), pair(1, 0.82, 0.40, 0.80, 0.44),
        pair(2, 0.81, 0.40, 0.80, 0.45)));
    assertThat(lines.get(6)).endsWith("[-6.48, -1.52]");
    assertThat(lines.get(7)).endsWith("[-0.10, 2.77]");
    assertThat(lines.get(8)).isEqualTo("removed above 0 at 0 of 3 seeds, its mean's 95% interval below 0: beyond the"
        + " seeds' spread; cost above 0 at 3 of 3 seeds, its mean's 95% interval holds 0: within the seeds' spread");
    // Near 1 Student's interval passes what an accuracy can be: scipy's for 1.0, 0.98, 1.0 is
    // [0.96465, 1.02202] (SpreadTest), printed within 0 to 1; the removal in points within 100.
    lines = SeedsCommand.table(List.of(pair(0, 1.0, 1.0, 1.0, 0.0), pair(1, 0.98, 0.98, 1.0, 0.0),
        pair(2, 1.0, 1.0, 1.0, 0.0)));
    assertThat(lines.get(2)).startsWith("CE logits ").endsWith("[0.9646, 1.0000]");
    assertThat(lines.get(6)).endsWith("[96.46, 100.00]");
  }

  /** Runs trained with other thread counts are summarised, with a note that float32 sums moved them too. */
  @Test
  void saysWhenTheThreadCountsDiffer() throws IOException {
    Path threads = copy(DIRS.get(1), "other-threads");
    // One more than this JVM's pool, which its trainings recorded whatever --threads said.
    int recorded = Json.MAPPER.readTree(threads.resolve("ce/config.json").toFile()).at("/environment/threads").asInt();
    edit(threads.resolve("ce/config.json"), "/environment", "threads", recorded + 1);
    MainTest.Run r = run("seeds", DIRS.get(0).toString(), threads.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err().strip()).isEqualTo("irevnet seeds: note: the runs were trained with --threads [" + recorded + ", "
        + (recorded + 1) + "], whose"
        + " float32 results differ by the thread count too: the spread is not the seeds' alone");
  }
}
