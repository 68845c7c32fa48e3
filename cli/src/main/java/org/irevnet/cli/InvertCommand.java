package org.irevnet.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.LongStream;
import org.irevnet.analysis.Reconstruction;
import org.irevnet.analysis.Stability;
import org.irevnet.data.Dataset;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.reports.InversionReport;
import org.irevnet.settings.Ranges;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "invert", mixinStandardHelpOptions = true,
    header = "Reconstruction error of a trained run, from every stage's output and from z, in float32 and float64.",
    description = "Writes invert.json and invert.png (rows: original, reconstruction from z, 10x |difference|)"
        + " into --out (default RUN_DIR/analysis). --stability adds local Lipschitz constants of each stage's map and"
        + " its inverse (float64; exact from the whole Jacobian up to 4096 dimensions, else lower bounds from Lanczos"
        + " steps) and flags ill-conditioned stages. Exit code 1 if a"
        + " reconstruction is not finite or a float64 error exceeds float64_bound, 1e-6 x (1 + the images' largest"
        + " |pixel|).")
final class InvertCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Mixin AnalysisOutput output;

  @Option(names = "--count", defaultValue = "8", description = "Number of test images, the first N, at most"
      + " the test split's size (default 8).")
  int count;

  @Option(names = "--grid", defaultValue = "32", paramLabel = "N",
      description = "Images shown in invert.png, the first N (default 32).")
  int grid;

  @Option(names = "--stability", description = "Add local Lipschitz and condition estimates of every stage's map and of"
      + " the whole body (float64) to invert.json.")
  boolean stability;

  @Option(names = "--stability-count", defaultValue = "4", paramLabel = "N",
      description = "Images (the first N of --count) at which --stability estimates (default 4).")
  int stabilityCount;

  @Option(names = "--stability-images", split = ",", paramLabel = "I",
      description = "Images at which --stability estimates instead: indices among the inverted images, or 'worst' (the"
          + " one with the largest float32 error from z).")
  List<String> stabilityImages;

  @Option(names = "--stability-method", defaultValue = "auto", paramLabel = "auto|jacobian|lanczos",
      completionCandidates = Choices.StabilityMethod.class,
      description = "jacobian: the whole Jacobian of each map (one backward pass per output dimension) and its SVD,"
          + " exact; lanczos: --iterations steps, lower bounds; auto (default): jacobian for maps of at most "
          + Stability.JACOBIAN_MAX_DIMS + " dimensions, else lanczos. --iterations alone means lanczos.")
  String stabilityMethod;

  @Option(names = "--iterations", defaultValue = "" + Stability.ITERATIONS, paramLabel = "K",
      description = "Lanczos (power-iteration) steps of --stability-method lanczos (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--ill-conditioned", defaultValue = "" + Stability.ILL_CONDITIONED, paramLabel = "C",
      description = "Flag maps whose condition estimate exceeds C (default ${DEFAULT-VALUE}).")
  double illConditioned;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    CommonOptions.positive("--count", count);
    CommonOptions.positive("--grid", grid);
    // An option that is not read is refused, as attack and probe refuse theirs: --iterations 5
    // without --stability ran as if not given, and --stability-count was dropped for --stability-images.
    for (String o : List.of("--stability-images", "--stability-count", "--stability-method", "--iterations",
        "--ill-conditioned")) {
      if (CommonOptions.typed(spec, o) && !stability) throw new IllegalArgumentException(o + " needs --stability");
    }
    Ranges.oneOf("--stability-method", stabilityMethod, Stability.Method.ids());
    Stability.Method method = Stability.Method.valueOf(stabilityMethod.toUpperCase(Locale.ROOT));
    if (CommonOptions.typed(spec, "--iterations")) {
      if (!CommonOptions.typed(spec, "--stability-method")) {
        method = Stability.Method.LANCZOS;
      } else if (method == Stability.Method.JACOBIAN) {
        throw new IllegalArgumentException("--iterations counts Lanczos steps, and --stability-method jacobian takes"
            + " none (it is exact)");
      }
    }
    if (CommonOptions.typed(spec, "--stability-count") && stabilityImages != null) {
      throw new IllegalArgumentException("--stability-count and --stability-images exclude each other (the images"
          + " --stability-images names are the ones estimated at)");
    }
    if (stability) {
      if (stabilityImages != null) CommonOptions.given("--stability-images", stabilityImages.size(), "images");
      for (String i : stabilityImages == null ? List.<String>of() : stabilityImages) imageIndex(i, Long.MAX_VALUE, -1);
      CommonOptions.positive("--stability-count", stabilityCount);
      CommonOptions.positive("--iterations", iterations);
      Ranges.atLeast("--ill-conditioned", illConditioned, 1); // a condition number is at least 1
    }
    common.apply();
    output.check(target);
    RunInputs in = target.load().noteOtherSize("invert");
    Dataset ds = in.first(count);
    Reconstruction.Precisions p = Reconstruction.inBothPrecisions(in.model(), ds.images());
    InversionReport r = InversionReport.of(target.runDir().toString(), in.checkpoint(), ds.name(), in.dataDir().toString(),
        in.model().summary(), ds.size(), p, Reconstruction.float64Bound(ds.images()));
    if (stability) {
      long[] at = stabilityImages == null ? LongStream.range(0, Math.min(stabilityCount, ds.size())).toArray()
          : stabilityImages.stream().mapToLong(i -> imageIndex(i, ds.size(), p.zFloat32().worst())).distinct().toArray();
      INDArray points = ds.images().get(NDArrayIndex.indices(at), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
      StatusLine status = new StatusLine(!common.noProgress);
      List<Stability.MapStability> maps = Stability.perStage(in.model().withDataType(DataType.DOUBLE), points, method,
          iterations, 0, (done, total, map) -> status.update(done, total, String.format(Locale.ROOT,
              "stability: %s, backward pass %d/%d   ", map, done, total)));
      status.end();
      r = r.withStability(maps, illConditioned, Arrays.stream(at).boxed().toList());
    }
    Path dir = output.dir(target);
    Path json = dir.resolve("invert.json");
    INDArrayIndex shown = NDArrayIndex.interval(0, Math.min(grid, ds.size()));
    InversionReport report = r;
    AtomicFiles.together(() -> {
      report.writeJson(json, in.weightsSha256());
      InversionReport.writePng(dir.resolve("invert.png"), ds.images().get(shown), p.reconstruction().get(shown));
    });
    System.out.print(r.table());
    System.out.print(r.stabilityTable());
    System.out.println(json);
    String failure = failure(in.model(), ds.images(), r);
    if (failure != null) {
      System.err.println("irevnet invert: " + failure);
      return 1;
    }
    return 0;
  }

  /**
   * Null when every reconstruction is finite and every float64 one within the report's bound;
   * else what failed: the first reconstruction that is not finite (stages in order, then z;
   * float32 first) and the block whose inverse gave it, or the largest float64 error.
   */
  private static String failure(InvertibleClassifier model, INDArray images, InversionReport r) {
    for (InversionReport.Stage s : r.rows()) {
      for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
        InversionReport.Errors e = dt == DataType.FLOAT ? s.float32() : s.float64();
        if (Double.isFinite(e.maxAbsErr())) continue;
        // Inverts that image again, block by block, to say where it overflowed: only now that it has.
        InvertibleClassifier m = model.withDataType(dt);
        INDArray x = images.get(NDArrayIndex.interval(e.worstImage(), e.worstImage() + 1)).castTo(dt).dup('c');
        String where = Reconstruction.whyNotFinite(m, x, s.stage().equals("z") ? -1 : Integer.parseInt(s.stage()));
        return String.format(Locale.ROOT, "the %s reconstruction of image %d from %s is not finite (%s)",
            dt == DataType.FLOAT ? "float32" : "float64", e.worstImage(), from(s),
            where == null ? "the inverse overflowed" : where);
      }
    }
    InversionReport.Stage worst = r.rows().stream().max(Comparator.comparingDouble(s -> s.float64().maxAbsErr()))
        .orElseThrow();
    if (worst.float64().maxAbsErr() <= r.float64Bound()) return null;
    return String.format(Locale.ROOT, "the float64 reconstruction of image %d from %s is %.2e off, beyond float64_bound"
        + " %.2e: an inverse is wrong, or the model amplifies rounding more than about 1e10 times (--stability tells"
        + " which)", worst.float64().worstImage(), from(worst), worst.float64().maxAbsErr(), r.float64Bound());
  }

  private static String from(InversionReport.Stage s) {
    return s.stage().equals("z") ? "z" : "stage " + s.stage() + "'s output";
  }

  /** An entry of --stability-images: an index below {@code count}, or 'worst' ({@code worst}). */
  private static long imageIndex(String entry, long count, long worst) {
    if (entry.equals("worst")) return worst;
    long i;
    try {
      i = Long.parseLong(entry.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--stability-images takes image indices or 'worst', got '" + entry + "'");
    }
    Ranges.atLeast("--stability-images", i, 0);
    if (i >= count) {
      throw new IllegalArgumentException("--stability-images " + i + " is beyond the " + count + " inverted images (--count)");
    }
    return i;
  }
}
