package org.irevnet.nn;

import com.sun.jna.Function;
import com.sun.jna.Structure;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.irevnet.host.Host;

/**
 * Lets oneDNN's convolution temporaries reuse heap memory while everything else keeps going
 * straight back to the system, and reads what glibc's heap holds ({@link #usage}).
 *
 * <p>Why: {@code bin/irevnet} fixes glibc's mmap threshold at 128 KiB ({@code
 * MALLOC_MMAP_THRESHOLD_}), so every large block freed (ND4J arrays found dead by the collector)
 * returns to the system and memory stays flat in depth. But each libnd4j {@code conv2d} / {@code
 * conv2d_bp} call allocates and frees its oneDNN temporaries (layout reorders, im2col buffers up
 * to 19 MB at batch 64), and under that threshold each of them was a fresh mmap whose pages the
 * kernel zero-filled on first touch: about 100,000 page faults per fi-revnet-s training step,
 * which doubled the convolution time (measured: conv2d_bp of the 32-channel 16x16 layer 2.7 ms
 * with glibc's default, 14.8 ms at 128 KiB). Raising the threshold only while a convolution runs
 * serves those temporaries from the heap (kept by {@code MALLOC_TRIM_THRESHOLD_}), where the
 * next convolution reuses them.
 *
 * <p>Only active when the process runs with {@code MALLOC_MMAP_THRESHOLD_} set (the launcher
 * does): otherwise glibc's own adaptive threshold is left alone. Where {@code mallopt} cannot be
 * found (not glibc) this does nothing; where it refuses the raised threshold, this turns itself off
 * for the rest of the process (one debug log line) rather than call it again on every convolution.
 */
public final class NativeHeap {
  private static final int M_MMAP_THRESHOLD = -3;
  /**
   * The threshold while a convolution runs: above fi-revnet-s's largest temporary at batch 64 (19
   * MB); larger ones (bigger batches) are mmapped as before, which costs time, never correctness.
   * Not higher: older glibc refuses thresholds above HEAP_MAX_SIZE / 2, 32 MiB on 64-bit (2.36 no
   * longer does).
   */
  static final int CONV_MMAP_THRESHOLD = 32 << 20;
  private static final Function MALLOPT = Host.libc("mallopt");
  private static final Function MALLINFO2 = Host.libc("mallinfo2");
  private static final Function MALLOC_TRIM = Host.libc("malloc_trim");
  private static final int BASE_MMAP_THRESHOLD = baseThreshold();
  private static final AtomicInteger ACTIVE = new AtomicInteger();
  /** Work running in {@link #withBaseThreshold}: convolutions started meanwhile, in any thread, raise nothing. */
  private static final AtomicInteger KEEPING_BASE = new AtomicInteger();
  /** mallopt refused a threshold: from then on the threshold is left alone. */
  private static volatile boolean refused;

  private NativeHeap() {}

  /**
   * Runs a oneDNN-backed op with the raised threshold. Nested and concurrent calls share one
   * raise; the threshold is process-wide, so a race between threads can only cost speed.
   */
  public static <T> T forConvolution(Supplier<T> op) {
    boolean adjust = raisesForConvolutions();
    if (ACTIVE.getAndIncrement() == 0 && adjust) setMmapThreshold(CONV_MMAP_THRESHOLD);
    try {
      return op.get();
    } finally {
      // Not by this call's own adjust: a convolution of another thread may have raised it while
      // this one, inside withBaseThreshold, did not, and the last one out lowers it.
      if (ACTIVE.decrementAndGet() == 0 && adjusts()) setMmapThreshold(BASE_MMAP_THRESHOLD);
    }
  }

  /**
   * Runs {@code work} with its convolutions' temporaries mmapped, as every other large block is,
   * not served from the heap. For long runs of libnd4j's float64 convolutions (its own kernels, not
   * oneDNN's, so the raise buys no time there): their temporaries, served from the heap, left the
   * arena of {@code invert --stability}'s thousands of Jacobian passes at 1.4 GiB of free chunks
   * that no trim can unmap, and the next step's allocations, spread over them, made them resident
   * again ({@code quickstart}'s probe step 1.25-1.37 GB after it, 0.76 alone; docs/measurements.md).
   */
  public static <T> T withBaseThreshold(Supplier<T> work) {
    KEEPING_BASE.incrementAndGet();
    try {
      return work.get();
    } finally {
      KEEPING_BASE.decrementAndGet();
    }
  }

