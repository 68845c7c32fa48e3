package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.io.Checkpoints;
import org.irevnet.testing.TinyData;
import org.irevnet.models.Baselines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NetworkTrainerTest {
  static TrainConfig config(String arch, Path data, int epochs) {
    return new TrainConfig(arch, data.toString(), "ce", epochs, 16, 3e-3, 0, 2, "cosine", 7, 2, 1000, false, 0, 50,
        null, null, 0);
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

    new Trainer(cfg, tmp.resolve("b"), TrainerTest.QUIET, 4).run();
    Trainer.Result rest = new Trainer(cfg, tmp.resolve("b"), TrainerTest.QUIET, Long.MAX_VALUE).run();
    assertThat(rest.steps()).isEqualTo(6);
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
}
