package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Collections;
import java.util.List;
import org.irevnet.nn.NativeHeap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Test;

/**
 * The memory tests' measure read against actions whose native bytes are known: a helper that read
 * nothing, or with its sign flipped, would pass every "keeps less than" test of the modules
 * (NuisanceProbeTest, SoftmaxRegressionTest) whatever the code kept.
 */
class KeptBytesTest {
  private static final long MIB = 1L << 20;
  private static final int ENTRIES = 2 << 20; // 16 MiB of float64

  @Test
  void anArrayARunReturnsIsKeptAndOneItClosesIsNot() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    long bytes = 8L * ENTRIES;
    List<Long> kept = KeptBytes.of(3, run -> Nd4j.rand(DataType.DOUBLE, ENTRIES));
    assertThat(kept).as("native bytes of a returned array of %d bytes", bytes)
        .anySatisfy(k -> assertThat(Math.abs(k - bytes)).isLessThan(MIB));
    List<Long> closed = KeptBytes.of(3, run -> {
      INDArray a = Nd4j.rand(DataType.DOUBLE, ENTRIES);
      a.close();
      return null;
    });
    assertThat(Collections.min(closed)).as("native bytes of a closed array: %s", closed).isLessThan(MIB);
  }
}
