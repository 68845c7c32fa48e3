package org.irevnet.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import org.irevnet.cnf.Cnf;
import org.irevnet.cnf.CnfTraining;
import org.irevnet.cnf.DormandPrince;
import org.irevnet.cnf.OdeSolver;
import org.irevnet.cnf.Rk4;
import org.irevnet.cnf.ToyDensity;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.RunLock;
import org.irevnet.io.Npz;
import org.irevnet.reports.CnfFigures;
import org.irevnet.reports.JsonReport;
import org.irevnet.settings.Ranges;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cnf", mixinStandardHelpOptions = true,
    header = "Train a continuous normalising flow (FFJORD-style neural ODE) on a 2-D toy density.",
    description = {
        "dz/dt = f(z, t) with f a 2-H-H-2 tanh MLP (time as an input), log-det by the exact trace,",
        "gradients by the adjoint method. Training uses --solver (rk4 with --steps, or adaptive",
        "dopri5 with --rtol/--atol); evaluation always uses dopri5 at --eval-tol. Writes into --out:",
        "cnf.json (test log-likelihood in nats per sample, solver evaluations (NFE) per forward and",
        "adjoint solve, times, inversion error), weights.npz, density.png (data histogram | learned",
        "density) and samples.png (data | samples from integrating Gaussian noise backwards); a --out",
        "that holds them already needs --fresh. Exit code 1 (results written) if the inversion check fails:",
        "test points integrated to T and back miss by more than 1000 x --eval-tol x (1 + their largest |coordinate|)."})
final class CnfCommand implements Callable<Integer> {
  private static final double LO = -4, HI = 4;

  /**
   * The smallest --eval-tol (rtol = atol) float64 can meet: about 45 epsilons. Below it a step's
   * rounding is as large as the error allowed, and the error estimate measures rounding: Hairer's
   * DOPRI5 refuses rtol up to 10 unit roundoffs (2.2e-15), SciPy's solve_ivp and MATLAB's ode45
   * raise rtol below 100 epsilons (2.2e-14); 1e-14 lies between. Checked before training: at
   * 1e-300 the evaluation failed after all of it (then with "non-finite state", the scaled error
   * overflowing; the solver's norms no longer overflow, but no step meets such a tolerance).
   */
  static final double MIN_EVAL_TOL = 1e-14;

  /**
   * The inversion check allows this many times what dopri5 aims at per step, {@code --eval-tol x
   * (1 + |z|)}. Flows that invert well came back within 3 to 300 times --eval-tol (the README's
   * four targets at 1e-6, untrained flows over --time 10 to 1000 at 1e-3); flows too stiff to
   * integrate back (--lr 0.05 to 0.3, --time 30 to 100) missed by 360 to 1,240 at 1e-3. A longer
   * --time needs no larger bound: the adaptive steps keep the error of a flow that inverts well
   * where it was (4e-6 at 1e-6 for --time 10, 100 and 1000).
   */
  static final double INVERSION_TOLERANCE = 1000;

