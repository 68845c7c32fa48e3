package org.irevnet.cnf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

/** RK4 and Dormand-Prince against ODEs with known solutions. */
class OdeSolversTest {

  // y' = -2 t y, y(0) = 1: y(t) = exp(-t^2). Time-dependent, so the stage times matter.
  private static final OdeSystem GAUSSIAN_DECAY = new OdeSystem() {
    @Override public int dimension() { return 1; }
    @Override public void derivative(double t, double[] y, double[] dydt) { dydt[0] = -2 * t * y[0]; }
  };

  // Harmonic oscillator y1' = y2, y2' = -y1 from (1, 0): (cos t, -sin t).
  private static final OdeSystem OSCILLATOR = new OdeSystem() {
    @Override public int dimension() { return 2; }
    @Override public void derivative(double t, double[] y, double[] dydt) {
      dydt[0] = y[1];
      dydt[1] = -y[0];
    }
  };

  private static double oscillatorError(OdeSolver.Solution s, double t) {
    return Math.max(Math.abs(s.y()[0] - Math.cos(t)), Math.abs(s.y()[1] + Math.sin(t)));
  }

  @Test
  void rk4MatchesAnalyticSolutionsWithFourthOrderConvergence() {
    double e20 = Math.abs(new Rk4(20).solve(GAUSSIAN_DECAY, new double[] {1}, 0, 2).y()[0] - Math.exp(-4));
    double e40 = Math.abs(new Rk4(40).solve(GAUSSIAN_DECAY, new double[] {1}, 0, 2).y()[0] - Math.exp(-4));
    assertThat(e40).isLessThan(1e-6);
    // Halving the step divides the global error by about 2^4.
    assertThat(e20 / e40).isBetween(12.0, 20.0);
    OdeSolver.Solution s = new Rk4(200).solve(OSCILLATOR, new double[] {1, 0}, 0, 2 * Math.PI + 1);
    assertThat(oscillatorError(s, 2 * Math.PI + 1)).isLessThan(2e-7);
    assertThat(s.evaluations()).isEqualTo(800);
  }

  @Test
  void rk4IntegratesBackwardsInTime() {
    OdeSolver.Solution s = new Rk4(100).solve(GAUSSIAN_DECAY, new double[] {Math.exp(-1)}, 1, 0);
    assertThat(s.y()[0]).isCloseTo(1.0, offset(1e-9));
  }

  @Test
  void dormandPrinceMeetsItsToleranceAndCountsEvaluations() {
    double previousError = Double.MAX_VALUE;
    int previousNfe = 0;
    for (double tol : new double[] {1e-4, 1e-7, 1e-10}) {
      DormandPrince dp = new DormandPrince(tol, tol);
      OdeSolver.Solution s = dp.solve(OSCILLATOR, new double[] {1, 0}, 0, 10);
      double err = oscillatorError(s, 10);
      // The local error control keeps the global error within a small multiple of the tolerance.
      assertThat(err).as("error at tol " + tol).isLessThan(100 * tol);
      assertThat(err).isLessThan(previousError);
      assertThat(s.evaluations()).isGreaterThan(previousNfe);
      // Two evaluations choose the first step, then six per attempted step (first same as last).
      assertThat(s.evaluations()).isEqualTo(2 + 6 * (s.acceptedSteps() + s.rejectedSteps()));
      previousError = err;
      previousNfe = s.evaluations();
    }
    OdeSolver.Solution g = new DormandPrince(1e-10, 1e-10).solve(GAUSSIAN_DECAY, new double[] {1}, 0, 2);
    assertThat(Math.abs(g.y()[0] - Math.exp(-4))).isLessThan(1e-9);
  }

  @Test
  void dormandPrinceIntegratesBackwardsInTime() {
    OdeSolver.Solution s = new DormandPrince(1e-10, 1e-12).solve(OSCILLATOR, new double[] {Math.cos(3), -Math.sin(3)}, 3, 0);
    assertThat(Math.abs(s.y()[0] - 1)).isLessThan(1e-8);
    assertThat(Math.abs(s.y()[1])).isLessThan(1e-8);
  }

