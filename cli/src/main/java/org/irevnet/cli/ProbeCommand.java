package org.irevnet.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.irevnet.analysis.Features;
import org.irevnet.analysis.LayerProbes;
import org.irevnet.analysis.MlpClassifier;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.data.Batches;
import org.irevnet.data.Dataset;
import org.irevnet.data.Split;
import org.irevnet.models.Classifier;
import org.irevnet.reports.LayerProbeReport;
import org.irevnet.reports.NuisanceProbeReport;
import org.irevnet.settings.Ranges;
import org.irevnet.train.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "probe", mixinStandardHelpOptions = true,
    header = "Probes of a frozen trained run: per-stage linear and 1-NN probes (--layers), label information in the"
        + " nuisance z_n (--nuisance).",
    description = "--layers writes layer-probes.json (per stage, or per layer of a DL4J network: linear and 1-NN"
        + " test accuracy of the spatially averaged, standardised output, the linear probe an L2-penalised softmax"
        + " regression fitted by L-BFGS to a gradient of 1e-4, its penalty chosen on a held-out fifth of the training"
        + " images; PCA"
        + " curve at the last one). --nuisance trains a fresh MLP on the"
        + " standardised z_n of the training split and writes nuisance-probe.json (logit_accuracy,"
        + " nuisance_accuracy, excess, recipe). Every accuracy has its 95%% Wilson interval (*_ci95, over the test"
        + " images), nuisance-probe.json the per-image results and excess_p_value (exact McNemar, probe against"
        + " logits). Both go into --out (default RUN_DIR/analysis).")
