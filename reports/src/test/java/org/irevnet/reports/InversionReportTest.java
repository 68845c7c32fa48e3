package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.irevnet.analysis.Reconstruction;
import org.irevnet.analysis.Stability;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** invert.json from the reconstruction errors and stability estimates, its terminal tables and invert.png. */
class InversionReportTest {
  private static final Reconstruction.Error Z32 = new Reconstruction.Error(4e-6, 3e-7, 1),
      Z64 = new Reconstruction.Error(6e-15, 2e-16, 1);

  /**
   * Two stages of a batch of 2: the largest float32 error is stage 1's, the largest float64 error
   * the one from z.
   */
  private static InversionReport twoStages() {
    Reconstruction.Precisions p = new Reconstruction.Precisions(
        List.of(new Reconstruction.StageError(0, new long[] {2, 4, 16, 16}, new Reconstruction.Error(2e-6, 1e-7, 1)),
            new Reconstruction.StageError(1, new long[] {2, 16, 8, 8}, new Reconstruction.Error(5e-6, 2e-7, 0))),
        List.of(new Reconstruction.StageError(0, new long[] {2, 4, 16, 16}, new Reconstruction.Error(3e-15, 1e-16, 0)),
            new Reconstruction.StageError(1, new long[] {2, 16, 8, 8}, new Reconstruction.Error(1e-15, 5e-16, 1))),
        Z32, Z64, null);
    return InversionReport.of("run", "best", "d[0:2]", "/data/d", "m", 2, p, 2e-6);
  }

  @Test
  void stagesHaveOneSamplesShapeAndZTheLastStagesAndTheMaximaAreOverStagesAndZ() {
    InversionReport r = twoStages();
    List<Long> last = List.of(16L, 8L, 8L);
    assertThat(r.stages()).containsExactly(
        new InversionReport.Stage("0", List.of(4L, 16L, 16L), new InversionReport.Errors(2e-6, 1e-7, 1),
            new InversionReport.Errors(3e-15, 1e-16, 0)),
        new InversionReport.Stage("1", last, new InversionReport.Errors(5e-6, 2e-7, 0),
            new InversionReport.Errors(1e-15, 5e-16, 1)));
    assertThat(r.z()).isEqualTo(new InversionReport.Stage("z", last, new InversionReport.Errors(4e-6, 3e-7, 1),
        new InversionReport.Errors(6e-15, 2e-16, 1)));
    assertThat(r.maxAbsErrF32()).isEqualTo(5e-6);
    assertThat(r.maxAbsErrF64()).isEqualTo(6e-15);
    assertThat(r.float64Bound()).isEqualTo(2e-6);
    assertThat(r.rows()).containsExactly(r.stages().get(0), r.stages().get(1), r.z());
    assertThat(r.count()).isEqualTo(2);
    assertThat(r.stability()).isNull();

    // No stages: z has no shape, and the maxima are z's.
    InversionReport none = InversionReport.of("run", "best", "d", "/data/d", "m", 1,
        new Reconstruction.Precisions(List.of(), List.of(), Z32, Z64, null), 2e-6);
    assertThat(none.stages()).isEmpty();
    assertThat(none.z().shape()).isEmpty();
    assertThat(none.maxAbsErrF32()).isEqualTo(4e-6);
    assertThat(none.maxAbsErrF64()).isEqualTo(6e-15);
  }

  /**
   * Stage 0's exact condition peaks exactly at the threshold (not ill-conditioned), z's Lanczos
   * estimate above it, stage 2's Lanczos estimate below it (a lower bound: no verdict), stage 3's
   * too, but after as many steps as dimensions (exact), and a map without points has no estimate
   * at all, which must not pass as well-conditioned.
   */
  private static InversionReport withStability() {
    return twoStages().withStability(List.of(
        new Stability.MapStability("0", 1024, List.of(new Stability.Point(2, 1.5, 3), new Stability.Point(4, 0.5, 2)),
            Stability.Method.JACOBIAN, 0),
        new Stability.MapStability("z", 4096, List.of(new Stability.Point(1, 1, 1e4)), Stability.Method.LANCZOS, 30),
        new Stability.MapStability("2", 8192, List.of(new Stability.Point(1, 2, 2)), Stability.Method.LANCZOS, 20),
        new Stability.MapStability("3", 16, List.of(new Stability.Point(1, 2, 2)), Stability.Method.LANCZOS, 16),
        new Stability.MapStability("1", 256, List.of(), Stability.Method.LANCZOS, 20)), 3.0, List.of(0L, 3L));
  }

