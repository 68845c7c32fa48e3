package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default experiment end to end on a tiny model and tiny data, and its bad-input errors. */
class QuickstartCommandTest {

  @Test
  void runsEveryStepAndWritesTheComparisonReport(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), org.irevnet.testing.TinyData.ARCH);
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 64, 20);
    Path out = tmp.resolve("qs");
    MainTest.Run r = run("quickstart", "--arch", arch.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--count", "8", "--skip-selftest", "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [1/").contains("report.html");

    JsonNode summary = Json.MAPPER.readTree(out.resolve("quickstart.json").toFile());
    assertThat(summary.get("complete").asBoolean()).isTrue();
    assertThat(summary.get("steps")).hasSize(19);
    for (JsonNode s : summary.get("steps")) assertThat(s.get("exit_code").asInt()).as(s.get("name").asText()).isZero();

    for (String run : new String[] {"ce", "ice"}) {
      Path a = out.resolve(run).resolve("analysis");
      for (String f : new String[] {"invert.json", "nuisance-probe.json", "layer-probes.json", "metamers.json",
          "interpolate.json", "attack-fgsm.json", "attack-pgd-linf.json", "attack-metamer.json"}) {
        assertThat(a.resolve(f)).as(run + "/" + f).exists();
      }
    }
    JsonNode metamers = Json.MAPPER.readTree(out.resolve("ice/analysis/metamers.json").toFile());
    assertThat(metamers.at("/summary/rate_probe_class_is_label_of_b").isNumber()).as("metamers --probe-class").isTrue();
    JsonNode ice = Json.MAPPER.readTree(out.resolve("ice/config.json").toFile());
    assertThat(ice.at("/config/objective").asText()).isEqualTo("ice");
    JsonNode report = Json.MAPPER.readTree(out.resolve("report.json").toFile());
    assertThat(report.get("runs")).hasSize(2);
    assertThat(Files.readString(out.resolve("report.html"))).contains("Nuisance probe").contains("ice");
  }

  /**
   * A quickstart stopped after its first step (its record says so, as one written after each step
   * does) continues with --resume: the finished step is kept, the training it was in goes on from
   * its checkpoint, the rest runs. Resumed with other settings it is refused.
   */
  @Test
  void aStoppedQuickstartContinuesWithResume(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), org.irevnet.testing.TinyData.ARCH);
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 64, 20);
    Path out = tmp.resolve("qs");
    String[] args = {"quickstart", "--arch", arch.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--count", "8", "--skip-selftest", "--no-progress", "--threads", "1"};
    assertThat(run(args).code()).isZero();
    Path record = out.resolve("quickstart.json");
    com.fasterxml.jackson.databind.node.ObjectNode summary = (com.fasterxml.jackson.databind.node.ObjectNode)
        Json.MAPPER.readTree(record.toFile());
    JsonNode first = summary.get("steps").get(0);
    summary.put("complete", false);
    ((com.fasterxml.jackson.databind.node.ArrayNode) summary.get("steps")).removeAll().add(first);
    Files.writeString(record, Json.MAPPER.writeValueAsString(summary));
    for (String gone : new String[] {"report.html", "report.json", "ce/analysis", "ice/analysis"}) {
      org.irevnet.io.AtomicFiles.deleteTree(out.resolve(gone));
    }
    String ceMetrics = Files.readString(out.resolve("ce/metrics.jsonl"));

    MainTest.Run r = run(java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--resume"))
        .toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quickstart [1/19] done before: " + first.get("name").asText());
    assertThat(r.err()).containsPattern("quickstart \\[2/19, [0-9:]+ elapsed\\] train .* --resume");
    assertThat(out.resolve("ce/metrics.jsonl")).as("the finished training is kept").hasContent(ceMetrics);
    JsonNode after = Json.MAPPER.readTree(record.toFile());
    assertThat(after.get("complete").asBoolean()).isTrue();
    assertThat(after.get("steps")).hasSize(19);
    assertThat(after.get("steps").get(0)).isEqualTo(first);
    for (JsonNode s : after.get("steps")) assertThat(s.get("exit_code").asInt()).as(s.get("name").asText()).isZero();
    assertThat(out.resolve("ice/analysis/attack-metamer.json")).exists();
    assertThat(out.resolve("report.html")).exists();

    String[] other = args.clone();
    other[java.util.Arrays.asList(args).indexOf("--epochs") + 1] = "2";
    MainTest.Run refused = run(java.util.stream.Stream.concat(java.util.Arrays.stream(other),
        java.util.stream.Stream.of("--resume")).toArray(String[]::new));
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err().strip()).isEqualTo("irevnet quickstart: --resume continues the quickstart in " + out
        + " as it was started: its --epochs was 1, not 2 (or start again with --fresh)");
  }

  @Test
  void refusesAnExistingQuickstartAndBadCounts(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("qs/ce"));
    MainTest.Run again = run("quickstart", "--out", tmp.resolve("qs").toString(), "--no-progress");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("--resume").contains("--fresh").hasLineCount(1);
    MainTest.Run nothing = run("quickstart", "--out", tmp.resolve("none").toString(), "--resume", "--no-progress");
    assertThat(nothing.code()).isEqualTo(2);
    assertThat(nothing.err().strip()).isEqualTo("irevnet quickstart: " + tmp.resolve("none")
        + ": no quickstart to resume (no quickstart.json)");
    MainTest.Run zero = run("quickstart", "--out", tmp.resolve("other").toString(), "--epochs", "0");
    assertThat(zero.code()).isEqualTo(2);
    assertThat(zero.err()).contains("--epochs");
    for (String[] a : new String[][] {{"cnn-s", "a non-invertible baseline"}, {"irevnet-s", "irevnet"}}) {
      Path where = tmp.resolve("arch-" + a[0]);
      MainTest.Run notFi = run("quickstart", "--arch", a[0], "--out", where.toString(), "--epochs", "1", "--count", "1",
          "--skip-selftest", "--no-progress", "--threads", "1");
      assertThat(notFi.code()).as(a[0]).isEqualTo(2);
      assertThat(notFi.err().strip()).isEqualTo("irevnet quickstart: --arch must be a fully invertible (fi-revnet)"
          + " architecture, as the iCE model needs one; '" + a[0] + "' is " + a[1]);
      assertThat(where).as("refused before the CE model's training").doesNotExist();
    }
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    MainTest.Run onAFile = run("quickstart", "--out", file.toString(), "--no-progress");
    assertThat(onAFile.code()).isEqualTo(2);
    assertThat(onAFile.err().strip()).isEqualTo("irevnet quickstart: " + file + ": exists and is not a directory");
  }
}
