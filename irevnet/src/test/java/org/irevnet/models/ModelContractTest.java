package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.nio.file.Path;
import java.util.Random;
import org.irevnet.layers.Flow;
import org.irevnet.layers.LogDetKind;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.RandomWeights;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The parts of the layer contract ({@code BijectionContract}) that issue 2 asks of whole models
 * too, on every bundled invertible architecture with perturbed weights (a fresh build starts near
 * the identity): round trips at 1e-5 (float32) and 1e-12 (float64) on inputs of unit scale, the
 * inverse's log-det minus the forward's, batch independence, the same model from the same seed,
 * save -> load -> identical outputs. (Gradients: ModelGradientTest; the brute-force Jacobian is
 * too large for whole models and is checked per layer.)
 */
class ModelContractTest {

  /** Seeded 28x28 images in [0, 1), zero-padded to 32x32 as the data pipeline does. */
  static INDArray images(DataType dt, long seed, int n) {
    INDArray x = org.nd4j.linalg.factory.Nd4j.zeros(dt, n, 1, 32, 32);
    x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 30), NDArrayIndex.interval(2, 30))
        .assign(Init.uniform(dt, new Random(seed), 0.5, n, 1, 28, 28).addi(0.5));
    return x;
  }

  static InvertibleClassifier model(String name, long seed) {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load(name), DataType.FLOAT, seed);
    m.initialize(images(DataType.FLOAT, 100 + seed, 8));
    RandomWeights.perturb(m, 0.02, seed);
    return m;
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet-s", "irevnet-s", "irevnet-s-inj"})
  void roundTripsAndLogDets(String name) {
    InvertibleClassifier m32 = model(name, 1);
    InvertibleClassifier m64 = m32.withDataType(DataType.DOUBLE);
    INDArray x64 = images(DataType.DOUBLE, 2, 3);
    INDArray x32 = x64.castTo(DataType.FLOAT);
    assertThat(maxAbsDiff(m32.invert(m32.forward(x32, false).out()), x32)).as("float32 round trip")
        .isLessThanOrEqualTo(1e-5);
    Flow f = m64.body().forward(x64);
    assertThat(maxAbsDiff(m64.invert(f.out()), x64)).as("float64 round trip").isLessThanOrEqualTo(1e-12);
    Flow i = m64.body().inverse(f.out());
    assertThat(maxAbsDiff(i.logDet(), f.logDet().neg())).as("inverse log-det")
        .isLessThanOrEqualTo(1e-10 * Math.max(1, Tensors.maxAbs(f.logDet())));
    if (m64.body().logDetKind() == LogDetKind.EXACT) {
      assertThat(Tensors.maxAbs(f.logDet())).as("a non-trivial log-det").isGreaterThan(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet-s", "irevnet-s", "irevnet-s-inj"})
  void batchRowsAreIndependent(String name) {
    InvertibleClassifier m = model(name, 1).withDataType(DataType.DOUBLE);
    INDArray x = images(DataType.DOUBLE, 3, 3);
    InvertibleClassifier.Forward all = m.forward(x, false);
    for (int k = 0; k < 3; k++) {
      InvertibleClassifier.Forward one = m.forward(x.get(NDArrayIndex.interval(k, k + 1)).dup(), false);
      assertThat(maxAbsDiff(one.out(), all.out().get(NDArrayIndex.interval(k, k + 1)))).isLessThanOrEqualTo(1e-12);
      assertThat(Math.abs(one.logDet().getDouble(0) - all.logDet().getDouble(k))).isLessThanOrEqualTo(1e-10);
      assertThat(maxAbsDiff(one.logits(), all.logits().get(NDArrayIndex.interval(k, k + 1)))).isLessThanOrEqualTo(1e-12);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet-s", "irevnet-s", "irevnet-s-inj"})
  void sameSeedSameModelAndSaveLoadKeepsOutputs(String name, @TempDir Path dir) throws Exception {
    INDArray x = images(DataType.FLOAT, 4, 2);
    // A fresh build from a seed, before any data-dependent init or perturbation.
    InvertibleClassifier a = InvertibleClassifier.build(Architecture.load(name), DataType.FLOAT, 7);
    InvertibleClassifier b = InvertibleClassifier.build(Architecture.load(name), DataType.FLOAT, 7);
    a.params().entries().forEach((k, p) -> assertThat(b.params().get(k).value()).as(k).isEqualTo(p.value()));
    InvertibleClassifier c = InvertibleClassifier.build(Architecture.load(name), DataType.FLOAT, 8);
    assertThat(a.params().entries().keySet().stream()
        .anyMatch(k -> !a.params().get(k).value().equals(c.params().get(k).value())))
        .as("another seed, other weights").isTrue();

    InvertibleClassifier m = model(name, 5);
    InvertibleClassifier.Forward f = m.forward(x, false);
    ModelFiles.save(dir, m);
    InvertibleClassifier back = ModelFiles.load(dir, DataType.FLOAT);
    InvertibleClassifier.Forward g = back.forward(x, false);
    assertThat(g.out()).isEqualTo(f.out());
    assertThat(g.logDet()).isEqualTo(f.logDet());
    assertThat(g.logits()).isEqualTo(f.logits());
  }
}
