package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.irevnet.analysis.Reconstruction;
import org.irevnet.analysis.Stability;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@code invert.json}: per-stage and from-z reconstruction errors in float32 and float64 (DESIGN.md
 * section 5), and {@code invert.png}: originals, reconstructions from z, and 10x their absolute
 * difference. With {@code --stability}, {@code stability} lists the local Lipschitz and condition
 * estimates of every stage's map and of the whole body ({@link org.irevnet.analysis.Stability}).
 * {@code data_path} is the data's directory ({@code data} names only its last part and the split).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InversionReport(String run, String checkpoint, String data, String model, int count,
    List<Stage> stages, Stage z, double maxAbsErrF32, double maxAbsErrF64, double float64Bound,
    Double illConditionedAbove, List<Long> stabilityImages, List<StabilityRow> stability, String dataPath)
    implements AnalysisFile {

  /** Factor by which the difference image is amplified in the PNG. */
  public static final double AMPLIFY = 10;

  /** {@code worst_image}: the index (among the inverted images) of the image where the max is. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Errors(double maxAbsErr, double meanAbsErr, long worstImage) {
    static Errors of(Reconstruction.Error e) {
      return new Errors(e.maxAbs(), e.meanAbs(), e.worst());
    }
  }

  /**
   * Stability of one map ({@code stage} 0-based: from the previous stage's output to this one's;
   * {@code "z"}: the whole body) over the inverted images: maxima and means of the per-image
   * estimates; {@code ill_conditioned} when the largest condition estimate exceeds the threshold.
   * {@code method} is {@code "jacobian"} (exact) or {@code "lanczos"} (lower bounds after {@code
   * iterations} steps, null for the Jacobian).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record StabilityRow(String stage, long inputDims, String method, Integer iterations, double forwardLipschitzMax,
      double forwardLipschitzMean, double inverseLipschitzMax, double inverseLipschitzMean, double conditionMax,
      double conditionMean, boolean illConditioned) {}

  /** This report with the stability estimates added, made at the inverted images {@code images}. */
  public InversionReport withStability(List<Stability.MapStability> maps, double threshold, List<Long> images) {
    List<StabilityRow> rows = new ArrayList<>();
    for (Stability.MapStability m : maps) {
      rows.add(new StabilityRow(m.name(), m.inputDims(), m.method().id(),
          m.method() == Stability.Method.JACOBIAN ? null : m.iterations(), m.maxForward(),
          mean(m, Stability.Point::forwardLipschitz), m.maxInverse(), mean(m, Stability.Point::inverseLipschitz),
          m.maxCondition(), mean(m, Stability.Point::condition), !(m.maxCondition() <= threshold)));
    }
    return new InversionReport(run, checkpoint, data, model, count, stages, z, maxAbsErrF32, maxAbsErrF64, float64Bound,
        threshold, images, rows, dataPath);
  }

  private static double mean(Stability.MapStability m, ToDoubleFunction<Stability.Point> f) {
    return m.points().stream().mapToDouble(f).average().orElse(Double.NaN);
  }

  /** The stability table for the terminal (empty without estimates). */
  public String stabilityTable() {
    if (stability == null) return "";
    StringBuilder b = new StringBuilder(stabilityImages == null ? "" : "at images " + stabilityImages.stream()
        .map(String::valueOf).collect(Collectors.joining(", ")) + String.format(Locale.ROOT, ":%n"));
    b.append(String.format(Locale.ROOT, "%-6s %8s %-11s %12s %12s %12s %12s  %s%n", "map", "dims", "method",
        "Lip max", "Lip_inv max", "cond max", "cond mean", "flag"));
    for (StabilityRow r : stability) {
      // A Lanczos estimate below the threshold is a lower bound, which does not show the map is well
      // conditioned, unless its steps filled the dimension.
      String flag = r.illConditioned() ? "ill-conditioned (> " + illConditionedAbove + ")"
          : r.iterations() == null || r.iterations() >= r.inputDims() ? "ok" : "not shown (lower bound)";
      b.append(String.format(Locale.ROOT, "%-6s %8d %-11s %12.3e %12.3e %12.3e %12.3e  %s%n", r.stage(), r.inputDims(),
          r.iterations() == null ? r.method() : r.method() + " " + r.iterations(), r.forwardLipschitzMax(),
          r.inverseLipschitzMax(), r.conditionMax(), r.conditionMean(), flag));
    }
    return b.toString();
  }

  /** One row: {@code stage} is 0-based, or {@code "z"}; {@code shape} is one sample's [c, h, w]. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Stage(String stage, List<Long> shape, Errors float32, Errors float64) {}

  /** {@code float64Bound}: the float64 error an exact inverse stays within ({@link Reconstruction#float64Bound}). */
  public static InversionReport of(String run, String checkpoint, String data, String dataPath, String model, int count,
      Reconstruction.Precisions p, double float64Bound) {
    List<Stage> stages = new ArrayList<>();
    double max32 = p.zFloat32().maxAbs(), max64 = p.zFloat64().maxAbs();
    for (int s = 0; s < p.float32().size(); s++) {
      Reconstruction.StageError e32 = p.float32().get(s), e64 = p.float64().get(s);
      stages.add(new Stage(String.valueOf(s), sampleShape(e32.shape()), Errors.of(e32.error()), Errors.of(e64.error())));
      max32 = Math.max(max32, e32.error().maxAbs());
      max64 = Math.max(max64, e64.error().maxAbs());
    }
    List<Long> zShape = stages.isEmpty() ? List.of() : stages.get(stages.size() - 1).shape();
    Stage z = new Stage("z", zShape, Errors.of(p.zFloat32()), Errors.of(p.zFloat64()));
    return new InversionReport(run, checkpoint, data, model, count, stages, z, max32, max64, float64Bound, null, null,
        null, dataPath);
  }

  private static List<Long> sampleShape(long[] s) {
    List<Long> out = new ArrayList<>();
    for (int i = 1; i < s.length; i++) out.add(s[i]);
    return out;
  }

  /** Rows: originals, reconstructions from z, {@code AMPLIFY * |difference|} (clipped to 1). */
  public static void writePng(Path file, INDArray originals, INDArray reconstructions) throws IOException {
    INDArray x = originals.castTo(DataType.DOUBLE), r = reconstructions.castTo(DataType.DOUBLE);
    INDArray diff = Transforms.abs(r.sub(x), false).muli(AMPLIFY);
    ImageGrid.write(file, List.of(x, r, diff));
  }

  /** The stages in order, then z. */
  public List<Stage> rows() {
    List<Stage> all = new ArrayList<>(stages);
    all.add(z);
    return all;
  }

  /** A fixed-width table for the terminal; {@code image}: where the float32 max is. */
  public String table() {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-6s %-12s %12s %6s %12s %12s %12s%n", "stage", "shape",
        "max f32", "image", "mean f32", "max f64", "mean f64"));
    for (Stage s : rows()) {
      String shape = String.join("x", s.shape().stream().map(String::valueOf).toList());
      b.append(String.format(Locale.ROOT, "%-6s %-12s %12.2e %6d %12.2e %12.2e %12.2e%n", s.stage(), shape, s.float32().maxAbsErr(),
          s.float32().worstImage(), s.float32().meanAbsErr(), s.float64().maxAbsErr(), s.float64().meanAbsErr()));
    }
    return b.toString();
  }
}
