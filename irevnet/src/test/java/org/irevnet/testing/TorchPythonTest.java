package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;

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
}
