package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Locale;
import org.irevnet.analysis.LayerProbes;
import org.irevnet.stats.Proportions;

/**
 * {@code layer-probes.json}: per-stage linear and 1-nearest-neighbour test accuracies of the
 * spatially averaged, standardised stage outputs, and the PCA contraction curve at the last stage
 * (DESIGN.md section 5). {@code logit_accuracy} is the model's own accuracy on the same test images;
 * it and every probe accuracy have their 95% Wilson interval over the {@code test_count} images
 * ({@code *_ci95}, {@code [lo, hi]}). Each stage and PCA point has {@code linear_l2_ties}: the weaker
 * penalties whose held-out accuracy equalled the chosen one's ({@link LayerProbes.Stage#linearL2Ties}).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LayerProbeReport(String run, String checkpoint, String data, String model, int trainCount,
    int testCount, double logitAccuracy, List<LayerProbes.Stage> stages, List<LayerProbes.PcaPoint> pca,
    LayerProbes.LinearProbe linearProbe, double seconds, double totalSeconds, String dataPath)
    implements AnalysisFile {

  /** The 95% Wilson interval of {@code logit_accuracy} over the {@code test_count} images. */
  @JsonProperty("logit_accuracy_ci95")
  public Proportions.Interval logitAccuracyCi95() {
    return Proportions.wilson95OfShare(logitAccuracy, testCount);
  }

  /** @param dataPath the data's directory ({@code data} names only its last part and the split) */
  public static LayerProbeReport of(String run, String checkpoint, String data, String dataPath, String model,
      double logitAccuracy, LayerProbes.Result r, double totalSeconds) {
    return new LayerProbeReport(run, checkpoint, data, model, r.trainCount(), r.testCount(), logitAccuracy, r.stages(),
        r.pca(), r.linearProbe(), r.seconds(), totalSeconds, dataPath);
  }

  /** Fixed-width tables for the terminal. */
  public String table() {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-6s %-12s %-12s %8s %10s %10s %10s%n", "stage", "layer",
        "shape", "dims", "linear", "(train)", "1-NN"));
    for (LayerProbes.Stage s : stages) {
      String shape = String.join("x", s.shape().stream().map(String::valueOf).toList());
      b.append(String.format(Locale.ROOT, "%-6d %-12s %-12s %8d %10.4f %10.4f %10.4f%n", s.stage(), s.layer() == null ? "" : s.layer(),
          shape, s.features(), s.linearAccuracy(), s.linearTrainAccuracy(), s.nearestNeighbourAccuracy()));
    }
    b.append(String.format(Locale.ROOT, "PCA at the last one (components: linear accuracy, explained variance)%n"));
    for (LayerProbes.PcaPoint p : pca) {
      b.append(String.format(Locale.ROOT, "  %5d: %.4f  %.3f%n", p.components(), p.linearAccuracy(), p.explainedVariance()));
    }
    b.append(String.format(Locale.ROOT, "model's own accuracy %.4f; %d train / %d test images, probes %.1f s (%.1f s in all)%n",
        logitAccuracy, trainCount, testCount, seconds, totalSeconds));
    String ties = tieNote(ties(stages, pca));
    if (ties != null) b.append(ties).append(System.lineSeparator());
    return b.toString();
  }

  /**
   * A linear probe whose penalty {@code l2} was chosen on a tie with the weaker {@code tied}
   * ({@code linear_l2_ties}), named {@code "stage 1"} or {@code "PCA 4"}.
   */
  public record Tie(String probe, double l2, List<Double> tied) {}

  /** The stages' and PCA points' probes chosen on a tie, in the file's order. */
  static List<Tie> ties(List<LayerProbes.Stage> stages, List<LayerProbes.PcaPoint> pca) {
    List<Tie> ties = new java.util.ArrayList<>();
    for (LayerProbes.Stage s : stages) {
      if (s.linearL2Ties() != null && !s.linearL2Ties().isEmpty()) {
        ties.add(new Tie("stage " + s.stage(), s.linearL2(), s.linearL2Ties()));
      }
    }
    for (LayerProbes.PcaPoint p : pca) {
      if (p.linearL2Ties() != null && !p.linearL2Ties().isEmpty()) {
        ties.add(new Tie("PCA " + p.components(), p.linearL2(), p.linearL2Ties()));
      }
    }
    return ties;
  }

  /**
   * The sentence that names the probes chosen on a tie: their accuracies alone do not show that a
   * weaker penalty did as well on the held-out images. Null when there is none.
   */
  static String tieNote(List<Tie> ties) {
    if (ties.isEmpty()) return null;
    return "linear probes whose penalty was chosen on a tie (the weaker penalties after \"over\" classified the held-out"
        + " images as well; ties go to the stronger): " + String.join("; ", ties.stream().map(t -> t.probe() + " l2 "
        + penalty(t.l2()) + " over " + String.join(", ", t.tied().stream().map(LayerProbeReport::penalty).toList()))
        .toList());
  }

  /** A penalty as the tie notes write it ({@code 1e-03}). */
  static String penalty(double l2) {
    return String.format(Locale.ROOT, "%.0e", l2);
  }
}
