package org.irevnet.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --out} of the commands that analyse a trained run: where their JSON and PNG files go. */
final class AnalysisOutput {
  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default RUN_DIR/analysis).")
  Path out;

  /** {@code --out}, or {@code RUN_DIR/analysis} (for {@code --model}: its analysis directory's) when it is not given. */
  Path dir(RunOptions target) throws java.io.IOException {
    return out != null ? out : target.runDir().resolve("analysis");
  }
}
