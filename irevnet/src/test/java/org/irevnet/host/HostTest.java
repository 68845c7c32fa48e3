package org.irevnet.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.irevnet.testing.OmpNumThreads;
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
    Host.setThreads(1);
    assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(1);
    assertThat(Nd4j.getEnvironment().maxMasterThreads()).isEqualTo(1);
    Host.setThreads(pool + 1);
    assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(pool + 1);
    assertThat(Nd4j.getEnvironment().maxMasterThreads()).as("at most the pool").isEqualTo(pool);
    assertThat(Host.threads()).as("the pool").isEqualTo(pool);
    assertThatThrownBy(() -> Host.setThreads(0)).hasMessage("--threads must be at least 1, got 0");
  }

  /**
   * OpenMP's threads (of this thread's parallel regions) follow {@code setOpenMpThreads} after ND4J
   * has loaded, above the pool too, and are read back from OpenMP itself.
   */
  @Test
  void setOpenMpThreadsSetsThoseOfThisThreadsParallelRegions() {
    Host.setOpenMpThreads(1);
    assertThat(Host.openMpThreads()).isEqualTo(1);
    Host.setOpenMpThreads(Host.threads() + 1);
    assertThat(Host.openMpThreads()).isEqualTo(Host.threads() + 1);
    assertThatThrownBy(() -> Host.setOpenMpThreads(0)).hasMessage("--threads must be at least 1, got 0");
  }

  /**
   * {@code setThreadsBeforeLoading} puts the count into the C library's OMP_NUM_THREADS, read back
   * here by the C library's own {@code getenv} (Java's copy keeps its start-up value): its only test
   * was a child JVM's thread counts, which pitest's mutants never reach. This JVM's ND4J and OpenMP
   * have read the variable already, so changing it here changes neither (checked below).
   */
  @Test
  void setThreadsBeforeLoadingPutsTheCountIntoTheProcesssEnvironment() {
    org.junit.jupiter.api.Assumptions.assumeTrue(OmpNumThreads.readable(), "no C library to read the environment from");
    String before = OmpNumThreads.get();
    int pool = Host.threads(), openMp = Host.openMpThreads();
    Host.setThreadsBeforeLoading(3);
    assertThat(OmpNumThreads.get()).isEqualTo("3");
    Host.setThreadsBeforeLoading(1);
    assertThat(OmpNumThreads.get()).as("replaced").isEqualTo("1");
    assertThatThrownBy(() -> Host.setThreadsBeforeLoading(0)).hasMessage("--threads must be at least 1, got 0");
    assertThat(OmpNumThreads.get()).as("a refused count is not set").isEqualTo("1");
    assertThat(System.getenv("OMP_NUM_THREADS")).as("Java's copy").isEqualTo(before);
    assertThat(Host.threads()).as("the loaded pool").isEqualTo(pool);
    assertThat(Host.openMpThreads()).as("this thread's OpenMP").isEqualTo(openMp);
  }

  /**
   * {@code withOneThread} runs its body at one BLAS thread and one OpenMP thread and puts both
   * counts back afterwards, also when the body throws.
   */
  @Test
  void withOneThreadRunsItsBodyAtOneThreadAndRestoresBothCounts() throws Exception {
    atBlasTwoAndOpenMpThree(() -> {
      int[] inside = Host.withOneThread(HostTest::counts);
      assertThat(inside).containsExactly(1, 1);
      assertThat(counts()).containsExactly(2, 3);
      assertThatThrownBy(() -> Host.withOneThread(() -> {
        throw new ArithmeticException("singular");
      })).hasMessage("singular");
      assertThat(counts()).containsExactly(2, 3);
    });
  }

  /** {BLAS's thread count, this thread's OpenMP count}. */
  private static int[] counts() {
    return new int[] {Nd4j.factory().blas().getMaxThreads(), Host.openMpThreads()};
  }

  /**
   * Runs {@code body} with BLAS at 2 threads and this thread's OpenMP at 3 (RestoredThreadCounts
   * puts back the counts after the test).
   */
  private static void atBlasTwoAndOpenMpThree(Body body) throws Exception {
    Host.setThreads(2);
    Host.setOpenMpThreads(3);
    body.run();
  }

  private interface Body {
    void run() throws Exception;
  }

  /**
   * Two Java threads inside {@code withOneThread} at once, in the order that left BLAS at one thread
   * for good when each put back the count it found: A enters (BLAS 2 -> 1), B enters (finding A's
   * 1), A leaves while B runs, B leaves last. B must still run at one BLAS thread after A left, and
   * BLAS must be back at 2 after both. Each thread's OpenMP count is its own: set and put back per
   * thread, this thread's untouched.
   */
  @Test
  void withOneThreadOnTwoThreadsAtOnceKeepsOneBlasThreadUntilTheLastLeavesAndThenRestoresIt() throws Exception {
    java.util.concurrent.CountDownLatch aInside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch bInside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch aLeft = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      atBlasTwoAndOpenMpThree(() -> {
        // {BLAS inside, OpenMP inside, OpenMP after} as each thread saw them.
        java.util.concurrent.Future<int[]> a = two.submit(() -> {
          Host.setOpenMpThreads(2);
          int[] inside = Host.withOneThread(() -> {
            int[] seen = counts();
            aInside.countDown();
            awaitOrFail(bInside, "B inside");
            return seen;
          });
          aLeft.countDown();
          return new int[] {inside[0], inside[1], Host.openMpThreads()};
        });
        java.util.concurrent.Future<int[]> b = two.submit(() -> {
          Host.setOpenMpThreads(4);
          awaitOrFail(aInside, "A inside");
          int[] inside = Host.withOneThread(() -> {
            bInside.countDown();
            awaitOrFail(aLeft, "A left");
            return counts();
          });
          return new int[] {inside[0], inside[1], Host.openMpThreads()};
        });
        int[] seenByA = a.get(60, java.util.concurrent.TimeUnit.SECONDS);
        int[] seenByB = b.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(counts()[0]).as("BLAS after both").isEqualTo(2);
        assertThat(seenByA).as("A: BLAS, OpenMP inside; OpenMP after").containsExactly(1, 1, 2);
        assertThat(seenByB).as("B, still inside after A left").containsExactly(1, 1, 4);
        assertThat(Host.openMpThreads()).as("this thread's OpenMP").isEqualTo(3);
      });
    } finally {
      two.shutdownNow();
    }
  }

  /** Latches with a time limit: a lock held across the body would deadlock these tests, not hang them. */
  private static void awaitOrFail(java.util.concurrent.CountDownLatch latch, String what) {
    try {
      if (!latch.await(30, java.util.concurrent.TimeUnit.SECONDS)) throw new AssertionError("timed out waiting for " + what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + what, e);
    }
  }

  /**
   * Nested calls on one thread: the inner call's leaving does not put either count back while the
   * outer body runs, and a throw from the inner body (caught by the outer) leaves no entry counted,
   * so the next call still sets BLAS to one and puts it back.
   */
  @Test
  void withOneThreadNestedKeepsOneThreadUntilTheOuterCallLeavesAlsoWhenTheInnerThrows() throws Exception {
    atBlasTwoAndOpenMpThree(() -> {
      int[] afterInner = Host.withOneThread(() -> {
        assertThat(Host.withOneThread(HostTest::counts)).as("inner").containsExactly(1, 1);
        assertThatThrownBy(() -> Host.withOneThread(() -> {
          throw new ArithmeticException("singular");
        })).hasMessage("singular");
        return counts();
      });
      assertThat(afterInner).as("outer, after both inner calls left").containsExactly(1, 1);
      assertThat(counts()).containsExactly(2, 3);
      assertThatThrownBy(() -> Host.withOneThread(() -> {
        throw new ArithmeticException("singular");
      })).hasMessage("singular");
      assertThat(Host.withOneThread(HostTest::counts)).as("a call after the throws").containsExactly(1, 1);
      assertThat(counts()).containsExactly(2, 3);
    });
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

  /**
   * The first {@code model name} of /proc/cpuinfo, whatever the spacing around its colon and whatever
   * lines without a colon come before it; null without one.
   */
  @Test
  void cpuModelIsTheFirstModelNameOfCpuinfo() {
    assertThat(Host.cpuModel(java.util.List.of("processor\t: 0", "vendor_id\t: AuthenticAMD",
        "model name\t: AMD EPYC 9B14", "flags\t\t: fpu", "", "processor\t: 1", "model name\t: other")))
        .isEqualTo("AMD EPYC 9B14");
    assertThat(Host.cpuModel(java.util.List.of("processor : 0", "model\t\t: 1", "model name:"))).isNull();
    assertThat(Host.cpuModel(java.util.List.of())).isNull();
    // Lines without a colon (blank ones between processors) are passed over, not cut at index -1.
    assertThat(Host.cpuModel(java.util.List.of("", "model name : ARMv8 Processor rev 1 (v8l)")))
        .isEqualTo("ARMv8 Processor rev 1 (v8l)");
    if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/cpuinfo"))) {
      assertThat(Host.cpuModel()).isNotBlank();
    }
  }
}
