package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.List;
import org.irevnet.host.Host;
import org.irevnet.models.Classifier;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Features of a frozen model for the probes: its output {@code z} and its spatially averaged
 * stage outputs, computed in batches in evaluation mode, and their standardisation.
 */
public final class Features {
  /** Images per forward pass; large enough to keep the convolutions busy, small enough for memory. */
  public static final int BATCH = 256;

  /**
   * Batches between garbage collections: each forward pass leaves its results outside any
   * workspace, freed only when the collector finds them (see {@link Host#collectGarbage}).
   */
  private static final int GC_EVERY = 20;

  private Features() {}

  /** The flattened body output {@code z} ({@code [n, d]}, float32) of {@code images}, in batches. */
  public static INDArray z(InvertibleClassifier model, INDArray images) {
    long n = images.size(0);
    INDArray out = null;
    for (long start = 0; start < n; start += BATCH) {
      long end = Math.min(n, start + BATCH);
      INDArray z = model.forward(batch(model, images, start, end), false).z().castTo(DataType.FLOAT);
      if (out == null) out = Nd4j.create(DataType.FLOAT, n, z.size(1));
      out.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(z);
      Host.collectGarbage(start / BATCH + 1, GC_EVERY);
    }
    return out;
  }

  /**
   * Every probed layer's output ({@link Classifier#layerOutputs}: an invertible model's stages)
   * averaged over its spatial positions: one {@code [n, channels]} float32 matrix per layer, in
   * layer order. Outputs without spatial positions ({@code [n, d]}, dense layers) are taken as they are.
   */
  public static List<INDArray> pooledStages(Classifier model, INDArray images) {
    return pooledStages(model, images, false).pooled();
  }

  /**
   * {@link #pooledStages} and {@link #z} of the same images from the same forward passes: {@code
   * probe --layers --nuisance} computed every image's stages twice, once for each probe.
   *
   * @param pooled one {@code [n, channels]} float32 matrix per stage
   * @param z the flattened body output, {@code [n, d]} float32: the last stage's output, so the
   *     last pooled matrix itself when that stage has one spatial position (as fi-revnet-s's)
   */
  public record StagesAndZ(List<INDArray> pooled, INDArray z) {}

  /** {@link StagesAndZ} of {@code images}, in batches. */
  public static StagesAndZ pooledStagesAndZ(InvertibleClassifier model, INDArray images) {
    return pooledStages(model, images, true);
  }

