package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.analysis.Interpolation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** interpolate.json's pairs from the paths, its terminal table and interpolate.png. */
class InterpolationReportTest {
  private static final Interpolation.Path FULL = new Interpolation.Path(null, null, new double[] {0, 0.5, 1},
      new int[] {1, 2, 2}, new double[] {0.9, 0.6, 0.875}, new double[] {1e-7, 2e-7, 3e-7}, new double[] {0, 4, 8});
  private static final Interpolation.Path NUISANCE = new Interpolation.Path(null, null, new double[] {0, 1},
      new int[] {1, 1}, new double[] {0.95, 0.8}, new double[] {0, 1e-6}, new double[] {0, 1e-5});

  private static InterpolationReport report() {
    return new InterpolationReport("run", "best", "d", "m", 3, 3, List.of(
        InterpolationReport.pair(3, 5, 1, 2, ClassNames.NONE, FULL, NUISANCE),
        InterpolationReport.pair(7, 0, 0, 4, ClassNames.NONE, FULL, null)), null, "/data/d");
  }

  @Test
  void aPairHasOneStepPerAlphaOfEachPathAndNoNuisancePathForAnIRevNet() {
    InterpolationReport.Pair p = report().pairs().get(0);
    assertThat(p.indexFrom()).isEqualTo(3);
    assertThat(p.indexTo()).isEqualTo(5);
    assertThat(p.labelFrom()).isEqualTo(1);
    assertThat(p.labelTo()).isEqualTo(2);
    assertThat(p.full()).containsExactly(new InterpolationReport.Step(0, 1, 0.9, 1e-7, 0),
        new InterpolationReport.Step(0.5, 2, 0.6, 2e-7, 4), new InterpolationReport.Step(1, 2, 0.875, 3e-7, 8));
    assertThat(p.nuisance()).containsExactly(new InterpolationReport.Step(0, 1, 0.95, 0, 0),
        new InterpolationReport.Step(1, 1, 0.8, 1e-6, 1e-5));
    assertThat(report().pairs().get(1).nuisance()).isNull();
  }

  @Test
  void theTableShowsTheClassesAlongEachPathOfTheFirstPairs() {
    assertThat(report().table(1).lines()).containsExactly(
        "3 (label 1) -> 5 (label 2); model class:probability per step",
        "  full      1:0.90 2:0.60 2:0.88",
        "  nuisance  1:0.95 1:0.80",
        "... 1 more pairs in interpolate.json");
    // Exactly all pairs shown: no line about more.
    assertThat(report().table(2).lines()).hasSize(5).noneMatch(l -> l.contains("more"));
    assertThat(report().table(5).lines()).containsExactly(
        "3 (label 1) -> 5 (label 2); model class:probability per step",
        "  full      1:0.90 2:0.60 2:0.88",
        "  nuisance  1:0.95 1:0.80",
        "7 (label 0) -> 0 (label 4); model class:probability per step",
        "  full      1:0.90 2:0.60 2:0.88");
  }

  @Test
  void namedClassesAreWrittenNextToTheLabelsAndTheTableNamesTheClassesAlongThePaths(@TempDir Path tmp)
      throws Exception {
    ClassNames names = ClassNames.of(List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat"));
    InterpolationReport r = new InterpolationReport("run", "best", "d", "m", 3, 3, List.of(
        InterpolationReport.pair(3, 5, 1, 2, names, FULL, NUISANCE), InterpolationReport.pair(7, 0, 0, 4, names, FULL,
            null)), names.list(), "/data/d");
    assertThat(r.table(1).lines()).containsExactly(
        "3 (label 1 Trouser) -> 5 (label 2 Pullover); model class:probability per step",
        "  full      1:0.90 2:0.60 2:0.88",
        "  nuisance  1:0.95 1:0.80",
        "... 1 more pairs in interpolate.json",
        "classes: 1 Trouser, 2 Pullover");
    r.writeJson(tmp.resolve("interpolate.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("interpolate.json").toFile());
    assertThat(j.get("class_names")).extracting(JsonNode::asText).containsExactlyElementsOf(names.list());
    assertThat(j.at("/pairs/1/label_from").asInt()).isZero();
    assertThat(j.at("/pairs/1/label_from_name").asText()).isEqualTo("T-shirt");
    assertThat(j.at("/pairs/1/label_to_name").asText()).isEqualTo("Coat");
    // Unnamed: the table and the pairs of before.
    ClassNames numbers = ClassNames.of(List.of("0", "1", "2", "3", "4"));
    InterpolationReport plain = new InterpolationReport("run", "best", "d", "m", 3, 3, List.of(
        InterpolationReport.pair(3, 5, 1, 2, numbers, FULL, NUISANCE), InterpolationReport.pair(7, 0, 0, 4, numbers,
            FULL, null)), numbers.list(), "/data/d");
    assertThat(plain.table(5)).isEqualTo(report().table(5));
    plain.writeJson(tmp.resolve("plain.json"));
    JsonNode p = JsonReport.MAPPER.readTree(tmp.resolve("plain.json").toFile());
    assertThat(p.has("class_names")).isFalse();
    assertThat(p.at("/pairs/1").has("label_from_name")).isFalse();
  }

  @Test
  void theJsonLeavesOutAMissingNuisancePath(@TempDir Path tmp) throws Exception {
    report().writeJson(tmp.resolve("interpolate.json"));
    JsonNode j = JsonReport.MAPPER.readTree(tmp.resolve("interpolate.json").toFile());
    assertThat(j.get("pairs").get(0).get("nuisance").get(1).get("max_logit_drift").asDouble()).isEqualTo(1e-5);
    assertThat(j.get("pairs").get(1).has("nuisance")).isFalse();
    assertThat(j.get("pairs").get(1).get("index_from").asInt()).isEqualTo(7);
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
  }

  @Test
  void thePngHasOneRowPerPath(@TempDir Path tmp) throws Exception {
    Path png = tmp.resolve("interpolate.png");
    InterpolationReport.writePng(png, List.of(Nd4j.createFromArray(new double[] {0, 0.5, 1}).reshape(3, 1, 1, 1),
        Nd4j.createFromArray(new double[] {1, 0.25}).reshape(2, 1, 1)));
    assertThat(ImageGridTest.levels(png, 1, 1)).isDeepEqualTo(new int[][] {{0, 128, 255}, {255, 64, ImageGrid.GAP_LEVEL}});
  }

  @Test
  void aStepWithoutAClassIsShownAsNonFiniteNotAsAClass(@TempDir Path tmp) throws Exception {
    Interpolation.Path nan = new Interpolation.Path(null, null, new double[] {0, 1}, new int[] {3, -1},
        new double[] {0.5, Double.NaN}, new double[] {0, Double.NaN}, new double[] {0, Double.NaN});
    InterpolationReport r = new InterpolationReport("run", "best", "d", "m", 3, 2,
        List.of(InterpolationReport.pair(1, 2, 3, 4, ClassNames.NONE, nan, null)), null, "/data/d");
    assertThat(r.table(1).lines()).containsExactly(
        "1 (label 3) -> 2 (label 4); model class:probability per step",
        "  full      3:0.50 non-finite");
    r.writeJson(tmp.resolve("interpolate.json"));
    JsonNode step = JsonReport.MAPPER.readTree(tmp.resolve("interpolate.json").toFile()).at("/pairs/0/full/1");
    assertThat(step.get("model_class").asInt()).isEqualTo(-1);
    assertThat(step.get("probability").asText()).isEqualTo("NaN");
  }
}
