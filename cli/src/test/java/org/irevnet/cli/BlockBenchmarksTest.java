package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.irevnet.host.Host;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.ParamTable;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code bench --blocks} runs the JMH benchmarks of every stage's step (here in this JVM, with one
 * short iteration) and derives its lines from what JMH measured.
 */
class BlockBenchmarksTest {
  @Test
  void oneLinePerStageAndTheirSumOverTheSteps(@TempDir Path dir) throws Exception {
    // Two steps in the second stage, so that the sum weights the stages differently.
    Path arch = tinyWithSecondStageSteps(dir, 2);
    // In this JVM (no forks) the benchmarks' set-up applies the thread count to this process;
    // JMH's report, not asked for, stays off stderr.
    int blas = Nd4j.factory().blas().getMaxThreads();
    PrintStream stderr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<Map<String, Object>> lines;
    try {
      System.setErr(new PrintStream(err, true));
      lines = BlockBenchmarks.run(arch.toString(), 2, blas + 1, new BlockBenchmarks.Settings(0, 0, 3, 50), false);
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(blas + 1);
    } finally {
      System.setErr(stderr);
    }
    assertThat(err.toString()).doesNotContain("# JMH").doesNotContain("# Benchmark");

    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).containsEntry("stage", 0).containsEntry("layer", "stage0").containsEntry("input", "4x16x16")
        .containsEntry("steps", 1);
    assertThat(lines.get(1)).containsEntry("stage", 1).containsEntry("layer", "stage1").containsEntry("input", "16x8x8")
        .containsEntry("steps", 2).containsEntry("blocks", List.of("ActNorm", "AffineCoupling"));
    // The same stage as the layer of that name which invert, attack and probe read: a step keeps
    // its stage's shape, so each line's input is the shape of that layer's output.
    InvertibleClassifier model = InvertibleClassifier.build(Architecture.load(arch.toString()), DataType.FLOAT, 0);
    List<INDArray> outputs = model.layerOutputs(Nd4j.rand(DataType.FLOAT, model.inputShape(1)));
    for (int i = 0; i < 2; i++) {
      long[] shape = outputs.get(model.layerNames().indexOf((String) lines.get(i).get("layer"))).shape();
      assertThat(lines.get(i).get("input")).as("line %d", i).isEqualTo(shape[1] + "x" + shape[2] + "x" + shape[3]);
    }
    double[] sum = new double[3];
    String[] keys = {"forward_ms", "inverse_ms", "backward_ms"};
    for (Map<String, Object> stage : lines.subList(0, 2)) {
      for (int k = 0; k < 3; k++) {
        double v = (Double) stage.get(keys[k]);
        assertThat(v).as(keys[k]).isPositive().isFinite();
        sum[k] += (Integer) stage.get("steps") * v;
        assertThat((Double) stage.get(keys[k] + "_error")).as("three iterations give an error").isNotNegative();
      }
      assertRatioToForward(stage, "backward");
      assertRatioToForward(stage, "inverse");
    }
    Map<String, Object> total = lines.get(2);
    assertThat(total).containsEntry("all_steps", true).containsEntry("arch", "tiny");
    for (int k = 0; k < 3; k++) assertThat((Double) total.get(keys[k])).isCloseTo(sum[k], within(0.005));
    assertRatioToForward(total, "inverse");
    assertRatioToForward(total, "backward");
  }

  /** The tiny architecture with {@code steps} steps in its second stage, written to {@code dir/tiny.json}. */
  private static Path tinyWithSecondStageSteps(Path dir, int steps) throws IOException {
    String tiny = TinyData.ARCH, one = "\"steps\": 1";
    int second = tiny.lastIndexOf(one);
    return Files.writeString(dir.resolve("tiny.json"),
        tiny.substring(0, second) + "\"steps\": " + steps + tiny.substring(second + one.length()));
  }

  /**
   * {@code name}_forward_ratio is {@code name}_ms over forward_ms, from the times before they were
   * rounded to 0.001 ms, itself rounded to 0.01: within what the rounding allows. A fixed margin of
   * 0.02 is not always enough: a ratio of 67 over a forward time of 3 ms (one run under load)
   * already allows 0.016, and a forward time of 1 ms would allow 0.04.
   */
  private static void assertRatioToForward(Map<String, Object> line, String name) {
    double f = (Double) line.get("forward_ms"), x = (Double) line.get(name + "_ms"), r = 5e-4 + 1e-9;
    assertThat((Double) line.get(name + "_forward_ratio")).as(name + "_forward_ratio")
        .isBetween((x - r) / (f + r) - 0.005 - 1e-9, (x + r) / (f - r) + 0.005 + 1e-9);
  }

  /**
   * A benchmark's set-up on a stage outside the architecture, or on one without a coupling (no
   * steps), fails with the reason; with threads 0 it leaves this process's threads as they are.
   */
  @Test
  void theSetUpRefusesAStageWithoutACoupling(@TempDir Path dir) throws Exception {
    Path arch = tinyWithSecondStageSteps(dir, 0);
    BlockBenchmarks b = new BlockBenchmarks();
    b.arch = arch.toString();
    b.batch = 2;
    b.threads = 0;
    b.stage = 0;
    int blas = Nd4j.factory().blas().getMaxThreads();
    b.setUp();
    assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(blas);
    b.stage = 1;
    assertThatThrownBy(b::setUp).hasMessage("stage 1 of tiny has no coupling to benchmark");
    for (int stage : new int[] {-1, 2}) {
      b.stage = stage;
      assertThatThrownBy(b::setUp).hasMessage("stage must be in 0..1, got " + stage);
    }
  }

  /**
   * Through the command, a stage without steps is refused in one line before JMH runs anything:
   * the set-up's refusal came back as JMH's "Benchmark caught the exception" (exit code 3), after
   * the first stage had been measured.
   */
  @Test
  void theCommandRefusesAStageWithoutStepsBeforeJmhRuns(@TempDir Path dir) throws Exception {
    Path arch = tinyWithSecondStageSteps(dir, 0);
    MainTest.Run r = MainTest.run("bench", "--blocks", "--arch", arch.toString(), "--batch", "2", "--forks", "0",
        "--iterations", "1", "--warmup-iterations", "0", "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet bench: stage 1 of tiny has no coupling to benchmark (it has no steps;"
        + " --blocks times one step of every stage)");
    assertThat(r.out()).isEmpty();
  }

  /**
   * A step is the blocks from a stage's first after SpaceToDepth through its coupling, whichever
   * permutation and coupling the stage has (a lone coupling without either); the set-up gives each
   * block what reaches it in the model: the first block's input has the stage's shape, and each
   * block's output is what its forward pass makes of its input and the next block's input.
   */
  @Test
  void theSetUpHoldsAStepsBlocksAndTheActivationsThatReachThem(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("mixed.json"), MIXED);
    InvertibleClassifier model = InvertibleClassifier.build(Architecture.load(arch.toString()), DataType.FLOAT, 0);
    assertThat(BlockBenchmarks.step(model, 0).stream().map(b -> b.getClass().getSimpleName()))
        .containsExactly("ActNorm", "Invertible1x1Conv", "AffineCoupling");
    assertThat(BlockBenchmarks.step(model, 1).stream().map(b -> b.getClass().getSimpleName()))
        .containsExactly("ActNorm", "ChannelReverse", "AdditiveCoupling");
    assertThat(BlockBenchmarks.step(model, 2).stream().map(b -> b.getClass().getSimpleName())).containsExactly("AffineCoupling");

    BlockBenchmarks b = new BlockBenchmarks();
    b.arch = arch.toString();
    b.batch = 2;
    b.stage = 1;
    b.setUp();
    assertThat(b.blocks).extracting(x -> x.getClass().getSimpleName()).containsExactly("ActNorm", "ChannelReverse", "AdditiveCoupling");
    assertThat(b.xs[0].shape()).containsExactly(2, 16, 8, 8);
    for (int i = 0; i < 3; i++) {
      assertThat(b.blocks[i].apply(b.xs[i]).equalsWithEps(b.ys[i], 1e-6)).as("block %d's output", i).isTrue();
      if (i < 2) assertThat(b.xs[i + 1]).as("block %d's input", i + 1).isEqualTo(b.ys[i]);
      assertThat(b.dys[i].shape()).isEqualTo(b.ys[i].shape());
    }
  }

  /** Stages with ActNorm and each permutation, and one with a lone coupling. */
  private static final String MIXED = """
      {"name": "mixed", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
                  {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "additive", "actnorm": true, "permutation": "reverse"},
                  {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": false}]}""";

  /**
   * Each benchmark times every block of the step once, on what reaches it: forward from the first
   * block, inverse and backward from the last, each inverse on the block's output and each backward
   * on it and its dL/dy. The inverse and backward loops could stop before block 0 (i > 0 for
   * i >= 0) and leave the step's first block untimed, unseen (audit DB): the times only looked less.
   */
  @Test
  void eachBenchmarkRunsEveryBlockOfTheStepOnceOnWhatReachesIt(@TempDir Path dir) throws Exception {
    BlockBenchmarks b = new BlockBenchmarks();
    b.arch = Files.writeString(dir.resolve("mixed.json"), MIXED).toString();
    b.batch = 2;
    b.stage = 0;
    b.setUp();
    List<String> calls = new ArrayList<>();
    for (int i = 0; i < b.blocks.length; i++) b.blocks[i] = recording(b.blocks[i], i, b, calls);
    Blackhole bh = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    b.forward(bh);
    b.inverse(bh);
    b.backward(bh);
    assertThat(calls).containsExactly("forward 0", "forward 1", "forward 2", "inverse 2", "inverse 1", "inverse 0",
        "backward 2", "backward 1", "backward 0");
  }

  /** {@code block}, noting each call in {@code calls} after checking that it gets block {@code i}'s arrays. */
  private static Bijection recording(Bijection block, int i, BlockBenchmarks b,
      List<String> calls) {
    return new Bijection() {
      @Override public Flow forward(INDArray x) {
        assertThat(x).as("block %d's input", i).isSameAs(b.xs[i]);
        calls.add("forward " + i);
        return block.forward(x);
      }
      @Override public Flow inverse(INDArray y) {
        assertThat(y).as("block %d's output", i).isSameAs(b.ys[i]);
        calls.add("inverse " + i);
        return block.inverse(y);
      }
      @Override public Grad backward(INDArray y,
          INDArray dy, INDArray dLogDet) {
        assertThat(y).as("block %d's output", i).isSameAs(b.ys[i]);
        assertThat(dy).as("block %d's dL/dy", i).isSameAs(b.dys[i]);
        calls.add("backward " + i);
        return block.backward(y, dy, dLogDet);
      }
      @Override public long[] outputShape(long[] inputShape) { return block.outputShape(inputShape); }
      @Override public ParamTable params() { return block.params(); }
      @Override public LogDetKind logDetKind() { return block.logDetKind(); }
    };
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
