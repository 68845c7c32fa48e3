package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonReportTest {
  record Accuracy(double value, String split) {}

  @Test
  void writesSortedKeysAndTheSchemaVersionAtomically(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("report.json");
    JsonReport.write(f, Map.of("zeta", 1, "accuracy", new Accuracy(0.875, "test")));
    String text = Files.readString(f);
    assertThat(text.indexOf("\"accuracy\"")).isLessThan(text.indexOf("\"schemaVersion\""));
    assertThat(text.indexOf("\"schemaVersion\"")).isLessThan(text.indexOf("\"zeta\""));
    JsonNode n = JsonReport.MAPPER.readTree(text);
    assertThat(n.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
    assertThat(n.get("accuracy").get("value").asDouble()).isEqualTo(0.875);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("report.json");
    }
  }

  record Probe(double accuracy, String checkpoint) implements AnalysisFile {}

  @Test
  void anAnalysisFileRecordsTheWeightsItWasMadeFromWhenGivenThem(@TempDir Path dir) throws Exception {
    Probe p = new Probe(0.5, "best");
    p.writeJson(dir.resolve("with.json"), "c".repeat(64));
    p.writeJson(dir.resolve("without.json"));
    JsonNode with = JsonReport.MAPPER.readTree(dir.resolve("with.json").toFile());
    JsonNode without = JsonReport.MAPPER.readTree(dir.resolve("without.json").toFile());
    assertThat(with.get(JsonReport.WEIGHTS_SHA256).asText()).isEqualTo("c".repeat(64));
    assertThat(without.has(JsonReport.WEIGHTS_SHA256)).isFalse();
    ((com.fasterxml.jackson.databind.node.ObjectNode) with).remove(JsonReport.WEIGHTS_SHA256);
    assertThat(with).as("the record's own fields as before").isEqualTo(without);
    assertThat(without.get("accuracy").asDouble()).isEqualTo(0.5);
  }

  /**
   * What a file's recorded weights are compared with: the run's best or latest checkpoint, by the
   * name the file gives; nothing for a file without a digest or naming a checkpoint by its path
   * (another run's, or a model zip). The report's and seeds' tests only give files naming best.
   */
  @Test
  void theRecordedWeightsAreTheDigestAndTheRunsCheckpointTheFileNames(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    String sha = "d".repeat(64);
    for (String checkpoint : new String[] {"best", "latest"}) {
      Probe p = new Probe(0.5, checkpoint);
      p.writeJson(dir.resolve(checkpoint + ".json"), sha);
      JsonReport.RecordedWeights w =
          JsonReport.recordedWeights(run, JsonReport.MAPPER.readTree(dir.resolve(checkpoint + ".json").toFile()));
      assertThat(w).isEqualTo(new JsonReport.RecordedWeights(checkpoint, run.resolve("checkpoints").resolve(checkpoint),
          sha));
    }
    new Probe(0.5, "/elsewhere/checkpoints/best").writeJson(dir.resolve("path.json"), sha);
    assertThat(JsonReport.recordedWeights(run, JsonReport.MAPPER.readTree(dir.resolve("path.json").toFile()))).isNull();
    new Probe(0.5, "best").writeJson(dir.resolve("nodigest.json"));
    assertThat(JsonReport.recordedWeights(run, JsonReport.MAPPER.readTree(dir.resolve("nodigest.json").toFile())))
        .isNull();
  }
}
