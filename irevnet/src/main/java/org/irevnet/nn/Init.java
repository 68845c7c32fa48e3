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
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) v[i] = (2 * rng.nextDouble() - 1) * bound;
    return Nd4j.create(v, shape, DataType.DOUBLE).castTo(dt);
  }

  /** Standard normal values of the given shape. */
  public static INDArray normal(DataType dt, Random rng, long... shape) {
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian();
    return Nd4j.create(v, shape, DataType.DOUBLE).castTo(dt);
  }
}
