package org.irevnet.reports;

import java.io.IOException;
import java.nio.file.Path;

/** A result that an analysis command writes as its JSON file, which the report reads back. */
public interface AnalysisFile {
  /** Writes this record's properties as the file's fields, with the schema version. */
  default void writeJson(Path file) throws IOException {
    writeJson(file, null);
  }

  /**
   * {@link #writeJson(Path)}, also recording the SHA-256 of the checkpoint weights the result was
   * computed from ({@link JsonReport#WEIGHTS_SHA256}; not written when null, as for a model zip).
   */
  default void writeJson(Path file, String weightsSha256) throws IOException {
    JsonReport.writeRecord(file, this, weightsSha256);
  }
}
