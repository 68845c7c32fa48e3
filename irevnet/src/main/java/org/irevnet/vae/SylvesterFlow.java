package org.irevnet.vae;

import static org.irevnet.vae.Graphs.cols;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One Sylvester flow step (van den Berg et al. 2018): {@code z' = z + Q R tanh(R̃ Qᵀ z + b)} with
 * {@code Q [D, M]} orthonormal columns and {@code R, R̃ [M, M]} upper triangular. By Sylvester's
 * determinant identity {@code log|det| = Σ_i log|1 + r_ii r̃_ii tanh'(·)_i|}.
 *
 * <p>Raw parameters per sample (as in the paper's code, R and R̃ share one full matrix: R takes
 * its strict upper triangle, R̃ its strict lower one transposed): {@code full [M*M], d1 [M], d2
 * [M], b [M]}, then what {@link Variant} needs for Q. The diagonals are {@code tanh(d1)},
 * {@code tanh(d2)}, so {@code r_ii r̃_ii > -1} and, with {@code 0 < tanh' <= 1}, every factor
 * {@code 1 + r_ii r̃_ii tanh'} is positive: the map is invertible.
 *
 * <p>Inverse: with {@code u = Qᵀz}, {@code u' = Qᵀz' = u + R tanh(R̃ u + b)}; R and R̃ are upper
 * triangular, so coordinate {@code M-1} depends on {@code u_{M-1}} only and each earlier one on
 * itself and later ones: solved from the last coordinate back, each a 1-D monotone root. Then
 * {@code z = z' - Q R tanh(R̃ u + b)} (also for {@code M < D}: the complement of Q is unchanged).
 */
public final class SylvesterFlow implements LatentFlow {

  /** How Q is made. */
  public enum Variant {
    /** Q from {@code D*M} raw entries by the paper's iterative orthogonalisation. */
    ORTHOGONAL,
    /** Q = product of H Householder reflections of raw vectors (M = D). */
    HOUSEHOLDER,
    /** Q = identity or the reversal permutation (M = D); no raw parameters. */
    TRIANGULAR
  }

  /**
   * Iterations of {@code Q <- Q (I + (I - QᵀQ)/2)} from {@code Q/|Q|_F}. They reach an orthonormal Q
   * to rounding only for raw matrices of condition number up to about 1e4 (each further decade needs
   * about 5.6 more; measured in docs/testing.md), so {@link #ORTHOGONALITY_ERROR} is measured rather
   * than assumed.
   */
  public static final int ORTHOGONALISATION_STEPS = 30;

  /**
   * Prepared parameter of the orthogonal variant: {@code QᵀQ - I} per sample, {@code [n, M, M]}. The
   * log-det formula holds only where it is zero: its largest |entry| should not exceed {@link
   * #ORTHOGONALITY_TOLERANCE}.
   */
  public static final String ORTHOGONALITY_ERROR = "qtq_minus_i";

  /**
   * Largest {@code |QᵀQ - I|} entry at which the log-det is trusted: measured (docs/testing.md), the
   * formula's error per step was at most 5.2x that entry (2.3e-3 nats at up to 1e-3), so near 5e-5
   * nats here, while a converged float32 Q sits at 1.2e-7 to 3.6e-7 (28x below). The paper's code
   * stops its iteration at a Frobenius norm of 1e-6 and warns beyond.
   */
  public static final double ORTHOGONALITY_TOLERANCE = 1e-5;

  private final Variant variant;
  private final int d;
  private final int m;
  private final int reflections;
  private final boolean reversed;

  private SylvesterFlow(Variant variant, int d, int m, int reflections, boolean reversed) {
    this.variant = variant;
    this.d = d;
    this.m = m;
    this.reflections = reflections;
    this.reversed = reversed;
  }

  /** Orthogonal variant with {@code m <= dim} orthonormal columns. */
  public static SylvesterFlow orthogonal(int dim, int m) {
    if (m < 1 || m > dim) throw new IllegalArgumentException("orthonormal vectors must be in 1.." + dim + ", got " + m);
    return new SylvesterFlow(Variant.ORTHOGONAL, dim, m, 0, false);
  }

  /** Householder variant: Q is a product of {@code reflections} reflections. */
  public static SylvesterFlow householder(int dim, int reflections) {
    if (reflections < 1) throw new IllegalArgumentException("reflections must be >= 1, got " + reflections);
    return new SylvesterFlow(Variant.HOUSEHOLDER, dim, dim, reflections, false);
  }

  /** Triangular variant; {@code reversed} uses the reversal permutation as Q (alternate steps, as in the paper). */
  public static SylvesterFlow triangular(int dim, boolean reversed) {
    return new SylvesterFlow(Variant.TRIANGULAR, dim, dim, 0, reversed);
  }

  @Override
  public int dim() {
    return d;
  }

  @Override
  public int paramCount() {
    int base = m * m + 3 * m;
    return switch (variant) {
      case ORTHOGONAL -> base + d * m;
      case HOUSEHOLDER -> base + reflections * d;
      case TRIANGULAR -> base;
    };
  }

  @Override
  public Map<String, SDVariable> prepare(SameDiff sd, SDVariable raw) {
    int mm = m * m;
    SDVariable full = cols(raw, 0, mm).reshape(-1, m, m);
    SDVariable upper = Graphs.strictUpperMask(sd, raw, m);
    SDVariable eye = Graphs.eye(sd, raw, m);
    SDVariable d1 = sd.math().tanh(cols(raw, mm, mm + m)).reshape(-1, m, 1);
    SDVariable d2 = sd.math().tanh(cols(raw, mm + m, mm + 2L * m)).reshape(-1, m, 1);
    Map<String, SDVariable> p = new LinkedHashMap<>();
    p.put("r", full.mul(upper).add(d1.mul(eye)));
    p.put("rt", full.permute(0, 2, 1).mul(upper).add(d2.mul(eye)));
    SDVariable b = cols(raw, mm + 2L * m, mm + 3L * m);
    p.put("b", b);
    SDVariable q = q(sd, raw, b, mm + 3L * m);
    p.put("q", q);
    if (variant == Variant.ORTHOGONAL) p.put(ORTHOGONALITY_ERROR, Graphs.matTMat(q, q, d, m, m).sub(eye));
    return p;
  }

  private SDVariable q(SameDiff sd, SDVariable raw, SDVariable b, long from) {
    switch (variant) {
      case ORTHOGONAL -> {
        SDVariable q = cols(raw, from, from + (long) d * m).reshape(-1, d, m);
        // Dividing by the Frobenius norm puts every singular value in (0, 1], where the
        // iteration converges to the orthogonal polar factor.
        q = q.div(q.mul(q).sum(true, 1, 2).add(1e-12).pow(0.5));
        for (int s = 0; s < ORTHOGONALISATION_STEPS; s++) {
          SDVariable qtq = Graphs.matTMat(q, q, d, m, m);
          q = q.mul(1.5).sub(Graphs.matMat(q, qtq, d, m, m).mul(0.5));
        }
        return q;
      }
      case HOUSEHOLDER -> {
        // Q <- Q H_t for each reflection: Q = H_1 H_2 ... H_k, orthogonal by construction.
        SDVariable q = Graphs.eye(sd, raw, d).add(sd.zerosLike(b).reshape(-1, d, 1));
        for (int t = 0; t < reflections; t++) {
          SDVariable v = cols(raw, from + (long) t * d, from + (long) (t + 1) * d).reshape(-1, 1, d);
          SDVariable qv = q.mul(v).sum(true, 2);
          q = q.sub(qv.mul(v).mul(2.0).div(Graphs.zeroAsOne(v.mul(v).sum(true, 2))));
        }
        return q;
      }
      default -> {
        INDArray perm = Nd4j.zeros(raw.dataType(), 1, d, d);
        for (int i = 0; i < d; i++) perm.putScalar(0, i, reversed ? d - 1 - i : i, 1.0);
        return sd.constant(perm).add(sd.zerosLike(b).reshape(-1, d, 1));
      }
    }
  }

  @Override
  public Step transform(SameDiff sd, SDVariable z, Map<String, SDVariable> p) {
    SDVariable q = p.get("q");
    SDVariable u = Graphs.matTVec(q, z, d);
    SDVariable h = sd.math().tanh(Graphs.matVec(p.get("rt"), u, m).add(p.get("b")));
    SDVariable out = z.add(Graphs.matVec(q, Graphs.matVec(p.get("r"), h, m), m));
    SDVariable eye = Graphs.eye(sd, z, m);
    SDVariable diag = p.get("r").mul(p.get("rt")).mul(eye).sum(2);
    SDVariable factor = h.mul(h).rsub(1.0).mul(diag).add(1.0);
    return new Step(out, sd.math().log(sd.math().abs(factor)).sum(1));
  }

  @Override
  public INDArray invert(INDArray y, Map<String, INDArray> p) {
    INDArray q = p.get("q").castTo(DataType.DOUBLE);
    INDArray r = p.get("r").castTo(DataType.DOUBLE);
    INDArray rt = p.get("rt").castTo(DataType.DOUBLE);
    double[][] b = p.get("b").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] ys = y.castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] x = new double[ys.length][d];
    for (int n = 0; n < ys.length; n++) {
      double[] target = new double[m];
      for (int k = 0; k < m; k++) for (int j = 0; j < d; j++) target[k] += q.getDouble(n, j, k) * ys[n][j];
      double[] u = new double[m];
      double[] h = new double[m];
      for (int i = m - 1; i >= 0; i--) {
        double pre = b[n][i];
        double t = target[i];
        for (int j = i + 1; j < m; j++) {
          pre += rt.getDouble(n, i, j) * u[j];
          t -= r.getDouble(n, i, j) * h[j];
        }
        double rii = r.getDouble(n, i, i), rtii = rt.getDouble(n, i, i), c = pre;
        // |tanh| <= 1 brackets u_i within |r_ii| of the target.
        u[i] = Monotone.solve(a -> a + rii * Math.tanh(rtii * a + c),
            a -> 1 + rii * rtii * (1 - Math.tanh(rtii * a + c) * Math.tanh(rtii * a + c)),
            t, t - Math.abs(rii) - 1, t + Math.abs(rii) + 1);
        h[i] = Math.tanh(rtii * u[i] + c);
      }
      for (int j = 0; j < d; j++) {
        double shift = 0;
        for (int k = 0; k < m; k++) {
          double rh = 0;
          for (int l = k; l < m; l++) rh += r.getDouble(n, k, l) * h[l];
          shift += q.getDouble(n, j, k) * rh;
        }
        x[n][j] = ys[n][j] - shift;
      }
    }
    return Nd4j.create(x).castTo(y.dataType());
  }
}
