package org.irevnet.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** File access shared by the loaders: gzip detection, header ints, bounded reads. */
final class DataFiles {
  private DataFiles() {}

  static void requireDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new DataFormatException(dir, Files.exists(dir) ? "not a directory"
          : "no such directory");
    }
  }

  static void requireFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DataFormatException(file, Files.exists(file) ? "not a regular file"
          : Files.isSymbolicLink(file) ? "a link to nothing (its target is missing or cannot be reached)"
          : "no such file");
    }
  }

  static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new DataFormatException(file, "cannot read: " + e, e);
    }
  }

  /** True when the file starts with the gzip magic bytes 1f 8b (whatever its name). */
  static boolean isGzip(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == 0x1f && in.read() == 0x8b;
    } catch (IOException e) {
      throw new DataFormatException(file, "cannot read: " + e, e);
    }
  }

  /** A buffered stream of the file's contents, decompressed if it is gzipped. */
  static InputStream open(Path file, boolean gzip) throws IOException {
    InputStream raw = Files.newInputStream(file);
    try {
      // Not buffered over gzip: a BufferedInputStream reads on until a read fails and then loses
      // what it had read, so a cut-off file's message counted 0 bytes. GZIPInputStream buffers
      // its input itself.
      return gzip ? new GZIPInputStream(raw, 1 << 16) : new BufferedInputStream(raw, 1 << 16);
    } catch (IOException e) {
      raw.close();
      throw e;
    }
  }

  /** A big-endian 32-bit header field as an unsigned value. */
  static long readHeaderInt(InputStream in, Path file, String field) throws IOException {
    int b0 = in.read();
    int b1 = in.read();
    int b2 = in.read();
    int b3 = in.read();
    if ((b0 | b1 | b2 | b3) < 0) {
      throw new DataFormatException(file, "truncated header: the file ends before the " + field);
    }
    return ((long) b0 << 24) | ((long) b1 << 16) | ((long) b2 << 8) | b3;
  }

  /**
   * Reads exactly {@code expected} bytes (which must be at most {@link Pixels#MAX_ELEMENTS}) and
   * checks that the stream ends there. The buffer grows with the data actually read, so a header
   * that claims more than the file holds costs no more memory than the file's contents.
   *
   * @param describe turns the number of bytes actually present into the "truncated" problem text
   */
  static byte[] readExactly(InputStream in, long expected, Path file,
      java.util.function.LongFunction<String> describe) throws IOException {
    int want = (int) expected;
    byte[] buf = new byte[Math.min(want, 1 << 20)];
    int have = 0;
    while (have < want) {
      if (have == buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(want, Math.max(2L * buf.length, 1 << 20)));
      }
      int r;
      try {
        r = in.read(buf, have, buf.length - have);
      } catch (EOFException | ZipException e) {
        throw new DataFormatException(file, describe.apply(have) + " (" + reason(e) + ")", e);
      }
      if (r < 0) {
        throw new DataFormatException(file, describe.apply(have));
      }
      have += r;
    }
    if (in.read() >= 0) {
      throw new DataFormatException(file,
          "file is longer than its header says (extra bytes after the last item)");
    }
    return buf;
  }

  /** An I/O failure while reading a dataset file, as a one-line {@link DataFormatException}. */
  static DataFormatException unreadable(Path file, IOException e) {
    if (e instanceof EOFException || e instanceof ZipException) {
      return new DataFormatException(file, "truncated or corrupt: " + reason(e), e);
    }
    return new DataFormatException(file, "cannot read: " + e, e);
  }

  /**
   * The message of an {@link EOFException} or {@link ZipException}. Java's EOFException often has
   * none (GZIPInputStream's header reads); its ZipExceptions always have one.
   */
  private static String reason(IOException e) {
    return e.getMessage() != null ? e.getMessage() : "the file ends early";
  }
}
