package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** train --objective mle, eval's bits/dim and sample end to end on a tiny model; bad input: exit 2, nothing written. */
class DensityCommandsTest {

  @Test
  void mleTrainingThenEvalAndSample(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), TinyData.ARCH);
    Path data = TinyData.idx(tmp.resolve("data"), 64, 20);
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", runDir.toString(),
        "--epochs", "2", "--batch", "16", "--lr", "3e-3", "--warmup-steps", "2", "--no-progress", "--log-every", "2",
        "--objective", "mle", "--validation", "16");
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(t.out()).containsPattern("trained 6 steps in \\d+ s; test bits/dim \\d+\\.\\d{4} \\(checkpoints/best:"
        + " validation bits/dim \\d+\\.\\d{4}\\)");
    JsonNode cfg = Json.MAPPER.readTree(runDir.resolve("config.json").toFile()).path("config");
    assertThat(cfg.path("objective").asText()).isEqualTo("mle");
    assertThat(cfg.path("dequantize").asBoolean()).as("always on for mle").isTrue();
    List<JsonNode> lines = Files.readAllLines(runDir.resolve("metrics.jsonl")).stream().map(l -> {
      try {
        return Json.MAPPER.readTree(l);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }).toList();
    List<Double> testBits = lines.stream().filter(l -> l.path("type").asText().equals("epoch"))
        .map(l -> l.path("test_bits_per_dim").asDouble()).toList();
    assertThat(testBits).hasSize(2).allSatisfy(b -> assertThat(b).isBetween(0.0, 100.0));
    assertThat(lines.get(0).path("bits_per_dim").isNumber()).isTrue();
    assertThat(lines.get(lines.size() - 2).path("bits_per_dim").asDouble()).as("training lowered the NLL")
        .isLessThan(lines.get(0).path("bits_per_dim").asDouble());
    // The best checkpoint is the epoch with the lowest validation bits/dim (48 images trained on, 16 held out).
    List<Double> validationBits = lines.stream().filter(l -> l.path("type").asText().equals("epoch"))
        .map(l -> l.path("validation_bits_per_dim").asDouble()).toList();
    assertThat(validationBits).hasSize(2).allSatisfy(b -> assertThat(b).isBetween(0.0, 100.0));
    int bestEpoch = validationBits.get(1) < validationBits.get(0) ? 1 : 0;
    double best = testBits.get(bestEpoch);
    JsonNode state = Json.MAPPER.readTree(runDir.resolve("checkpoints/best/training.json").toFile());
    assertThat(-state.path("bestAccuracy").asDouble()).as("best checkpoint by validation bits/dim")
        .isEqualTo(validationBits.get(bestEpoch));
    assertThat(state.path("step").asLong()).isEqualTo(3L * (bestEpoch + 1));

    // eval adds the density on the same dequantisation noise as training: the best epoch's test number again.
    MainTest.Run e = run("eval", "--run", runDir.toString());
    assertThat(e.code()).as(e.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(runDir.resolve("eval-test.json").toFile());
    assertThat(j.path("content_dims").asLong()).as("28x28 real pixels").isEqualTo(784);
    assertThat(j.path("input_dims").asLong()).isEqualTo(1024);
    assertThat(j.path("bits_per_dim").asDouble()).isCloseTo(best, within(1e-4));
    assertThat(j.path("bits_per_input_dim").asDouble()).isCloseTo(best * 784 / 1024, within(1e-4));
    assertThat(j.path("accuracy").isNumber()).isTrue();

    MainTest.Run s = run("sample", "--run", runDir.toString(), "-n", "10", "--temperature", "0.5", "--columns", "4");
    assertThat(s.code()).as(s.err()).isZero();
    Path png = runDir.resolve("analysis/samples-t0.5.png");
    assertThat(png).exists();
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    int cell = 32 * org.irevnet.reports.ImageGrid.SCALE + org.irevnet.reports.ImageGrid.GAP;
    assertThat(img.getWidth()).as("4 columns").isEqualTo(4 * cell + org.irevnet.reports.ImageGrid.GAP);
    assertThat(img.getHeight()).as("3 rows").isEqualTo(3 * cell + org.irevnet.reports.ImageGrid.GAP);
    JsonNode sj = Json.MAPPER.readTree(runDir.resolve("analysis/samples-t0.5.json").toFile());
    assertThat(sj.path("count").asInt()).isEqualTo(10);
    assertThat(sj.path("temperature").asDouble()).isEqualTo(0.5);
    assertThat(sj.path("finite").asBoolean()).isTrue();
    assertThat(sj.path("reencode_max_abs_err").asDouble()).isLessThan(1e-3);
    assertThat(sj.path("image").asText()).isEqualTo("samples-t0.5.png");
    MainTest.Run few = run("sample", "--run", runDir.toString(), "-n", "10", "--temperature", "0.5", "--columns", "4",
        "--grid", "5", "--out", tmp.resolve("few").toString());
    assertThat(few.code()).as(few.err()).isZero();
    java.awt.image.BufferedImage fewImg = javax.imageio.ImageIO.read(tmp.resolve("few/samples-t0.5.png").toFile());
    assertThat(fewImg.getHeight()).as("5 of 10 shown: 2 rows").isEqualTo(2 * cell + org.irevnet.reports.ImageGrid.GAP);
    assertThat(Json.MAPPER.readTree(tmp.resolve("few/samples-t0.5.json").toFile()).path("max_pixel").asDouble())
        .as("statistics of all 10").isEqualTo(sj.path("max_pixel").asDouble());

    // Far outside the training range the float32 inverse overflows: the results are written,
    // exit 1, and one line names the block whose inverse first gave a NaN or infinity.
    MainTest.Run hot = run("sample", "--run", runDir.toString(), "-n", "4", "--temperature", "1e36",
        "--out", tmp.resolve("hot").toString());
    assertThat(hot.code()).as(hot.err()).isEqualTo(1);
    assertThat(hot.err().strip().lines()).as(hot.err()).hasSize(1);
    assertThat(hot.err()).containsPattern("irevnet sample: some samples are not finite \\(the inverse of block \\d+"
        + " \\([^,]+, [A-Za-z0-9]+\\) gave \\d+ non-finite value\\(s\\) of 4096 from an input whose largest"
        + " magnitude is \\d\\.\\d{3}e\\+\\d+\\); try a lower --temperature");
    assertThat(Json.MAPPER.readTree(tmp.resolve("hot/samples-t" + SampleCommand.compact(1e36) + ".json").toFile())
        .path("finite").asBoolean()).isFalse();

    // Bad input: one line, exit 2, nothing written.
    Path out = tmp.resolve("nothing");
    for (String[] bad : new String[][] {{"--temperature", "0"}, {"--temperature", "-1"}, {"--temperature", "1e-50"}, {"-n", "0"},
        {"--columns", "0"}, {"--checkpoint", "worst"}}) {
      String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("sample", "--run", runDir.toString(),
          "--out", out.toString()), java.util.Arrays.stream(bad)).toArray(String[]::new);
      MainTest.Run r = run(args);
      assertThat(r.code()).as(String.join(" ", bad)).isEqualTo(2);
      assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
      assertThat(out).doesNotExist();
    }
  }

  /** The temperature in a file name as typed, and short: spelled out, 1e-320 made a name too long for the file system. */
  @Test
  void temperaturesAreNamedAsTyped() {
    assertThat(SampleCommand.compact(0.7)).isEqualTo("0.7");
    assertThat(SampleCommand.compact(1.0)).isEqualTo("1");
    assertThat(SampleCommand.compact(1e-5)).isEqualTo("0.00001");
    assertThat(SampleCommand.compact(1e-30)).isEqualTo("1E-30");
    assertThat(SampleCommand.compact(1e36)).isEqualTo("1E+36");
    assertThat(SampleCommand.compact(Double.MIN_VALUE)).hasSizeLessThan(30);
  }

  /** The share of pixels outside [0, 1] is counted in float64: a float32 count stops at 2^24. */
  @Test
  void theShareOfPixelsOutsideTheUnitIntervalIsCountedPastFloat32sIntegers() {
    // 2^24 + 1 pixels below 0 and one above 1: a float32 count reads 2^24 + 1 as 2^24.
    long n = (1L << 24) + 2;
    INDArray x = Nd4j.valueArrayOf(new long[] {n}, -0.5f);
    x.putScalar(n - 1, 1.5f);
    assertThat(SampleCommand.fractionOutsideUnitInterval(x)).isEqualTo(1.0);
    x.putScalar(0, 0.5f);
    assertThat(SampleCommand.fractionOutsideUnitInterval(x)).isEqualTo((n - 1) / (double) n);
  }

  /** sample's images come from the model alone: --data, which it accepted and ignored, is refused and not in its --help. */
  @Test
  void sampleRefusesData(@TempDir Path tmp) {
    Path out = tmp.resolve("out");
    MainTest.assertRefused(List.of("sample", "--run", tmp.resolve("run").toString(), "--data", "fashion-mnist-mini",
        "--out", out.toString()), "--data does not apply to sample: its images come from the model alone");
    assertThat(out).doesNotExist();
    MainTest.Run help = run("sample", "--help");
    assertThat(help.out()).contains("--run").doesNotContain("--data");
  }

  /**
   * sample reads no data: a run whose data has moved (a run copied to another machine) is sampled as
   * it is. It loaded the run's data and refused, saying to pass --data, which sample refuses.
   */
  @Test
  void aRunWhoseDataHasMovedIsSampledAsItIs(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    MainTest.Run before = run("sample", "--run", tiny.dir().toString(), "-n", "4", "--out", tmp.resolve("before").toString());
    assertThat(before.code()).as(before.err()).isZero();
    Files.move(tiny.data(), tmp.resolve("moved"));
    MainTest.Run after = run("sample", "--run", tiny.dir().toString(), "-n", "4");
    assertThat(after.code()).as(after.err()).isZero();
    assertThat(tiny.dir().resolve("analysis/samples-t0.7.png")).hasSameBinaryContentAs(tmp.resolve("before/samples-t0.7.png"));
  }

  @Test
  void injectiveArchitecturesAreRefused(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 32, 10);
    Path runDir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", "irevnet-s-inj", "--data", data.toString(), "--out", runDir.toString(),
        "--epochs", "1", "--objective", "mle", "--no-progress");
    assertThat(t.code()).isEqualTo(2);
    assertThat(t.err().strip().lines()).hasSize(1);
    assertThat(t.err()).contains("'irevnet-s-inj' is injective").contains("no density");
    assertThat(runDir).doesNotExist();

    // A classifier trained with CE on it: eval leaves bits/dim out, sample refuses.
    Path arch = Files.writeString(tmp.resolve("inj.json"), """
        {"name": "inj", "type": "irevnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 2, "kernel": 3, "coupling": "additive", "pad": 4}]}""");
    MainTest.Run ce = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", runDir.toString(),
        "--epochs", "1", "--batch", "16", "--no-progress");
    assertThat(ce.code()).as(ce.err()).isZero();
    assertThat(run("eval", "--run", runDir.toString()).code()).isZero();
    assertThat(Json.MAPPER.readTree(runDir.resolve("eval-test.json").toFile()).has("bits_per_dim")).isFalse();
    MainTest.Run s = run("sample", "--run", runDir.toString());
    assertThat(s.code()).isEqualTo(2);
    assertThat(s.err()).contains("injective");
    assertThat(runDir.resolve("analysis")).doesNotExist();
  }
}
