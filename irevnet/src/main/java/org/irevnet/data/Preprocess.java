package org.irevnet.data;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Image preprocessing. Loaders already scale to [0, 1]; here: zero-padding to the model's input
 * size (never cropping), uniform dequantisation noise and random shifts. Everything random takes
 * an explicit seed.
 */
public final class Preprocess {
  private Preprocess() {}

  /**
   * Zero-pads every image to {@code height x width}, centred: {@code (height - h) / 2} rows on
   * top and the rest below (so an odd difference puts the extra row at the bottom), likewise left
   * and right. Returns {@code d} itself if it already has that size.
   *
   * @throws IllegalArgumentException if the images are larger than the target in either side;
   *     they are never cropped
   */
  public static Dataset padTo(Dataset d, int height, int width) {
    if (d.height() == height && d.width() == width) {
      return d;
    }
    return new Dataset(d.name(), padTo(d.images(), height, width, d.name()), d.labels(),
        d.classNames());
  }

  /** {@link #padTo(Dataset, int, int)} for an NCHW array; returns a new float32 array. */
  public static INDArray padTo(INDArray images, int height, int width) {
    return padTo(images, height, width, "images");
  }

  private static INDArray padTo(INDArray images, int height, int width, String what) {
    if (images.rank() != 4) {
      throw new IllegalArgumentException(what + ": expected [n, c, h, w], got "
          + Arrays.toString(images.shape()));
    }
    int n = (int) images.size(0);
    int c = (int) images.size(1);
    int h = (int) images.size(2);
    int w = (int) images.size(3);
    if (h > height || w > width) {
      throw new IllegalArgumentException(String.format("%s: images are %dx%d, larger than the"
          + " model input %dx%d; images are zero-padded to the input size but never cropped",
          what, h, w, height, width));
    }
    int top = (height - h) / 2;
    int left = (width - w) / 2;
    float[] src = Pixels.floats(images);
    long total = (long) n * c * height * width;
    if (total > Pixels.MAX_ELEMENTS) {
      throw new IllegalArgumentException(what + ": padded size " + total + " is too large");
    }
    float[] dst = new float[(int) total];
    for (int plane = 0; plane < n * c; plane++) {
      int s = plane * h * w;
      int t = plane * height * width + top * width + left;
      for (int r = 0; r < h; r++) {
        System.arraycopy(src, s + r * w, dst, t + r * width, w);
      }
    }
    return Nd4j.create(dst, new long[] {n, c, height, width}, DataType.FLOAT);
  }

  /**
   * Uniform dequantisation: {@code x + u / 256} with {@code u ~ U[0, 1)} drawn independently for
   * every element from {@code seed}. Returns a new float32 array; values lie in
   * {@code [0, 1 + 1/256)} for inputs in [0, 1].
   */
  public static INDArray dequantize(INDArray x, long seed) {
    float[] v = Pixels.floats(x);
    dequantizeInPlace(v, new SplittableRandom(seed));
    return Nd4j.create(v, x.shape(), DataType.FLOAT);
  }

  static void dequantizeInPlace(float[] v, SplittableRandom rng) {
    for (int i = 0; i < v.length; i++) {
      v[i] += (float) (rng.nextDouble() / 256.0);
    }
  }

  /**
   * Shifts every image by its own random offset {@code (dy, dx)}, each uniform in
   * {@code [-maxShift, maxShift]}, filling uncovered pixels with zero. Returns a new array.
   */
  public static INDArray randomShift(INDArray x, int maxShift, long seed) {
    float[] v = Pixels.floats(x);
    long[] s = x.shape();
    float[] out = randomShift(v, (int) s[0], (int) s[1], (int) s[2], (int) s[3], maxShift,
        new SplittableRandom(seed));
    return Nd4j.create(out, s, DataType.FLOAT);
  }

  static float[] randomShift(float[] v, int n, int c, int h, int w, int maxShift,
      SplittableRandom rng) {
    float[] out = new float[v.length];
    for (int k = 0; k < n; k++) {
      int dy = rng.nextInt(-maxShift, maxShift + 1);
      int dx = rng.nextInt(-maxShift, maxShift + 1);
      for (int ch = 0; ch < c; ch++) {
        int base = (k * c + ch) * h * w;
        shiftPlane(v, out, base, h, w, dy, dx);
      }
    }
    return out;
  }

  /** out[y][x] = in[y - dy][x - dx] where that exists, else 0 (out is zero on entry). */
  static void shiftPlane(float[] in, float[] out, int base, int h, int w, int dy, int dx) {
    int x0 = Math.max(0, dx);
    int x1 = Math.min(w, w + dx);
    if (x1 <= x0) {
      return;
    }
    for (int y = Math.max(0, dy); y < Math.min(h, h + dy); y++) {
      System.arraycopy(in, base + (y - dy) * w + (x0 - dx), out, base + y * w + x0, x1 - x0);
    }
  }
}
