package org.irevnet.layers;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.host.Host;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.irevnet.nn.Triangular;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Glow's invertible 1x1 convolution in LU form: {@code W = P (L + I) (U + diag(sign * exp(logs)))}
 * with P a fixed permutation, L strictly lower and U strictly upper triangular; log-det {@code
 * h*w*sum(logs)} costs nothing to compute. Initialised as a random orthogonal matrix, the Q of a
 * Gaussian matrix's Householder QR: a rotation for an even channel count, a reflection for an odd
 * one (commons-math's Q is a product of c reflections); log-det 0 either way.
 */
public final class Invertible1x1Conv extends ChannelBlock {
  private final Param lower;
  private final Param upper;
  private final Param logS;
  private final Param perm;
  private final Param sign;
  private final INDArray lowerMask;
  private final INDArray upperMask;
  private final INDArray identity;
  /** What the calls derive from the parameters alone; null until the first call. */
  private Derived derived;

  /**
   * @param rng draws the initial rotation; null builds the identity without a draw (a copy whose
   *     weights are assigned next: the rotation's QR and LU of a channels x channels Gaussian
   *     matrix, in Java, took seconds at 1024 channels)
   */
  public Invertible1x1Conv(int channels, DataType dt, Random rng) {
    super(channels, dt);
    double[][] l, u, pt;
    double[] sgn = new double[channels];
    double[] logs = new double[channels];
    if (rng == null) {
      l = new double[channels][channels];
      u = new double[channels][channels];
      pt = new double[channels][channels];
      for (int i = 0; i < channels; i++) {
        pt[i][i] = 1;
        sgn[i] = 1;
      }
    } else {
      double[][] a = new double[channels][channels];
      for (int i = 0; i < channels; i++) for (int j = 0; j < channels; j++) a[i][j] = rng.nextGaussian();
      RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(a)).getQ();
      LUDecomposition lu = new LUDecomposition(q);
      // commons-math: P q = L U, so q = P^T L U.
      l = lu.getL().getData();
      u = lu.getU().getData();
      pt = lu.getP().transpose().getData();
      for (int i = 0; i < channels; i++) {
        sgn[i] = Math.signum(u[i][i]);
        logs[i] = Math.log(Math.abs(u[i][i]));
        l[i][i] = 0;
        u[i][i] = 0;
      }
    }
    identity = Nd4j.eye(channels).castTo(dt);
    lowerMask = Nd4j.ones(dt, channels, channels);
    upperMask = Nd4j.ones(dt, channels, channels);
    for (int i = 0; i < channels; i++) {
      for (int j = 0; j < channels; j++) {
        if (j >= i) lowerMask.putScalar(i, j, 0);
        if (j <= i) upperMask.putScalar(i, j, 0);
      }
    }
    this.lower = params.add("lower", Nd4j.create(l).castTo(dt));
    this.upper = params.add("upper", Nd4j.create(u).castTo(dt));
    this.logS = params.add("log_s", Nd4j.create(logs).castTo(dt));
    this.perm = params.addBuffer("perm", Nd4j.create(pt).castTo(dt));
    this.sign = params.addBuffer("sign_s", Nd4j.create(sgn).castTo(dt));
  }

  /**
   * The factors in the model's type and in float64, P's gather indices and the triangular solves'
   * prepared factors, all of which depend on the parameters alone, with a copy of the parameters'
   * bits they were made from. Before each use the five parameters are compared with that copy byte
   * for byte, so the parameters may change by any route (the optimiser writing the flat buffer
   * their values view, a checkpoint load, a caller's {@code value().assign}) without a stale
   * factor being used. The comparison reads 12 MiB at 1024 channels in float32: 0.7-0.9 ms a call,
   * against 8-25 ms for a rebuild (docs/measurements.md, audit BU). Kept outside any workspace (a
   * block's workspace reuses its memory after the call): at 1024 channels in float32 about 29 MiB
   * (the copy 12, the factors in float64 16, the solves' inverted diagonal blocks 1), made again
   * in the same memory when the parameters change. Not for concurrent calls, as the gradients'
   * accumulation is not either.
   */
  private final class Derived {
    /** Dense copies of the parameters' values, in {@link #derived()}'s order. */
    private final INDArray[] from;
    /**
     * L + I and U + diag(sign_s * exp(log_s)), made in the model's type and kept in float64 only:
     * backward casts them back for its products in the model's type, the same bits (a cast of a
     * float32 to float64 and back gives it again), and a float32 copy would keep 8 MiB more at
     * 1024 channels.
     */
    final INDArray lf64;
    final INDArray uf64;
    /**
     * Where row i of P has its one: {@code (P m)[i] = m[p[i]]}. P is applied by gathering rows, not
     * by a {@code c x c} product. The index of P^T: {@code (P^T m)[j] = m[q[j]]}.
     */
    int[] permIndex;
    int[] unpermIndex;
    private Triangular.Factor lowerSolve;
    private Triangular.Factor upperSolve;

    /** The kept arrays, outside any workspace, filled by {@link #remake}. */
    Derived(INDArray[] values) {
      from = new INDArray[values.length];
      for (int i = 0; i < values.length; i++) from[i] = BlockWorkspace.outside(values[i].dataType(), values[i].shape());
      lf64 = BlockWorkspace.outside(DataType.DOUBLE, channels, channels);
      uf64 = BlockWorkspace.outside(DataType.DOUBLE, channels, channels);
    }

    /**
     * Makes everything again from {@code values} into the same native memory. New arrays each time
     * (as training needs, its parameters changing every step) made a 1x1conv model's step no faster
     * than rebuilding on every call: each was fresh pages from the system. The temporaries are the
     * caller's (a block's workspace in a model).
     */
    void remake(INDArray[] values) {
      for (int i = 0; i < values.length; i++) from[i].assign(values[i]);
      INDArray lf = lowerFactor(), uf = upperFactor();
      INDArray lfCast = lf.castTo(DataType.DOUBLE), ufCast = uf.castTo(DataType.DOUBLE);
      lf64.assign(lfCast);
      uf64.assign(ufCast);
      Tensors.free(lfCast, lf);
      Tensors.free(ufCast, uf);
      Tensors.freeAll(lf, uf);
      permIndex = Nd4j.argMax(perm.value(), 1).toIntVector();
      unpermIndex = new int[permIndex.length];
      for (int i = 0; i < permIndex.length; i++) unpermIndex[permIndex[i]] = i;
      for (Triangular.Factor f : new Triangular.Factor[] {lowerSolve, upperSolve}) if (f != null) f.free();
      lowerSolve = null;
      upperSolve = null;
    }

    /**
     * Whether every byte of {@code values} is as when this was made. Bytes, so that only the very
     * same parameters pass: a comparison of values calls NaN unequal to itself and -0.0 equal to 0.0.
     */
    boolean madeFrom(INDArray[] values) {
      for (int i = 0; i < values.length; i++) {
        INDArray now = Tensors.dense(values[i]);
        ByteBuffer a = Tensors.nativeBytes(now), b = Tensors.nativeBytes(from[i]);
        // Beyond 2 GB (over 23,000 channels in float32) no byte view: rebuilt on every call.
        boolean same = a != null && b != null && a.mismatch(b) == -1;
        java.lang.ref.Reference.reachabilityFence(now);
        Tensors.free(now, values[i]);
        if (!same) return false;
      }
      return true;
    }

    /** L's solves, prepared at the first inverse or backward (forward needs none). */
    Triangular.Factor lowerSolve() {
      if (lowerSolve == null) lowerSolve = Triangular.lowerFactor(lf64, true);
      return lowerSolve;
    }

    Triangular.Factor upperSolve() {
      if (upperSolve == null) upperSolve = Triangular.upperFactor(uf64);
      return upperSolve;
    }
  }

  /** {@link Derived} for the parameters as they are now, rebuilt if any of their bits changed. */
  private Derived derived() {
    INDArray[] values = {lower.value(), upper.value(), logS.value(), perm.value(), sign.value()};
    if (derived != null && derived.madeFrom(values)) return derived;
    if (derived == null) derived = new Derived(values);
    derived.remake(values);
    return derived;
  }

  private INDArray lowerFactor() {
    return lower.value().mul(lowerMask).addi(identity);
  }

  private INDArray upperFactor() {
    INDArray diag = Nd4j.diag(Transforms.exp(logS.value(), true).muli(sign.value()));
    INDArray factor = upper.value().mul(upperMask).addi(diag);
    // c x c (4 MiB at 1024 channels in float32): freed now, not at the next collection.
    Tensors.free(diag, null);
    return factor;
  }

  /** The current channels x channels matrix W. */
  public INDArray weight() {
    return perm.value().mmul(lowerFactor()).mmul(upperFactor());
  }

  /**
   * {@code x} ({@code [n, c, h, w]}) as the {@code c x (n h w)} matrix of its pixels. The factors are
   * applied to it one after the other: {@code c^2 n h w} work, where forming W first costs {@code
   * c^3} (at 1024 channels and 64 pixels, 16 times more).
   */
  private INDArray pixels(INDArray x) {
    return x.permute(1, 0, 2, 3).dup('c').reshape(channels, x.size(0) * x.size(2) * x.size(3));
  }

  /** The inverse of {@link #pixels}, for an image of {@code shape}. */
  private INDArray image(INDArray m, long[] shape) {
    return m.reshape(channels, shape[0], shape[2], shape[3]).permute(1, 0, 2, 3).dup('c');
  }

  @Override
  public Flow forward(INDArray x) {
    check(x);
    // Each public method runs at one thread: see Host.withOneThread.
    return Host.withOneThread(() -> forwardPixels(x));
  }

  private Flow forwardPixels(INDArray x) {
    // In float64, as the inverse: in float32 the three products put the round trip at 512 channels
    // at 4e-5, where U x grows and L cancels it.
    Derived d = derived();
    INDArray y = Tensors.gatherRows(d.lf64.mmul(d.uf64.mmul(pixels(x).castTo(DataType.DOUBLE))), d.permIndex);
    return new Flow(image(y.castTo(x.dataType()), x.shape()), pixelwiseLogDet(x, 1, logS.value()));
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y);
    return Host.withOneThread(() -> new Flow(
        image(solvePixels(pixels(y), derived()), y.shape()),
        pixelwiseLogDet(y, -1, logS.value())));
  }

  /**
   * {@code U^-1 L^-1 P^T y} by triangular solves on the factors, in float64 whatever the model's
   * type: no inverse is formed (libnd4j's refused every 512-channel rotation in float32, its
   * determinant underflowing), and in float32 the solves alone added up to 3e-5 to the round trip
   * at 1024 channels.
   *
   * @throws ArithmeticException when W is singular: a zero {@code sign_s * exp(log_s)} on U's
   *     diagonal (a {@code log_s} below about -745 underflows in float64, -104 in float32), or so
   *     nearly singular that the solution overflows float64, or the model's type (float32) when
   *     cast back
   */
  private INDArray solvePixels(INDArray y, Derived d) {
    INDArray z = d.lowerSolve().solve(Tensors.gatherRows(y.castTo(DataType.DOUBLE), d.unpermIndex));
    INDArray x;
    try {
      x = d.upperSolve().solve(z);
    } catch (ArithmeticException e) {
      throw noInverse(e.getMessage());
    }
    INDArray cast = x.castTo(y.dataType());
    // The cast keeps every NaN and infinity the solve passed on from y, so only an entry finite in
    // float64 can add to the count: one beyond float32's range, which the cast made infinite.
    long overflow = Tensors.nonFinite(cast) - Tensors.nonFinite(x);
    if (overflow > 0) {
      // The largest finite magnitude, by hand: ND4J's replaceWhere(x, 0.0, notFinite()) replaces
      // nothing, and its amaxNumber passes over a NaN only when it is not the first entry.
      double largest = Arrays.stream(Tensors.doubles(x)).filter(Double::isFinite).map(Math::abs).max().orElse(0);
      throw noInverse("the solution has " + overflow + " value(s) beyond the range of float32, largest magnitude "
          + largest);
    }
    return cast;
  }

  private ArithmeticException noInverse(String cause) {
    return new ArithmeticException("Invertible1x1Conv(" + channels + " channels) has no inverse: its factor U = "
        + "upper + diag(sign_s * exp(log_s)) is singular or too close to it (" + cause + ")");
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    check(y, dy, dLogDet);
    return Host.withOneThread(() -> backwardPixels(y, dy, dLogDet));
  }

  private Grad backwardPixels(INDArray y, INDArray dy, INDArray dLogDet) {
    // y = P z2, z2 = L z1, z1 = U x: back through the three products, pixel by pixel.
    Derived d = derived();
    INDArray lf = d.lf64.castTo(y.dataType());
    INDArray uf = d.uf64.castTo(y.dataType());
    INDArray x = solvePixels(pixels(y), d);
    INDArray z1 = uf.mmul(x);
    INDArray dz2 = Tensors.gatherRows(pixels(dy), d.unpermIndex);
    lower.grad().addi(dz2.mmul(z1.transpose()).muli(lowerMask));
    INDArray dz1 = lf.transpose().mmul(dz2);
    INDArray dU = dz1.mmul(x.transpose());
    upper.grad().addi(dU.mul(upperMask));
    INDArray dDiag = Nd4j.diag(dU).reshape(channels);
    INDArray s = Transforms.exp(logS.value(), true).muli(sign.value());
    logS.grad().addi(dDiag.muli(s).addi(y.size(2) * y.size(3) * dLogDet.sumNumber().doubleValue()));
    return new Grad(image(x, y.shape()), image(uf.transpose().mmul(dz1), y.shape()));
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
