package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Native;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The raised mmap threshold is scoped to the convolution: it is lowered again after the op, also
 * when the op throws, and nested calls keep it raised until the outermost one ends. (The surefire
 * configuration sets MALLOC_MMAP_THRESHOLD_ as bin/irevnet does, so mallopt is really called.)
 * And the heap's usage counts a block from its malloc to its free.
 */
class NativeHeapTest {
  @Test
  void mallocAcceptsTheRaisedThreshold() {
    // Only glibc has mallopt; elsewhere (or without the launcher's setting) nothing is raised.
    assumeTrue(NativeHeap.available(), "no glibc mallopt or no MALLOC_MMAP_THRESHOLD_");
    NativeHeap.forConvolution(() -> null);
    assertThat(NativeHeap.adjusts()).as("mallopt returned 1 for " + NativeHeap.CONV_MMAP_THRESHOLD + " and back")
        .isTrue();
  }

  @Test
  void scopesTheRaisedThresholdToTheOp() {
    int inside = NativeHeap.forConvolution(() -> NativeHeap.running());
    assertThat(inside).isEqualTo(1);
    assertThat(NativeHeap.running()).isZero();
  }

  @Test
  void nestedCallsShareOneRaise() {
    int[] seen = new int[2];
    NativeHeap.forConvolution(() -> {
      seen[0] = NativeHeap.running();
      seen[1] = NativeHeap.forConvolution(NativeHeap::running);
      return null;
    });
    assertThat(seen).containsExactly(1, 2);
    assertThat(NativeHeap.running()).isZero();
  }

  @Test
  void lowersTheThresholdWhenTheOpThrows() {
    assertThatThrownBy(() -> NativeHeap.forConvolution(() -> {
      throw new IllegalStateException("op failed");
    })).isInstanceOf(IllegalStateException.class).hasMessage("op failed");
    assertThat(NativeHeap.running()).isZero();
  }

  @Test
  void usageCountsWhatIsAllocatedUntilItIsFreed() {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    long size = 64L << 20, slack = 1L << 20;
    // Other threads (the JIT, the collector, ND4J's deallocator) allocate and free meanwhile, and
    // one of them freeing a large array in between can move a reading by MiB (one run saw 95 KiB
    // less than the block): some attempt of five must see the block exactly, give or take 1 MiB.
    List<String> seen = new ArrayList<>();
    for (int attempt = 0; attempt < 5; attempt++) {
      long before = NativeHeap.usage().inUseBytes();
      long block = Native.malloc(size);
      long held = NativeHeap.usage().inUseBytes();
      Native.free(block);
      long after = NativeHeap.usage().inUseBytes();
      seen.add((held - before) + " then " + (after - before));
      if (Math.abs(held - before - size) < slack && Math.abs(after - before) < slack) return;
    }
    throw new AssertionError("in-use bytes after a 64 MiB malloc, then after its free: " + seen);
  }
}
