package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.host.Memory;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.Sequential;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Inverse-stability diagnostics: local Lipschitz constants of a map {@code G} and of its inverse
 * at data points, {@code L = sigma_max(J)} and {@code L_inv = 1 / sigma_min(J)} for the Jacobian
 * {@code J = dG/dx} there, and the condition number {@code L * L_inv}. Two ways to find the
 * extreme singular values per sample:
 *
 * <ul>
 *   <li>{@link Method#JACOBIAN}: the whole Jacobian, one row per output dimension from the
 *       reversible backward pass ({@code J^T e_k}, exact up to rounding, many rows a batch), and
 *       its singular values from LAPACK. Exact; costs one backward pass per output dimension and
 *       {@code 8 m d} bytes.
 *   <li>{@link Method#LANCZOS}: {@code k} steps of power iteration on {@code J^T J} in its
 *       Lanczos form (with full reorthogonalisation): the largest Ritz value is never below what
 *       {@code k} plain power-iteration steps from the same start give, and the smallest one
 *       estimates {@code sigma_min^2} from above. {@code J v} is a central finite difference in
 *       float64, {@code J^T u} the reversible backward pass. The estimates are lower bounds of the
 *       true constants (Rayleigh-Ritz), exact when {@code k} reaches the dimension. The smallest
 *       singular value converges slowly: on an iCE fi-revnet-s trained for 2 epochs, 20 steps in
 *       1,024 dimensions read the whole body's inverse Lipschitz constant as 1.14, where the
 *       Jacobian's (and PyTorch's autograd Jacobian's) is 309.
 * </ul>
 *
 * <p>For an injective map ({@code J} tall) {@code L_inv} is that of the left inverse on the map's
 * range.
 */
public final class Stability {
  /** Lanczos steps by default. */
  public static final int ITERATIONS = 20;
  /** Condition estimate above which a stage is flagged as ill-conditioned by default. */
  public static final double ILL_CONDITIONED = 1e3;
  /** Input dimensions up to which {@link Method#AUTO} forms the whole Jacobian (128 MiB of float64 at a square map). */
  public static final long JACOBIAN_MAX_DIMS = 4096;
  /**
   * Rows of the Jacobian computed in one backward pass. Measured on fi-revnet-s (2026-12-05): 32,
   * 128 and 256 rows a pass took the same time (float64 convolutions dominate); 32 keeps the
   * convolutions' temporaries small enough for glibc's heap to reuse (less system time).
   */
  private static final int JACOBIAN_ROWS_PER_PASS = 32;

  /** How the extreme singular values of a map's Jacobian are found. */
  public enum Method {
    /** {@link #JACOBIAN} for maps of at most {@link #JACOBIAN_MAX_DIMS} input and output dimensions, else {@link #LANCZOS}. */
    AUTO,
    /** The whole Jacobian and its SVD: exact. */
    JACOBIAN,
    /** Lanczos steps: lower bounds. */
    LANCZOS;

    /** The name the command line and {@code invert.json} use: {@code auto}, {@code jacobian}, {@code lanczos}. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Every {@link #id}. */
    public static List<String> ids() {
      return Arrays.stream(values()).map(Method::id).toList();
    }

    Method at(long inputDims, long outputDims) {
      if (this != AUTO) return this;
      return Math.max(inputDims, outputDims) <= JACOBIAN_MAX_DIMS ? JACOBIAN : LANCZOS;
    }
  }

  private Stability() {}

  /** Where {@link #perStage} is: {@code done} of {@code total} backward passes, on {@code map}. */
  @FunctionalInterface
  public interface Progress {
    Progress NONE = (done, total, map) -> { };

    void update(long done, long total, String map);
  }

  /** Counts backward passes for a {@link Progress}. */
  private static final class Passes {
    private final Progress progress;
    private final long total;
    private long done;
    private String map = "";

    Passes(Progress progress, long total) {
      this.progress = progress;
      this.total = total;
    }

    static Passes none() {
      return new Passes(Progress.NONE, 0);
    }

    Passes on(String name) {
      map = name;
      return this;
    }

    void tick() {
      progress.update(++done, total, map);
    }
  }

  /** Estimates at one data point. */
  public record Point(double forwardLipschitz, double inverseLipschitz, double condition) {}

  /**
   * The estimates of one map over a batch of points.
   *
   * @param name a stage index or {@code "z"} (the whole body)
   * @param inputDims dimensions of one input of the map
   * @param points per data point
   * @param method {@link Method#JACOBIAN} (exact) or {@link Method#LANCZOS} (lower bounds)
   * @param iterations Lanczos steps; 0 for the Jacobian
   */
  public record MapStability(String name, long inputDims, List<Point> points, Method method, int iterations) {
    public double maxForward() {
      return points.stream().mapToDouble(Point::forwardLipschitz).max().orElse(Double.NaN);
    }

    public double maxInverse() {
      return points.stream().mapToDouble(Point::inverseLipschitz).max().orElse(Double.NaN);
    }

    public double maxCondition() {
      return points.stream().mapToDouble(Point::condition).max().orElse(Double.NaN);
    }
  }

  /**
   * Estimates for every stage's own map (from the previous stage's output, or the input, to its
   * output) and for the whole body ({@code "z"}), at the points {@code x}.
   *
   * @param model float64 recommended (the finite differences need it); parameter gradients that
   *     the backward passes accumulate are zeroed afterwards
   * @param method for every map; {@link Method#AUTO} chooses by the map's dimensions
   * @param iterations Lanczos steps, where Lanczos is used
   */
  public static List<MapStability> perStage(InvertibleClassifier model, INDArray x, Method method, int iterations,
      long seed, Progress progress) {
    return perStage(model, x, method, iterations, seed, progress, Memory.limit());
  }

  /** {@link #perStage} with the memory the whole Jacobians may take. */
  static List<MapStability> perStage(InvertibleClassifier model, INDArray x, Method method, int iterations,
      long seed, Progress progress, Memory.Limit limit) {
    x = x.castTo(model.dataType()).dup('c');
    List<Bijection> blocks = model.body().blocks();
    List<Integer> ends = model.stageEnds();
    List<INDArray> outs = model.stageOutputs(x);
    long n = x.size(0), d = x.length() / n, m = outs.get(outs.size() - 1).length() / n;
    // Each map's method, chosen once; whole Jacobians are refused before any of them is computed
    // (minutes each), not when the first would not fit.
    Method[] chosen = new Method[ends.size() + 1];
    long total = 0;
    boolean everyStageJacobian = true;
    for (int s = 0; s <= ends.size(); s++) {
      boolean z = s == ends.size();
      long in = s == 0 || z ? d : outs.get(s - 1).length() / n;
      long out = z ? m : outs.get(s).length() / n;
      chosen[s] = method.at(in, out);
      if (chosen[s] == Method.JACOBIAN) {
        checkJacobianFits(z ? "z" : "stage " + s, n, out, in, limit);
        // The body's comes from its stages' when they all have one: no passes of its own.
        if (!z || !everyStageJacobian) total += n * ((out + JACOBIAN_ROWS_PER_PASS - 1) / JACOBIAN_ROWS_PER_PASS);
      } else {
        everyStageJacobian &= z;
        total += Math.min(iterations, in);
      }
    }
    Passes passes = new Passes(progress, total);
    List<MapStability> all = new ArrayList<>();
    // The body's Jacobian at a point is the product of its stages' (chain rule): from theirs it
    // costs a few matrix products, where its own rows would cost as many backward passes again.
    List<INDArray> stagesProduct = new ArrayList<>();
    int from = 0;
    INDArray in = x;
    for (int s = 0; s < ends.size(); s++) {
      Sequential stage = Sequential.of(in.shape(), blocks.subList(from, ends.get(s) + 1).toArray(new Bijection[0]));
      INDArray out = outs.get(s);
      String name = String.valueOf(s);
      if (chosen[s] == Method.JACOBIAN) {
        List<INDArray> jacs = jacobians(stage, in, passes.on("stage " + name));
        all.add(new MapStability(name, in.length() / n, points(jacs), Method.JACOBIAN, 0));
        if (s == 0 || !stagesProduct.isEmpty()) {
          for (int i = 0; i < n; i++) {
            if (s == 0) stagesProduct.add(jacs.get(i));
            else stagesProduct.set(i, productFreeing(jacs.get(i), stagesProduct.get(i)));
          }
        } else {
          Tensors.freeAll(jacs); // after an estimated stage: in no product
        }
      } else {
        all.add(estimate(name, stage, in, iterations, seed, passes.on("stage " + name)));
        Tensors.freeAll(stagesProduct);
        stagesProduct.clear();
      }
      in = out;
      from = ends.get(s) + 1;
    }
    if (chosen[ends.size()] == Method.JACOBIAN) {
      List<INDArray> body = stagesProduct.isEmpty() ? jacobians(model.body(), x, passes.on("z")) : stagesProduct;
      all.add(new MapStability("z", d, points(body), Method.JACOBIAN, 0));
      Tensors.freeAll(body);
    } else {
      all.add(estimate("z", model.body(), x, iterations, seed, passes.on("z")));
      Tensors.freeAll(stagesProduct);
    }
    model.params().zeroGrad();
    return all;
  }

  /**
   * {@code stage earlier}, mmul's bits ({@link Tensors#product}), with both factors freed: neither is
   * needed again, and mmul left its column-major product besides.
   */
  private static INDArray productFreeing(INDArray stage, INDArray earlier) {
    INDArray product = Tensors.product(stage, earlier, false, false);
    Tensors.freeAll(stage, earlier);
    return product;
  }

  /**
   * Refuses whole Jacobians of a map that would not fit in memory: {@code points} of them, {@code
   * m x d} float64 values each, held with the stages' running product and LAPACK's working copy
   * (about {@code 2 points + 2} such arrays at once).
   */
  static void checkJacobianFits(String map, long points, long m, long d, Memory.Limit limit) {
    limit.check("the whole Jacobians of " + map + " at " + points + " images", (2.0 * points + 2) * m * d * Double.BYTES,
        String.format(Locale.ROOT, " (%d x %d float64 values each; Lanczos steps need a few vectors instead)", m, d));
  }

  /**
   * Exact constants of {@code map} at every row of {@code x} ({@code [n, ...]}) from its whole
   * Jacobian ({@link #jacobians}).
   */
  public static MapStability jacobian(String name, Bijection map, INDArray x) {
    List<INDArray> jacs = jacobians(chain(map, x), x, Passes.none());
    MapStability exact = new MapStability(name, x.length() / x.size(0), points(jacs), Method.JACOBIAN, 0);
    Tensors.freeAll(jacs);
    return exact;
  }

  /**
   * {@code map} as a chain, whose results are new arrays, ours to free once read ({@link Sequential}):
   * a lone block's may be its input (the caller's), a view of it, or in the caller's workspace.
   */
  private static Sequential chain(Bijection map, INDArray x) {
    return map instanceof Sequential s ? s : Sequential.of(x.shape(), map);
  }

  /**
   * The Jacobian of {@code map} at every row of {@code x} ({@code [n, ...]}), {@code [m, d]}
   * each: row {@code k} is {@code J^T e_k}, the reversible backward pass of the output's unit
   * vector {@code e_k}, many rows a batch of copies of the point.
   */
  private static List<INDArray> jacobians(Sequential map, INDArray x, Passes passes) {
    long n = x.size(0), d = x.length() / n;
    Flow at = map.forward(x);
    INDArray y = at.out();
    long m = y.length() / n;
    // Their convolutions' temporaries mmapped, not from the heap, where they left 1.4 GiB of free
    // chunks for the next quickstart step to make resident (NativeHeap.withBaseThreshold); the
    // float64 convolutions took as long either way (97 and 100 s for invert --stability).
    List<INDArray> all = NativeHeap.withBaseThreshold(() -> passes(map, y, n, m, d, x.dataType(), passes));
    Tensors.freeAll(y, at.logDet());
    return all;
  }

  /** {@link #jacobians}' backward passes, from {@code map}'s outputs {@code y} at the {@code n} points, in {@code dt}. */
  private static List<INDArray> passes(Sequential map, INDArray y, long n, long m, long d, DataType dt, Passes passes) {
    List<INDArray> all = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      INDArray yi = y.get(NDArrayIndex.interval(i, i + 1));
      INDArray jac = Nd4j.create(dt, m, d);
      for (long from = 0; from < m; from += JACOBIAN_ROWS_PER_PASS) {
        int rows = (int) Math.min(JACOBIAN_ROWS_PER_PASS, m - from);
        long[] shape = y.shape().clone();
        shape[0] = rows;
        INDArray unit = Nd4j.zeros(dt, rows, m);
        for (int r = 0; r < rows; r++) unit.putScalar(r, from + r, 1.0);
        INDArray spread = yi.broadcast(shape), copies = spread.dup('c'), noLogDet = Nd4j.zeros(dt, rows);
        Grad g = map.backward(copies, unit.reshape('c', shape), noLogDet);
        jac.get(NDArrayIndex.interval(from, from + rows), NDArrayIndex.all()).assign(g.dx().reshape('c', rows, d));
        // The pass's inputs and results freed, not left to the collector: left, the results
        // were two Jacobians' worth a point and map.
        Tensors.free(spread, yi); // yi itself where the pass has one row
        Tensors.freeAll(copies, unit, noLogDet, g.x(), g.dx());
        // Thousands of float64 backward passes in a row: without it 1.7 GiB resident, 0.14 in use.
        NativeHeap.trim();
        passes.tick();
      }
      all.add(jac);
    }
    return all;
  }

  private static List<Point> points(List<INDArray> jacobians) {
    List<Point> points = new ArrayList<>();
    for (INDArray jac : jacobians) {
      double[] sv = singularValues(jac);
      double max = sv[0], min = sv[sv.length - 1];
      points.add(new Point(max, 1 / min, max / min));
    }
    return points;
  }

  /**
   * Singular values of {@code a} ({@code m >= n} rows), largest first, from LAPACK's {@code
   * gesvd}; all NaN if {@code a} has a NaN or an infinity (which LAPACK does not accept).
   */
  static double[] singularValues(INDArray a) {
    long k = Math.min(a.rows(), a.columns());
    double[] sv = new double[(int) k];
    if (!Double.isFinite(Tensors.maxAbs(a))) {
      Arrays.fill(sv, Double.NaN);
      return sv;
    }
    INDArray s = Nd4j.create(DataType.DOUBLE, k), cast = a.castTo(DataType.DOUBLE), work = cast.dup('f');
    Nd4j.getBlasWrapper().lapack().gesvd(work, s, null, null);
    Tensors.free(work, null);
    Tensors.free(cast, a);
    return s.toDoubleVector();
  }

  /** Lanczos estimates (lower bounds) for {@code map} at every row of {@code x} ({@code [n, ...]}). */
  public static MapStability estimate(String name, Bijection map, INDArray x, int iterations, long seed) {
    return estimate(name, chain(map, x), x, iterations, seed, Passes.none());
  }

  private static MapStability estimate(String name, Sequential map, INDArray x, int iterations, long seed,
      Passes passes) {
    if (iterations < 1) throw new IllegalArgumentException("stability: iterations must be >= 1, got " + iterations);
    long n = x.size(0), d = x.length() / n;
    int k = (int) Math.min(iterations, d);
    DataType dt = x.dataType();
    // The chain's results are ours, freed once read: left, with each step's inputs, they were 12 of
    // the 111 MB a call at four images kept on StabilityTest's tiny model.
    Flow at = map.forward(x);
    INDArray y = at.out();
    Tensors.free(at.logDet(), null);
    INDArray zeroLogDet = Nd4j.zeros(dt, n);
    INDArray pointNorms = x.reshape(n, d).norm2(1);
    double eps = 1e-6 * Math.max(1, Tensors.max(pointNorms));
    Tensors.free(pointNorms, null);
    INDArray[] q = new INDArray[k + 1];
    double[][] alpha = new double[(int) n][k], beta = new double[(int) n][k];
    Random rng = new Random(seed);
    INDArray start = Init.normal(dt, rng, n, d);
    q[0] = unit(start);
    Tensors.free(start, null);
    for (int j = 0; j < k; j++) {
      INDArray v = q[j].reshape('c', x.shape());
      // J v by central differences, then J^T (J v) by the reversible backward pass.
      INDArray step = v.mul(eps), ahead = x.add(step), behind = x.sub(step); // one step, the same bits as two
      Tensors.free(step, null);
      Flow plus = map.forward(ahead), minus = map.forward(behind);
      INDArray jv = plus.out().subi(minus.out()).divi(2 * eps);
      Grad g = map.backward(y, jv, zeroLogDet);
      INDArray w = g.dx().reshape('c', n, d).dup('c');
      Tensors.freeAll(ahead, behind, jv, plus.logDet(), minus.out(), minus.logDet(), g.x(), g.dx());
      passes.tick();
      double[] a = rowDots(q[j], w);
      for (int i = 0; i < n; i++) alpha[i][j] = a[i];
      if (j == k - 1) {
        Tensors.free(w, null);
        break;
      }
      // Full reorthogonalisation (twice) instead of the three-term recurrence alone.
      // The dots in the map's type: a float64 column against float32 rows stopped every float32
      // estimate with libnd4j's "execScalar; Expected: [FLOAT]; Actual: [FLOAT, DOUBLE]".
      // Its dots and projections freed: two a basis vector and sweep, 77 of those 111 MB when left.
      for (int pass = 0; pass < 2; pass++) {
        for (int l = 0; l <= j; l++) {
          INDArray dots = Nd4j.createFromArray(rowDots(q[l], w)), column = dots.reshape(n, 1), cast = column.castTo(dt);
          INDArray projection = q[l].mulColumnVector(cast);
          w.subi(projection);
          Tensors.free(projection, null);
          Tensors.free(cast, column); // column itself where the map is float64
          Tensors.free(dots, null);
        }
      }
      INDArray norms = w.norm2(1);
      double[] b = norms.toDoubleVector();
      INDArray next = divided(w, norms);
      Tensors.freeAll(norms, w);
      for (int i = 0; i < n; i++) {
        beta[i][j] = b[i];
        if (!(b[i] > 1e-10 * Math.max(Math.abs(a[i]), 1e-300))) {
          // An invariant subspace: continue from a fresh direction orthogonal to the basis.
          beta[i][j] = 0;
          INDArray r = Init.normal(dt, rng, 1, d);
          for (int l = 0; l <= j; l++) r.subi(q[l].getRow(i).mul(q[l].getRow(i).mul(r).sumNumber().doubleValue()));
          next.getRow(i).assign(r.divi(r.norm2Number()));
        }
      }
      q[j + 1] = next;
    }
    List<Point> points = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] ev = tridiagonalEigenvalues(alpha[i], beta[i], k);
      double max = Math.sqrt(Math.max(ev[ev.length - 1], 0)), min = Math.sqrt(Math.max(ev[0], 0));
      points.add(new Point(max, 1 / min, max / min));
    }
    Tensors.freeAll(q); // q[k] is never made: the last step stops before it
    Tensors.freeAll(zeroLogDet, y);
    return new MapStability(name, d, points, Method.LANCZOS, k);
  }

  private static INDArray unit(INDArray rows) {
    INDArray norms = rows.norm2(1), unit = divided(rows, norms);
    Tensors.free(norms, null);
    return unit;
  }

  /** Each row of {@code rows} divided by its entry of {@code norms}, a new array. */
  private static INDArray divided(INDArray rows, INDArray norms) {
    return rows.divColumnVector(norms.reshape(rows.size(0), 1));
  }

  private static double[] rowDots(INDArray a, INDArray b) {
    INDArray products = a.mul(b), sums = products.sum(1);
    double[] dots = sums.toDoubleVector();
    Tensors.freeAll(products, sums);
    return dots;
  }

  /** Ascending eigenvalues of the symmetric tridiagonal matrix with diagonal a and off-diagonal b. */
  private static double[] tridiagonalEigenvalues(double[] a, double[] b, int k) {
    RealMatrix t = MatrixUtils.createRealMatrix(k, k);
    for (int i = 0; i < k; i++) {
      t.setEntry(i, i, a[i]);
      if (i + 1 < k) {
        t.setEntry(i, i + 1, b[i]);
        t.setEntry(i + 1, i, b[i]);
      }
    }
    double[] ev = new EigenDecomposition(t).getRealEigenvalues();
    Arrays.sort(ev);
    return ev;
  }
}
