package org.irevnet.vae;

import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A flow on a latent vector whose parameters are given per sample (amortised: in the VAE the
 * encoder emits them). Each flow's math has one source, split in three parts that share the
 * constrained parameters:
 *
 * <ol>
 *   <li>{@link #prepare}: raw parameters {@code [n, paramCount()]} to constrained ones (the
 *       invertibility constraints live here), as SameDiff variables each shaped {@code [n, ...]};
 *   <li>{@link #transform}: {@code z' = f(z)} and {@code log|det df/dz|} as a SameDiff graph;
 *   <li>{@link #invert}: the exact numerical inverse, eager, from the constrained parameters'
 *       values.
 * </ol>
 *
 * Training (the VAE graph) and the tests' {@code FlowBijection}, which the contract tests check,
 * both call {@link #prepare} and {@link #transform}, so gradients come from SameDiff's autodiff of
 * the very graph that is checked against brute-force Jacobians. The VAE evaluates {@link
 * #prepare} once per image and repeats the constrained parameters for every importance sample.
 */
public interface LatentFlow {

  /** Latent dimension D. */
  int dim();

  /** Raw parameters per sample. */
  int paramCount();

  /** Constrained parameters from {@code raw [n, paramCount()]}; every value is {@code [n, ...]}. */
  Map<String, SDVariable> prepare(SameDiff sd, SDVariable raw);

  /** The forward map on {@code z [n, D]} with prepared parameters (same n). */
  Step transform(SameDiff sd, SDVariable z, Map<String, SDVariable> params);

  /**
   * {@code f^-1(y)} for {@code y [n, D]} and the values of the prepared parameters; the result
   * has the dtype of {@code y}. Computed in float64.
   */
  INDArray invert(INDArray y, Map<String, INDArray> params);

  /** EXACT, or ZERO for volume-preserving flows. */
  default org.irevnet.layers.LogDetKind logDetKind() {
    return org.irevnet.layers.LogDetKind.EXACT;
  }

  /** Output and per-sample log-det ({@code [n]}) of {@link #transform}. */
  record Step(SDVariable out, SDVariable logDet) {}
}
