package org.irevnet.attacks;

import org.irevnet.models.Classifier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The feature-matching invariance attack: starting from an image {@code b}, find {@code x} in
 * [0, 1] within {@code eps} (L-inf) of {@code b} whose representation {@code h(x)} at a chosen
 * layer matches that of an image {@code a} of another class, by projected sign-gradient descent
 * on {@code ||h(x) - h(a)||^2} (for invertible models the gradient goes through the reversible
 * backward of the stages up to that point). Works for any {@link Classifier}: the injective
 * i-RevNet, whose readout is not invertible, and ordinary DL4J networks.
 * Each row's result is its iterate with the smallest distance. For {@code eps = 0} it is {@code b}.
 */
public final class FeatureMatch {
  private final InputGradient gradient;
  private final int layer;
  private final INDArray mask;
  private final int steps;
  private final double stepSize;

  /**
   * @param layer index into {@link Classifier#layerNames()} (an invertible model's stages): the
   *     representation is that layer's output
   * @param stepSize absolute step length, or {@code NaN} for {@code 2.5 * eps / steps}
   */
  public FeatureMatch(InputGradient gradient, int layer, INDArray mask, int steps, double stepSize) {
    int layers = gradient.model().layerNames().size();
    if (layer < 0 || layer >= layers) {
      throw new IllegalArgumentException("layer must be in 0.." + (layers - 1) + ", got " + layer);
    }
    // As Pgd: a zero step would return b unchanged, a negative one would climb the distance.
    Pgd.checkSteps(steps, stepSize);
    this.gradient = gradient;
    this.layer = layer;
    this.mask = Projection.requireMask(mask, gradient.model());
    this.steps = steps;
    this.stepSize = stepSize;
  }

  /** The representation of {@code x} at the chosen layer. */
  public INDArray representation(INDArray x) {
    return gradient.model().layerOutput(x, layer);
  }

  /**
   * @param b starting images {@code [n, c, h, w]} in [0, 1]
   * @param a images whose representations are matched, same shape
   * @return the matched images
   */
  public INDArray perturb(INDArray b, INDArray a, double eps) {
    if (eps < 0) throw new IllegalArgumentException("epsilon must be >= 0, got " + eps);
    double alpha = Pgd.stepSize(steps, stepSize, eps);
    INDArray target = representation(a);
    INDArray x = b.dup('c'), best = b.dup('c');
    double[] bestDist = null;
    for (int t = 0; t <= steps; t++) {
      // One forward per iterate: the gradient step's forward also gives the iterate's distance.
      InputGradient.Step s = t < steps && eps > 0 ? gradient.featureDistance(layer, x, target) : null;
      double[] d = InputGradient.squaredDistances(s != null ? s.output() : representation(x), target);
      if (bestDist == null) bestDist = d;
      for (int i = 0; i < d.length; i++) {
        if (d[i] < bestDist[i]) {
          bestDist[i] = d[i];
          best.get(NDArrayIndex.point(i)).assign(x.get(NDArrayIndex.point(i)));
        }
      }
      if (s == null) break;
      x.subi(Norm.LINF.direction(s.grad(), mask).muli(alpha));
      Projection.linf(x, b, eps, mask);
    }
    return best;
  }
}
