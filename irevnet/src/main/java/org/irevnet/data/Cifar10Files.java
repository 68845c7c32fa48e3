package org.irevnet.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 binary batches: {@code data_batch_1.bin} .. {@code data_batch_5.bin} (train; the
 * first k of them, read in order: a gap is refused as a partial copy) and {@code test_batch.bin}
 * (test). Each record is 1 label byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each
 * 32x32 row-major), so images are 3x32x32. Class names come from {@code batches.meta.txt} (one per
 * line) when present, else the ten standard CIFAR-10 names. File lengths and the total size are
 * checked before allocating.
 */
public final class Cifar10Files {
  private Cifar10Files() {}

  public static final int SIDE = 32;
  public static final int PIXELS = 3 * SIDE * SIDE;
  public static final int RECORD = 1 + PIXELS;

  public static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat",
      "deer", "dog", "frog", "horse", "ship", "truck");

  /**
   * The batch files of a split present in the directory, in order. A name that is there but not a
   * file (a folder, a link to nothing) is listed, so that reading it is refused naming it: it was
   * passed over, and a training split whose data_batch_2.bin link had lost its target trained on
   * data_batch_1.bin alone without a word.
   */
  public static List<Path> files(Path dir, Split split) {
    List<Path> files = new ArrayList<>();
    if (split == Split.TEST) {
      Path p = dir.resolve("test_batch.bin");
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        files.add(p);
      }
    } else {
      for (int i = 1; i <= 5; i++) {
        Path p = dir.resolve("data_batch_" + i + ".bin");
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          files.add(p);
        }
      }
    }
    return files;
  }

  public static boolean has(Path dir, Split split) {
    return !files(dir, split).isEmpty();
  }

  /** {@code batches.meta.txt} if present, else {@link #CLASSES}. */
  public static List<String> classNames(Path dir) {
    Path meta = dir.resolve("batches.meta.txt");
    return Files.isRegularFile(meta) ? IdxFiles.readClassNames(meta) : CLASSES;
  }

  public static Dataset load(Path dir, Split split, String name) {
    DataFiles.requireDirectory(dir);
    List<Path> files = files(dir, split);
    if (files.isEmpty()) {
      throw new DataFormatException(dir, "no " + (split == Split.TEST ? "test_batch.bin"
          : "data_batch_1.bin .. data_batch_5.bin") + " (CIFAR-10 " + split + " batches)");
    }
    // A gap (1 and 3 without 2) is a copy that lost a file, not a chosen subset: reading on would
    // train on a fifth less data without a word. files() lists the batches in order.
    for (int i = 1; split == Split.TRAIN && i <= files.size(); i++) {
      if (!files.get(i - 1).getFileName().toString().equals("data_batch_" + i + ".bin")) {
        throw new DataFormatException(dir, "data_batch_" + i + ".bin is missing but "
            + files.get(files.size() - 1).getFileName() + " is present (a partial copy?); CIFAR-10 training data is"
            + " data_batch_1.bin .. data_batch_5.bin");
      }
    }
    // Named from batches.meta.txt, a label past its names was "out of range for 5 classes" without
    // a word of where the 5 came from.
    String from = Files.isRegularFile(dir.resolve("batches.meta.txt")) ? "batches.meta.txt" : null;
    return read(files, classNames(dir), name, from);
  }

  /**
   * Reads the given batch files, in order, into one dataset.
   *
   * @throws IllegalArgumentException for no files or no class names
   */
  public static Dataset read(List<Path> files, List<String> classNames, String name) {
    return read(files, classNames, name, null);
  }

  /** {@link #read}, saying where the class names came from (if not the caller) when a label is beyond them. */
  private static Dataset read(List<Path> files, List<String> classNames, String name, String namedBy) {
    // No files threw IndexOutOfBoundsException at the size check; no class names blamed the first
    // file's first label as out of range.
    if (files.isEmpty()) throw new IllegalArgumentException(name + ": no CIFAR-10 batch files to read");
    if (classNames.isEmpty()) throw new IllegalArgumentException(name + ": no class names");
    long records = 0;
    for (Path f : files) {
      DataFiles.requireFile(f);
      long length = DataFiles.size(f);
      if (length == 0 || length % RECORD != 0) {
        String hint = length > 0 && length % (RECORD + 1) == 0
            ? "; CIFAR-100 batches (2 label bytes per record) are not supported" : "";
        throw new DataFormatException(f, String.format(
            "truncated or not a CIFAR-10 batch: length %d is not a positive multiple of %d"
                + " (1 label byte + %d pixel bytes)%s", length, RECORD, PIXELS, hint));
      }
      records += length / RECORD;
    }
    Pixels.checkFits(files.get(0), records, 3, SIDE, SIDE);
    int n = (int) records;
    byte[] pixels = new byte[Math.multiplyExact(n, PIXELS)];
    int[] labels = new int[n];
    byte[] record = new byte[RECORD];
    int k = 0;
    for (Path f : files) {
      try (InputStream in = DataFiles.open(f, false)) {
        long inFile = DataFiles.size(f) / RECORD;
        for (long r = 0; r < inFile; r++, k++) {
          if (in.readNBytes(record, 0, RECORD) != RECORD) {
            throw new DataFormatException(f, "truncated: the file ended while reading record " + r);
          }
          int y = record[0] & 0xFF;
          if (y >= classNames.size()) {
            throw new DataFormatException(f, "label " + y + " of record " + r
                + " is out of range for " + classNames.size() + " classes"
                + (namedBy != null ? " (named by " + namedBy + ")" : ""));
          }
          labels[k] = y;
          System.arraycopy(record, 1, pixels, k * PIXELS, PIXELS);
        }
      } catch (IOException e) {
        throw DataFiles.unreadable(f, e);
      }
    }
    return new Dataset(name, Pixels.toImages(pixels, n, 3, SIDE, SIDE), labels, classNames);
  }
}
