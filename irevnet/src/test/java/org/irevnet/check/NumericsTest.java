package org.irevnet.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The references themselves, against values worked out by hand. */
class NumericsTest {

  @Test
  void logDetsOfSquareAndInjectiveMaps() {
    // A permuted diag(2, 3): |det| = 6 whatever the sign of the permutation.
    assertThat(Numerics.logAbsDet(new double[][] {{0, 2}, {3, 0}})).isCloseTo(Math.log(6), within(1e-15));
    // [[2, 0], [0, 3], [0, 0]]: J^T J = diag(4, 9), half its log-det is ln 6.
    assertThat(Numerics.halfLogDetGram(new double[][] {{2, 0}, {0, 3}, {0, 0}})).isCloseTo(Math.log(6), within(1e-15));
  }

  @Test
  void gradientOfASumOfSquaresAndOnlyOnContiguousArrays() {
    INDArray a = Nd4j.createFromArray(new double[][] {{1, -2}, {0.5, 3}});
    double[] g = Numerics.gradient(v -> v.mul(v).sumNumber().doubleValue(), a, 1e-6, new int[] {3, 1});
    assertThat(g[0]).isCloseTo(6, within(1e-8));
    assertThat(g[1]).isCloseTo(-4, within(1e-8));
    assertThat(a.toDoubleMatrix()).isEqualTo(new double[][] {{1, -2}, {0.5, 3}});
    // An f-order array's c-order reshape is a copy: the nudges would never reach the loss.
    INDArray f = a.dup('f');
    assertThatThrownBy(() -> Numerics.gradient(v -> 0, f, 1e-6, new int[] {0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contiguous c-order");
  }

  @Test
  void sampledIndicesAreAllWhenFewAndDistinctOtherwise() {
    assertThat(Numerics.sampleIndices(3, 7, 1)).containsExactly(0, 1, 2);
    assertThat(Numerics.sampleIndices(7, 7, 1)).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
    int[] some = Numerics.sampleIndices(1000, 7, 1);
    assertThat(some).hasSize(7).doesNotHaveDuplicates();
    assertThat(java.util.Arrays.stream(some).boxed()).allMatch(i -> i >= 0 && i < 1000);
  }

  @Test
  void differencesAbsoluteAndRelative() {
    INDArray a = Nd4j.createFromArray(1.0, -2.0);
    INDArray b = Nd4j.createFromArray(0.5f, 1f);
    assertThat(Numerics.maxAbsDiff(a, b)).isEqualTo(3.0);
    // A NaN past the first entry: ND4J's amaxNumber passed over it, and selftest's reconstruction
    // and log-det checks would have passed a layer whose output held one.
    assertThat(Numerics.maxAbsDiff(Nd4j.createFromArray(1.0, Double.NaN, 0.0), Nd4j.zeros(DataType.DOUBLE, 3))).isNaN();
    // |3 - 1| / 3 and |0.5 - 0.25| / 1: the scale is never below 1.
    assertThat(Numerics.maxRelDiff(new double[] {3, 0.5}, new double[] {1, 0.25})).isCloseTo(2.0 / 3, within(1e-15));
    assertThat(Numerics.maxRelDiff(Nd4j.createFromArray(new double[][] {{3, 0.5}}),
        Nd4j.createFromArray(new double[][] {{1, 0.25}}))).isCloseTo(2.0 / 3, within(1e-15));
    assertThatThrownBy(() -> Numerics.maxRelDiff(Nd4j.zeros(DataType.DOUBLE, 1, 2), Nd4j.zeros(DataType.DOUBLE, 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("shapes differ: [1, 2] vs [2]");
  }
}
