package org.irevnet.vae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.layers.Param;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.ParamGradients;
import org.irevnet.testing.TinyData;
import org.irevnet.train.AdamOptimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The VAE graph: its gradients through decoder, flow and encoder against finite differences
 * (float64), the training and sampling graphs computing the same {@code log w}, the
 * importance-sampling estimate against the ELBO, and training lowering the loss; on a model with
 * zeroed weights, {@code log w}, the evaluation's averages and an epoch's mean loss against hand
 * computations.
 */
class ConvVaeTest {

  private static ConvVae.Config config(String flow) {
    return new ConvVae.Config(flow, 3, 8, 2, 2, 2);
  }

  private static INDArray binaryImages(DataType dt, int n, long seed) {
    Random r = new Random(seed);
    INDArray x = Nd4j.zeros(dt, n, 784);
    for (int i = 0; i < n; i++) for (int j = 0; j < 784; j++) x.putScalar(i, j, r.nextBoolean() ? 1 : 0);
    return x;
  }

  @ParameterizedTest
  @EnumSource(value = Layouts.class, mode = EnumSource.Mode.EXCLUDE, names = "DENSE")
  void everyEntryPointGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(Layouts layout) {
    // Images and noise from a caller (as [n, 784] and [n, D] matrices) reach SameDiff's graphs,
    // whose ops may read a view's buffer as if it were dense.
    ConvVae vae = new ConvVae(config("sylvester-orthogonal"), 3, DataType.DOUBLE);
    INDArray x = layout.of(binaryImages(DataType.DOUBLE, 3, 4)), eps = layout.of(Numerics.normal(DataType.DOUBLE, 5, 3, 3));
    INDArray grey = layout.of(Nd4j.rand(DataType.FLOAT, 3, 1, 28, 28));
    Map<String, java.util.function.Function<INDArray[], List<INDArray>>> entries = new java.util.LinkedHashMap<>();
    entries.put("accumulateGradients", in -> {
      vae.params().zeroGrad();
      List<INDArray> r = new ArrayList<>(List.of(Nd4j.scalar(vae.accumulateGradients(in[0], in[1]))));
      r.addAll(ParamGradients.copy(vae.params()).values());
      vae.params().zeroGrad();
      return r;
    });
    entries.put("logWeights", in -> List.of(vae.logWeights(in[0], in[1], Nd4j.createFromArray(0, 2, 1))));
    entries.put("evaluate", in -> {
      ConvVae.Evaluation e = vae.evaluate(in[0], 3, 2, new Random(6));
      return List.of(Nd4j.createFromArray(e.elbo(), e.nll(), e.nllStdError()));
    });
    entries.put("binarise", in -> List.of(ConvVae.binarise(in[2], new Random(7))));
    entries.forEach((name, entry) -> Layouts.assertSameAsOnDenseCopies(name, new INDArray[] {x, eps, grey}, entry));
  }

