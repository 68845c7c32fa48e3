package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.irevnet.data.BatchIterator;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.models.Baselines;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class NetworkTrainerTest {
  static TrainConfig config(String arch, Path data, int epochs) {
    return new TrainConfig(arch, data.toString(), "ce", epochs, 16, 3e-3, 0, 2, "cosine", 7, 2, 1000, false, 0, 50,
        null, null, 0);
  }

  /**
   * IDX labels without a classes.txt were numbered per split: up to 10 in training and 9 in test
   * gave 11 and 10 classes, and the run was refused. Numbered over both splits, they are 11 in
   * each, and a model with 11 outputs trains.
   */
  @ParameterizedTest
  @ValueSource(strings = {"cnn-s", "invertible"})
  void splitsNumberedUpToDifferentLabelsTrainOnTheClassesOfBoth(String arch, @TempDir Path tmp) throws Exception {
    Path data = Files.createDirectories(tmp.resolve("numbered"));
    int[] train = java.util.stream.IntStream.range(0, 22).map(i -> i % 11).toArray();
    org.irevnet.data.IdxFiles.writeImages(data.resolve("train-images-idx3-ubyte"), 22, 28, 28, new byte[22 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(data.resolve("train-labels-idx1-ubyte"), train);
    org.irevnet.data.IdxFiles.writeImages(data.resolve("t10k-images-idx3-ubyte"), 2, 28, 28, new byte[2 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(data.resolve("t10k-labels-idx1-ubyte"), new int[] {0, 9});
    String a = arch.equals("cnn-s") ? arch
        : Files.writeString(tmp.resolve("eleven.json"), TinyData.ARCH.replace("\"numClasses\": 10", "\"numClasses\": 11"))
            .toString();
    Trainer.Result r = new Trainer(config(a, data, 1), tmp.resolve("run"), TrainerTest.QUIET, 1).run();
    assertThat(r.steps()).isEqualTo(1);
  }

  /**
   * Data of one class is refused as such before anything is built: an invertible model was told to
   * set "numClasses": 1, which its architecture refuses, and a baseline stopped in DL4J's softmax.
   */
  @ParameterizedTest
  @ValueSource(strings = {"cnn-s", "invertible"})
  void dataOfOneClassIsRefusedAsSuch(String arch, @TempDir Path tmp) throws Exception {
    Path data = Files.createDirectories(tmp.resolve("single"));
    org.irevnet.data.IdxFiles.writeImages(data.resolve("train-images-idx3-ubyte"), 4, 28, 28, new byte[4 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(data.resolve("train-labels-idx1-ubyte"), new int[4]);
    org.irevnet.data.IdxFiles.writeImages(data.resolve("t10k-images-idx3-ubyte"), 2, 28, 28, new byte[2 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(data.resolve("t10k-labels-idx1-ubyte"), new int[2]);
    String a = arch.equals("cnn-s") ? arch : Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH).toString();
    assertThatThrownBy(() -> new Trainer(config(a, data, 1), tmp.resolve("run"), TrainerTest.QUIET, 1).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(data + ": 1 class [0] in the training split; a classifier needs at least 2");
  }

  /** No loader gives one directory's splits different classes now; the check stays for any that would. */
  @Test
  void splitsWithDifferentClassesAreRefused() {
    INDArray images = org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 1, 2, 2);
    Dataset train = new Dataset("d/train", images, new int[] {0, 2}, List.of("0", "1", "2"));
    Dataset test = new Dataset("d/test", images, new int[] {0, 1}, List.of("0", "1"));
    assertThatThrownBy(() -> Trainer.checkSameClasses("d", train, test))
        .hasMessage("d: the training split's 3 classes are not the test split's 2; name every class, in label"
            + " order, in a classes.txt");
  }

  @ParameterizedTest
  @ValueSource(strings = {"cnn-s", "resnet-s"})
  void baselinesTrainIntoARunDirectoryAndResumeExactly(String arch, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 48, 16);
    TrainConfig cfg = config(arch, data, 2); // 3 steps per epoch, 6 in all
    Trainer.Result straight = new Trainer(cfg, tmp.resolve("a"), TrainerTest.QUIET, Long.MAX_VALUE).run();
    assertThat(straight.steps()).isEqualTo(6);
    assertThat(straight.testAccuracy()).isBetween(0.0, 1.0);
    Path run = tmp.resolve("a");
    assertThat(run.resolve(Trainer.CONFIG)).exists();
    assertThat(Files.readAllLines(run.resolve(Trainer.METRICS))).anyMatch(l -> l.contains("\"type\":\"epoch\""));
    assertThat(Checkpoints.holdsNetwork(Trainer.best(run))).isTrue();

    new Trainer(cfg, tmp.resolve("b"), TrainerTest.QUIET, 5).run();
    assertThat(Checkpoints.trainingState(Trainer.latest(tmp.resolve("b"))).step()).as("saved where the call stopped")
        .isEqualTo(5);
    Trainer.Result rest = new Trainer(cfg, tmp.resolve("b"), TrainerTest.QUIET, Long.MAX_VALUE).run();
    assertThat(rest.steps()).isEqualTo(6);
    // The straight run's lines, plus the one logged where the first call stopped.
    List<String> mb = TrainerTest.steps(tmp.resolve("b"));
    assertThat(mb).doesNotHaveDuplicates().contains("train@5");
    assertThat(mb.stream().filter(x -> !x.equals("train@5")).toList()).isEqualTo(TrainerTest.steps(run));
    var a = Checkpoints.loadNetwork(Trainer.latest(run)).net();
    var b = Checkpoints.loadNetwork(Trainer.latest(tmp.resolve("b"))).net();
    assertThat(b.params()).isEqualTo(a.params());
    var fresh = Baselines.build(arch, 1, 10, 7, 3e-3, 0);
    assertThat(a.params()).isNotEqualTo(fresh.params());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ice", "mle"})
  void baselinesRefuseTheObjectivesOfInvertibleModels(String objective, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 16, 8);
    TrainConfig c = config("cnn-s", data, 1);
    TrainConfig cfg = new TrainConfig(c.arch(), c.data(), objective, 1, 16, 1e-3, 0, 0, "cosine", 0, 1, 10, false, 0,
        10, null, null, 0);
    assertThatThrownBy(() -> new Trainer(cfg, tmp.resolve("r"), TrainerTest.QUIET, 1).run())
        .hasMessage("objective " + objective + " needs an invertible architecture, 'cnn-s' is a non-invertible"
            + " baseline");
  }

  @Test
  void resumingWithAnotherArchitectureNamesBoth(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 16, 8);
    Path run = tmp.resolve("r");
    new Trainer(config("cnn-s", data, 1), run, TrainerTest.QUIET, 1).run();
    assertThatThrownBy(() -> new Trainer(config("resnet-s", data, 1), run, TrainerTest.QUIET, 1).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("arch would change (\"cnn-s\" -> \"resnet-s\")");
  }

  /**
   * The first step's line holds the freshly built network's cross-entropy and accuracy on the
   * first shuffled batch (recomputed here in float64 from its softmax outputs; cnn-s has no
   * dropout or batch norm, so training and evaluation mode agree), and Adam's first step moves a
   * parameter by lr |g| / (|g| + eps / sqrt(1 - beta2)) (DL4J's form, eps / sqrt(1 - beta2) about
   * 3e-7), at most the warm-up learning rate 3e-3 / 2 and for any gradient well above 3e-7 that
   * much: not the 3e-3 the network was built with.
   */
  @Test
  void theFirstStepIsAdamsAtTheWarmUpRateOnTheFirstShuffledBatch(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 48, 16);
    TrainConfig cfg = TrainerTest.with(config("cnn-s", data, 2), "ce", 3e-3, 1, 1000, 0);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, TrainerTest.QUIET, 1).run();

    ComputationGraph init = Baselines.build("cnn-s", 1, 10, 7, 3e-3, 0);
    Dataset train = Baselines.prepare(Datasets.resolve(data.toString()), Split.TRAIN);
    BatchIterator.Batch b = BatchIterator.builder(train).batchSize(16).seed(7).shuffle(true).build().nextBatch();
    INDArray p = init.outputSingle(false, b.features());
    double ce = 0;
    int right = 0;
    for (int i = 0; i < 16; i++) {
      double[] row = p.getRow(i).toDoubleVector();
      ce -= Math.log(row[b.labels()[i]]);
      int top = 0;
      for (int k = 1; k < row.length; k++) if (row[k] > row[top]) top = k;
      if (top == b.labels()[i]) right++;
    }
    JsonNode line = TrainerTest.lines(run, "train").get(0);
    assertThat(line.get("loss").asDouble()).isCloseTo(ce / 16, offset(1e-5));
    assertThat(line.get("accuracy").asDouble()).isEqualTo(right / 16.0);

    INDArray moved = Checkpoints.loadNetwork(Trainer.latest(run)).net().params().sub(init.params());
    assertThat(Tensors.maxAbs(moved)).isCloseTo(1.5e-3, offset(1e-6));
  }

  /**
   * DL4J's cross-entropy clips the softmax, so only non-finite outputs make the loss diverge: weights
   * of 1e30 overflow float32 within the network (NaN weights are refused when the checkpoint loads).
   */
  @Test
  void aDivergingBaselineStopsNamingTheStepAndTheCheckpointItHas(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 48, 16);
    TrainConfig cfg = config("cnn-s", data, 2);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, TrainerTest.QUIET, 1).run();
    Checkpoints.LoadedNetwork c = Checkpoints.loadNetwork(Trainer.latest(run));
    c.net().params().assign(1e30);
    Checkpoints.save(Trainer.latest(run), c.net(), c.state());
    Throwable thrown = catchThrowable(() -> new Trainer(cfg, run, TrainerTest.QUIET, Long.MAX_VALUE).run());
    assertThat(thrown).isInstanceOf(Trainer.DivergedException.class).hasMessage("loss is NaN at step 2 (epoch 1,"
        + " batch 2); stopped without saving; " + Trainer.latest(run) + " holds the weights after step 1: resume from"
        + " it with a lower --lr, and if that stops the same way its weights had already diverged: start over with"
        + " --fresh and a lower --lr");
    assertThat(Checkpoints.trainingState(Trainer.latest(run)).step()).isEqualTo(1);
  }
}
