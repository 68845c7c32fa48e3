package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.layers.Param;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

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
   * The forward pass is mmul's bits, its hidden layer and logits alike, in every case the objective
   * meets: float32 and float64, a batch of one row, no hidden layer, outside a workspace (as {@link
   * IceObjective#evaluate} calls it) and inside one (the updates and the model step's terms). The
   * reference is the mmul expression it replaced. A product by a row-major gemm rounds otherwise:
   * at 64 x 54 by 54 x 8 in float32 in 424 of 512 entries, and in float64 at 300 x 1,014 by 1,014 x
   * 507 (263 of 152,100 entries; the other float64 shapes tried agreed).
   */
  @Test
  void theForwardPassIsMmulsBitsInEveryCaseTheObjectiveMeets() {
    Object[][] cases = {
        {DataType.FLOAT, 64, 54, 8}, {DataType.FLOAT, 1, 54, 8}, {DataType.FLOAT, 64, 54, 0},
        {F64, 300, 1014, 507}, {F64, 1, 54, 8}, {F64, 64, 54, 0}};
    for (Object[] c : cases) {
      DataType dt = (DataType) c[0];
      int rows = (int) c[1], in = (int) c[2], hidden = (int) c[3];
      Random r = new Random(rows + in + hidden);
      NuisanceClassifier a = new NuisanceClassifier(in, hidden, 10, dt, 1e-3, r);
      INDArray x = Init.normal(dt, r, rows, in);
      INDArray w0 = a.params().get("fc0.weight").value(), b0 = a.params().get("fc0.bias").value();
      double[][] expected;
      if (hidden == 0) {
        expected = new double[][] {x.mmul(w0).addi(b0).reshape(-1).toDoubleVector()};
      } else {
        INDArray h = Transforms.relu(x.mmul(w0).addi(b0), false);
        INDArray logits = h.mmul(a.params().get("fc1.weight").value()).addi(a.params().get("fc1.bias").value());
        expected = new double[][] {logits.reshape(-1).toDoubleVector(), h.reshape(-1).toDoubleVector()};
      }
      double[][] outside = activations(a.forward(x));
      double[][] inside = BlockWorkspace.run(() -> a.forward(x), NuisanceClassifierTest::activations);
      for (int l = 0; l < expected.length; l++) {
        String what = dt + ", " + rows + " x " + in + ", hidden " + hidden + (l == 0 ? ": logits" : ": hidden layer");
        assertThat(outside[l]).as(what + " outside a workspace").containsExactly(expected[l]);
        assertThat(inside[l]).as(what + " in a workspace").containsExactly(expected[l]);
      }
    }
  }

  /** The logits and, where there is one, the hidden layer, read while they are alive. */
  private static double[][] activations(NuisanceClassifier.Tape t) {
    double[] logits = t.logits().reshape(-1).toDoubleVector();
    return t.hidden() == null ? new double[][] {logits} : new double[][] {logits, t.hidden().reshape(-1).toDoubleVector()};
  }

  /**
   * A forward pass outside a workspace, its hidden layer and logits freed as {@link
   * IceObjective#evaluate} frees them, keeps no product: mmul left its column-major product of each
   * layer to the collector, the hidden layer's 2 KB an image at width 512 in float32 (at
   * fi-revnet-s's three adversaries on 1,000 test images, 6.3 of the 7.5 MB an evaluation kept).
   * Here ten passes of 1,000 rows, whose products come to 20.9 MB: middles of 20.98-20.99 MB with
   * mmul (three runs), 63-71 KB now (three runs).
   */
  @Test
  void aForwardPassLeavesNoProductToTheCollector() throws InterruptedException {
    Random r = new Random(5);
    NuisanceClassifier a = new NuisanceClassifier(64, 512, 10, DataType.FLOAT, 1e-3, r);
    INDArray x = Init.normal(DataType.FLOAT, r, 1000, 64);
    a.forward(x);
    List<Long> kept = keptBy(10, () -> {
      NuisanceClassifier.Tape t = a.forward(x);
      Tensors.free(t.hidden(), null);
      Tensors.free(t.logits(), null);
    });
    assertThat(KeptBytes.middle(kept)).as("native bytes ten forward passes kept: %s", kept).isLessThan(4L << 20);
  }

  /** The native bytes each of five runs of {@code work}, done {@code times} times a run, kept. */
  private static List<Long> keptBy(int times, Runnable work) throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    return KeptBytes.of(5, run -> {
      for (int i = 0; i < times; i++) work.run();
      return null;
    });
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
    Random r = new Random(3);
    NuisanceClassifier a = new NuisanceClassifier(512, 256, 10, DataType.FLOAT, 1e-3, r);
    INDArray x = Init.normal(DataType.FLOAT, r, 64, 512);
    int[] y = r.ints(64, 0, 10).toArray();
    a.trainStep(x, y); // the workspace learns its size
    List<Long> kept = keptBy(20, () -> a.trainStep(x, y));
    assertThat(KeptBytes.middle(kept)).as("native bytes twenty updates kept: %s", kept)
        .isLessThan(4L << 20);
  }
}
