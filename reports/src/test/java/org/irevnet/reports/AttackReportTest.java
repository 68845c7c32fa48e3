package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.attacks.Robustness;
import org.irevnet.stats.Proportions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

class AttackReportTest {

  /**
   * Three images, labels 0, 1, 2, targets 1, 2, 2 (the third is its own label: not counted). At
   * eps 0.1 image 0 is pushed into class 2 (wrong, not its target) and image 1 reaches its target;
   * at eps 0.2 image 0 reaches its target and image 1 is back at its label. The robustness curve
   * keeps image 0 at class 2 from eps 0.1 on, so its hit at 0.2 is seen only in that epsilon's own
   * attack; image 1's hit at 0.1 still counts at 0.2, whose ball holds it.
   */
  @Test
  void theTargetRateCountsHitsOfEachEpsilonsOwnAttackAndOfSmallerOnes() {
    int[] labels = {0, 1, 2};
    int[][] raw = {{0, 1, 2}, {2, 2, 2}, {1, 1, 2}};
    int[][] counted = {{0, 1, 2}, {2, 2, 2}, {2, 2, 2}};
    INDArray images = Nd4j.zeros(DataType.FLOAT, 3, 1, 2, 2);
    INDArray[] examples = {images, images, images};
    Robustness.Sweep s = new Robustness.Sweep(new double[] {0, 0.1, 0.2}, labels, labels, raw, counted, examples,
        examples, 0, true);
    INDArray mask = Nd4j.ones(DataType.FLOAT, 1, 1, 2, 2);

    List<AttackReport.Point> curve = AttackReport.curve(s, images, mask, new int[] {1, 2, 2}, null, null);
    assertThat(curve).extracting(AttackReport.Point::targetRate).containsExactly(0.0, 0.5, 1.0);
    assertThat(curve).extracting(AttackReport.Point::accuracy).containsExactly(1.0, 1 / 3.0, 1 / 3.0);
    assertThat(AttackReport.curve(s, images, mask, null, null, null)).extracting(AttackReport.Point::targetRate)
        .containsOnlyNulls();
  }

  /** Targeted at the class every image already has: no image to count, a rate of none (not NaN). */
  @Test
  void theTargetRateIsNullWhereEveryImageIsOfItsTarget() {
    int[] labels = {1, 1};
    int[][] classes = {{1, 0}, {0, 0}};
    INDArray images = Nd4j.zeros(DataType.FLOAT, 2, 1, 2, 2);
    INDArray[] examples = {images, images};
    Robustness.Sweep s = new Robustness.Sweep(new double[] {0, 0.1}, labels, labels, classes, classes, examples,
        examples, 0, true);

    List<AttackReport.Point> curve = AttackReport.curve(s, images, Nd4j.ones(DataType.FLOAT, 1, 1, 2, 2),
        new int[] {1, 1}, null, null);
    assertThat(curve).extracting(AttackReport.Point::targetRate).containsOnlyNulls();
    assertThat(curve).extracting(AttackReport.Point::accuracy).containsExactly(0.5, 0.0);
  }

  /**
   * Three pairs: the first is 10 apart in representation and its example 5 from a (ratio 0.5);
   * the second is one image twice, its representations apart by rounding alone; the third two
   * images one representation. Only the first has a ratio (with a floor under the denominator
   * the second read 1e-7 / 1e-30).
   */
  @Test
  void theRepresentationDistanceLeavesOutPairsWhoseBIsA() {
    INDArray a = Nd4j.createFromArray(new double[][] {{0, 0}, {0.5, 0.5}, {0, 1}});
    INDArray b = Nd4j.createFromArray(new double[][] {{1, 0}, {0.5, 0.5}, {1, 0}});
    INDArray ha = Nd4j.createFromArray(new float[][] {{1, 1}, {2, 2}, {3, 3}});
    INDArray hb = Nd4j.createFromArray(new float[][] {{1, 11}, {2, 2.0000002f}, {3, 3}});
    INDArray h = Nd4j.createFromArray(new float[][] {{4, 5}, {2, 2.0000002f}, {4, 3}});

    assertThat(AttackReport.representationDistance(h, ha, hb, a, b)).isCloseTo(0.5, offset(1e-15));
    INDArrayIndex rest = NDArrayIndex.interval(1, 3);
    assertThat(AttackReport.representationDistance(h.get(rest), ha.get(rest), hb.get(rest), a.get(rest), b.get(rest)))
        .as("no pair with a ratio").isNull();
  }

