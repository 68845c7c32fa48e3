package org.irevnet.train;

import static org.irevnet.nn.Tensors.sum64;

import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The factorised Gaussian prior of iCE's MLE term on the nuisance {@code z_n}: {@code z_n,k ~
 * N(beta_k, exp(gamma_k)^2)}, with learned per-dimension mean {@code beta} and log-scale {@code
 * gamma} (both start at 0).
 *
 * <p>{@link #nll} is the per-dimension negative log-likelihood {@code -(sum_k log N(z_n,k) +
 * logdet) / d}, batch mean, where {@code d} counts <b>all</b> dimensions of {@code z} (= of the
 * input): the log-det is the whole network's, so dividing by the input size keeps the number on
 * the usual bits/dim scale. {@code z_s}'s density is not modelled (the paper's prior covers {@code
 * z_n} only), so it is not a bound on the full likelihood.
 */
final class GaussianPrior {
  private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
  private final ParamTable params = ParamTable.empty();
  private final Param beta;
  private final Param gamma;

  /** The value of the term in nats per dimension and its gradients ({@code dz_n} and {@code dlogdet}). */
  record Nll(double natsPerDim, INDArray dzn, INDArray dLogDet) {
    /** Bits per dimension of the 8-bit image ({@code [0,1]} pixels of 256 levels: {@code + log2 256}). */
    double bitsPerDim() {
      return natsPerDim / Math.log(2) + 8;
    }
  }

  GaussianPrior(int dims, DataType dt) {
    beta = params.add("beta", Nd4j.zeros(dt, 1, dims));
    gamma = params.add("gamma", Nd4j.zeros(dt, 1, dims));
  }

  ParamTable params() {
    return params;
  }

  /**
   * The term for a batch; with {@code accumulate}, adds {@code weight * d nll / d(beta, gamma)} to
   * the parameter gradients. The returned {@code dzn} and {@code dLogDet} are scaled by {@code weight}.
   *
   * @param zn {@code [n, d - C]}
   * @param logDet {@code [n]}
   * @param d all dimensions of {@code z}
   */
  Nll nll(INDArray zn, INDArray logDet, long d, double weight, boolean accumulate) {
    long n = zn.size(0);
    Standardised s = standardised(zn, logDet, d);
    double c = weight / ((double) n * d);
    INDArray dzn = s.u().mul(s.invScale()).muli(c);
    if (accumulate) {
      beta.grad().subi(dzn.sum(true, 0));
      gamma.grad().addi(s.uu().rsubi(1).sum(true, 0).muli(c));
    }
    s.free();
    INDArray dLogDet = Nd4j.valueArrayOf(new long[] {n}, -c, zn.dataType());
    return new Nll(s.value(), dzn, dLogDet);
  }

  /**
   * {@link #nll}'s value alone, to its bits, making no gradient: what an evaluation needs, which
   * freed {@code nll}'s {@code dz_n} (the size of {@code z_n}) again each batch.
   */
  double natsPerDim(INDArray zn, INDArray logDet, long d) {
    Standardised s = standardised(zn, logDet, d);
    s.free();
    return s.value();
  }

  /** {@code u = (z_n - beta) / exp(gamma)}, its squares and the term's value. */
  private record Standardised(INDArray invScale, INDArray u, INDArray uu, double value) {
    /** Frees the arrays now, not at the next collection: u and uu are each the size of z_n. */
    void free() {
      Tensors.freeAll(u, uu, invScale);
    }
  }

  private Standardised standardised(INDArray zn, INDArray logDet, long d) {
    long n = zn.size(0);
    INDArray invScale = Transforms.exp(gamma.value().neg(), false);
    // Row-major whatever zn's order: ND4J's results take a column-major zn's order, and the value's
    // sums below then ran in it and moved in the last bits (6e-15) from the same call on a
    // row-major copy. The training step's zn (a row-major column range of z) is not copied.
    INDArray rows = zn.ordering() == 'c' ? zn : zn.dup('c');
    INDArray u = rows.sub(beta.value()).muli(invScale);
    Tensors.free(rows, zn);
    INDArray uu = u.mul(u);
    // The value's sums in float64: ND4J sums a float32 array in float32, which over an evaluation
    // batch (250 x 1024 squares) moved eval's bits/dim by up to 4e-4 and made it depend on the batch
    // size. Only the reported number changes; the gradients do not use it.
    double logp = -0.5 * sum64(uu) - n * (sum64(gamma.value()) + zn.size(1) * HALF_LOG_2PI);
    return new Standardised(invScale, u, uu, -(logp + sum64(logDet)) / ((double) n * d));
  }
}
