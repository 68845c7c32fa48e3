package org.irevnet.cnf;

/** The classical fourth-order Runge-Kutta method with a fixed number of equal steps. */
public final class Rk4 implements OdeSolver {
  private final int steps;

  public Rk4(int steps) {
    if (steps < 1) throw new IllegalArgumentException("RK4 needs at least one step, got " + steps);
    this.steps = steps;
  }

  @Override
  public Solution solve(OdeSystem system, double[] y0, double t0, double t1) {
    int n = system.dimension();
    OdeSolver.checkStart("rk4", system, y0, t0, t1);
    double h = (t1 - t0) / steps;
    double[] y = y0.clone();
    double[] k1 = new double[n], k2 = new double[n], k3 = new double[n], k4 = new double[n], tmp = new double[n];
    for (int s = 0; s < steps; s++) {
      double t = t0 + s * h;
      system.derivative(t, y, k1);
      for (int i = 0; i < n; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
      system.derivative(t + 0.5 * h, tmp, k2);
      for (int i = 0; i < n; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
      system.derivative(t + 0.5 * h, tmp, k3);
      for (int i = 0; i < n; i++) tmp[i] = y[i] + h * k3[i];
      system.derivative(t + h, tmp, k4);
      for (int i = 0; i < n; i++) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    return new Solution(y, 4 * steps, steps, 0);
  }

  @Override
  public String describe() {
    return "rk4(steps=" + steps + ")";
  }
}
