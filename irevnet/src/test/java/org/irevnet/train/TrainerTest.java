package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.irevnet.data.BatchIterator;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.host.Host;
import org.irevnet.io.Npz;
import org.irevnet.layers.Param;
import org.irevnet.layers.Sequential;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.CheckpointEdits;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainerTest {
  static final String TINY = TinyData.ARCH;

  static TrainConfig config(Path arch, Path data, double lr, int epochs) {
    return config(arch.toString(), data, lr, epochs);
  }

  static TrainConfig config(String arch, Path data, double lr, int epochs) {
    return new TrainConfig(arch, data.toString(), "ce", epochs, 16, lr, 0.01, 2, "cosine", 7, 2, 1000, true, 1, 50,
        null, null, 0);
  }

  /**
   * The architecture a test trains by name: {@code tiny}, the {@link #TINY} fi-RevNet (written to
   * {@code tmp}), which {@link Trainer} trains itself, or a DL4J baseline ({@code cnn-s}), which it
   * hands to {@link NetworkTrainer}.
   */
  static String arch(String name, Path tmp) throws IOException {
    return name.equals("tiny") ? Files.writeString(tmp.resolve("tiny.json"), TINY).toString() : name;
  }

  static final Trainer.Listener QUIET = s -> { };

  /** A listener that keeps the trainer's messages. */
  static Trainer.Listener collecting(List<String> messages) {
    return new Trainer.Listener() {
      @Override public void onStep(Trainer.StepInfo s) { }
      @Override public void onMessage(String line) { messages.add(line); }
    };
  }

  /**
   * A metrics file that cannot take another line (the kernel's full device: every write fails with
   * ENOSPC, and writes nothing) stops training with the file named; it said only "No space left
   * on device".
   */
  @Test
  void aFullDiskUnderTheMetricsIsNamed() throws Exception {
    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "no /dev/full on this system");
    java.io.BufferedWriter w = Trainer.appendMetrics(full);
    w.write("{\"step\":1}");
    assertThatThrownBy(w::flush).isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(full + ": No space left on device");
    catchThrowable(w::close); // whether it flushes the lost line again is the JDK's business
  }

  /**
   * An i-RevNet squeezed to a 1x1 map (five SpaceToDepth stages) normalises one value per channel
   * in a batch of one image: --batch 1, and a --batch leaving a last batch of one, are refused
   * before anything is written (--batch 1 trained at loss ln 10 and tested at 49.7). The bundled
   * i-RevNet's 4x4 map has 16 values an image, and a fi-RevNet has no readout.
   */
  @Test
  void batchesOfOneImageAreRefusedWhereTheReadoutNormalisesA1x1Map(@TempDir Path tmp) throws Exception {
    String stage = "{\"steps\": 0}";
    Path arch = Files.writeString(tmp.resolve("squeezed.json"), "{\"name\": \"squeezed\", \"type\": \"irevnet\","
        + " \"inputShape\": [1, 32, 32], \"numClasses\": 10, \"stages\": [" + String.join(", ", java.util.Collections
        .nCopies(5, stage)) + "]}");
    Path data = TinyData.idx(tmp.resolve("data"), 64, 10);
    assertThat(Architecture.load(arch.toString()).readoutPositions()).isEqualTo(1);
    assertThat(Architecture.load("irevnet-s").readoutPositions()).isEqualTo(16);
    assertThat(Architecture.load("fi-revnet-s").readoutPositions()).isZero();

    for (int batch : new int[] {1, 3}) {
      TrainConfig cfg = with(config(arch, data, 1e-3, 1), 1, batch, 1e-3, 0);
      Path run = tmp.resolve("run" + batch);
      assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(batch == 1 ? "--batch 1: the i-RevNet readout's batch normalisation"
              : "--batch 3 leaves a last batch of one image (64 training images): the i-RevNet readout's");
      assertThat(run).doesNotExist();
    }
    // Batches of 2 at least, here the last of 64 % 31 = 2 images: no batch of one.
    assertThatCode(() -> Trainer.checkReadoutBatches(Architecture.load(arch.toString()), 31, 64)).doesNotThrowAnyException();
    assertThatCode(() -> Trainer.checkReadoutBatches(Architecture.load("irevnet-s"), 1, 64)).doesNotThrowAnyException();
  }

  @Test
  void stoppingAndResumingGivesTheSameWeightsAsTrainingStraight(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = config(arch, data, 3e-3, 2); // 4 steps per epoch, 8 in all

    Trainer.Result straight = new Trainer(cfg, tmp.resolve("a"), QUIET, Long.MAX_VALUE).run();
    assertThat(straight.steps()).isEqualTo(8);

    Trainer.Result first = new Trainer(cfg, tmp.resolve("b"), QUIET, 3).run();
    assertThat(first.steps()).isEqualTo(3);
    assertThat(adamSteps(tmp.resolve("b"))).as("Adam's step count, for its bias correction").isEqualTo(3);
    double firstSeconds = Checkpoints.trainingState(Trainer.latest(tmp.resolve("b"))).seconds();
    Trainer.Result rest = new Trainer(cfg, tmp.resolve("b"), QUIET, Long.MAX_VALUE).run();
    assertThat(rest.steps()).isEqualTo(8);
    assertThat(List.of(first.fromStep(), rest.fromStep())).containsExactly(0L, 3L);
    // Training time sums over the sessions: a resumed run's epoch lines and checkpoint counted from
    // the resume, so the report's training time was the last session's.
    double total = Checkpoints.trainingState(Trainer.latest(tmp.resolve("b"))).seconds();
    assertThat(total).isBetween(firstSeconds, firstSeconds + rest.seconds());
    for (String line : Files.readAllLines(tmp.resolve("b").resolve(Trainer.METRICS))) {
      JsonNode n = JSON.readTree(line);
      if (n.has("seconds")) assertThat(n.get("seconds").asDouble()).as(line).isGreaterThan(firstSeconds);
    }

    Map<String, INDArray> a = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> b = Npz.read(Trainer.latest(tmp.resolve("b")).resolve(ModelFiles.WEIGHTS));
    assertThat(b.keySet()).isEqualTo(a.keySet());
    for (String k : a.keySet()) assertThat(b.get(k)).as(k).isEqualTo(a.get(k));
    Map<String, INDArray> oa = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(Checkpoints.OPTIMIZER));
    Map<String, INDArray> ob = Npz.read(Trainer.latest(tmp.resolve("b")).resolve(Checkpoints.OPTIMIZER));
    assertThat(ob.get("adam.moments")).isEqualTo(oa.get("adam.moments"));
    assertThat(adamSteps(tmp.resolve("a"))).isEqualTo(8);
    assertThat(adamSteps(tmp.resolve("b"))).as("counted on from the checkpoint's 3").isEqualTo(8);
    // Weights changed at all (the comparison is not between two untouched models).
    Map<String, INDArray> fresh = InvertibleClassifier.build(
        Architecture.load(arch.toString()), DataType.FLOAT, 7).params().state();
    assertThat(a.get("layers.1.net.4.weight")).isNotEqualTo(fresh.get("layers.1.net.4.weight"));

    // The metrics of the resumed run are those of the straight run, plus the line written where
    // it stopped, and nothing twice.
    List<String> ma = steps(tmp.resolve("a")), mb = steps(tmp.resolve("b"));
    assertThat(mb).doesNotHaveDuplicates();
    assertThat(mb.stream().filter(x -> !x.equals("train@3")).toList()).isEqualTo(ma);
    // Every step is in the means of exactly one line: the lines at the stop and after the resume
    // each average one step, which a report must not read as a change of trend.
    assertThat(lines(tmp.resolve("b"), "train")).extracting(l -> l.get("window_steps").asInt())
        .containsExactly(2, 1, 1, 2, 2);
    assertThat(lines(tmp.resolve("a"), "train")).extracting(l -> l.get("window_steps").asInt())
        .containsExactly(2, 2, 2, 2);
  }

  /** The step count Adam's bias correction uses, as {@code checkpoints/latest} of {@code run} holds it. */
  static long adamSteps(Path run) throws IOException {
    return Npz.read(Trainer.latest(run).resolve(Checkpoints.OPTIMIZER)).get("adam.iteration").getLong(0);
  }

  @Test
  void storedActivationTrainingIsWiredAndFollowsTheReversibleOne(@TempDir Path tmp) throws Exception {
    // The same 8 steps with either backward stay close while moving far from their init. (Adam's
    // first steps barely depend on gradient magnitudes, so this is a wiring check; the gradients
    // themselves are checked in ModelGradientTest and InvertibleClassifierTest.)
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig rev = config(arch, data, 3e-3, 2);
    TrainConfig stored = new TrainConfig(rev.arch(), rev.data(), rev.objective(), rev.epochs(), rev.batch(), rev.lr(),
        rev.weightDecay(), rev.warmupSteps(), rev.schedule(), rev.seed(), rev.logEvery(), rev.checkpointEvery(),
        rev.dequantize(), rev.augmentShift(), rev.evalBatch(), rev.ice(), "stored", 0);
    List<String> messages = new ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    new Trainer(rev, tmp.resolve("rev"), QUIET, Long.MAX_VALUE).run();
    new Trainer(stored, tmp.resolve("stored"), listen, Long.MAX_VALUE).run();
    assertThat(messages).anyMatch(m -> m.endsWith("backward from stored activations"));
    assertThat(Files.readString(tmp.resolve("stored").resolve(Trainer.CONFIG))).contains("\"backward\" : \"stored\"");

    Map<String, INDArray> a = Npz.read(Trainer.latest(tmp.resolve("rev")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> b = Npz.read(Trainer.latest(tmp.resolve("stored")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> fresh = InvertibleClassifier.build(
        Architecture.load(arch.toString()), DataType.FLOAT, 7).params().state();
    double apart = maxAbsDifference(a, b), moved = maxAbsDifference(a, fresh);
    assertThat(moved).as("largest change from init").isGreaterThan(1e-2);
    assertThat(apart).as("largest difference between the two runs").isLessThan(moved / 20);
    // Activations rebuilt by inverting the couplings differ from stored ones by rounding, so the
    // runs differ at all only if the stored ones were used.
    assertThat(apart).as("largest difference between the two runs").isPositive();
  }

  /** iCE with every stateful part on: two adversaries re-initialised every 3 steps, the MLE prior. */
  static TrainConfig iceConfig(Path arch, Path data, int epochs) {
    TrainConfig c = config(arch, data, 3e-3, epochs);
    return new TrainConfig(c.arch(), c.data(), "ice", c.epochs(), c.batch(), c.lr(), c.weightDecay(),
        c.warmupSteps(), c.schedule(), c.seed(), c.logEvery(), c.checkpointEvery(), false, c.augmentShift(),
        c.evalBatch(), new IceConfig(1, 3, 0.2, "paper", Math.log(10), 2, 8, 1e-3, 2, 3, true, 3), c.backward(), 0);
  }

  /**
   * A run's checkpoint without its manifest (damaged, or copied in part) cannot be replaced by a
   * save: a new run into the directory was refused only at its first save, after training and after
   * replacing the config and metrics of the run the checkpoint belongs to. Refused first now, for
   * latest and best; starting over (--fresh) deletes it and trains.
   */
  @Test
  void aCheckpointWithoutItsManifestIsRefusedBeforeAnythingIsReplaced(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = config(arch, data, 1e-3, 1);
    Path run = tmp.resolve("a");
    new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run();
    for (Path damaged : new Path[] {Trainer.latest(run), Trainer.best(run)}) {
      Path other = damaged.equals(Trainer.latest(run)) ? Trainer.best(run) : Trainer.latest(run);
      Path aside = tmp.resolve("aside");
      Files.move(other, aside);
      Files.move(damaged.resolve(Checkpoints.MANIFEST), tmp.resolve("manifest"));
      String metrics = Files.readString(run.resolve(Trainer.METRICS)), config = Files.readString(run.resolve(Trainer.CONFIG));
      assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, 2).run()).isInstanceOf(IOException.class)
          .hasMessage(damaged + " exists and is not a checkpoint: not replacing it");
      assertThat(run.resolve(Trainer.METRICS)).hasContent(metrics);
      assertThat(run.resolve(Trainer.CONFIG)).hasContent(config);
      Files.move(tmp.resolve("manifest"), damaged.resolve(Checkpoints.MANIFEST));
      Files.move(aside, other);
    }
    Files.delete(Trainer.latest(run).resolve(Checkpoints.MANIFEST));
    assertThat(new Trainer(cfg, run, QUIET, 2, true).run().steps()).isEqualTo(2);
    assertThat(Checkpoints.exists(Trainer.latest(run))).isTrue();
  }

  /**
   * A checkpoint whose manifest vouches for its files but whose optimizer or objective state does
   * not fit the model (a checkpoint assembled by hand) is refused naming the file and the part: it
   * said "optimizer state does not match this model" of the prior's Adam in objective.npz, and
   * "missing parameter gamma" without a file.
   */
  @Test
  void aResumedStateThatDoesNotFitNamesItsFile(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = iceConfig(arch, data, 2);
    Path run = tmp.resolve("a");
    new Trainer(cfg, run, QUIET, 2).run();
    Path latest = Trainer.latest(run);
    Checkpoints.Loaded c = Checkpoints.load(latest, DataType.FLOAT);

    Map<String, INDArray> objective = new java.util.LinkedHashMap<>(c.objective());
    objective.remove("prior.gamma");
    Checkpoints.save(latest, c.model(), c.optimizer(), c.state(), objective);
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(latest.resolve(Checkpoints.OBJECTIVE) + ": prior.*: missing parameter gamma");

    objective = new java.util.LinkedHashMap<>(c.objective());
    objective.put("adv.1.fc0.weight", objective.get("adv.1.fc0.weight").get(
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3), org.nd4j.linalg.indexing.NDArrayIndex.all()).dup());
    Checkpoints.save(latest, c.model(), c.optimizer(), c.state(), objective);
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .hasMessageStartingWith(latest.resolve(Checkpoints.OBJECTIVE) + ": adv.1.*: parameter fc0.weight has shape [3, ");

    Map<String, INDArray> optimizer = new java.util.LinkedHashMap<>(c.optimizer());
    optimizer.remove("adam.iteration");
    Checkpoints.save(latest, c.model(), optimizer, c.state(), c.objective());
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .hasMessage(latest.resolve(Checkpoints.OPTIMIZER) + ": optimizer state does not match this model (no adam.iteration)");

    // Saved whole again, the run goes on.
    Checkpoints.save(latest, c.model(), c.optimizer(), c.state(), c.objective());
    assertThat(new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run().steps()).isEqualTo(8);
  }

  @Test
  void iceResumesExactlyIncludingAdversariesAndPrior(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = iceConfig(arch, data, 2); // 8 steps
    new Trainer(cfg, tmp.resolve("a"), QUIET, Long.MAX_VALUE).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, 4).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, Long.MAX_VALUE).run();
    assertSameLatestCheckpoint(tmp.resolve("a"), tmp.resolve("b"));
    Map<String, INDArray> obj = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(Checkpoints.OBJECTIVE));
    assertThat(obj).containsKeys("adv.0.fc0.weight", "adv.1.fc1.bias", "adv.1.adam.moments", "prior.beta",
        "prior.gamma", "prior.adam.moments");
    assertThat(Tensors.maxAbs(obj.get("prior.gamma"))).as("the prior learned").isPositive();
    // The MLE term turned dequantisation on, and every term is logged.
    assertThat(Files.readString(tmp.resolve("a").resolve(Trainer.CONFIG))).contains("\"dequantize\" : true");
    String last = Files.readAllLines(tmp.resolve("a").resolve(Trainer.METRICS)).stream()
        .filter(l -> l.contains("\"epoch\"") && l.contains("test_accuracy")).reduce((x, y) -> y).orElseThrow();
    assertThat(last).contains("adversary_test_accuracy").contains("test_nll_bits_per_dim");
    assertThat(Files.readAllLines(tmp.resolve("a").resolve(Trainer.METRICS)).get(0))
        .contains("\"ce\"", "\"nuisance_ce\"", "\"adversary_accuracy\"", "\"nll_bits_per_dim\"", "\"w_nc\"");
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String line : Files.readAllLines(tmp.resolve("a").resolve(Trainer.METRICS))) {
      if (line.contains("\"type\":\"train\"")) {
        assertThat(json.readTree(line).path("zn_max_abs").asDouble(-1))
            .as(line).isPositive().isFinite();
      }
    }
  }

  /**
   * With advWhiten the running statistics, mu and W go into objective.npz, and a run stopped after
   * 4 of 8 steps and resumed ends bit for bit as the run that was not stopped; config.json records
   * the setting.
   */
  @Test
  void iceWithWhitenedAdversariesResumesExactly(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig c = iceConfig(arch, data, 2); // 8 steps
    IceConfig i = c.ice();
    TrainConfig cfg = new TrainConfig(c.arch(), c.data(), "ice", c.epochs(), c.batch(), c.lr(), c.weightDecay(),
        c.warmupSteps(), c.schedule(), c.seed(), c.logEvery(), c.checkpointEvery(), false, c.augmentShift(),
        c.evalBatch(), new IceConfig(i.wNc(), i.wNcWarmupSteps(), i.wMle(), i.nuisanceForm(), i.paperCap(), i.advSteps(),
            i.advHidden(), i.advLr(), i.adversaries(), i.advReinitEvery(), true, i.advReplay(), true), c.backward(), 0);
    new Trainer(cfg, tmp.resolve("a"), QUIET, Long.MAX_VALUE).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, 4).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, Long.MAX_VALUE).run();
    assertSameLatestCheckpoint(tmp.resolve("a"), tmp.resolve("b"));
    assertThat(Npz.read(Trainer.latest(tmp.resolve("a")).resolve(Checkpoints.OBJECTIVE)))
        .containsKeys("whiten.run_mean", "whiten.run_cov", "whiten.mean", "whiten.matrix");
    assertThat(Files.readString(tmp.resolve("a").resolve(Trainer.CONFIG))).contains("\"advWhiten\" : true");
  }

  /** The latest checkpoints of two iCE runs hold the same weights, optimizer and objective state, bit for bit. */
  static void assertSameLatestCheckpoint(Path runA, Path runB) throws IOException {
    for (String f : new String[] {ModelFiles.WEIGHTS, Checkpoints.OPTIMIZER, Checkpoints.OBJECTIVE}) {
      Map<String, INDArray> a = Npz.read(Trainer.latest(runA).resolve(f));
      Map<String, INDArray> b = Npz.read(Trainer.latest(runB).resolve(f));
      assertThat(b.keySet()).as(f).isEqualTo(a.keySet());
      for (String k : a.keySet()) assertThat(b.get(k)).as(f + " " + k).isEqualTo(a.get(k));
    }
  }

  @Test
  void iceByDefaultTrainsTheMleTermOnDequantisedPixels(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("ice.json"), "{\"objective\": \"ice\"}");
    TrainConfig ice = TrainConfig.read(file, TrainConfig.defaults()).resolved();
    assertThat(ice.ice().wMle()).as("the README's iCE experiments chose it").isEqualTo(3e-4);
    assertThat(ice.dequantize()).isTrue();
    assertThat(ice.hasMleObjective()).as("the objective stays iCE").isFalse();
    Path off = Files.writeString(tmp.resolve("off.json"), "{\"objective\": \"ice\", \"ice\": {\"wMle\": 0}}");
    TrainConfig without = TrainConfig.read(off, TrainConfig.defaults()).resolved();
    assertThat(without.ice().wMle()).isZero();
    assertThat(without.dequantize()).isFalse();
  }

  @Test
  void nuisanceOutliersAreSaidOnlyWithoutTheMleTerm() {
    List<String> messages = new ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    assertThat(Trainer.sayIfNuisanceOutliers(listen, 999, 10, 0)).isFalse();
    assertThat(Trainer.sayIfNuisanceOutliers(listen, 1e3, 10, 0)).as("at the limit").isFalse();
    assertThat(Trainer.sayIfNuisanceOutliers(listen, 2e4, 10, 1e-3)).isFalse();
    assertThat(Trainer.sayIfNuisanceOutliers(listen, Double.NaN, 10, 0)).isFalse();
    assertThat(messages).isEmpty();
    assertThat(Trainer.sayIfNuisanceOutliers(listen, 1234.5, 41, 0)).isTrue();
    assertThat(messages).singleElement().asString().startsWith("z_n reached |z| = 1.23e+03 at step 42: ")
        .contains("a positive --w-mle (the default, 0.0003) bounds it");
  }

  @Test
  void boundedIceTrainsWithoutNaNOnTheShippedMiniSet(@TempDir Path tmp) throws Exception {
    TrainConfig d = TrainConfig.defaults();
    TrainConfig cfg = new TrainConfig(d.arch(), "fashion-mnist-mini", "ice", 1, 32, d.lr(), 0, 5, "cosine", 0, 5,
        1000, false, 0, 250, new IceConfig(2, 10, 0.1, "bounded", null, 3, 64, 1e-3, 1, 0, true, 4), null, 0);
    Path run = tmp.resolve("run");
    Trainer.Result r = new Trainer(cfg, run, QUIET, 30).run();
    assertThat(r.steps()).isEqualTo(30);
    List<String> lines = Files.readAllLines(run.resolve(Trainer.METRICS));
    assertThat(lines).hasSize(6);
    for (String l : lines) {
      assertThat(l).doesNotContain("NaN").doesNotContain("Infinity").contains("nll_bits_per_dim");
    }
    assertThat(lines.get(5)).contains("\"w_nc\":2.0");
  }

  static List<String> steps(Path run) throws IOException {
    return Files.readAllLines(run.resolve(Trainer.METRICS)).stream()
        .map(l -> l.replaceAll(".*\"type\":\"(\\w+)\".*\"step\":(\\d+).*", "$1@$2")).toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"ce", "ice"})
  void aDivergingRunStopsNamingTheStepAndKeepsTheLastGoodCheckpoint(String objective, @TempDir Path tmp)
      throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig base = config(arch, data, 1e7, 50);
    TrainConfig cfg = new TrainConfig(base.arch(), base.data(), objective, 50, 16, 1e7, 0, 0, "constant", 7, 1, 1,
        false, 0, 50, objective.equals("ice") ? IceConfig.defaults() : null, null, 0);
    Path run = tmp.resolve("run");
    Throwable thrown = catchThrowable(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run());
    assertThat(thrown).isInstanceOf(Trainer.DivergedException.class)
        .hasMessageMatching("(loss is (NaN|Infinity)|a gradient of block \\d+ \\([^,]+, \\w+\\) is not finite) at step"
            + " \\d+ \\(epoch \\d+, batch \\d+\\); with the weights as training stopped.*"
            + "|a gradient of the iCE prior is not finite at step \\d+ .*")
        .hasMessageNotContaining("\n");
    Checkpoints.verify(Trainer.latest(run));
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(run), DataType.FLOAT);
    // Saved every step, latest is from the step before; its weights may already have diverged, which
    // the message must not hide by calling it good.
    long stoppedAt = Long.parseLong(thrown.getMessage().replaceFirst(".* at step (\\d+) .*", "$1"));
    assertThat(c.state().step()).isEqualTo(stoppedAt - 1);
    assertThat(thrown).hasMessageContaining("; " + Trainer.latest(run) + " holds the weights after step "
        + (stoppedAt - 1) + ": resume from it with a lower --lr, and if that stops the same way its weights had"
        + " already diverged: start over with --fresh and a lower --lr").hasMessageNotContaining("good");
    for (var p : c.model().params().entries().values()) {
      assertThat(p.value().isNaN().any() || p.value().isInfinite().any()).isFalse();
    }
  }

  /**
   * The tiny run's 64 training images as one batch (a step sees them all, in its own order), its
   * checkpoint after one step with the ActNorm {@code layers.2}'s log-scales set to {@code logs}.
   */
  private static TrainConfig oneBatchRunWithActNormLogs(Path tmp, double logs) throws IOException {
    return oneBatchRunWithActNormLogs(tmp, logs, "ce");
  }

  /** {@link #oneBatchRunWithActNormLogs(Path, double)} for {@code objective} ce or ice (without the MLE term, so no noise). */
  private static TrainConfig oneBatchRunWithActNormLogs(Path tmp, double logs, String objective) throws IOException {
    IceConfig ice = objective.equals("ice") ? new IceConfig(0.3, 0, 0, "bounded", null, 2, 8, 1e-3, 2, 0, true, 2) : null;
    TrainConfig cfg = new TrainConfig(arch("tiny", tmp), TinyData.idx(tmp.resolve("data"), 64, 10).toString(), objective,
        2, 64, 1e-3, 0, 0, "constant", 7, 1, 1000, false, 0, 50, ice, null, 0);
    new Trainer(cfg, tmp.resolve("run"), QUIET, 1).run();
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(tmp.resolve("run")), DataType.FLOAT);
    c.model().params().get("layers.2.logs").value().assign(logs);
    Checkpoints.save(Trainer.latest(tmp.resolve("run")), c.model(), c.optimizer(), c.state(), c.objective());
    return cfg;
  }

  private static BatchIterator.Batch everyTrainingImage(TrainConfig cfg, InvertibleClassifier model) {
    Dataset train = Trainer.prepare(Datasets.resolve(cfg.data()).load(Split.TRAIN), model.architecture());
    return BatchIterator.builder(train).batchSize(train.size()).build().nextBatch();
  }

  /**
   * An ActNorm whose scale e^-110 is 0 in float32 keeps its forward pass finite (every output is
   * its bias), but its inverse, and the division by the scale with which the backward pass rebuilds
   * its input, give NaN or infinity, whose first parameter gradient below it then is not finite.
   * The message names that block, found here by a plain backward pass without the optimiser, and
   * the ActNorm's inverse as the cause.
   */
  @Test
  void aNonFiniteGradientNamesItsBlockAndTheInverseThatOverflowed(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = oneBatchRunWithActNormLogs(tmp, -110);
    Path run = tmp.resolve("run");
    InvertibleClassifier m = Checkpoints.load(Trainer.latest(run), DataType.FLOAT).model();
    BatchIterator.Batch all = everyTrainingImage(cfg, m);
    InvertibleClassifier.Forward f = m.forward(all.features(), true);
    m.backward(f, Losses.softmaxCrossEntropy(f.logits(), all.labels()).grad(), null, null);
    Sequential body = m.body();
    int failing = -1;
    for (int i = body.blocks().size() - 1; i >= 0 && failing < 0; i--) {
      for (Param p : body.blocks().get(i).params().entries().values()) {
        if (p.trainable() && Tensors.nonFinite(p.grad()) > 0) failing = i;
      }
    }
    int actNorm = body.names().indexOf("layers.2");
    assertThat(failing).as("a block below the ActNorm").isBetween(0, actNorm - 1);
    long rebuilt = body.forwardWithIntermediates(all.features()).get(actNorm - 1).length();

    Throwable thrown = catchThrowable(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run());
    assertThat(thrown).isInstanceOf(Trainer.DivergedException.class);
    assertThat(thrown.getMessage()).startsWith(String.format(Locale.ROOT, "a gradient of block %d (%s, %s) is not"
        + " finite at step 2 (epoch 2, batch 1); with the weights as training stopped (any block after it already"
        + " updated by this step), the inverse of block %d (layers.2, ActNorm) gave %d non-finite value(s) of %d from"
        + " an input whose largest magnitude is ", failing, body.names().get(failing),
        body.blocks().get(failing).getClass().getSimpleName(), actNorm, rebuilt, rebuilt))
        .containsPattern("largest magnitude is \\d\\.\\d{3}e[-+]\\d+, and the backward pass rebuilds each block's"
            + " input by inverting it; stopped without saving; "
            + java.util.regex.Pattern.quote(Trainer.latest(run).toString()) + " holds the weights after step 1: resume")
        .doesNotContain("\n");
    assertThat(Checkpoints.load(Trainer.latest(run), DataType.FLOAT).state().step()).as("nothing saved").isEqualTo(1);
  }

  /**
   * An ActNorm whose scale e^100 is infinite in float32 makes the loss NaN: the message names it
   * as the first block whose forward pass is not finite, and its input's largest magnitude, the
   * output of the block before it (the step's weights: the loss is checked before any update).
   */
  @ParameterizedTest
  @ValueSource(strings = {"ce", "ice"})
  void aNaNLossNamesTheFirstBlockWhoseForwardPassIsNotFinite(String objective, @TempDir Path tmp) throws Exception {
    // iCE's loss once ran the backward pass on, and stopped on "a gradient of block N is not finite".
    TrainConfig cfg = oneBatchRunWithActNormLogs(tmp, 100, objective);
    Path run = tmp.resolve("run");
    InvertibleClassifier m = Checkpoints.load(Trainer.latest(run), DataType.FLOAT).model();
    List<INDArray> outs = m.body().forwardWithIntermediates(everyTrainingImage(cfg, m).features());
    int actNorm = m.body().names().indexOf("layers.2");
    assertThat(actNorm).isPositive();
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(Trainer.DivergedException.class)
        .hasMessageStartingWith(String.format(Locale.ROOT, "loss is NaN at step 2 (epoch 2, batch 1); with the weights"
            + " as training stopped, the forward pass of block %d (layers.2, ActNorm) gave %d non-finite value(s) of"
            + " %d from an input whose largest magnitude is %.3e; stopped without saving; ", actNorm,
            outs.get(actNorm).length(), outs.get(actNorm).length(), Tensors.maxAbs(outs.get(actNorm - 1))));
  }

  /**
   * Nuisance classifiers that overflow (an --adv-lr of 1e30) while the model is finite are named
   * as the cause, with the remedy that works: a new run with a lower --adv-lr (the iCE options cannot
   * change on resume), not the model's lower --lr.
   */
  @Test
  void anIceLossMadeNaNByTheNuisanceClassifiersNamesThemAndTheirLearningRate(@TempDir Path tmp) throws Exception {
    IceConfig ice = new IceConfig(0.3, 0, 0, "bounded", null, 2, 8, 1e30, 2, 0, true, 2);
    TrainConfig cfg = new TrainConfig(arch("tiny", tmp), TinyData.idx(tmp.resolve("data"), 64, 10).toString(), "ice",
        5, 64, 1e-3, 0, 0, "constant", 7, 1, 1000, false, 0, 50, ice, null, 0);
    assertThatThrownBy(() -> new Trainer(cfg, tmp.resolve("run"), QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(Trainer.DivergedException.class)
        .hasMessageMatching("loss is NaN at step \\d+ \\(epoch \\d+, batch 1\\): the model's cross-entropy and z_n are"
            + " finite and the nuisance classifiers' term is NaN, so they diverged \\(--adv-lr 1.0E30\\); stopped without"
            + " saving; the iCE options cannot change on resume: start over with --fresh and a lower --adv-lr");
    assertThat(Trainer.adversariesDiverged(new IceObjective.Terms(2, 1, 0.5, Double.NaN, Double.NaN, 0.3, Double.NaN,
        Double.POSITIVE_INFINITY))).as("z_n not finite: the model's").isFalse();
  }

  /** Where every pass is finite, the message says so: for a gradient, the gradient itself is left. */
  @Test
  void finitePassesAreSaidFinite() {
    InvertibleClassifier m = TinyData.perturbedModel();
    INDArray x = Nd4j.rand(DataType.FLOAT, m.inputShape(4));
    assertThat(Trainer.whereNotFinite(m, x, true)).isEqualTo("with the weights as training stopped (any block after"
        + " it already updated by this step), the forward pass of the batch and the inverse of its output are finite,"
        + " which points to the gradient itself rather than to a rebuilt input");
    assertThat(Trainer.whereNotFinite(m, x, false)).isEqualTo("with the weights as training stopped, the output of"
        + " every block is finite");
  }

  @Test
  void aRunDivergingBeforeItsFirstCheckpointDoesNotPointToOne(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig base = config(arch, data, 1e7, 50);
    TrainConfig cfg = new TrainConfig(base.arch(), base.data(), "ce", 50, 16, 1e7, 0, 0, "constant", 7, 1, 1000,
        false, 0, 50, null, null, 0);
    Path run = tmp.resolve("run");
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(Trainer.DivergedException.class)
        .hasMessageContaining("no checkpoint had been written yet")
        .hasMessageNotContaining("checkpoints/latest");
    assertThat(Checkpoints.exists(Trainer.latest(run))).isFalse();
  }

  @Test
  void onlyAnUnknownArchitectureNameIsToldAboutTheBaselines(@TempDir Path tmp) {
    Path data = tmp.resolve("data"); // never read: the architecture is refused first
    assertThatThrownBy(() -> new Trainer(config("resnet-9000", data, 1e-3, 1), tmp.resolve("a"), QUIET, 1).run())
        .hasMessage("unknown architecture 'resnet-9000': use one of " + Architecture.BUNDLED + " or the path of an"
            + " architecture JSON file (train also takes the non-invertible baselines resnet-s, cnn-s)");
    // A missing file whose name begins as that message did got the hint too, when the message was
    // recognised by its first words. Relative, as only that can begin so; read, never written.
    String file = "unknown architecture.json";
    assertThat(Path.of(file)).doesNotExist();
    assertThatThrownBy(() -> new Trainer(config(file, data, 1e-3, 1), tmp.resolve("b"), QUIET, 1).run())
        .hasMessage(file + ": architecture file not found (looked for " + Path.of(file).toAbsolutePath() + ")");
  }

  /** A shift as large as the image once trained on blank canvases, at loss ln 10 and exit code 0. */
  @Test
  void anAugmentShiftAsLargeAsTheImagesIsRefusedBeforeTheRunStarts(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10); // 28x28 images, padded to 32x32 for both kinds of model
    for (String a : new String[] {arch.toString(), "cnn-s"}) {
      TrainConfig cfg = new TrainConfig(a, data.toString(), "ce", 1, 16, 1e-3, 0, 0, "constant", 7, 1, 1000,
          false, 28, 50, null, null, 0);
      Path run = tmp.resolve("run-" + (a.equals("cnn-s") ? "cnn" : "tiny"));
      assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, 1).run()).as(a)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("augmentShift must be at most 27 (")
          .hasMessageEndingWith(" has 28x28 images), got 28");
      assertThat(run).as("refused before the run directory is made").doesNotExist();
    }
    TrainConfig largest = new TrainConfig(arch.toString(), data.toString(), "ce", 1, 16, 1e-3, 0, 0, "constant", 7, 1,
        1000, false, 27, 50, null, null, 0);
    assertThat(new Trainer(largest, tmp.resolve("run-27"), QUIET, 1).run().steps()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void aBatchLargerThanTheTrainingSetIsSaidOnce(String name, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    TrainConfig base = config(arch(name, tmp), data, 1e-3, 1);
    List<String> messages = new ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    for (int batch : new int[] {32, 1000}) {
      TrainConfig cfg = new TrainConfig(base.arch(), base.data(), "ce", 1, batch, 1e-3, 0, 0, "constant", 7, 1, 1000,
          false, 0, 50, null, null, 0);
      new Trainer(cfg, tmp.resolve("run" + batch), listen, Long.MAX_VALUE).run();
    }
    assertThat(messages.stream().filter(m -> m.startsWith("batch "))).containsExactly(
        "batch 1000 is more than the 32 training images: every step trains on all of them");
  }

  /**
   * A warm-up that lasts the whole run is said once as training starts, with where the learning
   * rate ends; one the run outlasts is not. Here the run has 2 steps (32 images, batch 16).
   */
  @Test
  void aWarmupAsLongAsTheRunIsSaidOnce(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    TrainConfig base = config(arch("tiny", tmp), data, 1e-3, 1);
    List<String> said = new ArrayList<>();
    java.util.function.BiFunction<Integer, String, TrainConfig> cfg = (warmup, schedule) -> new TrainConfig(
        base.arch(), base.data(), "ce", 1, 16, 1e-3, 0, warmup, schedule, 7, 1, 1000, false, 0, 50, null, null, 0);
    String[][] cases = {{"100", "cosine"}, {"2", "cosine"}, {"2", "constant"}, {"1", "cosine"}, {"0", "cosine"}};
    for (String[] c : cases) {
      new Trainer(cfg.apply(Integer.parseInt(c[0]), c[1]), tmp.resolve("run" + c[0] + c[1]), collecting(said),
          Long.MAX_VALUE).run();
    }
    assertThat(said.stream().filter(m -> m.contains("warms up"))).containsExactly(
        "the learning rate warms up over 100 steps (--warmup-steps), and this run has 2: it ends at 2.00e-05, 2% of"
            + " --lr 0.00100, and the cosine schedule never starts",
        "the learning rate warms up over 2 steps (--warmup-steps), and this run has 2: it ends at 0.00100, 100% of"
            + " --lr 0.00100, and the cosine schedule never starts");

    said.clear();
    TrainConfig ice = new TrainConfig(base.arch(), base.data(), "ice", 1, 16, 1e-3, 0, 0, "cosine", 7, 1, 1000, false, 0,
        50, new IceConfig(0.3, 200, 0, "bounded", null, 1, 8, 1e-3, 1, 0, true, 0), null, 0);
    Trainer.sayIfWarmupsOutlastTheRun(collecting(said), ice, 95);
    Trainer.sayIfWarmupsOutlastTheRun(collecting(said), ice, 200);
    assertThat(said).containsExactly("w_nc warms up over 200 steps (--w-nc-warmup), and this run has 95: it ends at"
        + " 0.141 of --w-nc 0.300");
  }

  /**
   * Classes without a training image are said once as training starts: an IDX set whose test split
   * has two classes its training split lacks trained without a word. With more than five, the
   * first five are named; after --validation the message says that the held-out images took them.
   */
  @Test
  void classesWithoutATrainingImageAreSaid(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 10); // training labels 0..7, test labels 0..9
    List<String> said = new ArrayList<>();
    new Trainer(config(arch("tiny", tmp), data, 1e-3, 1), tmp.resolve("run"), collecting(said), Long.MAX_VALUE).run();
    assertThat(said.stream().filter(m -> m.contains("no training image"))).containsExactly(
        "2 of the 10 classes have no training image (8 '8', 9 '9'): the model learns never to predict them");

    said.clear();
    List<String> names = java.util.stream.IntStream.range(0, 8).mapToObj(k -> "c" + k).toList();
    Dataset d = new Dataset("d", Nd4j.zeros(DataType.FLOAT, 2, 1, 2, 2), new int[] {0, 7}, names);
    Trainer.sayIfClassesHaveNoTrainingImages(collecting(said), d, true);
    Trainer.sayIfClassesHaveNoTrainingImages(collecting(said), d.subset("all", 0, 1, 0), false);
    assertThat(said).containsExactly("6 of the 8 classes have no training image once --validation has held its images"
        + " out (1 'c1', 2 'c2', 3 'c3', 4 'c4', 5 'c5', ...): the model learns never to predict them",
        "6 of the 8 classes have no training image (1 'c1', 2 'c2', 3 'c3', 4 'c4', 5 'c5', ...): the model learns"
            + " never to predict them");
    said.clear();
    Trainer.sayIfClassesHaveNoTrainingImages(collecting(said), new Dataset("e", Nd4j.zeros(DataType.FLOAT, 2, 1, 2, 2),
        new int[] {1, 0}, List.of("a", "b")), false);
    assertThat(said).isEmpty();
  }

  @Test
  void resumingAtAnotherThreadCountIsSaid(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run");
    List<String> messages = new ArrayList<>();
    new Trainer(cfg, run, QUIET, 2).run();
    new Trainer(cfg, run, collecting(messages), 1).run();
    assertThat(messages).noneMatch(m -> m.contains("thread"));

    int other = Host.threads() + 1;
    Path config = run.resolve(Trainer.CONFIG);
    Files.writeString(config, Files.readString(config).replaceFirst("\"threads\" : \\d+", "\"threads\" : " + other));
    new Trainer(cfg, run, collecting(messages), 1).run();
    assertThat(messages).contains("resuming at " + Host.threads() + " thread(s) where the run so far used " + other
        + ": it will not repeat an uninterrupted run exactly (use --threads " + other + " for that)");
    assertThat(Files.readString(config)).as("the record is of this call").contains("\"threads\" : " + Host.threads());

    // Another processor in the record: said as well (a record names one only where /proc/cpuinfo does).
    if (Host.cpuModel() != null) {
      messages.clear();
      Files.writeString(config, Files.readString(config).replace("\"cpu\" : \"" + Host.cpuModel() + "\"",
          "\"cpu\" : \"another processor\""));
      new Trainer(cfg, run, collecting(messages), 1).run();
      assertThat(messages).anyMatch(m -> m.startsWith("resuming with cpu another processor -> " + Host.cpuModel()));
    }
  }

  /**
   * A resumed run's kernels are compared on the processor and OPENBLAS_CORETYPE, unset counting as a
   * value, and only where the record names a processor (files before 2026-12-07 name neither).
   */
  @Test
  void otherKernelsThanTheRunSoFarUsedAreNamed() throws IOException {
    JsonNode haswell = JSON.readTree("{\"threads\": 2, \"cpu\": \"EPYC\", \"openblas_coretype\": \"Haswell\"}");
    Map<String, Object> same = new java.util.LinkedHashMap<>(Map.of("threads", 2, "cpu", "EPYC", "openblas_coretype",
        "Haswell"));
    assertThat(Trainer.kernelsChanged(haswell, same)).isNull();
    Map<String, Object> unset = new java.util.LinkedHashMap<>(Map.of("threads", 2, "cpu", "EPYC"));
    assertThat(Trainer.kernelsChanged(haswell, unset)).isEqualTo("resuming with openblas_coretype Haswell -> unset:"
        + " OpenBLAS's kernels may round differently, so it may not repeat an uninterrupted run exactly");
    JsonNode plain = JSON.readTree("{\"threads\": 2, \"cpu\": \"Xeon\"}");
    assertThat(Trainer.kernelsChanged(plain, same)).startsWith("resuming with cpu Xeon -> EPYC, openblas_coretype unset"
        + " -> Haswell: ");
    assertThat(Trainer.kernelsChanged(JSON.readTree("{\"threads\": 2}"), same)).as("an older record").isNull();
  }

  /**
   * A checkpoint whose config lacks a text key is refused naming the file read, also when that is
   * the previous version a save stopped between its renames left: the key was read as null and
   * refused without a file, and the file named was checkpoints/latest/training.json, which is not
   * there.
   */
  @Test
  void aCheckpointsConfigWithoutATextKeyIsRefusedNamingTheFileRead(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 2).run();
    Path latest = Trainer.latest(run), old = latest.resolveSibling(".latest.old");
    Files.move(latest, old);
    ObjectMapper json = new ObjectMapper();
    ObjectNode state = (ObjectNode) json.readTree(old.resolve(Checkpoints.TRAINING).toFile());
    ObjectNode config = (ObjectNode) json.readTree(state.get("configJson").asText());
    assertThat(config.remove("arch")).isNotNull();
    state.put("configJson", config.toString());
    CheckpointEdits.rewrite(old, Checkpoints.TRAINING, state.toString());
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, 1).run()).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(old.resolve(Checkpoints.TRAINING) + ": configJson: key 'arch' is missing");
  }

  /**
   * A resume that would change the data stream or the loss is refused before the run changes (a
   * --batch 32 once restored the data position in units of the old batch); other changes are said.
   */
  @Test
  void resumingRefusesSettingsThatDefineTheRunAndSaysTheOthers(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 2).run();
    String metrics = Files.readString(run.resolve(Trainer.METRICS));
    assertThatThrownBy(() -> new Trainer(with(cfg, 2, 8, 1e-3, 7), run, QUIET, 1).run()).hasMessage("--resume"
        + " continues the run as it was configured, and batch would change (16 -> 8): start a new run for that"
        + " (--fresh, or another --out)");
    assertThatThrownBy(() -> new Trainer(with(cfg, 2, 16, 1e-3, 8), run, QUIET, 1).run())
        .hasMessageContaining("seed would change (7 -> 8)");
    assertThat(run.resolve(Trainer.METRICS)).as("refused before anything changed").hasContent(metrics);

    List<String> messages = new ArrayList<>();
    TrainConfig longer = with(cfg, 3, 16, 2e-3, 7);
    new Trainer(longer, run, collecting(messages), 1).run();
    assertThat(messages).contains("resuming with epochs 2 -> 3, lr 0.001 -> 0.002: the steps so far used the former");
    messages.clear();
    new Trainer(longer, run, collecting(messages), 1).run();
    assertThat(messages).as("the checkpoint now records the new settings").noneMatch(m -> m.startsWith("resuming with"));
  }

  /**
   * A resume on data whose epoch has another number of batches is refused before the run changes:
   * resumed after two epochs of 4 batches on a set of 8 batches, a run trained on to step 16 as
   * "epoch 3/2". Another copy of the same images resumes.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void resumingOnDataOfAnotherSizeIsRefused(String name, @TempDir Path tmp) throws Exception {
    TrainConfig cfg = config(arch(name, tmp), TinyData.idx(tmp.resolve("data"), 64, 10), 1e-3, 2);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run();
    String metrics = Files.readString(run.resolve(Trainer.METRICS));
    Path larger = TinyData.idx(tmp.resolve("larger"), 128, 10);
    TrainConfig onLarger = onData(cfg, larger, 3);
    assertThatThrownBy(() -> new Trainer(onLarger, run, QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--resume continues the run as it was configured, and an epoch would change (4 -> 8 batches: "
            + Datasets.resolve(larger.toString()).name() + "/train has other images than the run was trained on):"
            + " start a new run for that (--fresh, or another --out)");
    assertThat(run.resolve(Trainer.METRICS)).as("refused before anything changed").hasContent(metrics);
    assertThat(Checkpoints.trainingState(Trainer.latest(run)).step()).isEqualTo(8);

    Path copy = TinyData.idx(tmp.resolve("copy"), 64, 10);
    TrainConfig onCopy = onData(cfg, copy, 3);
    assertThat(new Trainer(onCopy, run, QUIET, Long.MAX_VALUE).run().steps()).isEqualTo(12);
  }

  private static TrainConfig onData(TrainConfig c, Path data, int epochs) {
    return new TrainConfig(c.arch(), data.toString(), c.objective(), epochs, c.batch(), c.lr(), c.weightDecay(),
        c.warmupSteps(), c.schedule(), c.seed(), c.logEvery(), c.checkpointEvery(), c.dequantize(), c.augmentShift(),
        c.evalBatch(), c.ice(), c.backward(), c.validation());
  }

  /**
   * The config a checkpoint keeps (training.json's configJson, which a resume compares with) is
   * refused naming the checkpoint's file when it does not read: the manifest vouches for its
   * bytes, not that this version of the code reads them.
   */
  @Test
  void aCheckpointsConfigThatDoesNotReadIsRefusedNamingTheCheckpoint(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 2).run();
    Path latest = Trainer.latest(run);
    ObjectNode state = (ObjectNode) JSON.readTree(latest.resolve(Checkpoints.TRAINING).toFile());
    String damaged = state.get("configJson").asText().replace("\"epochs\" : 2", "\"epochs\" : \"2\"");
    assertThat(damaged).isNotEqualTo(state.get("configJson").asText());
    CheckpointEdits.rewrite(latest, Checkpoints.TRAINING, state.put("configJson", damaged).toString());
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, 1).run()).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(latest.resolve(Checkpoints.TRAINING) + ": configJson: key 'epochs' must be an integer, got \"2\"");
  }

  /**
   * A training killed mid-write left its hidden temporaries; the next one, holding the run's lock,
   * deletes those of the files training writes, and nothing else: another command's temporary (an
   * eval's, which takes no lock) and files merely named alike stay.
   */
  @Test
  void trainingDeletesTheTemporariesAKilledTrainingLeft(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run"), checkpoints = run.resolve("checkpoints");
    Files.createDirectories(checkpoints);
    List<Path> stale = List.of(Files.writeString(run.resolve(".config.json.k1x9.tmp"), "{"),
        Files.writeString(run.resolve(".metrics.jsonl.tmp123"), "{"),
        Files.createDirectories(checkpoints.resolve(".best.z9.tmp")),
        Files.writeString(checkpoints.resolve(".latest.q2.tmp"), "half"));
    Files.writeString(checkpoints.resolve(".best.z9.tmp").resolve(Checkpoints.OPTIMIZER), "half");
    List<Path> others = List.of(Files.writeString(run.resolve(".eval-test.json.k1x9.tmp"), "{"),
        Files.writeString(run.resolve("notes.tmp"), "mine"), Files.writeString(run.resolve(".config.json.K1.tmp"), "mine"),
        Files.writeString(run.resolve(".config.json.k1.tmp.txt"), "mine"));

    new Trainer(cfg, run, QUIET, 1).run();
    for (Path p : stale) assertThat(p).as("stale").doesNotExist();
    for (Path p : others) assertThat(p).as("not training's").exists();
    assertThat(Checkpoints.trainingState(checkpoints.resolve("latest")).step()).isEqualTo(1);
  }

  /** The tiny architecture and 64 images under {@code tmp}, as a two-epoch configuration. */
  private static TrainConfig tinyTwoEpochs(Path tmp) throws IOException {
    return config(Files.writeString(tmp.resolve("tiny.json"), TINY), TinyData.idx(tmp.resolve("data"), 64, 10), 1e-3, 2);
  }

  private static TrainConfig with(TrainConfig c, int epochs, int batch, double lr, long seed) {
    return new TrainConfig(c.arch(), c.data(), c.objective(), epochs, batch, lr, c.weightDecay(), c.warmupSteps(),
        c.schedule(), seed, c.logEvery(), c.checkpointEvery(), c.dequantize(), c.augmentShift(), c.evalBatch(), c.ice(),
        c.backward(), 0);
  }

  @Test
  void aTamperedCheckpointIsRefused(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    Path run = tmp.resolve("run");
    new Trainer(config(arch, data, 1e-3, 1), run, QUIET, Long.MAX_VALUE).run();
    Path w = Trainer.latest(run).resolve(ModelFiles.WEIGHTS);
    byte[] bytes = Files.readAllBytes(w);
    bytes[bytes.length / 2] ^= 1;
    Files.write(w, bytes);
    assertThatThrownBy(() -> Checkpoints.load(Trainer.latest(run), DataType.FLOAT))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("weights.npz does not match its SHA-256");
  }

  static final ObjectMapper JSON = new ObjectMapper();

  /** The {@code type} lines of a run's metrics.jsonl, in order. */
  static List<JsonNode> lines(Path run, String type) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String l : Files.readAllLines(run.resolve(Trainer.METRICS))) {
      JsonNode n = JSON.readTree(l);
      if (n.path("type").asText().equals(type)) out.add(n);
    }
    return out;
  }

  /** A listener that keeps everything it is told. */
  static final class Recorder implements Trainer.Listener {
    final List<Trainer.StepInfo> steps = new ArrayList<>();
    final List<Map<String, Object>> epochs = new ArrayList<>();
    final List<String> messages = new ArrayList<>();

    @Override public void onStep(Trainer.StepInfo s) { steps.add(s); }
    @Override public void onEpoch(Map<String, Object> m) { epochs.add(m); }
    @Override public void onMessage(String line) { messages.add(line); }
  }

  /** {@code c} with another objective, learning rate, log and checkpoint interval and held-out images. */
  static TrainConfig with(TrainConfig c, String objective, double lr, int logEvery, int checkpointEvery,
      int validation) {
    return new TrainConfig(c.arch(), c.data(), objective, c.epochs(), c.batch(), lr, c.weightDecay(), c.warmupSteps(),
        c.schedule(), c.seed(), logEvery, checkpointEvery, c.dequantize(), c.augmentShift(), c.evalBatch(), c.ice(),
        c.backward(), validation);
  }

  /** The step of the first epoch line with the highest {@code score}, and that score. */
  static Map.Entry<Long, Double> firstBest(List<JsonNode> epochLines, java.util.function.ToDoubleFunction<JsonNode> score) {
    long step = -1;
    double top = Double.NEGATIVE_INFINITY;
    for (JsonNode l : epochLines) {
      if (score.applyAsDouble(l) > top) {
        top = score.applyAsDouble(l);
        step = l.get("step").asLong();
      }
    }
    return Map.entry(step, top);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void trainLinesAverageTheStepsSinceTheLastLineAndFollowTheSchedule(String name, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig every2 = config(arch(name, tmp), data, 3e-3, 2); // 4 steps per epoch, 8 in all; a line every 2
    Recorder rec = new Recorder();
    Path two = tmp.resolve("two"), one = tmp.resolve("one");
    Trainer.Result r = new Trainer(every2, two, rec, Long.MAX_VALUE).run();
    new Trainer(with(every2, "ce", 3e-3, 1, 1000, 0), one, QUIET, Long.MAX_VALUE).run();

    assertThat(rec.messages).as("the model summary").singleElement().asString().startsWith(name + " (");
    assertThat(steps(two)).containsExactly("train@2", "train@4", "epoch@4", "train@6", "train@8", "epoch@8");
    List<JsonNode> t = lines(two, "train"), o = lines(one, "train");
    assertThat(o).extracting(l -> l.get("step").asLong()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(o).extracting(l -> l.get("window_steps").asInt()).containsOnly(1);
    assertThat(t).extracting(l -> l.get("window_steps").asInt()).containsOnly(2);
    assertThat(o).allSatisfy(l -> {
      assertThat(l.get("accuracy").asDouble()).as(l.toString()).isBetween(0.0, 1.0);
      assertThat(l.get("loss").asDouble()).as(l.toString()).isPositive();
    });
    // Two warm-up steps to 3e-3, then cosine over the other 6: step s (0-based) at 1.5e-3 (1 + cos(pi (s - 2) / 6)).
    double[] lr = {3e-3, 1.5e-3 * (1 + Math.cos(Math.PI / 6)), 1.5e-3, 1.5e-3 * (1 + Math.cos(5 * Math.PI / 6))};
    assertThat(rec.steps).hasSize(4);
    for (int i = 0; i < 4; i++) {
      JsonNode line = t.get(i), a = o.get(2 * i), b = o.get(2 * i + 1);
      for (String k : new String[] {"loss", "accuracy"}) {
        assertThat(line.get(k).asDouble()).as(line + " " + k)
            .isCloseTo((a.get(k).asDouble() + b.get(k).asDouble()) / 2, offset(1e-12));
      }
      int epoch = i < 2 ? 1 : 2;
      assertThat(line.get("epoch").asInt()).as(line.toString()).isEqualTo(epoch);
      assertThat(line.get("lr").asDouble()).as(line.toString()).isCloseTo(lr[i], offset(1e-15));
      Trainer.StepInfo s = rec.steps.get(i);
      assertThat(s).isEqualTo(new Trainer.StepInfo(2 * i + 2, 8, epoch, 2, i % 2 == 0 ? 2 : 4, 4,
          line.get("loss").asDouble(), line.get("accuracy").asDouble(), line.get("lr").asDouble(), s.imagesPerSecond()));
    }

    List<JsonNode> e = lines(two, "epoch");
    assertThat(e).extracting(l -> l.get("epoch").asInt()).containsExactly(1, 2);
    assertThat(rec.epochs).extracting(m -> m.get("step")).containsExactly(4L, 8L);
    assertThat(r.steps()).isEqualTo(8);
    assertThat(r.testAccuracy()).isEqualTo(e.get(1).get("test_accuracy").asDouble());
    assertThat(r.bestAccuracy()).as("no validation split").isNaN();
    assertThat(r.testBitsPerDim()).isNaN();
    assertThat(r.nothingLeft()).isFalse();
    assertThat(Checkpoints.trainingState(Trainer.best(two)).step()).as("best is the last epoch's").isEqualTo(8);
    assertThat(Checkpoints.trainingState(Trainer.latest(two)).step()).isEqualTo(8);

    // Called again, the finished run trains, evaluates and writes nothing.
    String metrics = Files.readString(two.resolve(Trainer.METRICS));
    assertThat(new Trainer(every2, two, QUIET, Long.MAX_VALUE).run())
        .isEqualTo(new Trainer.Result(8, Double.NaN, Double.NaN, 0, Double.NaN, true, 8));
    assertThat(Files.readString(two.resolve(Trainer.METRICS))).isEqualTo(metrics);
  }

  /**
   * At a learning rate of 1e-30 the weights stay where the first step's data-dependent
   * initialisation (tiny) or the build (cnn-s) put them, so the epochs tie on validation accuracy.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void bestIsTheFirstEpochWithTheHighestValidationAccuracy(String name, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = with(config(arch(name, tmp), data, 1e-30, 3), "ce", 1e-30, 2, 1000, 16); // 3 steps an epoch
    Path run = tmp.resolve("run");
    Trainer.Result r = new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run();
    List<JsonNode> e = lines(run, "epoch");
    assertThat(e).extracting(l -> l.get("step").asLong()).containsExactly(3L, 6L, 9L);
    for (JsonNode l : e) assertThat(l.get("validation_loss").asDouble()).as(l.toString()).isPositive().isFinite();
    Map.Entry<Long, Double> best = firstBest(e, l -> l.get("validation_accuracy").asDouble());
    assertThat(r.bestAccuracy()).isEqualTo(best.getValue());
    assertThat(Checkpoints.trainingState(Trainer.best(run)).step()).isEqualTo(best.getKey());
    assertThat(Checkpoints.trainingState(Trainer.latest(run)).bestAccuracy()).isEqualTo(best.getValue());
    assertThat(e).as("the tie this test is about").extracting(l -> l.get("validation_accuracy").asDouble())
        .containsOnly(best.getValue());
  }

  @Test
  void mleLogsBitsPerDimOfTheRealPixelsAndChoosesBestByValidationBits(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = with(config(arch, data, 3e-3, 2), "mle", 3e-3, 2, 1000, 16); // 3 steps an epoch
    Path run = tmp.resolve("run");
    Trainer.Result r = new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run();
    assertThat(steps(run)).containsExactly("train@2", "epoch@3", "train@4", "train@6", "epoch@6");
    // The loss is nats per dimension of the padded 32x32 input; bits per dimension count the 28x28 real
    // pixels on the 0..255 scale: (nats / ln 2 + 8) * 1024 / 784, linear, so also of a line's mean.
    for (JsonNode l : lines(run, "train")) {
      assertThat(l.get("bits_per_dim").asDouble()).as(l.toString())
          .isCloseTo((l.get("loss").asDouble() / Math.log(2) + 8) * 1024 / 784, offset(1e-9));
    }
    List<JsonNode> e = lines(run, "epoch");
    Map.Entry<Long, Double> best = firstBest(e, l -> -l.get("validation_bits_per_dim").asDouble());
    assertThat(r.bestAccuracy()).isEqualTo(best.getValue());
    assertThat(Checkpoints.trainingState(Trainer.best(run)).step()).isEqualTo(best.getKey());
    assertThat(r.testBitsPerDim()).isEqualTo(e.get(1).get("test_bits_per_dim").asDouble());
    // The same number from the saved weights, over the test split's 784 real pixels.
    InvertibleClassifier model =
        Checkpoints.load(Trainer.latest(run), DataType.FLOAT).model();
    Dataset test = Trainer.prepare(Datasets.resolve(data.toString()).load(Split.TEST),
        model.architecture());
    Density.Eval fromWeights = new Density(model, 784).evaluate(test, 50, Density.EVAL_SEED);
    assertThat(fromWeights.bitsPerDim()).isCloseTo(r.testBitsPerDim(), offset(1e-6));
    // test_loss is the training loss's quantity, the NLL in nats per input dimension, as the train
    // lines' loss is (it was the logits' cross-entropy); that one is kept under its own name.
    JsonNode last = e.get(1);
    assertThat(last.get("test_loss").asDouble()).isCloseTo(fromWeights.natsPerDim(), offset(1e-6));
    assertThat(last.get("test_bits_per_dim").asDouble())
        .isCloseTo((last.get("test_loss").asDouble() / Math.log(2) + 8) * 1024 / 784, offset(1e-9));
    assertThat(last.get("test_cross_entropy").asDouble())
        .isCloseTo(Evaluation.evaluate(model, test, 50, "test").loss(), offset(1e-5));
  }

  @Test
  void iceTrainLinesAverageEachTermAndKeepTheLargestNuisance(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig every2 = iceConfig(arch, data, 1); // 4 steps, a line every 2
    Path two = tmp.resolve("two"), one = tmp.resolve("one");
    new Trainer(every2, two, QUIET, Long.MAX_VALUE).run();
    new Trainer(with(every2, "ice", every2.lr(), 1, 1000, 0), one, QUIET, Long.MAX_VALUE).run();
    List<JsonNode> t = lines(two, "train"), o = lines(one, "train");
    assertThat(t).hasSize(2);
    assertThat(o).hasSize(4);
    for (int i = 0; i < 2; i++) {
      JsonNode line = t.get(i), a = o.get(2 * i), b = o.get(2 * i + 1);
      for (String k : new String[] {"loss", "ce", "nuisance_ce", "adversary_accuracy", "nll_bits_per_dim", "w_nc"}) {
        assertThat(line.get(k).asDouble()).as(line + " " + k)
            .isCloseTo((a.get(k).asDouble() + b.get(k).asDouble()) / 2, offset(1e-12));
      }
      assertThat(line.get("zn_max_abs").asDouble())
          .isEqualTo(Math.max(a.get("zn_max_abs").asDouble(), b.get("zn_max_abs").asDouble()));
    }
    // Without the MLE term there are no bits/dim to log.
    TrainConfig noMle = new TrainConfig(every2.arch(), every2.data(), "ice", 1, 16, 3e-3, 0, 0, "constant", 7, 2,
        1000, false, 0, 50, new IceConfig(1, 3, 0, "paper", Math.log(10), 2, 8, 1e-3, 2, 3, true, 3), null, 0);
    Path plain = tmp.resolve("plain");
    new Trainer(noMle, plain, QUIET, Long.MAX_VALUE).run();
    assertThat(Files.readAllLines(plain.resolve(Trainer.METRICS))).hasSize(3)
        .allSatisfy(l -> assertThat(l).doesNotContain("nll_bits_per_dim"))
        .anySatisfy(l -> assertThat(l).contains("adversary_test_accuracy"));
  }

  /** What the listener throws to stand for an interruption. */
  static final class Interrupted extends RuntimeException {}

  /**
   * Trains {@code run} until {@code step} is logged, then interrupts; returns the step latest holds,
   * and adds to {@code onDisk} the metrics lines ({@link #steps}) in the file at that moment: what
   * a {@code kill -9} there would leave.
   */
  static long interruptedAt(TrainConfig cfg, Path run, long step, List<String> onDisk) throws IOException {
    Trainer.Listener stop = s -> {
      if (s.step() != step) return;
      try {
        onDisk.addAll(steps(run));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      throw new Interrupted();
    };
    assertThatThrownBy(() -> new Trainer(cfg, run, stop, Long.MAX_VALUE).run()).isInstanceOf(Interrupted.class);
    return Checkpoints.trainingState(Trainer.latest(run)).step();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void latestIsSavedEveryCheckpointEveryStepsAndAtEachEpochsEnd(String name, @TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = with(config(arch(name, tmp), data, 3e-3, 2), "ce", 3e-3, 1, 3, 0); // 4 steps an epoch
    Path a = tmp.resolve("a");
    List<String> onDisk = new ArrayList<>();
    assertThat(interruptedAt(cfg, a, 4, onDisk)).isEqualTo(3);
    // The lines up to a checkpoint reach the file with it.
    assertThat(onDisk).startsWith("train@1", "train@2", "train@3");
    onDisk.clear();
    assertThat(interruptedAt(cfg, tmp.resolve("b"), 6, onDisk)).as("the end of epoch 1").isEqualTo(4);
    assertThat(onDisk).startsWith("train@1", "train@2", "train@3", "train@4", "epoch@4");
    // The resumed run says where it is (and no model summary), and logs step 4 again in place of
    // the line the interrupted one wrote.
    Recorder rec = new Recorder();
    assertThat(new Trainer(cfg, a, rec, 1).run().steps()).isEqualTo(4);
    assertThat(rec.messages).containsExactly("resuming " + a + " after step 3 (next: epoch 1, batch 4)");
    assertThat(steps(a)).containsExactly("train@1", "train@2", "train@3", "train@4", "epoch@4");
  }

  /**
   * The first step of two runs that differ only in weight decay takes the same Adam step (the same
   * gradient at the same weights); AdamW then scales the weights by 1 - lr wd, at the warm-up
   * learning rate 1e-3 * 1/2 of step 0, so they end lr wd p0 = 0.05 p0 apart.
   */
  @Test
  void theFirstStepDecaysTheWeightsAtItsWarmUpLearningRate(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    TrainConfig c = config(arch, data, 1e-3, 1); // 2 warm-up steps
    Map<Double, INDArray> after = new HashMap<>();
    for (double wd : new double[] {0, 100}) {
      TrainConfig cfg = new TrainConfig(c.arch(), c.data(), "ce", 1, 16, 1e-3, wd, 2, "cosine", 7, 1, 1000, true, 1,
          50, null, null, 0);
      Path run = tmp.resolve("wd" + wd);
      new Trainer(cfg, run, QUIET, 1).run();
      after.put(wd, Npz.read(Trainer.latest(run).resolve(ModelFiles.WEIGHTS)).get("layers.1.net.0.weight"));
    }
    INDArray p0 = InvertibleClassifier.build(Architecture.load(arch.toString()), DataType.FLOAT, 7)
        .params().state().get("layers.1.net.0.weight");
    assertThat(Tensors.maxAbs(p0)).as("weights well away from zero").isGreaterThan(0.1);
    INDArray apart = after.get(0.0).sub(after.get(100.0));
    assertThat(Tensors.maxAbs(apart.sub(p0.mul(0.05)))).isLessThan(1e-6);
  }

  /**
   * A run resumes with the architecture its checkpoint holds: the file it began from, edited or
   * moved, stopped the resume though the run directory has everything it needs.
   */
  @Test
  void resumingGoesOnWithTheRunsOwnArchitectureWhenItsFileWasEditedOrMoved(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 48, 10);
    TrainConfig cfg = config(arch, data, 1e-3, 1); // 3 steps of 16
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 1).run();
    Architecture own = Architecture.load(arch.toString());
    Files.writeString(arch, TINY.replace("\"hidden\": 4", "\"hidden\": 8"));
    assertThat(Architecture.load(arch.toString())).as("the edit changes the architecture").isNotEqualTo(own);

    Recorder edited = new Recorder();
    assertThat(new Trainer(cfg, run, edited, 1).run().steps()).isEqualTo(2);
    Path ownFile = Trainer.latest(run).resolve(ModelFiles.ARCH);
    assertThat(edited.messages).contains(arch + ": has changed since the run began; resuming with the run's own"
        + " architecture 'tiny' (" + ownFile + ")");
    assertThat(ModelFiles.load(Trainer.latest(run), DataType.FLOAT).architecture()).isEqualTo(own);

    Files.delete(arch);
    Recorder moved = new Recorder();
    assertThat(new Trainer(cfg, run, moved, 1).run().steps()).isEqualTo(3);
    assertThat(moved.messages).contains(arch + ": architecture file not found; resuming with the run's own"
        + " architecture 'tiny' (" + ownFile + ")");
    assertThat(ModelFiles.load(Trainer.latest(run), DataType.FLOAT).architecture()).isEqualTo(own);
  }

  @Test
  void iceIsRefusedForAnArchitectureThatIsNotFullyInvertible(@TempDir Path tmp) {
    TrainConfig cfg = new TrainConfig("irevnet-s", tmp.resolve("data").toString(), "ice", 1, 16, 1e-3, 0, 0,
        "constant", 7, 1, 1000, false, 0, 50, null, null, 0);
    assertThatThrownBy(() -> new Trainer(cfg, tmp.resolve("run"), QUIET, 1).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective ice needs a fully invertible (fi-revnet) model, whose z splits into logits z_s and nuisance z_n;"
            + " 'irevnet-s' is irevnet");
  }

  @Test
  void stopAtIsMaxStepsFurtherButNeverPastTheTotal() {
    assertThat(Trainer.stopAt(3, 8, 2)).isEqualTo(5);
    assertThat(Trainer.stopAt(3, 8, 4)).isEqualTo(7);
    assertThat(Trainer.stopAt(3, 8, 5)).isEqualTo(8);
    assertThat(Trainer.stopAt(3, 8, 6)).isEqualTo(8);
    assertThat(Trainer.stopAt(3, 8, Long.MAX_VALUE)).isEqualTo(8);
  }

  @Test
  void truncatingMetricsKeepsTheLinesUpToTheStepDropsCutOffOnesAndSaysOfDamagedOnes(@TempDir Path tmp) throws IOException {
    Path m = tmp.resolve(Trainer.METRICS);
    Files.writeString(m, "{\"type\":\"train\",\"step\":2}\n\n{\"type\":\"epoch\",\"step\":3}\n"
        + "{\"type\":\"train\",\"step\":4}\n{\"type\":\"note\"}\n{\"type\":\"train\",\"st");
    // The last line cut off by an interruption goes without a word.
    assertThat(Trainer.truncateMetrics(tmp, 3)).isNull();
    assertThat(Files.readString(m)).isEqualTo("{\"type\":\"train\",\"step\":2}\n{\"type\":\"epoch\",\"step\":3}\n");
    assertThat(Trainer.truncateMetrics(tmp, 1)).isNull();
    assertThat(Files.readString(m)).isEmpty();
    Path none = Files.createDirectories(tmp.resolve("none"));
    assertThat(Trainer.truncateMetrics(none, 1)).isNull();
    assertThat(none.resolve(Trainer.METRICS)).doesNotExist();
    // One further up was damaged by hand: dropped too, and said, as resuming says it.
    Files.writeString(m, "{\"type\":\"train\",\"step\":1}\n{\"type\":\"tr\n{\"type\":\"train\",\"step\":2}\n");
    assertThat(Trainer.truncateMetrics(tmp, 3)).isEqualTo(m + ": dropped 1 line that did not read as JSON (line 2)");
    assertThat(Files.readString(m)).isEqualTo("{\"type\":\"train\",\"step\":1}\n{\"type\":\"train\",\"step\":2}\n");
  }

  /**
   * A line that is not UTF-8 (a flipped high bit) is a damaged line like one that is not JSON: the
   * whole file was refused in Java's words, "Input length = 1", and the resume stopped (exit 2)
   * without naming it (found by DamagedCheckpointsTest).
   */
  @Test
  void truncatingMetricsDropsALineThatIsNotUtf8(@TempDir Path tmp) throws IOException {
    Path m = tmp.resolve(Trainer.METRICS);
    byte[] bytes = "{\"type\":\"train\",\"step\":1}\n{\"type\":\"train\",\"step\":2}\n{\"type\":\"train\",\"step\":3}\n"
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    bytes[30] ^= (byte) 0x80; // in line 2
    Files.write(m, bytes);
    assertThat(Trainer.truncateMetrics(tmp, 3)).isEqualTo(m + ": dropped 1 line that did not read as JSON (line 2)");
    assertThat(Files.readString(m)).isEqualTo("{\"type\":\"train\",\"step\":1}\n{\"type\":\"train\",\"step\":3}\n");
  }

  @Test
  void clearingForANewRunRemovesTheMetricsAndTheCheckpointsOnlyWhenStartingOver(@TempDir Path tmp)
      throws IOException {
    Path run = tmp.resolve("run");
    Path inLatest = Files.writeString(Files.createDirectories(Trainer.latest(run)).resolve("x"), "x");
    Files.writeString(run.resolve(Trainer.METRICS), "{}\n");
    Trainer.clearForNewRun(run, false);
    assertThat(run.resolve(Trainer.METRICS)).doesNotExist();
    assertThat(inLatest).exists();
    Files.writeString(run.resolve(Trainer.METRICS), "{}\n");
    Trainer.clearForNewRun(run, true);
    assertThat(run.resolve("checkpoints")).doesNotExist();
    assertThat(run.resolve(Trainer.METRICS)).doesNotExist();
    assertThat(run).isDirectory();
    Trainer.clearForNewRun(tmp.resolve("absent"), true);
    assertThat(tmp.resolve("absent")).doesNotExist();
  }

  /**
   * Starting over deletes what training writes under checkpoints/ (latest, best, the previous
   * version a killed save leaves, temporaries) and nothing else: a --out whose checkpoints/ holds
   * the user's own files (another framework's) is refused, naming one, with everything kept.
   */
  @Test
  void startingOverDeletesOnlyWhatTrainingWrote(@TempDir Path tmp) throws IOException {
    Path run = tmp.resolve("run"), dir = Trainer.latest(run).getParent();
    for (String ours : new String[] {"latest", "best", ".latest.old", ".best.old", ".latest.k3x9q.tmp", ".best.tmp123"}) {
      Files.writeString(Files.createDirectories(dir.resolve(ours)).resolve("x"), "x");
    }
    Files.writeString(run.resolve(Trainer.METRICS), "{}\n");
    Path theirs = Files.writeString(dir.resolve("epoch3.pt"), "weights");
    assertThatThrownBy(() -> Trainer.clearForNewRun(run, true)).isInstanceOf(IOException.class)
        .hasMessage(theirs + ": not written by training; not deleting it (move it, or train into another directory)");
    try (var s = Files.list(dir)) {
      assertThat(s.count()).isEqualTo(7);
    }
    assertThat(run.resolve(Trainer.METRICS)).exists();
    Files.delete(theirs);
    Trainer.clearForNewRun(run, true);
    assertThat(dir).doesNotExist();
  }

  @Test
  void aCheckpointWithoutAConfigHasNoSettingsToCompareAndIceSettingsAreFixed(@TempDir Path tmp) {
    TrainConfig cfg = TrainConfig.defaults();
    assertThat(Trainer.checkResumeSettings(null, tmp, cfg)).isNull();
    assertThat(Trainer.checkResumeSettings(" ", tmp, cfg)).isNull();
    assertThat(Trainer.checkResumeSettings("{}", tmp, cfg)).isNull();
    assertThat(Trainer.checkResumeSettings(cfg.toJson(), tmp, cfg)).isNull();
    TrainConfig ice = new TrainConfig(cfg.arch(), cfg.data(), "ice", 1, 16, 1e-3, 0, 0, "constant", 7, 1, 1000, false,
        0, 50, null, null, 0).resolved();
    IceConfig d = ice.ice();
    TrainConfig other = new TrainConfig(cfg.arch(), cfg.data(), "ice", 1, 16, 1e-3, 0, 0, "constant", 7, 1, 1000,
        false, 0, 50, new IceConfig(d.wNc() + 1, d.wNcWarmupSteps(), d.wMle(), d.nuisanceForm(), d.paperCap(),
            d.advSteps(), d.advHidden(), d.advLr(), d.adversaries(), d.advReinitEvery(), d.advStandardize(),
            d.advReplay()), null, 0).resolved();
    assertThatThrownBy(() -> Trainer.checkResumeSettings(ice.toJson(), tmp, other))
        .hasMessage("--resume continues the run as it was configured, and ice.wNc would change (" + d.wNc() + " -> "
            + (d.wNc() + 1) + "): start a new run for that (--fresh, or another --out)");
  }

  /**
   * A run begun before train recorded a relative --data directory absolute has it relative in its
   * checkpoint, and the resume (which records it absolute) said the data had changed, "the steps
   * so far used the former", for the same directory.
   */
  @Test
  void aRelativeDataDirectoryOfAnOlderRunIsNoChangeWhenItNamesTheSameDirectory(@TempDir Path tmp) throws IOException {
    Path data = Files.createDirectories(tmp.resolve("mine"));
    String relative = Path.of("").toAbsolutePath().relativize(data.toAbsolutePath()).toString();
    int epochs = TrainConfig.defaults().epochs();
    TrainConfig before = defaultsWith(relative, epochs), now = defaultsWith(Datasets.recorded(relative), epochs + 1);
    assertThat(now.data()).isEqualTo(data.toAbsolutePath().normalize().toString());
    assertThat(Trainer.checkResumeSettings(before.toJson(), tmp, now))
        .isEqualTo("resuming with epochs " + epochs + " -> " + (epochs + 1) + ": the steps so far used the former");
    // Another directory is a change, and said.
    Path other = Files.createDirectories(tmp.resolve("other"));
    assertThat(Trainer.checkResumeSettings(before.toJson(), tmp, defaultsWith(other.toString(), epochs)))
        .isEqualTo("resuming with data \"" + relative + "\" -> \"" + other + "\": the steps so far used the former");
  }

  /**
   * The same for an architecture file: a run begun before train recorded it absolute has it as
   * typed, and a resume naming the same file absolute (as the run's config.json now has it) was
   * refused, "arch would change ("arch/tiny8.json" -> "/.../arch/tiny8.json")".
   */
  @Test
  void aRelativeArchitectureFileOfAnOlderRunIsNoChangeWhenItNamesTheSameFile(@TempDir Path tmp) throws IOException {
    Path file = Files.writeString(tmp.resolve("tiny8.json"), TINY);
    String relative = Path.of("").toAbsolutePath().relativize(file.toAbsolutePath()).toString();
    int epochs = TrainConfig.defaults().epochs();
    TrainConfig before = withArch(defaultsWith(TrainConfig.defaults().data(), epochs), relative);
    TrainConfig now = withArch(defaultsWith(TrainConfig.defaults().data(), epochs + 1), Architecture.recorded(relative));
    assertThat(now.arch()).isEqualTo(file.toAbsolutePath().normalize().toString());
    assertThat(Trainer.checkResumeSettings(before.toJson(), tmp, now))
        .isEqualTo("resuming with epochs " + epochs + " -> " + (epochs + 1) + ": the steps so far used the former");
    // A relative path that names no file from here is as it was: the run goes on with its own.
    TrainConfig gone = withArch(before, "moved/tiny8.json");
    assertThat(Trainer.checkResumeSettings(gone.toJson(), tmp, withArch(before, Architecture.recorded("moved/tiny8.json"))))
        .isNull();
    // Another file is another architecture, refused as before.
    Path other = Files.writeString(tmp.resolve("other.json"), TINY);
    assertThatThrownBy(() -> Trainer.checkResumeSettings(before.toJson(), tmp, withArch(before, other.toString())))
        .hasMessage("--resume continues the run as it was configured, and arch would change (\"" + relative + "\" -> \""
            + other + "\"): start a new run for that (--fresh, or another --out)");
  }

  /** {@code c} with another {@code arch}. */
  private static TrainConfig withArch(TrainConfig c, String arch) {
    return new TrainConfig(arch, c.data(), c.objective(), c.epochs(), c.batch(), c.lr(), c.weightDecay(),
        c.warmupSteps(), c.schedule(), c.seed(), c.logEvery(), c.checkpointEvery(), c.dequantize(), c.augmentShift(),
        c.evalBatch(), c.ice(), c.backward(), c.validation());
  }

  /** The default configuration with another {@code data} and {@code epochs}. */
  private static TrainConfig defaultsWith(String data, int epochs) {
    TrainConfig d = TrainConfig.defaults();
    return new TrainConfig(d.arch(), data, d.objective(), epochs, d.batch(), d.lr(), d.weightDecay(), d.warmupSteps(),
        d.schedule(), d.seed(), d.logEvery(), d.checkpointEvery(), d.dequantize(), d.augmentShift(), d.evalBatch(),
        d.ice(), d.backward(), d.validation());
  }

  @Test
  void resumingSaysWhereAndWhatChangedButNotAnUnrecordedThreadCount(@TempDir Path tmp) throws IOException {
    List<String> messages = new ArrayList<>();
    Trainer.sayResuming(collecting(messages), tmp, 41, 60, new BatchIterator.State(2, 0), null);
    assertThat(messages).containsExactly("resuming " + tmp + " after step 41 (next: epoch 3, batch 1)");
    messages.clear();
    Files.writeString(tmp.resolve(Trainer.CONFIG), "{\"config\": {}, \"environment\": {\"java\": \"17\"}}");
    Trainer.sayResuming(collecting(messages), tmp, 5, 30, new BatchIterator.State(0, 5),
        "resuming with epochs 2 -> 3: the steps so far used the former");
    assertThat(messages).containsExactly("resuming " + tmp + " after step 5 (next: epoch 1, batch 6)",
        "resuming with epochs 2 -> 3: the steps so far used the former");
    messages.clear();
    // A run that has trained all its steps does not resume: its caller says there is nothing left.
    Trainer.sayResuming(collecting(messages), tmp, 30, 30, new BatchIterator.State(3, 0),
        "resuming with lr 0.001 -> 1.0E-4: the steps so far used the former");
    assertThat(messages).isEmpty();
  }

  @Test
  void aDivergedRunNamesTheStepEpochAndBatchCountingFromOne(@TempDir Path tmp) throws IOException {
    assertThat(Trainer.diverged("loss is NaN", 4, new BatchIterator.Batch(null, new int[0], new int[0], 1, 2), tmp))
        .hasMessage("loss is NaN at step 5 (epoch 2, batch 3); stopped without saving; no checkpoint had been written"
            + " yet; try a lower --lr");
    // A latest whose training state cannot be read is still pointed to.
    Files.writeString(Files.createDirectories(Trainer.latest(tmp)).resolve(Checkpoints.MANIFEST), "{}");
    assertThat(Trainer.diverged("a gradient is not finite", 0, new BatchIterator.Batch(null, new int[0], new int[0],
        0, 0), tmp)).hasMessage("a gradient is not finite at step 1 (epoch 1, batch 1); stopped without saving; "
            + Trainer.latest(tmp) + " holds the weights last saved: resume from it with a lower --lr, and if that"
            + " stops the same way its weights had already diverged: start over with --fresh and a lower --lr");
  }

  @Test
  void trainingColourImagesOnAGreyArchitectureSaysWhichInputShapeTakesThem(@TempDir Path tmp) throws IOException {
    Path cifar = Files.createDirectories(tmp.resolve("cifar"));
    for (String batch : new String[] {"data_batch_1.bin", "test_batch.bin"}) {
      byte[] records = new byte[2 * 3073];
      records[3073] = 1; // the second image's label
      records[1] = 9; // a red pixel: colour, not grey saved as three planes
      Files.write(cifar.resolve(batch), records);
    }
    TrainConfig cfg = config(Files.writeString(tmp.resolve("tiny.json"), TINY), cifar, 1e-3, 1);
    assertThatThrownBy(() -> new Trainer(cfg, tmp.resolve("run"), QUIET, 1).run())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(": images have 3 channels, architecture 'tiny' takes 1; set \"inputShape\": [3, 32, 32]"
            + " in a copy of its JSON file");
    assertThat(tmp.resolve("run")).doesNotExist();
  }

  @Test
  void preparingRefusesImagesTheArchitectureCannotTakeAndPadsTheOthers(@TempDir Path tmp) throws IOException {
    Architecture tiny = Architecture.load(Files.writeString(tmp.resolve("tiny.json"), TINY).toString());
    List<String> ten = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "c" + i).toList();
    Dataset rgb = new Dataset("rgb", Nd4j.rand(DataType.FLOAT, 2, 3, 28, 28), new int[] {0, 1}, ten);
    assertThatThrownBy(() -> Trainer.prepare(rgb, tiny))
        .hasMessage("rgb: images have 3 channels, architecture 'tiny' takes 1");
    // Grey images saved as RGB load as three equal planes (a whole dataset of them): said so, as they look grey.
    var plane = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);
    var planes = Nd4j.concat(1, plane, plane, plane);
    Dataset greyAsRgb = new Dataset("grey-rgb", planes, new int[] {0, 1}, ten);
    assertThatThrownBy(() -> Trainer.prepare(greyAsRgb, tiny)).hasMessage("grey-rgb: images have 3 channels (three equal"
        + " planes: grey images saved as RGB; saved as grey PNGs they have one), architecture 'tiny' takes 1");
    planes.putScalar(new long[] {1, 2, 27, 27}, planes.getFloat(1L, 2, 27, 27) + 1f / 255);
    assertThatThrownBy(() -> Trainer.prepare(new Dataset("rgb", planes, new int[] {0, 1}, ten), tiny))
        .as("one blue pixel of one image makes colour").hasMessage("rgb: images have 3 channels, architecture 'tiny' takes 1");
    planes.putScalar(new long[] {1, 2, 27, 27}, planes.getFloat(1L, 0, 27, 27));
    planes.putScalar(new long[] {0, 1, 0, 0}, planes.getFloat(0L, 0, 0, 0) + 1f / 255);
    assertThatThrownBy(() -> Trainer.prepare(new Dataset("rgb", planes, new int[] {0, 1}, ten), tiny))
        .as("so does one green pixel, with blue equal to red").hasMessage("rgb: images have 3 channels, architecture 'tiny' takes 1");
    // Training says how to train on them (an analysis of a trained model cannot).
    assertThatThrownBy(() -> Trainer.checkChannels(rgb, tiny))
        .hasMessage("rgb: images have 3 channels, architecture 'tiny' takes 1; set \"inputShape\": [3, 32, 32] in a"
            + " copy of its JSON file");
    Architecture tiny3 = Architecture.load(Files.writeString(tmp.resolve("tiny3.json"),
        TINY.replace("[1, 32, 32]", "[3, 32, 32]")).toString());
    assertThatCode(() -> Trainer.checkChannels(rgb, tiny3)).doesNotThrowAnyException();
    Dataset grey = new Dataset("grey", Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28), new int[] {0, 1}, ten);
    assertThatThrownBy(() -> Trainer.prepare(grey, tiny3)).hasMessage("grey: images have 1 channel, architecture 'tiny'"
        + " takes 3");
    List<String> eleven = java.util.stream.IntStream.range(0, 11).mapToObj(i -> "c" + i).toList();
    Dataset many = new Dataset("many", Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28), new int[] {0, 1}, eleven);
    assertThatThrownBy(() -> Trainer.prepare(many, tiny))
        .hasMessage("many: 11 classes, architecture 'tiny' has 10 outputs; set \"numClasses\": 11 in a copy of its JSON file");
    // Fewer were accepted: the fi-RevNet's logits past the classes were trained as classes no label named.
    Dataset few = new Dataset("few", Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28), new int[] {0, 2}, List.of("a", "b", "c"));
    assertThatThrownBy(() -> Trainer.prepare(few, tiny))
        .hasMessage("few: 3 classes, architecture 'tiny' has 10 outputs; set \"numClasses\": 3 in a copy of its JSON file");
    Dataset padded = Trainer.prepare(new Dataset("ok", Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28), new int[] {0, 1}, ten),
        tiny);
    assertThat(padded.images().shape()).containsExactly(2, 1, 32, 32);
  }

  /** A configuration whose only settings that matter are the augmentation shift and the held-out images. */
  private static TrainConfig shiftAndValidation(int shift, int validation) {
    return new TrainConfig("fi-revnet-s", "unused", "ce", 1, 16, 1e-3, 0, 0, "constant", 7, 1, 1000, false, shift, 50,
        null, null, validation);
  }

  @Test
  void theAugmentShiftIsBoundByTheShorterSide() {
    for (long[] hw : new long[][] {{5, 9}, {9, 5}}) {
      Dataset d = new Dataset("d", Nd4j.zeros(DataType.FLOAT, 1, 1, hw[0], hw[1]), new int[] {0}, List.of("a"));
      assertThat(Trainer.checkAugmentShift(d, shiftAndValidation(4, 0))).isSameAs(d);
      assertThatThrownBy(() -> Trainer.checkAugmentShift(d, shiftAndValidation(5, 0)))
          .hasMessage("augmentShift must be at most 4 (d has " + hw[0] + "x" + hw[1] + " images), got 5");
    }
  }

  /** Shifted batches train another model than the images as they are, from the same seed. */
  @Test
  void theAugmentShiftReachesTheBatches(@TempDir Path tmp) throws Exception {
    TrainConfig plain = config(Files.writeString(tmp.resolve("tiny.json"), TINY), TinyData.idx(tmp.resolve("data"), 32, 10),
        3e-3, 1);
    TrainConfig shifted = new TrainConfig(plain.arch(), plain.data(), plain.objective(), plain.epochs(), plain.batch(),
        plain.lr(), plain.weightDecay(), plain.warmupSteps(), plain.schedule(), plain.seed(), plain.logEvery(),
        plain.checkpointEvery(), plain.dequantize(), 2, plain.evalBatch(), plain.ice(), plain.backward(), 0);
    List<Map<String, INDArray>> weights = new ArrayList<>();
    for (TrainConfig c : List.of(plain, plain, shifted)) {
      Path run = tmp.resolve("run" + weights.size());
      new Trainer(c, run, QUIET, Long.MAX_VALUE).run();
      weights.add(Npz.read(Trainer.latest(run).resolve(ModelFiles.WEIGHTS)));
    }
    assertThat(maxAbsDifference(weights.get(0), weights.get(1))).as("the same unshifted run again").isZero();
    assertThat(maxAbsDifference(weights.get(0), weights.get(2))).as("shifted").isGreaterThan(1e-4);
  }

  private static double maxAbsDifference(Map<String, INDArray> a, Map<String, INDArray> b) {
    assertThat(b.keySet()).isEqualTo(a.keySet());
    double d = 0;
    for (String k : a.keySet()) d = Math.max(d, Tensors.maxAbs(a.get(k).sub(b.get(k))));
    return d;
  }

  @Test
  void heldOutImagesMustLeaveSomeToTrainOn() {
    Dataset four = new Dataset("four", Nd4j.zeros(DataType.FLOAT, 4, 1, 2, 2), new int[] {0, 1, 0, 1},
        List.of("a", "b"));
    Dataset.HeldOut none = Trainer.holdOut(four, shiftAndValidation(0, 0));
    assertThat(none.train()).isSameAs(four);
    assertThat(none.validation()).isNull();
    assertThat(Trainer.holdOut(four, shiftAndValidation(0, 3)).validation().size()).isEqualTo(3);
    assertThatThrownBy(() -> Trainer.holdOut(four, shiftAndValidation(0, 4)))
        .hasMessage("validation 4 must leave training images: four has 4");
  }

  @Test
  void configJsonRecordsTheConfigurationTheEnvironmentAndTheData(@TempDir Path tmp) throws IOException {
    TrainConfig cfg = TrainConfig.defaults();
    DataIdentity data = DataIdentity.of(Datasets.resolve(TinyData.idx(tmp.resolve("d"), 10, 4).toString()));
    JsonNode n = JSON.readTree(Trainer.resolvedConfig(cfg, data));
    assertThat(n.get("config")).isEqualTo(JSON.readTree(cfg.toJson()));
    assertThat(DataIdentity.read(n.get(Trainer.DATASET))).isEqualTo(data);
    assertThat(n.get(Trainer.DATASET).get("test_images").asInt()).isEqualTo(4);
    JsonNode env = n.get("environment");
    assertThat(env.get("java").asText()).isEqualTo(System.getProperty("java.version"));
    assertThat(env.get("nd4j").asText()).isEqualTo("1.0.0-M2.1");
    assertThat(env.get("backend").asText()).isEqualTo("CpuBackend");
    assertThat(env.get("threads").asInt()).isEqualTo(Host.threads());
    assertThat(env.get("os").asText()).isEqualTo(System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    assertThat(env.path("cpu").isMissingNode() ? null : env.get("cpu").asText()).isEqualTo(Host.cpuModel());
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    assertThat(env.path("openblas_coretype").isMissingNode() ? null : env.get("openblas_coretype").asText())
        .isEqualTo(coretype);
  }

  /**
   * A file of the user's inside a checkpoint stops a resumed or started-over run before it trains,
   * named, with the file and the checkpoints kept: the run's next save replaces best/ whole, and
   * starting over deleted it with the rest.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void aFileOfTheUsersInACheckpointStopsTheRunBeforeItTrains(String name, @TempDir Path tmp) throws Exception {
    TrainConfig cfg = with(config(arch(name, tmp), TinyData.idx(tmp.resolve("data"), 48, 10), 1e-3, 2), "ce", 1e-3,
        1, 1000, 0);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 3).run();
    Path notes = Files.writeString(Trainer.best(run).resolve("notes.txt"), "mine");
    for (boolean startOver : new boolean[] {false, true}) {
      assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, 1, startOver).run()).as("start over: %s", startOver)
          .isInstanceOf(IOException.class)
          .hasMessage(notes + ": not written by training; not deleting it (move it, or train into another directory)");
      assertThat(notes).hasContent("mine");
      assertThat(Checkpoints.trainingState(Trainer.latest(run)).step()).isEqualTo(3);
      assertThat(steps(run)).hasSize(4);
    }
  }

  /**
   * Starting over in a directory that holds a run trains from step 0 (the model summary said, no
   * resuming) and leaves nothing of the old run: its metrics lines and its best checkpoint go.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "cnn-s"})
  void startingOverClearsTheOldRunsCheckpointsAndMetrics(String name, @TempDir Path tmp) throws Exception {
    TrainConfig cfg = with(config(arch(name, tmp), TinyData.idx(tmp.resolve("data"), 48, 10), 1e-3, 2), "ce", 1e-3,
        1, 1000, 0); // 3 steps an epoch, a line every step
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 3).run();
    assertThat(steps(run)).containsExactly("train@1", "train@2", "train@3", "epoch@3");
    assertThat(DataIdentity.read(JSON.readTree(run.resolve(Trainer.CONFIG).toFile()).get(Trainer.DATASET)))
        .as("what the run was trained on, told by content").isEqualTo(DataIdentity.of(Datasets.resolve(cfg.data())));
    assertThat(Checkpoints.exists(Trainer.best(run))).isTrue();

    Recorder rec = new Recorder();
    assertThat(new Trainer(cfg, run, rec, 1, true).run().steps()).isEqualTo(1);
    assertThat(rec.messages).singleElement().asString().startsWith(name + " (");
    assertThat(steps(run)).containsExactly("train@1");
    assertThat(Checkpoints.trainingState(Trainer.latest(run)).step()).isEqualTo(1);
    assertThat(Checkpoints.exists(Trainer.best(run))).as("the old run's best").isFalse();
  }

  /**
   * The first step initialises the first ActNorm (after the squeeze of the 1x32x32 input into four
   * 16x16 channels, channel 2 dh + dw holding pixels (2i + dh, 2j + dw)) from the first shuffled
   * batch: scale 1 / std clamped to [1/4, 4], bias -mean * scale, per channel over the batch. At a
   * learning rate of 1e-30 the step leaves them there, so the checkpoint holds them.
   */
  @Test
  void theFirstBatchInitialisesActNormFromItsStatistics(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 48, 10);
    TrainConfig cfg = new TrainConfig(arch("tiny", tmp), data.toString(), "ce", 1, 16, 1e-30, 0, 0, "constant", 7, 1,
        1000, false, 0, 50, null, null, 0);
    Path run = tmp.resolve("run");
    new Trainer(cfg, run, QUIET, 1).run();
    Map<String, INDArray> w = Npz.read(Trainer.latest(run).resolve(ModelFiles.WEIGHTS));

    Dataset train = Trainer.prepare(Datasets.resolve(data.toString()).load(Split.TRAIN),
        Architecture.load(cfg.arch()));
    INDArray batch = BatchIterator.builder(train).batchSize(16).seed(7).shuffle(true).build().nextBatch().features();
    for (int dh = 0; dh < 2; dh++) {
      for (int dw = 0; dw < 2; dw++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int b = 0; b < 16; b++) {
          for (int i = dh; i < 32; i += 2) {
            for (int j = dw; j < 32; j += 2) {
              double v = batch.getDouble(b, 0, i, j);
              sum += v;
              sq += v * v;
              n++;
            }
          }
        }
        double mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
        double scale = Math.min(Math.max(1 / std, 0.25), 4);
        int c = 2 * dh + dw;
        assertThat(w.get("layers.0.logs").getDouble(0, c, 0, 0)).as("log scale of channel " + c)
            .isCloseTo(Math.log(scale), offset(1e-5));
        assertThat(w.get("layers.0.b").getDouble(0, c, 0, 0)).as("bias of channel " + c)
            .isCloseTo(-mean * scale, offset(1e-5));
      }
    }
  }

  /**
   * The z_n warning of an iCE run without the MLE term, through the trainer: said once, at the
   * first step whose |z_n| passed 10^3 (as metrics.jsonl logs it every step), however many more
   * do. The run is resumed from a checkpoint whose last ActNorm scales by 2000, which the
   * coupling after it passes half of straight to z.
   */
  @Test
  void nuisanceOutliersAreSaidOnceAtTheFirstStepPastTheLimit(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = new TrainConfig(arch("tiny", tmp), TinyData.idx(tmp.resolve("data"), 64, 10).toString(), "ice", 1,
        16, 1e-3, 0, 0, "constant", 7, 1, 1000, false, 0, 50,
        new IceConfig(1, 0, 0, "paper", Math.log(10), 1, 8, 1e-3, 1, 0, true, 1), null, 0); // 4 steps
    Path run = tmp.resolve("run");
    List<String> messages = new ArrayList<>();
    new Trainer(cfg, run, collecting(messages), 1).run();
    assertThat(lines(run, "train").get(0).get("zn_max_abs").asDouble()).as("before the change").isLessThan(1e3);
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(run), DataType.FLOAT);
    c.model().params().get("layers.2.logs").value().addi(Math.log(2000));
    Checkpoints.save(Trainer.latest(run), c.model(), c.optimizer(), c.state(), c.objective());

    new Trainer(cfg, run, collecting(messages), Long.MAX_VALUE).run();
    List<JsonNode> t = lines(run, "train");
    assertThat(t).hasSize(4);
    for (JsonNode l : t.subList(1, 4)) assertThat(l.get("zn_max_abs").asDouble()).as(l.toString()).isGreaterThan(1e3);
    assertThat(messages.stream().filter(m -> m.startsWith("z_n"))).singleElement().isEqualTo(String.format(
        Locale.ROOT, "z_n reached |z| = %.3g at step 2: without the MLE term nothing bounds its scale, and on"
        + " the full Fashion-MNIST most such runs collapsed part-way; a positive --w-mle (the default, 0.0003) bounds"
        + " it (see the README's iCE experiments)", t.get(1).get("zn_max_abs").asDouble()));
  }
}
