package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.irevnet.host.Host;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The warm-up steps leave the weights as initialised: the reconstruction errors after the timed
 * steps are the same to the last bit with or without them, and training does move the weights.
 * The other fields of a result are checked for what they are made of (the run's settings, the
 * parameter count, the split of the peak), never for how long or how much memory anything took.
 */
class BenchmarkTest {
  private static final Architecture TINY = Architecture.fromJson(TinyData.ARCH);
  /**
   * The tiny net with a 1x1 convolution after each ActNorm: its float64 round trip moves with
   * every update (1.3e-15 after two steps, 1.1e-15 after three), where the plain tiny net's errors
   * stay on the same few units in the last place.
   */
  private static final Architecture TINY_1X1 = Architecture.fromJson(
      TinyData.ARCH.replace("\"actnorm\": true", "\"actnorm\": true, \"permutation\": \"1x1conv\""));

  @Test
  void warmupStepsDoNotChangeTheMeasuredModel() {
    Benchmark.Result cold = Benchmark.run(TINY_1X1, 4, 2, 0, 1, false, null);
    Benchmark.Result warm = Benchmark.run(TINY_1X1, 4, 2, 3, 1, false, null);
    assertThat(warm.recon_max_abs_err_f32()).isEqualTo(cold.recon_max_abs_err_f32());
    assertThat(warm.recon_max_abs_err_f64()).isEqualTo(cold.recon_max_abs_err_f64());
    // The comparison could fail: one more timed (updating) step changes the errors.
    Benchmark.Result longer = Benchmark.run(TINY_1X1, 4, 3, 0, 1, false, null);
    assertThat(List.of(longer.recon_max_abs_err_f32(), longer.recon_max_abs_err_f64()))
        .isNotEqualTo(List.of(cold.recon_max_abs_err_f32(), cold.recon_max_abs_err_f64()));
  }

  /**
   * A stored-activation run at depth multiplier 8 (11552 parameters, so that the parameter state
   * is more than a rounding step): its settings, the parameter state at 12 bytes a parameter, the
   * working set as the rest of the peak, and the steps reported in order, warm-up first.
   */
  @Test
  void aResultIsMadeOfTheRunsSettingsAndTheSplitOfItsPeak() {
    List<Integer> reported = new ArrayList<>();
    Benchmark.Result r = Benchmark.run(TINY, 4, 1, 1, 8, true, reported::add);
    long params = InvertibleClassifier.build(TINY.withDepthMultiplier(8), DataType.FLOAT, 0).params().count();

    assertThat(reported).as("the warm-up step, then the timed one").containsExactly(0, 1);
    assertThat(r.arch()).isEqualTo("tiny-x8");
    assertThat(List.of(r.batch(), r.depth_mult(), r.steps(), r.warmup())).containsExactly(4, 8, 1, 1);
    assertThat(r.threads()).isEqualTo(Host.threads());
    assertThat(r.params()).isEqualTo(params);
    assertThat(r.backward()).isEqualTo("stored");
    assertThat(r.stored_activation_mib()).as("the couplings' tapes").isPositive();
    // 11552 parameters, three float32 numbers each: 138624 bytes = 0.1322 MiB.
    assertThat(r.param_state_mib()).isEqualTo(0.1);
    assertThat(r.process_peak_rss_mib()).as("the process's peak includes every step's")
        .isGreaterThanOrEqualTo(r.peak_rss_mib());
    assertThat(r.working_rss_mib()).as("the rest of the peak, each of the three rounded to 0.1")
        .isCloseTo(r.peak_rss_mib() - 12.0 * params / (1 << 20), within(0.101));
    // The one timed step fills the one slot of the median (an unfilled slot would read 0 ms), and
    // the throughput is the batch over that time (both rounded to 0.1).
    double ms = r.train_step_ms();
    assertThat(ms).isPositive();
    assertThat(r.train_images_per_s()).isBetween(4000 / (ms + 0.05) - 0.05, 4000 / (ms - 0.05) + 0.05);
    if (NativeHeap.usage() == null) {
      assertThat(List.of(r.native_in_use_mib(), r.native_free_mib())).allMatch(v -> v.isNaN());
    } else {
      assertThat(r.native_in_use_mib()).as("the model's arrays are native").isPositive();
      assertThat(r.native_free_mib()).isNotNegative().isFinite();
    }
  }

