package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.check.Numerics.maxAbsDiff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.io.Npz;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelExport;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.RandomWeights;
import org.irevnet.testing.TorchPython;
import org.irevnet.train.Losses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Our attacks against an independent computation: {@code scripts/torch_attacks.py} runs FGSM, PGD
 * (L-inf and L2, cross-entropy and margin, untargeted and targeted), feature matching and
 * metamers from their textbook definitions in PyTorch float64, on the models {@code
 * torch_port.py} rebuilds from our export, from the same start points. Our float64 results must be
 * the same images to rounding and get the same classes.
 *
 * <p>Exact agreement of sign steps needs every non-zero gradient component to be far from zero
 * relative to rounding (about 1e-16 of the largest): a component of 1e-17 could take either sign in
 * the two frameworks and move its pixel by a whole step. The script reports how close the closest
 * came, and the test requires 1e-9 of the largest, so a flipped sign cannot explain a difference
 * and a difference cannot hide behind one. Needs Python with PyTorch ({@link TorchPython}); one
 * Python process for all cases.
 */
class TorchAttacksTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "torch_attacks.py").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Rounding of a few float64 steps on pixels in [0, 1] is about 1e-16; a wrong step or projection is 1e-3 or more. */
  private static final double TOLERANCE = 1e-12;

  private static final Map<String, String> MODELS = Map.of(
      "fi", """
          {"name": "fi", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 4, "stages": [
            {"steps": 2, "hidden": 6, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
            {"steps": 1, "hidden": 6, "kernel": 3, "coupling": "additive", "actnorm": true}]}""",
      "ir", """
          {"name": "ir", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 4, "stages": [
            {"steps": 2, "hidden": 5, "kernel": 3, "coupling": "additive", "pad": 2, "permutation": "reverse"},
            {"steps": 1, "hidden": 6, "kernel": 3, "coupling": "affine", "squeeze": false, "actnorm": true}]}""");

  /**
   * One attack on one model. {@code stepSize} NaN is the attack's default, which the script gets
   * as the documented {@code 2.5 * eps / steps}.
   */
  record Case(String name, String model, String attack, Norm norm, InputGradient.Loss loss, double eps, int steps,
      double stepSize, boolean targeted, boolean randomStart, int stage) {

    double step() {
      return Double.isNaN(stepSize) ? 2.5 * eps / steps : stepSize;
    }
  }

  static final List<Case> CASES = List.of(
      new Case("fi-fgsm", "fi", "fgsm", Norm.LINF, InputGradient.Loss.CE, 0.05, 1, Double.NaN, false, false, 0),
      new Case("fi-fgsm-targeted", "fi", "fgsm", Norm.LINF, InputGradient.Loss.MARGIN, 0.05, 1, Double.NaN, true, false, 0),
      new Case("fi-pgd-linf", "fi", "pgd", Norm.LINF, InputGradient.Loss.CE, 0.1, 5, Double.NaN, false, false, 0),
      new Case("fi-pgd-l2", "fi", "pgd", Norm.L2, InputGradient.Loss.CE, 0.8, 5, Double.NaN, false, true, 0),
      new Case("fi-pgd-linf-targeted", "fi", "pgd", Norm.LINF, InputGradient.Loss.MARGIN, 0.1, 4, 0.04, true, true, 0),
      new Case("fi-pgd-l2-targeted", "fi", "pgd", Norm.L2, InputGradient.Loss.CE, 1.0, 6, 0.3, true, false, 0),
      new Case("fi-features-stage0", "fi", "features", Norm.LINF, null, 0.1, 5, Double.NaN, false, false, 0),
      new Case("fi-features-stage1", "fi", "features", Norm.LINF, null, 0.1, 5, Double.NaN, false, false, 1),
      new Case("fi-metamer", "fi", "metamer", null, null, 0, 0, Double.NaN, false, false, 0),
      new Case("ir-fgsm", "ir", "fgsm", Norm.LINF, InputGradient.Loss.CE, 0.05, 1, Double.NaN, false, false, 0),
      new Case("ir-pgd-linf", "ir", "pgd", Norm.LINF, InputGradient.Loss.CE, 0.1, 5, Double.NaN, false, true, 0),
      new Case("ir-pgd-l2-targeted", "ir", "pgd", Norm.L2, InputGradient.Loss.MARGIN, 0.8, 5, Double.NaN, true, true, 0),
      new Case("ir-features-stage0", "ir", "features", Norm.LINF, null, 0.1, 5, Double.NaN, false, false, 0));

  @TempDir static Path dir;
  private static final Map<String, InvertibleClassifier> m64 = new LinkedHashMap<>();
  private static final Map<String, INDArray> inputs = new LinkedHashMap<>(), ours = new LinkedHashMap<>();
  private static Map<String, INDArray> theirs;
  private static JsonNode summary;

  @BeforeAll
  static void attackInBothFrameworks() throws Exception {
    String python = TorchPython.find();
    int n = 6;
    for (Map.Entry<String, String> e : MODELS.entrySet()) {
      InvertibleClassifier model = RandomWeights.randomised(Architecture.fromJson(e.getValue(), e.getKey()), 11);
      // On noise images the i-RevNet's pooled features share one large mean, which gave every image
      // one class: centre its logits, as training would.
      var bias = model.params().entries().get("head.linear.bias");
      if (bias != null) bias.value().subi(model.logits(images(model, 64, 98).castTo(DataType.FLOAT)).mean(0));
      // check.npz needs inputs; the attacks draw their own.
      ModelExport.write(dir.resolve(e.getKey()), model, images(model, n, 99), new int[n]);
      // The float32 weights widened, as torch_port.py loads them.
      m64.put(e.getKey(), model.withDataType(DataType.DOUBLE));
    }
    List<Map<String, Object>> spec = new ArrayList<>();
    for (Case c : CASES) {
      spec.add(specOf(c));
      attackOurs(c, n);
    }
    Files.writeString(dir.resolve("attacks.json"), JSON.writeValueAsString(Map.of("cases", spec)));
    Npz.write(dir.resolve("attacks-in.npz"), inputs);

    TorchPython.Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString());
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    summary = JSON.readTree(r.stdout()).path("cases");
    theirs = Npz.read(dir.resolve("torch-attacks.npz"));
  }

  private static Map<String, Object> specOf(Case c) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", c.name());
    s.put("model", c.model());
    s.put("attack", c.attack());
    if (c.norm() != null) s.put("norm", c.norm() == Norm.LINF ? "linf" : "l2");
    if (c.loss() != null) s.put("loss", c.loss().name().toLowerCase());
    s.put("eps", c.eps());
    s.put("steps", c.steps());
    s.put("step_size", c.step());
    s.put("targeted", c.targeted());
    s.put("stage", c.stage());
    return s;
  }

  /** Our result of case {@code c} on {@code n} seeded images, and the inputs the script needs for the same attack. */
  private static void attackOurs(Case c, int n) {
    InvertibleClassifier m = m64.get(c.model());
    long seed = CASES.indexOf(c);
    INDArray x = images(m, n, seed), a = images(m, n, seed + 100);
    INDArray mask = Nd4j.ones(DataType.DOUBLE, m.inputShape(1));
    InputGradient gradient = new InputGradient(m);
    int[] classes = Losses.predictions(m.logits(x));
    int[] goals = new int[n];
    for (int i = 0; i < n; i++) goals[i] = c.targeted() ? (classes[i] + 1) % m.numClasses() : classes[i];
    INDArray adv = switch (c.attack()) {
      case "fgsm" -> new Fgsm(gradient, mask, c.loss(), c.targeted()).perturb(x, goals, c.eps());
      case "pgd" -> {
        // Pgd's random start is its first draw from new Random(seed): the same draw, for the script.
        inputs.put(c.name() + ".start", c.randomStart() ? c.norm().randomStart(x, c.eps(), mask, new Random(seed)) : x);
        yield new Pgd(gradient, mask, c.norm(), c.loss(), c.steps(), c.stepSize(), c.randomStart(), c.targeted(), seed)
            .perturb(x, goals, c.eps());
      }
      case "features" -> new FeatureMatch(gradient, c.stage(), mask, c.steps(), c.stepSize()).perturb(x, a, c.eps());
      case "metamer" -> MetamerSampler.sample(m, a, x).metamers();
      default -> throw new IllegalArgumentException(c.attack());
    };
    inputs.put(c.name() + ".x", x);
    inputs.put(c.name() + ".goals", Nd4j.createFromArray(goals).castTo(DataType.LONG));
    inputs.put(c.name() + ".a", a);
    ours.put(c.name(), adv);
  }

  private static INDArray images(InvertibleClassifier m, int n, long seed) {
    return Init.uniform(DataType.DOUBLE, new Random(seed), 0.5, m.inputShape(n)).addi(0.5);
  }

  static Stream<String> caseNames() {
    return CASES.stream().map(Case::name);
  }

  @ParameterizedTest
  @MethodSource("caseNames")
  void pyTorchFindsTheSameImagesAndClasses(String name) {
    Case c = CASES.stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    INDArray adv = ours.get(name), their = theirs.get(name + ".adv");
    double scale = 1 + Math.abs(Tensors.maxAbs(their));  // metamers leave [0, 1]
    assertThat(maxAbsDiff(adv, their)).as(name).isLessThanOrEqualTo(TOLERANCE * scale);
    assertThat(Losses.predictions(m64.get(c.model()).logits(adv))).as(name)
        .containsExactly(theirs.get(name + ".classes").toIntVector());
    assertThat(summary.path(name).path("min_sign_ratio").asDouble(Double.NaN)).as(name).isGreaterThan(1e-9);
    // Not a comparison of unchanged images: every attack moved some pixel by a good part of its budget.
    double moved = maxAbsDiff(adv, inputs.get(name + ".x"));
    assertThat(moved).as(name).isGreaterThan(c.attack().equals("metamer") ? 0.1 : c.eps() / (c.norm() == Norm.L2 ? 10 : 2));
  }

  /**
   * Each model tells the clean images apart: with the small weights of a perturbed init, the
   * i-RevNet gave every image one class, and an attack on a constant classifier tests little.
   */
  @Test
  void eachModelPredictsSeveralClassesOnTheCleanImages() {
    for (Case c : CASES) {
      int[] classes = Losses.predictions(m64.get(c.model()).logits(inputs.get(c.name() + ".x")));
      assertThat(java.util.Arrays.stream(classes).distinct().count()).as(c.name() + " " + java.util.Arrays.toString(classes))
          .isGreaterThan(1);
    }
  }

  /**
   * The script's bad input (a missing file, an unknown attack, a missing array) is one line naming
   * the directory and what is wrong, exit code 2, and no result file, not even a temporary; a
   * Python without PyTorch is one line too, from this script and from the port.
   */
  @Test
  void theScriptRefusesBadInputInOneLineAndWritesNothing(@TempDir Path tmp) throws Exception {
    String python = TorchPython.find();
    Map<String, String> refusals = new LinkedHashMap<>();
    refusals.put("missing", "attacks.json");
    refusals.put("{\"name\": \"bad\", \"model\": \"ir\", \"attack\": \"nope\"}",
        "case bad: attack 'nope' is none of fgsm, pgd, features, metamer");
    refusals.put("{\"name\": \"bad\", \"model\": \"ir\", \"attack\": \"fgsm\", \"eps\": 0.1}",
        "case bad: no field or array 'bad.goals'");
    // Its inputs cut short (a copy that stopped): numpy's BadZipFile ended in a traceback.
    refusals.put("truncated", "attacks-in.npz: not a readable .npz file");
    int i = 0;
    for (Map.Entry<String, String> e : refusals.entrySet()) {
      Path d = Files.createDirectory(tmp.resolve("case" + i++));
      if (!e.getKey().equals("missing")) {
        try (Stream<Path> files = Files.list(dir.resolve("ir"))) {
          Files.createDirectory(d.resolve("ir"));
          for (Path f : files.toList()) Files.copy(f, d.resolve("ir").resolve(f.getFileName()));
        }
        boolean truncated = e.getKey().equals("truncated");
        Files.writeString(d.resolve("attacks.json"), "{\"cases\": [" + (truncated ? "" : e.getKey()) + "]}");
        Path in = d.resolve("attacks-in.npz");
        Npz.write(in, Map.of("bad.x", inputs.get("ir-fgsm.x")));
        if (truncated) Files.write(in, java.util.Arrays.copyOf(Files.readAllBytes(in), (int) Files.size(in) / 2));
      }
      List<Path> before;
      try (Stream<Path> files = Files.list(d)) {
        before = files.toList();
      }
      TorchPython.Result r = TorchPython.run(python, SCRIPT.toString(), d.toString());
      assertThat(r.exitCode()).as(r.stderr()).isEqualTo(2);
      assertThat(r.stderr().strip()).as(e.getKey()).startsWith("torch_attacks: " + d + ": ").contains(e.getValue())
          .hasLineCount(1);
      assertThat(r.stdout()).isEmpty();
      try (Stream<Path> files = Files.list(d)) {
        assertThat(files.toList()).as(e.getKey()).containsExactlyInAnyOrderElementsOf(before);
      }
    }
    // Python without its site packages has no NumPy or PyTorch: one line saying what to install
    // (it was a traceback), for both scripts.
    for (Path script : List.of(SCRIPT, SCRIPT.resolveSibling("torch_port.py"))) {
      TorchPython.Result r = TorchPython.run(python, "-S", script.toString(), tmp.toString());
      String name = script.getFileName().toString().replace(".py", "");
      assertThat(r.exitCode()).as(r.stderr()).isEqualTo(2);
      assertThat(r.stderr().strip()).startsWith(name + ": needs PyTorch and NumPy (No module named ")
          .endsWith("; Debian: apt-get install python3-torch)").hasLineCount(1);
    }
  }

  /** The cases test PGD's stopping rule: some images stop early in both frameworks, and some attacks fail. */
  @Test
  void pgdStopsSomeImagesEarlyAndNotOthers() {
    int early = 0, toTheEnd = 0;
    for (Case c : CASES) {
      if (!c.attack().equals("pgd")) continue;
      INDArray adv = theirs.get(c.name() + ".adv"), last = theirs.get(c.name() + ".last");
      for (int i = 0; i < adv.size(0); i++) {
        if (maxAbsDiff(adv.slice(i), last.slice(i)) > 0) early++;
        else toTheEnd++;
      }
    }
    assertThat(early).isPositive();
    assertThat(toTheEnd).isPositive();
  }
}
