package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Locale;
import org.irevnet.analysis.LayerProbes;
import org.irevnet.analysis.MlpClassifier;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.stats.Proportions;

/**
 * {@code nuisance-probe.json}: the nuisance probe of a run (issue 4; DESIGN.md section 5): the
 * model's own test accuracy, a fresh probe's test accuracy on the standardised {@code z_n}, their
 * difference {@code excess}, and the probe's recipe. {@code seconds} is the probe's training and
 * testing time, {@code total_seconds} includes computing {@code z} of both splits. Both accuracies
 * have their 95% Wilson interval over the {@code test_count} images ({@code *_ci95}, {@code [lo, hi]}).
 *
 * @param logitCorrect per test image, in the test subset's order, whether the model's own class is
 *     its label ({@code nuisanceCorrect}: the probe's): what a paired test of two models on the same
 *     images needs. Booleans, not 0 and 1: the report tabulates sibling number arrays of one length
 *     row by row, a thousand rows. Absent (with {@code excess_p_value}) when not given
 * @param whitened true when the probe read {@code z_n} whitened ({@code probe --whiten}); absent
 *     for the fixed recipe's standardised {@code z_n}, so that its files stay as they were
 * @param linearAccuracy the linear reader's test accuracy ({@code probe --linear}, {@link
 *     NuisanceProbe.Linear}: the solver of {@code probe --layers} on the standardised {@code z_n},
 *     whitened or not the MLP's); with {@code linearTrainAccuracy}, {@code linearL2} (the penalty
 *     chosen), {@code linearObjective} (the refit's objective, {@link NuisanceProbe.Linear#objective}),
 *     {@code linearSeconds}, {@code linearCorrect} (per test image, as {@code
 *     nuisanceCorrect}) and {@code linearProbe} (how it was fitted, as {@code layer-probes.json}'s
 *     {@code linear_probe}) and {@code linearHeldOut} (each penalty tried, {@code l2}, with its held-out
 *     {@code accuracy}; absent from files before 2026-12-07 too) and {@code linearL2Ties} (the penalties
 *     tried whose held-out accuracy equalled {@code linearL2}'s, which the rule passed over for the
 *     stronger: empty when the choice was no tie; absent from files before audit BN, 2026-12-07) absent
 *     without the option, so that the recipe's files stay as they were
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record NuisanceProbeReport(String run, String checkpoint, String data, String model, double logitAccuracy,
    double nuisanceAccuracy, double excess, double nuisanceTrainAccuracy, int trainCount, int testCount,
    long nuisanceDims, MlpClassifier.Recipe recipe, double seconds, double totalSeconds, String dataPath,
    @JsonInclude(JsonInclude.Include.NON_NULL) boolean[] logitCorrect,
    @JsonInclude(JsonInclude.Include.NON_NULL) boolean[] nuisanceCorrect,
    @JsonInclude(JsonInclude.Include.NON_NULL) Boolean whitened,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double linearAccuracy,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double linearTrainAccuracy,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double linearL2,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double linearObjective,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double linearSeconds,
    @JsonInclude(JsonInclude.Include.NON_NULL) boolean[] linearCorrect,
    @JsonInclude(JsonInclude.Include.NON_NULL) LayerProbes.LinearProbe linearProbe,
    @JsonInclude(JsonInclude.Include.NON_NULL) java.util.List<NuisanceProbe.HeldOut> linearHeldOut,
    @JsonInclude(JsonInclude.Include.NON_NULL) java.util.List<Double> linearL2Ties)
    implements AnalysisFile {

  /** The 95% Wilson interval of {@code logit_accuracy} over the {@code test_count} images. */
  @JsonProperty("logit_accuracy_ci95")
  public Proportions.Interval logitAccuracyCi95() {
    return Proportions.wilson95OfShare(logitAccuracy, testCount);
  }

  /** The 95% Wilson interval of {@code nuisance_accuracy} over the {@code test_count} images. */
  @JsonProperty("nuisance_accuracy_ci95")
  public Proportions.Interval nuisanceAccuracyCi95() {
    return Proportions.wilson95OfShare(nuisanceAccuracy, testCount);
  }

  /** The 95% Wilson interval of {@code linear_accuracy} over the {@code test_count} images; absent without it. */
  @JsonProperty("linear_accuracy_ci95")
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public Proportions.Interval linearAccuracyCi95() {
    return linearAccuracy == null ? null : Proportions.wilson95OfShare(linearAccuracy, testCount);
  }

  /**
   * The exact McNemar p-value of the probe against the logits on the same images: whether {@code
   * excess} is beyond the test images' sampling noise. Null without the per-image results.
   */
  @JsonProperty("excess_p_value")
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public Double excessPValue() {
    return logitCorrect == null || nuisanceCorrect == null ? null
        : Proportions.mcnemar(nuisanceCorrect, logitCorrect).pValue();
  }

  /** @param dataPath the data's directory ({@code data} names only its last part and the split) */
  public static NuisanceProbeReport of(String run, String checkpoint, String data, String dataPath, String model,
      NuisanceProbe.Result r, double totalSeconds) {
    return new NuisanceProbeReport(run, checkpoint, data, model, r.logitAccuracy(), r.nuisanceAccuracy(), r.excess(),
        r.nuisanceTrainAccuracy(), r.trainCount(), r.testCount(), r.nuisanceDims(), r.recipe(), r.seconds(),
        totalSeconds, dataPath, r.logitCorrect(), r.nuisanceCorrect(), r.whitened() ? Boolean.TRUE : null,
        linear(r, NuisanceProbe.Linear::accuracy), linear(r, NuisanceProbe.Linear::trainAccuracy),
        linear(r, NuisanceProbe.Linear::l2), linear(r, NuisanceProbe.Linear::objective),
        linear(r, NuisanceProbe.Linear::seconds), linear(r, NuisanceProbe.Linear::correct),
        linear(r, NuisanceProbe.Linear::fitting), linear(r, NuisanceProbe.Linear::heldOut),
        linear(r, NuisanceProbe.Linear::l2Ties));
  }

  /** A field of the linear reader of {@code r}, or null (absent from the file) without it. */
  private static <T> T linear(NuisanceProbe.Result r, java.util.function.Function<NuisanceProbe.Linear, T> field) {
    return r.linear() == null ? null : field.apply(r.linear());
  }

  /** One line for the terminal, and a second for the linear reader when it ran. */
  public String line() {
    String recipe = String.format(Locale.ROOT, "nuisance probe" + (whitened != null && whitened ? " (whitened z_n)" : "")
        + ": logit accuracy %.4f, nuisance accuracy %.4f (train %.4f), excess %+.4f;"
        + " %d train / %d test, %d nuisance dims, %.1f s (%.1f s with z)%n", logitAccuracy, nuisanceAccuracy,
        nuisanceTrainAccuracy, excess, trainCount, testCount, nuisanceDims, seconds, totalSeconds);
    if (linearAccuracy == null) return recipe;
    String tie = linearL2Ties == null || linearL2Ties.isEmpty() ? "" : "; " + tieNote(linearL2, linearL2Ties);
    return recipe + String.format(Locale.ROOT, "linear reader (standardised z_n): nuisance accuracy %.4f (train %.4f),"
        + " l2 %.0e, %.1f s%s%n", linearAccuracy, linearTrainAccuracy, linearL2, linearSeconds, tie);
  }

  /**
   * The sentence that says a linear probe's penalty {@code l2} was chosen on a tie with the weaker
   * {@code tied} ({@link org.irevnet.analysis.SoftmaxRegression.Selected#tiedPenalties}): its
   * held-out accuracy alone does not show that a weaker penalty did as well.
   */
  public static String tieNote(double l2, java.util.List<Double> tied) {
    return String.format(Locale.ROOT, "l2 %.0e was chosen on a tie: %s classified the held-out images as well"
        + " (ties go to the stronger penalty)", l2, String.join(", ", tied.stream().map(LayerProbeReport::penalty).toList()));
  }
}
