package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
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

  private static INDArray images(long seed) {
    return Init.uniform(DataType.FLOAT, new Random(seed), 0.5, 2, 1, 32, 32).addi(0.5);
  }

  @ParameterizedTest
  @EnumSource(value = Layouts.class, mode = EnumSource.Mode.EXCLUDE, names = "DENSE")
  void everyAnalysisGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(Layouts layout) {
    InvertibleClassifier m = MODEL;
    INDArray a = layout.of(images(1)), b = layout.of(images(2));
    // Each analysis of (a, b), its results as arrays and plain values.
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
    for (Map.Entry<String, Function<INDArray[], List<Object>>> e : analyses.entrySet()) {
      INDArray aDense = a.dup('c'), bDense = b.dup('c');
      List<Object> got = e.getValue().apply(new INDArray[] {a, b});
      List<Object> expected = e.getValue().apply(new INDArray[] {aDense, bDense});
      for (int i = 0; i < got.size(); i++) {
        String what = e.getKey() + " result " + i;
        if (got.get(i) instanceof INDArray g) {
          assertThat(g.shape()).as(what + ": shape").isEqualTo(((INDArray) expected.get(i)).shape());
          assertThat(maxAbsDiff(g, (INDArray) expected.get(i))).as(what).isEqualTo(0.0);
        } else {
          assertThat(got.get(i)).as(what).usingRecursiveComparison().isEqualTo(expected.get(i));
        }
      }
      assertThat(maxAbsDiff(a, aDense)).as(e.getKey() + ": a afterwards").isEqualTo(0.0);
      assertThat(maxAbsDiff(b, bDense)).as(e.getKey() + ": b afterwards").isEqualTo(0.0);
    }
  }
}
