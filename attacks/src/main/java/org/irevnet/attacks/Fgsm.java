package org.irevnet.attacks;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The fast gradient sign method (Goodfellow et al.): one step of length {@code eps} along the
 * sign of the input gradient of the cross-entropy, {@code x' = clip(x + eps * sign(grad) * mask)}
 * (minus the sign for a targeted attack), projected into [0, 1].
 */
public final class Fgsm implements Attack {
  private final InputGradient gradient;
  private final INDArray mask;
  private final boolean targeted;

  public Fgsm(InputGradient gradient, INDArray mask, boolean targeted) {
    this.gradient = gradient;
    this.mask = mask;
    this.targeted = targeted;
  }

  @Override
  public INDArray perturb(INDArray x, int[] goals, double eps) {
    INDArray g = gradient.crossEntropy(x, goals).grad();
    INDArray adv = x.add(Norm.LINF.direction(g, mask).muli(targeted ? -eps : eps));
    return Projection.linf(adv, x, eps, mask);
  }
}