final class ProbeCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOrProbedModelOptions target;

  @Mixin AnalysisOutput output;

  /** Default subset sizes of --layers (all of fashion-mnist-mini). */
  static final int LAYERS_TRAIN = 6000, LAYERS_TEST = 1000;

  @Option(names = "--layers", description = "Per-stage probes and the PCA curve.") boolean layers;

  @Option(names = "--nuisance", description = "Nuisance probe (fi-RevNet models only).") boolean nuisance;

  @Option(names = "--train-count", paramLabel = "N", description = "Use a seeded random subset of N training images,"
      + " at most the split's size (default: " + LAYERS_TRAIN + " for --layers, all for --nuisance).")
  Integer trainCount;

  @Option(names = "--test-count", paramLabel = "N", description = "Use a seeded random subset of N test images,"
      + " at most the split's size (default: " + LAYERS_TEST + " for --layers, all for --nuisance).")
  Integer testCount;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the subsets, of the nuisance probe and of the"
      + " training images the linear probes hold out to choose their penalty (default 0).")
  long seed;

  @Option(names = "--epochs", paramLabel = "E",
      description = "Epochs of the nuisance probe (default: its fixed recipe, " + NuisanceProbe.DEFAULT_EPOCHS + "). The linear probes of --layers have"
          + " none: L-BFGS fits them to a gradient of 1e-4.")
  Integer epochs;

  @Option(names = "--weight-decay", paramLabel = "W", description = "Decoupled (AdamW) weight decay of the nuisance"
      + " probe, on weights and biases alike (default 0, as in its fixed recipe: unregularised).")
  Double weightDecay;

  @Option(names = "--whiten", description = "The nuisance probe reads z_n whitened by the training split's PCA instead"
      + " of standardised only: a reader of label information in directions of small variance, which the fixed"
      + " recipe barely sees in a few hundred steps.")
  boolean whiten;

  @Option(names = "--linear", description = "With the nuisance probe, also the linear probe of --layers (L2-penalised"
      + " softmax regression solved to its minimum, each fit to a gradient of 1e-6 where --layers' stop at 1e-4, penalty"
      + " chosen on held-out training images) on the standardised"
      + " z_n, never whitened: linear_* fields in nuisance-probe.json.")
  boolean linear;

  @Override
  public Integer call() throws Exception {
    if (!layers && !nuisance) throw new IllegalArgumentException("say what to probe: --layers, --nuisance or both");
    if (trainCount != null) CommonOptions.positive("--train-count", trainCount);
    if (testCount != null) CommonOptions.positive("--test-count", testCount);
    if (epochs != null) CommonOptions.positive("--epochs", epochs);
    if (weightDecay != null) Ranges.nonNegative("--weight-decay", weightDecay);
    // They set the nuisance probe's Adam recipe; the linear probes have none to set.
    if (!nuisance && epochs != null) throw new IllegalArgumentException("--epochs applies to --nuisance only: the linear"
        + " probes of --layers have none (L-BFGS fits them to a gradient of 1e-4)");
    if (!nuisance && whiten) throw new IllegalArgumentException("--whiten applies to --nuisance only: it sets what the"
        + " nuisance probe reads");
    if (!nuisance && linear) throw new IllegalArgumentException("--linear applies to --nuisance only: it adds a linear"
        + " reader of z_n to the nuisance probe (the probes of --layers are linear already)");
    if (!nuisance && weightDecay != null) throw new IllegalArgumentException("--weight-decay applies to --nuisance only:"
        + " the linear probes of --layers choose their L2 penalty on held-out training images");
    common.apply();
    output.check(target);
    RunInputs test = target.load();
    Classifier model = test.classifier();
    // An invertible model with a z_s/z_n split, checked before any work: an i-RevNet's layer probes
    // were computed and written, then the command failed (exit 2) at the nuisance probe.
    if (nuisance) NuisanceProbe.requireFullyInvertible(test.model());
    // Before any work: LayerProbes then failed with "need the same (non-zero) number of stages in both splits, got 0 and 0".
    if (layers && model.layerNames().isEmpty()) throw new IllegalArgumentException(model.noLayersToProbe());
    Dataset trainAll = test.splits().apply(Split.TRAIN);
    test.noteOtherSize("probe");
    // Only what is asked for: a --nuisance run does not copy the layer probes' 6,000 images.
    Dataset layersTrain = layers ? subsample(trainAll, trainCount != null ? trainCount : LAYERS_TRAIN, seed) : null;
    Dataset layersTest = layers ? subsample(test.data(), testCount != null ? testCount : LAYERS_TEST, seed) : null;
    // Before the features: each linear probe is fitted on some training images and its penalty
    // chosen on the others, and one image failed as "softmax regression: choosing a penalty needs
    // 2 examples" once every stage's features had been computed.
    if (layers) requireTwoForALinearProbe("--layers", layersTrain, trainAll);
    Dataset nuisanceTrain = nuisance ? subsample(trainAll, trainCount, seed) : null;
    // Likewise --linear's, which failed as softmax regression's own error once z was computed.
    if (linear) requireTwoForALinearProbe("--linear", nuisanceTrain, trainAll);
    Dataset nuisanceTest = nuisance ? subsample(test.data(), testCount, seed) : null;
    // Subsets of one split by one seed are the same images when they are as many (all of it, or
    // the first N of the same order): then the nuisance probe's z is the layer probes' last stage,
    // from the same forward passes (the quickstart's probe step computed every image twice).
    boolean shared = layers && nuisance && layersTrain.size() == nuisanceTrain.size()
        && layersTest.size() == nuisanceTest.size();
    INDArray zTrain = null, zTest = null;
    Path dir = output.dir(target);
    // In the order the README and the help text give them.
    if (layers) {
      long start = System.nanoTime();
      LayerProbes.Result r;
      if (shared) {
        Features.StagesAndZ trainFeatures = Features.pooledStagesAndZ(test.model(), layersTrain.images());
        Features.StagesAndZ testFeatures = Features.pooledStagesAndZ(test.model(), layersTest.images());
        r = LayerProbes.measure(model, trainFeatures.pooled(), layersTrain, testFeatures.pooled(), layersTest, seed);
        zTrain = trainFeatures.z();
        zTest = testFeatures.z();
      } else {
        r = LayerProbes.measure(model, layersTrain, layersTest, seed);
      }
      double logitAcc = Evaluation.evaluate(model, layersTest, Features.BATCH, "test").accuracy();
      LayerProbeReport rep = LayerProbeReport.of(target.runDir().toString(), test.checkpoint(), layersTest.name(),
          test.dataDir().toString(), model.summary(), logitAcc, r, (System.nanoTime() - start) / 1e9);
      Path json = dir.resolve("layer-probes.json");
      rep.writeJson(json, test.weightsSha256());
      System.out.print(rep.table());
      System.out.println(json);
    }
    if (nuisance) {
      long start = System.nanoTime();
      MlpClassifier.Recipe recipe = recipe(NuisanceProbe.DEFAULT_RECIPE);
      NuisanceProbe.Readers readers = new NuisanceProbe.Readers(whiten, linear);
      NuisanceProbe.Result r = shared
          ? NuisanceProbe.measure(zTrain, nuisanceTrain.labels(), zTest, nuisanceTest.labels(), model.numClasses(), recipe,
              readers)
          : NuisanceProbe.measure(test.model(), nuisanceTrain, nuisanceTest, recipe, readers);
      NuisanceProbeReport rep = NuisanceProbeReport.of(target.runDir().toString(), test.checkpoint(), nuisanceTest.name(),
          test.dataDir().toString(), model.summary(), r, (System.nanoTime() - start) / 1e9);
      Path json = dir.resolve("nuisance-probe.json");
      rep.writeJson(json, test.weightsSha256());
      System.out.print(rep.line());
      System.out.println(json);
    }
    return 0;
  }

  private static void requireTwoForALinearProbe(String option, Dataset train, Dataset trainAll) {
    if (train.size() >= 2) return;
    throw new IllegalArgumentException(option + " needs at least 2 training images (a probe is fitted on some and its"
        + " penalty chosen on the others), got " + train.size() + (train.size() < trainAll.size()
        ? " (--train-count)" : " (" + trainAll.name() + " has " + trainAll.size() + ")"));
  }

  private MlpClassifier.Recipe recipe(MlpClassifier.Recipe base) {
    MlpClassifier.Recipe r = base.withSeed(seed);
    if (weightDecay != null) r = r.withWeightDecay(weightDecay);
    return epochs == null ? r : r.withEpochs(epochs);
  }

  /** The end of the name {@link #subsample} gives a seeded subset: which images it holds depends on the seed. */
  static final Pattern SEEDED_SUBSET = Pattern.compile("\\[\\d+ of \\d+]$");

  /** A seeded random subset of {@code count} images (in dataset order), or all when null or larger. */
  static Dataset subsample(Dataset d, Integer count, long seed) {
    if (count == null || count >= d.size()) return d;
    int[] idx = Arrays.copyOf(Batches.order(d.size(), seed, 0, true), count);
    Arrays.sort(idx);
    return d.subset(d.name() + "[" + count + " of " + d.size() + "]", idx);
  }
}
