package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.irevnet.host.Host;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

class MainTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    System.setErr(new PrintStream(err, true));
    try {
      int code = Main.execute(args);
      return new Run(code, out.toString(), err.toString());
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * {@code name} as this JVM can spell it in a file name or a child's argument: as it is, or with
   * {@code _} for each character the platform's charset ({@code sun.jnu.encoding}) lacks. Under a
   * C or POSIX locale (LANG unset, as in a fresh container) that charset is ASCII, and a name
   * outside it failed with InvalidPathException before the test reached what it tests.
   */
  static String fileName(String name) {
    return fileName(name, java.nio.charset.Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")));
  }

  static String fileName(String name, java.nio.charset.Charset charset) {
    java.nio.charset.CharsetEncoder encoder = charset.newEncoder();
    StringBuilder b = new StringBuilder();
    name.codePoints().forEach(c -> b.append(encoder.canEncode(Character.toString(c)) ? Character.toString(c) : "_"));
    return b.toString();
  }

  @Test
  void aFileNameKeepsWhatTheCharsetSpellsAndOnlyThat() {
    assertThat(fileName("données/実験 1", StandardCharsets.UTF_8)).isEqualTo("données/実験 1");
    assertThat(fileName("données/実験 1", StandardCharsets.US_ASCII)).isEqualTo("donn_es/__ 1");
    assertThat(fileName("ausgabe-ü", StandardCharsets.ISO_8859_1)).isEqualTo("ausgabe-ü");
  }

  /**
   * {@code path} as one word of a shell command (a --peer, a script's settings): the temporary
   * directory's path may hold a space (a TMPDIR of "/tmp/my files"), which split it.
   */
  static String shellWord(Object path) {
    return QuickstartCommand.shellWord(path.toString());
  }

  /** A tiny architecture and dataset written under {@code tmp}, and a run trained on them. */
  record TinyRun(Path arch, Path data, Path dir, Run train) {}

  static TinyRun trainTiny(Path tmp, int epochs, String... more) throws IOException {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), org.irevnet.testing.TinyData.ARCH);
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 64, 20);
    Path dir = tmp.resolve("run");
    List<String> args = new ArrayList<>(List.of("train", "--arch", arch.toString(), "--data", data.toString(),
        "--out", dir.toString(), "--epochs", Integer.toString(epochs), "--batch", "16", "--no-progress"));
    args.addAll(List.of(more));
    Run t = run(args.toArray(String[]::new));
    return new TinyRun(arch, data, dir, t);
  }

  static final String TINY = TinyData.ARCH;

  /**
   * Runs out of memory as it starts, with {@code message}: a stand-in for a --batch (or a heap)
   * too large; "Cannot allocate ..." is javacpp's native-memory line (seen under {@code ulimit -v}
   * with --batch 6000).
   */
  @picocli.CommandLine.Command
  static final class Exhausting implements java.util.concurrent.Callable<Integer> {
    private final String message;
    @picocli.CommandLine.Option(names = "--batch") int batch;

    Exhausting(String message) {
      this.message = message;
    }

    @Override
    public Integer call() {
      throw new OutOfMemoryError(message);
    }
  }

  /** {@link Exhausting} without a --batch option. */
  @picocli.CommandLine.Command
  static final class ExhaustingUnbatched implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
      throw new OutOfMemoryError("Java heap space");
    }
  }

  /** The default the out-of-memory line quotes is the launcher's. */
  @Test
  void theJavaOptionsQuotedAreTheLaunchers() throws IOException {
    assertThat(Files.readString(Path.of("..", "bin", "irevnet")))
        .contains("${IREVNET_JAVA_OPTS:-" + Main.LAUNCHER_JAVA_OPTS + "}");
  }

  /**
   * Running out of memory is one line that names the command, the error, the heap's limit and
   * what to change (--batch only where the command has one), with the code of a failed run; it
   * said "irevnet: java.lang.OutOfMemoryError: Java heap space".
   */
  @Test
  void runningOutOfMemoryIsOneLineSayingWhatToChange() {
    for (String command : new String[] {"exhaust", "exhaust-unbatched"}) {
      picocli.CommandLine cl = Main.commandLine();
      cl.addSubcommand("exhaust", new Exhausting("Java heap space"));
      cl.addSubcommand("exhaust-unbatched", new ExhaustingUnbatched());
      java.io.StringWriter err = new java.io.StringWriter();
      cl.setErr(new java.io.PrintWriter(err, true));
      assertThat(cl.execute(command)).isEqualTo(Main.RUN_FAILED);
      assertThat(err.toString().lines().toList()).as(command).singleElement().satisfies(line -> {
        assertThat(line).startsWith("irevnet " + command + ": out of memory (java.lang.OutOfMemoryError: Java heap space;"
            + " Java's heap is at most " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): ")
            .contains("IREVNET_JAVA_OPTS");
        assertThat(line.contains("--batch")).isEqualTo(command.equals("exhaust"));
      });
    }
    picocli.CommandLine cl = Main.commandLine();
    cl.addSubcommand("exhaust-native",
        new Exhausting("Cannot allocate new LongPointer(4): totalBytes = 256, physicalBytes = 2098M"));
    java.io.StringWriter err = new java.io.StringWriter();
    cl.setErr(new java.io.PrintWriter(err, true));
    assertThat(cl.execute("exhaust-native")).isEqualTo(Main.RUN_FAILED);
    assertThat(err.toString().lines().toList()).singleElement().satisfies(line -> assertThat(line)
        .startsWith("irevnet exhaust-native: out of memory (java.lang.OutOfMemoryError: Cannot allocate new LongPointer(4):"
            + " totalBytes = 256, physicalBytes = 2098M; native memory, where ND4J keeps its arrays): use a smaller --batch")
        .contains("org.bytedeco.javacpp.maxbytes").doesNotContain("heap"));
  }

  /**
   * Each multiplier in a child JVM of this one, in three rounds, the second backwards; then the
   * curve, whose medians are over the three runs at each multiplier. Progress goes to stderr, one
   * line per run. The children's OpenMP pool is --threads, not the one this JVM was started with
   * (surefire's OMP_NUM_THREADS is 2).
   */
  @Test
  void benchDepthCurveRunsEveryMultiplierInAFreshProcessInAlternatingOrder(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("tiny.json"), TINY);
    Run curve = run("bench", "--arch", arch.toString(), "--batch", "4", "--steps", "1", "--warmup", "0", "--rounds", "3",
        "--depth-curve", "1,2", "--threads", "1");
    assertThat(curve.code()).as(curve.err()).isZero();
    List<String> lines = curve.out().strip().lines().toList();
    assertThat(lines).hasSize(7);
    List<JsonNode> runs = new ArrayList<>();
    for (String l : lines.subList(0, 6)) runs.add(Json.MAPPER.readTree(l));
    assertThat(runs.stream().map(j -> j.get("depth_mult").asInt())).as("every other round backwards")
        .containsExactly(1, 2, 2, 1, 1, 2);
    assertThat(runs.stream().map(j -> j.get("threads").asInt())).containsOnly(1);
    assertThat(runs.get(1).get("params").asLong()).isGreaterThan(runs.get(0).get("params").asLong());
    List<String> progress = new ArrayList<>();
    for (int i = 1; i <= 6; i++) progress.add("bench: " + i + " of 6 runs done");
    assertThat(curve.err().lines().filter(l -> l.startsWith("bench: "))).isEqualTo(progress);
    JsonNode sum = Json.MAPPER.readTree(lines.get(6));
    assertThat(sum.get("rounds").asInt()).isEqualTo(3);
    assertThat(sum.get("arch").asText()).isEqualTo("tiny");
    double peak1 = middle(runs.get(0), runs.get(3), runs.get(4)), peak2 = middle(runs.get(1), runs.get(2), runs.get(5));
    assertThat(sum.get("peak_rss_mib").get("1").asDouble()).isEqualTo(peak1);
    assertThat(sum.get("peak_rss_mib").get("2").asDouble()).isEqualTo(peak2);
    assertThat(sum.get("peak_rss_mib_ratio").asDouble()).isCloseTo(peak2 / peak1, within(1e-3));
  }

  /** The middle one of three runs' peak_rss_mib. */
  private static double middle(JsonNode a, JsonNode b, JsonNode c) {
    double x = a.get("peak_rss_mib").asDouble(), y = b.get("peak_rss_mib").asDouble(), z = c.get("peak_rss_mib").asDouble();
    return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
  }

  @Test
  void badInputIsOneLineAndExitCode2() {
    Run r = run("bench", "--arch", "no-such-arch", "--no-progress");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("unknown architecture 'no-such-arch'");
    Run u = run("bench", "--batch", "many");
    assertThat(u.code()).isEqualTo(2);
    assertThat(u.err()).contains("--batch");
    Run b = run("bench", "--backward", "sideways", "--no-progress");
    assertThat(b.code()).isEqualTo(2);
    assertThat(b.err().strip().lines()).hasSize(1);
    assertThat(b.err()).contains("--backward must be reversible, stored or both, got sideways");
  }

  @Test
  void fileSystemErrorsNameTheirReason() {
    assertThat(Main.message(new java.nio.file.AccessDeniedException("/proc/x"))).isEqualTo("/proc/x: permission denied");
    assertThat(Main.message(new java.nio.file.NoSuchFileException("a/b"))).isEqualTo("a/b: no such file or directory");
    assertThat(Main.message(new java.nio.file.NotDirectoryException("f"))).isEqualTo("f: not a directory");
    assertThat(Main.message(new java.nio.file.FileSystemException("f", null, "Read-only file system")))
        .as("a reason of its own is kept").isEqualTo("f: Read-only file system");
    assertThat(Main.message(new IllegalArgumentException("first\nsecond"))).isEqualTo("first");
    assertThat(Main.message(new NullPointerException())).isEqualTo("java.lang.NullPointerException");
  }

  @Test
  void fileSystemErrorsWithoutAReasonOfTheirOwnAreNamedByTheirKind() {
    assertThat(Main.message(new java.nio.file.FileAlreadyExistsException("out"))).isEqualTo("out: already exists");
    assertThat(Main.message(new java.nio.file.DirectoryNotEmptyException("d"))).isEqualTo("d: directory not empty");
    assertThat(Main.message(new java.nio.file.FileSystemLoopException("l")))
        .as("any other kind by its class's name").isEqualTo("l: FileSystemLoopException");
    assertThat(Main.message(new IllegalStateException(""))).isEmpty();
  }

  /** Source lines join into one string per paragraph; blank lines (also of spaces) stay as empty elements. */
  @Test
  void descriptionLinesJoinIntoParagraphs() {
    assertThat(Main.paragraphs(new String[] {"Runs the", "  thing. ", "", "  ", "Then more."}))
        .containsExactly("Runs the thing.", "", "", "Then more.");
    assertThat(Main.paragraphs(new String[] {"", "one"})).containsExactly("", "one");
    assertThat(Main.paragraphs(new String[0])).isEmpty();
  }

  @Test
  void theVersionNamesTheBackend() {
    Run r = run("--version");
    assertThat(r.code()).isZero();
    // Built from the classes directory, there is no jar manifest to give a version.
    assertThat(r.out().strip()).isEqualTo("irevnet-workbench dev (ND4J 1.0.0-M2.1, CPU)");
  }

  @Test
  void everyCommandGivesTheSameVersion() {
    String version = run("--version").out();
    for (String[] args : new String[][] {{"train", "--version"}, {"data", "shortcut", "--version"}, {"report", "--version"}}) {
      Run r = run(args);
      assertThat(r.code()).as(String.join(" ", args)).isZero();
      assertThat(r.out()).as(String.join(" ", args)).isEqualTo(version);
    }
  }

  @Test
  void withoutACommandTheUsageGoesToStandardError() {
    Run r = run();
    assertThat(r.code()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("Usage: irevnet").contains("quickstart").contains("selftest");
  }

  /** A mistyped option: picocli's message and where to look, exit code 2. */
  @Test
  void anUnparsableOptionSaysWhereToLookForHelp() {
    Run r = run("bench", "--batch", "many");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(
        "irevnet bench: Invalid value for option '--batch': 'many' is not an int", "Try 'irevnet bench --help'.");
  }

  /** Without a command, the help to look at is irevnet's own (not "irevnet irevnet --help"). */
  @Test
  void anUnknownOptionOfNoCommandPointsToTheMainHelp() {
    Run r = run("--bogus");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly("irevnet: Unknown option: '--bogus'", "Try 'irevnet --help'.");
  }

  /** The stack trace of bad input only under -v or --verbose, after the one line. */
  @Test
  void verboseAddsTheStackTrace() {
    for (String v : new String[] {"-v", "--verbose"}) {
      Run r = run("bench", "--backward", "sideways", "--no-progress", v);
      assertThat(r.code()).as(v).isEqualTo(2);
      List<String> lines = r.err().lines().toList();
      assertThat(lines.get(0)).isEqualTo("irevnet bench: --backward must be reversible, stored or both, got sideways");
      assertThat(lines).as(v).hasSizeGreaterThan(2).anyMatch(l -> l.strip().startsWith("at org.irevnet."));
      assertThat(Logging.verbose()).isTrue();
      assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("info");
    }
    Run quiet = run("bench", "--backward", "sideways", "--no-progress");
    assertThat(quiet.err().lines()).hasSize(1);
    assertThat(Logging.verbose()).isFalse();
    assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isEqualTo("error");
  }

  /** Numbers are spelled "0.8420" whatever the machine's locale. */
  @Test
  void commandsRunInTheRootLocale() {
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      run("--version");
      assertThat(Locale.getDefault()).isEqualTo(Locale.ROOT);
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void pairCommandsCheckTheirCountsBeforeLoadingAnything() {
    for (String cmd : new String[] {"metamers", "interpolate"}) {
      Run r = run(cmd, "--run", "no-such-run", "--count", "0", "--no-progress");
      assertThat(r.code()).as(cmd).isEqualTo(2);
      assertThat(r.err().strip()).as(cmd).isEqualTo("irevnet " + cmd + ": --count must be at least 1, got 0");
    }
  }

  /** Every command words a count below 1 alike, one option at a time. */
  @Test
  void countsBelowOneAreRefusedInOneWording() {
    String[][] cases = {
        {"quickstart", "--epochs", "0"}, {"bench", "--depth-mult", "0"},
        {"bench", "--depth-curve", "1,2", "--rounds", "0"},
        {"attack", "--run", "no-such-run", "--attack", "fgsm", "--grid", "0"},
        {"probe", "--run", "no-such-run", "--nuisance", "--train-count", "0"},
        {"cnf", "--target", "rings", "--iterations", "0"}, {"train", "--out", "no-such-run", "--max-steps", "0"},
        {"train", "--out", "no-such-run", "--epochs", "0"}, {"train", "--out", "no-such-run", "--checkpoint-every", "0"}};
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of(c));
      args.add("--no-progress");
      assertRefused(args, c[c.length - 2] + " must be at least 1, got 0");
    }
  }

  /**
   * A directory the commands take for a run (its config.json) at {@code runDir}, with an empty
   * analysis/, which is returned: the place no other command may write its results.
   */
  static Path runsAnalysis(Path runDir) throws IOException {
    Files.writeString(Files.createDirectories(runDir).resolve("config.json"), "{\"config\": {}}");
    return Files.createDirectories(runDir.resolve("analysis"));
  }

  /** What a test waits for from another process, read from its files. */
  interface Condition {
    boolean holds() throws IOException;
  }

  /**
   * Polls {@code condition} every 50 ms until it holds, for at most 20 s: the test's assertions
   * that follow say what did not happen.
   */
  static void await(Condition condition) throws IOException, InterruptedException {
    for (int i = 0; i < 400 && !condition.holds(); i++) Thread.sleep(50);
  }

  /** {@code args} exit with code 2 and the one line "irevnet COMMAND: message". */
  static void assertRefused(List<String> args, String message) {
    Run r = run(args.toArray(String[]::new));
    assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet " + args.get(0) + ": " + message);
  }

  /**
   * {@code again}, a second run into {@code out}, is refused while {@code out/file} holds the first
   * run's result, which stays as it was, and runs (exit 0) with --fresh.
   */
  static void assertNeedsFresh(String[] again, Path out, String file) throws IOException {
    String before = Files.readString(out.resolve(file));
    assertRefused(List.of(again), out + " already holds the results of a run (" + file + "): pass --fresh to"
        + " replace them, or choose another --out");
    assertThat(out.resolve(file)).hasContent(before);
    List<String> fresh = new ArrayList<>(List.of(again));
    fresh.add("--fresh");
    Run replaced = run(fresh.toArray(String[]::new));
    assertThat(replaced.code()).as(replaced.err()).isZero();
  }

  /**
   * cnf or vae into an --out that another command is writing is refused, naming it, with --fresh
   * too: two at once each found no earlier results, and the later replaced the first's without
   * --fresh. The lock is train's, taken here as another command of this process would; nothing is
   * written, and the directory is not made.
   */
  @Test
  void cnfAndVaeRefuseAnOutBeingWritten(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 32, 8);
    Path out = tmp.resolve("out");
    String[][] commands = {
        {"cnf", "--target", "8-gaussians", "--iterations", "1", "--batch", "8", "--hidden", "4", "--test-samples", "20",
            "--plot-samples", "50", "--grid", "8", "--out", out.toString(), "--no-progress"},
        {"vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(), "--epochs", "1", "--batch", "16",
            "--latent", "4", "--hidden", "16", "--test-images", "3", "--is-samples", "20", "--no-progress"}};
    for (String[] command : commands) {
      for (boolean fresh : new boolean[] {false, true}) {
        List<String> args = new ArrayList<>(List.of(command));
        if (fresh) args.add("--fresh");
        try (org.irevnet.io.RunLock writing = org.irevnet.io.RunLock.acquire(out)) {
          assertRefused(args, out + " is being written by another process (pid " + ProcessHandle.current().pid()
              + "): wait for it to end, or choose another --out");
        }
        assertThat(out).as(String.join(" ", args)).doesNotExist();
      }
    }
  }

  /** Found only after the checks ran, a directory for --json failed with the name of a temporary file. */
  @Test
  void selftestRefusesADirectoryForItsJsonBeforeRunning(@TempDir Path tmp) {
    Run r = run("selftest", "--json", tmp.toString(), "--threads", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet selftest: --json " + tmp + ": is a directory");
    assertThat(r.out()).as("refused before the table's first line").isEmpty();
  }

  /**
   * A path option beginning with ~ that names nothing (--out=~/runs/x, where the shell expands no
   * ~, or "~/runs/x" quoted) is refused as it is parsed: report wrote its files into a folder named
   * ~ that it made in the working directory, and train would have trained there. (The commands
   * here would refuse something else next, so that a regression makes no ~ in the module.)
   */
  @Test
  void aLeadingTildeTheShellDidNotExpandIsRefusedBeforeAnythingIsWritten(@TempDir Path tmp) {
    String tilde = "~/irevnet-test-" + tmp.getFileName();
    for (String[] args : new String[][] {{"report", tmp.resolve("none").toString(), "--out=" + tilde},
        {"train", "--out", tilde, "--resume", "--no-progress"}, {"eval", "--run", tilde}}) {
      Run r = run(args);
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      String option = args[1].startsWith("--") ? args[1] : "--out";
      assertThat(r.err().lines().findFirst()).as(String.join(" ", args)).hasValue("irevnet " + args[0]
          + ": Invalid value for option '" + option + "': " + tilde + ": a leading ~ is not expanded here (the shell"
          + " expands it only at the start of a word: --out ~/x, not --out=~/x nor '~/x'): write the home folder's path"
          + " ($HOME/...), or ./" + tilde + " for a folder named so");
    }
    assertThat(Path.of("~")).doesNotExist();
  }

  /**
   * A researcher's own architecture is checked by selftest --arch (h38b: there was no way to),
   * instead of the bundled ones; a baseline or a missing file is refused before the layer checks.
   */
  @Test
  void selftestChecksTheGivenArchitecturesInsteadOfTheBundledOnes(@TempDir Path tmp) throws Exception {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), org.irevnet.testing.TinyData.ARCH);
    Path json = tmp.resolve("selftest.json");
    Run r = run("selftest", "--arch", arch.toString(), "--json", json.toString(), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("(?m)^tiny +model .* pass$").doesNotContain("fi-revnet-s")
        .contains("SpaceToDepth");
    assertThat(Files.readString(json)).contains("\"name\" : \"tiny\"").doesNotContain("irevnet-s");
    for (String[] bad : new String[][] {{"cnn-s", "irevnet selftest: --arch cnn-s: a non-invertible baseline has no"
        + " inverse to check"}, {tmp.resolve("no.json").toString(), "irevnet selftest: " + tmp.resolve("no.json")
        + ": architecture file not found"}, {",", "irevnet selftest: --arch: no architectures given"}}) {
      Run refused = run("selftest", "--arch", bad[0], "--threads", "1");
      assertThat(refused.code()).isEqualTo(2);
      assertThat(refused.err().strip()).isEqualTo(bad[1]);
      assertThat(refused.out()).as("refused before the table's first line").isEmpty();
    }
  }

  /**
   * Nor a --json where nothing can be written (as root a chmod would not stop the write, /proc
   * does): found only when the table was written, after the minute of checks.
   */
  @Test
  void selftestRefusesAJsonItCannotWriteBeforeRunning() {
    Run r = run("selftest", "--json", "/proc/irevnet-selftest.json", "--threads", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet selftest: /proc/irevnet-selftest.json: no such file or directory");
    assertThat(r.out()).as("refused before the table's first line").isEmpty();
  }

  /** Other ranges, in the same wording, checked before the run is loaded. */
  @Test
  void rangesAreRefusedByOptionNameBeforeTheRunLoads() {
    String[][] cases = {
        {"interpolate", "--steps", "1", "--steps must be at least 2, got 1"},
        {"invert", "--stability", "--ill-conditioned", "0.5", "--ill-conditioned must be at least 1, got 0.5"},
        {"invert", "--stability", "--iterations", "0", "--iterations must be at least 1, got 0"},
        {"cnf", "--target", "rings", "--lr", "Infinity", "--lr must be a finite number, got Infinity"},
        {"attack", "--attack", "pgd-linf", "--eps", "0.1,NaN", "--eps must be a finite number, got NaN"},
        {"attack", "--attack", "pgd-l2", "--step-size", "Infinity", "--step-size must be a finite number, got Infinity"},
        {"sample", "--temperature", "0", "--temperature must be above 0, got 0.0"},
        {"probe", "--layers", "--probe-layers", ",", "--probe-layers: no layers given"}};
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of(c).subList(0, c.length - 1));
      if (!c[0].equals("cnf")) args.addAll(List.of("--run", "no-such-run"));
      args.add("--no-progress");
      assertRefused(args, c[c.length - 1]);
    }
  }

  /** Another thread printing all along: the interruption line is the last one out, whole. */
  @Test
  void theInterruptionLineIsTheLastLineOnStandardError() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Interruption.LastWordStream err = new Interruption.LastWordStream(bytes);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.CountDownLatch printing = new java.util.concurrent.CountDownLatch(2);
    Thread printer = new Thread(() -> {
      for (int i = 0; !stop.get(); i++) {
        err.printf(Locale.ROOT, "step %d  loss %.4f%n", i, 1.0 / (i + 1));
        printing.countDown();
      }
    });
    printer.start();
    // After a sleep alone, a loaded machine could say the last line before the printer printed any.
    printing.await();
    Thread.sleep(20);
    err.last("irevnet train: interrupted");
    Thread.sleep(50);
    stop.set(true);
    printer.join();
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines.length).as("the other thread printed before").isGreaterThan(1);
    assertThat(lines[lines.length - 1]).isEqualTo("irevnet train: interrupted");
    assertThat(java.util.Arrays.copyOf(lines, lines.length - 1)).allMatch(l -> l.matches("step \\d+  loss [0-9.]+"));
  }

  /**
   * A process stopped mid-write (here a checkpoint directory and a report file, both half written)
   * leaves nothing behind: the JVM runs its shutdown hooks on SIGTERM, not the writers' cleanup.
   */
  @Test
  void aCommandStoppedWhileWritingLeavesNoTemporaries(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("run"));
    List<String> cmd = new ArrayList<>(PeerComparison.javaCommand(List.of(dir.toString())));
    cmd.set(cmd.indexOf(Main.class.getName()), StoppedMidWrite.class.getName());
    Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("err.txt").toFile()).start();
    try (var out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      assertThat(out.readLine()).isEqualTo("writing");
      try (var s = Files.list(dir)) {
        assertThat(s.toList()).as("both temporaries exist before the stop").hasSize(2);
      }
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).isEqualTo(143);
    List<String> err = Files.readAllLines(tmp.resolve("err.txt"));
    assertThat(err).last().isEqualTo("irevnet write: interrupted");
    try (var s = Files.list(dir)) {
      assertThat(s.toList()).isEmpty();
    }
  }

  /** The child process of the test above: a command that hangs in the middle of two writes. */
  static final class StoppedMidWrite {
    public static void main(String[] args) throws Exception {
      Interruption.install();
      Interruption.started("write");
      Path dir = Path.of(args[0]);
      Path ckpt = org.irevnet.io.AtomicFiles.createTemporary(dir.resolve("latest"), true);
      Files.writeString(ckpt.resolve("weights.npz"), "half");
      org.irevnet.io.AtomicFiles.write(dir.resolve("report.json"), out -> {
        out.write("{\"half\":".getBytes(StandardCharsets.UTF_8));
        out.flush();
        System.out.println("writing");
        System.out.flush();
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
  }

  /**
   * A command stopped inside a BLAS call that runs on several threads ends. The JVM waits about
   * 300 ms for a thread in native code, then exits under it: OpenBLAS's destructor marks its
   * worker threads to quit and joins them, but a worker that was running its share of the call
   * clears that mark when it finishes and waits for work for ever. The process hung at 0% CPU
   * (5 of 6 stops of a 4000 x 4000 product), or crashed in libopenblas.
   */
  @Test
  void aCommandStoppedInsideAMultithreadedBlasCallEnds(@TempDir Path tmp) throws Exception {
    for (int i = 0; i < 4; i++) {
      List<String> cmd = new ArrayList<>(PeerComparison.javaCommand(List.of()));
      cmd.set(cmd.indexOf(Main.class.getName()), StoppedInsideBlas.class.getName());
      Path errFile = tmp.resolve("err" + i + ".txt");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errFile.toFile());
      pb.environment().put("OMP_NUM_THREADS", "2");
      Process p = pb.start();
      try (var out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
        assertThat(out.readLine()).isEqualTo("multiplying");
        assertThat(Host.perfDataFile(p.pid())).as("the JVM's performance-data file").exists();
        Thread.sleep(200);
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("stop %d ended the process", i).isTrue();
      } finally {
        p.destroyForcibly();
      }
      assertThat(p.exitValue()).isEqualTo(143);
      assertThat(Files.readAllLines(errFile)).last().isEqualTo("irevnet multiply: interrupted");
      // Which the JVM's exit deletes, and the hook's _exit skipped.
      assertThat(Host.perfDataFile(p.pid())).doesNotExist();
    }
  }

  /** The child process of the test above: a command multiplying matrices on two BLAS threads, seconds a product. */
  static final class StoppedInsideBlas {
    public static void main(String[] args) {
      Interruption.install();
      Interruption.started("multiply");
      Host.setThreads(2);
      org.nd4j.linalg.api.ndarray.INDArray a = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.DOUBLE, 4000, 4000);
      System.out.println("multiplying");
      System.out.flush();
      while (true) a.mmul(a);
    }
  }

  /**
   * A stop before any command has started says so too: in the second or so the JVM takes to load
   * the command classes the process ended in silence, and stopped while the JVM started, with a
   * stack trace ("Shutdown in progress", from adding the hook).
   */
  @Test
  void aStopBeforeAnyCommandStartsIsOneLine(@TempDir Path tmp) throws Exception {
    for (String moment : new String[] {"before-a-command", "as-the-jvm-starts"}) {
      List<String> cmd = new ArrayList<>(PeerComparison.javaCommand(List.of(moment)));
      cmd.set(cmd.indexOf(Main.class.getName()), StoppedBeforeACommand.class.getName());
      Path errFile = tmp.resolve(moment + ".txt");
      Process p = new ProcessBuilder(cmd).redirectError(errFile.toFile()).start();
      try (var out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
        assertThat(out.readLine()).as(moment).isEqualTo("ready");
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      } finally {
        p.destroyForcibly();
      }
      assertThat(p.exitValue()).as(moment).isEqualTo(143);
      assertThat(org.irevnet.testing.ChildJvm.ownLines(Files.readAllLines(errFile))).as(moment)
          .containsExactly("irevnet: interrupted");
    }
  }

  /** The child process of the test above, stopped before a command starts or before it can install its hook. */
  static final class StoppedBeforeACommand {
    public static void main(String[] args) throws Exception {
      if (args[0].equals("as-the-jvm-starts")) {
        // The stop comes first; main installs its hook while the JVM's shutdown is under way.
        Thread stopped = new Thread(Interruption::install);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stopped.start();
          try {
            stopped.join();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }));
      } else {
        Interruption.install();
      }
      System.out.println("ready");
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  /** Before its last line the stream passes everything on, single bytes too; after it, nothing. */
  @Test
  void theLastWordStreamFallsSilentAfterItsLastLine() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Interruption.LastWordStream err = new Interruption.LastWordStream(bytes);
    err.print("step 1");
    err.write('!');
    err.last(" interrupted");
    err.print("epoch 1 done");
    err.write('!');
    err.flush();
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("step 1! interrupted" + System.lineSeparator());
  }

  /**
   * A command run by another in-process (as quickstart runs its steps) is pushed while it runs and
   * popped when it ends, however it ends: the outer one is what is running after.
   */
  @Test
  void aCommandRunsAsTheInnerOneOfTheRunningCommand() {
    Interruption.started("quickstart");
    try {
      Run r = run("bench", "--backward", "sideways", "--no-progress");
      assertThat(r.code()).isEqualTo(2);
      assertThat(Interruption.line()).isEqualTo("irevnet quickstart: interrupted");
    } finally {
      Interruption.finished();
    }
    assertThat(Interruption.line()).isNull();
  }

  /** --threads takes effect before a command checks the rest of its input (read back from ND4J's BLAS threads). */
  @Test
  void theThreadCountIsAppliedFirst() {
    int cores = Runtime.getRuntime().availableProcessors();
    String[][] cases = {{"attack", "--run", "no-such-run", "--attack", "cw"}, {"train", "--out", "x", "--resume", "--fresh"},
        {"bench", "--blocks", "--iterations", "0"}};
    // Each case starts below the count it asks for; RestoredThreadCounts puts the counts back after.
    for (String[] c : cases) {
      Host.setThreads(cores);
      List<String> args = new ArrayList<>(List.of(c));
      args.addAll(List.of("--threads", "" + (cores + 1), "--no-progress"));
      assertThat(run(args.toArray(String[]::new)).code()).as(c[0]).isEqualTo(2);
      assertThat(Nd4j.factory().blas().getMaxThreads()).as(c[0]).isEqualTo(cores + 1);
    }
  }

  /** --threads equal to the pool, or none, says nothing about it: the error stays one line. */
  @Test
  void aThreadCountThePoolHasIsNotRemarkedOn() {
    for (String[] threads : new String[][] {{"--threads", "" + Host.threads()}, {}}) {
      List<String> args = new ArrayList<>(List.of("bench", "--blocks", "--iterations", "0", "--no-progress"));
      args.addAll(List.of(threads));
      Run r = run(args.toArray(String[]::new));
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err().strip()).startsWith("irevnet bench: ").hasLineCount(1);
    }
  }

  /** A file-system error is bad input (2), named in one line by the path and the system's reason. */
  @Test
  void anIoErrorIsBadInput(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    Run r = run("quickstart", "--out", file.resolve("qs").toString(), "--no-progress");
    assertThat(r.code()).isEqualTo(2);
    // Named by what is in the way, as the analysis commands' --out is (AtomicFiles.checkCanCreate).
    assertThat(r.err().strip()).isEqualTo("irevnet quickstart: " + file + ": exists and is not a directory");
  }

  /** The interruption line names a command as typed: a subcommand with its parent, never the program. */
  @Test
  void aCommandIsNamedAsTyped() {
    picocli.CommandLine cl = new picocli.CommandLine(new Main());
    assertThat(Main.commandAsTyped(cl.getSubcommands().get("bench").getCommandSpec())).isEqualTo("bench");
    assertThat(Main.commandAsTyped(cl.getSubcommands().get("data").getSubcommands().get("shortcut").getCommandSpec()))
        .isEqualTo("data shortcut");
  }

  /** A hint or an end with nothing running changes nothing (the hooks call them at any time). */
  @Test
  void hintsAndEndsWithNothingRunningAreIgnored() {
    assertThat(Interruption.line()).isNull();
    Interruption.hint(() -> "continue with --resume");
    Interruption.finished();
    assertThat(Interruption.line()).isNull();
  }

  @Test
  void theInterruptionLineNamesTheRunningCommandOnlyWhileItRuns() {
    assertThat(Interruption.line()).isNull();
    Interruption.started("probe");
    assertThat(Interruption.line()).isEqualTo("irevnet probe: interrupted");
    Interruption.hint(() -> "continue with --resume");
    assertThat(Interruption.line()).isEqualTo("irevnet probe: interrupted; continue with --resume");
    Interruption.hint(() -> { throw new IllegalStateException("no run"); });
    assertThat(Interruption.line()).isEqualTo("irevnet probe: interrupted");
    Interruption.hint(() -> "start it again");
    Interruption.started("train");
    assertThat(Interruption.line()).as("a command run by another").isEqualTo("irevnet probe: interrupted during train; start it again");
    Interruption.hint(() -> "continue with --resume");
    assertThat(Interruption.line()).as("the inner one's hint is not for the user")
        .isEqualTo("irevnet probe: interrupted during train; start it again");
    Interruption.finished();
    assertThat(Interruption.line()).isEqualTo("irevnet probe: interrupted; start it again");
    Interruption.finished();
    assertThat(Interruption.line()).isNull();
    Run r = run("bench", "--batch", "many");
    assertThat(r.code()).isEqualTo(2);
    assertThat(Interruption.line()).as("a command that ended is not running").isNull();
  }

  @Test
  void helpListsTheCommands() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("selftest").contains("bench");
  }

  @Test
  void everyCommandsHelpRendersCleanly() {
    for (String name : new picocli.CommandLine(new Main()).getSubcommands().keySet()) {
      if (name.equals("help")) continue;
      Run r = run(name, "--help");
      assertThat(r.code()).as(name).isZero();
      // Descriptions are format strings: a bare '%' (as in "5-18% faster") makes picocli print
      // a warning and the raw text.
      assertThat(r.out() + r.err()).as(name).doesNotContain("picocli WARN").doesNotContain("Could not format");
      // Each line of a paragraph must be full: the next line's first word would not have fit on it
      // (picocli fills description lines to at most 79 of its 80 columns). Descriptions written as
      // ~90-character source lines used to come out with one- and two-word orphans ("shipped").
      List<String> lines = r.out().lines().toList();
      int i = 0;
      while (!lines.get(i).startsWith("Usage:")) i++;
      i++;
      while (i < lines.size() && lines.get(i).startsWith(" ")) i++;   // the synopsis's continuation
      int checked = 0;
      for (; i + 1 < lines.size() && !lines.get(i).startsWith(" "); i++) {
        String line = lines.get(i), next = lines.get(i + 1);
        if (line.isEmpty() || next.isEmpty() || next.startsWith(" ")) continue;
        assertThat(line.length() + 1 + next.split(" ")[0].length()).as(name + ": \"" + line + "\"").isGreaterThan(79);
        checked++;
      }
      if (name.equals("bench")) assertThat(checked).isGreaterThan(10);
    }
  }

  @Test
  void benchAgainstAPeerAlternatesFreshProcessesAndPrintsRatiosOfMedians(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("tiny.json"), TINY);
    // A stand-in for the PyTorch twin: records its arguments, answers with fixed numbers.
    Path calls = dir.resolve("calls.txt");
    Path peer = Files.writeString(dir.resolve("peer.sh"), "#!/bin/sh\necho \"$@\" >> " + shellWord(calls) + "\n"
        + "echo 'some log line'\n"
        + "echo '{\"peer\": \"fake\", \"train_step_ms\": 2.0, \"forward_ms\": 0.5, \"inverse_ms\": 0.25, \"peak_rss_mib\": 1000.0}'\n");
    Run r = run("bench", "--arch", arch.toString(), "--batch", "4", "--steps", "1", "--warmup", "0", "--threads", "1",
        "--peer", "/bin/sh " + shellWord(peer), "--rounds", "2");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().strip().lines().toList();
    assertThat(lines).hasSize(5);
    assertThat(r.err().lines().filter(l -> l.startsWith("bench: "))).containsExactly(
        "bench: 1 of 4 runs done", "bench: 2 of 4 runs done", "bench: 3 of 4 runs done", "bench: 4 of 4 runs done");
    // Round 1: ours then the peer; round 2: the peer first.
    assertThat(lines.get(0)).contains("\"arch\":\"tiny\"");
    assertThat(lines.get(1)).contains("\"peer\": \"fake\"");
    assertThat(lines.get(2)).contains("\"peer\": \"fake\"");
    assertThat(lines.get(3)).contains("\"arch\":\"tiny\"");
    assertThat(Files.readAllLines(calls)).containsExactly("--threads 1 --steps 1 --batch 4 --warmup 0",
        "--threads 1 --steps 1 --batch 4 --warmup 0");
    JsonNode a = Json.MAPPER.readTree(lines.get(0)), b = Json.MAPPER.readTree(lines.get(3));
    assertThat(List.of(a.get("threads").asInt(), b.get("threads").asInt())).as("as many as the peer's").containsOnly(1);
    JsonNode s = Json.MAPPER.readTree(lines.get(4));
    assertThat(s.get("rounds").asInt()).isEqualTo(2);
    assertThat(s.get("peer").asText()).isEqualTo("fake");
    double medianStep = (a.get("train_step_ms").asDouble() + b.get("train_step_ms").asDouble()) / 2;
    assertThat(s.get("train_step_ms_ratio").asDouble()).isCloseTo(medianStep / 2.0, within(2e-3 * medianStep));
    // Ours is the process's peak, as the peer's ru_maxrss is, not the timed steps' own.
    double medianRss = (a.get("process_peak_rss_mib").asDouble() + b.get("process_peak_rss_mib").asDouble()) / 2;
    assertThat(s.get("peak_rss_mib_ratio").asDouble()).isCloseTo(medianRss / 1000.0, within(1e-3));
    assertThat(s.get("peak_rss_mib").get("peer").asDouble()).isEqualTo(1000.0);

    // A peer that fails or prints no JSON is a failed run (3), named in one line.
    Path broken = Files.writeString(dir.resolve("broken.sh"), "#!/bin/sh\necho 'no json here'\n");
    Run f = run("bench", "--arch", arch.toString(), "--batch", "4", "--steps", "1", "--warmup", "0", "--threads", "1",
        "--peer", "/bin/sh " + shellWord(broken), "--rounds", "1", "--no-progress");
    assertThat(f.code()).isEqualTo(3);
    assertThat(f.err()).contains("the peer failed (exit code 0, no JSON line): nothing on stderr");
    Path failing = Files.writeString(dir.resolve("failing.sh"),
        "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
    Run g = run("bench", "--arch", arch.toString(), "--batch", "4", "--steps", "1", "--warmup", "0", "--threads", "1",
        "--peer", "/bin/sh " + shellWord(failing), "--rounds", "1", "--no-progress");
    assertThat(g.code()).isEqualTo(3);
    assertThat(g.err().strip()).as("its reason, from its stderr")
        .endsWith("the peer failed (exit code 1, no JSON line): ModuleNotFoundError: No module named 'torch'");
  }
}