  /**
   * {@code peak_rss_mib} is the timed steps' own peak (the median over them), {@code
   * process_peak_rss_mib} the process's: 256 MiB made resident in the warm-up step count in the
   * second only, and in the timed step, in both (the process's peak reset before each run, so
   * that an earlier test's is not in it).
   */
  @Test
  void thePeakIsTheTimedStepsAndTheProcessPeakTheWholeRuns() {
    org.irevnet.host.Memory.resetPeakRss();
    Benchmark.Result warm = Benchmark.run(TINY, 4, 1, 1, 1, false, step -> { if (step == 0) touch256MiB(); });
    assertThat(warm.process_peak_rss_mib()).isGreaterThan(warm.peak_rss_mib() + 128);
    org.irevnet.host.Memory.resetPeakRss();
    Benchmark.Result timed = Benchmark.run(TINY, 4, 1, 1, 1, false, step -> { if (step == 1) touch256MiB(); });
    assertThat(timed.peak_rss_mib()).isEqualTo(timed.process_peak_rss_mib());
  }

  /**
   * {@code process_peak_rss_mib} is the whole run's, the forward, inverse and float64 passes after
   * the timed steps included (the PyTorch twin's peak includes its own): read again after the run,
   * the process's peak since the reset before the last timed step is no higher. It was the steps'
   * alone, 64 MiB below (336 against 400 MiB of {@code /usr/bin/time}'s maximum resident size) for
   * the tiny net at batch 512.
   */
  @Test
  void theProcessPeakIncludesThePassesAfterTheTimedSteps() {
    org.irevnet.host.Memory.resetPeakRss();
    Benchmark.Result r = Benchmark.run(TINY, 512, 1, 0, 1, false, null);
    double after = org.irevnet.host.Memory.peakRssMiB();
    assertThat(r.process_peak_rss_mib()).isGreaterThanOrEqualTo(after - 1);
  }

  /**
   * Where the peak cannot be reset (no {@code /proc/self/clear_refs}), each step's reading is the
   * process's peak so far, whose median is no step's own peak: {@code peak_rss_mib} is then the
   * process's. 256 MiB made resident in the last of three timed steps count in it, where the
   * median of the running maxima would leave them out.
   */
  @Test
  void withoutAResettablePeakThePeakIsTheProcesss() {
    org.irevnet.host.Memory.resetPeakRss();
    Benchmark.Result r = Benchmark.run(TINY, 4, 3, 1, 1, false, step -> { if (step == 3) touch256MiB(); }, () -> false);
    assertThat(r.peak_rss_mib()).isEqualTo(r.process_peak_rss_mib());
  }

  /** 256 MiB of memory made resident and handed back at once ({@link org.irevnet.testing.NativeBlock}). */
  private static void touch256MiB() {
    new org.irevnet.testing.NativeBlock(256L << 20).close();
  }

  @Test
  void backwardComparisonTimesBothPassesInAlternatingRounds() {
    List<Integer> reported = new ArrayList<>();
    Benchmark.BackwardComparison c = Benchmark.compareBackward(TINY, 4, 2, 3, 1, 4, reported::add);
    assertThat(reported).as("warm-up plus 4 rounds of 2 steps of each pass, numbered in order")
        .isEqualTo(IntStream.range(0, 3 + 4 * 2 * 2).boxed().toList());
    // Every one of the 8 slots of each pass holds a step (a slot left unfilled would read 0 ms and
    // bring the median down to 0).
    assertThat(c.reversible_train_step_ms()).isPositive();
    assertThat(c.stored_train_step_ms()).isPositive();
    // The printed times are rounded to 0.1 ms, the ratio is of the unrounded medians.
    double sto = c.stored_train_step_ms(), rev = c.reversible_train_step_ms();
    assertThat(c.stored_reversible_ratio()).isBetween((sto - 0.05) / (rev + 0.05) - 1e-3, (sto + 0.05) / (rev - 0.05) + 1e-3);
    // Two couplings of the tiny net at batch 4: four float32 arrays each, 88 KiB in all.
    assertThat(c.stored_activation_mib()).isEqualTo(0.1);
    assertThat(c.rounds()).isEqualTo(4);
    assertThat(c.steps_per_round()).isEqualTo(2);
    assertThat(c.arch()).isEqualTo("tiny");
    assertThat(List.of(c.batch(), c.depth_mult(), c.threads())).containsExactly(4, 1, Host.threads());
    // The schedule as it ran: warm-up alternating from the reversible pass (three steps, so it had
    // one more), then each pass once a round, the first alternating from the reversible one.
    assertThat(List.of(c.warmup_steps_reversible(), c.warmup_steps_stored())).containsExactly(2, 1);
    List<String> rs = List.of("reversible", "stored"), sr = List.of("stored", "reversible");
    assertThat(c.passes_by_round()).containsExactly(rs, sr, rs, sr);
  }

