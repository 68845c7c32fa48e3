package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.data.Preprocess;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * iCE's gradients against central finite differences of its loss on a tiny fi-RevNet in float64
 * (every term, with adversaries trained a few steps first so that they are informative), and the
 * rule that the adversaries' parameters move only in their own steps and the model's and prior's
 * only in model steps.
 */
class IceObjectiveTest {
  static final DataType F64 = DataType.DOUBLE;
  static final int BATCH = 6;
  static final double EPS = 1e-6;
  static final double TOL = 1e-6;

  /** 1x8x8 -> 16x2x2: 64 dimensions, z_s = 10 of them, z_n = 54. */
  static final Architecture ARCH = Architecture.fromJson("""
      {"name": "ice-tiny", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine", "actnorm": true},
                  {"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine", "actnorm": true}]}""");

  static IceConfig config(double wNc, double wMle, String form, Double cap, int k, int hidden, boolean standardize) {
    return new IceConfig(wNc, 0, wMle, form, cap, k, hidden, 1e-2, 2, 0, standardize, 0);
  }

  @Test
  void boundedNuisanceTermWithStandardisedInputs() {
    checkGradients(config(1.5, 0, "bounded", null, 3, 8, true));
  }

  @Test
  void paperNuisanceTermWithALinearAdversary() {
    // The cap is far above every sample's CE here, so no sample sits at the clamp's kink.
    checkGradients(config(0.7, 0, "paper", 50.0, 3, 0, false));
  }

  @Test
  void mleTermIncludingThePriorParameters() {
    checkGradients(config(0, 0.9, "bounded", null, 0, 8, true));
  }

  @Test
  void allTermsTogether() {
    checkGradients(config(1.2, 0.5, "paper", 50.0, 2, 5, true));
  }

  /**
   * A batch of one image: its standardised z_n is exactly 0 whatever the model does, so the
   * nuisance term is constant and passes no gradient through the standardisation (the finite
   * differences see the same), while CE and the MLE term still do; nine of the ten classes are
   * absent from the batch. Without standardisation the adversaries' gradient reaches the model.
   */
  @Test
  void aBatchOfOneImageHasFiniteTermsAndExactGradients() {
    checkGradients(config(1.2, 0.5, "bounded", null, 2, 5, true), 1);
    checkGradients(config(0.7, 0.5, "paper", 50.0, 2, 5, false), 1);
  }

  @Test
  void paperFormPassesNoGradientForSamplesAboveTheCap() {
    IceConfig capped = config(3, 0, "paper", 1e-3, 2, 8, true);
    IceConfig ceOnly = config(0, 0, "paper", 1e-3, 2, 8, true);
    Setup a = setup(capped), b = setup(ceOnly);
    a.obj.step(a.model, a.model.forward(a.x, true), a.labels, 0);
    b.obj.step(b.model, b.model.forward(b.x, true), b.labels, 0);
    for (String k : a.model.params().entries().keySet()) {
      Param p = a.model.params().get(k);
      if (p.trainable()) assertThat(p.grad()).as(k).isEqualTo(b.model.params().get(k).grad());
    }
  }

