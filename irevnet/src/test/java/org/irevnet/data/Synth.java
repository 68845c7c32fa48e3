package org.irevnet.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Small synthetic dataset files for the tests. */
final class Synth {
  private Synth() {}

  /** Pixel k of image i: a value that differs between images and positions. */
  static int pixel(int i, int k) {
    return (i * 37 + k * 11 + 3) & 0xFF;
  }

  static byte[] idxImages(int n, int rows, int cols) throws IOException {
    return idxImagesHeader(IdxFiles.IMAGES_MAGIC, n, rows, cols, n * rows * cols);
  }

  /** An IDX3 header with the given fields followed by {@code payload} bytes of pixel data. */
  static byte[] idxImagesHeader(int magic, long n, int rows, int cols, int payload)
      throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bos);
    out.writeInt(magic);
    out.writeInt((int) n);
    out.writeInt(rows);
    out.writeInt(cols);
    int per = rows * cols;
    for (int b = 0; b < payload; b++) {
      out.write(pixel(b / per, b % per));
    }
    return bos.toByteArray();
  }

  static byte[] idxLabels(int... labels) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bos);
    out.writeInt(IdxFiles.LABELS_MAGIC);
    out.writeInt(labels.length);
    for (int y : labels) {
      out.write(y);
    }
    return bos.toByteArray();
  }

  static Path write(Path file, byte[] bytes, boolean gzip) throws IOException {
    Files.createDirectories(file.getParent());
    if (!gzip) {
      return Files.write(file, bytes);
    }
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(bytes);
    }
    return file;
  }

  /** A complete IDX directory: n train and m test images of rows x cols, labels i % classes. */
  static Path idxDir(Path dir, int n, int m, int rows, int cols, int classes, boolean gzip)
      throws IOException {
    String gz = gzip ? ".gz" : "";
    write(dir.resolve("train-images-idx3-ubyte" + gz), idxImages(n, rows, cols), gzip);
    write(dir.resolve("train-labels-idx1-ubyte" + gz), idxLabels(cyclic(n, classes)), gzip);
    write(dir.resolve("t10k-images-idx3-ubyte" + gz), idxImages(m, rows, cols), gzip);
    write(dir.resolve("t10k-labels-idx1-ubyte" + gz), idxLabels(cyclic(m, classes)), gzip);
    return dir;
  }

  static int[] cyclic(int n, int classes) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % classes;
    }
    return y;
  }

  /** CIFAR-10 records: label labels[i], pixel bytes pixel(i + offset, k). */
  static byte[] cifar(int offset, int... labels) {
    byte[] out = new byte[labels.length * Cifar10Files.RECORD];
    for (int i = 0; i < labels.length; i++) {
      int base = i * Cifar10Files.RECORD;
      out[base] = (byte) labels[i];
      for (int k = 0; k < Cifar10Files.PIXELS; k++) {
        out[base + 1 + k] = (byte) pixel(i + offset, k);
      }
    }
    return out;
  }
}