  /** Whether a convolution started now raises the threshold: it can, and no {@link #withBaseThreshold} runs. */
  public static boolean raisesForConvolutions() {
    return adjusts() && KEEPING_BASE.get() == 0;
  }

  /** Convolutions running now (the threshold is raised while this is positive). */
  static int running() {
    return ACTIVE.get();
  }

  /** Whether there is a threshold to raise: mallopt found (glibc) and the launcher's setting. */
  static boolean available() {
    return MALLOPT != null && BASE_MMAP_THRESHOLD > 0;
  }

  /** Whether convolutions raise the threshold: available and never refused by mallopt. */
  static boolean adjusts() {
    return available() && !refused;
  }

  private static void setMmapThreshold(int bytes) {
    // mallopt returns 0, changing nothing, for a value it refuses.
    if (MALLOPT.invokeInt(new Object[] {M_MMAP_THRESHOLD, bytes}) == 0 && !refused) {
      refused = true;
      org.slf4j.LoggerFactory.getLogger(NativeHeap.class).debug(
          "mallopt refused an mmap threshold of {} bytes; convolution temporaries stay mmapped", bytes);
    }
  }

  /**
   * What glibc's allocator holds now: {@code inUseBytes} handed out to the program and not freed
   * (heap chunks and mmapped blocks, every arena), and {@code freeBytes} freed into the arenas but
   * kept from the system. Resident memory counts both; only the first is the program's. Null
   * where there is no {@code mallinfo2} (not glibc, or glibc before 2.33).
   */
  public static Usage usage() {
    if (MALLINFO2 == null) return null;
    MallInfo2 m = (MallInfo2) MALLINFO2.invoke(MallInfo2.class, new Object[0]);
    return new Usage(m.uordblks + m.hblkhd, m.fordblks);
  }

  /**
   * Gives the free pages inside glibc's heaps back to the system ({@code malloc_trim(0)}); false
   * where there is no glibc. The trim threshold only returns free memory at a heap's top: libnd4j's
   * float64 convolutions (its own kernels, not oneDNN's) leave their freed temporaries spread
   * through the heap, and the whole Jacobians of {@code invert --stability}, thousands of them
   * in a row, held 1.7 GiB resident of which 0.14 GiB was in use.
   */
  public static boolean trim() {
    if (MALLOC_TRIM == null) return false;
    MALLOC_TRIM.invokeInt(new Object[] {0L});
    return true;
  }

  /**
   * Frees what the garbage holds and gives it back to the system: collects (ND4J frees an array's
   * native memory once its Java wrapper is collected, on its deallocator thread, hence a second
   * collection after a pause), then {@link #trim}s. For a process that runs one job after another:
   * {@code quickstart}'s twenty commands in one JVM kept every command's freed memory resident, so
   * each probe step added 0.7-1.0 GB on top of the last and the whole command peaked at 1.5-2.3 GB
   * where no step needs more than about 0.9 (docs/measurements.md). Takes a few hundred ms.
   */
  public static void releaseGarbage() {
    System.gc();
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.gc();
    trim();
  }

  /** See {@link #usage()}. */
  public record Usage(long inUseBytes, long freeBytes) {}

  /** glibc's {@code struct mallinfo2}: ten {@code size_t} counters (64-bit here). */
  public static final class MallInfo2 extends Structure implements Structure.ByValue {
    public long arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;

    @Override
    protected List<String> getFieldOrder() {
      return List.of("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
          "fordblks", "keepcost");
    }
  }

  private static int baseThreshold() {
    String v = System.getenv("MALLOC_MMAP_THRESHOLD_");
    try {
      return v == null ? 0 : Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
