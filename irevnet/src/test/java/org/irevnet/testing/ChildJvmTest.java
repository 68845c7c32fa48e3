package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChildJvmTest {

  @Test
  void onlyTheJvmsOwnNoticesAreLeftOut() {
    List<String> printed = List.of("Picked up JAVA_TOOL_OPTIONS: -Duser.language=de '-Djava.io.tmpdir=/tmp/t mp'",
        "Picked up _JAVA_OPTIONS: -Xmx1g", "NOTE: Picked up JDK_JAVA_OPTIONS: -Xss2m", "irevnet: interrupted",
        "a line that says Picked up JAVA_TOOL_OPTIONS: x", "Picked up nothing");
    assertThat(ChildJvm.ownLines(printed)).containsExactly("irevnet: interrupted",
        "a line that says Picked up JAVA_TOOL_OPTIONS: x", "Picked up nothing");
    assertThat(ChildJvm.ownOutput("Picked up JAVA_TOOL_OPTIONS: -Dx=1\nwaiting for it\n")).isEqualTo("waiting for it");
  }
}
