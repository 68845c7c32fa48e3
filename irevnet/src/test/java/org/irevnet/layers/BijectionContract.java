package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.nio.file.Path;
import java.util.Map;
import org.irevnet.io.Npz;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.ParamGradients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The contract every {@link Bijection} passes. A new block needs one subclass with a factory
 * method and a tiny input shape. Gradient and Jacobian checks run in float64 against
 * independent numerical references ({@link Numerics}).
 */
public abstract class BijectionContract {

  /** A block with seeded parameters (sub-networks with non-zero weights, so every path counts). */
  protected abstract Bijection create(DataType dt, long seed);

  /** A tiny input shape {@code [batch, c, h, w]} (the Jacobian is (c*h*w)^2). */
  protected abstract long[] shape();

  /** Inputs of the block's domain; unit-scale normal by default. */
  protected INDArray input(DataType dt, long seed, long... shape) {
    return Numerics.normal(dt, seed, shape);
  }

  /** Whether every tensor of the output shape is an output (false for injective blocks). */
  protected boolean surjective() {
    return create(DataType.DOUBLE, 1).logDetKind() != LogDetKind.INJECTIVE;
  }

  private long[] withBatch(long n) {
    long[] s = shape().clone();
    s[0] = n;
    return s;
  }

  @Test
  void roundTripForwardFloat32() {
    Bijection b = create(DataType.FLOAT, 1);
    INDArray x = input(DataType.FLOAT, 2, withBatch(3));
    assertThat(maxAbsDiff(b.invert(b.apply(x)), x)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void roundTripForwardFloat64() {
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(3));
    assertThat(maxAbsDiff(b.invert(b.apply(x)), x)).isLessThanOrEqualTo(1e-12);
  }

  @Test
  void roundTripInverse() {
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray y = surjective()
        ? Numerics.normal(DataType.DOUBLE, 3, b.outputShape(withBatch(3)))
        : b.apply(input(DataType.DOUBLE, 3, withBatch(3)));
    assertThat(maxAbsDiff(b.apply(b.invert(y)), y)).isLessThanOrEqualTo(1e-12);
    Bijection f = create(DataType.FLOAT, 1);
    assertThat(maxAbsDiff(f.apply(f.invert(y.castTo(DataType.FLOAT))), y)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void shapesAndDtypePreserved() {
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      Bijection b = create(dt, 1);
      INDArray x = input(dt, 2, withBatch(2));
      Flow f = b.forward(x);
      assertThat(f.out().shape()).isEqualTo(b.outputShape(x.shape()));
      assertThat(f.out().dataType()).isEqualTo(dt);
      assertThat(f.logDet().shape()).isEqualTo(new long[] {2});
      assertThat(b.inverse(f.out()).out().shape()).isEqualTo(x.shape());
    }
  }

  @Test
  void inverseLogDetIsMinusForwardLogDet() {
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(3));
    Flow f = b.forward(x);
    Flow i = b.inverse(f.out());
    assertThat(maxAbsDiff(i.logDet(), f.logDet().neg())).isLessThanOrEqualTo(1e-10);
    if (b.logDetKind() != LogDetKind.EXACT) {
      assertThat(Tensors.maxAbs(f.logDet())).isZero();
    }
  }

  @Test
  void logDetMatchesBruteForceJacobian() {
    Bijection b = create(DataType.DOUBLE, 1);
    for (long seed = 5; seed < 7; seed++) {
      INDArray x = input(DataType.DOUBLE, seed, withBatch(1));
      double[][] jac = Numerics.jacobian(b::apply, x, 1e-5);
      double reference = b.logDetKind() == LogDetKind.INJECTIVE
          ? Numerics.halfLogDetGram(jac)
          : Numerics.logAbsDet(jac);
      double analytic = b.forward(x).logDet().getDouble(0);
      assertThat(analytic).as("log-det vs brute-force Jacobian").isCloseTo(reference,
          offset(1e-6 * Math.max(1, Math.abs(reference))));
    }
  }

  @Test
  void backwardRebuildsInputAndMatchesFiniteDifferences() {
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(2));
    Flow f = b.forward(x);
    INDArray r = Numerics.normal(DataType.DOUBLE, 11, f.out().shape());
    INDArray rl = Numerics.normal(DataType.DOUBLE, 12, 2);
    // L = <y, r> + <logdet, rl>, so dL/dy = r and dL/dlogdet = rl.
    java.util.function.ToDoubleFunction<INDArray> lossOfX = xx -> {
      Flow g = b.forward(xx);
      return g.out().mul(r).sumNumber().doubleValue() + g.logDet().mul(rl).sumNumber().doubleValue();
    };
    b.params().zeroGrad();
    Grad g = b.backward(f.out(), r, rl);
    assertThat(maxAbsDiff(g.x(), x)).as("rebuilt input").isLessThanOrEqualTo(1e-10);

    int[] xi = Numerics.sampleIndices(x.length(), 200, 3);
    double[] fdx = Numerics.gradient(lossOfX, x, 1e-6, xi);
    INDArray dxFlat = g.dx().dup('c').reshape(-1);
    double[] dx = new double[xi.length];
    for (int k = 0; k < xi.length; k++) dx[k] = dxFlat.getDouble(xi[k]);
    assertThat(Numerics.maxRelDiff(dx, fdx)).as("dL/dx vs finite differences").isLessThanOrEqualTo(1e-6);

    for (Map.Entry<String, Param> e : b.params().entries().entrySet()) {
      Param p = e.getValue();
      if (!p.trainable()) continue;
      int[] pi = Numerics.sampleIndices(p.value().length(), 60, e.getKey().hashCode());
      double[] fd = Numerics.gradient(v -> lossOfX.applyAsDouble(x), p.value(), 1e-6, pi);
      INDArray gFlat = p.grad().dup('c').reshape(-1);
      double[] an = new double[pi.length];
      for (int k = 0; k < pi.length; k++) an[k] = gFlat.getDouble(pi[k]);
      assertThat(Numerics.maxRelDiff(an, fd)).as("dL/d" + e.getKey() + " vs finite differences")
          .isLessThanOrEqualTo(1e-6);
    }
  }

