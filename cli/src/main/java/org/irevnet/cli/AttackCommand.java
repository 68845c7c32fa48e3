package org.irevnet.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.irevnet.analysis.MetamerSampler;
import org.irevnet.attacks.Attack;
import org.irevnet.attacks.FeatureMatch;
import org.irevnet.attacks.Fgsm;
import org.irevnet.attacks.InputGradient;
import org.irevnet.attacks.MultiTargeted;
import org.irevnet.attacks.Norm;
import org.irevnet.attacks.Pgd;
import org.irevnet.attacks.Projection;
import org.irevnet.attacks.Robustness;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.host.Host;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.Classifier;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.reports.AttackReport;
import org.irevnet.reports.ClassNames;
import org.irevnet.settings.Ranges;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "attack", mixinStandardHelpOptions = true,
    header = "Adversarial attacks on a trained run: FGSM, PGD (L-inf, L2), metamers, feature matching.",
    description = {"Writes attack-<name>.json (robustness curve, perturbation norms, checks) and attack-<name>.png"
        + " (rows: [source a,] attacked image, then per epsilon the example and its perturbation amplified) into"
        + " --out (default RUN_DIR/analysis).",
        "Epsilon 0 is always part of the sweep and must reproduce the clean classes exactly, else exit code 1."})
