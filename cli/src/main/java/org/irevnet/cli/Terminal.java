package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether standard error, where progress is drawn, is a terminal. {@code System.console()} asks of
 * standard input and output: {@code irevnet train ... 2>train.log} typed at a terminal drew its
 * progress bar into the log (carriage returns and cursor movements), and {@code > results.txt} left
 * the terminal without one.
 */
final class Terminal {
  private Terminal() {}

  /** Standard error is a terminal (on Linux, read from /proc; elsewhere, as Java's console says). */
  static boolean stderr() {
    return isTerminal(Path.of("/proc/self/fd/2"), System.console() != null);
  }

  /**
   * Whether the file descriptor link {@code fd} (a {@code /proc/PID/fd/N}) names a terminal device;
   * {@code unknown} where the link cannot be read.
   */
  static boolean isTerminal(Path fd, boolean unknown) {
    String target;
    try {
      target = Files.readSymbolicLink(fd).toString();
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return unknown;
    }
    return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
  }
}