  @Test
  void paperFormCapsAtChanceForTheModelsClassCountByDefault() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "ice-3", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 3,
         "stages": [{"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine"},
                    {"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine"}]}"""), F64, 3);
    INDArray x = Numerics.normal(F64, 6, m.inputShape(40));
    int[] labels = new int[40];
    for (int i = 0; i < labels.length; i++) labels[i] = i % 3;
    InvertibleClassifier.Forward f = m.forward(x, false);
    // The term's value at wNc 0 (it does not depend on the weight): untrained adversaries with the
    // term on are refused.
    java.util.function.Function<Double, Double> nuisanceLoss = cap -> IceObjective.forModel(
        config(0, 0, "paper", cap, 0, 8, true), m, 5, 1e-3).loss(m, f, labels, 0).nuisanceLoss();

    double byDefault = nuisanceLoss.apply(null);
    assertThat(byDefault).isEqualTo(nuisanceLoss.apply(Math.log(3))).isGreaterThanOrEqualTo(-Math.log(3));
    // Some of the untrained adversaries' per-sample CEs lie above ln 3, so ln 10 would count them.
    assertThat(nuisanceLoss.apply(Math.log(10))).isLessThan(byDefault);
  }

  @Test
  void evaluationDoesNotDependOnTheBatchAndReadsTheDensityOnDequantisedImages() {
    Setup s = trained(config(1, 0.5, "bounded", null, 3, 8, true));
    int n = 13;
    Random r = new Random(7);
    INDArray images = images(n, r);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) labels[i] = r.nextInt(10);
    Dataset data = new Dataset("t", images, labels, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));

    IceObjective.Eval whole = s.obj.evaluate(s.model, data, n);
    for (int batch : new int[] {1, 4, 5}) {
      IceObjective.Eval e = s.obj.evaluate(s.model, data, batch);
      assertThat(e.adversaryAccuracy()).as("adversary accuracy in batches of " + batch)
          .isEqualTo(whole.adversaryAccuracy());
      assertThat(e.nllBitsPerDim()).as("bits/dim in batches of " + batch).isCloseTo(whole.nllBitsPerDim(), within(1e-12));
    }

    // The NLL of the images with the evaluation noise, from the prior directly; noise-free
    // pixels give another number.
    double bits = Double.NaN, bitsNoiseFree = Double.NaN;
    for (INDArray x : List.of(Preprocess.dequantize(data.images(), Density.EVAL_SEED), data.images())) {
      InvertibleClassifier.Forward f = s.model.forward(x.castTo(F64), false);
      INDArray zn = f.z().get(NDArrayIndex.all(), NDArrayIndex.interval(10, 64));
      double b = s.obj.prior().nll(zn, f.logDet(), 64, 1, false).natsPerDim() / Math.log(2) + 8;
      if (Double.isNaN(bits)) bits = b; else bitsNoiseFree = b;
    }
    assertThat(whole.nllBitsPerDim()).isCloseTo(bits, within(1e-9));
    assertThat(Math.abs(bitsNoiseFree - bits)).as("noise-free pixels' bits/dim differ").isGreaterThan(1e-6);
  }

  @Test
  void theMleTermRefusesAnInjectiveModel() {
    InvertibleClassifier inj = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "fi-inj", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 3, "kernel": 3, "coupling": "affine", "pad": 4}]}"""), F64, 0);
    assertThatThrownBy(() -> IceObjective.forModel(config(1, 0.5, "bounded", null, 1, 4, true), inj, 0, 1e-3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'fi-inj' is injective")
        .hasMessageContaining("--w-mle 0").hasMessageNotContaining("\n");
    assertThat(IceObjective.forModel(config(1, 0, "bounded", null, 1, 4, true), inj, 0, 1e-3)).isNotNull();
  }

  record Setup(InvertibleClassifier model, IceObjective obj, INDArray x, int[] labels) {}

  /** {@link #setup} with the adversaries and prior after four objective steps on its batch. */
  static Setup trained(IceConfig cfg) {
    Setup s = setup(cfg);
    for (long step = 0; step < 4; step++) s.obj.step(s.model, s.model.forward(s.x, true), s.labels, step);
    return s;
  }

  /** {@code n} 1x8x8 images of 8-bit pixels, a quarter of them exact zeros (as padding is). */
  static INDArray images(int n, Random r) {
    float[] pixels = new float[n * 64];
    for (int i = 0; i < pixels.length; i++) pixels[i] = r.nextInt(4) == 0 ? 0 : r.nextInt(256) / 255f;
    return Nd4j.create(pixels, new long[] {n, 1, 8, 8}, DataType.FLOAT);
  }

  static Setup setup(IceConfig cfg) {
    return setup(cfg, BATCH);
  }

  static Setup setup(IceConfig cfg, int batch) {
    InvertibleClassifier m = InvertibleClassifier.build(ARCH, F64, 3);
    Random r = new Random(4);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.set(p.value().add(Init.uniform(F64, r, 0.3, p.value().shape())));
    }
    IceObjective obj = IceObjective.forModel(cfg, m, 5, 1e-3);
    for (Param p : obj.prior().params().entries().values()) p.set(Init.uniform(F64, r, 0.3, p.value().shape()));
    INDArray x = Numerics.normal(F64, 6, m.inputShape(batch));
    int[] labels = new int[batch];
    for (int i = 0; i < batch; i++) labels[i] = r.nextInt(10);
    return new Setup(m, obj, x, labels);
  }

  /**
   * Runs one objective step (adversaries train, then the model's and prior's gradients), then
   * compares sampled entries of every model and prior parameter's gradient with central
   * differences of {@link IceObjective#loss} with the adversaries as they are after the step.
   */
  static void checkGradients(IceConfig cfg) {
    checkGradients(cfg, BATCH);
  }

  static void checkGradients(IceConfig cfg, int batch) {
    Setup s = setup(cfg, batch);
    InvertibleClassifier.Forward f = s.model.forward(s.x.dup(), true);
    double[][] z = f.z().toDoubleMatrix();
    IceObjective.Terms t = s.obj.step(s.model, f, s.labels, 0);
    assertThat(t.loss()).isFinite();
    double largest = 0;
    for (double[] row : z) for (int j = 10; j < row.length; j++) largest = Math.max(largest, Math.abs(row[j]));
    assertThat(t.znMaxAbs()).as("the largest |z_n|, logits excluded").isEqualTo(largest);
    if (cfg.wNc() > 0) assertThat(t.nuisanceLoss()).isNotZero();
    if (cfg.wMle() > 0) assertThat(t.nllBitsPerDim()).isFinite();

    List<ParamTable> tables = new ArrayList<>(List.of(s.model.params()));
    if (cfg.wMle() > 0) tables.add(s.obj.prior().params());
    int compared = 0;
    for (ParamTable table : tables) {
      for (Map.Entry<String, Param> e : table.entries().entrySet()) {
        Param p = e.getValue();
        if (!p.trainable()) continue;
        int[] idx = Numerics.sampleIndices(p.value().length(), 4, e.getKey().hashCode());
        double[] numeric = Numerics.gradient(v -> s.obj.loss(s.model, s.model.forward(s.x.dup(), true), s.labels, 0)
            .loss(), p.value(), EPS, idx);
        INDArray g = p.grad().dup('c').reshape(-1);
        double[] analytic = new double[idx.length];
        for (int i = 0; i < idx.length; i++) analytic[i] = g.getDouble(idx[i]);
        assertThat(Numerics.maxRelDiff(analytic, numeric)).as("dL/d" + e.getKey()).isLessThanOrEqualTo(TOL);
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(10);
  }

  @Test
  void adversariesMoveOnlyInTheirStepsAndTheModelAndPriorOnlyInModelSteps() {
    Setup s = setup(config(1, 0.5, "bounded", null, 2, 8, true));
    AdamOptimizer adam = new AdamOptimizer(s.model.params(), 1e-2);
    Map<String, INDArray> model0 = s.model.params().state();
    Map<String, INDArray> prior0 = s.obj.prior().params().state();
    Map<String, INDArray> adv0 = adversaryParams(s.obj);

    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    assertThat(s.model.params().state()).as("model after the adversary steps").isEqualTo(model0);
    assertThat(s.obj.prior().params().state()).as("prior after the adversary steps").isEqualTo(prior0);
    Map<String, INDArray> adv1 = adversaryParams(s.obj);
    for (String k : adv0.keySet()) assertThat(adv1.get(k)).as(k + " moved in its step").isNotEqualTo(adv0.get(k));
    for (NuisanceClassifier a : s.obj.adversaries()) {
      for (Param p : a.params().entries().values()) {
        assertThat(Tensors.maxAbs(p.grad())).as("adversary gradient left by the model's pass").isZero();
      }
    }
    assertThat(Tensors.maxAbs(adam.gradients())).as("model gradient").isPositive();

    adam.step();
    s.obj.stepPrior(1e-2);
    assertThat(adversaryParams(s.obj)).as("adversaries after the model step").isEqualTo(adv1);
    for (String k : model0.keySet()) {
      if (s.model.params().get(k).trainable()) {
        assertThat(s.model.params().get(k).value()).as(k + " moved in the model step").isNotEqualTo(model0.get(k));
      }
    }
    for (String k : prior0.keySet()) {
      assertThat(s.obj.prior().params().get(k).value()).as(k + " moved in the model step").isNotEqualTo(prior0.get(k));
    }
  }

  static Map<String, INDArray> adversaryParams(IceObjective obj) {
    Map<String, INDArray> m = new java.util.LinkedHashMap<>();
    for (int j = 0; j < obj.adversaries().size(); j++) {
      int jj = j;
      obj.adversaries().get(j).params().state().forEach((k, v) -> m.put(jj + "." + k, v));
    }
    return m;
  }

  @Test
  void adversariesAreReinitialisedOnScheduleStaggered() {
    // Two adversaries, re-initialised every 4 steps: adversary 1 at steps 2 and 6, adversary 0
    // at step 4. Compared with the same run without re-initialisation.
    List<Map<String, INDArray>> with = adversaryTrajectory(4), without = adversaryTrajectory(0);
    for (int step = 0; step < 7; step++) {
      Map<String, INDArray> a = with.get(step), b = without.get(step);
      assertThat(a.get("1.fc0.weight").equals(b.get("1.fc0.weight"))).as("adversary 1 after step " + step)
          .isEqualTo(step < 2);
      assertThat(a.get("0.fc0.weight").equals(b.get("0.fc0.weight"))).as("adversary 0 after step " + step)
          .isEqualTo(step < 4);
    }
  }

  @Test
  void threeAdversariesAreReinitialisedAThirdOfThePeriodApart() {
    // Every 3 steps: adversary 2 first at step 1, adversary 1 at step 2, adversary 0 at step 3.
    List<Map<String, INDArray>> with = adversaryTrajectory(3, 3, 4), without = adversaryTrajectory(0, 3, 4);
    for (int step = 0; step < 4; step++) {
      for (int j = 0; j < 3; j++) {
        String w = j + ".fc0.weight";
        assertThat(with.get(step).get(w).equals(without.get(step).get(w))).as("adversary " + j + " after step " + step)
            .isEqualTo(step < 3 - j);
      }
    }
  }

  static List<Map<String, INDArray>> adversaryTrajectory(int reinitEvery) {
    return adversaryTrajectory(reinitEvery, 2, 7);
  }

  /** The adversaries' parameters after each of {@code steps} steps. */
  static List<Map<String, INDArray>> adversaryTrajectory(int reinitEvery, int adversaries, int steps) {
    Setup s = setup(new IceConfig(1, 0, 0, "bounded", null, 1, 4, 1e-2, adversaries, reinitEvery, true, 0));
    List<Map<String, INDArray>> out = new ArrayList<>();
    for (long step = 0; step < steps; step++) {
      s.obj.step(s.model, s.model.forward(s.x, true), s.labels, step);
      out.add(adversaryParams(s.obj));
    }
    return out;
  }

  /**
   * A period shorter than the ensemble (here 3 adversaries) cannot give each its own phase, but
   * each adversary is still restarted every {@code r} steps, as asked, and the ensemble uses every
   * phase there is: at {@code r = 1} every adversary restarts every step (fresh adversaries, each
   * with its k updates), at {@code r = 2} the restarts alternate between two groups, so the
   * ensemble never holds only just-restarted adversaries. So the setting is kept, not refused.
   * Without adversary steps and nuisance term, an adversary's parameters change exactly when it
   * is restarted.
   */
  @Test
  void aReinitPeriodShorterThanTheEnsembleRestartsEachAdversaryEveryPeriod() {
    for (int r : new int[] {1, 2}) {
      Setup s = setup(new IceConfig(0, 0, 0, "bounded", null, 0, 4, 1e-2, 3, r, true, 0));
      List<Map<String, INDArray>> after = new ArrayList<>();
      after.add(adversaryParams(s.obj));
      for (long step = 0; step < 9; step++) {
        s.obj.step(s.model, s.model.forward(s.x, true), s.labels, step);
        after.add(adversaryParams(s.obj));
      }
      java.util.Set<Integer> phases = new java.util.HashSet<>();
      for (int j = 0; j < 3; j++) {
        List<Integer> restarts = new ArrayList<>();
        for (int step = 0; step < 9; step++) {
          String w = j + ".fc0.weight";
          if (!after.get(step + 1).get(w).equals(after.get(step).get(w))) restarts.add(step);
        }
        assertThat(restarts).as("r = " + r + ": adversary " + j + " restarted at").isNotEmpty()
            .doesNotContain(0).hasSize((9 - 1 - restarts.get(0)) / r + 1);
        for (int i = 1; i < restarts.size(); i++) {
          assertThat(restarts.get(i) - restarts.get(i - 1)).as("r = " + r + ": adversary " + j).isEqualTo(r);
        }
        assertThat(restarts.get(0)).as("r = " + r + ": adversary " + j + "'s first restart").isLessThanOrEqualTo(r);
        phases.add(restarts.get(0) % r);
      }
      assertThat(phases).as("r = " + r + ": phases used").hasSize(r);
    }
  }

  /** {@code zn} standardised per dimension with its own batch statistics, as batch norm without affine, by hand. */
  static double[][] standardized(double[][] zn) {
    int n = zn.length, d = zn[0].length;
    double[][] out = new double[n][d];
    for (int k = 0; k < d; k++) {
      double mean = 0, var = 0;
      for (double[] row : zn) mean += row[k] / n;
      for (double[] row : zn) var += (row[k] - mean) * (row[k] - mean) / n;
      for (int i = 0; i < n; i++) out[i][k] = (zn[i][k] - mean) / Math.sqrt(var + 1e-5);
    }
    return out;
  }

  static double[][] nuisance(InvertibleClassifier m, INDArray x) {
    return m.forward(x, false).z().get(NDArrayIndex.all(), NDArrayIndex.interval(10, 64)).toDoubleMatrix();
  }

  static int argmax(double[] row) {
    int best = 0;
    for (int k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    return best;
  }

  /**
   * The reported terms against the two adversaries' cross-entropies and accuracies on the
   * standardised {@code z_n}, computed here; without the MLE term there are no bits per dimension.
   */
  @Test
  void theTermsAverageTheAdversariesCrossEntropyAndAccuracyComputedByHand() {
    Setup s = setup(config(1.5, 0, "bounded", null, 2, 8, true));
    for (long step = 0; step < 3; step++) s.obj.step(s.model, s.model.forward(s.x, true), s.labels, step);
    IceObjective.Terms t = s.obj.loss(s.model, s.model.forward(s.x, true), s.labels, 0);

    INDArray x = Nd4j.createFromArray(standardized(nuisance(s.model, s.x)));
    double ce = 0, acc = 0, uniform = 0;
    for (NuisanceClassifier a : s.obj.adversaries()) {
      double[][] logits = a.forward(x).logits().toDoubleMatrix();
      for (int i = 0; i < BATCH; i++) {
        double lse = 0;
        for (double v : logits[i]) lse += Math.exp(v);
        lse = Math.log(lse);
        ce += (lse - logits[i][s.labels[i]]) / BATCH / 2;
        for (double v : logits[i]) uniform += (lse - v) / 10 / BATCH / 2;
        if (argmax(logits[i]) == s.labels[i]) acc += 1.0 / BATCH / 2;
      }
    }
    assertThat(t.nuisanceCe()).isCloseTo(ce, within(1e-9));
    assertThat(t.adversaryAccuracy()).isCloseTo(acc, within(1e-12));
    assertThat(t.nuisanceLoss()).isCloseTo(uniform, within(1e-9));
    assertThat(t.loss()).isCloseTo(t.ce() + 1.5 * uniform, within(1e-9));
    assertThat(t.nllBitsPerDim()).isNaN();
  }

  /** k adversary updates per model step: one step with k = 2 is two steps with k = 1 on the same batch. */
  @Test
  void eachModelStepTrainsTheAdversariesKTimes() {
    Setup twice = setup(config(1, 0, "bounded", null, 2, 8, true));
    Setup once = setup(config(1, 0, "bounded", null, 1, 8, true));
    // The nuisance term off: with it on, no adversary steps is refused. It does not enter their steps.
    Setup never = setup(config(0, 0, "bounded", null, 0, 8, true));
    Map<String, INDArray> initial = adversaryParams(never.obj);
    twice.obj.step(twice.model, twice.model.forward(twice.x, true), twice.labels, 0);
    once.obj.step(once.model, once.model.forward(once.x, true), once.labels, 0);
    once.obj.step(once.model, once.model.forward(once.x, true), once.labels, 0);
    never.obj.step(never.model, never.model.forward(never.x, true), never.labels, 0);
    assertThat(adversaryParams(twice.obj)).isEqualTo(adversaryParams(once.obj)).isNotEqualTo(initial);
    assertThat(adversaryParams(never.obj)).isEqualTo(initial);
  }

  /**
   * The adversaries' accuracy on a split is theirs on the whole split's standardised {@code z_n}
   * of the images as they are (no dequantisation noise without the MLE term), and there are no
   * bits per dimension. The labels are adversary 0's predictions there, so that its accuracy is
   * 1 exactly when it sees what this test standardised.
   */
  @Test
  void evaluationWithoutTheMleTermIsTheAdversariesAccuracyOnTheStandardisedSplit() {
    Setup s = trained(config(1, 0, "bounded", null, 3, 8, true));
    int n = 13;
    INDArray images = images(n, new Random(7));
    INDArray x = Nd4j.createFromArray(standardized(nuisance(s.model, images.castTo(F64))));
    Labelled l = labelledByAdversaryZero(s, images, x);
    Dataset data = l.data();
    IceObjective.Eval e = s.obj.evaluate(s.model, data, 4);
    assertThat(e.adversaryAccuracy()).isEqualTo(l.accuracy());
    assertThat(e.nllBitsPerDim()).isNaN();

    // Copies of one image: one z_n, standardised to 0, so each adversary gives every image the
    // class it gives 0. (Dequantisation noise would spread z_n over unit variance again.)
    INDArray same = Nd4j.tile(images(1, new Random(8)), n, 1, 1, 1);
    INDArray zero = Nd4j.zeros(F64, 1, 54);
    int c0 = argmax(s.obj.adversaries().get(0).forward(zero).logits().toDoubleMatrix()[0]);
    int c1 = argmax(s.obj.adversaries().get(1).forward(zero).logits().toDoubleMatrix()[0]);
    int[] allC0 = new int[n];
    Arrays.fill(allC0, c0);
    Dataset copies = new Dataset("copies", same, allC0, data.classNames());
    assertThat(s.obj.evaluate(s.model, copies, 4).adversaryAccuracy()).isEqualTo(c1 == c0 ? 1.0 : 0.5);
  }

  /** Images labelled with adversary 0's predictions on {@code x}, and the two adversaries' mean accuracy on {@code x} then. */
  record Labelled(Dataset data, double accuracy) {}

  static Labelled labelledByAdversaryZero(Setup s, INDArray images, INDArray x) {
    int n = Math.toIntExact(images.size(0));
    double[][] first = s.obj.adversaries().get(0).forward(x).logits().toDoubleMatrix();
    double[][] second = s.obj.adversaries().get(1).forward(x).logits().toDoubleMatrix();
    int[] labels = new int[n];
    double secondCorrect = 0;
    for (int i = 0; i < n; i++) {
      labels[i] = argmax(first[i]);
      if (argmax(second[i]) == labels[i]) secondCorrect++;
    }
    Dataset data = new Dataset("t", images, labels, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    return new Labelled(data, (n + secondCorrect) / 2 / n);
  }

  /** The prior moves with the model at the rate it is given: Adam's first step is that rate against each gradient's sign. */
  @Test
  void thePriorStepsAtTheGivenRate() {
    Setup s = setup(config(0, 0.9, "bounded", null, 0, 8, true));
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    assertThat(Tensors.maxAbs(s.obj.priorGradients())).isPositive();
    Map<String, INDArray> before = s.obj.prior().params().state();
    Map<String, double[]> grads = new java.util.HashMap<>();
    s.obj.prior().params().entries().forEach((k, p) -> grads.put(k, p.grad().dup().reshape(-1).toDoubleVector()));
    s.obj.stepPrior(0.05);
    for (String k : before.keySet()) {
      double[] step = s.obj.prior().params().get(k).value().sub(before.get(k)).reshape(-1).toDoubleVector();
      double[] g = grads.get(k);
      for (int i = 0; i < g.length; i++) {
        assertThat(step[i]).as(k + "[" + i + "]").isCloseTo(-0.05 * Math.signum(g[i]), within(1e-3));
      }
    }
    assertThat(Tensors.maxAbs(s.obj.priorGradients())).isZero();
  }

  /**
   * The objective's state keeps the last advReplay batches, and an objective loaded from it
   * continues exactly as the one it came from (adversaries, their Adam states, prior and replay
   * draws), where a fresh one does not.
   */
  @Test
  void aLoadedStateContinuesExactlyIncludingTheReplayBuffer() {
    IceConfig cfg = new IceConfig(1, 0, 0.5, "bounded", null, 2, 6, 1e-2, 2, 0, true, 2);
    Setup a = setup(cfg);
    List<INDArray> batches = new ArrayList<>();
    for (int b = 0; b < 4; b++) batches.add(Numerics.normal(F64, 20 + b, a.model.inputShape(BATCH)));
    for (int step = 0; step < 3; step++) {
      a.obj.step(a.model, a.model.forward(batches.get(step), true), a.labels, step);
      a.obj.stepPrior(1e-2);
    }

    Map<String, INDArray> state = a.obj.state();
    assertThat(state).containsKeys("replay.0.x", "replay.0.y", "replay.1.x", "replay.1.y").doesNotContainKey("replay.2.x");
    // The mean and variance are summed in another order here: equal to rounding.
    assertThat(Numerics.maxAbsDiff(state.get("replay.1.x"), Nd4j.createFromArray(standardized(nuisance(a.model, batches.get(2))))))
        .isLessThan(1e-9);

    // b has trained on its own first: everything of it is replaced, its replay buffer too.
    Setup b = setup(cfg), fresh = setup(cfg);
    b.obj.step(b.model, b.model.forward(batches.get(3), true), b.labels, 0);
    b.obj.stepPrior(1e-2);
    b.obj.loadState(state);
    IceObjective.Terms ta = a.obj.step(a.model, a.model.forward(batches.get(3), true), a.labels, 3);
    IceObjective.Terms tb = b.obj.step(b.model, b.model.forward(batches.get(3), true), b.labels, 3);
    fresh.obj.step(fresh.model, fresh.model.forward(batches.get(3), true), fresh.labels, 3);
    a.obj.stepPrior(1e-2);
    b.obj.stepPrior(1e-2);
    assertThat(tb).isEqualTo(ta);
    assertThat(b.obj.state()).isEqualTo(a.obj.state());
    assertThat(adversaryParams(fresh.obj)).isNotEqualTo(adversaryParams(a.obj));

    Map<String, INDArray> partial = new java.util.HashMap<>(state);
    partial.keySet().removeIf(k -> k.startsWith("adv.1."));
    assertThatThrownBy(() -> fresh.obj.loadState(partial)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state has no entries adv.1.*");
  }

  /**
   * A loaded state replaces the replay buffer's labels along with its inputs. The objective here
   * had replayed a batch of its own under other labels; a stale label list would pair the loaded
   * inputs with those labels (the test above cannot tell: its batches all share one labelling).
   */
  @Test
  void loadingAStateReplacesTheReplayedLabelsAsWellAsTheInputs() {
    IceConfig cfg = new IceConfig(1, 0, 0, "bounded", null, 1, 0, 1e-2, 1, 0, true, 2);
    Setup a = setup(cfg), b = setup(cfg);
    int[] other = new int[BATCH];
    for (int i = 0; i < BATCH; i++) other[i] = (a.labels[i] + 1) % 10;
    for (int step = 0; step < 2; step++) a.obj.step(a.model, a.model.forward(a.x, true), a.labels, step);
    b.obj.step(b.model, b.model.forward(b.x, true), other, 0);
    Map<String, INDArray> state = a.obj.state();
    b.obj.loadState(state);
    assertThat(b.obj.state()).isEqualTo(state);
  }

  static IceConfig whitened(double wNc, double wMle, int replay) {
    return new IceConfig(wNc, 0, wMle, "bounded", null, 2, 5, 1e-2, 2, 0, true, replay, true);
  }

  /**
   * Whitened adversaries: the model's gradient through {@code (z_n - mu) W}, with mu and W
   * constants of the step, against central differences of the loss (which uses the same mu and
   * W). A batch of 60 for the 54 dimensions of z_n, so that the covariance W comes from is full rank.
   */
  @Test
  void gradientsThroughTheWhitenedInputs() {
    checkGradients(whitened(1.5, 0, 0), 60);
    checkGradients(whitened(1.2, 0.5, 2), 60);
  }

  /** The covariance (population: over n) of {@code [n, d]} rows, by hand. */
  static double[][] covariance(double[][] x) {
    int n = x.length, d = x[0].length;
    double[] mean = mean(x);
    double[][] c = new double[d][d];
    for (double[] row : x) {
      for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) c[a][b] += (row[a] - mean[a]) * (row[b] - mean[b]) / n;
    }
    return c;
  }

  /**
   * At the first step the running statistics are the batch's own, and W is refreshed from them,
   * so the batch the adversaries see (the replay buffer's entry) has identity covariance, by a
   * covariance computed here; W is symmetric (ZCA), which with that makes it C^-1/2. The
   * per-dimension standardisation would leave the correlations: its off-diagonal entries are not 0.
   */
  @Test
  void aBatchWhitenedWithItsOwnStatisticsHasIdentityCovariance() {
    Setup s = setup(whitened(1, 0, 1), 400);
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    Map<String, INDArray> state = s.obj.state();
    double[][] c = covariance(state.get("replay.0.x").toDoubleMatrix());
    double worst = 0;
    for (int a = 0; a < c.length; a++) for (int b = 0; b < c.length; b++) worst = Math.max(worst, Math.abs(c[a][b] - (a == b ? 1 : 0)));
    assertThat(c.length).isEqualTo(54);
    assertThat(worst).as("largest |cov - I|").isLessThan(1e-6);
    INDArray w = state.get("whiten.matrix");
    assertThat(Numerics.maxAbsDiff(w, w.transpose())).isLessThan(1e-12);
    double[][] s0 = covariance(standardized(nuisance(s.model, s.x)));
    double offDiagonal = 0;
    for (int a = 0; a < s0.length; a++) for (int b = 0; b < a; b++) offDiagonal = Math.max(offDiagonal, Math.abs(s0[a][b]));
    assertThat(offDiagonal).as("the standardised batch's largest correlation").isGreaterThan(0.1);
  }

  /**
   * The running statistics after two steps are the pooled mean and covariance of both batches
   * (weights 1/2 each), computed here from the 2n rows together.
   */
  @Test
  void theRunningStatisticsPoolTheBatchesSeen() {
    Setup s = setup(whitened(1, 0, 0), 30);
    INDArray second = Numerics.normal(F64, 31, s.model.inputShape(30));
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    double[][] first = nuisance(s.model, s.x); // the model has not moved: no model step here
    s.obj.step(s.model, s.model.forward(second, true), s.labels, 1);
    double[][] both = new double[60][];
    double[][] next = nuisance(s.model, second);
    for (int i = 0; i < 30; i++) {
      both[i] = first[i];
      both[30 + i] = next[i];
    }
    Map<String, INDArray> state = s.obj.state();
    assertThat(Numerics.maxAbsDiff(state.get("whiten.run_cov"), Nd4j.createFromArray(covariance(both)))).isLessThan(1e-10);
    double[] mean = new double[54];
    for (double[] row : both) for (int k = 0; k < 54; k++) mean[k] += row[k] / 60;
    assertThat(Numerics.maxAbsDiff(state.get("whiten.run_mean"), Nd4j.createFromArray(new double[][] {mean})))
        .isLessThan(1e-12);
    // W was refreshed at step 1 (in the warm-up) from these statistics.
    assertThat(state.get("whiten.mean")).isEqualTo(state.get("whiten.run_mean"));
    assertThat(Numerics.maxAbsDiff(state.get("whiten.matrix"), IceObjective.zca(state.get("whiten.run_cov")))).isZero();
  }

  /** The mean {@code [d]} of {@code [n, d]} rows, by hand. */
  static double[] mean(double[][] x) {
    double[] m = new double[x[0].length];
    for (double[] row : x) for (int k = 0; k < m.length; k++) m[k] += row[k] / x.length;
    return m;
  }

  /**
   * Past 100 batches a new batch's statistics weigh 1 - 0.99 (step 200 after step 0: not 1/201),
   * by the mixture's raw moments computed here ({@code E[z z^T] - m m^T}, not the code's spread
   * of the means); and after the warm-up mu and W are refreshed at multiples of 25 only (200 and
   * 225, not 201).
   */
  @Test
  void pastAHundredBatchesTheRunningStatisticsDecayAndRefreshEvery25Steps() {
    Setup s = setup(whitened(1, 0, 0), 30);
    INDArray next = Numerics.normal(F64, 31, s.model.inputShape(30));
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    s.obj.step(s.model, s.model.forward(next, true), s.labels, 200);
    double[][] a = nuisance(s.model, s.x), b = nuisance(s.model, next); // the model has not moved
    double[] ma = mean(a), mb = mean(b);
    double[][] ca = covariance(a), cb = covariance(b);
    int d = ma.length;
    double[] m = new double[d];
    double[][] c = new double[d][d];
    for (int k = 0; k < d; k++) m[k] = 0.99 * ma[k] + 0.01 * mb[k];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        c[i][j] = 0.99 * (ca[i][j] + ma[i] * ma[j]) + 0.01 * (cb[i][j] + mb[i] * mb[j]) - m[i] * m[j];
      }
    }
    Map<String, INDArray> at200 = s.obj.state();
    assertThat(Numerics.maxAbsDiff(at200.get("whiten.run_mean"), Nd4j.createFromArray(new double[][] {m})))
        .isLessThan(1e-12);
    assertThat(Numerics.maxAbsDiff(at200.get("whiten.run_cov"), Nd4j.createFromArray(c))).isLessThan(1e-10);
    assertThat(at200.get("whiten.mean")).as("refreshed at step 200").isEqualTo(at200.get("whiten.run_mean"));
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 201);
    Map<String, INDArray> at201 = s.obj.state();
    assertThat(at201.get("whiten.run_mean")).as("the statistics move at every step").isNotEqualTo(at200.get("whiten.run_mean"));
    assertThat(at201.get("whiten.mean")).as("kept at step 201").isEqualTo(at200.get("whiten.mean"));
    assertThat(at201.get("whiten.matrix")).as("kept at step 201").isEqualTo(at200.get("whiten.matrix"));
    s.obj.step(s.model, s.model.forward(next, true), s.labels, 225);
    Map<String, INDArray> at225 = s.obj.state();
    assertThat(at225.get("whiten.mean")).as("refreshed at step 225").isEqualTo(at225.get("whiten.run_mean"));
    assertThat(Numerics.maxAbsDiff(at225.get("whiten.matrix"), IceObjective.zca(at225.get("whiten.run_cov")))).isZero();
  }

  /**
   * The ZCA matrix of a covariance {@code Q diag(4, 1, 0, -1e-6) Q^T} (a Householder reflection
   * Q) is {@code Q diag((lambda + eps)^-1/2) Q^T}, computed here, with eps 1e-8 of the largest
   * eigenvalue (4e-8: the zero direction scaled 5,000, not 20,000 as eps 1e-8 / 4 would) and the
   * negative eigenvalue, rounding's, read as 0 (without that its scale would be NaN).
   */
  @Test
  void zcaScalesEachEigendirectionWithAFloorOfARelativeEps() {
    double[] v = {1, -2, 0.5, 3}, lambda = {4, 1, 0, -1e-6};
    int d = v.length;
    double vv = 0;
    for (double x : v) vv += x * x;
    double[][] q = new double[d][d];
    for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) q[i][j] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv;
    double eps = 1e-8 * 4;
    double[][] cov = new double[d][d], expected = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        for (int k = 0; k < d; k++) {
          cov[i][j] += q[i][k] * lambda[k] * q[j][k];
          expected[i][j] += q[i][k] * q[j][k] / Math.sqrt(Math.max(lambda[k], 0) + eps);
        }
      }
    }
    assertThat(expected[2][2]).as("the zero directions' share dominates").isGreaterThan(100);
    INDArray w = IceObjective.zca(Nd4j.createFromArray(cov));
    // Rounding moves the zero eigenvalues by about 1e-15, which (4e-8)^-1/2 magnifies to about 1e-5
    // in entries of up to 5,000: 1e-3 is 2e-7 of them, and the wrong eps is off by thousands.
    assertThat(Numerics.maxAbsDiff(w, Nd4j.createFromArray(expected))).isLessThan(1e-3);
  }

  /**
   * A whiten.* entry of the wrong shape in objective.npz (another model's, or a damaged file) is
   * refused by name with the shape it has and the one it needs, rather than loaded and failing,
   * or whitening wrongly, at the next step.
   */
  @Test
  void aWhiteningEntryOfTheWrongShapeIsRefused() {
    IceConfig cfg = whitened(1, 0, 0);
    Setup a = setup(cfg, 60);
    a.obj.step(a.model, a.model.forward(a.x, true), a.labels, 0);
    Map<String, INDArray> state = a.obj.state();
    Map<String, INDArray> narrow = new java.util.HashMap<>(state);
    narrow.put("whiten.matrix", state.get("whiten.matrix").get(NDArrayIndex.all(), NDArrayIndex.interval(0, 53)).dup());
    assertThatThrownBy(() -> setup(cfg, 60).obj.loadState(narrow)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state's whiten.matrix has shape [54, 53], expected [54, 54]");
    Map<String, INDArray> flat = new java.util.HashMap<>(state);
    flat.put("whiten.run_mean", state.get("whiten.run_mean").reshape(54));
    assertThatThrownBy(() -> setup(cfg, 60).obj.loadState(flat)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state's whiten.run_mean has shape [54], expected [1, 54]");
    Map<String, INDArray> tall = new java.util.HashMap<>(state);
    tall.put("whiten.mean", Nd4j.zeros(F64, 2, 54));
    assertThatThrownBy(() -> setup(cfg, 60).obj.loadState(tall)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state's whiten.mean has shape [2, 54], expected [1, 54]");
    // Its first two sizes are right: only the rank tells it apart.
    Map<String, INDArray> deep = new java.util.HashMap<>(state);
    deep.put("whiten.mean", state.get("whiten.mean").reshape(1, 54, 1));
    assertThatThrownBy(() -> setup(cfg, 60).obj.loadState(deep)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state's whiten.mean has shape [1, 54, 1], expected [1, 54]");
    // Before the first step there is no mu or W to whiten with: said so, not a NullPointerException.
    Setup fresh = setup(cfg, 60);
    Dataset data = new Dataset("d", images(4, new Random(3)), new int[] {0, 1, 2, 3},
        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    assertThatThrownBy(() -> fresh.obj.evaluate(fresh.model, data, 4)).isInstanceOf(IllegalStateException.class)
        .hasMessage("advWhiten: no whitening before the first training step");
  }

  /**
   * With advStandardize false (and no whitening) the adversaries see z_n as it is: the replay
   * buffer's entry is the raw z_n, computed here, not its standardisation.
   */
  @Test
  void withoutStandardisationTheAdversariesSeeTheRawNuisance() {
    Setup s = setup(new IceConfig(1, 0, 0, "bounded", null, 1, 4, 1e-2, 2, 0, false, 1), 30);
    s.obj.step(s.model, s.model.forward(s.x, true), s.labels, 0);
    assertThat(Numerics.maxAbsDiff(s.obj.state().get("replay.0.x"), Nd4j.createFromArray(nuisance(s.model, s.x))))
        .isLessThan(1e-12);
  }

  /**
   * With advWhiten the state holds the running statistics, mu and W, and an objective loaded from
   * it continues exactly, at steps that refresh W (3, and 49, the warm-up's last that is not a
   * multiple of 25) and at one that keeps it (51, after the warm-up and not a multiple of 25);
   * without the whitening entries the state is refused.
   */
  @Test
  void aLoadedStateContinuesExactlyWithWhitening() {
    IceConfig cfg = whitened(1, 0.5, 2);
    Setup a = setup(cfg, 60);
    List<INDArray> batches = new ArrayList<>();
    for (int b = 0; b < 5; b++) batches.add(Numerics.normal(F64, 40 + b, a.model.inputShape(60)));
    for (int step = 0; step < 3; step++) {
      a.obj.step(a.model, a.model.forward(batches.get(step), true), a.labels, step);
      a.obj.stepPrior(1e-2);
    }
    Map<String, INDArray> state = a.obj.state();
    assertThat(state).containsKeys("whiten.run_mean", "whiten.run_cov", "whiten.mean", "whiten.matrix");
    Setup b = setup(cfg, 60);
    b.obj.step(b.model, b.model.forward(batches.get(4), true), b.labels, 0);
    b.obj.stepPrior(1e-2);
    b.obj.loadState(state);
    for (int step : new int[] {3, 49, 51}) {
      INDArray w = a.obj.state().get("whiten.matrix");
      INDArray x = batches.get(step == 3 ? 3 : 4);
      IceObjective.Terms ta = a.obj.step(a.model, a.model.forward(x, true), a.labels, step);
      IceObjective.Terms tb = b.obj.step(b.model, b.model.forward(x, true), b.labels, step);
      a.obj.stepPrior(1e-2);
      b.obj.stepPrior(1e-2);
      assertThat(tb).as("step " + step).isEqualTo(ta);
      assertThat(b.obj.state()).as("step " + step).isEqualTo(a.obj.state());
      assertThat(a.obj.state().get("whiten.matrix").equals(w)).as("W kept at step " + step).isEqualTo(step == 51);
    }
    Map<String, INDArray> partial = new java.util.HashMap<>(state);
    partial.remove("whiten.run_cov");
    Setup c = setup(cfg, 60);
    assertThatThrownBy(() -> c.obj.loadState(partial)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("objective state has no entry whiten.run_cov");
    Setup plain = setup(config(1, 0.5, "bounded", null, 2, 5, true));
    assertThatThrownBy(() -> plain.obj.loadState(state)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("advWhiten is off");
  }

  /**
   * Evaluation whitens with the mu and W of training, not the split's own statistics: the labels
   * are adversary 0's predictions on {@code (z_n - mu) W} computed here from the state, so its
   * accuracy is 1 exactly when evaluation sees the same inputs.
   */
  @Test
  void evaluationWhitensWithTheTrainingStatistics() {
    Setup s = setup(whitened(1, 0, 0), 60);
    for (long step = 0; step < 3; step++) s.obj.step(s.model, s.model.forward(s.x, true), s.labels, step);
    int n = 13;
    INDArray images = images(n, new Random(7));
    Map<String, INDArray> state = s.obj.state();
    INDArray x = Nd4j.createFromArray(nuisance(s.model, images.castTo(F64))).subRowVector(state.get("whiten.mean"))
        .mmul(state.get("whiten.matrix"));
    Labelled l = labelledByAdversaryZero(s, images, x);
    assertThat(s.obj.evaluate(s.model, l.data(), 4).adversaryAccuracy()).isEqualTo(l.accuracy());
  }

  /**
   * A model step leaves none of the adversaries' arrays to the collector: their updates' and the
   * terms' passes (forward, input gradient) each left theirs, two adversaries 1,024 wide on 64
   * rows in float64 here, which the collector finds late in a training loop. Three steps kept
   * 24.6-24.9 MB (middles of two runs) with the updates' left, 18.6-18.9 with the terms', 1.8-1.9
   * now (the model's passes, in workspaces already). The middle of five runs.
   */
  @Test
  void aModelStepLeavesNoneOfTheAdversariesArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Setup s = setup(config(1, 0, "bounded", null, 1, 1024, true), 64);
    InvertibleClassifier.Forward f = s.model.forward(s.x, true);
    s.obj.step(s.model, f, s.labels, 0); // the workspaces learn their sizes
    long[] step = {1};
    List<Long> kept = KeptBytes.of(5, run -> {
      for (int i = 0; i < 3; i++) s.obj.step(s.model, f, s.labels, step[0]++);
      return null;
    });
    assertThat(KeptBytes.middle(kept)).as("native bytes three steps kept: %s", kept)
        .isLessThan(8L << 20);
  }

  /**
   * A model step leaves none of its terms' arrays to the collector either: z_n's copy, its
   * standardisation's squares, the standardised input once out of the replay buffer, the input
   * gradients dx and dz handed back and the MLE term's temporaries (a dozen arrays of z_n's size:
   * 3.8 MB a step at fi-revnet-s in float32, 0.3 now). Here z_n is 1,014 float32 dimensions of 64
   * rows (260 KB a copy) and the adversaries narrow, so that the terms' arrays are most of a step's:
   * three steps kept middles of 13.2-13.3 MB before (two runs), 3.1 and 4.9 now (two runs read).
   */
  @Test
  void aModelStepLeavesNoneOfItsTermsArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH), DataType.FLOAT, 3);
    IceConfig cfg = new IceConfig(1, 0, 0.5, "bounded", null, 1, 8, 1e-2, 1, 0, true, 2); // replay of 2 batches
    IceObjective obj = IceObjective.forModel(cfg, m, 5, 1e-3);
    INDArray x = Numerics.normal(DataType.FLOAT, 6, m.inputShape(64));
    int[] labels = new Random(4).ints(64, 0, 10).toArray();
    InvertibleClassifier.Forward f = m.forward(x, true);
    for (long step = 0; step < 3; step++) obj.step(m, f, labels, step); // the replay buffer full
    long[] step = {3};
    List<Long> kept = KeptBytes.of(5, run -> {
      for (int i = 0; i < 3; i++) obj.step(m, f, labels, step[0]++);
      return null;
    });
    assertThat(KeptBytes.middle(kept)).as("native bytes three steps kept: %s", kept).isLessThan(8L << 20);
  }

  /**
   * An evaluation leaves none of its arrays to the collector: each batch's copy, the model's
   * results, z_n's part and the prior's temporaries, the whole split's z_n, its standardised copy
   * and squares, and the adversaries' passes: 62 KB an image at fi-revnet-s, 7.4 now. Here 10,000
   * images of 54 float64 nuisance dimensions, in batches of 1,000 (fewer batches, less of ND4J's
   * per-op bookkeeping to blur the reading): middles of 52.9 MB before (three runs), 4.3-4.4 now.
   */
  @Test
  void anEvaluationLeavesNoArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Setup s = setup(config(1, 0.5, "bounded", null, 1, 8, true), 64);
    int n = 10_000;
    Dataset data = new Dataset("t", images(n, new Random(7)), new Random(8).ints(n, 0, 10).toArray(),
        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    s.obj.evaluate(s.model, data, 1000);
    List<Long> kept = KeptBytes.of(5, run -> s.obj.evaluate(s.model, data, 1000));
    assertThat(KeptBytes.middle(kept)).as("native bytes each evaluation kept: %s", kept).isLessThan(12L << 20);
    Dataset empty = new Dataset("empty", Nd4j.create(DataType.FLOAT, 0, 1, 8, 8), new int[0], data.classNames());
    assertThatThrownBy(() -> s.obj.evaluate(s.model, empty, 1000)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("iCE evaluation: empty has no images");
  }
}
