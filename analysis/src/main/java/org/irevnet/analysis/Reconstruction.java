package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.List;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Inverting a model's representation at every stage: {@code x' = F_{<=s}^-1(F_{<=s}(x))}, and
 * how far {@code x'} is from {@code x} (the reconstruction error of DESIGN.md section 5).
 */
public final class Reconstruction {
  private Reconstruction() {}

  /**
   * The float64 reconstruction error an exact inverse stays within, in units of the input scale
   * {@code 1 + max |x|} ({@link #float64Bound}): rounding amplified by a model's conditioning. A
   * well-conditioned model comes back within 1e-15 to 1e-12, the most ill-conditioned one measured
   * (an iCE model whose inverse amplifies rounding about 1e8 times; README "invert") within 7e-9.
   * An inverse that is wrong rather than ill-conditioned errs about as much in float64 as in float32.
   */
  public static final double FLOAT64_TOLERANCE = 1e-6;

  /** {@link #FLOAT64_TOLERANCE} x (1 + the largest |value| of the inputs {@code x}). */
  public static double float64Bound(INDArray x) {
    return FLOAT64_TOLERANCE * (1 + Tensors.maxAbs(x));
  }

  /**
   * Why the reconstruction of {@code x} from the output of stage {@code stage} (-1: from z) is not
   * finite, in one line ({@link org.irevnet.layers.Sequential#firstNonFiniteInverse}), or null when
   * it is. Runs the model again: for a command that found a reconstruction not finite.
   */
  public static String whyNotFinite(InvertibleClassifier model, INDArray x, int stage) {
    if (stage < 0) return model.firstNonFiniteInverse(model.forward(x, false).out());
    return model.body().firstNonFiniteInverse(model.stageEnds().get(stage), model.stageOutputs(x).get(stage));
  }

  /** Reconstruction error from the output of stage {@code stage} (0-based), whose shape is {@code shape}. */
  public record StageError(int stage, long[] shape, Error error) {}

  /**
   * Max and mean absolute error of a reconstruction, and {@code worst}, the row of {@code x} (the
   * image) where the max is: one ill-conditioned image among many is otherwise a bare number.
   */
  public record Error(double maxAbs, double meanAbs, long worst) {}

  /** Errors per stage for inputs {@code x}, in the model's dtype. */
  public static List<StageError> perStage(InvertibleClassifier model, INDArray x) {
    return perStage(model, x, new INDArray[1]);
  }

  /**
   * {@link #perStage(InvertibleClassifier, INDArray)}, leaving in {@code fromLast[0]} the
   * reconstruction from the last stage's output: the body's output {@code z}, inverted through
   * the whole body.
   */
  private static List<StageError> perStage(InvertibleClassifier model, INDArray x, INDArray[] fromLast) {
    List<INDArray> outs = model.stageOutputs(x);
    List<Integer> ends = model.stageEnds();
    List<StageError> errs = new ArrayList<>();
    for (int s = 0; s < outs.size(); s++) {
      INDArray back = model.body().invertFrom(ends.get(s), outs.get(s));
      errs.add(new StageError(s, outs.get(s).shape(), new Tally().add(back, x, 0).error()));
      fromLast[0] = back;
    }
    return errs;
  }

  /**
   * Per-stage and from-z errors of a model in float32 and in float64 (on copies of its weights),
   * for the same inputs; {@code reconstruction} is the float32 reconstruction from z.
   */
  public record Precisions(List<StageError> float32, List<StageError> float64, Error zFloat32, Error zFloat64,
      INDArray reconstruction) {}

  /** {@link Precisions} of {@code x}, {@value Features#BATCH} images at a time. */
  public static Precisions inBothPrecisions(InvertibleClassifier model, INDArray x) {
    return inBothPrecisions(model, x, Features.BATCH);
  }

  static Precisions inBothPrecisions(InvertibleClassifier model, INDArray x, int batch) {
    InvertibleClassifier m32 = model.withDataType(DataType.FLOAT);
    InvertibleClassifier m64 = model.withDataType(DataType.DOUBLE);
    long n = x.size(0);
    int stages = m32.stageEnds().size();
    List<Tally> t32 = new ArrayList<>(), t64 = new ArrayList<>();
    for (int s = 0; s < stages; s++) {
      t32.add(new Tally());
      t64.add(new Tally());
    }
    Tally z32 = new Tally(), z64 = new Tally();
    INDArray reconstruction = Nd4j.create(DataType.FLOAT, x.shape());
    List<long[]> shapes = new ArrayList<>();
    for (long from = 0; from < n; from += batch) {
      long to = Math.min(n, from + batch);
      INDArray xb = Tensors.rows(x, from, to);
      INDArray x32 = xb.castTo(DataType.FLOAT).dup('c'), x64 = xb.castTo(DataType.DOUBLE).dup('c');
      INDArray[] back32 = new INDArray[1];
      List<StageError> s32 = perStage(m32, x32, back32), s64 = perStage(m64, x64);
      for (int s = 0; s < stages; s++) {
        t32.get(s).add(s32.get(s).error(), to - from, from);
        t64.get(s).add(s64.get(s).error(), to - from, from);
        if (from == 0) shapes.add(s32.get(s).shape().clone());
      }
      // z is the last stage's output, and its reconstruction that stage's, computed above: a
      // forward pass and a whole inverse of their own (a third of the work) gave the same arrays.
      z32.add(s32.get(stages - 1).error(), to - from, from);
      z64.add(s64.get(stages - 1).error(), to - from, from);
      reconstruction.get(NDArrayIndex.interval(from, to)).assign(back32[0]);
    }
    List<StageError> e32 = new ArrayList<>(), e64 = new ArrayList<>();
    for (int s = 0; s < stages; s++) {
      long[] shape = shapes.get(s);
      shape[0] = n;
      e32.add(new StageError(s, shape, t32.get(s).error()));
      e64.add(new StageError(s, shape, t64.get(s).error()));
    }
    return new Precisions(e32, e64, z32.error(), z64.error(), reconstruction);
  }

  /**
   * Errors gathered over batches of images (the mean as the mean of per-image means: every image
   * has as many elements); a NaN error is the maximum and stays it.
   */
  static final class Tally {
    private double max = Double.NEGATIVE_INFINITY, sum;
    private long count, worst = -1;

    /** The errors of {@code back} against {@code x}, whose row 0 is image {@code offset}. */
    Tally add(INDArray back, INDArray x, long offset) {
      long n = x.size(0), per = x.length() / n;
      INDArray diff = Transforms.abs(back.sub(x), false).reshape('c', n, per);
      INDArray rowMax = diff.max(1), rowSum = diff.sum(1); // a NaN shows in the sum, not always in the max
      for (long i = 0; i < n; i++) {
        double rs = rowSum.getDouble(i);
        take(Double.isNaN(rs) ? Double.NaN : rowMax.getDouble(i), offset + i);
        sum += rs / per;
      }
      count += n;
      return this;
    }

    /** A batch's error, as one of {@code images} images from image {@code offset} on. */
    void add(Error e, long images, long offset) {
      take(e.maxAbs(), offset + e.worst());
      sum += e.meanAbs() * images;
      count += images;
    }

    private void take(double v, long index) {
      if (!Double.isNaN(max) && (Double.isNaN(v) || v > max)) {
        max = v;
        worst = index;
      }
    }

    Error error() {
      return new Error(max, sum / count, worst);
    }
  }
}
