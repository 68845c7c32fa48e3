package org.irevnet.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.factory.Nd4j;

/** Process-level settings and measurements: thread counts, peak memory, environment facts. */
public final class Host {
  private Host() {}

  /**
   * Sets BLAS's thread count and caps libnd4j's master threads. libnd4j 1.0.0-M2.1 cannot resize
   * its OpenMP pool once loaded (setMaxThreads does nothing), so the pool is OMP_NUM_THREADS,
   * which the launcher sets from {@code --threads}; {@link #threads} reports the pool.
   */
  public static void setThreads(int threads) {
    org.irevnet.check.Ranges.atLeast("--threads", threads, 1);
    Nd4j.getEnvironment().setMaxThreads(threads);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    Nd4j.factory().blas().setMaxThreads(threads);
  }

  public static int threads() {
    return Nd4j.getEnvironment().maxThreads();
  }

  /**
   * Runs the garbage collector every {@code every} steps. ND4J's off-heap buffers are freed only
   * when the collector finds their small Java wrappers, which it rarely looks for on its own: the
   * per-op native bookkeeping of a training step then piles up with depth and time. A collection
   * of this small heap takes a few milliseconds.
   */
  public static void collectGarbage(long step, int every) {
    if (every > 0 && step % every == 0) System.gc();
  }

  /** The machine's physical memory in bytes (MemTotal of /proc/meminfo), or -1 where /proc is missing. */
  public static long physicalMemoryBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** Peak resident set size of this process in MiB (VmHWM), or NaN where /proc is missing. */
  public static double peakRssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return Double.NaN;
    }
    return Double.NaN;
  }
}
