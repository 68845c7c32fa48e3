package org.irevnet.analysis;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The nuisance probe (DESIGN.md section 5, issue 4; the paper's Table 2 measurement): how much
 * label information a fully invertible model leaves in its nuisance {@code z_n = z[C:]}. The
 * model is frozen; {@code z} of the training split is computed in batches in evaluation mode; a
 * <em>fresh</em> classifier ({@link MlpClassifier}, {@link #DEFAULT_RECIPE}) is trained on the
 * standardised {@code z_n} (statistics from the training split) and tested on the test split.
 * {@code excess = nuisanceAccuracy - logitAccuracy}: positive when the nuisance alone predicts the
 * label better than the model's own logits.
 *
 * <p>Usage from Java, e.g. after training: {@code NuisanceProbe.measure(model, train, test,
 * NuisanceProbe.DEFAULT_RECIPE)}. On the full Fashion-MNIST (60k/10k) with 2 cores this takes
 * about 1.5 minutes for {@code fi-revnet-s}, most of it the forward passes.
 */
public final class NuisanceProbe {
  /** The fixed recipe's epochs, a constant so that the command's help can name it. */
  public static final int DEFAULT_EPOCHS = 10;
  /**
   * A strong but fast probe: 2 hidden layers of 512 ReLU units, 10 epochs of Adam (batch 256,
   * learning rate 1e-3 with cosine decay), no weight decay, seed 0.
   */
  public static final MlpClassifier.Recipe DEFAULT_RECIPE =
      new MlpClassifier.Recipe(List.of(512, 512), DEFAULT_EPOCHS, 256, 1e-3, 0, 0);

  /**
   * Where the {@link #linear} reader's fits stop: at a gradient of 1e-6 (no component, in the
   * solver's coordinates, above it) or after 3,000 iterations. Not the layer probes' {@link
   * SoftmaxRegression.Stopping#LAYER_PROBES} (1e-4, 1,000 iterations): on {@code
   * AnalysisTorchTest}'s {@code z_n} (1,014 standardised dimensions, 300 images)
   * that left the refit 2.4e-4 above the minimum's objective and its margins up to 0.94 from the
   * minimum's, so a per-image comparison could not judge 42 of the 120 test images, and the
   * held-out counts that choose the penalty (41 of 60 at both 1e-2 and 1e-4 at the minimum) were
   * a near-minimiser's (at 1e-5 they chose 1e-4). At 1e-6 the refit is 3.7e-8 above the minimum,
   * its margins within 0.024, every held-out accuracy the minimum's; at 1e-7 a held-out fit ran
   * out of the layer probes' 1,000 iterations. The cost, on the quickstart's models (6,000 images,
   * 1 thread, a loaded machine): CE's reader 59 s instead of 19 (501 iterations at most instead of
   * 44); iCE's, whose penalty is 1e-5, 54 s (175 s at a load of 7-9) instead of 7 (1,146 iterations
   * at most instead of 52). Hence the 3,000 iterations: iCE's fits took 1,146 to reach 1e-6 (and
   * stopped at the layer probes' 1,000 at a gradient of 3.4e-6 with the same per-image results).
   */
  public static final SoftmaxRegression.Stopping LINEAR_READER = new SoftmaxRegression.Stopping(1e-6, 3000);

  private NuisanceProbe() {}

  /**
   * The measurement.
   *
   * @param logitAccuracy the model's own test accuracy (argmax of {@code z_s})
   * @param nuisanceAccuracy the probe's test accuracy on {@code z_n}
   * @param excess {@code nuisanceAccuracy - logitAccuracy}
   * @param nuisanceTrainAccuracy the probe's accuracy on the split it was trained on
   * @param trainCount training examples of the probe
   * @param testCount test examples
   * @param nuisanceDims dimensions of {@code z_n}
   * @param recipe how the probe was trained
   * @param seconds wall-clock time of the probe's training and testing (without computing z)
   * @param logitCorrect per test example, whether the model's own class is its label ({@code
   *     nuisanceCorrect}: the probe's): what a paired test of two models on the same images needs;
   *     null for a result built from the accuracies alone
   * @param whitened whether the probe read {@code z_n} whitened ({@link Features.Whitener}) rather
   *     than standardised
   * @param linear the linear reader of the standardised {@code z_n} ({@link #linear}), or null when
   *     it was not asked for
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Result(double logitAccuracy, double nuisanceAccuracy, double excess, double nuisanceTrainAccuracy,
      int trainCount, int testCount, long nuisanceDims, MlpClassifier.Recipe recipe, double seconds,
      boolean[] logitCorrect, boolean[] nuisanceCorrect, boolean whitened, Linear linear) {

    /**
     * A result built from the accuracies alone: no per-image results, the MLP on standardised {@code
     * z_n}, no linear reader.
     */
    public static Result ofAccuracies(double logitAccuracy, double nuisanceAccuracy, double excess,
        double nuisanceTrainAccuracy, int trainCount, int testCount, long nuisanceDims, MlpClassifier.Recipe recipe,
        double seconds) {
      return new Result(logitAccuracy, nuisanceAccuracy, excess, nuisanceTrainAccuracy, trainCount, testCount,
          nuisanceDims, recipe, seconds, null, null, false, null);
    }

    /** This result with the per-image results {@code logitCorrect} and {@code nuisanceCorrect}. */
    public Result withPerImage(boolean[] logitCorrect, boolean[] nuisanceCorrect) {
      return new Result(logitAccuracy, nuisanceAccuracy, excess, nuisanceTrainAccuracy, trainCount, testCount,
          nuisanceDims, recipe, seconds, logitCorrect, nuisanceCorrect, whitened, linear);
    }
  }

  /**
   * What reads {@code z_n}: the MLP, on {@code z_n} standardised or, when {@code whitenedMlp}, also
   * whitened ({@link Features.Whitener}), and when {@code linear} the {@link #linear} reader of the
   * standardised {@code z_n} beside it (never whitened, whatever {@code whitenedMlp} says).
   */
  public record Readers(boolean whitenedMlp, boolean linear) {
    /** The fixed measurement: the MLP on standardised {@code z_n}, nothing else. */
    public static final Readers MLP = new Readers(false, false);

    /** These readers with the MLP on whitened {@code z_n}. */
    public Readers withWhitenedMlp() {
      return new Readers(true, linear);
    }

    /** These readers and the {@link #linear} reader. */
    public Readers withLinear() {
      return new Readers(whitenedMlp, true);
    }
  }

  /**
   * The linear reader of {@code z_n}: the linear probe of {@code probe --layers} ({@link
   * SoftmaxRegression#select}: L2-penalised softmax regression solved to its minimum, the penalty
   * chosen on a held-out fifth of the training examples) on {@code z_n} standardised with the
   * training split's statistics ({@link Features.Standardizer}), never whitened, every fit stopped as
   * {@link #LINEAR_READER} says. Why beside the MLP:
   * a model can hide the label in directions of tiny variance, which the recipe's few hundred Adam
   * steps barely read but a probe solved to its minimum does.
   *
   * @param accuracy test accuracy
   * @param trainAccuracy accuracy on the training split it was fitted on
   * @param l2 the penalty chosen
   * @param objective the refit's objective where it stopped, {@code mean CE + (l2 / 2) |W|^2} on the
   *     standardised training split: what a recomputation can compare with the minimum's value, to
   *     which a near-minimiser is close to second order where its logits are only to first (on a
   *     test's 1,014 dimensions 2.4e-4 above it, its margins up to 0.94 away)
   * @param seconds wall-clock time of the standardisation, the fits and the predictions
   * @param correct per test example, in order, whether its class was its label
   * @param fitting how it was fitted (solver, penalties, held-out share and seed, convergence)
   * @param heldOut each penalty tried, in order, with the held-out accuracy that chose among them
   *     (null: not recorded, as in files before 2026-12-07)
   * @param l2Ties the penalties tried whose held-out accuracy equalled {@code l2}'s, passed over for
   *     the stronger ({@link SoftmaxRegression.Selected#tiedPenalties}): empty when the choice was no
   *     tie, null when {@code heldOut} is
   */
  public record Linear(double accuracy, double trainAccuracy, double l2, double objective, double seconds,
      boolean[] correct, LayerProbes.LinearProbe fitting, List<HeldOut> heldOut, List<Double> l2Ties) {}

  /** A penalty the linear reader tried and its accuracy on the held-out training examples. */
  public record HeldOut(double l2, double accuracy) {}

  /**
   * Refuses a model without a z_s/z_n split, so that a command can say so before any other work.
   *
   * @throws IllegalArgumentException for a model that is not fully invertible
   */
  public static void requireFullyInvertible(InvertibleClassifier model) {
    model.architecture().requireFullyInvertible("the nuisance probe");
  }

  /**
   * Computes {@code z} of both splits with the frozen {@code model} and measures.
   *
   * @throws IllegalArgumentException if the model is not fully invertible (an i-RevNet has no
   *     {@code z_n})
   */
  public static Result measure(InvertibleClassifier model, Dataset train, Dataset test, MlpClassifier.Recipe recipe) {
    return measure(model, train, test, recipe, Readers.MLP);
  }

  /**
   * {@link #measure(InvertibleClassifier, Dataset, Dataset, MlpClassifier.Recipe)} by the given
   * {@code readers} (as {@link #measure(INDArray, int[], INDArray, int[], int, MlpClassifier.Recipe, Readers)}).
   */
  public static Result measure(InvertibleClassifier model, Dataset train, Dataset test, MlpClassifier.Recipe recipe,
      Readers readers) {
    requireFullyInvertible(model);
    return measure(Features.z(model, train.images()), train.labels(), Features.z(model, test.images()),
        test.labels(), model.numClasses(), recipe, readers);
  }

  /**
   * The measurement on given outputs: the first {@code numClasses} columns of {@code z} are the
   * logits, the rest the nuisance, read as {@code readers} says ({@link Readers}): the MLP on the
   * standardised {@code z_n}, whitened by the training split's PCA when {@code
   * readers.whitenedMlp()}; the {@link #linear} reader of the standardised {@code z_n} too when {@code
   * readers.linear()}, holding out the training examples drawn with the recipe's seed to choose its
   * penalty.
   *
   * @param zTrain {@code [n, d]} outputs of the training split
   * @param zTest {@code [m, d]} outputs of the test split
   */
  public static Result measure(INDArray zTrain, int[] yTrain, INDArray zTest, int[] yTest, int numClasses,
      MlpClassifier.Recipe recipe, Readers readers) {
    long d = zTrain.size(1);
    if (d <= numClasses || zTest.size(1) != d) {
      throw new IllegalArgumentException("nuisance probe: z must have more than " + numClasses
          + " columns, the same in both splits; got " + d + " and " + zTest.size(1));
    }
    if (yTest.length == 0) throw new IllegalArgumentException("nuisance probe: empty test split");
    long t0 = System.nanoTime();
    int[] logitClasses = Losses.predictions(Features.columns(zTest, 0, numClasses));
    Trained probe = train(zTrain, yTrain, numClasses, recipe, readers);
    int[] probeClasses = probe.classes(zTest);
    double logitAcc = Losses.accuracy(logitClasses, yTest), acc = Losses.accuracy(probeClasses, yTest);
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Result(logitAcc, acc, acc - logitAcc, probe.trainAccuracy(), yTrain.length, yTest.length,
        d - numClasses, recipe, seconds, correct(logitClasses, yTest), correct(probeClasses, yTest), readers.whitenedMlp(),
        readers.linear() ? linear(zTrain, yTrain, zTest, yTest, numClasses, recipe.seed()) : null);
  }

  /**
   * The {@link Linear} reader of the nuisance of the outputs {@code zTrain} and {@code zTest}
   * ({@code [n, d]}, logits first).
   *
   * @param seed draws the training examples held out to choose the penalty
   */
  public static Linear linear(INDArray zTrain, int[] yTrain, INDArray zTest, int[] yTest, int numClasses, long seed) {
    long t0 = System.nanoTime();
    INDArray train = Features.columns(zTrain, numClasses, zTrain.size(1));
    Features.Standardizer st = Features.Standardizer.fit(train);
    st.applyInPlace(train);
    INDArray test = st.applyInPlace(Features.columns(zTest, numClasses, zTest.size(1)));
    SoftmaxRegression.Selected sel = SoftmaxRegression.select(train, yTrain, numClasses, seed, LINEAR_READER);
    List<HeldOut> heldOut = sel.trials().stream().map(t -> new HeldOut(t.l2(), t.validationAccuracy())).toList();
    SoftmaxRegression probe = sel.probe();
    INDArray logits = probe.logits(test);
    int[] classes = Losses.predictions(logits);
    Tensors.free(logits, null);
    double trainAccuracy = probe.accuracy(train, yTrain);
    Tensors.freeAll(train, test);
    return new Linear(Losses.accuracy(classes, yTest), trainAccuracy, probe.fit().l2(), probe.fit().objective(),
        (System.nanoTime() - t0) / 1e9, correct(classes, yTest), LayerProbes.LinearProbe.of(seed, sel.fits(),
        LINEAR_READER), heldOut, sel.tiedPenalties());
  }

  private static boolean[] correct(int[] classes, int[] labels) {
    boolean[] right = new boolean[labels.length];
    for (int i = 0; i < labels.length; i++) right[i] = classes[i] == labels[i];
    return right;
  }

  /**
   * A trained nuisance probe: the standardisation of {@code z_n} (the training split's statistics),
   * the whitening after it (or null) and the classifier on it.
   */
  public record Trained(int numClasses, Features.Standardizer standardizer, Features.Whitener whitener,
      MlpClassifier classifier, double trainAccuracy) {

    /**
     * The probe's class of each row of {@code z} ({@code [n, d]}, logits first), from its {@code
     * z_n} alone; -1 for a row whose probe logits are not finite ({@link Losses#predictions}).
     */
    public int[] classes(INDArray z) {
      INDArray x = standardizer.apply(Features.columns(z, numClasses, z.size(1)));
      return Losses.predictions(classifier.logits(whitener == null ? x : whitener.apply(x)));
    }
  }

  /** Trains the probe on the outputs {@code zTrain} ({@code [n, d]}, logits first) of the training split. */
  public static Trained train(INDArray zTrain, int[] yTrain, int numClasses, MlpClassifier.Recipe recipe) {
    return train(zTrain, yTrain, numClasses, recipe, Readers.MLP);
  }

  /**
   * {@link #train(INDArray, int[], int, MlpClassifier.Recipe)}, on whitened {@code z_n} when {@code
   * readers.whitenedMlp()}. Only the MLP: {@code readers.linear()} is {@link #measure}'s to fit
   * ({@link #linear}), and changes nothing here.
   */
  public static Trained train(INDArray zTrain, int[] yTrain, int numClasses, MlpClassifier.Recipe recipe,
      Readers readers) {
    // One copy of the training split's nuisance, standardised in place and freed at the end: with
    // a standardised copy beside it and the classifier's own, the full set held three of 232 MiB.
    INDArray x = Features.columns(zTrain, numClasses, zTrain.size(1));
    Features.Standardizer st = Features.Standardizer.fit(x);
    st.applyInPlace(x);
    Features.Whitener w = null;
    if (readers.whitenedMlp()) {
      w = Features.Whitener.fit(x);
      INDArray white = w.apply(x);
      Tensors.free(x, null);
      x = white;
    }
    MlpClassifier probe = MlpClassifier.train(x, yTrain, numClasses, recipe);
    double trainAccuracy = probe.accuracy(x, yTrain);
    Tensors.free(x, null);
    return new Trained(numClasses, st, w, probe, trainAccuracy);
  }
}
