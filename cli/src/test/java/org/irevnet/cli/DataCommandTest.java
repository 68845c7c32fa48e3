package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** data shortcut: writes a dataset that train and eval take; bad input is one line, exit 2. */
class DataCommandTest {

  @Test
  void writesADatasetThatTrainsAndEvaluatesOnEveryVariant(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 64, 20);
    Path out = tmp.resolve("shortcut");
    MainTest.Run r = run("data", "shortcut", "--base", base.toString(), "--kind", "binary-code",
        "--out", out.toString(), "--seed", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("binary-code shortcut (seed 1)")
        .contains("randomised decodes as stamped: 20 of 20");
    JsonNode json = Json.MAPPER.readTree(out.resolve("shortcut.json").toFile());
    assertThat(json.path("seed").asLong()).isEqualTo(1);

    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", out.toString(), "--out",
        runDir.toString(), "--epochs", "1", "--batch", "16", "--no-progress");
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(run("eval", "--run", runDir.toString()).code()).isZero();
    String inDistribution = Files.readString(runDir.resolve("eval-test.json"));
    for (String v : new String[] {"consistent", "randomised", "removed"}) {
      MainTest.Run e = run("eval", "--run", runDir.toString(), "--data", out.resolve(v).toString(), "--as", v);
      assertThat(e.code()).as(e.err()).isZero();
      JsonNode j = Json.MAPPER.readTree(e.out());
      assertThat(j.get("count").asInt()).isEqualTo(20);
      assertThat(j.get("data").asText()).isEqualTo(v + "/test");
      assertThat(Json.MAPPER.readTree(runDir.resolve("eval-" + v + ".json").toFile()).get("accuracy").asDouble())
          .isEqualTo(j.get("accuracy").asDouble());
    }
    // Each test set keeps its own file: the in-distribution evaluation is untouched.
    assertThat(Files.readString(runDir.resolve("eval-test.json"))).isEqualTo(inDistribution);
    MainTest.Run clash = run("eval", "--run", runDir.toString(), "--as", "train");
    assertThat(clash.code()).isEqualTo(2);
    assertThat(clash.err()).contains("--as train would overwrite");
    assertThat(run("eval", "--run", runDir.toString(), "--as", "../up").err()).contains("--as must be letters");
    // Other data needs a name of its own: it would replace the run's own evaluation.
    MainTest.Run unnamed = run("eval", "--run", runDir.toString(), "--data", out.resolve("randomised").toString());
    assertThat(unnamed.code()).isEqualTo(2);
    assertThat(unnamed.err()).contains("is not the data " + runDir + " was trained on").contains("--as NAME")
        .doesNotContain("\n\tat ");
    assertThat(Files.readString(runDir.resolve("eval-test.json"))).isEqualTo(inDistribution);
    // Data with other classes is refused: the model's outputs mean the training classes.
    Path other = TinyData.idx(tmp.resolve("other"), 64, 20);
    Files.writeString(other.resolve("classes.txt"), String.join("\n", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j") + "\n");
    MainTest.Run otherClasses = run("eval", "--run", runDir.toString(), "--data", other.toString(), "--as", "other");
    assertThat(otherClasses.code()).isEqualTo(2);
    assertThat(otherClasses.err()).contains("classes [a, b, c").contains("but the run was trained on");
    assertThat(runDir.resolve("eval-other.json")).doesNotExist();

    // The report shows every test set, in the headline too.
    MainTest.Run rep = run("report", runDir.toString(), "--out", tmp.resolve("report").toString());
    assertThat(rep.code()).as(rep.err()).isZero();
    String html = Files.readString(tmp.resolve("report/report.html"));
    for (String v : new String[] {"consistent", "randomised", "removed"}) {
      assertThat(html).contains("accuracy on " + v + " (" + v + "/test)");
    }

    // Once the training data has moved, the run still tells it by content: other data is still
    // refused (it was taken for the run's and replaced eval-test.json), the moved data is the run's.
    Path moved = Files.move(out, tmp.resolve("elsewhere"));
    MainTest.Run afterMove = run("eval", "--run", runDir.toString(), "--data", moved.resolve("randomised").toString());
    assertThat(afterMove.code()).as(afterMove.err()).isEqualTo(2);
    assertThat(afterMove.err()).contains("is not the data " + runDir + " was trained on");
    assertThat(Files.readString(runDir.resolve("eval-test.json"))).isEqualTo(inDistribution);
    MainTest.Run lost = run("eval", "--run", runDir.toString());
    assertThat(lost.code()).isEqualTo(2);
    assertThat(lost.err().strip()).isEqualTo("irevnet eval: " + out + ": no such directory (the data " + runDir
        + " was trained on, moved or deleted since: pass --data with its new place)");
    MainTest.Run own = run("eval", "--run", runDir.toString(), "--data", moved.toString());
    assertThat(own.code()).as(own.err()).isZero();
    assertThat(Json.MAPPER.readTree(runDir.resolve("eval-test.json").toFile()).get("accuracy").asDouble())
        .isEqualTo(Json.MAPPER.readTree(inDistribution).get("accuracy").asDouble());
    // The report agrees: an analysis of the moved data, in a directory of another name, is the run's.
    MainTest.Run inv = run("invert", "--run", runDir.toString(), "--data", moved.toString(), "--count", "2",
        "--no-progress");
    assertThat(inv.code()).as(inv.err()).isZero();
    MainTest.Run movedReport = run("report", runDir.toString(), "--out", tmp.resolve("report-moved").toString());
    assertThat(movedReport.code()).as(movedReport.err()).isZero();
    assertThat(Files.readString(tmp.resolve("report-moved/report.html"))).contains("analysis/invert.json")
        .doesNotContain("Not the run's test data");
  }

  /**
   * A dataset and a run may have any name the file system allows (255 bytes), one made of
   * hyper-parameters say: the temporaries beside them, and the run's lock, could not be made for
   * names of more than 236 and 249 bytes, and the commands failed. Written again, the dataset
   * replaces the first; nothing hidden stays beside either.
   */
  @Test
  void aDatasetAndARunNamedWith255BytesAreWritten(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 32, 10);
    Path out = tmp.resolve("shortcut-" + "k".repeat(246));
    for (String seed : new String[] {"1", "2"}) {
      MainTest.Run r = run("data", "shortcut", "--base", base.toString(), "--kind", "binary-code",
          "--out", out.toString(), "--seed", seed, "--force");
      assertThat(r.code()).as(r.err()).isZero();
    }
    assertThat(Json.MAPPER.readTree(out.resolve("shortcut.json").toFile()).path("seed").asLong()).isEqualTo(2);
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path runDir = tmp.resolve("run-" + "r".repeat(251));
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", out.toString(), "--out",
        runDir.toString(), "--epochs", "1", "--batch", "16", "--no-progress");
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(runDir.resolve("checkpoints/latest/manifest.json")).isRegularFile();
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactlyInAnyOrder(base, out, arch, runDir);
    }
  }

  @Test
  void badInputIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 20, 10);
    Path out = tmp.resolve("out");
    refused("no such directory", "--base", tmp.resolve("missing").toString() + "/", "--kind",
        "texture", "--out", out.toString());
    refused("unknown shortcut kind 'stripes'", "--base", base.toString(), "--kind", "stripes",
        "--out", out.toString());
    assertThat(out).doesNotExist();
    Files.createDirectories(out);
    Files.writeString(out.resolve("notes.txt"), "mine");
    refused("--force", "--base", base.toString(), "--kind", "texture", "--out", out.toString());
    assertThat(Files.readString(out.resolve("notes.txt"))).isEqualTo("mine");
    MainTest.Run forced = run("data", "shortcut", "--base", base.toString(), "--kind", "texture",
        "--out", out.toString(), "--force");
    assertThat(forced.code()).as(forced.err()).isZero();
    assertThat(out.resolve("notes.txt")).doesNotExist();
  }

  /** --out inside a checkpoint or in a run's analysis/ is refused, as by every command that writes. */
  @Test
  void anOutputInACheckpointOrARunsAnalysisIsRefused(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 20, 10);
    Path run = Files.createDirectories(tmp.resolve("run"));
    Files.writeString(run.resolve("config.json"), "{\"config\": {}}");
    Path best = Files.createDirectories(run.resolve("checkpoints/best"));
    Files.writeString(best.resolve("manifest.json"), "{}");
    Files.writeString(best.resolve("training.json"), "{}");
    refused(best.resolve("sc") + " is inside " + best + ", a checkpoint, which training replaces whole", "--base",
        base.toString(), "--kind", "texture", "--out", best.resolve("sc").toString());
    refused("--out " + run.resolve("analysis") + " is the analysis directory of the run " + run, "--base",
        base.toString(), "--kind", "texture", "--out", run.resolve("analysis").toString());
    assertThat(best.resolve("sc")).doesNotExist();
    assertThat(run.resolve("analysis")).doesNotExist();
  }

  /**
   * --force replaces a dataset, never a run: a run's directory, and one holding runs, were deleted
   * with their checkpoints and a dataset put in their place.
   */
  @Test
  void forceNeverReplacesARunOrADirectoryHoldingOne(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 20, 10);
    Path runs = tmp.resolve("runs");
    Path run = Files.createDirectories(runs.resolve("paper/ce/checkpoints/best"));
    Path config = Files.writeString(runs.resolve("paper/ce/config.json"), "{\"config\": {}}");
    refused("--out " + runs.resolve("paper/ce") + " is the directory of a run: --force replaces a dataset, never a run",
        "--base", base.toString(), "--kind", "texture", "--out", runs.resolve("paper/ce").toString(), "--force");
    refused("--out " + runs + " holds the run " + runs.resolve("paper/ce") + ": --force replaces a dataset, never a run",
        "--base", base.toString(), "--kind", "texture", "--out", runs.toString(), "--force");
    assertThat(config).exists();
    assertThat(run).isDirectory();
    // An earlier dataset there is still replaced.
    Path out = tmp.resolve("sc");
    for (int i = 0; i < 2; i++) {
      MainTest.Run r = run("data", "shortcut", "--base", base.toString(), "--kind", "texture", "--out", out.toString(),
          "--force");
      assertThat(r.code()).as(r.err()).isZero();
    }
  }

  private static void refused(String expected, String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "data";
    all[1] = "shortcut";
    System.arraycopy(args, 0, all, 2, args.length);
    MainTest.Run r = run(all);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).contains(expected);
  }
}