  @Test
  void stabilityRowsHoldMaximaAndMeansAndFlagConditionsAboveTheThreshold() {
    InversionReport r = withStability();
    double nan = Double.NaN;
    assertThat(r.stability()).containsExactly(
        new InversionReport.StabilityRow("0", 1024, "jacobian", null, 4, 3, 1.5, 1, 3, 2.5, false),
        new InversionReport.StabilityRow("z", 4096, "lanczos", 30, 1, 1, 1, 1, 1e4, 1e4, true),
        new InversionReport.StabilityRow("2", 8192, "lanczos", 20, 1, 1, 2, 2, 2, 2, false),
        new InversionReport.StabilityRow("3", 16, "lanczos", 16, 1, 1, 2, 2, 2, 2, false),
        new InversionReport.StabilityRow("1", 256, "lanczos", 20, nan, nan, nan, nan, nan, nan, true));
    assertThat(r.illConditionedAbove()).isEqualTo(3.0);
    assertThat(r.stabilityImages()).containsExactly(0L, 3L);
    // The rest of the report is kept.
    InversionReport plain = twoStages();
    assertThat(new InversionReport(r.run(), r.checkpoint(), r.data(), r.model(), r.count(), r.stages(), r.z(),
        r.maxAbsErrF32(), r.maxAbsErrF64(), r.float64Bound(), null, null, null, r.dataPath())).isEqualTo(plain);
  }

  private static List<List<String>> tokens(String table) {
    return table.lines().map(l -> List.of(l.trim().split("\\s+"))).toList();
  }

