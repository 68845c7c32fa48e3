package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class TapesTest {
  private final TapedBlock a = new AffineCoupling(4, 3, 3, DataType.DOUBLE, new Random(1), 0.5);
  private final TapedBlock b = new AffineCoupling(4, 3, 3, DataType.DOUBLE, new Random(2), 0.5);

  @Test
  void buffersAreReusedAndHoldTheLatestPass() {
    Tapes tapes = new Tapes();
    tapes.record();
    tapes.keep(a, a.forwardTaped(Numerics.normal(DataType.DOUBLE, 1, 2, 4, 3, 3)).tape());
    INDArray[] first = tapes.get(a);
    long bytes = tapes.bytes();
    // Four arrays: conditioner input [2,2,3,3], two hidden [2,3,3,3], output [2,4,3,3].
    assertThat(bytes).isEqualTo(8 * (36 + 2 * 54 + 72));

    tapes.record();
    INDArray[] tape = a.forwardTaped(Numerics.normal(DataType.DOUBLE, 2, 2, 4, 3, 3)).tape();
    tapes.keep(a, tape);
    INDArray[] second = tapes.get(a);
    for (int i = 0; i < tape.length; i++) {
      assertThat(second[i]).as("buffer " + i + " reused").isSameAs(first[i]);
      assertThat(Numerics.maxAbsDiff(second[i], tape[i])).as("buffer " + i + " holds the latest pass").isZero();
    }
    assertThat(tapes.bytes()).isEqualTo(bytes);

    // Another batch size needs other buffers; a block the current pass did not tape has none.
    tapes.record();
    tapes.keep(a, a.forwardTaped(Numerics.normal(DataType.DOUBLE, 3, 5, 4, 3, 3)).tape());
    assertThat(tapes.get(a)[0].shape()).isEqualTo(new long[] {5, 2, 3, 3});
    assertThat(tapes.get(b)).isNull();
    tapes.record();
    assertThat(tapes.get(a)).as("kept in an earlier pass only").isNull();
  }

  @Test
  void aTapeOfOtherArraysOrAnotherTypeGetsNewBuffers() {
    // A block's tape normally keeps its length and type; if it changes (a model cast to float32
    // between passes), reusing the old buffers would cast the tape or leave a stale array in it.
    Tapes tapes = new Tapes();
    tapes.record();
    tapes.keep(a, new INDArray[] {Numerics.normal(DataType.DOUBLE, 1, 2, 2)});
    INDArray[] longer = {Numerics.normal(DataType.DOUBLE, 2, 2, 2), Numerics.normal(DataType.DOUBLE, 3, 3)};
    tapes.keep(a, longer);
    assertThat(tapes.get(a)).hasSize(2);
    assertThat(Numerics.maxAbsDiff(tapes.get(a)[1], longer[1])).isZero();
    INDArray[] asFloat = {longer[0].castTo(DataType.FLOAT), longer[1].castTo(DataType.FLOAT)};
    tapes.keep(a, asFloat);
    assertThat(tapes.get(a)[0].dataType()).isEqualTo(DataType.FLOAT);
    assertThat(tapes.get(a)[1].dataType()).isEqualTo(DataType.FLOAT);
    // Two float arrays of 4 and 3 entries.
    assertThat(tapes.bytes()).isEqualTo(4 * (4 + 3));
  }

  @Test
  void aPassTokenIsCurrentUntilTheNextPassIsRecorded() {
    Tapes tapes = new Tapes();
    Tapes.Pass p1 = tapes.record();
    assertThat(p1.isCurrent()).isTrue();
    Tapes.Pass p2 = tapes.record();
    assertThat(p1.isCurrent()).isFalse();
    assertThat(p2.isCurrent()).isTrue();
  }
}
