package org.irevnet.analysis;

import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Interpolation between two images in a model's representation (PAPERS.md 1.7 and 3, DESIGN.md
 * section 5). With {@code phi = F(x)} the body output and {@code alpha} from 0 to 1:
 * <ul>
 *   <li>{@link #full}: {@code x(alpha) = F^-1((1 - alpha) F(x0) + alpha F(x1))}, the i-RevNet
 *       paper's path ({@code t = 1 - alpha} in its notation). Any model: for an injective i-RevNet,
 *       {@code F^-1} inverts the bijective part and then drops the padded channels (the left
 *       inverse), so {@code x(alpha)} need not map back onto {@code phi(alpha)}: {@link
 *       Path#reencodeError} says by how much.</li>
 *   <li>{@link #nuisance} (fully invertible models): {@code z_s} held at {@code z_s(x0)} while
 *       {@code z_n} moves linearly from {@code z_n(x0)} to {@code z_n(x1)}; the end point is the
 *       metamer of {@code (x0, x1)}, and the logits stay those of {@code x0} all along.</li>
 * </ul>
 * Both endpoints of {@link #full} reproduce the images (up to the inverse's rounding).
 */
public final class Interpolation {
  private Interpolation() {}

  /**
   * One path.
   *
   * @param images {@code [steps, c, h, w]}, in the model's dtype
   * @param representations the mixed representation {@code phi(alpha)} inverted at each step
   *     ({@code [steps, dims]}): where a non-finite image came from
   * @param alphas the mixing weight of {@code x1} at each step
   * @param classes the model's class of each image, -1 for an image with a non-finite logit
   *     ({@link Losses#predictions}: it has no class)
   * @param probabilities the model's softmax probability of that class (NaN without a class)
   * @param reencodeError per step, {@code max |F(x(alpha)) - phi(alpha)|}: rounding for a
   *     bijective model, the distance from the model's range for an injective one
   * @param maxLogitDrift per step, {@code max |logits(x(alpha)) - z_s(x0)|} (the nuisance path's
   *     invariant; for the full path the logits are free to change)
   */
  public record Path(INDArray images, INDArray representations, double[] alphas, int[] classes, double[] probabilities,
      double[] reencodeError, double[] maxLogitDrift) {}

  /** {@code steps} evenly spaced weights from 0 to 1 inclusive. */
  public static double[] alphas(int steps) {
    if (steps < 2) throw new IllegalArgumentException("interpolation needs at least 2 steps, got " + steps);
    double[] a = new double[steps];
    for (int i = 0; i < steps; i++) a[i] = (double) i / (steps - 1);
    return a;
  }

  /** The path in the full representation between the single images {@code x0} and {@code x1} ({@code [1, c, h, w]}). */
  public static Path full(InvertibleClassifier model, INDArray x0, INDArray x1, int steps) {
    double[] alphas = alphas(steps);
    InvertibleClassifier.Forward f0 = forward(model, x0), f1 = forward(model, x1);
    return path(model, mix(f0.z(), f1.z(), alphas, 0), alphas, f0.logits());
  }

  /**
   * The path with {@code z_s} fixed at {@code z_s(x0)} and {@code z_n} moving from {@code x0}'s to
   * {@code x1}'s.
   *
   * @throws IllegalArgumentException for a model that is not fully invertible
   */
  public static Path nuisance(InvertibleClassifier model, INDArray x0, INDArray x1, int steps) {
    model.architecture().requireFullyInvertible("the nuisance path", ", whose z_n it moves");
    if (!model.isBijective()) throw new IllegalArgumentException("the nuisance path " + injective(model));
    double[] alphas = alphas(steps);
    InvertibleClassifier.Forward f0 = forward(model, x0), f1 = forward(model, x1);
    return path(model, mix(f0.z(), f1.z(), alphas, model.numClasses()), alphas, f0.logits());
  }

  /**
   * Why a fi-revnet with zero-padded stages has no metamers: z of (z_s(a), z_n(b)) inverts to an
   * input whose padding channels are not zero, and dropping them breaks the logit invariant (a
   * trained model's "metamer" came out as b itself, with b's class).
   */
  static String injective(InvertibleClassifier model) {
    return "needs a bijective model; '" + model.architecture().name() + "' is injective (a stage pads zero"
        + " channels), so z_s(a) with z_n(b) inverts to padding that is not zero and dropping it changes the logits";
  }

  /** Rows {@code (1 - alpha) p0 + alpha p1}, except the first {@code keep} columns, which stay {@code p0}'s. */
  private static INDArray mix(INDArray p0, INDArray p1, double[] alphas, int keep) {
    INDArray a = Nd4j.createFromArray(alphas).castTo(p0.dataType()).reshape(alphas.length, 1);
    INDArray rows = p0.repeat(0, alphas.length).mul(a.rsub(1)).addi(p1.repeat(0, alphas.length).mul(a));
    if (keep > 0) {
      rows.get(NDArrayIndex.all(), NDArrayIndex.interval(0, keep)).assign(
          p0.get(NDArrayIndex.all(), NDArrayIndex.interval(0, keep)).repeat(0, alphas.length));
    }
    return rows;
  }

  /**
   * Inverts and re-encodes {@code phi} {@value Features#BATCH} steps at a time: the blocks'
   * activations of a whole path of many steps did not fit in memory.
   */
  private static Path path(InvertibleClassifier model, INDArray phi, double[] alphas, INDArray logits0) {
    int n = alphas.length;
    INDArray images = null, reencoded = null, logits = null;
    for (long from = 0; from < n; from += Features.BATCH) {
      long to = Math.min(n, from + Features.BATCH);
      INDArray im = model.invert(phi.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup('c'));
      InvertibleClassifier.Forward f = model.forward(im.dup('c'), false);
      if (images == null) {
        long[] shape = im.shape().clone();
        shape[0] = n;
        images = Nd4j.create(im.dataType(), shape);
        reencoded = Nd4j.create(f.z().dataType(), n, f.z().size(1));
        logits = Nd4j.create(f.logits().dataType(), n, f.logits().size(1));
      }
      images.get(NDArrayIndex.interval(from, to)).assign(im);
      reencoded.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).assign(f.z());
      logits.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).assign(f.logits());
    }
    INDArray probs = Transforms.softmax(logits, true);
    int[] classes = Losses.predictions(logits);
    double[] p = new double[n], reencode = new double[n], drift = new double[n];
    for (int i = 0; i < n; i++) {
      p[i] = classes[i] < 0 ? Double.NaN : probs.getDouble(i, classes[i]);
      reencode[i] = Tensors.maxAbs(reencoded.getRow(i).sub(phi.getRow(i)));
      drift[i] = Tensors.maxAbs(logits.getRow(i).sub(logits0.getRow(0)));
    }
    return new Path(images, phi, alphas, classes, p, reencode, drift);
  }

  /**
   * The first step of {@code p} whose image or logits are not all finite (a NaN or infinity in
   * the inverse, or in the forward pass of a finite image), or -1.
   */
  public static int firstNonFiniteStep(Path p) {
    for (int i = 0; i < p.alphas().length; i++) {
      if (p.classes()[i] < 0 || Tensors.nonFinite(p.images().get(NDArrayIndex.point(i))) > 0) return i;
    }
    return -1;
  }

  private static InvertibleClassifier.Forward forward(InvertibleClassifier model, INDArray x) {
    if (x.size(0) != 1) throw new IllegalArgumentException("interpolation: one image per endpoint, got " + x.size(0));
    return model.forward(x.castTo(model.dataType()).dup('c'), false);
  }
}
