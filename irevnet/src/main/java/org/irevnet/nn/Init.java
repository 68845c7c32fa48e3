package org.irevnet.nn;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded parameter initialisation from {@link java.util.Random}: the same seed gives the same
 * weights in every dtype and on every backend (the values are drawn in double, then cast).
 */
public final class Init {
  private Init() {}

  /** {@code U(-bound, bound)} of the given shape. */
  public static INDArray uniform(DataType dt, Random rng, double bound, long... shape) {
    return fill(dt, shape, () -> (2 * rng.nextDouble() - 1) * bound);
  }

  /** Standard normal values of the given shape. */
  public static INDArray normal(DataType dt, Random rng, long... shape) {
    return fill(dt, shape, rng::nextGaussian);
  }

  // Float arrays are filled directly (no double copy): building a 4x-deep model used to leave
  // hundreds of MB of double temporaries behind.
  private static INDArray fill(DataType dt, long[] shape, java.util.function.DoubleSupplier next) {
    long n = 1;
    for (long s : shape) n *= s;
    int len = Math.toIntExact(n);
    if (dt == DataType.FLOAT) {
      float[] v = new float[len];
      for (int i = 0; i < len; i++) v[i] = (float) next.getAsDouble();
      return Nd4j.create(v, shape, DataType.FLOAT);
    }
    double[] v = new double[len];
    for (int i = 0; i < len; i++) v[i] = next.getAsDouble();
    return Nd4j.create(v, shape, DataType.DOUBLE).castTo(dt);
  }
}
