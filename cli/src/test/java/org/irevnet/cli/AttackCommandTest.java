package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.irevnet.stats.Proportions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The attack command on a tiny trained run: JSON shape, the image grid, bad input. */
class AttackCommandTest {

  @Test
  void attacksOnATinyRun(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String runDir = tiny.dir().toString();

    MainTest.Run r = run("attack", "--run", runDir, "--attack", "pgd-linf", "--eps", "0.2,0.05", "--steps", "3",
        "--count", "6", "--batch", "4", "--grid", "3", "--random-start", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    Path json = tiny.dir().resolve("analysis/attack-pgd-linf.json");
    assertThat(r.out()).contains(json.toString());
    JsonNode j = Json.MAPPER.readTree(json.toFile());
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(j.get("attack").asText()).isEqualTo("pgd-linf");
    assertThat(j.get("norm").asText()).isEqualTo("linf");
    assertThat(j.get("count").asInt()).isEqualTo(6);
    assertThat(j.get("steps").asInt()).isEqualTo(3);
    assertThat(j.get("random_start").asBoolean()).isTrue();
    assertThat(j.get("targeted").isNull()).isTrue();
    assertThat(j.get("monotone").asBoolean()).isTrue();
    assertThat(j.get("sanity").get("passed").asBoolean()).isTrue();
    assertThat(j.get("sanity").get("model_unchanged").asBoolean()).isTrue();
    assertThat(j.get("timing").get("seconds").asDouble()).isPositive();
    JsonNode curve = j.get("curve");
    assertThat(curve).hasSize(3);
    assertThat(curve.get(0).get("eps").asDouble()).isZero();
    assertThat(curve.get(0).get("accuracy").asDouble()).isEqualTo(j.get("clean_accuracy").asDouble());
    assertThat(curve.get(0).get("max_linf").asDouble()).isZero();
    for (int k = 1; k < 3; k++) {
      JsonNode p = curve.get(k);
      assertThat(p.get("max_linf").asDouble()).isLessThanOrEqualTo(p.get("eps").asDouble() + 1e-6);
      assertThat(p.get("mean_l2").asDouble()).isPositive();
      assertThat(p.get("max_abs_padding").asDouble()).isZero();
      assertThat(p.get("min_pixel").asDouble()).isGreaterThanOrEqualTo(0);
      assertThat(p.get("max_pixel").asDouble()).isLessThanOrEqualTo(1);
      assertThat(p.get("accuracy").asDouble()).isLessThanOrEqualTo(curve.get(k - 1).get("accuracy").asDouble());
    }
    assertThat(curve.get(1).get("eps").asDouble()).isEqualTo(0.05);
    // Every accuracy's 95% interval over the 6 attacked images.
    assertCi95(j.get("clean_accuracy_ci95"), j.get("clean_accuracy").asDouble(), 6);
    for (JsonNode p : curve) {
      assertCi95(p.get("accuracy_ci95"), p.get("accuracy").asDouble(), 6);
      assertCi95(p.get("accuracy_at_eps_ci95"), p.get("accuracy_at_eps").asDouble(), 6);
      assertThat(p.has("target_rate_ci95") || p.has("success_rate_ci95")).as("untargeted, no invariance attack").isFalse();
    }
    // An empty list once ran epsilon 0 alone and replaced this report with it.
    String before = Files.readString(json);
    MainTest.Run none = run("attack", "--run", runDir, "--attack", "pgd-linf", "--eps", ",", "--no-progress");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err().strip()).isEqualTo("irevnet attack: --eps: no radii given");
    assertThat(json).hasContent(before);
    BufferedImage png = ImageIO.read(tiny.dir().resolve("analysis/attack-pgd-linf.png").toFile());
    assertThat(png.getWidth()).isEqualTo(3 * 96 + 4 * 2);
    assertThat(png.getHeight()).isEqualTo(5 * 96 + 6 * 2);   // clean, then 2 rows per nonzero epsilon

    MainTest.Run mt = run("attack", "--run", runDir, "--attack", "pgd-linf", "--eps", "0.05", "--steps", "2",
        "--count", "4", "--multi-targeted", "--no-progress");
    assertThat(mt.code()).as(mt.err()).isZero();
    JsonNode multi = Json.MAPPER.readTree(tiny.dir().resolve("analysis/attack-pgd-linf-multi-targeted.json").toFile());
    assertThat(multi.get("multi_targeted").asBoolean()).isTrue();
    assertThat(multi.get("curve").get(1).get("max_linf").asDouble()).isLessThanOrEqualTo(0.05 + 1e-6);
    assertThat(j.get("multi_targeted").asBoolean()).isFalse();

    // A target outside the model's classes is refused once the run is loaded; "next" is aimed at.
    for (String bad : new String[] {"10", "x"}) {
      MainTest.assertRefused(java.util.List.of("attack", "--run", runDir, "--attack", "fgsm", "--targeted", bad, "--count",
          "2", "--no-progress"), "--targeted must be next, random or a class in 0..9, got '" + bad + "'");
    }
    MainTest.Run tg = run("attack", "--run", runDir, "--attack", "fgsm", "--targeted", "next", "--loss", "margin",
        "--eps", "0.1", "--count", "2", "--no-progress");
    assertThat(tg.code()).as(tg.err()).isZero();
    JsonNode t = Json.MAPPER.readTree(tiny.dir().resolve("analysis/attack-fgsm-targeted.json").toFile());
    assertThat(t.get("targeted").asText()).isEqualTo("next");
    assertThat(t.get("loss").asText()).isEqualTo("margin");
    assertThat(t.get("norm").asText()).isEqualTo("linf");
    assertThat(t.get("steps").isNull()).as("fgsm takes no steps").isTrue();
    assertThat(t.get("random_start").isNull()).isTrue();
    assertThat(t.get("image").asText()).isEqualTo("attack-fgsm-targeted.png");
    assertThat(tiny.dir().resolve("analysis/attack-fgsm-targeted.png")).exists();
    // "next" is never the label: the target rate is over both images.
    assertCi95(t.get("curve").get(1).get("target_rate_ci95"), t.get("curve").get(1).get("target_rate").asDouble(), 2);

    Path out = tmp.resolve("fm");
    MainTest.Run fm = run("attack", "--run", runDir, "--attack", "feature-match", "--layer", "0", "--eps", "0.1",
        "--steps", "3", "--count", "4", "--out", out.toString());
    assertThat(fm.code()).as(fm.err()).isZero();
    JsonNode f = Json.MAPPER.readTree(out.resolve("attack-feature-match.json").toFile());
    assertThat(f.get("layer").asInt()).isZero();
    assertThat(f.get("curve").get(0).get("representation_distance").asDouble()).isEqualTo(1.0);
    assertThat(f.get("curve").get(1).get("representation_distance").asDouble()).isLessThan(1.0);
    assertThat(f.get("curve").get(1).get("success_rate").isNumber()).isTrue();
    assertCi95(f.get("curve").get(1).get("success_rate_ci95"), f.get("curve").get(1).get("success_rate").asDouble(), 4);
    // The matched images moved, within the ball, whatever the counted examples are (where b is
    // misclassified already, as on an untrained model, the counted example is b itself).
    assertThat(f.get("curve").get(1).get("mean_linf_at_eps").asDouble()).isPositive().isLessThanOrEqualTo(0.1 + 1e-6);
    assertThat(f.get("curve").get(1).get("mean_l2_at_eps").asDouble()).isPositive();
    assertThat(f.get("curve").get(0).get("mean_linf_at_eps").asDouble()).isZero();
    // An index past the last stage is refused where the layer is looked up, with the choices.
    MainTest.Run past = run("attack", "--run", runDir, "--attack", "feature-match", "--layer", "99", "--eps", "0.1",
        "--steps", "3", "--count", "4", "--out", tmp.resolve("fm99").toString());
    assertThat(past.code()).isEqualTo(2);
    assertThat(past.err()).startsWith("irevnet attack: --layer: no layer '99' (layers: 0..").hasLineCount(1);

    MainTest.Run met = run("attack", "--run", runDir, "--attack", "metamer", "--count", "4", "--out", out.toString());
    assertThat(met.code()).as(met.err()).isZero();
    JsonNode m = Json.MAPPER.readTree(out.resolve("attack-metamer.json").toFile());
    assertThat(m.get("curve")).hasSize(1);
    assertThat(m.get("curve").get(0).get("eps").isNull()).isTrue();
    assertThat(m.get("sanity").isNull()).isTrue();
    assertThat(m.get("max_logit_abs_diff").asDouble()).isBetween(0.0, 1e-4);
    // Float32 holds: max_logit_abs_diff is the float32 difference, and no float64 sample was made.
    assertThat(m.get("float32_holds").asBoolean()).isTrue();
    assertThat(m.get("max_logit_abs_diff_f32").asDouble()).isEqualTo(m.get("max_logit_abs_diff").asDouble());
    assertThat(m.has("max_logit_abs_diff_f64")).isFalse();
    assertThat(f.has("float32_holds") || f.has("max_logit_abs_diff_f32")).as("fields only the metamer attack has")
        .isFalse();
    assertThat(m.get("invariant_holds").asBoolean()).as("the metamer attack's own check, which the report reads").isTrue();
    assertThat(f.has("invariant_holds")).as("a check only the metamer attack has").isFalse();
    // Logits are a's exactly, so the model's class is a's: success unless b's label is that class.
    assertThat(m.get("curve").get(0).get("success_rate").asDouble()).isPositive();
    assertCi95(m.get("curve").get(0).get("success_rate_ci95"), m.get("curve").get(0).get("success_rate").asDouble(), 4);
    assertCi95(m.get("curve").get(0).get("accuracy_ci95"), m.get("curve").get(0).get("accuracy").asDouble(), 4);
    assertThat(m.get("curve").get(0).get("representation_distance").asDouble()).isLessThan(1e-3);
  }

