package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

  /** Prints what the threshold logic decided in this process, for {@link #withoutTheLaunchersSettingNothingIsRaised}. */
  public static void main(String[] args) {
    NativeHeap.forConvolution(() -> null);
    System.out.println("available=" + NativeHeap.available() + " adjusts=" + NativeHeap.adjusts());
  }

  @Test
  void withoutTheLaunchersSettingNothingIsRaised() throws Exception {
    // Without MALLOC_MMAP_THRESHOLD_ (a plain java run, a test from an IDE) glibc's adaptive
    // threshold must be left alone: a mallopt call, even restoring "0", would fix the threshold
    // and switch the adaptation off for the rest of the process. The setting is read once per
    // process, so a child JVM runs without it (and with a value that is not a number).
    for (String value : new String[] {null, "128k"}) {
      ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), NativeHeapTest.class.getName()).redirectErrorStream(true);
      if (value == null) pb.environment().remove("MALLOC_MMAP_THRESHOLD_");
      else pb.environment().put("MALLOC_MMAP_THRESHOLD_", value);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
      assertThat(out).as("MALLOC_MMAP_THRESHOLD_=%s", value).contains("available=false adjusts=false");
    }
  }

  /**
   * Where JNA cannot unpack its native part (a full or unwritable temporary directory) the
   * threshold is left alone and convolutions run: every command stopped with "NoClassDefFoundError:
   * Could not initialize class com.sun.jna.NativeLibrary".
   */
  @Test
  void withoutJnasNativePartNothingIsRaisedAndConvolutionsRun(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path notADirectory = java.nio.file.Files.writeString(tmp.resolve("file"), "");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djna.tmpdir=" + notADirectory.resolve("jna"), "-Djna.nosys=true", "-cp", System.getProperty("java.class.path"),
        NativeHeapTest.class.getName()).redirectErrorStream(true);
    pb.environment().put("MALLOC_MMAP_THRESHOLD_", "131072");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(out).contains("available=false adjusts=false");
    assertThat(p.exitValue()).as(out).isZero();
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
  void aConvolutionInsideWithBaseThresholdRaisesNothing() {
    assumeTrue(System.getenv("MALLOC_MMAP_THRESHOLD_") != null, "no MALLOC_MMAP_THRESHOLD_");
    assumeTrue(mallinfo2() != null && NativeLibrary.getInstance("c").getFunction("mallopt") != null, "not glibc 2.33+");
    assertThat(NativeHeap.withBaseThreshold(() -> aDrainedBlockIsMmapped(true))).as("inside").isTrue();
    assertThat(NativeHeap.withBaseThreshold(() -> NativeHeap.withBaseThreshold(NativeHeap::raisesForConvolutions)))
        .as("nested").isFalse();
    assertThat(aDrainedBlockIsMmapped(true)).as("after").isFalse();
    assertThatThrownBy(() -> NativeHeap.withBaseThreshold(() -> {
      throw new IllegalStateException("work failed");
    })).hasMessage("work failed");
    assertThat(NativeHeap.raisesForConvolutions()).as("after work that threw").isTrue();
  }

  /**
   * A convolution inside withBaseThreshold that outlives another thread's, which raised the
   * threshold, lowers it when it ends last: going by its own entry (no raise) it left the
   * threshold raised for the rest of the process.
   */
  @Test
  void theLastConvolutionOutLowersTheThresholdThoughItRaisedNothing() throws Exception {
    assumeTrue(System.getenv("MALLOC_MMAP_THRESHOLD_") != null, "no MALLOC_MMAP_THRESHOLD_");
    assumeTrue(mallinfo2() != null && NativeLibrary.getInstance("c").getFunction("mallopt") != null, "not glibc 2.33+");
    CountDownLatch raised = new CountDownLatch(1);
    CountDownLatch baseEntered = new CountDownLatch(1);
    CountDownLatch otherEnded = new CountDownLatch(1);
    Thread other = new Thread(() -> NativeHeap.forConvolution(() -> {
      raised.countDown();
      await(baseEntered);
      return null;
    }));
    other.start();
    await(raised);
    NativeHeap.withBaseThreshold(() -> NativeHeap.forConvolution(() -> {
      baseEntered.countDown();
      try {
        other.join();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      otherEnded.countDown();
      return null;
    }));
    assertThat(otherEnded.getCount()).isZero();
    assertThat(NativeHeap.running()).isZero();
    assertThat(aDrainedBlockIsMmapped(false)).as("after both").isTrue();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
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

  /**
   * Free memory inside a heap (below a block still in use, so glibc's trim threshold cannot return
   * it) stays resident until {@link NativeHeap#trim}: 128 MiB of touched 64 KiB blocks, freed but
   * the last, leave the resident size within a few MiB, and the trim takes it down by most of them.
   */
  @Test
  void trimReturnsFreeMemoryInsideTheHeap() throws Exception {
    assumeTrue(NativeHeap.usage() != null, "no glibc");
    int blocks = 2048;
    long size = 64L << 10;
    long[] p = new long[blocks];
    for (int i = 0; i < blocks; i++) {
      p[i] = Native.malloc(size);
      new com.sun.jna.Pointer(p[i]).setMemory(0, size, (byte) 1);
    }
    try {
      for (int i = 0; i < blocks - 1; i++) Native.free(p[i]);
      double before = residentMiB();
      assertThat(NativeHeap.trim()).isTrue();
      double after = residentMiB();
      assertThat(before - after).as("resident MiB %.1f before the trim, %.1f after", before, after).isGreaterThan(96);
    } finally {
      Native.free(p[blocks - 1]);
    }
  }

  /**
   * ND4J arrays nobody refers to any more hold their native memory until the collector finds them;
   * {@link NativeHeap#releaseGarbage} gives it back: 256 MiB of touched arrays, dropped, leave the
   * resident size at least 192 MiB below what it was while they were held.
   */
  @Test
  void releasingGarbageGivesDroppedArraysMemoryBack() throws Exception {
    List<org.nd4j.linalg.api.ndarray.INDArray> held = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      held.add(org.nd4j.linalg.factory.Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4L << 20));
    }
    double holding = residentMiB();
    held.clear();
    NativeHeap.releaseGarbage();
    double after = residentMiB();
    assertThat(holding - after).as("resident MiB %.1f holding the arrays, %.1f after", holding, after)
        .isGreaterThan(192);
  }

  private static double residentMiB() throws java.io.IOException {
    for (String l : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
    }
    throw new AssertionError("no VmRSS in /proc/self/status");
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

  /** Whether glibc served {@code block} by mmap: the IS_MMAPPED bit of its chunk's size field, just before it. */
  private static boolean isMmapped(long block) {
    return (new Pointer(block).getLong(-8) & 2) != 0;
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
      long block = Native.malloc(1L << 20);
      if (isMmapped(block)) {
        Native.free(block);
        break;
      }
      taken.add(block);
    }
    return taken;
  }

  /**
   * Whether a 4 MiB block, malloced with the free heap drained first, is mmapped. The drain runs
   * outside any convolution, where it ends at the first mmapped 1 MiB block; inside one it would
   * take 1 GiB of heap, whose untouched free pages later tests' allocations then make resident.
   */
  private static boolean aDrainedBlockIsMmapped(boolean inConvolution) {
    List<Long> taken = drainTheFreeHeap();
    long block = inConvolution ? NativeHeap.forConvolution(() -> Native.malloc(4L << 20)) : Native.malloc(4L << 20);
    try {
      return isMmapped(block);
    } finally {
      Native.free(block);
      taken.forEach(Native::free);
    }
  }

  @Test
  void aLargeBlockIsMmappedOutsideAConvolutionAndServedFromTheHeapInsideIt() {
    // Independent of NativeHeap's own checks: glibc's mallopt, and the launcher's setting.
    assumeTrue(System.getenv("MALLOC_MMAP_THRESHOLD_") != null, "no MALLOC_MMAP_THRESHOLD_");
    assumeTrue(mallinfo2() != null && NativeLibrary.getInstance("c").getFunction("mallopt") != null, "not glibc 2.33+");
    assertThat(aDrainedBlockIsMmapped(false)).as("outside").isTrue();
    assertThat(aDrainedBlockIsMmapped(true)).as("inside").isFalse();
    assertThat(aDrainedBlockIsMmapped(false)).as("after").isTrue();
    // The threshold comes down again also after an op that throws.
    assertThatThrownBy(() -> NativeHeap.forConvolution(() -> {
      throw new IllegalStateException("op failed");
    })).hasMessage("op failed");
    assertThat(aDrainedBlockIsMmapped(false)).as("after an op that threw").isTrue();
  }
}
