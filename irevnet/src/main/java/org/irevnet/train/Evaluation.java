package org.irevnet.train;

import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.models.Classifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Test-set evaluation of a classifier (evaluation mode: BatchNorm uses running statistics). */
public final class Evaluation {
  private Evaluation() {}

  /**
   * @param accuracy the fraction of the {@code count} images predicted right; an image with a
   *     non-finite logit has no prediction and counts as wrong
   * @param loss the mean cross-entropy, NaN when any image's logits are not finite
   * @param perClassAccuracy per true class, over all its images (those without a prediction included)
   * @param confusion {@code confusion[true][predicted]} counts of the images with a prediction, so
   *     a row sums to fewer than the class's images when {@code nonFinite > 0}
   * @param nonFinite images whose logits are not all finite (a model with finite weights can
   *     overflow): counted as wrong rather than as ND4J's argmax of a NaN row, class 0
   * @param perClassCount images per true class, those without a prediction included: what {@code
   *     perClassAccuracy} is a fraction of, which a confusion row undercounts when {@code nonFinite > 0}
   */
  public record Result(String split, int count, double accuracy, double loss, double[] perClassAccuracy,
      long[][] confusion, List<String> classNames, int nonFinite, long[] perClassCount) {}

  /**
   * Evaluates {@code model} on {@code data}, whose images must be laid on the model's input as
   * training laid them ({@link TrainedRun#prepare}, {@link Trainer#prepare}).
   *
   * @param batch images a forward pass: it bounds memory, and the counts do not depend on it
   * @param split the name {@link Result#split} carries (test, validation)
   */
  public static Result evaluate(Classifier model, Dataset data, int batch, String split) {
    // A batch of 0 failed as "rows [0, 0) of an array of shape ...", which named no batch.
    if (batch < 1) throw new IllegalArgumentException("evaluation: the batch must be at least 1 image, got " + batch);
    int n = data.size();
    int k = model.numClasses();
    // The matrix is k x k and labelled by the data's class names: they must be as many.
    if (data.numClasses() != k) {
      throw new IllegalArgumentException(data.name() + ": " + data.numClasses() + " classes, the model has " + k
          + " outputs");
    }
    long[][] confusion = new long[k][k];
    long[] inClass = new long[k];
    double lossSum = 0;
    int correct = 0, nonFinite = 0;
    for (int start = 0; start < n; start += batch) {
      int end = Math.min(n, start + batch);
      // Not get(interval): of a caller's view of images it is empty near the view's end.
      INDArray rows = Tensors.rows(data.images(), start, end).dup('c'), x = rows.castTo(model.dataType());
      int[] y = java.util.Arrays.copyOfRange(data.labels(), start, end);
      INDArray logits = model.logits(x);
      Losses.LossGrad ce = Losses.softmaxCrossEntropy(logits, y);
      lossSum += ce.loss() * (end - start);
      int[] pred = Losses.predictions(logits);
      // Freed now, not left to the collector: the batch's copy is the size of its images.
      Tensors.freeAll(ce.grad(), logits, x, rows); // x is rows where the model's type is the images'
      for (int i = 0; i < y.length; i++) {
        inClass[y[i]]++;
        if (pred[i] < 0) {
          nonFinite++;
          continue;
        }
        confusion[y[i]][pred[i]]++;
        if (pred[i] == y[i]) correct++;
      }
    }
    double[] perClass = new double[k];
    for (int c = 0; c < k; c++) perClass[c] = inClass[c] == 0 ? Double.NaN : (double) confusion[c][c] / inClass[c];
    return new Result(split, n, n == 0 ? Double.NaN : (double) correct / n, lossSum / Math.max(1, n), perClass,
        confusion, data.classNames(), nonFinite, inClass);
  }
}
