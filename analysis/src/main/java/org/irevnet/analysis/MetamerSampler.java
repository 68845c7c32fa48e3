package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.irevnet.train.Losses;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Metameric sampling (PAPERS.md section 3, DESIGN.md section 5) for a fully invertible model
 * {@code F}: with {@code z = F(x)} flattened, {@code z_s = z[0:C]} the logits and {@code z_n} the
 * rest, {@code x_met = F^-1(concat(z_s(a), z_n(b)))}. Invariant: the logits of {@code x_met} equal
 * {@code z_s(a)} (up to the inverse's rounding) and its nuisance equals {@code z_n(b)}. Works on the
 * model's own input domain (e.g. 32x32 with the zero-padded border); {@code x_met} need not lie in
 * [0, 1].
 *
 * <p>i-RevNets (bijective or injective) are refused: their logits are BatchNorm-ReLU-average-pool-
 * linear of the <em>whole</em> final representation {@code phi}, so no coordinates of {@code phi}
 * are "the logits" and none are a nuisance the classifier ignores. The nearest sound analogue,
 * {@code phi_met = argmin |phi - phi(b)|} subject to {@code readout(phi) = readout(phi(a))} (which
 * reduces to the coordinate swap above when the readout is a coordinate projection), is a
 * constrained optimisation rather than an analytic sample; and for the injective model the
 * bijective part's inverse of {@code phi_met} has non-zero padding channels in general, so it is
 * not an image, and dropping them breaks the invariant.
 */
public final class MetamerSampler {
  /** Bound on a metamer's max |logits(x_met) - z_s(a)| within which the invariant holds outright. */
  public static final double TOLERANCE = 1e-4;

  /**
   * Largest ratio of a metamer's logit difference in float64 to that in float32 that still counts
   * as rounding ({@link #invariantHolds}). Rounding error scales with the unit roundoff, which is
   * 5e8 times smaller in float64; a wrong construction (a misplaced split, a wrong inverse) gives
   * the same difference in both precisions.
   */
  public static final double ROUNDING_RATIO = 1e-6;

  private MetamerSampler() {}

  /**
   * Whether a metamer satisfies the invariant, from its max |logits(x_met) - z_s(a)| sampled in
   * float32 and in float64: within {@link #TOLERANCE} in float64, or limited by rounding, i.e. at
   * most {@link #ROUNDING_RATIO} times the float32 difference. The second case is a metamer with
   * pixel values of 1e9 and more, where float64 rounding alone moves the logits by 1e-4 (seen on 1
   * of 4,000 pairs of an iCE model trained without the MLE term). NaN fails. An infinite float32
   * difference (the float32 sample overflowed) says nothing about rounding, so then only the
   * tolerance counts: any float64 difference would otherwise pass.
   */
  public static boolean invariantHolds(double diffFloat32, double diffFloat64) {
    return diffFloat64 <= TOLERANCE || Double.isFinite(diffFloat32) && diffFloat64 <= ROUNDING_RATIO * diffFloat32;
  }

  /**
   * Per-pair results.
   *
   * @param maxLogitAbsDiff max |logits(F(x_met)) - z_s(a)|: the invariant, zero up to rounding
   * @param maxNuisanceAbsDiff max |z_n(F(x_met)) - z_n(b)|
   * @param metamerClass the model's class of {@code x_met}; here and in {@code classA} and {@code
   *     classB}, -1 for an image with a non-finite logit ({@link Losses#predictions}: no class)
   * @param classA the model's class of {@code a} (argmax of {@code z_s(a)})
   * @param classB the model's class of {@code b}
   * @param labelB the dataset label of {@code b} ({@code -1} when not given)
   * @param distToA pixel L2 distance of {@code x_met} to {@code a}
   * @param distToB pixel L2 distance of {@code x_met} to {@code b}
   * @param min smallest pixel value of {@code x_met}
   * @param max largest pixel value of {@code x_met}
   */
  public record Pair(double maxLogitAbsDiff, double maxNuisanceAbsDiff, int metamerClass, int classA, int classB,
      int labelB, double distToA, double distToB, double min, double max) {}

  /** The metamers ({@code [n, c, h, w]}, the model's dtype) and one {@link Pair} per row. */
  public record Result(INDArray metamers, List<Pair> pairs) {}

  /** {@link #sample(InvertibleClassifier, INDArray, INDArray, int[])} without labels for b. */
  public static Result sample(InvertibleClassifier model, INDArray a, INDArray b) {
    return sample(model, a, b, null);
  }

  /**
   * Metamers of the pairs {@code (a[i], b[i])}: logits from {@code a}, nuisance from {@code b},
   * {@value Features#BATCH} pairs at a time.
   *
   * @param a logit sources, the model's input shape
   * @param b nuisance sources, same shape as {@code a}
   * @param labelsB dataset labels of {@code b} (reported only), or null
   * @throws IllegalArgumentException for models that are not fully invertible, or mismatched inputs
   */
  public static Result sample(InvertibleClassifier model, INDArray a, INDArray b, int[] labelsB) {
    return sample(model, a, b, labelsB, Features.BATCH);
  }

  static Result sample(InvertibleClassifier model, INDArray a, INDArray b, int[] labelsB, int batch) {
    // An i-RevNet's logits depend non-linearly on its whole representation: nothing to keep or swap.
    model.architecture().requireFullyInvertible("metameric sampling", ", whose z splits into logits z_s (kept) and"
        + " nuisance z_n (swapped)");
    if (!model.isBijective()) throw new IllegalArgumentException("metameric sampling " + Interpolation.injective(model));
    if (!java.util.Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException("metamers: logit sources " + java.util.Arrays.toString(a.shape())
          + " and nuisance sources " + java.util.Arrays.toString(b.shape()) + " differ in shape");
    }
    long n = a.size(0);
    if (labelsB != null && labelsB.length != n) {
      throw new IllegalArgumentException("metamers: " + labelsB.length + " labels for " + n + " nuisance sources");
    }
    INDArray metamers = null;
    List<Pair> pairs = new ArrayList<>();
    for (long from = 0; from < n; from += batch) {
      long to = Math.min(n, from + batch);
      Result r = sampleBatch(model, Tensors.rows(a, from, to), Tensors.rows(b, from, to),
          labelsB == null ? null : java.util.Arrays.copyOfRange(labelsB, (int) from, (int) to));
      if (metamers == null) {
        long[] shape = r.metamers().shape().clone();
        shape[0] = n;
        metamers = Nd4j.create(r.metamers().dataType(), shape);
      }
      metamers.get(NDArrayIndex.interval(from, to)).assign(r.metamers());
      Tensors.free(r.metamers(), null);
      pairs.addAll(r.pairs());
    }
    return new Result(metamers, pairs);
  }

  private static Result sampleBatch(InvertibleClassifier model, INDArray a, INDArray b, int[] labelsB) {
    long n = a.size(0);
    a = own(a, model);
    b = own(b, model);
    int c = model.numClasses();
    InvertibleClassifier.Forward forwardA = model.forward(a, false), forwardB = model.forward(b, false);
    INDArray za = forwardA.z(), zb = forwardB.z();
    long d = za.size(1);
    INDArray zMet = za.dup('c');
    zMet.get(NDArrayIndex.all(), NDArrayIndex.interval(c, d)).assign(zb.get(NDArrayIndex.all(), NDArrayIndex.interval(c, d)));
    INDArray xMet = model.invert(zMet); // a new array of its own (Sequential's contract)
    InvertibleClassifier.Forward forwardM = model.forward(xMet, false);
    INDArray zm = forwardM.z();
    int[] classM = Losses.predictions(forwardM.logits()), classA = Losses.predictions(forwardA.logits()),
        classB = Losses.predictions(forwardB.logits());

    INDArray logitDiff = zm.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c))
        .sub(za.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)));
    INDArray nuisanceDiff = d > c
        ? zm.get(NDArrayIndex.all(), NDArrayIndex.interval(c, d)).sub(zb.get(NDArrayIndex.all(), NDArrayIndex.interval(c, d)))
        : null;
    long per = xMet.length() / n;
    INDArray fm = xMet.reshape('c', new long[] {n, per}), fa = a.reshape('c', new long[] {n, per}),
        fb = b.reshape('c', new long[] {n, per});
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      INDArray row = fm.getRow(i);
      pairs.add(new Pair(
          Tensors.maxAbs(logitDiff.getRow(i)),
          nuisanceDiff == null ? 0 : Tensors.maxAbs(nuisanceDiff.getRow(i)),
          classM[i], classA[i], classB[i],
          labelsB == null ? -1 : labelsB[i],
          distance(row, fa.getRow(i)), distance(row, fb.getRow(i)),
          Tensors.min(row), Tensors.max(row)));
    }
    // What the batch made, but the metamers, freed now rather than left to the collector: a batch
    // of 256 pairs' three passes and an inversion (in float64 for the metamer attack's re-check).
    forwardA.free();
    forwardB.free();
    forwardM.free();
    Tensors.freeAll(a, b, zMet, logitDiff, nuisanceDiff);
    return new Result(xMet, pairs);
  }

  /** {@code x} as a new array of the model's type, whatever its own type (castTo returns x itself when it is that type). */
  private static INDArray own(INDArray x, InvertibleClassifier model) {
    INDArray cast = x.castTo(model.dataType()), own = cast.dup('c');
    Tensors.free(cast, x);
    return own;
  }

  private static double distance(INDArray u, INDArray v) {
    INDArray d = u.sub(v);
    double n = d.norm2Number().doubleValue();
    Tensors.free(d, null);
    return n;
  }

  /**
   * {@code count} pairs {@code (a, b)} of indices into {@code labels} with different labels, drawn
   * with {@code new Random(seed)}: the same seed gives the same pairs.
   *
   * @throws IllegalArgumentException if fewer than two distinct labels exist
   */
  public static int[][] choosePairs(int[] labels, int count, long seed) {
    if (count < 1) throw new IllegalArgumentException("pairs: count must be at least 1, got " + count);
    if (java.util.Arrays.stream(labels).distinct().count() < 2) {
      throw new IllegalArgumentException("pairs: need images of at least two classes, got "
          + java.util.Arrays.stream(labels).distinct().count() + " among " + labels.length + " images");
    }
    Random r = new Random(seed);
    int[][] pairs = new int[count][];
    for (int k = 0; k < count; k++) {
      int a = r.nextInt(labels.length), b;
      do {
        b = r.nextInt(labels.length);
      } while (labels[b] == labels[a]);
      pairs[k] = new int[] {a, b};
    }
    return pairs;
  }
}
