package org.irevnet.data;

import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Pixel buffers: size limits checked before allocating, bytes to [0,1] floats, INDArray copies. */
final class Pixels {
  private Pixels() {}

  /** Largest Java array; also the most elements a loaded dataset may have. */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  /** Largest image side accepted from a file header. */
  static final int MAX_SIDE = 16384;

  /**
   * Checks that {@code n} images of {@code c x h x w} bytes fit in a Java array and in the heap
   * (1 byte per raw pixel plus 4 per float), before anything that size is allocated.
   */
  static void checkFits(Path file, long n, long c, long h, long w) {
    long total = n * c * h * w; // each factor < 2^32 and h, w <= MAX_SIDE: no overflow for c <= 4
    checkFits(file, total, String.format("%d images of %dx%dx%d", n, c, h, w), " (" + total + " pixels)");
  }

  /** {@link #checkFits} for {@code n} labels of a label file (1 byte each, then an int). */
  static void checkLabelsFit(Path file, long n) {
    checkFits(file, n, n + " labels", "");
  }

  private static void checkFits(Path file, long total, String what, String count) {
    if (total > MAX_ELEMENTS) {
      throw new DataFormatException(file, String.format(
          "%s%s are more than a loaded dataset may hold (%d)", what, count, MAX_ELEMENTS));
    }
    long need = total * 5;
    long max = Runtime.getRuntime().maxMemory();
    if (need > max) {
      throw new DataFormatException(file, String.format(
          "%s need about %d MiB of heap to load, the JVM may use at most %d MiB (raise -Xmx)", what, need >> 20,
          max >> 20));
    }
  }

  static void checkSide(Path file, String what, long side) {
    if (side < 1 || side > MAX_SIDE) {
      throw new DataFormatException(file, "implausible " + what + " " + side
          + " in the header (expected 1.." + MAX_SIDE + ")");
    }
  }

  /** Unsigned bytes, already in NCHW order, as a float32 [n, c, h, w] array scaled by 1/255. */
  static INDArray toImages(byte[] bytes, int n, int c, int h, int w) {
    float[] f = new float[bytes.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (bytes[i] & 0xFF) / 255f;
    }
    return Nd4j.create(f, new long[] {n, c, h, w}, DataType.FLOAT);
  }

  /** The elements of {@code x} in C order, as a new float array. */
  static float[] floats(INDArray x) {
    INDArray c = x;
    if (x.isView() || x.ordering() != 'c' || x.data().length() != x.length()
        || x.dataType() != DataType.FLOAT) {
      c = x.castTo(DataType.FLOAT).dup('c');
    }
    return c.data().asFloat();
  }
}
