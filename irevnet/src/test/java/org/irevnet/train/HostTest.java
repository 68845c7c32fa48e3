package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class HostTest {

  /**
   * libnd4j 1.0.0-M2.1 sizes its OpenMP pool once, from OMP_NUM_THREADS (which bin/irevnet sets
   * from --threads), and ignores later requests to resize it: {@code setThreads} sets the BLAS
   * threads and the master threads (at most the pool), and {@link Host#threads} stays the pool.
   */
  @Test
  void setThreadsSetsTheBlasAndMasterThreadsWithinTheOpenMpPool() {
    int pool = Host.threads();
    String omp = System.getenv("OMP_NUM_THREADS");
    if (omp != null) assertThat(pool).as("OMP_NUM_THREADS").isEqualTo(Integer.parseInt(omp.trim()));
    else assertThat(pool).isPositive();
    int blasBefore = Nd4j.factory().blas().getMaxThreads();
    try {
      Host.setThreads(1);
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(1);
      assertThat(Nd4j.getEnvironment().maxMasterThreads()).isEqualTo(1);
      Host.setThreads(pool + 1);
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(pool + 1);
      assertThat(Nd4j.getEnvironment().maxMasterThreads()).as("at most the pool").isEqualTo(pool);
      assertThat(Host.threads()).as("the pool").isEqualTo(pool);
    } finally {
      Host.setThreads(blasBefore);
    }
    assertThatThrownBy(() -> Host.setThreads(0)).hasMessage("--threads must be at least 1, got 0");
  }

  /** A step that is a multiple of {@code every} runs a collection; {@code every} 0 never does (and never divides). */
  @Test
  void collectGarbageCollectsEveryThatManySteps() {
    long before = collections();
    Host.collectGarbage(10, 5);
    assertThat(collections()).isGreaterThan(before);
    Host.collectGarbage(5, 0);
  }

  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
    return n;
  }

  /** The peak is the kernel's VmHWM in MiB: between this process's peaks read before and after. */
  @Test
  void thePeakIsTheProcessesHighWaterMarkInMib() throws IOException {
    double before = vmHwmKiB() / 1024.0;
    double peak = Host.peakRssMiB();
    double after = vmHwmKiB() / 1024.0;
    assertThat(peak).isBetween(before, after);
  }

  /** The physical memory is /proc/meminfo's MemTotal, in bytes, and at least what this JVM has committed. */
  @Test
  void physicalMemoryIsTheKernelsMemTotal() throws IOException {
    Matcher m = Pattern.compile("(?m)^MemTotal:\\s+(\\d+) kB$").matcher(Files.readString(Path.of("/proc/meminfo")));
    assertThat(m.find()).as("MemTotal in /proc/meminfo").isTrue();
    assertThat(Host.physicalMemoryBytes()).isEqualTo(Long.parseLong(m.group(1)) * 1024)
        .isGreaterThan(Runtime.getRuntime().totalMemory());
  }

  private static long vmHwmKiB() throws IOException {
    Matcher m = Pattern.compile("(?m)^VmHWM:\\s+(\\d+) kB$").matcher(Files.readString(Path.of("/proc/self/status")));
    assertThat(m.find()).as("VmHWM in /proc/self/status").isTrue();
    return Long.parseLong(m.group(1));
  }
}
