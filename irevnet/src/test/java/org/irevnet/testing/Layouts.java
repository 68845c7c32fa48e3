package org.irevnet.testing;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory layouts a caller of the Java API can hand over for an NCHW array: each holds the
 * values of a dense row-major {@code x} in another arrangement of its buffer. An entry point must
 * give on each exactly what it gives on the dense copy ({@code of(x).dup('c')}), and leave it as it
 * was: code that reads or writes a buffer as if it were dense is silently wrong on all but {@code
 * DENSE}.
 */
public enum Layouts {
  /** The reference: dense, row-major, at offset 0. */
  DENSE(x -> x),
  /** Rows 1.. of a larger batch: dense strides, a non-zero offset into the buffer. */
  OFFSET(x -> within(x, 1, 0, 0, 0).get(interval(1, x.size(0) + 1))),
  /** Every other sample of a batch twice as large. */
  EVERY_OTHER_SAMPLE(x -> {
    long n = x.size(0);
    INDArray big = Nd4j.rand(x.dataType(), 2 * n, x.size(1), x.size(2), x.size(3));
    INDArray view = big.get(interval(0, 2, 2 * n));
    return view.assign(x);
  }),
  /** Channels 1..c of a tensor with two more. */
  CHANNEL_RANGE(x -> within(x, 0, 1, 0, 0).get(all(), interval(1, x.size(1) + 1))),
  /** The centre of images one pixel larger on every side. */
  SPATIAL_CROP(x -> within(x, 0, 0, 1, 1)
      .get(all(), all(), interval(1, x.size(2) + 1), interval(1, x.size(3) + 1))),
  /** Column-major ({@code x.dup('f')}). */
  FORTRAN(x -> x.dup('f')),
  /** Channels-last memory seen through a permutation: NCHW shape, NHWC strides. */
  PERMUTED(x -> x.permute(0, 2, 3, 1).dup('c').permute(0, 3, 1, 2)),
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
   * {@code x} inside a larger random array with the given margin on both sides of each axis; the
   * caller takes the view back out.
   */
  private static INDArray within(INDArray x, long batch, long channels, long rows, long cols) {
    long[] s = x.shape();
    INDArray big = Nd4j.rand(x.dataType(), s[0] + 2 * batch, s[1] + 2 * channels, s[2] + 2 * rows, s[3] + 2 * cols);
    big.get(interval(batch, batch + s[0]), interval(channels, channels + s[1]), interval(rows, rows + s[2]),
        interval(cols, cols + s[3])).assign(x);
    return big;
  }
}
