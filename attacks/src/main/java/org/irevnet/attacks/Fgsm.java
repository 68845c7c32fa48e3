package org.irevnet.attacks;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The fast gradient sign method (Goodfellow et al.): one step of length {@code eps} along the
 * sign of the input gradient of the loss (the cross-entropy in the original), {@code x' = clip(x + eps * sign(grad) * mask)}
 * (minus the sign for a targeted attack), projected into [0, 1].
 */
public final class Fgsm implements Attack {
  private final InputGradient gradient;
  private final INDArray mask;
  private final InputGradient.Loss loss;
  private final boolean targeted;

  public Fgsm(InputGradient gradient, INDArray mask, InputGradient.Loss loss, boolean targeted) {
    this.gradient = gradient;
    this.mask = mask;
    this.loss = loss;
    this.targeted = targeted;
  }

  @Override
  public INDArray perturb(INDArray x, int[] goals, double eps) {
    INDArray g = gradient.classification(loss, x, goals).grad();
    INDArray adv = x.add(Norm.LINF.direction(g, mask).muli(targeted ? -eps : eps));
    return Projection.linf(adv, x, eps, mask);
  }
}
