package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.irevnet.data.IdxFiles;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data whose images have another size than those a run was trained on is zero-padded onto the
 * model's input elsewhere than any image it learnt from: the commands that score the model's classes
 * against the labels (eval, attack) refuse it, the analyses meaningful on any image it takes
 * (invert, probe, metamers, interpolate, export) say so and go on. A run from before config.json
 * recorded the images' shape compares nothing, as before. Data whose own splits differ in size is
 * refused by the commands that train a probe on one and test it on the other.
 */
class OtherImageSizeTest {

  /** IDX files in {@code dir}: the tiny run's labels, under images of {@code h x w} (train) and {@code testH x testW}. */
  private static Path idx(Path dir, Path labelsOf, int h, int w, int testH, int testW) throws IOException {
    Files.createDirectories(dir);
    Random r = new Random(5);
    for (String split : List.of("train", "t10k")) {
      Path labels = labelsOf.resolve(split + "-labels-idx1-ubyte");
      Files.copy(labels, dir.resolve(labels.getFileName()));
      int n = (int) Files.size(labels) - 8;
      int rows = split.equals("train") ? h : testH, cols = split.equals("train") ? w : testW;
      byte[] px = new byte[n * rows * cols];
      r.nextBytes(px);
      IdxFiles.writeImages(dir.resolve(split + "-images-idx3-ubyte"), n, rows, cols, px);
    }
    return dir;
  }

  @Test
  void imagesOfAnotherSizeAreRefusedWhereScoredAndNotedWhereAnalysed(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path config = tiny.dir().resolve(Trainer.CONFIG);
    JsonNode dataset = Json.MAPPER.readTree(config.toFile()).get(Trainer.DATASET);
    assertThat(dataset.get("image_shape")).as("the training images as stored").extracting(JsonNode::asInt)
        .containsExactly(1, 28, 28);
    String runDir = tiny.dir().toString();
    String wide = idx(tmp.resolve("wide"), tiny.data(), 28, 20, 28, 20).toString();
    String why = "wide/test: 28x20 images, but " + runDir + " was trained on 28x28 ones (data); zero-padded to its"
        + " 32x32 input, these lie elsewhere on it than any image it learnt from";

    Path out = tmp.resolve("out");
    MainTest.assertRefused(List.of("eval", "--run", runDir, "--data", wide, "--as", "wide"),
        why + "; pad or crop them to the size it was trained on");
    assertThat(tiny.dir().resolve("eval-wide.json")).doesNotExist();
    for (String attack : List.of("fgsm", "metamer")) {
      MainTest.assertRefused(List.of("attack", "--run", runDir, "--data", wide, "--attack", attack, "--count", "2",
          "--out", out.toString()), why + "; pad or crop them to the size it was trained on");
    }
    assertThat(out).doesNotExist();

    String[][] analyses = {{"invert", "--count", "2"}, {"probe", "--layers", "--train-count", "30"},
        {"metamers", "--count", "2"}, {"interpolate", "--count", "2", "--steps", "3"}, {"export", "--count", "2"}};
    for (String[] a : analyses) {
      MainTest.Run r = run(AnalysisCommandsTest.args(String.join(" ", a), "--run", runDir, "--data", wide,
          "--out", out.resolve(a[0]).toString()));
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.err().lines()).as(a[0]).contains("irevnet " + a[0] + ": note: " + why);
    }
    MainTest.Run own = run("invert", "--run", runDir, "--count", "2", "--out", out.resolve("own").toString());
    assertThat(own.code()).as(own.err()).isZero();
    assertThat(own.err()).as("the run's own data").doesNotContain("note");

    // A run from before config.json recorded the shape: nothing to compare, taken as before.
    ((ObjectNode) dataset).remove("image_shape");
    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(config.toFile());
    cfg.set(Trainer.DATASET, dataset);
    Files.writeString(config, Json.pretty(cfg));
    MainTest.Run before = run("eval", "--run", runDir, "--data", wide, "--as", "wide");
    assertThat(before.code()).as(before.err()).isZero();
    assertThat(before.err()).isEmpty();
    assertThat(tiny.dir().resolve("eval-wide.json")).exists();
  }

  /**
   * probe and metamers --probe-class train a probe on the data's training split and test it on its
   * test split: splits of two sizes lie on the model's input in two places. Refused as train refuses
   * them, before any work, for a run that records no shape too (its test images are its own size).
   */
  @Test
  void dataWhoseSplitsDifferInSizeIsRefusedWhereAProbeIsTrainedOnOneAndTestedOnTheOther(@TempDir Path tmp)
      throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path config = tiny.dir().resolve(Trainer.CONFIG);
    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(config.toFile());
    ((ObjectNode) cfg.get(Trainer.DATASET)).remove("image_shape");
    Files.writeString(config, Json.pretty(cfg));
    String runDir = tiny.dir().toString();
    String mixed = idx(tmp.resolve("mixed"), tiny.data(), 28, 28, 31, 31).toString();
    Path out = tmp.resolve("out");
    String why = "mixed: the training images are 28x28, the test images 31x31; both splits must have one size";
    MainTest.assertRefused(List.of("probe", "--run", runDir, "--data", mixed, "--nuisance", "--epochs", "1", "--out",
        out.toString()), why);
    MainTest.assertRefused(List.of("metamers", "--run", runDir, "--data", mixed, "--count", "2", "--probe-class",
        "--out", out.toString()), why);
    assertThat(out).doesNotExist();
  }
}
