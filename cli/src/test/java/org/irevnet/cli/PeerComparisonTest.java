package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PeerComparisonTest {

  @Test
  void thePeerRunsWithoutTheVariablesTheLauncherSetAndWithEverythingElse() {
    String kept = System.getenv().keySet().stream().filter(k -> !k.equals("PATH")).findFirst().orElseThrow();
    ProcessBuilder pb = PeerComparison.peerProcess("/usr/bin/python3 twin.py", List.of("--threads", "2"), " PATH  NOT_SET_ANYWHERE ");
    assertThat(pb.environment()).doesNotContainKey("PATH").containsKey(kept);
    assertThat(pb.command()).containsExactly("/bin/sh", "-c", "/usr/bin/python3 twin.py \"$@\"", "peer", "--threads", "2");
    assertThat(PeerComparison.peerProcess("x", List.of(), null).environment()).containsKey("PATH");
  }
}
