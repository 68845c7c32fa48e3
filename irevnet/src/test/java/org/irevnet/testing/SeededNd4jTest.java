package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SeededNd4jTest {

  @Test
  void eachTestStartsFromTheSeedOfItsNames(TestInfo info) {
    INDArray drawn = Nd4j.rand(DataType.DOUBLE, 5);
    assertThat(SeededNd4j.firstDrawOf(info)).isEqualTo(drawn);
  }

  @RepeatedTest(3)
  void eachRepetitionStartsFromItsOwnSeed(TestInfo info) {
    // Each repetition draws more after its check: the next starts where it should only if it is
    // seeded again.
    INDArray drawn = Nd4j.rand(DataType.DOUBLE, 5);
    assertThat(SeededNd4j.firstDrawOf(info)).isEqualTo(drawn);
    Nd4j.rand(DataType.DOUBLE, 7);
  }

  @Test
  void seedsDependOnEveryNameAndOnNothingElse() {
    long s = SeededNd4j.seedOf("a.B", "m", "m()");
    assertThat(SeededNd4j.seedOf("a.B", "m", "m()")).isEqualTo(s);
    assertThat(SeededNd4j.seedOf("a.C", "m", "m()")).isNotEqualTo(s);
    assertThat(SeededNd4j.seedOf("a.B", "n", "m()")).isNotEqualTo(s);
    assertThat(SeededNd4j.seedOf("a.B", "m", "[2] m()")).isNotEqualTo(s);
    // The separator keeps names that run together apart.
    assertThat(SeededNd4j.seedOf("a.Bm", "", "m()")).isNotEqualTo(s);
  }
}
