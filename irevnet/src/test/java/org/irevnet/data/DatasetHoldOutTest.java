package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class DatasetHoldOutTest {

  /** 50 images whose single pixel is its index / 100, so every part says which images it holds. */
  static Dataset numbered() {
    float[] v = new float[50];
    int[] labels = new int[50];
    for (int i = 0; i < 50; i++) {
      v[i] = i / 100f;
      labels[i] = i % 3;
    }
    return new Dataset("d/train", Nd4j.create(v, new long[] {50, 1, 1, 1}, DataType.FLOAT), labels,
        List.of("a", "b", "c"));
  }

  static int[] indices(Dataset d) {
    return Arrays.stream(d.images().reshape(d.size()).toDoubleVector()).mapToInt(x -> (int) Math.round(x * 100)).toArray();
  }

  @Test
  void theHeldOutImagesAndTheRestPartitionTheSplitBySeed() {
    Dataset d = numbered();
    Dataset.HeldOut a = d.holdOut(12, 7);
    int[] train = indices(a.train()), held = indices(a.validation());
    assertThat(held).hasSize(12).isSorted();
    assertThat(train).hasSize(38).isSorted();
    assertThat(IntStream.concat(IntStream.of(train), IntStream.of(held)).sorted().toArray())
        .containsExactly(IntStream.range(0, 50).toArray());
    for (int k = 0; k < held.length; k++) assertThat(a.validation().labels()[k]).isEqualTo(held[k] % 3);
    assertThat(a.validation().name()).isEqualTo("d/train (validation)");
    assertThat(a.train().name()).isEqualTo("d/train");

    assertThat(indices(d.holdOut(12, 7).validation())).as("the same seed").containsExactly(held);
    assertThat(indices(d.holdOut(12, 8).validation())).as("another seed").isNotEqualTo(held);
    assertThat(held).as("drawn, not the first or last 12").isNotEqualTo(IntStream.range(0, 12).toArray())
        .isNotEqualTo(IntStream.range(38, 50).toArray());
  }

  @Test
  void labelsAndSubsetIndicesOutsideTheirRangeAreRefused() {
    Dataset d = numbered();
    assertThat(d).hasToString("d/train (50 images, 1x1x1, 3 classes)");
    for (int y : new int[] {3, -1}) {
      int[] labels = d.labels().clone();
      labels[7] = y;
      assertThatThrownBy(() -> new Dataset("e", d.images(), labels, d.classNames()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("e: label " + y + " of image 7 is out of range for 3 classes");
    }
    assertThat(d.subset("last", 49).labels()).containsExactly(49 % 3);
    for (int i : new int[] {50, -1}) {
      assertThatThrownBy(() -> d.subset("s", 0, i))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("d/train: index " + i + " of 50 images");
    }
  }

  @Test
  void atLeastOneImageIsHeldOutAndOneKept() {
    Dataset d = numbered();
    assertThat(d.holdOut(49, 0).train().size()).isEqualTo(1);
    for (int n : new int[] {0, 50, -1}) {
      assertThatThrownBy(() -> d.holdOut(n, 0)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("validation must be between 1 and 49 images (d/train has 50), got " + n);
    }
  }
}
