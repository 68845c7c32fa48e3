package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.NativeHeap;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class EvaluationTest {

  /** A 10-output model on 3 classes gave a 10x10 confusion matrix under 3 class names. */
  @Test
  void classesThatAreNotTheModelsOutputsAreRefused() {
    InvertibleClassifier m = DensityTest.perturbed(DensityTest.FI, 3);
    var images = Nd4j.zeros(DataType.FLOAT, 2, 1, 8, 8);
    for (int classes : new int[] {3, 11}) {
      List<String> names = java.util.stream.IntStream.range(0, classes).mapToObj(i -> "c" + i).toList();
      assertThatThrownBy(() -> Evaluation.evaluate(m, new Dataset("t", images, new int[] {0, 2}, names), 2, "test"))
          .hasMessage("t: " + classes + " classes, the model has 10 outputs");
    }
  }

  /** A batch of no image is refused naming the batch: it failed as "rows [0, 0) of an array of shape ...". */
  @Test
  void aBatchOfNoImageIsRefusedNamingTheBatch() {
    InvertibleClassifier m = DensityTest.perturbed(DensityTest.FI, 3);
    Dataset d = new Dataset("t", Nd4j.zeros(DataType.FLOAT, 2, 1, 8, 8), new int[] {0, 2}, Datasets.FASHION_MNIST_CLASSES);
    for (int batch : new int[] {0, -1}) {
      assertThatThrownBy(() -> Evaluation.evaluate(m, d, batch, "test")).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("evaluation: the batch must be at least 1 image, got " + batch);
    }
    assertThat(Evaluation.evaluate(m, d, 1, "test").count()).isEqualTo(2);
  }

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

  /**
   * A model with finite weights can still overflow: this one's, scaled by 1600, give NaN logits
   * for images of random pixels and finite ones for blank images (found by trying scales). Such a
   * row has no prediction: it counts as wrong and is counted, and stays out of the confusion
   * matrix. Losses.argmax (ND4J's argMax) makes a NaN row class 0, so each such image, labelled 0
   * here, counted as a hit: accuracy 1. The expected values come from the logits of each image
   * alone, checked for finiteness here.
   */
  @Test
  void imagesWithNonFiniteLogitsCountAsWrongAndAreCounted() {
    InvertibleClassifier m = DensityTest.perturbed(DensityTest.FI, 3);
    for (Param p : m.params().entries().values()) if (p.trainable()) p.set(p.value().mul(1600));
    Random r = new Random(11);
    float[] pixels = new float[6 * 64];
    for (int i = 2 * 64; i < pixels.length; i++) pixels[i] = r.nextFloat(); // images 0 and 1 blank
    var images = Nd4j.create(pixels, new long[] {6, 1, 8, 8}, DataType.FLOAT);
    int[] labels = new int[6];
    int finite = 0;
    long[][] confusion = new long[10][10];
    for (int i = 0; i < 6; i++) {
      double[] row = m.logits(images.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).castTo(DataType.DOUBLE))
          .toDoubleMatrix()[0];
      if (java.util.Arrays.stream(row).allMatch(Double::isFinite)) {
        int p = 0;
        for (int k = 1; k < 10; k++) if (row[k] > row[p]) p = k;
        labels[i] = p; // right
        confusion[p][p]++;
        finite++;
      }
    }
    assertThat(finite).as("some rows finite, some not").isBetween(1, 5);

    Evaluation.Result e = Evaluation.evaluate(m, new Dataset("t", images, labels,
        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), 4, "test");
    assertThat(e.nonFinite()).isEqualTo(6 - finite);
    assertThat(e.accuracy()).isEqualTo(finite / 6.0);
    assertThat(e.confusion()).isEqualTo(confusion);
    long inClass0 = java.util.Arrays.stream(labels).filter(y -> y == 0).count();
    assertThat(e.perClassAccuracy()[0]).as("class 0, its non-finite images included").isEqualTo(confusion[0][0] / (double) inClass0);
    for (int c = 0; c < 10; c++) {
      int cls = c;
      assertThat(e.perClassCount()[c]).as("class " + c + ": its images, with and without a prediction")
          .isEqualTo(java.util.Arrays.stream(labels).filter(y -> y == cls).count());
    }
    assertThat(e.loss()).as("the cross-entropy of a NaN row").isNaN();
  }

  /** An epoch line names the images without a prediction when there are any, so a NaN loss is explained; else no key. */
  @Test
  void epochLinesCountNonFiniteLogitsOnlyWhenThereAreAny() {
    List<String> names = List.of("a", "b");
    Evaluation.Result clean = new Evaluation.Result("test", 4, 0.5, 0.7, new double[] {0.5, 0.5},
        new long[][] {{1, 1}, {1, 1}}, names, 0, new long[] {2, 2});
    Evaluation.Result two = new Evaluation.Result("test", 4, 0.25, Double.NaN, new double[] {0.5, 0},
        new long[][] {{1, 1}, {0, 0}}, names, 2, new long[] {2, 2});
    assertThat(Trainer.epochLine(8, 1, clean)).doesNotContainKey("test_non_finite_logits");
    assertThat(Trainer.epochLine(8, 1, two)).containsEntry("test_non_finite_logits", 2);
    java.util.Map<String, Object> line = new java.util.HashMap<>();
    Trainer.putValidation(line, clean);
    assertThat(line).doesNotContainKey("validation_non_finite_logits");
    assertThat(Trainer.putValidation(line, two)).isEqualTo(0.25);
    assertThat(line).containsEntry("validation_non_finite_logits", 2);
  }

  /**
   * An evaluation frees each batch's copy and what the model makes for its logits (the body's
   * output, the readout's activations) now, not when the collector finds them: 500 images at
   * irevnet-s kept 8.5 MB (17 KB an image) that way.
   */
  @Test
  void anEvaluationLeavesNoBatchArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 0);
    Dataset data = TinyData.splitFor(m, 500);
    Evaluation.evaluate(m, data, 250, "test");
    List<Long> kept = KeptBytes.of(5, run -> Evaluation.evaluate(m, data, 250, "test"));
    assertThat(KeptBytes.middle(kept)).as("native bytes each evaluation kept: %s", kept).isLessThan(3L << 20);
  }
}