  @Test
  void dormandPrinceFinishesIntervalsShorterThanItsUnderflowLimit() {
    // One step reaches t1, after which the grown step is still below 1e-14 |t|: not an underflow.
    OdeSolver.Solution s = new DormandPrince(1e-6, 1e-6).solve(OSCILLATOR, new double[] {1, 0}, 0, 1e-16);
    assertThat(s.acceptedSteps()).isEqualTo(1);
    assertThat(s.y()[0]).isEqualTo(1.0);
    assertThat(s.y()[1]).isCloseTo(-1e-16, offset(1e-24));
    double t1 = Math.nextUp(1.0);
    OdeSolver.Solution next = new DormandPrince(1e-6, 1e-6).solve(OSCILLATOR, new double[] {Math.cos(1), -Math.sin(1)}, 1, t1);
    assertThat(next.acceptedSteps()).isEqualTo(1);
    assertThat(oscillatorError(next, t1)).isLessThan(1e-15);
  }

  @Test
  void badSolverSettingsAreRejected() {
    assertThatThrownBy(() -> new Rk4(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step");
    assertThatThrownBy(() -> new Rk4(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RK4 needs at least one step, got -1");
    assertThatThrownBy(() -> new DormandPrince(0, 1e-5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rtol and atol must be finite and > 0, got 0.0 and 1.0E-5");
    assertThatThrownBy(() -> new DormandPrince(1e-5, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rtol and atol must be finite and > 0, got 1.0E-5 and 0.0");
    assertThatThrownBy(() -> new DormandPrince(1e-5, Double.POSITIVE_INFINITY)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rtol and atol must be finite and > 0, got 1.0E-5 and Infinity");
    assertThatThrownBy(() -> new DormandPrince(1e-5, 1e-5, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dopri5 needs a step limit of at least 1, got 0");
    assertThat(new Rk4(1).describe()).isEqualTo("rk4(steps=1)");
  }

  // y' = 4 t^3, y(0) = 0: y = t^4. RK4 reduces to Simpson's rule here, exact for a cubic g.
  private static final OdeSystem QUARTIC = new OdeSystem() {
    @Override public int dimension() { return 1; }
    @Override public void derivative(double t, double[] y, double[] dydt) { dydt[0] = 4 * t * t * t; }
  };

  @Test
  void rk4IsExactWhereSimpsonsRuleIs() {
    double[] y0 = {0.5};
    OdeSolver.Solution s = new Rk4(1).solve(QUARTIC, y0, 1, 3);
    assertThat(s.y()[0]).isCloseTo(0.5 + 81 - 1, offset(1e-12));
    assertThat(y0).as("y0 is not modified").containsExactly(0.5);
    assertThat(new int[] {s.evaluations(), s.acceptedSteps(), s.rejectedSteps()}).containsExactly(4, 1, 0);
    OdeSolver.Solution three = new Rk4(3).solve(QUARTIC, y0, 1, 3);
    assertThat(three.y()[0]).isCloseTo(80.5, offset(1e-12));
    assertThat(new int[] {three.evaluations(), three.acceptedSteps(), three.rejectedSteps()}).containsExactly(12, 3, 0);
    assertThat(new Rk4(8).describe()).isEqualTo("rk4(steps=8)");
  }

  @Test
  void dormandPrinceOnAnEmptyIntervalReturnsACopyOfTheStart() {
    double[] y0 = {1, 0};
    OdeSolver.Solution s = new DormandPrince(1e-6, 1e-6).solve(OSCILLATOR, y0, 2, 2);
    assertThat(s.y()).containsExactly(1, 0).isNotSameAs(y0);
    assertThat(new int[] {s.evaluations(), s.acceptedSteps(), s.rejectedSteps()}).containsExactly(0, 0, 0);
    OdeSolver.Solution moved = new DormandPrince(1e-6, 1e-6).solve(OSCILLATOR, y0, 0, 1);
    assertThat(y0).as("y0 is not modified").containsExactly(1, 0);
    assertThat(moved.y()).isNotSameAs(y0);
    assertThat(new DormandPrince(1e-4, 1e-6).describe()).isEqualTo("dopri5(rtol=1.0E-4, atol=1.0E-6)");
  }

  @Test
  void dormandPrinceStopsAtItsStepLimitAndOnDivergence() {
    assertThatThrownBy(() -> new DormandPrince(1e-10, 1e-10, 3).solve(OSCILLATOR, new double[] {1, 0}, 0, 10))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dopri5: more than 3 steps from t=0.0 to 10.0 (stiff or diverging dynamics?)");
    // y' = y^2 from y(0) = 1 is 1 / (1 - t): it leaves every bound before t = 1.
    OdeSystem blowUp = new OdeSystem() {
      @Override public int dimension() { return 1; }
      @Override public void derivative(double t, double[] y, double[] dydt) { dydt[0] = y[0] * y[0]; }
    };
    assertThatThrownBy(() -> new DormandPrince(1e-6, 1e-6).solve(blowUp, new double[] {1}, 0, 2))
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("dopri5: ");
    // Before the blow-up the solution is right.
    assertThat(new DormandPrince(1e-10, 1e-10).solve(blowUp, new double[] {1}, 0, 0.5).y()[0])
        .isCloseTo(2.0, offset(1e-8));
  }

  // A derivative that jumps at t = 0.5: the step across the jump fails the error test.
  private static final OdeSystem JUMP = new OdeSystem() {
    @Override public int dimension() { return 1; }
    @Override public void derivative(double t, double[] y, double[] dydt) { dydt[0] = t < 0.5 ? 0 : 1; }
  };

  @Test
  void dormandPrinceRejectsAStepWhoseErrorIsTooLarge() {
    OdeSolver.Solution s = new DormandPrince(1e-8, 1e-8).solve(JUMP, new double[] {0}, 0, 1);
    assertThat(s.rejectedSteps()).isPositive();
    assertThat(s.y()[0]).isCloseTo(0.5, offset(1e-6));
    assertThat(s.evaluations()).isEqualTo(2 + 6 * (s.acceptedSteps() + s.rejectedSteps()));
  }

  @Test
  void dormandPrinceErrorShrinksAtFifthOrderOnOneStep() {
    // rtol so loose that the first step is taken whole over [0, h]: the local error of a
    // fifth-order method is O(h^6), so halving h divides it by about 64.
    double[] err = new double[2];
    double[] hs = {0.4, 0.2};
    for (int k = 0; k < 2; k++) {
      OdeSolver.Solution s = new DormandPrince(1e3, 1e3).solve(OSCILLATOR, new double[] {1, 0}, 0, hs[k]);
      assertThat(s.acceptedSteps()).isEqualTo(1);
      err[k] = oscillatorError(s, hs[k]);
    }
    assertThat(err[0] / err[1]).isBetween(40.0, 100.0);
  }

  /** {@code y' = y} in two components; records the time of every evaluation. */
  private static final class Recorded implements OdeSystem {
    final java.util.List<Double> times = new java.util.ArrayList<>();
    final double rate;

    Recorded(double rate) {
      this.rate = rate;
    }

    @Override public int dimension() { return 2; }

    @Override public void derivative(double t, double[] y, double[] dydt) {
      times.add(t);
      dydt[0] = rate * y[0];
      dydt[1] = rate * y[1];
    }
  }

  @Test
  void dormandPrinceStartsWithHairersInitialStep() {
    // Hairer, Norsett & Wanner (II.4): d0, d1 = RMS of y0 and f0 over sc = atol + rtol |y0|;
    // h0 = 0.01 d0 / d1; one Euler probe at h0; d2 = RMS of (f1 - f0) / sc over h0;
    // h = min(100 h0, (0.01 / max(d1, d2))^(1/5)). Here y' = y from (1, 2), rtol = atol = 1e-3,
    // so d0 = d1 = d2 = d (f is linear), h0 = 0.01 and the first stage is at C2 h = h / 5.
    for (double dir : new double[] {1, -1}) {
      Recorded sys = new Recorded(dir);
      new DormandPrince(1e-3, 1e-3).solve(sys, new double[] {1, 2}, 0, dir);
      double d = Math.sqrt((Math.pow(1 / 0.002, 2) + Math.pow(2 / 0.003, 2)) / 2);
      double h = Math.min(100 * 0.01, Math.pow(0.01 / d, 0.2));
      assertThat(sys.times.get(0)).isEqualTo(0.0);
      assertThat(sys.times.get(1)).isCloseTo(dir * 0.01, offset(1e-15));
      assertThat(sys.times.get(2)).as("direction %s", dir).isCloseTo(dir * h / 5, offset(1e-12));
    }
    // y0 = 0 (d0 < 1e-5): h0 = 1e-6, d2 = 0, so h = min(1e-4, (0.01 / d1)^(1/5)) with d1 = 1/atol.
    OdeSystem constant = new OdeSystem() {
      @Override public int dimension() { return 1; }
      @Override public void derivative(double t, double[] y, double[] dydt) { dydt[0] = 1; }
    };
    java.util.List<Double> times = new java.util.ArrayList<>();
    OdeSystem recorded = new OdeSystem() {
      @Override public int dimension() { return 1; }
      @Override public void derivative(double t, double[] y, double[] dydt) {
        times.add(t);
        constant.derivative(t, y, dydt);
      }
    };
    OdeSolver.Solution s = new DormandPrince(1e-3, 1e-3).solve(recorded, new double[] {0}, 0, 1);
    assertThat(times.get(1)).isCloseTo(1e-6, offset(1e-18));
    assertThat(times.get(2)).isCloseTo(1e-4 / 5, offset(1e-15));
    assertThat(s.y()[0]).isCloseTo(1.0, offset(1e-12));
    // y' = y^2 from 1: d0 = d1 = 1 / 0.002 = 500, h0 = 0.01, f1 = 1.01^2, so
    // d2 = (0.0201 / 0.002) / 0.01 = 1005 > d1 decides h.
    java.util.List<Double> squareTimes = new java.util.ArrayList<>();
    OdeSystem square = new OdeSystem() {
      @Override public int dimension() { return 1; }
      @Override public void derivative(double t, double[] y, double[] dydt) {
        squareTimes.add(t);
        dydt[0] = y[0] * y[0];
      }
    };
    new DormandPrince(1e-3, 1e-3).solve(square, new double[] {1}, 0, 0.5);
    assertThat(squareTimes.get(2)).isCloseTo(Math.pow(0.01 / 1005, 0.2) / 5, offset(1e-12));
    // f = 0 everywhere (max(d1, d2) = 0): h = min(100 h0, max(1e-6, h0 / 1000)) = 1e-6.
    Recorded still = new Recorded(0);
    new DormandPrince(1e-3, 1e-3).solve(still, new double[] {1, 2}, 0, 1);
    assertThat(still.times.get(2)).isCloseTo(1e-6 / 5, offset(1e-18));
  }

  @Test
  void theScaledRmsIsThePlainOneOnOrdinaryRatiosAndFiniteOnExtremeOnes() {
    java.util.Random r = new java.util.Random(11);
    for (int trial = 0; trial < 500; trial++) {
      double[] ratio = new double[1 + r.nextInt(20)];
      for (int i = 0; i < ratio.length; i++) ratio[i] = r.nextGaussian() * Math.pow(10, 200 * r.nextDouble() - 100);
      double sum = 0;
      for (double v : ratio) sum += v * v;
      assertThat(DormandPrince.rms(ratio, ratio.length)).as("trial %d", trial).isEqualTo(Math.sqrt(sum / ratio.length));
    }
    // Where the plain squares overflow (to infinity) or underflow (to 0): rms(3a, 4a) = a sqrt(12.5).
    for (double a : new double[] {1e300, 1e-300, Double.MAX_VALUE / 4}) {
      assertThat(DormandPrince.rms(new double[] {3 * a, -4 * a}, 2) / (a * Math.sqrt(12.5))).as("a = %s", a)
          .isCloseTo(1.0, offset(1e-15));
    }
    assertThat(DormandPrince.rms(new double[] {0, 0}, 2)).isZero();
    assertThat(DormandPrince.rms(new double[] {1, Double.POSITIVE_INFINITY}, 2)).isInfinite();
    assertThat(DormandPrince.rms(new double[] {Double.NaN, 1e300}, 2)).isNaN();
  }

  @Test
  void aTinyAbsoluteToleranceLeavesTheRelativeOneInCharge() {
    // The oscillator's second component starts at 0 with slope -1: over atol = 1e-300 the error
    // norm's squares overflowed ("non-finite state"), and the starting step was 1e-294 (an
    // "underflow"). Away from 0, rtol decides, so the solution is as good as with a usual atol.
    OdeSolver.Solution tiny = new DormandPrince(1e-8, 1e-300).solve(OSCILLATOR, new double[] {1, 0}, 0, 1);
    OdeSolver.Solution usual = new DormandPrince(1e-8, 1e-8).solve(OSCILLATOR, new double[] {1, 0}, 0, 1);
    assertThat(oscillatorError(tiny, 1)).isLessThan(1e-7);
    assertThat(oscillatorError(usual, 1)).isLessThan(1e-7);
    assertThat(tiny.y()[1]).isCloseTo(usual.y()[1], offset(1e-7));
  }

  @Test
  void aToleranceNoStepCanMeetIsAStepSizeUnderflow() {
    // rtol = atol = 1e-300 asks for errors far below rounding: every step is rejected.
    assertThatThrownBy(() -> new DormandPrince(1e-300, 1e-300).solve(OSCILLATOR, new double[] {1, 0}, 0, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("dopri5: step size underflow at t=0.0 (a step of ")
        .hasMessageEndingWith(" for rtol=1.0E-300, atol=1.0E-300)");
  }

  @Test
  void bothSolversRefuseTimesThatAreNotNumbersAndAStartOfTheWrongSize() {
    for (OdeSolver solver : new OdeSolver[] {new DormandPrince(1e-6, 1e-6), new Rk4(4)}) {
      String name = solver instanceof Rk4 ? "rk4" : "dopri5";
      for (double[] times : new double[][] {{0, Double.NaN}, {Double.NaN, 1}, {0, Double.POSITIVE_INFINITY}}) {
        assertThatThrownBy(() -> solver.solve(OSCILLATOR, new double[] {1, 0}, times[0], times[1]))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(name + ": times must be finite, got t0=" + times[0] + " and t1=" + times[1]);
      }
      // Longer: the extra values came back untouched; shorter: an index out of bounds.
      for (double[] y0 : new double[][] {{1, 0, 5}, {1}}) {
        assertThatThrownBy(() -> solver.solve(OSCILLATOR, y0, 0, 1))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(name + ": y0 has " + y0.length + " values for a system of dimension 2");
      }
    }
  }

  @Test
  void dormandPrinceTakesExactlyMaxStepsAttempts() {
    // The jump problem needs rejected steps too: the limit counts both kinds.
    OdeSolver.Solution s = new DormandPrince(1e-8, 1e-8).solve(JUMP, new double[] {0}, 0, 1);
    int attempts = s.acceptedSteps() + s.rejectedSteps();
    assertThat(s.rejectedSteps()).isPositive();
    assertThat(new DormandPrince(1e-8, 1e-8, attempts).solve(JUMP, new double[] {0}, 0, 1).y()).isEqualTo(s.y());
    assertThatThrownBy(() -> new DormandPrince(1e-8, 1e-8, attempts - 1).solve(JUMP, new double[] {0}, 0, 1))
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("dopri5: more than " + (attempts - 1) + " steps");
  }
}
