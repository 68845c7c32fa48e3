package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headline a comparison puts side by side, and the type checks of the config and eval files it
 * and their sections read. Expected values are read off the files SyntheticRun and these tests write.
 */
class RunSectionsTest {

  /** Every section's id and title, in report order, as report.json and the HTML page show them. */
  private static final List<String> TITLES = List.of(
      "config: Run configuration and environment", "training: Training curves",
      "accuracy: Accuracy and confusion matrix", "invertibility: Invertibility", "probes: Per-layer probes and PCA",
      "nuisance: Nuisance probe", "metamers: Metamers", "interpolation: Interpolation",
      "samples: Samples from the model (density)", "attacks: Attacks");

  @Test
  void eachSectionHasItsIdAndTitleWhetherItRanOrNot(@TempDir Path tmp) throws Exception {
    Path full = SyntheticRun.full(tmp.resolve("full"), "mle", 0.9);
    Files.writeString(full.resolve(RunSections.ANALYSIS).resolve("extra.json"), "{\"x\": 1}");
    List<Section> ran = RunSections.of(new RunFiles(full));
    assertThat(ran).allSatisfy(s -> assertThat(s.status()).as(s.id()).isIn(Section.OK, Section.FAILED));
    assertThat(ran.stream().map(s -> s.id() + ": " + s.title()))
        .containsExactlyElementsOf(concat(TITLES, "other: Other results"));
    // A bare run: every classifier section but the config is not run, and none is absent.
    List<Section> bare = RunSections.of(new RunFiles(SyntheticRun.bare(tmp.resolve("bare"), "ce")));
    assertThat(bare.stream().skip(1)).allSatisfy(s -> assertThat(s.status()).as(s.id()).isEqualTo(Section.NOT_RUN));
    assertThat(bare.stream().map(s -> s.id() + ": " + s.title())).containsExactlyElementsOf(TITLES);
    Section vae = RunSections.of(new RunFiles(SyntheticRun.vae(tmp.resolve("vae")))).stream()
        .filter(s -> s.id().equals("vae")).findFirst().orElseThrow();
    assertThat(vae.title()).isEqualTo("VAE with a flow posterior");
    assertThat(vae.status()).isEqualTo(Section.OK);
  }

  /** A bare run of a DL4J network: a baseline trained here (by arch) or a model zip (config names it). */
  static Path dl4jRun(Path dir, String arch, String model) throws IOException {
    Files.createDirectories(dir);
    java.util.Map<String, Object> config = new java.util.LinkedHashMap<>(
        java.util.Map.of("arch", arch, "data", "fashion-mnist-mini", "objective", "ce", "epochs", 1));
    if (model != null) config.put("model", model);
    JsonReport.MAPPER.writeValue(dir.resolve("config.json").toFile(),
        java.util.Map.of("config", config, "environment", java.util.Map.of("java", "17")));
    return dir;
  }

