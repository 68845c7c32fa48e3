package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

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
 * Data whose own splits differ in size is refused by the commands that train a probe on one and
 * test it on the other.
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
