package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One named tensor of a block. Blocks always read {@link #value()} at call time, so that a model
 * can move every parameter into views of one flat buffer (one optimiser call per step) after the
 * blocks are built. Buffers (running statistics) are not trainable and have no gradient.
 */
public final class Param {
  private final boolean trainable;
  private INDArray value;
  private INDArray grad;

  Param(INDArray value, boolean trainable) {
    this.value = value;
    this.trainable = trainable;
  }

  public INDArray value() {
    return value;
  }

  /**
   * The accumulated gradient; {@code null} for buffers. Allocated on first use (outside any
   * workspace), so a model whose parameters are then flattened never holds two copies of its
   * gradients.
   */
  public INDArray grad() {
    if (grad == null && trainable) {
      grad = org.irevnet.nn.BlockWorkspace.outside(value.dataType(), value.shape()).assign(0);
    }
    return grad;
  }

  public boolean trainable() {
    return trainable;
  }

  /** Moves the value and gradient into the given views (same shape), keeping their contents. */
  void rebind(INDArray valueView, INDArray gradView) {
    valueView.assign(value);
    release(value);
    value = valueView;
    if (trainable) {
      if (grad == null) gradView.assign(0); else gradView.assign(grad);
      release(grad);
      grad = gradView;
    }
  }

  // Frees the replaced array's native memory now rather than at some later garbage collection,
  // so a model never holds its parameters twice (blocks read value() at call time, so nothing
  // else refers to it). Views and workspace arrays are not closeable and are left alone.
  private static void release(INDArray old) {
    if (old != null && old.closeable()) old.close();
  }

  /** Overwrites the value (checkpoint loading, data-dependent init); shapes must match. */
  public void set(INDArray v) {
    if (!java.util.Arrays.equals(v.shape(), value.shape())) {
      throw new IllegalArgumentException(
          "shape " + java.util.Arrays.toString(v.shape()) + " does not fit parameter of shape "
              + java.util.Arrays.toString(value.shape()));
    }
    value.assign(v);
  }
}
