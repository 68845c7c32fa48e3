package org.irevnet.vae;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.data.Batches;
import org.irevnet.host.Host;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.train.AdamOptimizer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A small convolutional VAE for binary 28x28 images whose Gaussian posterior is refined by a
 * {@link LatentFlow} with amortised parameters, as one SameDiff graph (autodiff through encoder,
 * flow and decoder).
 *
 * <p>Encoder: conv 3x3/2 1→16, ReLU, conv 3x3/2 16→32, ReLU ('same' padding, 7x7), dense →
 * hidden, ReLU, then one dense head giving {@code mu [D]}, {@code log σ² [D]} and the flow's raw
 * parameters. Decoder: dense D → hidden → 32·7·7 (ReLU), nearest 2x upsampling, conv 3x3 32→16,
 * ReLU, 2x upsampling, conv 3x3 16→1: Bernoulli logits per pixel.
 *
 * <p>Per latent sample, with {@code z0 = mu + σ ε} and {@code zK = f(z0)}: {@code log w = log
 * p(x|zK) + log N(zK; 0, I) - (log N(z0; mu, σ²) - log|det df/dz0|)}. Its mean is the ELBO
 * (training maximises it with one sample per image); {@code log mean_k w_k} over many samples of
 * one image is the importance-sampled estimate of {@code log p(x)}.
 *
 * <p>Placeholders: {@code x [n, 784]} (binary), {@code eps [r, D]} and {@code rows [r]}, the image
 * of each latent sample ({@code 0..n-1} in training; each image repeated when importance sampling,
 * so the encoder and the flow's parameterisation run once per image).
 */
public final class ConvVae {
  /** Architecture and flow. */
  public record Config(String flow, int latent, int hidden, int flowSteps, int reflections, int orthonormal) {}

  /**
   * Test ELBO and importance-sampled negative log-likelihood, nats per image (means over the
   * images), with the standard error of the NLL mean over images, and the largest {@code |QᵀQ - I|}
   * entry of the test images' iterated Q (see {@link #orthogonalityError}).
   */
  public record Evaluation(double elbo, double nll, double nllStdError, int images, int samples,
      double orthogonalityError) {}

  static final int SIDE = 28;
  static final int PIXELS = SIDE * SIDE;
  static final int C1 = 16;
  static final int C2 = 32;

  private final Config config;
  private final FlowStack flow;
  private final ParamTable params = ParamTable.empty();
  private final List<String> names = new ArrayList<>();
  private final DataType dt;
  private final long seed;
  private final Graph training;
  private final Graph sampling;
  private double trainOrthogonalityError;

  /**
   * One graph of the model: {@code log w} per latent sample, the loss (mean of {@code -log w}) and
   * the names of the flow's {@code QᵀQ - I} per image, one per iterated Q (none for other flows).
   */
  private record Graph(SameDiff sd, SDVariable logW, SDVariable loss, List<String> orthogonalityErrors) {}

  /** A VAE in {@code dt}: float32 for training, float64 for gradient checks. */
  public ConvVae(Config config, long seed, DataType dt) {
    this.config = config;
    this.dt = dt;
    this.seed = seed;
    this.flow = Flows.create(config.flow(), config.latent(), config.flowSteps(), config.reflections(), config.orthonormal());
    this.training = build(false);
    this.sampling = build(true);
    buildGradientsQuietly(training.sd());
  }

  // SameDiff M2.1 prints a line per op to System.out while it builds a gradient graph; the
  // commands' stdout is their JSON result, so that happens here, with System.out muted.
  private static synchronized void buildGradientsQuietly(SameDiff sd) {
    java.io.PrintStream out = System.out;
    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      sd.createGradFunction();
    } finally {
      System.setOut(out);
    }
  }

  /**
   * The model's graph; with {@code repeated}, each image's posterior is repeated for the latent
   * samples given by the {@code rows} placeholder. Two graphs because SameDiff M2.1 cannot
   * differentiate gather (its gradient fails to build), and training needs no repeats. Both take
   * their parameters from the same table.
   */
  private Graph build(boolean repeated) {
    SameDiff sd = SameDiff.create();
    Random rng = new Random(seed);
    int d = config.latent(), h = config.hidden();
    SDVariable x = sd.placeHolder("x", dt, -1, PIXELS);
    SDVariable eps = sd.placeHolder("eps", dt, -1, d);
    SDVariable rows = repeated ? sd.placeHolder("rows", DataType.INT, -1) : null;
    java.util.function.UnaryOperator<SDVariable> repeat = v -> repeated ? sd.gather(v, rows, 0) : v;

    SDVariable img = x.reshape(-1, 1, SIDE, SIDE);
    SDVariable e1 = sd.nn().relu(conv(sd, rng, "enc.conv1", img, 1, C1, 2), 0);
    SDVariable e2 = sd.nn().relu(conv(sd, rng, "enc.conv2", e1, C1, C2, 2), 0);
    SDVariable eh = sd.nn().relu(dense(sd, rng, "enc.fc", e2.reshape(-1, C2 * 7 * 7), C2 * 7 * 7, h, 1), 0);
    int heads = 2 * d + flow.paramCount();
    // The flow's raw parameters start small: planar and Sylvester start near the identity
    // (reflections and Q are scale-invariant in their vectors).
    SDVariable head = dense(sd, rng, "enc.head", eh, h, heads, 0.1);
    SDVariable mu = repeat.apply(Graphs.cols(head, 0, d));
    SDVariable logVar = repeat.apply(Graphs.cols(head, d, 2L * d));
    SDVariable z0 = mu.add(sd.math().exp(logVar.mul(0.5)).mul(eps));
    double halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
    SDVariable logQ0 = eps.mul(eps).mul(-0.5).sub(logVar.mul(0.5)).sum(1).sub(d * halfLog2Pi);
    Map<String, SDVariable> prepared = new HashMap<>();
    List<String> orthogonalityErrors = new ArrayList<>();
    if (flow.paramCount() > 0) {
      // Prepared once per image (Sylvester's orthogonalisation is the costly part), then
      // repeated for the image's latent samples.
      flow.prepare(sd, Graphs.cols(head, 2L * d, heads)).forEach((k, v) -> {
        if (k.endsWith("." + SylvesterFlow.ORTHOGONALITY_ERROR)) orthogonalityErrors.add(v.name());
        else prepared.put(k, repeat.apply(v));
      });
    }
    LatentFlow.Step step = flow.transform(sd, z0, prepared);
    SDVariable zK = step.out();
    SDVariable logPz = zK.mul(zK).mul(-0.5).sum(1).sub(d * halfLog2Pi);

    SDVariable d1 = sd.nn().relu(dense(sd, rng, "dec.fc1", zK, d, h, 1), 0);
    SDVariable d2 = sd.nn().relu(dense(sd, rng, "dec.fc2", d1, h, C2 * 7 * 7, 1), 0).reshape(-1, C2, 7, 7);
    SDVariable u1 = sd.cnn().upsampling2d(d2, 2, 2, true);
    SDVariable d3 = sd.nn().relu(conv(sd, rng, "dec.conv1", u1, C2, C1, 1), 0);
    SDVariable u2 = sd.cnn().upsampling2d(d3, 2, 2, true);
    SDVariable logits = conv(sd, rng, "dec.conv2", u2, C1, 1, 1).reshape(-1, PIXELS);
    SDVariable xRows = repeat.apply(x);
    // Bernoulli log-likelihood from logits: x·l - softplus(l).
    SDVariable logPx = xRows.mul(logits).sub(sd.nn().softplus(logits)).sum(1);
    SDVariable logW = logPx.add(logPz).sub(logQ0.sub(step.logDet()));
    SDVariable loss = logW.mean().neg();
    sd.setLossVariables(loss);
    return new Graph(sd, logW, loss, List.copyOf(orthogonalityErrors));
  }

  private SDVariable weight(SameDiff sd, String name, INDArray value) {
    if (!params.entries().containsKey(name)) {
      params.add(name, value);
      names.add(name);
    }
    // SameDiff gets its own copy: the optimiser moves the table's values into one flat buffer
    // (freeing the originals), and SameDiff's setArray copies into the array it holds.
    return sd.var(name, value.dup());
  }

  private SDVariable dense(SameDiff sd, Random rng, String name, SDVariable in, int nIn, int nOut, double gain) {
    SDVariable w = weight(sd, name + ".w", Init.normal(dt, rng, nIn, nOut).muli(gain * Math.sqrt(2.0 / nIn)));
    SDVariable b = weight(sd, name + ".b", Nd4j.zeros(dt, 1, nOut));
    return in.mmul(w).add(b);
  }

  private SDVariable conv(SameDiff sd, Random rng, String name, SDVariable in, int cIn, int cOut, int stride) {
    // YXIO weights: in M2.1 SameDiff's conv2d gradient drops the weights-format argument.
    SDVariable w = weight(sd, name + ".w", Init.normal(dt, rng, 3, 3, cIn, cOut).muli(Math.sqrt(2.0 / (9 * cIn))));
    SDVariable b = weight(sd, name + ".b", Nd4j.zeros(dt, cOut));
    Conv2DConfig cfg = Conv2DConfig.builder().kH(3).kW(3).sH(stride).sW(stride).dH(1).dW(1)
        .paddingMode(PaddingMode.SAME).dataFormat("NCHW").weightsFormat(WeightsFormat.YXIO).build();
    return sd.cnn().conv2d(in, w, b, cfg);
  }

  public FlowStack flow() {
    return flow;
  }

  public ParamTable params() {
    return params;
  }

  /** An optimiser over {@link #params()} (the graphs read the table's values at every call). */
  public AdamOptimizer optimizer(double learningRate) {
    return new AdamOptimizer(params, learningRate);
  }

  // SameDiff holds its own copies of the parameters (see weight()).
  private void sync(Graph g) {
    for (String n : names) g.sd().getArrForVarName(n).assign(params.get(n).value());
  }

  /**
   * Adds the gradient of the negative ELBO (mean over the batch, one latent sample per image,
   * {@code z0 = mu + σ eps}) to every parameter's gradient and returns the loss. {@code x [n,
   * 784]} binary, {@code eps [n, D]}.
   */
  public double accumulateGradients(INDArray x, INDArray eps) {
    sync(training);
    Map<String, INDArray> feed = feed(x, eps, null);
    String loss = training.loss().name();
    List<String> outputs = new ArrayList<>(training.orthogonalityErrors());
    outputs.add(loss);
    var out = training.sd().calculateGradientsAndOutputs(feed, outputs, names);
    for (String n : names) params.get(n).grad().addi(out.getGradients().get(n));
    trainOrthogonalityError = Math.max(trainOrthogonalityError, largest(out.getOutputs(), training));
    return out.getOutputs().get(loss).getDouble(0);
  }

  /** Whether the flow has an iterated Q whose orthogonality is measured (sylvester-orthogonal). */
  public boolean measuresOrthogonality() {
    return !training.orthogonalityErrors().isEmpty();
  }

  /**
   * The largest {@code |QᵀQ - I|} entry over every image of every training batch so far, NaN if
   * any was NaN; 0 for a flow without an iterated Q. Above {@link
   * SylvesterFlow#ORTHOGONALITY_TOLERANCE} the log-det, and so the objective trained, was not the
   * flow's.
   */
  public double orthogonalityError() {
    return trainOrthogonalityError;
  }

  /** The largest |entry| of the graph's {@code QᵀQ - I} outputs, NaN if any is NaN (Math.max keeps NaN). */
  private static double largest(Map<String, INDArray> outputs, Graph g) {
    double max = 0;
    for (String n : g.orthogonalityErrors()) max = Math.max(max, Tensors.maxAbs(outputs.get(n)));
    return max;
  }

  /**
   * One epoch of Adam steps on {@code images [n, 784]} (grey values in [0, 1]) in a random order,
   * binarised afresh for every batch (dynamic binarisation); returns the mean negative ELBO.
   */
  public double trainEpoch(INDArray images, int batch, AdamOptimizer opt, long seed, int epoch, Random rng) {
    double sum = 0;
    int steps = 0;
    for (int[] idx : Batches.epoch((int) images.size(0), batch, seed, epoch, true, true)) {
      INDArray rows = Tensors.gatherRows(images, idx), xb = binarise(rows, rng);
      Tensors.free(rows, null);
      sum += accumulateGradients(xb, Init.normal(dt, rng, idx.length, config.latent()));
      opt.step();
      steps++;
      // SameDiff's per-run arrays are freed only when the collector finds their wrappers:
      // without this, resident memory grew past 3 GB within 40 steps.
      Host.collectGarbage(steps, 10);
    }
    return sum / steps;
  }

  /** {@code log w} of every row: {@code x [n, 784]}, {@code eps [r, D]}, {@code rows [r]} (int). */
  public INDArray logWeights(INDArray x, INDArray eps, INDArray rows) {
    return sample(x, eps, rows).get(sampling.logW().name()).castTo(DataType.DOUBLE);
  }

  /** The sampling graph's {@code log w} and {@code QᵀQ - I} outputs. */
  private Map<String, INDArray> sample(INDArray x, INDArray eps, INDArray rows) {
    sync(sampling);
    List<String> outputs = new ArrayList<>(sampling.orthogonalityErrors());
    outputs.add(sampling.logW().name());
    return sampling.sd().output(feed(x, eps, rows), outputs);
  }

  private Map<String, INDArray> feed(INDArray x, INDArray eps, INDArray rows) {
    Map<String, INDArray> m = new HashMap<>();
    m.put("x", x.castTo(dt));
    m.put("eps", eps);
    if (rows != null) m.put("rows", rows);
    return m;
  }

  /**
   * ELBO (mean of all {@code log w}) and importance-sampled NLL ({@code -log mean_k w_k}, with
   * {@code samples} draws from the flow posterior of each image), averaged over the images.
   * Samples are drawn in chunks of {@code chunk} rows per graph run.
   */
  public Evaluation evaluate(INDArray x, int samples, int chunk, Random rng) {
    int n = (int) x.size(0);
    double elboSum = 0, nllSum = 0, nllSq = 0, orthogonality = 0;
    for (int i = 0; i < n; i++) {
      INDArray xi = x.getRow(i, true).dup();
      double[] lw = new double[samples];
      for (int from = 0; from < samples; from += chunk) {
        int r = Math.min(chunk, samples - from);
        Map<String, INDArray> out = sample(xi, Init.normal(dt, rng, r, config.latent()), Nd4j.zeros(DataType.INT, r));
        INDArray w = out.get(sampling.logW().name());
        for (int k = 0; k < r; k++) lw[from + k] = w.getDouble(k);
        orthogonality = Math.max(orthogonality, largest(out, sampling));
      }
      Host.collectGarbage(i, 5);
      double max = Double.NEGATIVE_INFINITY, mean = 0;
      for (double v : lw) {
        max = Math.max(max, v);
        mean += v / samples;
      }
      double s = 0;
      for (double v : lw) s += Math.exp(v - max);
      double nll = -(max + Math.log(s / samples));
      elboSum += mean;
      nllSum += nll;
      nllSq += nll * nll;
    }
    double nllMean = nllSum / n;
    double var = n > 1 ? Math.max(0, (nllSq - n * nllMean * nllMean) / (n - 1)) : 0;
    return new Evaluation(elboSum / n, nllMean, Math.sqrt(var / n), n, samples, orthogonality);
  }

  /** Fixed binarisation: pixel {@code p} becomes 1 with probability {@code p}. Returns {@code [n, 784]}. */
  public static INDArray binarise(INDArray images, Random rng) {
    long n = images.size(0);
    INDArray flat = images.reshape(n, (long) images.length() / n).castTo(DataType.FLOAT);
    INDArray u = Init.uniform(DataType.FLOAT, rng, 0.5, flat.shape()).addi(0.5);
    return flat.gt(u).castTo(DataType.FLOAT);
  }
}
