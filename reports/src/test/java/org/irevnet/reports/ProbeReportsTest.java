package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.analysis.LayerProbes;
import org.irevnet.analysis.MlpClassifier;
import org.irevnet.analysis.NuisanceProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** layer-probes.json and nuisance-probe.json from the probes' results, and their terminal output. */
class ProbeReportsTest {
  private static final MlpClassifier.Recipe RECIPE = new MlpClassifier.Recipe(List.of(256), 3, 500, 0.01, 0, 1);
  private static final LayerProbes.LinearProbe LINEAR = new LayerProbes.LinearProbe("L-BFGS", List.of(0.1, 0.01),
      0.2, 0, 1e-4, 1000, 37, 4e-5, true);

  // The accuracies are shares of the 80 test images (0.875 = 70/80, 0.3125 = 25/80): the files
  // write their intervals over that count, and refuse a share that is none of it.
  private static LayerProbeReport layers() {
    LayerProbes.Result r = new LayerProbes.Result(List.of(
        new LayerProbes.Stage(0, null, List.of(4L, 16L, 16L), 4, 0.5, 0.55, 0.01, 0.4),
        new LayerProbes.Stage(1, "pool", List.of(16L, 8L, 8L), 16, 0.7, 0.8, 0.1, 0.6)),
        List.of(new LayerProbes.PcaPoint(1, 0.3, 0.25, 0.01), new LayerProbes.PcaPoint(16, 0.9, 0.75, 0.1)), LINEAR, 60, 80, 1.5);
    return LayerProbeReport.of("run", "best", "d", "/data/d", "m", 0.875, r, 2.25);
  }

  @Test
  void theLayerProbeReportKeepsTheResultsFieldsApart() {
    LayerProbeReport p = layers();
    assertThat(p.trainCount()).isEqualTo(60);
    assertThat(p.testCount()).isEqualTo(80);
    assertThat(p.logitAccuracy()).isEqualTo(0.875);
    assertThat(p.seconds()).isEqualTo(1.5);
    assertThat(p.totalSeconds()).isEqualTo(2.25);
    assertThat(p.stages()).extracting(LayerProbes.Stage::layer).containsExactly(null, "pool");
    assertThat(p.pca()).extracting(LayerProbes.PcaPoint::components).containsExactly(1, 16);
    assertThat(p.linearProbe()).isSameAs(LINEAR);
    assertThat(List.of(p.run(), p.checkpoint(), p.data(), p.model())).containsExactly("run", "best", "d", "m");
  }

  @Test
  void theLayerProbeTableHasAStageARowThePcaCurveAndTheCounts() {
    assertThat(layers().table().lines().map(l -> List.of(l.trim().split("\\s+")))).containsExactly(
        List.of("stage", "layer", "shape", "dims", "linear", "(train)", "1-NN"),
        // No layer name: an empty column.
        List.of("0", "4x16x16", "4", "0.5000", "0.5500", "0.4000"),
        List.of("1", "pool", "16x8x8", "16", "0.7000", "0.8000", "0.6000"),
        List.of("PCA", "at", "the", "last", "one", "(components:", "linear", "accuracy,", "explained", "variance)"),
        List.of("1:", "0.2500", "0.300"),
        List.of("16:", "0.7500", "0.900"),
        List.of("model's", "own", "accuracy", "0.8750;", "60", "train", "/", "80", "test", "images,", "probes", "1.5",
            "s", "(2.3", "s", "in", "all)"));
  }

  private static NuisanceProbeReport nuisance() {
    return NuisanceProbeReport.of("run", "best", "d", "/data/d", "m",
        NuisanceProbe.Result.ofAccuracies(0.7, 0.3125, -0.3875, 0.99, 60, 80, 1014, RECIPE, 2.0), 3.5);
  }

  @Test
  void theNuisanceProbeLineHasEveryNumberOfTheResult() {
    NuisanceProbeReport n = nuisance();
    assertThat(n.line()).isEqualTo(String.format("nuisance probe: logit accuracy 0.7000, nuisance accuracy 0.3125"
        + " (train 0.9900), excess -0.3875; 60 train / 80 test, 1014 nuisance dims, 2.0 s (3.5 s with z)%n"));
    assertThat(n.recipe()).isSameAs(RECIPE);
    assertThat(List.of(n.run(), n.checkpoint(), n.data(), n.model())).containsExactly("run", "best", "d", "m");
  }