  /**
   * Training and evaluation measure how far sylvester-orthogonal's iterated Q is from orthonormal
   * (its log-det assumes it is): at rounding on a fresh model; when the head's Q block of the second
   * step is a fixed raw matrix of condition number 1e6 (its weights zero, its bias that matrix),
   * what the flow itself measures on that matrix, far past the tolerance. Other flows measure nothing.
   */
  @Test
  void trainingAndEvaluationMeasureHowFarQIsFromOrthonormal() {
    ConvVae vae = new ConvVae(config("sylvester-orthogonal"), 3, DataType.DOUBLE);
    INDArray x = binaryImages(DataType.DOUBLE, 2, 4);
    INDArray eps = Numerics.normal(DataType.DOUBLE, 5, 2, 3);
    assertThat(vae.measuresOrthogonality()).isTrue();
    assertThat(vae.orthogonalityError()).isZero();
    vae.accumulateGradients(x, eps);
    assertThat(vae.orthogonalityError()).isBetween(0.0, 1e-14);
    assertThat(vae.evaluate(x, 3, 2, new Random(6)).orthogonalityError()).isBetween(0.0, 1e-14);

    // latent 3, M = 2: a step's raw parameters are full [4], d1, d2, b [2 each], Q [3x2]; the head
    // gives mu [3] and log σ² [3] first.
    SylvesterFlow step = SylvesterFlow.orthogonal(3, 2);
    int q = 6 + step.paramCount() + 10;
    double[] ill = {1, 0, 0, 1e-6, 0, 0}; // columns (1, 0, 0) and (0, 1e-6, 0): condition number 1e6
    INDArray w = vae.params().get("enc.head.w").value(), b = vae.params().get("enc.head.b").value();
    INDArray wasW = w.dup(), wasB = b.dup();
    for (int k = 0; k < 6; k++) {
      w.getColumn(q + k).assign(0);
      b.putScalar(0, q + k, ill[k]);
    }
    double[] raw = new double[step.paramCount()];
    System.arraycopy(ill, 0, raw, 10, 6);
    org.nd4j.autodiff.samediff.SameDiff sd = org.nd4j.autodiff.samediff.SameDiff.create();
    var qtq = step.prepare(sd, sd.var("raw", Nd4j.createFromArray(new double[][] {raw}))).get(SylvesterFlow.ORTHOGONALITY_ERROR);
    double expected = org.irevnet.nn.Tensors.maxAbs(qtq.eval());
    assertThat(expected).isGreaterThan(1000 * SylvesterFlow.ORTHOGONALITY_TOLERANCE);
    assertThat(vae.evaluate(x, 3, 2, new Random(6)).orthogonalityError()).isCloseTo(expected, offset(1e-15));
    vae.accumulateGradients(x, eps);
    assertThat(vae.orthogonalityError()).as("the largest over the batches so far").isCloseTo(expected, offset(1e-15));
    // A later batch whose Q is orthonormal again does not clear it: vae's check is of the whole training.
    w.assign(wasW);
    b.assign(wasB);
    assertThat(vae.evaluate(x, 3, 2, new Random(6)).orthogonalityError()).as("the head restored").isBetween(0.0, 1e-14);
    vae.accumulateGradients(x, eps);
    assertThat(vae.orthogonalityError()).as("kept after a good batch").isCloseTo(expected, offset(1e-15));

    ConvVae householder = new ConvVae(config("sylvester-householder"), 3, DataType.DOUBLE);
    householder.accumulateGradients(x, eps);
    assertThat(householder.measuresOrthogonality()).isFalse();
    assertThat(householder.orthogonalityError()).isZero();
    assertThat(householder.evaluate(x, 3, 2, new Random(6)).orthogonalityError()).isZero();
  }

  @Test
  void gradientsMatchFiniteDifferencesThroughEncoderFlowAndDecoder() {
    for (String flow : List.of("sylvester-orthogonal")) {
      ConvVae vae = new ConvVae(config(flow), 3, DataType.DOUBLE);
      INDArray x = binaryImages(DataType.DOUBLE, 2, 4);
      INDArray eps = Numerics.normal(DataType.DOUBLE, 5, 2, 3);
      INDArray rows = Nd4j.createFromArray(0, 1);
      // Biases start at zero, and a 3x3 patch of zero pixels then puts a ReLU exactly at its kink,
      // where finite differences see half a slope: moving every parameter a little avoids that.
      Random noise = new Random(6);
      for (Param p : vae.params().entries().values()) {
        p.value().addi(org.irevnet.nn.Init.normal(DataType.DOUBLE, noise, p.value().shape()).muli(0.05));
      }
      vae.params().zeroGrad();
      double loss = vae.accumulateGradients(x, eps);
      assertThat(loss).as("training graph vs sampling graph")
          .isCloseTo(-vae.logWeights(x, eps, rows).meanNumber().doubleValue(), offset(1e-9));

      List<Double> analytic = new ArrayList<>(), numeric = new ArrayList<>();
      for (Map.Entry<String, Param> e : vae.params().entries().entrySet()) {
        INDArray v = e.getValue().value();
        INDArray g = e.getValue().grad().dup('c').reshape(-1);
        for (int k : Numerics.sampleIndices(v.length(), 2, e.getKey().hashCode())) {
          double fd = Numerics.gradient(a -> -vae.logWeights(x, eps, rows).meanNumber().doubleValue(), v, 1e-6,
              new int[] {k})[0];
          analytic.add(g.getDouble(k));
          numeric.add(fd);
        }
      }
      double[] an = analytic.stream().mapToDouble(Double::doubleValue).toArray();
      double[] nu = numeric.stream().mapToDouble(Double::doubleValue).toArray();
      assertThat(Numerics.maxRelDiff(an, nu)).as(flow + ": dLoss/dθ vs finite differences").isLessThanOrEqualTo(1e-6);
      assertThat(java.util.Arrays.stream(an).filter(a -> Math.abs(a) > 1e-3).count()).as("non-trivial gradients")
          .isGreaterThan(an.length / 3);
    }
  }

