package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LayerProbesTest {
  /** Gaussian clusters: class c has mean {@code sep} on axis c (and 0 elsewhere), unit noise. */
  static INDArray clusters(int[] y, int dims, double sep, long seed) {
    INDArray x = Init.normal(DataType.FLOAT, new Random(seed), y.length, dims);
    for (int i = 0; i < y.length; i++) x.putScalar(i, y[i], x.getDouble(i, y[i]) + sep);
    return x;
  }

  @Test
  void linearlySeparableClassesGiveFullAccuracyAndRandomLabelsGiveChance() {
    int[] yTrain = NuisanceProbeTest.labels(800, 4, 1), yTest = NuisanceProbeTest.labels(400, 4, 2);
    INDArray tr = clusters(yTrain, 8, 12, 3), te = clusters(yTest, 8, 12, 4);
    long t0 = System.nanoTime();
    LayerProbes.Result sep = LayerProbes.measure(List.of(tr), yTrain, List.of(te), yTest, 4, null, 0);
    // The reported time is part of the call's own wall time.
    assertThat(sep.seconds()).isPositive().isLessThanOrEqualTo((System.nanoTime() - t0) / 1e9);
    LayerProbes.Stage s = sep.stages().get(0);
    assertThat(s.linearAccuracy()).isGreaterThanOrEqualTo(0.995);
    assertThat(s.nearestNeighbourAccuracy()).isGreaterThanOrEqualTo(0.995);
    assertThat(s.features()).isEqualTo(8);
    assertThat(s.shape()).containsExactly(8L);
    // The penalties that tied with the chosen one are select's on the standardised features.
    INDArray standardised = Features.Standardizer.fit(tr).apply(tr);
    assertThat(s.linearL2Ties()).isEqualTo(SoftmaxRegression.select(standardised, yTrain, 4, 0).tiedPenalties());

    int[] randomTrain = NuisanceProbeTest.labels(800, 4, 5), randomTest = NuisanceProbeTest.labels(400, 4, 6);
    LayerProbes.Result rnd = LayerProbes.measure(List.of(tr), randomTrain, List.of(te), randomTest, 4, null, 0);
    assertThat(rnd.stages().get(0).linearAccuracy()).isBetween(0.17, 0.33);
    assertThat(rnd.stages().get(0).nearestNeighbourAccuracy()).isBetween(0.17, 0.33);
    assertThat(rnd.trainCount()).isEqualTo(800);
    assertThat(rnd.testCount()).isEqualTo(400);

    // Each accuracy's 95% Wilson interval is over the 400 test images (not the 800 training ones).
    for (LayerProbes.Stage st : List.of(s, rnd.stages().get(0))) {
      assertWilson(st.linearAccuracyCi95(), st.linearAccuracy(), 400);
      assertWilson(st.nearestNeighbourAccuracyCi95(), st.nearestNeighbourAccuracy(), 400);
    }
    assertThat(rnd.pca()).isNotEmpty();
    for (LayerProbes.PcaPoint p : rnd.pca()) assertWilson(p.linearAccuracyCi95(), p.linearAccuracy(), 400);
  }

  /**
   * {@code ci} is the 95% Wilson interval of a share of n by its closed form, (p + z²/2n ± z
   * sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), its bounds exactly 0 and 1 at none and all.
   */
  static void assertWilson(org.irevnet.stats.Proportions.Interval ci, double share, int n) {
    double z = 1.959963984540054, k = Math.round(share * n), p = k / n;
    double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
    double half = z / (1 + z * z / n) * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
    assertThat(ci).as("the interval of %s of %d", share, n).isNotNull();
    assertThat(ci.lo()).as("lower bound of %s of %d", share, n).isCloseTo(k == 0 ? 0 : centre - half, within(1e-12));
    assertThat(ci.hi()).as("upper bound of %s of %d", share, n).isCloseTo(k == n ? 1 : centre + half, within(1e-12));
  }

  /** Queries are searched in blocks: two full blocks, ending exactly at a block's end, lose no row. */
  @Test
  void nearestNeighbourOfMoreQueriesThanOneBlock() {
    int m = 2 * LayerProbes.NN_BLOCK;
    INDArray ref = Init.normal(DataType.FLOAT, new Random(1), 7, 3), q = Init.normal(DataType.FLOAT, new Random(2), m, 3);
    double[][] r = ref.toDoubleMatrix(), qs = q.toDoubleMatrix();
    int[] nn = LayerProbes.nearestNeighbour(ref, q);
    assertThat(nn).hasSize(m);
    for (int i = 0; i < m; i++) {
      int best = 0;
      for (int j = 1; j < r.length; j++) if (squaredDistance(qs[i], r[j]) < squaredDistance(qs[i], r[best])) best = j;
      assertThat(nn[i]).as("query %d", i).isEqualTo(best);
    }
  }

  /**
   * The search keeps nothing native: each block's scores against the reference ({@code NN_BLOCK x
   * n}, 40 MB here) are freed as it ends. mmul of the reference's transposed view left a copy of the
   * reference and a second product to the collector at every block: 0.9-1.5 GB kept by one {@link
   * LayerProbes#measure} of two stages of 10,000 x 64 features. The middle of five runs.
   */
  @Test
  void theNearestNeighbourSearchKeepsNoBlocksScores() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int n = 10000, m = 4 * LayerProbes.NN_BLOCK;
    INDArray ref = Init.normal(DataType.FLOAT, new Random(1), n, 64);
    INDArray q = Init.normal(DataType.FLOAT, new Random(2), m, 64);
    List<Long> kept = KeptBytes.of(5, run -> LayerProbes.nearestNeighbour(ref, q));
    long blockScores = (long) LayerProbes.NN_BLOCK * n * 8;
    assertThat(KeptBytes.middle(kept)).as("bytes each search kept: %s", kept)
        .isLessThan(blockScores / 8);
  }

  private static double squaredDistance(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
  }

  @Test
  void nearestNeighbourIsExact() {
    INDArray ref = Init.normal(DataType.FLOAT, new Random(1), 60, 5), q = Init.normal(DataType.FLOAT, new Random(2), 23, 5);
    int[] nn = LayerProbes.nearestNeighbour(ref, q);
    for (int i = 0; i < 23; i++) {
      int best = -1;
      double bestD = Double.POSITIVE_INFINITY;
      for (int j = 0; j < 60; j++) {
        double d = q.getRow(i).castTo(DataType.DOUBLE).distance2(ref.getRow(j).castTo(DataType.DOUBLE));
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      }
      assertThat(nn[i]).as("query %d", i).isEqualTo(best);
    }
    // A hand case: the nearest point is not the one with the largest dot product.
    INDArray r2 = Nd4j.create(new float[][] {{10, 0}, {1, 0}, {0, 3}});
    assertThat(LayerProbes.nearestNeighbour(r2, Nd4j.create(new float[][] {{1.2f, 0.1f}, {0, 2}, {8, 1}})))
        .containsExactly(1, 2, 0);
  }

  @Test
  void pcaCurveIsMonotoneWhenTheLabelLivesInTheTopComponents() {
    // Labels in a 2-D latent (class means on a circle), mixed into 12 correlated dimensions plus
    // weak noise: two principal components hold the class, one holds half of it.
    int[] yTrain = NuisanceProbeTest.labels(600, 4, 1), yTest = NuisanceProbeTest.labels(300, 4, 2);
    INDArray mix = Init.normal(DataType.FLOAT, new Random(9), 2, 12);
    INDArray tr = latent(yTrain, 3).mmul(mix).addi(Init.normal(DataType.FLOAT, new Random(4), 600, 12).muli(0.05));
    INDArray te = latent(yTest, 5).mmul(mix).addi(Init.normal(DataType.FLOAT, new Random(6), 300, 12).muli(0.05));
    Features.Standardizer st = Features.Standardizer.fit(tr);
    List<SoftmaxRegression.Fit> fits = new java.util.ArrayList<>();
    List<LayerProbes.PcaPoint> curve = LayerProbes.pcaCurve(st.apply(tr), yTrain, st.apply(te), yTest, 4, 0, null,
        fits);
    // Held-out fits and a refit per point.
    assertThat(fits).hasSizeGreaterThan(curve.size()).allMatch(SoftmaxRegression.Fit::converged);
    assertThat(curve).extracting(LayerProbes.PcaPoint::components).containsExactly(1, 2, 4, 8, 12);
    for (int i = 1; i < curve.size(); i++) {
      assertThat(curve.get(i).explainedVariance()).isGreaterThan(curve.get(i - 1).explainedVariance());
      assertThat(curve.get(i).linearAccuracy()).isGreaterThanOrEqualTo(curve.get(i - 1).linearAccuracy() - 0.02);
    }
    assertThat(curve.get(1).explainedVariance()).isGreaterThan(0.98);
    assertThat(curve.get(4).explainedVariance()).isCloseTo(1.0, within(1e-9));
    assertThat(curve.get(0).linearAccuracy()).isLessThan(0.8);
    assertThat(curve.get(1).linearAccuracy()).isGreaterThan(0.95);

    // At the full dimension the projections are a rotation of the features: the probe of the
    // features themselves, passed in, stands for it, and is what refitting gives.
    SoftmaxRegression.Selected full = SoftmaxRegression.select(st.apply(tr), yTrain, 4, 0);
    assertThat(curve.get(4).linearAccuracy()).isEqualTo(full.probe().accuracy(st.apply(te), yTest));
    assertThat(curve.get(4).linearL2()).isEqualTo(full.probe().fit().l2());
    assertThat(curve.get(4).linearL2Ties()).isEqualTo(full.tiedPenalties());
    List<SoftmaxRegression.Fit> fewer = new java.util.ArrayList<>();
    List<LayerProbes.PcaPoint> given = LayerProbes.pcaCurve(st.apply(tr), yTrain, st.apply(te), yTest, 4, 0, full, fewer);
    assertThat(given).isEqualTo(curve);
    assertThat(fewer).hasSizeLessThan(fits.size());
  }

  /**
   * The PCA curve frees its float64 copies of both splits (cast and centred), the covariance and its
   * eigenvectors, and its products (Tensors.product, not mmul) rather than leaving them to the
   * collector, as its probes do their row copies (SoftmaxRegressionTest's
   * aChoiceLeavesNothingPerExampleToTheCollector): a curve over 6,000 x 1,024 features kept about 248
   * MB, 1 MB now. The bound is the two float64 copies of the training features it makes. The middle
   * of five runs; ten runs of this test each way: the old curve's middles 13.7-22.7 MB, this one's
   * 0.8-2.5 MB.
   */
  @Test
  void thePcaCurveFreesItsCopiesAndProducts() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int n = 2000, d = 256;
    Split s = split(DataType.FLOAT, n, 500, d, label -> 1.5);
    SoftmaxRegression.Selected full = SoftmaxRegression.select(s.train(), s.yTrain(), 10, 0);
    List<Long> kept = KeptBytes.of(5, run -> LayerProbes.pcaCurve(s.train(), s.yTrain(), s.test(), s.yTest(), 10, 0,
        full, new java.util.ArrayList<>()));
    assertThat(KeptBytes.middle(kept)).as("native bytes each curve kept: %s", kept)
        .isLessThan(2L * n * d * 8);
  }

  /**
   * The probes free the last stage's standardised features as they end, not only every earlier
   * stage's: one stage of 50,000 x 16 float64 features here, whose standardised copy (6.4 MB) a
   * probe that left it to the collector kept besides what its choices leave (the middle of five
   * runs 6.7-9.5 MB that way in nine tries, 1.0-1.8 in six with the free). The bound is two thirds
   * of that copy. The middle of five runs: a collection during one frees what others left. (The
   * same features with 1.5 added in the label's column, as the PCA curve's test has them, left the
   * middle of an old run at 1.1 MB once in three: the choices' own leftovers vary more there.)
   */
  @Test
  void theProbesFreeTheLastStagesStandardisedFeatures() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Split s = split(DataType.DOUBLE, 50000, 1000, 16, label -> 0.3 * label);
    List<Long> kept = KeptBytes.of(5, run -> LayerProbes.measure(List.of(s.train()), s.yTrain(), List.of(s.test()),
        s.yTest(), 10, null, run));
    assertThat(KeptBytes.middle(kept)).as("native bytes each probe kept: %s", kept)
        .isLessThan(4L << 20);
  }

  /** Features of a training and a test split with their labels. */
  record Split(INDArray train, int[] yTrain, INDArray test, int[] yTest) {}

  /**
   * {@code n} training and {@code m} test rows of {@code d} unit normal features, {@code shift} of
   * its label added in column {@code label % d} of each row.
   */
  static Split split(DataType dt, int n, int m, int d, java.util.function.IntToDoubleFunction shift) {
    int[] yTrain = NuisanceProbeTest.labels(n, 10, 1), yTest = NuisanceProbeTest.labels(m, 10, 2);
    INDArray tr = Init.normal(dt, new Random(1), n, d), te = Init.normal(dt, new Random(2), m, d);
    for (int i = 0; i < n; i++) tr.putScalar(i, yTrain[i] % d, tr.getDouble(i, yTrain[i] % d) + shift.applyAsDouble(yTrain[i]));
    for (int i = 0; i < m; i++) te.putScalar(i, yTest[i] % d, te.getDouble(i, yTest[i] % d) + shift.applyAsDouble(yTest[i]));
    return new Split(tr, yTrain, te, yTest);
  }

  /** Class means at 90-degree steps on a circle of radius 3, unit-variance noise. */
  static INDArray latent(int[] y, long seed) {
    INDArray u = Init.normal(DataType.FLOAT, new Random(seed), y.length, 2).muli(0.5);
    for (int i = 0; i < y.length; i++) {
      u.putScalar(i, 0, u.getDouble(i, 0) + 3 * Math.cos(Math.PI / 2 * y[i]));
      u.putScalar(i, 1, u.getDouble(i, 1) + 3 * Math.sin(Math.PI / 2 * y[i]));
    }
    return u;
  }

  @Test
  void probesEveryStageOfATinyModel() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5);
    List<String> names = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    Dataset train = new Dataset("train", MetamerSamplerTest.images(DataType.FLOAT, 1, 40),
        NuisanceProbeTest.labels(40, 10, 1), names);
    Dataset test = new Dataset("test", MetamerSamplerTest.images(DataType.FLOAT, 2, 20),
        NuisanceProbeTest.labels(20, 10, 2), names);
    LayerProbes.Result r = LayerProbes.measure(m, train, test, 0);
    // Every fit of every stage's and PCA point's probe converged, each at a penalty it may choose.
    assertThat(r.linearProbe().allConverged()).isTrue();
    assertThat(r.linearProbe().largestGradient()).isLessThanOrEqualTo(SoftmaxRegression.Stopping.LAYER_PROBES.gradientTolerance());
    assertThat(r.linearProbe().penalties()).containsExactly(1e-1, 1e-2, 1e-3, 1e-4, 1e-5);
    assertThat(r.stages()).extracting(LayerProbes.Stage::linearL2).allMatch(l -> r.linearProbe().penalties().contains(l));
    assertThat(r.pca()).extracting(LayerProbes.PcaPoint::linearL2).allMatch(l -> r.linearProbe().penalties().contains(l));
    assertThat(r.stages()).hasSize(2);
    assertThat(r.stages().get(0).shape()).containsExactly(4L, 16L, 16L);
    assertThat(r.stages().get(1).shape()).containsExactly(16L, 8L, 8L);
    assertThat(r.stages().get(1).features()).isEqualTo(16);
    assertThat(r.pca()).extracting(LayerProbes.PcaPoint::components).containsExactly(1, 2, 4, 8, 16);
    // The stages named by the model keep their intervals over the 20 test images.
    for (LayerProbes.Stage s : r.stages()) {
      assertWilson(s.linearAccuracyCi95(), s.linearAccuracy(), 20);
      assertWilson(s.nearestNeighbourAccuracyCi95(), s.nearestNeighbourAccuracy(), 20);
    }
    // The pooled features are those of the model's stage outputs.
    INDArray pooled = Features.pooledStages(m, test.images()).get(1);
    assertThat(pooled.getRow(3).equalsWithEps(m.stageOutputs(test.images()).get(1).mean(2, 3).getRow(3), 1e-6)).isTrue();
  }

  /**
   * A model with no layer to probe (a softmax regression on the image) is refused by the probes'
   * own message, from Java as from the command: features of no layers are no features, where
   * computing z alongside them looked up the last of none (an index error).
   */
  @Test
  void aModelWithoutLayersHasNoFeaturesAndIsRefusedByName() {
    org.deeplearning4j.nn.graph.ComputationGraph net = new org.deeplearning4j.nn.graph.ComputationGraph(
        new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1).graphBuilder().addInputs("in")
            .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(32, 32, 1))
            .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nOut(10)
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build(), "in")
            .setOutputs("out").build());
    net.init();
    org.irevnet.models.Dl4jClassifier m = org.irevnet.models.Dl4jClassifier.of(net, "softmax", new long[] {1, 32, 32}, null);
    assertThat(m.layerNames()).isEmpty();
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 2, 5);
    assertThat(Features.pooledStages(m, x)).isEmpty();
    List<String> names = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "c" + i).toList();
    Dataset d = new Dataset("d", x, NuisanceProbeTest.labels(5, 10, 2), names);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LayerProbes.measure(m, d, d, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-zero) number of stages");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void nearestNeighboursOfAQueryOfManyBlocksOfAnyLayoutAreThoseOfItsDenseCopy(org.irevnet.testing.Layouts layout) {
    // The query is searched NN_BLOCK rows at a time: rows taken near the end of a caller's view
    // by ND4J's get(interval) are empty (Tensors.rows), so the last blocks would be lost.
    int rows = 2 * LayerProbes.NN_BLOCK + 37;
    INDArray reference = layout.of(Init.normal(DataType.DOUBLE, new Random(1), 40, 5));
    INDArray query = layout.of(Init.normal(DataType.DOUBLE, new Random(2), rows, 5));
    INDArray before = query.dup('c'), dense = query.dup('c');
    assertThat(LayerProbes.nearestNeighbour(reference, query))
        .isEqualTo(LayerProbes.nearestNeighbour(reference.dup('c'), dense));
    assertThat(query).as("the query afterwards").isEqualTo(before);
  }
}
