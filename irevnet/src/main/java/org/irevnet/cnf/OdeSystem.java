package org.irevnet.cnf;

/** An ordinary differential equation {@code dy/dt = g(t, y)} on a flat state vector. */
public interface OdeSystem {

  /** Length of the state vector. */
  int dimension();

  /** Writes {@code g(t, y)} into {@code dydt} (same length as {@code y}; never aliases it). */
  void derivative(double t, double[] y, double[] dydt);
}
