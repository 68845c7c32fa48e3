package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.irevnet.check.Numerics;
import org.irevnet.layers.Param;
import org.irevnet.layers.Sequential;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Input gradients through the reversible backward against central differences, in float64. */
class InputGradientTest {
  static final DataType F64 = DataType.DOUBLE;

  @Test
  void crossEntropyGradientOfAFiRevnet() {
    checkCrossEntropy(TinyModels.fiRevnet(F64, 1));
  }

  @Test
  void crossEntropyGradientOfAnIrevnetInEvaluationMode() {
    checkCrossEntropy(TinyModels.irevnet(F64, 2));
  }

  private static void checkCrossEntropy(InvertibleClassifier m) {
    INDArray x = TinyModels.images(2, F64, 5);
    int[] y = TinyModels.labels(2, 6);
    // A non-zero gradient already present must survive the attack's backward passes.
    Param p = m.params().entries().values().stream().filter(Param::trainable).findFirst().orElseThrow();
    p.grad().assign(0.25);
    java.util.Map<String, INDArray> state = m.params().state();
    InputGradient ig = new InputGradient(m);
    INDArray g = ig.classification(InputGradient.Loss.CE, x, y).grad();
    int[] idx = Numerics.sampleIndices(x.length(), 24, 7);
    double[] fd = Numerics.gradient(v -> Losses.softmaxCrossEntropy(m.logits(v), y).loss() * 2, x, 1e-6, idx);
    assertClose(g, fd, idx);
    INDArray gm = ig.classification(InputGradient.Loss.MARGIN, x, y).grad();
    double[] fdm = Numerics.gradient(v -> margin(m.logits(v), y), x, 1e-6, idx);
    assertClose(gm, fdm, idx);
    assertThat(Tensors.min(p.grad())).isEqualTo(0.25);
    assertThat(Tensors.max(p.grad())).isEqualTo(0.25);
    for (Param q : m.params().entries().values()) {
      if (q.trainable() && q != p) assertThat(Tensors.maxAbs(q.grad())).isZero();
    }
    // Parameters and buffers (BatchNorm running statistics, ActNorm init flags) untouched.
    assertThat(m.params().state()).isEqualTo(state);
  }

