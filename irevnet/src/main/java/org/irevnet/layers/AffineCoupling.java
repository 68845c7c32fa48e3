package org.irevnet.layers;

import java.util.Random;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * RealNVP-style affine coupling in the fi-RevNet form (DESIGN.md section 3). With {@code x1, x2}
 * the first and second halves of the channels and {@code h = net(x1)} split into {@code raw, t}:
 * {@code s = f + (1 - f) sigmoid(raw + 2)}, {@code y = concat(x2 * s + t, x1)}, log-det {@code
 * sum log s}. The halves swap, so consecutive couplings transform alternate halves. The scale lies
 * in (f, 1): the forward map never expands, and at init ({@code s ~ 0.88}, {@code t = 0}) it is
 * close to a swap of the halves.
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
    super(channels, dt);
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

  /** {@code sig} is {@code sigmoid(raw + 2)}; {@code s = f + (1 - f) sig}. */
  private record ScaleShift(INDArray s, INDArray sig, INDArray t, ConvNet.Tape tape) {}

  private ScaleShift scaleShift(ConvNet.Tape tape) {
    int half = channels / 2;
    INDArray sig = Transforms.sigmoid(Tensors.channels(tape.out(), 0, half).addi(2.0), false);
    INDArray s = floor == 0 ? sig : sig.mul(1 - floor).addi(floor);
    INDArray t = Tensors.channels(tape.out(), half, channels);
    return new ScaleShift(s, sig, t, tape);
  }

  @Override
  public Taped forwardTaped(INDArray x) {
    check(x);
    int half = channels / 2;
    INDArray x1 = Tensors.channels(x, 0, half);
    INDArray x2 = Tensors.channels(x, half, channels);
    ScaleShift st = scaleShift(net.forward(x1));
    INDArray y2 = x2.muli(st.s()).addi(st.t());
    Flow f = new Flow(Tensors.concatChannels(y2, x1), Tensors.sumPerSample(Transforms.log(st.s(), true)));
    return new Taped(f, st.tape().arrays());
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y);
    int half = channels / 2;
    INDArray y2 = Tensors.channels(y, 0, half);
    INDArray x1 = Tensors.channels(y, half, channels);
    ScaleShift st = scaleShift(net.forward(x1));
    INDArray x2 = y2.subi(st.t()).divi(st.s());
    return new Flow(Tensors.concatChannels(x1, x2),
        Tensors.sumPerSample(Transforms.log(st.s(), true)).negi());
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet, INDArray[] tape) {
    check(y, dy, dLogDet);
    int half = channels / 2;
    INDArray y2 = Tensors.channels(y, 0, half);
    INDArray x1 = Tensors.channels(y, half, channels);
    INDArray dy2 = Tensors.channels(dy, 0, half);
    INDArray dx1 = Tensors.channels(dy, half, channels);
    ScaleShift st = scaleShift(tape == null ? net.forward(x1) : ConvNet.Tape.of(tape));
    INDArray s = st.s();
    INDArray x2 = y2.sub(st.t()).divi(s);
    // L depends on raw through s = f + (1-f) sig, sig = sigmoid(raw + 2):
    // ds/draw = (1-f) sig (1-sig), and dlog(s)/draw = ds/draw / s.
    INDArray sig = st.sig();
    INDArray dsdRaw = sig.rsub(1.0).muli(sig);
    if (floor != 0) dsdRaw.muli(1 - floor);
    INDArray dRaw = dy2.mul(x2).addi(Tensors.perSampleOver(dLogDet, s)).muli(dsdRaw);
    INDArray dh = Tensors.concatChannels(dRaw, dy2);
    dx1.addi(net.backward(st.tape(), dh));
    INDArray dx2 = dy2.mul(s);
    return new Grad(Tensors.concatChannels(x1, x2), Tensors.concatChannels(dx1, dx2));
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
