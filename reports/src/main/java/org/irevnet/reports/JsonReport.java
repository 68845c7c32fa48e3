package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.io.AtomicFiles;
import org.irevnet.train.Trainer;

/**
 * The JSON result file: sorted keys (stable diffs), a {@code schemaVersion}, written atomically
 * so an interrupted run never leaves half a report.
 */
public final class JsonReport {
  public static final int SCHEMA_VERSION = 1;

  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .build();

  private JsonReport() {}

  /** Writes {@code sections} (name to record) with the schema version. */
  public static void write(Path file, Map<String, ?> sections) throws IOException {
    Map<String, Object> all = new LinkedHashMap<>(sections);
    all.put("schemaVersion", SCHEMA_VERSION);
    AtomicFiles.write(file, out -> MAPPER.writeValue(out, all));
  }

  /**
   * The field of an analysis file that names the weights it was computed from: the SHA-256 that
   * the checkpoint's manifest lists for them. The report compares it with the checkpoint's now.
   */
  public static final String WEIGHTS_SHA256 = "weights_sha256";

  /**
   * The weights an analysis file recorded ({@link #WEIGHTS_SHA256}): their digest, the checkpoint it
   * names ({@code best} or {@code latest}) and that checkpoint's place in the run, to compare with
   * what it holds now.
   */
  public record RecordedWeights(String checkpoint, Path path, String sha256) {}

  /**
   * The {@link RecordedWeights} of the analysis file {@code n} of {@code run}. Null when there is
   * nothing to compare: no digest (a model zip's file, or one from before the field) or a checkpoint
   * named by its path, not one of the run's.
   */
  public static RecordedWeights recordedWeights(Path run, JsonNode n) {
    String checkpoint = n.path("checkpoint").asText(""), sha256 = n.path(WEIGHTS_SHA256).asText(null);
    if (sha256 == null) return null;
    Path path = checkpoint.equals("best") ? Trainer.best(run)
        : checkpoint.equals("latest") ? Trainer.latest(run) : null;
    return path == null ? null : new RecordedWeights(checkpoint, path, sha256);
  }

  /** Writes a record's properties as the top-level fields, with the schema version. */
  public static void writeRecord(Path file, Object record) throws IOException {
    writeRecord(file, record, null);
  }

  /** {@link #writeRecord(Path, Object)} with {@link #WEIGHTS_SHA256} unless that is null. */
  @SuppressWarnings("unchecked")
  static void writeRecord(Path file, Object record, String weightsSha256) throws IOException {
    Map<String, Object> fields = new LinkedHashMap<>(MAPPER.convertValue(record, Map.class));
    if (weightsSha256 != null) fields.put(WEIGHTS_SHA256, weightsSha256);
    write(file, fields);
  }
}
