package org.irevnet.testing;

import org.irevnet.host.Host;

/**
 * OMP_NUM_THREADS as this process's C library holds it, which {@link Host#setThreadsBeforeLoading}
 * writes: Java's copy ({@code System.getenv}) keeps its start-up value, so tests read it back here.
 */
public final class OmpNumThreads {
  private OmpNumThreads() {}

  /** Whether the C library's environment can be read and written here (glibc through JNA). */
  public static boolean readable() {
    return Host.libc("getenv") != null;
  }

  /** The C library's OMP_NUM_THREADS; null when unset. */
  public static String get() {
    return Host.libc("getenv").invokeString(new Object[] {"OMP_NUM_THREADS"}, false);
  }

  /** Sets the C library's OMP_NUM_THREADS back to {@code value}, or unsets it for null. */
  public static void restore(String value) {
    if (value == null) Host.libc("unsetenv").invokeInt(new Object[] {"OMP_NUM_THREADS"});
    else Host.libc("setenv").invokeInt(new Object[] {"OMP_NUM_THREADS", value, 1});
  }
}
