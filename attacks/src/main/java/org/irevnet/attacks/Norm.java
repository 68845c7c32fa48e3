package org.irevnet.attacks;

import java.util.Random;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The two threat models: what a step, a random start and a projection are in each norm. */
public enum Norm {
  LINF, L2;

  /** The ascent direction of a gradient: {@code sign(g)} (L-inf) or {@code g / ||g||_2} per row (L2), masked. */
  public INDArray direction(INDArray grad, INDArray mask) {
    INDArray g = grad.mul(mask);
    if (this == LINF) return Transforms.sign(g, false);
    long n = g.size(0);
    INDArray norms = Transforms.max(rowNorms(g, L2), 1e-12, false).reshape(n, 1).castTo(g.dataType());
    return g.reshape('c', n, g.length() / n).diviColumnVector(norms).reshape('c', g.shape());
  }

  /** Projects {@code xAdv} in place onto the {@code eps}-ball around {@code x}, the box [0, 1] and the mask. */
  public INDArray project(INDArray xAdv, INDArray x, double eps, INDArray mask) {
    return this == LINF ? Projection.linf(xAdv, x, eps, mask) : Projection.l2(xAdv, x, eps, mask);
  }

  /**
   * A uniformly random point of the (masked) {@code eps}-ball around {@code x}, projected into
   * the box: uniform per pixel in [-eps, eps] (L-inf); a Gaussian direction with radius
   * {@code eps * u^(1/d)}, {@code u ~ U(0,1)}, d the masked pixels per row (L2).
   */
  public INDArray randomStart(INDArray x, double eps, INDArray mask, Random rng) {
    INDArray delta;
    if (this == LINF) {
      delta = Init.uniform(x.dataType(), rng, eps, x.shape()).muli(mask);
    } else {
      delta = direction(Init.normal(x.dataType(), rng, x.shape()), mask);
      double d = Math.max(1, mask.sumNumber().doubleValue() / mask.size(0)); // masked pixels per row
      for (int i = 0; i < x.size(0); i++) delta.slice(i).muli(eps * Math.pow(rng.nextDouble(), 1.0 / d));
    }
    return project(x.add(delta), x, eps, mask);
  }

  /** The norm of every row of {@code d} ({@code [n, ...]}), as a float64 vector {@code [n]}. */
  public static INDArray rowNorms(INDArray d, Norm norm) {
    INDArray flat = d.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c').reshape('c', d.size(0), d.length() / d.size(0));
    return norm == LINF ? Transforms.abs(flat, false).max(1) : flat.norm2(1);
  }
}
