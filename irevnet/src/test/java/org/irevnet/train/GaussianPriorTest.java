package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** iCE's prior on its own: the value against the normal density written out, every gradient against central differences. */
class GaussianPriorTest {
  static final double[][] ZN = {{0.3, -1.2, 2.0}, {-0.7, 0.1, 0.4}};
  static final double[] LOG_DET = {1.5, -0.25};
  static final long D = 5; // z_n has 3 of z's 5 dimensions
  static final double[] BETA = {0.2, -0.5, 1.0}, GAMMA = {-0.3, 0.4, 0.1};

  /** {@code -(sum log N(z; beta, e^(2 gamma)) + logdet) / (n d)} from the density's formula. */
  static double byHand(double[][] zn, double[] logDet, double[] beta, double[] gamma) {
    double logp = 0;
    for (int i = 0; i < zn.length; i++) {
      for (int k = 0; k < zn[i].length; k++) {
        double sigma = Math.exp(gamma[k]);
        logp += Math.log(Math.exp(-0.5 * Math.pow((zn[i][k] - beta[k]) / sigma, 2)) / (sigma * Math.sqrt(2 * Math.PI)));
      }
      logp += logDet[i];
    }
    return -logp / (zn.length * D);
  }

  static GaussianPrior prior() {
    GaussianPrior p = new GaussianPrior(3, DataType.DOUBLE);
    p.params().get("beta").set(Nd4j.createFromArray(BETA).reshape(1, 3));
    p.params().get("gamma").set(Nd4j.createFromArray(GAMMA).reshape(1, 3));
    return p;
  }

  @Test
  void theValueIsTheNormalDensitysPerDimensionAndBitsAddTheEightBitCells() {
    GaussianPrior.Nll nll = prior().nll(Nd4j.createFromArray(ZN), Nd4j.createFromArray(LOG_DET), D, 1, false);
    double nats = byHand(ZN, LOG_DET, BETA, GAMMA);
    assertThat(nll.natsPerDim()).isCloseTo(nats, within(1e-12));
    assertThat(nll.bitsPerDim()).isCloseTo(nats / Math.log(2) + 8, within(1e-12));
  }

  /** The returned gradients and the accumulated ones are {@code weight} times the value's derivatives. */
  @Test
  void everyGradientIsTheWeightTimesTheValuesDerivative() {
    double weight = 0.7, eps = 1e-6;
    GaussianPrior p = prior();
    INDArray zn = Nd4j.createFromArray(ZN), logDet = Nd4j.createFromArray(LOG_DET);
    GaussianPrior.Nll nll = p.nll(zn, logDet, D, weight, true);

    int[] all6 = Numerics.sampleIndices(6, 6, 0), all3 = Numerics.sampleIndices(3, 3, 0), all2 = {0, 1};
    double[] dzn = Numerics.gradient(a -> weight * byHand(a.toDoubleMatrix(), LOG_DET, BETA, GAMMA), zn.dup(), eps, all6);
    double[] dLogDet = Numerics.gradient(a -> weight * byHand(ZN, a.toDoubleVector(), BETA, GAMMA), logDet.dup(), eps, all2);
    double[] dBeta = Numerics.gradient(a -> weight * byHand(ZN, LOG_DET, a.toDoubleVector(), GAMMA),
        Nd4j.createFromArray(BETA), eps, all3);
    double[] dGamma = Numerics.gradient(a -> weight * byHand(ZN, LOG_DET, BETA, a.toDoubleVector()),
        Nd4j.createFromArray(GAMMA), eps, all3);

    assertThat(Numerics.maxRelDiff(nll.dzn().reshape(6).toDoubleVector(), dzn)).isLessThan(1e-8);
    assertThat(Numerics.maxRelDiff(nll.dLogDet().toDoubleVector(), dLogDet)).isLessThan(1e-8);
    assertThat(Numerics.maxRelDiff(p.params().get("beta").grad().reshape(3).toDoubleVector(), dBeta)).isLessThan(1e-8);
    assertThat(Numerics.maxRelDiff(p.params().get("gamma").grad().reshape(3).toDoubleVector(), dGamma)).isLessThan(1e-8);
  }

  /**
   * A float32 batch of eval's size (250 images of 1024 dimensions): the value must be that of its
   * entries summed exactly. ND4J sums float32 arrays in float32, and eval's bits/dim read 14.40307
   * where the float64 sum of the same model's outputs gives 14.40349 (and 14.40339 in batches of 50).
   */
  @Test
  void theValueOfAFloat32BatchIsItsEntriesSummedInFloat64() {
    int n = 250, dn = 1014;
    long d = 1024;
    java.util.Random r = new java.util.Random(3);
    float[] z = new float[n * dn];
    for (int i = 0; i < z.length; i++) z[i] = (float) (2.5 * r.nextGaussian() + 0.3);
    float[] logDet = new float[n];
    for (int i = 0; i < n; i++) logDet[i] = (float) (1500 + 100 * r.nextGaussian());
    GaussianPrior p = new GaussianPrior(dn, DataType.FLOAT); // beta = gamma = 0: N(0, 1)

    double logp = 0;
    for (float v : z) logp += -0.5 * (double) v * v - 0.5 * Math.log(2 * Math.PI);
    for (float v : logDet) logp += v;
    double expected = -logp / (n * (double) d);

    GaussianPrior.Nll nll = p.nll(Nd4j.create(z, new long[] {n, dn}, DataType.FLOAT), Nd4j.create(logDet,
        new long[] {n}, DataType.FLOAT), d, 1, false);
    assertThat(nll.natsPerDim()).isCloseTo(expected, within(1e-9 * Math.abs(expected)));
  }

  /**
   * An evaluation's value alone ({@code natsPerDim}, which makes no gradient) is {@code nll}'s to
   * its last bit, in float32 and float64 and from a column-major {@code z_n}: iCE's and the density's
   * evaluations switched to it, and their bits/dim must not move.
   */
  @Test
  void theValueAloneIsTheValueWithGradientsToItsBits() {
    java.util.Random r = new java.util.Random(5);
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      GaussianPrior p = new GaussianPrior(40, dt);
      p.params().get("beta").set(org.irevnet.nn.Init.normal(dt, r, 1, 40));
      p.params().get("gamma").set(org.irevnet.nn.Init.normal(dt, r, 1, 40).muli(0.3));
      INDArray zn = org.irevnet.nn.Init.normal(dt, r, 30, 40), logDet = org.irevnet.nn.Init.normal(dt, r, 30);
      for (INDArray z : new INDArray[] {zn, zn.dup('f')}) {
        double alone = p.natsPerDim(z, logDet, 64);
        assertThat(alone).as(dt + ", order " + z.ordering()).isEqualTo(p.nll(z, logDet, 64, 0.5, false).natsPerDim())
            .isEqualTo(p.nll(z, logDet, 64, 1, true).natsPerDim());
      }
    }
  }
}

