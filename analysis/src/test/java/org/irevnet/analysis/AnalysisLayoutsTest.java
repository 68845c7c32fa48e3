package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The analyses' Java entry points on images of every {@link Layouts} layout: each gives exactly
 * what it gives on the dense copy and leaves the images as they were (the models' entry points:
 * {@code ClassifierLayoutsTest}; the blocks': {@code BijectionContract}).
 */
class AnalysisLayoutsTest {
  private static final InvertibleClassifier MODEL = TinyData.perturbedModel();
  /**
   * Each analysis's results on the dense copies, computed once: every layout but {@code BROADCAST}
   * holds the same values, so their dense copies are the same arrays bit for bit (the analyses took
   * half of CI's slowest test class computing them again per layout).
   */
  private static final Map<String, List<Object>> ON_DENSE_COPIES = new HashMap<>();

  private static INDArray images(long seed) {
    return Init.uniform(DataType.FLOAT, new Random(seed), 0.5, 2, 1, 32, 32).addi(0.5);
  }

  @ParameterizedTest
  @EnumSource(value = Layouts.class, mode = EnumSource.Mode.EXCLUDE, names = "DENSE")
  void everyAnalysisGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(Layouts layout) {
    InvertibleClassifier m = MODEL;
    INDArray a = layout.of(images(1)), b = layout.of(images(2));
    // A point of a small map's whole Jacobian; features of a train and a test split, in float64.
    INDArray point = layout.of(Init.normal(DataType.DOUBLE, new Random(3), 2, 3, 2, 2));
    INDArray train = layout.of(Init.normal(DataType.DOUBLE, new Random(4), 24, 6));
    INDArray test = layout.of(Init.normal(DataType.DOUBLE, new Random(5), 12, 6));
    int[] yTrain = NuisanceProbeTest.labels(24, 4, 1), yTest = NuisanceProbeTest.labels(12, 4, 2);
    List<String> names = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    // Each analysis of (a, b, point, train, test), its results as arrays and plain values.
    Map<String, Function<INDArray[], List<Object>>> analyses = new LinkedHashMap<>();
    analyses.put("Features.z", in -> List.of(Features.z(m, in[0])));
    analyses.put("Features.pooledStages", in -> new ArrayList<>(Features.pooledStages(m, in[0])));
    analyses.put("Reconstruction.perStage", in -> List.of(Reconstruction.perStage(m, in[0])));
    analyses.put("Reconstruction.inBothPrecisions", in -> List.of(Reconstruction.inBothPrecisions(m, in[0])));
    analyses.put("Interpolation.full", in -> {
      Interpolation.Path p = Interpolation.full(m, Tensors.rows(in[0], 1, 2), Tensors.rows(in[1], 0, 1), 3);
      return List.of(p.images(), p.representations(), p.classes(), p.probabilities());
    });
    analyses.put("MetamerSampler.sample", in -> {
      MetamerSampler.Result r = MetamerSampler.sample(m, in[0], in[1], null, 1);   // two batches
      return List.of(r.metamers(), r.pairs());
    });
    analyses.put("Stability.estimate", in -> List.of(Stability.estimate("body", m.body(), in[0], 3, 1)));
    analyses.put("Stability.jacobian", in -> List.of(Stability.jacobian("conv", StabilityTest.conv(3), in[2])));
    analyses.put("Interpolation.nuisance", in -> {
      Interpolation.Path p = Interpolation.nuisance(m, Tensors.rows(in[0], 1, 2), Tensors.rows(in[1], 0, 1), 3);
      return List.of(p.images(), p.representations(), p.classes(), p.probabilities());
    });
    analyses.put("LayerProbes.measure of splits whose images are views", in -> List.of(LayerProbes.measure(m,
        new Dataset("train", in[0], new int[] {3, 7}, names), new Dataset("test", in[1], new int[] {7, 3}, names), 0)));
    analyses.put("NuisanceProbe.measure of splits whose images are views", in -> List.of(NuisanceProbe.measure(m,
        new Dataset("train", in[0], new int[] {3, 7}, names), new Dataset("test", in[1], new int[] {7, 3}, names),
        NuisanceProbeTest.SMALL)));
    analyses.put("LayerProbes.measure of features", in -> List.of(LayerProbes.measure(List.of(in[3]), yTrain,
        List.of(in[4]), yTest, 4, null, 0)));
    analyses.put("LayerProbes.nearestNeighbour", in -> List.of(LayerProbes.nearestNeighbour(in[3], in[4])));
    analyses.put("SoftmaxRegression", in -> {
      SoftmaxRegression probe = SoftmaxRegression.train(in[3], yTrain, 4, 1e-2);
      return List.of(probe.logits(in[4]), probe.accuracy(in[4], yTest), probe.fit());
    });
    analyses.put("NuisanceProbe.measure of z", in -> List.of(NuisanceProbe.measure(in[3], yTrain, in[4], yTest, 4,
        NuisanceProbeTest.SMALL, NuisanceProbe.Readers.MLP)));
    analyses.put("NuisanceProbe.linear of z", in -> List.of(NuisanceProbe.linear(in[3], yTrain, in[4], yTest, 4, 0)));
    analyses.forEach((name, analysis) -> Layouts.assertSameAsOnDenseCopies(name,
        new INDArray[] {a, b, point, train, test}, analysis,
        dense -> ON_DENSE_COPIES.computeIfAbsent((layout == Layouts.BROADCAST ? "broadcast " : "") + name,
            k -> analysis.apply(dense))));
  }
}
