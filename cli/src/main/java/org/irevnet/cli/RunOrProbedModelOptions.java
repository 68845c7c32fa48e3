package org.irevnet.cli;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@link RunOrModelOptions} and the layers of a DL4J network to probe, for the commands that
 * look at its layers' outputs (probe --layers, attack feature-match). eval only needs the logits,
 * and could only have checked that the layers exist.
 */
final class RunOrProbedModelOptions extends RunOrModelOptions {
  @Option(names = "--probe-layers", split = ",", paramLabel = "NAME",
      description = "DL4J networks: the layers or vertices to probe, by name (default: every layer after a"
          + " non-linearity or a pooling).")
  List<String> probeLayers;

  @Override
  List<String> probeLayers() {
    return probeLayers;
  }
}
