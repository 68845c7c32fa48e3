package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** invert and metamers on a tiny trained run, and their bad-input errors. */
class AnalysisCommandsTest {

  /**
   * The analyses of a colour run (CIFAR-10 batches) write their pictures in colour: every one of
   * them once stopped at its image grid, which took grey images only, with exit code 2 and nothing
   * written.
   */
  @Test
  void theAnalysesOfAColourRunDrawItsImagesInColour(@TempDir Path tmp) throws Exception {
    Path cifar = Files.createDirectories(tmp.resolve("cifar"));
    for (String batch : new String[] {"data_batch_1.bin", "test_batch.bin"}) {
      byte[] records = new byte[20 * 3073];
      for (int i = 0; i < 20; i++) {
        records[i * 3073] = (byte) (i % 2);
        // Label 0 is orange, label 1 teal, each in every pixel: the image's colour is its class.
        int[] rgb = i % 2 == 0 ? new int[] {230, 120, 10} : new int[] {10, 160, 150};
        for (int c = 0; c < 3; c++) {
          int plane = i * 3073 + 1 + c * 1024;
          java.util.Arrays.fill(records, plane, plane + 1024, (byte) rgb[c]);
        }
      }
      Files.write(cifar.resolve(batch), records);
    }
    Path arch = Files.writeString(tmp.resolve("tiny3.json"), MainTest.TINY.replace("[1, 32, 32]", "[3, 32, 32]"));
    Path runDir = tmp.resolve("run");
    MainTest.Run train = run("train", "--arch", arch.toString(), "--data", cifar.toString(), "--out", runDir.toString(),
        "--epochs", "1", "--batch", "10", "--no-progress");
    assertThat(train.code()).as(train.err()).isZero();
    String[][] analyses = {{"invert", "--count", "2"}, {"metamers", "--count", "2"}, {"interpolate", "--count", "1",
        "--steps", "3"}, {"attack", "--attack", "fgsm", "--count", "2", "--eps", "0,0.1"}};
    String[] pictures = {"invert.png", "metamers.png", "interpolate.png", "attack-fgsm.png"};
    for (int k = 0; k < analyses.length; k++) {
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(analyses[k]),
          java.util.stream.Stream.of("--run", runDir.toString(), "--no-progress")).toArray(String[]::new);
      MainTest.Run r = run(args);
      assertThat(r.code()).as(analyses[k][0] + ": " + r.err()).isZero();
      BufferedImage png = ImageIO.read(runDir.resolve("analysis").resolve(pictures[k]).toFile());
      assertThat(png.getRaster().getNumBands()).as(pictures[k]).isEqualTo(3);
    }
    // invert's first row is the test images themselves: image 0 is orange, image 1 teal.
    BufferedImage inv = ImageIO.read(runDir.resolve("analysis/invert.png").toFile());
    assertThat(inv.getRGB(2 + 48, 2 + 48) & 0xffffff).isEqualTo(0xe6780a);
    assertThat(inv.getRGB(2 + 96 + 2 + 48, 2 + 48) & 0xffffff).isEqualTo(0x0aa096);
  }

  @Test
  void invertAndMetamersOnATinyRun(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    Path runDir = tiny.dir();
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();

    MainTest.Run inv = run("invert", "--run", runDir.toString(), "--count", "5");
    assertThat(inv.code()).as(inv.err()).isZero();
    Path invJson = runDir.resolve("analysis/invert.json");
    assertThat(inv.out()).contains("max f64").contains(invJson.toString());
    JsonNode j = Json.MAPPER.readTree(invJson.toFile());
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(j.get("count").asInt()).isEqualTo(5);
    assertThat(j.get("checkpoint").asText()).isEqualTo("best");
    assertThat(j.get("stages")).hasSize(2);
    assertThat(j.get("stages").get(1).get("shape").toString()).isEqualTo("[16,8,8]");
    for (JsonNode s : j.get("stages")) {
      assertThat(s.get("float32").get("max_abs_err").asDouble()).isBetween(0.0, 1e-5);
      assertThat(s.get("float64").get("max_abs_err").asDouble()).isBetween(0.0, 1e-10);
      assertThat(s.get("float64").get("mean_abs_err").asDouble()).isLessThanOrEqualTo(
          s.get("float64").get("max_abs_err").asDouble());
      assertThat(s.get("float32").get("worst_image").asInt()).isBetween(0, 4);
    }
    assertThat(inv.out()).contains("image");
    assertThat(j.get("z").get("float64").get("max_abs_err").asDouble()).isBetween(0.0, 1e-10);
    assertThat(j.get("max_abs_err_f64").asDouble()).isBetween(0.0, 1e-10);
    assertThat(j.get("max_abs_err_f32").asDouble()).isBetween(0.0, 1e-5);
    assertThat(j.get("float64_bound").asDouble()).isCloseTo(1e-6 * (1 + largestPixel(tiny.data(), 5)), offset(1e-15));
    assertThat(inv.err()).isEmpty();
    BufferedImage png = ImageIO.read(runDir.resolve("analysis/invert.png").toFile());
    assertThat(png).isNotNull();
    assertThat(png.getWidth()).isEqualTo(5 * 96 + 6 * 2);
    assertThat(png.getHeight()).isEqualTo(3 * 96 + 4 * 2);

    Path out = tmp.resolve("met");
    MainTest.Run met = run("metamers", "--run", runDir.toString(), "--count", "4", "--seed", "3",
        "--out", out.toString());
    assertThat(met.code()).as(met.err()).isZero();
    JsonNode m = Json.MAPPER.readTree(out.resolve("metamers.json").toFile());
    assertThat(m.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(m.get("invariant_holds").asBoolean()).isTrue();
    assertThat(m.get("pairs")).hasSize(4);
    for (JsonNode p : m.get("pairs")) {
      assertThat(p.get("label_a").asInt()).isNotEqualTo(p.get("label_b").asInt());
      assertThat(p.get("max_logit_abs_diff").asDouble()).isBetween(0.0, 1e-4);
      assertThat(p.get("max_logit_abs_diff_f64").asDouble()).isBetween(0.0, 1e-10);
      // The other half of the metamer: its z_n is b's, in float64 to rounding.
      assertThat(p.get("max_nuisance_abs_diff_f64").asDouble()).isBetween(0.0, 1e-10);
      assertThat(p.get("metamer_class").asInt()).isEqualTo(p.get("class_a").asInt());
      assertThat(p.get("dist_to_b").asDouble()).isPositive();
      assertThat(p.get("dist_a_to_b").asDouble()).isPositive();
    }
    JsonNode s = m.get("summary");
    assertThat(s.get("rate_metamer_class_is_class_of_a").asDouble()).isEqualTo(1.0);
    assertThat(s.get("max_logit_abs_diff").asDouble()).isBetween(0.0, 1e-4);
    assertThat(s.get("mean_dist_to_b").asDouble()).isPositive();
    assertThat(s.get("mean_dist_a_to_b").asDouble()).isPositive();
    // Each rate's 95% interval over the 4 pairs; none for a probe that was not trained.
    for (String rate : new String[] {"rate_metamer_class_is_class_of_a", "rate_metamer_class_is_label_of_b"}) {
      AttackCommandTest.assertCi95(s.get(rate + "_ci95"), s.get(rate).asDouble(), 4);
    }
    assertThat(s.has("rate_probe_class_is_label_of_b_ci95")).isFalse();
    BufferedImage mpng = ImageIO.read(out.resolve("metamers.png").toFile());
    assertThat(mpng).isNotNull();
    assertThat(mpng.getWidth()).isEqualTo(4 * 96 + 5 * 2);
    assertThat(mpng.getHeight()).isEqualTo(3 * 96 + 4 * 2);
    assertThat(runDir.resolve("analysis/metamers.json")).doesNotExist();

    for (JsonNode p : m.get("pairs")) assertThat(p.get("invariant_holds").asBoolean()).isTrue();
    assertThat(m.get("rounding_ratio").asDouble()).isEqualTo(1e-6);

    // Same seed, same pairs; --grid shows the first pairs only, the JSON keeps all.
    MainTest.Run again = run("metamers", "--run", runDir.toString(), "--count", "4", "--seed", "3",
        "--out", tmp.resolve("met2").toString(), "--grid", "3");
    assertThat(again.code()).isZero();
    assertThat(Json.MAPPER.readTree(tmp.resolve("met2/metamers.json").toFile()).get("pairs").toString())
        .isEqualTo(m.get("pairs").toString());
    assertThat(ImageIO.read(tmp.resolve("met2/metamers.png").toFile()).getWidth()).isEqualTo(3 * 96 + 4 * 2);
    assertThat(again.out()).contains("... 1 more pairs in metamers.json").doesNotContain("\n3     ");

    // --probe-class adds the nuisance probe's class of every metamer; the rest is unchanged.
    for (JsonNode p : m.get("pairs")) assertThat(p.get("probe_class").isNull()).isTrue();
    assertThat(s.get("rate_probe_class_is_label_of_b").isNull()).isTrue();
    MainTest.Run probed = run("metamers", "--run", runDir.toString(), "--count", "4", "--seed", "3",
        "--out", tmp.resolve("met3").toString(), "--probe-class");
    assertThat(probed.code()).as(probed.err()).isZero();
    assertThat(probed.err()).contains("nuisance probe: trained on the 64 training images' z_n");
    JsonNode mp = Json.MAPPER.readTree(tmp.resolve("met3/metamers.json").toFile());
    int readB = 0;
    for (int i = 0; i < 4; i++) {
      ObjectNode p = (ObjectNode) mp.get("pairs").get(i);
      int probeClass = p.get("probe_class").asInt();
      assertThat(probeClass).isBetween(0, 9);
      if (probeClass == p.get("label_b").asInt()) readB++;
      p.putNull("probe_class");
      assertThat(p).isEqualTo(m.get("pairs").get(i));
    }
    assertThat(mp.get("summary").get("rate_probe_class_is_label_of_b").asDouble()).isEqualTo(readB / 4.0);
    AttackCommandTest.assertCi95(mp.get("summary").get("rate_probe_class_is_label_of_b_ci95"), readB / 4.0, 4);
    assertThat(probed.out()).contains("probe m").contains("nuisance probe's class == label of b: ");

    MainTest.Run shown = run("invert", "--run", runDir.toString(), "--count", "5", "--grid", "2", "--out",
        tmp.resolve("inv2").toString());
    assertThat(shown.code()).as(shown.err()).isZero();
    assertThat(Json.MAPPER.readTree(tmp.resolve("inv2/invert.json").toFile()).get("count").asInt()).isEqualTo(5);
    assertThat(ImageIO.read(tmp.resolve("inv2/invert.png").toFile()).getWidth()).isEqualTo(2 * 96 + 3 * 2);
    MainTest.Run noGrid = run("metamers", "--run", runDir.toString(), "--grid", "0");
    assertThat(noGrid.code()).isEqualTo(2);
    assertThat(noGrid.err()).contains("--grid must be at least 1, got 0");
  }

  /**
   * The analyses record the weights they saw, and the report refuses a file of other weights than
   * the run's checkpoint holds now: another run's invert put into this run's analysis directory
   * (the report showed it as this run's, headline included), and this run's own from before it
   * trained on.
   */
  @Test
  void theReportRefusesAnAnalysisOfAnotherRunOrOfEarlierWeights(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun a = MainTest.trainTiny(Files.createDirectories(tmp.resolve("a")), 1);
    MainTest.TinyRun b = MainTest.trainTiny(Files.createDirectories(tmp.resolve("b")), 1, "--seed", "7");
    assertThat(a.train().code()).as(a.train().err()).isZero();
    assertThat(b.train().code()).as(b.train().err()).isZero();
    Path invert = a.dir().resolve("analysis/invert.json");
    String status = "invertibility";

    // Written there with --out it is refused now (anotherRunsAnalysisDirectoryIsRefusedAsTheOutput);
    // a copy by hand is still told by the report.
    MainTest.Run other = run("invert", "--run", b.dir().toString(), "--count", "2", "--out",
        a.dir().resolve("analysis").toString());
    assertThat(other.code()).as(other.err()).isEqualTo(2);
    assertThat(a.dir().resolve("analysis")).doesNotExist();
    MainTest.Run own = run("invert", "--run", b.dir().toString(), "--count", "2");
    assertThat(own.code()).as(own.err()).isZero();
    Files.copy(b.dir().resolve("analysis/invert.json"), Files.createDirectories(invert.getParent()).resolve("invert.json"));
    assertThat(Json.MAPPER.readTree(invert.toFile()).get(org.irevnet.reports.JsonReport.WEIGHTS_SHA256).asText())
        .isEqualTo(org.irevnet.train.Checkpoints.weightsSha256(org.irevnet.train.Trainer.best(b.dir())));
    JsonNode report = report(a.dir());
    assertThat(section(report, status).get("status").asText()).isEqualTo("error");
    assertThat(section(report, status).get("note").asText()).startsWith("analysis/invert.json: made from other"
        + " weights than " + org.irevnet.train.Trainer.best(a.dir()) + " holds now");
    assertThat(report.toString()).doesNotContain("reconstruction max error");

    assertThat(run("invert", "--run", a.dir().toString(), "--count", "2").code()).isZero();
    assertThat(section(report(a.dir()), status).get("status").asText()).isEqualTo("ok");
    assertThat(report(a.dir()).toString()).contains("reconstruction max error");

    MainTest.Run more = run("train", "--resume", "--out", a.dir().toString(), "--data", a.data().toString(),
        "--epochs", "2", "--no-progress");
    assertThat(more.code()).as(more.err()).isZero();
    assertThat(section(report(a.dir()), status).get("note").asText()).contains("made from other weights");
  }

  private static JsonNode report(Path run) throws Exception {
    MainTest.Run r = run("report", run.toString());
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(run.resolve("report.json").toFile());
  }

  private static JsonNode section(JsonNode report, String id) {
    for (JsonNode s : report.path("runs").get(0).path("sections")) if (s.path("id").asText().equals(id)) return s;
    throw new AssertionError("no section " + id + " in " + report);
  }

  /**
   * {@code probe --layers --nuisance} (the quickstart's probe step) computed every image's stages
   * twice: the layer probes' features, then z for the nuisance probe. Counted in libnd4j's conv2d
   * calls: both probes on the same images cost as many as the layer probes alone, and the nuisance
   * probe's results are those it gives alone. Where the two probes take different images (here
   * the layer probes' 1,000 of 1,001 test images), each computes its own.
   */
  @Test
  void probeOfBothComputesEachImagesStagesOnce(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String run = tiny.dir().toString();
    long layersAlone = conv2dCalls("probe", "--run", run, "--layers", "--out", tmp.resolve("layers").toString());
    long nuisanceAlone = conv2dCalls("probe", "--run", run, "--nuisance", "--epochs", "1", "--out",
        tmp.resolve("nuisance").toString());
    long both = conv2dCalls("probe", "--run", run, "--layers", "--nuisance", "--epochs", "1", "--out",
        tmp.resolve("both").toString());
    assertThat(nuisanceAlone).isPositive();
    assertThat(both).isEqualTo(layersAlone);
    for (String f : new String[] {"layer-probes.json", "nuisance-probe.json"}) {
      assertThat(withoutTimes(tmp.resolve("both").resolve(f))).as(f)
          .isEqualTo(withoutTimes(tmp.resolve(f.startsWith("layer") ? "layers" : "nuisance").resolve(f)));
    }

    Path more = org.irevnet.testing.TinyData.idx(tmp.resolve("data1001"), 64, ProbeCommand.LAYERS_TEST + 1);
    java.util.function.Function<String, String[]> into = out -> new String[] {"--run", run, "--data", more.toString(),
        "--out", tmp.resolve(out).toString()};
    long layersOf1000 = conv2dCalls(args("probe --layers", into.apply("l1")));
    long nuisanceOf1001 = conv2dCalls(args("probe --nuisance --epochs 1", into.apply("n1")));
    long bothApart = conv2dCalls(args("probe --layers --nuisance --epochs 1", into.apply("b1")));
    assertThat(bothApart).isEqualTo(layersOf1000 + nuisanceOf1001);
    assertThat(withoutTimes(tmp.resolve("b1/nuisance-probe.json"))).isEqualTo(withoutTimes(tmp.resolve("n1/nuisance-probe.json")));
    assertThat(Json.MAPPER.readTree(tmp.resolve("b1/layer-probes.json").toFile()).get("test_count").asInt())
        .isEqualTo(ProbeCommand.LAYERS_TEST);
  }

  /**
   * Without --train-count the layer probes take 6,000 training images and the nuisance probe all of
   * them: on a larger training split (here one more) the two are not the same images, so the
   * nuisance probe's z is its own, not the layer probes' last stage. No test had such a split, and
   * the command with the training sizes' comparison negated failed there ("need [n, d] features
   * with n = 6001 labels, got [6000, 1014]", exit 2). Synthetic images on the tiny run, one epoch
   * of the nuisance probe: the two probes took 3.5 s apart on a quiet machine, 25 s at a load of 4.
   */
  @Test
  void probeOfBothOnMoreTrainingImagesThanTheLayerProbesTakeComputesEachItsOwn(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path more = org.irevnet.testing.TinyData.idx(tmp.resolve("data6001"), ProbeCommand.LAYERS_TRAIN + 1, 20);
    Path out = tmp.resolve("both");
    MainTest.Run r = run("probe", "--run", tiny.dir().toString(), "--data", more.toString(), "--layers", "--nuisance",
        "--epochs", "1", "--out", out.toString(), "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode layers = Json.MAPPER.readTree(out.resolve("layer-probes.json").toFile());
    JsonNode nuisance = Json.MAPPER.readTree(out.resolve("nuisance-probe.json").toFile());
    assertThat(layers.get("train_count").asInt()).isEqualTo(ProbeCommand.LAYERS_TRAIN);
    assertThat(nuisance.get("train_count").asInt()).isEqualTo(ProbeCommand.LAYERS_TRAIN + 1);
    assertThat(layers.get("test_count").asInt()).isEqualTo(20);
    assertThat(nuisance.get("test_count").asInt()).isEqualTo(20);
  }

  /** libnd4j conv2d calls (forward passes' convolutions) of a command that must succeed. */
  private static long conv2dCalls(String... args) {
    return org.irevnet.testing.OpCounts.conv2d(() -> {
      MainTest.Run r = run(args);
      assertThat(r.code()).as(r.err()).isZero();
    });
  }

  /** A probe's JSON without its wall-clock fields. */
  private static JsonNode withoutTimes(Path json) throws java.io.IOException {
    ObjectNode j = (ObjectNode) Json.MAPPER.readTree(json.toFile());
    j.remove(java.util.List.of("seconds", "total_seconds"));
    return j;
  }

  /** An i-RevNet's --nuisance is refused before the layer probes: they were computed and written, then exit 2. */
  @Test
  void probeRefusesTheNuisanceOfAnIRevNetBeforeAnyProbe(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("ir.json"), """
        {"name": "tiny-ir", "type": "irevnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive"}]}""");
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 64, 20), dir = tmp.resolve("run");
    MainTest.Run t = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", dir.toString(),
        "--epochs", "1", "--batch", "16", "--no-progress");
    assertThat(t.code()).as(t.err()).isZero();
    MainTest.Run r = run("probe", "--run", dir.toString(), "--layers", "--nuisance", "--train-count", "30");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet probe: the nuisance probe needs a fully invertible (fi-revnet)"
        + " model, whose z splits into logits z_s and nuisance z_n; 'tiny-ir' is irevnet");
    assertThat(r.out()).isEmpty();
    assertThat(dir.resolve("analysis/layer-probes.json")).doesNotExist();
  }

  @Test
  void probesInterpolationAndStabilityOnATinyRun(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String run = tiny.dir().toString();
    long before = System.nanoTime();
    MainTest.Run r = run("probe", "--run", run, "--nuisance", "--epochs", "2", "--train-count", "50", "--seed", "1");
    double wall = (System.nanoTime() - before) / 1e9;
    assertThat(r.code()).as(r.err()).isZero();
    Path json = tiny.dir().resolve("analysis/nuisance-probe.json");
    assertThat(r.out()).contains("nuisance accuracy").contains(json.toString());
    JsonNode j = Json.MAPPER.readTree(json.toFile());
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(j.get("train_count").asInt()).isEqualTo(50);
    assertThat(j.get("test_count").asInt()).isEqualTo(20);
    assertThat(j.get("nuisance_dims").asInt()).isEqualTo(1014);
    double logit = j.get("logit_accuracy").asDouble(), nuis = j.get("nuisance_accuracy").asDouble();
    assertThat(logit).isBetween(0.0, 1.0);
    assertThat(nuis).isBetween(0.0, 1.0);
    assertThat(j.get("excess").asDouble()).isCloseTo(nuis - logit, offset(1e-12));
    // The probe's seconds within the total (z of both splits too), within the command's wall time.
    assertThat(j.get("seconds").asDouble()).isPositive().isLessThanOrEqualTo(j.get("total_seconds").asDouble());
    assertThat(j.get("total_seconds").asDouble()).isLessThanOrEqualTo(wall);
    assertThat(j.get("recipe").get("hidden").toString()).isEqualTo("[512,512]");
    assertThat(j.get("recipe").get("epochs").asInt()).isEqualTo(2);
    assertThat(j.get("recipe").get("seed").asInt()).isEqualTo(1);

    assertThat(j.get("recipe").get("weight_decay").asDouble()).isZero();
    // The fixed recipe's file has no whitened field (as written before --whiten); --whiten's says so.
    assertThat(j.has("whitened")).isFalse();
    // Nor any of --linear's (the reader's own z computation: the nuisance probe's alone).
    assertThat(j.has("linear_accuracy") || j.has("linear_probe")).isFalse();
    MainTest.Run white = run("probe", "--run", run, "--nuisance", "--whiten", "--linear", "--epochs", "2",
        "--train-count", "50", "--seed", "1", "--out", tmp.resolve("white").toString());
    assertThat(white.code()).as(white.err()).isZero();
    assertThat(white.out()).contains("nuisance probe (whitened z_n): ", "linear reader (standardised z_n): ");
    JsonNode w = Json.MAPPER.readTree(tmp.resolve("white/nuisance-probe.json").toFile());
    assertThat(w.get("whitened").asBoolean()).isTrue();
    assertThat(w.get("recipe")).isEqualTo(j.get("recipe"));
    // The recipe reads as without --linear; the linear reader's penalty is drawn by the same --seed.
    assertThat(w.get("linear_accuracy").asDouble()).isBetween(0.0, 1.0);
    assertThat(w.get("linear_correct")).hasSize(20);
    assertThat(w.get("linear_accuracy_ci95")).hasSize(2);
    assertThat(w.get("linear_probe").get("seed").asInt()).isEqualTo(1);
    assertThat(w.get("linear_probe").get("penalties").toString()).contains(w.get("linear_l2").toString());

    long layBefore = System.nanoTime();
    MainTest.Run lay = run("probe", "--run", run, "--layers", "--train-count", "40", "--seed", "3", "--out",
        tmp.resolve("lay").toString());
    double layWall = (System.nanoTime() - layBefore) / 1e9;
    assertThat(lay.code()).as(lay.err()).isZero();
    assertThat(lay.out()).contains("1-NN").contains("PCA");
    JsonNode l = Json.MAPPER.readTree(tmp.resolve("lay/layer-probes.json").toFile());
    assertThat(l.get("train_count").asInt()).isEqualTo(40);
    assertThat(l.get("seconds").asDouble()).isPositive().isLessThanOrEqualTo(l.get("total_seconds").asDouble());
    assertThat(l.get("total_seconds").asDouble()).isLessThanOrEqualTo(layWall);
    assertThat(l.get("test_count").asInt()).isEqualTo(20);
    assertThat(l.get("stages")).hasSize(2);
    assertThat(l.get("stages").get(1).get("shape").toString()).isEqualTo("[16,8,8]");
    assertThat(l.get("stages").get(1).get("features").asInt()).isEqualTo(16);
    for (JsonNode s : l.get("stages")) {
      assertThat(s.get("linear_accuracy").asDouble()).isBetween(0.0, 1.0);
      assertThat(s.get("nearest_neighbour_accuracy").asDouble()).isBetween(0.0, 1.0);
    }
    assertThat(l.get("pca").findValues("components")).extracting(JsonNode::asInt).containsExactly(1, 2, 4, 8, 16);
    assertThat(l.get("pca").get(4).get("explained_variance").asDouble()).isCloseTo(1.0,
        offset(1e-6));
    // Each linear probe's penalty is one of those it may choose, drawn held-out examples by --seed.
    JsonNode linear = l.get("linear_probe");
    assertThat(linear.get("seed").asInt()).isEqualTo(3);
    assertThat(linear.get("all_converged").asBoolean()).isTrue();
    assertThat(l.get("stages").findValues("linear_l2")).hasSize(2).allMatch(p -> linear.get("penalties").toString()
        .contains(p.toString()));
    // One training image leaves none to choose a penalty on: refused before any feature, naming the option.
    MainTest.Run one = run("probe", "--run", run, "--layers", "--train-count", "1", "--out", tmp.resolve("one").toString());
    assertThat(one.code()).isEqualTo(2);
    assertThat(one.err().strip()).isEqualTo("irevnet probe: --layers needs at least 2 training images (a probe is"
        + " fitted on some and its penalty chosen on the others), got 1 (--train-count)");
    assertThat(tmp.resolve("one/layer-probes.json")).doesNotExist();
    // So does --linear's reader, before z is computed (it failed with softmax regression's own words).
    MainTest.Run oneLinear = run("probe", "--run", run, "--nuisance", "--linear", "--train-count", "1", "--out",
        tmp.resolve("one").toString());
    assertThat(oneLinear.code()).isEqualTo(2);
    assertThat(oneLinear.err().strip()).isEqualTo("irevnet probe: --linear needs at least 2 training images (a probe is"
        + " fitted on some and its penalty chosen on the others), got 1 (--train-count)");
    assertThat(tmp.resolve("one/nuisance-probe.json")).doesNotExist();
    // Two are enough (one to fit, one to choose the penalty on) ...
    MainTest.Run twoLinear = run("probe", "--run", run, "--nuisance", "--linear", "--train-count", "2", "--epochs", "1",
        "--out", tmp.resolve("two").toString());
    assertThat(twoLinear.code()).as(twoLinear.err()).isZero();
    JsonNode two = Json.MAPPER.readTree(tmp.resolve("two/nuisance-probe.json").toFile());
    assertThat(two.get("train_count").asInt()).isEqualTo(2);
    assertThat(two.get("linear_correct")).hasSize(20);
    // ... and a training split of one image is named as the cause rather than --train-count.
    Path oneImage = org.irevnet.testing.TinyData.idx(tmp.resolve("data-of-one"), 1, 20);
    MainTest.Run ofOne = run("probe", "--run", run, "--data", oneImage.toString(), "--nuisance", "--linear", "--out",
        tmp.resolve("one").toString());
    assertThat(ofOne.code()).isEqualTo(2);
    assertThat(ofOne.err().strip()).isEqualTo("irevnet probe: --linear needs at least 2 training images (a probe is"
        + " fitted on some and its penalty chosen on the others), got 1 (data-of-one/train has 1)");
    // The nuisance probe's recipe options say so rather than change nothing.
    MainTest.Run layEpochs = run("probe", "--run", run, "--layers", "--epochs", "2");
    assertThat(layEpochs.code()).isEqualTo(2);
    assertThat(layEpochs.err()).contains("--epochs applies to --nuisance only");
    MainTest.Run layDecay = run("probe", "--run", run, "--layers", "--weight-decay", "0.05");
    assertThat(layDecay.code()).isEqualTo(2);
    assertThat(layDecay.err()).contains("--weight-decay applies to --nuisance only");
    MainTest.Run layWhite = run("probe", "--run", run, "--layers", "--whiten");
    assertThat(layWhite.code()).isEqualTo(2);
    assertThat(layWhite.err().strip()).isEqualTo("irevnet probe: --whiten applies to --nuisance only: it sets what the"
        + " nuisance probe reads");
    MainTest.Run layLinear = run("probe", "--run", run, "--layers", "--linear", "--out", tmp.resolve("ll").toString());
    assertThat(layLinear.code()).isEqualTo(2);
    assertThat(layLinear.err().strip()).isEqualTo("irevnet probe: --linear applies to --nuisance only: it adds a linear"
        + " reader of z_n to the nuisance probe (the probes of --layers are linear already)");
    assertThat(tmp.resolve("ll")).doesNotExist();
    MainTest.Run badDecay = run("probe", "--run", run, "--layers", "--weight-decay", "-1");
    assertThat(badDecay.code()).isEqualTo(2);
    assertThat(badDecay.err()).contains("--weight-decay").doesNotContain("\n\tat ");
    // Both: the layer probes first, as the README and the option names have them, each followed
    // by the file it wrote. The nuisance probe's came first. --whiten reaches the nuisance probe
    // on the z both share too.
    Path both = tmp.resolve("both");
    MainTest.Run lb = run("probe", "--run", run, "--nuisance", "--layers", "--whiten", "--linear", "--epochs", "1",
        "--train-count", "30", "--out", both.toString());
    assertThat(lb.code()).as(lb.err()).isZero();
    assertThat(lb.out()).containsSubsequence("stage  layer", "PCA", both.resolve("layer-probes.json").toString(),
        "nuisance probe (whitened z_n): ", "linear reader (standardised z_n): ", both.resolve("nuisance-probe.json").toString());
    JsonNode bn = Json.MAPPER.readTree(both.resolve("nuisance-probe.json").toFile());
    assertThat(bn.get("whitened").asBoolean()).isTrue();
    // --linear reaches the nuisance probe on the shared z as well.
    assertThat(bn.get("linear_correct")).hasSize(20);
    // --weight-decay reaches the nuisance probe's recipe, and --test-count the layer probes as well as
    // the nuisance probe (both on one z again): every other test refused the first, and gave --layers
    // no --test-count, so either could go unused unseen.
    Path counted = tmp.resolve("counted");
    MainTest.Run tc = run("probe", "--run", run, "--layers", "--nuisance", "--weight-decay", "0.05", "--epochs", "1",
        "--train-count", "30", "--test-count", "10", "--out", counted.toString());
    assertThat(tc.code()).as(tc.err()).isZero();
    JsonNode cl = Json.MAPPER.readTree(counted.resolve("layer-probes.json").toFile());
    JsonNode cn = Json.MAPPER.readTree(counted.resolve("nuisance-probe.json").toFile());
    assertThat(cl.get("test_count").asInt()).isEqualTo(10);
    assertThat(cn.get("test_count").asInt()).isEqualTo(10);
    assertThat(cn.get("recipe").get("weight_decay").asDouble()).isEqualTo(0.05);

    MainTest.Run ip = run("interpolate", "--run", run, "--count", "2", "--steps", "3", "--seed", "2");
    assertThat(ip.code()).as(ip.err()).isZero();
    JsonNode ij = Json.MAPPER.readTree(tiny.dir().resolve("analysis/interpolate.json").toFile());
    assertThat(ij.get("pairs")).hasSize(2);
    for (JsonNode p : ij.get("pairs")) {
      assertThat(p.get("label_from").asInt()).isNotEqualTo(p.get("label_to").asInt());
      assertThat(p.get("full")).hasSize(3);
      assertThat(p.get("nuisance")).hasSize(3);
      assertThat(p.get("full").get(2).get("alpha").asDouble()).isEqualTo(1.0);
      for (JsonNode st : p.get("nuisance")) assertThat(st.get("max_logit_drift").asDouble()).isLessThan(1e-4);
      assertThat(p.get("nuisance").get(2).get("model_class").asInt())
          .isEqualTo(p.get("nuisance").get(0).get("model_class").asInt());
    }
    BufferedImage ipng = ImageIO.read(tiny.dir().resolve("analysis/interpolate.png").toFile());
    assertThat(ipng.getWidth()).isEqualTo(3 * 96 + 4 * 2);
    assertThat(ipng.getHeight()).isEqualTo(4 * 96 + 5 * 2);
    MainTest.Run ip1 = run("interpolate", "--run", run, "--count", "2", "--steps", "3", "--seed", "2", "--grid", "1",
        "--out", tmp.resolve("ip1").toString());
    assertThat(ip1.code()).as(ip1.err()).isZero();
    assertThat(Json.MAPPER.readTree(tmp.resolve("ip1/interpolate.json").toFile())).isEqualTo(ij);
    assertThat(ImageIO.read(tmp.resolve("ip1/interpolate.png").toFile()).getHeight()).isEqualTo(2 * 96 + 3 * 2);
    assertThat(ip1.out()).contains("... 1 more pairs in interpolate.json");

    MainTest.Run st = run("invert", "--run", run, "--count", "2", "--stability", "--iterations", "3",
        "--out", tmp.resolve("st").toString());
    assertThat(st.code()).as(st.err()).isZero();
    assertThat(st.out()).contains("Lip_inv max");
    JsonNode sj = Json.MAPPER.readTree(tmp.resolve("st/invert.json").toFile());
    assertThat(sj.get("stability").findValues("stage")).extracting(JsonNode::asText).containsExactly("0", "1", "z");
    assertThat(sj.get("ill_conditioned_above").asDouble()).isEqualTo(1000.0);
    for (JsonNode row : sj.get("stability")) {
      assertThat(row.get("method").asText()).as("--iterations alone means Lanczos").isEqualTo("lanczos");
      assertThat(row.get("iterations").asInt()).isEqualTo(3);
      assertThat(row.get("condition_max").asDouble()).isGreaterThanOrEqualTo(1.0);
      assertThat(row.get("ill_conditioned").asBoolean()).isEqualTo(row.get("condition_max").asDouble() > 1000);
    }
    assertThat(sj.get("stability_images").toString()).isEqualTo("[0,1]");
    MainTest.Run at = run("invert", "--run", run, "--count", "3", "--stability", "--iterations", "3",
        "--stability-images", "2,worst,2", "--out", tmp.resolve("at").toString());
    assertThat(at.code()).as(at.err()).isZero();
    JsonNode aj = Json.MAPPER.readTree(tmp.resolve("at/invert.json").toFile());
    long worst = aj.get("z").get("float32").get("worst_image").asLong();
    assertThat(aj.get("stability_images").toString()).isEqualTo(worst == 2 ? "[2]" : "[2," + worst + "]");
    assertThat(at.out()).contains("at images 2");
    // By default the tiny model's 1,024-dimensional maps get their whole Jacobian: exact, so its
    // constants are at least Lanczos's lower bounds at the same image.
    MainTest.Run ex = run("invert", "--run", run, "--count", "3", "--stability", "--stability-images", "2",
        "--out", tmp.resolve("ex").toString());
    assertThat(ex.code()).as(ex.err()).isZero();
    assertThat(ex.out()).contains(" jacobian ").doesNotContain("lower bound");
    // Its status line (stderr is no terminal here: one line a tenth) counts the 2 stages' 1,024
    // rows, 32 a backward pass; --no-progress (below) leaves stderr empty.
    assertThat(ex.err()).contains("stability: stage 0, backward pass 1/64").contains("stability: stage 1, backward pass 64/64");
    JsonNode ej = Json.MAPPER.readTree(tmp.resolve("ex/invert.json").toFile());
    MainTest.Run lz = run("invert", "--run", run, "--count", "3", "--stability", "--stability-images", "2",
        "--stability-method", "lanczos", "--no-progress", "--out", tmp.resolve("lz").toString());
    assertThat(lz.code()).as(lz.err()).isZero();
    assertThat(lz.err()).isEmpty();
    JsonNode lj = Json.MAPPER.readTree(tmp.resolve("lz/invert.json").toFile());
    for (int i = 0; i < 3; i++) {
      JsonNode e = ej.get("stability").get(i), lower = lj.get("stability").get(i);
      assertThat(e.get("method").asText()).isEqualTo("jacobian");
      assertThat(e.get("iterations").isNull()).as("Lanczos steps, none here").isTrue();
      assertThat(lower.get("method").asText()).isEqualTo("lanczos");
      assertThat(lower.get("iterations").asInt()).isEqualTo(20);
      assertThat(lower.get("inverse_lipschitz_max").asDouble())
          .isLessThanOrEqualTo(e.get("inverse_lipschitz_max").asDouble() * (1 + 1e-6));
      assertThat(lower.get("forward_lipschitz_max").asDouble())
          .isLessThanOrEqualTo(e.get("forward_lipschitz_max").asDouble() * (1 + 1e-6));
    }
    String[][] refusals = {
        {"--stability-images 1", "--stability-images needs --stability"},
        {"--iterations 5", "--iterations needs --stability"},
        {"--stability-count 2", "--stability-count needs --stability"},
        {"--ill-conditioned 10", "--ill-conditioned needs --stability"},
        {"--stability --stability-count 2 --stability-images 0", "--stability-count and --stability-images exclude each"
            + " other (the images --stability-images names are the ones estimated at)"},
        {"--stability --stability-images x", "--stability-images takes image indices or 'worst', got 'x'"},
        {"--stability --stability-images -1", "--stability-images must be at least 0, got -1"},
        {"--stability --stability-images ,", "--stability-images: no images given"},
        {"--stability --stability-images 3", "--stability-images 3 is beyond the 3 inverted images (--count)"},
        {"--stability-method lanczos", "--stability-method needs --stability"},
        {"--stability --stability-method exact", "--stability-method must be auto, jacobian or lanczos, got exact"},
        {"--stability --stability-method jacobian --iterations 3", "--iterations counts Lanczos steps, and"
            + " --stability-method jacobian takes none (it is exact)"}};
    for (String[] e : refusals) {
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("invert", "--run", run, "--count", "3"));
      args.addAll(java.util.List.of(e[0].split(" ")));
      MainTest.assertRefused(args, e[1]);
    }

    MainTest.Run plain = run("invert", "--run", run, "--count", "1", "--out", tmp.resolve("plain").toString());
    assertThat(plain.code()).as(plain.err()).isZero();
    assertThat(Json.MAPPER.readTree(tmp.resolve("plain/invert.json").toFile()).has("stability")).isFalse();

    MainTest.Run none = run("probe", "--run", run);
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err().strip().lines()).hasSize(1);
    assertThat(none.err()).contains("--layers, --nuisance");
    MainTest.Run steps = run("interpolate", "--run", run, "--steps", "1");
    assertThat(steps.code()).isEqualTo(2);
    assertThat(steps.err()).contains("--steps must be at least 2, got 1");
    MainTest.Run bad = run("probe", "--run", run, "--nuisance", "--train-count", "0");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("at least 1");
  }

  @Test
  void badInputsAreOneLineErrorsWithExitCode2(@TempDir Path tmp) throws Exception {
    for (String cmd : new String[] {"invert", "metamers", "probe --nuisance", "probe --layers", "interpolate"}) {
      MainTest.Run r = run(args(cmd, "--run", tmp.resolve("missing").toString()));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines()).hasSize(1);
      assertThat(r.err()).contains("no such run directory");
      Path file = Files.writeString(tmp.resolve("a-file.txt"), "x");
      r = run(args(cmd, "--run", file.toString()));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).contains(file + ": not a directory");

      Path empty = Files.createDirectories(tmp.resolve("empty"));
      r = run(args(cmd, "--run", empty.toString()));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines()).hasSize(1);
      assertThat(r.err()).contains("no checkpoint");
    }
    // probe's counts and recipe out of range, named before the run is looked for (it is missing here).
    String[][] outOfRange = {{"--train-count", "0", "must be at least 1, got 0"},
        {"--test-count", "0", "must be at least 1, got 0"}, {"--epochs", "0", "must be at least 1, got 0"},
        {"--weight-decay", "-1", "must be at least 0, got -1.0"}};
    for (String[] o : outOfRange) {
      MainTest.Run r = run("probe", "--run", tmp.resolve("missing").toString(), "--nuisance", o[0], o[1]);
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet probe: " + o[0] + " " + o[2]);
    }
    // probe applies the common options (CommonOptions.apply) before the run is looked for: --threads' ceiling.
    MainTest.assertRefused(java.util.List.of("probe", "--run", tmp.resolve("missing").toString(), "--layers", "--threads",
        "100000"), "--threads must be at most 1024, got 100000");
  }

  /**
   * An output directory nothing can be written in is refused before the run is loaded: the
   * commands found out only when they wrote their results, after loading the model and all the
   * work (minutes of it). The runs here do not exist, so a check after loading would name them
   * instead. The check makes nothing: a usable --out that does not exist yet is not left behind
   * by a run refused afterwards, and no file of the check is left where it looked.
   */
  @Test
  void anUnusableOutputDirectoryIsRefusedBeforeTheRunLoads(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    String missing = tmp.resolve("missing").toString();
    // The wording data shortcut already gives for the same three cases; as root a chmod would not
    // stop the writes, /proc does (it makes nothing on request).
    String[][] outs = {
        {file.toString(), file + ": exists and is not a directory"},
        {file.resolve("sub").toString(), file + ": exists and is not a directory"},
        {"/proc/irevnet-out", "/proc/irevnet-out: no such file or directory"}};
    for (String cmd : COMMANDS) {
      for (String[] o : outs) {
        MainTest.Run r = run(args(cmd, "--run", missing, "--out", o[0], "--no-progress"));
        assertThat(r.code()).as(cmd + " --out " + o[0] + ": " + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": " + o[1]);
      }
      MainTest.Run r = run(args(cmd, "--run", missing, "--out", tmp.resolve("new/analysis").toString(), "--no-progress"));
      assertThat(r.code()).as(cmd).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": " + missing + ": no such run directory");
    }
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).as("nothing made, nothing left").containsExactly("a-file");
    }
  }

  /**
   * Without --out the results go to RUN_DIR/analysis (for --model, to NAME-analysis/analysis next
   * to the zip): checked alike before loading. The run directory here has no checkpoint and the
   * zip is no model, so loading first would have said that instead.
   */
  @Test
  void theDefaultOutputDirectoryIsCheckedBeforeTheRunLoads(@TempDir Path tmp) throws Exception {
    Path runDir = Files.createDirectories(tmp.resolve("run"));
    Path inTheWay = Files.writeString(runDir.resolve("analysis"), "x");
    Path zip = Files.writeString(tmp.resolve("m.zip"), "not a model");
    Path modelDir = Files.writeString(tmp.resolve("m-analysis"), "x");
    for (String cmd : COMMANDS) {
      MainTest.Run r = run(args(cmd, "--run", runDir.toString(), "--no-progress"));
      assertThat(r.code()).as(cmd + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": " + inTheWay + ": exists and is not a directory");
      if (!TAKE_MODELS.contains(cmd)) continue; // the others need an invertible model: no --model
      r = run(args(cmd, "--model", zip.toString(), "--data", "no-such-data", "--no-progress"));
      assertThat(r.code()).as(cmd + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": " + modelDir + ": exists and is not a directory");
    }
  }

  /**
   * Results on other data need a directory of their own (--out), as eval's need --as: they went
   * into RUN_DIR/analysis over the run's own. Checked before loading (the run here has no
   * checkpoint, which the run's own data gets as far as).
   */
  @Test
  void resultsOnOtherDataNeedAnOutputDirectoryOfTheirOwn(@TempDir Path tmp) throws Exception {
    Path own = org.irevnet.testing.TinyData.idx(tmp.resolve("own"), 10, 4), other = org.irevnet.testing.TinyData.idx(tmp.resolve("other"), 10, 4);
    Path runDir = Files.createDirectories(tmp.resolve("run"));
    Files.writeString(runDir.resolve("config.json"), "{\"config\": {\"data\": \"" + own + "\"}}");
    for (String cmd : COMMANDS) {
      if (cmd.equals("sample")) continue; // reads no images and refuses --data (DensityCommandsTest)
      // --out naming the run's own analysis/ is the same place: it went over the run's own results.
      for (String[] out : new String[][] {{}, {"--out", runDir.resolve("analysis").toString()},
          {"--out", runDir.resolve("analysis/.").toString()}}) {
        MainTest.Run r = run(args(cmd, java.util.stream.Stream.concat(java.util.stream.Stream.of("--run",
            runDir.toString(), "--data", other.toString(), "--no-progress"), java.util.Arrays.stream(out)).toArray(String[]::new)));
        assertThat(r.code()).as(cmd + " " + String.join(" ", out) + ": " + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": --data " + other + " is not the data "
            + runDir + " was trained on: give --out DIR for these results, so that they do not replace the run's own in "
            + runDir.resolve("analysis"));
      }
      MainTest.Run r;
      for (String[] given : new String[][] {{"--data", own.toString()}, {"--data", other.toString(), "--out",
          tmp.resolve("elsewhere").toString()}}) {
        r = run(args(cmd, java.util.stream.Stream.concat(java.util.stream.Stream.of("--run", runDir.toString(),
            "--no-progress"), java.util.Arrays.stream(given)).toArray(String[]::new)));
        assertThat(r.err()).as(cmd + " " + String.join(" ", given)).contains("no checkpoint");
      }
    }
    assertThat(runDir.resolve("analysis")).doesNotExist();
  }

  /**
   * Another run's analysis/ is refused as --out (checked before loading): its own results were
   * replaced, and its report showed these, made from other weights, as its own.
   */
  @Test
  void anotherRunsAnalysisDirectoryIsRefusedAsTheOutput(@TempDir Path tmp) throws Exception {
    Path runDir = Files.createDirectories(tmp.resolve("run")), otherRun = tmp.resolve("other");
    Path theirs = MainTest.runsAnalysis(otherRun);
    Path result = Files.writeString(theirs.resolve("invert.json"), "{}");
    for (String cmd : COMMANDS) {
      MainTest.Run r = run(args(cmd, "--run", runDir.toString(), "--out", theirs.toString(), "--no-progress"));
      assertThat(r.code()).as(cmd + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": --out " + theirs + " is the analysis"
          + " directory of the run " + otherRun.toAbsolutePath() + ", whose report would show these results as that"
          + " run's own results: give another directory");
    }
    try (var files = Files.list(theirs)) {
      assertThat(files).containsExactly(result);
    }
    assertThat(result).hasContent("{}");
  }

  /**
   * A run directory itself, the run's own or another's, is refused as --out: the results were
   * written beside its config.json, where its report never looks.
   */
  @Test
  void aRunDirectoryItselfIsRefusedAsTheOutput(@TempDir Path tmp) throws Exception {
    Path runDir = Files.createDirectories(tmp.resolve("run")), otherRun = tmp.resolve("other");
    MainTest.runsAnalysis(otherRun);
    Path link = Files.createSymbolicLink(tmp.resolve("latest"), otherRun);
    for (Path out : new Path[] {otherRun, link}) {
      for (String cmd : COMMANDS) {
        MainTest.Run r = run(args(cmd, "--run", runDir.toString(), "--out", out.toString(), "--no-progress"));
        assertThat(r.code()).as(cmd + ": " + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("irevnet " + cmd.split(" ")[0] + ": --out " + out + " is a run directory,"
            + " whose report reads results from its analysis/ only: leave --out out for RUN_DIR/analysis, or give another"
            + " directory");
      }
    }
    try (var files = Files.list(otherRun)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("config.json", "analysis");
    }
  }

  /**
   * A --count (or interpolate's --steps) whose arrays cannot be held is bad input, named in one line
   * with what it would need (exit code 2, nothing written): sample stopped on "integer overflow" (exit
   * code 3), and the commands that draw pairs crashed the JVM in native code.
   */
  @Test
  void aCountTooLargeToHoldIsRefusedNamingTheOption(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String count = "100000000";
    String[][] cases = {{"sample", "the samples "}, {"metamers", "the pairs' images "},
        {"interpolate", "the pairs' images "}, {"attack --attack metamer", "the pairs' images "}};
    Path out = tmp.resolve("out");
    for (String[] c : cases) {
      MainTest.Run r = run(args(c[0], "--run", tiny.dir().toString(), "--count", count, "--out", out.toString(),
          "--no-progress"));
      assertThat(r.code()).as(c[0] + ": " + r.err()).isEqualTo(2);
      // The memory needed (1e8 x 1024 float32 values a pair side, 4 for a sample), or past the
      // largest array on a machine with more memory than that.
      assertThat(r.err().strip()).as(c[0]).startsWith("irevnet " + c[0].split(" ")[0] + ": --count " + count + ": "
          + c[1]).containsPattern("need \\d+\\.\\d GiB|more than one array here can hold").doesNotContain("\n");
      assertThat(out).as(c[0]).doesNotExist();
    }
    // So is interpolate's --steps: every step of a path is an image (float64), and 1e8 of them
    // crashed the JVM in native code (exit code 134).
    MainTest.Run r = run("interpolate", "--run", tiny.dir().toString(), "--count", "1", "--steps", count, "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).startsWith("irevnet interpolate: --steps " + count + ": a path's images ")
        .containsPattern("need \\d+\\.\\d GiB \\(3 float64 arrays|more than one array here can hold")
        .doesNotContain("\n");
    assertThat(out).doesNotExist();
  }

  /**
   * A command's JSON and picture are one result: when the file written second cannot be written (a
   * directory in its place), the first keeps its earlier content. It was once replaced, so the
   * analysis directory held a new JSON beside an old picture, as it did after a stop between the two.
   */
  @Test
  void aResultThatCannotBeWrittenWholeReplacesNoFileOfIt(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String[][] cases = { // command, the file it writes first, the one it writes second
        {"invert --count 2", "invert.json", "invert.png"},
        {"metamers --count 2", "metamers.json", "metamers.png"},
        {"interpolate --count 1 --steps 2", "interpolate.json", "interpolate.png"},
        {"attack --attack fgsm --count 4 --eps 0.1", "attack-fgsm.json", "attack-fgsm.png"},
        {"sample --count 2", "samples-t0.7.png", "samples-t0.7.json"}};
    for (String[] c : cases) {
      Path out = tmp.resolve("out-" + c[1]);
      Path first = Files.writeString(Files.createDirectories(out).resolve(c[1]), "earlier");
      Path second = Files.createDirectories(out.resolve(c[2]));
      Files.writeString(second.resolve("keep.txt"), "k");
      MainTest.Run r = run(args(c[0], "--run", tiny.dir().toString(), "--out", out.toString(), "--no-progress"));
      assertThat(first).as(c[0]).hasContent("earlier");
      assertThat(r.code()).as(c[0] + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet " + c[0].split(" ")[0] + ": " + second + ": is a directory");
      try (var s = Files.list(out)) {
        assertThat(s.map(p -> p.getFileName().toString()).toList()).as(c[0]).containsExactlyInAnyOrder(c[1], c[2]);
      }
    }
  }

  /**
   * A model whose inverse overflows (an actnorm scale of e^-1000, inverted as e^1000: beyond float64,
   * in which interpolate computes its paths): interpolate writes its results, every step marked
   * non-finite, and then, as sample does, exits 1 with one line naming the first such step and the
   * block whose inverse first gave a NaN or infinity. It once exited 0.
   */
  @Test
  void interpolateThroughAnOverflowingInverseWritesItsResultsAndExits1(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path out = tmp.resolve("healthy");
    MainTest.Run healthy = run("interpolate", "--run", tiny.dir().toString(), "--count", "1", "--steps", "3", "--out",
        out.toString());
    assertThat(healthy.code()).as(healthy.err()).isZero();
    assertThat(healthy.err()).isEmpty();

    setFirstActNorm(tiny.dir(), -1000, 0);
    out = tmp.resolve("overflow");
    MainTest.Run r = run("interpolate", "--run", tiny.dir().toString(), "--count", "1", "--steps", "3", "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).containsPattern("^irevnet interpolate: step 0 \\(a = 0\\.00\\) of the full path from test image"
        + " \\d+ to \\d+ is not finite \\(the inverse of block \\d+ \\([^,]+, ActNorm\\) gave \\d+ non-finite"
        + " value\\(s\\) of 1024 from an input whose largest magnitude is \\d\\.\\d{3}e[-+]\\d+\\)$");
    assertThat(r.out()).contains("non-finite");
    JsonNode pair = Json.MAPPER.readTree(out.resolve("interpolate.json").toFile()).get("pairs").get(0);
    for (String path : new String[] {"full", "nuisance"}) {
      assertThat(pair.get(path).findValues("model_class")).as(path).extracting(JsonNode::asInt).containsOnly(-1);
    }
    assertThat(out.resolve("interpolate.png")).exists();
  }

  /**
   * interpolate's nuisance path keeps the logits of x0, as the README says, also on a model whose
   * inverse amplifies rounding (an actnorm scale of e^-14 on half the last stage's channels, as an
   * iCE model contracts directions of z_n, and shifts t that large inputs make large): its images
   * lie far outside [0, 1], where float32 passes lose the logits to rounding. The paths were
   * computed in float32: on a 2-epoch iCE fi-revnet-s the table showed the class changing along the
   * nuisance path (5, 6, 7, 7, 5 where the model says 5 throughout), with drifts of 1e3-1e5.
   */
  @Test
  void interpolateKeepsTheLogitsAlongTheNuisancePathOfAnIllConditionedModel(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    try (var checkpoints = Files.list(tiny.dir().resolve("checkpoints"))) {
      for (Path ckpt : checkpoints.filter(Files::isDirectory).toList()) {
        java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> w = org.irevnet.io.Npz.read(ckpt.resolve("weights.npz"));
        String last = w.keySet().stream().filter(k -> k.endsWith(".logs"))
            .max(java.util.Comparator.comparingInt(k -> Integer.parseInt(k.split("\\.")[1]))).orElseThrow();
        org.nd4j.linalg.api.ndarray.INDArray logs = w.get(last);
        long c = logs.size(1);
        logs.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(c / 2, c))
            .assign(-14);
        // The couplings' shifts t (the second half of their last convolutions, zero at initialisation)
        // made to depend on their inputs: a large input then gives a large t that the output cancels.
        for (String k : new String[] {"layers.1.net.4.weight", "layers.3.net.4.weight"}) {
          org.nd4j.linalg.api.ndarray.INDArray shift = w.get(k);
          long t = shift.size(0);
          shift.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(t / 2, t)).assign(
              org.irevnet.nn.Init.uniform(shift.dataType(), new java.util.Random(1), 0.3, t - t / 2, shift.size(1),
                  shift.size(2), shift.size(3)));
        }
        org.irevnet.io.Npz.write(ckpt.resolve("weights.npz"), w);
        org.irevnet.testing.CheckpointEdits.rehash(ckpt, "weights.npz");
      }
    }
    Path out = tmp.resolve("ill");
    MainTest.Run r = run("interpolate", "--run", tiny.dir().toString(), "--count", "3", "--steps", "5", "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    for (JsonNode pair : Json.MAPPER.readTree(out.resolve("interpolate.json").toFile()).get("pairs")) {
      JsonNode steps = pair.get("nuisance");
      for (JsonNode st : steps) {
        // Float64 rounding (float32 missed by 3.6e-5 to 1.2e-4, and re-encoded 6.5e-3 off).
        assertThat(st.get("max_logit_drift").asDouble()).as(pair.toString()).isLessThan(1e-6);
        assertThat(st.get("reencode_error").asDouble()).as(pair.toString()).isLessThan(1e-6);
        assertThat(st.get("model_class").asInt()).as(pair.toString()).isEqualTo(steps.get(0).get("model_class").asInt());
      }
    }
  }

  /**
   * invert's check: a reconstruction that is not finite (an actnorm scale of e^-100, inverted as
   * e^100 beyond float32) names the first one and the block whose inverse gave it; one that is
   * finite but not exact in float64 (x * e^-40 + 1 rounds to 1: x is lost, and the inverse
   * multiplies the rounding of the later blocks by e^40) names the largest error and the bound.
   * Both write their results and exit 1; invert once exited 0.
   */
  @Test
  void invertExits1WhenAReconstructionIsNotFiniteOrNotExactInFloat64(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String run = tiny.dir().toString();
    setFirstActNorm(tiny.dir(), -100, 0);
    Path overflow = tmp.resolve("overflow");
    MainTest.Run r = run("invert", "--run", run, "--count", "3", "--out", overflow.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).containsPattern("^irevnet invert: the float32 reconstruction of image [0-2] from stage 0's output"
        + " is not finite \\(the inverse of block \\d+ \\([^,]+, ActNorm\\) gave \\d+ non-finite value\\(s\\) of 1024"
        + " from an input whose largest magnitude is \\d\\.\\d{3}e[-+]\\d+\\)$");
    JsonNode o = Json.MAPPER.readTree(overflow.resolve("invert.json").toFile());
    assertThat(o.get("stages").get(0).get("float32").get("max_abs_err").isNumber()).isFalse(); // NaN or Infinity
    assertThat(overflow.resolve("invert.png")).exists();

    setFirstActNorm(tiny.dir(), -40, 1);
    Path inexact = tmp.resolve("inexact");
    r = run("invert", "--run", run, "--count", "3", "--out", inexact.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    JsonNode e = Json.MAPPER.readTree(inexact.resolve("invert.json").toFile());
    double bound = 1e-6 * (1 + largestPixel(tiny.data(), 3));
    assertThat(e.get("float64_bound").asDouble()).isCloseTo(bound, offset(1e-15));
    // The largest float64 error is the one named: by the first row (stages in order, then z) that has it.
    java.util.List<JsonNode> rows = new java.util.ArrayList<>();
    e.get("stages").forEach(rows::add);
    rows.add(e.get("z"));
    JsonNode worst = rows.get(0);
    for (JsonNode row : rows) {
      if (row.get("float64").get("max_abs_err").asDouble() > worst.get("float64").get("max_abs_err").asDouble()) worst = row;
    }
    double err = worst.get("float64").get("max_abs_err").asDouble();
    assertThat(err).isEqualTo(e.get("max_abs_err_f64").asDouble()).isGreaterThan(bound).isLessThan(Double.MAX_VALUE);
    String from = worst.get("stage").asText().equals("z") ? "z" : "stage " + worst.get("stage").asText() + "'s output";
    assertThat(r.err().strip()).isEqualTo(String.format(java.util.Locale.ROOT, "irevnet invert: the float64"
        + " reconstruction of image %d from %s is %.2e off, beyond float64_bound %.2e: an inverse is wrong, or the"
        + " model amplifies rounding more than about 1e10 times (--stability tells which)",
        worst.get("float64").get("worst_image").asInt(), from, err, bound));
    assertThat(inexact.resolve("invert.png")).exists();
  }

  /** The largest pixel of the first {@code count} test images of a {@link org.irevnet.testing.TinyData} set, in [0, 1]. */
  private static double largestPixel(Path data, int count) throws java.io.IOException {
    byte[] idx = Files.readAllBytes(data.resolve("t10k-images-idx3-ubyte"));
    int max = 0;
    for (int i = 16; i < 16 + count * 28 * 28; i++) max = Math.max(max, idx[i] & 0xff);
    return max / 255.0;
  }

  /**
   * Sets the log-scale and bias of the run's first actnorm, in every channel and in every
   * checkpoint (their manifests kept right): {@code y = x * exp(logs) + b}, inverted as {@code x =
   * (y - b) * exp(-logs)}.
   */
  static void setFirstActNorm(Path runDir, double logs, double bias) throws java.io.IOException {
    try (var checkpoints = Files.list(runDir.resolve("checkpoints"))) {
      for (Path ckpt : checkpoints.filter(Files::isDirectory).toList()) {
        java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> w = org.irevnet.io.Npz.read(ckpt.resolve("weights.npz"));
        String scale = w.keySet().stream().filter(k -> k.endsWith(".logs")).findFirst().orElseThrow(
            () -> new AssertionError("no actnorm among " + w.keySet()));
        String shift = scale.substring(0, scale.length() - "logs".length()) + "b";
        w.get(scale).assign(logs);
        w.get(shift).assign(bias);
        org.irevnet.io.Npz.write(ckpt.resolve("weights.npz"), w);
        org.irevnet.testing.CheckpointEdits.rehash(ckpt, "weights.npz");
      }
    }
  }

  /** The commands that write into --out (default RUN_DIR/analysis), with what they need besides a run. */
  private static final String[] COMMANDS = {"attack --attack fgsm", "interpolate", "invert", "metamers", "probe --layers",
      "sample"};

  /** Those of {@link #COMMANDS} that also take a DL4J model zip (--model). */
  private static final java.util.Set<String> TAKE_MODELS = java.util.Set.of("attack --attack fgsm", "probe --layers");

  /** A command (possibly with flags, space separated) followed by more arguments. */
  static String[] args(String cmd, String... more) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(cmd.split(" ")), java.util.Arrays.stream(more))
        .toArray(String[]::new);
  }
}
