package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

class BatchIteratorTest {

  /** 23 images 1x4x4; image i has every pixel equal to (i + 1) / 32; label i % 3. */
  static Dataset data() {
    int n = 23;
    float[] v = new float[n * 16];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i / 16 + 1) / 32f;
    }
    return new Dataset("d", Nd4j.create(v, new long[] {n, 1, 4, 4}, DataType.FLOAT),
        Synth.cyclic(n, 3), List.of("a", "b", "c"));
  }

  private static BatchIterator.Builder it() {
    return BatchIterator.builder(data()).batchSize(5).seed(42);
  }

  private static List<float[]> take(BatchIterator it, int k) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      if (!it.hasNext()) {
        it.reset();
      }
      out.add(it.next().getFeatures().data().asFloat());
    }
    return out;
  }

  @Test
  void batchesHoldTheRightImagesAndOneHotLabels() {
    BatchIterator it = it().build();
    Dataset d = it.dataset();
    BatchIterator.Batch b = it.nextBatch();
    assertThat(b.features().shape()).containsExactly(5, 1, 4, 4);
    for (int k = 0; k < 5; k++) {
      int i = b.indices()[k];
      assertThat(b.labels()[k]).isEqualTo(d.labels()[i]);
      for (int r = 0; r < 4; r++) {
        assertThat(b.features().getFloat(k, 0, r, 3)).isEqualTo((i + 1) / 32f);
      }
    }
    DataSet ds = it.next();
    assertThat(ds.getLabels().shape()).containsExactly(5, 3);
    assertThat(ds.getLabels().sum(1).data().asFloat()).containsOnly(1f);
    int[] idx = it.order(0);
    for (int k = 0; k < 5; k++) {
      int y = d.labels()[idx[5 + k]];
      assertThat(ds.getLabels().getFloat(k, y)).isEqualTo(1f);
      assertThat(ds.getFeatures().getFloat(k, 0, 0, 0)).isEqualTo((idx[5 + k] + 1) / 32f);
    }
  }

  @Test
  void anEpochVisitsEveryImageOnceAndReshufflesNextEpoch() {
    BatchIterator it = it().build();
    assertThat(it.batchesPerEpoch()).isEqualTo(5);
    List<Integer> seen = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    while (it.hasNext()) {
      BatchIterator.Batch b = it.nextBatch();
      sizes.add(b.indices().length);
      Arrays.stream(b.indices()).forEach(seen::add);
    }
    assertThat(sizes).containsExactly(5, 5, 5, 5, 3);
    assertThat(seen).containsExactlyInAnyOrderElementsOf(
        java.util.stream.IntStream.range(0, 23).boxed().toList());
    assertThat(seen).isNotEqualTo(java.util.stream.IntStream.range(0, 23).boxed().toList());
    assertThatThrownBy(it::nextBatch).isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("end of epoch 0");
    assertThat(it.state()).isEqualTo(new BatchIterator.State(0, 5));
    assertThat(it.nextPosition()).as("past the last batch").isEqualTo(new BatchIterator.State(1, 0));
    it.reset();
    assertThat(it.state()).isEqualTo(new BatchIterator.State(1, 0));
    assertThat(it.nextPosition()).isEqualTo(it.state());
    assertThat(it.epoch()).isEqualTo(1);
    assertThat(it.order(1)).isNotEqualTo(it.order(0));
    it.reset(); // at the start of an epoch: no effect
    assertThat(it.state()).isEqualTo(new BatchIterator.State(1, 0));
    assertThat(it.nextBatch().indices()).containsExactly(Arrays.copyOf(it.order(1), 5));
  }

  @Test
  void dropLastAndNoShuffle() {
    BatchIterator it = it().dropLast(true).shuffle(false).build();
    assertThat(it.batchesPerEpoch()).isEqualTo(4);
    assertThat(it.nextBatch().indices()).containsExactly(0, 1, 2, 3, 4);
    assertThat(Batches.epoch(23, 5, 42, 3, false, true)).hasSize(4);
    assertThat(Batches.epoch(23, 5, 42, 3, true, false).get(4)).hasSize(3);
    assertThat(Batches.count(3, 1, true)).isEqualTo(3);
    assertThat(Batches.count(10, 5, false)).isEqualTo(2);
    assertThatThrownBy(() -> Batches.count(3, 0, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batch size must be >= 1, got 0");
  }

  @Test
  void sameSeedSameBatchesOtherSeedOtherBatches() {
    List<float[]> a = take(it().dequantize(true).augment(Augment.shifts(1)).build(), 12);
    List<float[]> b = take(it().dequantize(true).augment(Augment.shifts(1)).build(), 12);
    List<float[]> c = take(it().seed(43).dequantize(true).augment(Augment.shifts(1)).build(), 12);
    for (int i = 0; i < 12; i++) {
      assertThat(a.get(i)).containsExactly(b.get(i));
    }
    assertThat(a.get(0)).isNotEqualTo(c.get(0));
  }

  @Test
  void restoringASavedStateContinuesExactly() {
    BatchIterator.Builder settings = it().dequantize(true).augment(Augment.shifts(1));
    BatchIterator first = settings.build();
    take(first, 7); // epoch 0 (5 batches), then 2 batches of epoch 1
    BatchIterator.State saved = first.state();
    assertThat(saved).isEqualTo(new BatchIterator.State(1, 2));
    List<float[]> expected = take(first, 6);

    BatchIterator resumed = settings.build();
    resumed.restore(saved);
    List<float[]> got = take(resumed, 6);
    for (int i = 0; i < 6; i++) {
      assertThat(got.get(i)).containsExactly(expected.get(i));
    }
    // and a fresh iterator that is not restored gives other batches
    assertThat(take(settings.build(), 1).get(0)).isNotEqualTo(expected.get(0));
  }

  @Test
  void restoreRejectsPositionsBeyondAnEpoch() {
    BatchIterator it = it().build();
    assertThatThrownBy(() -> it.restore(new BatchIterator.State(0, 6)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot restore batch 6: an epoch of d has 5 batches of 5");
    it.restore(new BatchIterator.State(3, 5));
    assertThat(it.hasNext()).isFalse();
  }

  @Test
  void tooFewImagesForABatchAreRefused() {
    Dataset three = data().subset("three", 0, 1, 2);
    assertThatThrownBy(() -> BatchIterator.builder(three).batchSize(5).dropLast(true).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("three: 3 images give no batch of 5 (dropLast)");
    assertThatThrownBy(() -> BatchIterator.builder(data().subset("none")).batchSize(5).build())
        .hasMessage("none: 0 images give no batch of 5");
    assertThatThrownBy(() -> BatchIterator.builder(three).batchSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batch size must be >= 1, got 0");
  }

  @Test
  void shiftsAreOnFromOnePixelOn() {
    assertThat(Augment.NONE.enabled()).isFalse();
    assertThat(Augment.shifts(0).enabled()).isFalse();
    assertThat(Augment.shifts(1).enabled()).isTrue();
    assertThatThrownBy(() -> Augment.shifts(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxShift must be >= 0, got -1");
  }

  @Test
  void shiftsWithoutNoiseMoveTheImagesAndFillWithZero() {
    BatchIterator it = it().augment(Augment.shifts(1)).build();
    int moved = 0;
    while (it.hasNext()) {
      BatchIterator.Batch b = it.nextBatch();
      for (int k = 0; k < b.indices().length; k++) {
        float v = (b.indices()[k] + 1) / 32f; // every pixel of the image before the shift
        float[] px = b.features().slice(k).dup().data().asFloat();
        for (float p : px) {
          assertThat(p).isIn(0f, v);
        }
        if (px[0] == 0f || px[15] == 0f) {
          moved++;
        }
      }
    }
    // a shift of (0, 0) has chance 1/9, so most of the 23 images moved
    assertThat(moved).isGreaterThan(10);
  }

  @Test
  void noNoiseMeansExactPixelsAndNoiseStaysWithinOneOver256() {
    BatchIterator plain = it().build();
    BatchIterator noisy = it().dequantize(true).build();
    INDArray x = plain.nextBatch().features();
    INDArray y = noisy.nextBatch().features();
    INDArray diff = y.sub(x);
    assertThat(Tensors.min(diff)).isGreaterThanOrEqualTo(0.0);
    assertThat(Tensors.max(diff)).isLessThan(1.0 / 256 + 1e-6).isGreaterThan(0.0);
  }

  @Test
  void noiseIsDrawnAfreshForEveryBatchAndEpoch() {
    BatchIterator plain = it().shuffle(false).build();
    BatchIterator noisy = it().shuffle(false).dequantize(true).build();
    List<float[]> noise = new ArrayList<>();
    for (int k = 0; k < 6; k++) { // 5 batches of epoch 0, then batch 0 of epoch 1
      if (!noisy.hasNext()) {
        noisy.reset();
        plain.reset();
      }
      noise.add(noisy.nextBatch().features().sub(plain.nextBatch().features()).data().asFloat());
    }
    // float rounding of (x + u) - x differs with x, so compare with a tolerance
    assertThat(maxAbsDiff(noise.get(1), noise.get(0))).isGreaterThan(1e-4);
    assertThat(maxAbsDiff(noise.get(5), noise.get(0))).isGreaterThan(1e-4);
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void isAnNd4jDataSetIterator() {
    DataSetIterator it = it().build();
    assertThat(it.inputColumns()).isEqualTo(16);
    assertThat(it.totalOutcomes()).isEqualTo(3);
    assertThat(it.batch()).isEqualTo(5);
    assertThat(it.getLabels()).containsExactly("a", "b", "c");
    assertThat(it.resetSupported()).isTrue();
    assertThat(it.asyncSupported()).isFalse();
    assertThat(it.next(5).getFeatures().shape()).containsExactly(5, 1, 4, 4);
    assertThatThrownBy(() -> it.next(4)).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("batches of 5");
    int count = 1;
    while (it.hasNext()) {
      it.next();
      count++;
    }
    assertThat(count).isEqualTo(5);
  }

  @Test
  void preProcessorIsApplied() {
    BatchIterator a = it().build();
    BatchIterator b = it().build();
    DataSetPreProcessor twice = ds -> ds.getFeatures().muli(2);
    b.setPreProcessor(twice);
    assertThat(b.getPreProcessor()).isSameAs(twice);
    assertThat(a.getPreProcessor()).isNull();
    float[] x = a.next().getFeatures().data().asFloat();
    float[] y = b.next().getFeatures().data().asFloat();
    for (int i = 0; i < x.length; i++) {
      assertThat(y[i]).isEqualTo(2 * x[i]);
    }
  }

  @Test
  void subsetKeepsImagesAndLabels() {
    Dataset d = data();
    Dataset s = d.subset("s", 4, 0, 22);
    assertThat(s.labels()).containsExactly(1, 0, 1);
    assertThat(s.images().getFloat(0, 0, 1, 1)).isEqualTo(5 / 32f);
    assertThat(s.images().getFloat(2, 0, 3, 3)).isEqualTo(23 / 32f);
    assertThat(s.classCounts()).containsExactly(1, 2, 0);
  }

  @Test
  void serialisingRefusesWithTheWayToSaveAPosition() throws Exception {
    try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
      assertThatThrownBy(() -> out.writeObject(it().build())).isInstanceOf(NotSerializableException.class)
          .hasMessage("BatchIterator: save its state() and restore() a new one");
    }
  }
}
