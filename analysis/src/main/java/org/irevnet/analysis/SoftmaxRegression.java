package org.irevnet.analysis;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.irevnet.data.Batches;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The linear probe: multinomial logistic regression with an L2 penalty on the weights (not the
 * biases), {@code mean_i CE(x_i W + b, y_i) + (l2 / 2) |W|^2}, minimised by L-BFGS in float64 until
 * the gradient is within a tolerance ({@link Stopping}), with {@code l2} chosen on a held-out part
 * of the training examples ({@link #select}).
 *
 * <p>Why minimised: the objective is strictly convex, so its unique minimiser does not depend on
 * the optimiser, and a fit stopped near it is near it whatever the path (how near, in accuracy,
 * depends on the tolerance: {@link Stopping#LAYER_PROBES}). A probe stopped after a fixed number of
 * Adam steps (the recipe before this one) stopped short on features of few, strongly correlated dimensions: it read stage 0 of a
 * 1-epoch fi-revnet-s at 0.259 where the minimiser reads 0.318, so separability looked as if it
 * grew faster with depth than it does. Why a chosen penalty: a fixed one is wrong at one end or
 * the other; on the same model scikit-learn's {@code C = 1} fits the training set at 1024
 * dimensions (train 0.994) and reads 0.826 where the penalty chosen on held-out data reads 0.843.
 *
 * <p>The solver works in the eigenbasis of the features' covariance, each direction scaled by
 * {@code 1 / sqrt(variance + l2 / CURVATURE)}, where the objective's curvature is about equal in
 * every direction. That is a preconditioner only (the minimiser does not depend on the
 * coordinates): on the stage-0 features above, whose covariance has eigenvalues spanning a factor
 * of 5,000, plain L-BFGS (PyTorch's, gradient tolerance 1e-5) took 340 iterations where the
 * preconditioned one took 19.
 */
public final class SoftmaxRegression {
  /** The penalties {@link #select} tries, strongest first. */
  static final double[] PENALTIES = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5};
  /** Share of the training examples {@link #select} holds out to choose the penalty. */
  static final double VALIDATION_SHARE = 0.2;
  /**
   * Where a fit stops: once no component of the objective's gradient (in the solver's coordinates)
   * exceeds {@code gradientTolerance} (converged), or after {@code maxIterations} of L-BFGS.
   */
  public record Stopping(double gradientTolerance, int maxIterations) {
    /**
     * The layer probes' (and {@link #train}'s): a gradient of 1e-4, 1,000 iterations. The nuisance's
     * linear reader stops at a tighter one ({@link NuisanceProbe#LINEAR_READER}); at that one the
     * quickstart CE model's layer probes took five times as long (266 s against 50 s) for accuracies
     * within 0.3 points.
     */
    public static final Stopping LAYER_PROBES = new Stopping(1e-4, 1000);
  }
  /** Correction pairs L-BFGS keeps. */
  private static final int MEMORY = 10;
  /**
   * The cross-entropy's typical curvature along a direction of unit variance (softmax
   * probabilities p give p(1 - p), well below 1 once the classes separate); it sets how much
   * the preconditioner weighs the penalty against the data. Measured on trained features: 0.1
   * took fewer iterations than 1.
   */
  private static final double CURVATURE = 0.1;

  private final INDArray weights; // [d, C]
  private final INDArray bias; // [1, C]
  private final Fit fit;

  /**
   * How a fit ended: its penalty, {@code iterations} of L-BFGS, the largest gradient component at
   * the end, and whether that is within the fit's tolerance ({@link Stopping#LAYER_PROBES}' unless
   * {@link #select(INDArray, int[], int, long, Stopping)} was given another; else the iterations ran
   * out, or no step lowered the objective any more in float64).
   */
  public record Fit(double l2, int iterations, double gradientMaxAbs, boolean converged, double objective) {}

  /** One penalty {@link #select} tried: the accuracy on the held-out examples of the fit without them. */
  public record Trial(double l2, double validationAccuracy, Fit fit) {}

  /** The probe refitted on all training examples at the chosen penalty, and the penalties tried. */
  public record Selected(SoftmaxRegression probe, List<Trial> trials) {
    /** Every fit it took: each penalty's on the training examples not held out, then the refit. */
    public List<Fit> fits() {
      List<Fit> all = new ArrayList<>();
      trials.forEach(t -> all.add(t.fit()));
      all.add(probe.fit());
      return all;
    }

    /**
     * The penalties tried whose held-out accuracy equalled the chosen one's, which {@link #select}
     * passed over for the stronger (so all of them are weaker); empty when the choice was no tie.
     * Equal accuracies are equal counts of the same held-out examples, so {@code ==} is exact.
     */
    public List<Double> tiedPenalties() {
      double chosen = probe.fit().l2();
      double accuracy = trials.stream().filter(t -> t.l2() == chosen).findFirst().orElseThrow().validationAccuracy();
      return trials.stream().filter(t -> t.l2() != chosen && t.validationAccuracy() == accuracy).map(Trial::l2)
          .toList();
    }
  }

  private SoftmaxRegression(INDArray weights, INDArray bias, Fit fit) {
    this.weights = weights;
    this.bias = bias;
    this.fit = fit;
  }

  public Fit fit() {
    return fit;
  }

  /** Fits {@code x} ({@code [n, d]}) to {@code labels} in {@code 0..classes-1} with the penalty {@code l2 > 0}. */
  public static SoftmaxRegression train(INDArray x, int[] labels, int classes, double l2) {
    check(x, labels, classes);
    if (!(l2 > 0)) throw new IllegalArgumentException("softmax regression: the penalty must be positive, got " + l2);
    try (Rotated r = Rotated.of(x)) {
      return r.toFeatures(r.solve(r.rotated, labels, classes, l2, null, Stopping.LAYER_PROBES));
    }
  }

  /**
   * Chooses the penalty on a held-out {@link #VALIDATION_SHARE} of the examples (drawn with
   * {@code seed}): fits the rest at each of {@link #PENALTIES}, strongest first, each fit starting
   * from the one before, and stops once two penalties in a row did no better than the best so far
   * (weaker ones only fit the training examples more closely). The penalty with the best held-out
   * accuracy wins, ties going to the stronger one ({@link Selected#tiedPenalties}); the probe is then
   * refitted on all examples. Every fit stops as {@link Stopping#LAYER_PROBES}.
   */
  public static Selected select(INDArray x, int[] labels, int classes, long seed) {
    return select(x, labels, classes, seed, Stopping.LAYER_PROBES);
  }

  /** {@link #select(INDArray, int[], int, long)} with every fit stopped as {@code stopping} says. */
  public static Selected select(INDArray x, int[] labels, int classes, long seed, Stopping stopping) {
    check(x, labels, classes);
    int n = labels.length;
    if (n < 2) throw new IllegalArgumentException("softmax regression: choosing a penalty needs 2 examples, got " + n);
    int held = (int) Math.max(1, Math.round(n * VALIDATION_SHARE));
    int[] order = Batches.permutation(n, new Random(seed));
    int[] val = Arrays.copyOf(order, held), rest = Arrays.copyOfRange(order, held, n);
    Arrays.sort(val);
    Arrays.sort(rest);
    try (Rotated r = Rotated.of(x)) {
      return select(r, labels, classes, val, rest, stopping);
    }
  }

  private static Selected select(Rotated r, int[] labels, int classes, int[] val, int[] rest, Stopping stopping) {
    INDArray fitRows = Tensors.gatherRows(r.rotated, rest), valRows = Tensors.gatherRows(r.rotated, val);
    int[] fitLabels = pick(labels, rest), valLabels = pick(labels, val);
    List<Trial> trials = new ArrayList<>();
    List<Solution> solutions = new ArrayList<>();
    Solution previous = null;
    int best = 0;
    for (double l2 : PENALTIES) {
      previous = r.solve(fitRows, fitLabels, classes, l2, previous, stopping);
      INDArray valLogits = Tensors.product(valRows, previous.weights, false, false).addi(previous.bias);
      double accuracy = Losses.accuracy(valLogits, valLabels);
      Tensors.free(valLogits, null);
      trials.add(new Trial(l2, accuracy, previous.fit));
      solutions.add(previous);
      if (accuracy > trials.get(best).validationAccuracy()) best = trials.size() - 1;
      if (trials.size() - 1 - best >= 2) break;
    }
    Tensors.freeAll(fitRows, valRows);
    Solution chosen = solutions.get(best);
    SoftmaxRegression probe = r.toFeatures(r.solve(r.rotated, labels, classes, chosen.fit.l2(), chosen, stopping));
    solutions.forEach(Solution::free);
    return new Selected(probe, trials);
  }

  /** {@code [n, C]} logits in float64. */
  public INDArray logits(INDArray x) {
    // A dense copy of a caller's float64 x given as a stride-0 broadcast: ND4J's mmul of one gave
    // logits 1e-16 from those of its dense copy (and a wrong product in the readout head's backward).
    // addi(bias), not addiRowVector: ND4J's *RowVector methods let a collection free their op's
    // dimension array while libnd4j reads it (a crash, ProbeNativeLifetimeTest); so throughout the probes.
    // The float64 copy of x is freed, not left to the collector: probe --nuisance --linear's accuracy
    // on the full training split's nuisance made one of 487 MB. gemm, not mmul: mmul leaves a second
    // product of its own to the collector (as Features.Whitener.apply).
    INDArray xd = x.castTo(DataType.DOUBLE), dense = Tensors.dense(xd);
    INDArray logits = Nd4j.gemm(dense, weights, false, false).addi(bias);
    Tensors.free(dense, xd);
    Tensors.free(xd, x);
    return logits;
  }

  public double accuracy(INDArray x, int[] labels) {
    // The logits are freed as logits() frees its copy, not left to the collector.
    INDArray logits = logits(x);
    double accuracy = Losses.accuracy(logits, labels);
    Tensors.free(logits, null);
    return accuracy;
  }

  private static void check(INDArray x, int[] labels, int classes) {
    if (x.rank() != 2 || x.size(0) != labels.length || labels.length == 0) {
      throw new IllegalArgumentException("softmax regression: features " + Arrays.toString(x.shape())
          + " for " + labels.length + " labels");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException("softmax regression: label " + labels[i] + " of example " + i
            + " is not a class of 0.." + (classes - 1));
      }
    }
  }

  private static int[] pick(int[] labels, int[] rows) {
    int[] out = new int[rows.length];
    for (int i = 0; i < rows.length; i++) out[i] = labels[rows[i]];
    return out;
  }

  /** A fit in the rotated coordinates: logits {@code r weights + bias}. */
  record Solution(INDArray weights, INDArray bias, Fit fit) {
    /** Frees the weights and bias ({@link Tensors#free}): the probe made from them has its own. */
    void free() {
      Tensors.freeAll(weights, bias);
    }
  }

  /**
   * The features centred and rotated into the eigenbasis of their covariance:
   * {@code rotated = (x - mean) vectors}. The bias absorbs the centring and the penalty is the same
   * in any orthonormal basis, so a fit here is a fit of the features.
   */
  static final class Rotated implements AutoCloseable {
    final INDArray mean; // [1, d]
    final INDArray vectors; // [d, d], columns
    final INDArray variances; // [d]
    final INDArray rotated; // [n, d]

    private Rotated(INDArray mean, INDArray vectors, INDArray variances, INDArray rotated) {
      this.mean = mean;
      this.vectors = vectors;
      this.variances = variances;
      this.rotated = rotated;
    }

    static Rotated of(INDArray x) {
      Features.Eigenbasis basis = Features.Eigenbasis.of(x, x.size(0));
      // Rounding may leave a zero variance slightly negative.
      INDArray variances = Transforms.max(basis.values(), 0.0);
      Tensors.free(basis.values(), null);
      // gemm, not mmul: mmul left two n x d float64 arrays of its own to the collector (10.3 MB at
      // 20,000 x 64; 974 MB by arithmetic on the full training split's nuisance, 60,000 x 1,014).
      INDArray rotated = Nd4j.gemm(basis.centred(), basis.vectors(), false, false);
      Tensors.free(basis.centred(), null);
      return new Rotated(basis.mean(), basis.vectors(), variances, rotated);
    }

    /** Frees the rotated features, the basis and its statistics ({@link Tensors#free}): a probe's fits are many. */
    @Override
    public void close() {
      Tensors.freeAll(rotated, vectors, variances, mean);
    }

    /**
     * Minimises the objective on rows {@code r} of the rotated features, starting from
     * {@code start} (null: from zero), in coordinates {@code z = r * scale} where the penalty on
     * a weight row is {@code l2 scale^2}.
     */
    Solution solve(INDArray r, int[] labels, int classes, double l2, Solution start, Stopping stopping) {
      INDArray inverseSd = Transforms.pow(variances.add(l2 / CURVATURE), -0.5, false); // [d]
      INDArray scale = inverseSd.reshape(-1, 1); // [d, 1]
      INDArray scaled = r.mul(scale.reshape(1, -1));
      // Each fit's features and their transposed copy are freed as it ends: a probe's many fits
      // left them to the collector, and probe --layers reached 1.8 GB on 6,000 images. So are its
      // [d, C] and [d] arrays (theta, the solver's copies, the warm start, the scale; audit EB), 0.45
      // MB a fit at 1,024 features and 10 classes, which a choice's six fits and a probe's choices add up.
      INDArray penalty = scale.mul(scale).muli(l2);
      try (Objective f = new Objective(scaled, labels, classes, penalty.reshape(-1))) {
        Tensors.free(penalty, null); // the objective holds it as a Java array
        long d = r.size(1);
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, 1, (d + 1) * classes);
        if (start != null) {
          // ND4J's assign into a view checks no length: a longer start writes on past the view's end
          // (into the bias, or past theta), a shorter one leaves the rest 0. The weights' reshape
          // refuses another length, the bias nothing; every start is the previous penalty's fit of
          // these features and classes, so this only catches a caller that breaks that.
          if (start.weights.length() != d * classes || start.bias.length() != classes) {
            throw new IllegalStateException("softmax regression: a warm start of weights " + Arrays.toString(start.weights.shape())
                + " and bias " + Arrays.toString(start.bias.shape()) + " for " + d + " features and " + classes + " classes");
          }
          INDArray startWeights = start.weights.divColumnVector(scale);
          theta.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, d * classes)).assign(startWeights.reshape(d * classes));
          Tensors.free(startWeights, null);
          theta.get(NDArrayIndex.point(0), NDArrayIndex.interval(d * classes, (d + 1) * classes)).assign(start.bias);
        }
        Fit fit = minimise(f, theta, l2, stopping);
        Solution solution = new Solution(f.weights(theta).mulColumnVector(scale), f.bias(theta).dup(), fit);
        Tensors.free(theta, null);
        return solution;
      } finally {
        Tensors.freeAll(scaled, inverseSd);
      }
    }

    /**
     * The probe on the features themselves: {@code W = vectors w}, {@code b = bias - mean W}; frees
     * {@code s}'s arrays. Tensors.product, not mmul: mmul left a column-major W of its own.
     */
    SoftmaxRegression toFeatures(Solution s) {
      INDArray w = Tensors.product(vectors, s.weights, false, false);
      INDArray shift = Tensors.product(mean, w, false, false);
      SoftmaxRegression probe = new SoftmaxRegression(w, s.bias.sub(shift), s.fit);
      Tensors.free(shift, null);
      s.free();
      return probe;
    }
  }

  /**
   * The objective and its gradient over a flat parameter row {@code [W (d x C, row-major), b (C)]},
   * with a penalty {@code (penalty_j / 2) |W_j|^2} on each weight row {@code j}. The two products
   * with the features are ND4J's; the softmax over the {@code n x C} logits is a Java loop, where
   * a dozen ND4J operations cost more than the products on features of few dimensions.
   */
  static final class Objective implements AutoCloseable {
    private final INDArray given;
    private final INDArray x; // [n, d]
    private final INDArray xT; // [d, n]: the gradient's product, against the transposed view, took twice as long
    private final int[] labels;
    private final double[] penalty; // [d]
    private final int classes;
    private final int d;
    // The products' operands and results, made once and reused through views of their native
    // memory: allocating them per evaluation (each larger than the launcher's mmap threshold, so a
    // fresh, zero-filled mapping) and copying them in and out element by element took as long as
    // the products themselves.
    private final INDArray wMatrix; // [d, C]
    private final INDArray zMatrix; // [n, C]: the logits, then the residual
    private final INDArray gwMatrix; // [d, C]
    private final DoubleBuffer wIn;
    private final DoubleBuffer zInOut;
    private final DoubleBuffer gwOut;
    private final double[] zs; // z's values
    private final double[] gws; // gw's values

    /** The same penalty {@code l2} on every weight. */
    Objective(INDArray x, int[] labels, int classes, double l2) {
      this(x, labels, classes, Nd4j.valueArrayOf(new long[] {x.size(1)}, l2, DataType.DOUBLE));
    }

    Objective(INDArray x, int[] labels, int classes, INDArray penalty) {
      this.given = x;
      this.x = x.castTo(DataType.DOUBLE);
      this.xT = this.x.transpose().dup('c');
      this.labels = labels.clone();
      this.classes = classes;
      this.d = (int) x.size(1);
      this.penalty = penalty.castTo(DataType.DOUBLE).toDoubleVector();
      int n = labels.length;
      this.wMatrix = Nd4j.create(DataType.DOUBLE, new long[] {d, classes}, 'c');
      this.zMatrix = Nd4j.create(DataType.DOUBLE, new long[] {n, classes}, 'c');
      this.gwMatrix = Nd4j.create(DataType.DOUBLE, new long[] {d, classes}, 'c');
      this.wIn = doubles(wMatrix);
      this.zInOut = doubles(zMatrix);
      this.gwOut = doubles(gwMatrix);
      this.zs = new double[n * classes];
      this.gws = new double[d * classes];
    }

    /** Frees the arrays this objective made (not {@code x} as given, when it was float64 already). */
    @Override
    public void close() {
      Tensors.freeAll(xT, wMatrix, zMatrix, gwMatrix);
      Tensors.free(x, given);
    }

    private static DoubleBuffer doubles(INDArray a) {
      return Tensors.writableNativeBytes(a).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }

    INDArray weights(INDArray theta) {
      return theta.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, (long) d * classes)).reshape('c', d, classes);
    }

    INDArray bias(INDArray theta) {
      return theta.get(NDArrayIndex.point(0), NDArrayIndex.interval((long) d * classes, (long) (d + 1) * classes))
          .reshape(1, classes);
    }

    /** The objective at the flat {@code theta}; its gradient into {@code grad} when that is not null. */
    double value(double[] theta, double[] grad) {
      int n = labels.length, wc = d * classes;
      wIn.put(0, theta, 0, wc);
      Nd4j.gemm(x, wMatrix, zMatrix, false, false, 1.0, 0.0);
      double[] z = zs; // [n, C] row-major
      zInOut.get(0, z);
      double ce = 0;
      for (int i = 0; i < n; i++) {
        int row = i * classes;
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < classes; k++) {
          z[row + k] += theta[wc + k];
          max = Math.max(max, z[row + k]);
        }
        // log sum exp(z) - z_y, with z shifted by its row maximum
        ce -= z[row + labels[i]] - max;
        double sum = 0;
        for (int k = 0; k < classes; k++) {
          z[row + k] = Math.exp(z[row + k] - max); // z now holds the shifted exponentials
          sum += z[row + k];
        }
        ce += Math.log(sum);
        if (grad != null) {
          for (int k = 0; k < classes; k++) z[row + k] = (z[row + k] / sum - (k == labels[i] ? 1 : 0)) / n;
        }
      }
      double penaltyValue = 0;
      for (int j = 0; j < d; j++) {
        for (int k = 0; k < classes; k++) penaltyValue += 0.5 * penalty[j] * theta[j * classes + k] * theta[j * classes + k];
      }
      if (grad != null) { // z is the residual (softmax - onehot) / n
        zInOut.put(0, z);
        Nd4j.gemm(xT, zMatrix, gwMatrix, false, false, 1.0, 0.0);
        double[] gw = gws;
        gwOut.get(0, gw);
        for (int j = 0; j < d; j++) {
          for (int k = 0; k < classes; k++) grad[j * classes + k] = gw[j * classes + k] + penalty[j] * theta[j * classes + k];
        }
        for (int k = 0; k < classes; k++) {
          double b = 0;
          for (int i = 0; i < n; i++) b += z[i * classes + k];
          grad[wc + k] = b;
        }
      }
      return ce / n + penaltyValue;
    }
  }

  /**
   * L-BFGS (Nocedal and Wright, algorithm 7.4) with a backtracking Armijo line search; a pair
   * whose curvature {@code s.y} is not positive is not kept. {@code theta} is updated in place.
   * The solver's vectors are Java arrays: they have at most (d + 1) C entries, and as ND4J
   * arrays the two-loop recursion's forty-odd small operations per iteration cost more than the
   * objective on features of few dimensions.
   */
  static Fit minimise(Objective f, INDArray theta, double l2, Stopping stopping) {
    double tolerance = stopping.gradientTolerance();
    double[] x = Tensors.doubles(theta); // not toDoubleVector, which leaves its native copy of theta to the collector
    double[] g = new double[x.length], gNew = new double[x.length], next = new double[x.length];
    double fx = f.value(x, g);
    double[][] s = new double[MEMORY][], y = new double[MEMORY][];
    double[] rho = new double[MEMORY], alpha = new double[MEMORY];
    int kept = 0, newest = -1, it = 0;
    double gmax = maxAbs(g);
    while (gmax > tolerance && it < stopping.maxIterations()) {
      // Two-loop recursion: direction = -H g.
      double[] q = g.clone();
      for (int k = 0; k < kept; k++) {
        int i = Math.floorMod(newest - k, MEMORY);
        alpha[i] = rho[i] * dot(s[i], q);
        axpy(-alpha[i], y[i], q);
      }
      double gamma = kept == 0 ? 1.0 / Math.max(1.0, Math.sqrt(dot(g, g)))
          : dot(s[newest], y[newest]) / dot(y[newest], y[newest]);
      for (int j = 0; j < q.length; j++) q[j] *= gamma;
      for (int k = kept - 1; k >= 0; k--) {
        int i = Math.floorMod(newest - k, MEMORY);
        axpy(alpha[i] - rho[i] * dot(y[i], q), s[i], q);
      }
      double[] dir = q;
      for (int j = 0; j < dir.length; j++) dir[j] = -dir[j];
      double slope = dot(dir, g);
      if (slope >= 0) { // not a descent direction (rounding): start again from the gradient
        kept = 0;
        double norm = Math.max(1.0, Math.sqrt(dot(g, g)));
        for (int j = 0; j < dir.length; j++) dir[j] = -g[j] / norm;
        slope = dot(dir, g);
      }
      double step = 1.0, fNew = Double.NaN;
      boolean lowered = false;
      for (int tries = 0; tries < 60 && !lowered; tries++) {
        for (int j = 0; j < x.length; j++) next[j] = x[j] + step * dir[j];
        fNew = f.value(next, gNew);
        lowered = fNew <= fx + 1e-4 * step * slope;
        if (!lowered) step *= 0.5;
      }
      it++;
      if (!lowered) break; // no step lowers the objective in float64: as converged as it gets
      double[] sk = new double[x.length], yk = new double[x.length];
      for (int j = 0; j < x.length; j++) {
        sk[j] = next[j] - x[j];
        yk[j] = gNew[j] - g[j];
      }
      double sy = dot(sk, yk);
      if (sy > 1e-12 * Math.max(1.0, dot(yk, yk))) {
        newest = (newest + 1) % MEMORY;
        s[newest] = sk;
        y[newest] = yk;
        rho[newest] = 1.0 / sy;
        kept = Math.min(kept + 1, MEMORY);
      }
      System.arraycopy(next, 0, x, 0, x.length);
      System.arraycopy(gNew, 0, g, 0, g.length);
      fx = fNew;
      gmax = maxAbs(g);
    }
    INDArray fitted = Nd4j.createFromArray(x);
    theta.assign(fitted.reshape(theta.shape()));
    Tensors.free(fitted, null);
    return new Fit(l2, it, gmax, gmax <= tolerance, fx);
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
    return sum;
  }

  /** {@code y += a x}. */
  private static void axpy(double a, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) y[i] += a * x[i];
  }

  private static double maxAbs(double[] a) {
    double max = 0;
    for (double v : a) max = Math.max(max, Math.abs(v));
    return max;
  }
}
