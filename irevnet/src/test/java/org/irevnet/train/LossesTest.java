package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class LossesTest {

  @Test
  void accuracyCountsRowsWhoseArgmaxIsTheLabel() {
    // Row argmaxes 2, 0, 1, 1 against labels 2, 1, 1, 0: two of four right.
    var logits = Nd4j.createFromArray(new float[][] {{0, 1, 3}, {5, 4, -1}, {0, 2, 1}, {-3, -1, -2}});
    assertThat(Losses.accuracy(logits, new int[] {2, 1, 1, 0})).isEqualTo(0.5);
    assertThat(Losses.accuracy(new int[] {3, 3, 1}, new int[] {3, 0, 1})).isEqualTo(2.0 / 3);
    assertThat(Losses.accuracy(new int[0], new int[0])).isNaN();
  }

  @Test
  void accuracyRefusesPredictionsAndLabelsOfDifferentLengths() {
    assertThatThrownBy(() -> Losses.accuracy(new int[] {1, 2}, new int[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 predictions for 1 labels");
  }
}
