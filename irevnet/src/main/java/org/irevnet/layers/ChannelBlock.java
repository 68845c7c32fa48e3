package org.irevnet.layers;

import java.util.Arrays;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Base of the blocks with parameters that keep the shape of an NCHW input with a fixed channel
 * count: the checks of their inputs (with a message naming the block, what it expects and what it
 * got), {@code outputShape} and the parameter table.
 */
abstract class ChannelBlock implements Bijection {
  protected final int channels;
  protected final ParamTable params = ParamTable.empty();
  private final DataType dataType;

  /** @param dataType the type of the parameters, and so of every input */
  ChannelBlock(int channels, DataType dataType) {
    if (channels < 1) throw new IllegalArgumentException(getClass().getSimpleName() + " needs >= 1 channel");
    this.channels = channels;
    this.dataType = dataType;
  }

  private String block() {
    return getClass().getSimpleName() + "(" + channels + ")";
  }

  /** @throws IllegalArgumentException unless {@code s} is {@code [n, channels, h, w]} */
  protected final void check(long[] s) {
    Tensors.requireRank4(block(), s);
    if (s[1] != channels) {
      throw new IllegalArgumentException(block() + " expects " + channels + " channels, got input of shape "
          + Tensors.shape(s));
    }
  }

  /**
   * {@link #check(long[])} of {@code x}'s shape, and {@code x} of the parameters' type. Mixed types
   * were computed with silently: a float64 input to a float32 block came back float64 but with
   * float32 parameters (neither model's result), a float16 one in float16, and an int one killed
   * the JVM (an integer division by zero in libnd4j, SIGFPE).
   */
  protected final void check(INDArray x) {
    check(x.shape());
    if (x.dataType() != dataType) {
      throw new IllegalArgumentException(block() + " expects " + Tensors.typeName(dataType) + " input (the type of its"
          + " parameters), got " + Tensors.typeName(x.dataType()) + "; cast it with castTo(DataType." + dataType + ")");
    }
  }

  /** {@link #check(INDArray)} of {@code y}, and backward's {@code dy} and {@code dLogDet} of its shape and type. */
  protected final void check(INDArray y, INDArray dy, INDArray dLogDet) {
    check(y);
    long[] perSample = {y.size(0)};
    if (!Arrays.equals(dy.shape(), y.shape()) || dy.dataType() != dataType
        || !Arrays.equals(dLogDet.shape(), perSample) || dLogDet.dataType() != dataType) {
      throw new IllegalArgumentException(block() + " backward expects dL/dy of the output's shape " + Tensors.shape(y.shape())
          + " and dL/dlogdet of shape " + Tensors.shape(perSample) + ", both " + Tensors.typeName(dataType) + ", got "
          + Tensors.shape(dy.shape()) + " " + Tensors.typeName(dy.dataType()) + " and " + Tensors.shape(dLogDet.shape())
          + " " + Tensors.typeName(dLogDet.dataType()));
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
