package org.irevnet.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
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

  @Override
  public Integer call() throws Exception {
    CommonOptions.positive("--count", count);
    common.apply();
    RunInputs in = target.load();
    Dataset test = in.data();
    ImagePairs p = ImagePairs.choose(test, count, seed);
    int[][] pairs = p.indices();
    int[] labelsB = p.labelsB();
    INDArray a = p.a(), b = p.b();
    InvertibleClassifier model = in.model();
    MetamerSampler.Result r = MetamerSampler.sample(model, a, b, labelsB);
    MetamerSampler.Result r64 = MetamerSampler.sample(model.withDataType(DataType.DOUBLE), a.castTo(DataType.DOUBLE),
        b.castTo(DataType.DOUBLE), labelsB);
    MetamerReport rep = MetamerReport.of(target.runDir().toString(), in.checkpoint(), test.name(), model.summary(), seed, pairs,
        test.labels(), a, b, r, r64);
    Path dir = output.dir(target);
    Path json = dir.resolve("metamers.json");
    rep.writeJson(json);
    MetamerReport.writePng(dir.resolve("metamers.png"), a, r.metamers(), b);
    System.out.print(rep.table());
    System.out.println(json);
    if (!rep.invariantHolds()) {
      System.err.println("irevnet metamers: invariant failed: max |logits(x_met) - z_s(a)| = "
          + String.format("%.3e", rep.summary().maxLogitAbsDiffF64()) + " > " + MetamerReport.TOLERANCE + " in float64");
      return 1;
    }
    if (!rep.float32Holds()) {
      System.err.println("irevnet metamers: note: exact in float64, but not representable in float32 (max |dlogit| "
          + String.format("%.3e", rep.summary().maxLogitAbsDiff()) + "; pixel values up to "
          + String.format("%.1e", rep.pairs().stream().mapToDouble(q -> Math.max(-q.metamerMin(), q.metamerMax())).max().orElse(0))
          + "): these metamers lie far outside the data's range");
    }
    return 0;
  }
}
