package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.irevnet.check.BlockCatalog;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** What a chain adds to its blocks: buffer reuse, partial inverses, data-dependent init, its log-det kind. */
class SequentialTest {
  private static final DataType F64 = DataType.DOUBLE;

  /** The catalogue's six-block chain on {@code [n, 1, 4, 4]}. */
  private static Sequential chain() {
    return (Sequential) BlockCatalog.get("Sequential").create(F64, 1);
  }

  @Test
  void aResultIsNotOverwrittenByTheChainsNextCall() {
    // Blocks hand each other reused buffers; the chain's own results must be fresh, or a caller
    // holding one (a training step's output, an analysis's inverse) sees it change on the next call.
    Sequential s = chain();
    INDArray x1 = Numerics.normal(F64, 1, 2, 1, 4, 4), x2 = Numerics.normal(F64, 2, 2, 1, 4, 4);
    Flow f1 = s.forward(x1);
    INDArray out1 = f1.out().dup(), logDet1 = f1.logDet().dup();
    Flow i1 = s.inverse(out1);
    INDArray back1 = i1.out().dup();
    INDArray dy = Numerics.normal(F64, 3, out1.shape()), dl = Numerics.normal(F64, 4, 2);
    Grad g1 = s.backward(out1, dy, dl);
    INDArray gx1 = g1.x().dup(), gdx1 = g1.dx().dup();
    int last = s.blocks().size() - 1;
    INDArray from1 = s.invertFrom(last, out1), fromCopy1 = from1.dup();

    Flow f2 = s.forward(x2);
    s.inverse(f2.out());
    s.backward(f2.out(), dy, dl);
    s.invertFrom(last, f2.out());
    assertThat(maxAbsDiff(from1, fromCopy1)).as("invertFrom output").isZero();
    assertThat(maxAbsDiff(f1.out(), out1)).as("forward output").isZero();
    assertThat(maxAbsDiff(f1.logDet(), logDet1)).as("forward log-det").isZero();
    assertThat(maxAbsDiff(i1.out(), back1)).as("inverse output").isZero();
    assertThat(maxAbsDiff(g1.x(), gx1)).as("rebuilt input").isZero();
    assertThat(maxAbsDiff(g1.dx(), gdx1)).as("input gradient").isZero();
    assertThat(maxAbsDiff(back1, x1)).isLessThan(1e-12);
  }

  @Test
  void theReusableBuffersStayBoundedOverManyBatchSizes() {
    // One buffer pair per role and shape, kept for every batch size ever seen, grew without bound
    // over an analysis of many sizes; the chain keeps at most scratchCapacity() and still computes.
    Sequential s = chain();
    INDArray x0 = Numerics.normal(F64, 7, 3, 1, 4, 4);
    Flow f0 = s.forward(x0);
    s.backward(f0.out(), Numerics.normal(F64, 8, f0.out().shape()), Numerics.normal(F64, 9, 3));
    int oneShape = s.scratchBuffers();
    assertThat(oneShape).as("buffers for one batch shape").isPositive();
    s.forward(x0);
    assertThat(s.scratchBuffers()).as("the same shape again reuses them").isEqualTo(oneShape);
    for (int n = 1; n <= 30; n++) {
      INDArray x = Numerics.normal(F64, 100 + n, n, 1, 4, 4);
      Flow f = s.forward(x);
      s.inverse(f.out());
      s.backward(f.out(), Numerics.normal(F64, 200 + n, f.out().shape()), Numerics.normal(F64, 300 + n, n));
      assertThat(maxAbsDiff(s.inverse(f.out()).out(), x)).as("round trip at batch " + n).isLessThan(1e-12);
      assertThat(s.scratchBuffers()).as("buffers after batch " + n).isLessThanOrEqualTo(s.scratchCapacity());
    }
    assertThat(s.scratchCapacity()).as("30 batch shapes need more than the bound").isLessThan(30 * oneShape);
  }

