package org.irevnet.layers;

import static org.irevnet.nn.Tensors.ChannelOp.ADD;
import static org.irevnet.nn.Tensors.ChannelOp.DIV;
import static org.irevnet.nn.Tensors.ChannelOp.MUL;
import static org.irevnet.nn.Tensors.ChannelOp.SUB;
import static org.irevnet.nn.Tensors.perChannel;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Glow's activation normalisation: {@code y = x * exp(logs) + b} per channel, log-det {@code
 * h*w*sum(logs)}. Parameters are {@code [1, c, 1, 1]} (PyTorch twin layout).
 *
 * <p>Data-dependent init makes the first batch zero-mean, unit-variance per channel, but the
 * scale is clamped to {@code [1/MAX_INIT_SCALE, MAX_INIT_SCALE]}, and channels that are constant
 * on the batch (std below {@link #DEGENERATE_STD}) keep scale 1. On zero-padded images some
 * channels are exactly zero (after five SpaceToDepth steps every channel is one pixel, the border
 * ones always 0): an unclamped {@code 1/std} blew training up to losses of 1e9, and even a clamped
 * scale on such a channel multiplies its gradient by the clamp at every ActNorm (4^56 at 4x depth).
 */
public final class ActNorm extends ChannelBlock implements DataDependentInit {
  /** Largest initial scale (and inverse of the smallest). */
  public static final double MAX_INIT_SCALE = 4.0;
  /** Channels with a smaller standard deviation on the init batch are left unscaled. */
  public static final double DEGENERATE_STD = 1e-3;

  private final Param logs;
  private final Param bias;
  private final Param initDone;

  public ActNorm(int channels, DataType dt) {
    super(channels, dt);
    this.logs = params.add("logs", Nd4j.zeros(dt, 1, channels, 1, 1));
    this.bias = params.add("b", Nd4j.zeros(dt, 1, channels, 1, 1));
    // Saved with the weights, so a loaded model is never re-initialised.
    this.initDone = params.addBuffer("initialized", Nd4j.zeros(dt, 1));
  }

  public Param logs() {
    return logs;
  }

  public Param bias() {
    return bias;
  }

  @Override
  public boolean initialized() {
    return initDone.value().getDouble(0) != 0;
  }

  @Override
  public void initFrom(INDArray x) {
    if (initialized()) return;
    check(x);
    INDArray mean = x.mean(0, 2, 3);
    INDArray std = x.std(false, 0, 2, 3);
    INDArray scale = Transforms.max(std, DEGENERATE_STD, true).rdivi(1.0);
    scale = Transforms.min(Transforms.max(scale, 1.0 / MAX_INIT_SCALE, false), MAX_INIT_SCALE, false);
    INDArray degenerate = std.lt(DEGENERATE_STD).castTo(scale.dataType());
    scale.muli(degenerate.rsub(1.0)).addi(degenerate);
    logs.set(Transforms.log(scale, true).reshape(1, channels, 1, 1));
    bias.set(mean.mul(scale).negi().reshape(1, channels, 1, 1));
    initDone.value().assign(1);
  }

  @Override
  public Flow forward(INDArray x) {
    check(x);
    INDArray y = perChannel(x, MUL, Transforms.exp(logs.value(), true), false);
    perChannel(y, ADD, bias.value(), true);
    return new Flow(y, pixelwiseLogDet(x, 1, logs.value()));
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y);
    INDArray x = perChannel(y, SUB, bias.value(), false);
    perChannel(x, MUL, Transforms.exp(logs.value().neg(), false), true);
    return new Flow(x, pixelwiseLogDet(y, -1, logs.value()));
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    check(y, dy, dLogDet);
    // libnd4j sums a column-major array over (0, 2, 3) in another order than its row-major copy:
    // the parameter gradients of dy.dup('f') differed from dy's in the last bit.
    y = Tensors.dense(y);
    dy = Tensors.dense(dy);
    INDArray scale = Transforms.exp(logs.value(), true);
    INDArray centred = perChannel(y, SUB, bias.value(), false);
    INDArray x = perChannel(centred, DIV, scale, false);
    bias.grad().addi(dy.sum(true, 0, 2, 3));
    // d/dlogs of (x*exp(logs)) is y - b; the log-det adds h*w per unit of dL/dlogdet.
    INDArray dLogs = centred.muli(dy).sum(true, 0, 2, 3)
        .addi(y.size(2) * y.size(3) * dLogDet.sumNumber().doubleValue());
    logs.grad().addi(dLogs);
    return new Grad(x, perChannel(dy, MUL, scale, false));
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
