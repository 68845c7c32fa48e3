package org.irevnet.io;

/**
 * What deflate (zip entries, gzip, PNG's image data) can expand a number of bytes to: a bound a
 * reader checks a header's claim against before allocating what it claims, so that a damaged or
 * hostile header costs no more memory than its file could really hold.
 */
public final class Deflate {
  private Deflate() {}

  /**
   * The most bytes one compressed byte can become: deflate's longest match (258 bytes) coded in two
   * bits, 1032 to 1; real streams, with their block headers, stay below it.
   */
  public static final long MAX_RATIO = 1032;

  /** The most bytes {@code compressed} bytes of deflate data can hold, with a margin for tiny streams. */
  public static long maxInflated(long compressed) {
    return MAX_RATIO * compressed + 1024;
  }
}
