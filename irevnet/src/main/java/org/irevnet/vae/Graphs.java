package org.irevnet.vae;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batched small-matrix algebra for the flows, written as broadcast products and sums: every
 * sample has its own matrices, and these ops (unlike batched matmul) have well-tested gradients
 * in SameDiff 1.0.0-M2.1. Matrices are {@code [n, rows, cols]}, vectors {@code [n, len]}.
 */
final class Graphs {
  private Graphs() {}

  /** Columns {@code [from, to)} of {@code x [n, p]}. */
  static SDVariable cols(SDVariable x, long from, long to) {
    return x.get(SDIndex.all(), SDIndex.interval(from, to));
  }

  /** Per-row dot product, {@code [n, 1]}. */
  static SDVariable dot(SDVariable a, SDVariable b) {
    return a.mul(b).sum(true, 1);
  }

  /**
   * {@code s}, with 1 where it is exactly 0: the divisor of a formula whose numerator vanishes
   * with {@code s} ({@code w (m - w·u)/|w|²}, {@code v (v·z)/|v|²}), so that an all-zero vector
   * (a blank image through a fresh encoder) gives 0 and finite gradients instead of 0/0. Every
   * other value divides exactly as written; clamping small ones instead would break the
   * invertibility and orthogonality the exact formulas give.
   */
  static SDVariable zeroAsOne(SDVariable s) {
    return s.add(s.eq(0.0).castTo(s.dataType()));
  }

  /** {@code A v} for {@code A [n, r, c]}, {@code v [n, c]}: {@code [n, r]}. */
  static SDVariable matVec(SDVariable a, SDVariable v, long c) {
    return a.mul(v.reshape(-1, 1, c)).sum(2);
  }

  /** {@code A^T v} for {@code A [n, r, c]}, {@code v [n, r]}: {@code [n, c]}. */
  static SDVariable matTVec(SDVariable a, SDVariable v, long r) {
    return a.mul(v.reshape(-1, r, 1)).sum(1);
  }

  /** {@code A^T B} for {@code A [n, k, r]}, {@code B [n, k, c]}: {@code [n, r, c]}. */
  static SDVariable matTMat(SDVariable a, SDVariable b, long k, long r, long c) {
    return a.reshape(-1, k, r, 1).mul(b.reshape(-1, k, 1, c)).sum(1);
  }

  /** {@code A B} for {@code A [n, r, k]}, {@code B [n, k, c]}: {@code [n, r, c]}. */
  static SDVariable matMat(SDVariable a, SDVariable b, long r, long k, long c) {
    return a.reshape(-1, r, k, 1).mul(b.reshape(-1, 1, k, c)).sum(2);
  }

  /** A constant {@code [1, m, m]} matrix with ones where {@code j > i} (strictly upper). */
  static SDVariable strictUpperMask(SameDiff sd, SDVariable like, int m) {
    INDArray mask = Nd4j.zeros(like.dataType(), 1, m, m);
    for (int i = 0; i < m; i++) for (int j = i + 1; j < m; j++) mask.putScalar(0, i, j, 1.0);
    return sd.constant(mask);
  }

  /** A constant {@code [1, m, m]} identity. */
  static SDVariable eye(SameDiff sd, SDVariable like, int m) {
    return sd.constant(Nd4j.eye(m).castTo(like.dataType()).reshape(1, m, m));
  }
}