  @Test
  void importanceSampledNllIsBelowTheNegativeElboAndEqualWithOneSample() {
    ConvVae vae = new ConvVae(config("sylvester-triangular"), 1, DataType.FLOAT);
    INDArray x = binaryImages(DataType.FLOAT, 3, 2);
    ConvVae.Evaluation many = vae.evaluate(x, 40, 16, new Random(7));
    assertThat(Double.isFinite(many.nll()) && Double.isFinite(many.elbo())).isTrue();
    // Jensen on the same samples: log mean w >= mean log w.
    assertThat(many.nll()).isLessThanOrEqualTo(-many.elbo());
    assertThat(many.nll()).isLessThan(-many.elbo() - 1e-3);
    ConvVae.Evaluation one = vae.evaluate(x, 1, 1, new Random(7));
    assertThat(one.nll()).isCloseTo(-one.elbo(), offset(1e-9));
    assertThat(one.images()).isEqualTo(3);
  }

  /**
   * A VAE whose weights are all zero: every image gets the head's bias as its {@code mu}, {@code
   * log σ²} and flow parameters, and every pixel the logit {@code beta} (the last conv's bias), so
   * {@code log w} can be computed by hand ({@link #logW}).
   */
  private static ConvVae zeroed(String flow, double[] headBias, double beta) {
    ConvVae vae = new ConvVae(new ConvVae.Config(flow, 2, 4, 1, 1, 1), 5, DataType.DOUBLE);
    for (Param p : vae.params().entries().values()) p.value().assign(0);
    vae.params().get("enc.head.b").value().assign(Nd4j.createFromArray(new double[][] {headBias}));
    vae.params().get("dec.conv2.b").value().assign(beta);
    return vae;
  }

  /**
   * {@code log w = log p(x|zK) + log N(zK; 0, I) - log N(z0; mu, σ²) + log|det|} in float64 for
   * {@link #zeroed}'s model: Bernoulli with logit {@code beta} on every pixel, {@code z0 = mu + σ
   * eps}, and with a 2D + 1 wide flow part of the head one planar step (û as in Rezende &amp;
   * Mohamed's appendix).
   */
  private static double logW(double[] head, double beta, INDArray x, double[] eps) {
    int d = eps.length;
    double halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
    double[] z = new double[d];
    double logQ0 = -d * halfLog2Pi;
    for (int j = 0; j < d; j++) {
      z[j] = head[j] + Math.exp(0.5 * head[d + j]) * eps[j];
      logQ0 += -0.5 * eps[j] * eps[j] - 0.5 * head[d + j];
    }
    double logDet = 0;
    if (head.length > 2 * d) {
      double wu = 0, ww = 0, wz = 0;
      for (int j = 0; j < d; j++) {
        wu += head[3 * d + j] * head[2 * d + j];
        ww += head[3 * d + j] * head[3 * d + j];
        wz += head[3 * d + j] * z[j];
      }
      double m = -1 + Math.log1p(Math.exp(wu));
      double h = Math.tanh(wz + head[4 * d]);
      double wuHat = 0;
      for (int j = 0; j < d; j++) {
        double uHat = head[2 * d + j] + (m - wu) * head[3 * d + j] / ww;
        wuHat += head[3 * d + j] * uHat;
        z[j] += uHat * h;
      }
      logDet = Math.log(Math.abs(1 + (1 - h * h) * wuHat));
    }
    double logPz = -d * halfLog2Pi;
    for (double v : z) logPz -= 0.5 * v * v;
    double logPx = x.sumNumber().doubleValue() * beta - x.length() * Math.log1p(Math.exp(beta));
    return logPx + logPz - logQ0 + logDet;
  }

