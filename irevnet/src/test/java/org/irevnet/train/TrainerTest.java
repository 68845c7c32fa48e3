package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.data.Offset.offset;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.io.Checkpoints;
import org.irevnet.io.ModelFiles;
import org.irevnet.io.Npz;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class TrainerTest {
  static final String TINY = TinyData.ARCH;

  static TrainConfig config(Path arch, Path data, double lr, int epochs) {
    return new TrainConfig(arch.toString(), data.toString(), "ce", epochs, 16, lr, 0.01, 2, "cosine", 7, 2, 1000,
        true, 1, 50, null, null, 0);
  }

  static final Trainer.Listener QUIET = s -> { };

  /** A listener that keeps the trainer's messages. */
  static Trainer.Listener collecting(List<String> messages) {
    return new Trainer.Listener() {
      @Override public void onStep(Trainer.StepInfo s) { }
      @Override public void onMessage(String line) { messages.add(line); }
    };
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
    Trainer.Result rest = new Trainer(cfg, tmp.resolve("b"), QUIET, Long.MAX_VALUE).run();
    assertThat(rest.steps()).isEqualTo(8);

    Map<String, INDArray> a = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> b = Npz.read(Trainer.latest(tmp.resolve("b")).resolve(ModelFiles.WEIGHTS));
    assertThat(b.keySet()).isEqualTo(a.keySet());
    for (String k : a.keySet()) assertThat(b.get(k)).as(k).isEqualTo(a.get(k));
    Map<String, INDArray> oa = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(Checkpoints.OPTIMIZER));
    Map<String, INDArray> ob = Npz.read(Trainer.latest(tmp.resolve("b")).resolve(Checkpoints.OPTIMIZER));
    assertThat(ob.get("adam.moments")).isEqualTo(oa.get("adam.moments"));
    // Weights changed at all (the comparison is not between two untouched models).
    Map<String, INDArray> fresh = org.irevnet.models.InvertibleClassifier.build(
        org.irevnet.models.Architecture.load(arch.toString()), org.nd4j.linalg.api.buffer.DataType.FLOAT, 7).params().state();
    assertThat(a.get("layers.1.net.4.weight")).isNotEqualTo(fresh.get("layers.1.net.4.weight"));

    // The metrics of the resumed run are those of the straight run, plus the line written where
    // it stopped, and nothing twice.
    List<String> ma = steps(tmp.resolve("a")), mb = steps(tmp.resolve("b"));
    assertThat(mb).doesNotHaveDuplicates();
    assertThat(mb.stream().filter(x -> !x.equals("train@3")).toList()).isEqualTo(ma);
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
    List<String> messages = new java.util.ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    new Trainer(rev, tmp.resolve("rev"), QUIET, Long.MAX_VALUE).run();
    new Trainer(stored, tmp.resolve("stored"), listen, Long.MAX_VALUE).run();
    assertThat(messages).anyMatch(m -> m.endsWith("backward from stored activations"));
    assertThat(Files.readString(tmp.resolve("stored").resolve(Trainer.CONFIG))).contains("\"backward\" : \"stored\"");

    Map<String, INDArray> a = Npz.read(Trainer.latest(tmp.resolve("rev")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> b = Npz.read(Trainer.latest(tmp.resolve("stored")).resolve(ModelFiles.WEIGHTS));
    Map<String, INDArray> fresh = org.irevnet.models.InvertibleClassifier.build(
        org.irevnet.models.Architecture.load(arch.toString()), org.nd4j.linalg.api.buffer.DataType.FLOAT, 7).params().state();
    double apart = 0, moved = 0;
    for (String k : a.keySet()) {
      apart = Math.max(apart, a.get(k).sub(b.get(k)).amaxNumber().doubleValue());
      moved = Math.max(moved, a.get(k).sub(fresh.get(k)).amaxNumber().doubleValue());
    }
    assertThat(moved).as("largest change from init").isGreaterThan(1e-2);
    assertThat(apart).as("largest difference between the two runs").isLessThan(moved / 20);
  }

  /** iCE with every stateful part on: two adversaries re-initialised every 3 steps, the MLE prior. */
  static TrainConfig iceConfig(Path arch, Path data, int epochs) {
    TrainConfig c = config(arch, data, 3e-3, epochs);
    return new TrainConfig(c.arch(), c.data(), "ice", c.epochs(), c.batch(), c.lr(), c.weightDecay(),
        c.warmupSteps(), c.schedule(), c.seed(), c.logEvery(), c.checkpointEvery(), false, c.augmentShift(),
        c.evalBatch(), new IceConfig(1, 3, 0.2, "paper", Math.log(10), 2, 8, 1e-3, 2, 3, true, 3), c.backward(), 0);
  }

  @Test
  void iceResumesExactlyIncludingAdversariesAndPrior(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig cfg = iceConfig(arch, data, 2); // 8 steps
    new Trainer(cfg, tmp.resolve("a"), QUIET, Long.MAX_VALUE).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, 4).run();
    new Trainer(cfg, tmp.resolve("b"), QUIET, Long.MAX_VALUE).run();
    for (String f : new String[] {ModelFiles.WEIGHTS, Checkpoints.OPTIMIZER, Checkpoints.OBJECTIVE}) {
      Map<String, INDArray> a = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(f));
      Map<String, INDArray> b = Npz.read(Trainer.latest(tmp.resolve("b")).resolve(f));
      assertThat(b.keySet()).as(f).isEqualTo(a.keySet());
      for (String k : a.keySet()) assertThat(b.get(k)).as(f + " " + k).isEqualTo(a.get(k));
    }
    Map<String, INDArray> obj = Npz.read(Trainer.latest(tmp.resolve("a")).resolve(Checkpoints.OBJECTIVE));
    assertThat(obj).containsKeys("adv.0.fc0.weight", "adv.1.fc1.bias", "adv.1.adam.moments", "prior.beta",
        "prior.gamma", "prior.adam.moments");
    assertThat(obj.get("prior.gamma").amaxNumber().doubleValue()).as("the prior learned").isPositive();
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
    List<String> messages = new java.util.ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    assertThat(Trainer.sayIfNuisanceOutliers(listen, 999, 10, 0)).isFalse();
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
        1000, false, 0, 250, new IceConfig(2, 10, 0.1, "bounded", Math.log(10), 3, 64, 1e-3, 1, 0, true, 4), null, 0);
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
        .hasMessageMatching("(loss is (NaN|Infinity)|a gradient is not finite) at step \\d+ .*")
        .hasMessageNotContaining("\n");
    Checkpoints.verify(Trainer.latest(run));
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(run), org.nd4j.linalg.api.buffer.DataType.FLOAT);
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

  @Test
  void aBatchLargerThanTheTrainingSetIsSaidOnce(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    TrainConfig base = config(arch, data, 1e-3, 1);
    List<String> messages = new java.util.ArrayList<>();
    Trainer.Listener listen = collecting(messages);
    for (int batch : new int[] {32, 1000}) {
      TrainConfig cfg = new TrainConfig(base.arch(), base.data(), "ce", 1, batch, 1e-3, 0, 0, "constant", 7, 1, 1000,
          false, 0, 50, null, null, 0);
      new Trainer(cfg, tmp.resolve("run" + batch), listen, Long.MAX_VALUE).run();
    }
    assertThat(messages.stream().filter(m -> m.startsWith("batch "))).containsExactly(
        "batch 1000 is more than the 32 training images: every step trains on all of them");
  }

  @Test
  void resumingAtAnotherThreadCountIsSaid(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = tinyTwoEpochs(tmp);
    Path run = tmp.resolve("run");
    List<String> messages = new java.util.ArrayList<>();
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

    List<String> messages = new java.util.ArrayList<>();
    TrainConfig longer = with(cfg, 3, 16, 2e-3, 7);
    new Trainer(longer, run, collecting(messages), 1).run();
    assertThat(messages).contains("resuming with epochs 2 -> 3, lr 0.001 -> 0.002: the steps so far used the former");
    messages.clear();
    new Trainer(longer, run, collecting(messages), 1).run();
    assertThat(messages).as("the checkpoint now records the new settings").noneMatch(m -> m.startsWith("resuming with"));
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
    assertThatThrownBy(() -> Checkpoints.load(Trainer.latest(run), org.nd4j.linalg.api.buffer.DataType.FLOAT))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("weights.npz does not match its SHA-256");
  }

  @Test
  void configFilesAreMergedAndCheckedWithOneLineErrors(@TempDir Path tmp) throws Exception {
    Path good = Files.writeString(tmp.resolve("c.json"), "{\"epochs\": 7, \"lr\": 0.0005}");
    TrainConfig c = TrainConfig.read(good, TrainConfig.defaults());
    assertThat(c.epochs()).isEqualTo(7);
    assertThat(c.lr()).isEqualTo(5e-4);
    assertThat(c.batch()).isEqualTo(TrainConfig.defaults().batch());
    Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"epochs\": 7,");
    assertThatThrownBy(() -> TrainConfig.read(bad, TrainConfig.defaults()))
        .hasMessageStartingWith(bad + ": malformed config JSON").hasMessageNotContaining("\n");
    String[][] cases = {
        {"{\"epochz\": 7}", "unknown key 'epochz' (known: arch, augmentShift, backward, batch, checkpointEvery, data,"
            + " dequantize, epochs, evalBatch, ice, logEvery, lr, objective, schedule, seed, validation, warmupSteps, weightDecay)"},
        {"{\"ice\": {\"advStep\": 2}}", "unknown key 'ice.advStep' (known: advHidden, advLr, advReinitEvery, advReplay,"
            + " advStandardize, advSteps, adversaries, nuisanceForm, paperCap, wMle, wNc, wNcWarmupSteps)"},
        {"[7]", "malformed config JSON: the file must hold one JSON object"},
        {"{\"epochs\": \"two\"}", "key 'epochs' must be an integer, got \"two\""},
        {"{\"epochs\": 2.5}", "key 'epochs' must be an integer, got 2.5"}, // Jackson truncated it to 2
        {"{\"epochs\": [2]}", "key 'epochs' must be an integer"},
        {"{\"lr\": \"fast\"}", "key 'lr' must be a number, got \"fast\""},
        {"{\"dequantize\": \"yes\"}", "key 'dequantize' must be true or false, got \"yes\""},
        {"{\"ice\": 3}", "key 'ice' must be a JSON object"},
        {"{\"epochs\": null}", "key 'epochs' must not be null: leave the key out instead"}, // read as 0
        {"{\"ice\": {\"wNc\": null}}", "key 'ice.wNc' must not be null: leave the key out instead"}};
    for (String[] k : cases) {
      Path f = Files.writeString(tmp.resolve("case.json"), k[0]);
      assertThatThrownBy(() -> TrainConfig.read(f, TrainConfig.defaults())).as(k[0]).hasMessage(f + ": " + k[1]);
    }
    // config.json writes the iCE paperCap as null (ln C), and a config file may copy it.
    Path cap = Files.writeString(tmp.resolve("cap.json"), "{\"objective\": \"ice\", \"ice\": {\"paperCap\": null}}");
    assertThat(TrainConfig.read(cap, TrainConfig.defaults()).ice().paperCap()).isNull();
  }

  @Test
  void learningRateWarmsUpThenDecays() {
    TrainConfig c = TrainConfig.defaults();
    assertThat(c.lrAt(0, 1000)).isEqualTo(c.lr() / c.warmupSteps());
    assertThat(c.lrAt(c.warmupSteps() - 1, 1000)).isEqualTo(c.lr());
    assertThat(c.lrAt(550, 1000)).isCloseTo(c.lr() / 2, offset(1e-12));
    assertThat(c.lrAt(999, 1000)).isLessThan(1e-7);
  }
}
