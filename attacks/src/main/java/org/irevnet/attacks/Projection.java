package org.irevnet.attacks;

import org.irevnet.data.Preprocess;
import org.irevnet.models.Classifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Keeps adversarial inputs valid: within a norm ball around the clean input, inside the pixel
 * box [0,1], and unchanged outside the image content (the zero padding of 28x28 images).
 */
public final class Projection {
  private Projection() {}

  /**
   * Projects {@code xAdv} in place onto the L-inf ball and returns it.
   *
   * @param mask 1 where pixels may change, 0 elsewhere (same shape as x, or broadcastable)
   */
  public static INDArray linf(INDArray xAdv, INDArray x, double eps, INDArray mask) {
    if (eps < 0) throw new IllegalArgumentException("epsilon must be >= 0, got " + eps);
    INDArray delta = xAdv.sub(x);
    delta = Transforms.min(Transforms.max(delta, -eps, false), eps, false).muli(mask);
    return box(xAdv, x, delta);
  }

  /**
   * Projects {@code xAdv} in place onto the L2 ball (each row's masked perturbation scaled down to
   * norm {@code eps} if longer), then into the box, and returns it. Clipping to the box only
   * shrinks each pixel's change, so the result stays in the ball.
   */
  public static INDArray l2(INDArray xAdv, INDArray x, double eps, INDArray mask) {
    if (eps < 0) throw new IllegalArgumentException("epsilon must be >= 0, got " + eps);
    INDArray delta = xAdv.sub(x).muli(mask);
    INDArray norms = Norm.rowNorms(delta, Norm.L2);
    // min(1, eps / ||delta||); a zero delta stays zero (also for eps = 0).
    INDArray scale = Transforms.min(Transforms.max(norms, 1e-30, false).rdivi(eps), 1.0, false)
        .reshape(x.size(0), 1).castTo(delta.dataType());
    long n = x.size(0);
    delta = delta.reshape('c', n, delta.length() / n).mulColumnVector(scale).reshape('c', x.shape());
    return box(xAdv, x, delta);
  }

  private static INDArray box(INDArray xAdv, INDArray x, INDArray delta) {
    INDArray out = x.add(delta);
    out = Transforms.min(Transforms.max(out, 0.0, false), 1.0, false);
    return xAdv.assign(out);
  }

  /**
   * Refuses an attack's {@code mask} unless it is {@code [n, c, h, w]} of {@code model}'s input
   * (any {@code n}: one mask for the batch, or one a row): a null one failed at the first step as a
   * NullPointerException inside ND4J, and one of the unpadded image's size (28x28 on a 32x32
   * input) in a broadcast message; neither said what a mask is.
   */
  static INDArray requireMask(INDArray mask, Classifier model) {
    long[] in = model.inputShape(1);
    if (mask == null || mask.rank() != 4 || mask.size(1) != in[1] || mask.size(2) != in[2] || mask.size(3) != in[3]) {
      throw new IllegalArgumentException("attack mask: " + (mask == null ? "null" : Tensors.shape(mask.shape()))
          + ", where the model's inputs are " + Tensors.shape(in) + ": 1 where pixels may change, 0 elsewhere"
          + " (Projection.contentMask: the image, not its padding)");
    }
    return mask;
  }

  /**
   * The mask of the image content in a model input of shape {@code [c, height, width]} (or
   * {@code [n, c, height, width]}, batch ignored) made from {@code contentHeight x contentWidth}
   * images: 1 where {@link Preprocess#padTo} puts pixels, 0 on the padding. Shape {@code [1, c,
   * height, width]}, {@code dt}.
   */
  public static INDArray contentMask(long[] inputShape, int contentHeight, int contentWidth, DataType dt) {
    int k = inputShape.length;
    long c = inputShape[k - 3];
    INDArray ones = Nd4j.ones(DataType.FLOAT, 1, c, contentHeight, contentWidth);
    return Preprocess.padTo(ones, (int) inputShape[k - 2], (int) inputShape[k - 1]).castTo(dt);
  }
}
