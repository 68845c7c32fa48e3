package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Map;
import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Adam updating block by block inside the backward pass against one step over all parameters. */
class GroupedAdamTest {
  static final Architecture FI = DensityTest.FI;
  static final Architecture IREVNET_WITH_HEAD = DensityTest.IREVNET;

  /** Three CE steps (with weight decay) of a model trained one way or the other. */
  static Map<String, INDArray> train(Architecture arch, boolean grouped, Map<String, INDArray> optimizerOut) {
    InvertibleClassifier m = InvertibleClassifier.build(arch, DataType.DOUBLE, 3);
    Random r = new Random(5);
    INDArray x = org.irevnet.nn.Init.uniform(DataType.DOUBLE, r, 1.0, 6, 1, 8, 8);
    int[] y = r.ints(6, 0, 10).toArray();
    m.initialize(x);
    AdamOptimizer adam = grouped ? AdamOptimizer.grouped(m.params(), m.parameterGroups(), 1e-2)
        : new AdamOptimizer(m.params(), 1e-2);
    if (grouped) m.setGradientListener(adam::stepGroup);
    adam.setWeightDecay(0.1);
    for (int s = 0; s < 3; s++) {
      InvertibleClassifier.Forward f = m.forward(x, true);
      m.backward(f, Losses.softmaxCrossEntropy(f.logits(), y).grad(), null, null);
      if (grouped) adam.endStep(); else adam.step();
    }
    optimizerOut.putAll(adam.state());
    return m.params().state();
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet", "irevnet with readout head"})
  void givesTheSameParametersAndStateBitForBit(String which) {
    Architecture arch = which.startsWith("fi") ? FI : IREVNET_WITH_HEAD;
    Map<String, INDArray> optPlain = new java.util.HashMap<>(), optGrouped = new java.util.HashMap<>();
    Map<String, INDArray> plain = train(arch, false, optPlain);
    Map<String, INDArray> grouped = train(arch, true, optGrouped);
    assertThat(grouped.keySet()).isEqualTo(plain.keySet());
    for (String k : plain.keySet()) assertThat(grouped.get(k)).as(k).isEqualTo(plain.get(k));
    assertThat(optGrouped.get("adam.moments")).isEqualTo(optPlain.get("adam.moments"));
    assertThat(optGrouped.get("adam.iteration")).isEqualTo(optPlain.get("adam.iteration"));
    // Something moved: the comparison is not between two untouched models.
    InvertibleClassifier fresh = InvertibleClassifier.build(arch, DataType.DOUBLE, 3);
    assertThat(fresh.params().state().entrySet().stream()
        .anyMatch(e -> !e.getValue().equals(plain.get(e.getKey())))).isTrue();
  }

  @Test
  void theGradientBufferHoldsOneBlockAndMatchesDl4jsAdam() {
    InvertibleClassifier m = InvertibleClassifier.build(FI, DataType.DOUBLE, 3);
    long largest = m.parameterGroups().stream().mapToLong(ParamTable::count).max().orElseThrow();
    AdamOptimizer adam = AdamOptimizer.grouped(m.params(), m.parameterGroups(), 1e-2);
    assertThat(adam.gradients().length()).isEqualTo(largest).isLessThan(m.params().count());

    // The plain step is the same update as DL4J's AdamUpdater on the same state layout.
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.createFromArray(1.5, -2.0, 0.25));
    AdamOptimizer ours = new AdamOptimizer(t, 0.1);
    INDArray theirs = Nd4j.createFromArray(1.5, -2.0, 0.25);
    org.nd4j.linalg.learning.config.Adam cfg = new org.nd4j.linalg.learning.config.Adam(0.1);
    org.nd4j.linalg.learning.AdamUpdater dl4j = new org.nd4j.linalg.learning.AdamUpdater(cfg);
    dl4j.setStateViewArray(Nd4j.zeros(DataType.DOUBLE, 1, 6), new long[] {1, 3}, 'c', true);
    double[][] grads = {{0.3, -1, 2}, {0.5, 0.5, -3}, {-2, 1e-3, 0}};
    for (int i = 0; i < grads.length; i++) {
      a.grad().assign(Nd4j.createFromArray(grads[i]));
      ours.step();
      INDArray g = Nd4j.createFromArray(grads[i]).reshape(1, 3);
      dl4j.applyUpdater(g, i, 0);
      theirs.subi(g.reshape(3));
    }
    assertThat(a.value()).isEqualTo(theirs);
  }

  @Test
  void aNonFiniteGradientLeavesItsBlockUnchanged() {
    InvertibleClassifier m = InvertibleClassifier.build(FI, DataType.DOUBLE, 3);
    AdamOptimizer adam = AdamOptimizer.grouped(m.params(), m.parameterGroups(), 1e-2);
    ParamTable last = m.parameterGroups().get(0);
    Param p = last.entries().values().stream().filter(Param::trainable).findFirst().orElseThrow();
    INDArray before = p.value().dup();
    p.grad().assign(Double.NaN);
    assertThatThrownBy(() -> adam.stepGroup(last)).isInstanceOf(AdamOptimizer.NonFiniteGradientException.class);
    assertThat(p.value()).isEqualTo(before);
    assertThatThrownBy(() -> AdamOptimizer.grouped(m.params(), m.parameterGroups().subList(1, m.parameterGroups().size()), 1e-2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cover");
  }

  @Test
  void largeFiniteGradientsAreNotCalledNonFinite() {
    ParamTable t = ParamTable.empty();
    Param a = t.add("a", Nd4j.zeros(DataType.FLOAT, 1, 10_000));
    AdamOptimizer adam = AdamOptimizer.grouped(t, java.util.List.of(t), 1e-2);
    // Finite, but the float32 sum of their squares is not: an update (Adam's first step moves
    // every parameter by the learning rate against its gradient's sign), not an error.
    a.grad().assign(1e18);
    adam.stepGroup(t);
    adam.endStep();
    assertThat(a.value().getDouble(0, 9_999)).isCloseTo(-1e-2, offset(1e-6));
    // One NaN among them is still found, and leaves the block as it was.
    INDArray before = a.value().dup();
    a.grad().putScalar(0, 9_000, Double.NaN);
    assertThatThrownBy(() -> adam.stepGroup(t)).isInstanceOf(AdamOptimizer.NonFiniteGradientException.class);
    assertThat(a.value()).isEqualTo(before);
  }
}
