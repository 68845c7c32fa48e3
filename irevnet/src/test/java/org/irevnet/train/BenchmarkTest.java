package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.irevnet.models.Architecture;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;

/**
 * The warm-up steps leave the weights as initialised: the reconstruction errors after the timed
 * steps are the same to the last bit with or without them, and training does move the weights.
 */
class BenchmarkTest {
  private static final Architecture TINY = Architecture.fromJson(TinyData.ARCH);

  @Test
  void warmupStepsDoNotChangeTheMeasuredModel() {
    Benchmark.Result cold = Benchmark.run(TINY, 4, 2, 0, 1, null);
    Benchmark.Result warm = Benchmark.run(TINY, 4, 2, 3, 1, null);
    assertThat(warm.recon_max_abs_err_f32()).isEqualTo(cold.recon_max_abs_err_f32());
    assertThat(warm.recon_max_abs_err_f64()).isEqualTo(cold.recon_max_abs_err_f64());
    // The comparison could fail: more timed (updating) steps do change the errors.
    Benchmark.Result longer = Benchmark.run(TINY, 4, 100, 0, 1, null);
    assertThat(java.util.List.of(longer.recon_max_abs_err_f32(), longer.recon_max_abs_err_f64()))
        .isNotEqualTo(java.util.List.of(cold.recon_max_abs_err_f32(), cold.recon_max_abs_err_f64()));
  }

  @Test
  void backwardComparisonTimesBothPassesInAlternatingRounds() {
    int[] steps = {0};
    Benchmark.BackwardComparison c = Benchmark.compareBackward(TINY, 4, 2, 3, 1, 3, i -> steps[0]++);
    assertThat(steps[0]).as("warm-up plus 3 rounds of 2 steps of each pass").isEqualTo(3 + 3 * 2 * 2);
    assertThat(c.reversible_train_step_ms()).isPositive();
    assertThat(c.stored_train_step_ms()).isPositive();
    // The printed times are rounded to 0.1 ms, the ratio is of the unrounded medians.
    double sto = c.stored_train_step_ms(), rev = c.reversible_train_step_ms();
    assertThat(c.stored_reversible_ratio()).isBetween((sto - 0.05) / (rev + 0.05) - 1e-3, (sto + 0.05) / (rev - 0.05) + 1e-3);
    // Two couplings of the tiny net at batch 4: four float32 arrays each, 88 KiB in all.
    assertThat(c.stored_activation_mib()).isEqualTo(0.1);
    assertThat(c.rounds()).isEqualTo(3);
    assertThat(c.steps_per_round()).isEqualTo(2);
  }
}
