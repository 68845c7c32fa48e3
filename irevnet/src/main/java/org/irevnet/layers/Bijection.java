package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An invertible block: the one contract every layer and every composition of layers fulfils.
 *
 * <p>Sign rule: {@code forward(x)} returns {@code y = f(x)} and {@code log|det df/dx|}; {@code
 * inverse(y)} returns {@code x = f^-1(y)} and {@code log|det df^-1/dy| = -log|det df/dx|}. A
 * round trip restores the input and the two log-dets cancel. Both are per sample, shape {@code
 * [batch]}, in the dtype of the input.
 *
 * <p>{@link #backward} is the vector-Jacobian product of the loss {@code L(y, logDet)}: it
 * rebuilds {@code x} from {@code y} (so a network keeps only its output, and training memory does
 * not grow with depth), returns {@code dL/dx}, and <em>adds</em> {@code dL/dθ} to the gradient
 * of every parameter in {@link #params()}.
 *
 * <p>Blocks hold no per-call state: forward, inverse and backward may be called in any order.
 *
 * <p>A block's results are not the caller's to free: they may be its input, a view of it, or
 * arrays in the workspace the block runs in. A {@link Sequential}'s are: new arrays outside any
 * workspace, made for each call; run a block as a chain of one to own what it gives.
 */
public interface Bijection {

  /** {@code y = f(x)} and the per-sample {@code log|det df/dx|}. */
  Flow forward(INDArray x);

  /** {@code x = f^-1(y)} and the per-sample {@code log|det df^-1/dy|}. */
  Flow inverse(INDArray y);

  /**
   * Reversible backward pass.
   *
   * @param y the output of {@link #forward} (the input is rebuilt from it)
   * @param dy {@code dL/dy}, same shape as {@code y}
   * @param dLogDet {@code dL/d logDet}, shape {@code [batch]}
   * @return the rebuilt input and {@code dL/dx}; parameter gradients are accumulated
   */
  Grad backward(INDArray y, INDArray dy, INDArray dLogDet);

  /**
   * The output shape for an input shape {@code [batch, c, h, w]}.
   *
   * @throws IllegalArgumentException naming the expected and the actual shape
   */
  long[] outputShape(long[] inputShape);

  /** Named parameters (and buffers), for optimisers and checkpoints. */
  ParamTable params();

  /** What {@link Flow#logDet()} means for this block. */
  LogDetKind logDetKind();

  /** {@code forward(x).out()}. */
  default INDArray apply(INDArray x) {
    return forward(x).out();
  }

  /** {@code inverse(y).out()}. */
  default INDArray invert(INDArray y) {
    return inverse(y).out();
  }
}