  @Mixin CommonOptions common;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--target", required = true, paramLabel = "NAME", completionCandidates = Choices.CnfTarget.class,
      description = "${COMPLETION-CANDIDATES}.")
  String target;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default runs/cnf-TARGET).")
  Path out;

  @Option(names = "--iterations", defaultValue = "500", description = "Training iterations (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--batch", defaultValue = "256", description = "Points per iteration (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--hidden", defaultValue = "64", description = "Width of both hidden layers (default ${DEFAULT-VALUE}).")
  int hidden;

  @Option(names = "--lr", defaultValue = "3e-3", description = "Adam learning rate (default ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--time", defaultValue = "1.0", description = "Integration time T (default ${DEFAULT-VALUE}).")
  double time;

  @Option(names = "--solver", defaultValue = "rk4", completionCandidates = Choices.Solver.class,
      description = "Training solver: rk4 or dopri5 (default ${DEFAULT-VALUE}).")
  String solver;

  @Option(names = "--steps", defaultValue = "8", description = "RK4 steps over [0, T] (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--rtol", defaultValue = "1e-5", description = "dopri5 relative tolerance in training (default ${DEFAULT-VALUE}).")
  double rtol;

  @Option(names = "--atol", defaultValue = "1e-5", description = "dopri5 absolute tolerance in training (default ${DEFAULT-VALUE}).")
  double atol;

  @Option(names = "--eval-tol", defaultValue = "1e-6",
      description = "dopri5 rtol = atol for test likelihood, samples and plots (default ${DEFAULT-VALUE}).")
  double evalTol;

  @Option(names = "--test-samples", defaultValue = "5000", description = "Test points (default ${DEFAULT-VALUE}).")
  int testSamples;

  @Option(names = "--plot-samples", defaultValue = "20000", description = "Points per histogram (default ${DEFAULT-VALUE}).")
  int plotSamples;

  @Option(names = "--grid", defaultValue = "100", description = "Cells per side of the plots over [-4, 4]^2 (default ${DEFAULT-VALUE}).")
  int grid;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of weights and data (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--fresh", description = "Replace the results of an earlier run in --out instead of refusing.")
  boolean fresh;

  /** Everything cnf.json holds. */
  record Summary(String target, String trainSolver, String evalSolver, int hidden, int iterations, int batch,
      double learningRate, double integrationTime, long seed, int threads, long parameters,
      double finalTrainLoss, double testLogLikelihood, double testLogLikelihoodStdError, int testSamples,
      double nfeForwardPerIteration, double nfeBackwardPerIteration, int nfeTestForward, int nfeSampling,
      int plotSamples, double trainSeconds, double evalSeconds, double inversionMaxAbsError, double inversionTolerance,
      boolean inversionHolds) {}

  @Override
  public Integer call() throws Exception {
    ToyDensity density = ToyDensity.of(target);
    // An option of the other solver is not read: --solver dopri5 --steps 4 trained as if --steps were
    // not there, and nothing said so (cnf.json's trainSolver did, once the run was over).
    for (String option : solver.equals("rk4") ? List.of("--rtol", "--atol") : solver.equals("dopri5")
        ? List.of("--steps") : List.<String>of()) {
      if (CommonOptions.typed(spec, option)) {
        throw new IllegalArgumentException(option + " applies to --solver " + (solver.equals("rk4") ? "dopri5" : "rk4")
            + ", not " + solver);
      }
    }
    OdeSolver trainSolver = switch (solver) {
      case "rk4" -> {
        CommonOptions.positive("--steps", steps);
        yield new Rk4(steps);
      }
      case "dopri5" -> {
        Ranges.positive("--rtol", rtol);
        Ranges.positive("--atol", atol);
        yield new DormandPrince(rtol, atol);
      }
      default -> throw new IllegalArgumentException("unknown solver '" + solver + "' (expected "
          + Ranges.listed(Choices.SOLVERS) + ")");
    };
    Ranges.atLeast("--eval-tol", evalTol, MIN_EVAL_TOL);
    DormandPrince evalSolver = new DormandPrince(evalTol, evalTol);
    CommonOptions.positive("--iterations", iterations);
    CommonOptions.positive("--batch", batch);
    CommonOptions.positive("--hidden", hidden);
    CommonOptions.positive("--test-samples", testSamples);
    CommonOptions.positive("--plot-samples", plotSamples);
    Ranges.atLeast("--grid", grid, 2);
    Ranges.positive("--lr", lr);
    Ranges.positive("--time", time);
    CnfTraining.Config config = new CnfTraining.Config(density, hidden, time, trainSolver, iterations, batch, lr, seed);
    Path dir = out != null ? out : Path.of("runs", "cnf-" + density.id());
    CommonOptions.refuseInCheckpoints(dir);
    // A run's analysis/: that run's report showed these files as its own results.
    CommonOptions.refuseRunsAnalysis(dir, "these results");
    // A run's own directory: the flow's weights.npz and samples.png went in among the run's files.
    if (CommonOptions.isRun(dir)) {
      throw new IllegalArgumentException("--out " + dir + " is the directory of a run: give another directory");
    }
    try (RunLock writing = CommonOptions.writingResults(dir, fresh, "cnf.json", "weights.npz", "density.png",
        "samples.png")) {
      return trainAndWrite(density, trainSolver, evalSolver, config, dir);
    }
  }

  /** Trains and evaluates the flow, and writes its results into {@code dir}; the exit code. */
  private int trainAndWrite(ToyDensity density, OdeSolver trainSolver, DormandPrince evalSolver,
      CnfTraining.Config config, Path dir) throws Exception {
    common.apply();

    StatusLine status = new StatusLine(!common.noProgress);
    CnfTraining.Result r = CnfTraining.train(config, s -> {
      if (s.iteration() % 10 == 0 || s.iteration() == iterations - 1) {
        status.update(s.iteration() + 1, iterations, String.format(java.util.Locale.ROOT,
            "cnf %s: iteration %d/%d, loss %.3f, NFE %d + %d   ", density.id(), s.iteration() + 1, iterations, s.loss(),
            s.forwardEvaluations(), s.backwardEvaluations()));
      }
    });
    status.end();

    long evalStart = System.nanoTime();
    Cnf eval = r.cnf().withSolver(evalSolver);
    Random rng = new Random(seed + 1_000_003);
    double[] test = density.sample(rng, testSamples);
    CnfTraining.Densities ll = CnfTraining.logDensities(eval, test);
    double mean = 0, sq = 0;
    for (double v : ll.logDensity()) mean += v / testSamples;
    for (double v : ll.logDensity()) sq += (v - mean) * (v - mean);
    double stdError = Math.sqrt(sq / Math.max(1, testSamples - 1) / testSamples);
    double inversionError = CnfTraining.roundTripError(eval, test);
    double largest = 0;
    for (double v : test) largest = Math.max(largest, Math.abs(v));
    double inversionTolerance = INVERSION_TOLERANCE * evalTol * (1 + largest);
    boolean inversionHolds = inversionError <= inversionTolerance; // false for NaN

    double[] gridDensity = CnfTraining.logDensities(eval, CnfFigures.gridPoints(grid, LO, HI)).logDensity();
    for (int i = 0; i < gridDensity.length; i++) gridDensity[i] = Math.exp(gridDensity[i]);
    double[] data = CnfFigures.histogram(density.sample(rng, plotSamples), grid, LO, HI);
    Cnf.Transport sampled = CnfTraining.sample(eval, rng, plotSamples);
    double[] model = CnfFigures.histogram(sampled.z(), grid, LO, HI);
    double evalSeconds = (System.nanoTime() - evalStart) / 1e9;

    Summary summary = new Summary(density.id(), trainSolver.describe(), eval.solver().describe(), hidden, iterations,
        batch, lr, time, seed, org.irevnet.host.Host.threads(), r.cnf().params().count(), r.finalLoss(), mean,
        stdError, testSamples, r.meanForwardEvaluations(), r.meanBackwardEvaluations(), ll.evaluations(),
        sampled.evaluations(), plotSamples, r.seconds(), evalSeconds, inversionError, inversionTolerance, inversionHolds);
    int scale = Math.max(1, 300 / grid);
    Path json = dir.resolve("cnf.json");
    AtomicFiles.together(() -> {
      CnfFigures.write(dir.resolve("density.png"), List.of(
          new CnfFigures.Panel(density.id() + " data", data, grid),
          new CnfFigures.Panel("learned density", gridDensity, grid)), scale);
      CnfFigures.write(dir.resolve("samples.png"), List.of(
          new CnfFigures.Panel(density.id() + " data", data, grid),
          new CnfFigures.Panel("CNF samples", model, grid)), scale);
      Npz.write(dir.resolve("weights.npz"), r.cnf().params().state());
      JsonReport.writeRecord(json, summary);
    });
    System.out.println(Json.line(summary));
    if (!inversionHolds) {
      System.err.printf(java.util.Locale.ROOT, "irevnet cnf: inversion check failed: test points integrated to T and back"
          + " miss by up to %.3g, above %.3g (%s x --eval-tol %s x (1 + largest |x| %.3g)): integrating back"
          + " amplifies the solver's error past that, so samples.png may not show the learned density; retrain with a"
          + " smaller --lr or --time%n", inversionError, inversionTolerance, (int) INVERSION_TOLERANCE,
          evalTol, largest);
      return 1;
    }
    return 0;
  }
}
