package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.irevnet.stats.Proportions;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train and eval end to end on a tiny model, and every bad input: one line, exit 2, no output. */
class TrainEvalCommandTest {

  @Test
  void trainThenEvalWritesTheRunDirectory(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 2);
    Path arch = tiny.arch(), data = tiny.data(), runDir = tiny.dir();
    MainTest.Run t = tiny.train();
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(t.out()).contains("trained 8 steps");
    for (String f : new String[] {"config.json", "metrics.jsonl", "checkpoints/latest/manifest.json",
        "checkpoints/best/weights.npz"}) {
      assertThat(runDir.resolve(f)).exists();
    }
    JsonNode cfg = Json.MAPPER.readTree(runDir.resolve("config.json").toFile());
    assertThat(cfg.path("config").path("epochs").asInt()).isEqualTo(2);
    // Without a validation split nothing chooses: best is the last epoch, whatever the test split says.
    assertThat(t.out()).doesNotContain("best");
    JsonNode bestState = Json.MAPPER.readTree(runDir.resolve("checkpoints/best/training.json").toFile());
    assertThat(bestState.path("step").asLong()).isEqualTo(8);
    assertThat(bestState.path("bestAccuracy").asDouble()).isNaN();
    assertThat(cfg.path("environment").path("java").asText()).isNotEmpty();

    MainTest.Run e = run("eval", "--run", runDir.toString());
    assertThat(e.code()).as(e.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(e.out());
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(j.get("count").asInt()).isEqualTo(20);
    assertThat(j.get("non_finite_logits").asInt()).as("a trained model's logits are finite").isZero();
    assertThat(j.get("confusion_matrix")).hasSize(10);
    long total = 0;
    for (JsonNode row : j.get("confusion_matrix")) for (JsonNode v : row) total += v.asLong();
    assertThat(total).isEqualTo(20);
    for (int c = 0; c < 10; c++) {
      long row = 0;
      for (JsonNode v : j.get("confusion_matrix").get(c)) row += v.asLong();
      assertThat(j.get("per_class_count").get(c).asLong()).as("class %d: all its logits finite, all in its row", c)
          .isEqualTo(row);
    }
    // Each accuracy's 95% interval is of the images it counts: the class's right ones (the
    // confusion matrix's diagonal) of its images, [lo, hi] in that order.
    long right = Math.round(j.get("accuracy").asDouble() * 20);
    assertThat(j.get("accuracy_ci95")).hasSize(2);
    assertThat(List.of(j.get("accuracy_ci95").get(0).asDouble(), j.get("accuracy_ci95").get(1).asDouble()))
        .containsExactly(Proportions.wilson95(right, 20).lo(), Proportions.wilson95(right, 20).hi());
    for (int c = 0; c < 10; c++) {
      JsonNode ci = j.get("per_class_accuracy_ci95").get(c);
      long images = j.get("per_class_count").get(c).asLong(), diagonal = j.get("confusion_matrix").get(c).get(c).asLong();
      if (images == 0) {
        assertThat(ci.isNull()).as("class %d has no images, so no interval", c).isTrue();
      } else {
        assertThat(ci.get(0).asDouble()).as("class %d", c).isEqualTo(Proportions.wilson95(diagonal, images).lo());
        assertThat(ci.get(1).asDouble()).as("class %d", c).isEqualTo(Proportions.wilson95(diagonal, images).hi());
      }
    }
    assertThat(runDir.resolve("eval-test.json")).exists();

    // --out: the result goes there and nowhere into the run (a run on a read-only mount had
    // nowhere to put it); a file in the place of --out is refused before the evaluation.
    Files.delete(runDir.resolve("eval-test.json"));
    Path elsewhere = tmp.resolve("evals");
    MainTest.Run eo = run("eval", "--run", runDir.toString(), "--out", elsewhere.toString());
    assertThat(eo.code()).as(eo.err()).isZero();
    assertThat(Json.MAPPER.readTree(elsewhere.resolve("eval-test.json").toFile())).isEqualTo(Json.MAPPER.readTree(eo.out()));
    assertThat(runDir.resolve("eval-test.json")).doesNotExist();
    Path blocked = Files.writeString(tmp.resolve("blocked"), "a file");
    MainTest.Run eb = run("eval", "--run", runDir.toString(), "--out", blocked.toString());
    assertThat(eb.code()).isEqualTo(2);
    assertThat(eb.err().strip().lines()).hasSize(1);
    assertThat(eb.err()).contains(blocked.toString()).doesNotContain("accuracy");
    assertThat(blocked).hasContent("a file");
    assertThat(run("eval", "--run", runDir.toString()).code()).isZero(); // the run's own again, for what follows

    // Same run again without --resume: refused, nothing touched.
    MainTest.Run again = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", runDir.toString(),
        "--no-progress");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("--resume").contains("--fresh");

