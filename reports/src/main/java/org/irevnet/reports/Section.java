package org.irevnet.reports;

import java.util.List;

/**
 * One section of a run's report. {@code status} is {@code ok}, {@code not_run} (none of its
 * files exist; {@code note} says which command makes them) or {@code error} (a file could not be
 * read; {@code note} says why). {@code sources} are the files it read, relative to the run dir.
 */
public record Section(String id, String title, String status, List<String> sources, String note,
    List<Figure> figures) {
  public static final String OK = "ok", NOT_RUN = "not_run", ERROR = "error";

  static Section ok(String id, String title, List<String> sources, List<Figure> figures) {
    return new Section(id, title, OK, sources, null, figures);
  }

  static Section notRun(String id, String title, String note) {
    return new Section(id, title, NOT_RUN, List.of(), note, List.of());
  }

  static Section error(String id, String title, List<String> sources, String message) {
    return new Section(id, title, ERROR, sources, message, List.of());
  }
}