  @Test
  void theErrorTableHasAStageARowAndZLast() {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.GERMANY); // a decimal comma must not reach the tables
    try {
      theErrorTable();
    } finally {
      Locale.setDefault(before);
    }
  }

  private static void theErrorTable() {
    assertThat(tokens(twoStages().table())).containsExactly(
        List.of("stage", "shape", "max", "f32", "image", "mean", "f32", "max", "f64", "mean", "f64"),
        List.of("0", "4x16x16", "2.00e-06", "1", "1.00e-07", "3.00e-15", "1.00e-16"),
        List.of("1", "16x8x8", "5.00e-06", "0", "2.00e-07", "1.00e-15", "5.00e-16"),
        List.of("z", "16x8x8", "4.00e-06", "1", "3.00e-07", "6.00e-15", "2.00e-16"));
  }

  @Test
  void theStabilityTableNamesItsImagesAndFlagsIllConditionedMaps() {
    assertThat(twoStages().stabilityTable()).isEmpty();
    assertThat(tokens(withStability().stabilityTable())).containsExactly(
        List.of("at", "images", "0,", "3:"),
        List.of("map", "dims", "method", "Lip", "max", "Lip_inv", "max", "cond", "max", "cond", "mean", "flag"),
        List.of("0", "1024", "jacobian", "4.000e+00", "1.500e+00", "3.000e+00", "2.500e+00", "ok"),
        List.of("z", "4096", "lanczos", "30", "1.000e+00", "1.000e+00", "1.000e+04", "1.000e+04", "ill-conditioned",
            "(>", "3.0)"),
        List.of("2", "8192", "lanczos", "20", "1.000e+00", "2.000e+00", "2.000e+00", "2.000e+00", "not", "shown",
            "(lower", "bound)"),
        List.of("3", "16", "lanczos", "16", "1.000e+00", "2.000e+00", "2.000e+00", "2.000e+00", "ok"),
        List.of("1", "256", "lanczos", "20", "NaN", "NaN", "NaN", "NaN", "ill-conditioned", "(>", "3.0)"));
    InversionReport r = withStability();
    InversionReport noImages = new InversionReport(r.run(), r.checkpoint(), r.data(), r.model(), r.count(), r.stages(),
        r.z(), r.maxAbsErrF32(), r.maxAbsErrF64(), r.float64Bound(), r.illConditionedAbove(), null, r.stability(),
        r.dataPath());
    assertThat(noImages.stabilityTable().lines().findFirst()).hasValue(r.stabilityTable().lines().skip(1)
        .findFirst().orElseThrow());
  }

  @Test
  void theJsonHasSnakeCaseFieldsAndLeavesOutStabilityWhenNoneWasEstimated(@TempDir Path tmp) throws Exception {
    twoStages().writeJson(tmp.resolve("plain.json"));
    JsonNode plain = JsonReport.MAPPER.readTree(tmp.resolve("plain.json").toFile());
    assertThat(plain.get("max_abs_err_f32").asDouble()).isEqualTo(5e-6);
    assertThat(plain.get("float64_bound").asDouble()).isEqualTo(2e-6);
    assertThat(plain.has("rows")).as("stages and z, once each").isFalse();
    assertThat(plain.get("z").get("float32").get("worst_image").asLong()).isEqualTo(1);
    assertThat(plain.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
    assertThat(plain.has("stability")).isFalse();
    assertThat(plain.has("ill_conditioned_above")).isFalse();
    withStability().writeJson(tmp.resolve("stability.json"));
    JsonNode s = JsonReport.MAPPER.readTree(tmp.resolve("stability.json").toFile());
    assertThat(s.get("stability").get(1).get("ill_conditioned").asBoolean()).isTrue();
    assertThat(s.get("stability").get(0).get("method").asText()).isEqualTo("jacobian");
    assertThat(s.get("stability").get(0).get("iterations").isNull()).as("steps are Lanczos's alone").isTrue();
    assertThat(s.get("stability").get(1).get("method").asText()).isEqualTo("lanczos");
    assertThat(s.get("stability").get(1).get("iterations").asInt()).isEqualTo(30);
    assertThat(s.get("stability_images").toString()).isEqualTo("[0,3]");
  }

  @Test
  void thePngShowsOriginalsReconstructionsAndTenTimesTheirDifference(@TempDir Path tmp) throws Exception {
    // One 1x2 image: 0.5 reconstructed as 0.53125 (10x the difference: 0.3125), 0.25 as 0.0625 (1.875: clipped).
    Path png = tmp.resolve("invert.png");
    InversionReport.writePng(png, Nd4j.createFromArray(new float[] {0.5f, 0.25f}).reshape(1, 1, 1, 2),
        Nd4j.createFromArray(new float[] {0.53125f, 0.0625f}).reshape(1, 1, 1, 2));
    int[][] levels = ImageGridTest.levels(png, 1, 2);
    assertThat(levels).isDeepEqualTo(new int[][] {{128, 64}, {135, 16}, {80, 255}});
  }

  /**
   * The report's reading of invert.json's own check (AnalysisChecks.failed): a float64 error above
   * float64_bound fails it wherever it is, a stage's output as well as z, and names where; an
   * error at the bound itself is within it, as InvertCommand judges.
   */
  @Test
  void aStagesFloat64ErrorAboveTheBoundFailsTheCheckAndOneAtTheBoundPasses() throws Exception {
    String file = """
        {"float64_bound": 2e-6,
         "stages": [{"stage": 0, "float64": {"max_abs_err": 1e-15}}, {"stage": 1, "float64": {"max_abs_err": %s}}],
         "z": {"stage": "z", "float32": {"max_abs_err": 1e-3}, "float64": {"max_abs_err": 3e-15}}}""";
    assertThat(AnalysisChecks.failed(JsonReport.MAPPER.readTree(file.formatted("1e-3"))))
        .containsExactly("float64 max_abs_err 1.00e-03 above float64_bound 2.00e-06 (the reconstruction from stage 1's output)");
    assertThat(AnalysisChecks.failed(JsonReport.MAPPER.readTree(file.formatted("2e-6")))).isEmpty();
  }

  /**
   * An invert.json from before its command judged it (2026-12-04: no float64_bound) is held to no
   * bound, but a reconstruction that is not finite is a failed check there too, as today: the
   * report showed such a file as "ok". A layer probe's file, which also has stages, is no invert.json.
   */
  @Test
  void anInvertFileFromBeforeItsBoundFailsOnANonFiniteReconstructionOnly() throws Exception {
    String before = """
        {"max_abs_err_f32": %1$s, "max_abs_err_f64": 1e-3,
         "stages": [{"stage": "0", "float32": {"max_abs_err": %1$s}, "float64": {"max_abs_err": 1e-3}}],
         "z": {"stage": "z", "float32": {"max_abs_err": 1e-7}, "float64": {"max_abs_err": 1e-3}}}""";
    assertThat(AnalysisChecks.failed(JsonReport.MAPPER.readTree(before.formatted("\"NaN\""))))
        .containsExactly("non-finite float32 max_abs_err (the reconstruction from stage 0's output)");
    assertThat(AnalysisChecks.failed(JsonReport.MAPPER.readTree(before.formatted("1e-7")))).isEmpty();
    assertThat(AnalysisChecks.failed(JsonReport.MAPPER.readTree(
        "{\"stages\": [{\"stage\": \"0\", \"float32\": {\"max_abs_err\": \"NaN\"}}]}"))).isEmpty();
  }
}
