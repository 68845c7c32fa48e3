package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.stats.Proportions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** metamers.json from the sampler's pairs, its terminal table and metamers.png. */
class MetamerReportTest {
  /** Test-set pairs {a, b}; labels of indices 0..6 (b's labels: 2 for pair 0, 0 for pair 1). */
  private static final int[][] PAIRS = {{3, 5}, {4, 6}};
  private static final int[] LABELS = {9, 9, 9, 1, 0, 2, 0};
  /** Two 1x1x2 images a and b: ||a0 - b0|| = 5 (a 3-4-5 triangle), ||a1 - b1|| = 1. */
  private static final INDArray A = Nd4j.createFromArray(new double[] {0, 0, 1, 1}).reshape(2, 1, 1, 2),
      B = Nd4j.createFromArray(new double[] {3, 4, 1, 2}).reshape(2, 1, 1, 2);
  /**
   * Pair 0's float32 difference is exactly the tolerance (holds); pair 1's is 3e-4. Both metamers
   * are of class 1: a's class for both pairs, b's label for neither.
   */
  private static final MetamerSampler.Result F32 = new MetamerSampler.Result(null, List.of(
      new MetamerSampler.Pair(MetamerSampler.TOLERANCE, 0.5, 1, 1, 2, 2, 1.0, 4.0, -0.25, 1.5),
      new MetamerSampler.Pair(3e-4, 0.25, 1, 1, 0, 0, 3.0, 2.0, 0.0, 1.0)));

  /** Float64 differences of a sample of the same pairs (the nuisance's half the logits'); only these are read. */
  private static MetamerSampler.Result f64(double d0, double d1) {
    return new MetamerSampler.Result(null, List.of(new MetamerSampler.Pair(d0, d0 / 2, 0, 0, 0, 0, 0, 0, 0, 0),
        new MetamerSampler.Pair(d1, d1 / 2, 0, 0, 0, 0, 0, 0, 0, 0)));
  }