  /**
   * Two 2x2 images in float64 against clean images 0.5 and 0: perturbations (0.125, 0, -0.25, 0.25)
   * and (0, 0.125, -0.0625, 0); the mask's padding is the top-right pixel, where the examples are 0.5
   * and 0.125.
   */
  @Test
  void aPointMeasuresThePerturbationsPixelRangeAndPadding() {
    INDArray clean = Nd4j.createFromArray(new double[] {0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0}).reshape(2, 1, 2, 2);
    INDArray examples = Nd4j.createFromArray(new double[] {0.625, 0.5, 0.25, 0.75, 0, 0.125, -0.0625, 0})
        .reshape(2, 1, 2, 2);
    INDArray mask = Nd4j.createFromArray(new double[] {1, 0, 1, 1}).reshape(1, 1, 2, 2);
    // This epsilon's own examples, where the counted ones come from a smaller epsilon: (0.5, 0, 0, 0.5), (0, 0, 0, 0.375).
    INDArray own = Nd4j.createFromArray(new double[] {1.0, 0.5, 0.5, 1.0, 0, 0, 0, 0.375}).reshape(2, 1, 2, 2);
    AttackReport.Point p = AttackReport.Point.of(0.25, new int[] {0, 1}, new int[] {0, 1}, new int[] {0, 0}, examples,
        own, clean, mask, 0.5, 2, 1.0, 0.125);
    double l2a = Math.sqrt(0.125 * 0.125 + 0.25 * 0.25 + 0.25 * 0.25), l2b = Math.sqrt(0.125 * 0.125 + 0.0625 * 0.0625);
    assertThat(p.eps()).isEqualTo(0.25);
    assertThat(p.accuracy()).as("from the counted classes").isEqualTo(0.5);
    assertThat(p.accuracyAtEps()).as("from the raw classes").isEqualTo(1.0);
    assertThat(List.of(p.targetRate(), p.successRate(), p.representationDistance())).containsExactly(0.5, 1.0, 0.125);
    // Each rate's interval over its own images: the target rate's over the 2 whose label is not their target.
    assertThat(List.of(p.accuracyCi95(), p.accuracyAtEpsCi95(), p.targetRateCi95(), p.successRateCi95()))
        .containsExactly(Proportions.wilson95(1, 2), Proportions.wilson95(2, 2), Proportions.wilson95(1, 2),
            Proportions.wilson95(2, 2));
    assertThat(p.meanLinf()).isCloseTo((0.25 + 0.125) / 2, offset(1e-15));
    assertThat(p.maxLinf()).isCloseTo(0.25, offset(1e-15));
    assertThat(p.meanL2()).isCloseTo((l2a + l2b) / 2, offset(1e-15));
    assertThat(p.maxL2()).isCloseTo(l2a, offset(1e-15));
    assertThat(p.meanLinfAtEps()).as("of the epsilon's own examples").isCloseTo((0.5 + 0.375) / 2, offset(1e-15));
    assertThat(p.meanL2AtEps()).isCloseTo((Math.sqrt(0.5) + 0.375) / 2, offset(1e-15));
    assertThat(p.minPixel()).isEqualTo(-0.0625);
    assertThat(p.maxPixel()).isEqualTo(0.75);
    assertThat(p.maxAbsPadding()).isEqualTo(0.5);
  }

  @Test
  void theSanityCheckReadsTheSweepAtEpsilonZero() {
    INDArray images = Nd4j.zeros(DataType.FLOAT, 4, 1, 1, 1);
    INDArray[] examples = {images};
    int[] labels = {0, 1, 2, 3}, clean = {0, 1, 2, 0};
    Robustness.Sweep broken = new Robustness.Sweep(new double[] {0}, labels, clean, new int[][] {{0, 1, 0, 0}},
        new int[][] {{0, 1, 0, 0}}, examples, examples, 1e-7, false);
    assertThat(AttackReport.Sanity.of(broken)).isEqualTo(new AttackReport.Sanity(0.75, 0.5, 1e-7, false, false));
    Robustness.Sweep sane = new Robustness.Sweep(new double[] {0}, labels, clean, new int[][] {clean},
        new int[][] {clean}, examples, examples, 0, true);
    assertThat(AttackReport.Sanity.of(sane)).isEqualTo(new AttackReport.Sanity(0.75, 0.75, 0, true, true));
  }