final class AttackCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOrProbedModelOptions target;

  @Mixin AnalysisOutput output;

  @Option(names = "--attack", required = true, paramLabel = "NAME", completionCandidates = Choices.Attack.class,
      description = "${COMPLETION-CANDIDATES}.")
  String attack;

  @Option(names = "--eps", split = ",", defaultValue = "0,0.05,0.1,0.2",
      description = "Radii, comma-separated (default 0,0.05,0.1,0.2; 0 is added if missing). Not for metamer.")
  double[] eps;

  @Option(names = "--steps", defaultValue = "40", description = "PGD and feature-match steps (default 40).") int steps;

  @Option(names = "--step-size", description = "PGD and feature-match step length (default 2.5 * eps / steps).")
  Double stepSize;

  @Option(names = "--loss", defaultValue = "ce", paramLabel = "ce|margin", completionCandidates = Choices.AttackLoss.class,
      description = "FGSM/PGD loss: ce (cross-entropy, default) or margin (max other logit - goal logit).")
  String loss;

  @Option(names = "--random-start", description = "PGD: start from a random point of the ball.") boolean randomStart;

  @Option(names = "--multi-targeted",
      description = "PGD, untargeted: then attack the images still classified correctly towards each wrong class in turn, "
          + "most likely first, until misclassified (MultiTargeted; a stronger evaluation, up to C-1 more runs on the "
          + "images that resist).")
  boolean multiTargeted;

  @Option(names = "--targeted", paramLabel = "next|random|CLASS",
      description = "FGSM/PGD: aim at a target class: the next one ((label + 1) mod C), a seeded random other one, or a fixed"
          + " class (its name as eval prints it, or its number).")
  String targeted;

  @Option(names = "--layer", defaultValue = "last", paramLabel = "LAYER",
      description = "feature-match: the stage (or probed layer of a DL4J network) whose output is matched: 0-based"
          + " index, name (stage2, or the network's layer name) or 'last' (default).")
  String layer;

  @Option(names = "--count", defaultValue = "256", description = "Test images, the first N, at most"
      + " the test split's size (or seeded pairs for metamer/feature-match, which may repeat images; default 256).")
  int count;

  @Option(names = "--batch", defaultValue = "64", description = "Images per batch (default 64).") int batch;

  @Option(names = "--seed", defaultValue = "0", description = "Seed: random starts, random targets, pairs (default 0).")
  long seed;

  @Option(names = "--grid", defaultValue = "8", description = "Images shown in the PNG (default 8).") int grid;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    common.apply();
    // Exact words, as every other option takes them (FGSM was read as fgsm, --split TEST refused).
    Ranges.oneOf("--attack", attack, Choices.ATTACKS);
    boolean pgd = attack.startsWith("pgd"), perturbation = pgd || attack.equals("fgsm");
    boolean stepped = pgd || attack.equals("feature-match"), metamer = attack.equals("metamer");
    // An option the attack does not read is refused, as --random-start always was: fgsm --steps 10
    // and metamer --eps 0.1 ran as if they were not given.
    if (CommonOptions.typed(spec, "--steps") && !stepped) {
      throw new IllegalArgumentException("--steps applies to pgd and feature-match only");
    }
    if (CommonOptions.typed(spec, "--step-size") && !stepped) {
      throw new IllegalArgumentException("--step-size applies to pgd and feature-match only");
    }
    if (CommonOptions.typed(spec, "--eps") && metamer) {
      throw new IllegalArgumentException("--eps applies to fgsm, pgd and feature-match only (a metamer has no radius)");
    }
    if (CommonOptions.typed(spec, "--layer") && !attack.equals("feature-match")) {
      throw new IllegalArgumentException("--layer applies to feature-match only");
    }
    if (CommonOptions.typed(spec, "--probe-layers") && !attack.equals("feature-match")) {
      throw new IllegalArgumentException("--probe-layers applies to feature-match only (the layers --layer counts in)");
    }
    if (targeted != null && !perturbation) throw new IllegalArgumentException("--targeted applies to fgsm and pgd only");
    // Typed, not only non-default: metamer --loss ce ran as if it was not given.
    if (CommonOptions.typed(spec, "--loss") && !perturbation) {
      throw new IllegalArgumentException("--loss applies to fgsm and pgd only");
    }
    lossKind();
    if (randomStart && !pgd) throw new IllegalArgumentException("--random-start applies to pgd only");
    if (multiTargeted && (!pgd || targeted != null)) {
      throw new IllegalArgumentException("--multi-targeted applies to untargeted pgd only");
    }
    // fgsm --seed 1 ran as if it was not given, and its file said seed 1 beside a seed 0 file of the same numbers.
    if (CommonOptions.typed(spec, "--seed") && perturbation && !randomStart && !"random".equals(targeted)) {
      throw new IllegalArgumentException("--seed applies to pgd --random-start, --targeted random, metamer and"
          + " feature-match only: this attack draws nothing at random");
    }
    CommonOptions.positive("--count", count);
    CommonOptions.positive("--batch", batch);
    CommonOptions.positive("--grid", grid);
    CommonOptions.positive("--steps", steps);
    if (stepSize != null) Ranges.positive("--step-size", stepSize);
    // In float32 a longer step is infinite, and pgd-l2's projection of it left
    // the ball (eps 0 moved pixels by 1, eps 1 gave L2 20) and failed the sanity check as if the
    // attack were broken.
    if (stepSize != null && stepSize > Float.MAX_VALUE) {
      throw new IllegalArgumentException("--step-size must be at most " + Float.MAX_VALUE + " (the largest float32"
          + " number: a longer step overflows float32 images), got " + stepSize);
    }
    CommonOptions.given("--eps", eps.length, "radii");
    Robustness.withZero(eps);   // validates the radii before anything is loaded

    output.check(target);
    RunInputs in = target.load().requireTrainingSize();
    Classifier model = metamer ? in.model() : in.classifier();
    // The padding is zero and stays zero: the mask is where the raw images sit in the model input.
    INDArray mask = Projection.contentMask(model.inputShape(1), in.content().height(), in.content().width(),
        model.dataType());
    InputGradient gradient = new InputGradient(model);
    double load0 = CommonOptions.loadAverage();
    long t0 = System.nanoTime();
    Result r = switch (attack) {
      case "metamer" -> metamer(in, mask);
      case "feature-match" -> featureMatch(in, gradient, mask);
      default -> perturbation(in, gradient, mask, attack);
    };
    double seconds = (System.nanoTime() - t0) / 1e9;
    AttackReport.Timing timing = new AttackReport.Timing(seconds, Host.threads(), Runtime.getRuntime().availableProcessors(),
        load0, CommonOptions.loadAverage());
    String file = "attack-" + attack + (targeted != null ? "-targeted" : multiTargeted ? "-multi-targeted" : "");
    Path dir = output.dir(target);
    AttackReport rep = new AttackReport(target.runDir().toString(), in.checkpoint(), in.data().name(), model.summary(),
        attack, metamer ? null : attack.equals("pgd-l2") ? "l2" : "linf", perturbation ? loss : null, targeted,
        stepped ? steps : null, stepped ? stepSize : null, pgd ? randomStart : null, pgd ? multiTargeted : null, r.layer,
        r.layer == null ? null : model.layerNames().get(r.layer), seed, (int) r.attacked.size(0), batch, r.cleanAccuracy, r.curve,
        AttackReport.monotone(r.curve), r.sweep == null ? null : AttackReport.Sanity.of(r.sweep),
        r.logits == null ? null : r.logits.maxLogitAbsDiff(), r.logits == null ? null : r.logits.float32(),
        r.logits == null ? null : r.logits.float64(), r.logits == null ? null : r.logits.float32Holds(), timing,
        file + ".png", targetName(in.data().classNames()), in.dataDir().toString(), metamer ? r.invariantHolds : null);
    Path json = dir.resolve(file + ".json");
    AtomicFiles.together(() -> {
      rep.writeJson(json, in.weightsSha256());
      AttackReport.writePng(dir.resolve(file + ".png"), r.sources, r.attacked, r.examples, grid);
    });
    System.out.print(rep.table());
    System.out.println(json);
    if (r.sweep != null && !r.sweep.saneAtZero()) {
      AttackReport.Sanity s = rep.sanity();
      System.err.println("irevnet attack: SANITY CHECK FAILED: epsilon 0 gives accuracy " + s.accuracyAtZero()
          + ", clean accuracy " + s.cleanAccuracy() + " (max |x' - x| " + s.maxAbsDiffAtZero() + ", model unchanged: "
          + s.modelUnchanged() + "); the attack or the model's evaluation mode is broken");
      return 1;
    }
    if (!r.invariantHolds) {
      System.err.println("irevnet attack: metamer invariant failed: max |logits(x_met) - z_s(a)| = "
          + String.format("%.3e", r.logits.maxLogitAbsDiff()) + ", above " + MetamerSampler.TOLERANCE
          + " in float64 and not rounding (see the metamers command)");
      return 1;
    }
    return 0;
  }

  /**
   * What an attack produced, for the report; {@code logits} the metamers' logit differences (null for
   * the other attacks), {@code invariantHolds} false only for a failed metamer.
   */
  private record Result(INDArray sources, INDArray attacked, List<INDArray> examples, double cleanAccuracy,
      List<AttackReport.Point> curve, Robustness.Sweep sweep, Integer layer, MetamerLogits logits,
      boolean invariantHolds) {}

  /**
   * Max |logits(x_met) - z_s(a)| of the metamers: {@code float32} of the metamers the attack reports
   * (their norms, classes and distances), {@code float64} of the same pairs sampled in float64, made
   * only where float32 missed the tolerance (else null).
   */
  private record MetamerLogits(double float32, Double float64) {
    boolean float32Holds() {
      return float64 == null;
    }

    /** The one the invariant was judged by: float32 where it holds, else float64. */
    double maxLogitAbsDiff() {
      return float32Holds() ? float32 : float64;
    }
  }

  private Result perturbation(RunInputs in, InputGradient gradient, INDArray mask, String name) {
    Classifier model = in.classifier();
    Dataset test = in.first(count);
    INDArray x = test.images().castTo(model.dataType());
    int[] labels = test.labels();
    int[] goals = targeted == null ? labels : targets(targeted, seed, labels, test.classNames());
    double step = stepSize == null ? Double.NaN : stepSize;
    InputGradient.Loss l = lossKind();
    Norm norm = name.equals("pgd-l2") ? Norm.L2 : Norm.LINF;
    Attack first = name.equals("fgsm") ? new Fgsm(gradient, mask, l, targeted != null)
        : new Pgd(gradient, mask, norm, l, steps, step, randomStart, targeted != null, seed);
    Attack chosen = !multiTargeted ? first
        : new MultiTargeted(model, first, new Pgd(gradient, mask, norm, l, steps, step, randomStart, true, seed));
    Robustness.Sweep s = Robustness.run(model, x, labels, eps, batch,
        (xb, from, to, e) -> chosen.perturb(xb, Arrays.copyOfRange(goals, from, to), e));
    return new Result(null, x, nonZero(s), s.cleanAccuracy(),
        AttackReport.curve(s, x, mask, targeted == null ? null : goals, null, null), s, null, null, true);
  }

  private Result featureMatch(RunInputs in, InputGradient gradient, INDArray mask) {
    Classifier model = in.classifier();
    Pairs p = pairs(in);
    int stage;
    try {
      stage = model.layerIndex(layer);
    } catch (IllegalArgumentException e) {
      // A DL4J network's other layers are there too, once probed: the message named only the default ones.
      String others = model instanceof org.irevnet.models.Dl4jClassifier && !model.layerNames().isEmpty()
          ? "; another layer or vertex of the network must be named in --probe-layers too" : "";
      throw new IllegalArgumentException("--layer: " + e.getMessage() + others, e);
    }
    FeatureMatch fm = new FeatureMatch(gradient, stage, mask, steps, stepSize == null ? Double.NaN : stepSize);
    Robustness.Sweep s = Robustness.run(model, p.b, p.labelsB, eps, batch,
        (xb, from, to, e) -> fm.perturb(xb, p.a.get(NDArrayIndex.interval(from, to)).dup('c'), e));
    UnaryOperator<INDArray> h = x -> Tensors.batched(fm::representation, x, batch);
    INDArray ha = h.apply(p.a), hb = h.apply(p.b);
    double[] success = new double[s.eps().length];
    Double[] distance = new Double[s.eps().length];
    // Of each epsilon's own matched images (the worst case over smaller epsilons is for the accuracy).
    for (int k = 0; k < s.eps().length; k++) {
      success[k] = successRate(s.rawClasses()[k], p.classA, p.labelsB);
      distance[k] = AttackReport.representationDistance(h.apply(s.rawAdversarial()[k]), ha, hb, p.a, p.b);
    }
    List<INDArray> shown = Arrays.asList(s.rawAdversarial()).subList(1, s.eps().length);
    return new Result(p.a, p.b, shown, s.cleanAccuracy(), AttackReport.curve(s, p.b, mask, null, success, distance),
        s, stage, null, true);
  }

  private Result metamer(RunInputs in, INDArray mask) {
    InvertibleClassifier model = in.model();
    Pairs p = pairs(in);
    MetamerSampler.Result m = MetamerSampler.sample(model, p.a, p.b, p.labelsB);
    INDArray logitsM = Robustness.logits(model, m.metamers(), batch);
    int[] classes = Losses.predictions(logitsM);
    INDArray la = p.logitsA, lb = Robustness.logits(model, p.b, batch);
    double maxDiff = Tensors.maxAbs(logitsM.sub(la));
    boolean holds = maxDiff <= MetamerSampler.TOLERANCE;
    Double diff64 = null;
    if (!holds) {
      // As in the metamers command: judge the sampler in float64, where large metamers stay exact
      // up to rounding.
      MetamerSampler.Result m64 = MetamerSampler.sample(model.withDataType(DataType.DOUBLE), p.a, p.b, p.labelsB);
      holds = true;
      for (int i = 0; i < m64.pairs().size(); i++) {
        holds &= MetamerSampler.invariantHolds(m.pairs().get(i).maxLogitAbsDiff(), m64.pairs().get(i).maxLogitAbsDiff());
      }
      double d64 = m64.pairs().stream().mapToDouble(MetamerSampler.Pair::maxLogitAbsDiff).max().orElse(Double.NaN);
      if (holds) {
        System.err.println("irevnet attack: note: metamers exact in float64 up to rounding (max |dlogit| "
            + String.format("%.1e", d64) + ") but not representable in float32 (" + String.format("%.1e", maxDiff) + ")");
      }
      diff64 = d64;
    }
    AttackReport.Point point = AttackReport.Point.of(null, p.labelsB, classes, classes, m.metamers(), m.metamers(),
        p.b, mask, null, null, successRate(classes, p.classA, p.labelsB),
        AttackReport.representationDistance(logitsM, la, lb, p.a, p.b));
    double clean = Losses.accuracy(lb, p.labelsB);
    // Each precision on its own: the float64 difference alone (7.7e-10 on an iCE run) read as if the
    // metamers the curve measures, the float32 ones, were exact, while their logits were 0.11 off.
    MetamerLogits logits = new MetamerLogits(maxDiff, diff64);
    return new Result(p.a, p.b, List.of(m.metamers()), clean, List.of(point), null, null, logits, holds);
  }

  /** Seeded pairs (a, b) of test images with different labels: a gives the class, b is attacked. */
  private record Pairs(INDArray a, INDArray b, int[] labelsB, INDArray logitsA, int[] classA) {}

  private Pairs pairs(RunInputs in) {
    Classifier model = in.classifier();
    ImagePairs p = ImagePairs.choose(in.data(), count, seed);
    INDArray a = p.a().castTo(model.dataType()), b = p.b().castTo(model.dataType());
    INDArray logitsA = Robustness.logits(model, a, batch);
    return new Pairs(a, b, p.labelsB(), logitsA, Losses.predictions(logitsA));
  }

  /** Fraction whose class is a's model class while b's label is another one (a without a class: no hit). */
  private static double successRate(int[] classes, int[] classA, int[] labelsB) {
    int hit = 0;
    for (int i = 0; i < classes.length; i++) if (classA[i] >= 0 && classes[i] == classA[i] && labelsB[i] != classA[i]) hit++;
    return (double) hit / classes.length;
  }

  /** The examples of every epsilon after the sanity point 0, for the image grid. */
  private static List<INDArray> nonZero(Robustness.Sweep s) {
    return Arrays.asList(s.adversarial()).subList(1, s.eps().length);
  }

  /** The target of each label; a fixed class by number or, for data whose classes have names, by name. */
  static int[] targets(String targeted, long seed, int[] labels, List<String> names) {
    int classes = names.size();
    int[] t = new int[labels.length];
    Random r = new Random(seed);
    for (int i = 0; i < labels.length; i++) {
      t[i] = switch (targeted) {
        case "next" -> (labels[i] + 1) % classes;
        case "random" -> (labels[i] + 1 + r.nextInt(classes - 1)) % classes;
        default -> {
          yield fixedTarget(targeted, names);
        }
      };
    }
    return t;
  }

  /** The class {@code --targeted} names by its number or, for data whose classes have names, by name. */
  private static int fixedTarget(String targeted, List<String> names) {
    // A name first: on PNG folders 1, 10, 2 (classes 0, 1, 2) "--targeted 10" was refused as a
    // number out of range, and "--targeted 1" aimed at the folder 10.
    // --targeted tomato was refused: "a class in 0..2". Compared composed (NFC), as class names are
    // everywhere: a name pasted decomposed (from a macOS folder) was refused as "got 'Éclair'" beside
    // the listed Éclair.
    int k = names.stream().map(Datasets::nfc).toList().indexOf(Datasets.nfc(targeted));
    if (k < 0) {
      try {
        k = Integer.parseInt(targeted);
      } catch (NumberFormatException e) {
        k = -1;
      }
    }
    if (k < 0 || k >= names.size()) {
      throw new IllegalArgumentException("--targeted must be next, random or a class in 0.." + (names.size() - 1)
          + (ClassNames.numbered(names) ? "" : " or one of " + names) + ", got '" + targeted + "'");
    }
    return k;
  }

  /** The name of the fixed class the attack aims at, for the report; null when there is none. */
  private String targetName(List<String> names) {
    boolean fixed = targeted != null && !targeted.equals("next") && !targeted.equals("random");
    return fixed ? ClassNames.of(names).name(fixedTarget(targeted, names)) : null;
  }

  private InputGradient.Loss lossKind() {
    return switch (loss) {
      case "ce" -> InputGradient.Loss.CE;
      case "margin" -> InputGradient.Loss.MARGIN;
      default -> throw new IllegalArgumentException("--loss must be " + Ranges.listed(Choices.ATTACK_LOSSES) + ", got '"
          + loss + "'");
    };
  }
}