  // mu (2), log σ² (2), planar u (2), w (2), b.
  private static final double[] PLANAR_HEAD = {0.3, -0.5, -0.4, 0.6, 0.8, -0.3, 0.5, 1.2, -0.2};

  @Test
  void logWeightsMatchAHandComputationOfTheElboTerms() {
    ConvVae vae = zeroed("planar", PLANAR_HEAD, -0.7);
    INDArray x = binaryImages(DataType.DOUBLE, 2, 8);
    double[][] eps = {{0.4, -1.1}, {1.3, 0.2}, {-0.6, 0.9}};
    int[] rows = {0, 1, 1};
    INDArray w = vae.logWeights(x, Nd4j.createFromArray(eps), Nd4j.createFromArray(rows));
    for (int k = 0; k < 3; k++) {
      assertThat(w.getDouble(k)).as("log w of sample " + k)
          .isCloseTo(logW(PLANAR_HEAD, -0.7, x.getRow(rows[k]), eps[k]), offset(1e-9));
    }
    double loss = vae.accumulateGradients(x, Nd4j.createFromArray(new double[][] {eps[0], eps[1]}));
    double expected = -(logW(PLANAR_HEAD, -0.7, x.getRow(0), eps[0]) + logW(PLANAR_HEAD, -0.7, x.getRow(1), eps[1])) / 2;
    assertThat(loss).as("training loss: the mean of -log w").isCloseTo(expected, offset(1e-9));
  }

  /** Gaussian draws {@code 1.5 sin(1.7 i + 0.3)}, i = 0, 1, ...: the test knows every {@code eps}. */
  private static final class ScriptedGaussians extends Random {
    private int i;

    static double draw(int i) {
      return 1.5 * Math.sin(1.7 * i + 0.3);
    }

    @Override
    public double nextGaussian() {
      return draw(i++);
    }
  }

  @Test
  void evaluationAveragesTheElboAndTheImportanceSampledNllOverImages() {
    ConvVae vae = zeroed("planar", PLANAR_HEAD, -0.7);
    INDArray x = binaryImages(DataType.DOUBLE, 3, 9);
    int samples = 3;
    // Chunks of 2 rows: image i draws 2 * samples values, sample k's eps being draws 6i + 2k, 6i + 2k + 1.
    ConvVae.Evaluation e = vae.evaluate(x, samples, 2, new ScriptedGaussians());
    double[] nll = new double[3];
    double elbo = 0;
    for (int i = 0; i < 3; i++) {
      double meanW = 0;
      for (int k = 0; k < samples; k++) {
        int at = 2 * samples * i + 2 * k;
        double lw = logW(PLANAR_HEAD, -0.7, x.getRow(i), new double[] {ScriptedGaussians.draw(at), ScriptedGaussians.draw(at + 1)});
        elbo += lw / (3 * samples);
        meanW += Math.exp(lw) / samples;
      }
      nll[i] = -Math.log(meanW);
    }
    double nllMean = (nll[0] + nll[1] + nll[2]) / 3;
    double ss = 0;
    for (double v : nll) ss += (v - nllMean) * (v - nllMean);
    assertThat(e.elbo()).isCloseTo(elbo, offset(1e-9));
    assertThat(e.nll()).isCloseTo(nllMean, offset(1e-9));
    assertThat(e.nllStdError()).as("standard error of the mean over 3 images").isCloseTo(Math.sqrt(ss / 2 / 3), offset(1e-9));
    assertThat(e.samples()).isEqualTo(samples);
    ConvVae.Evaluation one = vae.evaluate(x.getRow(0, true), samples, 2, new ScriptedGaussians());
    assertThat(one.nll()).isCloseTo(nll[0], offset(1e-9));
    assertThat(one.nllStdError()).as("one image: no spread to estimate").isZero();
  }

