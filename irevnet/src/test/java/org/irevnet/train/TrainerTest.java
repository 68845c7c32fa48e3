package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.nd4j.linalg.api.ndarray.INDArray;

class TrainerTest {
  static final String TINY = TinyData.ARCH;

  static TrainConfig config(Path arch, Path data, double lr, int epochs) {
    return new TrainConfig(arch.toString(), data.toString(), "ce", epochs, 16, lr, 0.01, 2, "cosine", 7, 2, 1000,
        true, 1, 50);
  }

  static final Trainer.Listener QUIET = s -> { };

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

  static List<String> steps(Path run) throws IOException {
    return Files.readAllLines(run.resolve(Trainer.METRICS)).stream()
        .map(l -> l.replaceAll(".*\"type\":\"(\\w+)\".*\"step\":(\\d+).*", "$1@$2")).toList();
  }

  @Test
  void aDivergingRunStopsNamingTheStepAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TINY);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    TrainConfig base = config(arch, data, 1e7, 50);
    TrainConfig cfg = new TrainConfig(base.arch(), base.data(), "ce", 50, 16, 1e7, 0, 0, "constant", 7, 1, 1,
        false, 0, 50);
    Path run = tmp.resolve("run");
    assertThatThrownBy(() -> new Trainer(cfg, run, QUIET, Long.MAX_VALUE).run())
        .isInstanceOf(Trainer.DivergedException.class)
        .hasMessageMatching("(loss is (NaN|Infinity)|a gradient is not finite) at step \\d+ .*")
        .hasMessageNotContaining("\n");
    Checkpoints.verify(Trainer.latest(run));
    Checkpoints.Loaded c = Checkpoints.load(Trainer.latest(run), org.nd4j.linalg.api.buffer.DataType.FLOAT);
    for (var p : c.model().params().entries().values()) {
      assertThat(p.value().isNaN().any() || p.value().isInfinite().any()).isFalse();
    }
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
    Path unknown = Files.writeString(tmp.resolve("u.json"), "{\"epochz\": 7}");
    assertThatThrownBy(() -> TrainConfig.read(unknown, TrainConfig.defaults())).hasMessageContaining("epochz");
  }

  @Test
  void learningRateWarmsUpThenDecays() {
    TrainConfig c = TrainConfig.defaults();
    assertThat(c.lrAt(0, 1000)).isEqualTo(c.lr() / c.warmupSteps());
    assertThat(c.lrAt(c.warmupSteps() - 1, 1000)).isEqualTo(c.lr());
    assertThat(c.lrAt(550, 1000)).isCloseTo(c.lr() / 2, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(c.lrAt(999, 1000)).isLessThan(1e-7);
  }
}
