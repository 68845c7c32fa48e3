package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.irevnet.attacks.Robustness;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AttackReportTest {

  /**
   * Three images, labels 0, 1, 2, targets 1, 2, 2 (the third is its own label: not counted). At
   * eps 0.1 image 0 is pushed into class 2 (wrong, not its target) and image 1 reaches its target;
   * at eps 0.2 image 0 reaches its target and image 1 is back at its label. The robustness curve
   * keeps image 0 at class 2 from eps 0.1 on, so its hit at 0.2 is seen only in that epsilon's own
   * attack; image 1's hit at 0.1 still counts at 0.2, whose ball holds it.
   */
  @Test
  void theTargetRateCountsHitsOfEachEpsilonsOwnAttackAndOfSmallerOnes() {
    int[] labels = {0, 1, 2};
    int[][] raw = {{0, 1, 2}, {2, 2, 2}, {1, 1, 2}};
    int[][] counted = {{0, 1, 2}, {2, 2, 2}, {2, 2, 2}};
    INDArray images = Nd4j.zeros(DataType.FLOAT, 3, 1, 2, 2);
    INDArray[] examples = {images, images, images};
    Robustness.Sweep s = new Robustness.Sweep(new double[] {0, 0.1, 0.2}, labels, labels, raw, counted, examples,
        examples, 0, true);
    INDArray mask = Nd4j.ones(DataType.FLOAT, 1, 1, 2, 2);

    List<AttackReport.Point> curve = AttackReport.curve(s, images, mask, new int[] {1, 2, 2}, null, null);
    assertThat(curve).extracting(AttackReport.Point::targetRate).containsExactly(0.0, 0.5, 1.0);
    assertThat(curve).extracting(AttackReport.Point::accuracy).containsExactly(1.0, 1 / 3.0, 1 / 3.0);
    assertThat(AttackReport.curve(s, images, mask, null, null, null)).extracting(AttackReport.Point::targetRate)
        .containsOnlyNulls();
  }
}
