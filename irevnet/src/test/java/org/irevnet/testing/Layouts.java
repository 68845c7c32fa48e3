package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.check.Numerics.maxAbsDiff;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;

/**
 * The memory layouts a caller of the Java API can hand over for an NCHW array, or a {@code [n, d]}
 * matrix (logits, {@code z}, features; its columns take the place of channels, and a crop or a
 * permutation acts on them): each holds the
 * values of a dense row-major {@code x} in another arrangement of its buffer. An entry point must
 * give on each exactly what it gives on the dense copy ({@code of(x).dup('c')}), and leave it as it
 * was: code that reads or writes a buffer as if it were dense is silently wrong on all but {@code
 * DENSE}.
 */
public enum Layouts {
  /** The reference: dense, row-major, at offset 0. */
  DENSE(x -> x),
  /** Rows 1.. of a larger batch: dense strides, a non-zero offset into the buffer. */
  OFFSET(x -> within(x, 1, 0, 0).get(interval(1, x.size(0) + 1))),
  /** Every other sample of a batch twice as large. */
  EVERY_OTHER_SAMPLE(x -> {
    long n = x.size(0);
    long[] s = x.shape().clone();
    s[0] = 2 * n;
    INDArray big = filler(x.dataType(), s);
    INDArray view = big.get(interval(0, 2, 2 * n));
    return view.assign(x);
  }),
  /** Channels 1..c of a tensor with two more. */
  CHANNEL_RANGE(x -> within(x, 0, 1, 0).get(all(), interval(1, x.size(1) + 1))),
  /** The centre of images one pixel larger on every side (of a matrix, columns 2..d+1 of d + 4). */
  SPATIAL_CROP(x -> x.rank() == 2 ? within(x, 0, 2, 0).get(all(), interval(2, x.size(1) + 2))
      : within(x, 0, 0, 1).get(all(), all(), interval(1, x.size(2) + 1), interval(1, x.size(3) + 1))),
  /** Column-major ({@code x.dup('f')}). */
  FORTRAN(x -> x.dup('f')),
  /** Channels-last memory seen through a permutation: NCHW shape, NHWC strides (a matrix: its transpose's). */
  PERMUTED(x -> x.rank() == 2 ? x.transpose().dup('c').transpose()
      : x.permute(0, 2, 3, 1).dup('c').permute(0, 3, 1, 2)),
  /** One sample repeated along the batch by a stride of 0 (the values are {@code x}'s first sample's). */
  BROADCAST(x -> {
    long[] s = x.shape();
    INDArray first = x.get(interval(0, 1)).dup('c');
    long[] strides = first.stride().clone();
    strides[0] = 0;
    return Nd4j.create(first.data(), s, strides, 0, 'c');
  });

  private final UnaryOperator<INDArray> make;

  Layouts(UnaryOperator<INDArray> make) {
    this.make = make;
  }

  /** An array of this layout with {@code x}'s values (for {@code BROADCAST}, its first sample's). */
  public INDArray of(INDArray x) {
    return make.apply(x);
  }

  /**
   * Asserts that {@code entry} gives on {@code given} exactly what it gives on their dense copies
   * (arrays by shape and value, other results field by field but for a {@code seconds} timing) and
   * leaves {@code given} as it was.
   */
  public static void assertSameAsOnDenseCopies(String entryName, INDArray[] given,
      Function<INDArray[], ? extends List<?>> entry) {
    assertSameAsOnDenseCopies(entryName, given, entry, entry);
  }

  /**
   * As above, with the results on the dense copies from {@code onDense}: a cache of {@code entry}'s
   * results when several layouts have the same dense copies and the entry point is slow.
   */
  public static void assertSameAsOnDenseCopies(String entryName, INDArray[] given,
      Function<INDArray[], ? extends List<?>> entry, Function<INDArray[], ? extends List<?>> onDense) {
    // The entry is given the dense copies too: the values before are kept apart, or an entry that
    // changed its input in place would change both alike and pass.
    INDArray[] before = Arrays.stream(given).map(x -> x.dup('c')).toArray(INDArray[]::new);
    INDArray[] dense = Arrays.stream(given).map(x -> x.dup('c')).toArray(INDArray[]::new);
    List<?> got = entry.apply(given);
    List<?> expected = onDense.apply(dense);
    assertThat(got).as(entryName + ": results").hasSameSizeAs(expected);
    for (int i = 0; i < got.size(); i++) {
      String what = entryName + " result " + i;
      if (got.get(i) instanceof INDArray g) {
        assertThat(expected.get(i)).as(what + ": type").isInstanceOf(INDArray.class);
        INDArray e = (INDArray) expected.get(i);
        assertThat(g.shape()).as(what + ": shape").isEqualTo(e.shape());
        assertThat(maxAbsDiff(g, e)).as(what).isEqualTo(0.0);
      } else {
        assertThat(got.get(i)).as(what).usingRecursiveComparison().ignoringFields("seconds").isEqualTo(expected.get(i));
      }
    }
    for (int i = 0; i < given.length; i++) {
      assertThat(maxAbsDiff(given[i], before[i])).as(entryName + ": input " + i + " afterwards").isEqualTo(0.0);
    }
  }

  /**
   * {@code x} inside a larger random array with the given margin on both sides of its batch, its
   * channels (a matrix's columns) and its rows and columns of pixels; the caller takes the view
   * back out.
   */
  private static INDArray within(INDArray x, long batch, long channels, long pixels) {
    long[] s = x.shape();
    long[] margins = x.rank() == 2 ? new long[] {batch, channels} : new long[] {batch, channels, pixels, pixels};
    long[] bigShape = new long[s.length];
    INDArrayIndex[] inside = new INDArrayIndex[s.length];
    for (int i = 0; i < s.length; i++) {
      bigShape[i] = s[i] + 2 * margins[i];
      inside[i] = interval(margins[i], margins[i] + s[i]);
    }
    INDArray big = filler(x.dataType(), bigShape);
    big.get(inside).assign(x);
    return big;
  }

  /** Random entries around a view (integers too: an integer array can be a view as well). */
  private static INDArray filler(DataType dt, long[] shape) {
    return dt.isFPType() ? Nd4j.rand(dt, shape) : Nd4j.rand(DataType.DOUBLE, shape).muli(1000).castTo(dt);
  }
}
