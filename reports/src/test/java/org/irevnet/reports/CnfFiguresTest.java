package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The 2-D histogram on points it cannot place. */
class CnfFiguresTest {

  @Test
  void nonFinitePointsAreNotCounted() {
    double inf = Double.POSITIVE_INFINITY, nan = Double.NaN;
    // On [0, 2]^2 with 2x2 cells the top-left cell (index 0) is x in [0, 1), y in (1, 2]; a NaN
    // coordinate would land there through (int) Math.floor(NaN) == 0.
    double[] points = {0.5, 1.5, nan, nan, nan, 1.5, 0.5, nan, -inf, 1.5, 0.5, inf, 1.5, 0.5};
    double[] counts = CnfFigures.histogram(points, 2, 0, 2);
    assertThat(counts).containsExactly(1, 0, 0, 1);
  }
}