    // A tampered checkpoint is refused by eval.
    Path w = runDir.resolve("checkpoints/best/weights.npz");
    byte[] b = Files.readAllBytes(w);
    b[100] ^= 1;
    Files.write(w, b);
    MainTest.Run bad = run("eval", "--run", runDir.toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err().strip().lines()).hasSize(1);
    assertThat(bad.err()).contains("weights.npz does not match its SHA-256");
  }

  /**
   * --validation N holds N training images out and chooses checkpoints/best by their accuracy;
   * it cannot hold out every image, and a resume cannot change it.
   */
  @Test
  void aValidationSplitChoosesTheBestCheckpoint(@TempDir Path tmp) throws Exception {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.GERMANY); // the printed numbers keep their decimal point
    MainTest.TinyRun tiny;
    try {
      tiny = MainTest.trainTiny(tmp, 3, "--validation", "16", "--lr", "3e-3", "--warmup-steps", "1");
    } finally {
      Locale.setDefault(before);
    }
    MainTest.Run t = tiny.train();
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(t.out()).as("48 images of 64 trained on: 3 steps per epoch")
        .containsPattern("trained 9 steps in \\d+ s; test accuracy \\d\\.\\d{4} \\(checkpoints/best: validation"
            + " accuracy \\d\\.\\d{4}\\)");
    assertThat(t.err()).containsPattern("epoch 1 done: validation accuracy \\d\\.\\d{4}, test accuracy");
    List<JsonNode> epochs = new ArrayList<>();
    for (String l : Files.readAllLines(tiny.dir().resolve("metrics.jsonl"))) {
      JsonNode j = Json.MAPPER.readTree(l);
      if (j.path("type").asText().equals("epoch")) epochs.add(j);
    }
    assertThat(epochs).hasSize(3).allSatisfy(l -> assertThat(l.path("validation_loss").isNumber()).isTrue());
    int best = 0;
    for (int i = 1; i < 3; i++) {
      if (epochs.get(i).path("validation_accuracy").asDouble() > epochs.get(best).path("validation_accuracy").asDouble()) {
        best = i;
      }
    }
    JsonNode state = Json.MAPPER.readTree(tiny.dir().resolve("checkpoints/best/training.json").toFile());
    assertThat(state.path("step").asLong()).isEqualTo(epochs.get(best).path("step").asLong());
    assertThat(state.path("bestAccuracy").asDouble()).isEqualTo(epochs.get(best).path("validation_accuracy").asDouble());
    JsonNode cfg = Json.MAPPER.readTree(tiny.dir().resolve("config.json").toFile()).path("config");
    assertThat(cfg.path("validation").asInt()).isEqualTo(16);

    MainTest.Run changed = run("train", "--out", tiny.dir().toString(), "--resume", "--epochs", "4", "--validation", "8",
        "--no-progress");
    assertThat(changed.code()).isEqualTo(2);
    assertThat(changed.err()).contains("validation would change (16 -> 8)");

    MainTest.assertRefused(List.of("train", "--arch", tiny.arch().toString(), "--data", tiny.data().toString(), "--out",
        tmp.resolve("all").toString(), "--validation", "64", "--no-progress"),
        "--validation 64 must leave training images: data/train has 64");
    assertThat(tmp.resolve("all")).doesNotExist();
  }

  /**
   * config.json kept --data as typed, so a relative directory was read against wherever an
   * analysis started: another directory found nothing, or another dataset of that name.
   */
  @Test
  void aRelativeDataDirectoryIsRecordedAbsoluteSoAnalysesFindItFromAnywhere(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    String relative = Path.of("").toAbsolutePath().relativize(data.toAbsolutePath()).toString();
    assertThat(Path.of(relative).isAbsolute()).isFalse();
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", relative, "--out", runDir.toString(),
        "--epochs", "1", "--batch", "16", "--max-steps", "1", "--no-progress");
    assertThat(t.code()).as(t.err()).isZero();
    JsonNode cfg = Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).get("config");
    assertThat(cfg.get("data").asText()).isEqualTo(data.toAbsolutePath().normalize().toString());
    // A dataset name stays a name (the run then finds the dataset where it is installed).
    assertThat(org.irevnet.data.Datasets.recorded("fashion-mnist-mini")).isEqualTo("fashion-mnist-mini");
  }

  /**
   * config.json kept --arch as typed: a resume from another directory said the file was not found,
   * and the same file spelled absolute was refused, "arch would change ("arch/tiny8.json" ->
   * "/.../arch/tiny8.json")". Recorded absolute, it resumes spelled either way, without a word.
   */
  @Test
  void aRelativeArchitectureFileIsRecordedAbsoluteAndResumesSpelledEitherWay(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path arch = Files.writeString(Files.createDirectories(tmp.resolve("arch")).resolve("tiny8.json"), TinyData.ARCH);
    String relative = Path.of("").toAbsolutePath().relativize(arch.toAbsolutePath()).toString();
    assertThat(Path.of(relative).isAbsolute()).isFalse();
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", relative, "--data", data.toString(), "--out", runDir.toString(),
        "--epochs", "1", "--batch", "16", "--max-steps", "1", "--no-progress", "--threads", "1");
    assertThat(t.code()).as(t.err()).isZero();
    JsonNode cfg = Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).get("config");
    assertThat(cfg.get("arch").asText()).isEqualTo(arch.toAbsolutePath().normalize().toString());
    for (String spelled : new String[] {arch.toString(), relative}) {
      MainTest.Run r = run("train", "--resume", "--arch", spelled, "--out", runDir.toString(), "--max-steps", "1",
          "--no-progress", "--threads", "1");
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.err()).contains("resuming " + runDir).doesNotContain("arch").doesNotContain("not found");
    }
  }

  /**
   * A relative path in a --config file is read from the working directory, as on the command line;
   * one that named nothing was refused as "arch/tiny8.json: architecture file not found", naming
   * neither the file it came from nor where it was looked for.
   */
  @Test
  void aRelativePathInAConfigFileIsReadFromTheWorkingDirectoryAndAMissingOneNamesTheFile(@TempDir Path tmp)
      throws Exception {
    Path cwd = Path.of("").toAbsolutePath();
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Files.writeString(Files.createDirectories(tmp.resolve("arch")).resolve("tiny8.json"), TinyData.ARCH);
    Path cfg = Files.writeString(tmp.resolve("cfg.json"), "{\"arch\": \"arch/tiny8.json\", \"data\": \""
        + data + "\"}");
    String rule = "; a relative path in a --config file is read from the working directory, not from the file's folder";
    MainTest.assertRefused(List.of("train", "--config", cfg.toString(), "--out", tmp.resolve("r1").toString(),
        "--no-progress"), cfg + ": arch/tiny8.json: architecture file not found (looked for "
        + cwd.resolve("arch/tiny8.json") + ")" + rule);
    Path dataCfg = Files.writeString(tmp.resolve("data-cfg.json"), "{\"data\": \"no-such-dir/png4\"}");
    MainTest.assertRefused(List.of("train", "--config", dataCfg.toString(), "--arch", tmp.resolve("arch/tiny8.json")
        .toString(), "--out", tmp.resolve("r2").toString(), "--no-progress"),
        dataCfg + ": " + cwd.resolve("no-such-dir/png4") + ": no such directory" + rule);
    // Given as an option, the path is the user's own typing: the message is load's alone.
    MainTest.assertRefused(List.of("train", "--config", cfg.toString(), "--arch", "arch/tiny8.json", "--out",
        tmp.resolve("r3").toString(), "--no-progress"),
        "arch/tiny8.json: architecture file not found (looked for " + cwd.resolve("arch/tiny8.json") + ")");
    // Relative to the working directory, the file is found, and recorded absolute.
    String relative = cwd.relativize(tmp.resolve("arch/tiny8.json").toAbsolutePath()).toString();
    Path found = Files.writeString(tmp.resolve("found.json"), "{\"arch\": \"" + relative + "\", \"data\": \""
        + data + "\"}");
    Path runDir = tmp.resolve("r4");
    MainTest.Run t = run("train", "--config", found.toString(), "--out", runDir.toString(), "--epochs", "1",
        "--batch", "16", "--max-steps", "1", "--no-progress", "--threads", "1");
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).get("config").get("arch").asText())
        .isEqualTo(tmp.resolve("arch/tiny8.json").toAbsolutePath().normalize().toString());
  }

  /** Resuming a finished run trains nothing and says so; with more epochs it trains on. */
  @Test
  void resumingAFinishedRunSaysSoAndMoreEpochsTrainOn(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path run = tiny.dir();
    String metrics = Files.readString(run.resolve("metrics.jsonl"));
    MainTest.Run again = run("train", "--out", run.toString(), "--resume", "--no-progress");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).startsWith(run + " has trained all its 4 steps (1 epoch(s)); nothing left to train"
        + " (--resume --epochs 2 trains on)" + System.lineSeparator());
    // It resumes nothing, so it does not say that it is resuming.
    assertThat(again.err()).doesNotContain("resuming");
    assertThat(run.resolve("metrics.jsonl")).hasContent(metrics);
    MainTest.Run more = run("train", "--out", run.toString(), "--resume", "--epochs", "2", "--no-progress");
    assertThat(more.code()).as(more.err()).isZero();
    assertThat(more.out()).as("the steps this call trained").startsWith("trained steps 5-8 in ");
    // The run stopped at the end of its epoch: it goes on with the first batch of the next.
    assertThat(more.err()).contains("resuming " + run + " after step 4 (next: epoch 2, batch 1)",
        "resuming with epochs 1 -> 2: the steps so far used the former");
  }

  /** The iCE default gained the MLE term; a run made without it keeps its setting when resumed. */
  @Test
  void anIceRunResumesWithItsOwnMleWeightNotTodaysDefault(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun old = MainTest.trainTiny(tmp, 1, "--objective", "ice", "--w-mle", "0", "--max-steps", "2");
    assertThat(old.train().code()).as(old.train().err()).isZero();
    MainTest.Run resumed = run("train", "--arch", old.arch().toString(), "--data", old.data().toString(), "--out",
        old.dir().toString(), "--batch", "16", "--resume", "--no-progress");
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("resuming").doesNotContain("resuming with");
    JsonNode c = Json.MAPPER.readTree(old.dir().resolve("config.json").toFile()).path("config");
    assertThat(c.path("ice").path("wMle").asDouble()).isZero();
    assertThat(c.path("dequantize").asBoolean()).isFalse();

    MainTest.Run fresh = run("train", "--arch", old.arch().toString(), "--data", old.data().toString(), "--out",
        tmp.resolve("new").toString(), "--epochs", "1", "--batch", "16", "--max-steps", "1", "--no-progress",
        "--objective", "ice");
    assertThat(fresh.code()).as(fresh.err()).isZero();
    JsonNode d = Json.MAPPER.readTree(tmp.resolve("new/config.json").toFile()).path("config");
    assertThat(d.path("ice").path("wMle").asDouble()).isEqualTo(3e-4);
    assertThat(d.path("dequantize").asBoolean()).isTrue();
  }

  /** A run stopped before its first epoch ended has only checkpoints/latest, which eval then takes. */
  @Test
  void evalOfARunStoppedBeforeItsFirstEpochEndedUsesTheLatestCheckpoint(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1, "--max-steps", "2");
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path run = tiny.dir();
    MainTest.Run e = run("eval", "--run", run.toString());
    assertThat(e.code()).as(e.err()).isZero();
    assertThat(Json.MAPPER.readTree(e.out()).path("checkpoint").asText()).isEqualTo("latest");
    MainTest.Run best = run("eval", "--run", run.toString(), "--checkpoint", "best");
    assertThat(best.code()).isEqualTo(2);
    assertThat(best.err().strip()).isEqualTo("irevnet eval: " + run.resolve("checkpoints/best") + ": no checkpoint yet"
        + " (best is saved at the end of an epoch); --checkpoint latest takes " + run.resolve("checkpoints/latest"));
    // config.json (no checkpoint file: the manifest does not cover it) edited into bad JSON: named,
    // where Jackson's message alone was printed.
    Path config = run.resolve("config.json");
    Files.writeString(config, Files.readString(config).replaceFirst("\\}\\s*$", ""));
    MainTest.Run broken = run("eval", "--run", run.toString());
    assertThat(broken.code()).isEqualTo(2);
    assertThat(broken.err().strip()).startsWith("irevnet eval: " + config + ": malformed config JSON at line ")
        .contains(": Unexpected end-of-input: expected close marker for Object (start marker at line 1, column 1)")
        .hasLineCount(1);
  }

  /**
   * A best checkpoint without its manifest (damaged: train never leaves one so) is refused by name,
   * with nothing written: it once fell back to latest silently, as for a run without a best yet.
   */
  @Test
  void aBestCheckpointWithoutItsManifestIsRefusedNotReplacedByLatest(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path best = tiny.dir().resolve("checkpoints/best");
    Files.delete(best.resolve("manifest.json"));
    for (String[] args : new String[][] {{}, {"--checkpoint", "best"}}) {
      List<String> all = new java.util.ArrayList<>(List.of("eval", "--run", tiny.dir().toString()));
      all.addAll(List.of(args));
      MainTest.Run e = run(all.toArray(String[]::new));
      assertThat(e.code()).as(e.err()).isEqualTo(2);
      assertThat(e.err().strip()).isEqualTo("irevnet eval: " + best + ": not a checkpoint (no manifest.json): damaged or incomplete");
      assertThat(tiny.dir().resolve("eval-test.json")).doesNotExist();
    }
    MainTest.Run latest = run("eval", "--run", tiny.dir().toString(), "--checkpoint", "latest");
    assertThat(latest.code()).as(latest.err()).isZero();
  }

  /**
   * A run directory nothing can be made in (Linux's /proc) is named, with exit code 2: train named
   * the hidden lock file next to it, quickstart ran its first training into a --out that exists
   * before it found that it could not write its record there.
   */
  @Test
  void trainAndQuickstartNameTheDirectoryTheyCannotWriteIn(@TempDir Path tmp) throws Exception {
    Path cfg = Files.writeString(tmp.resolve("cfg.json"), "{\"epochs\": 1}");
    MainTest.assertRefused(List.of("train", "--out", "/proc/irevnet-run", "--config", cfg.toString(), "--no-progress"),
        "/proc/irevnet-run: no such file or directory");
    MainTest.Run q = run("quickstart", "--out", "/proc", "--skip-selftest", "--epochs", "1", "--no-progress");
    assertThat(q.code()).isEqualTo(2);
    assertThat(q.err().strip()).isEqualTo("irevnet quickstart: /proc: no such file or directory");
  }

  /**
   * eval writes its JSON last: a place it cannot write it in is refused before the model loads
   * (it failed only after the evaluation, naming a temporary file). The run here has no
   * checkpoint and the zip is no model, so loading first would have said that instead; the
   * check makes nothing.
   */
  @Test
  void evalRefusesWhereItCannotWriteBeforeTheModelLoads(@TempDir Path tmp) throws Exception {
    Path runDir = Files.createDirectories(tmp.resolve("run"));
    Path inTheWay = Files.createDirectories(runDir.resolve("eval-test.json"));
    MainTest.assertRefused(List.of("eval", "--run", runDir.toString()), inTheWay + ": is a directory");
    Files.createDirectories(runDir.resolve("eval-other.json"));
    MainTest.assertRefused(List.of("eval", "--run", runDir.toString(), "--data", "no-such-data", "--as", "other"),
        runDir.resolve("eval-other.json") + ": is a directory");
    Path zip = Files.writeString(tmp.resolve("m.zip"), "not a model");
    Path fileInTheWay = Files.writeString(tmp.resolve("m-analysis"), "x");
    MainTest.assertRefused(List.of("eval", "--model", zip.toString(), "--data", "no-such-data"),
        fileInTheWay + ": exists and is not a directory");
    try (var s = Files.list(runDir)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).as("nothing made")
          .containsExactly("eval-other.json", "eval-test.json");
    }
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("m-analysis", "m.zip", "run");
    }
  }

  /**
   * {@code --fresh} replaces a run, but only once what replaces it has loaded: it once deleted the
   * checkpoints first, so a typo in any other option lost the run it was meant to keep.
   */
  @Test
  void freshStartsOverOnlyOnceTheNewRunsInputsHaveLoaded(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 2);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path run = tiny.dir(), latest = org.irevnet.train.Trainer.latest(run);
    String metrics = Files.readString(run.resolve("metrics.jsonl"));
    String[][] typos = {{"--epochs", "0"}, {"--data", tmp.resolve("no-such-data").toString()},
        {"--arch", "no-such-arch"}, {"--lr", "NaN"}};
    for (String[] typo : typos) {
      java.util.Map<String, String> options = new java.util.LinkedHashMap<>(java.util.Map.of("--arch",
          tiny.arch().toString(), "--data", tiny.data().toString(), "--out", run.toString(), "--batch", "16"));
      options.put(typo[0], typo[1]);
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--fresh", "--no-progress"));
      options.forEach((k, v) -> args.addAll(java.util.List.of(k, v)));
      MainTest.Run r = run(args.toArray(String[]::new));
      assertThat(r.code()).as(String.join(" ", typo)).isEqualTo(2);
      assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
      org.irevnet.train.Checkpoints.verify(latest);
      assertThat(run.resolve("metrics.jsonl")).as(String.join(" ", typo)).hasContent(metrics);
    }
    MainTest.Run again = run("train", "--arch", tiny.arch().toString(), "--data", tiny.data().toString(),
        "--out", run.toString(), "--batch", "16", "--epochs", "1", "--fresh", "--no-progress");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("trained 4 steps");
    java.util.List<JsonNode> lines = new java.util.ArrayList<>();
    for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) lines.add(Json.MAPPER.readTree(l));
    assertThat(lines).as("the old run's lines are gone").allMatch(j -> j.path("step").asLong() <= 4);
    assertThat(Json.MAPPER.readTree(run.resolve("config.json").toFile()).path("config").path("epochs").asInt()).isEqualTo(1);
  }

  /**
   * A likelihood of discrete pixels needs dequantisation: turned off explicitly, by the option or
   * the config file, with mle or iCE's MLE term, it is refused naming both settings (it was turned
   * on again without a word), and nothing is made.
   */
  @Test
  void dequantizationTurnedOffForALikelihoodIsRefusedNamingBothSettings(@TempDir Path tmp) throws Exception {
    Path off = Files.writeString(tmp.resolve("off.json"), "{\"dequantize\": false}");
    Path out = tmp.resolve("run");
    // Data that does not exist, which the refusal comes before: without the refusal these runs
    // trained the default fi-revnet-s for minutes before the test failed (pitest timed out on it).
    String noData = tmp.resolve("no-data").toString();
    String why = ", which needs dequantisation: the likelihood of discrete pixels is unbounded without it (leave"
        + " dequantize out, and it is on)";
    MainTest.assertRefused(List.of("train", "--objective", "mle", "--config", off.toString(), "--out", out.toString(),
        "--data", noData, "--no-progress"), off + ": \"dequantize\": false contradicts objective mle" + why);
    MainTest.assertRefused(List.of("train", "--objective", "ice", "--dequantize=false", "--out", out.toString(),
        "--data", noData, "--no-progress"), "--dequantize=false contradicts ice.wMle 3.0E-4 (the iCE MLE term; --w-mle 0"
        + " turns it off)" + why);
    assertThat(out).doesNotExist();
  }

  @Test
  void iceOptionsReachTheResolvedConfigAndTheMetrics(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    Path cfgFile = Files.writeString(tmp.resolve("ice.json"), "{\"objective\": \"ice\", \"ice\": {\"advHidden\": 0}}");
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", runDir.toString(),
        "--epochs", "1", "--batch", "16", "--no-progress", "--config", cfgFile.toString(), "--w-nc", "2",
        "--w-mle", "0.1", "--adv-steps", "1", "--adversaries", "2", "--nuisance-form", "paper", "--log-every", "1");
    assertThat(t.code()).as(t.err()).isZero();
    JsonNode c = Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).path("config");
    assertThat(c.path("objective").asText()).isEqualTo("ice");
    assertThat(c.path("dequantize").asBoolean()).as("turned on by --w-mle").isTrue();
    JsonNode ice = c.path("ice");
    assertThat(ice.path("wNc").asDouble()).isEqualTo(2.0);
    assertThat(ice.path("advHidden").asInt()).as("from the config file").isZero();
    assertThat(ice.path("adversaries").asInt()).isEqualTo(2);
    assertThat(ice.path("nuisanceForm").asText()).isEqualTo("paper");
    assertThat(ice.path("wNcWarmupSteps").asInt()).as("default").isEqualTo(200);
    JsonNode first = Json.MAPPER.readTree(Files.readAllLines(runDir.resolve("metrics.jsonl")).get(0));
    for (String k : new String[] {"ce", "nuisance_ce", "adversary_accuracy", "nll_bits_per_dim", "w_nc"}) {
      assertThat(first.path(k).isNumber()).as(k).isTrue();
    }
    assertThat(runDir.resolve("checkpoints/latest/objective.npz")).exists();
  }

  /** What --resume and --fresh need, checked before any data or architecture loads. */
  @Test
  void resumeAndFreshAreRefusedWhereTheyDoNotApply(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--fresh", "--no-progress"),
        "--resume and --fresh exclude each other");
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--no-progress"),
        out + ": nothing to resume (no checkpoints/latest)");
    assertThat(out).doesNotExist();
    // A run being trained that has not written its first checkpoint yet.
    Files.createDirectories(out);
    try (org.irevnet.io.RunLock training = org.irevnet.io.RunLock.acquire(out)) {
      MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--no-progress"),
          out + " is being trained by another process (pid " + ProcessHandle.current().pid()
              + "): it has no checkpoint to resume from yet: wait for it to end");
    }
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--no-progress"),
        out + ": nothing to resume (no checkpoints/latest)");
    Path latest = Files.createDirectories(out.resolve("checkpoints/latest"));
    // One without its manifest is there, damaged: it was said to be absent.
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--no-progress"),
        latest + ": not a checkpoint (no manifest.json): damaged or incomplete, nothing to resume; --fresh starts over");
    Files.writeString(latest.resolve(org.irevnet.train.Checkpoints.MANIFEST), "{}");
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--no-progress"),
        out + " already holds a run (checkpoints/latest): use --resume to continue it or --fresh to start over");
    // Its config.json deleted by hand: named, in words.
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--resume", "--no-progress"),
        out.resolve("config.json") + ": not found (--resume continues with the options it holds); --fresh starts over");
  }

  /**
   * A run copied elsewhere whose data moved too resumes with --data naming the data's new place;
   * without it --resume said only "DIR: no such directory", not that this was the run's data nor
   * what to pass, where eval and the analyses said both.
   */
  @Test
  void aMovedRunWhoseDataMovedSaysWhatToPassAndResumesWithTheDataAtItsNewPlace(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 2, "--max-steps", "1");
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path runDir = Files.move(tiny.dir(),
        Files.createDirectories(tmp.resolve(MainTest.fileName("données/実験 1"))).resolve("-run"));
    Path data = Files.move(tiny.data(), tmp.resolve("data moved"));
    String metrics = Files.readString(runDir.resolve("metrics.jsonl"));
    String manifest = Files.readString(runDir.resolve("checkpoints/latest/manifest.json"));
    MainTest.assertRefused(List.of("train", "--resume", "--out", runDir.toString(), "--no-progress"),
        tiny.data() + ": no such directory (the data " + runDir + " was trained on, moved or deleted since: pass"
            + " --data with its new place)");
    assertThat(runDir.resolve("metrics.jsonl")).hasContent(metrics);
    assertThat(runDir.resolve("checkpoints/latest/manifest.json")).hasContent(manifest);

    MainTest.Run resumed = run("train", "--resume", "--out", runDir.toString(), "--data", data.toString(),
        "--max-steps", "1", "--no-progress");
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("stopped after step 2 ");
    assertThat(Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).path("config").path("data").asText())
        .isEqualTo(data.toString());
  }

  /**
   * A run whose checkpoints/latest was deleted by hand, its best left, is not trained over without
   * --fresh: its metrics went, and its old best stayed beside the new run's latest.
   */
  @Test
  void aRunWithBestAloneIsNotTrainedOverWithoutFresh(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Path best = Files.createDirectories(out.resolve("checkpoints/best"));
    Files.writeString(best.resolve(org.irevnet.train.Checkpoints.MANIFEST), "{}");
    Files.writeString(out.resolve("metrics.jsonl"), "{\"type\":\"epoch\",\"step\":94}\n");
    // Refused before the architecture loads (one that does not exist keeps a failing test short).
    MainTest.assertRefused(List.of("train", "--out", out.toString(), "--arch", tmp.resolve("none.json").toString(),
        "--no-progress"),
        out + " already holds a run (checkpoints/best, without the checkpoints/latest --resume needs): use --fresh"
            + " to start over, or another --out");
    assertThat(out.resolve("metrics.jsonl")).hasContent("{\"type\":\"epoch\",\"step\":94}");
    assertThat(best.resolve(org.irevnet.train.Checkpoints.MANIFEST)).exists();
  }

  /** Without a terminal, every step and epoch is one plain line on stderr. */
  @Test
  void progressWithoutATerminalIsPlainLines() {
    java.io.PrintStream old = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true));
    try (TrainCommand.ProgressListener p = new TrainCommand.ProgressListener(false)) {
      p.onStep(new org.irevnet.train.Trainer.StepInfo(7, 40, 2, 3, 1, 13, 0.51234, 0.875, 1.5e-4, 321.6));
      java.util.Map<String, Object> accuracy = new java.util.LinkedHashMap<>(java.util.Map.of("epoch", 1,
          "test_accuracy", 0.8421, "test_loss", 0.41, "seconds", 12.4));
      p.onEpoch(accuracy);
      accuracy.put("validation_accuracy", 0.865);
      p.onEpoch(accuracy);
      p.onEpoch(java.util.Map.of("epoch", 3, "test_bits_per_dim", 6.74, "validation_bits_per_dim", 6.8, "seconds", 9.6));
      p.onEpoch(java.util.Map.of("epoch", 4, "test_bits_per_dim", 6.5, "seconds", 1.0));
      p.onMessage("resuming with epochs 3 -> 5");
    } finally {
      System.setErr(old);
    }
    assertThat(err.toString().lines().toList()).containsExactly(
        "step 7/40  epoch 2/3  batch 1/13  loss 0.5123  acc 0.875  lr 1.50e-04  322 img/s",
        "epoch 1 done: test accuracy 0.8421, test loss 0.4100, 12 s",
        "epoch 1 done: validation accuracy 0.8650, test accuracy 0.8421, test loss 0.4100, 12 s",
        "epoch 3 done: validation bits/dim 6.8000, test bits/dim 6.7400, 10 s",
        "epoch 4 done: test bits/dim 6.5000, 1 s",
        "resuming with epochs 3 -> 5");
  }

  /** Runs train with a bad input and checks the error contract. */
  static void refused(Path tmp, String expected, String... extra) {
    Path out = tmp.resolve("runs/out");
    String[] args = new String[extra.length + 4];
    args[0] = "train";
    args[1] = "--out";
    args[2] = out.toString();
    args[3] = "--no-progress";
    System.arraycopy(extra, 0, args, 4, extra.length);
    MainTest.Run r = run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).contains(expected);
    assertThat(out.getParent()).as("nor the directories it would be in").doesNotExist();
  }

  @Test
  void badInputsAreOneLineErrorsWithExitCode2AndNoOutput(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    refused(tmp, "no such directory", "--data", tmp.resolve("missing").toString() + "/", "--arch", arch.toString());
    refused(tmp, "unknown architecture 'resnet-9000'", "--arch", "resnet-9000");
    // The list of known names was the bundled invertible ones only, though train takes the baselines too.
    refused(tmp, "(train also takes the non-invertible baselines resnet-s, cnn-s)", "--arch", "resnet-9000");
    Path noSteps = Files.writeString(tmp.resolve("no-steps.json"), TinyData.ARCH.replace("\"steps\": 1", "\"steps\": 0"));
    refused(tmp, noSteps + ": 'tiny' has no parameters to train (no stage has a step)", "--arch", noSteps.toString(),
        "--data", TinyData.idx(tmp.resolve("steps-data"), 16, 4).toString());

    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    Path magic = Files.createDirectories(tmp.resolve("magic"));
    for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte"}) {
      Files.copy(data.resolve(f), magic.resolve(f));
    }
    byte[] img = Files.readAllBytes(magic.resolve("train-images-idx3-ubyte"));
    img[3] = 0x7; // 2051 -> 2055
    Files.write(magic.resolve("train-images-idx3-ubyte"), img);
    refused(tmp, "magic", "--data", magic.toString(), "--arch", arch.toString());

    Path sizes = Files.createDirectories(tmp.resolve("sizes"));
    for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.copy(data.resolve(f), sizes.resolve(f));
    }
    org.irevnet.data.IdxFiles.writeImages(sizes.resolve("t10k-images-idx3-ubyte"), 10, 20, 20, new byte[10 * 20 * 20]);
    refused(tmp, sizes + ": the training images are 28x28, the test images 20x20; both splits must have one size",
        "--data", sizes.toString(), "--arch", arch.toString());

    Path truncated = Files.createDirectories(tmp.resolve("truncated"));
    for (String f : new String[] {"train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.copy(data.resolve(f), truncated.resolve(f));
    }
    byte[] full = Files.readAllBytes(data.resolve("train-images-idx3-ubyte"));
    Files.write(truncated.resolve("train-images-idx3-ubyte"), java.util.Arrays.copyOf(full, full.length - 100));
    refused(tmp, "truncated", "--data", truncated.toString(), "--arch", arch.toString());

    Path cfg = Files.writeString(tmp.resolve("bad.json"), "{\"epochs\": ");
    refused(tmp, "malformed config JSON", "--config", cfg.toString(), "--arch", arch.toString(),
        "--data", data.toString());

    refused(tmp, "need --objective ice", "--arch", arch.toString(), "--data", data.toString(), "--w-nc", "2");
    refused(tmp, "need --objective ice", "--arch", arch.toString(), "--data", data.toString(), "--adv-whiten");
    refused(tmp, "--adv-whiten with --adv-standardize false: ", "--arch", arch.toString(), "--data", data.toString(),
        "--objective", "ice", "--adv-whiten", "--adv-standardize", "false");
    // The same settings from a config file: they were dropped without a word, and the run trained plain CE.
    Path ceWithIce = Files.writeString(tmp.resolve("ce-ice.json"), "{\"objective\": \"ce\", \"ice\": {\"wNc\": 1}}");
    refused(tmp, ceWithIce + ": the iCE settings (\"ice\") need objective ice, and this run's is ce", "--config",
        ceWithIce.toString(), "--arch", arch.toString(), "--data", data.toString());
    Path iceFile = Files.writeString(tmp.resolve("ice.json"), "{\"objective\": \"ice\", \"ice\": {\"wNc\": 1}}");
    refused(tmp, iceFile + ": the iCE settings (\"ice\") need objective ice, and this run's is mle", "--config",
        iceFile.toString(), "--objective", "mle", "--arch", arch.toString(), "--data", data.toString());
    refused(tmp, "--nuisance-form must be bounded or paper", "--arch", arch.toString(), "--data", data.toString(),
        "--objective", "ice", "--nuisance-form", "adversarial");
    refused(tmp, "--objective must be ce, ice or mle", "--arch", arch.toString(), "--data", data.toString(),
        "--objective", "gan");
    refused(tmp, "--backward must be reversible or stored", "--arch", arch.toString(), "--data", data.toString(),
        "--backward", "checkpointed");
    refused(tmp, "--objective ice needs a fully invertible", "--arch", "irevnet-s", "--data", data.toString(),
        "--objective", "ice");
    refused(tmp, "--backward stored needs an invertible architecture (a baseline's backward pass is DL4J's), 'cnn-s'"
        + " is a non-invertible baseline", "--arch", "cnn-s", "--data", data.toString(), "--backward", "stored");
    // Each range error names the one setting refused and its value; these two were once accepted.
    refused(tmp, "--warmup-steps must be at least 0, got -1", "--arch", arch.toString(), "--data", data.toString(),
        "--warmup-steps", "-1");
    refused(tmp, "--augment-shift must be at least 0, got -2", "--arch", arch.toString(), "--data", data.toString(),
        "--augment-shift", "-2");
    refused(tmp, "--checkpoint-every must be at least 1, got 0", "--arch", arch.toString(), "--data", data.toString(),
        "--checkpoint-every", "0");
    refused(tmp, "--adv-replay must be at least 0, got -1", "--arch", arch.toString(), "--data", data.toString(),
        "--objective", "ice", "--adv-replay", "-1");
    refused(tmp, "--w-mle must be a finite number, got Infinity", "--arch", arch.toString(), "--data", data.toString(),
        "--objective", "ice", "--w-mle", "Infinity");
    refused(tmp, "--max-steps must be at least 1, got 0", "--arch", arch.toString(), "--data", data.toString(),
        "--max-steps", "0");
    // The common options are applied (CommonOptions.apply) before anything loads: --threads' ceiling.
    // Without the call no test noticed; the missing data then names the next problem instead.
    refused(tmp, "irevnet train: --threads must be at most 1024, got 100000", "--arch", arch.toString(), "--data",
        tmp.resolve("missing").toString(), "--threads", "100000");

    String small = TinyData.ARCH.replace("[1, 32, 32]", "[1, 16, 16]");
    Path smallArch = Files.writeString(tmp.resolve("small.json"), small);
    refused(tmp, "larger than the model input", "--arch", smallArch.toString(), "--data", data.toString());
  }

  /**
   * A refused value from the --config file names the file (options are merged over it before the
   * check, and the error named no file); a refused value an option gave names the option.
   */
  @Test
  void aRangeErrorNamesTheConfigFileOnlyWhenTheValueCameFromIt(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    Path cfg = Files.writeString(tmp.resolve("cfg.json"), "{\"epochs\": 0, \"objective\": \"ice\", \"ice\": {\"adversaries\": 0}}");
    String c = cfg.toString(), a = arch.toString(), d = data.toString();
    refused(tmp, "irevnet train: " + cfg + ": epochs must be at least 1, got 0", "--config", c, "--arch", a, "--data", d);
    refused(tmp, "irevnet train: " + cfg + ": adversaries must be at least 1, got 0", "--config", c, "--arch", a,
        "--data", d, "--epochs", "1");
    MainTest.Run option = run("train", "--out", tmp.resolve("runs/out").toString(), "--no-progress", "--config", c,
        "--arch", a, "--data", d, "--epochs", "-1");
    assertThat(option.code()).isEqualTo(2);
    assertThat(option.err().strip()).isEqualTo("irevnet train: --epochs must be at least 1, got -1");
    // Checked against the images' size only once training has loaded them, after the merge.
    Path shift = Files.writeString(tmp.resolve("shift.json"), "{\"augmentShift\": 28}");
    refused(tmp, "irevnet train: " + shift + ": augmentShift must be at most 27", "--config", shift.toString(),
        "--arch", a, "--data", d);
    refused(tmp, "irevnet train: --augment-shift must be at most 27", "--augment-shift", "28", "--arch", a, "--data", d);
    // As is the held-out count, which the training split's size bounds: the file's value was
    // refused as the option's ("--validation 32 must leave training images"), naming no file.
    Path held = Files.writeString(tmp.resolve("held.json"), "{\"validation\": 32}");
    refused(tmp, "irevnet train: " + held + ": validation 32 must leave training images: data/train has 32", "--config",
        held.toString(), "--arch", a, "--data", d);
    refused(tmp, "irevnet train: --validation 40 must leave training images: data/train has 32", "--config",
        held.toString(), "--validation", "40", "--arch", a, "--data", d);
    // A check of two settings names both as options on the command line ("--adv-steps 0 with wNc
    // 0.3 ... give advSteps at least 1" mixed them), and as keys where the file gave them.
    String never = ": the adversaries would never train, so the nuisance term would push against untrained classifiers;";
    refused(tmp, "irevnet train: --adv-steps 0 with --w-nc 0.3" + never + " give --adv-steps at least 1, or --w-nc 0",
        "--objective", "ice", "--adv-steps", "0", "--arch", a, "--data", d);
    Path steps = Files.writeString(tmp.resolve("steps.json"), "{\"objective\": \"ice\", \"ice\": {\"advSteps\": 0}}");
    refused(tmp, "irevnet train: " + steps + ": advSteps 0 with wNc 0.3" + never + " give advSteps at least 1, or wNc 0",
        "--config", steps.toString(), "--arch", a, "--data", d);
  }

  @Test
  void aDivergedTrainingExitsWith3NotWithTheFailedCheckCode1(@TempDir Path tmp) throws Exception {
    // Exit 1 means "ran, results written, a check failed": scripts and quickstart go on after it,
    // so a run that diverged must not return it.
    Path arch = Files.writeString(tmp.resolve("tiny.json"), MainTest.TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    MainTest.Run r = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out",
        tmp.resolve("run").toString(), "--epochs", "50", "--batch", "16", "--lr", "1e7", "--warmup-steps", "0",
        "--schedule", "constant", "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(3);
    assertThat(r.err()).containsPattern("(loss is (NaN|Infinity)|a gradient of block \\d+ \\([^,]+, \\w+\\) is not finite)"
        + " at step \\d+ \\(epoch \\d+, batch \\d+\\); with the weights as training stopped");
    assertThat(r.err().strip().lines().filter(l -> l.startsWith("irevnet train:"))).hasSize(1);
  }

  /**
   * Stopped from outside (here SIGTERM; Ctrl-C is SIGINT), a training says so in one line naming
   * the checkpoint to resume from, exits non-zero, and leaves that checkpoint intact.
   */
  @Test
  void aStoppedTrainingSaysWhereToResumeFrom(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), MainTest.TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path run = tmp.resolve("run");
    Process p = PeerComparison.ourProcess(java.util.List.of("train", "--arch", arch.toString(),
        "--data", data.toString(), "--out", run.toString(), "--epochs", "100000", "--batch", "16",
        "--checkpoint-every", "2", "--no-progress", "--threads", "1"), 1)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(tmp.resolve("err.txt").toFile()).start();
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (!org.irevnet.train.Checkpoints.exists(org.irevnet.train.Trainer.latest(run)) && p.isAlive()
          && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(p.isAlive()).as("still training once the first checkpoint is written").isTrue();
      // The same run started again meanwhile is refused: two trainings raced their checkpoint saves.
      for (String again : new String[] {"--resume", "--fresh"}) {
        MainTest.Run second = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", run.toString(),
            "--batch", "16", again, "--no-progress");
        assertThat(second.code()).as(second.err()).isEqualTo(2);
        assertThat(second.err().strip()).isEqualTo("irevnet train: " + run + " is being trained by another process (pid "
            + p.pid() + "): wait for it to end, or stop it and continue with --resume");
      }
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).isEqualTo(143);
    java.util.List<String> err = Files.readAllLines(tmp.resolve("err.txt"));
    assertThat(err.get(err.size() - 1))
        .isEqualTo("irevnet train: interrupted; continue from " + run.resolve("checkpoints/latest") + " with --resume");
    org.irevnet.train.Checkpoints.verify(org.irevnet.train.Trainer.latest(run));
  }

  /**
   * Stopped at an epoch's end after checkpoints/best was saved and before checkpoints/latest (the
   * order they are saved in), a first epoch said "no checkpoint had been written yet"; --resume,
   * which needs latest, refuses such a run. The checkpoints are fakes: only their manifests count.
   */
  @Test
  void aTrainingStoppedBetweenItsTwoSavesSaysOnlyBestWasWritten(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    assertThat(TrainCommand.whenStopped(run)).isEqualTo("no checkpoint had been written yet");
    Path best = Files.createDirectories(org.irevnet.train.Trainer.best(run));
    Files.writeString(best.resolve(org.irevnet.train.Checkpoints.MANIFEST), "{}");
    assertThat(TrainCommand.whenStopped(run)).isEqualTo("checkpoints/best was written, but not yet"
        + " checkpoints/latest, which --resume continues from: start again with --fresh");
    Path latest = Files.createDirectories(org.irevnet.train.Trainer.latest(run));
    Files.writeString(latest.resolve(org.irevnet.train.Checkpoints.MANIFEST), "{}");
    assertThat(TrainCommand.whenStopped(run)).isEqualTo("continue from " + latest + " with --resume");
  }

  /**
   * --resume reads the run's config.json: a value of the wrong JSON type there (hand-edited) was
   * read as a number, and an error named no file. The checkpoint is a fake: the config is refused first.
   */
  @Test
  void aResumedRunsConfigOfTheWrongTypeIsRefusedNamingTheFile(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    Path latest = Files.createDirectories(org.irevnet.train.Trainer.latest(run));
    Files.writeString(latest.resolve(org.irevnet.train.Checkpoints.MANIFEST), "{}");
    Path config = run.resolve(org.irevnet.train.Trainer.CONFIG);
    Files.writeString(config, "{\"config\": {\"epochs\": \"7\"}}");
    MainTest.Run r = run("train", "--out", run.toString(), "--resume", "--no-progress");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet train: " + config + ": key 'epochs' must be an integer, got \"7\"");
    // Without its config section (a NullPointerException, exit 3) or not JSON at all (the parser's words alone).
    for (String[] c : new String[][] {{"{\"environment\": {}}", "has no \"config\" object"}, {"{epochs", "malformed config JSON at line 1, column 2: Unexpected character ('e' (code 101)): was expecting"
        + " double-quote to start field name"}}) {
      Files.writeString(config, c[0]);
      MainTest.Run bad = run("train", "--out", run.toString(), "--resume", "--no-progress");
      assertThat(bad.code()).as(c[0]).isEqualTo(2);
      assertThat(bad.err().strip()).as(c[0]).startsWith("irevnet train: " + config + ": " + c[1]).hasLineCount(1);
    }
    // A primitive key it lacks read as 0: seed 0 and dequantize false would have resumed another run.
    // A text key it lacks was read as null: "arch must be an architecture name or file, got null", naming no file.
    for (String[] key : new String[][] {{"seed", "\"seed\" : 0,"}, {"arch", "\"arch\" : \"[^\"]*\","}}) {
      String without = org.irevnet.train.TrainConfig.defaults().toJson().replaceFirst(key[1], "");
      assertThat(without).doesNotContain(key[0]);
      Files.writeString(config, "{\"config\": " + without + "}");
      MainTest.Run missing = run("train", "--out", run.toString(), "--resume", "--no-progress");
      assertThat(missing.code()).as(key[0]).isEqualTo(2);
      assertThat(missing.err().strip()).isEqualTo("irevnet train: " + config + ": key '" + key[0] + "' is missing");
    }
  }

  /**
   * eval --out naming the run's own directory is no other place (other data there needs --as, or
   * it replaced eval-test.json), and another run's directory is refused: its eval-test.json was
   * replaced and its report showed this evaluation as its own. Checked before loading.
   */
  @Test
  void evalsOutputIsNeitherTheRunsOwnForOtherDataNorAnotherRuns(@TempDir Path tmp) throws Exception {
    Path own = org.irevnet.testing.TinyData.idx(tmp.resolve("own"), 10, 4);
    Path other = org.irevnet.testing.TinyData.idx(tmp.resolve("other"), 10, 4);
    Path runDir = Files.createDirectories(tmp.resolve("run")), otherRun = Files.createDirectories(tmp.resolve("b"));
    for (Path r : List.of(runDir, otherRun)) {
      Files.writeString(r.resolve("config.json"), "{\"config\": {\"data\": \"" + own + "\"}}");
    }
    Path theirs = Files.writeString(otherRun.resolve("eval-test.json"), "{}");
    for (String out : List.of(runDir.toString(), runDir.resolve(".").toString())) {
      MainTest.Run r = run("eval", "--run", runDir.toString(), "--data", other.toString(), "--out", out);
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).isEqualTo("irevnet eval: --data " + other + " is not the data " + runDir + " was trained on:"
          + " name this evaluation with --as NAME, so that it does not replace eval-test.json\n");
    }
    // --as naming the split's own file is no name of its own: it replaced the run's eval-test.json.
    Path ownEval = Files.writeString(runDir.resolve("eval-test.json"), "{}");
    for (String[] split : new String[][] {{"test"}, {"train", "--split", "train"}}) {
      List<String> args = new java.util.ArrayList<>(List.of("eval", "--run", runDir.toString(), "--data",
          other.toString(), "--as", split[0]));
      args.addAll(List.of(split).subList(1, split.length));
      MainTest.Run named = run(args.toArray(String[]::new));
      assertThat(named.code()).as(named.err()).isEqualTo(2);
      assertThat(named.err()).isEqualTo("irevnet eval: --data " + other + " is not the data " + runDir + " was trained"
          + " on: name this evaluation with --as NAME other than " + split[0] + ", so that it does not replace eval-"
          + split[0] + ".json\n");
    }
    assertThat(ownEval).hasContent("{}");
    MainTest.Run r = run("eval", "--run", runDir.toString(), "--out", otherRun.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("irevnet eval: --out " + otherRun + " is the directory of another run, whose report"
        + " would show this evaluation as that run's own: give another directory\n");
    assertThat(theirs).hasContent("{}");
    Path theirAnalysis = Files.createDirectories(otherRun.resolve("analysis"));
    MainTest.Run intoAnalysis = run("eval", "--run", runDir.toString(), "--out", theirAnalysis.toString());
    assertThat(intoAnalysis.code()).as(intoAnalysis.err()).isEqualTo(2);
    assertThat(intoAnalysis.err()).isEqualTo("irevnet eval: --out " + theirAnalysis + " is the analysis directory of the"
        + " run " + otherRun + ", whose report would show this evaluation as that run's own results: give another"
        + " directory\n");
    assertThat(theirAnalysis).isEmptyDirectory();
    // Other data with a name of its own, and a directory of no run, get as far as loading.
    assertThat(run("eval", "--run", runDir.toString(), "--data", other.toString(), "--out", runDir.toString(), "--as",
        "other").err()).contains("no checkpoint");
    assertThat(run("eval", "--run", runDir.toString(), "--out", tmp.resolve("evals").toString()).err())
        .contains("no checkpoint");
  }

  /**
   * Outputs inside what training replaces whole (a checkpoint, a run's checkpoints/) are refused
   * for every command that writes, and train also refuses a run's analysis/ and a VAE's directory:
   * train --out RUN/checkpoints/best made a nested run there, report --out wrote into a checkpoint
   * the next save deleted, and train into a VAE's directory replaced its config.json.
   */
  @Test
  void outputsInACheckpointARunsAnalysisOrAVaesDirectoryAreRefused(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path run = tiny.dir(), best = org.irevnet.train.Trainer.best(run), checkpoints = best.getParent();
    String replaced = ", which training replaces whole: choose another directory";
    String analysed = ", whose report would show this training run as that run's own results: give another directory";
    Path zipRun = Files.createDirectories(tmp.resolve("mine-analysis"));
    Files.writeString(zipRun.resolve("config.json"), "{\"config\": {\"model\": \"mine.zip\"}}");
    String[][] cases = {
        {best.toString(), best + " is a checkpoint" + replaced},
        {best.resolve("sub").toString(), best.resolve("sub") + " is inside " + best + ", a checkpoint" + replaced},
        {checkpoints.toString(), checkpoints + " is a run's checkpoints directory" + replaced},
        {run.resolve("analysis").toString(), "--out " + run.resolve("analysis") + " is the analysis directory of the run "
            + run + analysed},
        // The name as given was tested, not as meant; a model zip's analysis directory has no checkpoint.
        {run.resolve("analysis/.").toString(), "--out " + run.resolve("analysis/.") + " is the analysis directory of the"
            + " run " + run + analysed},
        {zipRun.resolve("analysis").toString(), "--out " + zipRun.resolve("analysis") + " is the analysis directory of"
            + " the run " + zipRun + analysed}};
    for (String[] c : cases) {
      MainTest.Run r = run("train", "--out", c[0], "--arch", tiny.arch().toString(), "--data", tiny.data().toString(),
          "--no-progress", "--max-steps", "1");
      assertThat(r.code()).as(c[0]).isEqualTo(2);
      assertThat(r.err()).isEqualTo("irevnet train: " + c[1] + "\n");
    }
    assertThat(best.resolve("sub")).doesNotExist();
    assertThat(run.resolve("analysis")).doesNotExist();
    assertThat(zipRun.resolve("analysis")).doesNotExist();
    MainTest.Run report = run("report", run.toString(), "--out", best.toString());
    assertThat(report.code()).isEqualTo(2);
    assertThat(report.err()).isEqualTo("irevnet report: " + best + " is a checkpoint" + replaced + "\n");
    MainTest.Run invert = run("invert", "--run", run.toString(), "--out", checkpoints.toString(), "--count", "2");
    assertThat(invert.code()).isEqualTo(2);
    assertThat(invert.err()).isEqualTo("irevnet invert: " + checkpoints + " is a run's checkpoints directory" + replaced
        + "\n");
    MainTest.Run eval = run("eval", "--run", run.toString(), "--out", best.toString());
    assertThat(eval.code()).isEqualTo(2);
    assertThat(eval.err()).isEqualTo("irevnet eval: " + best + " is a checkpoint" + replaced + "\n");
    try (var s = Files.list(best)) {
      assertThat(s.map(p -> p.getFileName().toString())).as("the checkpoint's own files alone")
          .containsExactlyInAnyOrder("model.json", "weights.npz", "optimizer.npz", "training.json", "manifest.json");
    }

    Path vae = Files.createDirectories(tmp.resolve("vae"));
    Files.writeString(vae.resolve("vae.json"), "{}");
    Files.writeString(vae.resolve("config.json"), "{\"vae\": true}");
    MainTest.Run r = run("train", "--out", vae.toString(), "--arch", tiny.arch().toString(), "--data",
        tiny.data().toString(), "--no-progress", "--max-steps", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("irevnet train: " + vae + " holds a VAE run (vae.json), whose config.json train would"
        + " replace: choose another --out\n");
    assertThat(vae.resolve("config.json")).hasContent("{\"vae\": true}");
  }
}
