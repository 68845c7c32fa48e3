package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.irevnet.host.Host;
import org.irevnet.host.Memory;
import org.irevnet.testing.OmpNumThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** The options and helpers every command shares: counts, lists, threads, JSON output, logging. */
class CommonOptionsTest {

  @Test
  void countsBelowOneAndEmptyListsAreRefused() {
    assertThatThrownBy(() -> CommonOptions.positive("--count", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--count must be at least 1, got 0");
    assertThatCode(() -> CommonOptions.positive("--count", 1)).doesNotThrowAnyException();
    assertThatThrownBy(() -> CommonOptions.given("--eps", 0, "radii")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--eps: no radii given");
    assertThatCode(() -> CommonOptions.given("--eps", 1, "radii")).doesNotThrowAnyException();
  }

  /**
   * A count whose arrays would not fit in memory is refused naming the option, the bytes and the
   * limit; one whose single array would have more values than an int indexes, naming the values;
   * up to either bound it passes. The bytes are counted here: 4 arrays x 1024 values x 4 bytes.
   */
  @Test
  void aCountWhoseArraysCannotBeHeldIsRefusedSayingWhy() {
    String[] arrays = {"z", "the images", "their encoding", "its difference from z"};
    Memory.Limit oneGib = new Memory.Limit(1L << 30, "a test's limit");
    assertThatCode(() -> CommonOptions.checkCountFits("--count", (1L << 30) / (4 * 1024 * 4), 1024, "the samples",
        arrays, oneGib)).doesNotThrowAnyException();
    assertThatThrownBy(() -> CommonOptions.checkCountFits("--count", 65537, 1024, "the samples", arrays, oneGib))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--count 65537: the samples need 1.0 GiB (4 float32"
            + " arrays of 65537 x 1024 values: z, the images, their encoding, its difference from z), more than the"
            + " 1.0 GiB of memory this process may use (a test's limit)");
    Memory.Limit unknown = new Memory.Limit(-1, "unknown");
    long mostValues = Integer.MAX_VALUE / 1024;
    assertThatCode(() -> CommonOptions.checkCountFits("-n", mostValues, 1024, "the samples", arrays, unknown))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> CommonOptions.checkCountFits("-n", mostValues + 1, 1024, "the samples", arrays, unknown))
        .hasMessage("-n 2097152: the samples would be arrays of 2097152 x 1024 = 2.15e+09 values, more than one array"
            + " here can hold (2147483647)");
  }

  /**
   * Read back from the BLAS threads ND4J's CPU backend runs with: Host.threads() reports the OpenMP
   * pool, sized from OMP_NUM_THREADS when the library loads (bin/irevnet sets it from --threads).
   * OpenMP's threads follow a given count, and stay as they were without one, where BLAS takes the pool's.
   */
  @Test
  void threadsAreTheGivenCountOrThePools() {
    int cores = Runtime.getRuntime().availableProcessors();
    CommonOptions o = new CommonOptions();
    o.threads = cores + 1;
    o.apply();
    assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(cores + 1);
    assertThat(Host.openMpThreads()).as("OpenMP's").isEqualTo(cores + 1);
    o.threads = null;
    o.apply();
    assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(Host.threads()).isNotEqualTo(cores + 1);
    assertThat(Host.openMpThreads()).as("OpenMP's, left as it was").isEqualTo(cores + 1);
  }

  /**
   * {@code sizePool} gives {@link Host#setThreadsBeforeLoading} a {@code --threads} that {@code
   * apply} accepts (1 to {@code MAX_THREADS}) and leaves the rest for it to refuse, and the command
   * line calls it with the leaf command's {@code --threads}. Read back through the C library's
   * OMP_NUM_THREADS in this JVM, whose ND4J has loaded already: the child-JVM test below sees the
   * pool it sizes, but no mutant of this process's code.
   */
  @Test
  void sizePoolPutsAnAcceptedThreadCountIntoTheEnvironment() {
    org.junit.jupiter.api.Assumptions.assumeTrue(OmpNumThreads.readable(), "no C library to read the environment from");
    CommonOptions.sizePool(2);
    assertThat(OmpNumThreads.get()).isEqualTo("2");
    CommonOptions.sizePool(1);
    assertThat(OmpNumThreads.get()).as("after 2: pitest's and the launcher's OMP_NUM_THREADS is often 1").isEqualTo("1");
    CommonOptions.sizePool(CommonOptions.MAX_THREADS);
    assertThat(OmpNumThreads.get()).isEqualTo(Integer.toString(CommonOptions.MAX_THREADS));
    CommonOptions.sizePool(2);
    for (Integer refused : new Integer[] {null, 0, -1, CommonOptions.MAX_THREADS + 1}) {
      CommonOptions.sizePool(refused);
      assertThat(OmpNumThreads.get()).as("after " + refused).isEqualTo("2");
    }
    MainTest.Run r = MainTest.run("probe", "--run", "/nonexistent-irevnet-run", "--layers", "--threads", "3");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(OmpNumThreads.get()).as("the command line's --threads").isEqualTo("3");
  }

  /**
   * {@code java -jar} without bin/irevnet: ND4J, loaded after the command line is parsed, takes
   * {@code --threads} over the OMP_NUM_THREADS it was started with, in its pool, OpenMP's threads
   * and BLAS's, and says nothing; without {@code --threads} it keeps OMP_NUM_THREADS's. Each in a
   * child JVM, as this one's ND4J is loaded.
   */
  @Test
  void theCommandLineGivesNd4jTheThreadsItAsksForBeforeLoadingIt(@TempDir Path dir) throws Exception {
    assertThat(threadCounts(dir, "--threads", "1")).isEqualTo(List.of("pool 1, OpenMP 1, BLAS 1"));
    assertThat(threadCounts(dir, "--threads", "3")).isEqualTo(List.of("pool 3, OpenMP 3, BLAS 3"));
    assertThat(threadCounts(dir)).isEqualTo(List.of("pool 2, OpenMP 2, BLAS 2"));
    // Without --threads, OMP_NUM_THREADS is the count for all three (BLAS took every core before).
    assertThat(threadCounts(dir, 1)).isEqualTo(List.of("pool 1, OpenMP 1, BLAS 1"));
  }

  /** What {@link ThreadCounts} prints, stdout and stderr, with {@code args} and OMP_NUM_THREADS=2. */
  private static List<String> threadCounts(Path dir, String... args) throws Exception {
    return threadCounts(dir, 2, args);
  }

  /** What {@link ThreadCounts} prints, stdout and stderr, with {@code args} and OMP_NUM_THREADS={@code omp}. */
  private static List<String> threadCounts(Path dir, int omp, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(PeerComparison.javaCommand(List.of(args)));
    cmd.set(cmd.indexOf(Main.class.getName()), ThreadCounts.class.getName());
    cmd.add(cmd.indexOf(ThreadCounts.class.getName()) + 1, "threads");
    Path log = dir.resolve("child.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(omp));
    Process p = pb.start();
    assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).as("the child ended").isTrue();
    List<String> lines = org.irevnet.testing.ChildJvm.ownLines(java.nio.file.Files.readAllLines(log)).stream()
        .filter(l -> !l.startsWith("HAVE_") && !l.isBlank()).toList();
    assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
    return lines;
  }

  /** The command line with a command that prints the thread counts {@code --threads} left (a child's main). */
  static final class ThreadCounts {
    public static void main(String[] args) {
      Logging.configure(false);
      System.exit(Main.commandLine().addSubcommand("threads", new PrintThreads()).execute(args));
    }
  }

  @picocli.CommandLine.Command(name = "threads")
  static final class PrintThreads implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Mixin CommonOptions common;

    @Override
    public Integer call() {
      common.apply();
      System.out.println("pool " + Host.threads() + ", OpenMP " + Host.openMpThreads() + ", BLAS "
          + Nd4j.factory().blas().getMaxThreads());
      return 0;
    }
  }

  /**
   * libnd4j's pool cannot grow after it loads: a --threads above it is said on stderr, once, with
   * the way out; one it has, or none, is not (the pool is read back, since it is the environment's).
   */
  @Test
  void aThreadCountAboveThePoolIsRemarkedOnAndOnlyThen() {
    int cores = Runtime.getRuntime().availableProcessors();
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true));
    try {
      Host.setThreads(cores);
      int pool = Host.threads();
      CommonOptions o = new CommonOptions();
      o.threads = pool + 1;
      o.apply();
      assertThat(err.toString().lines().toList()).singleElement().asString()
          .startsWith("--threads " + (pool + 1) + " sets BLAS's threads, but ND4J's pool keeps the " + pool + " ")
          .endsWith("or set OMP_NUM_THREADS=" + (pool + 1));
      err.reset();
      o.threads = pool;
      o.apply();
      o.threads = null;
      o.apply();
      assertThat(err.toString()).isEmpty();
    } finally {
      System.setErr(old);
    }
  }

  /**
   * bin/irevnet sizes the OpenMP pool from --threads before Java starts: --threads 100000 ended in a
   * segmentation fault (exit 139, nothing on stderr) and 10000 too, measured on this machine; the
   * count is refused before it reaches BLAS. No CPU this runs on has more than 1024 cores.
   */
  @Test
  void aThreadCountNoMachineHasIsRefusedBeforeItReachesBlas() {
    CommonOptions o = new CommonOptions();
    o.threads = 100000;
    assertThatThrownBy(o::apply).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--threads must be at most 1024, got 100000");
    assertThat(Nd4j.factory().blas().getMaxThreads()).isNotEqualTo(100000);
    o.threads = 1024;
    assertThatCode(o::apply).doesNotThrowAnyException();
  }

  /** One line with sorted keys, or the same indented over several lines. */
  @Test
  void jsonIsOneLineOrIndentedWithSortedKeys() throws Exception {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("b", 1);
    m.put("a", List.of(2.5, "x"));
    assertThat(Json.line(m)).isEqualTo("{\"a\":[2.5,\"x\"],\"b\":1}");
    String pretty = Json.pretty(m);
    assertThat(pretty.lines().count()).isGreaterThan(2);
    assertThat(pretty.replaceAll("\\s", "")).isEqualTo("{\"a\":[2.5,\"x\"],\"b\":1}");
    assertThat(Json.MAPPER.readTree(pretty)).isEqualTo(Json.MAPPER.readTree(Json.line(m)));
  }

  /**
   * JSON has no NaN or infinity: Jackson's default (WRITE_NAN_AS_STRINGS) quotes them, which a
   * strict reader takes and the reports read back as non-finite. Decimals keep their point on a
   * comma-decimal locale (Jackson formats numbers without the locale; Main also sets the root
   * one), and non-ASCII names are written as they are, sorted by code point.
   */
  @Test
  void jsonQuotesNonFiniteNumbersAndIgnoresTheLocale() throws Exception {
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("größe", 0.5);
      m.put("inf", Double.NEGATIVE_INFINITY);
      m.put("nan", Double.NaN);
      m.put("gross", 1.25f);
      String line = Json.line(m);
      assertThat(line).isEqualTo("{\"gross\":1.25,\"größe\":0.5,\"inf\":\"-Infinity\",\"nan\":\"NaN\"}");
      com.fasterxml.jackson.databind.JsonNode back = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
      assertThat(back.get("nan").asDouble()).isNaN();
      assertThat(back.get("inf").asDouble()).isEqualTo(Double.NEGATIVE_INFINITY);
      assertThat(Json.pretty(m).replaceAll("\\s", "")).isEqualTo(line);
    } finally {
      Locale.setDefault(before);
    }
  }

  /** A value Jackson cannot write is an internal error, not bad input. */
  @Test
  void jsonOfAnUnwritableValueIsAnIllegalState() {
    Object broken = new Object() {
      public int getX() {
        throw new UnsupportedOperationException("no x");
      }
    };
    assertThatThrownBy(() -> Json.line(broken)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no x");
    assertThatThrownBy(() -> Json.pretty(broken)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no x");
  }

  @Test
  void loggingIsQuietUnlessVerboseAndGoesToStandardError() {
    System.clearProperty("org.slf4j.simpleLogger.logFile");
    try {
      Logging.configure(true);
      assertThat(Logging.verbose()).isTrue();
      assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("info");
      assertThat(System.getProperty("org.slf4j.simpleLogger.logFile")).isEqualTo("System.err");
    } finally {
      Logging.configure(false);
    }
    assertThat(Logging.verbose()).isFalse();
    assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("error");
  }

  /** Said only at the default thread count, above one thread, with the load at or above the cores. */
  @Test
  void aBusyMachineHintNeedsTheDefaultThreadsAndALoadOfTheCores() {
    assertThat(CommonOptions.busyMachineHint(3.6, 2, null, 2)).isEqualTo("irevnet: the load average is 3.6 on 2"
        + " cores: with other work running, --threads 1 can be several times faster (OpenMP's 2 threads spin-wait on"
        + " busy cores)");
    assertThat(CommonOptions.busyMachineHint(2.0, 2, null, 2)).isNotNull();
    assertThat(CommonOptions.busyMachineHint(1.9, 2, null, 2)).as("idle enough").isNull();
    assertThat(CommonOptions.busyMachineHint(3.6, 2, 2, 2)).as("--threads given").isNull();
    assertThat(CommonOptions.busyMachineHint(3.6, 2, null, 1)).as("one thread already").isNull();
    assertThat(CommonOptions.busyMachineHint(-1, 2, null, 2)).as("load unknown").isNull();
  }
}
