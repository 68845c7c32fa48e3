package org.irevnet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import org.irevnet.io.JsonErrors;
import org.irevnet.reports.JsonReport;

/** JSON on the command line: the reports' mapper (sorted keys), one line or indented. */
final class Json {
  static final ObjectMapper MAPPER = JsonReport.MAPPER;

  private Json() {}

  /**
   * A JSON file a command wrote (a run's config.json, a {@code what} file), refused in one line
   * naming it when it is not JSON, as {@link JsonErrors} words it for the files users write.
   */
  static JsonNode read(Path file, String what) throws IOException {
    try {
      return MAPPER.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": " + JsonErrors.describe(e, what));
    }
  }

  static String line(Object o) {
    try {
      return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pretty(Object o) {
    try {
      return MAPPER.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
