package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class EvaluationTest {

  /**
   * Evaluated in batches of 2 (the last one short), against the logits of all 5 images at once
   * with the loss, the confusion matrix and the accuracies counted here by hand. The labels are
   * chosen from the predictions so that some are right and some wrong, one class both.
   */
  @Test
  void batchedEvaluationCountsLikeOnePassOverTheWholeSplit() {
    InvertibleClassifier m = DensityTest.perturbed(DensityTest.FI, 3);
    Random r = new Random(11);
    float[] pixels = new float[5 * 64];
    for (int i = 0; i < pixels.length; i++) pixels[i] = r.nextFloat();
    var images = Nd4j.create(pixels, new long[] {5, 1, 8, 8}, DataType.FLOAT);
    double[][] logits = m.logits(images.castTo(DataType.DOUBLE)).toDoubleMatrix();
    int[] p = new int[5];
    for (int i = 0; i < 5; i++) {
      for (int k = 1; k < 10; k++) if (logits[i][k] > logits[i][p[i]]) p[i] = k;
    }
    int[] labels = {p[0], p[1], p[2] != p[0] ? p[0] : (p[0] + 1) % 10, (p[3] + 1) % 10, p[4]};
    List<String> names = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    Dataset data = new Dataset("t", images, labels, names);

    long[][] confusion = new long[10][10];
    double loss = 0;
    int correct = 0;
    for (int i = 0; i < 5; i++) {
      double z = 0;
      for (int k = 0; k < 10; k++) z += Math.exp(logits[i][k]);
      loss -= (logits[i][labels[i]] - Math.log(z)) / 5;
      confusion[labels[i]][p[i]]++;
      if (p[i] == labels[i]) correct++;
    }

    Evaluation.Result e = Evaluation.evaluate(m, data, 2, "test");
    assertThat(e.split()).isEqualTo("test");
    assertThat(e.count()).isEqualTo(5);
    assertThat(e.classNames()).isEqualTo(names);
    assertThat(e.confusion()).isEqualTo(confusion);
    assertThat(e.accuracy()).isEqualTo(correct / 5.0);
    assertThat(e.loss()).isCloseTo(loss, within(1e-12));
    for (int c = 0; c < 10; c++) {
      long inClass = java.util.Arrays.stream(confusion[c]).sum();
      if (inClass == 0) assertThat(e.perClassAccuracy()[c]).as("class " + c + " has no images").isNaN();
      else assertThat(e.perClassAccuracy()[c]).as("class " + c).isEqualTo((double) confusion[c][c] / inClass);
    }
    Evaluation.Result whole = Evaluation.evaluate(m, data, 5, "test");
    assertThat(whole.confusion()).as("in one batch").isEqualTo(confusion);
    assertThat(whole.loss()).isCloseTo(loss, within(1e-12));
  }
}