  private static MetamerReport report(MetamerSampler.Result r64, int[] probe) {
    return MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, LABELS, A, B, F32, r64, probe, ClassNames.NONE);
  }

  @Test
  void theSummaryGivesMediansBesideMeansSinceOneMetamerFarOutsideTheImagesSetsTheMean() {
    // Three pairs with the same a and b (||a - b|| = 5); the third metamer is 1e8 from both.
    INDArray a = Nd4j.createFromArray(new double[] {0, 0, 0, 0, 0, 0}).reshape(3, 1, 1, 2);
    INDArray b = Nd4j.createFromArray(new double[] {3, 4, 3, 4, 3, 4}).reshape(3, 1, 1, 2);
    MetamerSampler.Result r = new MetamerSampler.Result(null, List.of(
        new MetamerSampler.Pair(0, 0, 1, 1, 2, 2, 1.0, 4.0, 0, 1),
        new MetamerSampler.Pair(0, 0, 1, 1, 2, 2, 2.0, 6.0, 0, 1),
        new MetamerSampler.Pair(0, 0, 1, 1, 2, 2, 1e8, 1e8, 0, 1e8)));
    MetamerReport.Summary s = MetamerReport.of("run", "best", "d", "/data/d", "m", 7,
        new int[][] {{3, 5}, {3, 5}, {3, 5}}, LABELS, a, b, r, null, null, ClassNames.NONE).summary();
    assertThat(s.meanDistToA()).isCloseTo((3 + 1e8) / 3, within(1e-6));
    assertThat(s.medianDistToA()).isEqualTo(2.0);
    assertThat(s.medianDistToB()).isEqualTo(6.0);
    assertThat(s.medianDistAToB()).isEqualTo(5.0);
  }

  @Test
  void pairsCarryTheirIndicesLabelsAndDistancesAndTheSummaryAggregatesThem() {
    // Pair 1's float64 difference 2e-4 is above the tolerance and not a rounding effect of its float32 one.
    MetamerReport r = report(f64(1e-14, 2e-4), new int[] {2, 0});
    assertThat(r.pairs()).containsExactly(
        new MetamerReport.Pair(3, 5, 1, 2, 1, 2, 1, 1e-4, 1e-14, true, 0.5, 5e-15, 1.0, 4.0, 5.0, -0.25, 1.5, 2, null),
        new MetamerReport.Pair(4, 6, 0, 0, 1, 0, 1, 3e-4, 2e-4, false, 0.25, 1e-4, 3.0, 2.0, 1.0, 0.0, 1.0, 0, null));
    // The probe reads b's label from both metamers (2 and 0).
    assertThat(r.summary()).isEqualTo(new MetamerReport.Summary(3e-4, 2e-4, 0.5, 1e-4, 1.0, 0.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0, 1.0,
        Proportions.wilson95(2, 2), Proportions.wilson95(0, 2), Proportions.wilson95(2, 2)));
    assertThat(r.count()).isEqualTo(2);
    assertThat(r.seed()).isEqualTo(7);
    assertThat(r.tolerance()).isEqualTo(1e-4);
    assertThat(r.roundingRatio()).isEqualTo(1e-6);
    assertThat(r.invariantHolds()).isFalse();
    assertThat(r.float32Holds()).isFalse();
    // With both b's labelled 1, the metamers' class, every metamer has b's label.
    int[] bothB = LABELS.clone();
    bothB[5] = 1;
    bothB[6] = 1;
    assertThat(MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, bothB, A, B, F32, null, null, ClassNames.NONE).summary()
        .rateMetamerClassIsLabelOfB()).isEqualTo(1.0);
  }

  @Test
  void theInvariantIsJudgedInFloat64WhereThereIsASampleAndInFloat32Otherwise() {
    // 2e-10 is at most 1e-6 of pair 1's float32 difference 3e-4: a rounding effect, so the invariant holds.
    MetamerReport rounding = report(f64(1e-14, 2e-10), null);
    assertThat(rounding.pairs()).extracting(MetamerReport.Pair::invariantHolds).containsExactly(true, true);
    assertThat(rounding.invariantHolds()).isTrue();
    assertThat(rounding.float32Holds()).as("pair 1's float32 difference is above the tolerance").isFalse();
    assertThat(rounding.summary().maxLogitAbsDiffF64()).isEqualTo(2e-10);
    assertThat(rounding.summary().rateProbeClassIsLabelOfB()).isNull();
    assertThat(rounding.pairs()).extracting(MetamerReport.Pair::probeClass).containsOnlyNulls();

    // Without a float64 sample: float32 alone, exactly at the tolerance is within it.
    MetamerReport f32 = report(null, null);
    assertThat(f32.pairs()).extracting(MetamerReport.Pair::invariantHolds).containsExactly(true, false);
    assertThat(f32.pairs()).extracting(MetamerReport.Pair::maxLogitAbsDiffF64).containsExactly(Double.NaN, Double.NaN);
    assertThat(f32.summary().maxLogitAbsDiffF64()).isNaN();
    assertThat(f32.invariantHolds()).isFalse();

    // One pair within the tolerance in float32: both flags hold.
    MetamerReport one = MetamerReport.of("run", "best", "d", "/data/d", "m", 0, new int[][] {{3, 5}}, LABELS,
        A.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)),
        B.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)),
        new MetamerSampler.Result(null, List.of(F32.pairs().get(0))), null, null, ClassNames.NONE);
    assertThat(one.invariantHolds()).isTrue();
    assertThat(one.float32Holds()).isTrue();
    // A NaN metamer fails both.
    MetamerReport nan = MetamerReport.of("run", "best", "d", "/data/d", "m", 0, new int[][] {{3, 5}}, LABELS,
        A.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)),
        B.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)), new MetamerSampler.Result(null,
            List.of(new MetamerSampler.Pair(Double.NaN, 0, 1, 1, 2, 2, 1, 1, 0, 1))), null, null, ClassNames.NONE);
    assertThat(nan.invariantHolds()).isFalse();
    assertThat(nan.float32Holds()).isFalse();
  }

  private static List<List<String>> tokens(String table) {
    return table.lines().map(MetamerReportTest::words).toList();
  }

  private static List<String> words(String line) {
    return List.of(line.trim().split("\\s+"));
  }

  @Test
  void theTableShowsTheFirstPairsAndTheSummaryWithTheProbeOnlyWhenOneWasTrained() {
    String withProbe = report(f64(1e-14, 2e-4), new int[] {2, 0}).table(1);
    assertThat(tokens(withProbe).subList(0, 3)).containsExactly(
        List.of("pair", "a", "(lab)", "b", "(lab)", "class", "a", "class", "m", "max|dlogit|", "dist", "a", "dist", "b",
            "probe", "m"),
        List.of("0", "3", "(1)", "5", "(2)", "1", "1", "1.00e-04", "1.000", "4.000", "2"),
        List.of("...", "1", "more", "pairs", "in", "metamers.json"));
    assertThat(withProbe.lines().skip(3)).containsExactly("max |dlogit| f32 3.00e-04, f64 2.00e-04; metamer class =="
        + " class of a: 1.000, == label of b: 0.000; nuisance probe's class == label of b: 1.000; mean dist to a 2.000,"
        + " to b 3.000 (a to b 3.000); median 2.000, 3.000 (3.000)");

    String plain = report(f64(1e-14, 2e-4), null).table(2);
    assertThat(tokens(plain).subList(0, 3)).containsExactly(
        List.of("pair", "a", "(lab)", "b", "(lab)", "class", "a", "class", "m", "max|dlogit|", "dist", "a", "dist", "b"),
        List.of("0", "3", "(1)", "5", "(2)", "1", "1", "1.00e-04", "1.000", "4.000"),
        List.of("1", "4", "(0)", "6", "(0)", "1", "1", "3.00e-04", "3.000", "2.000"));
    assertThat(plain.lines().skip(3)).containsExactly("max |dlogit| f32 3.00e-04, f64 2.00e-04; metamer class =="
        + " class of a: 1.000, == label of b: 0.000; mean dist to a 2.000, to b 3.000 (a to b 3.000); median 2.000,"
        + " 3.000 (3.000)");
  }

  @Test
  void theJsonNamesTheDistancesAsDocumented(@TempDir Path tmp) throws Exception {
    report(f64(1e-14, 2e-4), null).writeJson(tmp.resolve("metamers.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("metamers.json").toFile());
    assertThat(j.get("pairs").get(0).get("dist_a_to_b").asDouble()).isEqualTo(5.0);
    assertThat(j.get("summary").get("mean_dist_a_to_b").asDouble()).isEqualTo(3.0);
    assertThat(j.get("summary").get("median_dist_a_to_b").asDouble()).isEqualTo(3.0);
    assertThat(j.get("summary").get("median_dist_to_a").asDouble()).isEqualTo(2.0);
    assertThat(j.get("summary").get("rate_metamer_class_is_class_of_a").asDouble()).isEqualTo(1.0);
    assertThat(j.get("float32_holds").asBoolean()).isFalse();
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
  }

  /** Ten names for LABELS' classes 0..9, none of them a number. */
  private static final List<String> NAMES = List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
      "Shirt", "Sneaker", "Bag", "Ankle boot");

  @Test
  void namedClassesAreWrittenNextToTheirNumbersAndShownInTheTable(@TempDir Path tmp) throws Exception {
    MetamerReport named = MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, LABELS, A, B, F32,
        f64(1e-14, 2e-4), new int[] {2, 0}, ClassNames.of(NAMES));
    named.writeJson(tmp.resolve("metamers.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("metamers.json").toFile());
    assertThat(j.get("class_names")).extracting(JsonNode::asText).containsExactlyElementsOf(NAMES);
    assertThat(j.get("data_path").asText()).isEqualTo("/data/d");
    JsonNode p0 = j.get("pairs").get(0);
    // Pair 0: a has label 1, b label 2, the model says 1 for a, b and the metamer; the probe 2.
    assertThat(p0.get("label_a").asInt()).isEqualTo(1);
    assertThat(p0.get("label_a_name").asText()).isEqualTo("Trouser");
    assertThat(p0.get("label_b_name").asText()).isEqualTo("Pullover");
    assertThat(p0.get("class_a_name").asText()).isEqualTo("Trouser");
    assertThat(p0.get("class_b_name").asText()).isEqualTo("Pullover");
    assertThat(p0.get("metamer_class_name").asText()).isEqualTo("Trouser");
    assertThat(p0.get("probe_class_name").asText()).isEqualTo("Pullover");
    assertThat(j.get("pairs").get(1).get("probe_class_name").asText()).isEqualTo("T-shirt");
    // Every field of the report without names is still there, with the same value.
    report(f64(1e-14, 2e-4), new int[] {2, 0}).writeJson(tmp.resolve("plain.json"));
    JsonNode plain = JsonReport.MAPPER.readTree(tmp.resolve("plain.json").toFile());
    plain.fieldNames().forEachRemaining(f -> {
      if (!f.equals("pairs")) assertThat(j.get(f)).as(f).isEqualTo(plain.get(f));
    });
    plain.get("pairs").get(0).fieldNames().forEachRemaining(f ->
        assertThat(p0.get(f)).as(f).isEqualTo(plain.get("pairs").get(0).get(f)));

    List<String> lines = named.table(2).lines().toList();
    assertThat(words(lines.get(0))).containsExactly("pair", "a", "(lab)", "b", "(lab)", "class", "a", "class", "m",
        "max|dlogit|", "dist", "a", "dist", "b", "probe", "m");
    assertThat(lines.get(1)).containsSubsequence("0 ", "3 (1 Trouser)", "5 (2 Pullover)", "1 (Trouser)", "1 (Trouser)",
        "1.00e-04", "2 (Pullover)");
    assertThat(lines.get(2)).containsSubsequence("1 ", "4 (0 T-shirt)", "6 (0 T-shirt)", "1 (Trouser)", "0 (T-shirt)");
    // The columns stay aligned: each row's distance starts under the header's.
    assertThat(lines.get(1).indexOf("1.00e-04") + "1.00e-04".length())
        .isEqualTo(lines.get(0).indexOf("max|dlogit|") + "max|dlogit|".length());
  }

  @Test
  void dataWhoseNamesAreTheirNumbersGetsNoNamesAndTheTableOfBefore(@TempDir Path tmp) throws Exception {
    List<String> numbers = java.util.stream.IntStream.range(0, 10).mapToObj(Integer::toString).toList();
    MetamerReport numbered = MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, LABELS, A, B, F32,
        f64(1e-14, 2e-4), new int[] {2, 0}, ClassNames.of(numbers));
    assertThat(numbered.table(2)).isEqualTo(report(f64(1e-14, 2e-4), new int[] {2, 0}).table(2));
    numbered.writeJson(tmp.resolve("metamers.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("metamers.json").toFile());
    assertThat(j.has("class_names")).isFalse();
    assertThat(j.get("pairs").get(0).fieldNames()).toIterable().noneMatch(f -> f.endsWith("_name"));
  }

  @Test
  void thePngShowsAMetamerBetweenItsSourcesForTheFirstPairs(@TempDir Path tmp) throws Exception {
    INDArray a = Nd4j.createFromArray(new double[] {0, 1, 0.5}).reshape(3, 1, 1, 1);
    INDArray m = Nd4j.createFromArray(new double[] {0.25, 0.75, 1}).reshape(3, 1, 1, 1);
    INDArray b = Nd4j.createFromArray(new double[] {1, 0, 0}).reshape(3, 1, 1, 1);
    Path png = tmp.resolve("metamers.png");
    MetamerReport.writePng(png, a, m, b, 2);
    // 0.25 and 0.75 are 63.75 and 191.25 grey levels.
    assertThat(ImageGridTest.levels(png, 1, 1)).isDeepEqualTo(new int[][] {{0, 255}, {64, 191}, {255, 0}});
    MetamerReport.writePng(png, a, m, b, 5);
    assertThat(ImageGridTest.levels(png, 1, 1)).isDeepEqualTo(new int[][] {{0, 255, 128}, {64, 191, 255},
        {255, 0, 0}});
  }

  @Test
  void aMetamerWithoutAClassMatchesNothingAndIsShownAsNonFinite() {
    // Pair 0: a NaN metamer of an a that also has no class; pair 1: a's class 1 kept, probe none.
    MetamerSampler.Result r = new MetamerSampler.Result(null, List.of(
        new MetamerSampler.Pair(Double.NaN, Double.NaN, -1, -1, -1, 2, Double.NaN, Double.NaN, Double.NaN, Double.NaN),
        new MetamerSampler.Pair(1e-5, 0.25, 1, 1, 0, 0, 3.0, 2.0, 0.0, 1.0)));
    MetamerReport m = MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, LABELS, A, B, r, null, new int[] {-1, -1},
        ClassNames.NONE);
    assertThat(m.summary().rateMetamerClassIsClassOfA()).as("two missing classes do not agree").isEqualTo(0.5);
    assertThat(m.summary().rateProbeClassIsLabelOfB()).isZero();
    List<List<String>> rows = tokens(m.table(2));
    assertThat(rows.get(1)).containsExactly("0", "3", "(1)", "5", "(2)", "non-finite", "non-finite", "NaN", "NaN",
        "NaN", "non-finite");
    assertThat(rows.get(2)).containsExactly("1", "4", "(0)", "6", "(0)", "1", "1", "1.00e-05", "3.000", "2.000",
        "non-finite");
  }

  /** Class 0 is a class like any other: a metamer of class 0 from an a of class 0 keeps a's class. */
  @Test
  void aMetamerKeepingClassZeroCountsAsKeepingAsClass() {
    MetamerSampler.Result r = new MetamerSampler.Result(null, List.of(
        new MetamerSampler.Pair(1e-5, 0.25, 0, 0, 2, 2, 1.0, 4.0, 0.0, 1.0),
        new MetamerSampler.Pair(1e-5, 0.25, 1, 0, 0, 0, 3.0, 2.0, 0.0, 1.0)));
    MetamerReport m = MetamerReport.of("run", "best", "d", "/data/d", "m", 7, PAIRS, LABELS, A, B, r, null, null,
        ClassNames.NONE);
    assertThat(m.summary().rateMetamerClassIsClassOfA()).isEqualTo(0.5);
  }
}
