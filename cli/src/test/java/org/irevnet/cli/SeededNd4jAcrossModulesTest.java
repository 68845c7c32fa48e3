package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.irevnet.testing.SeededNd4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The test-jar's seeding of ND4J's generator reaches the tests of the modules that use it. */
class SeededNd4jAcrossModulesTest {

  @Test
  void aTestHereStartsFromTheSeedOfItsNames(TestInfo info) {
    INDArray drawn = Nd4j.rand(DataType.DOUBLE, 5);
    assertThat(SeededNd4j.firstDrawOf(info)).isEqualTo(drawn);
  }
}
