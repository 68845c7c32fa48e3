package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.layers.Param;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class NuisanceClassifierTest {
  static final DataType F64 = DataType.DOUBLE;

  /** PyTorch's nn.Linear default: weights and biases uniform in +-1/sqrt(fan_in), here 1/sqrt(6) and 1/sqrt(4). */
  @Test
  void weightsAndBiasesStartUniformOnTheFanInScale() {
    NuisanceClassifier a = new NuisanceClassifier(6, 4, 3, F64, 1e-2, new Random(1));
    for (Map.Entry<String, Param> e : a.params().entries().entrySet()) {
      double bound = 1 / Math.sqrt(e.getKey().startsWith("fc0") ? 6 : 4);
      double largest = Tensors.maxAbs(e.getValue().value());
      assertThat(largest).as(e.getKey()).isLessThanOrEqualTo(bound).isGreaterThan(bound / 4);
    }
  }

  /**
   * Adam's first step moves every parameter by the learning rate against the sign of its
   * gradient, the mean cross-entropy's here by central differences: so each layer's gradient
   * reached its parameters, with the right sign.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 4})
  void aTrainStepIsAdamsFirstStepOnTheCrossEntropysGradient(int hidden) {
    double lr = 1e-3;
    NuisanceClassifier a = new NuisanceClassifier(6, hidden, 3, F64, lr, new Random(2));
    INDArray x = Numerics.normal(F64, 3, 5, 6);
    int[] y = {0, 2, 1, 1, 0};
    Map<String, INDArray> before = a.params().state();
    Map<String, double[]> numeric = new java.util.HashMap<>();
    for (Map.Entry<String, Param> e : a.params().entries().entrySet()) {
      int n = (int) e.getValue().value().length();
      numeric.put(e.getKey(), Numerics.gradient(v -> Losses.softmaxCrossEntropy(a.forward(x).logits(), y).loss(),
          e.getValue().value(), 1e-6, Numerics.sampleIndices(n, n, 0)));
    }
    a.trainStep(x, y);
    int moved = 0;
    for (Map.Entry<String, Param> e : a.params().entries().entrySet()) {
      double[] step = e.getValue().value().sub(before.get(e.getKey())).reshape(-1).toDoubleVector();
      double[] g = numeric.get(e.getKey());
      for (int i = 0; i < g.length; i++) {
        if (Math.abs(g[i]) < 1e-4) continue; // a dead ReLU unit's weights, or nearly so
        assertThat(step[i]).as(e.getKey() + "[" + i + "]").isCloseTo(-lr * Math.signum(g[i]), within(1e-2 * lr));
        moved++;
      }
    }
    assertThat(moved).isGreaterThan(10);
  }

  /** A re-initialised adversary forgets its Adam moments too: it starts as a fresh one. */
  @Test
  void reinitialisationResetsTheAdamState() {
    NuisanceClassifier a = new NuisanceClassifier(6, 4, 3, F64, 1e-2, new Random(1));
    a.trainStep(Numerics.normal(F64, 3, 5, 6), new int[] {0, 2, 1, 1, 0});
    assertThat(Tensors.maxAbs(a.state().get("adam.moments"))).isPositive();
    a.reinitialize(new Random(9));
    assertThat(Tensors.maxAbs(a.state().get("adam.moments"))).isZero();
    assertThat(a.state().get("adam.iteration").getLong(0)).isZero();
  }

  /**
   * Twenty updates keep nothing of their passes: the first layer's weight gradient alone, left to
   * the collector by mmul twice (its product and mmul's column-major one), was 1.0 MiB of the 1.5
   * MB an update kept here (old middles 29.3-29.5 MB for twenty, new 0.61-0.69); iCE's training
   * makes nine updates a model step. The middle of five runs: a collection during one frees what
   * others left.
   */
  @Test
  void updatesLeaveNoArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Random r = new Random(3);
    NuisanceClassifier a = new NuisanceClassifier(512, 256, 10, DataType.FLOAT, 1e-3, r);
    INDArray x = Init.normal(DataType.FLOAT, r, 64, 512);
    int[] y = r.ints(64, 0, 10).toArray();
    a.trainStep(x, y); // the workspace learns its size
    List<Long> kept = KeptBytes.of(5, run -> {
      for (int i = 0; i < 20; i++) a.trainStep(x, y);
      return null;
    });
    assertThat(KeptBytes.middle(kept)).as("native bytes twenty updates kept: %s", kept)
        .isLessThan(4L << 20);
  }
}
