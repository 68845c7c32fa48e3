package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PeerComparisonTest {

  /** A JSON line with every field {@code runOnce} checks for. */
  private static final String FULL = "{\"train_step_ms\": 2.0, \"forward_ms\": 0.5, \"inverse_ms\": 0.25, \"peak_rss_mib\": 9.0}";

  /** A process running {@code script} in /bin/sh. */
  private static ProcessBuilder sh(String script) {
    return new ProcessBuilder("/bin/sh", "-c", script);
  }

  @Test
  void thePeerRunsWithoutTheVariablesTheLauncherSetAndWithEverythingElse() {
    String kept = System.getenv().keySet().stream().filter(k -> !k.equals("PATH")).findFirst().orElseThrow();
    ProcessBuilder pb = PeerComparison.peerProcess("/usr/bin/python3 twin.py", List.of("--threads", "2"), " PATH  NOT_SET_ANYWHERE ");
    assertThat(pb.environment()).doesNotContainKey("PATH").containsKey(kept);
    assertThat(pb.command()).containsExactly("/bin/sh", "-c", "/usr/bin/python3 twin.py \"$@\"", "peer", "--threads", "2");
    assertThat(PeerComparison.peerProcess("x", List.of(), null).environment()).containsKey("PATH");
  }

  /** Of log lines, half objects and two JSON lines, the last whole one, without its indentation. */
  @Test
  void theResultIsTheLastLineThatIsAWholeJsonObject() throws Exception {
    String first = FULL.replace("2.0", "1.0");
    String script = "echo 'starting {'; echo '" + first + "'; echo '   " + FULL + "  '; echo '{ not closed';"
        + " echo 'closed only }'; echo 'done'";
    assertThat(PeerComparison.runOnce(sh(script), "the peer")).isEqualTo(FULL);
  }

  /** A failure names the last non-empty line on stderr, and says "no JSON line" only when there was none. */
  @Test
  void aFailureSaysItsExitCodeAndTheLastLineOnStandardError() {
    String stderr = "echo 'Traceback' >&2; echo 'KeyError: x' >&2; echo '' >&2; echo '   ' >&2;";
    assertThatThrownBy(() -> PeerComparison.runOnce(sh(stderr + " echo '" + FULL + "'; exit 4"), "the peer"))
        .isInstanceOf(IllegalStateException.class).hasMessage("the peer failed (exit code 4): KeyError: x");
    assertThatThrownBy(() -> PeerComparison.runOnce(sh(stderr + " echo 'no json'"), "irevnet bench"))
        .hasMessage("irevnet bench failed (exit code 0, no JSON line): KeyError: x");
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("exit 3"), "the peer"))
        .hasMessage("the peer failed (exit code 3, no JSON line): nothing on stderr");
  }

  @Test
  void aJsonLineWithoutOneOfTheComparedNumbersIsRefused() {
    String noInverse = "{\"train_step_ms\": 2.0, \"forward_ms\": 0.5, \"inverse_ms\": \"fast\", \"peak_rss_mib\": 9.0}";
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("echo '" + noInverse + "'"), "the peer"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the peer printed no number for inverse_ms: " + noInverse);
  }
}
