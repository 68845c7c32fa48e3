package org.irevnet.cli;

import java.io.PrintStream;

/**
 * A command's one-line progress on stderr: rewritten in place on a terminal; where stderr is a
 * log (no terminal), one line at each tenth of the work, since a log keeps every carriage-return
 * update as one ever longer line.
 */
final class StatusLine {
  private final boolean on;
  private final boolean terminal;
  private final PrintStream err;
  private long lastTenth = -1;

  /** {@code on}: not {@code --no-progress}. */
  StatusLine(boolean on) {
    this(on, Terminal.stderr(), System.err);
  }

  StatusLine(boolean on, boolean terminal, PrintStream err) {
    this.on = on;
    this.terminal = terminal;
    this.err = err;
  }

  /** {@code text} says where the work is: {@code done} of {@code total} units. */
  void update(long done, long total, String text) {
    if (!on) return;
    if (terminal) {
      err.print("\r" + text);
      return;
    }
    long tenth = total <= 0 ? 10 : 10 * done / total;
    if (tenth != lastTenth) {
      lastTenth = tenth;
      err.println(text);
    }
  }

  /** Ends the line on a terminal, so that what follows starts on its own. */
  void end() {
    if (on && terminal) err.println();
  }
}
