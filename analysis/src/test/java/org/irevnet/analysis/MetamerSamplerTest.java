package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

class MetamerSamplerTest {

  /** The tiny fi-RevNet with every trainable weight moved off its identity initialisation. */
  static InvertibleClassifier tiny(long seed) {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH), DataType.FLOAT, seed);
    Random r = new Random(seed + 100);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(p.value().dataType(), r, 0.05, p.value().shape()));
    }
    return m;
  }

  static INDArray images(DataType dt, long seed, long n) {
    return Init.uniform(dt, new Random(seed), 0.5, n, 1, 32, 32).addi(0.5);
  }

  static INDArray slice(INDArray z, long from, long to) {
    return z.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to));
  }

  void checkInvariant(InvertibleClassifier m, double tol) {
    DataType dt = m.dataType();
    INDArray a = images(dt, 1, 4), b = images(dt, 2, 4);
    MetamerSampler.Result r = MetamerSampler.sample(m, a, b, new int[] {3, 1, 4, 1});
    assertThat(r.metamers().shape()).isEqualTo(new long[] {4, 1, 32, 32});
    INDArray za = m.forward(a, false).z(), zb = m.forward(b, false).z(), zm = m.forward(r.metamers(), false).z();
    long d = za.size(1);
    assertThat(d).isEqualTo(1024);
    // The model is not the identity: a and b have different logits, and the metamer is neither image.
    assertThat(Tensors.maxAbs(slice(za, 0, 10).sub(slice(zb, 0, 10)))).isGreaterThan(0.01);
    INDArray logits = m.logits(r.metamers());
    assertThat(Tensors.maxAbs(logits.sub(slice(za, 0, 10)))).isLessThanOrEqualTo(tol);
    assertThat(Tensors.maxAbs(slice(zm, 10, d).sub(slice(zb, 10, d)))).isLessThanOrEqualTo(tol);
    double largestNuisanceDiff = 0;
    for (int i = 0; i < 4; i++) {
      MetamerSampler.Pair p = r.pairs().get(i);
      assertThat(p.maxLogitAbsDiff()).isLessThanOrEqualTo(tol);
      assertThat(p.maxNuisanceAbsDiff()).isLessThanOrEqualTo(tol);
      // The reported nuisance difference is the one measured here, rounding and all.
      double nuisanceDiff = Tensors.maxAbs(slice(zm, 10, d).getRow(i).sub(slice(zb, 10, d).getRow(i)));
      assertThat(p.maxNuisanceAbsDiff()).isCloseTo(nuisanceDiff, offset(1e-3 * tol));
      largestNuisanceDiff = Math.max(largestNuisanceDiff, nuisanceDiff);
      assertThat(p.metamerClass()).isEqualTo(p.classA());
      assertThat(p.distToA()).isGreaterThan(0.01);
      assertThat(p.distToB()).isGreaterThan(0.0);
      assertThat(p.min()).isLessThanOrEqualTo(p.max());
    }
    assertThat(r.pairs().get(2).labelB()).isEqualTo(4);
    assertThat(largestNuisanceDiff).as("the inverse's rounding").isPositive();
  }

  @Test
  void logitsComeFromAAndNuisanceFromBInFloat32() {
    checkInvariant(tiny(3), 1e-4);
  }

  @Test
  void logitsComeFromAAndNuisanceFromBInFloat64() {
    InvertibleClassifier m64 = tiny(3).withDataType(DataType.DOUBLE);
    assertThat(m64.dataType()).isEqualTo(DataType.DOUBLE);
    checkInvariant(m64, 1e-10);
  }

  @Test
  void theFloat64CopyComputesWhatTheFloat32ModelDoes() {
    InvertibleClassifier m = tiny(4);
    InvertibleClassifier m64 = m.withDataType(DataType.DOUBLE);
    INDArray x = images(DataType.FLOAT, 5, 2);
    INDArray l32 = m.logits(x), l64 = m64.logits(x.castTo(DataType.DOUBLE));
    assertThat(Tensors.maxAbs(l64.castTo(DataType.FLOAT).sub(l32))).isLessThan(1e-4);
  }

  @Test
  void pairsAreSampledInBatchesWithTheResultsOfOneBatch() {
    InvertibleClassifier m = tiny(3).withDataType(DataType.DOUBLE);
    INDArray a = images(DataType.DOUBLE, 1, 7), b = images(DataType.DOUBLE, 2, 7);
    int[] labels = {0, 1, 2, 3, 4, 5, 6};
    MetamerSampler.Result whole = MetamerSampler.sample(m, a, b, labels, 7), inThrees = MetamerSampler.sample(m, a, b,
        labels, 3);
    assertThat(inThrees.metamers().shape()).isEqualTo(whole.metamers().shape());
    assertThat(Tensors.maxAbs(inThrees.metamers().sub(whole.metamers()))).isLessThan(1e-12);
    assertThat(inThrees.pairs()).hasSize(7);
    for (int i = 0; i < 7; i++) {
      assertThat(inThrees.pairs().get(i).labelB()).isEqualTo(i);
      assertThat(inThrees.pairs().get(i).metamerClass()).isEqualTo(whole.pairs().get(i).metamerClass());
      assertThat(inThrees.pairs().get(i).distToB()).isCloseTo(whole.pairs().get(i).distToB(),
          offset(1e-12));
    }
  }

  @Test
  void theInvariantAllowsRoundingButNotAnErrorThatPrecisionDoesNotShrink() {
    assertThat(MetamerSampler.invariantHolds(3e-5, 1e-12)).isTrue();
    assertThat(MetamerSampler.invariantHolds(5e3, 9e-5)).isTrue();
    // A metamer of pixel values near 1e9: float32 misses by 3e3, float64 by 1.5e-4 (rounding).
    assertThat(MetamerSampler.invariantHolds(3.3e3, 1.5e-4)).isTrue();
    // The same difference in both precisions is a wrong construction, however large.
    assertThat(MetamerSampler.invariantHolds(2e-4, 1.5e-4)).isFalse();
    assertThat(MetamerSampler.invariantHolds(1.2, 1.2)).isFalse();
    assertThat(MetamerSampler.invariantHolds(1e2, 1e-3)).isFalse();
    assertThat(MetamerSampler.invariantHolds(Double.NaN, 1e-3)).isFalse();
    assertThat(MetamerSampler.invariantHolds(1.0, Double.NaN)).isFalse();
    // An overflowed float32 sample tells nothing about rounding: only the tolerance is left.
    assertThat(MetamerSampler.invariantHolds(Double.POSITIVE_INFINITY, 0.5)).isFalse();
    assertThat(MetamerSampler.invariantHolds(Double.POSITIVE_INFINITY, 5e-5)).isTrue();
    // Both bounds are inclusive ("within", "at most").
    assertThat(MetamerSampler.invariantHolds(1.0, MetamerSampler.TOLERANCE)).isTrue();
    assertThat(MetamerSampler.invariantHolds(300, MetamerSampler.ROUNDING_RATIO * 300)).isTrue();
  }

  /**
   * A fully invertible model may have as many output dimensions as classes (the architecture
   * allows d = C): z is all logits, there is no nuisance to take from b, and the metamer of
   * (a, b) is F^-1(F(a)) = a, with nothing to differ in the nuisance.
   */
  @Test
  void withoutANuisanceTheMetamerIsTheLogitSourceItself() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "no-nuisance", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": 16,
         "stages": [{"steps": 1, "hidden": 3, "kernel": 1, "coupling": "affine", "actnorm": true}]}"""),
        DataType.DOUBLE, 1);
    Random r = new Random(2);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(DataType.DOUBLE, r, 0.05, p.value().shape()));
    }
    INDArray a = Init.uniform(DataType.DOUBLE, new Random(3), 0.5, 2, 1, 4, 4).addi(0.5),
        b = Init.uniform(DataType.DOUBLE, new Random(4), 0.5, 2, 1, 4, 4).addi(0.5);
    assertThat(m.forward(a, false).z().size(1)).isEqualTo(16);
    MetamerSampler.Result res = MetamerSampler.sample(m, a, b);
    assertThat(Tensors.maxAbs(res.metamers().sub(a))).isLessThan(1e-12);
    for (MetamerSampler.Pair p : res.pairs()) {
      assertThat(p.maxNuisanceAbsDiff()).isZero();
      assertThat(p.maxLogitAbsDiff()).isLessThan(1e-12);
      assertThat(p.distToA()).isLessThan(1e-12);
      assertThat(p.metamerClass()).isEqualTo(p.classA());
    }
  }

  @Test
  void iRevNetModelsAreRefusedWithAClearMessage() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 0);
    INDArray a = images(DataType.FLOAT, 1, 1);
    assertThatThrownBy(() -> MetamerSampler.sample(m, a, a))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("metameric sampling needs a fully invertible (fi-revnet) model, whose z splits into logits z_s"
            + " (kept) and nuisance z_n (swapped); 'irevnet-s' is irevnet");
  }

  /** A fi-revnet whose first stage pads zero channels (injective), weights moved off the identity. */
  static InvertibleClassifier injectiveFiRevNet() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "fi-inj", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 3,
         "stages": [{"steps": 2, "hidden": 3, "kernel": 3, "coupling": "affine", "pad": 4},
                    {"steps": 1, "hidden": 3, "kernel": 3, "coupling": "additive"}]}"""), DataType.DOUBLE, 1);
    Random r = new Random(2);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(DataType.DOUBLE, r, 0.3, p.value().shape()));
    }
    return m;
  }

  /**
   * An injective fi-revnet is refused: F^-1(z_s(a), z_n(b)) has padding channels that are not
   * zero, which its inverse drops, so the logits of the image it gives are not z_s(a). It once
   * ran, and on a trained model every "metamer" failed the invariant (exit 1, "not rounding").
   */
  @Test
  void injectiveFiRevNetsAreRefused() {
    InvertibleClassifier m = injectiveFiRevNet();
    assertThat(m.isFullyInvertible()).isTrue();
    assertThat(m.isBijective()).isFalse();
    INDArray a = Init.uniform(DataType.DOUBLE, new Random(3), 0.5, 2, 1, 8, 8).addi(0.5),
        b = Init.uniform(DataType.DOUBLE, new Random(4), 0.5, 2, 1, 8, 8).addi(0.5);
    // Why: the swap, built by hand, misses the invariant by far more than rounding in float64.
    INDArray za = m.forward(a, false).z(), z = m.forward(b, false).z().dup();
    z.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 3)).assign(slice(za, 0, 3));
    INDArray logits = m.forward(m.invert(z.reshape(m.forward(a, false).out().shape())), false).logits();
    assertThat(Tensors.maxAbs(logits.sub(slice(za, 0, 3)))).isGreaterThan(1e-4);
    assertThatThrownBy(() -> MetamerSampler.sample(m, a, b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'fi-inj' is injective").hasMessageNotContaining("\n");
  }

  @Test
  void pairsHaveDifferentLabelsAndDependOnlyOnTheSeed() {
    int[] labels = {0, 0, 0, 1, 2, 2, 0, 1};
    int[][] p = MetamerSampler.choosePairs(labels, 20, 7);
    assertThat(p).hasDimensions(20, 2);
    for (int[] ab : p) assertThat(labels[ab[0]]).isNotEqualTo(labels[ab[1]]);
    assertThat(MetamerSampler.choosePairs(labels, 20, 7)).isDeepEqualTo(p);
    assertThat(java.util.Arrays.deepEquals(MetamerSampler.choosePairs(labels, 20, 8), p)).isFalse();
    assertThatThrownBy(() -> MetamerSampler.choosePairs(new int[] {1, 1}, 2, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two classes");
    // The smallest valid requests: one pair, from two classes.
    int[][] one = MetamerSampler.choosePairs(new int[] {4, 4, 7}, 1, 3);
    assertThat(one).hasDimensions(1, 2);
    assertThat(one[0][0] == 2).isNotEqualTo(one[0][1] == 2);
    assertThatThrownBy(() -> MetamerSampler.choosePairs(labels, 0, 0)).hasMessageContaining("at least 1");
  }

  /** A NaN nuisance source gives a NaN metamer: it and b have no class (-1), a keeps its own. */
  @Test
  void imagesWithNonFiniteLogitsHaveNoClass() {
    InvertibleClassifier m = tiny(3);
    INDArray a = images(DataType.FLOAT, 1, 2), b = images(DataType.FLOAT, 2, 2);
    b.putScalar(new long[] {1, 0, 16, 16}, Float.NaN);
    MetamerSampler.Result r = MetamerSampler.sample(m, a, b);
    int[] classA = org.irevnet.train.Losses.argmax(m.logits(a));
    MetamerSampler.Pair bad = r.pairs().get(1), good = r.pairs().get(0);
    assertThat(bad.metamerClass()).isEqualTo(-1);
    assertThat(bad.classB()).isEqualTo(-1);
    assertThat(bad.classA()).isEqualTo(classA[1]);
    assertThat(good.metamerClass()).isEqualTo(org.irevnet.train.Losses.argmax(m.logits(image(r.metamers(), 0)))[0]);
    assertThat(good.classA()).isEqualTo(classA[0]);
  }

  private static INDArray image(INDArray images, int i) {
    return images.get(NDArrayIndex.interval(i, i + 1)).dup('c');
  }
}