  /** A {@code _ci95} field: the 95% Wilson interval of {@code share} of {@code n} images, [lo, hi]. */
  static void assertCi95(JsonNode ci, double share, int n) {
    long k = Math.round(share * n);
    assertThat(k / (double) n).as("a share of %d images", n).isEqualTo(share);
    assertThat(ci).as("the interval of %s of %d", share, n).isNotNull();
    assertThat(List.of(ci.get(0).asDouble(), ci.get(1).asDouble()))
        .containsExactly(Proportions.wilson95(k, n).lo(), Proportions.wilson95(k, n).hi());
  }

  /**
   * Test images that are all one picture under ten labels: every pair (a, b) is one image twice,
   * whose representations do not differ, so no pair has a representation distance. The metamer
   * attack's was rounding over a floor of 1e-30 under the zero denominator (1e19 and more).
   */
  @Test
  void pairsOfOneImageTwiceHaveNoRepresentationDistance(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path same = Files.createDirectories(tmp.resolve("same"));
    for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.copy(tiny.data().resolve(f), same.resolve(f));
    }
    byte[] test = Files.readAllBytes(tiny.data().resolve("t10k-images-idx3-ubyte"));
    for (int at = 16 + 28 * 28; at < test.length; at += 28 * 28) System.arraycopy(test, 16, test, at, 28 * 28);
    Files.write(same.resolve("t10k-images-idx3-ubyte"), test);

