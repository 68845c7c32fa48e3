package org.irevnet.reports;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The class names of the analysed data (a dataset's {@code classNames}, as eval writes them), for
 * showing a class number with its name: {@code 3 (Dress)}. IDX data without {@code classes.txt}
 * has the numbers for names ({@code "0", "1", ...}); then there is nothing to add, and numbers are
 * shown alone, as before names were shown.
 */
public final class ClassNames {
  /** Numbers only. */
  public static final ClassNames NONE = new ClassNames(null);

  private final List<String> names;

  private ClassNames(List<String> names) {
    this.names = names;
  }

  /**
   * The data's names; {@link #NONE} when they are only the numbers, or null (a report's absent
   * {@code class_names}).
   */
  public static ClassNames of(List<String> dataNames) {
    return dataNames == null || numbered(dataNames) ? NONE : new ClassNames(List.copyOf(dataNames));
  }

  /** Whether each name is its own number: no names to show. */
  public static boolean numbered(List<String> names) {
    return IntStream.range(0, names.size()).allMatch(j -> names.get(j).equals(Integer.toString(j)));
  }

  /** The names in class order, or null when there are none: what the JSON's {@code class_names} holds. */
  public List<String> list() {
    return names;
  }

  /** The name of a class, or null (no names, or -1: an image without a class). */
  public String name(int c) {
    return names == null || c < 0 || c >= names.size() ? null : names.get(c);
  }

  /** A label inside parentheses ({@code 12 (3 Dress)}): {@code 3 Dress}, {@code 3} without names. */
  public String labelled(int c) {
    String n = name(c);
    return n == null ? Integer.toString(c) : c + " " + n;
  }

  /** {@code 3 (Dress)}, {@code 3} without names; -1 (non-finite logits) as words, not as a class. */
  public String shown(int c) {
    if (c < 0) return InterpolationReport.NON_FINITE;
    String n = name(c);
    return n == null ? Integer.toString(c) : c + " (" + n + ")";
  }

  /** One line naming the classes among {@code shown} that have names ("classes: 3 Dress, 5 Sandal"), or "". */
  String legend(IntStream shown) {
    List<String> named = shown.filter(c -> name(c) != null).distinct().sorted().mapToObj(c -> c + " " + name(c)).toList();
    return named.isEmpty() ? "" : "classes: " + String.join(", ", named) + String.format("%n");
  }
}
