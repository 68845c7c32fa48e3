package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.irevnet.analysis.Interpolation;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code interpolate.json} and {@code interpolate.png}: for each pair of test images, the path in
 * the full representation ({@code full}) and, for fully invertible models, the path with {@code
 * z_s} fixed ({@code nuisance}); per step the model's class and its probability (see {@link
 * Interpolation}). {@code class_names} are the data's, in class order: the names of the steps'
 * classes (absent for data whose classes have only numbers); {@code data_path} is the data's
 * directory ({@code data} names only its last part and the split).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record InterpolationReport(String run, String checkpoint, String data, String model, long seed, int steps,
    List<Pair> pairs, @JsonInclude(JsonInclude.Include.NON_NULL) List<String> classNames, String dataPath)
    implements AnalysisFile {

  /**
   * One step of a path; {@code model_class} -1 and {@code probability} NaN for an image with a
   * non-finite logit, which has no class.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Step(double alpha, int modelClass, double probability, double reencodeError, double maxLogitDrift) {}

  /**
   * Test-set indices and labels of both endpoints ({@code from} = x0 at alpha 0, {@code to} = x1),
   * the labels' names (absent without names), and the paths ({@code nuisance} absent for i-RevNets).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Pair(int indexFrom, int indexTo, int labelFrom, int labelTo, String labelFromName, String labelToName,
      List<Step> full, List<Step> nuisance) {}

  /** A step or image whose logits are not all finite: it has no class to show. */
  static final String NON_FINITE = "non-finite";

  static List<Step> steps(Interpolation.Path p) {
    List<Step> out = new ArrayList<>();
    for (int i = 0; i < p.alphas().length; i++) {
      out.add(new Step(p.alphas()[i], p.classes()[i], p.probabilities()[i], p.reencodeError()[i], p.maxLogitDrift()[i]));
    }
    return out;
  }

  /** A pair's record from its paths ({@code nuisance} null for i-RevNets). */
  public static Pair pair(int indexFrom, int indexTo, int labelFrom, int labelTo, ClassNames names,
      Interpolation.Path full, Interpolation.Path nuisance) {
    return new Pair(indexFrom, indexTo, labelFrom, labelTo, names.name(labelFrom), names.name(labelTo), steps(full),
        nuisance == null ? null : steps(nuisance));
  }

  /** One row per path, left to right from alpha 0 (image 0) to 1. */
  public static void writePng(Path file, List<INDArray> rows) throws IOException {
    ImageGrid.write(file, rows);
  }

  /**
   * One line per path of the first {@code shown} pairs: the model's class along it; with the
   * data's names, the labels' names and a last line naming the classes shown.
   */
  public String table(int shown) {
    StringBuilder b = new StringBuilder();
    ClassNames names = ClassNames.of(classNames);
    List<Pair> rows = pairs.subList(0, Math.min(shown, pairs.size()));
    for (Pair p : rows) {
      b.append(String.format(Locale.ROOT, "%d (label %s) -> %d (label %s); model class:probability per step%n", p.indexFrom(),
          names.labelled(p.labelFrom()), p.indexTo(), names.labelled(p.labelTo())));
      b.append(row("  full     ", p.full()));
      if (p.nuisance() != null) b.append(row("  nuisance ", p.nuisance()));
    }
    if (pairs.size() > shown) b.append("... ").append(pairs.size() - shown).append(" more pairs in interpolate.json\n");
    // Nine names per path would not fit a line; the classes along the paths are named once.
    return b.append(names.legend(rows.stream().flatMap(p -> Stream.concat(p.full().stream(),
        p.nuisance() == null ? Stream.empty() : p.nuisance().stream())).mapToInt(Step::modelClass))).toString();
  }

  private static String row(String name, List<Step> steps) {
    StringBuilder b = new StringBuilder(name);
    for (Step s : steps) {
      b.append(s.modelClass() < 0 ? " " + NON_FINITE
          : String.format(Locale.ROOT, " %d:%.2f", s.modelClass(), s.probability()));
    }
    return b.append(String.format(Locale.ROOT, "%n")).toString();
  }
}
