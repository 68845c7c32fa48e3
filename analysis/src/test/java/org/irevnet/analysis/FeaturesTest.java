package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class FeaturesTest {

  /** Two full batches, the last ending exactly at the last image: every row is that of one forward pass. */
  @Test
  void featuresInBatchesAreThoseOfOneForwardPass() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 3, 2 * Features.BATCH);
    INDArray z = Features.z(m, x);
    assertThat(z.shape()).containsExactly(2L * Features.BATCH, 1024L);
    assertThat(Tensors.maxAbs(z.sub(m.forward(x, false).z()))).isLessThan(1e-5);
    List<INDArray> pooled = Features.pooledStages(m, x);
    List<INDArray> stages = m.stageOutputs(x);
    assertThat(pooled).hasSize(stages.size());
    for (int s = 0; s < stages.size(); s++) {
      assertThat(Tensors.maxAbs(pooled.get(s).sub(stages.get(s).mean(2, 3)))).as("stage %d", s).isLessThan(1e-5);
    }
  }

  /**
   * The stages and z of one pass are, bit for bit, those of {@link Features#pooledStages} and
   * {@link Features#z}: on the tiny model, whose last stage has 8x8 positions (z held apart), and on
   * one that ends at 1x1 as fi-revnet-s does (z is the last pooled matrix).
   */
  @Test
  void stagesAndZOfOnePassAreThoseComputedApart() {
    InvertibleClassifier endsAt1x1 = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "to1x1", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10, "stages": [
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "affine", "actnorm": true}]}"""), DataType.FLOAT, 3);
    org.irevnet.testing.RandomWeights.perturb(endsAt1x1, 0.05, 4);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 3, Features.BATCH + 3);
    for (InvertibleClassifier m : List.of(MetamerSamplerTest.tiny(5), endsAt1x1)) {
      Features.StagesAndZ both = Features.pooledStagesAndZ(m, x);
      List<INDArray> pooled = Features.pooledStages(m, x);
      assertThat(both.pooled()).hasSameSizeAs(pooled);
      for (int s = 0; s < pooled.size(); s++) {
        assertThat(both.pooled().get(s).shape()).isEqualTo(pooled.get(s).shape());
        assertThat(Tensors.maxAbs(both.pooled().get(s).sub(pooled.get(s)))).as("stage %d", s).isZero();
      }
      INDArray z = Features.z(m, x);
      assertThat(both.z().shape()).isEqualTo(z.shape());
      assertThat(Tensors.maxAbs(both.z().sub(z))).isZero();
    }
    Features.StagesAndZ at1x1 = Features.pooledStagesAndZ(endsAt1x1, x);
    assertThat(at1x1.z()).isSameAs(at1x1.pooled().get(4));
  }
}
