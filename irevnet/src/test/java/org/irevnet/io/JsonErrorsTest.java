package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonErrorsTest {
  record Stage(int steps, String coupling) {}

  record Config(int steps, long seed, Integer batch, double lr, Float floor, boolean flag, Boolean augment,
      String name, Stage head, List<Stage> stages) {}

  /** What {@link JsonErrors#describe} says when reading {@code json} as a {@link Config} fails. */
  static String describe(String json) {
    try {
      new ObjectMapper().readValue(json, Config.class);
    } catch (IOException e) {
      return JsonErrors.describe(e, "config");
    }
    throw new AssertionError("read: " + json);
  }

  @Test
  void aValueOfTheWrongKindIsNamedByItsPathWithWhatItMustBe() {
    assertThat(describe("{\"steps\": \"many\"}")).isEqualTo("key 'steps' must be an integer, got \"many\"");
    assertThat(describe("{\"seed\": \"x\"}")).isEqualTo("key 'seed' must be an integer, got \"x\"");
    assertThat(describe("{\"batch\": \"x\"}")).isEqualTo("key 'batch' must be an integer, got \"x\"");
    assertThat(describe("{\"lr\": \"fast\"}")).isEqualTo("key 'lr' must be a number, got \"fast\"");
    assertThat(describe("{\"floor\": \"low\"}")).isEqualTo("key 'floor' must be a number, got \"low\"");
    assertThat(describe("{\"flag\": \"yes\"}")).isEqualTo("key 'flag' must be true or false, got \"yes\"");
    assertThat(describe("{\"augment\": \"yes\"}")).isEqualTo("key 'augment' must be true or false, got \"yes\"");
    // Not an InvalidFormatException: a mismatched token has no value to quote.
    assertThat(describe("{\"name\": {}}")).isEqualTo("key 'name' must be a string");
    assertThat(describe("{\"head\": 3}")).isEqualTo("key 'head' must be a JSON object");
    // A list given as something else is no JSON object either: it was said to be one.
    assertThat(describe("{\"stages\": {\"steps\": 1}}")).isEqualTo("key 'stages' must be a JSON array");
    assertThat(describe("{\"stages\": \"1x32x32\"}")).isEqualTo("key 'stages' must be a JSON array");
    assertThat(describe("{\"stages\": [{\"steps\": 1}, {\"steps\": \"two\"}]}"))
        .isEqualTo("key 'stages[1].steps' must be an integer, got \"two\"");
  }

  @Test
  void anUnknownKeyListsTheKnownOnesSorted() {
    assertThat(describe("{\"head\": {\"step\": 1}}")).isEqualTo("unknown key 'head.step' (known: coupling, steps)");
  }

  @Test
  void aFileThatIsNoObjectOrNoJsonIsCalledMalformed() {
    assertThat(describe("[1, 2]")).isEqualTo("malformed config JSON: the file must hold one JSON object");
    assertThat(describe("{\"steps\": ")).startsWith("malformed config JSON at line 1, column 11: Unexpected end-of-input")
        .doesNotContain("\n");
  }

  /**
   * Malformed JSON is placed by line and column, once: Jackson's messages carried a location of
   * their own, "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line:
   * 1, column: 1]", which is no text a user wrote.
   */
  @Test
  void malformedJsonIsPlacedByLineAndColumnWithoutJacksonsSourceText() {
    assertThat(describe("{\"steps\": 1")).isEqualTo("malformed config JSON at line 1, column 12: Unexpected"
        + " end-of-input: expected close marker for Object (start marker at line 1, column 1)");
    assertThat(describe("{\n  \"steps\": 1,\n  \"seed\": x\n}"))
        .startsWith("malformed config JSON at line 3, column ").contains(": Unrecognized token 'x'")
        .doesNotContain("Source").doesNotContain("\n");
  }

  /**
   * A NaN, a comment or a plus sign written by hand is placed and named without Jackson's advice
   * to a programmer ("enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"), which no
   * option of this tool sets: `report` said so of an eval-test.json with a NaN in it.
   */
  @Test
  void nonStandardJsonIsNamedWithoutJacksonsFeatureAdvice() {
    assertThat(describe("{\"lr\": NaN}"))
        .isEqualTo("malformed config JSON at line 1, column 11: Non-standard token 'NaN': JSON has no NaN or Infinity");
    assertThat(describe("{\"lr\": -Infinity}")).endsWith("Non-standard token '-Infinity': JSON has no NaN or Infinity");
    assertThat(describe("{\"lr\": 1 // fast\n}")).startsWith("malformed config JSON at line 1, column ")
        .endsWith("maybe a (non-standard) comment?").doesNotContain("Feature");
    assertThat(describe("{\"lr\": +1}")).endsWith("JSON spec does not allow numbers to have plus signs")
        .doesNotContain("enable");
  }

  /**
   * A file an editor saved as UTF-16 or Latin-1 is said to be no UTF-8 text: Java's decoder
   * (TrainConfig reads the text first) said "malformed config JSON: Input length = 1", and Jackson
   * reading the bytes called an accented letter malformed JSON.
   */
  @Test
  void aFileThatIsNotUtf8IsSaidToBeSo(@TempDir Path tmp) throws IOException {
    // Java's UTF-16 starts with a byte-order mark, which is no UTF-8.
    Path utf16 = Files.write(tmp.resolve("c.json"), "{\"name\": \"x\"}".getBytes(StandardCharsets.UTF_16));
    IOException decoder = assertThrows(IOException.class, () -> Files.readString(utf16));
    assertThat(JsonErrors.describe(decoder, "config")).isEqualTo("not UTF-8 text: save the config file as UTF-8");
    // Without the mark its ASCII decodes, a NUL after each letter.
    String noMark = new String("{\"name\": 1}".getBytes(StandardCharsets.UTF_16LE), StandardCharsets.UTF_8);
    assertThat(describe(noMark)).isEqualTo("not UTF-8 text: save the config file as UTF-8");

    byte[] latin1 = "{\n  \"name\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    IOException jackson = assertThrows(IOException.class, () -> new ObjectMapper().readValue(latin1, Config.class));
    assertThat(JsonErrors.describe(jackson, "architecture"))
        .isEqualTo("not UTF-8 text: save the architecture file as UTF-8");
  }

  /** Jackson's exception is found where the caller wrapped it. */
  @Test
  void theCauseOfAWrappingExceptionIsDescribed() {
    IOException cause;
    try {
      new ObjectMapper().readValue("{\"steps\": true}", Config.class);
      throw new AssertionError();
    } catch (IOException e) {
      cause = e;
    }
    assertThat(JsonErrors.describe(new UncheckedIOException("reading", cause), "config"))
        .isEqualTo("key 'steps' must be an integer");
    assertThat(JsonErrors.describe(new IllegalStateException(), "architecture"))
        .isEqualTo("malformed architecture JSON: java.lang.IllegalStateException");
  }
}
