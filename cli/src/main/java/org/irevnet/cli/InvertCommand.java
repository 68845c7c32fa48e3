package org.irevnet.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.irevnet.analysis.Reconstruction;
import org.irevnet.data.Dataset;
import org.irevnet.reports.InversionReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "invert", mixinStandardHelpOptions = true,
    header = "Reconstruction error of a trained run, from every stage's output and from z, in float32 and float64.",
    description = "Writes invert.json and invert.png (rows: original, reconstruction from z, 10x |difference|)"
        + " into --out (default RUN_DIR/analysis).")
final class InvertCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Option(names = "--count", defaultValue = "8", description = "Number of test images, the first N (default 8).")
  int count;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default RUN_DIR/analysis).") Path out;

  @Override
  public Integer call() throws Exception {
    common.apply();
    RunInputs in = target.load();
    Dataset ds = in.first(count);
    Reconstruction.Precisions p = Reconstruction.inBothPrecisions(in.model(), ds.images());
    InversionReport r = InversionReport.of(target.run.toString(), in.checkpoint(), ds.name(), in.model().summary(),
        ds.size(), p);
    Path dir = target.outputDir(out);
    Path json = dir.resolve("invert.json");
    r.writeJson(json);
    InversionReport.writePng(dir.resolve("invert.png"), ds.images(), p.reconstruction());
    System.out.print(r.table());
    System.out.println(json);
    return 0;
  }
}
