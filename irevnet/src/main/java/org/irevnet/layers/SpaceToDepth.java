package org.irevnet.layers;

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
    long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    return x.dup('c').reshape('c', n, c, h / b, b, w / b, b).permute(0, 3, 5, 1, 2, 4).dup('c')
        .reshape('c', s);
  }

  INDArray unsqueeze(INDArray y) {
    long n = y.size(0), cb = y.size(1), h = y.size(2), w = y.size(3);
    if (cb % ((long) b * b) != 0) {
      throw new IllegalArgumentException("SpaceToDepth(" + b + ") inverse needs channels divisible by "
          + (b * b) + ", got " + Tensors.shape(y.shape()));
    }
    long c = cb / ((long) b * b);
    return y.dup('c').reshape('c', n, b, b, c, h, w).permute(0, 3, 4, 1, 5, 2).dup('c')
        .reshape('c', n, c, h * b, w * b);
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
