package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --blocks} runs the JMH benchmarks of every stage's step (here in this JVM, with one
 * short iteration) and derives its lines from what JMH measured.
 */
class BlockBenchmarksTest {
  @Test
  void oneLinePerStageAndTheirSumOverTheSteps(@TempDir Path dir) throws Exception {
    Path arch = dir.resolve("tiny.json");
    // Two steps in the second stage, so that the sum weights the stages differently.
    String tiny = TinyData.ARCH, one = "\"steps\": 1";
    int second = tiny.lastIndexOf(one);
    Files.writeString(arch, tiny.substring(0, second) + "\"steps\": 2" + tiny.substring(second + one.length()));
    List<Map<String, Object>> lines = BlockBenchmarks.run(arch.toString(), 2, 1,
        new BlockBenchmarks.Settings(0, 0, 3, 50), false);

    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).containsEntry("stage", 1).containsEntry("input", "4x16x16").containsEntry("steps", 1);
    assertThat(lines.get(1)).containsEntry("stage", 2).containsEntry("input", "16x8x8").containsEntry("steps", 2);
    double[] sum = new double[3];
    String[] keys = {"forward_ms", "inverse_ms", "backward_ms"};
    for (Map<String, Object> stage : lines.subList(0, 2)) {
      for (int k = 0; k < 3; k++) {
        double v = (Double) stage.get(keys[k]);
        assertThat(v).as(keys[k]).isPositive().isFinite();
        sum[k] += (Integer) stage.get("steps") * v;
        assertThat((Double) stage.get(keys[k] + "_error")).as("three iterations give an error").isNotNegative();
      }
      assertThat((Double) stage.get("backward_forward_ratio"))
          .isCloseTo((Double) stage.get("backward_ms") / (Double) stage.get("forward_ms"), within(0.02));
      assertThat((Double) stage.get("inverse_forward_ratio"))
          .isCloseTo((Double) stage.get("inverse_ms") / (Double) stage.get("forward_ms"), within(0.02));
    }
    Map<String, Object> total = lines.get(2);
    assertThat(total).containsEntry("all_steps", true).containsEntry("arch", "tiny");
    for (int k = 0; k < 3; k++) assertThat((Double) total.get(keys[k])).isCloseTo(sum[k], within(0.005));
    assertThat((Double) total.get("inverse_forward_ratio"))
        .isCloseTo((Double) total.get("inverse_ms") / (Double) total.get("forward_ms"), within(0.02));
    assertThat((Double) total.get("backward_forward_ratio"))
        .isCloseTo((Double) total.get("backward_ms") / (Double) total.get("forward_ms"), within(0.02));
  }

  @Test
  void badSettingsAreOneLineAndExitCode2() {
    MainTest.Run r = MainTest.run("bench", "--blocks", "--forks", "-1", "--no-progress");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("--forks");
    MainTest.Run d = MainTest.run("bench", "--blocks", "--depth-mult", "2", "--no-progress");
    assertThat(d.code()).isEqualTo(2);
    assertThat(d.err()).contains("--blocks takes neither");
  }
}
