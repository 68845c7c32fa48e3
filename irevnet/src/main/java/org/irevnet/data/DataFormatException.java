package org.irevnet.data;

import java.nio.file.Path;

/**
 * A dataset file or directory that cannot be used as it is. The message is one line of the form
 * {@code "<file>: <problem>"}, so that it can be shown to a user as it is.
 */
public class DataFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public DataFormatException(Path file, String problem) {
    super(oneLine(file + ": " + problem));
    this.file = file;
  }

  public DataFormatException(Path file, String problem, Throwable cause) {
    super(oneLine(file + ": " + problem), cause);
    this.file = file;
  }

  /** The file or directory the problem is in. */
  public Path file() {
    return file;
  }

  private static String oneLine(String s) {
    return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
