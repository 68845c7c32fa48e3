package org.irevnet.layers;

import java.util.Random;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The i-RevNet block (stride 1): with {@code x1, x2} the two channel halves, {@code y = concat(x2,
 * x1 + F(x2))}, the swap happening in the output order as in the reference code. F is the
 * bottleneck conv(k) ReLU conv(k) ReLU conv(k), without the reference's batch normalisation (which
 * would make a sample's output depend on its batch). Volume preserving: log-det zero.
 */
public final class AdditiveCoupling extends ChannelBlock implements TapedBlock {
  private final ConvNet f;

  public AdditiveCoupling(int channels, int hidden, int kernel, DataType dt, Random rng, double lastScale) {
    super(channels, dt);
    if (channels % 2 != 0 || channels < 2) {
      throw new IllegalArgumentException("AdditiveCoupling needs an even channel count, got " + channels);
    }
    this.f = new ConvNet(channels / 2, hidden, channels / 2, kernel, dt, rng, lastScale);
    params.include("bottleneck", f.params());
  }

  @Override
  public Taped forwardTaped(INDArray x) {
    check(x);
    int half = channels / 2;
    INDArray x1 = Tensors.channels(x, 0, half);
    INDArray x2 = Tensors.channels(x, half, channels);
    ConvNet.Tape tape = f.forward(x2);
    INDArray y1 = x1.addi(tape.out());
    return new Taped(new Flow(Tensors.concatChannels(x2, y1), Nd4j.zeros(x.dataType(), x.size(0))), tape.arrays());
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y);
    int half = channels / 2;
    INDArray x2 = Tensors.channels(y, 0, half);
    INDArray y1 = Tensors.channels(y, half, channels);
    INDArray x1 = y1.subi(f.apply(x2));
    return new Flow(Tensors.concatChannels(x1, x2), Nd4j.zeros(y.dataType(), y.size(0)));
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet, INDArray[] tape) {
    check(y, dy, dLogDet);
    int half = channels / 2;
    INDArray x2 = Tensors.channels(y, 0, half);
    INDArray y1 = Tensors.channels(y, half, channels);
    ConvNet.Tape t = tape == null ? f.forward(x2) : ConvNet.Tape.of(tape);
    INDArray x1 = y1.subi(t.out());
    INDArray dy1 = Tensors.channels(dy, half, channels);
    INDArray dx2 = Tensors.channels(dy, 0, half).addi(f.backward(t, dy1));
    return new Grad(Tensors.concatChannels(x1, x2), Tensors.concatChannels(dy1, dx2));
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.ZERO;
  }
}
