package org.irevnet.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  /** How a child JVM ended: its exit code and what it printed (without the JVM's notices). */
  public record Run(int exitCode, List<String> lines) {
    public String output() {
      return String.join("\n", lines);
    }

    /** Whether a {@link #repeatFor} loop ran to its end. */
    public boolean survived() {
      return exitCode == 0 && lines.stream().anyMatch(l -> l.startsWith("survived "));
    }
  }

  /** A child's main: runs {@code body} again and again until {@code seconds} pass, then says so. */
  public static void repeatFor(String seconds, Runnable body) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(seconds));
    long calls = 0;
    for (; System.nanoTime() < end; calls++) body.run();
    System.out.println("survived " + calls + " iterations");
  }

  /**
   * Runs {@code main} with {@code args} in a child JVM (this one's class path) under constant
   * garbage collection, for tests of native memory that a collection could free while libnd4j
   * reads it: a regression crashes the process, not the test's. A 1 MB young generation makes
   * collections frequent enough to meet such a window, and so do many iterations: one OpenMP
   * thread (two spin-waiting on a loaded machine ran 300 iterations where one ran 20,000) and
   * glibc's own malloc settings, under which freed memory is reused at once (a probe's loop
   * without its fix crashed 4 of 4 times so, 2 of 3 with the launcher's settings). A crash's
   * report goes into {@code dir}.
   */
  public static Run underCollectionPressure(Path dir, Class<?> main, String... args) throws Exception {
    Path log = dir.resolve("child.log");
    List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Xmn1m", "-XX:+UseParallelGC", "-XX:ErrorFile=" + dir.resolve("hs_err.log"),
        "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).directory(dir.toFile());
    b.environment().put("OMP_NUM_THREADS", "1");
    b.environment().keySet().removeIf(k -> k.startsWith("MALLOC_"));
    Process p = b.start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(main.getSimpleName() + " did not finish within 5 minutes");
    }
    return new Run(p.exitValue(), ownLines(Files.readAllLines(log)));
  }

  /** {@code text} without the lines that are the JVM's notices. */
  public static String ownOutput(String text) {
    return String.join("\n", ownLines(text.lines().toList()));
  }
}