  private static AttackReport.Point point(Double eps, double accuracy) {
    return new AttackReport.Point(eps, accuracy, accuracy, null, null, null, 0, 0, 0, 0, 0, 0, 0, 1, 0);
  }

  @Test
  void aCurveIsMonotoneWhenItsAccuracyNeverRises() {
    assertThat(AttackReport.monotone(List.of())).isTrue();
    assertThat(AttackReport.monotone(List.of(point(0.0, 0.5)))).isTrue();
    assertThat(AttackReport.monotone(List.of(point(0.0, 0.9), point(0.1, 0.9), point(0.2, 0.5)))).isTrue();
    assertThat(AttackReport.monotone(List.of(point(0.0, 0.9), point(0.1, 0.5), point(0.2, 0.6)))).isFalse();
    assertThat(AttackReport.monotone(List.of(point(0.0, 0.5), point(0.1, 0.6)))).isFalse();
  }

  private static AttackReport report(List<AttackReport.Point> curve) {
    return report("pgd-linf", curve);
  }

  private static AttackReport report(String attack, List<AttackReport.Point> curve) {
    return report(attack, 30, curve);
  }

  private static AttackReport report(String attack, int count, List<AttackReport.Point> curve) {
    return new AttackReport("run", "best", "d", "m", attack, "linf", "ce", "next", 10, 0.01, true, false, null, null,
        0, count, 64, 0.7, curve, true, null, null, null, null, null, new AttackReport.Timing(12.25, 2, 2, 0.5, 1.5),
        null, null, "/data/d", null);
  }

  private static AttackReport targeted(String targeted, String targetClassName) {
    return new AttackReport("run", "best", "d", "m", "fgsm", "linf", "ce", targeted, null, null, null, null, null, null,
        0, 30, 64, 0.7, List.of(point(0.0, 0.7)), true, null, null, null, null, null,
        new AttackReport.Timing(1, 1, 2, 0, 0), null, targetClassName, "/data/d", null);
  }

  @Test
  void aFixedTargetIsNamedInTheTableAndTheJsonWhereTheDataNamesItsClasses(@TempDir Path tmp) throws Exception {
    assertThat(targeted("3", "Dress").table()).contains("fgsm targeted at 3 (Dress) on 30 images:");
    // A targeted attack's rate is of images classed as their target, which "success" did not say.
    assertThat(targeted("3", "Dress").table().lines().findFirst().orElseThrow()).endsWith(" on target repr dist")
        .doesNotContain("success");
    assertThat(targeted("Dress", "Dress").table()).contains("fgsm targeted at Dress on 30 images:");
    targeted("3", "Dress").writeJson(tmp.resolve("named.json"));
    JsonNode named = JsonReport.MAPPER.readTree(tmp.resolve("named.json").toFile());
    assertThat(named.get("targeted").asText()).isEqualTo("3");
    assertThat(named.get("target_class_name").asText()).isEqualTo("Dress");
    assertThat(named.get("data_path").asText()).isEqualTo("/data/d");
    // Without a name (numbered classes, or next/random): the line and the file of before.
    assertThat(targeted("3", null).table()).contains("fgsm on 30 images:");
    targeted("3", null).writeJson(tmp.resolve("plain.json"));
    assertThat(JsonReport.MAPPER.readTree(tmp.resolve("plain.json").toFile()).has("target_class_name")).isFalse();
  }

  /**
   * A metamer's pixels are not kept in [0,1], so its perturbation norms reach millions: they took
   * the columns out of line. And it attacks pairs, not images.
   */
  @Test
  void largeNormsKeepTheColumnsAndInvarianceAttacksCountPairs() {
    AttackReport.Point metamer = new AttackReport.Point(null, 0.25, 0.25, null, 1.0, 0.5, 6676958.8253, 9e6, 12345.678,
        2e7, 7e6, 23456.789, -3e5, 4e5, 0);
    List<String> lines = report("metamer", List.of(metamer)).table().lines().toList();
    assertThat(lines.get(1)).hasSameSizeAs(lines.get(0));
    assertThat(lines.get(1).trim().split("\\s+")).containsExactly("-", "0.2500", "6.677e+06", "1.235e+04", "0.2500",
        "7.000e+06", "2.346e+04", "1.0000", "0.5000");
    assertThat(lines.get(2)).startsWith("metamer on 30 pairs:");
    assertThat(report("feature-match", List.of(metamer)).table()).contains("feature-match on 30 pairs:");
    // One is one ("fgsm on 1 images" read as a slip in the tool).
    assertThat(report("metamer", 1, List.of(metamer)).table()).contains("metamer on 1 pair:");
    assertThat(report("fgsm", 1, List.of(metamer)).table()).contains("fgsm on 1 image:");
  }

