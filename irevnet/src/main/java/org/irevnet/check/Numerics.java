package org.irevnet.check;

import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Independent numerical references for tests and {@code selftest}: brute-force Jacobians by central differences
 * and log-determinants by LU, all in float64 and computed without any of the code under test.
 */
public final class Numerics {
  private Numerics() {}

  /**
   * The Jacobian of {@code f} at {@code x} (one sample, any shape) by central differences:
   * {@code J[i][j] = d f(x)_i / d x_j}, of size {@code out x in}.
   */
  public static double[][] jacobian(Function<INDArray, INDArray> f, INDArray x, double eps) {
    INDArray flat = x.dup('c').reshape(x.length());
    long[] shape = x.shape();
    int in = (int) x.length();
    double[][] cols = new double[in][];
    for (int j = 0; j < in; j++) {
      double v = flat.getDouble(j);
      flat.putScalar(j, v + eps);
      INDArray plus = f.apply(flat.reshape(shape).dup()).dup('c').reshape(-1);
      flat.putScalar(j, v - eps);
      INDArray minus = f.apply(flat.reshape(shape).dup()).dup('c').reshape(-1);
      flat.putScalar(j, v);
      cols[j] = plus.sub(minus).divi(2 * eps).toDoubleVector();
    }
    int out = cols[0].length;
    double[][] jac = new double[out][in];
    for (int i = 0; i < out; i++) for (int j = 0; j < in; j++) jac[i][j] = cols[j][i];
    return jac;
  }

  /** log|det A| of a square matrix, by LU (sum of the log-magnitudes of U's diagonal). */
  public static double logAbsDet(double[][] a) {
    LUDecomposition lu = new LUDecomposition(new Array2DRowRealMatrix(a), 0.0);
    RealMatrix u = lu.getU();
    double s = 0;
    for (int i = 0; i < a.length; i++) s += Math.log(Math.abs(u.getEntry(i, i)));
    return s;
  }

  /** 1/2 log det(J^T J): the log volume change of an injective map with Jacobian J. */
  public static double halfLogDetGram(double[][] j) {
    RealMatrix m = new Array2DRowRealMatrix(j);
    return 0.5 * logAbsDet(m.transpose().multiply(m).getData());
  }

  /** d loss / d a[i] by central differences, for every entry of {@code a} (modified in place, restored). */
  public static double[] gradient(ToDoubleFunction<INDArray> loss, INDArray a, double eps, int[] indices) {
    INDArray flat = a.reshape('c', new long[] {a.length()});
    if (flat.data().address() != a.data().address() || !a.isView() && a.ordering() != 'c') {
      throw new IllegalArgumentException("gradient() needs a contiguous c-order array");
    }
    double[] g = new double[indices.length];
    for (int k = 0; k < indices.length; k++) {
      int i = indices[k];
      double v = flat.getDouble(i);
      flat.putScalar(i, v + eps);
      double lp = loss.applyAsDouble(a);
      flat.putScalar(i, v - eps);
      double lm = loss.applyAsDouble(a);
      flat.putScalar(i, v);
      g[k] = (lp - lm) / (2 * eps);
    }
    return g;
  }

  /** {@code count} distinct indices in {@code [0, n)} (all of them when n <= count), seeded. */
  public static int[] sampleIndices(long n, int count, long seed) {
    if (n <= count) {
      int[] all = new int[(int) n];
      for (int i = 0; i < n; i++) all[i] = i;
      return all;
    }
    java.util.Random r = new java.util.Random(seed);
    return r.ints(0, (int) n).distinct().limit(count).toArray();
  }

  /** Unit-scale normal values, float64 then cast. */
  public static INDArray normal(DataType dt, long seed, long... shape) {
    return org.irevnet.nn.Init.normal(dt, new java.util.Random(seed), shape);
  }

  public static double maxAbsDiff(INDArray a, INDArray b) {
    return Tensors.maxAbs(a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)));
  }

  /** max |a - b| / max(1, |a|, |b|) over entries. */
  public static double maxRelDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      double scale = Math.max(1.0, Math.max(Math.abs(a[i]), Math.abs(b[i])));
      m = Math.max(m, Math.abs(a[i] - b[i]) / scale);
    }
    return m;
  }

  /**
   * max |a - b| / max(1, |a|, |b|) over entries of two arrays of the same shape.
   *
   * @throws IllegalArgumentException if the shapes differ
   */
  public static double maxRelDiff(INDArray a, INDArray b) {
    if (!java.util.Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException("shapes differ: " + java.util.Arrays.toString(a.shape()) + " vs "
          + java.util.Arrays.toString(b.shape()));
    }
    return maxRelDiff(Tensors.doubles(a), Tensors.doubles(b));
  }

}
