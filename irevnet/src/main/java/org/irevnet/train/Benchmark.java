package org.irevnet.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.irevnet.host.Host;
import org.irevnet.host.Memory;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The work that {@code irevnet bench} measures, the same as the PyTorch twin
 * ({@code shared/bench/torch_fi_revnet.py}): Adam training steps on 28x28 images in [0,1]
 * zero-padded to 32x32 with random labels, a forward and an inverse pass, and reconstruction
 * errors in float32 and float64. Times are medians.
 */
public final class Benchmark {
  /**
   * Steps between garbage collections ({@link Host#collectGarbage}); training collects every 20.
   * Collecting every step instead changed neither the peaks nor their ratio across depths
   * (docs/measurements.md, 2026-12-05).
   */
  static final int GC_EVERY = 5;
  static final double LEARNING_RATE = 1e-3;
  /**
   * Forward and inverse passes timed, alternating, for their medians. Three gave medians that
   * moved by a factor of 1.5-2 between runs of one build on this shared machine (forward 108.9 and
   * 79.0 ms, inverse 59.4 and 78.0), so the inverse once read 1.4x slower than the forward where
   * 20 alternating passes in one process gave 68.0 against 65.0 ms.
   */
  static final int PASSES = 9;

  private Benchmark() {}

  /**
   * One benchmark result; field names are the JSON keys of DESIGN.md section 9, plus the split of
   * the peak into what must grow with depth ({@code param_state_mib}: parameters and Adam's two
   * moments, three numbers per parameter; gradients live one block at a time) and everything else
   * ({@code working_rss_mib}: activations, workspaces, the block gradient buffer, JVM and native
   * libraries), which is what reversibility keeps flat. {@code backward} is {@code reversible} or
   * {@code stored} ({@link InvertibleClassifier#setStoredActivations}), whose activations take
   * {@code stored_activation_mib} of the working set. {@code steps} and {@code warmup} say what was
   * run: the reconstruction errors are measured after the {@code steps} timed Adam updates on the
   * one batch, and grow with them (float32 5e-7 after 5, 1.1e-5 after 40 on fi-revnet-s).
   *
   * <p>{@code peak_rss_mib} is, like the times, a median over the timed steps: of each step's own
   * peak resident size ({@link Memory#resetPeakRss} before it). The process's peak ({@code
   * process_peak_rss_mib}, start-up and warm-up included) is one maximum over the whole run, which
   * a single step's excursion of 20 MiB, in the warm-up too, set (measured on fi-revnet-s x4).
   *
   * <p>{@code native_in_use_mib} and {@code native_free_mib} split the native heap after the timed
   * steps (between two steps) as glibc's allocator counts it ({@link NativeHeap#usage}): what the
   * process holds, and what it has freed but glibc keeps in its arenas for reuse. Resident memory
   * counts both; the second varies by tens of MiB between identical runs (how freed chunks happen
   * to fragment), as much as depth changes the rest of {@code peak_rss_mib}. NaN without glibc's
   * {@code mallinfo2}.
   */
  public record Result(String arch, int batch, int threads, long params, double train_step_ms,
      double train_images_per_s, double forward_ms, double inverse_ms, double recon_max_abs_err_f32,
      double recon_max_abs_err_f64, double peak_rss_mib, double process_peak_rss_mib, double param_state_mib,
      double working_rss_mib, double native_in_use_mib, double native_free_mib, int depth_mult, String backward,
      double stored_activation_mib, int steps, int warmup) {}

  /** @param storedActivations whether the backward pass reads stored activations instead of rebuilding them */
  public static Result run(Architecture arch, int batch, int steps, int warmup, int depthMult,
      boolean storedActivations, java.util.function.IntConsumer onStep) {
    return run(arch, batch, steps, warmup, depthMult, storedActivations, onStep, Memory::resetPeakRss);
  }

