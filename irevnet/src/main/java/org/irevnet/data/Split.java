package org.irevnet.data;

/** The two parts of every dataset. */
public enum Split {
  TRAIN("train", "train"),
  TEST("test", "t10k");

  private final String folder;
  private final String idxPrefix;

  Split(String folder, String idxPrefix) {
    this.folder = folder;
    this.idxPrefix = idxPrefix;
  }

  /** Lower-case name, also the sub-folder of a PNG folder dataset: {@code train}, {@code test}. */
  public String folder() {
    return folder;
  }

  /** Prefix of the IDX file names: {@code train} or {@code t10k}. */
  public String idxPrefix() {
    return idxPrefix;
  }

  @Override
  public String toString() {
    return folder;
  }
}
