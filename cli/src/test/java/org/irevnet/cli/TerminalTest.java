package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminalTest {
  /**
   * {@code irevnet train ... 2>train.log} typed at a terminal: Java's console (standard input and
   * output) is there, standard error is a file, and the progress bar's carriage returns and cursor
   * movements went into the log.
   */
  @Test
  void standardErrorRedirectedToAFileIsNoTerminalWhateverTheConsole(@TempDir Path dir) throws Exception {
    Path log = Files.createFile(dir.resolve("train.log"));
    Path fd = Files.createSymbolicLink(dir.resolve("2"), log);
    assertThat(Terminal.isTerminal(fd, true)).isFalse();
    assertThat(Terminal.isTerminal(Files.createSymbolicLink(dir.resolve("null"), Path.of("/dev/null")), true)).isFalse();
  }

  /** {@code irevnet train ... > results.txt}: standard error is still the terminal, which gets the bar. */
  @Test
  void standardErrorOnATerminalIsOneWhateverTheConsole(@TempDir Path dir) throws Exception {
    assertThat(Terminal.isTerminal(Files.createSymbolicLink(dir.resolve("2"), Path.of("/dev/pts/3")), false)).isTrue();
    assertThat(Terminal.isTerminal(Files.createSymbolicLink(dir.resolve("tty"), Path.of("/dev/tty1")), false)).isTrue();
  }

  /** Where the descriptor cannot be read (no /proc), the caller's guess stands. */
  @Test
  void anUnreadableDescriptorIsTheFallback(@TempDir Path dir) {
    assertThat(Terminal.isTerminal(dir.resolve("missing"), true)).isTrue();
    assertThat(Terminal.isTerminal(dir.resolve("missing"), false)).isFalse();
  }

  /** The tests' own standard error is a file or a pipe (Maven's surefire): no progress bar there. */
  @Test
  void theseTestsStandardErrorIsNoTerminal() {
    assertThat(Terminal.stderr()).isFalse();
  }
}
