package org.irevnet.testing;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What a child JVM printed, without the notices the JVM itself prints on stderr for options the
 * environment gives it ({@code Picked up JAVA_TOOL_OPTIONS: ...}, {@code _JAVA_OPTIONS}, {@code
 * JDK_JAVA_OPTIONS}): no output of the code under test, they failed tests that read a child's
 * stderr whole on machines that set such a variable.
 */
public final class ChildJvm {
  private static final Pattern NOTICE = Pattern.compile("(NOTE: )?Picked up (JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS): .*");

  private ChildJvm() {}

  /** {@code lines} without the JVM's notices. */
  public static List<String> ownLines(List<String> lines) {
    return lines.stream().filter(l -> !NOTICE.matcher(l).matches()).toList();
  }

  /** {@code text} without the lines that are the JVM's notices. */
  public static String ownOutput(String text) {
    return String.join("\n", ownLines(text.lines().toList()));
  }
}
