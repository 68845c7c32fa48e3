package org.irevnet.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.irevnet.analysis.MlpClassifier;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.data.Batches;
import org.irevnet.data.Dataset;
import org.irevnet.data.Split;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.reports.NuisanceProbeReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "probe", mixinStandardHelpOptions = true,
    header = "Probes of a frozen trained run: label information in the nuisance z_n (--nuisance).",
    description = "--nuisance trains a fresh MLP on the standardised z_n of the training split and writes"
        + " nuisance-probe.json (logit_accuracy, nuisance_accuracy, excess, recipe) into --out (default"
        + " RUN_DIR/analysis).")
final class ProbeCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Option(names = "--nuisance", description = "Nuisance probe (fi-RevNet models only).") boolean nuisance;

  @Option(names = "--train-count", paramLabel = "N",
      description = "Use a seeded random subset of N training images (default: all).")
  Integer trainCount;

  @Option(names = "--test-count", paramLabel = "N",
      description = "Use a seeded random subset of N test images (default: all).")
  Integer testCount;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the subsets and of the probes (default 0).")
  long seed;

  @Option(names = "--epochs", paramLabel = "E",
      description = "Epochs of the nuisance probe (default " + 10 + ", the fixed recipe).")
  Integer epochs;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default RUN_DIR/analysis).") Path out;

  @Override
  public Integer call() throws Exception {
    if (!nuisance) throw new IllegalArgumentException("say what to probe: --nuisance");
    common.apply();
    long t0 = System.nanoTime();
    RunInputs test = target.load();
    InvertibleClassifier model = test.model();
    Dataset train = subsample(target.load(test.checkpoint(), Split.TRAIN).data(), trainCount, seed);
    Dataset testSet = subsample(test.data(), testCount, seed);
    Path dir = target.outputDir(out);
    MlpClassifier.Recipe recipe = NuisanceProbe.DEFAULT_RECIPE.withSeed(seed);
    if (epochs != null) recipe = recipe.withEpochs(epochs);
    NuisanceProbe.Result r = NuisanceProbe.measure(model, train, testSet, recipe);
    NuisanceProbeReport rep = NuisanceProbeReport.of(target.run.toString(), test.checkpoint(), testSet.name(),
        model.summary(), r, (System.nanoTime() - t0) / 1e9);
    Path json = dir.resolve("nuisance-probe.json");
    rep.writeJson(json);
    System.out.print(rep.line());
    System.out.println(json);
    return 0;
  }

  /** A seeded random subset of {@code count} images (in dataset order), or all when null or larger. */
  static Dataset subsample(Dataset d, Integer count, long seed) {
    if (count == null || count >= d.size()) return d;
    if (count < 1) throw new IllegalArgumentException("--train-count and --test-count must be at least 1, got " + count);
    int[] idx = Arrays.copyOf(Batches.order(d.size(), seed, 0, true), count);
    Arrays.sort(idx);
    return d.subset(d.name() + "[" + count + " of " + d.size() + "]", idx);
  }
}
