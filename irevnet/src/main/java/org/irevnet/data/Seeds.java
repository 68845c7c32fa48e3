package org.irevnet.data;

/** Derives independent seeds from a base seed and counters (SplitMix64 finaliser). */
public final class Seeds {
  private Seeds() {}

  static final long ORDER = 0x4f52444552L; // "ORDER"
  static final long NOISE = 0x4e4f495345L; // "NOISE"

  public static long mix(long... parts) {
    long h = 0x243F6A8885A308D3L;
    for (long p : parts) {
      h = splitMix(h ^ p);
    }
    return h;
  }

  private static long splitMix(long z) {
    z += 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
