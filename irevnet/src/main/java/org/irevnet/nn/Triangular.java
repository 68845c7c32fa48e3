package org.irevnet.nn;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Triangular solves {@code T X = B} for many right-hand sides, blocked so that nearly all the work
 * is matrix products: halve T, solve one half, subtract its contribution from the other, recurse;
 * blocks of at most {@link #BLOCK} rows are inverted by substitution in double precision. Cost
 * {@code n^2 k}, against {@code n^3} for forming an inverse.
 *
 * <p>Why not libnd4j: in 1.0.0-M2.1 its {@code triangular_solve} took 1.3 s for a 1024 x 1024
 * system with 64 right-hand sides, and its {@code matrix_inverse} refuses a matrix whose
 * determinant underflows to zero, which every 512 x 512 rotation does in float32 (and took 74 s
 * for a 1024 x 1024 one in float64).
 */
public final class Triangular {
  static final int BLOCK = 64;

  private Triangular() {}

  /**
   * X with {@code L X = B}, L lower triangular ({@code n x n}, with a unit diagonal if {@code
   * unitDiagonal}), B {@code n x k}.
   *
   * @throws ArithmeticException naming the first zero on L's diagonal (unless unit): L is singular;
   *     or when X overflows its type although L and B are finite: L is too close to singular
   */
  public static INDArray solveLower(INDArray l, INDArray b, boolean unitDiagonal) {
    return new Factor(l, true, unitDiagonal).solve(b);
  }

  /**
   * X with {@code U X = B}, U upper triangular ({@code n x n}), B {@code n x k}.
   *
   * @throws ArithmeticException naming the first zero on U's diagonal: U is singular; or when X
   *     overflows its type although U and B are finite: U is too close to singular
   */
  public static INDArray solveUpper(INDArray u, INDArray b) {
    return new Factor(u, false, false).solve(b);
  }

  /** {@link #solveLower} for many {@code b} with one {@code l}, which the caller must not change. */
  public static Factor lowerFactor(INDArray l, boolean unitDiagonal) {
    return new Factor(l, true, unitDiagonal);
  }

  /** {@link #solveUpper} for many {@code b} with one {@code u}, which the caller must not change. */
  public static Factor upperFactor(INDArray u) {
    return new Factor(u, false, false);
  }

  /**
   * A triangular matrix for repeated solves. What depends on it alone, the check of its diagonal
   * and the inverses of its diagonal blocks (16 of 64 x 64 at 1024 rows, made in Java), is worked
   * out at the first solve that needs it and kept (outside any workspace, 32 KiB a block in
   * float64), so the solves give the same bits as {@link #solveLower} and {@link #solveUpper}.
   */
  public static final class Factor {
    private final INDArray t;
    private final boolean lower;
    private final boolean unit;
    private Integer zeroPivot;
    private final Map<Long, INDArray> inverses = new HashMap<>();

    private Factor(INDArray t, boolean lower, boolean unit) {
      this.t = t;
      this.lower = lower;
      this.unit = unit;
    }

    /** X with {@code T X = B}; throws as {@link #solveLower} and {@link #solveUpper} do. */
    public INDArray solve(INDArray b) {
      // The ranks first: ND4J's rows() throws on anything but a matrix or a vector.
      if (t.rank() != 2 || b.rank() != 2 || t.columns() != t.rows() || b.rows() != t.rows()) {
        throw new IllegalArgumentException("triangular solve needs an n x n matrix and n rows, got "
            + Tensors.shape(t.shape()) + " and " + Tensors.shape(b.shape()));
      }
      // No unknowns or no right-hand sides: libnd4j refuses the subtraction of the recursion on empty
      // arrays (k = 0 above BLOCK rows), and an empty block has no rows to invert (n = 0).
      if (b.isEmpty()) return Nd4j.create(t.dataType(), b.rows(), b.columns());
      // A zero pivot gave infinities and NaN (0/0) in X without a word; none of it is a solution.
      if (!unit && zeroPivot() >= 0) {
        throw new ArithmeticException("triangular solve: diagonal entry " + zeroPivot + " of the " + t.rows() + " x "
            + t.rows() + " matrix is 0: the matrix is singular");
      }
      INDArray x = solve(0, t.rows(), b.dup('c'));
      if (Tensors.nonFinite(x) > 0 && finiteSystem(t, b, lower, unit)) {
        throw new ArithmeticException("triangular solve: the solution of the " + t.rows() + " x " + t.rows()
            + " system overflows " + Tensors.typeName(x.dataType()) + " (Infinity or NaN): the matrix is too close to singular for this"
            + " right-hand side" + (unit ? "" : smallestPivot(t)));
      }
      return x;
    }

    /** The first zero on the diagonal, -1 for none. */
    private int zeroPivot() {
      if (zeroPivot == null) {
        double[] diagonal = Tensors.doubles(Nd4j.diag(t));
        int k = 0;
        while (k < diagonal.length && diagonal[k] != 0) k++;
        zeroPivot = k < diagonal.length ? k : -1;
      }
      return zeroPivot;
    }

    /**
     * Solves with the diagonal block {@code t[from:to, from:to]} for {@code b} (dense, to - from
     * rows). Blocks are always taken from the whole matrix: ND4J's views of views lost their data.
     */
    private INDArray solve(long from, long to, INDArray b) {
      long n = to - from;
      if (n <= BLOCK) return inverse(from, to).mmul(b);
      long mid = from + n / 2;
      // The half solved first: the top one for a lower matrix, the bottom one for an upper matrix.
      long f0 = lower ? from : mid, f1 = lower ? mid : to, s0 = lower ? mid : from, s1 = lower ? to : mid;
      INDArray first = solve(f0, f1, rows(b, f0 - from, f1 - from));
      INDArray rest = rows(b, s0 - from, s1 - from).subi(block(t, s0, s1, f0, f1).mmul(first));
      INDArray second = solve(s0, s1, rest);
      return lower ? Nd4j.vstack(first, second) : Nd4j.vstack(second, first);
    }

    /** The inverse of the diagonal block {@code [from, to)}, made once. */
    private INDArray inverse(long from, long to) {
      INDArray kept = inverses.get(from);
      if (kept == null) {
        // Outside the caller's workspace, which reuses its memory once the call is over.
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
          INDArray block = block(t, from, to, from, to);
          kept = smallInverse(block, lower, unit);
          Tensors.free(block, null);
        }
        inverses.put(from, kept);
      }
      return kept;
    }

    /** Frees the kept inverses now; a later solve makes them again. */
    public void free() {
      Tensors.freeAll(inverses.values());
      inverses.clear();
    }
  }

  /**
   * Whether the triangle a solve reads and the right-hand side are finite. Only then is an
   * Infinity or NaN in X the solve's own: a tiny pivot (1e-309 in float64, 1e-39 in float32, or a
   * larger one with a large right-hand side) is not zero but its quotient overflows. No threshold
   * on the pivots could say when: that depends on B and on the other entries, so the check is on
   * the result. A NaN or infinity the caller passed in is passed on, as arithmetic does.
   */
  private static boolean finiteSystem(INDArray t, INDArray b, boolean lower, boolean unit) {
    if (Tensors.nonFinite(b) > 0) return false;
    int n = (int) t.rows();
    double[] a = Tensors.doubles(t);
    for (int i = 0; i < n; i++) {
      for (int j = lower ? 0 : i; j < (lower ? i + 1 : n); j++) {
        if (!(unit && i == j) && !Double.isFinite(a[i * n + j])) return false;
      }
    }
    return true;
  }

  private static String smallestPivot(INDArray t) {
    double[] diagonal = Tensors.doubles(Nd4j.diag(t));
    int k = 0;
    for (int i = 1; i < diagonal.length; i++) if (Math.abs(diagonal[i]) < Math.abs(diagonal[k])) k = i;
    String value = t.dataType() == DataType.FLOAT ? Float.toString((float) diagonal[k]) : Double.toString(diagonal[k]);
    return " (its smallest diagonal entry is " + value + ", entry " + k + ")";
  }

  private static INDArray block(INDArray t, long r0, long r1, long c0, long c1) {
    return t.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.interval(c0, c1)).dup('c');
  }

  /** Rows {@code [r0, r1)} of a dense {@code b}, as a dense copy. */
  private static INDArray rows(INDArray b, long r0, long r1) {
    return b.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all()).dup('c');
  }

  /** The inverse of a small triangular matrix, by substitution in double precision. */
  private static INDArray smallInverse(INDArray t, boolean lower, boolean unit) {
    int n = (int) t.rows();
    // One bulk copy: toDoubleMatrix reads element by element (2 ms for 64 x 64, against 0.05).
    double[] a = Tensors.doubles(t);
    double[][] inv = new double[n][n];
    // Column j of the inverse solves T x = e_j; x is zero above j (lower) or below j (upper).
    for (int j = 0; j < n; j++) {
      for (int step = 0; step < n; step++) {
        int i = lower ? step : n - 1 - step;
        double s = i == j ? 1 : 0;
        if (lower) {
          for (int k = j; k < i; k++) s -= a[i * n + k] * inv[k][j];
        } else {
          for (int k = i + 1; k <= j; k++) s -= a[i * n + k] * inv[k][j];
        }
        if (lower ? i < j : i > j) continue;
        inv[i][j] = unit ? s : s / a[i * n + i];
      }
    }
    return Nd4j.createFromArray(inv).castTo(t.dataType());
  }
}
