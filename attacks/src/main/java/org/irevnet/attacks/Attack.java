package org.irevnet.attacks;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A perturbation attack on a batch: adversarial versions of clean inputs within a norm ball.
 * Implementations keep the model in evaluation mode and leave its parameters and parameter
 * gradients as they found them.
 */
public interface Attack {

  /**
   * Adversarial inputs for {@code x}.
   *
   * @param x clean inputs {@code [n, c, h, w]} in [0, 1], the model's dtype
   * @param goals one class per row: the true label (untargeted attacks move away from it) or the
   *     target class (targeted attacks move towards it)
   * @param eps radius of the ball around {@code x}, in the attack's norm
   * @return a new array of {@code x}'s shape: within {@code eps} of {@code x}, inside [0, 1], and
   *     equal to {@code x} where the attack's mask is 0 (for {@code eps = 0}: {@code x} exactly)
   */
  INDArray perturb(INDArray x, int[] goals, double eps);
}
