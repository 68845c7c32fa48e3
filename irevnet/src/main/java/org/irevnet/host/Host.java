package org.irevnet.host;

import org.nd4j.linalg.factory.Nd4j;

/** Process-level settings: thread counts, garbage collection, the C library (memory facts: {@link Memory}). */
public final class Host {
  private Host() {}

  /**
   * Sets BLAS's thread count and caps libnd4j's master threads. libnd4j 1.0.0-M2.1 cannot resize
   * its OpenMP pool once loaded (setMaxThreads does nothing), so the pool is OMP_NUM_THREADS,
   * which the launcher sets from {@code --threads} (and the command line too, {@link
   * #setThreadsBeforeLoading}); {@link #threads} reports the pool. OpenMP's threads are {@link
   * #setOpenMpThreads}'s.
   */
  public static void setThreads(int threads) {
    org.irevnet.settings.Ranges.atLeast("--threads", threads, 1);
    Nd4j.getEnvironment().setMaxThreads(threads);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    Nd4j.factory().blas().setMaxThreads(threads);
  }

  /**
   * {@code body}'s result, computed at one thread: BLAS (OpenBLAS) and the OpenMP regions of the
   * calling thread, then both back at the counts they had. For code that alternates many small
   * matrix products with libnd4j's elementwise ops, which a second thread speeds up little: with
   * both at two threads on 2 cores, each waits for threads the other's spinning keeps from a core:
   * {@code Invertible1x1Conv} at 1024 channels took 1.2-2 times its one-thread medians on an idle
   * host and 3-5 times with other jobs running, single calls up to 1.7 s (docs/measurements.md,
   * Performance).
   *
   * <p>Safe on several Java threads at once and nested: BLAS's count is the process's (OpenBLAS),
   * so the first thread in sets it to one and the last one out puts back what the first found,
   * where each restoring its own would have let a thread that came in second and left last put
   * back the first one's 1 for good (and the first's leaving set BLAS back while the second ran).
   * OpenMP's count is each calling thread's own (libgomp's per-thread ICV), saved and restored by
   * that thread. Meanwhile other threads' BLAS calls outside this method run at one thread too;
   * a {@link #setThreads} while some thread is inside is undone by the last one out.
   */
  public static <T> T withOneThread(java.util.function.Supplier<T> body) {
    org.nd4j.linalg.api.blas.Blas blas = Nd4j.factory().blas();
    int openMpBefore = openMpThreads();
    synchronized (ONE_THREAD_LOCK) {
      if (oneThreadEntrants == 0) {
        blasBeforeOneThread = blas.getMaxThreads();
        if (blasBeforeOneThread != 1) blas.setMaxThreads(1);
      }
      oneThreadEntrants++;
    }
    try {
      if (openMpBefore != 1) setOpenMpThreads(1);
      return body.get();
    } finally {
      if (openMpBefore != 1) setOpenMpThreads(openMpBefore);
      synchronized (ONE_THREAD_LOCK) {
        if (--oneThreadEntrants == 0 && blasBeforeOneThread != 1) blas.setMaxThreads(blasBeforeOneThread);
      }
    }
  }

  private static final Object ONE_THREAD_LOCK = new Object();
  /** The threads inside {@link #withOneThread}, counted once per (nested) entry; under the lock. */
  private static int oneThreadEntrants;
  /** BLAS's count as the first of them found it, put back by the last; under the lock. */
  private static int blasBeforeOneThread;

  /**
   * Sets the OpenMP threads of the parallel regions the calling thread starts (oneDNN's
   * convolutions among them). ND4J sets them as it loads, from Java's copy of OMP_NUM_THREADS (all
   * cores without it), so {@code setThreads} alone left {@code java -jar ... --threads 1} on 2
   * cores with weights that bin/irevnet gave at {@code --threads 2}, not 1 (measured: 3 training
   * steps' weights.npz). Unlike libnd4j's pool this takes effect after loading, larger too.
   */
  public static void setOpenMpThreads(int threads) {
    org.irevnet.settings.Ranges.atLeast("--threads", threads, 1);
    org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
  }

  /** The OpenMP threads of the parallel regions the calling thread starts. */
  public static int openMpThreads() {
    return org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
  }

  /**
   * Puts {@code threads} into this process's OMP_NUM_THREADS, from which libnd4j sizes its pool
   * ({@link #threads}) and OpenMP its other threads' regions as they load: before ND4J's first use
   * it gives them what bin/irevnet's OMP_NUM_THREADS gives, after it nothing changes. Java's copy of
   * the environment, read by ND4J and given to child processes, keeps the value it started with.
   * Does nothing where the C library's {@code setenv} cannot be called ({@link #threads} says so).
   */
  public static void setThreadsBeforeLoading(int threads) {
    org.irevnet.settings.Ranges.atLeast("--threads", threads, 1);
    com.sun.jna.Function setenv = libc("setenv");
    if (setenv != null) setenv.invokeInt(new Object[] {"OMP_NUM_THREADS", Integer.toString(threads), 1});
  }

  /**
   * The processor's model as /proc/cpuinfo names it (its first {@code model name}), or null where
   * that is unreadable or names none. Recorded with a run: OpenBLAS picks its kernels by processor
   * (or by OPENBLAS_CORETYPE), and the kernels round differently.
   */
  public static String cpuModel() {
    try {
      return cpuModel(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")));
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  /** The first {@code model name} of /proc/cpuinfo's {@code lines}, trimmed; null without one. */
  static String cpuModel(java.util.List<String> lines) {
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
        String model = line.substring(colon + 1).trim();
        return model.isEmpty() ? null : model;
      }
    }
    return null;
  }

  /**
   * Ends the process at once with {@code status}, without the C library's exit handlers (libc's
   * {@code _exit}), where {@code exit} would run every loaded library's destructors. OpenBLAS's
   * joins its worker threads, which the thread stopped inside a BLAS call keeps waiting: a run
   * stopped there hung at 0% CPU, or crashed in libopenblas. Returns only where {@code _exit}
   * cannot be called (no glibc, or JNA without its native part).
   */
  public static void exitAtOnce(int status) {
    com.sun.jna.Function exit = libc("_exit");
    if (exit == null) return;
    // The JVM's exit deletes its performance-data file, by which jps and jcmd list running JVMs;
    // _exit skips that, and the file stayed until the user's next JVM removed it.
    try {
      java.nio.file.Files.deleteIfExists(perfDataFile(ProcessHandle.current().pid()));
    } catch (java.io.IOException | RuntimeException e) {
      // left for the user's next JVM, as after a kill -9
    }
    exit.invokeVoid(new Object[] {status});
  }

  /** HotSpot's performance-data file of the JVM {@code pid} of this user (Linux: always under /tmp). */
  public static java.nio.file.Path perfDataFile(long pid) {
    return java.nio.file.Path.of("/tmp", "hsperfdata_" + System.getProperty("user.name"), Long.toString(pid));
  }

  /** The C library's function {@code name}; null where it cannot be found (not glibc) or JNA cannot load. */
  public static com.sun.jna.Function libc(String name) {
    try {
      return com.sun.jna.NativeLibrary.getInstance("c").getFunction(name);
    } catch (LinkageError | RuntimeException e) {
      // JNA unpacks its native part into the temporary directory: where that is full (or not
      // writable) JNA's classes do not initialise, and every command that convolves stopped with
      // "NoClassDefFoundError: Could not initialize class com.sun.jna.NativeLibrary", exit code 3.
      return null;
    }
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
}
