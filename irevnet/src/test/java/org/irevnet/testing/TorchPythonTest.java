package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

class TorchPythonTest {
  /**
   * A script's output longer than a pipe holds (64 KiB) arrives whole: read only after the exit,
   * it blocked the script until the 300 s timeout, and a failing cross-check's long list of
   * differing numbers read as "no exit within 300 s".
   */
  @Test
  void outputLongerThanAPipeHoldsArrivesWhole() throws Exception {
    TorchPython.Result r = TorchPython.run("/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; "
        + "head -c 100000 /dev/zero | tr '\\0' y >&2; exit 1");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stdout()).hasSize(300000).matches("x+");
    assertThat(r.stderr()).hasSize(100000).matches("y+");
  }

  /**
   * A check a script no longer reports fails {@code assertChecked} as one that did not hold: read
   * with a default of true, a script that stopped comparing a kind of number passed its cross-check.
   */
  @Test
  void aCheckThatIsMissingOrFailedIsNotChecked() throws Exception {
    JsonNode result = new ObjectMapper().readTree("{\"checks\": {\"held\": {\"ok\": true}, \"differs\": {\"ok\": false,"
        + " \"max_abs\": 0.5}}, \"failed\": [\"differs\"]}");
    TorchPython.assertChecked(result, "held");
    assertThatThrownBy(() -> TorchPython.assertChecked(result, "differs")).isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> TorchPython.assertChecked(result, "missing")).isInstanceOf(AssertionError.class);
    assertThat(TorchPython.failedChecks(result)).containsExactly("differs {\"ok\":false,\"max_abs\":0.5}");
  }
}