  private static StagesAndZ pooledStages(Classifier model, INDArray images, boolean withZ) {
    long n = images.size(0);
    List<INDArray> out = new ArrayList<>();
    INDArray z = null;
    for (long start = 0; start < n; start += BATCH) {
      long end = Math.min(n, start + BATCH);
      List<INDArray> stages = model.layerOutputs(batch(model, images, start, end));
      for (int s = 0; s < stages.size(); s++) {
        INDArray h = stages.get(s);
        INDArray pooled = (h.rank() == 4 ? h.mean(2, 3) : h.reshape(h.size(0), -1)).castTo(DataType.FLOAT);
        if (out.size() <= s) out.add(Nd4j.create(DataType.FLOAT, n, pooled.size(1)));
        out.get(s).get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(pooled);
      }
      if (withZ) {
        INDArray last = stages.get(stages.size() - 1);
        long perImage = last.length() / last.size(0);
        // Averaging one position changes no value: the last pooled matrix is z, held once.
        if (perImage != out.get(out.size() - 1).size(1)) {
          if (z == null) z = Nd4j.create(DataType.FLOAT, n, perImage);
          z.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())
              .assign(last.reshape('c', last.size(0), perImage).castTo(DataType.FLOAT));
        }
      }
      Host.collectGarbage(start / BATCH + 1, GC_EVERY);
    }
    if (withZ && z == null && !out.isEmpty()) z = out.get(out.size() - 1);
    return new StagesAndZ(out, z);
  }

  private static INDArray batch(Classifier model, INDArray images, long start, long end) {
    return Tensors.rows(images, start, end).castTo(model.dataType()).dup('c');
  }

  /**
   * Per-column standardisation {@code (x - mean) / std} with statistics from one (training) set.
   * Columns with (near) zero spread keep scale 1, so constant features become 0 rather than NaN.
   *
   * @param mean {@code [1, d]}
   * @param std {@code [1, d]}
   */
  public record Standardizer(INDArray mean, INDArray std) {
    /** Smallest standard deviation treated as a real spread. */
    public static final double MIN_STD = 1e-6;

    public static Standardizer fit(INDArray x) {
      INDArray mean = x.mean(true, 0);
      INDArray std = x.std(false, true, 0);
      INDArray tiny = std.lt(MIN_STD).castTo(std.dataType());
      std.muli(tiny.rsub(1)).addi(tiny);
      return new Standardizer(mean, std);
    }

    /** A standardised copy of {@code x}. */
    public INDArray apply(INDArray x) {
      // Broadcast by shape, not subRowVector: see SoftmaxRegression.logits.
      return x.sub(mean).divi(std);
    }

    /** {@code x} standardised in place (its own copy, which the caller does not need as it was). */
    public INDArray applyInPlace(INDArray x) {
      return x.subi(mean).divi(std);
    }
  }

  /**
   * The rows of {@code x} in float64 centred on their mean, and the eigen-decomposition of their
   * covariance {@code centred^T centred / divisor}: {@code values} ascending ({@code [d]}), {@code
   * vectors} their eigenvectors as columns ({@code [d, d]}, column-major as LAPACK leaves them). The
   * caller frees {@code centred} and {@code vectors} ({@link Tensors#free}) when done with them.
   */
  record Eigenbasis(INDArray mean, INDArray centred, INDArray values, INDArray vectors) {
    static Eigenbasis of(INDArray x, long divisor) {
      INDArray xd = x.castTo(DataType.DOUBLE);
      INDArray mean = xd.mean(true, 0);
      INDArray centred = xd.sub(mean);
      // Freed now: of the full set's nuisance each float64 copy is 487 MB.
      Tensors.free(xd, x);
      // Tensors.product, not mmul, and the row-major covariance freed once copied for LAPACK: the
      // two d x d arrays were left to the collector (16 MB at the nuisance's 1,014 dimensions).
      INDArray covariance = Tensors.product(centred, centred, true, false).divi(divisor);
      INDArray vectors = covariance.dup('f');
      Tensors.free(covariance, null);
      // LAPACK syev: ascending eigenvalues, the matrix overwritten by the eigenvectors (columns).
      INDArray values = Eigen.symmetricGeneralizedEigenvalues(vectors, true).reshape(-1);
      return new Eigenbasis(mean, centred, values, vectors);
    }
  }

  /**
   * PCA whitening with statistics from one (training) set: {@code (x - mean) V diag(1 / sqrt(lambda))}
   * over the principal axes whose variance {@code lambda} exceeds {@link #RELATIVE_CUTOFF} times the
   * largest, so that the output has identity covariance on that set. Why: per-column
   * standardisation leaves directions of tiny variance tiny (an iCE model's nuisance held its
   * label in directions a millionth of its largest variance, which a probe trained a few hundred
   * steps barely sees); whitened, every kept direction has unit variance.
   *
   * @param mean {@code [1, d]}
   * @param projection {@code [d, k]} (float64), k the axes kept
   */
  public record Whitener(INDArray mean, INDArray projection) {
    /** Axes of variance at most this share of the largest are dropped (float32 inputs resolve about 1e-14 of it). */
    public static final double RELATIVE_CUTOFF = 1e-8;

    public static Whitener fit(INDArray x) {
      if (x.size(0) < 2) throw new IllegalArgumentException("whitening needs at least 2 rows, got " + x.size(0));
      Eigenbasis basis = Eigenbasis.of(x, x.size(0) - 1);
      INDArray axes = basis.vectors();
      double[] variances = basis.values().toDoubleVector();
      double largest = variances[variances.length - 1];
      int first = 0;
      while (first < variances.length - 1 && !(variances[first] > RELATIVE_CUTOFF * largest)) first++;
      INDArray projection = axes.get(NDArrayIndex.all(), NDArrayIndex.interval(first, variances.length)).dup('c');
      double[] sd = new double[variances.length - first];
      for (int j = first; j < variances.length; j++) sd[j - first] = Math.sqrt(Math.max(variances[j], Double.MIN_NORMAL));
      projection.diviRowVector(Nd4j.createFromArray(sd));
      Tensors.freeAll(basis.centred(), axes);
      return new Whitener(basis.mean(), projection);
    }

    /** The whitened rows of {@code x}, {@code [n, k]} in {@code x}'s data type. */
    public INDArray apply(INDArray x) {
      INDArray xd = x.castTo(DataType.DOUBLE);
      // Centred in the cast copy (the caller's own when x is float64), and every float64 product
      // freed: on the full Fashion-MNIST's nuisance each is 487 MB. gemm, not mmul: mmul leaves a
      // second product of its own to the collector.
      INDArray centred = xd == x ? x.sub(mean) : xd.subi(mean);
      INDArray white = Nd4j.gemm(centred, projection, false, false);
      Tensors.free(centred, x);
      INDArray out = white.castTo(x.dataType());
      Tensors.free(white, out);
      return out;
    }
  }

  /** Columns {@code [from, to)} of a matrix, as a contiguous copy. */
  public static INDArray columns(INDArray x, long from, long to) {
    return x.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup('c');
  }
}
