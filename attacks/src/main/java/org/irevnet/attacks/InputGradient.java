package org.irevnet.attacks;

import org.irevnet.host.Host;
import org.irevnet.models.Classifier;
import org.irevnet.nn.NativeHeap;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gradients of losses with respect to a model's input ({@link Classifier#logitGradient}, {@link
 * Classifier#layerGradient}): for invertible models through the reversible backward pass, for
 * DL4J networks through DL4J's layers. The model runs in evaluation mode and is left unchanged
 * (parameters, buffers, and for invertible models parameter gradients), so attacks never leak
 * into an optimiser.
 */
public final class InputGradient {
  /**
   * Gradient calls between garbage collections. Each call leaves arrays outside the block
   * workspaces, whose native memory is freed only when the collector finds their Java wrappers
   * (see {@link Host#collectGarbage}); attacks call this hundreds of times without the periodic
   * collection training has, and the quickstart's PGD sweep on the iCE model grew to 6 GB. Still
   * needed now that the passes free what they make, as the attacks' own steps do not: without it
   * PGD on 256 images of the quickstart's CE model peaked at 1,164-1,198 MB against 764-813, in the
   * same time.
   */
  private static final int GC_EVERY = 5;
  /**
   * Gradient calls between giving glibc's free pages back ({@link NativeHeap#trim}). A call frees
   * what it makes, yet glibc kept 300-450 MB of it resident in fragmented heaps: PGD on 256 images
   * of the quickstart's models peaked at 700-850 MB, with a trim every 25 calls at 518-572 (2-4% more
   * time; every 5 calls 498-540, 11% more).
   */
  private static final int TRIM_EVERY = 25;
  private final Classifier model;
  private long calls;

  /**
   * What the loss was computed from ({@code output}: the logits, or the representation) and the
   * loss gradient with respect to the inputs.
   */
  public record Step(INDArray output, INDArray grad) {}

  /** Gradients of {@code model}: an invertible one or a DL4J network ({@code Dl4jClassifier}). */
  public InputGradient(Classifier model) {
    this.model = model;
  }

  public Classifier model() {
    return model;
  }

  /** Classification losses of the logits and a goal class per row, summed over rows (not averaged). */
  public enum Loss {
    /** Softmax cross-entropy {@code CE(logits_i, goal_i)}. */
    CE,
    /**
     * The margin (Carlini-Wagner) loss {@code max_{j != goal_i} logit_j - logit_goal_i}: positive
     * exactly when the goal class is not the model's class. Unlike the cross-entropy it does not
     * saturate for confidently classified inputs, whose softmax rounds to one-hot.
     */
    MARGIN;

    /**
     * The loss gradient to the logits. A row with a NaN or infinite logit has no class ({@link
     * Losses#predictions}) and gets none: ND4J's argmax made class 0 of a NaN row the runner-up,
     * and for goal 0 the margin gradient then raised the goal's own logit.
     */
    INDArray gradient(INDArray logits, int[] goals) {
      int[] classes = Losses.predictions(logits);
      if (this == CE) {
        INDArray d = Losses.softmaxCrossEntropy(logits, goals).grad().muli(logits.size(0));
        for (int i = 0; i < goals.length; i++) if (classes[i] < 0) d.getRow(i).assign(0);
        return d;
      }
      INDArray d = Nd4j.zeros(logits.dataType(), logits.shape());
      INDArray others = logits.dup();
      for (int i = 0; i < goals.length; i++) others.putScalar(i, goals[i], Double.NEGATIVE_INFINITY);
      int[] runnerUp = Losses.argmax(others);
      for (int i = 0; i < goals.length; i++) {
        if (classes[i] < 0) continue;
        d.putScalar(i, goals[i], -1.0);
        d.putScalar(i, runnerUp[i], 1.0);
      }
      return d;
    }
  }

  /**
   * The logits of {@code x} and the gradient of {@code loss} to the goal classes, summed over rows,
   * so each row's gradient does not depend on the batch size.
   */
  public Step classification(Loss loss, INDArray x, int[] goals) {
    // Fewer goals than images were taken without a word: the cross-entropy's one-hot row broadcast
    // over the batch (FGSM pushed every image away from the first goal), the margin gave the rows
    // past the goals no gradient.
    if (x.rank() == 0 || goals.length != x.size(0)) {
      throw new IllegalArgumentException("attack: " + goals.length + " goal classes for " + (x.rank() == 0 ? 0 : x.size(0))
          + " images (one a row: its label, or its target class)");
    }
    Classifier.Gradient g = model.logitGradient(x, logits -> loss.gradient(logits, goals));
    collectGarbage();
    return new Step(g.output(), g.dx());
  }

  /**
   * The representation {@code h(x)} at probed layer {@code layer} and the gradient of {@code
   * sum_i ||h(x_i) - target_i||^2}.
   */
  public Step featureDistance(int layer, INDArray x, INDArray target) {
    Classifier.Gradient g = model.layerGradient(x, layer, h -> h.sub(target.reshape(h.shape())).muli(2));
    collectGarbage();
    return new Step(g.output(), g.dx());
  }

  private void collectGarbage() {
    Host.collectGarbage(++calls, GC_EVERY);
    if (calls % TRIM_EVERY == 0) NativeHeap.trim();
  }

  /** Row-wise squared distances {@code ||a_i - b_i||^2}, float64 {@code [n]}. */
  public static double[] squaredDistances(INDArray a, INDArray b) {
    INDArray n = Norm.rowNorms(a.sub(b.reshape(a.shape())), Norm.L2);
    return n.muli(n).toDoubleVector();
  }
}
