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
 * ({@code *_ci95}, {@code [lo, hi]}).
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
    return b.toString();
  }
}
