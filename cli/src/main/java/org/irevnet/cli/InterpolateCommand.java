package org.irevnet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.irevnet.analysis.Interpolation;
import org.irevnet.data.Dataset;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.reports.ClassNames;
import org.irevnet.reports.InterpolationReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "interpolate", mixinStandardHelpOptions = true,
    header = "Interpolation between test images in a trained model's representation, with the model's prediction"
        + " at every step.",
    description = "For seeded pairs (x0, x1) of test images with different labels: the full-representation path"
        + " F^-1((1 - a) F(x0) + a F(x1)) (any model; injective i-RevNets invert the bijective part and drop the"
        + " padding) and, for fi-RevNets, the path with z_s fixed at x0's while z_n moves to x1's. Writes"
        + " interpolate.json and interpolate.png (one row per path, a = 0 on the left) into --out (default"
        + " RUN_DIR/analysis). Exit code 1 if an image or its logits are not finite.")
final class InterpolateCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Mixin AnalysisOutput output;

  @Option(names = "--count", defaultValue = "4", description = "Number of pairs (default 4).") int count;

  @Option(names = "--steps", defaultValue = "9", description = "Images per path, endpoints included (default 9).")
  int steps;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the pair choice (default 0).") long seed;

  @Option(names = "--grid", defaultValue = "32", paramLabel = "N",
      description = "Pairs shown in interpolate.png and the table, the first N (default 32); interpolate.json holds all.")
  int grid;

  @Override
  public Integer call() throws Exception {
    org.irevnet.settings.Ranges.atLeast("--steps", steps, 2); // the two endpoints
    CommonOptions.positive("--count", count);
    CommonOptions.positive("--grid", grid);
    common.apply();
    output.check(target);
    RunInputs in = target.load().noteOtherSize("interpolate");
    Dataset test = in.data();
    // In float64, as metamers judges its invariant: the paths of an ill-conditioned model (iCE)
    // reach pixel values of 1e8 and more, where float32 rounding alone changed the classes.
    InvertibleClassifier model = in.model().withDataType(DataType.DOUBLE);
    // A path holds its steps' mixed representations, images and their encoding at once: --steps
    // 100000000 crashed the JVM in native code.
    CommonOptions.checkCountFitsFloat64("--steps", steps, (long) test.channels() * test.height() * test.width(),
        "a path's images", "the mixed representations", "the images", "their encoding");
    ImagePairs chosen = ImagePairs.choose(test, count, seed);
    ClassNames names = ClassNames.of(test.classNames());
    List<InterpolationReport.Pair> records = new ArrayList<>();
    List<INDArray> rows = new ArrayList<>();
    String failure = null;
    for (int i = 0; i < chosen.indices().length; i++) {
      int[] p = chosen.indices()[i];
      INDArray x0 = chosen.a().get(NDArrayIndex.interval(i, i + 1)).dup(), x1 = chosen.b().get(NDArrayIndex.interval(i, i + 1)).dup();
      Interpolation.Path full = Interpolation.full(model, x0, x1, steps);
      Interpolation.Path nuisance = model.isFullyInvertible() && model.isBijective() ? Interpolation.nuisance(model, x0, x1, steps) : null;
      if (i < grid) {
        rows.add(full.images());
        if (nuisance != null) rows.add(nuisance.images());
      }
      if (failure == null) failure = nonFinite(model, p, "full", full);
      if (failure == null && nuisance != null) failure = nonFinite(model, p, "nuisance", nuisance);
      records.add(InterpolationReport.pair(p[0], p[1], test.labels()[p[0]], test.labels()[p[1]], names, full, nuisance));
    }
    InterpolationReport rep = new InterpolationReport(target.runDir().toString(), in.checkpoint(), test.name(),
        model.summary(), seed, steps, records, names.list(), in.dataDir().toString());
    Path dir = output.dir(target);
    Path json = dir.resolve("interpolate.json");
    AtomicFiles.together(() -> {
      rep.writeJson(json, in.weightsSha256());
      InterpolationReport.writePng(dir.resolve("interpolate.png"), rows);
    });
    System.out.print(rep.table(grid));
    System.out.println(json);
    if (failure != null) {
      System.err.println("irevnet interpolate: " + failure);
      return 1;
    }
    return 0;
  }

  /**
   * Null when every step of {@code path} (between test images {@code pair}) is finite; else which
   * step is not and why: the block whose inverse first gave a NaN or infinity, or the logits.
   */
  private static String nonFinite(InvertibleClassifier model, int[] pair, String name, Interpolation.Path path) {
    int step = Interpolation.firstNonFiniteStep(path);
    if (step < 0) return null;
    String why;
    if (Tensors.nonFinite(path.images().get(NDArrayIndex.point(step))) == 0) {
      why = "its image is finite, its logits are not";
    } else {
      // Inverts that step again, block by block, to say where it overflowed: only now that it has.
      String where = model.firstNonFiniteInverse(path.representations().get(NDArrayIndex.interval(step, step + 1)));
      why = where == null ? "the inverse overflowed" : where;
    }
    return String.format(Locale.ROOT, "step %d (a = %.3g) of the %s path from test image %d to %d is not finite (%s)",
        step, path.alphas()[step], name, pair[0], pair[1], why);
  }
}