  /** @param resetPeak {@link Memory#resetPeakRss}, or a stand-in for a system where it fails */
  static Result run(Architecture arch, int batch, int steps, int warmup, int depthMult,
      boolean storedActivations, java.util.function.IntConsumer onStep, java.util.function.BooleanSupplier resetPeak) {
    Architecture a = arch.withDepthMultiplier(depthMult);
    Setup setup = Setup.of(a, batch);
    InvertibleClassifier model = setup.model();
    INDArray x = setup.x();
    AdamOptimizer adam = setup.adam();
    model.setStoredActivations(storedActivations);
    double[] times = new double[steps];
    double[] peaks = new double[steps];
    double beforeTimed = Double.NaN;
    boolean perStep = true;
    // The warm-up steps run while the JVM compiles the hot paths. At learning rate 0 they leave
    // the weights as initialised (and the moments are reset after them), so the timed steps and
    // the reconstruction errors are those of `steps` updates from initialisation, whatever the
    // warm-up: 30 ordinary steps more on random labels raised the float32 error from 8e-7 to 4e-5.
    adam.setLearningRate(0);
    for (int i = 0; i < warmup + steps; i++) {
      if (i == warmup) {
        adam.setLearningRate(LEARNING_RATE);
        adam.resetState();
        beforeTimed = Memory.peakRssMiB();
      }
      if (i >= warmup) perStep &= resetPeak.getAsBoolean();
      double ms = timedStep(setup, i, onStep);
      if (i >= warmup) {
        times[i - warmup] = ms;
        peaks[i - warmup] = Memory.peakRssMiB();
      }
    }
    double stepsPeak = Math.max(beforeTimed, Arrays.stream(peaks).max().orElse(Double.NaN));
    // Where the peak cannot be reset (no /proc/self/clear_refs), each reading is the process's so
    // far, whose median means nothing: the process's peak through the timed steps stands for the steps'.
    double peak = perStep ? median(peaks) : stepsPeak;
    NativeHeap.Usage heap = NativeHeap.usage();
    double paramState = mib(3.0 * model.params().count() * DataType.FLOAT.width());
    double train = median(times);

    double[] fwd = new double[PASSES];
    double[] inv = new double[PASSES];
    INDArray out = null;
    INDArray back = null;
    for (int i = 0; i < PASSES; i++) {
      long t0 = System.nanoTime();
      out = model.forward(x, false).out();
      fwd[i] = (System.nanoTime() - t0) / 1e6;
      t0 = System.nanoTime();
      back = model.invert(out);
      inv[i] = (System.nanoTime() - t0) / 1e6;
    }
    double err32 = Tensors.maxAbs(back.sub(x));
    InvertibleClassifier m64 = model.withDataType(DataType.DOUBLE);
    INDArray x64 = x.castTo(DataType.DOUBLE);
    double err64 = Tensors.maxAbs(m64.invert(m64.forward(x64, false).out()).sub(x64));
    // The passes above are the process's too (the twin's peak includes its own): read since the
    // reset before the last timed step, they raised it by 64 MiB of 400 for the tiny net at batch 512.
    double processPeak = Math.max(stepsPeak, Memory.peakRssMiB());
    return new Result(a.name(), batch, Host.threads(), model.params().count(), round(train),
        round(batch * 1000.0 / train), round(median(fwd)), round(median(inv)), err32, err64,
        round(peak), round(processPeak), round(paramState), round(peak - paramState),
        heapMiB(heap, NativeHeap.Usage::inUseBytes), heapMiB(heap, NativeHeap.Usage::freeBytes),
        depthMult,
        passName(storedActivations), round(mib(model.storedActivationBytes())), steps, warmup);
  }

  /**
   * The two backward passes timed in one process, in alternating blocks of steps: separate
   * processes of this shared machine differed by 15-30% between identical runs, more than the
   * difference measured here. Field names are the JSON keys of {@code bench --backward both}.
   * The line says how the passes were ordered, as they ran, so that a reader can tell whether
   * the order favoured one (an odd warm-up gives one pass a step more): the warm-up steps of each
   * pass ({@code warmup_steps_reversible}, {@code warmup_steps_stored}) and each round's passes in
   * the order they ran ({@code passes_by_round}).
   */
  public record BackwardComparison(String arch, int batch, int threads, int depth_mult, int rounds,
      int steps_per_round, double reversible_train_step_ms, double stored_train_step_ms,
      double stored_reversible_ratio, double stored_activation_mib, int warmup_steps_reversible,
      int warmup_steps_stored, List<List<String>> passes_by_round) {}

