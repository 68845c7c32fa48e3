package org.irevnet.vae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.layers.LogDetKind;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The flow factory, the stack's bookkeeping, argument checks, and the scalar root finder. */
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
