package org.irevnet.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.irevnet.analysis.Features;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.data.Dataset;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.reports.ClassNames;
import org.irevnet.reports.MetamerReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "metamers", mixinStandardHelpOptions = true,
    header = "Metamers of a trained fi-RevNet: x_met = F^-1(z_s(a), z_n(b)) for seeded pairs of test images.",
    description = "Writes metamers.json and metamers.png (rows: logit source a, metamer, nuisance source b) into"
        + " --out (default RUN_DIR/analysis). Exit code 1 if a metamer's logits differ from a's by more than 1e-4 in float64.")
final class MetamersCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Mixin AnalysisOutput output;

  @Option(names = "--count", defaultValue = "8", description = "Number of pairs (default 8).") int count;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the pair choice (default 0).") long seed;

  @Option(names = "--grid", defaultValue = "32", paramLabel = "N",
      description = "Pairs shown in metamers.png and the table, the first N (default 32); metamers.json holds all.")
  int grid;

  @Option(names = "--probe-class", description = "Also train the nuisance probe (as probe --nuisance: a fresh MLP on"
      + " the standardised z_n of the training split) and report its class of every metamer: does the content the"
      + " metamer shows, b's, stay readable from z_n while the model says a's class?")
  boolean probeClass;

  @Override
  public Integer call() throws Exception {
    CommonOptions.positive("--count", count);
    CommonOptions.positive("--grid", grid);
    common.apply();
    output.check(target);
    RunInputs in = target.load();
    InvertibleClassifier model = in.model();
    // Before any work: a training split of another size than the test split is refused as it loads,
    // which came after every metamer had been computed.
    Dataset train = probeClass ? in.splits().apply(Split.TRAIN) : null;
    in.noteOtherSize("metamers");
    Dataset test = in.data();
    ImagePairs p = ImagePairs.choose(test, count, seed);
    int[][] pairs = p.indices();
    int[] labelsB = p.labelsB();
    INDArray a = p.a(), b = p.b();
    MetamerSampler.Result r = MetamerSampler.sample(model, a, b, labelsB);
    // The sampler casts each batch to float64 itself: no float64 copy of every pair at once.
    MetamerSampler.Result r64 = MetamerSampler.sample(model.withDataType(DataType.DOUBLE), a, b, labelsB);
    int[] probeClasses = null;
    if (probeClass) {
      NuisanceProbe.Trained probe = NuisanceProbe.train(Features.z(model, train.images()), train.labels(),
          model.numClasses(), NuisanceProbe.DEFAULT_RECIPE);
      System.err.printf("nuisance probe: trained on the %d training images' z_n (train accuracy %.4f)%n", train.size(),
          probe.trainAccuracy());
      probeClasses = probe.classes(Features.z(model, r.metamers()));
    }
    MetamerReport rep = MetamerReport.of(target.runDir().toString(), in.checkpoint(), test.name(), in.dataDir().toString(),
        model.summary(), seed, pairs, test.labels(), a, b, r, r64, probeClasses, ClassNames.of(test.classNames()));
    Path dir = output.dir(target);
    Path json = dir.resolve("metamers.json");
    AtomicFiles.together(() -> {
      rep.writeJson(json, in.weightsSha256());
      MetamerReport.writePng(dir.resolve("metamers.png"), a, r.metamers(), b, grid);
    });
    System.out.print(rep.table(grid));
    System.out.println(json);
    if (!rep.invariantHolds()) {
      List<MetamerReport.Pair> failed = rep.pairs().stream().filter(q -> !q.invariantHolds()).toList();
      System.err.println("irevnet metamers: invariant failed for " + failed.size() + " of " + rep.count()
          + " pairs: max |logits(x_met) - z_s(a)| in float64 " + String.format("%.3e",
              failed.stream().mapToDouble(MetamerReport.Pair::maxLogitAbsDiffF64).max().orElse(Double.NaN))
          + ", above " + MetamerSampler.TOLERANCE + " and not rounding (more than " + MetamerSampler.ROUNDING_RATIO
          + " times the float32 difference)");
      return 1;
    }
    if (!rep.float32Holds()) {
      System.err.println("irevnet metamers: note: exact in float64 up to rounding, but not representable in float32 (max |dlogit| "
          + String.format("%.3e", rep.summary().maxLogitAbsDiff()) + "; pixel values up to "
          + String.format("%.1e", rep.pairs().stream().mapToDouble(q -> Math.max(-q.metamerMin(), q.metamerMax())).max().orElse(0))
          + "): these metamers lie far outside the data's range");
    }
    return 0;
  }
}
