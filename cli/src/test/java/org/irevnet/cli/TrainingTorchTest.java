package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.irevnet.data.Augment;
import org.irevnet.data.BatchIterator;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.Npz;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.testing.TorchPython;
import org.irevnet.train.AdamOptimizer;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Density;
import org.irevnet.train.IceObjective;
import org.irevnet.train.Losses;
import org.irevnet.train.TrainConfig;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What trains the models, against an independent computation: {@code scripts/torch_train.py}
 * recomputes in PyTorch float64, from the README's definitions of the objectives, the learning-rate
 * schedule and Adam (PyTorch's own {@code AdamW} with the README's epsilon convention), the losses of
 * training steps and the state after them: the model's weights and Adam state, and for iCE the
 * adversaries with their Adam states, the prior with its Adam state and the replay buffer.
 *
 * <p>Each scenario is a tiny fi-RevNet trained 3 steps by {@code train} (float32) and, step by step,
 * by the trainer's own parts ({@link Trainer#optimizer}, {@link IceObjective#step}, {@link
 * Density#nll}) in this test, once in float32, which must end bit for bit where {@code train}'s
 * checkpoint does and give its {@code metrics.jsonl} numbers exactly (so it is the trainer's step),
 * and once in float64, whose three steps the script chains from the first state and compares with
 * ours (losses to 1e-10, states to 1e-9). The float32 steps' losses are compared with the metrics
 * lines, each from our state before it. 33 s after other tests in the same JVM on an idle 2-core
 * machine (7 s before the {@code --adv-whiten} scenarios, whose 1,014 x 1,014 covariances the script
 * and the comparisons handle).
 */
class TrainingTorchTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "torch_train.py").toAbsolutePath().normalize();
  static final int STEPS = 3, IMAGES = 64, BATCH = 16;

  /** Three stages: affine couplings, ActNorm, a 1x1 convolution; z has 1024 entries, z_n 1014. */
  static final String ARCH = """
      {"name": "tiny", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10, "stages": [
        {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "scaleFloor": 0.05},
        {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
        {"steps": 1, "hidden": 8, "kernel": 1, "coupling": "affine", "actnorm": true}]}""";

  /**
   * The scenarios, one {@code train} each (1 epoch of 4 batches, so the schedules reach past their
   * warm-up within the 3 steps): CE with dequantisation, shifts, weight decay and the cosine after a
   * warm-up of 2; iCE bounded with the MLE term, standardisation, two MLP adversaries of 2 steps and
   * w_nc warming up over 2 steps; iCE paper with a cap that some samples pass, without
   * standardisation or MLE term, three linear adversaries of 3 steps; iCE with a replay of 2
   * batches and weight decay; {@code --objective mle} with weight decay and the step schedule; iCE
   * with whitened adversaries ({@code --adv-whiten}, the constant learning rate), whose running
   * statistics begin at step 0 and whose W is refreshed at each of the 3 steps (they are in the
   * warm-up), and {@link #LATE}.
   */
  static final Map<String, List<String>> SCENARIOS = new LinkedHashMap<>();

  static {
    SCENARIOS.put("ce", List.of("--lr", "0.01", "--warmup-steps", "2", "--weight-decay", "0.5", "--dequantize",
        "--augment-shift", "2"));
    SCENARIOS.put("ice-bounded", List.of("--objective", "ice", "--lr", "0.005", "--warmup-steps", "1", "--w-nc", "0.5",
        "--w-nc-warmup", "2", "--w-mle", "0.01", "--adversaries", "2", "--adv-hidden", "6", "--adv-steps", "2",
        "--adv-lr", "0.01", "--adv-reinit-every", "0", "--adv-replay", "0"));
    SCENARIOS.put("ice-paper", List.of("--objective", "ice", "--nuisance-form", "paper", "--lr", "0.005",
        "--warmup-steps", "0", "--w-nc", "1", "--w-nc-warmup", "0", "--w-mle", "0", "--adversaries", "3",
        "--adv-hidden", "0", "--adv-steps", "3", "--adv-lr", "0.003", "--adv-standardize", "false", "--adv-replay", "0",
        "--adv-reinit-every", "0"));
    SCENARIOS.put("ice-replay", List.of("--objective", "ice", "--lr", "0.005", "--warmup-steps", "1",
        "--weight-decay", "0.2", "--w-nc", "0.3", "--w-nc-warmup", "0", "--adversaries", "2", "--adv-hidden", "6",
        "--adv-steps", "2", "--adv-replay", "2", "--adv-reinit-every", "0"));
    SCENARIOS.put("mle", List.of("--objective", "mle", "--lr", "0.01", "--warmup-steps", "1", "--weight-decay", "0.3",
        "--schedule", "step"));
    List<String> whiten = List.of("--objective", "ice", "--adv-whiten", "--lr", "0.005", "--schedule", "constant",
        "--warmup-steps", "1", "--w-nc", "0.5", "--w-nc-warmup", "0", "--w-mle", "0.01", "--adversaries", "2",
        "--adv-hidden", "6", "--adv-steps", "2", "--adv-lr", "0.01", "--adv-reinit-every", "0", "--adv-replay", "0");
    SCENARIOS.put("ice-whiten", whiten);
  }

  /**
   * {@code ice-whiten-late}: {@link #STEPS} steps more from {@code ice-whiten}'s checkpoint (its data
   * position, after 3 steps), numbered from {@link #LATE_FIRST_STEP}, by the retraces alone. The
   * whitening's schedule depends on the step's number only, so this takes its real constants where
   * they change: step 99 (after the warm-up of 50, W kept) is the last of the exact average, 100 a
   * refresh at every 25th step with the first decayed weight (0.99 where the exact average would give
   * 100/101), 101 keeps W. Reaching step 99 by training would cost 51 refreshes of a 1,014 x 1,014
   * ZCA (about 0.55 s of CPU each) and 99 steps.
   */
  static final String LATE = "ice-whiten-late";
  static final int LATE_FIRST_STEP = 99;

  @TempDir static Path dir;
  private static JsonNode result;
  private static String python;
  /** Per scenario, the float32 retrace and what {@code train} left: compared by the tests below. */
  private static final Map<String, Retrace> float32 = new LinkedHashMap<>();
  private static final Map<String, Path> runs = new LinkedHashMap<>();

  @BeforeAll
  static void trainInBothFrameworks() throws Exception {
    python = TorchPython.find();
    Path data = AnalysisTorchTest.firstImages(dir.resolve("data"), IMAGES, 16);
    Path arch = Files.writeString(dir.resolve("tiny.json"), ARCH);
    List<Map<String, Object>> scenarios = new ArrayList<>();
    for (var s : SCENARIOS.entrySet()) {
      Path runDir = dir.resolve("run-" + s.getKey());
      String[] args = Stream.concat(Stream.of("train", "--arch", arch.toString(), "--data", data.toString(), "--out",
          runDir.toString(), "--epochs", "1", "--batch", Integer.toString(BATCH), "--max-steps",
          Integer.toString(STEPS), "--log-every", "1", "--threads", "1", "--no-progress"), s.getValue().stream())
          .toArray(String[]::new);
      MainTest.Run r = run(args);
      assertThat(r.code()).as(s.getKey() + ": " + r.err()).isZero();
      runs.put(s.getKey(), runDir);
      TrainConfig cfg = TrainConfig.fromJson(Checkpoints.trainingState(Trainer.latest(runDir)).configJson()).resolved();
      Retrace f32 = retrace(cfg, DataType.FLOAT, null, 0, dir.resolve("f32-" + s.getKey()));
      float32.put(s.getKey(), f32);
      scenarios.add(f32.spec(s.getKey(), runDir, cfg));
      scenarios.add(retrace(cfg, DataType.DOUBLE, null, 0, dir.resolve("f64-" + s.getKey())).spec(s.getKey(), runDir, cfg));
    }
    Path whitened = runs.get("ice-whiten");
    TrainConfig cfg = TrainConfig.fromJson(Checkpoints.trainingState(Trainer.latest(whitened)).configJson()).resolved();
    for (DataType dt : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      Retrace late = retrace(cfg, dt, Trainer.latest(whitened), LATE_FIRST_STEP, dir.resolve(dt + "-" + LATE));
      scenarios.add(late.spec(LATE, whitened, cfg));
    }
    Path check = Files.createDirectories(dir.resolve("check"));
    Files.writeString(check.resolve("training.json"), Json.MAPPER.writeValueAsString(Map.of("scenarios", scenarios)));
    TorchPython.Result out = TorchPython.run(python, SCRIPT.toString(), check.toString());
    assertThat(out.exitCode()).as(out.stderr()).isIn(0, 1);
    result = Json.MAPPER.readTree(out.stdout());
  }

  /** Steps retraced with the trainer's parts from step {@code first}, each step's batch, states before and after, and losses. */
  record Retrace(DataType dataType, long first, long total, List<Path> states, List<Path> batches,
      List<Map<String, Double>> losses, List<String> trainable, InvertibleClassifier model, AdamOptimizer adam,
      IceObjective ice) {
    Map<String, Object> spec(String name, Path runDir, TrainConfig cfg) throws Exception {
      List<Map<String, Object>> steps = new ArrayList<>();
      for (int i = 0; i < losses.size(); i++) {
        steps.add(Map.of("batch", batches.get(i).toString(), "before", states.get(i).toString(), "after",
            states.get(i + 1).toString(), "ours", losses.get(i)));
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("dtype", dataType == DataType.DOUBLE ? "float64" : "float32");
      m.put("model_json", Trainer.latest(runDir).resolve("model.json").toString());
      m.put("config", Json.MAPPER.readTree(cfg.toJson()));
      m.put("total_steps", total);
      m.put("first_step", first);
      m.put("content_dims", 28 * 28);
      m.put("model_params", trainable);
      m.put("steps", steps);
      return m;
    }
  }

  /**
   * {@link #STEPS} steps of the run in {@code dt}, as {@code Trainer} takes them, numbered from
   * {@code first}: the model built from the seed (in float32, then widened) and ActNorm initialised
   * on the first batch, or from the checkpoint {@code from} (widened) at its position in the data;
   * the learning rate of the schedule, the objective's gradients through the reversible backward
   * pass with the block-wise Adam, then the prior's step.
   */
  private static Retrace retrace(TrainConfig cfg, DataType dt, Path from, long first, Path out) throws Exception {
    Architecture arch = Architecture.load(cfg.arch());
    Dataset train = Trainer.prepare(Datasets.resolve(cfg.data()).load(Split.TRAIN), arch);
    BatchIterator it = BatchIterator.builder(train).batchSize(cfg.batch()).seed(cfg.seed()).shuffle(true)
        .dequantize(cfg.dequantize()).augment(Augment.shifts(cfg.augmentShift())).build();
    long total = (long) cfg.epochs() * it.batchesPerEpoch();
    Checkpoints.Loaded c = from == null ? null : Checkpoints.load(from, dt);
    InvertibleClassifier model = c != null ? c.model()
        : InvertibleClassifier.build(arch, DataType.FLOAT, cfg.seed()).withDataType(dt);
    AdamOptimizer adam = Trainer.optimizer(model, cfg.lr());
    adam.setWeightDecay(cfg.weightDecay());
    IceObjective ice = cfg.hasIceObjective() ? IceObjective.forModel(cfg.ice(), model, cfg.seed(), cfg.lr()) : null;
    if (c != null) {
      adam.loadState(c.optimizer());
      if (ice != null) ice.loadState(c.objective());
      it.restore(new BatchIterator.State(c.state().epoch(), c.state().batch()));
    }
    Density density = cfg.hasMleObjective() ? new Density(model, 28 * 28) : null;
    List<Path> states = new ArrayList<>(), batches = new ArrayList<>();
    List<Map<String, Double>> losses = new ArrayList<>();
    for (long step = first; step < first + STEPS; step++) {
      if (!it.hasNext()) it.reset();
      BatchIterator.Batch b = it.nextBatch();
      INDArray x = b.features().castTo(dt);
      if (step == 0) model.initialize(x);
      if (step == first) states.add(save(out.resolve("state-" + first), model, adam, ice));
      batches.add(out.resolve("batch-" + step + ".npz"));
      Npz.write(batches.get(batches.size() - 1), Map.of("x", x, "y", Nd4j.createFromArray(b.labels())));
      double lr = cfg.lrAt(step, total);
      adam.setLearningRate(lr);
      InvertibleClassifier.Forward f = model.forward(x, true);
      Map<String, Double> l = new LinkedHashMap<>();
      if (density != null) {
        Density.Step d = density.nll(f, true);
        l.put("loss", d.natsPerDim());
        l.put("bits_per_dim", d.bitsPerDim());
      } else if (ice == null) {
        Losses.LossGrad lg = Losses.softmaxCrossEntropy(f.logits(), b.labels());
        model.backward(f, lg.grad(), null, null);
        l.put("loss", lg.loss());
      } else {
        IceObjective.Terms t = ice.step(model, f, b.labels(), step);
        l.put("loss", t.loss());
        l.put("ce", t.ce());
        l.put("nuisance_ce", t.nuisanceCe());
        l.put("adversary_accuracy", t.adversaryAccuracy());
        if (cfg.ice().wMle() > 0) l.put("nll_bits_per_dim", t.nllBitsPerDim());
        l.put("w_nc", t.wNc());
      }
      adam.endStep();
      if (ice != null) ice.stepPrior(lr);
      l.put("accuracy", Losses.accuracy(f.logits(), b.labels()));
      l.put("lr", lr);
      losses.add(l);
      states.add(save(out.resolve("state-" + (step + 1)), model, adam, ice));
    }
    List<String> trainable = model.params().entries().entrySet().stream().filter(e -> e.getValue().trainable())
        .map(Map.Entry::getKey).toList();
    return new Retrace(dt, first, total, states, batches, losses, trainable, model, adam, ice);
  }

  /** What a checkpoint holds of the training state, in the checkpoint's files. */
  private static Path save(Path to, InvertibleClassifier model, AdamOptimizer adam, IceObjective ice) throws Exception {
    Files.createDirectories(to);
    Npz.write(to.resolve("weights.npz"), model.params().state());
    Npz.write(to.resolve("optimizer.npz"), adam.state());
    Npz.write(to.resolve(Checkpoints.OBJECTIVE), ice == null ? Map.of() : ice.state());
    return to;
  }

  @Test
  void pyTorchTakesEveryTrainingStepAsWeDo() {
    assertThat(TorchPython.failedChecks(result)).isEmpty();
  }

  /** The float32 retrace is the trainer's step: it ends where {@code train}'s checkpoint is, bit for bit. */
  @ParameterizedTest
  @ValueSource(strings = {"ce", "ice-bounded", "ice-paper", "ice-replay", "mle", "ice-whiten"})
  void theRetracedStepsAreTheTrainers(String scenario) throws Exception {
    Retrace r = float32.get(scenario);
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(runs.get(scenario)), DataType.FLOAT);
    assertThat(c.state().step()).isEqualTo(STEPS);
    assertBitForBit("weights", c.model().params().state(), r.model().params().state());
    assertBitForBit("Adam state", c.optimizer(), r.adam().state());
    if (r.ice() != null) assertBitForBit("objective state", c.objective(), r.ice().state());
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(runs.get(scenario).resolve(Trainer.METRICS))) {
      lines.add(Json.MAPPER.readTree(line));
    }
    assertThat(lines).hasSize(STEPS);
    for (int i = 0; i < STEPS; i++) {
      for (var e : r.losses().get(i).entrySet()) {
        assertThat(lines.get(i).path(e.getKey()).asDouble(Double.NaN)).as("step %d %s", i + 1, e.getKey())
            .isEqualTo(e.getValue());
      }
    }
  }

  /**
   * ND4J's {@code equals} allows 1e-5: these must be the same numbers. Compared by {@link
   * Arrays#mismatch}: AssertJ's {@code containsExactly} diffs the two lists first, in time quadratic
   * in their length, which did not end in 25 minutes for the whitening's 1,014 x 1,014 covariance.
   */
  private static void assertBitForBit(String what, Map<String, INDArray> saved, Map<String, INDArray> retraced) {
    assertThat(saved.keySet()).as(what).isEqualTo(retraced.keySet());
    saved.forEach((k, v) -> {
      double[] ours = v.castTo(DataType.DOUBLE).ravel().toDoubleVector();
      double[] again = retraced.get(k).castTo(DataType.DOUBLE).ravel().toDoubleVector();
      int at = Arrays.mismatch(ours, again);
      assertThat(at).as("%s %s: %d values, the first difference at %d (%s against %s)", what, k, ours.length, at,
          at >= 0 && at < ours.length ? ours[at] : "none", at >= 0 && at < again.length ? again[at] : "none")
          .isEqualTo(-1);
    });
  }

  /** Each kind of number was compared, not skipped. */
  @ParameterizedTest
  @ValueSource(strings = {"ce float64 step 0 loss", "ce float64 step 2 state", "ce float32 step 1 loss",
      "ice-bounded float64 step 0 w_nc", "ice-bounded float64 step 1 nuisance_ce", "ice-bounded float64 step 2 state",
      "ice-bounded float64 step 1 nll_bits_per_dim", "ice-bounded float32 step 2 adversary_accuracy",
      "ice-paper float64 step 2 loss", "ice-paper float64 step 2 state", "ice-paper float32 step 0 nuisance_ce",
      "ice-replay float64 step 2 state", "ice-replay float64 step 2 replay batches", "ice-replay float32 step 2 loss",
      "mle float64 step 2 bits_per_dim", "mle float64 step 2 state", "mle float32 step 1 bits_per_dim",
      "mle float64 step 2 lr", "ice-whiten float64 step 2 state", "ice-whiten float64 step 1 nuisance_ce",
      "ice-whiten float32 step 2 loss", "ice-whiten float64 step 2 whitening statistics",
      "ice-whiten-late float64 step 101 state", "ice-whiten-late float64 step 100 whitening statistics",
      "ice-whiten-late float64 step 99 nuisance_ce", "ice-whiten-late float64 step 101 loss",
      "ice-whiten-late float32 step 100 adversary_accuracy"})
  void everyKindOfNumberWasChecked(String name) {
    TorchPython.assertChecked(result, name);
  }

  /**
   * The whitening's schedule was taken both ways: W refreshed at steps 0-2 and 100, kept from the
   * state at 99 and 101 (so a kept W is compared after a step that did not change it, and a
   * refreshed one after a step that did).
   */
  @Test
  void theWhiteningWasRefreshedAtSomeStepsAndKeptAtOthers() {
    JsonNode m = result.path("measured");
    for (String dtype : List.of("float32", "float64")) {
      for (int step : new int[] {0, 1, 2, 99, 100, 101}) {
        String name = (step > 2 ? LATE : "ice-whiten") + " " + dtype + " step " + step + " whitening refreshed";
        assertThat(m.path(name).toString()).as(name).isEqualTo(step == 99 || step == 101 ? "false" : "true");
      }
    }
  }

  /**
   * The paper form's cap was reached by some samples and not by others, so that both its branches
   * (a capped sample passes no gradient) were taken.
   */
  @Test
  void thePaperCapWasPassedBySomeSamplesAndNotOthers() {
    JsonNode m = result.path("measured");
    assertThat(m.path("ice-paper float64 step 1 samples past the paper cap").asInt()).isPositive();
    assertThat(m.path("ice-paper float64 step 1 samples below the paper cap").asInt()).isPositive();
  }

  /**
   * The classes agree exactly (the batch accuracy of every step) only if no rounding decided them:
   * our float32 logits are good to about 1e-6, so the smallest gap between a batch's two largest
   * logits must be far above that.
   */
  @Test
  void noClassWasDecidedByRounding() {
    List<String> gaps = new ArrayList<>();
    result.path("measured").fields().forEachRemaining(e -> {
      if (e.getKey().endsWith("smallest logit gap")) {
        gaps.add(e.getKey());
        assertThat(e.getValue().asDouble(0)).as(e.getKey()).isGreaterThan(1e-4);
      }
    });
    assertThat(gaps).hasSize(2 * (SCENARIOS.size() + 1) * STEPS); // and LATE's
  }

  /** The script's bad input is one line naming the directory and what is wrong, exit code 2. */
  @Test
  void theScriptRefusesBadInputInOneLine(@TempDir Path tmp) throws Exception {
    TorchPython.assertRefusesAnEmptyDirectory(python, SCRIPT, "training.json", tmp);
  }
}
