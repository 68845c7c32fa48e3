package org.irevnet.reports;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Locale;
import org.irevnet.analysis.MlpClassifier;
import org.irevnet.analysis.NuisanceProbe;

/**
 * {@code nuisance-probe.json}: the nuisance probe of a run (issue 4; DESIGN.md section 5): the
 * model's own test accuracy, a fresh probe's test accuracy on the standardised {@code z_n}, their
 * difference {@code excess}, and the probe's recipe. {@code seconds} is the probe's training and
 * testing time, {@code total_seconds} includes computing {@code z} of both splits.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record NuisanceProbeReport(String run, String checkpoint, String data, String model, double logitAccuracy,
    double nuisanceAccuracy, double excess, double nuisanceTrainAccuracy, int trainCount, int testCount,
    long nuisanceDims, MlpClassifier.Recipe recipe, double seconds, double totalSeconds, String dataPath)
    implements AnalysisFile {

  /** @param dataPath the data's directory ({@code data} names only its last part and the split) */
  public static NuisanceProbeReport of(String run, String checkpoint, String data, String dataPath, String model,
      NuisanceProbe.Result r, double totalSeconds) {
    return new NuisanceProbeReport(run, checkpoint, data, model, r.logitAccuracy(), r.nuisanceAccuracy(), r.excess(),
        r.nuisanceTrainAccuracy(), r.trainCount(), r.testCount(), r.nuisanceDims(), r.recipe(), r.seconds(),
        totalSeconds, dataPath);
  }

  /** One line for the terminal. */
  public String line() {
    return String.format(Locale.ROOT, "nuisance probe: logit accuracy %.4f, nuisance accuracy %.4f (train %.4f), excess %+.4f;"
        + " %d train / %d test, %d nuisance dims, %.1f s (%.1f s with z)%n", logitAccuracy, nuisanceAccuracy,
        nuisanceTrainAccuracy, excess, trainCount, testCount, nuisanceDims, seconds, totalSeconds);
  }
}
