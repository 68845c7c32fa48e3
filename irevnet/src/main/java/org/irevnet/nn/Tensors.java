package org.irevnet.nn;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BroadcastOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/** Small tensor helpers shared by the layers (NCHW layout throughout). */
public final class Tensors {
  private Tensors() {}

  /**
   * Channels {@code [from, to)} of an NCHW tensor as a new contiguous array. Custom ops on strided
   * views can silently return wrong data in ND4J 1.0.0-M2.1, so slices are always copied.
   *
   * <p>The copy is one bulk copy per sample between the arrays' direct buffers ({@link
   * #copyBlocks}): libnd4j's strided copy ({@code get(...).dup()}) took 3-12x as long at
   * fi-revnet-s's shapes (two halves of {@code [64, 1024, 1, 1]}: 290-340 against 27 us), about a
   * fifth of a stage-5 forward pass.
   */
  public static INDArray channels(INDArray x, long from, long to) {
    long[] s = x.shape();
    if (s.length != 4 || from < 0 || to > s[1] || from >= to) {
      throw new IllegalArgumentException("channels [" + from + ", " + to + ") of an NCHW tensor, got shape "
          + shape(s));
    }
    long hw = s[2] * s[3];
    INDArray out = Nd4j.createUninitialized(x.dataType(), s[0], to - from, s[2], s[3]);
    if (copyBlocks(dense(x), from * hw, s[1] * hw, out, 0, (to - from) * hw, (to - from) * hw, s[0])) return out;
    return x.get(all(), interval(from, to), all(), all()).dup('c');   // beyond 2 GB
  }

  /**
   * Copies {@code count} blocks of {@code len} elements from {@code src} (block {@code i} at element
   * {@code srcStart + i * srcStride}) to {@code dst} (at {@code dstStart + i * dstStride}), both
   * dense row-major arrays of one data type, as Java bulk copies between their direct buffers: no
   * libnd4j op, and no per-element index arithmetic. Returns false, copying nothing, where that
   * cannot be done (two data types, or offsets beyond 2 GB), for the caller's libnd4j fallback.
   */
  static boolean copyBlocks(INDArray src, long srcStart, long srcStride, INDArray dst, long dstStart,
      long dstStride, long len, long count) {
    if (len == 0 || count == 0) return true;
    int width = src.dataType().width();
    long srcEnd = (src.offset() + srcStart + (count - 1) * srcStride + len) * width;
    long dstEnd = (dst.offset() + dstStart + (count - 1) * dstStride + len) * width;
    if (dst.dataType() != src.dataType() || Math.max(srcEnd, dstEnd) > Integer.MAX_VALUE) return false;
    ByteBuffer in = bytes(src, srcEnd), out = bytes(dst, dstEnd);
    int bytes = (int) (len * width);
    for (long i = 0; i < count; i++) {
      out.put((int) ((dst.offset() + dstStart + i * dstStride) * width), in,
          (int) ((src.offset() + srcStart + i * srcStride) * width), bytes);
    }
    // The byte buffers do not keep the arrays, which own the memory, reachable.
    Reference.reachabilityFence(src);
    Reference.reachabilityFence(dst);
    return true;
  }

  /**
   * The first {@code length} bytes of the buffer under {@code a}, from the buffer's start (a view's
   * {@code offset()} counts from there). Not {@code data().asNio()}: for the pointer classes of
   * workspace memory JavaCPP looks up the element size in a weak map on every call, which took
   * about 3% of a stage-5 forward pass.
   */
  private static ByteBuffer bytes(INDArray a, long length) {
    return new BytePointer(a.data().pointer()).position(0).capacity(length).limit(length).asByteBuffer();
  }

  /**
   * The raw bytes of a dense row-major {@code x} (its elements in the machine's byte order) as a
   * read-only view of its native memory, without copying; null beyond 2 GB. The buffer does not
   * keep {@code x} reachable: the caller must, for as long as it reads.
   */
  public static ByteBuffer nativeBytes(INDArray x) {
    ByteBuffer b = writableNativeBytes(x);
    return b == null ? null : b.asReadOnlyBuffer();
  }

