package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeedsTest {

  /**
   * SplitMix64 as the JDK has it: a SplittableRandom seeded with z returns mix64(z + golden
   * gamma) first, which is the finaliser that Seeds applies to each part.
   */
  private static long splitMix(long z) {
    return new SplittableRandom(z).nextLong();
  }

  @Test
  void mixChainsTheSplitMix64FinaliserOverItsParts() {
    // the published SplitMix64 test vector: seed 1234567 gives 6457827717110365317 first
    assertThat(splitMix(1234567)).isEqualTo(6457827717110365317L);
    long start = 0x243F6A8885A308D3L; // pi's fraction, the chain's start
    for (long p : new long[] {0, 1, -1, 42, Long.MIN_VALUE, Seeds.ORDER}) {
      assertThat(Seeds.mix(p)).as("part %d", p).isEqualTo(splitMix(start ^ p));
    }
    assertThat(Seeds.mix(7, 3, Seeds.NOISE))
        .isEqualTo(splitMix(splitMix(splitMix(start ^ 7) ^ 3) ^ Seeds.NOISE));
    assertThat(Seeds.mix()).isEqualTo(start);
  }
}
