package org.irevnet.vae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.irevnet.layers.LogDetKind;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The flow factory, the stack's bookkeeping, argument checks, the scalar root finder, the flows'
 * inverses where the forward map is nearly flat, and Sylvester's prepared parameters against
 * hand-built matrices.
 */
class FlowsTest {
  @Test
  void createMakesTheNamedStepsOrOneHouseholderFlow() {
    FlowStack planar = Flows.create("planar", 3, 2, 0, 0);
    assertThat(planar.steps()).hasSize(2).allMatch(s -> s instanceof PlanarFlow);
    assertThat(planar.dim()).isEqualTo(3);
    assertThat(planar.paramCount()).isEqualTo(2 * (2 * 3 + 1));
    assertThat(planar.logDetKind()).isEqualTo(LogDetKind.EXACT);
    FlowStack householder = Flows.create("householder", 3, 4, 0, 0);
    assertThat(householder.steps()).hasSize(1).allMatch(s -> s instanceof HouseholderFlow);
    assertThat(householder.paramCount()).as("four reflections of 3-vectors").isEqualTo(12);
    assertThat(householder.logDetKind()).isEqualTo(LogDetKind.ZERO);
    FlowStack none = Flows.create("none", 3, 1, 0, 0);
    assertThat(none.steps()).isEmpty();
    assertThat(none.paramCount()).isZero();
    assertThat(none.logDetKind()).as("the identity keeps volume").isEqualTo(LogDetKind.ZERO);
    for (String name : List.of("sylvester-orthogonal", "sylvester-householder", "sylvester-triangular")) {
      assertThat(Flows.create(name, 3, 3, 2, 2).steps()).hasSize(3).allMatch(s -> s instanceof SylvesterFlow);
    }
    assertThatThrownBy(() -> Flows.create("radial", 3, 1, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown flow 'radial'; expected one of none, planar, householder, sylvester-orthogonal, "
            + "sylvester-householder, sylvester-triangular");
    assertThatThrownBy(() -> Flows.create("planar", 3, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("flow steps must be >= 1, got 0");
  }

  @Test
  void stacksCheckTheirStepsAndNameTheirParametersByStep() {
    assertThatThrownBy(() -> new FlowStack(3, List.of(new PlanarFlow(3), new PlanarFlow(2))))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("flow step of dimension 2 in a stack of 3");
    FlowStack stack = new FlowStack(2, List.of(new PlanarFlow(2), new HouseholderFlow(2, 1)));
    assertThat(stack.logDetKind()).as("one step changes volume").isEqualTo(LogDetKind.EXACT);
    SameDiff sd = SameDiff.create();
    var p = stack.prepare(sd, sd.var("raw", Nd4j.rand(DataType.DOUBLE, 1, stack.paramCount())));
    assertThat(p.keySet()).containsExactly("0.u", "0.w", "0.b", "1.v0");
    INDArray y = Nd4j.rand(DataType.DOUBLE, 2, 2);
    INDArray same = new FlowStack(2, List.of()).invert(y, Map.of());
    assertThat(same).isEqualTo(y).isNotSameAs(y);
  }

  @Test
  void badFlowArgumentsAreClearErrors() {
    assertThatThrownBy(() -> new HouseholderFlow(3, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reflections must be >= 1, got 0");
    assertThatThrownBy(() -> SylvesterFlow.householder(3, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reflections must be >= 1, got 0");
    assertThatThrownBy(() -> SylvesterFlow.orthogonal(3, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("orthonormal vectors must be in 1..3, got 0");
    assertThatThrownBy(() -> SylvesterFlow.orthogonal(3, 4)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("orthonormal vectors must be in 1..3, got 4");
    assertThat(SylvesterFlow.orthogonal(3, 3).dim()).isEqualTo(3);
    assertThat(SylvesterFlow.orthogonal(3, 1).dim()).isEqualTo(3);
    PlanarFlow planar = new PlanarFlow(3);
    assertThatThrownBy(() -> new FlowBijection(planar, Nd4j.zeros(DataType.DOUBLE, 1, 6)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("theta must be [1, 7], got [1, 6]");
    assertThatThrownBy(() -> new FlowBijection(planar, Nd4j.zeros(DataType.DOUBLE, 2, 7)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("theta must be [1, 7], got [2, 7]");
    assertThatThrownBy(() -> new FlowBijection(planar, Nd4j.zeros(DataType.DOUBLE, 7)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("theta must be [1, 7], got [7]");
    FlowBijection b = new FlowBijection(planar, Nd4j.zeros(DataType.DOUBLE, 1, 7));
    for (long[] s : new long[][] {{2, 3}, {2, 4, 1, 1}, {2, 3, 2, 1}, {2, 3, 1, 2}}) {
      assertThatThrownBy(() -> b.outputShape(s)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("latent flow expects [batch, 3, 1, 1], got " + java.util.Arrays.toString(s));
    }
    assertThat(b.outputShape(new long[] {2, 3, 1, 1})).containsExactly(2, 3, 1, 1);
    assertThat(b.logDetKind()).isEqualTo(LogDetKind.EXACT);
    assertThat(b.params().entries().keySet()).containsExactly("theta");
  }

  @Test
  void monotoneSolveFindsTheRootAlsoWhereNewtonLeavesTheBracket() {
    // a^3 + a = 10 at a = 2.
    assertThat(Monotone.solve(a -> a * a * a + a, a -> 3 * a * a + 1, 10, -5, 5)).isCloseTo(2, within(1e-14));
    // a^3 = 8 from the midpoint 1 of [-1, 3]: Newton's first step lands outside, at 10/3.
    assertThat(Monotone.solve(a -> a * a * a, a -> 3 * a * a, 8, -1, 3)).isCloseTo(2, within(1e-14));
    // A root at the bracket's end, and one where the derivative is flat (a^3 at 0).
    assertThat(Monotone.solve(a -> a, a -> 1, 3, -1, 3)).isCloseTo(3, within(1e-14));
    assertThat(Monotone.solve(a -> a * a * a, a -> 3 * a * a, 0, -1, 2)).isCloseTo(0, within(1e-5));
    // Planar's inverse equation a + c tanh(a + b) = y with c near -1 (flat where tanh' = 1).
    double c = -0.999, b = 0.3, root = 0.2;
    double y = root + c * Math.tanh(root + b);
    assertThat(Monotone.solve(a -> a + c * Math.tanh(a + b), a -> 1 + c * (1 - Math.pow(Math.tanh(a + b), 2)), y,
        y - 2, y + 2)).isCloseTo(root, within(1e-9));
  }

  @Test
  void monotoneSolveTakesNewtonStepsAndRejectsStepsThatStayOnTheBracket() {
    // A root at the bracket's midpoint (2^3 + 2 = 10 on [0, 4]) is the first point tried.
    int[] calls = {0};
    DoubleUnaryOperator cubic = a -> {
      calls[0]++;
      return a * a * a + a;
    };
    assertThat(Monotone.solve(cubic, a -> 3 * a * a + 1, 10, 0, 4)).isEqualTo(2);
    assertThat(calls[0]).isEqualTo(1);
    // Newton converges quadratically: a^3 + a = 3 (root 1.2134116627622296...) to round-off in far
    // fewer evaluations than bisection's ~52 halvings of [0, 4].
    calls[0] = 0;
    double root = Monotone.solve(cubic, a -> 3 * a * a + 1, 3, 0, 4);
    assertThat(root * root * root + root).isCloseTo(3, within(1e-15));
    assertThat(calls[0]).as("evaluations").isLessThanOrEqualTo(20);
    // cbrt has a vertical tangent at the midpoint 0: the Newton step there has length 0 and lands
    // on the bracket's new end, which must fall back to bisection (the roots are ±1/8).
    DoubleUnaryOperator dCbrt = a -> 1 / (3 * Math.cbrt(a * a));
    assertThat(Monotone.solve(Math::cbrt, dCbrt, 0.5, -1, 1)).isCloseTo(0.125, within(1e-15));
    assertThat(Monotone.solve(Math::cbrt, dCbrt, -0.5, -1, 1)).isCloseTo(-0.125, within(1e-15));
  }

  @Test
  void inversesAreExactWhereTheForwardMapIsNearlyFlat() {
    // Planar with w·û = -0.99 and w·z + b = 0.05: the slope of a + c tanh(a + b) at the root is
    // 1 - 0.99 (1 - tanh²(0.05)) ≈ 0.012, where a wrong derivative slows Newton to a crawl.
    assertPlanarInverts(new double[] {-0.25, 0.7}, new double[] {-0.99, 0.5}, 0.3);
    // Sylvester with Q = I, M = 2: the last coordinate solves the same flat equation (r11 r~11 = -0.99).
    double[][] r = {{0.5, 0.7}, {0, -0.99}};
    double[][] rt = {{-0.3, 0.6}, {0, 1}};
    double[] b = {0.1, 0.3};
    double[] x = {0.4, -0.25};
    double[] hs = new double[2];
    for (int i = 0; i < 2; i++) hs[i] = Math.tanh(rt[i][0] * x[0] + rt[i][1] * x[1] + b[i]);
    double[] yv = new double[2];
    for (int i = 0; i < 2; i++) yv[i] = x[i] + r[i][0] * hs[0] + r[i][1] * hs[1];
    Map<String, INDArray> sylvester = Map.of("q", Nd4j.eye(2).castTo(DataType.DOUBLE).reshape(1, 2, 2),
        "r", Nd4j.createFromArray(new double[][][] {r}), "rt", Nd4j.createFromArray(new double[][][] {rt}),
        "b", Nd4j.createFromArray(new double[][] {b}));
    INDArray back = SylvesterFlow.triangular(2, false).invert(Nd4j.createFromArray(new double[][] {yv}), sylvester);
    assertThat(back.toDoubleVector()).containsExactly(x, within(1e-12));
  }

  @Test
  void planarInverseIsExactWhereNewtonStepsWouldCycleInsideTheBracket() {
    // w·û = 5.168 (w·u ≈ 6.2): from the bracket's midpoint, Newton on a + c tanh(a + b) jumps back
    // and forth between a ≈ 1.0 and a ≈ 3.8 for 200 iterations, each step inside the bracket.
    assertPlanarInverts(new double[] {5.954601, -0.4}, new double[] {5.168211, 0.3}, -5.311402);
  }

  /** A 2D planar step with w = (1, 0), {@code û = u} and bias {@code b} inverts {@code z + û tanh(z_0 + b)} back to z. */
  private static void assertPlanarInverts(double[] z, double[] u, double b) {
    double h = Math.tanh(z[0] + b);
    INDArray y = Nd4j.createFromArray(new double[][] {{z[0] + u[0] * h, z[1] + u[1] * h}});
    Map<String, INDArray> planar = Map.of("u", Nd4j.createFromArray(new double[][] {u}),
        "w", Nd4j.createFromArray(new double[][] {{1, 0}}), "b", Nd4j.createFromArray(new double[][] {{b}}));
    assertThat(new PlanarFlow(2).invert(y, planar).toDoubleVector()).containsExactly(z, within(1e-12));
  }

  /** The prepared parameters of {@code flow} for one raw vector, evaluated. */
  private static Map<String, INDArray> prepared(LatentFlow flow, double[] raw) {
    SameDiff sd = SameDiff.create();
    Map<String, SDVariable> p = flow.prepare(sd, sd.var("raw", Nd4j.createFromArray(new double[][] {raw})));
    Map<String, String> names = new LinkedHashMap<>();
    p.forEach((k, v) -> names.put(k, v.name()));
    Map<String, INDArray> out = sd.output(new HashMap<>(), new ArrayList<>(names.values()));
    Map<String, INDArray> values = new LinkedHashMap<>();
    names.forEach((k, n) -> values.put(k, out.get(n)));
    return values;
  }

  @Test
  void sylvesterPrepareBuildsTriangularFactorsAndOrthonormalQFromTheirRawColumns() {
    // orthogonal(3, 2): full [4] = (1, 2, 3, 4), d1 = (0.5, -1), d2 = (2, 0.25), b = (7, 8), then Q's
    // raw 3x2 block with orthogonal columns (1, 2, 0) and (-2, 1, 3), whose polar factor normalises them.
    double[] raw = {1, 2, 3, 4, 0.5, -1, 2, 0.25, 7, 8, 1, -2, 2, 1, 0, 3};
    Map<String, INDArray> p = prepared(SylvesterFlow.orthogonal(3, 2), raw);
    assertThat(p.get("r").reshape(4).toDoubleVector()).containsExactly(
        new double[] {Math.tanh(0.5), 2, 0, Math.tanh(-1)}, within(1e-15));
    assertThat(p.get("rt").reshape(4).toDoubleVector()).as("R~: full's strict lower triangle transposed")
        .containsExactly(new double[] {Math.tanh(2), 3, 0, Math.tanh(0.25)}, within(1e-15));
    assertThat(p.get("b").toDoubleVector()).containsExactly(7, 8);
    double s5 = Math.sqrt(5), s14 = Math.sqrt(14);
    assertThat(p.get("q").reshape(6).toDoubleVector()).containsExactly(
        new double[] {1 / s5, -2 / s14, 2 / s5, 1 / s14, 0, 3 / s14}, within(1e-12));
    // householder(3, 1), a single reflection (v = (1, 2, 2), |v|² = 9): Q = I - 2 v vᵀ / 9.
    double[] rawH = new double[21];
    rawH[18] = 1;
    rawH[19] = 2;
    rawH[20] = 2;
    double[] v = {1, 2, 2};
    double[] reflection = new double[9];
    for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) reflection[3 * i + j] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / 9;
    assertThat(prepared(SylvesterFlow.householder(3, 1), rawH).get("q").reshape(9).toDoubleVector())
        .containsExactly(reflection, within(1e-15));
  }

  /**
   * The orthogonal variant's 30 iterations reach an orthonormal Q only for raw matrices of
   * condition number up to about 1e4; beyond, its log-det formula (which assumes {@code QᵀQ = I})
   * was silently wrong. Now {@code QᵀQ - I} is a prepared output: checked here against the raw
   * matrix's polar factor (known by construction, {@code A = U diag(s) Vᵀ} has {@code U Vᵀ}) and
   * the map's log-det against the brute-force {@code log|det(I + Q R diag(tanh') R̃ Qᵀ)|} by LU,
   * all in float64: where the measured error is within the tolerance the log-det is right, and
   * where the log-det is wrong the measured error says so.
   */
  @Test
  void sylvesterMeasuresHowFarItsIteratedQIsFromOrthonormal() {
    int d = 16, m = 8;
    Random rng = new Random(5);
    for (double kappa : new double[] {1e2, 1e3, 1e4, 1e5, 1e6, 1e8}) {
      double[][] u = orthonormalColumns(rng, d, m), v = orthonormalColumns(rng, m, m);
      double[] raw = new double[m * m + 3 * m + d * m];
      for (int i = 0; i < m * m + 3 * m; i++) raw[i] = (i < m * m ? 0.5 : 1) * rng.nextGaussian();
      double[][] polar = new double[d][m];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < m; j++) {
          for (int k = 0; k < m; k++) {
            double s = Math.pow(kappa, -k / (m - 1.0));
            raw[m * m + 3 * m + i * m + j] += u[i][k] * s * v[j][k];
            polar[i][j] += u[i][k] * v[j][k];
          }
        }
      }
      SylvesterFlow flow = SylvesterFlow.orthogonal(d, m);
      SameDiff sd = SameDiff.create();
      Map<String, SDVariable> p = flow.prepare(sd, sd.var("raw", Nd4j.createFromArray(new double[][] {raw})));
      double[] z = new double[d];
      for (int i = 0; i < d; i++) z[i] = rng.nextGaussian();
      LatentFlow.Step step = flow.transform(sd, sd.var("z", Nd4j.createFromArray(new double[][] {z})), p);
      Map<String, INDArray> out = sd.output(new HashMap<>(), p.get("q").name(), p.get("r").name(),
          p.get("rt").name(), p.get("b").name(), p.get(SylvesterFlow.ORTHOGONALITY_ERROR).name(), step.logDet().name());
      double[][] q = out.get(p.get("q").name()).slice(0).toDoubleMatrix();
      double[][] measured = out.get(p.get(SylvesterFlow.ORTHOGONALITY_ERROR).name()).slice(0).toDoubleMatrix();
      double error = 0, fromPolar = 0;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) {
          double dot = 0;
          for (int k = 0; k < d; k++) dot += q[k][i] * q[k][j];
          assertThat(measured[i][j]).as("κ %g: (QᵀQ - I)[%d][%d]", kappa, i, j).isCloseTo(dot - (i == j ? 1 : 0), within(1e-15));
          error = Math.max(error, Math.abs(measured[i][j]));
        }
      }
      for (int i = 0; i < d; i++) for (int j = 0; j < m; j++) fromPolar = Math.max(fromPolar, Math.abs(q[i][j] - polar[i][j]));
      double logDetError = Math.abs(out.get(step.logDet().name()).getDouble(0) - bruteForceLogDet(q,
          out.get(p.get("r").name()).slice(0).toDoubleMatrix(), out.get(p.get("rt").name()).slice(0).toDoubleMatrix(),
          out.get(p.get("b").name()).toDoubleVector(), z));
      if (kappa <= 1e4) {
        assertThat(fromPolar).as("κ %g: |Q - U Vᵀ|", kappa).isLessThan(1e-12);
        assertThat(error).as("κ %g", kappa).isLessThan(1e-13);
        assertThat(logDetError).as("κ %g", kappa).isLessThan(1e-12);
      } else {
        // Not converged, and said: the error is far past the tolerance, and so is the log-det's.
        assertThat(error).as("κ %g", kappa).isGreaterThan(100 * SylvesterFlow.ORTHOGONALITY_TOLERANCE);
        assertThat(logDetError).as("κ %g: the formula's log-det is off", kappa).isGreaterThan(1e-6);
      }
      // The tolerance's premise: the log-det is off by at most a few times the measured error (5x measured).
      assertThat(logDetError).as("κ %g", kappa).isLessThanOrEqualTo(10 * error + 1e-12);
    }
  }

  /** {@code rows x cols} orthonormal columns by Gram-Schmidt (twice) of Gaussian ones. */
  private static double[][] orthonormalColumns(Random rng, int rows, int cols) {
    double[][] a = new double[rows][cols];
    for (int j = 0; j < cols; j++) {
      for (int i = 0; i < rows; i++) a[i][j] = rng.nextGaussian();
      for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < j; k++) {
          double dot = 0;
          for (int i = 0; i < rows; i++) dot += a[i][k] * a[i][j];
          for (int i = 0; i < rows; i++) a[i][j] -= dot * a[i][k];
        }
      }
      double norm = 0;
      for (int i = 0; i < rows; i++) norm += a[i][j] * a[i][j];
      for (int i = 0; i < rows; i++) a[i][j] /= Math.sqrt(norm);
    }
    return a;
  }

  /** {@code log|det(I + Q R diag(1 - h²) R̃ Qᵀ)|}, {@code h = tanh(R̃ Qᵀ z + b)}: the step's whole Jacobian, by LU. */
  private static double bruteForceLogDet(double[][] q, double[][] r, double[][] rt, double[] b, double[] z) {
    int d = q.length, m = r.length;
    double[] u = new double[m], slope = new double[m];
    for (int k = 0; k < m; k++) for (int i = 0; i < d; i++) u[k] += q[i][k] * z[i];
    for (int k = 0; k < m; k++) {
      double pre = b[k];
      for (int l = 0; l < m; l++) pre += rt[k][l] * u[l];
      slope[k] = 1 - Math.tanh(pre) * Math.tanh(pre);
    }
    double[][] j = new double[d][d];
    for (int a = 0; a < d; a++) {
      for (int c = 0; c < d; c++) {
        double sum = a == c ? 1 : 0;
        for (int k = 0; k < m; k++) {
          for (int l = 0; l < m; l++) {
            double rt2 = 0;
            for (int t = 0; t < m; t++) rt2 += r[k][t] * slope[t] * rt[t][l];
            sum += q[a][k] * rt2 * q[c][l];
          }
        }
        j[a][c] = sum;
      }
    }
    return org.irevnet.check.Numerics.logAbsDet(j);
  }

  @Test
  void zeroRawParametersGiveTheIdentityWithFiniteGradients() {
    // A blank image through a fresh encoder (biases at zero) gives all-zero raw parameters, where
    // the planar reparametrisation divides by |w|² and a Householder reflection by |v|²: both
    // become the identity there (û = u, no reflection), with finite gradients, instead of 0/0.
    for (String name : Flows.NAMES.subList(1, Flows.NAMES.size())) {
      FlowStack stack = Flows.create(name, 3, 2, 2, 2);
      SameDiff sd = SameDiff.create();
      SDVariable raw = sd.var("raw", Nd4j.zeros(DataType.DOUBLE, 2, stack.paramCount()));
      INDArray z0 = Nd4j.createFromArray(new double[][] {{0.3, -0.2, 0.5}, {-1, 0.4, 0.1}});
      LatentFlow.Step step = stack.transform(sd, sd.var("z", z0), stack.prepare(sd, raw));
      SDVariable loss = step.out().sum().add(step.logDet().sum());
      loss.markAsLoss();
      Map<String, INDArray> out = sd.output(new HashMap<>(), step.out().name(), step.logDet().name());
      assertThat(out.get(step.out().name()).toDoubleMatrix()).as(name).isEqualTo(z0.toDoubleMatrix());
      assertThat(out.get(step.logDet().name()).toDoubleVector()).as(name).containsExactly(0, 0);
      Map<String, INDArray> grads = sd.calculateGradients(new HashMap<>(), "raw", "z");
      for (String v : List.of("raw", "z")) {
        assertThat(grads.get(v).isInfinite().any() || grads.get(v).isNaN().any()).as("%s: d/d%s finite", name, v).isFalse();
      }
      INDArray first = z0.getRow(0, true);
      assertThat(stack.invert(first, prepared(stack, new double[stack.paramCount()])).toDoubleVector()).as("%s inverse", name)
          .containsExactly(first.toDoubleVector());
    }
  }

  @Test
  void sylvesterTriangularStepsAlternateIdentityAndReversal() {
    FlowStack stack = Flows.create("sylvester-triangular", 3, 3, 0, 0);
    Map<String, INDArray> p = prepared(stack, new double[stack.paramCount()]);
    double[] identity = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double[] reversal = {0, 0, 1, 0, 1, 0, 1, 0, 0};
    assertThat(p.get("0.q").reshape(9).toDoubleVector()).containsExactly(identity);
    assertThat(p.get("1.q").reshape(9).toDoubleVector()).containsExactly(reversal);
    assertThat(p.get("2.q").reshape(9).toDoubleVector()).containsExactly(identity);
  }

  @Test
  void binariseKeepsBlackAndWhiteAndDrawsGreyByItsValue() {
    int n = 2000;
    double[] pixels = new double[3 * n];
    for (int i = 0; i < n; i++) {
      pixels[3 * i + 1] = 1.0;
      pixels[3 * i + 2] = 0.25;
    }
    INDArray bits = ConvVae.binarise(Nd4j.createFromArray(pixels).reshape(n, 1, 1, 3), new Random(2));
    assertThat(bits.shape()).containsExactly(n, 3);
    assertThat(bits.dataType()).isEqualTo(DataType.FLOAT);
    double[] sums = new double[3];
    double[] b = org.irevnet.nn.Tensors.doubles(bits);
    for (int i = 0; i < b.length; i++) sums[i % 3] += b[i];
    assertThat(sums[0]).isZero();
    assertThat(sums[1]).isEqualTo(n);
    // Binomial(2000, 0.25): mean 500, standard deviation 19.4.
    assertThat(sums[2]).isBetween(500 - 4 * 19.4, 500 + 4 * 19.4);
  }
}
