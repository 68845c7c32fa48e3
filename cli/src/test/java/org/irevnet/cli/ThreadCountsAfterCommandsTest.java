package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.irevnet.host.Host;
import org.irevnet.testing.OmpNumThreads;
import org.irevnet.testing.RestoredThreadCounts;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A command run in-process with {@code --threads} sets BLAS's count, this thread's OpenMP count and
 * the C library's OMP_NUM_THREADS; the next test finds the counts the first one started with
 * (RestoredThreadCounts, registered for every test). Without it the second test saw the first's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreadCountsAfterCommandsTest {
  /** The counts the first test found, which the second must find again. */
  private static RestoredThreadCounts.Counts found;

  @Test
  @Order(1)
  void aCommandWithThreadsSetsAllThreeCounts() {
    found = RestoredThreadCounts.Counts.now();
    int threads = Math.max(found.blas(), Host.threads()) + 1;
    // bench --blocks refuses --iterations 0 after it applied --threads (MainTest): quick, and no JMH run.
    MainTest.Run r = MainTest.run("bench", "--blocks", "--iterations", "0", "--threads", "" + threads, "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    RestoredThreadCounts.Counts after = RestoredThreadCounts.Counts.now();
    assertThat(after.blas()).as("BLAS").isEqualTo(threads);
    assertThat(after.openMp()).as("this thread's OpenMP").isEqualTo(threads);
    if (OmpNumThreads.readable()) assertThat(after.ompNumThreads()).as("OMP_NUM_THREADS").isEqualTo("" + threads);
  }

  @Test
  @Order(2)
  void theNextTestFindsTheCountsTheFirstStartedWith() {
    assertThat(found).as("the first test ran before this one").isNotNull();
    assertThat(RestoredThreadCounts.Counts.now()).isEqualTo(found);
  }
}
