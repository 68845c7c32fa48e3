package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The MLE objective and density evaluation: gradients against central differences in float64,
 * bits/dim of a flow whose density is a Gaussian known in closed form (with zero padding and
 * dequantisation), exact sampling, and the refusal of injective models.
 */
class DensityTest {
  static final DataType F64 = DataType.DOUBLE;

  /** 1x8x8 -> 16x2x2, affine couplings: 64 dimensions. */
  static final Architecture FI = Architecture.fromJson("""
      {"name": "density-fi", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine", "actnorm": true, "scaleFloor": 0.05},
                  {"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine", "actnorm": true}]}""");

  /** A bijective i-RevNet (additive couplings, log-det 0) with its readout head, which MLE ignores. */
  static final Architecture IREVNET = Architecture.fromJson("""
      {"name": "density-irevnet", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 10,
       "stages": [{"steps": 2, "hidden": 3, "kernel": 3, "coupling": "additive"}]}""");

  static InvertibleClassifier perturbed(Architecture arch, long seed) {
    InvertibleClassifier m = InvertibleClassifier.build(arch, F64, seed);
    Random r = new Random(seed + 1);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.set(p.value().add(Init.uniform(F64, r, 0.3, p.value().shape())));
    }
    return m;
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet", "irevnet"})
  void mleGradientMatchesCentralDifferences(String kind) {
    InvertibleClassifier m = perturbed(kind.equals("fi-revnet") ? FI : IREVNET, 3);
    Density d = new Density(m, 64);
    INDArray x = Numerics.normal(F64, 5, m.inputShape(4)).muli(0.5).addi(0.5);
    double total = 4.0 * d.inputDims(); // the loss is per dimension and per sample: compare totals
    d.nll(m.forward(x.dup(), true), true);
    int compared = 0;
    for (Map.Entry<String, Param> e : m.params().entries().entrySet()) {
      Param p = e.getValue();
      if (!p.trainable()) continue;
      int[] idx = Numerics.sampleIndices(p.value().length(), 4, e.getKey().hashCode());
      double[] numeric = Numerics.gradient(v -> total * d.nll(m.forward(x.dup(), true), false).natsPerDim(),
          p.value(), 1e-6, idx);
      INDArray g = p.grad().dup('c').reshape(-1);
      double[] analytic = new double[idx.length];
      for (int i = 0; i < idx.length; i++) analytic[i] = total * g.getDouble(idx[i]);
      assertThat(Numerics.maxRelDiff(analytic, numeric)).as("dL/d" + e.getKey()).isLessThanOrEqualTo(1e-6);
      if (!e.getKey().startsWith("head")) {
        assertThat(Tensors.maxAbs(p.grad())).as(e.getKey() + " has a gradient").isPositive();
      }
      compared++;
    }
    assertThat(compared).isGreaterThan(5);
  }

  /**
   * One stage: SpaceToDepth(2), ActNorm, an additive coupling with all parameters zero (identity
   * on the halves, then their swap). So z is ActNorm of psi(x): per pixel {@code z = x e^l_c +
   * b_c} with c the pixel's position in its 2x2 block, and x is Gaussian with mean {@code -b_c
   * e^-l_c} and standard deviation {@code e^-l_c}, independently per pixel.
   */
  static final Architecture GAUSS = Architecture.fromJson("""
      {"name": "gauss", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": 2,
       "stages": [{"steps": 1, "hidden": 2, "kernel": 1, "coupling": "additive", "actnorm": true}]}""");

