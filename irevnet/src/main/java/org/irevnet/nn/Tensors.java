package org.irevnet.nn;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Small tensor helpers shared by the layers (NCHW layout throughout). */
public final class Tensors {
  private Tensors() {}

  /**
   * Channels {@code [from, to)} of an NCHW tensor as a new contiguous array. Custom ops on strided
   * views can silently return wrong data in ND4J 1.0.0-M2.1, so slices are always copied.
   */
  public static INDArray channels(INDArray x, long from, long to) {
    return x.get(all(), interval(from, to), all(), all()).dup('c');
  }

  /**
   * Entries {@code [from, from + len)} of a {@code [1, n]} row as a view, not a copy: the flat
   * parameter, gradient and optimiser-state buffers are written through such views.
   */
  public static INDArray rowSlice(INDArray row, long from, long len) {
    return row.get(interval(0, 1), interval(from, from + len));
  }

  /**
   * The entries of {@code x} in row-major order as a new float64 Java array. The copy matters: a
   * view's {@code data()} is its whole backing buffer, not the view.
   */
  public static double[] doubles(INDArray x) {
    return x.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c').data().asDouble();
  }

  /** Concatenates along the channel axis into a new contiguous array. */
  public static INDArray concatChannels(INDArray a, INDArray b) {
    return Nd4j.concat(1, a, b);
  }

  /** Per-sample sum over every axis but the first: {@code [batch, ...] -> [batch]}. */
  public static INDArray sumPerSample(INDArray x) {
    long n = x.size(0);
    return x.reshape('c', n, x.length() / n).sum(1);
  }

  /**
   * {@code v[i] / x[i, ...]} for every entry of sample {@code i} ({@code v} of shape {@code
   * [batch]}), as a new array, in one broadcast op.
   */
  public static INDArray perSampleOver(INDArray v, INDArray x) {
    long n = x.size(0);
    INDArray rows = x.reshape('c', n, x.length() / n).dup('c');
    return rows.rdiviColumnVector(v.reshape(n, 1)).reshape('c', x.shape());
  }

  /**
   * One-hot rows {@code [n, classes]} for integer labels.
   *
   * @throws IllegalArgumentException for a label outside {@code [0, classes)}
   */
  public static INDArray oneHot(int[] labels, int classes, org.nd4j.linalg.api.buffer.DataType dt) {
    float[] v = new float[labels.length * classes];
    for (int k = 0; k < labels.length; k++) {
      if (labels[k] < 0 || labels[k] >= classes) {
        throw new IllegalArgumentException("label " + labels[k] + " outside [0, " + classes + ")");
      }
      v[k * classes + labels[k]] = 1f;
    }
    INDArray y = Nd4j.create(v, new long[] {labels.length, classes}, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    return dt == org.nd4j.linalg.api.buffer.DataType.FLOAT ? y : y.castTo(dt);
  }

  public static String shape(long[] s) {
    return Arrays.toString(s);
  }

  /** Checks an NCHW shape; the message names the block, the expected and the actual shape. */
  public static void requireRank4(String block, long[] s) {
    if (s.length != 4) {
      throw new IllegalArgumentException(block + " expects an NCHW input [batch, c, h, w], got "
          + shape(s));
    }
  }
}
