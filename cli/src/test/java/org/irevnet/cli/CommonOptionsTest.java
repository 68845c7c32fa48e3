package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.irevnet.train.Host;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The options and helpers every command shares: counts, lists, threads, JSON output, logging. */
class CommonOptionsTest {

  @Test
  void countsBelowOneAndEmptyListsAreRefused() {
    assertThatThrownBy(() -> CommonOptions.positive("--count", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--count must be at least 1, got 0");
    assertThatCode(() -> CommonOptions.positive("--count", 1)).doesNotThrowAnyException();
    assertThatThrownBy(() -> CommonOptions.given("--eps", 0, "radii")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--eps: no radii given");
    assertThatCode(() -> CommonOptions.given("--eps", 1, "radii")).doesNotThrowAnyException();
  }

  /**
   * Read back from the BLAS threads ND4J's CPU backend runs with: Host.threads() reports the OpenMP
   * pool, sized from OMP_NUM_THREADS when the library loads (bin/irevnet sets it from --threads).
   */
  @Test
  void threadsAreTheGivenCountOrEveryCore() {
    int cores = Runtime.getRuntime().availableProcessors();
    try {
      CommonOptions o = new CommonOptions();
      o.threads = cores + 1;
      o.apply();
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(cores + 1);
      o.threads = null;
      o.apply();
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(cores);
    } finally {
      Host.setThreads(cores);
    }
  }

  /** One line with sorted keys, or the same indented over several lines. */
  @Test
  void jsonIsOneLineOrIndentedWithSortedKeys() throws Exception {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("b", 1);
    m.put("a", List.of(2.5, "x"));
    assertThat(Json.line(m)).isEqualTo("{\"a\":[2.5,\"x\"],\"b\":1}");
    String pretty = Json.pretty(m);
    assertThat(pretty.lines().count()).isGreaterThan(2);
    assertThat(pretty.replaceAll("\\s", "")).isEqualTo("{\"a\":[2.5,\"x\"],\"b\":1}");
    assertThat(Json.MAPPER.readTree(pretty)).isEqualTo(Json.MAPPER.readTree(Json.line(m)));
  }

  /** A value Jackson cannot write is an internal error, not bad input. */
  @Test
  void jsonOfAnUnwritableValueIsAnIllegalState() {
    Object broken = new Object() {
      public int getX() {
        throw new UnsupportedOperationException("no x");
      }
    };
    assertThatThrownBy(() -> Json.line(broken)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no x");
    assertThatThrownBy(() -> Json.pretty(broken)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no x");
  }

  @Test
  void loggingIsQuietUnlessVerboseAndGoesToStandardError() {
    System.clearProperty("org.slf4j.simpleLogger.logFile");
    try {
      Logging.configure(true);
      assertThat(Logging.verbose()).isTrue();
      assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("info");
      assertThat(System.getProperty("org.slf4j.simpleLogger.logFile")).isEqualTo("System.err");
    } finally {
      Logging.configure(false);
    }
    assertThat(Logging.verbose()).isFalse();
    assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("error");
  }
}
