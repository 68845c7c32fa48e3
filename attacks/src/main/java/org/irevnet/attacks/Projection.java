package org.irevnet.attacks;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Keeps adversarial inputs valid: within an L-inf ball around the clean input, inside the pixel
 * box [0,1], and unchanged outside the image content (the zero padding of 28x28 images).
 */
public final class Projection {
  private Projection() {}

  /**
   * Projects {@code xAdv} in place and returns it.
   *
   * @param mask 1 where pixels may change, 0 elsewhere (same shape as x, or broadcastable)
   */
  public static INDArray linf(INDArray xAdv, INDArray x, double eps, INDArray mask) {
    if (eps < 0) throw new IllegalArgumentException("epsilon must be >= 0, got " + eps);
    INDArray delta = xAdv.sub(x);
    delta = Transforms.min(Transforms.max(delta, -eps, false), eps, false).muli(mask);
    INDArray out = x.add(delta);
    out = Transforms.min(Transforms.max(out, 0.0, false), 1.0, false);
    return xAdv.assign(out);
  }
}