    // The metamer attack takes no --steps.
    for (String[] attack : new String[][] {{"metamer"}, {"feature-match", "--steps", "2"}}) {
      Path out = tmp.resolve(attack[0]);
      MainTest.Run r = run(java.util.stream.Stream.concat(java.util.stream.Stream.of("attack", "--run",
          tiny.dir().toString(), "--data", same.toString(), "--count", "4", "--out", out.toString(), "--attack"),
          java.util.Arrays.stream(attack)).toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isZero();
      JsonNode curve = Json.MAPPER.readTree(out.resolve("attack-" + attack[0] + ".json").toFile()).get("curve");
      for (JsonNode p : curve) {
        assertThat(p.get("representation_distance").isNull()).as(attack[0] + ": " + p).isTrue();
        assertThat(p.get("success_rate").isNumber()).isTrue();
      }
    }
  }

  @Test
  void theFileRecordsTheBatchThatPgdsRandomStartsWereDrawnIn(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    JsonNode[] files = new JsonNode[3];
    String[] batches = {"2", "8", "8"};
    for (int i = 0; i < 3; i++) {
      Path out = tmp.resolve("out" + i);
      MainTest.Run r = run("attack", "--run", tiny.dir().toString(), "--attack", "pgd-linf", "--eps", "0.3",
          "--steps", "2", "--count", "8", "--batch", batches[i], "--random-start", "--out", out.toString(),
          "--no-progress");
      assertThat(r.code()).as(r.err()).isZero();
      files[i] = Json.MAPPER.readTree(out.resolve("attack-pgd-linf.json").toFile());
    }
    // The random starts are drawn batch by batch: --batch moves the numbers, so the file says which.
    assertThat(files[0].get("curve").get(1).get("mean_l2").asDouble())
        .isNotEqualTo(files[1].get("curve").get(1).get("mean_l2").asDouble());
    assertThat(files[0].get("batch").asInt()).isEqualTo(2);
    assertThat(files[1].get("batch").asInt()).isEqualTo(8);
    // The recorded options reproduce the file's numbers.
    assertThat(files[2].get("curve")).isEqualTo(files[1].get("curve"));
  }

