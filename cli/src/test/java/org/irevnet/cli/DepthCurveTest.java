package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.irevnet.train.Benchmark;
import org.junit.jupiter.api.Test;

class DepthCurveTest {

  private static JsonNode row(int k, double peak, double param, double ms) {
    String arch = k == 1 ? "fi-revnet-s" : "fi-revnet-s-x" + k;
    return Json.MAPPER.valueToTree(Map.of("arch", arch, "batch", 64, "threads", 2, "backward", "reversible",
        "depth_mult", k, "peak_rss_mib", peak, "process_peak_rss_mib", peak + 4 * k, "param_state_mib", param,
        "working_rss_mib", peak - param,
        "train_step_ms", ms));
  }

  @Test
  void mediansPerDepthRatiosOfTheExtremesAndALeastSquaresLine() {
    // Parameter state exactly 40 MiB per unit of depth; the rest 250 MiB with noise of +-20 that
    // is symmetric at every depth, so the line through all rows has the state's slope.
    List<JsonNode> rows = new ArrayList<>();
    int[] ks = {4, 1, 2};
    double[] noise = {-20, 0, 20};
    for (double e : noise) {
      for (int k : ks) rows.add(row(k, 250 + e + 40 * k, 40 * k, 100 * k + e));
    }
    Map<String, Object> s = DepthCurve.summary(ks, rows);

    assertThat(s.get("arch")).isEqualTo("fi-revnet-s");
    assertThat(s.get("rounds")).isEqualTo(3);
    assertThat(s.get("peak_rss_mib")).isEqualTo(Map.of("4", 410.0, "1", 290.0, "2", 330.0));
    assertThat(s.get("working_rss_mib")).isEqualTo(Map.of("4", 250.0, "1", 250.0, "2", 250.0));
    assertThat((double) s.get("peak_rss_mib_ratio")).isCloseTo(410.0 / 290.0, within(1e-3));
    assertThat((double) s.get("process_peak_rss_mib_ratio")).as("the process's peaks, 4 MiB per K above")
        .isCloseTo(426.0 / 294.0, within(1e-3));
    assertThat((double) s.get("working_rss_mib_ratio")).isEqualTo(1.0);
    assertThat((double) s.get("param_state_mib_per_depth_mult")).isEqualTo(40.0);
    assertThat((double) s.get("param_state_mib_at_depth_mult_0")).isEqualTo(0.0);
    assertThat((double) s.get("working_rss_mib_per_depth_mult")).isEqualTo(0.0);
    assertThat((double) s.get("working_rss_mib_at_depth_mult_0")).isEqualTo(250.0);
    assertThat((double) s.get("train_step_ms_per_depth_mult")).isEqualTo(100.0);
  }

  @Test
  void theLineIsTheLeastSquaresOneWhenTheNoiseIsNotSymmetric() {
    // y = 1, 2, 6 at K = 1, 2, 3: slope (3*(1+4+18) - 6*9) / (3*14 - 36) = 15/6 = 2.5,
    // intercept (9 - 2.5*6)/3 = -2.
    List<JsonNode> rows = List.of(row(1, 1, 0, 1), row(2, 2, 0, 1), row(3, 6, 0, 1));
    Map<String, Object> s = DepthCurve.summary(new int[] {1, 2, 3}, rows);
    assertThat((double) s.get("peak_rss_mib_per_depth_mult")).isEqualTo(2.5);
    assertThat((double) s.get("peak_rss_mib_at_depth_mult_0")).isEqualTo(-2.0);
    assertThat((double) s.get("peak_rss_mib_ratio")).isEqualTo(6.0);
  }

  /**
   * The runs through their processes (here /bin/sh printing a line, for bench in a child JVM): two
   * multipliers in three rounds, the second backwards, each line passed on as it comes, and the
   * summary made of those lines. The n-th run's peak is 100 K + 10 n, so the medians say which runs
   * each multiplier had: K = 1 runs 0, 3 and 4 (130 MiB), K = 3 runs 1, 2 and 5 (320 MiB).
   */
  @Test
  void theRunsAlternateTheirOrderByRoundAndTheSummaryIsOfTheirLines() throws Exception {
    List<Integer> started = new ArrayList<>();
    List<String> printed = new ArrayList<>();
    Map<String, Object> s = DepthCurve.run(new int[] {1, 3}, 3, k -> {
      int n = started.size();
      started.add(k);
      String line = Json.MAPPER.createObjectNode().put("arch", k == 1 ? "tiny" : "tiny-x" + k).put("batch", 4)
          .put("threads", 1).put("backward", "stored").put("depth_mult", k).put("peak_rss_mib", 100 * k + 10 * n)
          .put("process_peak_rss_mib", 100 * k + 10 * n + 1)
          .put("param_state_mib", 10 * k).put("working_rss_mib", 100 * k + 10 * n - 10 * k).put("train_step_ms", k)
          .put("forward_ms", 1).put("inverse_ms", 1).toString();
      return new ProcessBuilder("/bin/sh", "-c", "echo '" + line + "'");
    }, printed::add);

    assertThat(started).containsExactly(1, 3, 3, 1, 1, 3);
    assertThat(printed).hasSize(6);
    for (int n = 0; n < 6; n++) {
      JsonNode line = Json.MAPPER.readTree(printed.get(n));
      assertThat(line.get("depth_mult").asInt()).isEqualTo(started.get(n));
      assertThat(line.get("peak_rss_mib").asInt()).isEqualTo(100 * started.get(n) + 10 * n);
    }
    assertThat(s).containsEntry("arch", "tiny").containsEntry("batch", 4).containsEntry("threads", 1)
        .containsEntry("backward", "stored").containsEntry("rounds", 3)
        .containsEntry("peak_rss_mib", Map.of("1", 130.0, "3", 320.0))
        .containsEntry("peak_rss_mib_ratio", Benchmark.round(320.0 / 130, 3))
        .containsEntry("peak_rss_mib_ratio_by_round", List.of(3.1, Benchmark.round(320.0 / 130, 3), 2.5));
  }

  @Test
  void aRowWithoutTheMemoryFieldsIsAClearError() {
    List<JsonNode> rows = List.of(row(1, 300, 40, 1), Json.MAPPER.valueToTree(Map.of("depth_mult", 4, "arch", "a")));
    assertThatThrownBy(() -> DepthCurve.summary(new int[] {1, 4}, rows))
        .hasMessageContaining("printed no number for peak_rss_mib");
  }

  @Test
  void theAllocatorsCountsAreSummarisedWhereEveryRowHasThem() {
    List<JsonNode> rows = new ArrayList<>();
    for (int k : new int[] {1, 4}) {
      ObjectNode r = (ObjectNode) row(k, 250 + 40 * k, 40 * k, 1);
      r.put("native_in_use_mib", 100 + 40 * k).put("native_free_mib", 30);
      rows.add(r);
    }
    Map<String, Object> s = DepthCurve.summary(new int[] {1, 4}, rows);
    assertThat(s.get("native_in_use_mib")).isEqualTo(Map.of("1", 140.0, "4", 260.0));
    assertThat((double) s.get("native_in_use_mib_per_depth_mult")).isEqualTo(40.0);
    assertThat(s.get("native_free_mib")).isEqualTo(Map.of("1", 30.0, "4", 30.0));

    // Without glibc's counters (bench prints NaN) the summary leaves them out.
    ((ObjectNode) rows.get(1)).put("native_in_use_mib", "NaN");
    assertThat(DepthCurve.summary(new int[] {1, 4}, rows)).doesNotContainKey("native_in_use_mib")
        .containsKey("native_free_mib");
  }
}
