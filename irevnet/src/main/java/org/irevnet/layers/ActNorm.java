package org.irevnet.layers;

import org.irevnet.nn.Elements;
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
    super(channels);
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
    check(x.shape());
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
    check(x.shape());
    double[] logScale = channelValues(logs.value());
    double[] scale = new double[channels];
    for (int c = 0; c < channels; c++) scale[c] = Math.exp(logScale[c]);
    INDArray y = affine(x, new double[channels], scale, channelValues(bias.value()));
    return new Flow(y, logDet(x, sum(logScale)));
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y.shape());
    double[] logScale = channelValues(logs.value()), shift = channelValues(bias.value());
    double[] inverseScale = new double[channels];
    for (int c = 0; c < channels; c++) {
      inverseScale[c] = Math.exp(-logScale[c]);
      shift[c] = -shift[c];
    }
    INDArray x = affine(y, shift, inverseScale, new double[channels]);
    return new Flow(x, logDet(y, -sum(logScale)));
  }

  private static INDArray logDet(INDArray x, double sumLogs) {
    return Nd4j.valueArrayOf(new long[] {x.size(0)}, x.size(2) * x.size(3) * sumLogs, x.dataType());
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double e : v) s += e;
    return s;
  }

  /** A {@code [1, c, 1, 1]} parameter's values. */
  private double[] channelValues(INDArray p) {
    double[] v = Elements.of(p).get(0, channels, new double[channels]);
    Elements.fence(p);
    return v;
  }

  /** Adds {@code v} to a {@code [1, c, 1, 1]} gradient. */
  private void addTo(INDArray grad, double[] v) {
    Elements g = Elements.of(grad);
    double[] sum = g.get(0, channels, new double[channels]);
    for (int c = 0; c < channels; c++) sum[c] += v[c];
    g.put(0, sum, channels);
    Elements.fence(grad);
  }

  /** {@code (x + pre[c]) * mul[c] + post[c]} on every element of channel {@code c}, into a new array. */
  private static INDArray affine(INDArray x, double[] pre, double[] mul, double[] post) {
    INDArray in = Tensors.dense(x), out = in.ulike();
    int n = (int) in.size(0), c = (int) in.size(1), hw = (int) (in.size(2) * in.size(3)), sample = c * hw;
    Elements src = Elements.of(in), dst = Elements.of(out);
    for (int i = 0; i < n; i++) {
      double[] row = src.get(i * sample, sample, Elements.scratch(0, sample));
      for (int ch = 0, k = 0; ch < c; ch++) {
        for (int end = k + hw; k < end; k++) row[k] = (row[k] + pre[ch]) * mul[ch] + post[ch];
      }
      dst.put(i * sample, row, sample);
    }
    Elements.fence(in, out);
    return out;
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    check(y.shape());
    INDArray in = Tensors.dense(y), dOut = Tensors.dense(dy), dLd = Tensors.dense(dLogDet);
    double[] logScale = channelValues(logs.value()), shift = channelValues(bias.value());
    int n = (int) in.size(0), hw = (int) (in.size(2) * in.size(3)), sample = channels * hw;
    INDArray x = in.ulike(), dx = in.ulike();
    Elements ys = Elements.of(in), dys = Elements.of(dOut), dl = Elements.of(dLd), xs = Elements.of(x),
        dxs = Elements.of(dx);
    double[] dShift = new double[channels], dLogs = new double[channels];
    double dLogDetSum = 0;
    for (int i = 0; i < n; i++) {
      double[] row = ys.get(i * sample, sample, Elements.scratch(0, sample));
      double[] dRow = dys.get(i * sample, sample, Elements.scratch(1, sample));
      for (int c = 0, k = 0; c < channels; c++) {
        double scale = Math.exp(logScale[c]), b = shift[c], sumD = 0, sumCentredD = 0;
        for (int end = k + hw; k < end; k++) {
          // y - b = x exp(logs) is also d/dlogs of y.
          double centred = row[k] - b, d = dRow[k];
          sumD += d;
          sumCentredD += centred * d;
          row[k] = centred / scale;
          dRow[k] = d * scale;
        }
        dShift[c] += sumD;
        dLogs[c] += sumCentredD;
      }
      xs.put(i * sample, row, sample);
      dxs.put(i * sample, dRow, sample);
      dLogDetSum += dl.get(i);
    }
    // The log-det h*w*sum(logs) adds h*w per unit of dL/dlogdet to every channel's dL/dlogs.
    for (int c = 0; c < channels; c++) dLogs[c] += hw * dLogDetSum;
    addTo(bias.grad(), dShift);
    addTo(logs.grad(), dLogs);
    Elements.fence(in, dOut, dLd, x, dx);
    return new Grad(x, dx);
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
