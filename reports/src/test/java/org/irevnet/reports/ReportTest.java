package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  private static Map<String, Section> sections(Report r, int run) {
    return r.runs().get(run).sections().stream().collect(Collectors.toMap(Section::id, s -> s));
  }

  /**
   * A report waits while another process renames a set of results into the run's analysis/, and
   * keeps any from being renamed while it reads: read between an invert's invert.json and its
   * invert.png, it showed one invert's numbers with another's picture. The other process here holds
   * the directory's lock as a set's renames do ({@link SetRenamer}); /proc/locks shows this one
   * waiting for it, where the report once read on at once.
   */
  @Test
  void aReportReadsNoSetWhileItIsBeingRenamed(@TempDir Path tmp) throws Exception {
    Path locks = Path.of("/proc/locks");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(locks), "no /proc/locks to see a waiting process");
    Path run = SyntheticRun.full(tmp.resolve("ce"), "ce", 0.9);
    Process renamer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), SetRenamer.class.getName(),
        run.resolve("analysis").toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    java.util.concurrent.CompletableFuture<Report> report;
    boolean waited = false;
    try {
      assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(renamer.getInputStream())).readLine())
          .isEqualTo("renaming");
      report = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return Report.of(List.of(run));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      String waiting = "-> POSIX ADVISORY WRITE " + ProcessHandle.current().pid() + " ";
      while (!report.isDone() && !waited) {
        waited = Files.readAllLines(locks).stream().anyMatch(l -> l.replaceAll("\\s+", " ").contains(waiting));
        Thread.sleep(10);
      }
      renamer.getOutputStream().close();
      assertThat(renamer.waitFor()).isZero();
    } finally {
      renamer.destroyForcibly();
    }
    assertThat(waited).as("the report waited for the other process's renames").isTrue();
    assertThat(report.get().runs()).hasSize(1);
    try (java.util.stream.Stream<Path> s = Files.list(run.resolve("analysis"))) {
      assertThat(s.map(p -> p.getFileName().toString())).as("no lock file left").noneMatch(n -> n.endsWith("lock"));
    }
  }

  /** Holds the results lock of the directory its argument names, as a set's renames do, until its standard input ends. */
  static final class SetRenamer {
    public static void main(String[] args) throws Exception {
      try (java.io.Closeable held = org.irevnet.io.AtomicFiles.lockResults(List.of(Path.of(args[0])))) {
        System.out.println("renaming");
        System.out.flush();
        System.in.transferTo(java.io.OutputStream.nullOutputStream());
      }
    }
  }

  @Test
  void everySectionRendersFromASyntheticRun(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("ice"), "ice", 0.31);
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.keySet()).containsExactlyInAnyOrder("config", "training", "accuracy", "invertibility", "probes",
        "nuisance", "metamers", "interpolation", "samples", "attacks");
    s.values().forEach(sec -> assertThat(sec.status()).as(sec.id() + ": " + sec.note()).isEqualTo(Section.OK));

    // Training: every numeric field of train lines, iCE extras included; the half-written line is skipped.
    List<String> training = s.get("training").figures().stream().map(Figure::title).toList();
    assertThat(training).contains("train: loss", "train: nuisance_ce", "train: dnc_accuracy", "train: nll_bits_per_dim",
        "epoch: test_accuracy", "epochs");
    Figure.Line loss = (Figure.Line) s.get("training").figures().get(0);
    assertThat(loss.series().get(0).x()).containsExactly(10.0, 20.0, 30.0, 40.0, 50.0, 60.0);
    assertThat(loss.logY()).isFalse();
    assertThat(s.get("training").figures().stream().filter(f -> f.title().equals("train: zn_max_abs")))
        .as("the largest |z_n| spans decades: drawn on a log scale")
        .singleElement().satisfies(f -> assertThat(((Figure.Line) f).logY()).isTrue());

    Figure.Matrix cm = (Figure.Matrix) s.get("accuracy").figures().stream().filter(f -> f instanceof Figure.Matrix)
        .findFirst().orElseThrow();
    assertThat(cm.labels()).containsExactly("T-shirt", SyntheticRun.EVIL, "Bag");
    assertThat(cm.values().get(1)).containsExactly(2.0, 6.0, 2.0);
    assertThat(table(s.get("accuracy"), "test").rows()).contains(List.of("data", "synthetic/test"),
        List.of("data_path", "/data/synthetic"));

    Figure.Line recon = (Figure.Line) s.get("invertibility").figures().get(0);
    assertThat(recon.logY()).isTrue();
    assertThat(recon.xCategories()).containsExactly("0", "1", "z");
    assertThat(s.get("invertibility").sources()).contains("analysis/invert.json", "analysis/invert.png",
        "analysis/stability.json");
    Figure.Table stability = table(s.get("invertibility"), "inverse stability");
    assertThat(stability.columns()).contains("condition_max", "ill_conditioned");
    assertThat(stability.rows()).hasSize(1);
    assertThat(stability.title()).isEqualTo("inverse stability at images 0");
    Figure.Table errors = table(s.get("invertibility"), "reconstruction error");
    assertThat(errors.columns()).containsExactly("stage", "shape", "max f32", "at image", "mean f32", "max f64",
        "mean f64");
    assertThat(errors.rows()).extracting(row -> row.get(3)).containsExactly(1L, 1L, 1L);
    // The stages' shapes, the data in the title and a series per error, from what SyntheticRun wrote.
    assertThat(errors.rows()).extracting(row -> row.get(1)).containsExactly("4x16x16", "16x8x8", "16x8x8");
    assertThat(errors.title()).isEqualTo("reconstruction error |x - F^-1(h)| on synthetic/test[0:2]");
    assertThat(recon.series()).extracting(Figure.Series::name).containsExactly("float32 max", "float32 mean",
        "float64 max", "float64 mean");
    assertThat(recon.series()).extracting(Figure.Series::y).containsExactly(List.of(2e-6, 2e-6, 2e-6),
        List.of(1e-7, 1e-7, 1e-7), List.of(3e-15, 3e-15, 3e-15), List.of(0.0, 0.0, 0.0));

    // Probes: the per-stage accuracies in one chart by stage (shapes do not split the curves), PCA by components.
    List<Figure.Line> probeCharts = lines(s.get("probes"));
    Figure.Line byStage = probeCharts.get(0);
    assertThat(byStage.xLabel()).isEqualTo("stage");
    assertThat(byStage.series()).extracting(Figure.Series::name).containsExactly("linear_accuracy",
        "linear_train_accuracy", "nearest_neighbour_accuracy");
    assertThat(probeCharts).extracting(Figure.Line::xLabel).contains("components");
    assertThat(s.get("probes").sources()).containsExactly("analysis/layer-probes.json");
    assertThat(s.get("nuisance").sources()).containsExactly("analysis/nuisance-probe.json");

    // Attacks: one robustness chart per norm with a curve per attack; the metameric attack in the table.
    Figure.Line attack = lines(s.get("attacks")).get(0);
    assertThat(attack.title()).isEqualTo("robustness (linf)");
    assertThat(attack.series()).extracting(Figure.Series::name).containsExactly("fgsm", "pgd-linf");
    assertThat(attack.series().get(0).y()).containsExactly(0.7, 0.3);
    Figure.Table attacks = (Figure.Table) s.get("attacks").figures().get(1);
    assertThat(attacks.rows()).hasSize(3);
    assertThat(attacks.rows().get(1)).containsExactly("metamer", "", 30L, 0.7, null, null, 0.9, null, null);
    assertThat(s.get("attacks").figures()).anyMatch(f -> f instanceof Figure.Image i && i.width() == 30);

    assertThat(r.runs().get(0).headline()).containsEntry("nuisance probe: nuisance_accuracy", 0.31)
        .containsEntry("attack fgsm: accuracy at eps 0.1", 0.3).containsEntry("attack metamer: success rate", 0.9)
        .containsEntry("test accuracy", 0.7).containsEntry("objective", "ice").containsEntry("steps", 60L)
        .doesNotContainKey("test bits/dim"); // a classifier's bits/dim stays in the accuracy section
    assertThat(s.get("samples").sources()).containsExactly("analysis/samples-t0.7.json", "analysis/samples-t0.7.png");
    // A grid of neither metamers nor interpolate: its file's name alone, no rows to explain.
    assertThat(imageTitles(s.get("samples"))).containsExactly("samples-t0.7");
    assertThat(s.get("accuracy").figures().get(0).toString()).contains("bits_per_dim");

    String html = HtmlPage.render(r);
    // "other" and "vae" are left out of runs without their files (VaeCommandTest covers "vae").
    for (String id : RunSections.IDS) if (!id.equals("other") && !id.equals("vae")) assertThat(html).contains("<section id=\"" + id + "\">");
    assertThat(html).contains("<svg class=\"chart\"").contains("nll_bits_per_dim");
  }

  /**
   * The class names the analyses write next to their numbers reach the report's tables (generic
   * sections: no code of the report knows them), and the interpolation curves stay curves along
   * alpha, one per pair's named classes.
   */
  @Test
  void theClassNamesOfTheAnalysesAreShownInTheirSections(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("ce"), "ce", 0.5);
    ClassNames names = ClassNames.of(List.of("Sandal", "Sneaker", "Bag"));
    org.irevnet.analysis.Interpolation.Path path = new org.irevnet.analysis.Interpolation.Path(null, null,
        new double[] {0, 0.5, 1}, new int[] {0, 2, 1}, new double[] {0.9, 0.5, 0.8}, new double[] {0, 0, 0},
        new double[] {0, 0, 0});
    new InterpolationReport(run.toString(), "best", "synthetic/test", "tiny", 0, 3,
        List.of(InterpolationReport.pair(1, 2, 0, 1, names, path, null), InterpolationReport.pair(3, 4, 2, 0, names,
            path, null)), names.list(), "/data/synthetic").writeJson(run.resolve("analysis/interpolate.json"));
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("metamers").status()).isEqualTo(Section.OK);
    Figure.Table pairs = table(s.get("metamers"), "metamers: pairs");
    int labelA = pairs.columns().indexOf("label_a"), nameA = pairs.columns().indexOf("label_a_name");
    assertThat(pairs.rows().get(0).get(labelA)).isEqualTo(0L);
    assertThat(pairs.rows().get(0).get(nameA)).isEqualTo("Sandal");
    assertThat(pairs.columns()).contains("metamer_class_name").doesNotContain("probe_class_name");
    assertThat(s.get("interpolation").status()).isEqualTo(Section.OK);
    Figure.Table ip = table(s.get("interpolation"), "interpolate: pairs");
    assertThat(ip.rows()).extracting(row -> row.get(ip.columns().indexOf("label_to_name")))
        .containsExactly("Sneaker", "Sandal");
    Figure.Line classes = lines(s.get("interpolation")).stream().filter(l -> l.title().contains("pairs[].full"))
        .findFirst().orElseThrow();
    assertThat(classes.series()).extracting(Figure.Series::name).contains("Sandal Sneaker", "Bag Sandal");
    assertThat(classes.series()).allSatisfy(c -> assertThat(c.x()).containsExactly(0.0, 0.5, 1.0));
    // The text as read: column names carry line-break opportunities (<wbr>) after their '_'.
    String html = HtmlPage.render(r).replace("<wbr>", "");
    assertThat(html).contains("label_a_name").contains("Sneaker").contains("label_from_name").contains("Bag Sandal");
  }

  /**
   * A VAE run listed nine classifier sections as "not run", each naming a command (eval, invert,
   * ...) that refuses a VAE run; a classifier run keeps its "not run" sections.
   */
  @Test
  void aVaeRunHasNoNotRunClassifierSections(@TempDir Path tmp) throws Exception {
    Report r = Report.of(List.of(SyntheticRun.vae(tmp.resolve("vae"))));
    assertThat(r.runs().get(0).sections()).extracting(Section::id).containsExactly("config", "vae");
    String html = HtmlPage.render(r);
    assertThat(html).contains("<section id=\"vae\">").doesNotContain("<section id=\"accuracy\">")
        .doesNotContain("bin/irevnet eval");

    Path ce = Files.createDirectories(tmp.resolve("ce"));
    Files.writeString(ce.resolve("config.json"), "{\"config\": {\"arch\": \"fi-revnet-s\", \"objective\": \"ce\","
        + " \"data\": \"d\", \"epochs\": 1}, \"environment\": {}}");
    assertThat(Report.of(List.of(ce)).runs().get(0).sections()).filteredOn(s -> s.id().equals("accuracy"))
        .singleElement().extracting(Section::status).isEqualTo(Section.NOT_RUN);
  }

  private static List<Figure.Line> lines(Section s) {
    return s.figures().stream().filter(f -> f instanceof Figure.Line).map(f -> (Figure.Line) f).toList();
  }

  /** The section's first table whose title starts with {@code title}. */
  private static Figure.Table table(Section s, String title) {
    return s.figures().stream().filter(f -> f instanceof Figure.Table).map(f -> (Figure.Table) f)
        .filter(t -> t.title().startsWith(title)).findFirst().orElseThrow();
  }

  @Test
  void textFromDataIsEscaped(@TempDir Path tmp) throws Exception {
    Report r = Report.of(List.of(SyntheticRun.full(tmp.resolve("run"), "ce", 0.9)));
    String html = HtmlPage.render(r);
    assertThat(html).doesNotContain("<script").doesNotContain("alert(1)</");
    assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;");
  }

  @Test
  void theHtmlIsSelfContained(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Report.of(List.of(run)).write(run);
    String html = Files.readString(run.resolve(Report.HTML));
    List<String> urls = attributes(html, "(?:src|href)");
    assertThat(urls).isNotEmpty().allSatisfy(u -> assertThat(u).matches("(data:image/png;base64,|#).*"));
    List<String> images = attributes(html, "src");
    assertThat(images).hasSize(5).allSatisfy(u -> assertThat(u).startsWith("data:image/png;base64,"));
    assertThat(html).doesNotContainIgnoringCase("http://").doesNotContainIgnoringCase("https://")
        .doesNotContain("<link").doesNotContain("@import").doesNotContain("url(");
  }

  private static List<String> attributes(String html, String name) {
    Matcher m = Pattern.compile("\\s" + name + "\\s*=\\s*\"([^\"]*)\"").matcher(html);
    List<String> out = new ArrayList<>();
    while (m.find()) out.add(m.group(1));
    return out;
  }

  /** The config section shows what the data was by content, as train records it; older runs have none. */
  @Test
  void theConfigSectionShowsTheRecordedData(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("bare"), "ce");
    assertThat(sections(Report.of(List.of(run)), 0).get("config").figures()).extracting(Figure::title)
        .doesNotContain("dataset");
    ObjectNode cfg = edit(run.resolve("config.json"));
    cfg.putObject("dataset").put("name", "png4").put("test_images", 12).put("test_sha256", "ab".repeat(32))
        .putArray("classes").add("a").add("b");
    save(run.resolve("config.json"), cfg);
    Figure.Table t = (Figure.Table) sections(Report.of(List.of(run)), 0).get("config").figures().stream()
        .filter(f -> f.title().equals("dataset")).findFirst().orElseThrow();
    assertThat(t.rows()).contains(List.of("test_sha256", "ab".repeat(32)), List.of("test_images", 12L));
  }

  @Test
  void sectionsWithoutFilesAreMarkedNotRun(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("bare"), "ce");
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("config").status()).isEqualTo(Section.OK);
    for (String id : List.of("training", "accuracy", "invertibility", "probes", "nuisance", "metamers", "interpolation",
        "samples", "attacks")) {
      assertThat(s.get(id).status()).as(id).isEqualTo(Section.NOT_RUN);
      assertThat(s.get(id).note()).as(id).contains("bin/irevnet");
    }
    assertThat(HtmlPage.render(r)).contains("Not run: no analysis/invert.json (made by bin/irevnet invert");
  }

  /**
   * A PNG cut short (an interrupted copy) fails inside ImageIO's decoder, whose message ("Error
   * reading PNG image data") named no file: the section note and the line on stderr must.
   */
  @Test
  void aTruncatedPngIsNamed(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path png = run.resolve("analysis/invert.png");
    byte[] whole = Files.readAllBytes(png);
    Files.write(png, java.util.Arrays.copyOf(whole, whole.length - 30));
    Section s = sections(Report.of(List.of(run)), 0).get("invertibility");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/invert.png: truncated: the file ends before its IEND chunk");
  }

  /**
   * A PNG whose header was damaged (a bit of its height flipped) is refused by its CRC-32, before it
   * is decoded: ImageIO checks none and allocates the taller image first. Here it then failed in its
   * own words; DamagedRunFilesTest found a flip of one 90-byte image that read as a taller image
   * (87 MB allocated), which the report embedded as if whole.
   */
  @Test
  void aPngWhoseChunkFailsItsCrcIsNamed(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path png = run.resolve("analysis/invert.png");
    byte[] bytes = Files.readAllBytes(png);
    bytes[21] ^= 0x40; // the height's second byte
    Files.write(png, bytes);
    Section s = sections(Report.of(List.of(run)), 0).get("invertibility");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/invert.png: damaged: chunk IHDR at byte 8 does not match its CRC-32");
  }

  /**
   * The grids carry no labels of their own: a caption of the file name alone ("metamers",
   * "attack-fgsm") left the reader to guess which row was the metamer or which epsilon a row was.
   * The captions say what the rows are, from the command's layout and the file beside the PNG.
   */
  @Test
  void imageCaptionsSayWhatTheirRowsShow(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path a = run.resolve("analysis");
    Files.writeString(a.resolve("interpolate.json"), """
        {"schemaVersion": 1, "pairs": [{"index_from": 1, "index_to": 2, "label_from": 0, "label_to": 1,
          "full": [{"alpha": 0.0, "model_class": 0}, {"alpha": 1.0, "model_class": 1}]}]}
        """);
    SyntheticRun.png(a.resolve("interpolate.png"), 20, 10);
    Files.writeString(a.resolve("attack-feature-match.json"), """
        {"schemaVersion": 1, "attack": "feature-match", "norm": "linf", "count": 8, "clean_accuracy": 0.7,
         "curve": [{"eps": 0.0, "accuracy": 0.7}, {"eps": 0.05, "accuracy": 0.6}, {"eps": 0.25, "accuracy": 0.5}]}
        """);
    SyntheticRun.png(a.resolve("attack-feature-match.png"), 20, 10);
    SyntheticRun.png(a.resolve("attack-metamer.png"), 20, 10);
    Map<String, Section> s = sections(Report.of(List.of(run)), 0);
    assertThat(imageTitles(s.get("metamers"))).containsExactly("metamers: rows: a (logit source), the metamer, b"
        + " (nuisance source), for the first pairs of the table; pixels clipped to [0, 1]");
    assertThat(imageTitles(s.get("interpolation"))).contains("interpolate: rows: for each of the first pairs of the"
        + " table in order, its full path; a = 0 (index_from) on the left, 1 (index_to) on the right");
    assertThat(imageTitles(s.get("attacks"))).containsExactly(
        "attack-feature-match: rows: a (matched), b (attacked), then at eps 0.05, 0.25 that epsilon's example and its"
            + " change from b amplified per image (mid grey: unchanged)",
        "attack-fgsm: rows: the attacked images, then at eps 0.1 the example the curve counts (broken at a smaller eps:"
            + " that one) and its perturbation amplified per image (mid grey: unchanged)",
        "attack-metamer: rows: a (logit source), b (nuisance source), the metamer, its difference from b amplified per"
            + " image (mid grey: unchanged); pixels clipped to [0, 1]");
  }

  private static List<String> imageTitles(Section s) {
    return s.figures().stream().filter(f -> f instanceof Figure.Image).map(Figure::title).toList();
  }

  /**
   * A field of an attack file the report reads by name, of the wrong type, marks the section
   * "error" naming the file and the field, and keeps the file out of the headline and the
   * comparison, as for eval files: an epsilon given as text was dropped from the robustness curve
   * and the summary without a word, the section "ok".
   */
  @Test
  void anAttackFieldOfTheWrongTypeIsAnError(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path other = SyntheticRun.full(tmp.resolve("other"), "ice", 0.3);
    Path fgsm = run.resolve("analysis/attack-fgsm.json");
    Files.writeString(fgsm, Files.readString(fgsm).replace("{\"eps\": 0.1,", "{\"eps\": \"0.1\","));
    String fm = """
        {"schemaVersion": 1, "attack": "feature-match", "norm": "linf", "count": 8, "layer_name": "stage4",
         "curve": [{"eps": 0.0, "accuracy": 0.7, "success_rate": 0.0}, {"eps": 0.1, "accuracy": 0.5, "success_rate": %s}]}
        """;
    Files.writeString(run.resolve("analysis/attack-feature-match.json"), fm.formatted("0.25"));
    Files.writeString(other.resolve("analysis/attack-feature-match.json"), fm.formatted("\"high\""));
    Report r = Report.of(List.of(run, other));
    Section s = sections(r, 0).get("attacks");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/attack-fgsm.json: curve[1].eps is \"0.1\", not a number");
    assertThat(r.runs().get(0).headline()).doesNotContainKeys("attack fgsm: accuracy at eps 0.1", "attack fgsm: images")
        .containsEntry("attack pgd-linf: accuracy at eps 0.1", 0.1);
    assertThat(sections(r, 1).get("attacks").note())
        .isEqualTo("analysis/attack-feature-match.json: curve[1].success_rate is \"high\", not a number");
    assertThat(r.runs().get(1).headline()).doesNotContainKey("attack feature-match: accuracy at eps 0.1");
    Figure.Table fmTable = (Figure.Table) r.comparison().stream().filter(f -> f.title().startsWith("feature-matching"))
        .findFirst().orElseThrow();
    assertThat(fmTable.rows()).extracting(row -> row.get(0)).containsExactly("run");
  }

  /**
   * The verdicts of an attack file are read by name too: a {@code sanity.passed} written as text
   * ("false") was no failed check, and the section said "ok" with "false" in its sanity column.
   */
  @Test
  void anAttackVerdictOfTheWrongTypeIsAnError(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path fgsm = run.resolve("analysis/attack-fgsm.json");
    String clean = Files.readString(fgsm);
    Files.writeString(fgsm, clean.replace("\"passed\": true", "\"passed\": \"false\""));
    Section s = sections(Report.of(List.of(run)), 0).get("attacks");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/attack-fgsm.json: sanity.passed is \"false\", not true or false");
    Files.writeString(fgsm, clean.replace("\"monotone\": true", "\"monotone\": 1"));
    Report r = Report.of(List.of(run));
    assertThat(sections(r, 0).get("attacks").note()).isEqualTo("analysis/attack-fgsm.json: monotone is 1, not true or false");
    assertThat(r.runs().get(0).headline()).doesNotContainKey("attack fgsm: images");
    Files.writeString(fgsm, clean.replace("\"attack\": \"fgsm\",", "\"attack\": \"fgsm\", \"multi_targeted\": \"yes\","));
    assertThat(sections(Report.of(List.of(run)), 0).get("attacks").note())
        .isEqualTo("analysis/attack-fgsm.json: multi_targeted is \"yes\", not true or false");
    Files.writeString(fgsm, clean);
    assertThat(sections(Report.of(List.of(run)), 0).get("attacks").status()).isEqualTo(Section.OK);
  }

  /**
   * A verdict the analysis commands exit 1 on, written as text, was no failed check: metamers.json
   * with {@code "invariant_holds": "false"} made an "ok" section and a clean headline number.
   */
  @Test
  void aVerdictOfTheWrongTypeIsAnError(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path metamers = run.resolve("analysis/metamers.json");
    JsonNode clean = JsonReport.MAPPER.readTree(metamers.toFile());
    assertThat(clean.path("invariant_holds").isBoolean()).as("the synthetic file records the verdict").isTrue();
    ObjectNode text = clean.deepCopy();
    text.put("invariant_holds", "false");
    JsonReport.MAPPER.writeValue(metamers.toFile(), text);
    Path samples = run.resolve("analysis/samples-t0.7.json");
    Files.writeString(samples, Files.readString(samples).replace("\"finite\": true", "\"finite\": 0"));
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("metamers").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("metamers").note()).isEqualTo("analysis/metamers.json: invariant_holds is \"false\", not true or false");
    assertThat(s.get("samples").note()).isEqualTo("analysis/samples-t0.7.json: finite is 0, not true or false");
    assertThat(r.runs().get(0).headline()).doesNotContainKey("metamers: model class is class of a")
        .containsKey("test accuracy");
    JsonReport.MAPPER.writeValue(metamers.toFile(), clean);
    assertThat(sections(Report.of(List.of(run)), 0).get("metamers").status()).isEqualTo(Section.OK);
  }

  /**
   * Every verdict of {@link AnalysisChecks#VERDICTS} is checked, not only the three the tests above
   * give: selftest --json's {@code "passed": "no"} and cnf's {@code "inversionHolds": "yes"} in
   * analysis/ (the "other" section reads them) refuse their file, and a boolean passes.
   */
  @Test
  void aSelftestOrCnfVerdictOfTheWrongTypeIsAnError(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path file = run.resolve("analysis/extra.json");
    Files.writeString(file, "{\"schemaVersion\": 1, \"rows\": [], \"passed\": \"no\"}");
    Section s = sections(Report.of(List.of(run)), 0).get("other");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/extra.json: passed is \"no\", not true or false");
    Files.writeString(file, "{\"inversionError\": 1e-6, \"inversionHolds\": \"yes\"}");
    assertThat(sections(Report.of(List.of(run)), 0).get("other").note())
        .isEqualTo("analysis/extra.json: inversionHolds is \"yes\", not true or false");
    Files.writeString(file, "{\"inversionError\": 1e-6, \"inversionHolds\": true, \"passed\": true}");
    assertThat(sections(Report.of(List.of(run)), 0).get("other").status()).isEqualTo(Section.OK);
  }

  @Test
  void anUnreadableFileFailsItsSectionOnly(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Files.writeString(run.resolve("analysis/invert.json"), "{\"stages\": [");
    Files.writeString(run.resolve("analysis/attack-fgsm.png"), "not a png");
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("invertibility").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("invertibility").note()).isEqualTo("analysis/invert.json: malformed invert JSON at line 1, column"
        + " 13: Unexpected end-of-input: expected close marker for Array (start marker at line 1, column 12)");
    assertThat(s.get("attacks").note()).isEqualTo("analysis/attack-fgsm.png: not a PNG (no PNG signature)");
    assertThat(s.get("metamers").status()).isEqualTo(Section.OK);
    r.write(run);
    assertThat(Files.readString(run.resolve(Report.HTML))).contains("Could not use: analysis/invert.json");

    Files.writeString(run.resolve("analysis/invert.json"), "{\"schemaVersion\": 2, \"levels\": []}");
    Files.writeString(run.resolve("analysis/metamers.json"), "[]");
    s = sections(Report.of(List.of(run)), 0);
    assertThat(s.get("invertibility").status()).as("a newer schema is not read as ours").isEqualTo(Section.ERROR);
    assertThat(s.get("invertibility").note()).isEqualTo("analysis/invert.json: schemaVersion 2, newer than this"
        + " irevnet reads (1); report it with the irevnet that wrote it");
    assertThat(s.get("metamers").note()).isEqualTo("analysis/metamers.json: not a JSON object");
  }

  /**
   * A file of the run that is a symbolic link to nothing (its target moved, or on a disk not
   * mounted) fails its section, naming the link and its target: it was passed over as if never
   * made, and the metamers section read "ok" with the grid alone, its numbers missing from the headline.
   */
  @Test
  void aLinkToNothingFailsItsSectionNamingIt(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path gone = tmp.resolve("elsewhere/metamers.json");
    Files.delete(run.resolve("analysis/metamers.json"));
    Files.createSymbolicLink(run.resolve("analysis/metamers.json"), gone);
    Files.delete(run.resolve("analysis/invert.png"));
    Files.createSymbolicLink(run.resolve("analysis/invert.png"), tmp.resolve("elsewhere/invert.png"));
    Files.delete(run.resolve("metrics.jsonl"));
    Files.createSymbolicLink(run.resolve("metrics.jsonl"), tmp.resolve("elsewhere/metrics.jsonl"));
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("metamers").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("metamers").note()).isEqualTo("analysis/metamers.json: a symbolic link to nothing (" + gone + ")");
    assertThat(s.get("invertibility").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("invertibility").note()).startsWith("analysis/invert.png: a symbolic link to nothing (");
    assertThat(s.get("training").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("training").note()).startsWith("metrics.jsonl: a symbolic link to nothing (");
    assertThat(s.get("attacks").status()).isEqualTo(Section.OK);
    assertThat(r.runs().get(0).headline()).doesNotContainKey("metamers: model class is class of a")
        .containsKey("test accuracy");
  }

  /**
   * An analysis file made from other weights than the checkpoint it names holds now (another
   * run's, written here with --out, or this run's before it trained on) fails its section and stays
   * out of the headline; one made from them, and one that records no weights, are read.
   */
  @Test
  void anAnalysisOfOtherWeightsFailsItsSectionAndStaysOutOfTheHeadline(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path best = Files.createDirectories(run.resolve("checkpoints/best"));
    String ours = "a".repeat(64), theirs = "b".repeat(64);
    Files.writeString(best.resolve("manifest.json"), "{\"sha256\": {\"weights.npz\": \"" + ours + "\"}}");
    JsonNode inv = JsonReport.MAPPER.readTree(run.resolve("analysis/invert.json").toFile());
    assertThat(inv.path("checkpoint").asText()).isEqualTo("best");
    assertThat(inv.has(JsonReport.WEIGHTS_SHA256)).as("writeJson without weights records none").isFalse();
    String reconstruction = "reconstruction max error f32";
    assertThat(Report.of(List.of(run)).runs().get(0).headline()).containsKey(reconstruction);

    Path invert = run.resolve("analysis/invert.json");
    ((ObjectNode) inv).put(JsonReport.WEIGHTS_SHA256, theirs);
    JsonReport.MAPPER.writeValue(invert.toFile(), inv);
    Report r = Report.of(List.of(run));
    Section s = sections(r, 0).get("invertibility");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/invert.json: made from other weights than " + best + " holds now"
        + " (weights_sha256 bbbbbbbbbbbb against aaaaaaaaaaaa): another run's results, or this run's before it"
        + " trained on; make it again from this run");
    assertThat(r.runs().get(0).headline()).doesNotContainKey(reconstruction);
    assertThat(sections(r, 0).get("metamers").status()).isEqualTo(Section.OK);
    // The file was read: the page said "Could not read" before its note.
    r.write(run);
    assertThat(Files.readString(run.resolve(Report.HTML))).contains("Could not use: analysis/invert.json: made from other"
        + " weights").doesNotContain("Could not read");

    ((ObjectNode) inv).put(JsonReport.WEIGHTS_SHA256, ours);
    JsonReport.MAPPER.writeValue(invert.toFile(), inv);
    r = Report.of(List.of(run));
    assertThat(sections(r, 0).get("invertibility").status()).isEqualTo(Section.OK);
    assertThat(r.runs().get(0).headline()).containsKey(reconstruction);

    Files.delete(best.resolve("manifest.json"));
    assertThat(sections(Report.of(List.of(run)), 0).get("invertibility").note())
        .contains("made from other weights than " + best + " (which is not there) holds now");
  }

  private static ObjectNode edit(Path file) throws Exception {
    return (ObjectNode) JsonReport.MAPPER.readTree(file.toFile());
  }

  private static void save(Path file, JsonNode n) throws Exception {
    JsonReport.MAPPER.writeValue(file.toFile(), n);
  }

  /**
   * An analysis file that records a failed check of its own (the command exited 1 and wrote it)
   * marks its section "failed", figures kept, naming the file and the check, and its headline
   * numbers carry the failure in their labels: metamers.json with invariant_holds false was a green
   * "ok" whose headline read as a clean result.
   */
  @Test
  void aFailedCheckOfAnAnalysisFailsItsSectionAndItsHeadlineLabels(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path a = run.resolve("analysis");
    String metamerRate = "metamers: model class is class of a";
    assertThat(Report.of(List.of(run)).runs().get(0).headline()).containsKey(metamerRate);

    ObjectNode met = edit(a.resolve("metamers.json"));
    met.put("invariant_holds", false);
    ((ObjectNode) met.get("pairs").get(0)).put("invariant_holds", false);
    save(a.resolve("metamers.json"), met);
    ObjectNode fgsm = edit(a.resolve("attack-fgsm.json"));
    ((ObjectNode) fgsm.get("sanity")).put("passed", false);
    save(a.resolve("attack-fgsm.json"), fgsm);
    ObjectNode samples = edit(a.resolve("samples-t0.7.json"));
    samples.put("finite", false);
    save(a.resolve("samples-t0.7.json"), samples);
    ObjectNode inv = edit(a.resolve("invert.json"));
    ((ObjectNode) inv.get("z").get("float64")).put("max_abs_err", 1e-3);
    save(a.resolve("invert.json"), inv);

    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("metamers").status()).isEqualTo(Section.FAILED);
    assertThat(s.get("metamers").note()).isEqualTo("analysis/metamers.json: invariant_holds false");
    assertThat(s.get("metamers").figures()).as("the failed results are still shown").isNotEmpty();
    assertThat(s.get("attacks").status()).isEqualTo(Section.FAILED);
    assertThat(s.get("attacks").note()).isEqualTo("analysis/attack-fgsm.json: sanity.passed false");
    assertThat(s.get("samples").status()).isEqualTo(Section.FAILED);
    assertThat(s.get("samples").note()).isEqualTo("analysis/samples-t0.7.json: finite false");
    assertThat(s.get("invertibility").status()).isEqualTo(Section.FAILED);
    assertThat(s.get("invertibility").note()).isEqualTo("analysis/invert.json: float64 max_abs_err 1.00e-03 above"
        + " float64_bound 2.00e-06 (the reconstruction from z)");
    assertThat(s.get("probes").status()).isEqualTo(Section.OK);

    Map<String, Object> h = r.runs().get(0).headline();
    assertThat(h).doesNotContainKeys(metamerRate, "attack fgsm: accuracy at eps 0.1", "reconstruction max error f64");
    assertThat(h).containsEntry(metamerRate + " (check failed: invariant_holds false)", 1.0)
        .containsEntry("attack fgsm: accuracy at eps 0.1 (check failed: sanity.passed false)", 0.3)
        .containsEntry("attack fgsm: images (check failed: sanity.passed false)", 30L)
        .containsKey("reconstruction max error f64 (check failed: float64 max_abs_err 1.00e-03 above float64_bound"
            + " 2.00e-06)")
        .containsKey("attack pgd-linf: accuracy at eps 0.1");

    r.write(run);
    JsonNode json = JsonReport.MAPPER.readTree(run.resolve(Report.JSON).toFile());
    JsonNode metSection = null;
    for (JsonNode sec : json.get("runs").get(0).get("sections")) if (sec.get("id").asText().equals("metamers")) metSection = sec;
    assertThat(metSection.get("status").asText()).isEqualTo("failed");
    assertThat(metSection.get("note").asText()).isEqualTo("analysis/metamers.json: invariant_holds false");
    String html = Files.readString(run.resolve(Report.HTML));
    assertThat(html).contains("<span class=\"status failed\">check failed</span>")
        .contains("Check failed (the command exited 1; its results are shown below but are not a clean result):"
            + " analysis/metamers.json: invariant_holds false");

    // Interpolation: a step without a class (non-finite logits) is interpolate's exit 1.
    ClassNames names = ClassNames.of(List.of("Sandal", "Sneaker", "Bag"));
    org.irevnet.analysis.Interpolation.Path path = new org.irevnet.analysis.Interpolation.Path(null, null,
        new double[] {0, 0.5, 1}, new int[] {0, -1, 1}, new double[] {0.9, Double.NaN, 0.8}, new double[] {0, 0, 0},
        new double[] {0, 0, 0});
    new InterpolationReport(run.toString(), "best", "synthetic/test", "tiny", 0, 3,
        List.of(InterpolationReport.pair(1, 2, 0, 1, names, path, null)), names.list(), "/data/synthetic")
        .writeJson(a.resolve("interpolate.json"));
    Section interpolation = sections(Report.of(List.of(run)), 0).get("interpolation");
    assertThat(interpolation.status()).isEqualTo(Section.FAILED);
    assertThat(interpolation.note()).isEqualTo("analysis/interpolate.json: model_class -1 (a non-finite step) on 1 path(s)");
  }

  /**
   * An analysis computed on other data than the run's (--data OTHER, written over the run's own
   * file) says so in its section and in its headline labels: attack --data data/png4copy on a run
   * of data/png4 headlined "attack fgsm: ..." as the run's. The run's own data, also through a
   * symbolic link, is not marked.
   */
  @Test
  void anAnalysisOnOtherDataSaysWhichInItsSectionAndHeadline(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path own = Files.createDirectories(tmp.resolve("data/png4")), copy = Files.createDirectories(tmp.resolve("data/png4copy"));
    Path alike = Files.createDirectories(tmp.resolve("elsewhere/png4"));
    Path link = Files.createSymbolicLink(tmp.resolve("png4-link"), own);
    ObjectNode cfg = edit(run.resolve("config.json"));
    ((ObjectNode) cfg.get("config")).put("data", own.toString()); // train records a data directory absolute
    save(run.resolve("config.json"), cfg);
    Path a = run.resolve("analysis");
    ObjectNode fgsm = edit(a.resolve("attack-fgsm.json"));
    fgsm.put("data", "png4copy/test").put("data_path", copy.toString());
    save(a.resolve("attack-fgsm.json"), fgsm);
    ObjectNode met = edit(a.resolve("metamers.json"));
    met.put("data", "png4/test").put("data_path", alike.toString());
    save(a.resolve("metamers.json"), met);
    ObjectNode inv = edit(a.resolve("invert.json"));
    inv.put("data", "png4-link/test[0:2]").put("data_path", link.toString());
    save(a.resolve("invert.json"), inv);

    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("attacks").status()).isEqualTo(Section.OK);
    assertThat(s.get("attacks").otherData()).containsExactly(
        Map.entry("analysis/attack-fgsm.json", "png4copy/test (" + copy + ")"));
    assertThat(s.get("metamers").otherData()).containsExactly(
        Map.entry("analysis/metamers.json", "png4/test (" + alike + ")"));
    assertThat(s.get("invertibility").otherData()).as("the run's data through a link").isEmpty();
    Map<String, Object> h = r.runs().get(0).headline();
    assertThat(h).doesNotContainKeys("attack fgsm: accuracy at eps 0.1", "metamers: model class is class of a")
        .containsEntry("attack fgsm: accuracy at eps 0.1 (on png4copy/test)", 0.3)
        .containsEntry("attack fgsm: images (on png4copy/test)", 30L)
        .containsKey("metamers: model class is class of a (on " + alike + ")")
        .containsKey("reconstruction max error f32")
        .containsKey("attack pgd-linf: accuracy at eps 0.1");

    r.write(run);
    JsonNode json = JsonReport.MAPPER.readTree(run.resolve(Report.JSON).toFile());
    JsonNode attacks = null;
    for (JsonNode sec : json.get("runs").get(0).get("sections")) if (sec.get("id").asText().equals("attacks")) attacks = sec;
    assertThat(attacks.get("other_data").get("analysis/attack-fgsm.json").asText()).isEqualTo("png4copy/test (" + copy + ")");
    assertThat(Files.readString(run.resolve(Report.HTML)))
        .contains("Not the run's test data: analysis/attack-fgsm.json on png4copy/test (" + copy + ")");

    // Another split of the run's data, and another dataset by name where files record no data_path.
    assertThat(AnalysisChecks.otherData(own.toString(), null, null, JsonReport.MAPPER.readTree("{\"data\": \"png4/train\"}")))
        .isEqualTo("png4/train");
    assertThat(AnalysisChecks.otherData(own.toString(), null, null, JsonReport.MAPPER.readTree("{\"data\": \"png4copy/test\"}")))
        .isEqualTo("png4copy/test");
    assertThat(AnalysisChecks.otherData(own.toString(), null, null, JsonReport.MAPPER.readTree("{\"data\": \"png4/test[0:8]\"}")))
        .isNull();
    // A run of a dataset name: the name tells, not the directory it resolved to in some checkout.
    assertThat(AnalysisChecks.otherData("fashion-mnist-mini", null, null, JsonReport.MAPPER.readTree(
        "{\"data\": \"fashion-mnist-mini/test\", \"data_path\": \"/another/checkout/data/fashion-mnist-mini\"}")))
        .isNull();
    assertThat(AnalysisChecks.otherData("fashion-mnist-mini", null, null, JsonReport.MAPPER.readTree(
        "{\"data\": \"png4/test[0:8]\", \"data_path\": \"/d/png4\"}"))).isEqualTo("png4/test[0:8] (/d/png4)");

    // A run whose data directory has moved: the analysis commands told its data by content and kept
    // other data out of the run; the report can tell only by the directory's name.
    String gone = tmp.resolve("moved-away/png4").toString();
    assertThat(AnalysisChecks.otherData(gone, null, null, JsonReport.MAPPER.readTree(
        "{\"data\": \"png4/test\", \"data_path\": \"" + alike + "\"}"))).isNull();
    assertThat(AnalysisChecks.otherData(gone, null, null, JsonReport.MAPPER.readTree(
        "{\"data\": \"png4copy/test\", \"data_path\": \"" + copy + "\"}"))).isEqualTo("png4copy/test (" + copy + ")");

    // With the run's record of its data by content, a moved directory of any name is told by its test split.
    Path moved = idx(tmp.resolve("moved-here"), new byte[] {1, 2}), stranger = idx(tmp.resolve("stranger"), new byte[] {3, 4});
    org.irevnet.data.DataIdentity recorded = org.irevnet.data.DataIdentity.of(org.irevnet.data.Datasets.open(moved));
    assertThat(AnalysisChecks.otherData(gone, recorded, AnalysisChecks::identityOf, JsonReport.MAPPER.readTree(
        "{\"data\": \"moved-here/test\", \"data_path\": \"" + moved + "\"}"))).isNull();
    assertThat(AnalysisChecks.otherData(gone, recorded, AnalysisChecks::identityOf, JsonReport.MAPPER.readTree(
        "{\"data\": \"png4/test\", \"data_path\": \"" + stranger + "\"}"))).isEqualTo("png4/test (" + stranger + ")");
    assertThat(AnalysisChecks.otherData(gone, recorded, AnalysisChecks::identityOf, JsonReport.MAPPER.readTree(
        "{\"data\": \"png4copy/test\", \"data_path\": \"" + tmp.resolve("nowhere/png4copy") + "\"}")))
        .as("a data_path gone too: by name").isEqualTo("png4copy/test (" + tmp.resolve("nowhere/png4copy") + ")");
    // While the run's data directory is there, a copy of it elsewhere is the run's data too, other data is not.
    Path twin = idx(tmp.resolve("twin"), new byte[] {1, 2});
    assertThat(AnalysisChecks.otherData(moved.toString(), recorded, AnalysisChecks::identityOf, JsonReport.MAPPER.readTree(
        "{\"data\": \"twin/test\", \"data_path\": \"" + twin + "\"}"))).isNull();
    assertThat(AnalysisChecks.otherData(moved.toString(), recorded, AnalysisChecks::identityOf, JsonReport.MAPPER.readTree(
        "{\"data\": \"stranger/test\", \"data_path\": \"" + stranger + "\"}"))).isEqualTo("stranger/test (" + stranger + ")");
    // A run of a dataset name that recorded its data by content: a copy under another name is its data
    // (the analysis commands write its results into the run's analysis/ without --out), other data is not.
    assertThat(AnalysisChecks.otherData("fashion-mnist-mini", recorded, AnalysisChecks::identityOf, JsonReport.MAPPER
        .readTree("{\"data\": \"twin/test[0:8]\", \"data_path\": \"" + twin + "\"}"))).isNull();
    assertThat(AnalysisChecks.otherData("fashion-mnist-mini", recorded, AnalysisChecks::identityOf, JsonReport.MAPPER
        .readTree("{\"data\": \"stranger/test\", \"data_path\": \"" + stranger + "\"}")))
        .isEqualTo("stranger/test (" + stranger + ")");
  }

  /** An IDX test split of one 1x1 image per pixel value, class 0. */
  private static Path idx(Path dir, byte[] pixels) throws java.io.IOException {
    Files.createDirectories(dir);
    org.irevnet.data.IdxFiles.writeImages(dir.resolve("t10k-images-idx3-ubyte"), pixels.length, 1, 1, pixels);
    org.irevnet.data.IdxFiles.writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), new int[pixels.length]);
    return dir;
  }

  /**
   * The probes section of one run draws layer-probes.json as the probe's writer shapes it (each stage
   * named by its layer, "stage0".."stage4"): a curve per probe across the five stages, not a dot per
   * stage and probe, of which a "first 8 of 15 curves" chart dropped seven.
   */
  @Test
  void layerProbesAreCurvesByStageNotADotPerLayer(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    double[] linear = {0.336, 0.527, 0.738, 0.841, 0.857}, train = {0.31, 0.55, 0.79, 0.918, 0.935},
        nn = {0.295, 0.474, 0.698, 0.808, 0.825}, l2 = {1e-4, 1e-3, 1e-3, 1e-2, 1e-2};
    List<org.irevnet.analysis.LayerProbes.Stage> stages = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      stages.add(new org.irevnet.analysis.LayerProbes.Stage(i, "stage" + i, List.of(4L << 2 * i, 16L >> i, 16L >> i),
          4L << 2 * i, linear[i], train[i], l2[i], nn[i]));
    }
    org.irevnet.analysis.LayerProbes.LinearProbe probe = new org.irevnet.analysis.LayerProbes.LinearProbe("L-BFGS",
        List.of(1e-2, 1e-3), 0.2, 0, 1e-4, 1000, 37, 4e-5, true);
    LayerProbeReport.of(run.toString(), "best", "synthetic/test", "/data/synthetic", "tiny", 0.85,
        new org.irevnet.analysis.LayerProbes.Result(stages, List.of(new org.irevnet.analysis.LayerProbes.PcaPoint(1, 0.3,
            0.4, 1e-2), new org.irevnet.analysis.LayerProbes.PcaPoint(1024, 1.0, 0.7, 1e-3)), probe, 60, 40, 1.5), 2.0)
        .writeJson(run.resolve("analysis/layer-probes.json"));
    Section probes = sections(Report.of(List.of(run)), 0).get("probes");
    assertThat(probes.status()).isEqualTo(Section.OK);
    List<Figure.Line> byStage = lines(probes).stream().filter(l -> l.xLabel().equals("stage")).toList();
    assertThat(byStage).extracting(Figure::title).containsExactly("layer-probes: stages",
        "layer-probes: stages: linear_l2");
    assertThat(byStage.get(0).yLabel()).isEqualTo("accuracy");
    assertThat(byStage.get(0).series()).extracting(Figure.Series::name).containsExactly("linear_accuracy",
        "linear_train_accuracy", "nearest_neighbour_accuracy");
    assertThat(byStage.get(1).series()).extracting(Figure.Series::name).containsExactly("linear_l2");
    for (Figure.Line l : byStage) {
      assertThat(l.series()).allSatisfy(c -> assertThat(c.x()).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0));
      // As drawn: one unbroken polyline of five points per curve.
      assertThat(SvgChart.of(l).curves()).allSatisfy(c -> assertThat(c.paths()).singleElement()
          .satisfies(path -> assertThat(path.split(" ")).hasSize(5)));
    }
    assertThat(byStage.get(0).series().get(2).y()).containsExactly(0.295, 0.474, 0.698, 0.808, 0.825);
    // The layer's name stays in the table.
    assertThat(table(probes, "layer-probes: stages").columns()).contains("stage", "layer", "linear_l2");
  }

  /** Layer probes by the earlier linear probe (an Adam recipe) fail their section; the nuisance probe's recipe does not. */
  @Test
  void layerProbesOfTheEarlierLinearProbeFailTheirSection(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    assertThat(sections(Report.of(List.of(run)), 0).get("probes").status()).isEqualTo(Section.OK);
    Path probes = run.resolve("analysis/layer-probes.json");
    ObjectNode old = (ObjectNode) JsonReport.MAPPER.readTree(probes.toFile());
    old.remove("linear_probe");
    old.putObject("recipe").put("epochs", 10);
    JsonReport.MAPPER.writeValue(probes.toFile(), old);
    Section s = sections(Report.of(List.of(run)), 0).get("probes");
    assertThat(s.status()).isEqualTo(Section.ERROR);
    assertThat(s.note()).isEqualTo("analysis/layer-probes.json: made by the earlier linear probe (a fixed 10-epoch"
        + " Adam recipe, which stopped short on the first stages); make it again with probe --layers");
  }

  @Test
  void aMalformedMetricsLineFailsTheTrainingSectionNamingTheLine(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path metrics = run.resolve("metrics.jsonl");
    List<String> lines = Files.readAllLines(metrics);
    for (String bad : List.of("NaN", "{\"type\":\"train\",\"step\":\"x\",\"loss\":NaN", "[1, 2]")) {
      List<String> damaged = new ArrayList<>(lines);
      damaged.add(2, bad);
      Files.writeString(metrics, String.join("\n", damaged));
      Report r = Report.of(List.of(run));
      Map<String, Section> s = sections(r, 0);
      assertThat(s.get("training").status()).as(bad).isEqualTo(Section.ERROR);
      assertThat(s.get("training").note()).as(bad).startsWith("metrics.jsonl: line 3").doesNotContain("Source")
          .doesNotContain("\n");
      assertThat(s.get("accuracy").status()).isEqualTo(Section.OK);
      assertThat(r.runs().get(0).headline()).as("no step count from a damaged log").doesNotContainKey("steps");
    }

    List<String> wrongStep = new ArrayList<>(lines);
    wrongStep.set(0, "{\"type\":\"train\",\"step\":\"x\",\"loss\":1.0}");
    Files.writeString(metrics, String.join("\n", wrongStep));
    assertThat(sections(Report.of(List.of(run)), 0).get("training").note())
        .isEqualTo("metrics.jsonl: line 1: step is \"x\", not an integer");

    // The trainer ends every line with a newline: a cut-off last line that has one is damage, not a run still writing.
    Files.writeString(metrics, String.join("\n", lines) + "\n");
    Section training = sections(Report.of(List.of(run)), 0).get("training");
    assertThat(training.status()).isEqualTo(Section.ERROR);
    assertThat(training.note()).startsWith("metrics.jsonl: line " + lines.size() + ", column ");

    // Where in the line, in the user's terms, and Jackson's words without its source text.
    List<String> cut = new ArrayList<>(lines);
    cut.set(0, "{\"type\":\"train\",\"step\":1");
    Files.writeString(metrics, String.join("\n", cut));
    assertThat(sections(Report.of(List.of(run)), 0).get("training").note()).isEqualTo("metrics.jsonl: line 1, column"
        + " 25: Unexpected end-of-input: expected close marker for Object (start marker at line 1, column 1)");
  }

  /**
   * The line at the end of training averages fewer steps than the others (2 here, against 20): it
   * is drawn apart, not joined to the curve, and the step count itself is no chart.
   */
  @Test
  void aTrainLineOverFewerStepsIsItsOwnSeries(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.writeString(run.resolve("metrics.jsonl"), String.join("\n",
        "{\"type\":\"train\",\"step\":20,\"window_steps\":20,\"loss\":2.0,\"lr\":0.01}",
        "{\"type\":\"train\",\"step\":40,\"window_steps\":20,\"loss\":1.0,\"lr\":0.02}",
        "{\"type\":\"train\",\"step\":42,\"window_steps\":2,\"loss\":1.5,\"lr\":0.03}") + "\n");
    List<Figure> figs = sections(Report.of(List.of(run)), 0).get("training").figures();
    assertThat(figs).extracting(Figure::title).containsExactly("train: loss", "train: lr");
    Figure.Line loss = (Figure.Line) figs.get(0);
    assertThat(loss.series()).extracting(Figure.Series::name)
        .containsExactly("loss", "loss (over fewer than 20 steps)");
    assertThat(loss.series().get(0).y()).containsExactly(2.0, 1.0, null);
    assertThat(loss.series().get(1).y()).containsExactly(null, null, 1.5);
    assertThat(loss.series().get(1).x()).containsExactly(20.0, 40.0, 42.0);
    assertThat(((Figure.Line) figs.get(1)).series()).as("the step's own learning rate, not a mean").singleElement()
        .extracting(Figure.Series::y).isEqualTo(List.of(0.01, 0.02, 0.03));

    // Lines without the field (an older run's) are one curve, as before.
    Files.writeString(run.resolve("metrics.jsonl"), "{\"type\":\"train\",\"step\":20,\"loss\":2.0}\n"
        + "{\"type\":\"train\",\"step\":22,\"loss\":1.5}\n");
    Figure.Line old = (Figure.Line) sections(Report.of(List.of(run)), 0).get("training").figures().get(0);
    assertThat(old.series()).singleElement().extracting(Figure.Series::y).isEqualTo(List.of(2.0, 1.5));
  }

  @Test
  void aWronglyTypedEvalOrConfigFieldFailsItsSectionNamingTheFieldAndStaysOutOfTheHeadline(@TempDir Path tmp)
      throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": \"high\", \"loss\": 0.5, \"split\": \"test\"}");
    Report r = Report.of(List.of(run));
    Map<String, Section> s = sections(r, 0);
    assertThat(s.get("accuracy").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("accuracy").note()).isEqualTo("eval-test.json: accuracy is \"high\", not a number");
    // As for an unreadable eval-test.json, the headline falls back to the last epoch line.
    assertThat(r.runs().get(0).headline()).containsEntry("test accuracy", 0.78);

    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": 0.5, \"loss\": \"NaN\", \"per_class_accuracy\": [0.5,"
        + " \"NaN\"], \"confusion_matrix\": [[1, 0], [0, 0]]}");
    assertThat(sections(Report.of(List.of(run)), 0).get("accuracy").status())
        .as("Jackson writes a non-finite number as text").isEqualTo(Section.OK);
    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": 0.5, \"confusion_matrix\": [[1, 0], [0, \"x\"]]}");
    assertThat(sections(Report.of(List.of(run)), 0).get("accuracy").note())
        .isEqualTo("eval-test.json: confusion_matrix[1][1] is \"x\", not a number");

    Files.writeString(run.resolve("config.json"), "{\"config\": {\"data\": 5, \"arch\": [1]}, \"environment\": 3}");
    r = Report.of(List.of(run));
    s = sections(r, 0);
    assertThat(s.get("config").status()).isEqualTo(Section.ERROR);
    assertThat(s.get("config").note()).isEqualTo("config.json: environment is 3, not an object");
    assertThat(s.get("metamers").status()).isEqualTo(Section.OK);
    assertThat(r.runs().get(0).headline()).doesNotContainKeys("arch", "data");
    Files.writeString(run.resolve("config.json"), "{\"config\": {\"data\": 5, \"arch\": [1]}, \"environment\": {}}");
    assertThat(sections(Report.of(List.of(run)), 0).get("config").note())
        .isEqualTo("config.json: config.arch is [1], not text");
  }

  /**
   * A class's images (the per-class table's "images") are its per_class_count: its confusion row
   * leaves out the images with non-finite logits, which count as wrong. Here class a has 3 images,
   * 2 of them without a prediction, so its row holds 1. An eval file from before per_class_count
   * has no count to give when some logits were not finite (blank, with a note), and its rows are
   * whole when all were.
   */
  @Test
  void thePerClassImagesIncludeThoseWithNonFiniteLogits(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    String cm = "\"split\": \"test\", \"class_names\": [\"a\", \"b\"], \"confusion_matrix\": [[1, 0], [1, 1]]";
    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": 0.4, \"count\": 5, \"non_finite_logits\": 2,"
        + " \"per_class_accuracy\": [0.3333333333333333, 0.5], \"per_class_count\": [3, 2], " + cm + "}");
    Section accuracy = sections(Report.of(List.of(run)), 0).get("accuracy");
    assertThat(table(accuracy, "test").rows()).contains(List.of("non_finite_logits", 2L));
    Figure.Table perClass = table(accuracy, "test: per-class");
    assertThat(perClass.rows()).containsExactly(List.of("a", 1.0 / 3, 3L), List.of("b", 0.5, 2L));
    assertThat(perClass.note()).isNull();

    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": 0.4, \"count\": 5, \"non_finite_logits\": 2,"
        + " \"per_class_accuracy\": [0.3333333333333333, 0.5], " + cm + "}");
    perClass = table(sections(Report.of(List.of(run)), 0).get("accuracy"), "test: per-class");
    assertThat(perClass.rows()).extracting(row -> row.get(2)).containsExactly(null, null);
    assertThat(perClass.note()).contains("2 image(s) with non-finite logits");

    Files.writeString(run.resolve("eval-test.json"), "{\"accuracy\": 0.6, \"count\": 3,"
        + " \"per_class_accuracy\": [1.0, 0.5], " + cm + "}");
    perClass = table(sections(Report.of(List.of(run)), 0).get("accuracy"), "test: per-class");
    assertThat(perClass.rows()).extracting(row -> row.get(2)).containsExactly(1L, 2L);
    assertThat(perClass.note()).isNull();
  }

  /**
   * eval-test.json, nuisance-probe.json and attack-fgsm.json of {@code run}, with or without the 95%
   * intervals eval, probe and attack write since 2026-12-06 ({@code *_ci95}). The bounds are
   * Wilson's for 842 of 1000, 90 of 100, 45 of 50, 7 and 13 of 20, 27 and 3 of 30 (Python, float64).
   */
  static void writeSharesOfImages(Path run, boolean withIntervals) throws java.io.IOException {
    String clean = ", \"accuracy_ci95\": [0.7437891742081593, 0.9654001112526658]";
    Map<String, String> intervals = Map.of("CI_EVAL", ", \"accuracy_ci95\": [0.8180901541085861, 0.8632923430872941],"
        + " \"per_class_accuracy_ci95\": [[0.8256343384950865, 0.9447708629393249], [0.7863976856252035, 0.9565242350681096]]",
        "CI_NUISANCE", ", \"logit_accuracy_ci95\": [0.18119182410108206, 0.5671457233147638],"
        + " \"nuisance_accuracy_ci95\": [0.43285427668523624, 0.818808175898918]",
        "CI_CLEAN", clean, "CI_TOP", clean.replace("accuracy", "clean_accuracy"),
        "CI_ATTACKED", ", \"accuracy_ci95\": [0.03459988874733419, 0.25621082579184085]");
    Map<String, String> files = Map.of("eval-test.json", """
        {"split": "test", "accuracy": 0.842, "count": 1000, "loss": 0.5, "class_names": ["a", "b"],
         "per_class_accuracy": [0.9, 0.9], "per_class_count": [100, 50]CI_EVAL}""", "analysis/nuisance-probe.json", """
        {"logit_accuracy": 0.35, "nuisance_accuracy": 0.65, "excess": 0.3, "test_count": 20CI_NUISANCE}""",
        "analysis/attack-fgsm.json", """
        {"schemaVersion": 1, "attack": "fgsm", "norm": "linf", "targeted": null, "count": 30,
         "clean_accuracy": 0.9, "monotone": true, "sanity": {"passed": true},
         "curve": [{"eps": 0.0, "accuracy": 0.9CI_CLEAN}, {"eps": 0.1, "accuracy": 0.1CI_ATTACKED}]CI_TOP}""");
    Files.createDirectories(run.resolve("analysis"));
    for (Map.Entry<String, String> file : files.entrySet()) {
      String text = file.getValue();
      for (Map.Entry<String, String> ci : intervals.entrySet()) {
        text = text.replace(ci.getKey(), withIntervals ? ci.getValue() : "");
      }
      Files.writeString(run.resolve(file.getKey()), text);
    }
  }

  /**
   * The accuracy and attacks sections show each share with its 95% interval where the file gives
   * one: only the generic tables showed them, so the accuracy a reader looks for read as exact.
   * Files without intervals show none, and their numbers stay numbers.
   */
  @Test
  void theAccuracyAndAttackTablesShowTheIntervalsTheFilesGive(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    writeSharesOfImages(run, true);
    Map<String, Section> s = sections(Report.of(List.of(run)), 0);
    assertThat(table(s.get("accuracy"), "test").rows()).contains(List.of("accuracy", "0.842 [0.818, 0.863]"));
    Figure.Table perClass = table(s.get("accuracy"), "test: per-class");
    assertThat(perClass.columns()).containsExactly("class", "accuracy", "95% interval", "images");
    // One accuracy, two intervals: each over its class's images.
    assertThat(perClass.rows()).containsExactly(List.of("a", 0.9, "[0.826, 0.945]", 100L),
        List.of("b", 0.9, "[0.786, 0.957]", 50L));
    // clean accuracy, largest eps, accuracy there, success rate (none: an attack without pairs).
    assertThat(table(s.get("attacks"), "attacks").rows().get(0).subList(3, 7)).containsExactly("0.900 [0.744, 0.965]",
        0.1, "0.100 [0.035, 0.256]", null);

    writeSharesOfImages(run, false);
    s = sections(Report.of(List.of(run)), 0);
    assertThat(table(s.get("accuracy"), "test").rows()).contains(List.of("accuracy", 0.842));
    perClass = table(s.get("accuracy"), "test: per-class");
    assertThat(perClass.columns()).containsExactly("class", "accuracy", "images");
    assertThat(perClass.rows()).containsExactly(List.of("a", 0.9, 100L), List.of("b", 0.9, 50L));
    assertThat(table(s.get("attacks"), "attacks").rows().get(0).subList(3, 7)).containsExactly(0.9, 0.1, 0.1, null);
  }

  /**
   * The robustness chart draws each point's 95% interval as an error bar where the attack file
   * gives one ({@code curve[].accuracy_ci95}): the curve of 30 images read as exact. Report.json's
   * curve carries the bounds as {@code lo} and {@code hi}; files without intervals draw none.
   */
  @Test
  void theRobustnessCurvesDrawTheIntervalsTheFilesGive(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    writeSharesOfImages(run, true);
    Report r = Report.of(List.of(run));
    Figure.Series fgsm = lines(sections(r, 0).get("attacks")).get(0).series().get(0);
    assertThat(fgsm.lo()).containsExactly(0.7437891742081593, 0.03459988874733419);
    assertThat(fgsm.hi()).containsExactly(0.9654001112526658, 0.25621082579184085);
    assertThat(HtmlPage.render(r)).contains("<path class=\"bar\"");
    assertThat(JsonReport.MAPPER.valueToTree(fgsm).has("lo")).isTrue();

    writeSharesOfImages(run, false);
    r = Report.of(List.of(run));
    fgsm = lines(sections(r, 0).get("attacks")).get(0).series().get(0);
    assertThat(fgsm.lo()).isNull();
    assertThat(fgsm.hi()).isNull();
    assertThat(HtmlPage.render(r)).doesNotContain("class=\"bar\"");
    assertThat(JsonReport.MAPPER.valueToTree(fgsm).has("lo")).as("no lo in report.json").isFalse();
  }

  /**
   * The headline (and so the comparison of runs) gives the test accuracy's, the nuisance probe's
   * and each attack's 95% interval, each as a row of text next to its number, which stays a number
   * (report.json's headline values keep their types). Files without intervals add no rows.
   */
  @Test
  void theHeadlineGivesTheIntervalsTheFilesGive(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    writeSharesOfImages(run, true);
    Map<String, Object> h = Report.of(List.of(run)).runs().get(0).headline();
    assertThat(h).containsEntry("test accuracy", 0.842).containsEntry("nuisance probe: logit_accuracy", 0.35)
        .containsEntry("attack fgsm: accuracy at eps 0.1", 0.1)
        .containsEntry("test accuracy 95% interval", "[0.818, 0.863]")
        .containsEntry("nuisance probe: logit_accuracy 95% interval", "[0.181, 0.567]")
        .containsEntry("nuisance probe: nuisance_accuracy 95% interval", "[0.433, 0.819]")
        .containsEntry("attack fgsm: accuracy at eps 0.1 95% interval", "[0.035, 0.256]");
    List<String> labels = List.copyOf(h.keySet());
    for (String number : List.of("test accuracy", "nuisance probe: logit_accuracy", "attack fgsm: accuracy at eps 0.1")) {
      assertThat(labels.indexOf(number + " 95% interval")).as(number).isEqualTo(labels.indexOf(number) + 1);
    }

    writeSharesOfImages(run, false);
    h = Report.of(List.of(run)).runs().get(0).headline();
    assertThat(h).containsEntry("test accuracy", 0.842).containsEntry("nuisance probe: logit_accuracy", 0.35)
        .containsEntry("attack fgsm: accuracy at eps 0.1", 0.1);
    assertThat(h.keySet()).noneMatch(k -> k.contains("interval"));
  }

  /** The headline's other shares, the metamers' rates and the accuracy on other data, give theirs too. */
  @Test
  void theHeadlineGivesTheMetamersAndOtherDataIntervals(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.createDirectories(run.resolve("analysis"));
    Files.writeString(run.resolve("analysis/metamers.json"), """
        {"count": 20, "summary": {"rate_metamer_class_is_class_of_a": 0.35,
         "rate_metamer_class_is_class_of_a_ci95": [0.18119182410108206, 0.5671457233147638],
         "rate_probe_class_is_label_of_b": 0.65, "rate_probe_class_is_label_of_b_ci95": [0.43285427668523624,
         0.818808175898918]}}""");
    Files.writeString(run.resolve("eval-shifted.json"), """
        {"name": "shifted", "data": "shifted/test", "accuracy": 0.842, "count": 1000,
         "accuracy_ci95": [0.8180901541085861, 0.8632923430872941]}""");
    // An attack without epsilon (the metamer attack): its success rate, 27 of 30, with its interval.
    Files.writeString(run.resolve("analysis/attack-metamer.json"), """
        {"schemaVersion": 1, "attack": "metamer", "norm": null, "count": 30, "clean_accuracy": 0.7, "sanity": null,
         "curve": [{"eps": null, "accuracy": 0.0, "success_rate": 0.9,
          "success_rate_ci95": [0.7437891742081593, 0.9654001112526658]}]}""");
    Map<String, Object> h = Report.of(List.of(run)).runs().get(0).headline();
    assertThat(h).containsEntry("metamers: model class is class of a", 0.35)
        .containsEntry("metamers: model class is class of a 95% interval", "[0.181, 0.567]")
        .containsEntry("metamers: nuisance probe reads label of b 95% interval", "[0.433, 0.819]")
        .containsEntry("accuracy on shifted (shifted/test)", 0.842)
        .containsEntry("accuracy on shifted (shifted/test) 95% interval", "[0.818, 0.863]")
        .containsEntry("attack metamer: success rate", 0.9)
        .containsEntry("attack metamer: success rate 95% interval", "[0.744, 0.965]");
  }

  @Test
  void aConfigThatFailsTheReportNamesItsRun(@TempDir Path tmp) throws Exception {
    Path a = SyntheticRun.bare(tmp.resolve("a"), "ce"), b = SyntheticRun.bare(tmp.resolve("b"), "ice");
    Files.writeString(b.resolve("config.json"), "[1,2,3]");
    assertThatThrownBy(() -> Report.of(List.of(a, b))).isInstanceOf(java.io.IOException.class)
        .hasMessage(b.resolve("config.json") + ": not a JSON object");
    Files.writeString(b.resolve("config.json"), "{\"config\": {}");
    assertThatThrownBy(() -> Report.of(List.of(a, b))).hasMessage(b.resolve("config.json") + ": malformed config JSON"
        + " at line 1, column 14: Unexpected end-of-input: expected close marker for Object (start marker at line 1,"
        + " column 1)");
  }

  /** A run directory "cnn" to compare with: config.json and analysis/, with layer-probes.json unless null. */
  private static Path baseline(Path tmp, String layerProbes) throws Exception {
    Path cnn = SyntheticRun.bare(tmp.resolve("cnn"), "ce");
    Files.createDirectories(cnn.resolve("analysis"));
    if (layerProbes != null) Files.writeString(cnn.resolve("analysis/layer-probes.json"), layerProbes);
    return cnn;
  }

  private static Figure comparison(Report r, String titlePrefix) {
    return r.comparison().stream().filter(f -> f.title().startsWith(titlePrefix)).findFirst().orElseThrow();
  }

  @Test
  void aComparisonDrawsTheProbeCurvesOfAllRunsByRelativeDepthAndTheFeatureMatchAttacksSideBySide(@TempDir Path tmp)
      throws Exception {
    Path inv = SyntheticRun.full(tmp.resolve("inv"), "ce", 0.9);
    // A baseline with four named layers and a feature-match attack at its last one.
    Path cnn = baseline(tmp, """
        {"model": "resnet-s", "logit_accuracy": 0.8, "stages": [
          {"stage": 0, "layer": "stem", "linear_accuracy": 0.4, "nearest_neighbour_accuracy": 0.3},
          {"stage": 1, "layer": "s1b1", "linear_accuracy": 0.5, "nearest_neighbour_accuracy": 0.4},
          {"stage": 2, "layer": "s2b1", "linear_accuracy": 0.6, "nearest_neighbour_accuracy": 0.5},
          {"stage": 3, "layer": "pool", "linear_accuracy": 0.8, "nearest_neighbour_accuracy": 0.7}],
         "pca": [{"components": 1, "linear_accuracy": 0.2}, {"components": 64, "linear_accuracy": 0.8}]}
        """);
    Files.writeString(cnn.resolve("analysis/attack-feature-match.json"), """
        {"attack": "feature-match", "layer": 3, "layer_name": "pool", "count": 8, "curve": [
          {"eps": 0.0, "success_rate": 0.0, "representation_distance": 1.0, "mean_l2": 0.0, "mean_linf": 0.0},
          {"eps": 0.1, "success_rate": 0.25, "representation_distance": 0.5, "mean_l2": 1.5, "mean_linf": 0.1,
           "mean_l2_at_eps": 2.5, "mean_linf_at_eps": 0.1, "accuracy_at_eps": 0.6}]}
        """);
    Report r = Report.of(List.of(inv, cnn));
    Figure.Line linear = (Figure.Line) comparison(r, "linear probe");
    assertThat(linear.series()).hasSize(2);
    assertThat(linear.series().get(0).x()).containsExactly(0.5, 1.0);
    assertThat(linear.series().get(1).x()).containsExactly(0.25, 0.5, 0.75, 1.0);
    assertThat(linear.series().get(1).y()).containsExactly(0.4, 0.5, 0.6, 0.8);
    Figure.Line pca = (Figure.Line) comparison(r, "PCA");
    assertThat(pca.series().get(1).x()).containsExactly(0.0, 6.0);
    Figure.Table attacks = (Figure.Table) comparison(r, "feature-matching");
    assertThat(attacks.rows()).as("the distances of the epsilon's own examples, as the success rate")
        .contains(java.util.Arrays.asList("cnn", "pool", 0.1, 0.25, 0.5, 2.5, 0.1, 0.6, 8L, null));
    assertThat(attacks.note()).isEqualTo("success rate, match error and distances over each epsilon's own examples");
    Path out = tmp.resolve("cmp");
    r.write(out);
    String html = Files.readString(out.resolve(Report.HTML));
    assertThat(html).contains("<section id=\"comparison\">").contains("relative depth");
    assertThat(Report.of(List.of(inv)).comparison()).isEmpty();
  }

  /**
   * A run probed and attacked on a shortcut dataset beside one on Fashion-MNIST: the comparison drew
   * their curves and rows side by side with nothing to say that the difference was also one of data.
   * Runs on the same data keep their plain names.
   */
  /**
   * probe --test-count N draws its N test images with --seed, and the file's data reads
   * "NAME/test[N of M]" whatever the seed: two runs probed on subsets of different seeds were
   * compared as if on the same images. The seed (linear_probe.seed) now goes with a subset's data.
   */
  @Test
  void probesOnSubsetsOfDifferentSeedsAreNotTheSameData(@TempDir Path tmp) throws Exception {
    String probes = """
        {"data": "fashion-mnist-mini/test[300 of 1000]", "linear_probe": {"seed": %d},
         "stages": [{"stage": 0, "linear_accuracy": 0.4}, {"stage": 1, "linear_accuracy": 0.8}]}
        """;
    Path a = baseline(tmp, probes.formatted(0));
    Path b = SyntheticRun.bare(tmp.resolve("other"), "ce");
    Files.createDirectories(b.resolve("analysis"));
    Files.writeString(b.resolve("analysis/layer-probes.json"), probes.formatted(1));
    Figure.Table t = (Figure.Table) comparison(Report.of(List.of(a, b)), "per-layer probes");
    assertThat(t.rows()).extracting(row -> row.get(t.columns().indexOf("data")))
        .containsExactly("fashion-mnist-mini/test[300 of 1000] seed 0", "fashion-mnist-mini/test[300 of 1000] seed 1");
    assertThat(t.note()).contains("not all on the same data");

    Files.writeString(b.resolve("analysis/layer-probes.json"), probes.formatted(0));
    assertThat(((Figure.Table) comparison(Report.of(List.of(a, b)), "per-layer probes")).note()).isNull();
  }

  @Test
  void theComparisonNamesTheDataOfEachCurveAndRowWhenTheRunsWereProbedOnDifferentData(@TempDir Path tmp)
      throws Exception {
    String probes = """
        {"data": "%s", "stages": [{"stage": 0, "linear_accuracy": 0.4, "nearest_neighbour_accuracy": 0.3},
          {"stage": 1, "linear_accuracy": 0.8, "nearest_neighbour_accuracy": 0.7}],
         "pca": [{"components": 1, "linear_accuracy": 0.2}, {"components": 4, "linear_accuracy": 0.7}]}
        """;
    String featureMatch = """
        {"attack": "feature-match", "layer_name": "pool", "count": 8, "data": "%s", "curve": [
          {"eps": 0.0, "success_rate": 0.0}, {"eps": 0.1, "success_rate": 0.25}]}
        """;
    Path fashion = baseline(tmp, probes.formatted("fashion-mnist-mini/test[300 of 1000]"));
    Files.writeString(fashion.resolve("analysis/attack-feature-match.json"),
        featureMatch.formatted("fashion-mnist-mini/test"));
    Path shortcut = SyntheticRun.bare(tmp.resolve("shortcut"), "ce");
    Files.createDirectories(shortcut.resolve("analysis"));
    Files.writeString(shortcut.resolve("analysis/layer-probes.json"), probes.formatted("sc-bin/test[300 of 1000]"));
    Files.writeString(shortcut.resolve("analysis/attack-feature-match.json"), featureMatch.formatted("sc-bin/test"));

    Report r = Report.of(List.of(fashion, shortcut));
    for (String title : List.of("linear probe", "1-NN", "PCA")) {
      assertThat(((Figure.Line) comparison(r, title)).series()).extracting(Figure.Series::name).as(title)
          .allSatisfy(name -> assertThat(name).containsAnyOf(" on fashion-mnist-mini/test[300 of 1000]",
              " on sc-bin/test[300 of 1000]"));
    }
    Figure.Table probeTable = (Figure.Table) comparison(r, "per-layer probes");
    assertThat(probeTable.rows()).extracting(row -> row.get(probeTable.columns().indexOf("data")))
        .containsExactly("fashion-mnist-mini/test[300 of 1000]", "sc-bin/test[300 of 1000]");
    assertThat(probeTable.note()).contains("not all on the same data");
    Figure.Table attacks = (Figure.Table) comparison(r, "feature-matching");
    assertThat(attacks.rows()).extracting(row -> row.get(attacks.columns().indexOf("data")))
        .containsExactly("fashion-mnist-mini/test", "sc-bin/test");
    assertThat(attacks.note()).contains("not all on the same data (fashion-mnist-mini/test, sc-bin/test)");

    // The same data for both: plain names, no note.
    Files.writeString(shortcut.resolve("analysis/layer-probes.json"),
        probes.formatted("fashion-mnist-mini/test[300 of 1000]"));
    Report same = Report.of(List.of(fashion, shortcut));
    assertThat(((Figure.Line) comparison(same, "linear probe")).series()).extracting(Figure.Series::name)
        .containsExactly("cnn (2 layers)", "shortcut (2 layers)");
    assertThat(((Figure.Table) comparison(same, "per-layer probes")).note()).isNull();
  }

  /**
   * The headline's "accuracy at eps E" of an attack is its robustness curve's (an image broken at a
   * smaller epsilon counts as broken); the comparison's feature-match table showed the epsilon's own
   * attack, accuracy_at_eps, under the same words: 0.25 in one place and 0.375 in the other for one
   * run at one epsilon. A column under the headline's words must hold the headline's number.
   */
  @Test
  void theComparisonsFeatureMatchAccuracyIsNotShownUnderTheHeadlinesLabelForAnotherNumber(@TempDir Path tmp)
      throws Exception {
    Path a = SyntheticRun.bare(tmp.resolve("a"), "ce"), b = SyntheticRun.bare(tmp.resolve("b"), "ce");
    Files.createDirectories(b.resolve("analysis"));
    Files.writeString(b.resolve("analysis/attack-feature-match.json"), """
        {"attack": "feature-match", "layer_name": "pool", "count": 8, "curve": [
          {"eps": 0.0, "accuracy": 0.5, "accuracy_at_eps": 0.5, "success_rate": 0.0},
          {"eps": 0.1, "accuracy": 0.25, "accuracy_at_eps": 0.375, "success_rate": 0.125}]}
        """);
    Report r = Report.of(List.of(a, b));
    Object headline = r.runs().get(1).headline().get("attack feature-match: accuracy at eps 0.1");
    assertThat(headline).isEqualTo(0.25);
    Figure.Table attacks = (Figure.Table) comparison(r, "feature-matching");
    List<Object> row = attacks.rows().get(0);
    for (int c = 0; c < attacks.columns().size(); c++) {
      if (attacks.columns().get(c).equals("accuracy at eps")) {
        assertThat(row.get(c)).as("the column under the headline's label").isEqualTo(headline);
      }
    }
    assertThat(row.get(attacks.columns().indexOf("accuracy at eps alone"))).isEqualTo(0.375);
  }

  /**
   * A feature-match file whose sanity check failed (the attack exited 1 after writing it) is a
   * failed result: its headline labels say so, and its rows in the comparison must too, not sit
   * beside a clean run's as if alike.
   */
  @Test
  void theComparisonsFeatureMatchRowsOfAFileWithAFailedCheckSaySo(@TempDir Path tmp) throws Exception {
    Path a = SyntheticRun.bare(tmp.resolve("a"), "ce"), b = SyntheticRun.bare(tmp.resolve("b"), "ce");
    String file = """
        {"attack": "feature-match", "layer_name": "pool", "count": 8, "sanity": {"passed": %s}, "curve": [
          {"eps": 0.0, "success_rate": 0.0}, {"eps": 0.1, "success_rate": 0.5}]}
        """;
    for (Path run : List.of(a, b)) Files.createDirectories(run.resolve("analysis"));
    Files.writeString(a.resolve("analysis/attack-feature-match.json"), file.formatted("true"));
    Files.writeString(b.resolve("analysis/attack-feature-match.json"), file.formatted("false"));
    Report r = Report.of(List.of(a, b));
    assertThat(r.runs().get(1).headline()).containsKey("attack feature-match: pairs (check failed: sanity.passed false)");
    Figure.Table attacks = (Figure.Table) comparison(r, "feature-matching");
    assertThat(attacks.rows()).extracting(row -> row.get(0)).containsExactly("a", "b (check failed: sanity.passed false)");
  }

  @Test
  void aMultiTargetedAttackIsNamedApartFromThePlainOne(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    // The fields AttackCommand writes for --multi-targeted: those of the plain PGD file but the flag.
    Files.writeString(run.resolve("analysis/attack-pgd-linf-multi-targeted.json"), """
        {"schemaVersion": 1, "attack": "pgd-linf", "norm": "linf", "targeted": null, "multi_targeted": true,
         "count": 30, "clean_accuracy": 0.7, "monotone": true, "sanity": {"passed": true},
         "curve": [{"eps": 0.0, "accuracy": 0.7}, {"eps": 0.1, "accuracy": 0.05}]}
        """);
    Report r = Report.of(List.of(run));
    Section attacks = sections(r, 0).get("attacks");
    assertThat(lines(attacks).get(0).series()).extracting(Figure.Series::name)
        .containsExactly("fgsm", "pgd-linf multi-targeted", "pgd-linf");
    Figure.Table summary = (Figure.Table) attacks.figures().stream()
        .filter(f -> f instanceof Figure.Table t && t.title().equals("attacks")).findFirst().orElseThrow();
    assertThat(summary.rows()).extracting(row -> row.get(0)).doesNotHaveDuplicates();
    assertThat(r.runs().get(0).headline()).containsEntry("attack pgd-linf: accuracy at eps 0.1", 0.1)
        .containsEntry("attack pgd-linf multi-targeted: accuracy at eps 0.1", 0.05);
  }

  /** A class given by number or by name is one attack: they made separate rows of a comparison. */
  @Test
  void aTargetClassGivenByNumberOrByNameIsOneAttack(@TempDir Path tmp) throws Exception {
    List<Path> runs = new ArrayList<>();
    for (String targeted : List.of("3", "Dress")) {
      Path run = SyntheticRun.full(tmp.resolve("run-" + targeted), "ce", 0.9);
      Files.writeString(run.resolve("analysis/attack-fgsm-targeted.json"), """
          {"schemaVersion": 1, "attack": "fgsm", "norm": "linf", "targeted": "%s", "target_class_name": "Dress",
           "count": 30, "clean_accuracy": 0.7, "monotone": true, "sanity": {"passed": true},
           "curve": [{"eps": 0.0, "accuracy": 0.7}, {"eps": 0.1, "accuracy": 0.2}]}
          """.formatted(targeted));
      runs.add(run);
    }
    Report r = Report.of(runs);
    for (int i = 0; i < 2; i++) {
      assertThat(r.runs().get(i).headline()).containsEntry("attack fgsm targeted Dress: accuracy at eps 0.1", 0.2);
    }
    // Targets not of one fixed class keep their word.
    Path next = SyntheticRun.full(tmp.resolve("run-next"), "ce", 0.9);
    Files.writeString(next.resolve("analysis/attack-fgsm-targeted.json"), """
        {"schemaVersion": 1, "attack": "fgsm", "norm": "linf", "targeted": "next",
         "count": 30, "clean_accuracy": 0.7, "monotone": true, "sanity": {"passed": true},
         "curve": [{"eps": 0.0, "accuracy": 0.7}, {"eps": 0.1, "accuracy": 0.3}]}
        """);
    assertThat(Report.of(List.of(next)).runs().get(0).headline())
        .containsEntry("attack fgsm targeted next: accuracy at eps 0.1", 0.3);
  }

  @Test
  void theComparisonsPcaCurvesLeaveOutPointsOffTheLogAxis(@TempDir Path tmp) throws Exception {
    Path inv = SyntheticRun.full(tmp.resolve("inv"), "ce", 0.9);
    Path cnn = baseline(tmp, """
        {"stages": [{"stage": 0, "linear_accuracy": 0.4}, {"stage": 1, "linear_accuracy": 0.8}],
         "pca": [{"components": 0, "linear_accuracy": 0.1}, {"linear_accuracy": 0.15},
                 {"components": 4, "linear_accuracy": 0.5}]}
        """);
    Report r = Report.of(List.of(inv, cnn));
    Figure.Line pca = (Figure.Line) comparison(r, "PCA");
    assertThat(pca.series().get(1).x()).containsExactly(2.0);
    assertThat(pca.series().get(1).y()).containsExactly(0.5);
  }

  @Test
  void theComparisonsFeatureMatchTableKeepsTheReadableFilesOfARunAndReadsEitherEpsilon(@TempDir Path tmp)
      throws Exception {
    Path inv = SyntheticRun.full(tmp.resolve("inv"), "ce", 0.9);
    Path cnn = baseline(tmp, null);
    Files.writeString(inv.resolve("analysis/attack-feature-match.json"), """
        {"attack": "feature-match", "layer_name": "z", "count": 8, "curve": [
          {"epsilon": 0.0, "success_rate": 0.0}, {"epsilon": 0.2, "success_rate": 0.5}]}
        """);
    // Sorts before the readable file, so a failure that ended the run's loop would drop that one too.
    Files.writeString(cnn.resolve("analysis/attack-feature-match-broken.json"), "{\"curve\": [");
    Files.writeString(cnn.resolve("analysis/attack-feature-match.json"), """
        {"attack": "feature-match", "layer_name": "pool", "count": 8, "curve": [
          {"eps": 0.0, "success_rate": 0.0}, {"eps": 0.1, "success_rate": 0.25}]}
        """);
    Report r = Report.of(List.of(inv, cnn));
    Figure.Table attacks = (Figure.Table) comparison(r, "feature-matching");
    assertThat(attacks.rows()).extracting(row -> row.subList(0, 4)).containsExactly(List.of("inv", "z", 0.2, 0.5),
        List.of("cnn", "pool", 0.1, 0.25));
    assertThat(sections(r, 1).get("attacks").status()).isEqualTo(Section.ERROR);
  }

  /**
   * Three runs: the synthetic one (two stages, no model name or accuracy in its probe file, a PCA
   * curve), a baseline with two named layers and no PCA, and one whose probe file has no stages,
   * which has no curve and no row.
   */
  @Test
  void theComparisonsProbeTableHasTheFirstAndLastLayerOfEachRunWithStages(@TempDir Path tmp) throws Exception {
    Path inv = SyntheticRun.full(tmp.resolve("inv"), "ce", 0.9);
    Path cnn = baseline(tmp, """
        {"model": "resnet-s", "logit_accuracy": 0.8, "stages": [
          {"stage": 0, "layer": "stem", "linear_accuracy": 0.4, "nearest_neighbour_accuracy": 0.3},
          {"stage": 1, "layer": "pool", "linear_accuracy": 0.8, "nearest_neighbour_accuracy": 0.7}]}
        """);
    Path none = SyntheticRun.bare(tmp.resolve("none"), "ce");
    Files.createDirectories(none.resolve("analysis"));
    Files.writeString(none.resolve("analysis/layer-probes.json"), "{\"stages\": []}");
    List<Figure> figs = Report.of(List.of(inv, cnn, none)).comparison();
    assertThat(figs).extracting(Figure::title).containsExactly("linear probe accuracy by relative depth",
        "1-NN accuracy by relative depth", "PCA at the last probed layer", "per-layer probes");
    Figure.Line linear = (Figure.Line) figs.get(0), nn = (Figure.Line) figs.get(1), pca = (Figure.Line) figs.get(2);
    assertThat(linear.series()).extracting(Figure.Series::name).containsExactly("inv (2 layers)", "cnn (2 layers)");
    assertThat(linear.series().get(0).y()).containsExactly(0.5, 0.7);
    assertThat(List.of(linear.xLabel(), linear.yLabel())).containsExactly("relative depth (layer / layers)",
        "test accuracy");
    assertThat(nn.series()).extracting(Figure.Series::name).containsExactly("inv (2 layers)", "cnn (2 layers)");
    assertThat(nn.series().get(0).y()).containsExactly(0.4, 0.6);
    assertThat(nn.series().get(1).x()).containsExactly(0.5, 1.0);
    assertThat(nn.series().get(1).y()).containsExactly(0.3, 0.7);
    // PCA: log2 of 1, 4 and 16 components.
    assertThat(pca.series()).singleElement().isEqualTo(new Figure.Series("inv", List.of(0.0, 2.0, 4.0),
        List.of(0.3, 0.6, 0.7)));
    assertThat(List.of(pca.xLabel(), pca.yLabel())).containsExactly("log2(principal components kept)",
        "linear probe accuracy");
    assertThat(figs.get(3)).isEqualTo(new Figure.Table("per-layer probes", List.of("run", "model", "layers",
        "last layer", "linear first", "linear last", "1-NN first", "1-NN last", "model accuracy", "data"), List.of(
            java.util.Arrays.asList("inv", null, 2, 1L, 0.5, 0.7, 0.4, 0.6, null, null),
            java.util.Arrays.asList("cnn", "resnet-s", 2, "pool", 0.4, 0.8, 0.3, 0.7, 0.8, null)), null));
  }

  @Test
  void aComparisonOfFeatureMatchAttacksAloneHasOnlyTheirTable(@TempDir Path tmp) throws Exception {
    Path a = SyntheticRun.bare(tmp.resolve("a"), "ce"), b = SyntheticRun.bare(tmp.resolve("b"), "ce");
    assertThat(Report.of(List.of(a, b)).comparison()).as("nothing to compare").isEmpty();
    Files.createDirectories(b.resolve("analysis"));
    // No layer name: the layer index; a point without an epsilon and the epsilon-0 point are left out.
    Files.writeString(b.resolve("analysis/attack-feature-match-s2.json"), """
        {"attack": "feature-match", "layer": 2, "count": 4, "curve": [{"success_rate": 0.9},
          {"eps": 0.0, "success_rate": 0.0}, {"eps": 0.5, "success_rate": 0.75, "representation_distance": 0.25,
           "mean_l2": 2.0, "mean_linf": 0.5, "accuracy_at_eps": 0.25}]}
        """);
    assertThat(Report.of(List.of(a, b)).comparison()).singleElement().isEqualTo(new Figure.Table(
        "feature-matching invariance attack (x near b, matched to a at the layer)", List.of("run", "layer", "eps",
            "success: class of x is a's", "match error ||h(x)-h(a)||/||h(b)-h(a)||", "mean L2 to b", "mean L-inf to b",
            "accuracy at eps alone", "pairs", "data"),
        List.of(java.util.Arrays.asList("b", 2L, 0.5, 0.75, 0.25, 2.0, 0.5, 0.25, 4L, null)),
        "success rate, match error and distances over each epsilon's own examples; distances from attack files"
            + " without mean_l2_at_eps (written before 2026-12-05) over the counted examples"));
  }

  @Test
  void comparesTwoRunsSideBySide(@TempDir Path tmp) throws Exception {
    Path ce = SyntheticRun.full(tmp.resolve("a/ce"), "ce", 0.97);
    Path ice = SyntheticRun.full(tmp.resolve("b/ice"), "ice", 0.31);
    try (var attacks = Files.newDirectoryStream(ice.resolve("analysis"), "attack*")) {
      for (Path p : attacks) Files.delete(p);
    }
    Report r = Report.of(List.of(ce, ice));
    assertThat(r.headline().columns()).containsExactly("", "ce", "ice");
    assertThat(r.headline().rows()).contains(List.of("nuisance probe: nuisance_accuracy", 0.97, 0.31),
        List.of("objective", "ce", "ice"));
    assertThat(sections(r, 1).get("attacks").status()).isEqualTo(Section.NOT_RUN);

    Path out = tmp.resolve("cmp");
    r.write(out);
    JsonNode j = JsonReport.MAPPER.readTree(out.resolve(Report.JSON).toFile());
    assertThat(j.get("runs")).hasSize(2);
    assertThat(j.get("runs").get(1).get("config").get("objective").asText()).isEqualTo("ice");
    String html = Files.readString(out.resolve(Report.HTML));
    assertThat(html).contains("irevnet report: ce vs ice").contains("--cols:2");
    // Every section has one column per run.
    int nuisance = html.indexOf("<section id=\"nuisance\">");
    String section = html.substring(nuisance, html.indexOf("</section>", nuisance));
    assertThat(section.split("<div class=\"run\">")).hasSize(3);
    assertThat(section).contains("0.97").contains("0.31");
  }

  @Test
  void runsWithTheSameNameAreNamedByPath(@TempDir Path tmp) throws Exception {
    Path a = SyntheticRun.bare(tmp.resolve("a/run"), "ce"), b = SyntheticRun.bare(tmp.resolve("b/run"), "ice");
    assertThat(Report.of(List.of(a, b)).runs()).extracting(Report.Run::name).containsExactly(a.toString(), b.toString());
  }

  @Test
  void refusesADirectoryThatIsNotARun(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> Report.of(List.of(tmp.resolve("missing")))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("missing: no such run directory");
    assertThatThrownBy(() -> Report.of(List.of(tmp))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a run directory (no config.json");
    assertThat(tmp.resolve(Report.HTML)).doesNotExist();
    // A config.json moved away from under its link is named as such, not as absent.
    Path moved = Files.createDirectories(tmp.resolve("moved"));
    Files.createSymbolicLink(moved.resolve("config.json"), tmp.resolve("elsewhere/config.json"));
    assertThatThrownBy(() -> Report.of(List.of(moved))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(moved + ": its config.json is a symbolic link to nothing (" + tmp.resolve("elsewhere/config.json") + ")");
  }

  @Test
  void aReportNeedsARunAndReadsAConfigWithoutItsObjectsAsEmptyOnes(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> Report.of(List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no run directory given");
    Path run = Files.createDirectories(tmp.resolve("run"));
    Files.writeString(run.resolve("config.json"), "{\"config\": [1]}");
    Report.Run r = Report.of(List.of(run)).runs().get(0);
    assertThat(r.name()).isEqualTo("run");
    assertThat(r.path()).isEqualTo(run.toString());
    assertThat(r.config()).isEqualTo(JsonReport.MAPPER.createObjectNode());
    assertThat(r.environment()).isEqualTo(JsonReport.MAPPER.createObjectNode());
  }

  @Test
  void theHeadlineHasARowForEachNumberOfAnyRunEmptyWhereARunLacksIt(@TempDir Path tmp) throws Exception {
    Path bare = SyntheticRun.bare(tmp.resolve("bare"), "ce"), full = SyntheticRun.full(tmp.resolve("full"), "ice", 0.5);
    Figure.Table h = Report.of(List.of(bare, full)).headline();
    assertThat(h.title()).isEqualTo("headline");
    assertThat(h.columns()).containsExactly("", "bare", "full");
    assertThat(h.note()).isNull();
    // Rows in the order the runs name them: the bare run's config first, then what only the full run has.
    assertThat(h.rows().subList(0, 6)).containsExactly(List.of("arch", "fi-revnet-s", "fi-revnet-s"),
        List.of("objective", "ce", "ice"), List.of("data", "fashion-mnist-mini " + SyntheticRun.EVIL,
            "fashion-mnist-mini " + SyntheticRun.EVIL), List.of("epochs", 2L, 2L),
        java.util.Arrays.asList("steps", null, 60L), java.util.Arrays.asList("training time (s)", null, 30L));
  }

  /**
   * A metamer attack whose metamers hold in float64 but not in float32 (an iCE run's, with pixel
   * values far outside the images' range): its max_logit_abs_diff is the float64 one, while the
   * success rate and distances are of the float32 metamers. The attacks table says so in its note,
   * the file's own table shows both precisions, and the section stays ok (as metamers.json's
   * float32_holds false is no failed check). A file from before these fields reads as before.
   */
  @Test
  void aMetamerAttackWhoseMetamersMissInFloat32SaysSoInTheAttacksTable(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ice", 0.9);
    Path file = run.resolve("analysis/attack-metamer.json");
    Map<String, Section> before = sections(Report.of(List.of(run)), 0);
    Figure.Table old = table(before.get("attacks"), "attacks");
    assertThat(old.note()).as("no float32_holds: a file from before it").isNull();
    assertThat(old.rows().get(1)).containsExactly("metamer", "", 30L, 0.7, null, null, 0.9, null, null);
    assertThat(old.columns().get(2)).as("a metamer attack's 30 are pairs").isEqualTo("images (or pairs)");
    assertThat(before.get("attacks").status()).isEqualTo(Section.OK);

    ObjectNode met = edit(file);
    met.put("max_logit_abs_diff", 7.725e-10);
    met.put("max_logit_abs_diff_f32", 0.1104);
    met.put("max_logit_abs_diff_f64", 7.725e-10);
    met.put("float32_holds", false);
    met.put("invariant_holds", true);
    save(file, met);
    Report r = Report.of(List.of(run));
    Section attacks = sections(r, 0).get("attacks");
    assertThat(attacks.status()).as(attacks.note()).isEqualTo(Section.OK);
    Figure.Table summary = table(attacks, "attacks");
    assertThat(summary.rows().get(1)).as("the rows as before").isEqualTo(old.rows().get(1));
    assertThat(summary.note()).isEqualTo("analysis/attack-metamer.json: float32_holds false: max_logit_abs_diff"
        + " 7.73e-10 is float64 (max_logit_abs_diff_f64); the float32 metamers, whose success rate, distances and"
        + " norms are shown, miss a's logits by 1.10e-01 (max_logit_abs_diff_f32)");
    assertThat(table(attacks, "attack-metamer").rows()).contains(List.of("max_logit_abs_diff_f32", 0.1104),
        List.of("max_logit_abs_diff_f64", 7.725e-10), List.of("float32_holds", false));
    assertThat(r.runs().get(0).headline()).containsEntry("attack metamer: success rate", 0.9);
    r.write(run);
    assertThat(Files.readString(run.resolve(Report.HTML))).contains("miss a&#39;s logits by 1.10e-01");

    met.put("max_logit_abs_diff", 3e-5);
    met.put("max_logit_abs_diff_f32", 3e-5);
    met.remove("max_logit_abs_diff_f64");
    met.put("float32_holds", true);
    save(file, met);
    assertThat(table(sections(Report.of(List.of(run)), 0).get("attacks"), "attacks").note()).isNull();
  }
}