  @Test
  void anEpochReturnsTheMeanLossOverItsBatches() {
    // All zero: mu = 0, σ = 1 so z0 = eps and log N(z0) - log q(z0) = 0, and every pixel's logit
    // is 0: log w = -784 log 2 for any image and noise, so every batch's loss is 784 log 2.
    ConvVae vae = zeroed("none", new double[4], 0);
    AdamOptimizer frozen = vae.optimizer(0);
    double loss = vae.trainEpoch(binaryImages(DataType.FLOAT, 6, 10), 2, frozen, 1, 0, new Random(3));
    assertThat(loss).isCloseTo(784 * Math.log(2), offset(1e-9));
  }

  @Test
  void aBlankImageGivesAFreshModelAFiniteLossAndFiniteGradients() {
    // Biases start at zero, so a blank image gives all-zero flow parameters (w = 0, v = 0),
    // where the planar and Householder formulas would divide 0 by 0 (FlowsTest has the flows alone).
    for (String flow : List.of("planar", "householder")) {
      ConvVae vae = new ConvVae(config(flow), 2, DataType.FLOAT);
      INDArray x = binaryImages(DataType.FLOAT, 2, 8);
      x.getRow(0).assign(0);
      double loss = vae.accumulateGradients(x, Numerics.normal(DataType.FLOAT, 4, 2, 3));
      assertThat(loss).as(flow).isFinite();
      for (Map.Entry<String, Param> e : vae.params().entries().entrySet()) {
        INDArray g = e.getValue().grad();
        assertThat(g.isNaN().any() || g.isInfinite().any()).as("%s: gradient of %s finite", flow, e.getKey()).isFalse();
      }
    }
  }

  @Test
  void buildingAndRunningTheGradientGraphWritesNothingToStandardOutput() {
    // The commands' stdout is their JSON result; SameDiff prints while it builds a gradient graph.
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true);
    System.setOut(capture);
    try {
      ConvVae vae = new ConvVae(config("planar"), 2, DataType.FLOAT);
      assertThat(System.out).as("standard output restored").isSameAs(capture);
      vae.accumulateGradients(binaryImages(DataType.FLOAT, 2, 3), Numerics.normal(DataType.FLOAT, 2, 2, 3));
    } finally {
      System.setOut(original);
    }
    assertThat(captured.toString()).isEmpty();
  }

  @Test
  void trainingLowersTheNegativeElbo(@TempDir Path tmp) throws Exception {
    Dataset train = Datasets.open(TinyData.idx(tmp, 64, 10)).train();
    INDArray images = train.images().reshape(64, 784);
    ConvVae vae = new ConvVae(new ConvVae.Config("householder", 4, 16, 2, 2, 2), 1, DataType.FLOAT);
    AdamOptimizer opt = vae.optimizer(3e-3);
    Random rng = new Random(1);
    double first = vae.trainEpoch(images, 16, opt, 1, 0, rng);
    double last = first;
    for (int e = 1; e < 6; e++) last = vae.trainEpoch(images, 16, opt, 1, e, rng);
    assertThat(last).as("negative ELBO after 6 epochs vs after the first").isLessThan(first - 20);
  }
}
