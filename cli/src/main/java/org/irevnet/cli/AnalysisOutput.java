package org.irevnet.cli;

import java.nio.file.Path;
import org.irevnet.data.Datasets;
import picocli.CommandLine.Option;

/** {@code --out} of the commands that analyse a trained run: where their JSON and PNG files go. */
final class AnalysisOutput {
  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default RUN_DIR/analysis).")
  Path out;

  /** {@code --out}, or {@code RUN_DIR/analysis} (for {@code --model}: its analysis directory's) when it is not given. */
  Path dir(RunOptions target) throws java.io.IOException {
    return out != null ? out : target.runDir().resolve("analysis");
  }

  /**
   * Refuses the output directory before anything is loaded when nothing can be written in it:
   * the commands write their results last, and found out after all the work. Makes nothing, so a
   * run refused afterwards (its data, its checkpoint) leaves no directory behind. Without --out,
   * a run or model that is not there is left for loading to name, and data other than the run's is
   * refused: its results would replace the run's own in RUN_DIR/analysis.
   */
  void check(RunOptions target) throws java.io.IOException {
    target.check();
    // --out naming the run's own analysis/ is no other place, so the same rule holds for it.
    boolean intoOwn = out == null || Datasets.sameDirectory(out, target.runDirPath().resolve("analysis"));
    // As eval needs --as: the report showed such results as the run's, and the run's own were gone.
    if (intoOwn && !target.isOwnData()) {
      throw new IllegalArgumentException("--data " + target.data + " is not the data " + target.ownDataOf() + ":"
          + " give --out DIR for these results, so that they do not replace the run's own in "
          + target.runDirPath().resolve("analysis"));
    }
    // Another run's analysis/: its own results were replaced, and its report showed these as its own.
    if (!intoOwn) CommonOptions.refuseRunsAnalysis(out, "these results");
    if (out != null) CommonOptions.refuseRunDirectory(out);
    Path run = target.existingRunDir();
    Path dir = out != null ? out : run == null ? null : run.resolve("analysis");
    if (dir != null) {
      CommonOptions.refuseInCheckpoints(dir);
      org.irevnet.io.AtomicFiles.checkCanCreate(dir);
    }
  }
}
