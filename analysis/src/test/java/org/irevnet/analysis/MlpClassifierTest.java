package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.irevnet.check.Numerics;
import org.irevnet.data.Batches;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link MlpClassifier}'s training against a float64 re-implementation written from its
 * documented recipe: He-uniform hidden layers, PyTorch's default output layer, zero biases,
 * softmax cross-entropy, Adam with decoupled weight decay and a cosine learning rate over all
 * steps, seeded batch order.
 */
class MlpClassifierTest {
  private static final int N = 12, D = 5, HIDDEN = 4, CLASSES = 3;

  @Test
  void trainingMatchesAFloat64ReimplementationOfTheRecipe() {
    INDArray x = Numerics.normal(DataType.FLOAT, 1, N, D);
    int[] labels = new Random(2).ints(N, 0, CLASSES).toArray();
    // Batches of 5, 5 and 2: the last one is short, and two epochs give six cosine steps.
    MlpClassifier.Recipe recipe = new MlpClassifier.Recipe(List.of(HIDDEN), 2, 5, 0.05, 0.3, 7);
    double[][] expected = reference(x.toDoubleMatrix(), labels, recipe);
    double[][] actual = MlpClassifier.train(x, labels, CLASSES, recipe).logits(x).toDoubleMatrix();
    for (int i = 0; i < N; i++) {
      for (int c = 0; c < CLASSES; c++) {
        assertThat(actual[i][c]).as("logit [%d, %d]", i, c).isCloseTo(expected[i][c],
            offset(2e-5 * (1 + Math.abs(expected[i][c]))));
      }
    }
  }

