package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.cnf.Cnf;
import org.irevnet.cnf.DormandPrince;
import org.irevnet.cnf.MlpDynamics;
import org.irevnet.cnf.ToyDensity;
import org.irevnet.data.Datasets;
import org.irevnet.data.Seeds;
import org.irevnet.io.Npz;
import org.irevnet.testing.TorchPython;
import org.irevnet.vae.ConvVae;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The density models' numbers against an independent computation: {@code scripts/torch_density.py}
 * recomputes, in PyTorch float64 from the saved weights and its own copy of the seeded draws, what two
 * tiny {@code cnf} runs wrote in {@code cnf.json} (test log-likelihood and its standard error, the
 * function evaluations of dopri5 and RK4, the inversion error and bound; the log-det also against the
 * solution map's own Jacobian and a solve at 1e-12; the data's own log-density as a ceiling), what
 * tiny {@code vae} runs wrote in {@code vae.json} and what their weights give in a float64 VAE (ELBO,
 * importance-sampled NLL and its standard error, with every flow's log-det from the Jacobian of the
 * whole flow), and our Hutchinson estimates of the 8-gaussians flow's log-det (through the Java API:
 * {@code cnf} uses the exact trace). 23 to 37 s at a load average of 6.
 */
class DensityTorchTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "torch_density.py").toAbsolutePath().normalize();
  private static final Path MINI = Path.of("..", "data", "fashion-mnist-mini").toAbsolutePath().normalize();
  static final String HIDDEN = "16";
  static final double EVAL_TOL = 1e-6;
  /** Every flow with a log-det or a Q of its own ({@code none} is the first part of each). */
  static final List<String> FLOWS = List.of("planar", "householder", "sylvester-orthogonal", "sylvester-householder",
      "sylvester-triangular");

  @TempDir static Path dir;
  private static JsonNode result;
  private static String python;

  @BeforeAll
  static void computeInBothFrameworks() throws Exception {
    python = TorchPython.find();
    Path cnf = dir.resolve("cnf");
    MainTest.Run r = run("cnf", "--target", "8-gaussians", "--out", cnf.toString(), "--iterations", "40", "--batch",
        "64", "--hidden", HIDDEN, "--test-samples", "400", "--plot-samples", "300", "--grid", "10", "--eval-tol",
        Double.toString(EVAL_TOL), "--threads", "1", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    // A second target, its sampler's draws and its density's squares: --time 2 and 5 RK4 steps, another solve.
    Path checkerboard = dir.resolve("cnf-checkerboard");
    MainTest.Run r2 = run("cnf", "--target", "checkerboard", "--out", checkerboard.toString(), "--iterations", "5",
        "--batch", "32", "--hidden", "8", "--time", "2", "--steps", "5", "--test-samples", "200", "--plot-samples",
        "100", "--grid", "4", "--threads", "1", "--no-progress");
    assertThat(r2.code()).as(r2.err()).isZero();
    List<String> vaes = new ArrayList<>();
    for (String flow : FLOWS) {
      Path out = dir.resolve("vae-" + flow);
      MainTest.Run v = run("vae", "--flow", flow, "--data", MINI.toString(), "--out", out.toString(), "--epochs", "1",
          "--train-images", "50", "--batch", "50", "--latent", "4", "--hidden", "16", "--flow-steps", "2",
          "--reflections", "2", "--orthonormal", "3", "--test-images", "3", "--is-samples", "20", "--threads", "1",
          "--no-progress");
      assertThat(v.code()).as(v.err()).isZero();
      vaes.add(out.toString());
      vaes.add(inFloat64(out, dir.resolve("vae64-" + flow)).toString());
    }
    Path hutchinson = dir.resolve("hutchinson.npz");
    Npz.write(hutchinson, hutchinsonEstimates(cnf));
    Path check = Files.createDirectories(dir.resolve("check"));
    Files.writeString(check.resolve("density.json"), Json.MAPPER.writeValueAsString(Map.of("cnf",
        List.of(cnf.toString(), checkerboard.toString()), "hutchinson", hutchinson.toString(), "vae", vaes, "data",
        MINI.toString())));
    TorchPython.Result out = TorchPython.run(python, SCRIPT.toString(), check.toString());
    assertThat(out.exitCode()).as(out.stderr()).isIn(0, 1);
    result = Json.MAPPER.readTree(out.stdout());
  }

  /**
   * The run's trained weights in a float64 VAE, evaluated as {@code vae} evaluates (the same test
   * binarisation and importance samples, drawn from the same seeds): a run directory whose numbers
   * the script can check to float64 rounding, where the float32 run's agree only to float32's.
   */
  private static Path inFloat64(Path run, Path out) throws Exception {
    JsonNode ours = Json.MAPPER.readTree(run.resolve("vae.json").toFile());
    ConvVae.Config config = new ConvVae.Config(ours.get("flow").asText(), ours.get("latent").asInt(),
        ours.get("hidden").asInt(), ours.get("flow_steps").asInt(), ours.get("reflections").asInt(),
        ours.get("orthonormal").asInt());
    long seed = ours.get("seed").asLong();
    ConvVae vae = new ConvVae(config, seed, DataType.DOUBLE);
    vae.params().load(Npz.read(run.resolve("weights.npz")));
    int images = ours.get("test_images").asInt(), samples = ours.get("is_samples").asInt();
    INDArray test = Datasets.open(MINI).test().images().get(NDArrayIndex.interval(0, images));
    ConvVae.Evaluation e = vae.evaluate(ConvVae.binarise(test, new Random(Seeds.mix(seed, 1))).castTo(DataType.DOUBLE),
        samples, samples, new Random(Seeds.mix(seed, 3)));
    ObjectNode result = ours.deepCopy();
    result.put("test_elbo_nats", e.elbo()).put("test_is_nll_nats", e.nll())
        .put("test_is_nll_std_error", e.nllStdError());
    Files.createDirectories(out);
    Files.writeString(out.resolve("vae.json"), Json.pretty(result));
    Npz.write(out.resolve("weights.npz"), vae.params().state());
    return out;
  }

  /**
   * Our Hutchinson estimates ({@code Cnf.forwardEstimated}, dopri5 at the run's --eval-tol) of the
   * trained flow's log-det at 20 points, with each of the four Rademacher vectors (+-1, +-1) as every
   * point's noise.
   */
  private static Map<String, INDArray> hutchinsonEstimates(Path cnf) throws Exception {
    MlpDynamics dynamics = new MlpDynamics(2, Integer.parseInt(HIDDEN), DataType.DOUBLE, 0, 1);
    dynamics.params().load(Npz.read(cnf.resolve("weights.npz")));
    Cnf flow = new Cnf(dynamics, new DormandPrince(EVAL_TOL, EVAL_TOL), 1.0);
    int n = 20;
    double[] x = ToyDensity.EIGHT_GAUSSIANS.sample(new Random(7), n);
    double[][] noise = new double[4][2 * n];
    double[][] estimates = new double[4][];
    for (int k = 0; k < 4; k++) {
      for (int b = 0; b < n; b++) {
        noise[k][2 * b] = (k & 1) == 0 ? 1 : -1;
        noise[k][2 * b + 1] = (k & 2) == 0 ? 1 : -1;
      }
      estimates[k] = flow.forwardEstimated(x, n, noise[k]).logDet();
    }
    return Map.of("x", Nd4j.create(x, new long[] {n, 2}, 'c'), "noise", Nd4j.create(noise).reshape(4, n, 2),
        "estimates", Nd4j.create(estimates));
  }


  @Test
  void pyTorchComputesEveryDensityNumberAsWeWroteIt() {
    assertThat(TorchPython.failedChecks(result)).isEmpty();
  }

  /** Each number was compared, not skipped: a check of every kind is there and held. */
  @ParameterizedTest
  @ValueSource(strings = {"cnf 8-gaussians testLogLikelihood", "cnf 8-gaussians testLogLikelihoodStdError",
      "cnf 8-gaussians nfeTestForward", "cnf 8-gaussians nfeSampling", "cnf 8-gaussians nfeForwardPerIteration (rk4)",
      "cnf 8-gaussians nfeBackwardPerIteration (rk4)", "cnf 8-gaussians testLogLikelihood (solve at 1e-12)",
      "cnf 8-gaussians log-det = log|det dz(T)/dx| (autograd through RK4)", "cnf 8-gaussians inversionMaxAbsError",
      "cnf 8-gaussians inversionTolerance", "cnf 8-gaussians inversionHolds", "cnf 8-gaussians parameters",
      "cnf 8-gaussians testLogLikelihood <= the data's own (4 standard errors)",
      "cnf Hutchinson estimates (same noise)", "cnf checkerboard testLogLikelihood", "cnf checkerboard nfeSampling",
      "cnf checkerboard testLogLikelihood <= the data's own (4 standard errors)",
      "cnf Hutchinson mean over the four signs = exact log-det", "vae planar test_elbo_nats",
      "vae planar test_is_nll_nats", "vae planar test_is_nll_std_error", "vae sylvester-orthogonal test_elbo_nats",
      "vae sylvester-orthogonal test_is_nll_nats", "vae sylvester-householder test_is_nll_nats",
      "vae sylvester-triangular test_is_nll_nats", "vae sylvester-orthogonal params",
      "vae sylvester-householder flow_params_per_image", "vae householder test_is_nll_nats",
      "vae planar float64 test_elbo_nats", "vae householder float64 test_is_nll_nats",
      "vae sylvester-orthogonal float64 test_is_nll_nats", "vae sylvester-householder float64 test_is_nll_nats",
      "vae sylvester-triangular float64 test_is_nll_nats", "vae sylvester-triangular float64 test_is_nll_std_error"})
  void everyKindOfNumberWasChecked(String name) {
    TorchPython.assertChecked(result, name);
  }

  /**
   * The README's best achievable test log-likelihood of 8-gaussians, minus the data's entropy, is
   * the script's (the integral of p log p by quadrature); it said 2.838 (log 8 plus one Gaussian's
   * entropy), which ignores the components' overlap.
   */
  @Test
  void theReadmeQuotesTheTargetsBestLogLikelihood() throws Exception {
    double best = result.path("measured").path("cnf 8-gaussians best achievable (minus the entropy)").asDouble(0);
    assertThat(Files.readString(Path.of("..", "README.md"))).contains(String.format(java.util.Locale.ROOT,
        "entropy, %.3f nats", -best));
  }

  /** The script's bad input is one line naming the directory and what is wrong, exit code 2. */
  @Test
  void theScriptRefusesBadInputInOneLine(@TempDir Path tmp) throws Exception {
    TorchPython.assertRefusesAnEmptyDirectory(python, SCRIPT, "density.json", tmp);
  }
}
