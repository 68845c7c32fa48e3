package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.cli.MainTest.Run;
import org.irevnet.host.Host;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code bench} in this process (the modes that start other processes are in MainTest): its JSON
 * lines, its progress on stderr, and the combinations of options it refuses. Times and memory are
 * never checked, only that the fields are there and say what was run.
 */
class BenchCommandTest {

  /**
   * The progress of {@code total} steps as bench writes it on a stderr that is no terminal (a log,
   * as here): a line at each tenth of the steps ({@link StatusLine}), so one a step up to 11.
   */
  private static String progress(int total) {
    assertThat(total).as("a line a step").isLessThanOrEqualTo(11);
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= total; i++) b.append("bench: step ").append(i).append('/').append(total).append(System.lineSeparator());
    return b.toString();
  }

  /**
   * {@code bench --arch tiny.json --batch 4 --threads T args}, where T is one BLAS thread more than
   * this process has; the run must leave the BLAS threads at T (they are put back after).
   */
  private static Run bench(Path dir, String... args) throws Exception {
    Path arch = Files.writeString(dir.resolve("tiny.json"), TinyData.ARCH);
    int blas = Nd4j.factory().blas().getMaxThreads(), threads = aboveThePool();
    List<String> all = new ArrayList<>(List.of("bench", "--arch", arch.toString(), "--batch", "4", "--threads", "" + threads));
    all.addAll(List.of(args));
    try {
      Run r = MainTest.run(all.toArray(String[]::new));
      assertThat(Nd4j.factory().blas().getMaxThreads()).as("--threads applied").isEqualTo(threads);
      return r;
    } finally {
      Host.setThreads(blas);
    }
  }

  /**
   * A thread count above this JVM's pool, whatever an earlier in-process command's --threads left
   * BLAS at: one above BLAS's count alone was the pool's size after a quickstart test's --threads 1,
   * and the note this class checks was not printed (the tests failed in that order).
   */
  private static int aboveThePool() {
    return Math.max(Nd4j.factory().blas().getMaxThreads(), Host.threads()) + 1;
  }

  @Test
  void benchPrintsOneJsonLineWithEveryField(@TempDir Path dir) throws Exception {
    int threads = aboveThePool();
    Run r = bench(dir, "--steps", "2", "--warmup", "1");
    assertThat(r.code()).as(r.err()).isZero();
    // In-process, --threads cannot resize the pool this JVM was started with, and says so.
    assertThat(threads).isNotEqualTo(Host.threads());
    String note = "--threads " + threads + " sets BLAS's threads, but ND4J's pool keeps the " + Host.threads()
        + " that OMP_NUM_THREADS gave it at start-up: run through bin/irevnet, which sets it from --threads, or set"
        + " OMP_NUM_THREADS=" + threads + System.lineSeparator();
    assertThat(r.err()).startsWith(note);
    assertThat(r.out().strip().lines()).hasSize(1);
    JsonNode j = Json.MAPPER.readTree(r.out());
    for (String f : new String[] {"arch", "batch", "threads", "params", "train_step_ms", "train_images_per_s",
        "forward_ms", "inverse_ms", "recon_max_abs_err_f32", "recon_max_abs_err_f64", "peak_rss_mib", "process_peak_rss_mib",
        "param_state_mib", "working_rss_mib",
        "native_in_use_mib", "native_free_mib",
        "steps", "warmup"}) {
      assertThat(j.has(f)).as(f).isTrue();
    }
    assertThat(j.get("arch").asText()).isEqualTo("tiny");
    assertThat(j.get("batch").asInt()).isEqualTo(4);
    assertThat(j.get("steps").asInt()).isEqualTo(2);
    assertThat(j.get("warmup").asInt()).isEqualTo(1);
    assertThat(j.get("depth_mult").asInt()).isEqualTo(1);
    // --threads sets the BLAS threads; the JSON names libnd4j's OpenMP pool, which only
    // OMP_NUM_THREADS at start-up sets (bin/irevnet sets it from --threads).
    assertThat(j.get("threads").asInt()).isEqualTo(Host.threads());
    assertThat(j.get("recon_max_abs_err_f32").asDouble()).isLessThanOrEqualTo(1e-5);
    assertThat(j.get("recon_max_abs_err_f64").asDouble()).isLessThanOrEqualTo(1e-12);
    assertThat(r.out()).doesNotContain("Added differentiated op").doesNotContain("INFO");
    assertThat(j.get("backward").asText()).isEqualTo("reversible");
    assertThat(j.get("stored_activation_mib").asDouble()).isZero();
    assertThat(r.err()).as("a step counter over warm-up and timed steps").endsWith(progress(3));

    Run s = bench(dir, "--steps", "2", "--warmup", "0", "--no-progress", "--backward", "stored");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.err()).isEqualTo(note);
    JsonNode st = Json.MAPPER.readTree(s.out());
    assertThat(st.get("backward").asText()).isEqualTo("stored");
    assertThat(st.get("stored_activation_mib").asDouble()).isPositive();
    assertThat(st.get("recon_max_abs_err_f32").asDouble()).isLessThanOrEqualTo(1e-5);
  }

  /** --backward both: one line with both passes' medians; progress over warm-up and both passes' rounds. */
  @Test
  void bothBackwardPassesInOneLine(@TempDir Path dir) throws Exception {
    Run both = bench(dir, "--steps", "2", "--warmup", "3", "--rounds", "2", "--backward", "both");
    assertThat(both.code()).as(both.err()).isZero();
    assertThat(both.out().strip().lines()).hasSize(1);
    JsonNode c = Json.MAPPER.readTree(both.out());
    assertThat(c.get("reversible_train_step_ms").asDouble()).isPositive();
    assertThat(c.get("stored_train_step_ms").asDouble()).isPositive();
    assertThat(c.get("stored_reversible_ratio").asDouble()).isPositive();
    assertThat(c.get("rounds").asInt()).isEqualTo(2);
    assertThat(c.get("steps_per_round").asInt()).isEqualTo(2);
    assertThat(both.err()).as("3 warm-up steps, then 2 rounds of 2 steps of each pass").endsWith(progress(11));
    // The schedule: the warm-up alternates from the reversible pass, and so does the first pass of a round.
    assertThat(c.get("warmup_steps_reversible").asInt()).isEqualTo(2);
    assertThat(c.get("warmup_steps_stored").asInt()).isEqualTo(1);
    assertThat(c.get("passes_by_round").toString()).isEqualTo("[[\"reversible\",\"stored\"],[\"stored\",\"reversible\"]]");
  }

  /**
   * bench --blocks in this JVM (--forks 0) on a one-stage net, one measured iteration and none of
   * warm-up: a line for the stage and one for the whole net on stdout. JMH's report, on stderr,
   * shows the settings it was given; --no-progress silences it. The benchmarks' set-up gives this
   * JVM's BLAS the thread count bench passes, this process's pool, so BLAS is set one above first.
   */
  @Test
  void blocksPrintsALinePerStageAndTheSumThroughTheCommand(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("one.json"), """
        {"name": "one", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true}]}""");
    int blas = Nd4j.factory().blas().getMaxThreads(), pool = Host.threads();
    List<Run> runs = new ArrayList<>();
    try {
      for (boolean quiet : new boolean[] {true, false}) {
        Host.setThreads(pool + 1);
        List<String> args = new ArrayList<>(List.of("bench", "--arch", arch.toString(), "--batch", "2", "--blocks",
            "--forks", "0", "--warmup-iterations", "0", "--iterations", "1"));
        if (quiet) args.add("--no-progress");
        runs.add(MainTest.run(args.toArray(String[]::new)));
        assertThat(Nd4j.factory().blas().getMaxThreads()).as("set by the set-up in this JVM").isEqualTo(pool);
      }
    } finally {
      Host.setThreads(blas);
    }
    for (Run r : runs) {
      assertThat(r.code()).as(r.err()).isZero();
      List<String> lines = r.out().strip().lines().toList();
      assertThat(lines).hasSize(2);
      JsonNode stage = Json.MAPPER.readTree(lines.get(0)), total = Json.MAPPER.readTree(lines.get(1));
      assertThat(stage.get("stage").asInt()).isEqualTo(0);
      assertThat(stage.get("layer").asText()).isEqualTo("stage0");
      assertThat(stage.get("input").asText()).isEqualTo("4x16x16");
      assertThat(stage.get("blocks").toString()).isEqualTo("[\"ActNorm\",\"AffineCoupling\"]");
      for (String k : new String[] {"forward", "inverse", "backward"}) {
        assertThat(stage.get(k + "_ms").asDouble()).as(k).isPositive().isFinite();
        assertThat(stage.get(k + "_ms_error").isNull()).as("no error from one iteration").isTrue();
        assertThat(total.get(k + "_ms").asDouble()).as("one step: the total is the stage").isEqualTo(stage.get(k + "_ms").asDouble());
      }
      assertThat(total.get("arch").asText()).isEqualTo("one");
    }
    assertThat(runs.get(0).err()).isEmpty();
    assertThat(runs.get(1).err()).contains("# Warmup: <none>", "# Measurement: 1 iterations, 1000 ms each",
        "# Fork: N/A, test runs in the host VM", "# Parameters: (arch = " + arch + ", batch = 2, stage = 0, threads = " + pool + ")");
  }

  /**
   * A child benchmark (of --depth-curve and --peer) gets every setting that shapes the run, at its
   * depth multiplier, with --threads (or this process's pool) both as the option and as
   * OMP_NUM_THREADS, which alone sizes the child's pool. Its lines are printed as they come, and
   * each run's end is counted on stderr unless --no-progress.
   */
  @Test
  void aChildBenchmarkGetsTheRunsSettingsAndItsLinesArePrinted() {
    BenchCommand told = parsed("--arch", "a.json", "--batch", "3", "--steps", "2", "--warmup", "1", "--threads", "5",
        "--backward", "stored");
    ProcessBuilder child = told.childBench(4);
    List<String> cmd = child.command();
    assertThat(cmd.subList(cmd.indexOf(Main.class.getName()) + 1, cmd.size())).containsExactly("bench", "--arch", "a.json",
        "--batch", "3", "--steps", "2", "--warmup", "1", "--threads", "5", "--backward", "stored", "--depth-mult", "4",
        "--no-progress");
    assertThat(child.environment()).containsEntry("OMP_NUM_THREADS", "5");
    BenchCommand untold = parsed("--no-progress");
    assertThat(untold.childBench(1).environment()).containsEntry("OMP_NUM_THREADS", "" + Host.threads());
    assertThat(untold.childBench(1).command()).containsSequence("--threads", "" + Host.threads());

    Run loud = captured(() -> {
      java.util.function.Consumer<String> out = told.printing(2);
      out.accept("{\"a\": 1}");
      out.accept("{\"a\": 2}");
    });
    String nl = System.lineSeparator();
    assertThat(loud.out()).isEqualTo("{\"a\": 1}" + nl + "{\"a\": 2}" + nl);
    assertThat(loud.err()).isEqualTo("bench: 1 of 2 runs done" + nl + "bench: 2 of 2 runs done" + nl);
    Run quiet = captured(() -> untold.printing(1).accept("{}"));
    assertThat(quiet.out()).isEqualTo("{}" + nl);
    assertThat(quiet.err()).isEmpty();
  }

  /** What {@code r} prints on stdout and stderr. */
  private static Run captured(Runnable r) {
    PrintStream out = System.out, err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
    System.setOut(new PrintStream(o, true));
    System.setErr(new PrintStream(e, true));
    try {
      r.run();
      return new Run(0, o.toString(), e.toString());
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** A bench command with {@code args} parsed, not run. */
  private static BenchCommand parsed(String... args) {
    BenchCommand b = new BenchCommand();
    new picocli.CommandLine(b).parseArgs(args);
    return b;
  }

  /** bench's combinations of modes, refused by name before anything is measured or started. */
  @Test
  void benchRefusesModesThatDoNotCombine() {
    String blocks = "--blocks takes neither --peer, --depth-mult nor --backward";
    String curve = "--depth-curve takes neither --peer, --blocks, --backward both nor --depth-mult";
    String multipliers = "--depth-curve needs two or more distinct multipliers >= 1, got ";
    String[][] cases = {
        {"--warmup", "-1", "--warmup must be at least 0, got -1"},
        {"--steps", "0", "--steps must be at least 1, got 0"},
        {"--batch", "0", "--batch must be at least 1, got 0"},
        {"--depth-mult", "0", "--depth-mult must be at least 1, got 0"},
        // They wrapped round the int step count: no step run and a step of 0 ms printed (exit code
        // 0), and a negative array size (exit code 3).
        {"--warmup", "2147483647", "--warmup 2147483647 and --steps 10 make 2147483657 steps, more than the 2147483647"
            + " a run can count"},
        {"--backward", "both", "--rounds", "65536", "--steps", "32768", "--warmup", "0", "--warmup 0 and 65536 rounds"
            + " of two passes of --steps 32768 make 4294967296 steps, more than the 2147483647 a run can count"},
        // It crashed the JVM in native code (SIGSEGV, exit code 134) allocating the images. Refused
        // on memory or, on a machine with more than 1144 GiB, on one array's size: both messages start so.
        {"--batch", "100000000", "--batch 100000000: the benchmark's arrays "},
        {"--blocks", "--batch", "3000000", "--batch 3000000: the benchmark's arrays "},
        {"--depth-curve", "1,2", "--batch", "3000000", "--batch 3000000: the benchmark's arrays "},
        {"--blocks", "--peer", "true", blocks},
        {"--blocks", "--backward", "stored", blocks},
        {"--blocks", "--iterations", "0", "--iterations must be at least 1, got 0"},
        {"--blocks", "--forks", "-1", "--forks must be at least 0, got -1"},
        {"--blocks", "--warmup-iterations", "-1", "--warmup-iterations must be at least 0, got -1"},
        // Options the mode does not read: they ran as if not given.
        {"--iterations", "3", "--iterations applies to --blocks only"},
        {"--forks", "0", "--forks applies to --blocks only"},
        {"--depth-curve", "1,2", "--warmup-iterations", "1", "--warmup-iterations applies to --blocks only"},
        {"--blocks", "--steps", "5", "--steps does not apply to --blocks (it times iterations of 1 s: --iterations and"
            + " --warmup-iterations)"},
        {"--blocks", "--warmup", "0", "--warmup does not apply to --blocks (it times iterations of 1 s: --iterations and"
            + " --warmup-iterations)"},
        {"--rounds", "5", "--rounds applies to --peer, --backward both and --depth-curve only"},
        {"--backward", "stored", "--rounds", "2", "--rounds applies to --peer, --backward both and --depth-curve only"},
        {"--backward", "both", "--rounds", "0", "--rounds must be at least 1, got 0"},
        {"--backward", "both", "--peer", "true", "--backward both takes no --peer"},
        {"--peer", "true", "--rounds", "0", "--rounds must be at least 1, got 0"},
        {"--depth-curve", "1,2", "--rounds", "0", "--rounds must be at least 1, got 0"},
        {"--depth-curve", "1,4", "--peer", "true", curve},
        {"--depth-curve", "1,2", "--blocks", curve},
        {"--depth-curve", "1,2", "--backward", "both", curve},
        {"--depth-curve", "1,2", "--depth-mult", "2", curve},
        {"--depth-curve", "1", multipliers + "[1]"},
        {"--depth-curve", "1,1", multipliers + "[1, 1]"},
        {"--depth-curve", "0,2", multipliers + "[0, 2]"},
        {"--depth-curve", "1,2", "--arch", "no-such-arch", "unknown architecture 'no-such-arch'"},
        // Found in its child process only, after the runs before it: a failed run (exit code 3).
        {"--depth-curve", "5000,1", "fi-revnet-s-x5000: stage 0: 'steps' must be at most 1000, got 15000"},
        // Loaded in our round's child process only, it came back as a failed run (exit 3).
        {"--peer", "true", "--arch", "no-such-arch", "unknown architecture 'no-such-arch'"},
        {"--peer", " ", "--peer needs a command"},
        {"--peer", "true", "--depth-mult", "2", "--peer compares at --depth-mult 1 only (the PyTorch twin has no depth option)"}};
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("bench", "--no-progress"));
      args.addAll(List.of(c).subList(0, c.length - 1));
      Run r = MainTest.run(args.toArray(String[]::new));
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err().strip()).as(String.join(" ", args)).startsWith("irevnet bench: " + c[c.length - 1]);
      assertThat(r.err().strip().lines()).hasSize(1);
      assertThat(r.out()).isEmpty();
    }
  }

  /**
   * An architecture whose stages have no steps (legal for the analyses: a body of squeezes) has
   * nothing to train: refused in one line in every mode that trains, as train refuses it. The
   * optimiser's set-up stopped on it with "java.util.NoSuchElementException" (exit code 3), and the
   * child processes of --depth-curve and --peer with it.
   */
  @Test
  void anArchitectureWithoutParametersIsRefusedInEveryTrainingMode(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("squeezes.json"), """
        {"name": "squeezes", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
         "stages": [{"steps": 0}, {"steps": 0}]}""");
    String[][] modes = {{}, {"--backward", "both", "--rounds", "1"}, {"--depth-curve", "1,2", "--rounds", "1"},
        {"--peer", "true", "--rounds", "1"}};
    for (String[] mode : modes) {
      List<String> args = new ArrayList<>(List.of("bench", "--arch", arch.toString(), "--batch", "2", "--steps", "1",
          "--warmup", "0", "--no-progress"));
      args.addAll(List.of(mode));
      Run r = MainTest.run(args.toArray(String[]::new));
      assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet bench: --arch 'squeezes' has no parameters to train (no stage has a step)");
      assertThat(r.out()).isEmpty();
    }
  }

  /**
   * A --peer whose program is not there is bad input, named in one line before any round runs:
   * it was a failed run (exit 3, "the peer failed (exit code 127 ...)") after a whole round of
   * ours. The first word is looked up as /bin/sh would run it: a path must be an executable file
   * (sh says "Permission denied" for the others), a name a command sh finds. Our side would print
   * a JSON line if it ran, so the empty standard output says none did.
   */
  @Test
  void aPeerCommandThatIsNotThereIsRefusedBeforeAnyRound(@TempDir Path dir) throws Exception {
    Path arch = Files.writeString(dir.resolve("tiny.json"), TinyData.ARCH);
    Path script = Files.writeString(dir.resolve("peer.sh"), "#!/bin/sh\n"); // not executable: written without x bits
    // A path with a space is quoted, and read as sh reads it: it went unchecked (a round of ours, then exit 3).
    Path spaced = Files.writeString(Files.createDirectories(dir.resolve("my peers")).resolve("peer.sh"), "#!/bin/sh\n");
    String[][] cases = {
        {"/no/such/python x.py", "--peer: /no/such/python: command not found"},
        {"no-such-command-of-irevnet --flag", "--peer: no-such-command-of-irevnet: command not found"},
        {MainTest.shellWord(script) + " --flag", "--peer: " + script + ": not an executable file"},
        {MainTest.shellWord(dir), "--peer: " + dir + ": not an executable file"},
        {MainTest.shellWord(spaced) + " --flag", "--peer: " + spaced + ": not an executable file"},
        {"\"/no/such dir/python\" x.py", "--peer: /no/such dir/python: command not found"}};
    for (String[] c : cases) {
      Run r = MainTest.run("bench", "--arch", arch.toString(), "--batch", "2", "--steps", "1", "--warmup", "0",
          "--rounds", "1", "--threads", "1", "--no-progress", "--peer", c[0]);
      assertThat(r.code()).as(c[0] + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet bench: " + c[1]);
      assertThat(r.out()).as(c[0]).isEmpty();
    }
  }
}
