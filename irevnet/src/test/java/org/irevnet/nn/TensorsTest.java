package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Channel slices, channel concatenation and the per-sample broadcast against entry-by-entry
 * computations, on fresh arrays, views into larger buffers, strided views, and inside a workspace.
 */
class TensorsTest {
  /** How the input array is made: each reaches a different path or buffer offset. */
  enum Source { FRESH, BATCH_VIEW, OFFSET_VIEW, STRIDED, IN_WORKSPACE }

  @Property(tries = 150)
  void channelsCopiesExactlyTheChannelsAsked(@ForAll @IntRange(min = 1, max = 5) int n,
      @ForAll @IntRange(min = 1, max = 7) int c, @ForAll @IntRange(min = 1, max = 4) int h,
      @ForAll @IntRange(min = 1, max = 3) int w, @ForAll @IntRange(min = 0, max = 7) int a,
      @ForAll @IntRange(min = 0, max = 7) int b, @ForAll boolean dbl, @ForAll Source source) {
    long from = Math.min(a, b) % c, to = Math.min(Math.max(Math.max(a, b), from + 1), c);
    DataType dt = dbl ? DataType.DOUBLE : DataType.FLOAT;
    long f = from, t = to;
    withSource(source, dt, new long[] {n, c, h, w}, x -> {
      INDArray got = Tensors.channels(x, f, t);
      assertThat(got.shape()).isEqualTo(new long[] {n, t - f, h, w});
      assertThat(got.dataType()).isEqualTo(dt);
      for (int i = 0; i < n; i++) for (long k = f; k < t; k++) for (int y = 0; y < h; y++) for (int z = 0; z < w; z++) {
        assertThat(got.getDouble(i, k - f, y, z)).isEqualTo(x.getDouble(i, k, y, z));
      }
    });
  }

  @Property(tries = 150)
  void concatChannelsPutsTheSecondAfterTheFirst(@ForAll @IntRange(min = 1, max = 5) int n,
      @ForAll @IntRange(min = 1, max = 5) int ca, @ForAll @IntRange(min = 1, max = 5) int cb,
      @ForAll @IntRange(min = 1, max = 4) int h, @ForAll @IntRange(min = 1, max = 3) int w,
      @ForAll boolean dbl, @ForAll Source sourceA, @ForAll Source sourceB) {
    DataType dt = dbl ? DataType.DOUBLE : DataType.FLOAT;
    withSource(sourceA, dt, new long[] {n, ca, h, w}, a -> withSource(sourceB, dt, new long[] {n, cb, h, w}, b -> {
      INDArray got = Tensors.concatChannels(a, b);
      assertThat(got.shape()).isEqualTo(new long[] {n, ca + cb, h, w});
      for (int i = 0; i < n; i++) for (int k = 0; k < ca + cb; k++) for (int y = 0; y < h; y++) for (int z = 0; z < w; z++) {
        double expected = k < ca ? a.getDouble(i, k, y, z) : b.getDouble(i, k - ca, y, z);
        assertThat(got.getDouble(i, k, y, z)).isEqualTo(expected);
      }
    }));
  }

  @Property(tries = 200)
  void perChannelAppliesEachChannelsValue(@ForAll @IntRange(min = 1, max = 4) int n,
      @ForAll @IntRange(min = 1, max = 20) int c, @ForAll @IntRange(min = 1, max = 5) int h,
      @ForAll @IntRange(min = 1, max = 5) int w, @ForAll Tensors.ChannelOp op, @ForAll boolean inPlace,
      @ForAll boolean vectorAsRow, @ForAll Source source) {
    // c against h*w decides which libnd4j op runs; both sides of it are drawn.
    withSource(source, DataType.DOUBLE, new long[] {n, c, h, w}, x -> {
      INDArray v = Nd4j.rand(DataType.DOUBLE, c).addi(0.5);
      INDArray before = x.dup('c');
      INDArray got = Tensors.perChannel(x, op, vectorAsRow ? v : v.reshape(1, c, 1, 1), inPlace);
      assertThat(got.shape()).isEqualTo(x.shape());
      if (inPlace) assertThat(got).isSameAs(x);
      else assertThat(x).as("the input is left alone").isEqualTo(before);
      for (int i = 0; i < n; i++) for (int k = 0; k < c; k++) for (int y = 0; y < h; y++) for (int z = 0; z < w; z++) {
        double a = before.getDouble(i, k, y, z), b = v.getDouble(k);
        double expected = switch (op) {
          case ADD -> a + b;
          case SUB -> a - b;
          case MUL -> a * b;
          case DIV -> a / b;
        };
        assertThat(got.getDouble(i, k, y, z)).isEqualTo(expected);
      }
    });
  }

