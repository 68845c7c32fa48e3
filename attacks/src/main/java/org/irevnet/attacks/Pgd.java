package org.irevnet.attacks;

import java.util.Random;
import java.util.stream.IntStream;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Projected gradient descent (Madry et al.) in the L-inf or L2 ball: from {@code x} (or a random
 * point of the ball), {@code steps} times {@code x <- project(x + stepSize * direction(grad))},
 * where the gradient is that of a {@link InputGradient.Loss} to the goal class (ascended when untargeted,
 * descended when targeted) and the direction is {@link Norm#direction}.
 *
 * <p>Each row's result is its first iterate (after at least one step) at which the attack
 * succeeds (untargeted: the model's class differs from the label; targeted: it is the target),
 * else the last iterate. Rows that succeeded leave the batch, and the attack stops early when
 * none is left or the iterates reach a fixed point. Random starts draw from {@code new
 * Random(seed)}, continued across calls.
 */
public final class Pgd implements Attack {
  private final InputGradient gradient;
  private final INDArray mask;
  private final Norm norm;
  private final InputGradient.Loss loss;
  private final int steps;
  private final double stepSize;
  private final boolean randomStart, targeted;
  private final Random rng;

  /**
   * @param stepSize absolute step length, or {@code NaN} for {@code 2.5 * eps / steps} (the usual choice)
   * @param mask 1 where pixels may change (see {@link Projection#contentMask})
   */
  public Pgd(InputGradient gradient, INDArray mask, Norm norm, InputGradient.Loss loss, int steps, double stepSize, boolean randomStart,
      boolean targeted, long seed) {
    checkSteps(steps, stepSize);
    this.gradient = gradient;
    this.mask = Projection.requireMask(mask, gradient.model());
    this.norm = norm;
    this.loss = loss;
    this.steps = steps;
    this.stepSize = stepSize;
    this.randomStart = randomStart;
    this.targeted = targeted;
    this.rng = new Random(seed);
  }

  /** The step length used for {@code eps}. */
  public double stepSize(double eps) {
    return stepSize(steps, stepSize, eps);
  }

  /**
   * Refuses fewer than one step and a step length that is not positive ({@code NaN}, the default,
   * passes): a zero step would leave {@code x} unchanged, a negative one would walk the wrong way.
   * Shared with {@link FeatureMatch}.
   */
  static void checkSteps(int steps, double stepSize) {
    if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
    if (stepSize <= 0) throw new IllegalArgumentException("--step-size must be positive, got " + stepSize);
  }

  /** {@code stepSize}, or {@code 2.5 * eps / steps} when it is {@code NaN}. Shared with {@link FeatureMatch}. */
  static double stepSize(int steps, double stepSize, double eps) {
    return Double.isNaN(stepSize) ? 2.5 * eps / steps : stepSize;
  }

  @Override
  public INDArray perturb(INDArray x, int[] goals, double eps) {
    return run(x, goals, null, eps);
  }

  /**
   * Steps as the targeted {@link #perturb} does, towards {@code targets}, but finishes each row at
   * its first iterate that the model no longer assigns to {@code labels[row]}, in the target
   * class or another: for an untargeted goal reached by a targeted path ({@link MultiTargeted}).
   */
  public INDArray perturbUntilMisclassified(INDArray x, int[] targets, int[] labels, double eps) {
    if (!targeted) throw new IllegalStateException("perturbUntilMisclassified needs a targeted Pgd");
    return run(x, targets, labels, eps);
  }

  /**
   * PGD towards or away from {@code goals}; a row finishes when {@link #succeeded}, or, given
   * {@code labels}, when misclassified.
   */
  private INDArray run(INDArray x, int[] goals, int[] labels, double eps) {
    double alpha = stepSize(eps);
    INDArray result = x.dup('c');
    // The rows still being attacked: their original indices, inputs, goals and iterates.
    int[] rows = IntStream.range(0, (int) x.size(0)).toArray();
    INDArray xs = x, adv = randomStart ? norm.randomStart(x, eps, mask, rng) : x.dup('c');
    int[] gs = goals;
    for (int t = 0; ; t++) {
      InputGradient.Step s = t < steps ? gradient.classification(loss, adv, gs) : null;
      // A row whose logits are not finite has no class (-1): misclassified, as Robustness counts it,
      // where argmax's class 0 kept attacking an image labelled 0 on NaN gradients to the last step.
      int[] cls = Losses.predictions(s != null ? s.output() : gradient.model().logits(adv));
      boolean[] finished = new boolean[rows.length];
      int left = 0;
      for (int j = 0; j < rows.length; j++) {
        finished[j] = t == steps || t > 0 && (labels == null ? succeeded(cls[j], gs[j]) : cls[j] != labels[rows[j]]);
        if (finished[j]) result.get(NDArrayIndex.point(rows[j])).assign(adv.get(NDArrayIndex.point(j)));
        else left++;
      }
      if (left == 0) return result;
      INDArray grad = s.grad();
      if (left < rows.length) {
        // Finished rows leave the batch: the remaining steps cost only what is still attacked.
        long[] keep = new long[left];
        int[] keptRows = new int[left], keptGoals = new int[left];
        for (int j = 0, k = 0; j < rows.length; j++) {
          if (finished[j]) continue;
          keep[k] = j;
          keptRows[k] = rows[j];
          keptGoals[k++] = gs[j];
        }
        grad = grad.get(NDArrayIndex.indices(keep)).dup('c');
        xs = xs.get(NDArrayIndex.indices(keep)).dup('c');
        adv = adv.get(NDArrayIndex.indices(keep)).dup('c');
        rows = keptRows;
        gs = keptGoals;
      }
      INDArray before = adv.dup('c');
      adv.addi(norm.direction(grad, mask).muli(targeted ? -alpha : alpha));
      norm.project(adv, xs, eps, mask);
      // Exact (INDArray.equals has a tolerance), and NaN-blind on purpose: a NaN where the iterate
      // was NaN is no move.
      if (adv.sub(before).amaxNumber().doubleValue() == 0) {
        // A fixed point (e.g. eps = 0, or every pixel at the edge of the ball and the box): the
        // remaining steps would repeat it exactly.
        for (int j = 0; j < rows.length; j++) result.get(NDArrayIndex.point(rows[j])).assign(adv.get(NDArrayIndex.point(j)));
        return result;
      }
    }
  }

  private boolean succeeded(int predicted, int goal) {
    return targeted ? predicted == goal : predicted != goal;
  }
}