  @Test
  void bitsPerDimOfAGaussianFlowOnPaddedImagesEqualsTheClosedForm() {
    InvertibleClassifier m = InvertibleClassifier.build(GAUSS, F64, 0);
    double[] logs = {1.1, 0.9, 1.3, 1.0}, bias = {-0.6, -0.4, -0.7, -0.5};
    m.params().get("layers.0.logs").set(Nd4j.createFromArray(logs).reshape(1, 4, 1, 1));
    m.params().get("layers.0.b").set(Nd4j.createFromArray(bias).reshape(1, 4, 1, 1));
    m.params().get("layers.0.initialized").value().assign(1);
    for (Map.Entry<String, Param> e : m.params().entries().entrySet()) {
      if (e.getKey().startsWith("layers.1.")) e.getValue().value().assign(0);
    }
    // 2x2 images of 8-bit pixels, padded to 4x4 (one pixel of zeros around): 4 real pixels of 16.
    int n = 600;
    Random r = new Random(9);
    int[][] k = new int[n][4];
    float[] raw = new float[n * 4];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < 4; p++) {
        k[i][p] = r.nextInt(256);
        raw[i * 4 + p] = k[i][p] / 255f;
      }
    }
    Dataset data = Trainer.prepare(new Dataset("g", Nd4j.create(raw, new long[] {n, 1, 2, 2}, DataType.FLOAT),
        new int[n], List.of("a", "b")), GAUSS);
    Density.Eval ev = new Density(m, 4).evaluate(data, 64, 11);

    // Expected -ln N(v + u/256; mu, s^2) over u ~ U[0,1): the mean of v + u/256 is v + 1/512, its variance 1/(12*256^2).
    double nats = 0;
    for (int i = 0; i < n; i++) {
      for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 4; x++) {
          boolean real = y >= 1 && y <= 2 && x >= 1 && x <= 2;
          double v = real ? k[i][(y - 1) * 2 + (x - 1)] / 255.0 : 0;
          int c = (y % 2) * 2 + (x % 2);
          double s = Math.exp(-logs[c]), mu = -bias[c] * s;
          double meanSq = Math.pow(v + 1.0 / 512 - mu, 2) + 1.0 / (12 * 256.0 * 256.0);
          nats += 0.5 * Math.log(2 * Math.PI) + Math.log(s) + meanSq / (2 * s * s);
        }
      }
    }
    nats /= n;
    // bits/dim = -(log p - D ln 256) / (D_real ln 2), D = 16 input dimensions, D_real = 4 real pixels.
    double expected = (nats + 16 * Math.log(256)) / (4 * Math.log(2));
    assertThat(ev.count()).isEqualTo(n);
    assertThat(ev.inputDims()).isEqualTo(16);
    assertThat(ev.contentDims()).isEqualTo(4);
    assertThat(ev.bitsPerDim()).isCloseTo(expected, within(3e-3));
    assertThat(ev.bitsPerInputDim()).isCloseTo(ev.bitsPerDim() * 4 / 16, within(1e-12));
    assertThat(ev.natsPerDim()).isCloseTo(nats / 16, within(1e-3));
    // Seeded: the same noise gives the same number, other noise a slightly different one.
    Density d = new Density(m, 4);
    assertThat(d.evaluate(data, 64, 11).bitsPerDim()).isEqualTo(ev.bitsPerDim());
    assertThat(d.evaluate(data, 250, 11).bitsPerDim()).as("batching does not change the noise")
        .isCloseTo(ev.bitsPerDim(), within(1e-12));
    assertThat(d.evaluate(data, 200, 11).bitsPerDim()).as("in batches that divide the split")
        .isCloseTo(ev.bitsPerDim(), within(1e-12));
    assertThat(d.evaluate(data, 64, 12).bitsPerDim()).isNotEqualTo(ev.bitsPerDim()).isCloseTo(expected, within(3e-3));
  }

  @Test
  void samplesInvertExactly() {
    InvertibleClassifier m = perturbed(FI, 7);
    Density d = new Density(m, 64);
    Density.Samples s = d.sample(5, 0.7, 3);
    assertThat(s.x().shape()).containsExactly(5, 1, 8, 8);
    assertThat(s.z().shape()).containsExactly(5, 64);
    assertThat(Numerics.maxAbsDiff(m.forward(s.x(), false).z(), s.z())).isLessThan(1e-10);
    double std = s.z().stdNumber().doubleValue();
    assertThat(std).as("temperature is the standard deviation of z").isCloseTo(0.7, within(0.1));
    // Seeded, and the temperature only scales z.
    assertThat(d.sample(5, 0.7, 3).x()).isEqualTo(s.x());
    assertThat(d.sample(5, 0.7, 4).x()).isNotEqualTo(s.x());
    assertThat(Numerics.maxAbsDiff(d.sample(5, 1.4, 3).z(), s.z().mul(2))).isLessThan(1e-15);
    assertThatThrownBy(() -> d.sample(5, 0, 3)).hasMessageContaining("temperature");
    // Below the type's smallest normal number z rounds to 0: every sample was F^-1(0).
    assertThatThrownBy(() -> d.sample(5, 1e-320, 3)).hasMessageContaining("below the smallest normal float64 number");
    assertThat(Numerics.maxAbsDiff(d.sample(5, 1e-300, 3).z(), s.z().mul(1e-300 / 0.7))).isLessThan(1e-310);
    Density f32 = new Density(m.withDataType(org.nd4j.linalg.api.buffer.DataType.FLOAT), 64);
    assertThatThrownBy(() -> f32.sample(5, 1e-50, 3)).hasMessage("temperature 1.0E-50 is below the smallest normal"
        + " float32 number, 1.1754943508222875E-38, in which z is drawn: z would round to 0");
    assertThat(org.irevnet.nn.Tensors.maxAbs(f32.sample(5, 1e-37, 3).z())).isPositive();
    assertThatThrownBy(() -> d.sample(0, 1, 3)).hasMessageContaining("at least 1");
    assertThat(d.sample(1, 0.7, 3).x().shape()).containsExactly(1, 1, 8, 8);
  }

  @Test
  void samplesInBatchesAreTheSamplesOfOneInverse() {
    InvertibleClassifier m = perturbed(FI, 7);
    Density d = new Density(m, 64);
    Density.Samples inThrees = d.sample(7, 0.7, 3, 3);
    assertThat(inThrees.z()).isEqualTo(d.sample(7, 0.7, 3, 7).z());
    assertThat(Numerics.maxAbsDiff(inThrees.x(), m.invert(inThrees.z()))).isLessThan(1e-14);
    double direct = Numerics.maxAbsDiff(m.forward(inThrees.x(), false).z(), inThrees.z());
    assertThat(d.reencodeError(inThrees)).isCloseTo(direct, within(1e-15)).isLessThan(1e-10);
    INDArray broken = inThrees.x().dup();
    broken.putScalar(new long[] {6, 0, 1, 1}, broken.getDouble(6, 0, 1, 1) + 1);
    assertThat(d.reencodeError(new Density.Samples(inThrees.z(), broken))).isGreaterThan(1e-3);
  }

  @Test
  void injectiveModelsHaveNoDensity() {
    Architecture inj = Architecture.fromJson("""
        {"name": "inj", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 3, "kernel": 3, "coupling": "additive", "pad": 4}]}""");
    InvertibleClassifier m = InvertibleClassifier.build(inj, F64, 0);
    assertThatThrownBy(() -> new Density(m, 64)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'inj' is injective").hasMessageNotContaining("\n");
    InvertibleClassifier bijective = InvertibleClassifier.build(FI, F64, 0);
    assertThatThrownBy(() -> new Density(bijective, 65)).hasMessageContaining("do not fit");
    assertThatThrownBy(() -> new Density(bijective, 0)).hasMessageContaining("do not fit");
    assertThat(new Density(bijective, 1).inputDims()).as("one real pixel of 64").isEqualTo(64);
  }

  @Test
  void aNonFiniteLossRunsNoBackwardPass() {
    InvertibleClassifier m = perturbed(FI, 4);
    Density d = new Density(m, 64);
    int[] listened = {0};
    m.setGradientListener(g -> listened[0]++);
    INDArray x = Numerics.normal(F64, 6, m.inputShape(3)).muli(0.5).addi(0.5);
    InvertibleClassifier.Forward f = m.forward(x, true);
    INDArray logDet = f.logDet().dup();
    logDet.putScalar(1, Double.NaN);
    Density.Step s = d.nll(new InvertibleClassifier.Forward(f.out(), logDet, f.logits(), f.headTape(), null), true);
    assertThat(s.natsPerDim()).isNaN();
    assertThat(listened[0]).isZero();
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) assertThat(Tensors.maxAbs(p.grad())).as(p.toString()).isZero();
    }
    // A finite loss still runs it.
    d.nll(f, true);
    assertThat(listened[0]).isEqualTo(m.parameterGroups().size());
  }

  /**
   * The density of a split, a sampling and a re-encoding free what they make batch by batch (the
   * batch's copy, the body's output, the readout's activations; the split's noisy copy) now, not
   * when the collector finds them. At irevnet-s an evaluation of 500 images kept 12.7 MB that way,
   * sampling 256 images 5.3 (2.1 of them the samples and their z), re-encoding them 6.5.
   */
  @Test
  void densitySamplingAndReencodingLeaveNoBatchArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 0);
    Dataset data = TinyData.splitFor(m, 500);
    Density d = new Density(m, 784);
    d.evaluate(data, 250, 1);
    List<Long> evaluation = KeptBytes.of(5, run -> d.evaluate(data, 250, 1));
    assertThat(KeptBytes.middle(evaluation)).as("native bytes each evaluation kept: %s", evaluation)
        .isLessThan(3L << 20);
    long samples = 2L * 256 * d.inputDims() * 4; // x and z, float32
    List<Long> sampling = KeptBytes.of(5, run -> d.sample(256, 1.0, run));
    assertThat(KeptBytes.middle(sampling)).as("native bytes each sampling kept: %s", sampling)
        .isLessThan(samples + (1L << 20));
    Density.Samples s = d.sample(256, 1.0, 0);
    List<Long> reencoding = KeptBytes.of(5, run -> d.reencodeError(s));
    assertThat(KeptBytes.middle(reencoding)).as("native bytes each re-encoding kept: %s", reencoding)
        .isLessThan(1L << 20);
  }
}
