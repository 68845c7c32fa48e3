package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * One section of a run's report. {@code status} is {@code ok}, {@code not_run} (none of its
 * files exist; {@code note} says which command makes them), {@code not_applicable} (the run's
 * model cannot have this analysis: a DL4J network, which invert, metamers, interpolate, sample and
 * probe --nuisance refuse; {@code note} says why), {@code error} (a file could not be
 * read; {@code note} says why) or {@code failed} (its files were read and are shown, but one
 * records a check of its own that failed, as {@code metamers.json}'s {@code invariant_holds}
 * false; {@code note} names the file and the check). {@code sources} are the files it read,
 * relative to the run dir. {@code otherData}: its analysis files computed on other data than the
 * run's own test data, by file, to the data they name (absent when none).
 */
public record Section(String id, String title, String status, List<String> sources, String note,
    List<Figure> figures,
    @JsonProperty("other_data") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> otherData) {
  public static final String OK = "ok", NOT_RUN = "not_run", NOT_APPLICABLE = "not_applicable", ERROR = "error",
      FAILED = "failed";

  static Section ok(String id, String title, List<String> sources, List<Figure> figures) {
    return new Section(id, title, OK, sources, null, figures, Map.of());
  }

  static Section notRun(String id, String title, String note) {
    return new Section(id, title, NOT_RUN, List.of(), note, List.of(), Map.of());
  }

  static Section notApplicable(String id, String title, String note) {
    return new Section(id, title, NOT_APPLICABLE, List.of(), note, List.of(), Map.of());
  }

  static Section error(String id, String title, List<String> sources, String message) {
    return new Section(id, title, ERROR, sources, message, List.of(), Map.of());
  }

  /** This section, its figures kept, marked {@code failed} with {@code note} saying what failed. */
  Section failed(String note) {
    return new Section(id, title, FAILED, sources, note, figures, otherData);
  }

  /** This section with the files of other data ({@link #otherData}). */
  Section withOtherData(Map<String, String> files) {
    return new Section(id, title, status, sources, note, figures, files);
  }
}
