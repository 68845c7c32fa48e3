package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A block whose backward pass can start from arrays its forward pass computed (a coupling's
 * conditioner activations) instead of recomputing them from the rebuilt input: backprop's usual
 * trade of memory for time, made only when a caller keeps the arrays in {@link Tapes}. Without a
 * tape the reversible {@link Bijection#backward} runs, which stores nothing.
 */
public interface TapedBlock extends Bijection {

  /** The forward pass and the arrays its backward pass can reuse. */
  record Taped(Flow flow, INDArray[] tape) {}

  /** {@link #forward}, also returning the tape (arrays of the current workspace). */
  Taped forwardTaped(INDArray x);

  /**
   * {@link Bijection#backward} from the tape of the forward pass that produced {@code y}; with a
   * null tape, the reversible pass. Both give the same gradients up to rounding: the tape holds
   * what the reversible pass would recompute.
   */
  Grad backward(INDArray y, INDArray dy, INDArray dLogDet, INDArray[] tape);

  @Override
  default Flow forward(INDArray x) {
    return forwardTaped(x).flow();
  }

  @Override
  default Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    return backward(y, dy, dLogDet, null);
  }
}
