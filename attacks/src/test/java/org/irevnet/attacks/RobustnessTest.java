package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.irevnet.models.InvertibleClassifier;
import org.irevnet.train.Losses;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The sweep's bookkeeping: the epsilon grid, the per-image worst case and the batching. */
class RobustnessTest {

  @Test
  void zeroIsAddedOnceAndTheEpsilonsAreSorted() {
    assertThat(Robustness.withZero(new double[] {0.3, 0.1})).containsExactly(0, 0.1, 0.3);
    // Already there: not a second time (a repeated 0 would be two sanity points).
    assertThat(Robustness.withZero(new double[] {0.2, 0})).containsExactly(0, 0.2);
    assertThat(Robustness.withZero(new double[] {})).containsExactly(0);
  }

  @Test
  void aBatchOfZeroIsRefused() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(2, DataType.FLOAT, 3);
    assertThatThrownBy(() -> Robustness.run(m, x, new int[] {0, 1}, new double[] {0.1}, 0, (xb, f, t, e) -> xb.dup()))
        .hasMessageContaining("--batch must be at least 1");
  }

  /**
   * A scripted attack whose outcome per image and epsilon is known: image 0 is misclassified from
   * the start, image 1 is broken at the middle epsilon only (the raw curve goes back up), image 2
   * is never broken. The counted example of a broken image is the one of its smallest breaking
   * epsilon, whatever the larger epsilons' own attacks did, and the batch size changes nothing.
   */
  @Test
  void aBrokenImageStaysBrokenWithTheExampleOfItsSmallestBreakingEpsilonAtAnyBatchSize() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray pool = TinyModels.images(10, DataType.FLOAT, 3);
    int[] poolCls = Losses.argmax(m.logits(pool));
    INDArray x = pool.get(NDArrayIndex.interval(0, 3)).dup('c');
    int[] y = {(poolCls[0] + 1) % 10, poolCls[1], poolCls[2]};
    int breaker = firstOtherThan(poolCls, poolCls[1]), moved = firstOtherThan(poolCls, y[0]);
    INDArray breakerImage = pool.slice(breaker), movedImage = pool.slice(moved);
    Robustness.Batched scripted = (xb, from, to, eps) -> {
      INDArray out = xb.dup('c');
      for (int i = from; i < to; i++) {
        if (i == 0 && eps > 0) out.slice(i - from).assign(movedImage);
        if (i == 1 && eps == 0.1) out.slice(i - from).assign(breakerImage);
      }
      return out;
    };
    for (int batch : new int[] {1, 2, 3}) {
      Robustness.Sweep s = Robustness.run(m, x, y, new double[] {0.2, 0.1}, batch, scripted);
      assertThat(s.saneAtZero()).as("batch %d", batch).isTrue();
      assertThat(s.rawClasses()[1]).containsExactly(poolCls[moved], poolCls[breaker], poolCls[2]);
      assertThat(s.rawClasses()[2]).containsExactly(poolCls[moved], poolCls[1], poolCls[2]);
      for (int k = 0; k < 3; k++) {
        // Image 0 counts with its clean class and image at every epsilon: it was wrong at 0 already.
        assertThat(s.classes()[k][0]).isEqualTo(poolCls[0]);
        assertThat(s.adversarial()[k].slice(0)).isEqualTo(x.slice(0));
        assertThat(s.classes()[k][2]).isEqualTo(poolCls[2]);
        assertThat(s.adversarial()[k].slice(2)).isEqualTo(x.slice(2));
      }
      assertThat(s.classes()[1][1]).isEqualTo(poolCls[breaker]);
      assertThat(s.classes()[2][1]).isEqualTo(poolCls[breaker]);
      assertThat(s.adversarial()[2].slice(1)).isEqualTo(breakerImage);
      assertThat(s.rawAdversarial()[2].slice(1)).isEqualTo(x.slice(1));
      assertThat(s.rawAdversarial()[1].slice(0)).isEqualTo(movedImage);
      assertThat(new double[] {s.accuracy(0), s.accuracy(1), s.accuracy(2)}).containsExactly(2 / 3.0, 1 / 3.0, 1 / 3.0);
      assertThat(s.rawAccuracy(2)).isEqualTo(2 / 3.0);
    }
  }

  /**
   * An example on which the model's logits are not all finite has no class: it counts as wrong,
   * where ND4J's argmax of a NaN row, class 0, counted it as correct for a label of 0.
   */
  @Test
  void anExampleWithNonFiniteLogitsHasNoClassAndCountsAsWrong() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(2, DataType.FLOAT, 3);
    int[] clean = Losses.argmax(m.logits(x));
    int[] y = {0, clean[1]};
    Robustness.Batched overflowing = (xb, from, to, eps) -> {
      INDArray out = xb.dup('c');
      if (eps > 0 && from == 0) out.slice(0).assign(Double.NaN);
      return out;
    };
    Robustness.Sweep s = Robustness.run(m, x, y, new double[] {0.1}, 2, overflowing);
    assertThat(m.logits(s.rawAdversarial()[1]).getRow(0).isNaN().any()).as("the model's logits of the NaN example").isTrue();
    assertThat(s.rawClasses()[1]).containsExactly(-1, clean[1]);
    assertThat(s.rawAccuracy(1)).isEqualTo(0.5);
    assertThat(s.saneAtZero()).isTrue();
  }

  private static int firstOtherThan(int[] classes, int c) {
    for (int i = 3; i < classes.length; i++) if (classes[i] != c) return i;
    throw new AssertionError("every pool image is in class " + c);
  }
}
