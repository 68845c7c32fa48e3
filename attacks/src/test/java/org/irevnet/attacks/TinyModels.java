package org.irevnet.attacks;

import java.util.Random;
import org.irevnet.data.Preprocess;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.testing.TinyData;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Tiny models with perturbed weights (a fresh model's couplings start as swaps of their halves) and padded test images. */
final class TinyModels {
  private TinyModels() {}

  /** A two-stage i-RevNet with the BatchNorm readout, for evaluation-mode gradients. */
  static final String IREVNET = """
      {"name": "tiny-irevnet", "type": "irevnet", "inputShape": [1, 32, 32], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive"},
                  {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive"}]}""";

  static InvertibleClassifier fiRevnet(DataType dt, long seed) {
    return perturbed(Architecture.fromJson(TinyData.ARCH), dt, seed);
  }

  static InvertibleClassifier irevnet(DataType dt, long seed) {
    InvertibleClassifier m = perturbed(Architecture.fromJson(IREVNET), dt, seed);
    // Running statistics away from their (0, 1) start, so evaluation mode differs from the identity.
    m.params().get("head.bn.running_mean").value().assign(0.1);
    m.params().get("head.bn.running_var").value().assign(2.0);
    return m;
  }

  private static InvertibleClassifier perturbed(Architecture a, DataType dt, long seed) {
    InvertibleClassifier m = InvertibleClassifier.build(a, dt, seed);
    Random r = new Random(seed);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(dt, r, 0.3, p.value().shape()));
    }
    return m;
  }

  /** {@code n} random 28x28 images in [0, 1], zero-padded to 32x32 as the data pipeline does. */
  static INDArray images(int n, DataType dt, long seed) {
    INDArray raw = Init.uniform(DataType.FLOAT, new Random(seed), 0.5, n, 1, 28, 28).addi(0.5);
    return Preprocess.padTo(raw, 32, 32).castTo(dt);
  }

  static INDArray mask(InvertibleClassifier m) {
    return Projection.contentMask(m.inputShape(1), 28, 28, m.dataType());
  }

  static int[] labels(int n, long seed) {
    Random r = new Random(seed);
    int[] y = new int[n];
    for (int i = 0; i < n; i++) y[i] = r.nextInt(10);
    return y;
  }
}