  @Test
  void aRepeatedBlockNameIsRefused() {
    // Parameter-free blocks add no parameter entries, so only the name check can catch the repeat.
    Sequential.Builder b = Sequential.builder(1, 2, 4, 4).add("psi", new SpaceToDepth(2));
    assertThatThrownBy(() -> b.add("psi", new SpaceToDepth(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("block 1 (SpaceToDepth): the name 'psi' is already block 0's");
    assertThat(b.add("psi1", new SpaceToDepth(2)).build().names()).containsExactly("psi", "psi1");
  }

  @Test
  void theBuilderAndTheChainReportTheirShapesAsCopies() {
    // Model builders read the running shape to size the next block; a shared array would let a
    // caller's edit change the chain's own record.
    Sequential.Builder b = Sequential.builder(1, 2, 4, 4);
    assertThat(b.size()).isZero();
    assertThat(b.shape()).containsExactly(1, 2, 4, 4);
    b.add("psi", new SpaceToDepth(2)).add("pad", new InjectivePad(3));
    assertThat(b.size()).isEqualTo(2);
    // 2 channels times 2*2 offsets, then 3 zero channels; 4x4 halved.
    assertThat(b.shape()).containsExactly(1, 11, 2, 2);
    b.shape()[1] = 99;
    assertThat(b.shape()[1]).isEqualTo(11);
    Sequential s = b.build();
    assertThat(s.inputShape()).containsExactly(1, 2, 4, 4);
    s.inputShape()[1] = 99;
    assertThat(s.inputShape()[1]).isEqualTo(2);
    assertThat(s).hasToString("Sequential[psi, pad] on [1, 2, 4, 4]");
  }

  @Test
  void anEmptyChainIsTheIdentityAndReturnsCopies() {
    Sequential s = Sequential.builder(1, 2, 3, 3).build();
    INDArray x = Numerics.normal(F64, 1, 2, 2, 3, 3);
    for (Flow f : new Flow[] {s.forward(x), s.inverse(x)}) {
      assertThat(f.out()).isEqualTo(x).isNotSameAs(x);
      assertThat(f.logDet()).isEqualTo(Nd4j.zeros(F64, 2));
    }
    Grad g = s.backward(x, x.mul(2), Nd4j.zeros(F64, 2));
    assertThat(g.x()).isEqualTo(x).isNotSameAs(x);
    assertThat(g.dx()).isEqualTo(x.mul(2));
  }

  /**
   * The ownership contract callers free by (Stability, the evaluations): every result is a new
   * array outside any workspace, also when the caller runs in one and the chain is empty.
   */
  @Test
  void everyResultIsANewArrayOutsideTheCallersWorkspace() {
    org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration conf =
        org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration.builder().initialSize(1 << 20).build();
    for (Sequential s : new Sequential[] {chain(), Sequential.builder(1, 1, 4, 4).build()}) {
      try (org.nd4j.linalg.api.memory.MemoryWorkspace ws =
          Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "sequential-ownership-test")) {
        INDArray x = Numerics.normal(F64, 1, 2, 1, 4, 4);
        assertThat(x.isAttached()).isTrue();
        Flow f = s.forward(x);
        INDArray y = f.out().dup();
        assertThat(y.isAttached()).isTrue();
        Flow i = s.inverse(y);
        Grad g = s.backward(y, y, Nd4j.zeros(F64, 2));
        List<INDArray> results = new ArrayList<>(List.of(f.out(), f.logDet(), i.out(), i.logDet(), g.x(), g.dx(),
            s.invertFrom(s.blocks().size() - 1, y), s.invertFrom(-1, x)));
        results.addAll(s.forwardWithIntermediates(x));
        for (INDArray r : results) {
          assertThat(r).isNotSameAs(x).isNotSameAs(y);
          assertThat(r.isAttached()).as("%d blocks: a result in the caller's workspace", s.blocks().size()).isFalse();
          assertThat(r.isView()).isFalse();
          assertThat(r.closeable()).isTrue();
        }
      }
    }
  }

  @Test
  void intermediatesArePrefixOutputsAndInvertFromUndoesAPrefix() {
    Sequential s = chain();
    INDArray x = Numerics.normal(F64, 5, 2, 1, 4, 4);
    List<INDArray> outs = s.forwardWithIntermediates(x);
    assertThat(outs).hasSize(s.blocks().size());
    INDArray h = x;
    for (int i = 0; i < outs.size(); i++) {
      // Each block applied on its own, not through the chain's buffers.
      h = s.blocks().get(i).apply(h);
      assertThat(maxAbsDiff(outs.get(i), h)).as("output of block " + i).isLessThan(1e-12);
      assertThat(maxAbsDiff(s.invertFrom(i, outs.get(i)), x)).as("inverted from block " + i).isLessThan(1e-10);
    }
    assertThat(s.invertFrom(-1, x)).isEqualTo(x).isNotSameAs(x);
  }

  @Test
  void blockDoneSeesEveryBlockFromLastToFirst() {
    Sequential s = chain();
    INDArray y = s.apply(Numerics.normal(F64, 6, 2, 1, 4, 4));
    List<Bijection> done = new ArrayList<>();
    s.backward(y, Nd4j.onesLike(y), Nd4j.zeros(F64, 2), done::add);
    List<Bijection> reversed = new ArrayList<>(s.blocks());
    java.util.Collections.reverse(reversed);
    assertThat(done).containsExactlyElementsOf(reversed);
  }

  @Test
  void initializeFeedsEachActNormTheOutputOfTheBlocksBeforeItAlsoInNestedChains() {
    // The inner ActNorm sees the outer one's normalised output; initialised from the chain's raw
    // input instead (or not at all), the chain's output would not be normalised.
    ActNorm outer = new ActNorm(4, F64), inner = new ActNorm(4, F64);
    Sequential nested = Sequential.of(new long[] {1, 4, 2, 2}, new ChannelReverse(), inner);
    Sequential s = Sequential.of(new long[] {1, 1, 4, 4}, new SpaceToDepth(2), outer, nested);
    INDArray x = Numerics.normal(F64, 7, 64, 1, 4, 4).muli(3).addi(2);
    s.initialize(x);
    assertThat(outer.initialized()).isTrue();
    assertThat(inner.initialized()).isTrue();
    INDArray y = s.apply(x);
    for (int c = 0; c < 4; c++) {
      INDArray yc = y.get(NDArrayIndex.all(), NDArrayIndex.point(c));
      assertThat(yc.meanNumber().doubleValue()).as("mean of channel " + c).isCloseTo(0, offset(1e-9));
    }
    // Normalised once already, the inner ActNorm starts at the identity.
    assertThat(Tensors.maxAbs(inner.logs().value())).isLessThan(1e-9);
    assertThat(Tensors.maxAbs(inner.bias().value())).isLessThan(1e-9);
    assertThat(Tensors.maxAbs(outer.bias().value())).isGreaterThan(0.1);
  }

  @Test
  void aChainIsVolumePreservingOnlyIfEveryBlockIs() {
    Random r = new Random(1);
    long[] in = {1, 1, 4, 4};
    Sequential zero = Sequential.of(in, new SpaceToDepth(2), new ChannelReverse(),
        new AdditiveCoupling(4, 3, 1, F64, r, 1.0));
    assertThat(zero.logDetKind()).isEqualTo(LogDetKind.ZERO);
    Sequential exact = Sequential.of(in, new SpaceToDepth(2), new ActNorm(4, F64), new ChannelReverse());
    assertThat(exact.logDetKind()).isEqualTo(LogDetKind.EXACT);
    Sequential injective = Sequential.of(in, new SpaceToDepth(2), new ActNorm(4, F64), new InjectivePad(1));
    assertThat(injective.logDetKind()).isEqualTo(LogDetKind.INJECTIVE);
  }

  /**
   * A representation far outside the training range overflows float32 in a block's inverse: the
   * chain names the first block (from the last down) whose inverse is not finite, how many values
   * and its input's largest magnitude, computed here in float64.
   */
  @Test
  void theFirstBlockWhoseInverseOverflowsIsNamed() {
    DataType f32 = DataType.FLOAT;
    ActNorm shrink = new ActNorm(2, f32), mild = new ActNorm(2, f32), last = new ActNorm(2, f32);
    // Block 0's inverse multiplies channel 1 by exp(80) = 5.5e34: past float32 above 6.1e3.
    shrink.logs().value().assign(Nd4j.createFromArray(0f, -80f).reshape(1, 2, 1, 1));
    mild.logs().value().assign(Nd4j.createFromArray(-1f, 0f).reshape(1, 2, 1, 1));
    last.bias().value().assign(Nd4j.createFromArray(100f, -3f).reshape(1, 2, 1, 1));
    Sequential s = Sequential.builder(1, 2, 2, 2).add("shrink", shrink).add("mild", mild).add("last", last).build();
    float[] y = {1f, -2f, 3f, 4f, 9000f, -9000f, 7000f, 1f}; // channel 0, then channel 1
    INDArray z = Nd4j.create(y, new long[] {1, 2, 2, 2}, 'c');
    // The input of block 0 in float64: (y - b_last) / exp(logs_mild); channel 1 of it is y + 3.
    double largest = 0;
    int overflow = 0;
    for (int i = 0; i < 8; i++) {
      double in = i < 4 ? (y[i] - 100) / Math.exp(-1) : y[i] + 3;
      largest = Math.max(largest, Math.abs(in));
      if (i >= 4 && Math.abs(in * Math.exp(80)) > Float.MAX_VALUE) overflow++;
    }
    assertThat(overflow).as("the inputs above chosen so").isEqualTo(3);
    assertThat(org.irevnet.nn.Tensors.nonFinite(s.invert(z))).as("overflowed silently").isEqualTo(overflow);
    assertThat(s.firstNonFiniteInverse(2, z)).isEqualTo(String.format(java.util.Locale.ROOT,
        "the inverse of block 0 (shrink, ActNorm) gave %d non-finite value(s) of 8 from an input whose largest"
            + " magnitude is %.3e", overflow, largest));
    assertThat(s.firstNonFiniteInverse(2, z.div(1e4))).as("every inverse finite").isNull();
    z.putScalar(new long[] {0, 0, 1, 1}, Float.NaN);
    assertThat(s.firstNonFiniteInverse(2, z)).isEqualTo("the representation to invert has 1 non-finite value(s) of 8");
  }
}
