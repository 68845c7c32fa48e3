package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
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

  /** glibc's own {@code mallinfo2}, looked up here, or null where there is none. */
  private static Function mallinfo2() {
    try {
      return NativeLibrary.getInstance("c").getFunction("mallinfo2");
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return null;
    }
  }

  private static NativeHeap.MallInfo2 mallinfo() {
    return (NativeHeap.MallInfo2) mallinfo2().invoke(NativeHeap.MallInfo2.class, new Object[0]);
  }

  @Test
  void usageIsThereWhereGlibcHasMallinfo2() {
    assumeTrue(mallinfo2() != null, "no glibc mallinfo2");
    NativeHeap.Usage u = NativeHeap.usage();
    assertThat(u).isNotNull();
    assertThat(u.inUseBytes()).isPositive();
  }

  /** How far a block of {@code size} bytes, while it is held, moves glibc's count of mmapped bytes. */
  private static long mmappedWhileHeld(long size) {
    long before = mallinfo().hblkhd;
    long block = Native.malloc(size);
    long held = mallinfo().hblkhd;
    Native.free(block);
    return held - before;
  }

  @Test
  void aLargeBlockIsMmappedOutsideAConvolutionAndServedFromTheHeapInsideIt() {
    assumeTrue(NativeHeap.available() && mallinfo2() != null, "no glibc mallopt, mallinfo2 or MALLOC_MMAP_THRESHOLD_");
    // glibc only mmaps (or grows the heap) when no free heap memory can serve the block, so each
    // block is larger than everything the arenas hold free; and it is below the raised threshold.
    List<String> seen = new ArrayList<>();
    for (int attempt = 0; attempt < 5; attempt++) {
      long outside = (long) mallinfo().fordblks + (2L << 20);
      assumeTrue(outside < NativeHeap.CONV_MMAP_THRESHOLD / 2, "the arenas hold too much free memory");
      long mmappedOutside = mmappedWhileHeld(outside);
      long inside = (long) mallinfo().fordblks + (2L << 20);
      long mmappedInside = NativeHeap.forConvolution(() -> mmappedWhileHeld(inside));
      // The heap that served the block keeps it free: the next block must be larger still.
      long after = (long) mallinfo().fordblks + (2L << 20);
      assumeTrue(after < NativeHeap.CONV_MMAP_THRESHOLD, "the arenas hold too much free memory");
      long mmappedAfter = mmappedWhileHeld(after);
      seen.add(mmappedOutside + "/" + outside + ", " + mmappedInside + "/" + inside + ", " + mmappedAfter + "/" + after);
      if (mmappedOutside >= outside && mmappedInside == 0 && mmappedAfter >= after) return;
    }
    throw new AssertionError("mmapped bytes / block size outside, inside, after a convolution: " + seen);
  }
}
