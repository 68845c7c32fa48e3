package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.irevnet.data.Split;
import picocli.CommandLine.Option;

/** {@code --run} and {@code --data}: the options of every command that works on a trained run. */
final class RunOptions {
  @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "A run directory made by train.")
  Path run;

  @Option(names = "--data", description = "Dataset (default: the one the run was trained on).")
  String data;

  /** The run's model ({@code best}, else {@code latest}) and its test split. */
  RunInputs load() throws IOException {
    return RunInputs.load(run, data);
  }

  RunInputs load(String checkpoint, Split split) throws IOException {
    return RunInputs.load(run, data, checkpoint, split);
  }
}
