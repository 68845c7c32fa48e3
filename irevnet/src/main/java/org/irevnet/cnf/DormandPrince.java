package org.irevnet.cnf;

/**
 * The adaptive Dormand-Prince 5(4) method (the {@code dopri5} of torchdiffeq and FFJORD): a
 * fifth-order step with an embedded fourth-order error estimate, first-same-as-last (six new
 * evaluations per step), step size chosen so that the scaled RMS error
 * {@code |err_i| / (atol + rtol * max(|y_i|, |y_new_i|))} stays below one.
 */
public final class DormandPrince implements OdeSolver {
  // Butcher tableau (Dormand & Prince 1980).
  private static final double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
  private static final double A21 = 1.0 / 5;
  private static final double A31 = 3.0 / 40, A32 = 9.0 / 40;
  private static final double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
  private static final double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561,
      A54 = -212.0 / 729;
  private static final double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247,
      A64 = 49.0 / 176, A65 = -5103.0 / 18656;
  private static final double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192,
      B5 = -2187.0 / 6784, B6 = 11.0 / 84;
  // Fifth-order minus embedded fourth-order weights.
  private static final double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920,
      E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;
  private static final double SAFETY = 0.9, MIN_FACTOR = 0.2, MAX_FACTOR = 10;
  // Steps below this (times max(1, |t|)) are an underflow: the error control cannot be met.
  private static final double MIN_STEP = 1e-14;

  private final double rtol;
  private final double atol;
  private final int maxSteps;

  public DormandPrince(double rtol, double atol) {
    this(rtol, atol, 100_000);
  }

  public DormandPrince(double rtol, double atol, int maxSteps) {
    // An infinite tolerance accepts every step: no error control at all.
    if (!(rtol > 0) || !(atol > 0) || !Double.isFinite(rtol) || !Double.isFinite(atol)) {
      throw new IllegalArgumentException("rtol and atol must be finite and > 0, got " + rtol + " and " + atol);
    }
    if (maxSteps < 1) throw new IllegalArgumentException("dopri5 needs a step limit of at least 1, got " + maxSteps);
    this.rtol = rtol;
    this.atol = atol;
    this.maxSteps = maxSteps;
  }

