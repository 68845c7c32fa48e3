package org.irevnet.layers;

import java.util.Random;
import org.irevnet.nn.ConvNet;
import org.irevnet.nn.Elements;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * RealNVP-style affine coupling in the fi-RevNet form (DESIGN.md section 3). With {@code x1, x2}
 * the first and second halves of the channels and {@code h = net(x1)} split into {@code raw, t}:
 * {@code s = f + (1 - f) sigmoid(raw + 2)}, {@code y = concat(x2 * s + t, x1)}, log-det {@code
 * sum log s}. The halves swap, so consecutive couplings transform alternate halves. The scale lies
 * in (f, 1): the forward map never expands, and at init ({@code s ~ 0.88}) it is close to the
 * identity.
 *
 * <p>The floor {@code f} ({@code scaleFloor}; 0 is DESIGN.md's exact form) bounds the inverse's
 * gain by {@code 1/f}. Reversible training rebuilds {@code x2 = (y2 - t) / s}: with {@code f = 0}
 * a CE-trained fi-revnet-s on full Fashion-MNIST drove some {@code s} to float32 zero within 700
 * steps (rebuild errors 6e-3 at step 500, an infinite gradient at step 672).
 */
public final class AffineCoupling extends ChannelBlock implements TapedBlock {
  private final double floor;
  private final ConvNet net;

  /**
   * @param lastScale scale of the last conv's init; 0 (the default in models) starts the
   *     coupling at {@code y = concat(0.88 * x2, x1)}; tests use a non-zero value
   */
  public AffineCoupling(int channels, int hidden, int kernel, DataType dt, Random rng, double lastScale) {
    this(channels, hidden, kernel, 0.0, dt, rng, lastScale);
  }

  /** @param scaleFloor the smallest scale {@code f} in [0, 1) */
  public AffineCoupling(int channels, int hidden, int kernel, double scaleFloor, DataType dt, Random rng,
      double lastScale) {
    super(channels);
    if (channels % 2 != 0 || channels < 2) {
      throw new IllegalArgumentException("AffineCoupling needs an even channel count, got " + channels);
    }
    if (!(scaleFloor >= 0 && scaleFloor < 1)) {
      throw new IllegalArgumentException("AffineCoupling scale floor must be in [0, 1), got " + scaleFloor);
    }
    this.floor = scaleFloor;
    this.net = new ConvNet(channels / 2, hidden, channels, kernel, dt, rng, lastScale);
    params.include("net", net.params());
  }

  public double scaleFloor() {
    return floor;
  }

  /**
   * Sizes of one NCHW batch in elements: {@code n} samples of {@code sample} elements, each the
   * two channel halves of {@code half} elements. The conditioner's output has the same layout:
   * {@code raw} in its first half, {@code t} in its second.
   */
  private record Halves(int n, int sample, int half) {
    static Halves of(INDArray x) {
      int n = (int) x.size(0), sample = (int) (x.length() / n);
      return new Halves(n, sample, sample / 2);
    }
  }

  private static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /** {@code s = f + (1 - f) sigmoid(raw + 2)} for {@code raw[0, len)}, in place. */
  private void scales(double[] raw, int len) {
    for (int k = 0; k < len; k++) raw[k] = floor + (1 - floor) * sigmoid(raw[k] + 2);
  }

  /**
   * {@code sum log s[k]} for scales in (0, 1]: one log per run of factors whose product stays
   * above 1e-200 (a log per element was half of the forward pass's elementwise time), and a log
   * of its own for a factor so small that the product could underflow.
   */
  static double sumLog(double[] s, int len) {
    double sum = 0, prod = 1;
    for (int k = 0; k < len; k++) {
      double v = s[k];
      if (v < 1e-100) {
        sum += Math.log(v);
      } else {
        prod *= v;
        if (prod < 1e-200) {
          sum += Math.log(prod);
          prod = 1;
        }
      }
    }
    return sum + Math.log(prod);
  }

  @Override
  public Taped forwardTaped(INDArray x) {
    check(x.shape());
    INDArray in = Tensors.dense(x);
    ConvNet.Tape tape = net.forward(Tensors.channels(in, 0, channels / 2));
    INDArray y = in.ulike(), logDet = Nd4j.createUninitialized(in.dataType(), in.size(0));
    Halves z = Halves.of(in);
    int half = z.half();
    Elements xs = Elements.of(in), h = Elements.of(tape.out()), ys = Elements.of(y), ld = Elements.of(logDet);
    for (int i = 0; i < z.n(); i++) {
      int b = i * z.sample();
      double[] s = h.get(b, half, Elements.scratch(0, half)), t = h.get(b + half, half, Elements.scratch(1, half));
      double[] x2 = xs.get(b + half, half, Elements.scratch(2, half));
      scales(s, half);
      for (int j = 0; j < half; j++) x2[j] = x2[j] * s[j] + t[j];
      ys.put(b, x2, half);
      ys.copy(xs, b, b + half, half);
      ld.set(i, sumLog(s, half));
    }
    Elements.fence(in, tape.out(), y, logDet);
    return new Taped(new Flow(y, logDet), tape.arrays());
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y.shape());
    INDArray in = Tensors.dense(y);
    INDArray out = net.apply(Tensors.channels(in, channels / 2, channels));
    INDArray x = in.ulike(), logDet = Nd4j.createUninitialized(in.dataType(), in.size(0));
    Halves z = Halves.of(in);
    int half = z.half();
    Elements ys = Elements.of(in), h = Elements.of(out), xs = Elements.of(x), ld = Elements.of(logDet);
    for (int i = 0; i < z.n(); i++) {
      int b = i * z.sample();
      double[] s = h.get(b, half, Elements.scratch(0, half)), t = h.get(b + half, half, Elements.scratch(1, half));
      double[] y2 = ys.get(b, half, Elements.scratch(2, half));
      scales(s, half);
      for (int j = 0; j < half; j++) y2[j] = (y2[j] - t[j]) / s[j];
      xs.put(b + half, y2, half);
      xs.copy(ys, b + half, b, half);
      ld.set(i, -sumLog(s, half));
    }
    Elements.fence(in, out, x, logDet);
    return new Flow(x, logDet);
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet, INDArray[] tape) {
    check(y.shape());
    INDArray in = Tensors.dense(y), dOut = Tensors.dense(dy), dLd = Tensors.dense(dLogDet);
    ConvNet.Tape t = tape == null ? net.forward(Tensors.channels(in, channels / 2, channels)) : ConvNet.Tape.of(tape);
    INDArray x = in.ulike(), dx = in.ulike(), dh = in.ulike();
    Halves z = Halves.of(in);
    int half = z.half();
    Elements ys = Elements.of(in), dys = Elements.of(dOut), dl = Elements.of(dLd), h = Elements.of(t.out()),
        xs = Elements.of(x), dxs = Elements.of(dx), dhs = Elements.of(dh);
    // y = (y2, x1) with y2 = x2 s + t and s = f + (1-f) sig, sig = sigmoid(raw + 2), log-det sum log s:
    // dL/draw = (dL/dy2 x2 + dL/dlogdet / s) ds/draw, with ds/draw = (1-f) sig (1-sig);
    // dL/dt = dL/dy2; dL/dx2 = dL/dy2 s; dL/dx1 = dL/d(second half of y) + the conditioner's part.
    for (int i = 0; i < z.n(); i++) {
      int b = i * z.sample();
      double[] raw = h.get(b, half, Elements.scratch(0, half)), sh = h.get(b + half, half, Elements.scratch(1, half));
      double[] x2 = ys.get(b, half, Elements.scratch(2, half)), dy2 = dys.get(b, half, Elements.scratch(3, half));
      double dLogDetI = dl.get(i);
      for (int j = 0; j < half; j++) {
        double sig = sigmoid(raw[j] + 2), s = floor + (1 - floor) * sig;
        x2[j] = (x2[j] - sh[j]) / s;
        raw[j] = (dy2[j] * x2[j] + dLogDetI / s) * (1 - floor) * sig * (1 - sig);
        sh[j] = dy2[j] * s;
      }
      xs.put(b + half, x2, half);
      xs.copy(ys, b + half, b, half);
      dhs.put(b, raw, half);
      dhs.copy(dys, b, b + half, half);
      dxs.put(b + half, sh, half);
    }
    INDArray dNet = net.backward(t, dh);
    Elements dn = Elements.of(dNet);
    for (int i = 0; i < z.n(); i++) {
      int b = i * z.sample();
      double[] d = dys.get(b + half, half, Elements.scratch(0, half)), e = dn.get(i * half, half, Elements.scratch(1, half));
      for (int j = 0; j < half; j++) d[j] += e[j];
      dxs.put(b, d, half);
    }
    Elements.fence(in, dOut, dLd, t.out(), x, dx, dh, dNet);
    return new Grad(x, dx);
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
