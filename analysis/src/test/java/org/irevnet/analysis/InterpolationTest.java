package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

class InterpolationTest {

  static INDArray image(INDArray images, int i) {
    return images.get(NDArrayIndex.interval(i, i + 1)).dup('c');
  }

  static double maxDiff(INDArray a, INDArray b) {
    return Tensors.maxAbs(a.sub(b));
  }

  @Test
  void fullPathEndpointsReproduceTheImages() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray xs = MetamerSamplerTest.images(DataType.DOUBLE, 1, 2), x0 = image(xs, 0), x1 = image(xs, 1);
    Interpolation.Path p = Interpolation.full(m, x0, x1, 5);
    assertThat(p.alphas()).containsExactly(0, 0.25, 0.5, 0.75, 1);
    assertThat(p.images().shape()).containsExactly(5, 1, 32, 32);
    assertThat(maxDiff(image(p.images(), 0), x0)).isLessThan(1e-10);
    assertThat(maxDiff(image(p.images(), 4), x1)).isLessThan(1e-10);
    assertThat(maxDiff(image(p.images(), 2), x0)).isGreaterThan(0.05);
    assertThat(maxDiff(image(p.images(), 2), x1)).isGreaterThan(0.05);
    assertThat(java.util.Arrays.stream(p.reencodeError()).max().getAsDouble()).isLessThan(1e-10);
    assertThat(p.maxLogitDrift()[0]).isLessThan(1e-10);
    assertThat(p.maxLogitDrift()[4]).isGreaterThan(0.01);
    int[] classes = org.irevnet.train.Losses.argmax(m.logits(p.images()));
    assertThat(p.classes()).containsExactly(classes);
    assertThat(java.util.Arrays.stream(p.probabilities()).min().getAsDouble()).isBetween(0.1, 1.0);
  }

  @Test
  void nuisancePathKeepsTheLogitsAndEndsAtTheMetamer() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray xs = MetamerSamplerTest.images(DataType.DOUBLE, 1, 2), x0 = image(xs, 0), x1 = image(xs, 1);
    Interpolation.Path p = Interpolation.nuisance(m, x0, x1, 4);
    assertThat(maxDiff(image(p.images(), 0), x0)).isLessThan(1e-10);
    INDArray metamer = MetamerSampler.sample(m, x0, x1).metamers();
    assertThat(maxDiff(image(p.images(), 3), metamer)).isLessThan(1e-10);
    assertThat(maxDiff(image(p.images(), 3), x1)).isGreaterThan(0.01);
    assertThat(java.util.Arrays.stream(p.maxLogitDrift()).max().getAsDouble()).isLessThan(1e-10);
    assertThat(p.classes()).containsOnly(p.classes()[0]);
  }

  @Test
  void injectiveIRevNetUsesTheLeftInverseAndRefusesTheNuisancePath() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s-inj"), DataType.DOUBLE, 1);
    Random r = new Random(2);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(DataType.DOUBLE, r, 0.05, p.value().shape()));
    }
    INDArray xs = MetamerSamplerTest.images(DataType.DOUBLE, 1, 2), x0 = image(xs, 0), x1 = image(xs, 1);
    Interpolation.Path p = Interpolation.full(m, x0, x1, 3);
    assertThat(maxDiff(image(p.images(), 0), x0)).isLessThan(1e-10);
    assertThat(maxDiff(image(p.images(), 2), x1)).isLessThan(1e-10);
    assertThat(p.reencodeError()[0]).isLessThan(1e-10);
    assertThat(p.reencodeError()[2]).isLessThan(1e-10);
    // The midpoint of two representations need not be a representation of any image.
    assertThat(p.reencodeError()[1]).isGreaterThan(1e-6);
    assertThatThrownBy(() -> Interpolation.nuisance(m, x0, x1, 3)).hasMessage("the nuisance path needs a fully"
        + " invertible (fi-revnet) model, whose z_n it moves; '" + m.architecture().name() + "' is irevnet");
    assertThatThrownBy(() -> Interpolation.full(m, xs, x1, 3)).hasMessageContaining("one image");
    assertThatThrownBy(() -> Interpolation.alphas(1)).hasMessageContaining("at least 2");
    assertThat(Interpolation.alphas(2)).containsExactly(0, 1);
  }

  /** An injective fi-revnet's nuisance path would not keep the logits (its inverse drops padding): refused. */
  @Test
  void injectiveFiRevNetHasAFullPathButNoNuisancePath() {
    InvertibleClassifier m = MetamerSamplerTest.injectiveFiRevNet();
    INDArray xs = org.irevnet.nn.Init.uniform(DataType.DOUBLE, new Random(5), 0.5, 2, 1, 8, 8).addi(0.5),
        x0 = image(xs, 0), x1 = image(xs, 1);
    Interpolation.Path p = Interpolation.full(m, x0, x1, 3);
    assertThat(maxDiff(image(p.images(), 0), x0)).isLessThan(1e-10);
    assertThatThrownBy(() -> Interpolation.nuisance(m, x0, x1, 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'fi-inj' is injective");
  }

  /** A path through NaN images has no classes (-1) and no probabilities (NaN), not class 0. */
  @Test
  void stepsWithNonFiniteLogitsHaveNoClass() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray xs = MetamerSamplerTest.images(DataType.DOUBLE, 1, 2), x0 = image(xs, 0), x1 = image(xs, 1);
    x1.putScalar(new long[] {0, 0, 16, 16}, Double.NaN);
    for (Interpolation.Path p : java.util.List.of(Interpolation.full(m, x0, x1, 3), Interpolation.nuisance(m, x0, x1, 3))) {
      INDArray logits = m.logits(p.images());
      for (int i = 0; i < 3; i++) {
        assertThat(logits.getRow(i).isNaN().any()).as("step " + i + " has NaN logits").isTrue();
      }
      assertThat(p.classes()).containsOnly(-1);
      assertThat(p.probabilities()).containsOnly(Double.NaN);
    }
  }
}
