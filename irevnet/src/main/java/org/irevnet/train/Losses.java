package org.irevnet.train;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Loss functions with their gradients, as plain ND4J arithmetic (batch means). */
public final class Losses {
  private Losses() {}

  /** A loss value and its gradient with respect to the loss's input. */
  public record LossGrad(double loss, INDArray grad) {}

  /** Rows of log-softmax, computed stably (max subtracted). */
  public static INDArray logSoftmax(INDArray logits) {
    INDArray shifted = logits.sub(logits.max(1).reshape(logits.size(0), 1));
    INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(logits.size(0), 1);
    return shifted.subi(lse);
  }

  /**
   * Mean softmax cross-entropy against target distributions (rows summing to one), one row per row
   * of {@code logits}.
   */
  public static LossGrad softmaxCrossEntropy(INDArray logits, INDArray targets) {
    // ND4J broadcasts a row of targets over every row of logits: a loss of another batch's targets
    // (a caller's training loop, an attack given one goal for a batch) was computed without a word.
    if (!java.util.Arrays.equals(logits.shape(), targets.shape())) {
      throw new IllegalArgumentException("softmax cross-entropy: targets of shape " + Tensors.shape(targets.shape())
          + " for logits of shape " + Tensors.shape(logits.shape()));
    }
    long n = logits.size(0);
    // Dense copies of column-major logits or targets: the loss's sum ran in their order, and moved
    // in the last bit (9e-16) from the same call on row-major copies. Dense ones are used as is.
    INDArray logp = logSoftmax(Tensors.dense(logits));
    double loss = -logp.mul(Tensors.dense(targets)).sumNumber().doubleValue() / n;
    INDArray grad = Transforms.exp(logp, false).subi(targets).divi(n);
    return new LossGrad(loss, grad);
  }

  /** Mean softmax cross-entropy against integer labels, one per row of {@code logits}. */
  public static LossGrad softmaxCrossEntropy(INDArray logits, int[] labels) {
    if (logits.rank() != 2 || labels.length != logits.size(0)) {
      throw new IllegalArgumentException("softmax cross-entropy: " + labels.length + " labels for logits of shape "
          + Tensors.shape(logits.shape()));
    }
    return softmaxCrossEntropy(logits, Tensors.oneHot(labels, (int) logits.size(1), logits.dataType()));
  }

  /** Row-wise argmax. */
  public static int[] argmax(INDArray logits) {
    return logits.argMax(1).toIntVector();
  }

  /**
   * Row-wise argmax, -1 for a row with a non-finite logit: such a row has no prediction (a model
   * with finite weights can overflow), and ND4J's argmax of a NaN row is class 0.
   */
  public static int[] predictions(INDArray logits) {
    INDArray classes = logits.argMax(1);
    int[] pred = classes.toIntVector();
    Tensors.free(classes, null);
    // One flat copy of the values, freed here: toDoubleMatrix made a native copy of every row,
    // left to the collector (about 8 MB for 20,000 x 10 logits, SoftmaxRegressionTest), and
    // toDoubleVector would make one of the whole. A fresh flattened array's buffer holds its
    // values in order.
    INDArray flat = Nd4j.toFlattened('c', logits);
    double[] values = flat.data().asDouble();
    Tensors.free(flat, logits);
    int width = pred.length == 0 ? 0 : values.length / pred.length;
    for (int i = 0; i < pred.length; i++) {
      for (int k = 0; k < width; k++) {
        if (!Double.isFinite(values[i * width + k])) pred[i] = -1;
      }
    }
    return pred;
  }

  /**
   * The fraction of rows of {@code logits} whose argmax is the label (NaN for no rows); a row
   * without a prediction ({@link #predictions}) counts as wrong.
   */
  public static double accuracy(INDArray logits, int[] labels) {
    return accuracy(predictions(logits), labels);
  }

  /** The fraction of {@code predicted} equal to {@code labels} (NaN for none). */
  public static double accuracy(int[] predicted, int[] labels) {
    if (predicted.length != labels.length) {
      throw new IllegalArgumentException("accuracy: " + predicted.length + " predictions for " + labels.length + " labels");
    }
    int ok = 0;
    for (int i = 0; i < labels.length; i++) if (predicted[i] == labels[i]) ok++;
    return labels.length == 0 ? Double.NaN : (double) ok / labels.length;
  }
}