  /**
   * The setup is the model after data-dependent initialisation on the benchmark's batch, and one
   * benchmark step is one step of Adam's count.
   */
  @Test
  void theSetupIsInitialisedOnItsBatchAndAStepIsOneOptimiserStep() {
    Benchmark.Setup s = Benchmark.Setup.of(TINY, 4);
    InvertibleClassifier fresh = InvertibleClassifier.build(TINY, DataType.FLOAT, 0);
    assertThat(s.model().params().state()).as("an uninitialised model differs").isNotEqualTo(fresh.params().state());
    fresh.initialize(s.x());
    assertThat(s.model().params().state()).isEqualTo(fresh.params().state());
    assertThat(Arrays.stream(s.y()).boxed().toList()).hasSize(4).allMatch(c -> c >= 0 && c < 10);

    Benchmark.step(s.model(), s.x(), s.y(), s.adam());
    assertThat(s.adam().state().get("adam.iteration").getLong(0)).isEqualTo(1);
    assertThat(s.model().params().state()).as("the step updated the weights").isNotEqualTo(fresh.params().state());
  }

  /** 28x28 pixels in [0,1] in the middle of the 32x32 input, a border of two zero pixels around. */
  @Test
  void imagesAre28x28PixelsPaddedWithZerosToTheInputSize() {
    InvertibleClassifier m = InvertibleClassifier.build(TINY, DataType.FLOAT, 0);
    INDArray x = Benchmark.images(m, 3, new Random(5));
    assertThat(x.shape()).containsExactly(3, 1, 32, 32);
    for (int n = 0; n < 3; n++) {
      for (int h = 0; h < 32; h++) {
        for (int w = 0; w < 32; w++) {
          float p = x.getFloat(n, 0, h, w);
          boolean inside = h >= 2 && h < 30 && w >= 2 && w < 30;
          if (inside) assertThat(p).as("(%d, %d, %d)", n, h, w).isGreaterThan(0f).isLessThanOrEqualTo(1f);
          else assertThat(p).as("(%d, %d, %d)", n, h, w).isZero();
        }
      }
    }
  }

  /** An input below 28x28 is filled: the 28x28 pixels went past the array's end, and the JVM died (exit 134). */
  @Test
  void imagesFillAnInputSmallerThan28x28() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH.replace("[1, 32, 32]", "[2, 16, 12]")),
        DataType.FLOAT, 0);
    INDArray x = Benchmark.images(m, 3, new Random(5));
    assertThat(x.shape()).containsExactly(3, 2, 16, 12);
    assertThat(Tensors.min(x)).isGreaterThan(0);
    assertThat(Tensors.max(x)).isLessThanOrEqualTo(1);
  }

  @Test
  void theMedianIsTheMiddleValueOrTheMeanOfTheMiddleTwo() {
    double[] odd = {3, 1, 2};
    assertThat(Benchmark.median(odd)).isEqualTo(2.0);
    assertThat(odd).as("left as it was").containsExactly(3, 1, 2);
    assertThat(Benchmark.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    assertThat(Benchmark.median(new double[] {7})).isEqualTo(7.0);
    assertThat(Benchmark.round(2.345678, 3)).isEqualTo(2.346);
  }

  /**
   * A ratio over a zero time is infinite and 0/0 undefined; rounding must not make either a
   * number (Math.round saturates infinity to Long.MAX_VALUE and takes NaN to 0).
   */
  @Test
  void roundingLeavesNonFiniteValuesAsTheyAre() {
    assertThat(Benchmark.round(Double.POSITIVE_INFINITY, 3)).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(Benchmark.round(Double.NEGATIVE_INFINITY, 1)).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(Benchmark.round(Double.NaN, 1)).isNaN();
  }

  /**
   * Beyond a long's range once scaled, Math.round capped a value at Long.MAX_VALUE: a peer's
   * inverse_ms of 1e308 came out of --peer's summary as 9.2e17. Such values have no decimals left
   * to round in a double, and stay as they are.
   */
  @Test
  void roundingLeavesValuesTooLargeForDecimalsAsTheyAre() {
    assertThat(Benchmark.round(1e308, 1)).isEqualTo(1e308);
    assertThat(Benchmark.round(-3e18, 3)).isEqualTo(-3e18);
    assertThat(Benchmark.round(0x1p53 + 2, 0)).isEqualTo(0x1p53 + 2);
    assertThat(Benchmark.round(123456.78, 1)).as("still rounded below").isEqualTo(123456.8);
  }
}
