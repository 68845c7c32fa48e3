package org.irevnet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.host.Host;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.reports.ImageGrid;
import org.irevnet.reports.JsonReport;
import org.irevnet.train.Density;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sample", mixinStandardHelpOptions = true,
    header = "Draw images from a bijective model as a density: x = F^-1(z), z ~ N(0, T^2 I); a PNG grid and a JSON.",
    description = {
        "Meant for runs trained with --objective mle (any bijective model works; injective ones are refused).",
        "Writes samples-tT.png (the model's whole input, zero padding included, clipped to [0, 1]) and samples-tT.json",
        "into --out (default RUN_DIR/analysis). Exit code 1 if a sample is not finite."},
    modelTransformer = SampleCommand.WithoutData.class)
final class SampleCommand implements Callable<Integer> {
  /**
   * Hides RunOptions' --data, which sample refuses: the samples come from the model alone, and
   * sample accepted --data and did nothing with it. A command lists only options it takes
   * (HelpTextTest); hidden rather than removed, so that the refusal can say why, where picocli
   * would say "Unknown options: '--data', 'DATA'".
   */
  static final class WithoutData implements CommandLine.IModelTransformer {
    @Override
    public CommandLine.Model.CommandSpec transform(CommandLine.Model.CommandSpec spec) {
      CommandLine.Model.OptionSpec data = spec.findOption("--data");
      return spec.remove(data).addOption(data.toBuilder().hidden(true).build());
    }
  }

  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Mixin AnalysisOutput output;

  @Option(names = {"--count", "-n"}, defaultValue = "64", description = "Number of images (default 64).")
  int count;

  @Option(names = "--temperature", defaultValue = "0.7",
      description = "Standard deviation of z (default 0.7; 1 samples the model itself).")
  double temperature;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of z (default 0).") long seed;

  @Option(names = "--columns", defaultValue = "8", description = "Images per row of the grid (default 8).")
  int columns;

  @Option(names = "--grid", defaultValue = "64", paramLabel = "N",
      description = "Images shown in the PNG, the first N (default 64); the JSON's statistics cover all.")
  int grid;

  @Option(names = "--checkpoint", completionCandidates = Choices.Checkpoint.class,
      description = "best or latest (default: best, else latest).") String checkpoint;

  @Override
  public Integer call() throws Exception {
    if (target.data != null) throw new IllegalArgumentException("--data does not apply to sample: its images come from the model alone");
    common.apply();
    CommonOptions.positive("--count", count);
    org.irevnet.settings.Ranges.positive("--temperature", temperature);
    CommonOptions.positive("--columns", columns);
    CommonOptions.positive("--grid", grid);
    output.check(target);
    RunInputs.Model run = RunInputs.model(target.runDir(), checkpoint);
    InvertibleClassifier model = run.loaded().model();
    // No bits per dimension here, so no data to say which pixels are the images': the whole input.
    long[] input = model.inputShape(1);
    Density density = new Density(model, input[1] * input[2] * input[3]);
    CommonOptions.checkCountFits("--count", count, density.inputDims(), "the samples", "z", "the images",
        "their encoding", "its difference from z");
    long t0 = System.nanoTime();
    Density.Samples s = density.sample(count, temperature, seed);
    INDArray x = s.x();
    boolean finite = !x.isNaN().any() && !x.isInfinite().any();
    double reencode = finite ? density.reencodeError(s) : Double.NaN;
    double seconds = (System.nanoTime() - t0) / 1e9;

    String name = "samples-t" + compact(temperature);
    Path dir = output.dir(target);
    List<INDArray> rows = new ArrayList<>();
    int shown = Math.min(grid, count);
    for (int start = 0; start < shown; start += columns) {
      rows.add(x.get(NDArrayIndex.interval(start, Math.min(shown, start + columns))).castTo(DataType.FLOAT));
    }

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("schemaVersion", 1);
    out.put("run", target.runDir().toString());
    out.put("checkpoint", run.which());
    if (run.loaded().weightsSha256() != null) out.put(JsonReport.WEIGHTS_SHA256, run.loaded().weightsSha256());
    out.put("model", model.summary());
    out.put("count", count);
    out.put("temperature", temperature);
    out.put("seed", seed);
    out.put("input_dims", density.inputDims());
    out.put("finite", finite);
    out.put("min_pixel", Tensors.min(x));
    out.put("max_pixel", Tensors.max(x));
    out.put("fraction_outside_unit_interval", fractionOutsideUnitInterval(x));
    out.put("reencode_max_abs_err", reencode);
    out.put("image", name + ".png");
    out.put("seconds", seconds);
    out.put("threads", Host.threads());
    Path json = dir.resolve(name + ".json");
    AtomicFiles.together(() -> {
      ImageGrid.write(dir.resolve(name + ".png"), rows);
      AtomicFiles.writeString(json, Json.pretty(out) + "\n");
    });
    System.out.printf("%d samples at temperature %s: pixels in [%.3g, %.3g], re-encoding error %.2e; %s, %s%n", count,
        compact(temperature), out.get("min_pixel"), out.get("max_pixel"), reencode, dir.resolve(name + ".png"), json);
    if (!finite) {
      // Inverts z again, block by block, to say where it overflowed: only now that it has.
      String where = model.firstNonFiniteInverse(s.z());
      System.err.println("irevnet sample: some samples are not finite (" + (where == null ? "the inverse overflowed" : where)
          + "); try a lower --temperature");
      return 1;
    }
    return 0;
  }

  /**
   * The share of {@code x}'s entries below 0 or above 1, counted in float64: a float32 count stops
   * at 2^24, the pixels of 16,384 samples of 32x32.
   */
  static double fractionOutsideUnitInterval(INDArray x) {
    return (org.irevnet.nn.Tensors.sum64(x.lt(0)) + org.irevnet.nn.Tensors.sum64(x.gt(1))) / x.length();
  }

  /**
   * 0.7 -> "0.7", 1.0 -> "1", 1e-30 -> "1E-30": the temperature as it would be typed, in the file
   * names too (spelled out, 1e-320 made a name too long for the file system).
   */
  static String compact(double v) {
    java.math.BigDecimal d = java.math.BigDecimal.valueOf(v).stripTrailingZeros();
    String plain = d.toPlainString();
    return plain.length() <= 16 ? plain : d.toString();
  }
}
