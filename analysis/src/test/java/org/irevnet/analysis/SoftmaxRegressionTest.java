package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The linear probe's objective, gradient and minimiser, each against a computation of its own. */
class SoftmaxRegressionTest {

  /** Features from class means plus noise; overlapping, so no weights separate them. */
  private static INDArray gaussians(Random r, int n, int d, int[] labels, double spread) {
    return matrix(n, d, (i, j) -> (j == labels[i] % d ? 1.5 : 0.0) + spread * r.nextGaussian());
  }

  /** The objective at a parameter row {@code theta}; its gradient into {@code grad} (same shape) unless null. */
  private static double value(SoftmaxRegression.Objective f, INDArray theta, INDArray grad) {
    double[] g = grad == null ? null : new double[(int) grad.length()];
    double v = f.value(theta.toDoubleVector(), g);
    if (grad != null) grad.assign(Nd4j.createFromArray(g).reshape(grad.shape()));
    return v;
  }

  /** Entry (i, j) of a matrix. */
  private interface Entry {
    double at(int i, int j);
  }

  /** {@code [n, d]} in float64, filled row by row. */
  private static INDArray matrix(int n, int d, Entry entry) {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, n, d);
    for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x.putScalar(i, j, entry.at(i, j));
    return x;
  }

  private static int[] labels(Random r, int n, int classes) {
    return r.ints(n, 0, classes).toArray();
  }

  /** Features {@code x} with their labels {@code y}. */
  private record Labelled(INDArray x, int[] y) {}

  /** {@link #gaussians} of {@code n} uniformly drawn labels in {@code 0..c-1}. */
  private static Labelled gaussianSet(Random r, int n, int d, int c, double spread) {
    int[] y = labels(r, n, c);
    return new Labelled(gaussians(r, n, d, y, spread), y);
  }

  /** 120 examples of 2 classes in 60 dimensions of unit noise, only the first of which carries the class. */
  private static Labelled oneInformativeColumn(Random r) {
    int[] y = labels(r, 120, 2);
    return new Labelled(matrix(120, 60, (i, j) -> (j == 0 ? 1.0 * y[i] : 0.0) + r.nextGaussian()), y);
  }

  private static INDArray randomTheta(Random r, long length) {
    INDArray t = Nd4j.zeros(DataType.DOUBLE, 1, length);
    for (int i = 0; i < length; i++) t.putScalar(0, i, 0.5 * r.nextGaussian());
    return t;
  }

  @Test
  void theGradientIsTheObjectivesCentralDifferences() {
    Random r = new Random(1);
    int n = 30, d = 3, c = 4;
    int[] y = labels(r, n, c);
    SoftmaxRegression.Objective f = new SoftmaxRegression.Objective(gaussians(r, n, d, y, 1.0), y, c, 0.1);
    INDArray theta = randomTheta(r, (d + 1) * c), g = theta.like();
    value(f, theta, g);
    double h = 1e-6;
    for (int i = 0; i < theta.length(); i++) {
      INDArray plus = theta.dup(), minus = theta.dup();
      plus.putScalar(0, i, theta.getDouble(0, i) + h);
      minus.putScalar(0, i, theta.getDouble(0, i) - h);
      double fd = (value(f, plus, null) - value(f, minus, null)) / (2 * h);
      assertThat(g.getDouble(0, i)).as("component " + i).isCloseTo(fd, org.assertj.core.data.Offset.offset(1e-8));
    }
  }

  /**
   * The fit is the minimiser: its gradient (by central differences of the objective over the
   * features themselves, not the solver's preconditioned coordinates, in which the tolerance
   * holds) is zero to the tolerance, and no
   * nearby point has a lower objective. The objective is strictly convex, so a stationary point
   * is the minimum.
   */
  private static void assertIsTheMinimum(INDArray x, int[] y, int c, double l2, SoftmaxRegression p, Random r) {
    assertThat(p.fit().converged()).as(p.fit().toString()).isTrue();
    assertThat(p.fit().gradientMaxAbs()).isLessThanOrEqualTo(SoftmaxRegression.Stopping.LAYER_PROBES.gradientTolerance());
    long d = x.size(1);
    SoftmaxRegression.Objective f = new SoftmaxRegression.Objective(x, y, c, l2);
    // The probe's parameters read back through its logits: W's rows at the unit vectors, b at 0.
    INDArray b = p.logits(Nd4j.zeros(DataType.DOUBLE, 1, d));
    INDArray w = p.logits(Nd4j.eye(d).castTo(DataType.DOUBLE)).subRowVector(b);
    INDArray theta = Nd4j.concat(1, w.reshape('c', 1, d * c), b.reshape(1, c));
    assertThat(value(f, theta, null)).isCloseTo(p.fit().objective(), org.assertj.core.data.Offset.offset(1e-10));
    double h = 1e-5;
    for (int i = 0; i < theta.length(); i++) {
      INDArray plus = theta.dup(), minus = theta.dup();
      plus.putScalar(0, i, theta.getDouble(0, i) + h);
      minus.putScalar(0, i, theta.getDouble(0, i) - h);
      assertThat((value(f, plus, null) - value(f, minus, null)) / (2 * h)).as("component " + i)
          .isCloseTo(0.0, org.assertj.core.data.Offset.offset(SoftmaxRegression.Stopping.LAYER_PROBES.gradientTolerance()));
    }
    for (int t = 0; t < 50; t++) {
      INDArray near = theta.add(randomTheta(r, theta.length()).muli(2e-3));
      assertThat(value(f, near, null)).isGreaterThanOrEqualTo(p.fit().objective());
    }
  }

  @Test
  void theFitIsTheObjectivesMinimum() {
    Random r = new Random(2);
    int n = 400, c = 3;
    Labelled data = gaussianSet(r, n, 5, c, 1.0);
    assertIsTheMinimum(data.x(), data.y(), c, 1.0 / n, SoftmaxRegression.train(data.x(), data.y(), c, 1.0 / n), r);
  }

  /**
   * Features that are nearly one (a shared factor, the class in their small differences), as the
   * spatially pooled channels of an early stage are: the covariance's eigenvalues span a factor of
   * 10^4. The fit is still the minimiser, in few iterations.
   */
  @Test
  void nearlyCollinearFeaturesAreFittedToTheirMinimum() {
    Random r = new Random(5);
    int n = 600, d = 4, c = 3;
    int[] y = labels(r, n, c);
    double[] shared = new double[n];
    for (int i = 0; i < n; i++) shared[i] = r.nextGaussian();
    INDArray x = matrix(n, d, (i, j) -> shared[i] + 0.01 * ((j == y[i] ? 1.0 : 0.0) + 0.5 * r.nextGaussian()));
    SoftmaxRegression p = SoftmaxRegression.train(x, y, c, 1e-4);
    assertIsTheMinimum(x, y, c, 1e-4, p, r);
    assertThat(p.fit().iterations()).isLessThan(100);
    assertThat(p.accuracy(x, y)).as("the small differences carry the class").isGreaterThan(0.6);
  }

  /**
   * On data drawn from a known multinomial logistic model the probe classifies held-out data
   * about as well as that model itself (the Bayes classifier of this data), which a probe stopped
   * after a fixed number of steps on few dimensions did not.
   */
  @Test
  void onDataOfALinearModelItClassifiesAsWellAsThatModel() {
    Random r = new Random(3);
    int d = 4, c = 5, n = 4000;
    double[][] w = new double[d][c];
    for (double[] row : w) for (int k = 0; k < c; k++) row[k] = 1.5 * r.nextGaussian();
    INDArray[] x = new INDArray[2];
    int[][] y = new int[2][n];
    int[][] bayes = new int[2][n];
    for (int s = 0; s < 2; s++) {
      x[s] = Nd4j.zeros(DataType.DOUBLE, n, d);
      for (int i = 0; i < n; i++) {
        double[] z = new double[c];
        double[] xi = new double[d];
        for (int j = 0; j < d; j++) {
          xi[j] = r.nextGaussian();
          x[s].putScalar(i, j, xi[j]);
          for (int k = 0; k < c; k++) z[k] += xi[j] * w[j][k];
        }
        double max = java.util.Arrays.stream(z).max().orElseThrow(), sum = 0;
        for (int k = 0; k < c; k++) sum += Math.exp(z[k] - max);
        double u = r.nextDouble() * sum, acc = 0;
        int label = c - 1;
        for (int k = 0; k < c; k++) {
          acc += Math.exp(z[k] - max);
          if (u < acc) {
            label = k;
            break;
          }
        }
        y[s][i] = label;
        int best = 0;
        for (int k = 1; k < c; k++) if (z[k] > z[best]) best = k;
        bayes[s][i] = best;
      }
    }
    int right = 0;
    for (int i = 0; i < n; i++) if (bayes[1][i] == y[1][i]) right++;
    double bayesAccuracy = (double) right / n;
    SoftmaxRegression p = SoftmaxRegression.train(x[0], y[0], c, 1.0 / n);
    assertThat(p.fit().converged()).isTrue();
    assertThat(p.accuracy(x[1], y[1])).isGreaterThan(bayesAccuracy - 0.015);
    assertThat(bayesAccuracy).as("the data are neither trivial nor noise").isBetween(0.4, 0.95);
  }

  /** Separable data: the penalty keeps the weights finite, and the fit converges and separates them. */
  @Test
  void separableDataGiveFiniteWeightsThatSeparateThem() {
    Random r = new Random(4);
    int n = 200, c = 3;
    Labelled data = gaussianSet(r, n, 3, c, 0.05);
    INDArray x = data.x();
    int[] y = data.y();
    SoftmaxRegression p = SoftmaxRegression.train(x, y, c, 1.0 / n);
    assertThat(p.fit().converged()).as(p.fit().toString()).isTrue();
    assertThat(p.accuracy(x, y)).isEqualTo(1.0);
    assertThat(Tensors.maxAbs(p.logits(x))).isFinite();
  }

  /**
   * Few examples in many dimensions, one of which carries the class: the held-out examples choose
   * a penalty stronger than the weakest, the best of the tried ones (ties to the stronger), and
   * the refit, which starts from the held-out fit, is the fit from zero at that penalty.
   */
  @Test
  void thePenaltyIsTheOneThatClassifiesHeldOutExamplesBest() {
    Random r = new Random(6);
    int c = 2;
    Labelled data = oneInformativeColumn(r);
    INDArray x = data.x();
    int[] y = data.y();
    SoftmaxRegression.Selected s = SoftmaxRegression.select(x, y, c, 7);
    List<SoftmaxRegression.Trial> trials = s.trials();
    assertThat(trials).extracting(SoftmaxRegression.Trial::l2)
        .containsExactlyElementsOf(java.util.Arrays.stream(SoftmaxRegression.PENALTIES).limit(trials.size()).boxed().toList());
    assertThat(trials).allMatch(t -> t.fit().converged() && t.fit().l2() == t.l2());
    double best = trials.stream().mapToDouble(SoftmaxRegression.Trial::validationAccuracy).max().orElseThrow();
    SoftmaxRegression.Trial first = trials.stream().filter(t -> t.validationAccuracy() == best).findFirst().orElseThrow();
    assertThat(s.probe().fit().l2()).isEqualTo(first.l2()).isGreaterThan(SoftmaxRegression.PENALTIES[4]);
    // Stopped once two penalties in a row did no better, or tried them all.
    int at = trials.indexOf(first);
    assertThat(trials.size() == SoftmaxRegression.PENALTIES.length || trials.size() - 1 - at == 2).isTrue();

    SoftmaxRegression fromZero = SoftmaxRegression.train(x, y, c, first.l2());
    // Both are the minimiser to the gradient tolerance: the same objective to second order in it.
    assertThat(s.probe().fit().objective()).isCloseTo(fromZero.fit().objective(), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(Tensors.maxAbs(s.probe().logits(x).sub(fromZero.logits(x)))).isLessThan(1e-2);
    assertIsTheMinimum(x, y, c, first.l2(), s.probe(), r);
    assertThat(SoftmaxRegression.select(x, y, c, 7).trials()).as("the same seed, the same held-out examples")
        .isEqualTo(trials);
  }

  /**
   * Each penalty's held-out accuracy is that of a fit from zero on the other examples (the
   * held-out fifth drawn as {@link SoftmaxRegression#select} documents: the first fifth of
   * {@code Batches.permutation} with the seed), within one example: both are the minimiser to the
   * gradient tolerance.
   */
  @Test
  void eachTrialIsTheHeldOutAccuracyOfAFitWithoutTheHeldOutExamples() {
    int n = 120, c = 2;
    Labelled data = oneInformativeColumn(new Random(6));
    INDArray x = data.x();
    int[] y = data.y();
    int held = (int) Math.round(n * SoftmaxRegression.VALIDATION_SHARE);
    int[] order = org.irevnet.data.Batches.permutation(n, new Random(7));
    int[] val = java.util.Arrays.copyOf(order, held), rest = java.util.Arrays.copyOfRange(order, held, n);
    int[] yVal = java.util.Arrays.stream(val).map(i -> y[i]).toArray(), yRest = java.util.Arrays.stream(rest).map(i -> y[i]).toArray();
    for (SoftmaxRegression.Trial t : SoftmaxRegression.select(x, y, c, 7).trials()) {
      double independent = SoftmaxRegression.train(x.getRows(rest), yRest, c, t.l2()).accuracy(x.getRows(val), yVal);
      assertThat(t.validationAccuracy()).as("l2 " + t.l2()).isCloseTo(independent, org.assertj.core.data.Offset.offset(1.0 / held));
    }
  }

  /**
   * A fit that does not reach the gradient tolerance stops after exactly {@code maxIterations}
   * iterations of L-BFGS, unconverged: every fit had stopped at its tolerance long before its 1,000
   * (or 3,000), so one iteration more passed unseen. A tolerance of 0 is never reached here.
   */
  @Test
  void aFitStopsAfterItsMaximumIterations() {
    Labelled data = gaussianSet(new Random(11), 60, 5, 3, 1.0);
    SoftmaxRegression.Selected s = SoftmaxRegression.select(data.x(), data.y(), 3, 0, new SoftmaxRegression.Stopping(0, 3));
    assertThat(s.fits()).isNotEmpty().allSatisfy(f -> {
      assertThat(f.iterations()).as("l2 " + f.l2()).isEqualTo(3);
      assertThat(f.converged()).isFalse();
    });
  }

  /**
   * Well separated classes: every penalty classifies the held-out examples perfectly, so the
   * strongest wins the tie and the path stops after the two that did no better.
   */
  @Test
  void aTieGoesToTheStrongerPenaltyAndTwoThatDoNoBetterEndThePath() {
    int c = 3;
    Labelled data = gaussianSet(new Random(8), 200, 3, c, 0.05);
    SoftmaxRegression.Selected s = SoftmaxRegression.select(data.x(), data.y(), c, 1);
    assertThat(s.trials()).extracting(SoftmaxRegression.Trial::validationAccuracy).containsExactly(1.0, 1.0, 1.0);
    assertThat(s.probe().fit().l2()).isEqualTo(SoftmaxRegression.PENALTIES[0]);
    assertThat(s.tiedPenalties()).containsExactly(1e-2, 1e-3);
  }

  /**
   * One column {@code -S} or {@code +S} and 50 examples, the ten {@link SoftmaxRegression#select}
   * holds out (seed 3) placed by hand: of the 40 it fits, 32 of class 0 at {@code -S} and 8 of
   * class 1 at {@code +S}, so that the minimiser at {@code l2} = 1e-1 classifies {@code +S} as the
   * majority class 0 (margin -0.67) and those at 1e-2 and weaker as class 1 (margins 1.05, 2.9,
   * 4.9, by scipy's BFGS on the same objective). The held-out ten are five at
   * each point, labelled {@code heldOutLabelAtPlusS} at {@code +S} and 0 at {@code -S}.
   */
  private static Labelled heldOutByHand(int heldOutLabelAtPlusS) {
    int n = 50, held = 10;
    int[] order = org.irevnet.data.Batches.permutation(n, new Random(3));
    double[][] x = new double[n][1];
    int[] y = new int[n];
    for (int k = 0; k < n; k++) {
      int i = order[k];
      boolean plus = k < held ? k % 2 == 1 : k >= n - 8;
      x[i][0] = plus ? HELD_OUT_POINT : -HELD_OUT_POINT;
      y[i] = !plus ? 0 : k < held ? heldOutLabelAtPlusS : 1;
    }
    return new Labelled(Nd4j.createFromArray(x), y);
  }

  private static final double HELD_OUT_POINT = 0.3;

  /**
   * Held-out accuracies known by construction ({@link #heldOutByHand}): with the held-out five at
   * {@code +S} labelled 1, 1e-1 reads 5 of 10 and 1e-2, 1e-3, 1e-4 read all ten, so 1e-2 is chosen
   * on a tie with 1e-3 and 1e-4 (the path stops after them); labelled 0, 1e-1 reads all ten and the
   * weaker ones 5, so 1e-1 wins alone.
   */
  @Test
  void theTiedPenaltiesAreTheWeakerOnesThatClassifiedTheHeldOutExamplesAsWell() {
    SoftmaxRegression.Selected tie = SoftmaxRegression.select(heldOutByHand(1).x(), heldOutByHand(1).y(), 2, 3);
    assertThat(tie.trials()).extracting(SoftmaxRegression.Trial::l2).containsExactly(1e-1, 1e-2, 1e-3, 1e-4);
    assertThat(tie.trials()).extracting(SoftmaxRegression.Trial::validationAccuracy).containsExactly(0.5, 1.0, 1.0, 1.0);
    assertThat(tie.probe().fit().l2()).isEqualTo(1e-2);
    assertThat(tie.tiedPenalties()).containsExactly(1e-3, 1e-4);

    SoftmaxRegression.Selected alone = SoftmaxRegression.select(heldOutByHand(0).x(), heldOutByHand(0).y(), 2, 3);
    assertThat(alone.trials()).extracting(SoftmaxRegression.Trial::validationAccuracy).containsExactly(1.0, 0.5, 0.5);
    assertThat(alone.probe().fit().l2()).isEqualTo(1e-1);
    assertThat(alone.tiedPenalties()).isEmpty();
  }

  @Test
  void choosingAPenaltyRefusesWhatFittingRefusesAndNeedsTwoExamples() {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 2, 3);
    assertThatThrownBy(() -> SoftmaxRegression.select(x, new int[] {0, 3}, 3, 0))
        .hasMessage("softmax regression: label 3 of example 1 is not a class of 0..2");
    assertThatThrownBy(() -> SoftmaxRegression.select(x.getRows(0), new int[] {0}, 3, 0))
        .hasMessage("softmax regression: choosing a penalty needs 2 examples, got 1");
    assertThat(SoftmaxRegression.select(x, new int[] {0, 1}, 3, 0).trials()).isNotEmpty();
  }

  @Test
  void labelsOutsideTheClassesAndMismatchedShapesAreRefused() {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 2, 3);
    assertThatThrownBy(() -> SoftmaxRegression.train(x, new int[] {0, 3}, 3, 0.1))
        .hasMessage("softmax regression: label 3 of example 1 is not a class of 0..2");
    assertThatThrownBy(() -> SoftmaxRegression.train(x, new int[] {0}, 3, 0.1))
        .hasMessage("softmax regression: features [2, 3] for 1 labels");
    assertThatThrownBy(() -> SoftmaxRegression.train(x, new int[] {0, 1}, 3, 0))
        .hasMessage("softmax regression: the penalty must be positive, got 0.0");
  }

  /**
   * A warm start of another length is refused before it is written: ND4J's assign into theta's views
   * checks nothing, so a bias of fewer classes left the rest of theta's bias 0 and the fit ran on
   * without a word, and weights of fewer classes failed in ND4J's reshape with a message about
   * shapes (a start of more classes would write past theta's end, so none is tried here).
   */
  @Test
  void aWarmStartOfOtherClassesIsRefused() {
    int n = 40, d = 3, c = 4;
    Labelled data = gaussianSet(new Random(12), n, d, c, 1.0);
    try (SoftmaxRegression.Rotated r = SoftmaxRegression.Rotated.of(data.x())) {
      SoftmaxRegression.Solution biasShort = new SoftmaxRegression.Solution(Nd4j.zeros(DataType.DOUBLE, d, c),
          Nd4j.zeros(DataType.DOUBLE, 1, c - 1), null);
      assertThatThrownBy(() -> r.solve(r.rotated, data.y(), c, 0.1, biasShort, SoftmaxRegression.Stopping.LAYER_PROBES))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("softmax regression: a warm start of weights [3, 4] and bias [1, 3] for 3 features and 4 classes");
      SoftmaxRegression.Solution fewerClasses = new SoftmaxRegression.Solution(Nd4j.zeros(DataType.DOUBLE, d, c - 1),
          Nd4j.zeros(DataType.DOUBLE, 1, c - 1), null);
      assertThatThrownBy(() -> r.solve(r.rotated, data.y(), c, 0.1, fewerClasses, SoftmaxRegression.Stopping.LAYER_PROBES))
          .hasMessage("softmax regression: a warm start of weights [3, 3] and bias [1, 3] for 3 features and 4 classes");
      // The start a choice passes, the previous penalty's fit, is taken.
      SoftmaxRegression.Solution previous = r.solve(r.rotated, data.y(), c, 0.1, null, SoftmaxRegression.Stopping.LAYER_PROBES);
      assertThat(r.solve(r.rotated, data.y(), c, 0.01, previous, SoftmaxRegression.Stopping.LAYER_PROBES).fit().converged())
          .isTrue();
    }
  }

  @Test
  void choosingAPenaltyFreesEveryFitsArraysAsItEnds() throws InterruptedException {
    // Each fit made float64 copies of the features (scaled, transposed) and the choice rotated
    // ones, all left to the collector, which finds them late: probe --layers reached 1.8 GB on
    // 6,000 images, and a choice here kept 20-50 MiB. Now only the probe's weights and what ND4J's
    // products leave behind (mmul copies an operand, an [n, d] array of 3.9 MiB here, now and
    // then) outlive it: the best of five choices must keep less than the float64 rows its
    // held-out fits are fitted on (1,600 x 256, 3.1 MiB), which the choice copies out of the rotated
    // features and frees (the best of five kept 1.8 MiB; 4.3-5.1 MiB with that copy left to the
    // collector, audit BV).
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Random r = new Random(5);
    int n = 2000, d = 256;
    int[] y = labels(r, n, 10);
    INDArray x = Init.normal(DataType.DOUBLE, r, n, d);
    for (int i = 0; i < n; i++) x.putScalar(i, y[i], x.getDouble(i, y[i]) + 1.5);
    INDArray features = x.castTo(DataType.FLOAT); // the probes' features are float32
    List<Long> seen = KeptBytes.of(5, run -> SoftmaxRegression.select(features, y, 10, run));
    assertThat(java.util.Collections.min(seen)).as("native bytes each choice kept: %s", seen).isLessThan(3L << 20);
  }

  /**
   * A choice leaves nothing per example to the collector. It took its held-out and fitted rows with
   * getRows, which copies through a view per row and left each row's native shape information
   * behind (about 670 bytes a row, at 64 features as at 1,024: a choice over 20,000 examples of 8
   * kept 15.6-20.1 MB with no collection in between), and multiplied the held-out rows with mmul,
   * whose logits and mmul's own copy of them were left too (0.64 MB a penalty there). Now it keeps
   * the probe and what its ops leave. The middle of five runs: a collection
   * during one frees what the others left. Ten runs of this test each way: the old choice's middles
   * 5.7-11.3 MB, this one's 0.09-0.38 MB.
   */
  @Test
  void aChoiceLeavesNothingPerExampleToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Random r = new Random(6);
    int n = 20000;
    int[] y = labels(r, n, 10);
    INDArray x = Init.normal(DataType.DOUBLE, r, n, 2);
    for (int i = 0; i < n; i++) x.putScalar(i, y[i] % 2, x.getDouble(i, y[i] % 2) + 0.5 * y[i]);
    INDArray features = x.castTo(DataType.FLOAT);
    List<Long> kept = KeptBytes.of(5, run -> SoftmaxRegression.select(features, y, 10, run));
    assertThat(KeptBytes.middle(kept)).as("native bytes each choice kept: %s", kept)
        .isLessThan(2L << 20);
  }

  /**
   * A fit keeps its weights alone, a probe's logits of float32 features only the logits, and its
   * accuracy nothing. The fit's rotation of the features into their eigenbasis, an mmul, left two
   * n x d float64 arrays to the collector (10.3 MB here; 974 MB on the full training split's
   * nuisance, probe --nuisance --linear); the logits left the features' float64 copy (13.4 MB kept
   * for 1.6 MB of logits; 487 MB there), and mmul a second product (3.2 MB with the copy freed); the
   * accuracy left the logits and its predictions' copies. The middle of five runs: a collection
   * during one frees what others left.
   */
  @Test
  void neitherAFitNorItsLogitsKeepACopyOfTheFeatures() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Random r = new Random(3);
    int n = 20000, d = 64, classes = 10;
    int[] y = labels(r, n, classes);
    INDArray x = Init.normal(DataType.FLOAT, r, n, d), xd = x.castTo(DataType.DOUBLE);
    List<Long> fits = KeptBytes.of(5, run -> SoftmaxRegression.train(xd, y, classes, 1e-2));
    assertThat(KeptBytes.middle(fits)).as("bytes each fit kept: %s", fits)
        .isLessThan((long) n * d * 8 / 4);
    SoftmaxRegression probe = SoftmaxRegression.train(xd, y, classes, 1e-2);
    long logits = (long) n * classes * 8;
    List<Long> kept = KeptBytes.of(5, run -> probe.logits(x));
    assertThat(KeptBytes.middle(kept)).as("bytes kept: %s", kept).isLessThan(logits + logits / 2);
    // Its accuracy keeps nothing: it left its logits to the collector (1.6 MB here, 4.8 MB on the
    // full training split's nuisance for probe --nuisance --linear's train accuracy), and
    // Losses.predictions a native copy of each row (median 8.0 MB with both). Warmed up: once in
    // nineteen runs the JIT's compiler arenas grew past the bound during the first reads.
    List<Long> read = KeptBytes.of(5, 5, run -> probe.accuracy(x, y));
    assertThat(KeptBytes.middle(read)).as("bytes an accuracy kept: %s", read).isLessThan(logits / 2);
    // Still x W + b, with W and b read off the logits of the unit vectors and of zero.
    INDArray b = probe.logits(Nd4j.zeros(DataType.DOUBLE, 1, d));
    INDArray w = probe.logits(Nd4j.eye(d).castTo(DataType.DOUBLE)).sub(b);
    INDArray expected = xd.mmul(w).addi(b);
    assertThat(Tensors.maxAbs(probe.logits(x).sub(expected))).isLessThan(1e-9);
  }

  /**
   * A choice leaves none of its fits' weight-sized arrays to the collector (audit EB): each fit's
   * theta, the solver's two copies of it, the warm start scaled into the solver's coordinates,
   * every penalty's solution, and mmul's column-major copy of the probe's weights, each d x C
   * float64 (410 KB here: 200 classes make them large against the rest). Alone in a JVM, the old
   * choice's middles were 2.4-5.7 MB in four runs of this test (6-14 such arrays), this one's
   * 0.56-0.57 MB in four (the probe's weights, the LAPACK work array ND4J's eigensolver leaves, 70
   * KB, and what its ops keep); the bound, three of the arrays, is about twice the one and half the other.
   */
  @Test
  void aChoiceLeavesNoneOfItsFitsWeightSizedArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int d = 256, classes = 200;
    Labelled data = gaussianSet(new Random(5), 600, d, classes, 1.0);
    INDArray features = data.x().castTo(DataType.FLOAT);
    int[] y = data.y();
    SoftmaxRegression.select(features, y, classes, 5); // the JVM compiles the solver meanwhile, whose arenas move glibc's bytes by megabytes
    List<Long> kept = KeptBytes.of(5, run -> SoftmaxRegression.select(features, y, classes, run));
    long weights = (long) d * classes * 8;
    assertThat(KeptBytes.middle(kept)).as("native bytes each choice kept: %s", kept).isLessThan(3 * weights);
  }

  /**
   * A fit keeps neither the eigenbasis it solves in nor the rotated features: closing the rotation
   * freed both, but nothing read the basis's free, a d x d float64 array (8.2 MB at the nuisance's
   * 1,014 dimensions) left to the collector without it. The fewest bytes of five fits of 1,200 x
   * 1,014: below 0 in six runs of this test (the middle reached 3.3 MB), 6.1-9.0 MB in five runs with
   * the free removed by hand (audit DB). What a fit keeps besides (audit EB, Native Memory Tracking
   * beside glibc's count): 0.44 MB outside the JVM's own allocations (0.88 before its [d, C] arrays
   * were freed), the probe's weights, the eigensolver's LAPACK work array (0.28 MB) and what its ops
   * keep; and the JVM's own
   * compiler arenas move glibc's bytes by +1 to +3 MB in a JVM's first fits and -5 to -10 MB when
   * they are given back, which were the 1-7 MB and the readings below 0.
   */
  @Test
  void aFitKeepsNoEigenbasisOfItsFeatures() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int n = 1200, d = 1014;
    INDArray x = Init.normal(DataType.FLOAT, new Random(4), n, d);
    int[] y = labels(new Random(6), n, 10);
    List<Long> kept = KeptBytes.of(5, run -> SoftmaxRegression.train(x, y, 10, 1e-2));
    assertThat(java.util.Collections.min(kept)).as("bytes each fit kept: %s", kept).isLessThan((long) d * d * 8 / 2);
  }
}
