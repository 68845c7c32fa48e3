package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.irevnet.models.Classifier;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.irevnet.testing.OpCounts;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/** FGSM, PGD, the feature-matching attack and the epsilon sweep on tiny models. */
class AttacksTest {
  static final DataType F64 = DataType.DOUBLE;

  @Test
  void fgsmIsOnePgdLinfStepWithoutRandomStart() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 1);
    INDArray x = TinyModels.images(4, F64, 2), mask = TinyModels.mask(m);
    int[] y = TinyModels.labels(4, 3);
    InputGradient ig = new InputGradient(m);
    for (boolean targeted : new boolean[] {false, true}) {
      INDArray fgsm = new Fgsm(ig, mask, InputGradient.Loss.CE, targeted).perturb(x, y, 0.1);
      INDArray pgd = new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.CE, 1, 0.1, false, targeted, 0).perturb(x, y, 0.1);
      assertThat(Tensors.maxAbs(pgd.sub(fgsm))).isZero();
      // The textbook formula, written out independently.
      INDArray sign = Transforms.sign(ig.classification(InputGradient.Loss.CE, x, y).grad(), true).muli(mask).muli(targeted ? -0.1 : 0.1);
      INDArray expected = Transforms.min(Transforms.max(x.add(sign), 0.0, false), 1.0, false);
      assertThat(Tensors.maxAbs(fgsm.sub(expected))).isLessThan(1e-12);
      assertThat(Tensors.maxAbs(fgsm.sub(x))).isGreaterThan(0.09);
    }
  }

  /**
   * An FGSM sweep takes one input gradient a batch, which no epsilon changes: it took one per
   * epsilon (four in the quickstart's). Its examples are a fresh FGSM's at each epsilon, bit for
   * bit; a batch changed in place, or other goals, get a gradient of their own.
   */
  @Test
  void anFgsmSweepTakesOneGradientABatch() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 1);
    INDArray x = TinyModels.images(6, DataType.FLOAT, 2), mask = TinyModels.mask(m);
    int[] y = TinyModels.labels(6, 3);
    InputGradient ig = new InputGradient(m);
    double[] eps = {0.05, 0.1, 0.2};
    Fgsm fgsm = new Fgsm(ig, mask, InputGradient.Loss.CE, false);
    Robustness.Sweep[] sweep = new Robustness.Sweep[1];
    long backward = OpCounts.calls("conv2d_bp", () -> sweep[0] = Robustness.run(m, x, y, eps, 4,
        (xb, from, to, e) -> fgsm.perturb(xb, Arrays.copyOfRange(y, from, to), e)));
    long oneGradient = OpCounts.calls("conv2d_bp", () -> ig.classification(InputGradient.Loss.CE, x, y));
    assertThat(oneGradient).isPositive();
    assertThat(backward).as("two batches, four epsilons with 0").isEqualTo(2 * oneGradient);
    for (int k = 0; k < sweep[0].eps().length; k++) {
      for (int[] b : new int[][] {{0, 4}, {4, 6}}) {
        INDArray xb = x.get(NDArrayIndex.interval(b[0], b[1])).dup('c');
        INDArray fresh = new Fgsm(ig, mask, InputGradient.Loss.CE, false).perturb(xb, Arrays.copyOfRange(y, b[0], b[1]),
            sweep[0].eps()[k]);
        assertThat(Tensors.maxAbs(sweep[0].rawAdversarial()[k].get(NDArrayIndex.interval(b[0], b[1])).sub(fresh)))
            .as("eps %s, images %d-%d", sweep[0].eps()[k], b[0], b[1]).isZero();
      }
    }
    INDArray changing = x.dup('c');
    fgsm.perturb(changing, y, 0.1);
    changing.muli(0.5);
    assertThat(Tensors.maxAbs(fgsm.perturb(changing, y, 0.1)
        .sub(new Fgsm(ig, mask, InputGradient.Loss.CE, false).perturb(changing, y, 0.1)))).isZero();
    int[] others = TinyModels.labels(6, 9);
    assertThat(Tensors.maxAbs(fgsm.perturb(changing, others, 0.1)
        .sub(new Fgsm(ig, mask, InputGradient.Loss.CE, false).perturb(changing, others, 0.1)))).isZero();
  }

  @Test
  void everyAttackStaysInTheBallTheBoxAndTheContent() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 4);
    INDArray x = TinyModels.images(5, DataType.FLOAT, 5), mask = TinyModels.mask(m);
    int[] y = TinyModels.labels(5, 6);
    InputGradient ig = new InputGradient(m);
    double eps = 0.08;
    for (Norm norm : Norm.values()) {
      for (boolean start : new boolean[] {false, true}) {
        INDArray adv = new Pgd(ig, mask, norm, InputGradient.Loss.CE, 5, eps / 2, start, false, 7).perturb(x, y, eps);
        assertValid(adv, x, mask, norm, eps);
        // A step much larger than the ball: the projection has to do the work.
        assertValid(new Pgd(ig, mask, norm, InputGradient.Loss.MARGIN, 2, 10 * eps, start, true, 7).perturb(x, y, eps), x, mask, norm, eps);
      }
    }
    assertValid(new Fgsm(ig, mask, InputGradient.Loss.MARGIN, false).perturb(x, y, eps), x, mask, Norm.LINF, eps);
    assertValid(new FeatureMatch(ig, 1, mask, 3, Double.NaN).perturb(x, TinyModels.images(5, DataType.FLOAT, 8), eps),
        x, mask, Norm.LINF, eps);
  }

  private static void assertValid(INDArray adv, INDArray x, INDArray mask, Norm norm, double eps) {
    INDArray delta = adv.sub(x);
    double tol = 1e-6;
    assertThat(Tensors.max(Norm.rowNorms(delta, norm))).isLessThanOrEqualTo(eps + tol).isPositive();
    assertThat(Tensors.min(adv)).isGreaterThanOrEqualTo(0.0);
    assertThat(Tensors.max(adv)).isLessThanOrEqualTo(1.0);
    assertThat(Tensors.maxAbs(delta.mul(mask.rsub(1.0)))).as("padding").isZero();
    assertThat(Tensors.maxAbs(adv.mul(mask.rsub(1.0)))).as("padding").isZero();
  }

  @Test
  void l2ProjectionScalesOnlyLongPerturbations() {
    INDArray x = TinyModels.images(2, F64, 1);
    INDArray mask = Projection.contentMask(new long[] {1, 32, 32}, 28, 28, F64);
    INDArray adv = x.dup();
    adv.slice(0).addi(mask.slice(0).mul(0.01));   // norm 0.28: scaled to 0.1 (then clipped)
    adv.slice(1).putScalar(new long[] {0, 10, 10}, x.slice(1).getDouble(0, 10, 10) + 0.05 * Math.signum(0.5 - x.slice(1).getDouble(0, 10, 10)));
    INDArray before = adv.dup();
    Projection.l2(adv, x, 0.1, mask);
    assertThat(Norm.rowNorms(adv.sub(x), Norm.L2).getDouble(0)).isLessThanOrEqualTo(0.1 + 1e-12).isGreaterThan(0.05);
    assertThat(adv.slice(1)).isEqualTo(before.slice(1));
    Projection.l2(adv, x, 0.0, mask);
    assertThat(Tensors.maxAbs(adv.sub(x))).isZero();
    assertThat(mask.sumNumber().intValue()).isEqualTo(28 * 28);
  }

  @Test
  void epsilonZeroReproducesTheCleanClassesAndTheCurveIsMonotone() {
    InvertibleClassifier m = TinyModels.irevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(8, DataType.FLOAT, 3), mask = TinyModels.mask(m);
    int[] y = Losses.argmax(m.logits(x));   // every image correct: the attack has work to do
    y[0] = (y[0] + 1) % 10;                 // and one wrong from the start
    Pgd pgd = new Pgd(new InputGradient(m), mask, Norm.LINF, InputGradient.Loss.MARGIN, 6, Double.NaN, true, false, 1);
    Robustness.Sweep s = Robustness.run(m, x, y, new double[] {0.3, 0.05}, 4,
        (xb, from, to, eps) -> pgd.perturb(xb, java.util.Arrays.copyOfRange(y, from, to), eps));
    assertThat(s.eps()).containsExactly(0, 0.05, 0.3);
    assertThat(s.saneAtZero()).isTrue();
    assertThat(s.accuracy(0)).isEqualTo(s.cleanAccuracy()).isEqualTo(7 / 8.0);
    assertThat(s.accuracy(2)).isLessThan(7 / 8.0);
    for (int k = 0; k < 3; k++) {
      assertThat(Tensors.max(Norm.rowNorms(s.adversarial()[k].sub(x), Norm.LINF)))
          .isLessThanOrEqualTo(s.eps()[k] + 1e-6);
      assertThat(s.accuracy(k)).isLessThanOrEqualTo(s.rawAccuracy(k));
      if (k > 0) assertThat(s.accuracy(k)).as("monotone").isLessThanOrEqualTo(s.accuracy(k - 1));
    }
  }

  @Test
  void theSanityCheckFailsWhenEpsilonZeroMovesTheImageOrTheModelChanges() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(4, DataType.FLOAT, 3);
    int[] y = TinyModels.labels(4, 1);
    Robustness.Sweep moved = Robustness.run(m, x, y, new double[] {0}, 4, (xb, from, to, eps) -> xb.add(1e-3));
    assertThat(moved.saneAtZero()).isFalse();
    Robustness.Sweep changed = Robustness.run(m, x, y, new double[] {0}, 4, (xb, from, to, eps) -> {
      m.params().get("layers.0.b").value().addi(1e-3);   // e.g. a data-dependent init or BN update
      return xb.dup();
    });
    assertThat(changed.modelUnchanged()).isFalse();
    assertThat(changed.saneAtZero()).isFalse();
    assertThatThrownBy(() -> Robustness.withZero(new double[] {0.1, 0.1})).hasMessageContaining("twice");
    assertThatThrownBy(() -> Robustness.withZero(new double[] {-0.1})).hasMessage("--eps must be at least 0, got -0.1");
  }

  @Test
  void featureMatchingReducesTheRepresentationDistance() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 6);
    INDArray b = TinyModels.images(4, DataType.FLOAT, 7), a = TinyModels.images(4, DataType.FLOAT, 8);
    InputGradient ig = new InputGradient(m);
    for (int stage = 0; stage < 2; stage++) {
      FeatureMatch fm = new FeatureMatch(ig, stage, TinyModels.mask(m), 12, Double.NaN);
      INDArray ha = fm.representation(a);
      double[] before = InputGradient.squaredDistances(fm.representation(b), ha);
      INDArray x = fm.perturb(b, a, 0.3);
      double[] after = InputGradient.squaredDistances(fm.representation(x), ha);
      for (int i = 0; i < 4; i++) assertThat(after[i]).as("stage %d row %d", stage, i).isLessThan(0.8 * before[i]);
      assertThat(Tensors.maxAbs(fm.perturb(b, a, 0.0).sub(b))).isZero();
    }
    assertThatThrownBy(() -> new FeatureMatch(ig, 2, TinyModels.mask(m), 1, Double.NaN)).hasMessageContaining("0..1");
    for (double step : new double[] {0, -0.01}) {
      assertThatThrownBy(() -> new FeatureMatch(ig, 0, TinyModels.mask(m), 1, step))
          .hasMessage("--step-size must be positive, got " + step);
    }
    assertThatThrownBy(() -> new FeatureMatch(ig, 0, TinyModels.mask(m), 0, Double.NaN))
        .hasMessage("--steps must be at least 1, got 0");
    // The default step is Pgd's: 2.5 * eps / steps.
    INDArray byDefault = new FeatureMatch(ig, 0, TinyModels.mask(m), 4, Double.NaN).perturb(b, a, 0.2);
    INDArray explicit = new FeatureMatch(ig, 0, TinyModels.mask(m), 4, 2.5 * 0.2 / 4).perturb(b, a, 0.2);
    assertThat(Tensors.maxAbs(byDefault.sub(explicit))).isZero();
  }

  @Test
  void multiTargetedKeepsWhatTheUntargetedAttackBrokeAndBreaksWhatItLeft() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(6, DataType.FLOAT, 3), mask = TinyModels.mask(m);
    int[] y = Losses.argmax(m.logits(x));   // every image correct
    InputGradient ig = new InputGradient(m);
    Pgd untargeted = new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.CE, 1, Double.NaN, false, false, 0);
    Pgd towards = new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.MARGIN, 5, Double.NaN, false, true, 0);
    double eps = 0.05;
    INDArray alone = untargeted.perturb(x, y, eps);
    INDArray multi = new MultiTargeted(m, untargeted, towards).perturb(x, y, eps);
    int[] clsAlone = Losses.argmax(m.logits(alone)), clsMulti = Losses.argmax(m.logits(multi));
    for (int i = 0; i < y.length; i++) {
      if (clsAlone[i] != y[i]) {
        assertThat(multi.slice(i)).as("row %d: the untargeted result is kept", i).isEqualTo(alone.slice(i));
        assertThat(clsMulti[i]).isNotEqualTo(y[i]);
      }
    }
    assertValid(multi, x, mask, Norm.LINF, eps);

    // An untargeted attack that does nothing: what breaks is the targeted runs' work, and an image
    // they cannot break comes back unchanged.
    Attack nothing = (xb, goals, e) -> xb.dup();
    INDArray fromNothing = new MultiTargeted(m, nothing, towards).perturb(x, y, eps);
    int[] cls = Losses.argmax(m.logits(fromNothing));
    int broken = 0;
    for (int i = 0; i < y.length; i++) {
      if (cls[i] == y[i]) assertThat(fromNothing.slice(i)).isEqualTo(x.slice(i));
      else broken++;
    }
    assertThat(broken).isPositive();
    assertThat(new MultiTargeted(m, nothing, towards).perturb(x, y, 0.0)).isEqualTo(x);
  }

  @Test
  void aTargetedRunForMultiTargetedKeepsTheFirstMisclassifiedIterateWhicheverClassItIsIn() {
    int n = 16, steps = 8;
    Ranked r = Ranked.of(n);
    int[] targets = r.leastLikely(); // far, with other wrong classes on the way
    double eps = 0.1, step = 0.03;
    InputGradient ig = new InputGradient(r.m());
    // Iterate t of a run is the result of a t-step run with the same step length (no random start),
    // up to the target: the plain targeted run finishes a row only there.
    int[][] cls = new int[steps + 1][];
    INDArray[] iterates = new INDArray[steps + 1];
    for (int t = 1; t <= steps; t++) {
      iterates[t] = new Pgd(ig, r.mask(), Norm.LINF, InputGradient.Loss.MARGIN, t, step, false, true, 0).perturb(r.x(), targets, eps);
      cls[t] = Losses.argmax(r.m().logits(iterates[t]));
    }
    Pgd pgd = new Pgd(ig, r.mask(), Norm.LINF, InputGradient.Loss.MARGIN, steps, step, false, true, 0);
    INDArray until = pgd.perturbUntilMisclassified(r.x(), targets, r.y(), eps);
    int[] plainCls = Losses.argmax(r.m().logits(pgd.perturb(r.x(), targets, eps)));
    int lostByThePlainRun = 0;
    for (int i = 0; i < n; i++) {
      int first = steps;
      for (int t = 1; t <= steps; t++) {
        if (cls[t][i] != r.y()[i]) { first = t; break; }
      }
      assertThat(Tensors.maxAbs(until.slice(i).sub(iterates[first].slice(i)))).as("row %d", i).isLessThan(1e-12);
      if (cls[first][i] != r.y()[i] && plainCls[i] == r.y()[i]) lostByThePlainRun++;
    }
    assertThat(lostByThePlainRun).as("rows misclassified on the way that the plain targeted run ends correct").isPositive();
  }

  /**
   * PGD written out in float64: the projected sign steps from x, and per row the first iterate
   * (after a step) that reaches the goal, else the last. The targeted run aims at the least likely
   * class, so most rows need every step.
   */
  @Test
  void pgdIsTheProjectedSignStepsUpToEachRowsFirstSuccess() {
    int n = 6;
    Ranked r = Ranked.of(n);
    int[] far = r.leastLikely();
    InputGradient ig = new InputGradient(r.m());
    int laterThanTheFirstStep = 0;
    for (boolean targeted : new boolean[] {false, true}) {
      laterThanTheFirstStep += checkAgainstWrittenOutPgd(ig, r.x(), targeted ? far : r.y(), r.mask(), 0.03, 4, targeted);
    }
    assertThat(laterThanTheFirstStep).as("rows that needed more than one step").isPositive();

    // One free pixel and a step past the ball: after the first step the iterates sit at a corner
    // the sign keeps them in, a fixed point, and the attack stops there with the corner.
    INDArray onePixel = r.mask().mul(0);
    onePixel.putScalar(new long[] {0, 0, 10, 10}, 1.0);
    assertThat(checkAgainstWrittenOutPgd(ig, r.x(), r.y(), onePixel, 1.0, 4, false)).isPositive();
  }

  /** {@code n} float64 images for the tiny fi-RevNet (seed 2), their model classes and each row's wrong classes, most likely first. */
  private record Ranked(InvertibleClassifier m, INDArray x, INDArray mask, int[] y, int[][] wrong) {
    static Ranked of(int n) {
      InvertibleClassifier m = TinyModels.fiRevnet(F64, 2);
      INDArray x = TinyModels.images(n, F64, 3);
      int[] y = Losses.argmax(m.logits(x));
      return new Ranked(m, x, TinyModels.mask(m), y, MultiTargeted.wrongClassesByLikelihood(m.logits(x), y));
    }

    /** Each row's least likely class. */
    int[] leastLikely() {
      return Arrays.stream(wrong).mapToInt(w -> w[w.length - 1]).toArray();
    }
  }

  /**
   * Checks a PGD L-inf run (no random start, eps 0.1) against the same steps written out; returns
   * how many rows finished after more than one step.
   */
  private static int checkAgainstWrittenOutPgd(InputGradient ig, INDArray x, int[] goals, INDArray mask, double step,
      int steps, boolean targeted) {
    double eps = 0.1;
    InputGradient.Loss loss = targeted ? InputGradient.Loss.MARGIN : InputGradient.Loss.CE;
    INDArray[] it = new INDArray[steps + 1];
    it[0] = x;
    for (int t = 1; t <= steps; t++) {
      INDArray g = ig.classification(loss, it[t - 1], goals).grad();
      INDArray moved = it[t - 1].add(Transforms.sign(g.mul(mask), false).muli(targeted ? -step : step));
      INDArray inBall = x.add(Transforms.min(Transforms.max(moved.sub(x), -eps, false), eps, false).muli(mask));
      it[t] = Transforms.min(Transforms.max(inBall, 0.0, false), 1.0, false);
    }
    INDArray adv = new Pgd(ig, mask, Norm.LINF, loss, steps, step, false, targeted, 0).perturb(x, goals, eps);
    int later = 0;
    for (int i = 0; i < goals.length; i++) {
      int first = steps;
      for (int t = 1; t <= steps; t++) {
        int c = Losses.argmax(ig.model().logits(it[t]))[i];
        if (targeted ? c == goals[i] : c != goals[i]) { first = t; break; }
      }
      if (first > 1) later++;
      assertThat(Tensors.maxAbs(adv.slice(i).sub(it[first].slice(i)))).as("targeted %s row %d", targeted, i)
          .isLessThan(1e-12);
      assertThat(Tensors.maxAbs(adv.slice(i).sub(x.slice(i)))).as("row %d moved", i).isPositive();
    }
    return later;
  }

  /**
   * L2 PGD written out in float64: steps along g / ||g|| per row (of the masked gradient), the
   * perturbation scaled back to norm eps when longer, then clipped to [0, 1]; per row the first
   * iterate that reaches the goal, else the last. The step is as long as the ball's radius, so
   * the projection acts.
   */
  @Test
  void l2PgdIsTheProjectedNormalisedStepsUpToEachRowsFirstSuccess() {
    Ranked r = Ranked.of(4);
    InputGradient ig = new InputGradient(r.m());
    double eps = 0.5, step = 0.5;
    int steps = 3, projected = 0;
    for (boolean targeted : new boolean[] {false, true}) {
      int[] goals = targeted ? r.leastLikely() : r.y();
      InputGradient.Loss loss = targeted ? InputGradient.Loss.MARGIN : InputGradient.Loss.CE;
      INDArray[] it = new INDArray[steps + 1];
      it[0] = r.x();
      for (int t = 1; t <= steps; t++) {
        INDArray g = ig.classification(loss, it[t - 1], goals).grad().mul(r.mask());
        INDArray moved = it[t - 1].dup();
        INDArray delta = r.x().mul(0);
        for (int i = 0; i < goals.length; i++) {
          double gn = g.slice(i).norm2Number().doubleValue();
          moved.slice(i).addi(g.slice(i).mul((targeted ? -step : step) / gn));
          INDArray d = moved.slice(i).sub(r.x().slice(i)).muli(r.mask().slice(0));
          double dn = d.norm2Number().doubleValue();
          if (dn > eps) projected++;
          delta.slice(i).assign(d.muli(Math.min(1.0, eps / dn)));
        }
        it[t] = Transforms.min(Transforms.max(r.x().add(delta), 0.0, false), 1.0, false);
      }
      INDArray adv = new Pgd(ig, r.mask(), Norm.L2, loss, steps, step, false, targeted, 0).perturb(r.x(), goals, eps);
      for (int i = 0; i < goals.length; i++) {
        int first = steps;
        for (int t = 1; t <= steps; t++) {
          int c = Losses.argmax(r.m().logits(it[t]))[i];
          if (targeted ? c == goals[i] : c != goals[i]) { first = t; break; }
        }
        assertThat(Tensors.maxAbs(adv.slice(i).sub(it[first].slice(i)))).as("targeted %s row %d", targeted, i)
            .isLessThan(1e-12);
      }
      assertThat(Tensors.max(Norm.rowNorms(adv.sub(r.x()), Norm.L2))).isLessThanOrEqualTo(eps + 1e-12);
    }
    assertThat(projected).as("iterates the projection scaled back").isPositive();
  }

  /**
   * The edges: eps 0 gives x itself, for every attack and a batch of one; an eps larger than the
   * pixel range leaves FGSM at clip(x + eps sign(g)), every moved pixel at 0 or 1.
   */
  @Test
  void epsilonZeroAndAnEpsilonBeyondThePixelRange() {
    Ranked r = Ranked.of(1);
    InputGradient ig = new InputGradient(r.m());
    for (Norm norm : Norm.values()) {
      for (boolean start : new boolean[] {false, true}) {
        INDArray adv = new Pgd(ig, r.mask(), norm, InputGradient.Loss.CE, 3, Double.NaN, start, false, 2).perturb(r.x(), r.y(), 0);
        assertThat(Tensors.maxAbs(adv.sub(r.x()))).as("%s start %s", norm, start).isZero();
      }
    }
    assertThat(Tensors.maxAbs(new Fgsm(ig, r.mask(), InputGradient.Loss.CE, false).perturb(r.x(), r.y(), 0).sub(r.x())))
        .isZero();
    assertThat(Tensors.maxAbs(new FeatureMatch(ig, 1, r.mask(), 2, Double.NaN).perturb(r.x(), TinyModels.images(1, F64, 9), 0)
        .sub(r.x()))).isZero();

    INDArray g = ig.classification(InputGradient.Loss.CE, r.x(), r.y()).grad().mul(r.mask());
    INDArray wide = new Fgsm(ig, r.mask(), InputGradient.Loss.CE, false).perturb(r.x(), r.y(), 2.0);
    double[] gv = g.reshape(g.length()).toDoubleVector(), xv = r.x().reshape(g.length()).toDoubleVector();
    double[] av = wide.reshape(g.length()).toDoubleVector();
    for (int k = 0; k < gv.length; k++) {
      double expected = gv[k] > 0 ? 1.0 : gv[k] < 0 ? 0.0 : xv[k];
      assertThat(av[k]).as("pixel %d", k).isEqualTo(expected);
    }
  }

  /**
   * A targeted run whose target is the true class of correctly classified images: the goal holds
   * after the first step (descending the margin to the model's own class keeps it), so each row
   * is that step, clip(x - alpha sign(g)), and nothing further.
   */
  @Test
  void aTargetEqualToTheTrueClassFinishesAfterOneStep() {
    Ranked r = Ranked.of(3);
    InputGradient ig = new InputGradient(r.m());
    double eps = 0.05, alpha = 0.02;
    INDArray g = ig.classification(InputGradient.Loss.MARGIN, r.x(), r.y()).grad();
    INDArray moved = r.x().sub(Transforms.sign(g.mul(r.mask()), false).muli(alpha));
    INDArray expected = Transforms.min(Transforms.max(moved, 0.0, false), 1.0, false);
    assertThat(Losses.argmax(r.m().logits(expected))).containsExactly(r.y());
    INDArray adv = new Pgd(ig, r.mask(), Norm.LINF, InputGradient.Loss.MARGIN, 5, alpha, false, true, 0).perturb(r.x(), r.y(), eps);
    assertThat(Tensors.maxAbs(adv.sub(expected))).isLessThan(1e-12);
    assertThat(Tensors.maxAbs(adv.sub(r.x()))).isGreaterThan(0.0);
  }

  /**
   * Untargeted PGD against labels the model already gets wrong: a row counts as broken only after
   * a step, so each row is the first step's iterate, clip(x + alpha sign(g)), not x itself.
   */
  @Test
  void aRowMisclassifiedFromTheStartStillTakesOneStep() {
    Ranked r = Ranked.of(3);
    int[] wrong = r.leastLikely();
    InputGradient ig = new InputGradient(r.m());
    double alpha = 0.02;
    INDArray g = ig.classification(InputGradient.Loss.CE, r.x(), wrong).grad();
    INDArray expected = Transforms.min(Transforms.max(r.x().add(Transforms.sign(g.mul(r.mask()), false).muli(alpha)), 0.0,
        false), 1.0, false);
    int[] cls = Losses.argmax(r.m().logits(expected));
    for (int i = 0; i < 3; i++) assertThat(cls[i]).as("row %d still misclassified after the step", i).isNotEqualTo(wrong[i]);
    INDArray adv = new Pgd(ig, r.mask(), Norm.LINF, InputGradient.Loss.CE, 4, alpha, false, false, 0).perturb(r.x(), wrong, 0.05);
    assertThat(Tensors.maxAbs(adv.sub(expected))).isLessThan(1e-12);
    assertThat(Tensors.maxAbs(adv.sub(r.x()))).isGreaterThan(0.0);
  }

  /**
   * A feature-matching target that is the start itself: the distance is 0 from the start and
   * cannot get smaller, so the start comes back unchanged.
   */
  @Test
  void featureMatchingTowardsItsOwnRepresentationKeepsTheStart() {
    Ranked r = Ranked.of(2);
    FeatureMatch fm = new FeatureMatch(new InputGradient(r.m()), 0, r.mask(), 3, Double.NaN);
    assertThat(Tensors.maxAbs(fm.perturb(r.x(), r.x(), 0.1).sub(r.x()))).isZero();
  }

  @Test
  void pgdsDefaultStepIsTwoAndAHalfRadiiOverTheSteps() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 1);
    InputGradient ig = new InputGradient(m);
    INDArray mask = TinyModels.mask(m);
    assertThat(new Pgd(ig, mask, Norm.L2, InputGradient.Loss.CE, 5, Double.NaN, false, false, 0).stepSize(0.2))
        .isCloseTo(0.1, within(1e-15));
    assertThat(new Pgd(ig, mask, Norm.L2, InputGradient.Loss.CE, 5, 0.03, false, false, 0).stepSize(0.2)).isEqualTo(0.03);
    // Zero would never move: refused like a negative step, not run as a no-op attack.
    assertThatThrownBy(() -> new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.CE, 5, 0.0, false, false, 0))
        .hasMessageContaining("--step-size must be positive");
    assertThatThrownBy(() -> new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.CE, 0, Double.NaN, false, false, 0))
        .hasMessage("--steps must be at least 1, got 0");
  }

  /**
   * The feature-matching result written out: projected sign steps down the distance gradient,
   * and per row the iterate with the smallest distance, the last one included. One step is a
   * valid run too.
   */
  @Test
  void featureMatchingKeepsEachRowsNearestIterateTheLastIncluded() {
    InvertibleClassifier m = TinyModels.fiRevnet(F64, 6);
    INDArray b = TinyModels.images(3, F64, 7), a = TinyModels.images(3, F64, 8), mask = TinyModels.mask(m);
    InputGradient ig = new InputGradient(m);
    double eps = 0.05;
    for (int steps : new int[] {1, 3}) {
      FeatureMatch fm = new FeatureMatch(ig, 1, mask, steps, Double.NaN);
      INDArray target = fm.representation(a);
      double alpha = 2.5 * eps / steps;
      INDArray it = b.dup(), best = b.dup();
      double[] bestDist = InputGradient.squaredDistances(fm.representation(b), target);
      int improvedAtTheLast = 0;
      for (int t = 1; t <= steps; t++) {
        INDArray g = ig.featureDistance(1, it, target).grad();
        INDArray moved = it.sub(Transforms.sign(g.mul(mask), false).muli(alpha));
        INDArray inBall = b.add(Transforms.min(Transforms.max(moved.sub(b), -eps, false), eps, false).muli(mask));
        it = Transforms.min(Transforms.max(inBall, 0.0, false), 1.0, false);
        double[] d = InputGradient.squaredDistances(fm.representation(it), target);
        for (int i = 0; i < d.length; i++) {
          if (d[i] < bestDist[i]) {
            bestDist[i] = d[i];
            best.slice(i).assign(it.slice(i));
            if (t == steps) improvedAtTheLast++;
          }
        }
      }
      assertThat(improvedAtTheLast).as("steps %d: rows whose last iterate is the nearest", steps).isPositive();
      assertThat(Tensors.maxAbs(fm.perturb(b, a, eps).sub(best))).as("steps %d", steps).isLessThan(1e-12);
    }
  }

  /**
   * Each row the untargeted attack leaves correct gets targeted runs towards its wrong classes,
   * most likely first, until one misclassifies it; a row none breaks comes back unchanged. Rows are independent (evaluation mode, a loss
   * summed over rows), so one row at a time written out must give the batch's result.
   */
  @Test
  void multiTargetedTriesEachRowsWrongClassesInOrderUntilOneBreaksIt() {
    int n = 6;
    Ranked r = Ranked.of(n);
    Pgd towards = new Pgd(new InputGradient(r.m()), r.mask(), Norm.LINF, InputGradient.Loss.MARGIN, 1, Double.NaN, false, true, 0);
    double eps = 0.03;
    INDArray multi = new MultiTargeted(r.m(), (xb, goals, e) -> xb.dup(), towards).perturb(r.x(), r.y(), eps);
    int broken = 0;
    for (int i = 0; i < n; i++) {
      INDArray xi = r.x().get(NDArrayIndex.interval(i, i + 1)).dup('c'), expected = xi;
      for (int k = 0; k < r.wrong()[i].length; k++) {
        INDArray adv = towards.perturbUntilMisclassified(xi, new int[] {r.wrong()[i][k]}, new int[] {r.y()[i]}, eps);
        if (Losses.argmax(r.m().logits(adv))[0] != r.y()[i]) {
          expected = adv;
          broken++;
          break;
        }
      }
      assertThat(Tensors.maxAbs(multi.slice(i).sub(expected.slice(0)))).as("row %d", i).isLessThan(1e-12);
    }
    // Both outcomes occur: rows some target broke, and rows every target left unchanged.
    assertThat(broken).isBetween(1, n - 1);
  }

  @Test
  void wrongClassesAreTriedMostLikelyFirst() {
    INDArray logits = org.nd4j.linalg.factory.Nd4j.createFromArray(new double[][] {{0.1, 3, -1, 2}, {5, 4, 6, -2}});
    int[][] order = MultiTargeted.wrongClassesByLikelihood(logits, new int[] {1, 2});
    assertThat(order[0]).containsExactly(3, 0, 2);
    assertThat(order[1]).containsExactly(0, 1, 3);
  }

  @Test
  void featureMatchingReducesTheRepresentationDistanceOfAnOrdinaryDl4jNetwork() {
    var net = org.irevnet.testing.TinyNetworks.graph(DataType.FLOAT, 5);
    org.irevnet.testing.TinyNetworks.train(net, 3, 4);
    org.irevnet.models.Dl4jClassifier m = org.irevnet.models.Dl4jClassifier.of(net, "tiny", new long[] {1, 6, 6}, null);
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    INDArray b = org.nd4j.linalg.factory.Nd4j.rand(DataType.FLOAT, 4, 1, 6, 6);
    INDArray a = org.nd4j.linalg.factory.Nd4j.rand(DataType.FLOAT, 4, 1, 6, 6);
    INDArray before = net.params().dup();
    InputGradient ig = new InputGradient(m);
    INDArray mask = org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, 1, 1, 6, 6);
    for (String layer : List.of("block", "dense")) {
      FeatureMatch fm = new FeatureMatch(ig, m.layerIndex(layer), mask, 20, Double.NaN);
      INDArray ha = fm.representation(a);
      double[] start = InputGradient.squaredDistances(fm.representation(b), ha);
      INDArray x = fm.perturb(b, a, 0.3);
      double[] after = InputGradient.squaredDistances(fm.representation(x), ha);
      for (int i = 0; i < 4; i++) assertThat(after[i]).as("%s row %d", layer, i).isLessThan(0.8 * start[i]);
      assertThat(Tensors.maxAbs(x.sub(b))).isLessThanOrEqualTo(0.3 + 1e-6);
      assertThat(Tensors.min(x)).isGreaterThanOrEqualTo(0.0);
      assertThat(Tensors.max(x)).isLessThanOrEqualTo(1.0);
    }
    assertThat(net.params()).isEqualTo(before);
  }

  /**
   * An image whose logits are not finite has no class, so it counts as broken (as Robustness
   * counts it) and leaves the batch after the first step; with argmax's class of a NaN row, an image
   * of that label stayed in to the last step on NaN gradients, and MultiTargeted ran its targeted
   * attacks on it too.
   */
  @Test
  void anImageWithNonFiniteLogitsLeavesTheAttackAsBroken() {
    InvertibleClassifier m = TinyModels.fiRevnet(DataType.FLOAT, 2);
    INDArray x = TinyModels.images(3, DataType.FLOAT, 3), mask = TinyModels.mask(m);
    x.slice(0).assign(1.0);
    OverflowsOnWhite model = new OverflowsOnWhite(m);
    int[] y = Losses.argmax(model.logits(x)); // the label argmax finds for the white image too
    InputGradient ig = new InputGradient(model);
    Pgd untargeted = new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.CE, 4, Double.NaN, false, false, 0);
    untargeted.perturb(x, y, 1e-6);
    assertThat(model.sizes).as("images per gradient call").startsWith(3L, 3L, 2L);

    model.sizes.clear();
    Pgd towards = new Pgd(ig, mask, Norm.LINF, InputGradient.Loss.MARGIN, 2, Double.NaN, false, true, 0);
    Attack nothing = (xb, goals, e) -> xb.dup();
    new MultiTargeted(model, nothing, towards).perturb(x, y, 1e-6);
    assertThat(model.sizes).as("images per targeted gradient call").isNotEmpty().allMatch(n -> n <= 2L);
  }

  /**
   * A model whose logits overflow to NaN on an all-white image (each pixel at least 0.99) and that
   * records how many images each gradient call gets.
   */
  private static final class OverflowsOnWhite implements Classifier {
    final Classifier m;
    final List<Long> sizes = new ArrayList<>();

    OverflowsOnWhite(Classifier m) {
      this.m = m;
    }

    private static INDArray poisoned(INDArray x, INDArray logits) {
      for (int i = 0; i < x.size(0); i++) {
        if (Tensors.min(x.slice(i)) >= 0.99) logits.getRow(i).assign(Double.NaN);
      }
      return logits;
    }

    @Override public String summary() { return m.summary(); }
    @Override public int numClasses() { return m.numClasses(); }
    @Override public long[] inputShape(long n) { return m.inputShape(n); }
    @Override public DataType dataType() { return m.dataType(); }
    @Override public INDArray logits(INDArray x) { return poisoned(x, m.logits(x)); }
    @Override public List<String> layerNames() { return m.layerNames(); }
    @Override public List<INDArray> layerOutputs(INDArray x) { return m.layerOutputs(x); }
    @Override public INDArray layerOutput(INDArray x, int layer) { return m.layerOutput(x, layer); }

    @Override
    public Gradient logitGradient(INDArray x, UnaryOperator<INDArray> dLogits) {
      sizes.add(x.size(0));
      Gradient g = m.logitGradient(x, dLogits);
      return new Gradient(poisoned(x, g.output()), g.dx());
    }

    @Override
    public Gradient layerGradient(INDArray x, int layer, UnaryOperator<INDArray> dOutput) {
      return m.layerGradient(x, layer, dOutput);
    }
  }
}
