package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The grouped flat layout (one block's parameters updated at a time from a shared gradient
 * buffer) and copying between tables. The grouped optimiser's own test compares whole training
 * runs; here the layout itself is checked against offsets counted by hand.
 */
class ParamTableTest {
  private static final DataType F64 = DataType.DOUBLE;

  /** An ActNorm whose logs and bias hold {@code first, first + 1, ...} (each entry distinct). */
  private static ActNorm actNorm(int c, double first) {
    ActNorm a = new ActNorm(c, F64);
    double[] v = new double[2 * c];
    for (int i = 0; i < v.length; i++) v[i] = first + i;
    a.logs().set(Nd4j.createFromArray(java.util.Arrays.copyOfRange(v, 0, c)).reshape(1, c, 1, 1));
    a.bias().set(Nd4j.createFromArray(java.util.Arrays.copyOfRange(v, c, 2 * c)).reshape(1, c, 1, 1));
    return a;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void loadingValuesOfAnyLayoutLoadsTheirDenseCopies(org.irevnet.testing.Layouts layout) {
    // A state assembled from views or column-major arrays by a Java caller: loaded by value.
    ActNorm source = actNorm(3, 10), target = actNorm(3, 50), reference = actNorm(3, 70);
    java.util.Map<String, INDArray> state = new java.util.LinkedHashMap<>(), dense = new java.util.LinkedHashMap<>();
    source.params().state().forEach((k, v) -> {
      INDArray laid = v.rank() == 4 ? layout.of(v) : v;
      state.put(k, laid);
      dense.put(k, laid.dup('c'));
    });
    target.params().load(state);
    reference.params().load(dense);
    reference.params().entries().forEach((k, p) ->
        assertThat(target.params().get(k).value()).as(k).isEqualTo(p.value()));
  }

  @Test
  void flattenGroupedGivesEachGroupItsRangeOfTheValuesAndTheZeroedScratch() {
    // Two ActNorms of 2 and 3 channels: trainable logs and bias each (2 + 2 and 3 + 3 scalars),
    // and a non-trainable 'initialized' buffer that takes no room in the flat vectors.
    ActNorm a = actNorm(2, 10), b = actNorm(3, 20);
    ParamTable table = ParamTable.empty().include("a", a.params()).include("b", b.params());
    // Gradients left over from earlier steps: rebinding copies them into the shared scratch,
    // where the groups overlap, so the layout must start from zero.
    a.logs().grad().assign(7);
    b.bias().grad().assign(9);
    ParamTable onlyBuffers = ParamTable.empty();
    onlyBuffers.addBuffer("running", Nd4j.ones(F64, 2));
    INDArray x = Numerics.normal(F64, 1, 2, 3, 2, 2);
    INDArray before = b.apply(x);

    ParamTable.GroupedLayout layout = table.flattenGrouped(F64, List.of(a.params(), onlyBuffers, b.params()));

    // Table order: a.logs (offset 0, 2), a.b (2, 2), b.logs (4, 3), b.b (7, 3).
    assertThat(layout.values().toDoubleVector()).containsExactly(10, 11, 12, 13, 20, 21, 22, 23, 24, 25);
    assertThat(layout.ranges()).hasSize(2).doesNotContainKey(onlyBuffers);
    assertThat(layout.ranges().get(a.params())).containsExactly(0, 4);
    assertThat(layout.ranges().get(b.params())).containsExactly(4, 6);
    assertThat(layout.scratch().length()).as("the largest group").isEqualTo(6);
    assertThat(Tensors.maxAbs(layout.scratch())).isZero();
    assertThat(b.apply(x)).as("values kept").isEqualTo(before);

    // Each group's gradients are the first entries of the scratch: b.b after b.logs' 3.
    layout.scratch().assign(Nd4j.createFromArray(new double[] {1, 2, 3, 4, 5, 6}).reshape(1, 6));
    assertThat(b.bias().grad().dup().reshape(-1).toDoubleVector()).containsExactly(4, 5, 6);
    assertThat(a.bias().grad().dup().reshape(-1).toDoubleVector()).containsExactly(3, 4);
    layout.values().putScalar(0, 5, -1);
    assertThat(b.logs().value().getDouble(0, 1, 0, 0)).as("values are views").isEqualTo(-1);
  }

  @Test
  void flattenGroupedRefusesGroupsThatDoNotPartitionTheTable() {
    ActNorm a = actNorm(2, 0), b = actNorm(3, 0), c = actNorm(1, 0);
    ParamTable table = ParamTable.empty().include("a", a.params()).include("c", c.params())
        .include("b", b.params());
    assertThatThrownBy(() -> table.flattenGrouped(F64, List.of(a.params(), c.params(), actNorm(2, 0).params())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a group holds a parameter this table does not");
    assertThatThrownBy(() -> table.flattenGrouped(F64, List.of(a.params(), c.params(), b.params(), a.params())))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("a parameter is in two groups");
    // a and b together, with c between them in the table.
    ParamTable aAndB = ParamTable.empty().include("a", a.params()).include("b", b.params());
    assertThatThrownBy(() -> table.flattenGrouped(F64, List.of(aAndB, c.params())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a group's parameters are not contiguous in the table");
    // 4 + 2 + 6 trainable scalars; a and c are 6 of them.
    assertThatThrownBy(() -> table.flattenGrouped(F64, List.of(a.params(), c.params())))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("the groups cover 6 of 12 parameters");
  }

  @Test
  void copyFromCopiesEveryEntryCastToTheTargetsType() {
    // A float32 twin of a float64 block (how a model is copied into another precision).
    ActNorm source = actNorm(2, 0.25);
    source.initFrom(Numerics.normal(F64, 1, 4, 2, 2, 2)); // sets the buffer, rewrites logs and bias
    ActNorm target = new ActNorm(2, DataType.FLOAT);
    target.params().copyFrom(source.params());
    for (String name : List.of("logs", "b", "initialized")) {
      INDArray got = target.params().get(name).value();
      assertThat(got.dataType()).as(name).isEqualTo(DataType.FLOAT);
      assertThat(Numerics.maxAbsDiff(got.castTo(F64), source.params().get(name).value())).as(name)
          .isLessThan(1e-6);
    }
    assertThat(target.initialized()).isTrue();
    assertThatThrownBy(() -> new ActNorm(2, F64).params().copyFrom(ParamTable.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("missing parameter logs");
  }

  @Test
  void copyFromRefusesWeightsOfAnotherArchitectureAndCopiesNothing() {
    ActNorm target = actNorm(2, 0);
    INDArray before = target.params().get("logs").value().dup();
    // The same block and one more weight: copying would silently drop it.
    ParamTable wider = ParamTable.empty().include("", actNorm(2, 5).params());
    wider.add("scale", Nd4j.ones(F64, 1));
    assertThatThrownBy(() -> target.params().copyFrom(wider))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("unexpected parameter scale");
    assertThatThrownBy(() -> target.params().copyFrom(actNorm(3, 5).params()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parameter logs has shape [1, 3, 1, 1], expected [1, 2, 1, 1]");
    assertThat(target.params().get("logs").value()).isEqualTo(before);
  }

  @Test
  void copyFromCastsEachValueIntoPlaceExactlyAndRefusesNonFiniteOnesBeforeWritingAny() {
    // copyFrom casts straight into the target's arrays, without load's cast of the whole table:
    // the same values as castTo, bit for bit, in both directions, and the same refusals.
    ParamTable wide = ParamTable.empty(), narrow = ParamTable.empty();
    wide.add("a", Nd4j.createFromArray(0.1, -1e-30, 3.0e38, 1.0 / 3));
    wide.add("w", Nd4j.createFromArray(1.0, -1e300, 1e39));
    narrow.add("a", Nd4j.zeros(DataType.FLOAT, 4));
    narrow.add("w", Nd4j.zeros(DataType.FLOAT, 3));
    assertThatThrownBy(() -> narrow.copyFrom(wide)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parameter w has 2 value(s) beyond the range of FLOAT (largest magnitude 1.0E300), infinite as FLOAT");
    assertThat(narrow.get("a").value().sumNumber().doubleValue()).as("a, before the overflowing w").isZero();
    wide.get("w").value().assign(Nd4j.createFromArray(1.0, -(double) Float.MAX_VALUE, 0.5));
    narrow.copyFrom(wide);
    for (String name : List.of("a", "w")) {
      assertThat(narrow.get(name).value()).as(name).isEqualTo(wide.get(name).value().castTo(DataType.FLOAT));
    }
    ParamTable back = ParamTable.empty();
    back.add("a", Nd4j.zeros(F64, 4));
    back.add("w", Nd4j.zeros(F64, 3));
    back.copyFrom(narrow);
    for (String name : List.of("a", "w")) {
      assertThat(back.get(name).value()).as(name).isEqualTo(narrow.get(name).value().castTo(F64));
    }
    narrow.get("w").value().putScalar(1, Float.NaN);
    ParamTable fresh = ParamTable.empty();
    fresh.add("a", Nd4j.zeros(F64, 4));
    fresh.add("w", Nd4j.zeros(F64, 3));
    assertThatThrownBy(() -> fresh.copyFrom(narrow)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parameter w has 1 non-finite value(s) (NaN or infinite): a model with them computes NaN");
    assertThat(fresh.get("a").value().sumNumber().doubleValue()).as("a, before the NaN in w").isZero();
  }

  @Test
  void loadWritesNothingUnlessEveryEntryFits() {
    ParamTable table = ParamTable.empty();
    table.add("a", Nd4j.zeros(F64, 2));
    table.addBuffer("b", Nd4j.zeros(F64, 3));
    java.util.Map<String, INDArray> state = new java.util.LinkedHashMap<>();
    state.put("a", Nd4j.ones(F64, 2));
    state.put("b", Nd4j.ones(F64, 4));
    assertThatThrownBy(() -> table.load(state))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("parameter b has shape [4], expected [3]");
    assertThat(table.get("a").value().sumNumber().doubleValue()).as("a, before the misshapen b").isZero();
    state.put("b", Nd4j.ones(F64, 3));
    table.load(state);
    assertThat(table.get("a").value().sumNumber().doubleValue()).isEqualTo(2);
    assertThat(table.get("b").value().sumNumber().doubleValue()).isEqualTo(3);
  }

  @Test
  void loadRefusesValuesThatAreNotFiniteInTheEntrysTypeAndWritesNothing() {
    ParamTable table = ParamTable.empty();
    table.add("a", Nd4j.zeros(DataType.FLOAT, 2));
    table.add("w", Nd4j.zeros(DataType.FLOAT, 3));
    java.util.Map<String, INDArray> state = new java.util.LinkedHashMap<>();
    state.put("a", Nd4j.ones(F64, 2));
    // Finite in float64, infinite in float32 (whose largest value is 3.4e38).
    state.put("w", Nd4j.createFromArray(1.0, -1e300, 1e39));
    assertThatThrownBy(() -> table.load(state)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parameter w has 2 value(s) beyond the range of FLOAT (largest magnitude 1.0E300), infinite as FLOAT");
    state.put("w", Nd4j.createFromArray(1.0, Double.NaN, 2.0));
    assertThatThrownBy(() -> table.load(state)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parameter w has 1 non-finite value(s) (NaN or infinite): a model with them computes NaN");
    assertThat(table.get("a").value().sumNumber().doubleValue()).as("a, before the bad w").isZero();
    // The largest float32 itself still loads.
    state.put("w", Nd4j.createFromArray(1.0, -(double) Float.MAX_VALUE, 0.0));
    table.load(state);
    assertThat(table.get("w").value().getDouble(1)).isEqualTo(-(double) Float.MAX_VALUE);
  }
}
