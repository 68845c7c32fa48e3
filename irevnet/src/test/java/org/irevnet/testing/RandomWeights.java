package org.irevnet.testing;

import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Models whose weights are far from a fresh build's, whose couplings start with conditioners at zero, as swaps of their halves. */
public final class RandomWeights {
  private RandomWeights() {}

  /** Moves every trainable parameter away from its (partly zero) init, so every path matters. */
  public static void perturb(InvertibleClassifier m, double scale, long seed) {
    Random r = new Random(seed);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(p.value().dataType(), r, scale, p.value().shape()));
    }
  }

  /**
   * The architecture in float32 with seeded random weights: every trainable parameter moved off its
   * start ({@link #perturb}), and BatchNorm statistics that are not 0 and 1.
   */
  public static InvertibleClassifier randomised(Architecture arch, long seed) {
    InvertibleClassifier m = InvertibleClassifier.build(arch, DataType.FLOAT, seed);
    perturb(m, 0.02, seed);
    Random rng = new Random(seed);
    m.params().entries().forEach((k, p) -> {
      INDArray v = p.value();
      for (long i = 0; i < v.length(); i++) {
        if (k.endsWith("running_var")) v.putScalar(i, 0.5 + Math.abs(rng.nextGaussian()));
        if (k.endsWith("running_mean")) v.putScalar(i, 0.1 * rng.nextGaussian());
      }
    });
    return m;
  }
}
