package org.irevnet.io;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * Checks of a PNG file that Java's decoder (ImageIO) does not make, for its readers to make before
 * decoding it: the dataset loader's PNG folders and the report's images.
 */
public final class PngChecks {
  private PngChecks() {}

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /**
   * What is wrong with the PNG whose {@code length} bytes {@code in} reads, or null: no PNG
   * signature; a chunk that does not match its CRC-32 (ImageIO checks none: a bit flipped in a
   * palette read as another colour, one in a header as another size); an end before the IEND chunk;
   * or a header of more pixels than the file can hold compressed (the decoder allocates the whole
   * image before it reads the data: a flipped bit in a 73-byte file's width allocated 84 MB, a
   * hostile header gigabytes). Reads the file once, in pieces.
   */
  public static String problem(InputStream in, long length) throws IOException {
    DataInputStream data = new DataInputStream(in);
    if (!Arrays.equals(data.readNBytes(SIGNATURE.length), SIGNATURE)) return "not a PNG (no PNG signature)";
    byte[] piece = new byte[1 << 16];
    CRC32 crc = new CRC32();
    byte[] header = null;
    try {
      for (long at = SIGNATURE.length; ; ) {
        long chunkLength = data.readInt() & 0xFFFF_FFFFL;
        byte[] type = data.readNBytes(4);
        if (type.length < 4) throw new EOFException();
        String name = new String(type, StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", "?");
        if (chunkLength > Integer.MAX_VALUE) return "damaged: chunk " + name + " at byte " + at + " claims " + chunkLength + " bytes";
        crc.reset();
        crc.update(type);
        boolean first = header == null && name.equals("IHDR") && chunkLength == 13;
        byte[] kept = first ? new byte[13] : null;
        for (long read = 0; read < chunkLength; ) {
          int n = data.read(piece, 0, (int) Math.min(piece.length, chunkLength - read));
          if (n < 0) throw new EOFException();
          crc.update(piece, 0, n);
          if (kept != null) System.arraycopy(piece, 0, kept, (int) read, n);
          read += n;
        }
        if ((data.readInt() & 0xFFFF_FFFFL) != crc.getValue()) {
          return "damaged: chunk " + name + " at byte " + at + " does not match its CRC-32";
        }
        if (kept != null) header = kept;
        if (name.equals("IEND")) break;
        at += 12 + chunkLength;
      }
    } catch (EOFException e) {
      return "truncated: the file ends before its IEND chunk";
    }
    return header == null ? null : sizeProblem(header, length);
  }

  /** Whether the image {@code ihdr} describes can be held in a file of {@code length} bytes (null), or why not. */
  private static String sizeProblem(byte[] ihdr, long length) {
    long width = readUnsigned(ihdr, 0);
    long height = readUnsigned(ihdr, 4);
    int bitDepth = ihdr[8] & 0xFF;
    int samples = switch (ihdr[9]) { // the colour type: grey, RGB, palette, grey and alpha, RGBA
      case 2 -> 3;
      case 4 -> 2;
      case 6 -> 4;
      default -> 1;
    };
    // Each row: a filter byte and its pixels. In double: the product of two 32-bit sides and a row's bits overflows a long.
    double rawBytes = height * (1 + Math.ceil(width * (double) samples * bitDepth / 8));
    if (rawBytes <= Deflate.maxInflated(length)) return null;
    return String.format(java.util.Locale.ROOT, "header says %dx%d pixels (%.0f bytes before compression), more than a"
        + " PNG of %d bytes can hold: truncated or damaged", width, height, rawBytes, length);
  }

  private static long readUnsigned(byte[] b, int at) {
    return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
  }
}
