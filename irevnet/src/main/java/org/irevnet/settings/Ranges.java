package org.irevnet.settings;

import java.util.List;

/**
 * Range checks for settings, one wording everywhere: each names one setting and the value it got,
 * so a user who passed several never has to guess which one was refused.
 */
public final class Ranges {
  private Ranges() {}

  /** Refuses {@code value < min}: "NAME must be at least MIN, got VALUE". */
  public static void atLeast(String name, long value, long min) {
    if (value < min) throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
  }

  /** Refuses a value that is not a finite number of at least {@code min}. */
  public static void atLeast(String name, double value, double min) {
    finite(name, value);
    if (value < min) {
      throw new IllegalArgumentException(name + " must be at least " + (min == Math.rint(min) ? "" + (long) min : "" + min)
          + ", got " + value);
    }
  }

  /** Refuses a value that is not a finite number above 0 (NaN compares false both ways). */
  public static void positive(String name, double value) {
    finite(name, value);
    if (!(value > 0)) throw new IllegalArgumentException(name + " must be above 0, got " + value);
  }

  /**
   * Refuses a learning rate that is not above 0, or beyond float32's range: training runs in float32,
   * where Adam's step size then is infinite, which libnd4j's updater replaces with its epsilon
   * (1e-8): a run at --lr 1e39 trained nothing without a word, where 1e38 diverged and said so.
   */
  public static void learningRate(String name, double value) {
    positive(name, value);
    if (value > Float.MAX_VALUE) {
      throw new IllegalArgumentException(name + " must be at most " + Float.MAX_VALUE + " (float32's largest number:"
          + " beyond it Adam's step is infinite, which the updater replaces with 1e-8, and nothing trains), got " + value);
    }
  }

  /** Refuses a value that is not a finite number of at least 0. */
  public static void nonNegative(String name, double value) {
    atLeast(name, value, 0);
  }

  /** Refuses a value that is not one of {@code choices}: "NAME must be A, B or C, got VALUE". */
  public static void oneOf(String name, String value, List<String> choices) {
    // List.of's contains throws on null; a config.json without the key gives null.
    if (value == null || !choices.contains(value)) {
      throw new IllegalArgumentException(name + " must be " + listed(choices) + ", got " + value);
    }
  }

  /** "A, B or C". */
  public static String listed(List<String> words) {
    int last = words.size() - 1;
    return last < 1 ? String.join("", words) : String.join(", ", words.subList(0, last)) + " or " + words.get(last);
  }

  private static void finite(String name, double value) {
    if (!Double.isFinite(value)) throw new IllegalArgumentException(name + " must be a finite number, got " + value);
  }
}
