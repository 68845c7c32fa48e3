package org.irevnet.cli;

import static org.irevnet.train.Benchmark.round;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.irevnet.host.Host;
import org.irevnet.layers.AdditiveCoupling;
import org.irevnet.layers.AffineCoupling;
import org.irevnet.layers.Bijection;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.BlockWorkspace;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * JMH benchmarks of one step of every stage of an architecture (its first ActNorm, permutation and
 * coupling, with the model's initial weights after data-dependent initialisation, on the
 * activations that reach it): forward, inverse, and the reversible backward pass, which rebuilds
 * the input, recomputes the coupling's conditioner and computes every gradient. {@code bench
 * --blocks} prints the times per stage with the ratios backward / forward and inverse / forward,
 * and their sum over the model's steps: what a training step's body costs, stage by stage.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class BlockBenchmarks {
  @Param("fi-revnet-s") public String arch;
  @Param("64") public int batch;
  /** Counted from 0, as the layers stage0, stage1, ... of attack's --layer and probe, and invert's stages. */
  @Param("0") public int stage;
  @Param("0") public int threads;

  /**
   * The step's blocks, and for each its input, output, and seeded random gradients; package-private
   * so that a test can check what the set-up made.
   */
  Bijection[] blocks;
  INDArray[] xs, ys, dys;
  private INDArray dLogDet;

  @Setup(Level.Trial)
  public void setUp() {
    if (threads > 0) Host.setThreads(threads);
    Nd4j.getRandom().setSeed(1); // not 0: ND4J takes 0 for no seed, and each fork drew other images
    InvertibleClassifier model = InvertibleClassifier.build(Architecture.load(arch), DataType.FLOAT, 0);
    INDArray images = Nd4j.rand(DataType.FLOAT, model.inputShape(batch));
    model.initialize(images);
    List<INDArray> outs = model.body().forwardWithIntermediates(images);
    int first = stepStart(model, stage);
    blocks = step(model, stage).toArray(Bijection[]::new);
    int n = blocks.length;
    xs = new INDArray[n];
    ys = new INDArray[n];
    dys = new INDArray[n];
    for (int i = 0; i < n; i++) {
      xs[i] = first + i == 0 ? images : outs.get(first + i - 1);
      ys[i] = outs.get(first + i);
      dys[i] = Nd4j.randn(DataType.FLOAT, ys[i].shape());
    }
    dLogDet = Nd4j.ones(DataType.FLOAT, batch);
  }

  // Each block runs in a block workspace, as Sequential runs it in training; its results are
  // consumed there instead of being copied out, so no call pays for fresh memory.

  @Benchmark
  public void forward(Blackhole bh) {
    for (int i = 0; i < blocks.length; i++) {
      Bijection b = blocks[i];
      INDArray x = xs[i];
      BlockWorkspace.run(() -> b.forward(x), f -> consume(bh, f));
    }
  }

  @Benchmark
  public void inverse(Blackhole bh) {
    for (int i = blocks.length - 1; i >= 0; i--) {
      Bijection b = blocks[i];
      INDArray y = ys[i];
      BlockWorkspace.run(() -> b.inverse(y), f -> consume(bh, f));
    }
  }

  @Benchmark
  public void backward(Blackhole bh) {
    for (int i = blocks.length - 1; i >= 0; i--) {
      Bijection b = blocks[i];
      INDArray y = ys[i], dy = dys[i];
      BlockWorkspace.run(() -> b.backward(y, dy, dLogDet), g -> consume(bh, g));
    }
  }

  private static Object consume(Blackhole bh, Object o) {
    bh.consume(o);
    return o;
  }

  /** The index of the first block of stage {@code stage} (from 0) after its SpaceToDepth and padding. */
  private static int stepStart(InvertibleClassifier model, int stage) {
    List<Integer> ends = model.stageEnds();
    if (stage < 0 || stage >= ends.size()) {
      throw new IllegalArgumentException("stage must be in 0.." + (ends.size() - 1) + ", got " + stage);
    }
    int i = stage == 0 ? 0 : ends.get(stage - 1) + 1, last = ends.get(stage);
    while (i <= last && model.body().names().get(i).matches("psi.*|pad.*")) i++;
    for (int j = i; j <= last; j++) if (isCoupling(model.body().blocks().get(j))) return i;
    throw new IllegalArgumentException("stage " + stage + " of " + model.architecture().name() + " has no coupling to benchmark");
  }

  /** The blocks of stage {@code stage}'s first step: from {@link #stepStart} through its coupling. */
  static List<Bijection> step(InvertibleClassifier model, int stage) {
    List<Bijection> body = model.body().blocks(), step = new ArrayList<>();
    for (int i = stepStart(model, stage); step.isEmpty() || !isCoupling(step.get(step.size() - 1)); i++) step.add(body.get(i));
    return step;
  }

  private static boolean isCoupling(Bijection b) {
    return b instanceof AffineCoupling || b instanceof AdditiveCoupling;
  }

  /** JMH settings: forks (0: in this JVM), and warm-up and measured iterations of a given length. */
  record Settings(int forks, int warmupIterations, int iterations, long iterationMs) {}

  /**
   * Runs the benchmarks and returns one map per stage ({@code stage} (from 0), {@code layer} (its
   * name, stage0, stage1, ...), {@code input, steps, blocks} (the
   * step's blocks by class), {@code forward_ms, inverse_ms, backward_ms}, the two ratios, and JMH's
   * error of each time) and a last one summing the times over the model's steps.
   */
  static List<Map<String, Object>> run(String arch, int batch, int threads, Settings s, boolean verbose)
      throws RunnerException {
    Architecture a = Architecture.load(arch);   // a wrong name fails here, in one line, not in JMH
    // So does a stage without steps: its set-up's refusal reached the user as JMH's "Benchmark
    // caught the exception" (exit code 3), after the stages before it had run.
    for (int i = 0; i < a.stages().size(); i++) {
      if (a.stages().get(i).steps() == 0) {
        throw new IllegalArgumentException("stage " + i + " of " + a.name() + " has no coupling to benchmark"
            + " (it has no steps; --blocks times one step of every stage)");
      }
    }
    String[] stages = new String[a.stages().size()];
    for (int i = 0; i < stages.length; i++) stages[i] = Integer.toString(i);
    OptionsBuilder o = new OptionsBuilder();
    o.include(BlockBenchmarks.class.getName() + "\\.")
        .param("arch", arch)
        .param("batch", Integer.toString(batch))
        .param("threads", Integer.toString(threads))
        .param("stage", stages)
        .forks(s.forks())
        // The forks log as quietly as this process (slf4j-simple reads the level at start-up).
        .jvmArgsAppend("-Dorg.slf4j.simpleLogger.defaultLogLevel="
            + System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "error"))
        .warmupIterations(s.warmupIterations())
        .warmupTime(TimeValue.milliseconds(s.iterationMs()))
        .measurementIterations(s.iterations())
        .measurementTime(TimeValue.milliseconds(s.iterationMs()))
        .shouldFailOnError(true);
    // JMH's own report goes to stderr (or nowhere), so that stdout holds only JSON lines.
    Runner runner = new Runner(o.build(), OutputFormatFactory.createFormatInstance(System.err,
        verbose ? VerboseMode.NORMAL : VerboseMode.SILENT));
    return summarize(a, runner.run());
  }

  private static List<Map<String, Object>> summarize(Architecture a, Collection<RunResult> results) {
    InvertibleClassifier model = InvertibleClassifier.build(a, DataType.FLOAT, 0);
    Map<Integer, Map<String, Double>> ms = new java.util.TreeMap<>();
    for (RunResult r : results) {
      int st = Integer.parseInt(r.getParams().getParam("stage"));
      String method = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
      Map<String, Double> m = ms.computeIfAbsent(st, k -> new LinkedHashMap<>());
      m.put(method, r.getPrimaryResult().getScore());
      m.put(method + "_error", r.getPrimaryResult().getScoreError());
    }
    List<Map<String, Object>> lines = new ArrayList<>();
    double fwd = 0, inv = 0, bwd = 0;
    for (Map.Entry<Integer, Map<String, Double>> e : ms.entrySet()) {
      Architecture.Stage st = a.stages().get(e.getKey());
      Map<String, Double> m = e.getValue();
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("stage", e.getKey());
      line.put("layer", model.layerNames().get(e.getKey()));
      line.put("input", inputShape(model, e.getKey()));
      line.put("steps", st.steps());
      line.put("blocks", step(model, e.getKey()).stream().map(b -> b.getClass().getSimpleName()).toList());
      line.putAll(times(m.get("forward"), m.get("inverse"), m.get("backward")));
      // JMH's 99.9% confidence half-width; none from fewer than three iterations.
      for (String k : new String[] {"forward", "inverse", "backward"}) {
        double err = m.get(k + "_error");
        line.put(k + "_ms_error", Double.isFinite(err) ? round(err, 3) : null);
      }
      lines.add(line);
      fwd += st.steps() * m.get("forward");
      inv += st.steps() * m.get("inverse");
      bwd += st.steps() * m.get("backward");
    }
    Map<String, Object> total = new LinkedHashMap<>();
    total.put("arch", a.name());
    total.put("all_steps", true);
    total.putAll(times(fwd, inv, bwd));
    lines.add(total);
    return lines;
  }

  private static Map<String, Object> times(double fwd, double inv, double bwd) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("forward_ms", round(fwd, 3));
    m.put("inverse_ms", round(inv, 3));
    m.put("backward_ms", round(bwd, 3));
    m.put("backward_forward_ratio", round(bwd / fwd, 2));
    m.put("inverse_forward_ratio", round(inv / fwd, 2));
    return m;
  }

  /** The shape of one sample at a stage's first step, as {@code CxHxW}. */
  private static String inputShape(InvertibleClassifier m, int stage) {
    long[] s = m.inputShape(1);
    int first = stepStart(m, stage);
    for (int i = 0; i < first; i++) s = m.body().blocks().get(i).outputShape(s);
    return s[1] + "x" + s[2] + "x" + s[3];
  }
}
