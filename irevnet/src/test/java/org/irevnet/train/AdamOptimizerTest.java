package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamOptimizerTest {

  /** Adam's update written out by hand (Kingma and Ba, Algorithm 1), for a scalar. */
  static double[] reference(double p, double[] grads, double lr) {
    return reference(p, grads, lr, 0);
  }

  /** With decoupled weight decay (AdamW, Loshchilov and Hutter): {@code p -= lr * wd * p} before the step. */
  static double[] reference(double p, double[] grads, double lr, double wd) {
    double m = 0, v = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double[] out = new double[grads.length];
    for (int t = 1; t <= grads.length; t++) {
      double g = grads[t - 1];
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      double mh = m / (1 - Math.pow(b1, t)), vh = v / (1 - Math.pow(b2, t));
      p -= lr * wd * p;
      p -= lr * mh / (Math.sqrt(vh) + eps);
      out[t - 1] = p;
    }
    return out;
  }

  @Test
  void matchesTheAlgorithmAndResumesExactly() {
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.createFromArray(1.5, -2.0).castTo(DataType.DOUBLE));
    AdamOptimizer adam = new AdamOptimizer(t, 0.1);
    double[] ga = {0.3, -1.0, 2.0, 0.5};
    double[] ref = reference(1.5, ga, 0.1);
    java.util.Map<String, INDArray> saved = null;
    double[] afterTwo = null;
    for (int i = 0; i < ga.length; i++) {
      a.grad().assign(Nd4j.createFromArray(ga[i], 1.0));
      adam.step();
      assertThat(a.value().getDouble(0)).isCloseTo(ref[i], offset(1e-6));
      assertThat(Tensors.maxAbs(a.grad())).isZero();
      if (i == 1) {
        saved = adam.state();
        afterTwo = a.value().toDoubleVector();
      }
    }
    // A fresh optimiser restored from the state after two steps continues identically.
    ParamTable t2 = ParamTable.empty();
    Param b = t2.add("a", Nd4j.createFromArray(afterTwo));
    AdamOptimizer adam2 = new AdamOptimizer(t2, 0.1);
    adam2.loadState(saved);
    for (int i = 2; i < ga.length; i++) {
      b.grad().assign(Nd4j.createFromArray(ga[i], 1.0));
      adam2.step();
    }
    assertThat(b.value()).isEqualTo(a.value());
  }

  /**
   * The form the README states, for gradients near epsilon, where it matters: the step is {@code
   * lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)} (Kingma and Ba's efficient form, libnd4j's),
   * not PyTorch's {@code lr m^ / (sqrt(v^) + eps)} ({@link #reference}), which a replay in PyTorch
   * found 30 times larger on such gradients.
   */
  @Test
  void epsilonIsAddedToTheUncorrectedRootOfTheSecondMoment() {
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.createFromArray(0.5, -0.25));
    AdamOptimizer adam = new AdamOptimizer(t, 0.01);
    double[] g = {1e-9, 3e-9, -2e-9};
    double p = 0.5, m = 0, v = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int i = 0; i < g.length; i++) {
      int step = i + 1;
      m = b1 * m + (1 - b1) * g[i];
      v = b2 * v + (1 - b2) * g[i] * g[i];
      p -= 0.01 * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step)) * m / (Math.sqrt(v) + eps);
      a.grad().assign(Nd4j.createFromArray(g[i], 1.0));
      adam.step();
      assertThat(a.value().getDouble(0) - 0.5).as("step " + step).isCloseTo(p - 0.5, offset(1e-9 * Math.abs(p - 0.5)));
    }
    double torch = reference(0.5, g, 0.01)[g.length - 1];
    assertThat(Math.abs(torch - 0.5)).as("PyTorch's form moves further").isGreaterThan(10 * Math.abs(p - 0.5));
  }

  @Test
  void learningRateZeroLeavesTheParametersExactlyAsTheyAre() {
    // libnd4j's updater alone steps by epsilon at learning rate 0; benchmarks warm up at 0.
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.createFromArray(0.1f, -0.3f, 7f));
    INDArray before = a.value().dup();
    AdamOptimizer adam = new AdamOptimizer(t, 0);
    adam.setWeightDecay(0.5);
    for (int i = 0; i < 3; i++) {
      a.grad().assign(Nd4j.createFromArray(0.3f, -1f, 2f));
      adam.step();
    }
    assertThat(a.value()).isEqualTo(before);
    assertThat(Tensors.maxAbs(adam.state().get("adam.moments"))).as("the moments still move").isPositive();
    adam.setLearningRate(0.1);
    a.grad().assign(1);
    adam.step();
    assertThat(a.value().getDouble(0)).isLessThan(before.getDouble(0));
  }

  @Test
  void weightDecayShrinksTheParametersAsAdamWDoes() {
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.createFromArray(1.5, -2.0));
    AdamOptimizer adam = new AdamOptimizer(t, 0.1);
    adam.setWeightDecay(0.3);
    double[] g0 = {0.3, -1.0, 2.0, 0.5}, g1 = {1.0, 1.0, -0.5, 0.25};
    double[] ref0 = reference(1.5, g0, 0.1, 0.3), ref1 = reference(-2.0, g1, 0.1, 0.3);
    // 1e-6: libnd4j adds epsilon to the uncorrected sqrt(v), the paper to the corrected one.
    for (int i = 0; i < g0.length; i++) {
      a.grad().assign(Nd4j.createFromArray(g0[i], g1[i]));
      adam.step();
      assertThat(a.value().getDouble(0)).isCloseTo(ref0[i], offset(1e-6));
      assertThat(a.value().getDouble(1)).isCloseTo(ref1[i], offset(1e-6));
    }
    // Without the decay the same gradients end elsewhere: the comparison above is not blind to it.
    assertThat(Math.abs(reference(1.5, g0, 0.1)[3] - ref0[3])).isGreaterThan(1e-3);
  }

  @Test
  void aStateOfAnotherSizeOrWithoutMomentsIsRefused() {
    ParamTable t = ParamTable.empty();
    t.add("a", Nd4j.createFromArray(1.5, -2.0));
    AdamOptimizer adam = new AdamOptimizer(t, 0.1);
    ParamTable bigger = ParamTable.empty();
    bigger.add("a", Nd4j.zeros(DataType.DOUBLE, 3));
    java.util.Map<String, INDArray> other = new AdamOptimizer(bigger, 0.1).state();
    assertThatThrownBy(() -> adam.loadState(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("optimizer state does not match this model (6 vs 4 values)");
    assertThatThrownBy(() -> adam.loadState(java.util.Map.of("adam.iteration", Nd4j.scalar(3L))))
        .hasMessage("optimizer state does not match this model (missing)");
    // Moments of the right size without the step count read "(4 vs 4 values)".
    java.util.Map<String, INDArray> noIteration = new java.util.HashMap<>(adam.state());
    noIteration.remove("adam.iteration");
    assertThatThrownBy(() -> adam.loadState(noIteration))
        .hasMessage("optimizer state does not match this model (no adam.iteration)");
  }
}