  @Test
  void bothWriteSnakeCaseJsonWithTheSchemaVersion(@TempDir Path tmp) throws Exception {
    layers().writeJson(tmp.resolve("layer-probes.json"));
    JsonNode l = JsonReport.MAPPER.readTree(tmp.resolve("layer-probes.json").toFile());
    assertThat(l.get("stages").get(1).get("nearest_neighbour_accuracy").asDouble()).isEqualTo(0.6);
    assertThat(l.get("stages").get(0).has("layer")).isFalse();
    assertThat(l.get("total_seconds").asDouble()).isEqualTo(2.25);
    assertThat(l.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
    nuisance().writeJson(tmp.resolve("nuisance-probe.json"));
    JsonNode n = JsonReport.MAPPER.readTree(tmp.resolve("nuisance-probe.json").toFile());
    assertThat(n.get("nuisance_dims").asLong()).isEqualTo(1014);
    assertThat(n.get("excess").asDouble()).isEqualTo(-0.3875);
    assertThat(n.get("recipe").get("hidden").toString()).isEqualTo("[256]");
    assertThat(n.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
  }

  /**
   * The intervals and per-image results are the records' own fields: a Java user writing a record
   * gets them (the command once added them to the written map, so the records did not know them).
   * The bounds by the closed form in float64 (Python), the p-value by hand.
   */
  @Test
  void theRecordsWriteTheirIntervalsAndPerImageResults(@TempDir Path tmp) throws Exception {
    layers().writeJson(tmp.resolve("layer-probes.json"));
    JsonNode l = JsonReport.MAPPER.readTree(tmp.resolve("layer-probes.json").toFile());
    assertInterval(l.get("logit_accuracy_ci95"), 0.7849719790084033, 0.9306644238399513); // 70 of 80
    nuisance().writeJson(tmp.resolve("nuisance-probe.json"));
    JsonNode n = JsonReport.MAPPER.readTree(tmp.resolve("nuisance-probe.json").toFile());
    assertInterval(n.get("logit_accuracy_ci95"), 0.5923184607866026, 0.7893542873991866); // 56 of 80
    assertInterval(n.get("nuisance_accuracy_ci95"), 0.2215040411289482, 0.4206777574468744); // 25 of 80
    assertThat(n.has("logit_correct") || n.has("nuisance_correct") || n.has("excess_p_value"))
        .as("no per-image results given").isFalse();

    // The logits right on images 0-2, the probe on image 0: two images only the logits got right,
    // none only the probe, so the exact McNemar p-value is 2 (1/2)^2.
    boolean[] logits = {true, true, true, false}, probe = {true, false, false, false};
    NuisanceProbeReport.of("run", "best", "d", "/data/d", "m",
        NuisanceProbe.Result.ofAccuracies(0.75, 0.25, -0.5, 1.0, 8, 4, 10, RECIPE, 1.0).withPerImage(logits, probe), 1.0)
        .writeJson(tmp.resolve("paired.json"));
    JsonNode p = JsonReport.MAPPER.readTree(tmp.resolve("paired.json").toFile());
    assertThat(p.get("logit_correct").toString()).isEqualTo("[true,true,true,false]");
    assertThat(p.get("nuisance_correct").toString()).isEqualTo("[true,false,false,false]");
    assertThat(p.get("excess_p_value").asDouble()).isEqualTo(0.5);
    assertInterval(p.get("logit_accuracy_ci95"), 0.30064184258240184, 0.9544127391902995); // 3 of 4
    assertInterval(p.get("nuisance_accuracy_ci95"), 0.04558726080970055, 0.6993581574175981); // 1 of 4
  }

  /**
   * probe --linear's reader: its fields (the interval by the closed form in float64, Python), the
   * same how-it-was-fitted object as layer-probes.json's, and a second terminal line; a file
   * without it has none of them, as before the option.
   */
  @Test
  void theLinearReadersFieldsAndLineAreThereOnlyWithIt(@TempDir Path tmp) throws Exception {
    nuisance().writeJson(tmp.resolve("recipe.json"));
    JsonNode plain = JsonReport.MAPPER.readTree(tmp.resolve("recipe.json").toFile());
    List<String> names = new java.util.ArrayList<>();
    plain.fieldNames().forEachRemaining(names::add);
    assertThat(names).noneMatch(n -> n.startsWith("linear"));
    assertThat(nuisance().line()).doesNotContain("linear");

    boolean[] logits = {true, true, true, false}, probe = {true, false, false, false}, linear = {true, true, true, false};
    NuisanceProbeReport r = NuisanceProbeReport.of("run", "best", "d", "/data/d", "m",
        new NuisanceProbe.Result(0.75, 0.25, -0.5, 1.0, 8, 4, 10, RECIPE, 1.0, logits, probe, false,
            new NuisanceProbe.Linear(0.75, 0.875, 1e-5, 0.125, 2.5, linear, LINEAR,
                List.of(new NuisanceProbe.HeldOut(0.1, 0.5), new NuisanceProbe.HeldOut(1e-5, 0.625)), List.of())), 4.0);
    r.writeJson(tmp.resolve("linear.json"));
    JsonNode n = JsonReport.MAPPER.readTree(tmp.resolve("linear.json").toFile());
    assertThat(n.get("linear_accuracy").asDouble()).isEqualTo(0.75);
    assertThat(n.get("linear_train_accuracy").asDouble()).isEqualTo(0.875);
    assertThat(n.get("linear_l2").asDouble()).isEqualTo(1e-5);
    assertThat(n.get("linear_objective").asDouble()).isEqualTo(0.125);
    assertThat(n.get("linear_seconds").asDouble()).isEqualTo(2.5);
    assertThat(n.get("linear_correct").toString()).isEqualTo("[true,true,true,false]");
    assertInterval(n.get("linear_accuracy_ci95"), 0.30064184258240184, 0.9544127391902995); // 3 of 4
    assertThat(n.get("linear_probe").get("most_iterations").asInt()).isEqualTo(37);
    assertThat(n.get("linear_probe").get("all_converged").asBoolean()).isTrue();
    assertThat(n.get("linear_held_out").toString()).isEqualTo("[{\"accuracy\":0.5,\"l2\":0.1},{\"accuracy\":0.625,\"l2\":1.0E-5}]");
    assertThat(n.get("linear_l2_ties").toString()).as("no tie: empty, not absent").isEqualTo("[]");
    assertThat(n.has("whitened")).isFalse();
    assertThat(r.line()).isEqualTo(String.format("nuisance probe: logit accuracy 0.7500, nuisance accuracy 0.2500"
        + " (train 1.0000), excess -0.5000; 8 train / 4 test, 10 nuisance dims, 1.0 s (4.0 s with z)%n"
        + "linear reader (standardised z_n): nuisance accuracy 0.7500 (train 0.8750), l2 1e-05, 2.5 s%n"));
    // With --whiten the first line says the MLP read whitened z_n; the linear reader's stays standardised.
    NuisanceProbeReport white = NuisanceProbeReport.of("run", "best", "d", "/data/d", "m",
        new NuisanceProbe.Result(0.75, 0.25, -0.5, 1.0, 8, 4, 10, RECIPE, 1.0, logits, probe, true,
            new NuisanceProbe.Linear(0.75, 0.875, 1e-5, 0.125, 2.5, linear, LINEAR, null, null)), 4.0);
    assertThat(white.whitened()).isTrue();
    // A reader built without its held-out accuracies (as files before 2026-12-07) has no such field.
    white.writeJson(tmp.resolve("white.json"));
    JsonNode w = JsonReport.MAPPER.readTree(tmp.resolve("white.json").toFile());
    assertThat(w.has("linear_held_out") || w.has("linear_l2_ties")).isFalse();
    assertThat(white.line()).isEqualTo(String.format("nuisance probe (whitened z_n): logit accuracy 0.7500, nuisance"
        + " accuracy 0.2500 (train 1.0000), excess -0.5000; 8 train / 4 test, 10 nuisance dims, 1.0 s (4.0 s with z)%n"
        + "linear reader (standardised z_n): nuisance accuracy 0.7500 (train 0.8750), l2 1e-05, 2.5 s%n"));
  }

  /** Layer probes chosen on a tie are in the file and named after the table; without ties the table ends as before. */
  @Test
  void layerProbesChosenOnATieAreNamedAfterTheTable(@TempDir Path tmp) throws Exception {
    assertThat(layers().table()).doesNotContain("tie");
    LayerProbeReport tied = LayerProbeReport.of("run", "best", "d", "/data/d", "m", 0.875, new LayerProbes.Result(List.of(
        new LayerProbes.Stage(0, null, List.of(4L), 4, 0.5, 0.55, 0.1, 0.4, null, null, List.of(0.01, 0.001)),
        new LayerProbes.Stage(1, null, List.of(16L), 16, 0.7, 0.8, 0.1, 0.6, null, null, List.of())),
        List.of(new LayerProbes.PcaPoint(1, 0.3, 0.25, 0.1, null, List.of()),
            new LayerProbes.PcaPoint(16, 0.9, 0.7, 0.01, null, List.of(0.001))), LINEAR, 60, 80, 1.5), 2.25);
    assertThat(tied.table()).endsWith(String.format("linear probes whose penalty was chosen on a tie (the weaker"
        + " penalties after \"over\" classified the held-out images as well; ties go to the stronger): stage 0 l2 1e-01"
        + " over 1e-02, 1e-03; PCA 16 l2 1e-02 over 1e-03%n"));
    tied.writeJson(tmp.resolve("layer-probes.json"));
    JsonNode l = JsonReport.MAPPER.readTree(tmp.resolve("layer-probes.json").toFile());
    assertThat(l.get("stages").get(0).get("linear_l2_ties").toString()).isEqualTo("[0.01,0.001]");
    assertThat(l.get("stages").get(1).get("linear_l2_ties").toString()).isEqualTo("[]");
    assertThat(l.get("pca").get(1).get("linear_l2_ties").toString()).isEqualTo("[0.001]");
  }

  /** A penalty chosen on a tie: the weaker penalties that tied are in the file, and the line says so. */
  @Test
  void aPenaltyChosenOnATieIsSaidInTheFileAndTheLine(@TempDir Path tmp) throws Exception {
    boolean[] logits = {true, true, true, false}, probe = {true, false, false, false}, linear = {true, true, true, false};
    NuisanceProbeReport r = NuisanceProbeReport.of("run", "best", "d", "/data/d", "m",
        new NuisanceProbe.Result(0.75, 0.25, -0.5, 1.0, 8, 4, 10, RECIPE, 1.0, logits, probe, false,
            new NuisanceProbe.Linear(0.75, 0.875, 1e-2, 0.125, 2.5, linear, LINEAR,
                List.of(new NuisanceProbe.HeldOut(0.1, 0.5), new NuisanceProbe.HeldOut(1e-2, 0.75),
                    new NuisanceProbe.HeldOut(1e-3, 0.75), new NuisanceProbe.HeldOut(1e-4, 0.75)), List.of(1e-3, 1e-4))),
        4.0);
    r.writeJson(tmp.resolve("tie.json"));
    assertThat(JsonReport.MAPPER.readTree(tmp.resolve("tie.json").toFile()).get("linear_l2_ties").toString())
        .isEqualTo("[0.001,1.0E-4]");
    assertThat(r.line()).endsWith(String.format("linear reader (standardised z_n): nuisance accuracy 0.7500 (train"
        + " 0.8750), l2 1e-02, 2.5 s; l2 1e-02 was chosen on a tie: 1e-03, 1e-04 classified the held-out images as well"
        + " (ties go to the stronger penalty)%n"));
  }

  private static void assertInterval(JsonNode ci, double lo, double hi) {
    assertThat(ci.size()).isEqualTo(2);
    assertThat(ci.get(0).asDouble()).isCloseTo(lo, org.assertj.core.data.Offset.offset(1e-15));
    assertThat(ci.get(1).asDouble()).isCloseTo(hi, org.assertj.core.data.Offset.offset(1e-15));
  }
}
