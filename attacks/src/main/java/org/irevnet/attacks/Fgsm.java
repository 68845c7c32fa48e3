package org.irevnet.attacks;

import java.util.Arrays;
import org.irevnet.nn.Tensors;
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

  /**
   * @param mask 1 where pixels may change ({@link Projection#contentMask}: the image, not the padding)
   * @param targeted whether {@link #perturb}'s goals are target classes (stepped towards) rather than
   *     labels (stepped away from)
   */
  public Fgsm(InputGradient gradient, INDArray mask, InputGradient.Loss loss, boolean targeted) {
    this.gradient = gradient;
    this.mask = Projection.requireMask(mask, gradient.model());
    this.loss = loss;
    this.targeted = targeted;
  }

  /** The last gradient's input (the caller's array, and a copy to see it unchanged), goals and gradient. */
  private INDArray lastX, lastXCopy, lastGrad;
  private int[] lastGoals;

  @Override
  public INDArray perturb(INDArray x, int[] goals, double eps) {
    INDArray g = gradientAt(x, goals);
    INDArray adv = x.add(Norm.LINF.direction(g, mask).muli(targeted ? -eps : eps));
    return Projection.linf(adv, x, eps, mask);
  }

  /**
   * The input gradient at {@code x}, which no epsilon changes: an epsilon sweep ({@link
   * Robustness#run}) perturbs the same batch array at every epsilon, and computed the same
   * gradient for each (four times in the quickstart's sweep). Reused only for the same array, with
   * the same contents bit for bit, and the same goals.
   */
  private INDArray gradientAt(INDArray x, int[] goals) {
    // A NaN anywhere makes maxAbs NaN: computed again.
    boolean same = x == lastX && Arrays.equals(goals, lastGoals) && Tensors.maxAbs(x.sub(lastXCopy)) == 0;
    if (!same) {
      lastGrad = gradient.classification(loss, x, goals).grad();
      lastX = x;
      lastXCopy = x.dup();
      lastGoals = goals.clone();
    }
    return lastGrad;
  }
}
