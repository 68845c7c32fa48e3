package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Comparisons of gradient arrays against a reference. */
public final class Relative {
  private Relative() {}

  /**
   * max |actual - expected| over the largest |expected| is at most {@code tol}: relative to the
   * array's own scale, where {@link Numerics#maxRelDiff} divides by max(1, |entry|), so an array
   * whose entries are all far below 1 (the readout BatchNorm's gradients, about 0.03) was held to
   * {@code tol} absolute only.
   */
  public static void assertRelativeToLargest(String what, INDArray actual, INDArray expected, double tol) {
    double scale = Tensors.maxAbs(expected);
    assertThat(scale).as(what + ": the reference is non-zero").isGreaterThan(0);
    assertThat(Numerics.maxAbsDiff(actual, expected) / scale).as(what + " relative to its largest entry")
        .isLessThanOrEqualTo(tol);
  }
}
