package org.irevnet.layers;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Base of the blocks that keep the shape of an NCHW input with a fixed channel count: the shape
 * check (with a message naming the block, the expected channels and the actual shape), {@code
 * outputShape} and the parameter table.
 */
abstract class ChannelBlock implements Bijection {
  protected final int channels;
  protected final ParamTable params = ParamTable.empty();

  ChannelBlock(int channels) {
    if (channels < 1) throw new IllegalArgumentException(getClass().getSimpleName() + " needs >= 1 channel");
    this.channels = channels;
  }

  /** @throws IllegalArgumentException unless {@code s} is {@code [n, channels, h, w]} */
  protected final void check(long[] s) {
    String block = getClass().getSimpleName() + "(" + channels + ")";
    Tensors.requireRank4(block, s);
    if (s[1] != channels) {
      throw new IllegalArgumentException(block + " expects " + channels + " channels, got input of shape "
          + Tensors.shape(s));
    }
  }

  /**
   * The per-sample log-det of a map that acts on every pixel's channels alike with log|det| {@code
   * sumLog} per pixel ({@code sign} -1: its inverse), on {@code x}'s batch: {@code sign * h * w * sumLog}.
   */
  protected static INDArray pixelwiseLogDet(INDArray x, double sign, INDArray sumLog) {
    double v = sign * x.size(2) * x.size(3) * sumLog.sumNumber().doubleValue();
    return Nd4j.valueArrayOf(new long[] {x.size(0)}, v, x.dataType());
  }

  @Override
  public final long[] outputShape(long[] s) {
    check(s);
    return s.clone();
  }

  @Override
  public final ParamTable params() {
    return params;
  }
}
