package org.irevnet.reports;

import static org.irevnet.train.Benchmark.median;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.stats.Proportions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code metamers.json}: per pair and aggregated metamer metrics (DESIGN.md section 5), and
 * {@code metamers.png}: logit sources a / metamers / nuisance sources b (the paper's figure 4).
 * {@code class_names} are the data's (absent for data whose classes have only numbers), {@code
 * data_path} the data's directory ({@code data} names only its last part and the split).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record MetamerReport(String run, String checkpoint, String data, String model, long seed, int count,
    double tolerance, double roundingRatio, boolean invariantHolds, boolean float32Holds, List<Pair> pairs,
    Summary summary, @JsonInclude(JsonInclude.Include.NON_NULL) List<String> classNames, String dataPath)
    implements AnalysisFile {

  /**
   * One metamer. {@code index_*} are test-set indices; {@code label_*} dataset labels;
   * {@code class_*} the model's classes (-1 for an image with a non-finite logit, which has no
   * class; {@code probe_class} likewise); distances are pixel L2 norms; {@code invariant_holds} by
   * {@link MetamerSampler#invariantHolds} (float32 alone when no float64 sample was made); {@code
   * probe_class} the nuisance probe's class of the metamer (from its {@code z_n}; null when no
   * probe was trained); {@code names} the class names of the labels and classes, written next to
   * them as {@code label_a_name}, ..., {@code probe_class_name} (absent where there is no name).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Pair(int indexA, int indexB, int labelA, int labelB, int classA, int classB, int metamerClass,
      double maxLogitAbsDiff, double maxLogitAbsDiffF64, boolean invariantHolds, double maxNuisanceAbsDiff,
      double maxNuisanceAbsDiffF64, double distToA, double distToB, @JsonProperty("dist_a_to_b") double distAToB,
      double metamerMin, double metamerMax, Integer probeClass, @JsonUnwrapped(suffix = "_name") Names names) {}

  /** The names of a pair's labels and classes (null: none, or no class). */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Names(String labelA, String labelB, String classA, String classB, String metamerClass,
      String probeClass) {}

  /**
   * Aggregates over all pairs. {@code rate_probe_class_is_label_of_b}: how often the nuisance
   * probe reads b's label from the metamer (DESIGN.md section 5: the model says a while the
   * content is b's); null when no probe was trained. A metamer without a class (-1) counts as
   * matching nothing, also not an {@code a} without one. The medians beside the mean distances:
   * one metamer far outside the image range (pixel values of 1e8 and more, on iCE models) makes a
   * mean of all pairs that describes none of them. Each rate has its 95% Wilson interval over the
   * {@code count} pairs ({@code *_ci95}, {@code [lo, hi]}; absent where the rate is null).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Summary(double maxLogitAbsDiff, double maxLogitAbsDiffF64, double maxNuisanceAbsDiff,
      double maxNuisanceAbsDiffF64, double rateMetamerClassIsClassOfA, double rateMetamerClassIsLabelOfB,
      double meanDistToA, double meanDistToB, @JsonProperty("mean_dist_a_to_b") double meanDistAToB,
      double medianDistToA, double medianDistToB, @JsonProperty("median_dist_a_to_b") double medianDistAToB,
      Double rateProbeClassIsLabelOfB,
      @JsonProperty("rate_metamer_class_is_class_of_a_ci95") Proportions.Interval rateMetamerClassIsClassOfACi95,
      @JsonProperty("rate_metamer_class_is_label_of_b_ci95") Proportions.Interval rateMetamerClassIsLabelOfBCi95,
      @JsonProperty("rate_probe_class_is_label_of_b_ci95") @JsonInclude(JsonInclude.Include.NON_NULL)
      Proportions.Interval rateProbeClassIsLabelOfBCi95) {

    /** A summary without its intervals (null: not known), as in files from before them. */
    public Summary(double maxLogitAbsDiff, double maxLogitAbsDiffF64, double maxNuisanceAbsDiff,
        double maxNuisanceAbsDiffF64, double rateMetamerClassIsClassOfA, double rateMetamerClassIsLabelOfB,
        double meanDistToA, double meanDistToB, double meanDistAToB, double medianDistToA, double medianDistToB,
        double medianDistAToB, Double rateProbeClassIsLabelOfB) {
      this(maxLogitAbsDiff, maxLogitAbsDiffF64, maxNuisanceAbsDiff, maxNuisanceAbsDiffF64, rateMetamerClassIsClassOfA,
          rateMetamerClassIsLabelOfB, meanDistToA, meanDistToB, meanDistAToB, medianDistToA, medianDistToB,
          medianDistAToB, rateProbeClassIsLabelOfB, null, null, null);
    }
  }

  /**
   * @param pairs test-set indices {@code {a, b}} of each pair
   * @param labels test-set labels
   * @param r float32 sampler result; {@code r64} the float64 one for the same pairs (or null)
   * @param probeClasses the nuisance probe's class of each float32 metamer (or null)
   * @param names the data's class names
   */
  public static MetamerReport of(String run, String checkpoint, String data, String dataPath, String model, long seed,
      int[][] pairs, int[] labels, INDArray a, INDArray b, MetamerSampler.Result r, MetamerSampler.Result r64,
      int[] probeClasses, ClassNames names) {
    int n = pairs.length;
    long per = a.length() / n;
    INDArray fa = a.castTo(DataType.DOUBLE).dup('c').reshape('c', new long[] {n, per});
    INDArray fb = b.castTo(DataType.DOUBLE).dup('c').reshape('c', new long[] {n, per});
    List<Pair> rows = new ArrayList<>();
    double maxDiff = 0, maxDiff64 = 0, maxNuis = 0, maxNuis64 = 0;
    int sameA = 0, sameB = 0, probeB = 0;
    double[] dA = new double[n], dB = new double[n], dAB = new double[n];
    for (int i = 0; i < n; i++) {
      MetamerSampler.Pair p = r.pairs().get(i);
      double d64 = r64 == null ? Double.NaN : r64.pairs().get(i).maxLogitAbsDiff();
      double n64 = r64 == null ? Double.NaN : r64.pairs().get(i).maxNuisanceAbsDiff();
      double ab = fa.getRow(i).sub(fb.getRow(i)).norm2Number().doubleValue();
      boolean holds = r64 == null ? p.maxLogitAbsDiff() <= MetamerSampler.TOLERANCE
          : MetamerSampler.invariantHolds(p.maxLogitAbsDiff(), d64);
      Integer probe = probeClasses == null ? null : probeClasses[i];
      Names named = names.list() == null ? null : new Names(names.name(labels[pairs[i][0]]),
          names.name(labels[pairs[i][1]]), names.name(p.classA()), names.name(p.classB()), names.name(p.metamerClass()),
          probe == null ? null : names.name(probe));
      rows.add(new Pair(pairs[i][0], pairs[i][1], labels[pairs[i][0]], labels[pairs[i][1]], p.classA(), p.classB(),
          p.metamerClass(), p.maxLogitAbsDiff(), d64, holds, p.maxNuisanceAbsDiff(), n64, p.distToA(), p.distToB(), ab,
          p.min(), p.max(), probe, named));
      maxDiff = Math.max(maxDiff, p.maxLogitAbsDiff());
      maxDiff64 = Math.max(maxDiff64, d64);
      maxNuis = Math.max(maxNuis, p.maxNuisanceAbsDiff());
      maxNuis64 = Math.max(maxNuis64, n64);
      if (p.metamerClass() >= 0 && p.metamerClass() == p.classA()) sameA++;
      if (p.metamerClass() == labels[pairs[i][1]]) sameB++;
      if (probeClasses != null && probeClasses[i] == labels[pairs[i][1]]) probeB++;
      dA[i] = p.distToA();
      dB[i] = p.distToB();
      dAB[i] = ab;
    }
    // The invariant is judged with the float64 sample where one was made: metamers of trained
    // models can reach pixel values of 1e8 and more, where float32 rounding of the input alone
    // moves the logits; that is a property of the metamer (reported as float32_holds), not a wrong
    // sample. NaN (a NaN metamer) must fail, hence the negated comparison.
    boolean holds32 = rows.stream().noneMatch(p -> !(p.maxLogitAbsDiff() <= MetamerSampler.TOLERANCE));
    boolean holds = rows.stream().allMatch(Pair::invariantHolds);
    Summary s = new Summary(maxDiff, r64 == null ? Double.NaN : maxDiff64, maxNuis, r64 == null ? Double.NaN : maxNuis64,
        (double) sameA / n, (double) sameB / n, mean(dA), mean(dB), mean(dAB), median(dA), median(dB), median(dAB),
        probeClasses == null ? null : (double) probeB / n, Proportions.wilson95(sameA, n), Proportions.wilson95(sameB, n),
        probeClasses == null ? null : Proportions.wilson95(probeB, n));
    return new MetamerReport(run, checkpoint, data, model, seed, n, MetamerSampler.TOLERANCE,
        MetamerSampler.ROUNDING_RATIO, holds, holds32, rows, s, names.list(), dataPath);
  }

  private static double mean(double[] v) {
    return Arrays.stream(v).sum() / v.length;
  }

  /** Rows: logit sources a, metamers, nuisance sources b; the first {@code columns} pairs. */
  public static void writePng(Path file, INDArray a, INDArray metamers, INDArray b, int columns) throws IOException {
    INDArrayIndex shown = NDArrayIndex.interval(0, Math.min(columns, a.size(0)));
    ImageGrid.write(file, List.of(a.get(shown), metamers.get(shown), b.get(shown)));
  }

  /**
   * A fixed-width table for the terminal: the first {@code rows} pairs, then the summary of all.
   * Labels and classes carry their names where the data has them: {@code 12 (3 Dress)}, {@code 3 (Dress)}.
   */
  public String table(int rows) {
    boolean probe = summary.rateProbeClassIsLabelOfB() != null;
    ClassNames names = ClassNames.of(classNames);
    List<String[]> cells = new ArrayList<>();
    cells.add(new String[] {"a (lab)", "b (lab)", "class a", "class m"});
    for (Pair p : pairs.subList(0, Math.min(rows, pairs.size()))) {
      cells.add(new String[] {p.indexA() + " (" + names.labelled(p.labelA()) + ")",
          p.indexB() + " (" + names.labelled(p.labelB()) + ")",
          names.shown(p.classA()), names.shown(p.metamerClass())});
    }
    // As wide as their longest name, at least the widths the table had before names.
    int[] width = {9, 9, 7, 7};
    for (String[] c : cells) for (int k = 0; k < width.length; k++) width[k] = Math.max(width[k], c[k].length());
    String text = "%-" + width[0] + "s %-" + width[1] + "s %-" + width[2] + "s %-" + width[3] + "s";
    StringBuilder t = new StringBuilder(String.format(Locale.ROOT, "%-5s " + text + " %14s %10s %10s%s%n", "pair",
        cells.get(0)[0], cells.get(0)[1], cells.get(0)[2], cells.get(0)[3], "max|dlogit|", "dist a", "dist b",
        probe ? "  probe m" : ""));
    for (int i = 0; i < cells.size() - 1; i++) {
      Pair p = pairs.get(i);
      String[] c = cells.get(i + 1);
      t.append(String.format(Locale.ROOT, "%-5d " + text + " %14.2e %10.3f %10.3f%s%n", i, c[0], c[1], c[2], c[3],
          p.maxLogitAbsDiff(), p.distToA(), p.distToB(),
          probe ? String.format(Locale.ROOT, "  %7s", names.shown(p.probeClass())) : ""));
    }
    if (pairs.size() > rows) t.append("... ").append(pairs.size() - rows).append(" more pairs in metamers.json\n");
    t.append(String.format(Locale.ROOT, "max |dlogit| f32 %.2e, f64 %.2e; metamer class == class of a: %.3f, == label of b: %.3f;"
        + "%s mean dist to a %.3f, to b %.3f (a to b %.3f); median %.3f, %.3f (%.3f)%n",
        summary.maxLogitAbsDiff(), summary.maxLogitAbsDiffF64(),
        summary.rateMetamerClassIsClassOfA(), summary.rateMetamerClassIsLabelOfB(),
        probe ? String.format(Locale.ROOT, " nuisance probe's class == label of b: %.3f;", summary.rateProbeClassIsLabelOfB()) : "",
        summary.meanDistToA(), summary.meanDistToB(), summary.meanDistAToB(), summary.medianDistToA(),
        summary.medianDistToB(), summary.medianDistAToB()));
    return t.toString();
  }
}