  /**
   * Logits are computed {@code 4 * Features.BATCH} rows at a time: two full blocks, the last
   * ending exactly at the last row, must give every row the logits it has on its own. The rows
   * repeat a 7-row pattern, whose logits come from one short block; a row past the first block
   * that were skipped or misplaced would not match its copy there.
   */
  @Test
  void logitsInBlocksAreThoseOfEachRowAlone() {
    INDArray base = Numerics.normal(DataType.FLOAT, 3, 7, D);
    int[] labels = new Random(4).ints(7, 0, CLASSES).toArray();
    MlpClassifier probe = MlpClassifier.train(base, labels, CLASSES, new MlpClassifier.Recipe(List.of(HIDDEN), 1, 7, 0.05, 0, 1));
    int n = 2 * 4 * Features.BATCH;
    INDArray x = Nd4j.pullRows(base, 1, IntStream.range(0, n).map(i -> i % 7).toArray());
    double[][] expected = probe.logits(base).toDoubleMatrix(), actual = probe.logits(x).toDoubleMatrix();
    assertThat(actual).hasNumberOfRows(n);
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < CLASSES; c++) {
        assertThat(actual[i][c]).as("logit [%d, %d]", i, c).isCloseTo(expected[i % 7][c], offset(1e-5));
      }
    }
  }

  /** The trained logits of {@code x}, in float64. */
  private static double[][] reference(double[][] x, int[] labels, MlpClassifier.Recipe r) {
    Random rng = new Random(r.seed());
    double[][] w0 = uniform(rng, Math.sqrt(6.0 / D), D, HIDDEN), w1 = uniform(rng, 1 / Math.sqrt(HIDDEN), HIDDEN, CLASSES);
    double[][] b0 = new double[1][HIDDEN], b1 = new double[1][CLASSES];
    double[][][] params = {w0, b0, w1, b1};
    Adam adam = new Adam(params);
    int total = r.epochs() * ((N + r.batch() - 1) / r.batch()), step = 0;
    for (int epoch = 0; epoch < r.epochs(); epoch++) {
      int[] order = Batches.order(N, r.seed(), epoch, true);
      for (int from = 0; from < N; from += r.batch()) {
        int nb = Math.min(N, from + r.batch()) - from;
        double[][] a = new double[nb][], g = new double[nb][CLASSES];
        for (int i = 0; i < nb; i++) a[i] = x[order[from + i]];
        double[][] h = relu(affine(a, w0, b0)), logits = affine(h, w1, b1);
        for (int i = 0; i < nb; i++) {
          double[] p = softmax(logits[i]);
          for (int c = 0; c < CLASSES; c++) g[i][c] = (p[c] - (c == labels[order[from + i]] ? 1 : 0)) / nb;
        }
        double[][] gh = times(g, transpose(w1));
        for (int i = 0; i < nb; i++) for (int j = 0; j < HIDDEN; j++) if (h[i][j] <= 0) gh[i][j] = 0;
        double[][][] grads = {times(transpose(a), gh), columnSums(gh), times(transpose(h), g), columnSums(g)};
        adam.step(grads, r.learningRate() * 0.5 * (1 + Math.cos(Math.PI * step++ / total)), r.weightDecay());
      }
    }
    return affine(relu(affine(x, w0, b0)), w1, b1);
  }

  /** Adam with PyTorch's defaults and AdamW's decay {@code theta *= 1 - lr * wd}, in place. */
  private static final class Adam {
    final double[][][] params, m, v;
    int t;

    Adam(double[][][] params) {
      this.params = params;
      m = new double[params.length][][];
      v = new double[params.length][][];
      for (int k = 0; k < params.length; k++) {
        m[k] = new double[params[k].length][params[k][0].length];
        v[k] = new double[params[k].length][params[k][0].length];
      }
    }

    void step(double[][][] grads, double lr, double wd) {
      t++;
      for (int k = 0; k < params.length; k++) {
        for (int i = 0; i < params[k].length; i++) {
          for (int j = 0; j < params[k][i].length; j++) {
            double g = grads[k][i][j];
            m[k][i][j] = 0.9 * m[k][i][j] + 0.1 * g;
            v[k][i][j] = 0.999 * v[k][i][j] + 0.001 * g * g;
            double mh = m[k][i][j] / (1 - Math.pow(0.9, t)), vh = v[k][i][j] / (1 - Math.pow(0.999, t));
            params[k][i][j] = params[k][i][j] * (1 - lr * wd) - lr * mh / (Math.sqrt(vh) + 1e-8);
          }
        }
      }
    }
  }

  /** Row-major {@code [rows, cols]} of U(-bound, bound), rounded to float32 as the model stores them. */
  private static double[][] uniform(Random rng, double bound, int rows, int cols) {
    double[][] w = new double[rows][cols];
    for (double[] row : w) for (int j = 0; j < cols; j++) row[j] = (float) ((2 * rng.nextDouble() - 1) * bound);
    return w;
  }

  private static double[][] affine(double[][] a, double[][] w, double[][] b) {
    double[][] out = times(a, w);
    for (double[] row : out) for (int j = 0; j < row.length; j++) row[j] += b[0][j];
    return out;
  }

  private static double[][] relu(double[][] a) {
    double[][] out = new double[a.length][];
    for (int i = 0; i < a.length; i++) out[i] = Arrays.stream(a[i]).map(v -> Math.max(v, 0)).toArray();
    return out;
  }

  private static double[] softmax(double[] z) {
    double max = Arrays.stream(z).max().orElseThrow(), sum = 0;
    double[] p = new double[z.length];
    for (int c = 0; c < z.length; c++) sum += p[c] = Math.exp(z[c] - max);
    for (int c = 0; c < z.length; c++) p[c] /= sum;
    return p;
  }

  private static double[][] times(double[][] a, double[][] b) {
    double[][] out = new double[a.length][b[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int k = 0; k < b.length; k++) for (int j = 0; j < b[0].length; j++) out[i][j] += a[i][k] * b[k][j];
    }
    return out;
  }

  private static double[][] transpose(double[][] a) {
    double[][] out = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) out[j][i] = a[i][j];
    return out;
  }

  private static double[][] columnSums(double[][] a) {
    double[][] out = new double[1][a[0].length];
    for (double[] row : a) for (int j = 0; j < row.length; j++) out[0][j] += row[j];
    return out;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void logitsOfManyBatchesOfAnyLayoutAreThoseOfTheDenseCopy(org.irevnet.testing.Layouts layout) {
    // logits runs 4 x Features.BATCH rows at a time: rows taken near the end of a caller's view by
    // ND4J's get(interval) are empty (Tensors.rows), so its last batches would be lost.
    int rows = 2 * 4 * Features.BATCH + 37;
    MlpClassifier probe = MlpClassifier.train(Numerics.normal(DataType.FLOAT, 1, 40, 5), NuisanceProbeTest.labels(40, 3, 1), 3,
        NuisanceProbeTest.SMALL);
    org.nd4j.linalg.api.ndarray.INDArray x = layout.of(Numerics.normal(DataType.FLOAT, 2, rows, 5)), before = x.dup('c'),
        dense = x.dup('c');
    assertThat(Numerics.maxAbsDiff(probe.logits(x), probe.logits(dense))).isEqualTo(0.0);
    assertThat(x).as("x afterwards").isEqualTo(before);
  }
}
