package org.irevnet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** What the tests write goes to their temporary directories or under target/, never into the source tree. */
class SourceTreeTest {

  /**
   * jqwik (TensorsTest's properties) keeps a record of failed tries, by default {@code
   * .jqwik-database} in the working directory: surefire's is the module's, so every run wrote it
   * beside {@code src/}, where {@code mvn clean} left it.
   */
  @Test
  void jqwiksRecordOfFailedTriesIsKeptUnderTarget() throws IOException {
    Properties junit = new Properties();
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("junit-platform.properties")) {
      assertThat(in).as("junit-platform.properties on the test class path").isNotNull();
      junit.load(in);
    }
    String database = junit.getProperty("jqwik.database");
    assertThat(database).as("jqwik.database").isNotNull();
    assertThat(Path.of(database).normalize()).as("relative to the module, under target/").startsWith(Path.of("target"))
        .isNotEqualTo(Path.of("target"));
  }
}