  @Override
  public Solution solve(OdeSystem system, double[] y0, double t0, double t1) {
    int n = system.dimension();
    OdeSolver.checkStart("dopri5", system, y0, t0, t1);
    double[] y = y0.clone();
    if (t0 == t1) return new Solution(y, 0, 0, 0);
    double dir = Math.signum(t1 - t0);
    double[] k1 = new double[n], k2 = new double[n], k3 = new double[n], k4 = new double[n],
        k5 = new double[n], k6 = new double[n], k7 = new double[n], tmp = new double[n], yNew = new double[n];
    system.derivative(t0, y, k1);
    int nfe = 1;
    double h = initialStep(system, t0, y, k1, dir, tmp, k2);
    nfe++;
    double t = t0;
    int accepted = 0, rejected = 0;
    while (dir * (t1 - t) > 0) {
      if (accepted + rejected >= maxSteps) {
        throw new IllegalStateException("dopri5: more than " + maxSteps + " steps from t=" + t0 + " to " + t1
            + " (stiff or diverging dynamics?)");
      }
      if (dir * (t + h - t1) > 0) h = t1 - t;
      for (int i = 0; i < n; i++) tmp[i] = y[i] + h * A21 * k1[i];
      system.derivative(t + C2 * h, tmp, k2);
      for (int i = 0; i < n; i++) tmp[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
      system.derivative(t + C3 * h, tmp, k3);
      for (int i = 0; i < n; i++) tmp[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
      system.derivative(t + C4 * h, tmp, k4);
      for (int i = 0; i < n; i++) {
        tmp[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
      }
      system.derivative(t + C5 * h, tmp, k5);
      for (int i = 0; i < n; i++) {
        tmp[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
      }
      system.derivative(t + h, tmp, k6);
      for (int i = 0; i < n; i++) {
        yNew[i] = y[i] + h * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
      }
      system.derivative(t + h, yNew, k7);
      nfe += 6;
      boolean finite = true;
      for (int i = 0; i < n; i++) {
        double err = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
        finite &= Double.isFinite(err) && Double.isFinite(yNew[i]);
        tmp[i] = err / (atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i])));
      }
      if (!finite) {
        throw new IllegalStateException("dopri5: non-finite state at t=" + t + " (diverging dynamics)");
      }
      // Infinite only where err / scale itself overflows, the state finite: a step to reject.
      double errNorm = rms(tmp, n);
      double factor = errNorm == 0 ? MAX_FACTOR
          : Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, SAFETY * Math.pow(errNorm, -0.2)));
      if (errNorm <= 1) {
        t = (dir * (t1 - (t + h)) <= 0) ? t1 : t + h;
        double[] swap = y;
        y = yNew;
        yNew = swap;
        swap = k1;
        k1 = k7;
        k7 = swap;
        accepted++;
      } else {
        rejected++;
        factor = Math.min(1, factor);
      }
      h *= factor;
      // After a short last step that reached t1, h is tiny but no step is left to take.
      if (dir * (t1 - t) > 0 && Math.abs(h) < minStep(t)) {
        throw new IllegalStateException("dopri5: step size underflow at t=" + t + " (a step of " + Math.abs(h)
            + " for rtol=" + rtol + ", atol=" + atol + ")");
      }
    }
    return new Solution(y, nfe, accepted, rejected);
  }

  private static double minStep(double t) {
    return MIN_STEP * Math.max(1, Math.abs(t));
  }

  /**
   * Hairer, Norsett & Wanner's starting step, from the sizes of y, g(y) and one Euler probe, but
   * no smaller than the smallest step the solver takes. Their estimate scales with atol where a
   * component starts at 0 (its derivative over atol): at atol = 1e-300 it came out near 1e-294,
   * and the step control, growing the step at most tenfold a step, called that an underflow though
   * rtol held at far larger steps. The error test still rejects a start that is too large.
   */
  private double initialStep(OdeSystem system, double t0, double[] y0, double[] f0, double dir,
      double[] probe, double[] f1) {
    int n = y0.length;
    for (int i = 0; i < n; i++) probe[i] = y0[i] / (atol + rtol * Math.abs(y0[i]));
    double d0 = rms(probe, n);
    for (int i = 0; i < n; i++) probe[i] = f0[i] / (atol + rtol * Math.abs(y0[i]));
    double d1 = rms(probe, n);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : Math.max(minStep(t0), 0.01 * d0 / d1);
    for (int i = 0; i < n; i++) probe[i] = y0[i] + dir * h0 * f0[i];
    system.derivative(t0 + dir * h0, probe, f1);
    for (int i = 0; i < n; i++) probe[i] = (f1[i] - f0[i]) / (atol + rtol * Math.abs(y0[i]));
    double d2 = rms(probe, n) / h0;
    double h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 0.2);
    return dir * Math.max(minStep(t0), Math.min(100 * h0, h1));
  }

  /**
   * The RMS of {@code ratio[0, n)}, its squares taken after scaling by the power of two of the
   * largest entry, so that they neither overflow nor underflow: at atol = 1e-300 the plain squares
   * of err / atol were infinite, and the solver reported a "non-finite state". A power of two
   * scales exactly, so wherever the plain sum of squares is finite and normal the result is the
   * plain formula's to the last bit.
   */
  static double rms(double[] ratio, int n) {
    double max = 0;
    for (int i = 0; i < n; i++) max = Math.max(max, Math.abs(ratio[i]));
    if (max == 0 || !Double.isFinite(max)) return max;
    int e = Math.getExponent(max);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double r = Math.scalb(ratio[i], -e);
      sum += r * r;
    }
    return Math.scalb(Math.sqrt(sum / n), e);
  }

  @Override
  public String describe() {
    return "dopri5(rtol=" + rtol + ", atol=" + atol + ")";
  }
}
