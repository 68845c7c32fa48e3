package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.irevnet.analysis.NuisanceProbe.Readers;
import org.irevnet.data.Dataset;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.train.Losses;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class NuisanceProbeTest {
  static final MlpClassifier.Recipe SMALL = new MlpClassifier.Recipe(List.of(32), 15, 32, 3e-3, 0, 0);

  static int[] labels(int n, int classes, long seed) {
    Random r = new Random(seed);
    int[] y = new int[n];
    for (int i = 0; i < n; i++) y[i] = r.nextInt(classes);
    return y;
  }

  /**
   * Synthetic outputs z = [logits | nuisance] for labels y: the logits point to the label in a
   * fraction {@code logitCorrect} of the rows (and to the next class otherwise); the nuisance is
   * Gaussian noise, plus a class-dependent mean when {@code informative}.
   */
  static INDArray z(int[] y, int classes, int nuisance, double logitCorrect, boolean informative, long seed) {
    Random r = new Random(seed);
    INDArray z = Init.normal(DataType.FLOAT, r, y.length, classes + nuisance);
    INDArray means = Init.normal(DataType.FLOAT, new Random(99), classes, nuisance).muli(1.5);
    for (int i = 0; i < y.length; i++) {
      int shown = i < logitCorrect * y.length ? y[i] : (y[i] + 1) % classes;
      z.putScalar(i, shown, 10);
      if (informative) {
        INDArray row = z.getRow(i);
        for (int j = 0; j < nuisance; j++) row.putScalar(classes + j, row.getDouble(classes + j) + means.getDouble(y[i], j));
      }
    }
    return z;
  }

  @Test
  void labelInformationInTheNuisanceIsFoundAndReportedAsExcess() {
    int[] yTrain = labels(600, 4, 1), yTest = labels(200, 4, 2);
    INDArray zTrain = z(yTrain, 4, 12, 0.7, true, 3), zTest = z(yTest, 4, 12, 0.7, true, 4);
    long t0 = System.nanoTime();
    NuisanceProbe.Result r = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, 4, SMALL, Readers.MLP);
    // The reported time is part of the call's own wall time.
    assertThat(r.seconds()).isPositive().isLessThanOrEqualTo((System.nanoTime() - t0) / 1e9);
    assertThat(r.logitAccuracy()).isCloseTo(0.7, within(1e-9));
    assertThat(r.nuisanceAccuracy()).isGreaterThan(0.95);
    assertThat(r.excess()).isCloseTo(r.nuisanceAccuracy() - 0.7, within(1e-12)).isGreaterThan(0.25);
    assertThat(r.nuisanceDims()).isEqualTo(12);
    assertThat(r.trainCount()).isEqualTo(600);
    assertThat(r.testCount()).isEqualTo(200);
    assertThat(r.recipe()).isEqualTo(SMALL);
  }

  /** The trained probe reads the nuisance only: its classes give the measured accuracy, whatever the logits say. */
  @Test
  void aTrainedProbeClassifiesFromTheNuisanceAlone() {
    int[] yTrain = labels(600, 4, 1), yTest = labels(200, 4, 2);
    INDArray zTrain = z(yTrain, 4, 12, 0.7, true, 3), zTest = z(yTest, 4, 12, 0.7, true, 4);
    NuisanceProbe.Trained probe = NuisanceProbe.train(zTrain, yTrain, 4, SMALL);
    int[] classes = probe.classes(zTest);
    assertThat(Losses.accuracy(classes, yTest))
        .isEqualTo(NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, 4, SMALL, Readers.MLP).nuisanceAccuracy())
        .isGreaterThan(0.6);
    assertThat(Losses.accuracy(probe.classes(zTrain), yTrain)).isEqualTo(probe.trainAccuracy());
    INDArray otherLogits = zTest.dup();
    otherLogits.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 4)).assign(Init.normal(DataType.FLOAT, new Random(5), 200, 4));
    assertThat(probe.classes(otherLogits)).isEqualTo(classes);
  }

  /**
   * Per test image, whether the logits and the probe got it right, in the test order (what
   * quickstart's paired test of CE against iCE reads): z's logits point to the label in exactly the
   * first 70% of the rows (140 of 200), and the probe's are its own classes, trained alike.
   */
  @Test
  void perImageCorrectnessIsThatOfEachTestImageInOrder() {
    int[] yTrain = labels(600, 4, 1), yTest = labels(200, 4, 2);
    INDArray zTrain = z(yTrain, 4, 12, 0.7, true, 3), zTest = z(yTest, 4, 12, 0.7, true, 4);
    NuisanceProbe.Result r = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, 4, SMALL, Readers.MLP);
    assertThat(r.logitCorrect()).hasSize(200);
    for (int i = 0; i < 200; i++) assertThat(r.logitCorrect()[i]).as("image %d", i).isEqualTo(i < 140);
    int[] probeClasses = NuisanceProbe.train(zTrain, yTrain, 4, SMALL).classes(zTest);
    int right = 0, wrong = 0;
    for (int i = 0; i < 200; i++) {
      assertThat(r.nuisanceCorrect()[i]).as("image %d", i).isEqualTo(probeClasses[i] == yTest[i]);
      if (r.nuisanceCorrect()[i]) right++;
      else wrong++;
    }
    assertThat(wrong).as("the probe gets some wrong, so the order is read").isPositive();
    assertThat(right / 200.0).isEqualTo(r.nuisanceAccuracy());
  }

  /**
   * The label in directions a thousandth of the largest in scale (a millionth in variance), as in
   * an iCE model's nuisance: standardised, they stay that small and the probe's few hundred steps
   * barely read them; whitened, the same recipe reads them.
   */
  @Test
  void aWhitenedProbeReadsTheLabelInDirectionsOfSmallVariance() {
    int classes = 4, nuisance = 12;
    int[] yTrain = labels(600, classes, 1), yTest = labels(400, classes, 2);
    INDArray zTrain = hiddenLabel(yTrain, classes, nuisance, 1e3, 3), zTest = hiddenLabel(yTest, classes, nuisance, 1e3, 4);
    NuisanceProbe.Result standardised = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, SMALL, Readers.MLP);
    NuisanceProbe.Result whitened = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, SMALL,
        Readers.MLP.withWhitenedMlp());
    assertThat(standardised.whitened()).isFalse();
    assertThat(whitened.whitened()).isTrue();
    assertThat(standardised.nuisanceAccuracy()).isLessThan(0.5);
    assertThat(whitened.nuisanceAccuracy()).isGreaterThan(0.9);
    // The trained probe classifies new rows through the same whitening.
    int[] classesOf = NuisanceProbe.train(zTrain, yTrain, classes, SMALL, Readers.MLP.withWhitenedMlp()).classes(zTest);
    assertThat(Losses.accuracy(classesOf, yTest)).isEqualTo(whitened.nuisanceAccuracy());
  }

  /**
   * Outputs z = [logits | nuisance] whose nuisance columns share one component of sd {@code
   * common}, the label in the directions that contrast them (class means of 0.5 plus noise of 0.3,
   * about a {@code common}-th of the columns' sd): standardised, the label's directions are that small.
   */
  static INDArray hiddenLabel(int[] y, int classes, int nuisance, double common, long seed) {
    INDArray means = Init.normal(DataType.DOUBLE, new Random(99), classes, nuisance);
    Random r = new Random(seed);
    INDArray out = Nd4j.zeros(DataType.DOUBLE, y.length, classes + nuisance);
    for (int i = 0; i < y.length; i++) {
      double shared = common * r.nextGaussian();
      out.putScalar(i, y[i], 10);
      for (int j = 0; j < nuisance; j++) {
        out.putScalar(i, classes + j, shared + 0.5 * means.getDouble(y[i], j) + 0.3 * r.nextGaussian());
      }
    }
    return out.castTo(DataType.FLOAT);
  }

  /**
   * The linear reader is probe --layers' solver on the standardised z_n: the same numbers as
   * SoftmaxRegression.select on z_n standardised here by plain loops (the training split's mean and
   * biased sd, as Features.Standardizer), with the recipe's seed holding out the penalty's examples.
   * The label sits in directions a 30th of the columns' sd, which the small recipe's MLP reads worse.
   */
  @Test
  void theLinearReaderIsTheLayerProbesSolverOnTheStandardisedNuisance() {
    int classes = 4, nuisance = 12;
    int[] yTrain = labels(600, classes, 1), yTest = labels(400, classes, 2);
    INDArray zTrain = hiddenLabel(yTrain, classes, nuisance, 30, 3), zTest = hiddenLabel(yTest, classes, nuisance, 30, 4);
    MlpClassifier.Recipe recipe = SMALL.withSeed(5);
    long t0 = System.nanoTime();
    NuisanceProbe.Result r = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, recipe, Readers.MLP.withLinear());
    double elapsed = (System.nanoTime() - t0) / 1e9;
    NuisanceProbe.Linear linear = r.linear();

    double[] mean = new double[nuisance], sd = new double[nuisance];
    for (int j = 0; j < nuisance; j++) {
      for (int i = 0; i < yTrain.length; i++) mean[j] += zTrain.getDouble(i, classes + j);
      mean[j] /= yTrain.length;
      for (int i = 0; i < yTrain.length; i++) sd[j] += Math.pow(zTrain.getDouble(i, classes + j) - mean[j], 2);
      sd[j] = Math.sqrt(sd[j] / yTrain.length);
    }
    Function<INDArray, INDArray> standardised = z -> {
      INDArray x = Nd4j.zeros(DataType.DOUBLE, z.size(0), nuisance);
      for (int i = 0; i < z.size(0); i++) {
        for (int j = 0; j < nuisance; j++) x.putScalar(i, j, (z.getDouble(i, classes + j) - mean[j]) / sd[j]);
      }
      return x;
    };
    INDArray xTrain = standardised.apply(zTrain), xTest = standardised.apply(zTest);
    SoftmaxRegression.Selected expected =
        SoftmaxRegression.select(xTrain, yTrain, classes, 5, NuisanceProbe.LINEAR_READER);
    int[] expectedClasses = Losses.predictions(expected.probe().logits(xTest));
    assertThat(linear.l2()).isEqualTo(expected.probe().fit().l2());
    // Two near-minimisers (their inputs standardised in another order of operations, so their
    // iterates part by rounding): objectives agree to second order in the gradient tolerance
    // (4.4e-9 apart here at the layer probes' 1e-4), where a reader of other features or penalty
    // is far off.
    assertThat(linear.objective()).isCloseTo(expected.probe().fit().objective(), within(1e-7));
    // Each penalty tried, with the held-out accuracy that chose among them: select's.
    assertThat(linear.heldOut()).hasSameSizeAs(expected.trials());
    for (int t = 0; t < expected.trials().size(); t++) {
      assertThat(linear.heldOut().get(t).l2()).isEqualTo(expected.trials().get(t).l2());
      assertThat(linear.heldOut().get(t).accuracy()).as("penalty %d", t)
          .isEqualTo(expected.trials().get(t).validationAccuracy());
    }
    assertThat(linear.l2Ties()).isEqualTo(expected.tiedPenalties());
    assertThat(linear.accuracy()).isEqualTo(Losses.accuracy(expectedClasses, yTest)).isGreaterThan(0.9);
    assertThat(linear.trainAccuracy()).isEqualTo(expected.probe().accuracy(xTrain, yTrain));
    for (int i = 0; i < yTest.length; i++) {
      assertThat(linear.correct()[i]).as("test image %d", i).isEqualTo(expectedClasses[i] == yTest[i]);
    }
    // The fits it took: the held-out ones and the refit, all converged, under the recipe's seed.
    assertThat(linear.fitting().seed()).isEqualTo(5);
    assertThat(linear.fitting().allConverged()).isTrue();
    assertThat(linear.fitting().gradientTolerance()).isEqualTo(NuisanceProbe.LINEAR_READER.gradientTolerance());
    assertThat(linear.fitting().maxIterations()).isEqualTo(NuisanceProbe.LINEAR_READER.maxIterations());
    assertThat(linear.fitting().largestGradient()).isLessThanOrEqualTo(1e-6);
    assertThat(linear.fitting().penalties()).containsExactly(1e-1, 1e-2, 1e-3, 1e-4, 1e-5);
    // Its own time, after the recipe's (which does not count it): within the call's.
    assertThat(linear.seconds()).isPositive().isLessThanOrEqualTo(elapsed - r.seconds());
    // The recipe's own numbers are those it gives without the reader.
    NuisanceProbe.Result alone = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, recipe, Readers.MLP);
    assertThat(alone.linear()).isNull();
    assertThat(r.nuisanceAccuracy()).isEqualTo(alone.nuisanceAccuracy()).isLessThan(linear.accuracy() - 0.1);
    assertThat(r.nuisanceCorrect()).isEqualTo(alone.nuisanceCorrect());
  }

  /** --whiten sets the MLP's input only: the linear reader reads the standardised z_n either way. */
  @Test
  void theLinearReaderIgnoresWhitening() {
    int classes = 4, nuisance = 12;
    int[] yTrain = labels(300, classes, 1), yTest = labels(200, classes, 2);
    INDArray zTrain = hiddenLabel(yTrain, classes, nuisance, 30, 3), zTest = hiddenLabel(yTest, classes, nuisance, 30, 4);
    NuisanceProbe.Linear plain = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, SMALL,
        Readers.MLP.withLinear()).linear();
    NuisanceProbe.Result white = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, classes, SMALL,
        Readers.MLP.withWhitenedMlp().withLinear());
    assertThat(white.whitened()).isTrue();
    assertThat(white.linear().correct()).isEqualTo(plain.correct());
    assertThat(white.linear().trainAccuracy()).isEqualTo(plain.trainAccuracy());
    assertThat(white.linear().l2()).isEqualTo(plain.l2());
    // Nor does it change the caller's outputs (its standardisation works on a copy).
    assertThat(zTrain).isEqualTo(hiddenLabel(yTrain, classes, nuisance, 30, 3));
  }

  @Test
  void aNuisanceWithoutLabelInformationGivesChance() {
    int[] yTrain = labels(600, 4, 1), yTest = labels(400, 4, 2);
    NuisanceProbe.Result r = NuisanceProbe.measure(z(yTrain, 4, 12, 1.0, false, 3), yTrain,
        z(yTest, 4, 12, 1.0, false, 4), yTest, 4, SMALL, Readers.MLP);
    assertThat(r.logitAccuracy()).isEqualTo(1.0);
    // Chance is 0.25; the probe overfits its training set but learns nothing that generalises.
    assertThat(r.nuisanceAccuracy()).isBetween(0.15, 0.35);
    assertThat(r.nuisanceTrainAccuracy()).isGreaterThan(r.nuisanceAccuracy());
    assertThat(r.excess()).isLessThan(-0.6);
  }

  @Test
  void weightDecayKeepsAProbeFromFittingNoise() {
    int[] y = labels(200, 4, 1);
    INDArray noise = z(y, 4, 60, 1.0, false, 3).get(NDArrayIndex.all(), NDArrayIndex.interval(4, 64)).dup();
    double free = MlpClassifier.train(noise, y, 4, SMALL).accuracy(noise, y);
    double decayed = MlpClassifier.train(noise, y, 4, SMALL.withWeightDecay(30)).accuracy(noise, y);
    assertThat(free).as("unregularised, the probe fits the noise").isGreaterThan(0.5);
    assertThat(decayed).isLessThan(free - 0.2);
    assertThatThrownBy(() -> SMALL.withWeightDecay(Double.NaN)).hasMessageContaining("weight decay >= 0");
    // Each step scales the weights by 1 - lr * wd: at lr * wd = 1 the first step zeroes them, above
    // it flips and grows them (as the trainer's AdamW refuses it). lr 3e-3: the limit is 333.3.
    assertThat(SMALL.withWeightDecay(333).weightDecay()).isEqualTo(333);
    assertThatThrownBy(() -> SMALL.withWeightDecay(1 / 3e-3)).hasMessage("probe recipe: weight decay must be below"
        + " 1 / learning rate = 333.333 (each step scales the weights by 1 - learning rate * weight decay), got 333.333");
    // The smallest valid recipe: one epoch, batches of one, a hidden layer of one unit.
    assertThat(new MlpClassifier.Recipe(List.of(1), 1, 1, 1e-3, 0, 0).hidden()).containsExactly(1);
    assertThatThrownBy(() -> new MlpClassifier.Recipe(List.of(0), 1, 1, 1e-3, 0, 0)).hasMessageContaining("hidden width 0");
    assertThatThrownBy(() -> new MlpClassifier.Recipe(List.of(), 1, 0, 1e-3, 0, 0)).hasMessageContaining("batch >= 1");
    assertThatThrownBy(() -> new MlpClassifier.Recipe(List.of(), 1, 1, 0, 0, 0)).hasMessageContaining("learning rate > 0");
  }

  @Test
  void sameRecipeSameResultAndTheSeedMatters() {
    int[] yTrain = labels(300, 4, 1), yTest = labels(200, 4, 2);
    INDArray zTrain = z(yTrain, 4, 12, 0.5, true, 3), zTest = z(yTest, 4, 12, 0.5, true, 4);
    MlpClassifier.Recipe weak = SMALL.withEpochs(1);
    NuisanceProbe.Result a = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, 4, weak, Readers.MLP);
    NuisanceProbe.Result b = NuisanceProbe.measure(zTrain, yTrain, zTest, yTest, 4, weak, Readers.MLP);
    assertThat(b.nuisanceAccuracy()).isEqualTo(a.nuisanceAccuracy());
    assertThat(b.nuisanceTrainAccuracy()).isEqualTo(a.nuisanceTrainAccuracy());
    MlpClassifier p0 = MlpClassifier.train(zTrain, yTrain, 4, weak), p1 = MlpClassifier.train(zTrain, yTrain, 4,
        weak.withSeed(1));
    assertThat(p0.logits(zTest).equalsWithEps(p1.logits(zTest), 1e-3)).isFalse();
    assertThat(p0.logits(zTest)).isEqualTo(MlpClassifier.train(zTrain, yTrain, 4, weak).logits(zTest));
  }

  @Test
  void measuresAFrozenTinyModelAndRefusesIRevNets() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5);
    int[] yTrain = labels(40, 10, 1), yTest = labels(20, 10, 2);
    List<String> names = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    Dataset train = new Dataset("train", MetamerSamplerTest.images(DataType.FLOAT, 1, 40), yTrain, names);
    Dataset test = new Dataset("test", MetamerSamplerTest.images(DataType.FLOAT, 2, 20), yTest, names);
    INDArray before = m.params().entries().values().iterator().next().value().dup();
    NuisanceProbe.Result r = NuisanceProbe.measure(m, train, test, SMALL.withEpochs(2));
    assertThat(r.nuisanceDims()).isEqualTo(1014);
    assertThat(r.trainCount()).isEqualTo(40);
    double expected = Losses.accuracy(m.logits(test.images()), yTest);
    assertThat(r.logitAccuracy()).isEqualTo(expected);
    assertThat(m.params().entries().values().iterator().next().value()).isEqualTo(before);

    InvertibleClassifier irev = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 0);
    assertThatThrownBy(() -> NuisanceProbe.measure(irev, train, test, SMALL))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fully invertible");
    assertThatThrownBy(() -> NuisanceProbe.measure(Nd4j.zeros(DataType.FLOAT, 4, 4), new int[4],
        Nd4j.zeros(DataType.FLOAT, 4, 4), new int[4], 4, SMALL, Readers.MLP)).hasMessageContaining("more than 4 columns");
    // A test split of another width, or none: refused before any training (a Java caller's mistake;
    // the commands make both splits with one model).
    assertThatThrownBy(() -> NuisanceProbe.measure(Nd4j.zeros(DataType.FLOAT, 4, 6), new int[4],
        Nd4j.zeros(DataType.FLOAT, 4, 7), new int[4], 4, SMALL, Readers.MLP)).hasMessage("nuisance probe: z must have more than 4"
        + " columns, the same in both splits; got 6 and 7");
    assertThatThrownBy(() -> NuisanceProbe.measure(Nd4j.zeros(DataType.FLOAT, 4, 6), new int[4],
        Nd4j.zeros(DataType.FLOAT, 0, 6), new int[0], 4, SMALL, Readers.MLP)).hasMessage("nuisance probe: empty test split");
  }

  /** A row whose nuisance is NaN has no probe class (-1), not ND4J's argmax of a NaN row, class 0. */
  @Test
  void aRowWithANonFiniteNuisanceHasNoProbeClass() {
    int[] yTrain = labels(600, 4, 1), yTest = labels(200, 4, 2);
    NuisanceProbe.Trained probe = NuisanceProbe.train(z(yTrain, 4, 12, 0.7, true, 3), yTrain, 4, SMALL);
    INDArray zTest = z(yTest, 4, 12, 0.7, true, 4);
    int[] clean = probe.classes(zTest);
    zTest.putScalar(3, 4 + 5, Double.NaN);
    int[] classes = probe.classes(zTest);
    assertThat(classes[3]).isEqualTo(-1);
    classes[3] = clean[3];
    assertThat(classes).as("the other rows").isEqualTo(clean);
  }

  @Test
  void trainingAProbeKeepsNoCopyOfTheTrainingFeatures() throws InterruptedException {
    // The nuisance columns, a standardised copy of them, the classifier's own copy and its
    // shuffled rows were each the training split's size (232 MiB on the full Fashion-MNIST), and
    // all but the last were left to the garbage collector. Now one copy, standardised in place, and
    // the shuffled rows exist while the probe trains, and both are freed when it ends. What ND4J's
    // own operations leave behind stays (7-15 MiB a training here, against 15-41 before): five
    // trainings must keep less than three copies of the 5.1 MiB nuisance each, on average.
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Random r = new Random(3);
    int n = 20000;
    int[] y = r.ints(n, 0, 10).toArray();
    INDArray z = Init.normal(DataType.FLOAT, r, n, 74);
    MlpClassifier.Recipe recipe = new MlpClassifier.Recipe(List.of(8), 1, n, 1e-3, 0, 0); // one step: no collection during it
    List<Long> kept = KeptBytes.of(5, run -> NuisanceProbe.train(z, y, 10, recipe));
    assertThat(kept.stream().mapToLong(Long::longValue).sum() / kept.size())
        .as("native bytes each training kept: %s", kept).isLessThan(3L * n * 64 * 4);
  }
}
