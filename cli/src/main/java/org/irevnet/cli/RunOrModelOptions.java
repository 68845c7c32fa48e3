package org.irevnet.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * What a command that also analyses non-invertible networks is given: a trained run, or a user's
 * DL4J model zip ({@code --model}, with {@code --data}) and the layers to probe in it.
 */
final class RunOrModelOptions extends RunOptions {
  @Option(names = "--model", paramLabel = "FILE", description = "Instead of --run: a DL4J model zip saved by"
      + " ModelSerializer (ComputationGraph or MultiLayerNetwork); needs --data. Results go to FILE's analysis"
      + " directory (FILE without .zip, plus -analysis), which report reads.")
  Path model;

  @Option(names = "--probe-layers", split = ",", paramLabel = "NAME",
      description = "DL4J networks: the layers or vertices to probe, by name (default: every layer after a"
          + " non-linearity or a pooling).")
  List<String> probeLayers;

  @Override
  Path model() {
    return model;
  }

  @Override
  List<String> probeLayers() {
    return probeLayers;
  }

  @Override
  String required() {
    return "either --run RUN_DIR or --model FILE";
  }
}
