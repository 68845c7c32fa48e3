package org.irevnet.attacks;

import java.util.Arrays;
import org.irevnet.models.Classifier;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * An epsilon sweep of an attack over a set of images, in batches, with its built-in checks.
 *
 * <p>The robustness curve counts an image as broken at {@code eps} when the attack broke it at
 * that or any smaller epsilon of the sweep (the balls are nested, so an adversarial example found
 * with a smaller radius is one for the larger radius too). This per-image worst case makes the
 * curve non-increasing by construction without hiding anything: the raw accuracy of each
 * epsilon's own attack is kept alongside. The examples ({@link Sweep#adversarial}) are the ones
 * the curve counts: for a broken image the one from the smallest breaking epsilon.
 */
public final class Robustness {
  private Robustness() {}

  /** Perturbs rows {@code [from, to)} of the attacked set, given as {@code x}. */
  @FunctionalInterface
  public interface Batched {
    INDArray perturb(INDArray x, int from, int to, double eps);
  }

  /**
   * @param eps the epsilons, ascending, the first 0
   * @param cleanClasses the model's classes of the clean images; here and below -1 for an image
   *     whose logits are not all finite, which has no class and counts as wrong ({@link
   *     Losses#predictions})
   * @param rawClasses {@code [k][i]}: class of image i under the attack at {@code eps[k]} alone
   * @param classes {@code [k][i]}: class of the counted example (worst case over {@code eps[0..k]})
   * @param adversarial {@code [k]}: the counted examples, {@code [n, c, h, w]}
   * @param rawAdversarial {@code [k]}: the examples of the attack at {@code eps[k]} alone
   * @param maxAbsDiffAtZero max |x' - x| of the attack at epsilon 0 (must be 0)
   * @param modelUnchanged whether the clean logits after the sweep equal those before, bit for bit
   */
  public record Sweep(double[] eps, int[] labels, int[] cleanClasses, int[][] rawClasses, int[][] classes,
      INDArray[] adversarial, INDArray[] rawAdversarial, double maxAbsDiffAtZero, boolean modelUnchanged) {

    public double cleanAccuracy() {
      return Losses.accuracy(cleanClasses, labels);
    }

    /** The robustness curve at {@code eps[k]}. */
    public double accuracy(int k) {
      return Losses.accuracy(classes[k], labels);
    }

    /** The accuracy under the attack at {@code eps[k]} alone. */
    public double rawAccuracy(int k) {
      return Losses.accuracy(rawClasses[k], labels);
    }

    /**
     * Whether epsilon 0 reproduces the clean classes exactly (every image, so also the clean
     * accuracy), leaves the images untouched, and the model is unchanged by the sweep.
     */
    public boolean saneAtZero() {
      return maxAbsDiffAtZero == 0 && Arrays.equals(rawClasses[0], cleanClasses) && modelUnchanged;
    }

  }

  /**
   * The sorted epsilons with 0 added if missing (the sanity point).
   *
   * @throws IllegalArgumentException for negative, non-finite or repeated values
   */
  public static double[] withZero(double[] eps) {
    double[] s = eps.clone();
    Arrays.sort(s);
    for (int k = 0; k < s.length; k++) {
      org.irevnet.settings.Ranges.nonNegative("--eps", s[k]);
      if (k > 0 && s[k] == s[k - 1]) throw new IllegalArgumentException("--eps has " + s[k] + " twice");
    }
    if (s.length > 0 && s[0] == 0) return s;
    double[] z = new double[s.length + 1];
    System.arraycopy(s, 0, z, 1, s.length);
    return z;
  }

  /**
   * Runs {@code attack} on {@code x} ({@code [n, c, h, w]}, the model's dtype) for every epsilon
   * of {@link #withZero(double[]) withZero(eps)}, {@code batch} images at a time.
   *
   * @param labels true labels (the curve's accuracy is against them)
   */
  public static Sweep run(Classifier model, INDArray x, int[] labels, double[] eps, int batch,
      Batched attack) {
    double[] e = withZero(eps);
    int n = (int) x.size(0);
    if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " images");
    if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
    INDArray cleanLogits = logits(model, x, batch);
    int[][] raw = new int[e.length][n];
    INDArray[] rawAdv = new INDArray[e.length];
    for (int k = 0; k < e.length; k++) rawAdv[k] = Nd4j.create(x.dataType(), x.shape());
    double maxDiffAtZero = 0;
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      INDArray xb = Tensors.rows(x, from, to).dup('c');
      for (int k = 0; k < e.length; k++) {
        INDArray adv = attack.perturb(xb, from, to, e[k]);
        int[] cls = Losses.predictions(model.logits(adv));
        System.arraycopy(cls, 0, raw[k], from, to - from);
        rawAdv[k].get(NDArrayIndex.interval(from, to)).assign(adv);
        if (k == 0) maxDiffAtZero = Math.max(maxDiffAtZero, Tensors.maxAbs(adv.sub(xb)));
      }
    }
    // Bit for bit (INDArray.equals would allow 1e-5). NaN-blind on purpose: a NaN logit in both is no change.
    boolean unchanged = logits(model, x, batch).sub(cleanLogits).amaxNumber().doubleValue() == 0;

    int[][] counted = new int[e.length][n];
    INDArray[] adv = new INDArray[e.length];
    for (int k = 0; k < e.length; k++) adv[k] = rawAdv[k].dup('c');
    for (int i = 0; i < n; i++) {
      int broken = -1;
      for (int k = 0; k < e.length; k++) {
        if (broken < 0 && raw[k][i] != labels[i]) broken = k;
        int src = broken >= 0 ? broken : k;
        counted[k][i] = raw[src][i];
        if (src != k) adv[k].get(NDArrayIndex.point(i)).assign(rawAdv[src].get(NDArrayIndex.point(i)));
      }
    }
    return new Sweep(e, labels.clone(), Losses.predictions(cleanLogits), raw, counted, adv, rawAdv, maxDiffAtZero,
        unchanged);
  }

  /** The model's logits of {@code x}, {@code batch} rows at a time (evaluation mode). */
  public static INDArray logits(Classifier model, INDArray x, int batch) {
    return Tensors.batched(model::logits, x, batch);
  }
}
