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

  /**
   * Takes every free heap chunk of 1 MiB or more (until a 1 MiB malloc has to be mmapped), after
   * giving the free memory at the heaps' tops back to the system: then glibc cannot serve a larger
   * block from free memory, and must mmap it or grow a heap. Returns the blocks taken.
   */
  private static List<Long> drainTheFreeHeap() {
    NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(new Object[] {0L});
    List<Long> taken = new ArrayList<>();
    for (int i = 0; i < 1024; i++) {
      long before = mallinfo().hblkhd;
      long block = Native.malloc(1L << 20);
      if (mallinfo().hblkhd > before) {
        Native.free(block);
        break;
      }
      taken.add(block);
    }
    return taken;
  }

  @Test
  void aLargeBlockIsMmappedOutsideAConvolutionAndServedFromTheHeapInsideIt() {
    // Independent of NativeHeap's own checks: glibc's mallopt and mallinfo2, and the launcher's setting.
    assumeTrue(System.getenv("MALLOC_MMAP_THRESHOLD_") != null, "no MALLOC_MMAP_THRESHOLD_");
    assumeTrue(mallinfo2() != null && NativeLibrary.getInstance("c").getFunction("mallopt") != null, "not glibc 2.33+");
    long size = 4L << 20;
    List<String> seen = new ArrayList<>();
    for (int attempt = 0; attempt < 5; attempt++) {
      long outside = drainedAndHeld(size);
      long inside = NativeHeap.forConvolution(() -> drainedAndHeld(size));
      long after = drainedAndHeld(size);
      // The threshold comes down again also after an op that throws.
      assertThatThrownBy(() -> NativeHeap.forConvolution(() -> {
        throw new IllegalStateException("op failed");
      })).hasMessage("op failed");
      long afterThrow = drainedAndHeld(size);
      seen.add(outside + ", " + inside + ", " + after + ", " + afterThrow);
      if (outside >= size && inside == 0 && after >= size && afterThrow >= size) return;
    }
    throw new AssertionError("mmapped bytes while a 4 MiB block is held outside, inside, after a convolution, after "
        + "one that threw: " + seen);
  }

  /** {@link #mmappedWhileHeld} with the free heap drained first ({@link #drainTheFreeHeap}). */
  private static long drainedAndHeld(long size) {
    List<Long> taken = drainTheFreeHeap();
    try {
      return mmappedWhileHeld(size);
    } finally {
      taken.forEach(Native::free);
    }
  }
}
