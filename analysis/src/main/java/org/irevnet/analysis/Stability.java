package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Sequential;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverse-stability diagnostics: local Lipschitz constants of a map {@code G} and of its inverse
 * at data points, {@code L = sigma_max(J)} and {@code L_inv = 1 / sigma_min(J)} for the Jacobian
 * {@code J = dG/dx} there, and the condition estimate {@code L * L_inv}. Per sample, the extreme
 * eigenvalues of {@code J^T J} are estimated by power iteration in its Lanczos form (with full
 * reorthogonalisation): after {@code k} steps the largest Ritz value is never below what {@code k}
 * plain power-iteration steps from the same start give, and the smallest one estimates {@code
 * sigma_min^2} from above. Jacobian-vector products {@code J v} are central finite differences in
 * float64; vector-Jacobian products {@code J^T u} are the reversible backward pass (exact).
 *
 * <p>All estimates are lower bounds of the true local constants (Rayleigh-Ritz), exact when
 * {@code k} reaches the dimension. For an injective map ({@code J} tall) {@code L_inv} is that of
 * the left inverse on the map's range.
 */
public final class Stability {
  /** Lanczos steps by default. */
  public static final int ITERATIONS = 20;
  /** Condition estimate above which a stage is flagged as ill-conditioned by default. */
  public static final double ILL_CONDITIONED = 1e3;

  private Stability() {}

  /** Estimates at one data point. */
  public record Point(double forwardLipschitz, double inverseLipschitz, double condition) {}

  /**
   * The estimates of one map over a batch of points.
   *
   * @param name a stage index or {@code "z"} (the whole body)
   * @param inputDims dimensions of one input of the map
   * @param points per data point
   */
  public record MapStability(String name, long inputDims, List<Point> points, int iterations) {
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
   */
  public static List<MapStability> perStage(InvertibleClassifier model, INDArray x, int iterations, long seed) {
    x = x.castTo(model.dataType()).dup('c');
    List<Bijection> blocks = model.body().blocks();
    List<Integer> ends = model.stageEnds();
    List<INDArray> outs = model.stageOutputs(x);
    List<MapStability> all = new ArrayList<>();
    int from = 0;
    INDArray in = x;
    for (int s = 0; s < ends.size(); s++) {
      Sequential stage = Sequential.of(in.shape(), blocks.subList(from, ends.get(s) + 1).toArray(new Bijection[0]));
      all.add(estimate(String.valueOf(s), stage, in, iterations, seed));
      in = outs.get(s);
      from = ends.get(s) + 1;
    }
    all.add(estimate("z", model.body(), x, iterations, seed));
    model.params().zeroGrad();
    return all;
  }

  /** Estimates for {@code map} at every row of {@code x} ({@code [n, ...]}). */
  public static MapStability estimate(String name, Bijection map, INDArray x, int iterations, long seed) {
    if (iterations < 1) throw new IllegalArgumentException("stability: iterations must be >= 1, got " + iterations);
    long n = x.size(0), d = x.length() / n;
    int k = (int) Math.min(iterations, d);
    DataType dt = x.dataType();
    INDArray y = map.forward(x).out();
    INDArray zeroLogDet = Nd4j.zeros(dt, n);
    double eps = 1e-6 * Math.max(1, Tensors.max(x.reshape(n, d).norm2(1)));
    INDArray[] q = new INDArray[k + 1];
    double[][] alpha = new double[(int) n][k], beta = new double[(int) n][k];
    Random rng = new Random(seed);
    q[0] = unit(Init.normal(dt, rng, n, d));
    for (int j = 0; j < k; j++) {
      INDArray v = q[j].reshape('c', x.shape());
      // J v by central differences, then J^T (J v) by the reversible backward pass.
      INDArray jv = map.forward(x.add(v.mul(eps))).out().subi(map.forward(x.sub(v.mul(eps))).out()).divi(2 * eps);
      INDArray w = map.backward(y, jv, zeroLogDet).dx().reshape('c', n, d).dup('c');
      double[] a = rowDots(q[j], w);
      for (int i = 0; i < n; i++) alpha[i][j] = a[i];
      if (j == k - 1) break;
      // Full reorthogonalisation (twice) instead of the three-term recurrence alone.
      for (int pass = 0; pass < 2; pass++) {
        for (int l = 0; l <= j; l++) w.subi(q[l].mulColumnVector(Nd4j.createFromArray(rowDots(q[l], w)).reshape(n, 1)));
      }
      INDArray norms = w.norm2(1);
      double[] b = norms.toDoubleVector();
      INDArray next = unit(w);
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
    return new MapStability(name, d, points, k);
  }

  private static INDArray unit(INDArray rows) {
    return rows.divColumnVector(rows.norm2(1).reshape(rows.size(0), 1));
  }

  private static double[] rowDots(INDArray a, INDArray b) {
    return a.mul(b).sum(1).toDoubleVector();
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
