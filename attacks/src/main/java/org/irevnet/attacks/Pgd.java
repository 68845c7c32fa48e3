package org.irevnet.attacks;

import java.util.Random;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Projected gradient descent (Madry et al.) in the L-inf or L2 ball: from {@code x} (or a random
 * point of the ball), {@code steps} times {@code x <- project(x + stepSize * direction(grad))},
 * where the gradient is that of the cross-entropy to the goal class (ascended when untargeted,
 * descended when targeted) and the direction is {@link Norm#direction}.
 *
 * <p>Each row's result is its first iterate (after at least one step) at which the attack
 * succeeds (untargeted: the model's class differs from the label; targeted: it is the target),
 * else the last iterate. A batch stops early once every row has succeeded. Random starts draw
 * from {@code new Random(seed)}, continued across calls.
 */
public final class Pgd implements Attack {
  private final InputGradient gradient;
  private final INDArray mask;
  private final Norm norm;
  private final int steps;
  private final double stepSize;
  private final boolean randomStart, targeted;
  private final Random rng;

  /**
   * @param stepSize absolute step length, or {@code NaN} for {@code 2.5 * eps / steps} (the usual choice)
   * @param mask 1 where pixels may change (see {@link Projection#contentMask})
   */
  public Pgd(InputGradient gradient, INDArray mask, Norm norm, int steps, double stepSize, boolean randomStart,
      boolean targeted, long seed) {
    if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
    if (stepSize <= 0) throw new IllegalArgumentException("--step-size must be positive, got " + stepSize);
    this.gradient = gradient;
    this.mask = mask;
    this.norm = norm;
    this.steps = steps;
    this.stepSize = stepSize;
    this.randomStart = randomStart;
    this.targeted = targeted;
    this.rng = new Random(seed);
  }

  /** The step length used for {@code eps}. */
  public double stepSize(double eps) {
    return Double.isNaN(stepSize) ? 2.5 * eps / steps : stepSize;
  }

  @Override
  public INDArray perturb(INDArray x, int[] goals, double eps) {
    int n = (int) x.size(0);
    double alpha = stepSize(eps);
    INDArray adv = randomStart ? norm.randomStart(x, eps, mask, rng) : x.dup('c');
    INDArray result = x.dup('c');
    boolean[] done = new boolean[n];
    int remaining = n;
    for (int t = 0; ; t++) {
      InputGradient.Step s = t < steps ? gradient.crossEntropy(adv, goals) : null;
      int[] cls = Losses.argmax(s != null ? s.output() : gradient.model().logits(adv));
      if (t > 0) {
        for (int i = 0; i < n; i++) {
          if (done[i] || !succeeded(cls[i], goals[i]) && t < steps) continue;
          if (!done[i]) remaining--;
          done[i] = true;
          result.get(NDArrayIndex.point(i)).assign(adv.get(NDArrayIndex.point(i)));
        }
      }
      if (t == steps || remaining == 0) return result;
      INDArray dir = norm.direction(s.grad(), mask);
      adv.addi(dir.muli(targeted ? -alpha : alpha));
      norm.project(adv, x, eps, mask);
    }
  }

  private boolean succeeded(int predicted, int goal) {
    return targeted ? predicted == goal : predicted != goal;
  }
}
