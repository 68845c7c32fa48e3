package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StatusLineTest {
  private static String run(boolean on, boolean terminal) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StatusLine line = new StatusLine(on, terminal, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    for (int i = 1; i <= 100; i++) line.update(i, 100, "step " + i + "/100");
    line.end();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aTerminalGetsOneLineRewrittenInPlace() {
    String out = run(true, true);
    assertThat(out).startsWith("\rstep 1/100\rstep 2/100").endsWith("\rstep 100/100" + System.lineSeparator());
    assertThat(out.indexOf('\n')).as("one newline, at the end").isEqualTo(out.length() - 1);
  }

  /** A log kept every carriage-return update as one ever longer line. */
  @Test
  void aLogGetsALineAtEachTenthAndTheLast() {
    String out = run(true, false);
    assertThat(out).doesNotContain("\r");
    assertThat(out.lines()).containsExactly("step 1/100", "step 10/100", "step 20/100", "step 30/100", "step 40/100",
        "step 50/100", "step 60/100", "step 70/100", "step 80/100", "step 90/100", "step 100/100");
  }

  /** Work of no known size (a total of 0) gets its first line and no division by zero. */
  @Test
  void aTotalOfZeroIsOneLineInALog() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StatusLine line = new StatusLine(true, false, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    line.update(0, 0, "starting");
    line.update(1, 0, "still going");
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines()).containsExactly("starting");
  }

  /** The commands' constructor writes to System.err, rewriting in place only when there is a console. */
  @Test
  void theCommandsStatusLineRewritesInPlaceOnlyOnAConsole() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = System.err;
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      StatusLine line = new StatusLine(true);
      line.update(1, 2, "half");
      line.end();
    } finally {
      System.setErr(err);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out).isEqualTo(System.console() != null ? "\rhalf" + System.lineSeparator() : "half" + System.lineSeparator());
  }

  @Test
  void noProgressIsNothing() {
    assertThat(run(false, true)).isEmpty();
    assertThat(run(false, false)).isEmpty();
  }
}
