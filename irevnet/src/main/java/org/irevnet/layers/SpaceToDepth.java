package org.irevnet.layers;

import org.irevnet.nn.Elements;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Invertible downsampling psi of i-RevNet: {@code [n, c, h, w] -> [n, c*b*b, h/b, w/b]} with the
 * reference code's channel order, offset-major: output channel {@code (dh*b + dw)*c + ci} at
 * {@code (i, j)} holds input {@code (ci, i*b + dh, j*b + dw)} (TF {@code space_to_depth} read in
 * NHWC). A permutation of coefficients, so the log-det is zero.
 */
public final class SpaceToDepth implements Bijection {
  private final int b;

  public SpaceToDepth(int blockSize) {
    if (blockSize < 1) throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
    this.b = blockSize;
  }

  public int blockSize() {
    return b;
  }

  @Override
  public Flow forward(INDArray x) {
    return new Flow(squeeze(x), Nd4j.zeros(x.dataType(), x.size(0)));
  }

  @Override
  public Flow inverse(INDArray y) {
    return new Flow(unsqueeze(y), Nd4j.zeros(y.dataType(), y.size(0)));
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    // A permutation: its transpose is its inverse.
    return new Grad(unsqueeze(y), unsqueeze(dy));
  }

  INDArray squeeze(INDArray x) {
    long[] s = outputShape(x.shape());
    return permute(x, s, sourceIndex((int) x.size(1), (int) x.size(2), (int) x.size(3)), true);
  }

  INDArray unsqueeze(INDArray y) {
    long n = y.size(0), cb = y.size(1), h = y.size(2), w = y.size(3);
    if (cb % ((long) b * b) != 0) {
      throw new IllegalArgumentException("SpaceToDepth(" + b + ") inverse needs channels divisible by "
          + (b * b) + ", got " + Tensors.shape(y.shape()));
    }
    int c = (int) (cb / ((long) b * b));
    return permute(y, new long[] {n, c, h * b, w * b}, sourceIndex(c, (int) h * b, (int) w * b), false);
  }

  /**
   * For each element of one output sample of {@link #squeeze} (row-major {@code [c*b*b, h/b,
   * w/b]}), its index in the input sample ({@code [c, h, w]}).
   */
  private int[] sourceIndex(int c, int h, int w) {
    int ho = h / b, wo = w / b;
    int[] src = new int[c * h * w];
    int k = 0;
    for (int dh = 0; dh < b; dh++) {
      for (int dw = 0; dw < b; dw++) {
        for (int ci = 0; ci < c; ci++) {
          for (int i = 0; i < ho; i++) {
            for (int j = 0; j < wo; j++) src[k++] = (ci * h + i * b + dh) * w + j * b + dw;
          }
        }
      }
    }
    return src;
  }

  /**
   * Moves every sample's elements by {@code index}: gathers ({@code out[k] = in[index[k]]}) for
   * the forward direction, scatters ({@code out[index[k]] = in[k]}) for the inverse. One Java pass
   * per sample: libnd4j's copy of the permuted 6-d view (after a copy of its own) took 2-3% of a
   * training step.
   */
  private static INDArray permute(INDArray x, long[] outShape, int[] index, boolean gather) {
    INDArray in = Tensors.dense(x), out = Nd4j.createUninitialized(in.dataType(), outShape);
    int n = (int) in.size(0), sample = index.length;
    Elements src = Elements.of(in), dst = Elements.of(out);
    for (int i = 0; i < n; i++) {
      double[] from = src.get(i * sample, sample, Elements.scratch(0, sample));
      double[] to = Elements.scratch(1, sample);
      if (gather) {
        for (int k = 0; k < sample; k++) to[k] = from[index[k]];
      } else {
        for (int k = 0; k < sample; k++) to[index[k]] = from[k];
      }
      dst.put(i * sample, to, sample);
    }
    Elements.fence(in, out);
    return out;
  }

  @Override
  public long[] outputShape(long[] s) {
    Tensors.requireRank4("SpaceToDepth(" + b + ")", s);
    if (s[2] % b != 0 || s[3] % b != 0) {
      throw new IllegalArgumentException("SpaceToDepth(" + b + ") needs height and width divisible by "
          + b + ", got " + Tensors.shape(s) + "; pad the input or change the block size");
    }
    return new long[] {s[0], s[1] * b * b, s[2] / b, s[3] / b};
  }

  @Override
  public ParamTable params() {
    return ParamTable.empty();
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.ZERO;
  }
}
