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
    Benchmark.Result longer = Benchmark.run(TINY, 4, 5, 0, 1, null);
    assertThat(longer.recon_max_abs_err_f64()).isNotEqualTo(cold.recon_max_abs_err_f64());
  }
}
