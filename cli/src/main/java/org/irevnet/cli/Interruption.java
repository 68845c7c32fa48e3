package org.irevnet.cli;

import java.util.function.Supplier;

/**
 * The line a command says when it is stopped from outside (Ctrl-C, {@code kill}): which command,
 * and what the user can do next. The JVM runs shutdown hooks on those signals but not the
 * command's own error handling, so without this a stopped run ended in silence. The exit code is
 * the one the shell gives a signalled process (130, 143): not 0.
 */
final class Interruption {
  private static volatile String command;
  private static volatile Supplier<String> hint;

  private Interruption() {}

  /** Installs the shutdown hook that speaks when a command is stopped while running. */
  static void install() {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      String line = line();
      if (line != null) System.err.println((System.console() != null ? "\n" : "") + line);
    }, "irevnet-interruption"));
  }

  static void started(String name) {
    command = name;
    hint = null;
  }

  static void finished() {
    command = null;
  }

  /** What the running command adds after "interrupted", computed when it is stopped. */
  static void hint(Supplier<String> h) {
    hint = h;
  }

  /** The line for a command stopped now, or null if none is running. */
  static String line() {
    String c = command;
    if (c == null) return null;
    Supplier<String> h = hint;
    String more = null;
    try {
      more = h == null ? null : h.get();
    } catch (RuntimeException e) {
      // the hint is a courtesy: the line still goes out
    }
    return "irevnet " + c + ": interrupted" + (more == null ? "" : "; " + more);
  }
}