  /**
   * Every call gives the same bits, also past the collections (every 5 calls) and glibc trims
   * (every 25) that keep a sweep's memory down: they return only what is free.
   */
  @Test
  void callsPastCollectionsAndTrimsGiveTheSameGradient() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 4);
    INDArray x = TinyModels.images(3, F64, 8);
    int[] y = TinyModels.labels(3, 9);
    InputGradient ig = new InputGradient(m);
    InputGradient.Step first = ig.classification(InputGradient.Loss.CE, x, y);
    for (int call = 2; call <= 30; call++) {
      InputGradient.Step s = ig.classification(InputGradient.Loss.CE, x, y);
      assertThat(Tensors.doubles(s.grad())).as("call %d", call).isEqualTo(Tensors.doubles(first.grad()));
      assertThat(Tensors.doubles(s.output())).as("call %d", call).isEqualTo(Tensors.doubles(first.output()));
    }
  }

  /**
   * One goal class a row, or the attack is refused in one line: FGSM given one goal for four
   * images pushed all four away from it (the cross-entropy's one-hot row broadcast over the batch),
   * and the margin loss gave the rows past the goals no gradient.
   */
  @Test
  void goalsForAnotherNumberOfImagesAreRefused() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 1);
    INDArray x = TinyModels.images(4, F64, 5);
    InputGradient ig = new InputGradient(m);
    for (InputGradient.Loss loss : InputGradient.Loss.values()) {
      for (int[] goals : new int[][] {{1}, {1, 2, 3, 4, 5}}) {
        assertThatThrownBy(() -> ig.classification(loss, x, goals)).as(loss.name())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("attack: " + goals.length + " goal classes for 4 images (one a row: its label, or its target class)");
      }
    }
    // A scalar is no batch, whatever ND4J's size(0) of a rank-0 array gives: refused as no image.
    assertThatThrownBy(() -> ig.classification(InputGradient.Loss.CE, Nd4j.scalar(1.0), new int[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("attack: 1 goal classes for 0 images");
    Fgsm fgsm = new Fgsm(ig, TinyModels.mask(m), InputGradient.Loss.CE, false);
    assertThatThrownBy(() -> fgsm.perturb(x, new int[] {1}, 0.1)).hasMessageStartingWith("attack: 1 goal classes for 4 images");
  }

  @Test
  void featureDistanceGradientAtTheFirstStage() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 3);
    InputGradient ig = new InputGradient(m);
    Sequential prefix = m.stagePrefix(0);
    INDArray x = TinyModels.images(2, F64, 8), a = TinyModels.images(2, F64, 9);
    INDArray target = prefix.forward(a).out();
    assertThat(target.shape()).containsExactly(2, 4, 16, 16);
    INDArray g = ig.featureDistance(0, x, target).grad();
    int[] idx = Numerics.sampleIndices(x.length(), 24, 10);
    double[] fd = Numerics.gradient(v -> {
      INDArray d = prefix.forward(v).out().sub(target);
      return d.mul(d).sumNumber().doubleValue();
    }, x, 1e-6, idx);
    assertClose(g, fd, idx);
    for (Param q : m.params().entries().values()) {
      if (q.trainable()) assertThat(Tensors.maxAbs(q.grad())).isZero();
    }
  }

  /**
   * A row with a NaN or infinite logit has no class, as {@link Losses#predictions} says, and no
   * loss gradient: the margin took class 0 of a NaN row as the runner-up, which for goal 0 raised
   * the goal's own logit, and the cross-entropy's NaN would have spread into the image. Finite
   * rows keep theirs: -1 at the goal, +1 at the largest other logit (found here by a loop).
   */
  @Test
  void rowsWithNonFiniteLogitsHaveNoClassAndNoGradient() {
    double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
    double[][] rows = {{nan, nan, nan}, {0.5, nan, 2}, {inf, 1, 0}, {0.5, 3, 2}, {4, 1, 2}};
    int[] goals = {0, 0, 1, 0, 0};
    INDArray logits = org.nd4j.linalg.factory.Nd4j.createFromArray(rows);
    INDArray margin = InputGradient.Loss.MARGIN.gradient(logits, goals);
    INDArray ce = InputGradient.Loss.CE.gradient(logits, goals);
    for (int i = 0; i < rows.length; i++) {
      boolean finite = java.util.Arrays.stream(rows[i]).allMatch(Double::isFinite);
      int runnerUp = -1;
      for (int j = 0; j < rows[i].length; j++) {
        if (j != goals[i] && (runnerUp < 0 || rows[i][j] > rows[i][runnerUp])) runnerUp = j;
      }
      for (int j = 0; j < rows[i].length; j++) {
        double expected = !finite ? 0 : j == goals[i] ? -1 : j == runnerUp ? 1 : 0;
        assertThat(margin.getDouble(i, j)).as("margin row %d class %d", i, j).isEqualTo(expected);
        if (!finite) assertThat(ce.getDouble(i, j)).as("cross-entropy row %d class %d", i, j).isZero();
      }
      if (finite) {
        double[] p = java.util.Arrays.stream(rows[i]).map(Math::exp).toArray();
        double sum = java.util.Arrays.stream(p).sum();
        for (int j = 0; j < p.length; j++) {
          assertThat(ce.getDouble(i, j)).as("cross-entropy row %d class %d", i, j)
              .isCloseTo(p[j] / sum - (j == goals[i] ? 1 : 0), within(1e-12));
        }
      }
    }
  }

  /** sum_i max_{j != y_i} logit_ij - logit_i,y_i, written out. */
  private static double margin(INDArray logits, int[] y) {
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      double best = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < logits.size(1); j++) if (j != y[i]) best = Math.max(best, logits.getDouble(i, j));
      s += best - logits.getDouble(i, y[i]);
    }
    return s;
  }

  private static void assertClose(INDArray g, double[] fd, int[] idx) {
    INDArray flat = g.dup('c').reshape(g.length());
    double scale = 0;
    for (double v : fd) scale = Math.max(scale, Math.abs(v));
    assertThat(scale).as("gradient not all zero").isGreaterThan(1e-6);
    for (int k = 0; k < idx.length; k++) {
      assertThat(flat.getDouble(idx[k])).as("index %d", idx[k]).isCloseTo(fd[k],
          within(1e-6 * scale + 1e-9));
    }
  }
}
