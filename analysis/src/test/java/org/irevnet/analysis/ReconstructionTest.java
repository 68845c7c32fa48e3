package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.List;
import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
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
      assertThat(e.error().maxAbs()).isLessThanOrEqualTo(1e-12);
      assertThat(e.error().meanAbs()).isLessThanOrEqualTo(e.error().maxAbs());
    }
  }

  @Test
  void aCorruptedRepresentationShowsUpAsError() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.DOUBLE, 1);
    INDArray x = Init.uniform(DataType.DOUBLE, new Random(3), 0.5, m.inputShape(1)).addi(0.5);
    INDArray h = m.stageOutputs(x).get(1);
    h.putScalar(new long[] {0, 0, 0, 0}, h.getDouble(0, 0, 0, 0) + 1.0);
    INDArray back = m.body().invertFrom(m.stageEnds().get(1), h);
    assertThat(Tensors.maxAbs(back.sub(x))).isGreaterThan(0.1);
  }

  @Test
  void bothPrecisionsOfAFloat32Model() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(6);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 7, 3);
    Reconstruction.Precisions p = Reconstruction.inBothPrecisions(m, x);
    assertThat(p.float32()).hasSize(2);
    assertThat(p.float64()).hasSize(2);
    for (int s = 0; s < 2; s++) {
      assertThat(p.float32().get(s).error().maxAbs()).isLessThanOrEqualTo(1e-5);
      assertThat(p.float64().get(s).error().maxAbs()).isLessThanOrEqualTo(1e-12);
      assertThat(p.float64().get(s).shape()).isEqualTo(p.float32().get(s).shape());
    }
    assertThat(p.zFloat32().maxAbs()).isLessThanOrEqualTo(1e-5);
    assertThat(p.zFloat64().maxAbs()).isLessThanOrEqualTo(1e-12);
    assertThat(p.zFloat64().meanAbs()).isLessThanOrEqualTo(p.zFloat64().maxAbs());
    assertThat(p.reconstruction().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(Tensors.maxAbs(p.reconstruction().sub(x))).isEqualTo(p.zFloat32().maxAbs());
  }

  /**
   * The errors from z and the reconstruction are, bit for bit, those of inverting the body output
   * through the whole body, {@code F^-1(F(x))}; and the work is one forward pass and one inversion
   * from each stage's output, in each precision. Until 2026-12-06 z had a forward pass and a whole
   * inverse of its own besides: the last stage's, again (2 x 27 libnd4j conv2d calls a batch on
   * this model, where 2 x 15 do).
   */
  @Test
  void zIsTheLastStagesReconstructionComputedOnce() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(6);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 7, 3);
    Reconstruction.Precisions[] p = new Reconstruction.Precisions[1];
    long calls = org.irevnet.testing.OpCounts.conv2d(() -> p[0] = Reconstruction.inBothPrecisions(m, x));
    long needed = 0;
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      InvertibleClassifier md = m.withDataType(dt);
      INDArray xd = x.castTo(dt).dup('c');
      needed += org.irevnet.testing.OpCounts.conv2d(() -> {
        List<INDArray> outs = md.stageOutputs(xd);
        for (int s = 0; s < outs.size(); s++) md.body().invertFrom(md.stageEnds().get(s), outs.get(s));
      });
      INDArray back = md.invert(md.forward(xd, false).out());
      Reconstruction.Error fromZ = new Reconstruction.Tally().add(back, xd, 0).error();
      assertThat(dt == DataType.FLOAT ? p[0].zFloat32() : p[0].zFloat64()).as("%s", dt).isEqualTo(fromZ);
      if (dt == DataType.FLOAT) assertThat(Tensors.maxAbs(p[0].reconstruction().sub(back))).isZero();
    }
    assertThat(calls).isEqualTo(needed).isEqualTo(2 * 15);
  }

  @Test
  void batchesGiveTheErrorsOfOneBatchAndNameTheWorstImage() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(6);
    // Float64 pixels: float32 ones round-trip through float64 additions exactly, leaving no error
    // for the float64 means to weigh.
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 7, 5);
    Reconstruction.Precisions whole = Reconstruction.inBothPrecisions(m, x, 5),
        inTwos = Reconstruction.inBothPrecisions(m, x, 2);
    for (int s = 0; s < 2; s++) {
      for (boolean f64 : new boolean[] {false, true}) {
        Reconstruction.StageError a = (f64 ? whole.float64() : whole.float32()).get(s),
            b = (f64 ? inTwos.float64() : inTwos.float32()).get(s);
        assertThat(b.shape()).isEqualTo(a.shape());
        assertThat(b.shape()[0]).isEqualTo(5);
        assertThat(b.error().maxAbs()).isEqualTo(a.error().maxAbs());
        assertThat(a.error().meanAbs()).as("stage %d mean, float64 %s", s, f64).isPositive();
        assertThat(b.error().meanAbs()).isCloseTo(a.error().meanAbs(), offset(1e-9 * a.error().meanAbs()));
        assertThat(b.error().worst()).isEqualTo(a.error().worst()).isBetween(0L, 4L);
      }
    }
    assertThat(inTwos.reconstruction()).isEqualTo(whole.reconstruction());
    for (boolean f64 : new boolean[] {false, true}) {
      Reconstruction.Error a = f64 ? whole.zFloat64() : whole.zFloat32(), b = f64 ? inTwos.zFloat64() : inTwos.zFloat32();
      assertThat(b.maxAbs()).isEqualTo(a.maxAbs());
      assertThat(b.meanAbs()).isCloseTo(a.meanAbs(), offset(1e-9 * a.meanAbs()));
      assertThat(b.worst()).isEqualTo(a.worst());
    }
    assertThat(whole.zFloat32().meanAbs()).as("float32 rounding, so the mean has something to weigh").isPositive();

    // The worst image is where the largest error is, whichever batch it falls in.
    INDArray back = x.dup();
    back.putScalar(new long[] {3, 0, 5, 5}, x.getDouble(3, 0, 5, 5) + 0.25);
    back.putScalar(new long[] {1, 0, 0, 0}, x.getDouble(1, 0, 0, 0) - 0.125);
    Reconstruction.Error e = new Reconstruction.Tally().add(back, x, 0).error();
    assertThat(e.worst()).isEqualTo(3);
    assertThat(e.maxAbs()).isCloseTo(0.25, offset(1e-6));
    assertThat(e.meanAbs()).isCloseTo(0.375 / x.length(), offset(1e-9));
    back.putScalar(new long[] {4, 0, 1, 1}, Double.NaN);
    Reconstruction.Error nan = new Reconstruction.Tally().add(back, x, 10).error();
    assertThat(nan.maxAbs()).isNaN();
    assertThat(nan.worst()).isEqualTo(14);
  }

  /** Batches' errors combine into the errors of all their images: the mean weighted by batch size. */
  @Test
  void batchErrorsCombineIntoTheErrorOverAllImages() {
    Reconstruction.Tally t = new Reconstruction.Tally();
    t.add(new Reconstruction.Error(0.5, 0.1, 1), 2, 0);
    t.add(new Reconstruction.Error(0.2, 0.4, 0), 3, 2);
    Reconstruction.Error e = t.error();
    assertThat(e.maxAbs()).isEqualTo(0.5);
    assertThat(e.worst()).isEqualTo(1);
    assertThat(e.meanAbs()).isCloseTo((2 * 0.1 + 3 * 0.4) / 5, offset(1e-15));
  }
}