  /**
   * Times {@code rounds} rounds of {@code steps} training steps with each backward pass (which goes
   * first alternates by round, reversible in the first), after {@code warmup} steps alternating
   * the two, reversible first; times are medians over all timed steps of a pass. The weights train
   * on as in {@link #run} (after warm-up steps at learning rate 0), so both passes see the same
   * kind of weights.
   */
  public static BackwardComparison compareBackward(Architecture arch, int batch, int steps, int warmup,
      int depthMult, int rounds, java.util.function.IntConsumer onStep) {
    Architecture a = arch.withDepthMultiplier(depthMult);
    Setup s = Setup.of(a, batch);
    InvertibleClassifier model = s.model();
    AdamOptimizer adam = s.adam();
    adam.setLearningRate(0);
    int done = 0;
    int[] warmupSteps = new int[2];
    for (int i = 0; i < warmup; i++) {
      model.setStoredActivations(i % 2 == 1);
      warmupSteps[model.storesActivations() ? 1 : 0]++;
      timedStep(s, done++, onStep);
    }
    adam.setLearningRate(LEARNING_RATE);
    adam.resetState();
    double[][] times = new double[2][rounds * steps];
    long storedBytes = 0;
    List<List<String>> passes = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<String> round = new ArrayList<>();
      for (int k = 0; k < 2; k++) {
        model.setStoredActivations((r + k) % 2 == 1);
        boolean stored = model.storesActivations();
        round.add(passName(stored));
        for (int i = 0; i < steps; i++) times[stored ? 1 : 0][r * steps + i] = timedStep(s, done++, onStep);
        if (stored) storedBytes = model.storedActivationBytes();
      }
      passes.add(List.copyOf(round));
    }
    double rev = median(times[0]), sto = median(times[1]);
    return new BackwardComparison(a.name(), batch, Host.threads(), depthMult, rounds, steps, round(rev), round(sto),
        round(sto / rev, 3), round(mib(storedBytes)), warmupSteps[0], warmupSteps[1], List.copyOf(passes));
  }

  private static String passName(boolean storedActivations) {
    return storedActivations ? "stored" : "reversible";
  }

  /**
   * A freshly initialised model, its batch and labels (seeded), and its block-wise optimiser: what
   * the benchmark (and {@code TrainingMemoryTest}) trains.
   */
  record Setup(InvertibleClassifier model, INDArray x, int[] y, AdamOptimizer adam) {
    static Setup of(Architecture a, int batch) {
      InvertibleClassifier model = InvertibleClassifier.build(a, DataType.FLOAT, 0);
      Random rng = new Random(0);
      INDArray x = images(model, batch, rng);
      int[] y = rng.ints(batch, 0, model.numClasses()).toArray();
      model.initialize(x);
      AdamOptimizer adam = Trainer.optimizer(model, LEARNING_RATE);   // as training does: block by block
      Host.collectGarbage(0, 1); // the parameter arrays replaced by the optimiser's flat buffer
      return new Setup(model, x, y, adam);
    }
  }

  /**
   * The {@code index}-th step of a run ({@link #step}, then the periodic garbage collection, both
   * timed), reported to {@code onStep}; returns its milliseconds.
   */
  private static double timedStep(Setup s, int index, java.util.function.IntConsumer onStep) {
    long t0 = System.nanoTime();
    step(s.model(), s.x(), s.y(), s.adam());
    Host.collectGarbage(index + 1, GC_EVERY);
    double ms = (System.nanoTime() - t0) / 1e6;
    if (onStep != null) onStep.accept(index);
    return ms;
  }

  /**
   * One training step as the benchmark times it: forward, cross-entropy on the logits, backward
   * (reversible, or from stored activations if the model keeps them) with {@code adam} (from
   * {@code Trainer.optimizer}) updating each block as it finishes.
   */
  static void step(InvertibleClassifier model, INDArray x, int[] y, AdamOptimizer adam) {
    InvertibleClassifier.Forward f = model.forward(x, true);
    model.backward(f, Losses.softmaxCrossEntropy(f.logits(), y).grad(), null, null);
    adam.endStep();
  }

  /**
   * Images in [0,1] of 28x28 pixels, zero-padded to the model's input size; filling a smaller input.
   * Into a 16x16 input the 28x28 pixels went through a view past the array's end (ND4J's assign
   * checks no length), and the JVM died in libnd4j (SIGSEGV, exit 134; audit EB).
   */
  static INDArray images(InvertibleClassifier model, int batch, Random rng) {
    long[] shape = model.inputShape(batch);
    INDArray x = Nd4j.zeros(DataType.FLOAT, shape);
    long h = Math.min(28, shape[2]), w = Math.min(28, shape[3]);
    long ph = (shape[2] - h) / 2, pw = (shape[3] - w) / 2;
    INDArray inner = Init.uniform(DataType.FLOAT, rng, 0.5, batch, shape[1], h, w).addi(0.5);
    x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(ph, ph + h),
        NDArrayIndex.interval(pw, pw + w)).assign(inner);
    return x;
  }

  /** The median of {@code v} (the mean of the middle two for an even count). */
  public static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  }

  /**
   * {@code v} rounded to {@code decimals} decimal places, for the numbers of a JSON line; NaN and
   * infinities as they are (Math.round would make them 0 and Long.MAX_VALUE), and so are values
   * too large to have decimals in a double (2^53 and beyond once scaled), which Math.round's long
   * capped: a peer's 1e308 ms read 9.2e17.
   */
  public static double round(double v, int decimals) {
    double scale = Math.pow(10, decimals);
    if (!Double.isFinite(v) || Math.abs(v * scale) >= 0x1p53) return v;
    return Math.round(v * scale) / scale;
  }

  private static double round(double v) {
    return round(v, 1);
  }

  /** One of glibc's counters in MiB, NaN where it cannot be read (not glibc, or before 2.33). */
  private static double heapMiB(NativeHeap.Usage heap, java.util.function.ToLongFunction<NativeHeap.Usage> counter) {
    return heap == null ? Double.NaN : round(mib(counter.applyAsLong(heap)));
  }

  private static double mib(double bytes) {
    return bytes / (1 << 20);
  }
}
