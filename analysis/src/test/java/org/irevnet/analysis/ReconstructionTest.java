package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ReconstructionTest {

  @Test
  void everyStageInvertsExactlyInFloat64() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s-inj"), DataType.DOUBLE, 1);
    Random r = new Random(2);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(DataType.DOUBLE, r, 0.05, p.value().shape()));
    }
    INDArray x = Init.uniform(DataType.DOUBLE, r, 0.5, m.inputShape(2)).addi(0.5);
    List<Reconstruction.StageError> errs = Reconstruction.perStage(m, x);
    assertThat(errs).hasSize(3);
    assertThat(errs.get(0).shape()).isEqualTo(new long[] {2, 16, 16, 16});
    assertThat(errs.get(2).shape()).isEqualTo(new long[] {2, 256, 4, 4});
    for (Reconstruction.StageError e : errs) {
      assertThat(e.maxAbs()).isLessThanOrEqualTo(1e-12);
      assertThat(e.meanAbs()).isLessThanOrEqualTo(e.maxAbs());
    }
  }

  @Test
  void aCorruptedRepresentationShowsUpAsError() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.DOUBLE, 1);
    INDArray x = Init.uniform(DataType.DOUBLE, new Random(3), 0.5, m.inputShape(1)).addi(0.5);
    INDArray h = m.stageOutputs(x).get(1);
    h.putScalar(new long[] {0, 0, 0, 0}, h.getDouble(0, 0, 0, 0) + 1.0);
    INDArray back = m.body().invertFrom(m.stageEnds().get(1), h);
    assertThat(back.sub(x).amaxNumber().doubleValue()).isGreaterThan(0.1);
  }

  @Test
  void bothPrecisionsOfAFloat32Model() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(6);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 7, 3);
    Reconstruction.Precisions p = Reconstruction.inBothPrecisions(m, x);
    assertThat(p.float32()).hasSize(2);
    assertThat(p.float64()).hasSize(2);
    for (int s = 0; s < 2; s++) {
      assertThat(p.float32().get(s).maxAbs()).isLessThanOrEqualTo(1e-5);
      assertThat(p.float64().get(s).maxAbs()).isLessThanOrEqualTo(1e-12);
      assertThat(p.float64().get(s).shape()).isEqualTo(p.float32().get(s).shape());
    }
    assertThat(p.zFloat32().maxAbs()).isLessThanOrEqualTo(1e-5);
    assertThat(p.zFloat64().maxAbs()).isLessThanOrEqualTo(1e-12);
    assertThat(p.zFloat64().meanAbs()).isLessThanOrEqualTo(p.zFloat64().maxAbs());
    assertThat(p.reconstruction().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(p.reconstruction().sub(x).amaxNumber().doubleValue()).isEqualTo(p.zFloat32().maxAbs());
  }
}
