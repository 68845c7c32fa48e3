package org.irevnet.nn;

import java.lang.ref.Reference;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The elements of a dense row-major float32 or float64 array, read and written from Java in place
 * through its direct buffer, in float64 arithmetic.
 *
 * <p>Why: the elementwise parts of a layer (a coupling's sigmoid, scale, shift and log-det, an
 * ActNorm) took a dozen libnd4j ops each, every one a JNI call and a pass over memory of
 * 15-90 us on fi-revnet-s's 32-64 K element arrays. One Java loop over the elements does all of
 * it in one pass. float32 arrays are computed in float64 and rounded once when stored.
 *
 * <p>The buffer does not keep the array, which owns the memory, reachable: a caller keeps its own
 * reference until its loops end ({@link #fence}).
 */
public abstract sealed class Elements permits Elements.F32, Elements.F64 {
  private Elements() {}

  /**
   * A view of every element of {@code a}.
   *
   * @throws IllegalArgumentException unless {@code a} is dense row-major, float32 or float64,
   *     with fewer than 2^31 bytes from its buffer's start
   */
  public static Elements of(INDArray a) {
    if (!Tensors.isDenseC(a)) throw new IllegalArgumentException("not a dense row-major array: " + a.shapeInfoToString());
    DataType dt = a.dataType();
    if (dt != DataType.FLOAT && dt != DataType.DOUBLE) {
      throw new IllegalArgumentException("float32 or float64 expected, got " + dt);
    }
    long width = dt.width(), start = a.offset() * width, end = start + a.length() * width;
    if (end > Integer.MAX_VALUE) throw new IllegalArgumentException("array beyond 2 GB: " + a.length() + " elements");
    var bytes = new BytePointer(a.data().pointer()).position(0).capacity(end).limit(end).asByteBuffer()
        .position((int) start).slice().order(ByteOrder.nativeOrder());
    return dt == DataType.FLOAT ? new F32(bytes.asFloatBuffer()) : new F64(bytes.asDoubleBuffer());
  }

  /** Keeps {@code arrays} reachable to here: call after the loops over their elements. */
  public static void fence(INDArray... arrays) {
    Reference.reachabilityFence(arrays);
  }

  private static final int SLOTS = 4;
  private static final ThreadLocal<double[][]> SCRATCH = ThreadLocal.withInitial(() -> new double[SLOTS][]);
  private static final ThreadLocal<float[]> NARROW = ThreadLocal.withInitial(() -> new float[0]);

  /**
   * This thread's Java array number {@code slot} (0 to 3) of at least {@code len} elements, reused
   * from call to call: a loop copies a run of elements into it, computes on the Java array, and
   * copies the result back, because reading a direct buffer element by element took twice as long.
   */
  public static double[] scratch(int slot, int len) {
    double[][] s = SCRATCH.get();
    if (s[slot] == null || s[slot].length < len) s[slot] = new double[len];
    return s[slot];
  }

  private static float[] narrow(int len) {
    float[] f = NARROW.get();
    if (f.length < len) NARROW.set(f = new float[len]);
    return f;
  }

  /** Element {@code i}. */
  public abstract double get(int i);

  /** Sets element {@code i} (rounded to float32 in a float32 array). */
  public abstract void set(int i, double v);

  /** Elements {@code [from, from + len)} into {@code dst[0, len)}; returns {@code dst}. */
  public abstract double[] get(int from, int len, double[] dst);

  /** {@code src[0, len)} into elements {@code [to, to + len)}. */
  public abstract void put(int to, double[] src, int len);

  /**
   * Copies {@code len} elements from {@code src} (of the same data type) at {@code from} to this
   * view at {@code to}.
   */
  public abstract void copy(Elements src, int from, int to, int len);

  static final class F32 extends Elements {
    private final FloatBuffer b;

    F32(FloatBuffer b) {
      this.b = b;
    }

    @Override
    public double get(int i) {
      return b.get(i);
    }

    @Override
    public void set(int i, double v) {
      b.put(i, (float) v);
    }

    @Override
    public double[] get(int from, int len, double[] dst) {
      float[] f = narrow(len);
      b.get(from, f, 0, len);
      for (int k = 0; k < len; k++) dst[k] = f[k];
      return dst;
    }

    @Override
    public void put(int to, double[] src, int len) {
      float[] f = narrow(len);
      for (int k = 0; k < len; k++) f[k] = (float) src[k];
      b.put(to, f, 0, len);
    }

    @Override
    public void copy(Elements src, int from, int to, int len) {
      b.put(to, ((F32) src).b, from, len);
    }
  }

  static final class F64 extends Elements {
    private final DoubleBuffer b;

    F64(DoubleBuffer b) {
      this.b = b;
    }

    @Override
    public double get(int i) {
      return b.get(i);
    }

    @Override
    public void set(int i, double v) {
      b.put(i, v);
    }

    @Override
    public double[] get(int from, int len, double[] dst) {
      b.get(from, dst, 0, len);
      return dst;
    }

    @Override
    public void put(int to, double[] src, int len) {
      b.put(to, src, 0, len);
    }

    @Override
    public void copy(Elements src, int from, int to, int len) {
      b.put(to, ((F64) src).b, from, len);
    }
  }
}