  @Test
  void theTableHasAnEpsilonARowAndTheSuccessOrTargetRate() {
    AttackReport.Point p0 = new AttackReport.Point(0.0, 0.7, 0.7, 0.0, null, null, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    AttackReport.Point p1 = new AttackReport.Point(0.1, 0.25, 0.375, 0.5, 0.75, 0.125, 0.0625, 0.1, 0.5, 0.6, 0.03125,
        0.25, 0, 1, 0);
    AttackReport.Point metamer = new AttackReport.Point(null, 0, 0, null, null, null, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    assertThat(report(List.of(p0, p1, metamer)).table().lines().map(l -> List.of(l.trim().split("\\s+"))))
        .containsExactly(
            List.of("eps", "accuracy", "mean", "Linf", "mean", "L2", "acc", "at", "eps", "Linf", "at", "eps", "L2", "at",
                "eps", "on", "target", "repr", "dist"), // the report is targeted ("next")
            List.of("0.0", "0.7000", "0.0000", "0.0000", "0.7000", "0.0000", "0.0000", "0.0000", "-"),
            // The success rate is shown where there is one, else the target rate.
            List.of("0.1", "0.2500", "0.0625", "0.5000", "0.3750", "0.0313", "0.2500", "0.7500", "0.1250"),
            List.of("-", "0.0000", "0.0000", "0.0000", "0.0000", "0.0000", "0.0000", "-", "-"),
            List.of("pgd-linf", "on", "30", "images:", "clean", "accuracy", "0.7000,", "12.3", "s"));
  }

  @Test
  void theJsonHasSnakeCaseFields(@TempDir Path tmp) throws Exception {
    report(List.of(point(0.0, 0.7))).writeJson(tmp.resolve("attack.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("attack.json").toFile());
    assertThat(j.get("clean_accuracy").asDouble()).isEqualTo(0.7);
    // 21 of the 30 attacked images: Wilson's closed form (numpy) [0.52124212541285, 0.83335251731756].
    assertThat(j.get("clean_accuracy_ci95").get(0).asDouble()).isCloseTo(0.52124212541285, within(1e-13));
    assertThat(j.get("clean_accuracy_ci95").get(1).asDouble()).isCloseTo(0.83335251731756, within(1e-13));
    assertThat(j.get("multi_targeted").asBoolean()).isFalse();
    assertThat(j.get("curve").get(0).get("accuracy_at_eps").asDouble()).isEqualTo(0.7);
    assertThat(j.get("timing").get("load_average_end").asDouble()).isEqualTo(1.5);
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
  }

  /** The metamer attack's own check is written when it has one, and a false one is a failed check to the report. */
  @Test
  void aMetamerAttackRecordsItsInvariantAndAFalseOneIsAFailedCheck(@TempDir Path tmp) throws Exception {
    AttackReport r = report("metamer", List.of(point(0.0, 0.7)));
    r.writeJson(tmp.resolve("clean.json"));
    assertThat(JsonReport.MAPPER.readTree(tmp.resolve("clean.json").toFile()).has("invariant_holds")).isFalse();
    new AttackReport(r.run(), r.checkpoint(), r.data(), r.model(), "metamer", null, null, null, null, null, null, null,
        null, null, 0, 30, 64, 0.7, r.curve(), true, null, 3e-2, 2e-2, 3e-2, false, r.timing(), null, null, "/data/d",
        false).writeJson(tmp.resolve("failed.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("failed.json").toFile());
    assertThat(j.get("invariant_holds").asBoolean()).isFalse();
    assertThat(AnalysisChecks.failed(j)).containsExactly("invariant_holds false");
    // Both precisions, named as in metamers.json; float32_holds false alone fails nothing.
    assertThat(j.get("max_logit_abs_diff_f32").asDouble()).isEqualTo(2e-2);
    assertThat(j.get("max_logit_abs_diff_f64").asDouble()).isEqualTo(3e-2);
    assertThat(j.get("float32_holds").asBoolean()).isFalse();
    JsonNode clean = JsonReport.MAPPER.readTree(tmp.resolve("clean.json").toFile());
    assertThat(clean.has("max_logit_abs_diff_f32") || clean.has("max_logit_abs_diff_f64") || clean.has("float32_holds"))
        .as("metamer fields, absent where not given").isFalse();
  }

  /**
   * A metamer attack's file from before invariant_holds (2026-12-05) holds only max_logit_abs_diff:
   * above 1e-4 its command had exited 1 (at 2026-12-01: whenever above; from 2026-12-02 unless
   * float64 rounding accounted for it), and the report showed it as a clean result. Within 1e-4 it
   * held; a file with invariant_holds is judged by that alone, and other attacks have no such check.
   */
  @Test
  void aMetamerAttackFileFromBeforeItsVerdictIsJudgedByItsLogitDifference() throws Exception {
    JsonNode missed = JsonReport.MAPPER.readTree("{\"attack\": \"metamer\", \"sanity\": null, \"max_logit_abs_diff\": 2.3e-3}");
    assertThat(AnalysisChecks.failed(missed)).containsExactly("max_logit_abs_diff 2.30e-03 above 1e-4 (a file from"
        + " before the attack recorded invariant_holds, 2026-12-05: it failed unless float64 rounding accounted for it;"
        + " run the attack again to know)");
    JsonNode nan = JsonReport.MAPPER.readTree("{\"attack\": \"metamer\", \"max_logit_abs_diff\": \"NaN\"}");
    assertThat(AnalysisChecks.failed(nan)).singleElement().asString().startsWith("max_logit_abs_diff NaN above 1e-4");
    JsonNode held = JsonReport.MAPPER.readTree("{\"attack\": \"metamer\", \"max_logit_abs_diff\": 4.6e-7}");
    assertThat(AnalysisChecks.failed(held)).isEmpty();
    JsonNode atTheTolerance = JsonReport.MAPPER.readTree("{\"attack\": \"metamer\", \"max_logit_abs_diff\": 1e-4}");
    assertThat(AnalysisChecks.failed(atTheTolerance)).as("held then, as MetamerSampler.holds reads it").isEmpty();
    JsonNode byRounding = JsonReport.MAPPER.readTree("{\"attack\": \"metamer\", \"max_logit_abs_diff\": 2.3e-3,"
        + " \"invariant_holds\": true}");
    assertThat(AnalysisChecks.failed(byRounding)).isEmpty();
    JsonNode fgsm = JsonReport.MAPPER.readTree("{\"attack\": \"fgsm\", \"max_logit_abs_diff\": 2.3e-3}");
    assertThat(AnalysisChecks.failed(fgsm)).isEmpty();
  }

  /**
   * Three 1x2 images, two columns shown: the sources, the clean images, the examples and their
   * perturbations scaled per image to 0.5 + 0.5 d / max|d| (an unchanged image is mid grey).
   */
  @Test
  void thePngShowsSourcesCleanImagesExamplesAndTheirAmplifiedPerturbations(@TempDir Path tmp) throws Exception {
    INDArray sources = Nd4j.createFromArray(new float[] {1, 1, 0, 0, 1, 0}).reshape(3, 1, 1, 2);
    INDArray clean = Nd4j.createFromArray(new float[] {0.5f, 0.5f, 0.25f, 0.75f, 0, 0}).reshape(3, 1, 1, 2);
    // Image 0: d = (0.125, -0.0625), max |d| 0.125: 1 and 0.25; image 1 unchanged: 0.5 everywhere.
    INDArray examples = Nd4j.createFromArray(new float[] {0.625f, 0.4375f, 0.25f, 0.75f, 1, 1}).reshape(3, 1, 1, 2);
    Path png = tmp.resolve("attack.png");
    AttackReport.writePng(png, sources, clean, List.of(examples), 2);
    assertThat(ImageGridTest.levels(png, 1, 2)).isDeepEqualTo(new int[][] {{255, 255, 0, 0}, {128, 128, 64, 191},
        {159, 112, 64, 191}, {255, 64, 128, 128}});
    AttackReport.writePng(png, null, clean, List.of(examples), 5);
    assertThat(ImageGridTest.levels(png, 1, 2)).isDeepEqualTo(new int[][] {{128, 128, 64, 191, 0, 0},
        {159, 112, 64, 191, 255, 255}, {255, 64, 128, 128, 255, 255}});
  }
}
