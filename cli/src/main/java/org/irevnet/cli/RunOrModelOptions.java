package org.irevnet.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What a command that also analyses non-invertible networks is given: a trained run, or a user's
 * DL4J model zip ({@code --model}, with {@code --data}). The commands that look inside such a
 * network also take the layers to probe: {@link RunOrProbedModelOptions}.
 */
class RunOrModelOptions extends RunOptions {
  @Option(names = "--model", paramLabel = "FILE", description = "Instead of --run: a DL4J model zip saved by"
      + " ModelSerializer (ComputationGraph or MultiLayerNetwork); needs --data. Results go to FILE's analysis"
      + " directory (FILE without .zip, plus -analysis), which report reads.")
  Path model;

  @Override
  Path model() {
    return model;
  }

  @Override
  String required() {
    return "either --run RUN_DIR or --model FILE";
  }
}
