package org.irevnet.attacks;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.irevnet.models.Classifier;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * An untargeted attack made stronger by targeted runs (MultiTargeted, Gowal et al. 2019): first
 * the untargeted attack; then, for the inputs it left correctly classified, a targeted attack
 * towards each input's k-th most likely wrong class (at the clean input), k = 1, 2, ..., until
 * every input is misclassified or every class has been tried. An input counts as broken as soon
 * as the model's class differs from its label, whichever target got it there: each targeted run
 * keeps a row's first misclassified iterate, also when it is on the way to another class.
 *
 * <p>Why: the untargeted loss pushes along one direction that can stall (the runner-up's margin
 * flattens, or the cross-entropy saturates), while a margin to a fixed target keeps a useful
 * gradient; trying each class rules out that the target choice, not robustness, kept an input.
 */
public final class MultiTargeted implements Attack {
  private final Classifier model;
  private final Attack untargeted;
  private final Pgd targeted;

  /**
   * @param untargeted the attack run first, goals = labels
   * @param targeted the same attack in its targeted form
   */
  public MultiTargeted(Classifier model, Attack untargeted, Pgd targeted) {
    this.model = model;
    this.untargeted = untargeted;
    this.targeted = targeted;
  }

  @Override
  public INDArray perturb(INDArray x, int[] labels, double eps) {
    INDArray result = untargeted.perturb(x, labels, eps);
    int[] cls = Losses.predictions(model.logits(result)); // -1, no class, for non-finite logits: broken
    int[][] ranked = wrongClassesByLikelihood(model.logits(x), labels);
    for (int k = 0; k < ranked[0].length; k++) {
      List<Integer> left = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) if (cls[i] == labels[i]) left.add(i);
      if (left.isEmpty()) break;
      long[] rows = left.stream().mapToLong(Integer::longValue).toArray();
      int[] goals = new int[rows.length], rowLabels = new int[rows.length];
      for (int j = 0; j < rows.length; j++) {
        goals[j] = ranked[(int) rows[j]][k];
        rowLabels[j] = labels[(int) rows[j]];
      }
      INDArray adv = targeted.perturbUntilMisclassified(x.get(NDArrayIndex.indices(rows)).dup('c'), goals, rowLabels,
          eps);
      int[] advCls = Losses.predictions(model.logits(adv));
      for (int j = 0; j < rows.length; j++) {
        int i = (int) rows[j];
        if (advCls[j] != labels[i]) {
          result.get(NDArrayIndex.point(i)).assign(adv.get(NDArrayIndex.point(j)));
          cls[i] = advCls[j];
        }
      }
    }
    return result;
  }

  /** Per row, the classes other than the label, most likely first. */
  static int[][] wrongClassesByLikelihood(INDArray logits, int[] labels) {
    int n = labels.length, c = (int) logits.size(1);
    double[][] l = logits.toDoubleMatrix();
    int[][] out = new int[n][];
    for (int i = 0; i < n; i++) {
      final int row = i;
      out[i] = IntStream.range(0, c).filter(k -> k != labels[row]).boxed()
          .sorted((a, b) -> Double.compare(l[row][b], l[row][a])).mapToInt(Integer::intValue).toArray();
    }
    return out;
  }
}
