package org.irevnet.cnf;

import java.util.Random;
import java.util.function.Consumer;
import org.irevnet.train.AdamOptimizer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Maximum-likelihood training of a {@link Cnf} on a {@link ToyDensity}: fresh samples every
 * iteration, loss {@code -mean log p(x)} with {@code log p(x) = log N(z(T); 0, I) + logDet}, the
 * gradient by the adjoint method, and Adam. Also the evaluations of a trained flow: test
 * log-likelihood, sampling by integrating backwards, and the round-trip error.
 */
public final class CnfTraining {
  private static final double LOG_2PI = Math.log(2 * Math.PI);

  private CnfTraining() {}

  /** What to train: the flow's size, the solver used in training, the optimisation schedule. */
  public record Config(ToyDensity target, int hidden, double endTime, OdeSolver solver, int iterations, int batch,
      double learningRate, long seed) {
    public Config {
      if (hidden < 1 || iterations < 1 || batch < 1) {
        throw new IllegalArgumentException("hidden width, iterations and batch must be >= 1");
      }
      if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
    }
  }

  /** One iteration: the batch loss (nats per sample) and the solver evaluations of both solves. */
  public record Step(int iteration, double loss, int forwardEvaluations, int backwardEvaluations) {}

  /** The trained flow and the training summary (mean evaluations per iteration, wall time). */
  public record Result(Cnf cnf, double finalLoss, double meanForwardEvaluations, double meanBackwardEvaluations,
      double seconds) {}

  public static Result train(Config c, Consumer<Step> progress) {
    MlpDynamics dynamics = new MlpDynamics(2, c.hidden(), DataType.DOUBLE, c.seed(), 0.1);
    Cnf cnf = new Cnf(dynamics, c.solver(), c.endTime());
    AdamOptimizer adam = new AdamOptimizer(dynamics.params(), c.learningRate());
    Random data = new Random(c.seed() + 1);
    long start = System.nanoTime();
    long nfeForward = 0, nfeBackward = 0;
    double loss = Double.NaN;
    for (int it = 0; it < c.iterations(); it++) {
      double[] x = c.target().sample(data, c.batch());
      Cnf.Transport t = cnf.forward(x, c.batch());
      double[] dz = new double[x.length], dLogDet = new double[c.batch()];
      loss = 0;
      for (int b = 0; b < c.batch(); b++) {
        loss -= logDensity(t, b) / c.batch();
        dz[2 * b] = t.z()[2 * b] / c.batch();
        dz[2 * b + 1] = t.z()[2 * b + 1] / c.batch();
        dLogDet[b] = -1.0 / c.batch();
      }
      if (!Double.isFinite(loss)) {
        // No update yet: the untrained flow (near the identity) overflows only when it is
        // integrated too far, a setting to change, not a run that failed.
        if (it == 0) {
          throw new IllegalArgumentException("training diverged at iteration 0, before any update (loss " + loss
              + "): the untrained flow overflows over --time " + c.endTime() + "; try a smaller --time");
        }
        throw new IllegalStateException("training diverged at iteration " + it + " (loss " + loss + "); try a smaller --lr");
      }
      Cnf.Adjoint a = cnf.adjoint(t.z(), dz, dLogDet, c.batch());
      dynamics.accumulateGradient(a.dTheta());
      adam.step();
      nfeForward += t.evaluations();
      nfeBackward += a.evaluations();
      progress.accept(new Step(it, loss, t.evaluations(), a.evaluations()));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(cnf, loss, (double) nfeForward / c.iterations(), (double) nfeBackward / c.iterations(), seconds);
  }

  /** {@code log p(x_b) = log N(z_b; 0, I) + logDet_b} for row {@code b} of a forward transport. */
  public static double logDensity(Cnf.Transport t, int b) {
    double z0 = t.z()[2 * b], z1 = t.z()[2 * b + 1];
    return -0.5 * (z0 * z0 + z1 * z1) - LOG_2PI + t.logDet()[b];
  }

  /** Per-row {@code log p(x)} of {@code x} ({@code n} rows) and the solver's evaluation count. */
  public record Densities(double[] logDensity, int evaluations) {}

  public static Densities logDensities(Cnf cnf, double[] x) {
    int n = x.length / 2;
    Cnf.Transport t = cnf.forward(x, n);
    double[] lp = new double[n];
    for (int b = 0; b < n; b++) lp[b] = logDensity(t, b);
    return new Densities(lp, t.evaluations());
  }

  /**
   * {@code n} samples: standard normal points integrated from {@code T} back to {@code 0} (in
   * {@code z()}), with the solver's function evaluations.
   */
  public static Cnf.Transport sample(Cnf cnf, Random rng, int n) {
    double[] z = new double[2 * n];
    for (int i = 0; i < z.length; i++) z[i] = rng.nextGaussian();
    return cnf.inverse(z, n);
  }

  /** Largest absolute coordinate error of {@code x -> z(T) -> x}. */
  public static double roundTripError(Cnf cnf, double[] x) {
    int n = x.length / 2;
    double[] back = cnf.inverse(cnf.forward(x, n).z(), n).z();
    double m = 0;
    for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(back[i] - x[i]));
    return m;
  }
}
