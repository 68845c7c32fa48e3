package org.irevnet.train;

import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.models.Classifier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Test-set evaluation of a classifier (evaluation mode: BatchNorm uses running statistics). */
public final class Evaluation {
  private Evaluation() {}

  /**
   * @param confusion {@code confusion[true][predicted]} counts
   */
  public record Result(String split, int count, double accuracy, double loss, double[] perClassAccuracy,
      long[][] confusion, List<String> classNames) {}

  public static Result evaluate(Classifier model, Dataset data, int batch, String split) {
    int n = data.size();
    int k = model.numClasses();
    long[][] confusion = new long[k][k];
    double lossSum = 0;
    int correct = 0;
    for (int start = 0; start < n; start += batch) {
      int end = Math.min(n, start + batch);
      INDArray x = data.images().get(NDArrayIndex.interval(start, end)).dup('c');
      int[] y = java.util.Arrays.copyOfRange(data.labels(), start, end);
      INDArray logits = model.logits(x.castTo(model.dataType()));
      lossSum += Losses.softmaxCrossEntropy(logits, y).loss() * (end - start);
      int[] pred = Losses.argmax(logits);
      for (int i = 0; i < y.length; i++) {
        confusion[y[i]][pred[i]]++;
        if (pred[i] == y[i]) correct++;
      }
    }
    double[] perClass = new double[k];
    for (int c = 0; c < k; c++) {
      long total = 0;
      for (long v : confusion[c]) total += v;
      perClass[c] = total == 0 ? Double.NaN : (double) confusion[c][c] / total;
    }
    return new Result(split, n, n == 0 ? Double.NaN : (double) correct / n, lossSum / Math.max(1, n), perClass,
        confusion, data.classNames());
  }
}