  /**
   * A DL4J network cannot have the sections of commands that need an invertible model: "not run,
   * made by bin/irevnet invert --run RUN_DIR" named a command that refuses it (exit code 2).
   */
  @Test
  void aDl4jNetworksRunHasTheInvertibleOnlySectionsNotApplicableNamingWhy(@TempDir Path tmp) throws Exception {
    List<String> invertibleOnly = List.of("invertibility", "nuisance", "metamers", "interpolation", "samples");
    for (var run : List.of(java.util.Map.entry(dl4jRun(tmp.resolve("baseline"), "cnn-s", null), "cnn-s"),
        java.util.Map.entry(dl4jRun(tmp.resolve("mine-analysis"), "DL4J model mine.zip", "/models/mine.zip"), "mine.zip"))) {
      List<Section> sections = RunSections.of(new RunFiles(run.getKey()));
      assertThat(sections).filteredOn(s -> invertibleOnly.contains(s.id())).hasSize(invertibleOnly.size())
          .allSatisfy(s -> {
            assertThat(s.status()).as(s.id()).isEqualTo(Section.NOT_APPLICABLE);
            assertThat(s.note()).as(s.id()).startsWith(run.getValue() + " is a DL4J network, not invertible (bin/irevnet ")
                .endsWith(" needs an invertible model)");
          });
      assertThat(sections).filteredOn(s -> s.id().equals("invertibility")).singleElement()
          .extracting(Section::note).asString().contains("bin/irevnet invert needs");
      // What such a network can have and has not yet is still "not run", naming its command.
      assertThat(sections).filteredOn(s -> List.of("accuracy", "probes", "attacks").contains(s.id()))
          .hasSize(3).allSatisfy(s -> assertThat(s.status()).as(s.id()).isEqualTo(Section.NOT_RUN));
    }
    // A model zip was trained elsewhere, and its analyses are made with --model.
    List<Section> zip = RunSections.of(new RunFiles(tmp.resolve("mine-analysis")));
    assertThat(zip).filteredOn(s -> s.id().equals("training")).singleElement().satisfies(s -> {
      assertThat(s.status()).isEqualTo(Section.NOT_APPLICABLE);
      assertThat(s.note()).isEqualTo("mine.zip was given as a model zip (--model), not trained here");
    });
    assertThat(zip).filteredOn(s -> s.id().equals("probes")).singleElement().extracting(Section::note).asString()
        .contains("bin/irevnet probe --model /models/mine.zip --data fashion-mnist-mini --layers").doesNotContain("--run");
    // An invertible model's run keeps them "not run".
    assertThat(RunSections.of(new RunFiles(SyntheticRun.bare(tmp.resolve("fi"), "ce"))))
        .filteredOn(s -> invertibleOnly.contains(s.id())).hasSize(invertibleOnly.size())
        .allSatisfy(s -> assertThat(s.status()).isEqualTo(Section.NOT_RUN));
  }

  private static List<String> concat(List<String> a, String b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.add(b);
    return out;
  }

