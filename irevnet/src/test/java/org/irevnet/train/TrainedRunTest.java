package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** A run opened from Java gives the model and data training used, as the analysis commands load them. */
class TrainedRunTest {

  /** A tiny run trained in {@code tmp/run} on {@code tmp/data} (64 training and 20 test images, 4 steps an epoch). */
  private static Trainer.Result train(Path tmp, int epochs, long maxSteps) throws IOException {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    return new Trainer(TrainerTest.config(arch, data, 3e-3, epochs), tmp.resolve("run"), TrainerTest.QUIET, maxSteps).run();
  }

  /**
   * The model is the best checkpoint's, float32, and the run's own test split laid onto its input
   * as training laid it: evaluated, they give the test accuracy and loss training recorded at its
   * last epoch (best is the last epoch's without a validation split).
   */
  @Test
  void givesTheBestCheckpointsModelAndTheTestSplitTrainingEvaluated(@TempDir Path tmp) throws Exception {
    Trainer.Result trained = train(tmp, 2, Long.MAX_VALUE);
    Path dir = tmp.resolve("run"), data = tmp.resolve("data");

    TrainedRun run = TrainedRun.load(dir);
    assertThat(run.checkpoint()).isEqualTo(Trainer.best(dir));
    assertThat(run.weightsSha256()).isEqualTo(Checkpoints.weightsSha256(Trainer.best(dir))).isNotNull();
    assertThat(run.model().dataType()).isEqualTo(DataType.FLOAT);
    Dataset test = run.split(Split.TEST);
    assertThat(test.images().shape()).containsExactly(20, 1, 32, 32);
    Evaluation.Result ev = Evaluation.evaluate(run.model(), test, 50, "test");
    assertThat(ev.accuracy()).isEqualTo(trained.testAccuracy());
    String lastEpoch = Files.readAllLines(dir.resolve(Trainer.METRICS)).stream().filter(l -> l.contains("test_loss"))
        .reduce((a, b) -> b).orElseThrow();
    assertThat(ev.loss()).isEqualTo(new ObjectMapper().readTree(lastEpoch).path("test_loss").asDouble());
    assertThat(run.data().dir()).isEqualTo(AtomicFiles.absolute(data));
    // Another dataset's split is laid onto the input alike.
    assertThat(run.prepare(Datasets.open(data).load(Split.TRAIN)).images().shape()).containsExactly(64, 1, 32, 32);

    // A save stopped between its two renames leaves best only as its previous version: that is
    // still best's (loaded from there), not a run without best to pass over for latest.
    Files.move(Trainer.best(dir), Trainer.best(dir).resolveSibling(".best.old"));
    assertThat(Trainer.best(dir)).doesNotExist();
    assertThat(TrainedRun.defaultCheckpoint(dir)).isEqualTo(Trainer.best(dir));
    assertThat(TrainedRun.load(dir).weightsSha256()).isEqualTo(run.weightsSha256());
  }

  /** A run stopped before its first epoch ended has only latest, which is then loaded. */
  @Test
  void aRunWithoutBestLoadsLatest(@TempDir Path tmp) throws Exception {
    train(tmp, 2, 2);
    Path dir = tmp.resolve("run");
    assertThat(Trainer.best(dir)).doesNotExist();
    assertThat(TrainedRun.defaultCheckpoint(dir)).isEqualTo(Trainer.latest(dir));
    assertThat(TrainedRun.load(dir).checkpoint()).isEqualTo(Trainer.latest(dir));
    // A damaged best is chosen, and refused, rather than passed over for latest.
    Files.createDirectories(Trainer.best(dir));
    assertThat(TrainedRun.defaultCheckpoint(dir)).isEqualTo(Trainer.best(dir));
    assertThatThrownBy(() -> TrainedRun.load(dir)).isInstanceOf(IOException.class)
        .hasMessage(Trainer.best(dir) + ": not a checkpoint (no manifest.json)");
  }

  /** Each refusal is one line naming what is wrong. */
  @Test
  void refusesWhatIsNoRunOfAnInvertibleModelInOneLine(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> TrainedRun.load(tmp.resolve("none"))).isInstanceOf(IOException.class)
        .hasMessage(tmp.resolve("none") + ": no such run directory");
    assertThatThrownBy(() -> TrainedRun.load(tmp)).isInstanceOf(IOException.class)
        .hasMessage(tmp + ": no checkpoint (has it been trained?)");
    Path file = Files.writeString(tmp.resolve("file"), "");
    assertThatThrownBy(() -> TrainedRun.load(file)).isInstanceOf(IOException.class).hasMessage(file + ": not a directory");
    // A baseline run's checkpoint holds a DL4J network.
    Path best = Files.createDirectories(Trainer.best(tmp));
    Files.writeString(best.resolve(Checkpoints.MANIFEST), "{}");
    Files.writeString(best.resolve(Checkpoints.NETWORK), "");
    assertThatThrownBy(() -> TrainedRun.load(tmp)).isInstanceOf(IOException.class)
        .hasMessage(best + ": holds a DL4J network (model.zip), not an invertible model; Checkpoints.loadNetwork loads it");
  }

  /**
   * A run whose config.json is missing, not JSON or records no data is refused in one line naming
   * the file: without the checks, a missing file failed as a FileNotFoundException (an IOException,
   * not a refusal of the run) and an empty data name went on to the dataset resolver.
   */
  @Test
  void aConfigThatRecordsNoDataIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
    TrainedRun run = new TrainedRun(tmp, Trainer.best(tmp), null, null);
    Path cfg = tmp.resolve(Trainer.CONFIG);
    assertThatThrownBy(run::data).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(cfg + ": not found (the run records its data there)");
    Files.writeString(cfg, "{\"config\": ");
    assertThatThrownBy(run::data).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(cfg + ": ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    for (String json : new String[] {"{\"config\": {}}", "{\"config\": {\"data\": \"\"}}", "{}"}) {
      Files.writeString(cfg, json);
      assertThatThrownBy(run::data).as(json).isInstanceOf(IllegalArgumentException.class).hasMessage(cfg + ": no config.data");
    }
  }

  /** Data moved since training is named, with what to do. */
  @Test
  void dataMovedSinceTrainingIsNamed(@TempDir Path tmp) throws Exception {
    train(tmp, 1, Long.MAX_VALUE);
    Path dir = tmp.resolve("run"), data = tmp.resolve("data");
    Files.move(data, tmp.resolve("moved"));
    TrainedRun run = TrainedRun.load(dir);
    assertThatThrownBy(() -> run.split(Split.TEST)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(data.toString()).hasMessageContaining("(the data " + dir + " was trained on, moved or deleted")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThat(run.prepare(Datasets.open(tmp.resolve("moved")).load(Split.TEST)).size()).isEqualTo(20);
  }

  /**
   * A dataset recorded by name (a run trained on fashion-mnist-mini) that is not found from here is
   * refused as the resolver words it, which says where it looked: it was said to have moved.
   */
  @Test
  void aDatasetRecordedByNameAndNotFoundIsNotSaidToHaveMoved(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve(Trainer.CONFIG), "{\"config\": {\"data\": \"no-such-dataset\"}}");
    TrainedRun run = new TrainedRun(tmp, Trainer.best(tmp), null, null);
    assertThatThrownBy(run::data).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("no-such-dataset: no such directory and no such dataset name")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("moved"));
  }
}
