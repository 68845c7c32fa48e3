package org.irevnet.layers;

import org.irevnet.nn.Tensors;
import org.nd4j.enums.DataFormat;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.DepthToSpace;
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

  // libnd4j's space_to_depth and depth_to_space (NCHW) have this channel order and copy once: the
  // reshape, permute and copy they replace copied twice and took 2-3x as long (640-720 against
  // 240-330 us a call at [64, 4, 16, 16] float32, two threads). They read a view's elements as if
  // it were dense (a channel slice came out wrong), so any other layout is copied first
  // (Tensors.dense). An empty batch has nothing to move.
  INDArray squeeze(INDArray x) {
    INDArray out = Nd4j.createUninitialized(x.dataType(), outputShape(x.shape()));
    if (!x.isEmpty()) Nd4j.exec(new org.nd4j.linalg.api.ops.impl.layers.convolution.SpaceToDepth(Tensors.dense(x), out, b, DataFormat.NCHW));
    return out;
  }

  INDArray unsqueeze(INDArray y) {
    long n = y.size(0), cb = y.size(1), h = y.size(2), w = y.size(3);
    if (cb % ((long) b * b) != 0) {
      throw new IllegalArgumentException("SpaceToDepth(" + b + ") inverse needs channels divisible by "
          + (b * b) + ", got " + Tensors.shape(y.shape()));
    }
    INDArray out = Nd4j.createUninitialized(y.dataType(), n, cb / ((long) b * b), h * b, w * b);
    if (!y.isEmpty()) Nd4j.exec(new DepthToSpace(Tensors.dense(y), out, b, DataFormat.NCHW));
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
