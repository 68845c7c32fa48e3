package org.irevnet.attacks;

import java.util.ArrayList;
import java.util.List;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Param;
import org.irevnet.layers.Sequential;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gradients of losses with respect to a model's input, through the reversible backward pass
 * ({@link InvertibleClassifier#backward}, {@link Sequential#backward}): no separate autodiff graph.
 * The model runs in evaluation mode (BatchNorm of the i-RevNet readout uses its running
 * statistics; nothing is initialised from data). The backward passes also accumulate parameter
 * gradients; this class puts every parameter gradient back to the value it had when the object
 * was made, after every call, so attacks never leak into an optimiser.
 */
public final class InputGradient {
  private final InvertibleClassifier model;
  private final List<Param> params = new ArrayList<>();
  private final List<INDArray> saved = new ArrayList<>();

  /**
   * What the loss was computed from ({@code output}: the logits, or the representation) and the
   * loss gradient with respect to the inputs.
   */
  public record Step(INDArray output, INDArray grad) {}

  public InputGradient(InvertibleClassifier model) {
    this.model = model;
    for (Param p : model.params().entries().values()) {
      if (!p.trainable()) continue;
      params.add(p);
      saved.add(p.grad().dup());
    }
  }

  public InvertibleClassifier model() {
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

    INDArray gradient(INDArray logits, int[] goals) {
      if (this == CE) return Losses.softmaxCrossEntropy(logits, goals).grad().muli(logits.size(0));
      INDArray d = Nd4j.zeros(logits.dataType(), logits.shape());
      INDArray others = logits.dup();
      for (int i = 0; i < goals.length; i++) others.putScalar(i, goals[i], Double.NEGATIVE_INFINITY);
      int[] runnerUp = Losses.argmax(others);
      for (int i = 0; i < goals.length; i++) {
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
    InvertibleClassifier.Forward f = model.forward(x, false);
    INDArray dx = model.backward(f, loss.gradient(f.logits(), goals), null, null).dx();
    restore();
    return new Step(f.logits(), dx);
  }

  /**
   * The first {@code blocks} blocks of the model's body (e.g. up to the end of a stage, see
   * {@link InvertibleClassifier#stageEnds()}): the map {@code x -> h(x)} of the representation at
   * that point, sharing the model's blocks and parameters.
   */
  public Sequential prefix(int blocks) {
    Sequential body = model.body();
    if (blocks < 1 || blocks > body.blocks().size()) {
      throw new IllegalArgumentException("prefix of " + blocks + " blocks: the body has " + body.blocks().size());
    }
    Sequential.Builder b = Sequential.builder(model.inputShape(1));
    for (int i = 0; i < blocks; i++) b.add(body.names().get(i), body.blocks().get(i));
    return b.build();
  }

  /** The representation {@code h(x)} and the gradient of {@code sum_i ||h(x_i) - target_i||^2}. */
  public Step featureDistance(Sequential prefix, INDArray x, INDArray target) {
    Flow f = prefix.forward(x);
    INDArray diff = f.out().sub(target.reshape(f.out().shape()));
    INDArray dx = prefix.backward(f.out(), diff.muli(2), Nd4j.zeros(x.dataType(), x.size(0))).dx();
    restore();
    return new Step(f.out(), dx);
  }

  /** Row-wise squared distances {@code ||a_i - b_i||^2}, float64 {@code [n]}. */
  public static double[] squaredDistances(INDArray a, INDArray b) {
    INDArray n = Norm.rowNorms(a.sub(b.reshape(a.shape())), Norm.L2);
    return n.muli(n).toDoubleVector();
  }

  private void restore() {
    for (int i = 0; i < params.size(); i++) params.get(i).grad().assign(saved.get(i));
  }
}
