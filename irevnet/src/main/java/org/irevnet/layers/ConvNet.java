package org.irevnet.layers;

import java.util.Random;
import org.irevnet.nn.Conv2d;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The coupling conditioner: conv(k, in->hidden) ReLU conv(k, hidden->hidden) ReLU
 * conv(k, hidden->out), 'same' padding, biases. Parameter names match a PyTorch
 * {@code nn.Sequential} of the same layers ({@code 0.weight}, {@code 2.weight}, {@code 4.weight}).
 *
 * <p>The last convolution starts at zero (the coupling starts near a swap of its halves) unless
 * {@code lastScale} is non-zero, which tests use to exercise every path.
 */
public final class ConvNet {
  private final Param[] w = new Param[3];
  private final Param[] b = new Param[3];
  private final ParamTable params = ParamTable.empty();

  /** The activations one forward pass needs for its backward pass. */
  public record Tape(INDArray x, INDArray r1, INDArray r2, INDArray out) {
    public INDArray[] arrays() {
      return new INDArray[] {x, r1, r2, out};
    }

    /** The tape of {@link #arrays()}. */
    public static Tape of(INDArray[] a) {
      if (a.length != 4) throw new IllegalArgumentException("a ConvNet tape has 4 arrays, got " + a.length);
      return new Tape(a[0], a[1], a[2], a[3]);
    }
  }

  public ConvNet(int in, int hidden, int out, int kernel, DataType dt, Random rng, double lastScale) {
    int[] cin = {in, hidden, hidden};
    int[] cout = {hidden, hidden, out};
    for (int i = 0; i < 3; i++) {
      // PyTorch's default conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
      double bound = 1.0 / Math.sqrt((double) cin[i] * kernel * kernel);
      double scale = i == 2 ? lastScale : 1.0;
      INDArray wi = Init.uniform(dt, rng, bound * scale, cout[i], cin[i], kernel, kernel);
      INDArray bi = Init.uniform(dt, rng, bound * scale, cout[i]);
      w[i] = params.add((2 * i) + ".weight", wi);
      b[i] = params.add((2 * i) + ".bias", bi);
    }
  }

  public ParamTable params() {
    return params;
  }

  public INDArray apply(INDArray x) {
    return forward(x).out();
  }

  public Tape forward(INDArray x) {
    INDArray r1 = Transforms.relu(Conv2d.forward(x, w[0].value(), b[0].value()), false);
    INDArray r2 = Transforms.relu(Conv2d.forward(r1, w[1].value(), b[1].value()), false);
    INDArray o = Conv2d.forward(r2, w[2].value(), b[2].value());
    return new Tape(x, r1, r2, o);
  }

  /** Returns {@code dL/dx} for the taped input and accumulates the parameter gradients. */
  public INDArray backward(Tape t, INDArray dOut) {
    INDArray d2 = Conv2d.backward(t.r2(), w[2].value(), b[2].value(), dOut, w[2].grad(), b[2].grad());
    // ReLU's derivative on its own output r >= 0 is sign(r): one op, where gt(0) and a cast took
    // two and an extra array (libnd4j's fused relu_bp measured slower).
    d2.muli(Transforms.sign(t.r2(), true));
    INDArray d1 = Conv2d.backward(t.r1(), w[1].value(), b[1].value(), d2, w[1].grad(), b[1].grad());
    d1.muli(Transforms.sign(t.r1(), true));
    return Conv2d.backward(t.x(), w[0].value(), b[0].value(), d1, w[0].grad(), b[0].grad());
  }
}
