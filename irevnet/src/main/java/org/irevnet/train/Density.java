package org.irevnet.train;

import java.util.Random;
import org.irevnet.data.Dataset;
import org.irevnet.data.Preprocess;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A bijective model as a density on its input (normalising flow): {@code log p(x) = log N(F(x); 0,
 * I) + log|det dF/dx|} over all {@code D} input dimensions, {@code z = F(x)} the flattened body
 * output ({@code z_s} included: unlike iCE's prior, this one covers all of {@code z}).
 *
 * <p><b>Bits per dimension.</b> Pixels are {@code k/255} (k = 0..255) and dequantised by adding
 * {@code u/256}, {@code u ~ U[0,1)}, so pixel k owns the cell {@code [k/255, k/255 + 1/256)} of
 * width {@code 1/256}. The cells are disjoint, so {@code P(k) = integral of p over the cell} is a
 * discrete distribution, and Jensen gives {@code -log P(k) <= E_u[-log p(y)] + D ln 256}. In the
 * usual convention (data {@code v = k + u} in units of one grey level, density {@code p_v}) the
 * preprocessing {@code v -> y} is, within each cell, a scaling by 1/256 (log-det {@code -D ln
 * 256}); no further normalisation is applied to the model input, so this is the whole correction.
 *
 * <p><b>Zero padding.</b> 28x28 images are zero-padded to 32x32; a density on the padding pixels
 * (always 0) would be unbounded. They are therefore dequantised like the real ones (noise in
 * {@code [0, 1/256)}: {@code k = 0}) and the joint likelihood of real and padding pixels is
 * reported per <em>real</em> pixel: {@code P(x_real, pad = 0) <= P(x_real)}, so {@link
 * Eval#bitsPerDim} is an upper bound on the real pixels' negative log-likelihood (tight when the
 * model puts all its padding mass on 0). {@link Eval#bitsPerInputDim} is the same total divided
 * by all {@code D} input dimensions (the number a 32x32 model would report).
 */
public final class Density {
  /** The dequantisation seed of test-set evaluations (training and {@code eval}): runs compare on the same noise. */
  public static final long EVAL_SEED = 0;
  /** Samples inverted (and encoded again) at once. */
  static final int SAMPLE_BATCH = 256;
  private final InvertibleClassifier model;
  private final long dims;
  private final long contentDims;
  private final GaussianPrior standardNormal;

  /** One batch: the loss {@code -log p(y) / D} (nats per input dimension) and its bits per real pixel. */
  public record Step(double natsPerDim, double bitsPerDim) {}

  /**
   * A split's density, on one seeded dequantisation of every image.
   *
   * @param bitsPerDim upper bound on the discrete negative log-likelihood of the real pixels, in bits per
   *     real pixel (see the class comment)
   * @param bitsPerInputDim the same total in bits per input dimension (padding included)
   * @param natsPerDim the continuous {@code -log p(y) / D} (the training loss)
   */
  public record Eval(int count, long inputDims, long contentDims, double natsPerDim, double bitsPerDim,
      double bitsPerInputDim) {}

  /** Images drawn from the model: {@code z ~ N(0, T^2 I)} and {@code x = F^-1(z)} (model input, NCHW). */
  public record Samples(INDArray z, INDArray x) {}

  /**
   * @param contentDims dimensions of the raw images (before zero padding): the pixels bits per
   *     dimension is counted over
   * @throws IllegalArgumentException if the model's body is not bijective (an injective i-RevNet
   *     maps its input onto a lower-dimensional subset of its output: no density)
   */
  public Density(InvertibleClassifier model, long contentDims) {
    if (!model.isBijective()) {
      throw new IllegalArgumentException("architecture '" + model.architecture().name() + "' is injective (it pads "
          + "zero channels), so it has no density on its input; use a bijective one such as fi-revnet-s or irevnet-s");
    }
    long[] out = model.body().outputShape(model.inputShape(1));
    this.model = model;
    this.dims = out[1] * out[2] * out[3];
    if (contentDims < 1 || contentDims > dims) {
      throw new IllegalArgumentException("images of " + contentDims + " dimensions do not fit the model input of "
          + dims);
    }
    this.contentDims = contentDims;
    this.standardNormal = new GaussianPrior(Math.toIntExact(dims), model.dataType());
  }

  public long inputDims() {
    return dims;
  }

  /**
   * The loss of a forward pass ({@code -log p / D}, batch mean) and, with {@code backward}, the
   * model's reversible backward pass with {@code dL/dz} and {@code dL/dlogdet} (parameter
   * gradients accumulate in the model). A loss that is not finite skips the backward pass: its
   * gradients would be too, and the model's gradient listener (block-wise Adam) would take them as
   * a non-finite gradient instead of the caller reporting the loss.
   */
  public Step nll(InvertibleClassifier.Forward f, boolean backward) {
    double nats;
    if (backward) {
      GaussianPrior.Nll nll = standardNormal.nll(f.z(), f.logDet(), dims, 1, false);
      nats = nll.natsPerDim();
      if (Double.isFinite(nats)) model.backward(f, null, nll.dzn(), nll.dLogDet());
      Tensors.freeAll(nll.dzn(), nll.dLogDet());
    } else {
      nats = standardNormal.natsPerDim(f.z(), f.logDet(), dims);
    }
    return new Step(nats, bitsPerDim(nats));
  }

  /** Bits per real pixel from nats per input dimension (see the class comment). */
  private double bitsPerDim(double natsPerDim) {
    return (natsPerDim / Math.log(2) + 8) * dims / contentDims;
  }

  /**
   * The density of a split, each image dequantised once with noise drawn from {@code seed} for the
   * whole split (so the number depends on the seed, not on {@code batch}).
   */
  public Eval evaluate(Dataset data, int batch, long seed) {
    int n = data.size();
    INDArray noisy = Preprocess.dequantize(data.images(), seed);
    double nats = 0;
    for (int start = 0; start < n; start += batch) {
      int end = Math.min(n, start + batch);
      INDArray x = noisy.get(NDArrayIndex.interval(start, end)).castTo(model.dataType()).dup('c');
      InvertibleClassifier.Forward f = model.forward(x, false);
      nats += nll(f, false).natsPerDim() * (end - start);
      f.free();
      Tensors.free(x, null);
    }
    Tensors.free(noisy, data.images()); // the split's noisy copy, the size of all its images
    double natsPerDim = nats / n;
    double bits = bitsPerDim(natsPerDim);
    return new Eval(n, dims, contentDims, natsPerDim, bits, bits * contentDims / dims);
  }

  /** {@code n} images from the model at temperature {@code t} (the standard deviation of {@code z}), seeded. */
  public Samples sample(int n, double temperature, long seed) {
    return sample(n, temperature, seed, SAMPLE_BATCH);
  }

  Samples sample(int n, double temperature, long seed, int batch) {
    if (n < 1) throw new IllegalArgumentException("the number of samples must be at least 1, got " + n);
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
    }
    // z is drawn in the model's type: below its smallest normal number z rounds to 0 or keeps a few
    // bits, and --temperature 1e-50 wrote 64 copies of F^-1(0), exit code 0.
    boolean f32 = model.dataType() == DataType.FLOAT;
    double smallest = f32 ? Float.MIN_NORMAL : Double.MIN_NORMAL;
    if (temperature < smallest) {
      throw new IllegalArgumentException("temperature " + temperature + " is below the smallest normal "
          + (f32 ? "float32" : "float64") + " number, " + smallest + ", in which z is drawn: z would round to 0");
    }
    INDArray z = Init.normal(model.dataType(), new Random(seed), n, dims).muli(temperature);
    return new Samples(z, Tensors.batched(model::invert, z, batch));
  }

  /**
   * The largest |F(x) - z| over the samples, encoded {@value #SAMPLE_BATCH} at a time: sampling is
   * {@code F^-1} of {@code z}, so encoding the samples again must give {@code z} back up to
   * rounding.
   */
  public double reencodeError(Samples s) {
    // The body alone: the readout's logits would be made for nothing.
    INDArray out = Tensors.batched(model.body()::apply, s.x(), SAMPLE_BATCH);
    INDArray z = out.reshape('c', out.size(0), dims);
    INDArray diff = z.sub(s.z());
    double err = Tensors.maxAbs(diff);
    Tensors.freeAll(diff, out);
    return err;
  }
}