  /** {@link #nativeBytes}, writable: what is put into it lands in {@code x}. */
  public static ByteBuffer writableNativeBytes(INDArray x) {
    if (!isDenseC(x)) throw new IllegalArgumentException("not a dense row-major array");
    long width = x.dataType().width();
    long start = x.offset() * width, end = start + x.length() * width;
    if (end > Integer.MAX_VALUE) return null;
    return bytes(x, end).position((int) start).slice();
  }

  /** {@code x} itself if {@link #isDenseC}, else a dense copy. */
  public static INDArray dense(INDArray x) {
    return isDenseC(x) ? x : x.dup('c');
  }

  /** Row-major with the default strides: its elements are one run of its buffer, in order. */
  static boolean isDenseC(INDArray x) {
    return x.ordering() == 'c' && Arrays.equals(x.stride(), Nd4j.getStrides(x.shape(), 'c'));
  }

  /**
   * Rows {@code [from, to)} of {@code x} (along its first axis) as a view, not a copy. Not {@code
   * x.get(interval(from, to))}: in ND4J 1.0.0-M2.1 that is an empty array when {@code x} is itself
   * a view (an offset, or a stride along the first axis) and the range reaches far enough towards
   * its end (rows 5..6 of rows 1..7 of a batch; the second half of every other sample), so a batch
   * loop over a caller's view lost its last batches.
   */
  public static INDArray rows(INDArray x, long from, long to) {
    if (from < 0 || to > x.size(0) || from >= to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") of an array of shape " + shape(x.shape()));
    }
    long[] s = x.shape().clone();
    s[0] = to - from;
    return Nd4j.create(x.data(), s, x.stride(), x.offset() + from * x.stride(0), x.ordering());
  }

  /**
   * Entries {@code [from, from + len)} of a {@code [1, n]} row as a view, not a copy: the flat
   * parameter, gradient and optimiser-state buffers are written through such views.
   */
  public static INDArray rowSlice(INDArray row, long from, long len) {
    return row.get(interval(0, 1), interval(from, from + len));
  }

  /**
   * The entries of {@code x} in row-major order as a new float64 Java array. The copy matters: a
   * view's {@code data()} is its whole backing buffer, not the view.
   */
  public static double[] doubles(INDArray x) {
    INDArray cast = x.castTo(DataType.DOUBLE), copy = cast.dup('c');
    double[] out = copy.data().asDouble();
    // Freed now, not by the collector: Triangular reads each diagonal block it inverts so, and the
    // native copies (32 KiB a 64 x 64 float64 block) outlived Factor.free, 512 KiB per rebuild of
    // a 512-channel Invertible1x1Conv's two solves.
    free(copy, cast);
    free(cast, x);
    return out;
  }

  /**
   * The sum of all entries of {@code x}, accumulated in float64 whatever its type: ND4J sums a
   * float32 array in float32, which loses the fourth decimal of a batch's log-density (250 x 1024
   * terms) and stops counting at 2^24.
   */
  public static double sum64(INDArray x) {
    INDArray wide = x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
    double sum = wide.sumNumber().doubleValue();
    free(wide, x); // twice a float32 array's size, once a model step in iCE's prior
    return sum;
  }

  /**
   * The largest |entry| of {@code x}, NaN when any entry is NaN. ND4J's {@code amaxNumber} passes
   * over a NaN unless it is the first entry ({@code maxNumber} and {@code minNumber} wherever it
   * is), so a reconstruction or logit error with a NaN in it read as the largest finite error and
   * passed its check.
   */
  public static double maxAbs(INDArray x) {
    return withNaN(x, x.amaxNumber().doubleValue());
  }

  /** The largest entry of {@code x}, NaN when any entry is NaN (see {@link #maxAbs}). */
  public static double max(INDArray x) {
    return withNaN(x, x.maxNumber().doubleValue());
  }

  /** The smallest entry of {@code x}, NaN when any entry is NaN (see {@link #maxAbs}). */
  public static double min(INDArray x) {
    return withNaN(x, x.minNumber().doubleValue());
  }

  /** {@code reduced}, or NaN where {@code x} holds a NaN. */
  private static double withNaN(INDArray x, double reduced) {
    return Double.isNaN(reduced) || x.isEmpty() || count(x, Conditions.isNan()) == 0 ? reduced : Double.NaN;
  }

  /**
   * How many entries of {@code x} are NaN or infinite, in one reduction (zero for an empty array,
   * where ND4J's {@code sumNumber} throws). Other types than float32 and float64 are widened first:
   * 1.0.0-M2.1's match op counts no NaN in float16.
   */
  public static long nonFinite(INDArray x) {
    return count(x, Conditions.notFinite());
  }

  private static long count(INDArray x, org.nd4j.linalg.indexing.conditions.Condition c) {
    DataType dt = x.dataType();
    INDArray v = dt == DataType.FLOAT || dt == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
    return Nd4j.getExecutioner().exec(new MatchCondition(v, c)).getLong(0);
  }

  /**
   * Concatenates two NCHW tensors along the channel axis into a new contiguous array, by bulk
   * copies per sample as {@link #channels} (libnd4j's {@code concat} is the fallback).
   */
  public static INDArray concatChannels(INDArray a, INDArray b) {
    long[] sa = a.shape(), sb = b.shape();
    if (sa.length != 4 || sb.length != 4 || sa[0] != sb[0] || sa[2] != sb[2] || sa[3] != sb[3]
        || a.dataType() != b.dataType()) {
      return Nd4j.concat(1, a, b);   // libnd4j's message for what does not fit
    }
    long hw = sa[2] * sa[3], c = sa[1] + sb[1];
    INDArray out = Nd4j.createUninitialized(a.dataType(), sa[0], c, sa[2], sa[3]);
    boolean copied = copyBlocks(dense(a), 0, sa[1] * hw, out, 0, c * hw, sa[1] * hw, sa[0])
        && copyBlocks(dense(b), 0, sb[1] * hw, out, sa[1] * hw, c * hw, sb[1] * hw, sa[0]);
    return copied ? out : Nd4j.concat(1, a, b);   // beyond 2 GB
  }

  /** An elementwise operation with a per-channel operand ({@link #perChannel}). */
  public enum ChannelOp { ADD, SUB, MUL, DIV }

  /**
   * {@code x op v} with {@code v} one value per channel ({@code [1, c, 1, 1]} or {@code [c]}) of
   * the NCHW tensor {@code x}; into {@code x} itself if {@code inPlace}, else into a new array.
   *
   * <p>Why two ways: libnd4j's legacy broadcast along axis 1 walks the {@code n*h*w} channel
   * vectors, its automatic broadcast ({@code x.mul(v)}) the {@code n*c} planes, and each is slow
   * where its runs are short. Measured on fi-revnet-s's shapes at batch 64 (ActNorm's multiply
   * and add): 105 against 420 us at {@code 1024x1x1}, 68 against 152 at {@code 256x2x2}, 73
   * against 98 at {@code 64x4x4}, but 93 against 85 at {@code 16x8x8} and 139 against 60 at {@code
   * 4x16x16}. So channel vectors at least as long as the planes take the legacy op. Both compute
   * the same products and sums, so the results are identical.
   */
  public static INDArray perChannel(INDArray x, ChannelOp op, INDArray v, boolean inPlace) {
    long c = x.size(1), hw = x.size(2) * x.size(3);
    INDArray z = inPlace ? x : x.ulike();
    if (c >= hw) {
      INDArray vec = v.reshape(c);
      BroadcastOp broadcast = switch (op) {
        case ADD -> new BroadcastAddOp(x, vec, z, 1);
        case SUB -> new BroadcastSubOp(x, vec, z, 1);
        case MUL -> new BroadcastMulOp(x, vec, z, 1);
        case DIV -> new BroadcastDivOp(x, vec, z, 1);
      };
      Nd4j.getExecutioner().exec(broadcast);
      // The executioner hands libnd4j only native handles of the op's arrays: the temporary view
      // and the op's own dimension array. Without the fence a collection inside exec could free
      // them first (training crashed in libnd4j's execBroadcast when perChannel was compiled).
      Reference.reachabilityFence(broadcast);
      return z;
    }
    INDArray v4 = v.reshape(1, c, 1, 1);
    return switch (op) {
      case ADD -> x.add(v4, z);
      case SUB -> x.sub(v4, z);
      case MUL -> x.mul(v4, z);
      case DIV -> x.div(v4, z);
    };
  }

  /** Per-sample sum over every axis but the first: {@code [batch, ...] -> [batch]}. */
  public static INDArray sumPerSample(INDArray x) {
    long n = x.size(0);
    // The reshape below divides by n: an empty batch threw ArithmeticException.
    if (n == 0) return Nd4j.create(x.dataType(), 0);
    return x.reshape('c', n, x.length() / n).sum(1);
  }

  /**
   * {@code v[i] / x[i, ...]} for every entry of sample {@code i} ({@code v} of shape {@code
   * [batch]}), as a new array, in one broadcast op.
   */
  public static INDArray perSampleOver(INDArray v, INDArray x) {
    long n = x.size(0);
    // No entries to divide (no samples, or samples of none): libnd4j refuses a broadcast on them.
    if (x.isEmpty()) return Nd4j.create(x.dataType(), x.shape());
    INDArray rows = x.reshape('c', n, x.length() / n).dup('c');
    return rows.rdiviColumnVector(v.reshape(n, 1)).reshape('c', x.shape());
  }

  /**
   * One-hot rows {@code [n, classes]} for integer labels.
   *
   * @throws IllegalArgumentException for fewer than one class, more entries than a Java array
   *     holds, or a label outside {@code [0, classes)}
   */
  public static INDArray oneHot(int[] labels, int classes, org.nd4j.linalg.api.buffer.DataType dt) {
    // Below one class, or past 2^31 entries (the int product wrapped), the array size was
    // negative (NegativeArraySizeException) or silently too small.
    org.irevnet.settings.Ranges.atLeast("classes", classes, 1);
    long entries = (long) labels.length * classes;
    if (entries > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("one-hot rows of " + labels.length + " labels x " + classes
          + " classes are more entries than a Java array holds");
    }
    float[] v = new float[(int) entries];
    for (int k = 0; k < labels.length; k++) {
      if (labels[k] < 0 || labels[k] >= classes) {
        throw new IllegalArgumentException("label " + labels[k] + " outside [0, " + classes + ")");
      }
      v[k * classes + labels[k]] = 1f;
    }
    INDArray y = Nd4j.create(v, new long[] {labels.length, classes}, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    return dt == org.nd4j.linalg.api.buffer.DataType.FLOAT ? y : y.castTo(dt);
  }

  /** {@code float32}, {@code float64}, or ND4J's name of another type: how messages name a data type. */
  public static String typeName(DataType dt) {
    return dt == DataType.DOUBLE ? "float64" : dt == DataType.FLOAT ? "float32" : dt.toString().toLowerCase(java.util.Locale.ROOT);
  }

  public static String shape(long[] s) {
    return Arrays.toString(s);
  }

  /** Checks an NCHW shape; the message names the block, the expected and the actual shape. */
  public static void requireRank4(String block, long[] s) {
    if (s.length != 4) {
      throw new IllegalArgumentException(block + " expects an NCHW input [batch, c, h, w], got "
          + shape(s));
    }
  }

  /**
   * {@code f} applied to {@code batch} rows of {@code x} at a time, the results stacked: whatever
   * {@code f} holds (activations, workspaces) is held for one batch, not for every row. Each
   * batch's copy and {@code f}'s result are freed once stacked, not left to the collector, so
   * {@code f} must keep neither its input nor its result, and its result must be its caller's own:
   * a new array, its input, or a view of its input.
   */
  public static INDArray batched(UnaryOperator<INDArray> f, INDArray x, int batch) {
    // A batch below 1 never advanced (the loop ran forever), and no rows gave no output shape.
    org.irevnet.settings.Ranges.atLeast("batch", batch, 1);
    long n = x.size(0);
    if (n == 0) throw new IllegalArgumentException("no rows to apply the function to, got shape " + shape(x.shape()));
    INDArray out = null;
    for (long from = 0; from < n; from += batch) {
      long to = Math.min(n, from + batch);
      INDArray rows = rows(x, from, to).dup('c');
      INDArray y = f.apply(rows);
      if (out == null) {
        long[] shape = y.shape().clone();
        shape[0] = n;
        out = Nd4j.create(y.dataType(), shape);
      }
      out.get(interval(from, to)).assign(y);
      free(y, rows); // a transposed or permuted rows is closeable and closing it closes rows, which is then not
      free(rows, null);
    }
    return out;
  }

  /**
   * Rows {@code index[0], index[1], ...} of the matrix {@code m}, a new row-major array, by libnd4j's
   * pullRows. Not ND4J's {@code getRows}, which copies through a view per row: slow (15 ms for 1024
   * rows of 64, 40% of an {@code Invertible1x1Conv} forward call; seven penalty choices over 20,000 x
   * 8 took 7.8 s with it, 2.1 s without) and each view's native shape information (about 700 bytes a
   * row) left to the collector.
   */
  public static INDArray gatherRows(INDArray m, int[] index) {
    return Nd4j.pullRows(m, 1, index, 'c');
  }

  /**
   * The matrix product {@code a b} ({@code a} transposed first when {@code transposeA}, {@code b}
   * when {@code transposeB}), the same bits as {@code a.mmul(b)} (of {@code a.transpose()}, {@code
   * b.transpose()}), in a new row-major array. mmul multiplies into a column-major array and returns
   * a row-major copy of it, and leaves the first to the collector: the PCA curve's projections and
   * covariance left 2-3 times their own size that way. Not {@code Nd4j.gemm(a, b, transposeA,
   * transposeB)}, which leaves nothing either: multiplied into a row-major array it rounds
   * differently at some shapes ({@code [300, 1014] x [1014, 507]}), and the probes' accuracies are
   * to stay the bits they were.
   */
  public static INDArray product(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
    long rows = transposeA ? a.size(1) : a.size(0), columns = transposeB ? b.size(0) : b.size(1);
    // A row or a column: mmul itself (its result column-major, so copied), which leaves an array the
    // size of the result to the collector (1.6 MB for a 200,000-entry column; audit CB), not of its
    // factors. For a 1 x 1 result mmul rounds otherwise than gemm: a 4,800 x 1 covariance, the
    // one-component PCA probe's, moved the quickstart's accuracy of that probe from 0.306 to 0.311.
    if (rows == 1 || columns == 1) {
      INDArray vector = (transposeA ? a.transpose() : a).mmul(transposeB ? b.transpose() : b);
      if (vector.ordering() == 'c') return vector;
      INDArray out = vector.dup('c');
      free(vector, null);
      return out;
    }
    INDArray columnMajor = Nd4j.create(a.dataType(), new long[] {rows, columns}, 'f');
    Nd4j.gemm(a, b, columnMajor, transposeA, transposeB, 1.0, 0.0);
    INDArray out = columnMajor.dup('c');
    free(columnMajor, null);
    return out;
  }

  /**
   * Frees the native memory of {@code made}, an array the caller made and no longer needs, now
   * rather than when the collector finds its Java wrapper: a long analysis's large temporaries
   * otherwise add up first (probe --layers reached 1.8 GB on 6,000 images). Nothing happens when
   * {@code made} is {@code source} (a cast to the type an array already has returns it) or not
   * closeable. Never pass a view: ND4J calls a transposed view closeable.
   */
  public static void free(INDArray made, INDArray source) {
    if (made != null && made != source && made.closeable()) made.close();
  }

  /**
   * {@link #free} of each array, none of them an input to keep: the arrays a pass made, once read.
   * Nulls and arrays named twice are passed over (a closed array is no longer closeable).
   */
  public static void freeAll(INDArray... made) {
    for (INDArray a : made) free(a, null);
  }

  /** {@link #freeAll(INDArray...)} of a collection's arrays. */
  public static void freeAll(Iterable<INDArray> made) {
    for (INDArray a : made) free(a, null);
  }
}
