package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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
}