  /**
   * Metamers that hold in float64 but not in float32: a bias of 1e4 in an actnorm puts every later
   * activation near 1e4, where float32 rounds by about 1e-3. The file said only the float64
   * difference (max_logit_abs_diff), with nothing to tell it from the float32 one of the metamers
   * its norms and success rate are of; it records both now, as metamers.json does, and
   * float32_holds false. The invariant holds (up to rounding), so the attack exits 0.
   */
  @Test
  void aMetamerAttackRecordsItsLogitDifferenceInBothPrecisionsWhereFloat32Misses(@TempDir Path tmp)
      throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    AnalysisCommandsTest.setFirstActNorm(tiny.dir(), 0, 1e4);
    Path out = tmp.resolve("out");
    MainTest.Run met = run("attack", "--run", tiny.dir().toString(), "--attack", "metamer", "--count", "4", "--out",
        out.toString(), "--no-progress");
    assertThat(met.code()).as(met.err()).isZero();
    assertThat(met.err()).contains("not representable in float32");
    JsonNode m = Json.MAPPER.readTree(out.resolve("attack-metamer.json").toFile());
    double f32 = m.get("max_logit_abs_diff_f32").asDouble(), f64 = m.get("max_logit_abs_diff_f64").asDouble();
    assertThat(m.get("float32_holds").asBoolean()).isFalse();
    assertThat(m.get("invariant_holds").asBoolean()).isTrue();
    assertThat(f32).isGreaterThan(1e-4);
    assertThat(f64).isLessThan(f32);
    assertThat(m.get("max_logit_abs_diff").asDouble()).as("float64, as it always was where float32 misses")
        .isEqualTo(f64);
  }

  @Test
  void badInputIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
    String[][] cases = {
        {"--run", tmp.resolve("missing").toString(), "--attack", "pgd-linf"},
        {"--run", tmp.toString(), "--attack", "cw"},
        {"--run", tmp.toString(), "--attack", "pgd-linf", "--eps", "0.1,-0.1"},
        {"--run", tmp.toString(), "--attack", "metamer", "--targeted", "next"},
        {"--run", tmp.toString(), "--attack", "fgsm", "--random-start"},
        {"--run", tmp.toString(), "--attack", "fgsm", "--multi-targeted"},
        {"--run", tmp.toString(), "--attack", "pgd-linf", "--multi-targeted", "--targeted", "next"},
        {"--run", tmp.toString(), "--attack", "pgd-l2", "--steps", "0"},
        {"--run", tmp.toString(), "--attack", "pgd-l2", "--eps", "x"},
    };
    for (String[] c : cases) {
      String[] args = new String[c.length + 1];
      args[0] = "attack";
      System.arraycopy(c, 0, args, 1, c.length);
      MainTest.Run r = run(args);
      assertThat(r.code()).as(String.join(" ", c) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines().count()).as(r.err()).isLessThanOrEqualTo(2);   // picocli adds a usage hint
    }
    // Each refused by name, before the run is looked at (it does not exist).
    String missing = tmp.resolve("missing").toString();
    String[][] named = {
        {"cw", "--attack must be fgsm, pgd-linf, pgd-l2, metamer or feature-match, got cw"},
        {"FGSM", "--attack must be fgsm, pgd-linf, pgd-l2, metamer or feature-match, got FGSM"},
        {"fgsm", "--steps", "10", "--steps applies to pgd and feature-match only"},
        {"metamer", "--step-size", "0.1", "--step-size applies to pgd and feature-match only"},
        {"metamer", "--eps", "0.1", "--eps applies to fgsm, pgd and feature-match only (a metamer has no radius)"},
        {"pgd-l2", "--layer", "last", "--layer applies to feature-match only"},
        {"fgsm", "--probe-layers", "conv1", "--probe-layers applies to feature-match only (the layers --layer counts in)"},
        {"metamer", "--targeted", "next", "--targeted applies to fgsm and pgd only"},
        {"feature-match", "--loss", "margin", "--loss applies to fgsm and pgd only"},
        // Its default typed out is refused too: the README says --loss applies to fgsm and pgd only.
        {"metamer", "--loss", "ce", "--loss applies to fgsm and pgd only"},
        {"fgsm", "--loss", "hinge", "--loss must be ce or margin, got 'hinge'"},
        {"fgsm", "--random-start", "--random-start applies to pgd only"},
        {"fgsm", "--multi-targeted", "--multi-targeted applies to untargeted pgd only"},
        {"pgd-l2", "--multi-targeted", "--targeted", "2", "--multi-targeted applies to untargeted pgd only"},
        {"fgsm", "--seed", "1", "--seed applies to pgd --random-start, --targeted random, metamer and feature-match"
            + " only: this attack draws nothing at random"},
        {"pgd-linf", "--targeted", "next", "--seed", "1", "--seed applies to pgd --random-start, --targeted random,"
            + " metamer and feature-match only: this attack draws nothing at random"},
        {"fgsm", "--count", "0", "--count must be at least 1, got 0"},
        {"fgsm", "--batch", "0", "--batch must be at least 1, got 0"},
        {"pgd-linf", "--steps", "0", "--steps must be at least 1, got 0"},
        {"pgd-linf", "--step-size", "0", "--step-size must be above 0, got 0.0"},
        // Infinite in float32: pgd-l2 at eps 0 then moved pixels by 1 and failed its sanity check.
        {"pgd-l2", "--step-size", "4e38", "--step-size must be at most 3.4028235E38 (the largest float32 number: a"
            + " longer step overflows float32 images), got 4.0E38"},
        {"pgd-linf", "--eps", "0.1,-0.1", "--eps must be at least 0, got -0.1"},
        {"pgd-linf", "--eps", "0.1,0.1", "--eps has 0.1 twice"},
        {"pgd-linf", "--eps", ",", "--eps: no radii given"},
        // Accepted: margin for fgsm, a random start and multi-targeted for pgd, steps and a layer for
        // feature matching; then the missing run is what is refused.
        {"fgsm", "--loss", "margin", missing + ": no such run directory"},
        {"feature-match", "--steps", "5", "--step-size", "0.01", "--layer", "0", "--eps", "0.1", missing
            + ": no such run directory"},
        {"pgd-linf", "--random-start", "--multi-targeted", missing + ": no such run directory"},
        {"pgd-linf", "--random-start", "--seed", "1", missing + ": no such run directory"},
        {"pgd-l2", "--step-size", "3e38", missing + ": no such run directory"},
        {"fgsm", "--targeted", "random", "--seed", "1", missing + ": no such run directory"},
        {"metamer", "--seed", "1", missing + ": no such run directory"},
        {"feature-match", "--seed", "1", missing + ": no such run directory"},
        {"pgd-l2", "--targeted", "next", "--loss", "margin", missing + ": no such run directory"}};
    for (String[] c : named) {
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("attack", "--run", missing, "--no-progress",
          "--attack"));
      args.addAll(java.util.List.of(c).subList(0, c.length - 1));
      MainTest.assertRefused(args, c[c.length - 1]);
    }
    Files.createDirectories(tmp.resolve("empty"));
    MainTest.Run r = run("attack", "--run", tmp.resolve("empty").toString(), "--attack", "fgsm");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("no checkpoint");
  }

  /** A fixed target by name, for data whose classes have names ("--targeted tomato" was refused). */
  @Test
  void aFixedTargetIsAClassNumberOrName() {
    java.util.List<String> names = java.util.List.of("apple", "fig", "kiwi");
    int[] labels = {0, 1, 2, 0};
    assertThat(AttackCommand.targets("fig", 1, labels, names)).containsExactly(1, 1, 1, 1);
    // A name typed or pasted decomposed (NFD, as macOS folder names are) is the class of that name.
    java.util.List<String> accented = java.util.List.of("caf\u00e9", "cr\u00e8me", "the");
    assertThat(AttackCommand.targets("cre\u0300me", 1, labels, accented)).containsExactly(1, 1, 1, 1);
    assertThat(AttackCommand.targets("caf\u00e9", 1, labels, java.util.List.of("cafe\u0301", "the", "x")))
        .containsExactly(0, 0, 0, 0);
    assertThat(AttackCommand.targets("2", 1, labels, names)).containsExactly(2, 2, 2, 2);
    assertThat(AttackCommand.targets("next", 1, labels, names)).containsExactly(1, 2, 0, 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AttackCommand.targets("pear", 1, labels, names))
        .hasMessage("--targeted must be next, random or a class in 0..2 or one of [apple, fig, kiwi], got 'pear'");
    // Numbered classes: their names are their numbers, and the message lists them no second time.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AttackCommand.targets("3", 1, labels,
        java.util.List.of("0", "1", "2"))).hasMessage("--targeted must be next, random or a class in 0..2, got '3'");
    // Folders named by numbers that are not their positions (1, 10, 2 sort as classes 0, 1, 2): a
    // name is the folder it names ("10" was refused as out of range, "1" aimed at folder 10); a
    // number that names no class is still a class number.
    java.util.List<String> folders = java.util.List.of("1", "10", "2");
    assertThat(AttackCommand.targets("10", 1, labels, folders)).containsExactly(1, 1, 1, 1);
    assertThat(AttackCommand.targets("1", 1, labels, folders)).containsExactly(0, 0, 0, 0);
    assertThat(AttackCommand.targets("2", 1, labels, folders)).containsExactly(2, 2, 2, 2);
    assertThat(AttackCommand.targets("0", 1, labels, folders)).containsExactly(0, 0, 0, 0);
  }
}