  @Test
  void theBulkCopyPathIsTakenForDenseArraysAndViewsIntoThem() {
    INDArray big = Nd4j.rand(DataType.FLOAT, 6, 4, 2, 2);
    INDArray view = big.get(NDArrayIndex.interval(2, 5));
    assertThat(Tensors.isDenseC(big)).isTrue();
    assertThat(Tensors.isDenseC(view)).as("a batch range is one run of its base's buffer").isTrue();
    assertThat(Tensors.isDenseC(big.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2)))).isFalse();
    INDArray out = Nd4j.zeros(DataType.FLOAT, 3, 2, 2, 2);
    assertThat(Tensors.copyBlocks(view, 4, 16, out, 0, 8, 8, 3)).isTrue();
    assertThat(out).isEqualTo(view.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3)).dup('c'));
    assertThat(Tensors.copyBlocks(view, 0, 16, Nd4j.zeros(DataType.DOUBLE, 3, 2, 2, 2), 0, 8, 8, 3))
        .as("different data types are left to libnd4j").isFalse();
  }

  /** Makes an array of {@code shape} with random entries the way {@code source} says, and runs {@code body} on it. */
  private static void withSource(Source source, DataType dt, long[] shape, java.util.function.Consumer<INDArray> body) {
    long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
    switch (source) {
      case FRESH -> body.accept(Nd4j.rand(dt, shape));
      case BATCH_VIEW -> body.accept(Nd4j.rand(dt, n + 3, c, h, w).get(NDArrayIndex.interval(2, 2 + n)));
      // Any offset into a larger buffer, not only whole samples (get() cannot make every such
      // view: on a view, an interval of one sample returns an empty array in ND4J 1.0.0-M2.1).
      case OFFSET_VIEW -> body.accept(Nd4j.create(Nd4j.rand(dt, 1, n * c * h * w + 7).data(), shape,
          Nd4j.getStrides(shape, 'c'), 7, 'c'));
      case STRIDED -> body.accept(Nd4j.rand(dt, n, c + 2, h, w).get(NDArrayIndex.all(), NDArrayIndex.interval(1, 1 + c)));
      case IN_WORKSPACE -> {
        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(1 << 20).build();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "tensors-test")) {
          Nd4j.rand(dt, 3, 5);   // so the array does not start at the workspace's first byte
          body.accept(Nd4j.rand(dt, shape));
        }
      }
    }
  }

  @Test
  void perSampleOverDividesEachSamplesFactorByItsEntries() {
    INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4, 2, 5).addi(0.5);
    INDArray v = Nd4j.createFromArray(2.0, -0.5, 3.0);
    INDArray before = x.dup();
    assertThat(Tensors.perSampleOver(v, x).equalsWithEps(expected(v, x), 0)).isTrue();
    assertThat(x).as("the input is left alone").isEqualTo(before);
  }

  @Test
  void perSampleOverIsRightOnAStridedView() {
    INDArray base = Nd4j.rand(DataType.DOUBLE, 2, 6, 3, 3).addi(0.5);
    INDArray view = base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4));
    INDArray v = Nd4j.createFromArray(-1.0, 4.0);
    INDArray got = Tensors.perSampleOver(v, view);
    assertThat(got.shape()).isEqualTo(view.shape());
    assertThat(got.equalsWithEps(expected(v, view), 0)).isTrue();
  }

  private static INDArray expected(INDArray v, INDArray x) {
    INDArray e = x.dup('c');
    for (int i = 0; i < x.size(0); i++) e.slice(i).rdivi(v.getDouble(i));
    return e;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void rowsAndBatchesOfAnyLayoutAreThoseOfTheDenseCopy(org.irevnet.testing.Layouts layout) {
    // ND4J's x.get(interval(5, 6)) of a view of rows 1..7 is empty; a batch loop lost its last batch.
    INDArray x = layout.of(Nd4j.rand(DataType.FLOAT, 6, 3, 2, 2));
    INDArray dense = x.dup('c');
    for (int from = 0; from < 6; from++) {
      for (int to = from + 1; to <= 6; to++) {
        assertThat(Tensors.rows(x, from, to).dup('c')).as("rows [" + from + ", " + to + ")")
            .isEqualTo(dense.get(NDArrayIndex.interval(from, to)));
      }
    }
    assertThat(Tensors.batched(b -> b.mul(2), x, 4)).isEqualTo(dense.mul(2));
    assertThatThrownBy(() -> Tensors.rows(x, 2, 7)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[2, 7)");
    // An empty range is a caller's mistake (no batch loop asks for one), refused as a range past the end is.
    assertThatThrownBy(() -> Tensors.rows(x, 3, 3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[3, 3)");
  }

  /** How the refusals of another type name one: float32 and float64 by their widths, ND4J's name in lower case otherwise. */
  @Test
  void typesAreNamedAsTheReadmeNamesThem() {
    assertThat(Tensors.typeName(DataType.FLOAT)).isEqualTo("float32");
    assertThat(Tensors.typeName(DataType.DOUBLE)).isEqualTo("float64");
    assertThat(Tensors.typeName(DataType.HALF)).isEqualTo("half");
    assertThat(Tensors.typeName(DataType.INT)).isEqualTo("int");
  }

  /** What the README tells a Java caller, and why {@link Tensors#rows} exists: pinned, so an ND4J that mends it shows. */
  @Test
  void nd4jsIntervalOfAViewReachingTowardsItsEndIsEmpty() {
    INDArray batch = Nd4j.rand(DataType.FLOAT, 8, 3, 2, 2);
    INDArray view = batch.get(NDArrayIndex.interval(1, 7));
    assertThat(view.get(NDArrayIndex.interval(5, 6)).length()).as("ND4J's rows 5..6 of rows 1..7").isZero();
    assertThat(Tensors.rows(view, 5, 6).dup('c')).isEqualTo(batch.get(NDArrayIndex.interval(6, 7)));
  }

  @Property(tries = 30)
  void batchedStacksWhatTheFunctionGivesForEachBatch(@ForAll @IntRange(min = 1, max = 9) int n,
      @ForAll @IntRange(min = 1, max = 10) int batch) {
    INDArray x = Nd4j.rand(DataType.DOUBLE, n, 3, 2);
    java.util.List<Long> sizes = new java.util.ArrayList<>();
    // A function whose output has another shape and depends on its whole batch only row by row.
    INDArray y = Tensors.batched(b -> {
      sizes.add(b.size(0));
      return b.sum(2).mul(2);
    }, x, batch);
    assertThat(y.shape()).containsExactly(n, 3);
    assertThat(y.equalsWithEps(x.sum(2).mul(2), 1e-15)).isTrue();
    assertThat(sizes).hasSize((n + batch - 1) / batch).allMatch(k -> k <= batch);
    assertThat(sizes.stream().mapToLong(Long::longValue).sum()).isEqualTo(n);
  }

  /**
   * Each batch's copy and the function's result are freed once stacked, not left to the collector:
   * the stack is all a call keeps (4,000 x 256 float32, 4.1 MB), where it kept three times that.
   * A function may give back its input or a view of it (a permuted view is closeable, and closing
   * it closes the input too): the stack is still right.
   */
  @Test
  void batchedKeepsOnlyTheStack() throws InterruptedException {
    assumeTrue(org.irevnet.nn.NativeHeap.usage() != null, "no glibc mallinfo2");
    INDArray x = Nd4j.rand(DataType.FLOAT, 4000, 256);
    Tensors.batched(b -> b.mul(2), x, 500);
    List<Long> kept = KeptBytes.of(5, run -> Tensors.batched(b -> b.mul(2), x, 500));
    assertThat(KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept).isLessThan(6L << 20);
    INDArray cube = Nd4j.rand(DataType.FLOAT, 7, 3, 2);
    assertThat(Tensors.batched(b -> b, cube, 3)).isEqualTo(cube);
    assertThat(Tensors.batched(b -> b.permute(0, 2, 1), cube, 3)).isEqualTo(cube.permute(0, 2, 1).dup('c'));
    assertThat(Tensors.batched(b -> b.get(NDArrayIndex.all(), NDArrayIndex.point(1)), cube, 3))
        .isEqualTo(cube.get(NDArrayIndex.all(), NDArrayIndex.point(1)).dup('c'));
  }

  @Test
  void freeAllClosesEachArrayOnceAndPassesOverNullsAndRepeats() {
    INDArray a = Nd4j.ones(DataType.FLOAT, 3), b = Nd4j.ones(DataType.DOUBLE, 2, 2), c = Nd4j.ones(DataType.FLOAT, 4);
    Tensors.freeAll(a, null, b, a);
    assertThat(a.wasClosed()).isTrue();
    assertThat(b.wasClosed()).isTrue();
    assertThat(c.wasClosed()).isFalse();
    INDArray d = Nd4j.ones(DataType.FLOAT, 5);
    Tensors.freeAll(Arrays.asList(c, null, d, c));
    assertThat(c.wasClosed()).isTrue();
    assertThat(d.wasClosed()).isTrue();
  }

  @Test
  void freeLeavesTheSourceAndWhatIsNotCloseable() {
    INDArray source = Nd4j.ones(DataType.FLOAT, 3), same = source.castTo(DataType.FLOAT);
    Tensors.free(same, source);
    assertThat(source.wasClosed()).isFalse();
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(
        WorkspaceConfiguration.builder().initialSize(1 << 16).build(), "tensors-free-test")) {
      INDArray attached = Nd4j.ones(DataType.FLOAT, 3);
      assertThat(attached.closeable()).isFalse();
      Tensors.free(attached, null);
      assertThat(attached.wasClosed()).isFalse();
    }
  }

  @Test
  void batchedRefusesABatchBelowOneAndNoRows() {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 2, 3);
    assertThatThrownBy(() -> Tensors.batched(b -> b, x, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batch must be at least 1, got 0");
    assertThatThrownBy(() -> Tensors.batched(b -> b, Nd4j.zeros(DataType.DOUBLE, 0, 3), 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("no rows to apply the function to, got shape [0, 3]");
  }

  @Test
  void anEmptyOrOutOfRangeChannelRangeIsRefused() {
    INDArray x = Nd4j.zeros(DataType.FLOAT, 1, 3, 1, 1);
    assertThatThrownBy(() -> Tensors.channels(x, 2, 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("channels [2, 2) of an NCHW tensor, got shape [1, 3, 1, 1]");
    assertThatThrownBy(() -> Tensors.channels(x, -1, 2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Tensors.channels(x, 1, 4)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Tensors.channels(x, 0, 3).shape()).containsExactly(1, 3, 1, 1);
  }

  @Test
  void concatChannelsLeavesWhatIsNotTwoMatchingNchwTensorsToLibnd4j() {
    // Rank 3: libnd4j concatenates along axis 1 as well.
    INDArray a3 = Nd4j.rand(DataType.DOUBLE, 2, 1, 3), b3 = Nd4j.rand(DataType.DOUBLE, 2, 2, 3);
    INDArray got = Tensors.concatChannels(a3, b3);
    assertThat(got.shape()).containsExactly(2, 3, 3);
    for (int i = 0; i < 2; i++) for (int k = 0; k < 3; k++) for (int y = 0; y < 3; y++) {
      assertThat(got.getDouble(i, k, y)).isEqualTo(k < 1 ? a3.getDouble(i, k, y) : b3.getDouble(i, k - 1, y));
    }
    // One argument of rank 4 and one not: still libnd4j's refusal, not an index error of the shape check.
    INDArray r4 = Nd4j.rand(DataType.DOUBLE, 2, 1, 3, 1);
    assertThatThrownBy(() -> Tensors.concatChannels(r4, b3)).isInstanceOf(RuntimeException.class)
        .isNotInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Tensors.concatChannels(b3, r4)).isInstanceOf(RuntimeException.class)
        .isNotInstanceOf(IndexOutOfBoundsException.class);
    INDArray a = Nd4j.rand(DataType.DOUBLE, 3, 2, 2, 2);
    for (long[] other : new long[][] {{2, 2, 2, 2}, {3, 2, 1, 2}, {3, 2, 2, 1}}) {
      assertThatThrownBy(() -> Tensors.concatChannels(a, Nd4j.rand(DataType.DOUBLE, other)))
          .as("[3, 2, 2, 2] and %s", Tensors.shape(other)).isInstanceOf(RuntimeException.class);
    }
  }

  @Test
  void copyingNothingSucceeds() {
    INDArray src = Nd4j.rand(DataType.FLOAT, 2, 3), dst = Nd4j.zeros(DataType.FLOAT, 2, 3);
    assertThat(Tensors.copyBlocks(src, 0, 3, dst, 0, 3, 0, 2)).isTrue();
    assertThat(Tensors.copyBlocks(src, 0, 3, dst, 0, 3, 3, 0)).isTrue();
    assertThat(dst.sumNumber().doubleValue()).isZero();
  }

  @Test
  void oneHotPutsAOneAtEachLabel() {
    INDArray y = Tensors.oneHot(new int[] {2, 0, 1, 2}, 3, DataType.DOUBLE);
    assertThat(y.dataType()).isEqualTo(DataType.DOUBLE);
    assertThat(y.shape()).containsExactly(4, 3);
    assertThat(Tensors.doubles(y)).containsExactly(0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1);
    assertThat(Tensors.oneHot(new int[] {1}, 2, DataType.FLOAT).dataType()).isEqualTo(DataType.FLOAT);
    assertThatThrownBy(() -> Tensors.oneHot(new int[] {0, 3}, 3, DataType.FLOAT))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("label 3 outside [0, 3)");
    assertThatThrownBy(() -> Tensors.oneHot(new int[] {-1}, 3, DataType.FLOAT))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("label -1 outside [0, 3)");
    assertThat(Tensors.oneHot(new int[0], 3, DataType.FLOAT).shape()).containsExactly(0, 3);
  }

  @Test
  void oneHotRefusesNoClassesAndRowsBeyondAJavaArray() {
    assertThatThrownBy(() -> Tensors.oneHot(new int[] {0}, -1, DataType.FLOAT))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("classes must be at least 1, got -1");
    // 3 x 2^30 entries: the int product wrapped to a negative size.
    assertThatThrownBy(() -> Tensors.oneHot(new int[3], 1 << 30, DataType.FLOAT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("one-hot rows of 3 labels x 1073741824 classes are more entries than a Java array holds");
  }

  @Test
  void sumPerSampleAddsEverythingButTheBatchAxis() {
    INDArray x = Nd4j.createFromArray(1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12).reshape(2, 3, 2);
    assertThat(Tensors.doubles(Tensors.sumPerSample(x))).containsExactly(21, 57);
  }

  @Test
  void perSampleHelpersGiveEmptyResultsForAnEmptyBatch() {
    INDArray none = Nd4j.zeros(DataType.FLOAT, 0, 3, 2, 2);
    INDArray sums = Tensors.sumPerSample(none);
    assertThat(sums.shape()).containsExactly(0);
    assertThat(sums.dataType()).isEqualTo(DataType.FLOAT);
    INDArray quotients = Tensors.perSampleOver(Nd4j.zeros(DataType.FLOAT, 0), none);
    assertThat(quotients.shape()).containsExactly(0, 3, 2, 2);
    assertThat(quotients.dataType()).isEqualTo(DataType.FLOAT);
    // Samples without entries: each sum is 0, and there is nothing to divide.
    INDArray hollow = Nd4j.zeros(DataType.DOUBLE, 2, 0, 3, 3);
    assertThat(Tensors.doubles(Tensors.sumPerSample(hollow))).containsExactly(0, 0);
    assertThat(Tensors.perSampleOver(Nd4j.createFromArray(1.0, 2.0), hollow).shape()).containsExactly(2, 0, 3, 3);
  }

  @Test
  void rowSliceIsAViewOfTheEntriesAsked() {
    INDArray row = Nd4j.createFromArray(0.0, 1, 2, 3, 4, 5).reshape(1, 6);
    INDArray slice = Tensors.rowSlice(row, 2, 3);
    assertThat(Tensors.doubles(slice)).containsExactly(2, 3, 4);
    slice.assign(-1);
    assertThat(Tensors.doubles(row)).containsExactly(0, 1, -1, -1, -1, 5);
  }

  @Test
  void nativeBytesAreTheElementsOfTheViewInMachineOrder() {
    INDArray base = Nd4j.createFromArray(1.0, 2, 3, 4, 5, 6).reshape(3, 2);
    INDArray view = base.get(NDArrayIndex.interval(1, 3));
    ByteBuffer read = Tensors.nativeBytes(view).order(ByteOrder.nativeOrder());
    assertThat(read.isReadOnly()).isTrue();
    assertThat(read.remaining()).isEqualTo(4 * 8);
    double[] seen = new double[4];
    for (int i = 0; i < 4; i++) seen[i] = read.getDouble(8 * i);
    assertThat(seen).containsExactly(3, 4, 5, 6);
    ByteBuffer write = Tensors.writableNativeBytes(view).order(ByteOrder.nativeOrder());
    assertThat(write.isReadOnly()).isFalse();
    write.putDouble(8, -4);
    assertThat(Tensors.doubles(base)).containsExactly(1, 2, 3, -4, 5, 6);
    assertThatThrownBy(() -> Tensors.nativeBytes(base.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 1))))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("not a dense row-major array");
  }

  @Test
  void requireRank4NamesTheBlockAndTheShape() {
    Tensors.requireRank4("ActNorm", new long[] {1, 2, 3, 4});
    assertThatThrownBy(() -> Tensors.requireRank4("ActNorm", new long[] {2, 3}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ActNorm expects an NCHW input [batch, c, h, w], got [2, 3]");
  }

  /**
   * The largest |entry|, largest and smallest entry against a loop over the values: NaN wherever one
   * is, also past the first entry, where ND4J's own reductions pass over it (a reconstruction error
   * with a NaN read as the largest finite error); infinities of either sign count as they are.
   */
  @Property(tries = 200)
  void maxAbsMaxAndMinAreNaNWhereAnyEntryIs(@ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll @IntRange(min = 0, max = 39) int at, @ForAll @IntRange(min = 0, max = 3) int special,
      @ForAll boolean dbl, @ForAll long seed) {
    DataType dt = dbl ? DataType.DOUBLE : DataType.FLOAT;
    double[] v = new java.util.Random(seed).doubles(n, -3, 3).toArray();
    v[at % n] = new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, v[at % n]}[special];
    INDArray x = Nd4j.createFromArray(v).castTo(dt).reshape(1, n);
    double maxAbs = 0, max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
    for (double d : x.toDoubleVector()) {
      if (Double.isNaN(d)) maxAbs = max = min = Double.NaN;
      if (Double.isNaN(max)) continue;
      maxAbs = Math.max(maxAbs, Math.abs(d));
      max = Math.max(max, d);
      min = Math.min(min, d);
    }
    assertThat(Double.valueOf(Tensors.maxAbs(x))).isEqualTo(Double.valueOf(maxAbs));   // NaN equals NaN here
    assertThat(Double.valueOf(Tensors.max(x))).isEqualTo(Double.valueOf(max));   // NaN equals NaN here
    assertThat(Double.valueOf(Tensors.min(x))).isEqualTo(Double.valueOf(min));   // NaN equals NaN here
  }

  /**
   * No check or recorded number takes ND4J's own max or min (NaN-blind: {@link
   * #nd4jsOwnReductionsPassOverNaN}) but
   * through {@link Tensors#maxAbs}, {@link Tensors#max} or {@link Tensors#min}: a line that means
   * to says "NaN-blind on purpose" on it or in the three lines before it.
   */
  @Test
  void nd4jsNaNBlindReductionsAreUsedOnlyOnPurpose() throws java.io.IOException {
    java.util.regex.Pattern reduction = java.util.regex.Pattern.compile("\\.(amaxNumber|maxNumber|minNumber)\\(\\)");
    java.util.List<String> found = new java.util.ArrayList<>();
    for (String module : new String[] {"irevnet", "analysis", "attacks", "reports", "cli"}) {
      try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("..", module, "src"))) {
        for (java.nio.file.Path f : files.filter(p -> p.toString().endsWith(".java")
            && !p.endsWith(java.nio.file.Path.of("org/irevnet/nn/Tensors.java"))).toList()) {
          java.util.List<String> lines = java.nio.file.Files.readAllLines(f);
          for (int i = 0; i < lines.size(); i++) {
            if (!reduction.matcher(lines.get(i)).find()) continue;
            boolean said = false;
            for (int j = Math.max(0, i - 3); j <= i; j++) said |= lines.get(j).contains("NaN-blind on purpose");
            if (!said) found.add(f + ":" + (i + 1));
          }
        }
      }
    }
    assertThat(found).isEmpty();
  }

  /**
   * What ND4J 1.0.0-M2.1's own reductions do with a NaN, as {@link Tensors#maxAbs} and
   * docs/testing.md say: {@code amaxNumber} passes over it unless it is the first entry, {@code
   * maxNumber} and {@code minNumber} wherever it is. Should an ND4J upgrade change this, those
   * sentences change with it (Tensors does not depend on it: it counts the NaNs itself).
   */
  @Test
  void nd4jsOwnReductionsPassOverNaN() {
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      INDArray first = Nd4j.createFromArray(Double.NaN, -2.0, 1.0).castTo(dt);
      INDArray third = Nd4j.createFromArray(1.0, -2.0, Double.NaN, 0.5).castTo(dt);
      assertThat(first.amaxNumber().doubleValue()).as("%s", dt).isNaN();   // NaN-blind on purpose: its blindness
      assertThat(third.amaxNumber().doubleValue()).as("%s", dt).isEqualTo(2.0);   // NaN-blind on purpose
      assertThat(first.maxNumber().doubleValue()).as("%s", dt).isEqualTo(1.0);   // NaN-blind on purpose
      assertThat(third.maxNumber().doubleValue()).as("%s", dt).isEqualTo(1.0);   // NaN-blind on purpose
      assertThat(first.minNumber().doubleValue()).as("%s", dt).isEqualTo(-2.0);   // NaN-blind on purpose
      assertThat(third.minNumber().doubleValue()).as("%s", dt).isEqualTo(-2.0);   // NaN-blind on purpose
    }
  }

  /**
   * {@link Tensors#product} gives mmul's bits in each of the four transpositions, at a shape where
   * gemm into a row-major array rounds otherwise ({@code [300, 1014] x [1014, 507]}) and at a small
   * one, the sums against a float64 loop; and it leaves nothing to the collector, where mmul leaves
   * its column-major product (the size of the result; this test's own measure of what mmul keeps
   * shows that the bytes read would see it).
   */
  @Test
  void productIsMmulsBitsWithoutTheArrayMmulLeaves() throws InterruptedException {
    for (long[] s : new long[][] {{300, 1014, 507}, {7, 5, 3}, {1, 6000, 1}, {1, 64, 3}, {6000, 1024, 1}, {6000, 1, 1}}) {
      int n = (int) s[0], k = (int) s[1], m = (int) s[2];
      INDArray a = Init.normal(DataType.DOUBLE, new Random(n), n, k);
      INDArray b = Init.normal(DataType.DOUBLE, new Random(m), k, m);
      double[][] av = a.toDoubleMatrix(), bv = b.toDoubleMatrix(), loop = new double[n][m];
      for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int l = 0; l < k; l++) loop[i][j] += av[i][l] * bv[l][j];
      INDArray aT = a.transpose().dup('c'), bT = b.transpose().dup('c');
      List<INDArray> products = List.of(Tensors.product(a, b, false, false), Tensors.product(aT, b, true, false),
          Tensors.product(a, bT, false, true), Tensors.product(aT, bT, true, true));
      List<INDArray> mmuls = List.of(a.mmul(b), aT.transpose().mmul(b), a.mmul(bT.transpose()),
          aT.transpose().mmul(bT.transpose()));
      for (int t = 0; t < 4; t++) {
        INDArray p = products.get(t);
        assertThat(p.shape()).as("%s, transposition %d", Arrays.toString(s), t).containsExactly(n, m);
        assertThat(p.ordering()).isEqualTo('c');
        assertThat(p.toDoubleMatrix()).as("%s, transposition %d", Arrays.toString(s), t)
            .isDeepEqualTo(mmuls.get(t).toDoubleMatrix());
        double[][] got = p.toDoubleMatrix();
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) {
          assertThat(got[i][j]).isCloseTo(loop[i][j], within(1e-11 * Math.sqrt(k)));
        }
      }
    }
    // A 1 x 1 result, the one-component PCA probe's covariance: gemm rounded it otherwise than mmul.
    INDArray column = Init.normal(DataType.DOUBLE, new Random(3), 4800, 1);
    assertThat(Tensors.product(column, column, true, false).toDoubleMatrix())
        .isDeepEqualTo(column.transpose().mmul(column).toDoubleMatrix());
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    INDArray a = Init.normal(DataType.DOUBLE, new Random(1), 2000, 512);
    INDArray b = Init.normal(DataType.DOUBLE, new Random(2), 512, 256);
    long result = 2000L * 256 * 8;
    List<Long> byMmul = KeptBytes.of(5, run -> {
      Tensors.free(a.mmul(b), null);
      return null;
    });
    List<Long> byProduct = KeptBytes.of(5, run -> {
      Tensors.free(Tensors.product(a, b, false, false), null);
      return null;
    });
    assertThat(KeptBytes.middle(byMmul)).as("bytes each mmul kept: %s", byMmul)
        .isGreaterThan(result * 3 / 4);
    assertThat(KeptBytes.middle(byProduct)).as("bytes each product kept: %s", byProduct)
        .isLessThan(result / 8);
  }

  /**
   * {@link Tensors#doubles} reads through a row-major float64 copy (and a float64 cast of a float32
   * array) and frees both: they were left to the collector, the size of what was read (Triangular
   * reads each diagonal block it inverts so, outside any workspace).
   */
  @Test
  void doublesKeepsNoCopyOfWhatItRead() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    // Large enough that a copy left (2-8 MB a read) stands well above what the JIT's compiler
    // arenas add while the first runs are compiled: 0.46-0.62 MB a run in the fresh-clone CI at
    // 686751b0, 0.08-0.33 MB in two of four runs at 9e378680 after five reads to warm up, against
    // the old bound of 32 KB on a quarter of these arrays.
    INDArray base = Init.normal(DataType.DOUBLE, new Random(4), 1024, 1024);
    for (INDArray x : List.of(base, base.castTo(DataType.FLOAT), base.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 256)))) {
      double[] expected = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
      List<Long> kept = KeptBytes.of(5, 5, run -> {
        assertThat(Tensors.doubles(x)).isEqualTo(expected);
        return null;
      });
      assertThat(KeptBytes.middle(kept)).as("%s %s: bytes each read kept: %s", x.dataType(), x.ordering(), kept)
          .isLessThan(1L << 20);
    }
  }

  /**
   * A row or column result comes from mmul itself, which returns it column-major when both factors
   * are transposed views: {@link Tensors#product} copies it row-major and frees it. Without that
   * free a 200,000-entry column kept its 1.6 MB each call (about 2 KB with it; 2026-12-07). Only
   * the transposed pair: for the others mmul's vector is row-major already and returned as it is,
   * and mmul then keeps a copy of the result's size of its own, whichever way it is called.
   */
  @Test
  void aRowOrColumnOfTwoTransposedFactorsIsFreedOnceCopiedRowMajor() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int n = 200_000, k = 8;
    INDArray aT = Init.normal(DataType.DOUBLE, new Random(1), k, n), bT = Init.normal(DataType.DOUBLE, new Random(2), 1, k);
    long result = n * 8L;
    // The column aT^T bT^T (n x 1), and the row (bT^T)^T (aT^T)^T (1 x n) of the same two.
    INDArray a = aT.transpose().dup('c'), b = bT.transpose().dup('c');
    assertThat(aT.transpose().mmul(bT.transpose()).ordering()).as("mmul's column of two transposed views").isEqualTo('f');
    List<Long> column = KeptBytes.of(5, run -> {
      INDArray p = Tensors.product(aT, bT, true, true);
      assertThat(p.ordering()).isEqualTo('c');
      Tensors.free(p, null);
      return null;
    });
    List<Long> row = KeptBytes.of(5, run -> {
      INDArray p = Tensors.product(b, a, true, true);
      assertThat(p.shape()).containsExactly(1, n);
      Tensors.free(p, null);
      return null;
    });
    assertThat(KeptBytes.middle(column)).as("bytes each column product kept: %s", column).isLessThan(result / 8);
    assertThat(KeptBytes.middle(row)).as("bytes each row product kept: %s", row).isLessThan(result / 8);
  }
}
