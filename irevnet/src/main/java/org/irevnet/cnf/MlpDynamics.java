package org.irevnet.cnf;

import static org.irevnet.nn.Tensors.doubles;

import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The dynamics of a continuous flow: a small MLP with time as an extra input,
 * {@code f(z, t) = W3 tanh(W2 tanh(W1 [z; t] + b1) + b2) + b3}, with {@code z} of dimension
 * {@code d} and two hidden layers of width {@code H}.
 *
 * <p>The parameters live in a {@link ParamTable} (PyTorch-style names {@code net.0.weight} ...
 * {@code net.4.bias}, so checkpoints and optimisers treat them like any block's); the arithmetic
 * runs on a {@link Weights} snapshot of plain Java arrays. At these sizes (a batch of a few
 * hundred 2-D points, {@code H = 64}) ND4J's per-op overhead costs more than the arithmetic:
 * measured on this machine, one 256x64 by 64x64 product took 0.3-1.2 ms through ND4J and 0.6 ms
 * as a Java loop, and an element-wise product of 256x64 values 40-70 us through ND4J.
 */
public final class MlpDynamics {
  private final int dim;
  private final int hidden;
  private final ParamTable params = ParamTable.empty();
  private final Param w1, b1, w2, b2, w3, b3;

  /**
   * PyTorch's default initialisation ({@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))}) scaled by
   * {@code outputScale} for the last layer, so a fresh flow starts close to the identity.
   */
  public MlpDynamics(int dim, int hidden, DataType dt, long seed, double outputScale) {
    if (dim < 1 || hidden < 1) throw new IllegalArgumentException("dimension and width must be >= 1");
    this.dim = dim;
    this.hidden = hidden;
    Random rng = new Random(seed);
    w1 = params.add("net.0.weight", Init.uniform(dt, rng, 1 / Math.sqrt(dim + 1), hidden, dim + 1));
    b1 = params.add("net.0.bias", Init.uniform(dt, rng, 1 / Math.sqrt(dim + 1), hidden));
    w2 = params.add("net.2.weight", Init.uniform(dt, rng, 1 / Math.sqrt(hidden), hidden, hidden));
    b2 = params.add("net.2.bias", Init.uniform(dt, rng, 1 / Math.sqrt(hidden), hidden));
    w3 = params.add("net.4.weight", Init.uniform(dt, rng, outputScale / Math.sqrt(hidden), dim, hidden));
    b3 = params.add("net.4.bias", Init.uniform(dt, rng, outputScale / Math.sqrt(hidden), dim));
  }

  public int dim() {
    return dim;
  }

  public ParamTable params() {
    return params;
  }

  /** Number of scalars in the flat parameter layout of {@link Weights} (W1, b1, W2, b2, W3, b3). */
  public int parameterCount() {
    return hidden * (dim + 1) + hidden + hidden * hidden + hidden + dim * hidden + dim;
  }

  /** The current parameter values as Java arrays (read once per solve). */
  public Weights snapshot() {
    return new Weights(dim, hidden, doubles(w1.value()), doubles(b1.value()), doubles(w2.value()), doubles(b2.value()),
        doubles(w3.value()), doubles(b3.value()));
  }

  /** Adds a gradient in the flat layout of {@link Weights} to the parameters' gradients. */
  public void accumulateGradient(double[] flat) {
    if (flat.length != parameterCount()) throw new IllegalArgumentException("gradient length " + flat.length);
    int o = 0;
    for (Param p : new Param[] {w1, b1, w2, b2, w3, b3}) {
      int n = (int) p.value().length();
      double[] part = java.util.Arrays.copyOfRange(flat, o, o + n);
      try (INDArray g = Nd4j.create(part, p.value().shape(), DataType.DOUBLE)) {
        p.grad().addi(g.castTo(p.grad().dataType()));
      }
      o += n;
    }
  }

  /**
   * The parameters as row-major Java arrays, with the value, the exact trace of the Jacobian
   * {@code df/dz} and the vector-Jacobian products the adjoint method needs. Every method works on
   * a batch: {@code z} holds {@code batch} rows of {@code d} values.
   */
  public static final class Weights {
    private final int d, h;
    private final double[] w1, b1, w2, w2t, b2, w3, b3;

    Weights(int d, int h, double[] w1, double[] b1, double[] w2, double[] b2, double[] w3, double[] b3) {
      this.d = d;
      this.h = h;
      this.w1 = w1;
      this.b1 = b1;
      this.w2 = w2;
      this.b2 = b2;
      this.w3 = w3;
      this.b3 = b3;
      // W2 and its transpose, so both W2 v and W2^T v run as contiguous axpy loops.
      this.w2t = new double[h * h];
      for (int j = 0; j < h; j++) for (int k = 0; k < h; k++) w2t[k * h + j] = w2[j * h + k];
    }

    /**
     * {@code f(z, t)} into {@code f}, and when {@code trace} is not null the exact
     * {@code Tr(df/dz)} per row (forward-mode tangents along each of the {@code d} axes).
     */
    public void evaluate(double t, double[] z, int batch, double[] f, double[] trace) {
      Row r = new Row(trace != null);
      for (int b = 0; b < batch; b++) {
        r.forward(z, b, t);
        r.output(f, b);
        if (trace != null) {
          double tr = 0;
          for (int i = 0; i < d; i++) {
            for (int j = 0; j < h; j++) tr += w3[i * h + j] * r.s2[j] * r.r[i][j];
          }
          trace[b] = tr;
        }
      }
    }

    /**
     * The vector-Jacobian product of {@code (z, theta) -> (f(z, t), Tr(df/dz))} with cotangents
     * {@code af} ({@code batch x d}) for {@code f} and {@code aTrace} ({@code batch}; null means
     * zero, which skips the second-derivative terms). Writes the product with respect to {@code z}
     * into {@code zbar}, adds the one with respect to the parameters (summed over the batch, flat
     * layout) to {@code thetaBar} unless it is null, and writes {@code f} into {@code fOut} unless
     * it is null.
     */
    public void vjp(double t, double[] z, int batch, double[] af, double[] aTrace, double[] zbar,
        double[] thetaBar, double[] fOut) {
      boolean tr = aTrace != null;
      boolean grads = thetaBar != null;
      int oW1 = 0, oB1 = oW1 + h * (d + 1), oW2 = oB1 + h, oB2 = oW2 + h * h, oW3 = oB2 + h, oB3 = oW3 + d * h;
      Row r = new Row(tr);
      double[] h2bar = new double[h], p2bar = new double[h], h1bar = new double[h], p1bar = new double[h];
      double[][] rbar = new double[d][h], qbar = new double[d][h];
      for (int b = 0; b < batch; b++) {
        r.forward(z, b, t);
        if (fOut != null) r.output(fOut, b);
        java.util.Arrays.fill(h2bar, 0);
        for (int i = 0; i < d; i++) {
          double a = af[b * d + i];
          for (int j = 0; j < h; j++) h2bar[j] += a * w3[i * h + j];
          if (grads) {
            for (int j = 0; j < h; j++) thetaBar[oW3 + i * h + j] += a * r.h2[j];
            thetaBar[oB3 + i] += a;
          }
        }
        double c = tr ? aTrace[b] : 0;
        if (tr) {
          // Trace = sum_i sum_j W3[i,j] s2[j] r_i[j] with s2 = 1 - h2^2.
          for (int i = 0; i < d; i++) {
            for (int j = 0; j < h; j++) {
              double dh2bar = c * w3[i * h + j];
              if (grads) thetaBar[oW3 + i * h + j] += c * r.s2[j] * r.r[i][j];
              rbar[i][j] = r.s2[j] * dh2bar;
              h2bar[j] += -2 * r.h2[j] * dh2bar * r.r[i][j];
            }
          }
        }
        for (int j = 0; j < h; j++) p2bar[j] = r.s2[j] * h2bar[j];
        if (grads) {
          for (int j = 0; j < h; j++) {
            int row = oW2 + j * h;
            double pj = p2bar[j];
            for (int k = 0; k < h; k++) thetaBar[row + k] += pj * r.h1[k];
            if (tr) {
              for (int i = 0; i < d; i++) {
                double rj = rbar[i][j];
                double[] q = r.q[i];
                for (int k = 0; k < h; k++) thetaBar[row + k] += rj * q[k];
              }
            }
            thetaBar[oB2 + j] += pj;
          }
        }
        java.util.Arrays.fill(h1bar, 0);
        if (tr) for (int i = 0; i < d; i++) java.util.Arrays.fill(qbar[i], 0);
        accumulateRows(w2, p2bar, h1bar, tr ? rbar : null, qbar);
        if (tr) {
          // q_i = s1 * W1[:, i] with s1 = 1 - h1^2.
          for (int k = 0; k < h; k++) {
            double s1bar = 0;
            for (int i = 0; i < d; i++) {
              s1bar += qbar[i][k] * w1[k * (d + 1) + i];
              if (grads) thetaBar[oW1 + k * (d + 1) + i] += r.s1[k] * qbar[i][k];
            }
            h1bar[k] += -2 * r.h1[k] * s1bar;
          }
        }
        for (int k = 0; k < h; k++) p1bar[k] = r.s1[k] * h1bar[k];
        for (int i = 0; i < d; i++) {
          double s = 0;
          for (int k = 0; k < h; k++) s += w1[k * (d + 1) + i] * p1bar[k];
          zbar[b * d + i] = s;
        }
        if (grads) {
          for (int k = 0; k < h; k++) {
            int row = oW1 + k * (d + 1);
            for (int i = 0; i < d; i++) thetaBar[row + i] += p1bar[k] * z[b * d + i];
            thetaBar[row + d] += p1bar[k] * t;
            thetaBar[oB1 + k] += p1bar[k];
          }
        }
      }
    }

    /**
     * {@code out[j] += sum_k v[k] m[k*h + j]}, and the same for each pair {@code (vs[i], outs[i])}
     * unless {@code vs} is null: {@code W2 v} with {@code m = W2^T}, {@code W2^T v} with
     * {@code m = W2}. Each row of {@code m} is read once for all vectors; the inner loops are
     * contiguous so the JIT vectorises them.
     */
    private void accumulateRows(double[] m, double[] v, double[] out, double[][] vs, double[][] outs) {
      for (int k = 0; k < h; k++) {
        int row = k * h;
        double a = v[k];
        for (int j = 0; j < h; j++) out[j] += a * m[row + j];
        if (vs != null) {
          for (int i = 0; i < d; i++) {
            double b = vs[i][k];
            double[] o = outs[i];
            for (int j = 0; j < h; j++) o[j] += b * m[row + j];
          }
        }
      }
    }

    /** One row's hidden activations and, when tangents are on, {@code q_i} and {@code r_i = W2 q_i}. */
    private final class Row {
      final double[] h1 = new double[h], s1 = new double[h], h2 = new double[h], s2 = new double[h];
      final double[][] q, r;
      private final boolean tangents;

      Row(boolean tangents) {
        this.tangents = tangents;
        q = tangents ? new double[d][h] : null;
        r = tangents ? new double[d][h] : null;
      }

      /** {@code f = W3 h2 + b3} into row {@code b} of {@code f}. */
      void output(double[] f, int b) {
        for (int i = 0; i < d; i++) {
          double s = b3[i];
          for (int j = 0; j < h; j++) s += w3[i * h + j] * h2[j];
          f[b * d + i] = s;
        }
      }

      void forward(double[] z, int b, double t) {
        for (int k = 0; k < h; k++) {
          int row = k * (d + 1);
          double p = b1[k] + w1[row + d] * t;
          for (int i = 0; i < d; i++) p += w1[row + i] * z[b * d + i];
          double a = Math.tanh(p);
          h1[k] = a;
          s1[k] = 1 - a * a;
        }
        System.arraycopy(b2, 0, h2, 0, h);
        if (tangents) {
          for (int i = 0; i < d; i++) {
            java.util.Arrays.fill(r[i], 0);
            for (int k = 0; k < h; k++) q[i][k] = s1[k] * w1[k * (d + 1) + i];
          }
        }
        accumulateRows(w2t, h1, h2, tangents ? q : null, r);
        for (int j = 0; j < h; j++) {
          double a = Math.tanh(h2[j]);
          h2[j] = a;
          s2[j] = 1 - a * a;
        }
      }
    }
  }
}
