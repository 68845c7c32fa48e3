package org.irevnet.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stride-1 'same' 2-D convolution with bias on NCHW inputs and PyTorch-layout (OIHW) weights,
 * run as libnd4j's {@code conv2d} / {@code conv2d_bp} custom ops (oneDNN kernels in float32; their
 * temporaries are served as {@link NativeHeap} describes).
 */
public final class Conv2d {
  private Conv2d() {}

  // libnd4j integer args: kH, kW, sH, sW, pH, pW, dH, dW, paddingMode (0 = explicit),
  // dataFormat (0 = NCHW), weightsFormat (1 = [oC, iC, kH, kW]).
  private static int[] iargs(INDArray w) {
    int kh = (int) w.size(2), kw = (int) w.size(3);
    if (kh % 2 == 0 || kw % 2 == 0) {
      throw new IllegalArgumentException("'same' convolution needs an odd kernel, got " + kh + "x" + kw);
    }
    return new int[] {kh, kw, 1, 1, kh / 2, kw / 2, 1, 1, 0, 0, 1};
  }

  /** {@code conv(x, w) + b}: x {@code [n, ci, h, w]}, w {@code [co, ci, k, k]}, b {@code [co]}. */
  public static INDArray forward(INDArray x, INDArray w, INDArray b) {
    // Uninitialised: the op writes every entry (zero-filling it was a wasted pass over the output).
    INDArray out = Nd4j.createUninitialized(x.dataType(), x.size(0), w.size(0), x.size(2), x.size(3));
    // libnd4j's float64 conv2d divides by zero on an empty input (SIGFPE in addBias_, the JVM dies).
    if (x.isEmpty()) return out;
    NativeHeap.forConvolution(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d")
        .addInputs(x, w, b)
        .addOutputs(out)
        .addIntegerArguments(iargs(w))
        .build()));
    return out;
  }

  /**
   * Vector-Jacobian product of {@link #forward}: returns {@code dL/dx} and adds {@code dL/dw},
   * {@code dL/db} to {@code dw}, {@code db}.
   */
  public static INDArray backward(INDArray x, INDArray w, INDArray b, INDArray dOut,
      INDArray dw, INDArray db) {
    INDArray dx = x.ulike();
    if (x.isEmpty()) return dx;   // nothing to convolve, nothing to add (and see forward)
    INDArray gw = w.ulike();
    INDArray gb = b.ulike();
    NativeHeap.forConvolution(() -> Nd4j.exec(DynamicCustomOp.builder("conv2d_bp")
        .addInputs(x, w, b, dOut)
        .addOutputs(dx, gw, gb)
        .addIntegerArguments(iargs(w))
        .build()));
    dw.addi(gw);
    db.addi(gb);
    return dx;
  }
}
