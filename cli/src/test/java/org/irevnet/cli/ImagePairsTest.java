package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.irevnet.data.Dataset;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** The images an analysis takes from its split: seeded pairs, and the first N. */
class ImagePairsTest {

  /** Image i of six has every pixel equal to i, so a row says which image it is; labels 0, 1, 2, 0, 1, 2. */
  private static Dataset numbered() {
    float[] pixels = new float[6 * 4];
    for (int i = 0; i < pixels.length; i++) pixels[i] = i / 4;
    return new Dataset("six", Nd4j.create(pixels, new long[] {6, 1, 2, 2}, DataType.FLOAT), new int[] {0, 1, 2, 0, 1, 2},
        List.of("x", "y", "z"));
  }

  @Test
  void eachPairsImagesAndLabelAreThoseOfItsIndices() {
    Dataset d = numbered();
    ImagePairs p = ImagePairs.choose(d, 7, 3);
    assertThat(p.indices()).hasNumberOfRows(7);
    assertThat(p.a().shape()).containsExactly(7, 1, 2, 2);
    assertThat(p.b().shape()).containsExactly(7, 1, 2, 2);
    for (int i = 0; i < 7; i++) {
      int a = p.indices()[i][0], b = p.indices()[i][1];
      assertThat(d.labels()[a]).isNotEqualTo(d.labels()[b]);
      assertThat(p.a().slice(i).ravel().toFloatVector()).containsOnly((float) a);
      assertThat(p.b().slice(i).ravel().toFloatVector()).containsOnly((float) b);
      assertThat(p.labelsB()[i]).isEqualTo(d.labels()[b]);
    }
  }

  /**
   * --data can name a split of one class: no pair has two labels, and the search for b would
   * never end. It is bad input, said in one line before anything is sampled.
   */
  @Test
  void aSplitOfOneClassIsRefused() {
    Dataset one = new Dataset("ones", Nd4j.zeros(DataType.FLOAT, 3, 1, 2, 2), new int[] {1, 1, 1}, List.of("x", "y"));
    assertThatThrownBy(() -> ImagePairs.choose(one, 1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pairs: need images of at least two classes, got 1 among 3 images");
  }

  @Test
  void theFirstImagesOfTheSplitAtMostAllOfThem() {
    RunInputs in = new RunInputs(null, "best", numbered(), null, new RunInputs.Content(1, 2, 2), null, null, null);
    Dataset two = in.first(2);
    assertThat(two.name()).isEqualTo("six[0:2]");
    assertThat(two.labels()).containsExactly(0, 1);
    assertThat(two.images().slice(1).ravel().toFloatVector()).containsOnly(1f);
    Dataset all = in.first(10);
    assertThat(all.name()).isEqualTo("six[0:6]");
    assertThat(all.labels()).containsExactly(0, 1, 2, 0, 1, 2);
    assertThatThrownBy(() -> in.first(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--count must be at least 1, got 0");
  }
}
