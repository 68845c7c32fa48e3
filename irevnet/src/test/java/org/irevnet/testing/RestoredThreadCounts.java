package org.irevnet.testing;

import org.irevnet.host.Host;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Puts back, after every test and every test class, the thread counts it found before them: BLAS's
 * (the process's), OpenMP's of the calling thread, and the C library's OMP_NUM_THREADS, for every
 * module's tests (registered through {@code META-INF/services} with {@link SeededNd4j}). A command
 * run in-process with {@code --threads N} sets all three (CommonOptions.apply, Main's sizePool) and
 * left them for the tests after it in the same JVM: BLAS at one thread gives float32 products other
 * bits than at two (a 256 x 1024 by 1024 x 256 product on the 2-core test host), and a test of bench's note about the
 * pool once failed only after a quickstart test's {@code --threads 1}. A class's {@code @BeforeAll}
 * (TrainingTorchTest's in-process trainings) keeps its counts for its own tests, then the class's
 * are put back.
 */
public final class RestoredThreadCounts
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  /** The three counts at one moment; {@code ompNumThreads} null where unset or unreadable. */
  public record Counts(int blas, int openMp, String ompNumThreads) {
    public static Counts now() {
      return new Counts(Nd4j.factory().blas().getMaxThreads(), Host.openMpThreads(),
          OmpNumThreads.readable() ? OmpNumThreads.get() : null);
    }

    /** Sets back each count that differs from this one's. */
    public void restore() {
      Counts now = now();
      if (now.blas != blas) Nd4j.factory().blas().setMaxThreads(blas);
      if (now.openMp != openMp) Host.setOpenMpThreads(openMp);
      if (OmpNumThreads.readable() && !java.util.Objects.equals(now.ompNumThreads, ompNumThreads)) {
        OmpNumThreads.restore(ompNumThreads);
      }
    }
  }

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RestoredThreadCounts.class);

  // A class's counts around its @BeforeAll and its tests; each test's around that test.
  @Override public void beforeAll(ExtensionContext context) { record(context); }
  @Override public void afterAll(ExtensionContext context) { restore(context); }
  @Override public void beforeEach(ExtensionContext context) { record(context); }
  @Override public void afterEach(ExtensionContext context) { restore(context); }

  private static void record(ExtensionContext context) {
    context.getStore(NAMESPACE).put(Counts.class, Counts.now());
  }

  private static void restore(ExtensionContext context) {
    Counts before = context.getStore(NAMESPACE).get(Counts.class, Counts.class);
    if (before != null) before.restore();
  }
}