  @Test
  void storedActivationBackwardEqualsReversibleBackward() {
    // In a chain with tapes (TapedBlock skips recomputing its conditioner; any other block runs
    // its reversible backward) the gradients are those of the reversible pass, up to rounding.
    Bijection b = create(DataType.DOUBLE, 1);
    Sequential chain = Sequential.of(withBatch(1), b);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(2));
    INDArray r = Numerics.normal(DataType.DOUBLE, 11, b.outputShape(x.shape()));
    INDArray rl = Numerics.normal(DataType.DOUBLE, 12, 2);
    Flow f = chain.forward(x);
    b.params().zeroGrad();
    Grad reversible = chain.backward(f.out(), r, rl);
    Map<String, INDArray> reversibleGrads = ParamGradients.copy(b.params());

    Tapes tapes = new Tapes();
    tapes.record();
    Flow taped = chain.forward(x, tapes);
    assertThat(maxAbsDiff(taped.out(), f.out())).as("forward with tapes").isEqualTo(0.0);
    assertThat(tapes.bytes() > 0).as("tapes kept").isEqualTo(hasTapedBlock(b));
    b.params().zeroGrad();
    Grad stored = chain.backward(taped.out(), r, rl, null, tapes);
    assertThat(maxAbsDiff(stored.x(), reversible.x())).as("rebuilt input").isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(stored.dx(), reversible.dx())).as("dL/dx").isLessThanOrEqualTo(1e-10);
    ParamGradients.copy(b.params()).forEach((name, g) -> assertThat(maxAbsDiff(g, reversibleGrads.get(name)))
        .as("dL/d" + name).isLessThanOrEqualTo(1e-10 * Math.max(1, Tensors.maxAbs(reversibleGrads.get(name)))));
  }

  private static boolean hasTapedBlock(Bijection b) {
    if (b instanceof TapedBlock) return true;
    return b instanceof Sequential s && s.blocks().stream().anyMatch(BijectionContract::hasTapedBlock);
  }

  @Test
  void resultsNeverAliasInputs() {
    // memcnn's self-test warns about this: a result that shares memory with an input is changed
    // when the caller updates either in place (containers write block results into reused buffers).
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(2));
    Flow f = b.forward(x);
    Flow i = b.inverse(f.out());
    Grad g = b.backward(f.out(), f.out().dup(), f.logDet().dup());
    for (INDArray r : new INDArray[] {f.out(), f.logDet(), i.out(), i.logDet(), g.x(), g.dx()}) {
      for (INDArray in : new INDArray[] {x, f.out()}) {
        if (r == in) continue; // f.out() compared with itself
        assertThat(r.data().address()).as("a result shares memory with an input").isNotEqualTo(in.data().address());
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Layouts.class)
  void everyLayoutGivesTheResultsOfItsDenseCopy(Layouts layout) {
    // Views, strided and column-major arrays reach the blocks from callers of the Java API; code
    // that treats a buffer as dense row-major would read (or write) the wrong entries.
    Bijection b = create(DataType.DOUBLE, 1);
    Flow forward = sameOnItsDenseCopy("forward", b::forward, layout.of(input(DataType.DOUBLE, 2, withBatch(3))));
    INDArray y = layout.of(forward.out());
    INDArray yBefore = y.dup('c'), yDense = y.dup('c');
    sameOnItsDenseCopy("inverse", b::inverse, y);

    INDArray dy = layout.of(Numerics.normal(DataType.DOUBLE, 11, yDense.shape()));
    INDArray dyBefore = dy.dup('c'), dyDense = dy.dup('c');
    INDArray dLogDet = Numerics.normal(DataType.DOUBLE, 12, 3);
    b.params().zeroGrad();
    Grad g = b.backward(y, dy, dLogDet);
    Map<String, INDArray> grads = ParamGradients.copy(b.params());
    b.params().zeroGrad();
    Grad gDense = b.backward(yDense, dyDense, dLogDet);
    assertSame("rebuilt input", g.x(), gDense.x());
    assertSame("dL/dx", g.dx(), gDense.dx());
    ParamGradients.copy(b.params()).forEach((name, dense) -> assertSame("dL/d" + name, grads.get(name), dense));
    assertSame("backward's output afterwards", y, yBefore);
    assertSame("backward's dL/dy afterwards", dy, dyBefore);
  }

  /**
   * Whether the block computes in float64 whatever the types of its parameters and inputs (a CNF
   * integrates in Java doubles), so that it takes inputs of every type.
   */
  protected boolean computesInFloat64() {
    return false;
  }

  @ParameterizedTest
  @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE", "HALF", "INT"})
  void inputsOfAnotherTypeAreRefusedByBlocksWithParameters(DataType given) {
    // A block computes in its parameters' type; only a block without parameters (a permutation, a
    // padding) or one that computes in float64 gives the same results in any type.
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      if (given == dt) continue;
      Bijection b = create(dt, 1);
      INDArray x64 = input(DataType.DOUBLE, 2, withBatch(2));
      INDArray y64 = b.apply(x64.castTo(dt)).castTo(DataType.DOUBLE);
      INDArray dLogDet64 = Nd4j.ones(DataType.DOUBLE, 2);
      INDArray x = x64.castTo(given), y = y64.castTo(given), dy = y64.castTo(given), dLogDet = dLogDet64.castTo(given);
      if (computesInFloat64() || b.params().entries().isEmpty()) {
        assertSame("forward in " + given, b.apply(x), b.apply(x.castTo(DataType.DOUBLE)).castTo(given));
        assertSame("inverse in " + given, b.invert(y), b.invert(y.castTo(DataType.DOUBLE)).castTo(given));
        assertSame("backward in " + given, b.backward(y, dy, dLogDet).dx(),
            b.backward(y.castTo(DataType.DOUBLE), dy.castTo(DataType.DOUBLE), dLogDet64).dx().castTo(given));
        continue;
      }
      String[] named = {Tensors.typeName(dt), Tensors.typeName(given)};
      assertThatThrownBy(() -> b.forward(x)).as("forward").isInstanceOf(IllegalArgumentException.class)
          .hasMessageContainingAll(named);
      assertThatThrownBy(() -> b.inverse(y)).as("inverse").isInstanceOf(IllegalArgumentException.class)
          .hasMessageContainingAll(named);
      INDArray yOwn = y64.castTo(dt);
      INDArray dLogDetOwn = Nd4j.ones(dt, 2);
      assertThatThrownBy(() -> b.backward(yOwn, dy, dLogDetOwn)).as("backward's dL/dy").isInstanceOf(IllegalArgumentException.class)
          .hasMessageContainingAll(named);
      assertThatThrownBy(() -> b.backward(yOwn, yOwn, dLogDet)).as("backward's dL/dlogdet")
          .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll(named);
    }
  }

  @Test
  void oneSampleWithoutItsBatchAxisIsRefused() {
    // [c, h, w] read as NCHW took c for the batch and h for the channels: a block without a channel
    // count of its own (ChannelReverse) reversed the rows of every image.
    Bijection b = create(DataType.DOUBLE, 1);
    long[] s = shape();
    INDArray x = input(DataType.DOUBLE, 2, s[1], s[2], s[3]);
    String given = Tensors.shape(x.shape());
    assertThatThrownBy(() -> b.forward(x)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(given);
    assertThatThrownBy(() -> b.inverse(x)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(given);
    assertThatThrownBy(() -> b.backward(x, x, Nd4j.ones(DataType.DOUBLE, s[1]))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(given);
  }

  /** {@code pass} of {@code in} and of its dense copy, the same bit for bit, {@code in} unchanged; the dense copy's result. */
  private static Flow sameOnItsDenseCopy(String what, java.util.function.Function<INDArray, Flow> pass, INDArray in) {
    // Kept apart from the copy the pass is given: a pass that changed its input in place would change both alike.
    INDArray before = in.dup('c');
    INDArray dense = in.dup('c');
    Flow f = pass.apply(in);
    Flow fDense = pass.apply(dense);
    assertSame(what, f.out(), fDense.out());
    assertSame(what + " log-det", f.logDet(), fDense.logDet());
    assertSame(what + "'s input afterwards", in, before);
    return fDense;
  }

  private static void assertSame(String what, INDArray actual, INDArray expected) {
    assertThat(actual.shape()).as(what + ": shape").isEqualTo(expected.shape());
    assertThat(actual.dataType()).as(what + ": data type").isEqualTo(expected.dataType());
    assertThat(maxAbsDiff(actual, expected)).as(what).isEqualTo(0.0);
  }

  @Test
  void logDetKindSaysWhatTheLogDetIs() {
    // Tests choose their log-det reference by the kind, so a wrong kind would check the wrong thing.
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(2));
    Flow f = b.forward(x);
    LogDetKind kind = b.logDetKind();
    assertThat(kind).isNotNull();
    assertThat(f.out().length() > x.length()).as("more outputs than inputs").isEqualTo(kind == LogDetKind.INJECTIVE);
    if (kind != LogDetKind.EXACT) {
      assertThat(Tensors.maxAbs(f.logDet())).isZero();
      assertThat(Tensors.maxAbs(b.inverse(f.out()).logDet())).isZero();
    }
  }

  @Test
  void outputsAreFinite() {
    Bijection b = create(DataType.FLOAT, 1);
    INDArray x = input(DataType.FLOAT, 4, withBatch(4)).muli(3);
    Flow f = b.forward(x);
    assertThat(f.out().isInfinite().any() || f.out().isNaN().any()).isFalse();
    assertThat(f.logDet().isInfinite().any() || f.logDet().isNaN().any()).isFalse();
  }

  @Test
  void batchRowsAreIndependent() {
    Bijection b = create(DataType.DOUBLE, 1);
    INDArray x = input(DataType.DOUBLE, 2, withBatch(3));
    Flow all = b.forward(x);
    for (int i = 0; i < 3; i++) {
      INDArray xi = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup();
      Flow one = b.forward(xi);
      INDArray row = all.out().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1));
      assertThat(maxAbsDiff(one.out(), row)).isLessThanOrEqualTo(1e-12);
      assertThat(Math.abs(one.logDet().getDouble(0) - all.logDet().getDouble(i))).isLessThanOrEqualTo(1e-10);
    }
  }

  @Test
  void sameSeedSameBlock() {
    INDArray x = input(DataType.FLOAT, 2, withBatch(2));
    INDArray a = create(DataType.FLOAT, 7).apply(x);
    INDArray b = create(DataType.FLOAT, 7).apply(x);
    assertThat(a).isEqualTo(b);
  }

  @Test
  void saveLoadGivesIdenticalOutputs(@TempDir Path dir) throws Exception {
    Bijection b = create(DataType.FLOAT, 1);
    Path file = dir.resolve("weights.npz");
    Map<String, INDArray> state = b.params().state();
    // Every entry is saved; only a block without parameters has nothing to check.
    assertThat(state.keySet()).containsExactlyElementsOf(b.params().entries().keySet());
    if (state.isEmpty()) return;
    Npz.write(file, state);
    Bijection other = create(DataType.FLOAT, 99);
    other.params().load(Npz.read(file));
    INDArray x = input(DataType.FLOAT, 2, withBatch(2));
    assertThat(other.apply(x)).isEqualTo(b.apply(x));
  }

}
