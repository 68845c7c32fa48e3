package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class RunFilesTest {

  @Test
  void aWrongValueIsQuotedWholeUpTo40CharactersAndCutBeyond() {
    // As JSON text with its quotes: 38 letters show as 40 characters, 39 as 41.
    TextNode fits = TextNode.valueOf("a".repeat(38)), over = TextNode.valueOf("b".repeat(39));
    assertThatThrownBy(() -> RunFiles.expect("eval-test.json", "accuracy", fits, RunFiles.Kind.NUMBER))
        .isInstanceOf(IOException.class)
        .hasMessage("eval-test.json: accuracy is \"" + "a".repeat(38) + "\", not a number");
    assertThatThrownBy(() -> RunFiles.expect("eval-test.json", "accuracy", over, RunFiles.Kind.NUMBER))
        .isInstanceOf(IOException.class)
        .hasMessage("eval-test.json: accuracy is \"" + "b".repeat(36) + "..., not a number");
  }
}