  @Test
  void theHeadlineOfAFullRunHasEachNumberOnceInReportOrder(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "mle", 0.9);
    // Exact and in order: an entry for a field the files lack would show as an empty cell in a comparison.
    assertThat(RunSections.headline(new RunFiles(run))).containsExactly(
        entry("arch", "fi-revnet-s"), entry("objective", "mle"),
        entry("data", "fashion-mnist-mini " + SyntheticRun.EVIL), entry("epochs", 2L),
        // The half-written line after step 60 is skipped; the last epoch line (s = 6) took 6 * 5 s.
        entry("steps", 60L), entry("training time (s)", 30L),
        entry("test accuracy", 0.7), entry("test loss", 0.8),
        // A density model's bits/dim is a result next to its accuracy.
        entry("test bits/dim", 4.25),
        entry("reconstruction max error f32", 2e-6), entry("reconstruction max error f64", 3e-15),
        // The summary's rate_probe_class_is_label_of_b is null: no probe was run, so no row.
        entry("metamers: model class is class of a", 1.0),
        entry("nuisance probe: logit_accuracy", 0.7), entry("nuisance probe: nuisance_accuracy", 0.9),
        entry("nuisance probe: excess", 0.9 - 0.7), entry("nuisance probe: nuisance_train_accuracy", 0.99),
        entry("attack fgsm: accuracy at eps 0.1", 0.3), entry("attack fgsm: images", 30L),
        entry("attack metamer: success rate", 0.9), entry("attack metamer: pairs", 30L),
        entry("attack pgd-linf: accuracy at eps 0.1", 0.1), entry("attack pgd-linf: images", 30L));
  }

  /**
   * Two runs given the same data, one by name and one by its directory, read alike in the rows of
   * the data's content (its test split's digest) and class count, which says what chance is.
   */
  @Test
  void theHeadlineTellsTheDataByContentAndCountsItsClassesWhereTheRunRecordedThem(@TempDir Path tmp) throws Exception {
    String sha = "0123456789abcdef".repeat(4);
    Map<String, Object> dataset = new java.util.LinkedHashMap<>();
    dataset.put("name", "fashion-mnist-mini");
    dataset.put("classes", List.of("T-shirt", "Trouser", "Pullover"));
    dataset.put("test_images", 500);
    dataset.put("test_sha256", sha);
    for (String data : List.of("fashion-mnist-mini", "/srv/data/fashion-mnist-mini")) {
      Path run = tmp.resolve("run" + data.length());
      JsonReport.MAPPER.writeValue(Files.createDirectories(run).resolve("config.json").toFile(), Map.of(
          "config", Map.of("arch", "fi-revnet-s", "data", data), "dataset", dataset));
      assertThat(RunSections.headline(new RunFiles(run))).containsExactly(entry("arch", "fi-revnet-s"),
          entry("data", data), entry("classes", 3L), entry("test images (SHA-256)", "500 (0123456789ab)"));
    }
    // Class names unknown (IDX without classes.txt): no count rather than a guess.
    dataset.put("classes", null);
    Path unnamed = tmp.resolve("unnamed");
    JsonReport.MAPPER.writeValue(Files.createDirectories(unnamed).resolve("config.json").toFile(), Map.of(
        "config", Map.of("data", "d"), "dataset", dataset));
    assertThat(RunSections.headline(new RunFiles(unnamed))).containsExactly(entry("data", "d"),
        entry("test images (SHA-256)", "500 (0123456789ab)"));
  }

  @Test
  void theHeadlineOfAVaeRunHasItsVaeNumbersAndNothingItDidNotRun(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.vae(tmp.resolve("vae"));
    assertThat(RunSections.headline(new RunFiles(run))).containsExactly(
        entry("data", "synthetic <script>"), entry("epochs", 2L),
        entry("vae flow", "sylvester-householder"), entry("vae train_images", 32L), entry("vae test_elbo_nats", -210.5),
        entry("vae test_is_nll_nats", 205.25), entry("vae test_is_nll_std_error", 1.5), entry("vae test_images", 3L),
        entry("vae is_samples", 20L), entry("vae train_seconds", 2.5));
  }

  @Test
  void withoutAnEpochTimeOrAnEvalFileTheHeadlineFallsBackToTheLastEpochLine(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.writeString(run.resolve(RunSections.METRICS), """
        {"type":"train","step":10,"loss":1.5}
        {"type":"epoch","step":10,"epoch":1,"test_accuracy":0.5,"test_loss":1.25}
        {"type":"train","loss":1.0}
        """);
    // The last line has no step: the step count is not guessed from an earlier one.
    assertThat(RunSections.headline(new RunFiles(run))).containsExactly(entry("arch", "fi-revnet-s"),
        entry("objective", "ce"), entry("data", "fashion-mnist-mini " + SyntheticRun.EVIL), entry("epochs", 2L),
        entry("test accuracy", 0.5), entry("test loss", 1.25));
    // An mle run's test_loss is its NLL (nats per dimension): the headline's test loss is the
    // cross-entropy, as eval-test.json's loss is.
    Path mle = SyntheticRun.bare(tmp.resolve("mle"), "mle");
    Files.writeString(mle.resolve(RunSections.METRICS), """
        {"type":"epoch","step":10,"epoch":1,"test_accuracy":0.5,"test_loss":0.25,"test_cross_entropy":2.5}
        """);
    assertThat(RunSections.headline(new RunFiles(mle))).contains(entry("test loss", 2.5))
        .doesNotContainValue(0.25);
  }

  @Test
  void eachOtherTestSetGetsAnAccuracyRowButTestTrainAndUnnamedOnesDoNot(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.writeString(run.resolve("eval-test.json"), "{\"name\": \"test\", \"accuracy\": 0.75, \"loss\": 0.5}");
    Files.writeString(run.resolve("eval-train.json"), "{\"name\": \"train\", \"accuracy\": 0.875}");
    Files.writeString(run.resolve("eval-ood.json"), "{\"name\": \"ood\", \"data\": \"mnist-c\", \"accuracy\": 0.25}");
    Files.writeString(run.resolve("eval-blank.json"), "{\"name\": \"\", \"accuracy\": 0.125}");
    Files.writeString(run.resolve("eval-loss-only.json"), "{\"name\": \"loss-only\", \"loss\": 3.0}");
    Files.writeString(run.resolve("eval-nodata.json"), "{\"name\": \"nodata\", \"accuracy\": 0.5}");
    // A wrongly typed file is its accuracy section's error; in the headline it is left out, not fatal.
    Files.writeString(run.resolve("eval-typo.json"), "{\"name\": \"typo\", \"accuracy\": \"high\"}");
    assertThat(RunSections.headline(new RunFiles(run))).containsExactly(entry("arch", "fi-revnet-s"),
        entry("objective", "ce"), entry("data", "fashion-mnist-mini " + SyntheticRun.EVIL), entry("epochs", 2L),
        entry("test accuracy", 0.75), entry("test loss", 0.5),
        entry("accuracy on nodata (?)", 0.5), entry("accuracy on ood (mnist-c)", 0.25));
  }

  /**
   * The training section's epochs table: a row per epoch line, a column per field in the order the
   * lines first give them, the line's type left out, a field a line lacks empty; and no chart for a
   * field without a point. pitest made no mutant of the section builders (only the static SPECS
   * list names them) until its static-initialiser filter was turned off (-Dfeatures=-FSTATI, audit
   * DB): the table's columns and rows, and the empty chart, were then read by no test.
   */
  @Test
  void theEpochsTableHasARowPerEpochLineAndAColumnPerFieldButTheType(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.writeString(run.resolve(RunSections.METRICS), """
        {"type":"train","step":10,"loss":1.5}
        {"type":"epoch","step":10,"epoch":1,"test_accuracy":0.5}
        {"type":"epoch","step":20,"epoch":2,"test_accuracy":0.75,"seconds":3.5}
        {"type":"probe","accuracy":0.5}
        """);
    Section training = section(run, "training");
    // A chart per type and field that has a point; the probe line has no step, so no chart of nothing.
    assertThat(training.figures()).extracting(Figure::title).containsExactly("train: loss", "epoch: test_accuracy",
        "epoch: seconds", "epochs");
    Figure.Table epochs = training.figures().stream().filter(f -> f instanceof Figure.Table t && t.title().equals("epochs"))
        .map(Figure.Table.class::cast).findFirst().orElseThrow();
    assertThat(epochs.columns()).containsExactly("step", "epoch", "test_accuracy", "seconds");
    assertThat(epochs.rows()).containsExactly(java.util.Arrays.asList(10L, 1L, 0.5, null), List.of(20L, 2L, 0.75, 3.5));
  }

  /** The accuracy section reads each eval file once: test, train, then the other test sets by name. */
  @Test
  void theAccuracySectionReadsEachEvalFileOnceTestAndTrainFirst(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    for (String name : List.of("ood", "train", "blur", "test")) {
      Files.writeString(run.resolve("eval-" + name + ".json"), "{\"name\": \"" + name + "\", \"accuracy\": 0.5}");
    }
    Section accuracy = section(run, "accuracy");
    assertThat(accuracy.sources()).containsExactly("eval-test.json", "eval-train.json", "eval-blur.json", "eval-ood.json");
    assertThat(accuracy.figures()).extracting(f -> ((Figure.Table) f).title()).containsExactly("test", "train", "blur", "ood");
  }

  /**
   * An attack swept over one epsilon is a row of the summary table but no curve (one point); an
   * invert.json without stability rows has no stability table (invert without --stability).
   */
  @Test
  void aOnePointSweepDrawsNoCurveAndInvertWithoutStabilityNoStabilityTable(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.5);
    Path pgd = run.resolve(RunSections.ANALYSIS).resolve("attack-pgd-linf.json");
    com.fasterxml.jackson.databind.node.ObjectNode a =
        (com.fasterxml.jackson.databind.node.ObjectNode) JsonReport.MAPPER.readTree(pgd.toFile());
    ((com.fasterxml.jackson.databind.node.ArrayNode) a.get("curve")).remove(1);
    JsonReport.MAPPER.writeValue(pgd.toFile(), a);
    Section attacks = section(run, "attacks");
    assertThat(attacks.figures()).filteredOn(f -> f instanceof Figure.Line).singleElement()
        .satisfies(f -> assertThat(((Figure.Line) f).series()).extracting(Figure.Series::name).containsExactly("fgsm"));
    assertThat(attacks.figures()).filteredOn(f -> f.title().equals("attacks")).singleElement()
        .satisfies(f -> assertThat(((Figure.Table) f).rows()).extracting(r -> r.get(0))
            .containsExactly("fgsm", "metamer", "pgd-linf"));

    Path inv = run.resolve(RunSections.ANALYSIS).resolve("invert.json");
    com.fasterxml.jackson.databind.node.ObjectNode i =
        (com.fasterxml.jackson.databind.node.ObjectNode) JsonReport.MAPPER.readTree(inv.toFile());
    i.remove(List.of("stability", "stability_images"));
    JsonReport.MAPPER.writeValue(inv.toFile(), i);
    Section invertibility = section(run, "invertibility");
    assertThat(invertibility.status()).as(invertibility.note()).isEqualTo(Section.OK);
    assertThat(invertibility.figures()).extracting(Figure::title).noneMatch(t -> t.startsWith("inverse stability"))
        .anyMatch(t -> t.startsWith("reconstruction error"));
  }

  private static Section section(Path run, String id) throws IOException {
    return RunSections.of(new RunFiles(run)).stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void theNuisanceProbeRowsAreItsNumericAccuraciesAndExcessAtAnyDepth(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Path a = Files.createDirectories(run.resolve(RunSections.ANALYSIS));
    Files.writeString(a.resolve("nuisance-probe.json"), """
        {"nuisance_accuracy": 0.25, "excess": -0.5, "loss": 1.5, "per_class_accuracy": [0.5, 0.75],
         "accuracy_note": "held out", "by_stage": {"s0": {"linear_accuracy": 0.125, "seconds": 2.0}},
         "linear_held_out": [{"accuracy": 0.625, "l2": 0.1}, {"accuracy": 0.75, "l2": 0.01}]}
        """);
    // Without an attack field the attack is named by its file.
    Files.writeString(a.resolve("attack-pgd-l2.json"), """
        {"norm": "l2", "curve": [{"epsilon": 0.5, "accuracy": 0.375}]}
        """);
    Files.writeString(a.resolve("attack-broken.json"), "{\"curve\": [");
    assertThat(RunSections.headline(new RunFiles(run))).containsExactly(entry("arch", "fi-revnet-s"),
        entry("objective", "ce"), entry("data", "fashion-mnist-mini " + SyntheticRun.EVIL), entry("epochs", 2L),
        entry("nuisance probe: nuisance_accuracy", 0.25), entry("nuisance probe: excess", -0.5),
        entry("nuisance probe: by_stage: s0: linear_accuracy", 0.125),
        entry("attack attack-pgd-l2: accuracy at eps 0.5", 0.375));
    // probe --linear's held-out accuracy of each penalty tried (an array, so not in the headline
    // above) is a table of the section, a row a penalty.
    Section nuisance = RunSections.of(new RunFiles(run)).stream().filter(s -> s.id().equals("nuisance")).findFirst()
        .orElseThrow();
    assertThat(nuisance.figures()).filteredOn(f -> f instanceof Figure.Table t && t.title().endsWith("linear_held_out"))
        .singleElement().satisfies(f -> {
          assertThat(((Figure.Table) f).rows().toString()).isEqualTo("[[0.625, 0.1], [0.75, 0.01]]");
          assertThat(((Figure.Table) f).note()).as("no linear_l2_ties: no tie to note").isNull();
        });
  }

  /**
   * Layer probes chosen on a tie are named under the stages and PCA tables, by their own stage and
   * component count (stage 1 and PCA 2 here: at stage 0 and PCA 1 a name made of constants passed);
   * a file without ties has no note, nor one whose ties come without a numeric penalty or are no
   * numbers (a damaged file: without the check its missing {@code linear_l2} failed the section).
   */
  @Test
  void layerProbesChosenOnATieAreNotedUnderTheirTables(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Path a = Files.createDirectories(run.resolve(RunSections.ANALYSIS));
    Files.writeString(a.resolve("layer-probes.json"), """
        {"stages": [{"stage": 0, "linear_accuracy": 0.7, "linear_l2": 0.1, "linear_l2_ties": []},
                    {"stage": 1, "linear_accuracy": 0.5, "linear_l2": 0.1, "linear_l2_ties": [0.01]}],
         "pca": [{"components": 1, "linear_accuracy": 0.2, "linear_l2": 0.1},
                 {"components": 2, "linear_accuracy": 0.25, "linear_l2": 0.01, "linear_l2_ties": [0.001, 0.0001]}]}
        """);
    Files.writeString(a.resolve("layer-probes-other.json"), """
        {"stages": [{"stage": 0, "linear_accuracy": 0.5, "linear_l2": 0.1, "linear_l2_ties": []},
                    {"stage": 1, "linear_accuracy": 0.5, "linear_l2_ties": [0.01]}],
         "pca": [{"components": 1, "linear_accuracy": 0.25, "linear_l2": 0.01, "linear_l2_ties": ["1e-3", null]}]}
        """);
    Section probes = RunSections.of(new RunFiles(run)).stream().filter(s -> s.id().equals("probes")).findFirst()
        .orElseThrow();
    String note = "linear probes whose penalty was chosen on a tie (the weaker penalties after \"over\" classified"
        + " the held-out images as well; ties go to the stronger): stage 1 l2 1e-01 over 1e-02; PCA 2 l2 1e-02 over"
        + " 1e-03, 1e-04";
    assertThat(probes.figures()).filteredOn(f -> f instanceof Figure.Table t && (t.title().endsWith(": stages")
        || t.title().endsWith(": pca"))).extracting(f -> ((Figure.Table) f).title() + " / " + ((Figure.Table) f).note())
        .containsExactlyInAnyOrder("layer-probes: stages / " + note, "layer-probes: pca / " + note,
            "layer-probes-other: stages / null", "layer-probes-other: pca / null");
  }

  /**
   * A table cut at {@code MAX_ROWS} keeps its own note, with the tie's after it; another file's cut
   * table keeps its own alone (a note given to every table read "first 40 of 41 rows; null" there).
   */
  @Test
  void aTieNoteFollowsATablesOwnNote(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Path a = Files.createDirectories(run.resolve(RunSections.ANALYSIS));
    int points = TreeFigures.MAX_ROWS + 1;
    StringBuilder pca = new StringBuilder(), tiedPca = new StringBuilder();
    for (int d = 1; d <= points; d++) {
      String point = "{\"components\": " + d + ", \"linear_accuracy\": 0.5, \"linear_l2\": 0.1";
      pca.append(d > 1 ? ", " : "").append(point).append("}");
      tiedPca.append(d > 1 ? ", " : "").append(point).append(d == points ? ", \"linear_l2_ties\": [0.01]}" : "}");
    }
    Files.writeString(a.resolve("layer-probes.json"), "{\"stages\": [{\"stage\": 0, \"linear_l2\": 0.1}], \"pca\": ["
        + tiedPca + "]}");
    Files.writeString(a.resolve("layer-probes-other.json"), "{\"pca\": [" + pca + "]}");
    Section probes = RunSections.of(new RunFiles(run)).stream().filter(s -> s.id().equals("probes")).findFirst()
        .orElseThrow();
    String cut = "first " + TreeFigures.MAX_ROWS + " of " + points + " rows";
    String note = "linear probes whose penalty was chosen on a tie (the weaker penalties after \"over\" classified"
        + " the held-out images as well; ties go to the stronger): PCA " + points + " l2 1e-01 over 1e-02";
    assertThat(probes.figures()).filteredOn(f -> f instanceof Figure.Table t && (t.title().endsWith(": stages")
        || t.title().endsWith(": pca"))).extracting(f -> ((Figure.Table) f).title() + " / " + ((Figure.Table) f).note())
        .containsExactlyInAnyOrder("layer-probes: stages / " + note, "layer-probes: pca / " + cut + "; " + note,
            "layer-probes-other: pca / " + cut);
  }

  /**
   * A reader's penalty chosen on a tie ({@code linear_l2_ties}) is noted under its held-out table; no
   * tie, no note. A nuisance image beside the files is shown, not read as JSON for ties.
   */
  @Test
  void aLinearReaderPenaltyChosenOnATieIsNotedUnderItsHeldOutTable(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Path a = Files.createDirectories(run.resolve(RunSections.ANALYSIS));
    Files.writeString(a.resolve("nuisance-probe.json"), """
        {"nuisance_accuracy": 0.25, "linear_l2": 0.01, "linear_l2_ties": [0.001],
         "linear_held_out": [{"accuracy": 0.625, "l2": 0.1}, {"accuracy": 0.75, "l2": 0.01}, {"accuracy": 0.75, "l2": 0.001}]}
        """);
    Files.writeString(a.resolve("nuisance-probe-other.json"), """
        {"nuisance_accuracy": 0.25, "linear_l2": 0.1, "linear_l2_ties": [],
         "linear_held_out": [{"accuracy": 0.75, "l2": 0.1}, {"accuracy": 0.625, "l2": 0.01}]}
        """);
    SyntheticRun.png(a.resolve("nuisance-probe-z.png"), 4, 4);
    Section nuisance = RunSections.of(new RunFiles(run)).stream().filter(s -> s.id().equals("nuisance")).findFirst()
        .orElseThrow();
    assertThat(nuisance.figures()).filteredOn(f -> f instanceof Figure.Table t && t.title().endsWith("linear_held_out"))
        .extracting(f -> ((Figure.Table) f).title() + " / " + ((Figure.Table) f).note()).containsExactlyInAnyOrder(
            "nuisance-probe: linear_held_out / l2 1e-02 was chosen on a tie: 1e-03 classified the held-out images as"
                + " well (ties go to the stronger penalty)",
            "nuisance-probe-other: linear_held_out / null");
    assertThat(nuisance.sources()).contains("analysis/nuisance-probe-z.png");
  }

  @Test
  void aConfigFieldOfTheWrongTypeIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    String env = "\"environment\": {}";
    for (String[] c : new String[][] {
        {"{\"config\": [1], " + env + "}", "config.json: config is [1], not an object"},
        {"{\"config\": {\"epochs\": 2.5}, " + env + "}", "config.json: config.epochs is 2.5, not an integer"},
        {"{\"config\": {\"objective\": 1}, " + env + "}", "config.json: config.objective is 1, not text"}}) {
      Files.writeString(run.resolve(RunFiles.CONFIG), c[0]);
      assertThatThrownBy(() -> RunSections.checkedConfig(new RunFiles(run))).as(c[0])
          .isInstanceOf(IOException.class).hasMessage(c[1]);
    }
    // Absent fields pass: configs of other commands (vae) lack some.
    Files.writeString(run.resolve(RunFiles.CONFIG), "{\"config\": {\"epochs\": 3}}");
    assertThat(RunSections.checkedConfig(new RunFiles(run)).path("config").path("epochs").asInt()).isEqualTo(3);
  }

  @Test
  void anEvalFieldOfTheWrongTypeIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    String file = "eval-ood.json";
    for (String[] c : new String[][] {
        {"{\"count\": 2.5}", "count is 2.5, not an integer"},
        // Unchecked, 1.5 images were shown as 1 and a fractional count as an empty cell, without a word.
        {"{\"non_finite_logits\": 1.5}", "non_finite_logits is 1.5, not an integer"},
        {"{\"per_class_count\": [3, 2.5]}", "per_class_count[1] is 2.5, not an integer"},
        {"{\"checkpoint\": 7}", "checkpoint is 7, not text"},
        {"{\"class_names\": [\"a\", 2]}", "class_names[1] is 2, not text"},
        {"{\"per_class_accuracy\": \"all\"}", "per_class_accuracy is not an array"},
        {"{\"per_class_accuracy\": [0.5, true]}", "per_class_accuracy[1] is true, not a number"},
        // An object has a size but no rows by index: it must not pass for an empty matrix.
        {"{\"confusion_matrix\": {\"0\": [1, \"x\"]}}", "confusion_matrix is not an array"},
        {"{\"confusion_matrix\": 3}", "confusion_matrix is not an array"},
        {"{\"confusion_matrix\": [[1, 0], 2]}", "confusion_matrix[1] is not an array"},
        {"{\"confusion_matrix\": [[1, 0], [0]]}", "confusion_matrix[1] has 1 entries, the matrix 2 rows"},
        // A model with more outputs than classes: the extra rows were labelled by number, as classes.
        {"{\"class_names\": [\"a\", \"b\"], \"confusion_matrix\": [[1, 0, 0], [0, 1, 0], [0, 0, 0]]}",
            "confusion_matrix is 3x3, but class_names has 2 names"}}) {
      Files.writeString(run.resolve(file), c[0]);
      assertThatThrownBy(() -> RunSections.checkedEval(new RunFiles(run), file)).as(c[0])
          .isInstanceOf(IOException.class).hasMessage(file + ": " + c[1]);
    }
    // Absent and null fields pass: older eval files lack some.
    for (String ok : List.of("{}", "{\"confusion_matrix\": null, \"class_names\": null, \"count\": null}",
        "{\"confusion_matrix\": null, \"class_names\": [\"a\", \"b\"]}",
        "{\"confusion_matrix\": [[2, 0], [1, \"NaN\"]], \"count\": 3, \"name\": \"ood\"}")) {
      Files.writeString(run.resolve(file), ok);
      assertThat(RunSections.checkedEval(new RunFiles(run), file)).as(ok).isNotNull();
    }
  }

  /**
   * The attack file's own fields that the attacks section, the headline and the comparison read by
   * name are checked as its curve points are (ReportTest.anAttackFieldOfTheWrongTypeIsAnError):
   * a count of 2.5 images, a clean accuracy as text or a curve that is no list of points is an
   * error naming the file and the field, not a row shown with a number made up for it.
   */
  @Test
  void anAttacksOwnFieldOfTheWrongTypeIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    String file = "analysis/attack-pgd-linf-targeted.json";
    Files.createDirectories(run.resolve("analysis"));
    for (String[] c : new String[][] {
        {"{\"attack\": 3}", "attack is 3, not text"},
        {"{\"norm\": 2}", "norm is 2, not text"},
        {"{\"targeted\": 3}", "targeted is 3, not text"},
        {"{\"layer_name\": [\"stage4\"]}", "layer_name is [\"stage4\"], not text"},
        {"{\"count\": 2.5}", "count is 2.5, not an integer"},
        {"{\"clean_accuracy\": \"0.9\"}", "clean_accuracy is \"0.9\", not a number"},
        {"{\"curve\": {\"eps\": 0.1}}", "curve is not an array"},
        {"{\"curve\": \"none\"}", "curve is not an array"},
        {"{\"curve\": [{\"eps\": 0}, 0.1]}", "curve[1] is not an object"}}) {
      Files.writeString(run.resolve(file), c[0]);
      assertThatThrownBy(() -> RunSections.checkedAttack(new RunFiles(run), file)).as(c[0])
          .isInstanceOf(IOException.class).hasMessage(file + ": " + c[1]);
    }
    // Absent and null fields pass: an untargeted attack has no target, a metamer attack no norm.
    for (String ok : List.of("{}", "{\"targeted\": null, \"norm\": null, \"curve\": null}",
        "{\"attack\": \"pgd-linf\", \"targeted\": \"Dress\", \"count\": 8, \"clean_accuracy\": 0.75,"
            + " \"curve\": [{\"eps\": 0.1, \"accuracy\": 0.5}]}")) {
      Files.writeString(run.resolve(file), ok);
      assertThat(RunSections.checkedAttack(new RunFiles(run), file)).as(ok).isNotNull();
    }
  }

  @Test
  void aBaseNameDropsTheDirectoryAndTheLastExtensionOnly() {
    assertThat(RunSections.baseName("analysis/attack-fgsm.json")).isEqualTo("attack-fgsm");
    assertThat(RunSections.baseName("analysis/samples-t0.7.png")).isEqualTo("samples-t0.7");
    assertThat(RunSections.baseName("vae.json")).isEqualTo("vae");
    assertThat(RunSections.baseName("analysis/notes")).isEqualTo("notes");
    // A leading dot is no extension: the title would be empty otherwise.
    assertThat(RunSections.baseName("analysis/.json")).isEqualTo(".json");
  }
}
