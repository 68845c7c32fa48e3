package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LossesTest {

  @Test
  void accuracyCountsRowsWhoseArgmaxIsTheLabel() {
    // Row argmaxes 2, 0, 1, 1 against labels 2, 1, 1, 0: two of four right.
    var logits = Nd4j.createFromArray(new float[][] {{0, 1, 3}, {5, 4, -1}, {0, 2, 1}, {-3, -1, -2}});
    assertThat(Losses.accuracy(logits, new int[] {2, 1, 1, 0})).isEqualTo(0.5);
    assertThat(Losses.accuracy(new int[] {3, 3, 1}, new int[] {3, 0, 1})).isEqualTo(2.0 / 3);
    assertThat(Losses.accuracy(new int[0], new int[0])).isNaN();
  }

  /**
   * A row with a NaN or infinite logit has no prediction and counts as wrong, as in Evaluation:
   * ND4J's argmax makes a NaN row class 0, so the first row, labelled 0, counted as a hit (the
   * adversaries' accuracy of a diverged iCE run read as its share of class 0).
   */
  @Test
  void aRowWithANonFiniteLogitHasNoPredictionAndCountsAsWrong() {
    var logits = Nd4j.createFromArray(new float[][] {{Float.NaN, Float.NaN, Float.NaN}, {0, Float.NaN, 1},
        {Float.POSITIVE_INFINITY, 0, 0}, {0, 2, 1}});
    assertThat(Losses.predictions(logits)).containsExactly(-1, -1, -1, 1);
    assertThat(Losses.accuracy(logits, new int[] {0, 2, 0, 1})).isEqualTo(1.0 / 4);
    assertThat(Losses.accuracy(logits, new int[] {0, 0, 0, 0})).isZero();
  }

  @Test
  void accuracyRefusesPredictionsAndLabelsOfDifferentLengths() {
    assertThatThrownBy(() -> Losses.accuracy(new int[] {1, 2}, new int[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 predictions for 1 labels");
  }

  /**
   * Labels or targets for another number of rows than the logits are refused in one line: ND4J
   * broadcast one row of targets over the batch, and a caller's training step or attack with a
   * label too few got a loss of the first label for every row without a word.
   */
  @Test
  void crossEntropyRefusesLabelsOrTargetsForOtherRowsThanTheLogits() {
    INDArray logits = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {0, 1, 0}, {2, 0, 1}});
    assertThatThrownBy(() -> Losses.softmaxCrossEntropy(logits, new int[] {2}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("softmax cross-entropy: 1 labels for logits of shape [3, 3]");
    assertThatThrownBy(() -> Losses.softmaxCrossEntropy(logits, new int[] {2, 1, 0, 1}))
        .hasMessage("softmax cross-entropy: 4 labels for logits of shape [3, 3]");
    assertThatThrownBy(() -> Losses.softmaxCrossEntropy(logits, Nd4j.createFromArray(new double[][] {{0, 0, 1}})))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("softmax cross-entropy: targets of shape [1, 3] for logits of shape [3, 3]");
    // Logits of one image without its batch axis: 3 labels for its 3 entries are not one a row.
    assertThatThrownBy(() -> Losses.softmaxCrossEntropy(Nd4j.createFromArray(1.0, 2.0, 3.0), new int[] {2, 1, 0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("softmax cross-entropy: 3 labels for logits of shape [3]");
    // One label a row is what the loss is for.
    assertThat(Losses.softmaxCrossEntropy(logits, new int[] {2, 1, 0}).loss())
        .isCloseTo(byHand(logits.toDoubleMatrix(), new double[][] {{0, 0, 1}, {0, 1, 0}, {1, 0, 0}}), within(1e-12));
  }

  /** Mean softmax cross-entropy written out row by row in doubles: {@code -sum_k t_k log(e^x_k / sum_j e^x_j)}. */
  static double byHand(double[][] x, double[][] t) {
    double total = 0;
    for (int i = 0; i < x.length; i++) {
      double z = 0;
      for (double v : x[i]) z += Math.exp(v);
      for (int k = 0; k < x[i].length; k++) total -= t[i][k] * (x[i][k] - Math.log(z));
    }
    return total / x.length;
  }

  @Test
  void crossEntropyAndItsGradientMatchAHandComputationAndFiniteDifferences() {
    double[][] x = {{0.5, -1.0, 2.0}, {3.0, 0.0, -0.5}, {-0.25, 0.75, 0.1}};
    double[][] t = {{0.2, 0.3, 0.5}, {0, 1, 0}, {1, 0, 0}};
    INDArray logits = Nd4j.createFromArray(x);
    Losses.LossGrad lg = Losses.softmaxCrossEntropy(logits, Nd4j.createFromArray(t));
    assertThat(lg.loss()).isCloseTo(byHand(x, t), within(1e-12));
    double[] numeric = Numerics.gradient(a -> byHand(a.toDoubleMatrix(), t), logits.dup(), 1e-6,
        Numerics.sampleIndices(9, 9, 0));
    assertThat(Numerics.maxRelDiff(lg.grad().reshape(9).toDoubleVector(), numeric)).isLessThan(1e-8);

    // Integer labels are one-hot targets.
    double[][] oneHot = {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}};
    Losses.LossGrad byLabel = Losses.softmaxCrossEntropy(logits, new int[] {2, 0, 1});
    assertThat(byLabel.loss()).isCloseTo(byHand(x, oneHot), within(1e-12));
    assertThat(byLabel.grad()).isEqualTo(Losses.softmaxCrossEntropy(logits, Nd4j.createFromArray(oneHot)).grad());
  }

  /** e^1000 overflows a double: the row's largest logit comes off before the exponential. */
  @Test
  void logSoftmaxStaysExactForLogitsWhoseExponentialOverflows() {
    INDArray logp = Losses.logSoftmax(Nd4j.createFromArray(new double[][] {{1000, 999, 0}, {-1000, -1001, -1000}}));
    double a = Math.log(1 + Math.exp(-1) + Math.exp(-1000)), b = Math.log(2 + Math.exp(-1));
    assertThat(logp.getRow(0).toDoubleVector()).containsExactly(new double[] {-a, -1 - a, -1000 - a}, within(1e-12));
    assertThat(logp.getRow(1).toDoubleVector()).containsExactly(new double[] {-b, -1 - b, -b}, within(1e-12));
  }

  /**
   * Logits of +-1e4, where e^x overflows even a double: row {1e4, -1e4, 0} labelled 1 costs
   * 2e4 + ln(1 + e^-1e4 + e^-2e4), which is 2e4 in any precision, and a row of equal logits costs
   * ln 3 whatever their size, so the mean is (2e4 + ln 3) / 2. The gradient is softmax minus the
   * one-hot label over the batch: (1, 0, 0) - (0, 1, 0) and (1/3, 1/3, 1/3) - (0, 0, 1), halved.
   */
  @ParameterizedTest
  @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
  void crossEntropyOfLogitsWhoseExponentialOverflowsIsExactInEitherPrecision(DataType dt) {
    INDArray logits = Nd4j.createFromArray(new double[][] {{1e4, -1e4, 0}, {-1e4, -1e4, -1e4}}).castTo(dt);
    Losses.LossGrad lg = Losses.softmaxCrossEntropy(logits, new int[] {1, 2});
    // float32 keeps 2e4 + ln 3 to within an ulp of 2e4 (0.002).
    double tol = dt == DataType.FLOAT ? 2e-3 : 1e-9;
    assertThat(lg.loss()).isCloseTo((2e4 + Math.log(3)) / 2, within(tol));
    double third = 1.0 / 3;
    assertThat(lg.grad().toDoubleMatrix()[0]).containsExactly(new double[] {0.5, -0.5, 0}, within(1e-7));
    assertThat(lg.grad().toDoubleMatrix()[1]).containsExactly(new double[] {third / 2, third / 2, (third - 1) / 2},
        within(1e-7));
  }

  /**
   * One row is a batch too: the mean is that row's cross-entropy, ln(e^3 + e^1 + e^-2) - 3, and
   * its gradient is not divided by anything; a class no label names (1 here) still gets its
   * softmax share as gradient.
   */
  @Test
  void aBatchOfOneIsThatRowsCrossEntropy() {
    INDArray logits = Nd4j.createFromArray(new double[][] {{3, 1, -2}});
    Losses.LossGrad lg = Losses.softmaxCrossEntropy(logits, new int[] {0});
    double z = Math.exp(3) + Math.exp(1) + Math.exp(-2);
    assertThat(lg.loss()).isCloseTo(Math.log(z) - 3, within(1e-14));
    assertThat(lg.grad().toDoubleMatrix()[0])
        .containsExactly(new double[] {Math.exp(3) / z - 1, Math.exp(1) / z, Math.exp(-2) / z}, within(1e-14));
    assertThat(Losses.argmax(logits)).containsExactly(0);
    assertThat(Losses.accuracy(logits, new int[] {0})).isEqualTo(1.0);
    assertThat(Losses.accuracy(logits, new int[] {2})).isZero();
  }
}
