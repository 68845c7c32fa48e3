package org.irevnet.cli;

import java.util.function.Supplier;
import org.irevnet.host.Host;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The line a command says when it is stopped from outside (Ctrl-C, {@code kill}): which command,
 * and what the user can do next. The JVM runs shutdown hooks on those signals but not the
 * command's own error handling, so without this a stopped run ended in silence. The exit code is
 * the one the shell gives a signalled process (130, 143): not 0.
 */
final class Interruption {
  /** The running commands, innermost first (quickstart runs others in-process). */
  private record Running(String command, Supplier<String> hint, Running outer) {}

  private static volatile Running running;

  /** 128 plus the number of the signal that stopped the process (its exit code), once one did. */
  private static volatile int signalled;

  /** From {@link #install} to {@link #ended}: a stop before a command starts is said too. */
  private static volatile boolean commandLine;

  private Interruption() {}

  /**
   * Installs the shutdown hook that speaks when a command is stopped while running, and a standard
   * error that falls silent after that line: the command's threads run on while the hooks do, and
   * an "epoch 1 done" line once followed it. The hook then deletes the temporaries of unfinished
   * writes and refuses new ones ({@link org.irevnet.io.AtomicFiles#stop}), after the line, so that
   * a writer finding its temporary gone stays silent. It stops the command's child processes too.
   * Stopped by a signal, the hook then ends the process itself ({@link Host#exitAtOnce}): the
   * command's thread may be inside a native library, whose destructors the JVM's exit would run
   * under it.
   *
   * @return false, having said the line, if the process is being stopped already: stopped while
   *     the JVM started, it refuses new hooks, which once ended in a stack trace
   */
  static boolean install() {
    LastWordStream err = new LastWordStream(System.err);
    System.setErr(err);
    commandLine = true;
    recordStopSignals();
    try {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        String line = line();
        if (line != null) err.last((Terminal.stderr() ? "\n" : "") + line);
        org.irevnet.io.AtomicFiles.stop();
        // Child processes (bench's child JVMs and its --peer, JMH's forks) are stopped with it: they
        // ran on after a kill -TERM of bench, reparented, on the cores its user meant to free.
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroy);
        if (signalled != 0) {
          System.out.flush();
          Host.exitAtOnce(signalled);
        }
      }, "irevnet-interruption"));
      return true;
    } catch (IllegalStateException shutdownInProgress) {
      err.last(line());
      return false;
    }
  }

  /**
   * Notes which signal stops the process, then stops it as the JVM's own handler does (exit code
   * 128 plus the signal's number). A signal the JVM does not handle (HUP ignored under {@code
   * nohup}) gets its disposition back.
   */
  private static void recordStopSignals() {
    for (String name : new String[] {"INT", "TERM", "HUP"}) {
      Signal signal = new Signal(name);
      SignalHandler jvm;
      try {
        jvm = Signal.handle(signal, s -> {
          signalled = 128 + s.getNumber();
          System.exit(signalled);
        });
      } catch (IllegalArgumentException reserved) {
        continue; // a signal the VM keeps for itself: it stays the VM's
      }
      if (jvm == SignalHandler.SIG_DFL || jvm == SignalHandler.SIG_IGN) Signal.handle(signal, jvm);
    }
  }

  /** The command line has run: a stop now, as the process exits, has nothing to say. */
  static void ended() {
    commandLine = false;
  }

  /** A print stream that can say one last line, after which it drops whatever is printed to it. */
  static final class LastWordStream extends java.io.PrintStream {
    private final Gate gate;

    LastWordStream(java.io.OutputStream out) {
      this(new Gate(out));
    }

    private LastWordStream(Gate gate) {
      super(gate, true);
      this.gate = gate;
    }

    /** Prints {@code line} and falls silent; a print from another thread comes wholly before or not at all. */
    synchronized void last(String line) {
      println(line); // flushed: the stream flushes on every line
      gate.silent = true;
    }

    private static final class Gate extends java.io.FilterOutputStream {
      private volatile boolean silent;

      Gate(java.io.OutputStream out) {
        super(out);
      }

      @Override
      public void write(int b) throws java.io.IOException {
        if (!silent) out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        if (!silent) out.write(b, off, len);
      }
    }
  }

  static synchronized void started(String name) {
    running = new Running(name, null, running);
  }

  static synchronized void finished() {
    if (running != null) running = running.outer();
  }

  /**
   * What the running command adds after "interrupted", computed when it is stopped. Only the
   * hint of the command the user typed is shown: a train inside quickstart would say
   * {@code --resume}, which quickstart does not have.
   */
  static synchronized void hint(Supplier<String> h) {
    if (running != null) running = new Running(running.command(), h, running.outer());
  }

  /**
   * The line for commands stopped now: the command the user typed, the one running inside it if
   * another, and the typed one's hint; before a command starts (the JVM loading the command
   * classes, a second or so) the program's; null once the command line has run, or without {@link
   * #install}.
   */
  static String line() {
    Running r = running;
    if (r == null) return commandLine ? "irevnet: interrupted" : null;
    Running top = r;
    while (top.outer() != null) top = top.outer();
    String more = null;
    try {
      more = top.hint() == null ? null : top.hint().get();
    } catch (RuntimeException e) {
      // the hint is a courtesy: the line still goes out
    }
    return "irevnet " + top.command() + ": interrupted" + (top == r ? "" : " during " + r.command())
        + (more == null ? "" : "; " + more);
  }
}
