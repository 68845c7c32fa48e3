package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TriangularTest {

  /**
   * A well-conditioned triangular matrix (diagonal in [1, 2], off-diagonal entries of size
   * 1/sqrt(n)); the other triangle holds garbage, which a solve must not read.
   */
  private static INDArray triangle(int n, boolean lower, boolean unit, Random r) {
    INDArray t = Nd4j.create(DataType.DOUBLE, n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        boolean inside = lower ? j < i : j > i;
        double v = i == j ? (unit ? 1e3 : 1 + r.nextDouble()) : inside ? r.nextGaussian() / Math.sqrt(n) : 1e3 * r.nextGaussian();
        t.putScalar(i, j, v);
      }
    }
    return t;
  }

  /** The triangle a solve should use: the other entries zero, the diagonal one if unit. */
  private static INDArray used(INDArray t, boolean lower, boolean unit) {
    INDArray u = t.dup();
    for (int i = 0; i < t.rows(); i++) {
      for (int j = 0; j < t.columns(); j++) {
        if (i == j && unit) u.putScalar(i, j, 1);
        else if (lower ? j > i : j < i) u.putScalar(i, j, 0);
      }
    }
    return u;
  }

  @ParameterizedTest
  @CsvSource({"1,1", "3,2", "64,5", "65,1", "130,7", "300,3"})
  void solvesAreExactUpToRoundingAndReadOnlyTheirTriangle(int n, int k) {
    Random r = new Random(n * 31L + k);
    INDArray b = Nd4j.randn(DataType.DOUBLE, n, k);
    for (boolean unit : new boolean[] {false, true}) {
      INDArray l = triangle(n, true, unit, r);
      INDArray x = Triangular.solveLower(l, b, unit);
      assertThat(used(l, true, unit).mmul(x).sub(b).amaxNumber().doubleValue()).as("lower n=%d unit=%s", n, unit).isLessThan(1e-12);
    }
    INDArray u = triangle(n, false, false, r);
    INDArray x = Triangular.solveUpper(u, b);
    assertThat(used(u, false, false).mmul(x).sub(b).amaxNumber().doubleValue()).as("upper n=%d", n).isLessThan(1e-12);
  }

  @Test
  void float32StaysFloat32AndAccurate() {
    Random r = new Random(5);
    INDArray l = triangle(200, true, true, r).castTo(DataType.FLOAT);
    INDArray b = Nd4j.randn(DataType.FLOAT, 200, 16);
    INDArray x = Triangular.solveLower(l, b, true);
    assertThat(x.dataType()).isEqualTo(DataType.FLOAT);
    INDArray exact = Triangular.solveLower(l.castTo(DataType.DOUBLE), b.castTo(DataType.DOUBLE), true);
    assertThat(x.castTo(DataType.DOUBLE).sub(exact).amaxNumber().doubleValue()).isLessThan(1e-5);
  }

  @ParameterizedTest
  @CsvSource({"0,0", "0,3", "5,0", "64,0", "65,0", "130,0"})
  void anEmptySystemHasAnEmptySolution(int n, int k) {
    // An inverse on an empty batch (a 1x1 convolution's k pixels) asks for this: n = channels.
    Random r = new Random(n);
    INDArray l = triangle(n, true, false, r).castTo(DataType.FLOAT);
    INDArray b = Nd4j.create(DataType.FLOAT, n, k);
    for (INDArray x : new INDArray[] {Triangular.solveLower(l, b, false), Triangular.solveUpper(l.transpose(), b)}) {
      assertThat(x.shape()).containsExactly(n, k);
      assertThat(x.dataType()).isEqualTo(DataType.FLOAT);
    }
  }

  @Test
  void mismatchedShapesAreAClearError() {
    assertThatThrownBy(() -> Triangular.solveUpper(Nd4j.eye(3), Nd4j.ones(4, 2)))
        .hasMessageContaining("needs an n x n matrix and n rows, got [3, 3] and [4, 2]");
    assertThatThrownBy(() -> Triangular.solveUpper(Nd4j.ones(3, 3, 3), Nd4j.ones(3, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("triangular solve needs an n x n matrix and n rows, got [3, 3, 3] and [3, 2]");
  }

  /** A zero pivot, inside a small block or past the first of a blocked solve, is named instead of dividing by it. */
  @ParameterizedTest
  @CsvSource({"5, 3, true", "5, 3, false", "150, 120, true", "150, 120, false"})
  void aSingularMatrixIsRefusedNamingTheZeroOnTheDiagonal(int n, int zeroAt, boolean lower) {
    INDArray t = triangle(n, lower, false, new Random(n));
    t.putScalar(zeroAt, zeroAt, 0.0);
    INDArray b = Nd4j.ones(DataType.DOUBLE, n, 2);
    assertThatThrownBy(() -> {
      if (lower) Triangular.solveLower(t, b, false);
      else Triangular.solveUpper(t, b);
    })
        .isInstanceOf(ArithmeticException.class)
        .hasMessage("triangular solve: diagonal entry " + zeroAt + " of the " + n + " x " + n
            + " matrix is 0: the matrix is singular");
    // A unit diagonal replaces the stored one: the same matrix is then regular.
    if (lower) assertThat(Triangular.solveLower(t, b, true).isInfinite().any()).isFalse();
  }
}
