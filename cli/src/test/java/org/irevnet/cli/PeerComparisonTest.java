package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerComparisonTest {

  /** A JSON line with every field {@code runOnce} checks for. */
  private static final String FULL = "{\"train_step_ms\": 2.0, \"forward_ms\": 0.5, \"inverse_ms\": 0.25, \"peak_rss_mib\": 9.0}";

  /** A process running {@code script} in /bin/sh. */
  private static ProcessBuilder sh(String script) {
    return new ProcessBuilder("/bin/sh", "-c", script);
  }

  @Test
  void thePeerRunsWithoutTheVariablesTheLauncherSetAndWithEverythingElse() {
    String kept = System.getenv().keySet().stream().filter(k -> !k.equals("PATH")).findFirst().orElseThrow();
    ProcessBuilder pb = PeerComparison.peerProcess("/usr/bin/python3 twin.py", List.of("--threads", "2"), " PATH  NOT_SET_ANYWHERE ");
    assertThat(pb.environment()).doesNotContainKey("PATH").containsKey(kept);
    assertThat(pb.command()).containsExactly("/bin/sh", "-c", "/usr/bin/python3 twin.py \"$@\"", "peer", "--threads", "2");
    assertThat(PeerComparison.peerProcess("x", List.of(), null).environment()).containsKey("PATH");
  }

  /** Of log lines, half objects and two JSON lines, the last whole one, without its indentation. */
  @Test
  void theResultIsTheLastLineThatIsAWholeJsonObject() throws Exception {
    String first = FULL.replace("2.0", "1.0");
    String script = "echo 'starting {'; echo '" + first + "'; echo '   " + FULL + "  '; echo '{ not closed';"
        + " echo 'closed only }'; echo 'done'";
    assertThat(PeerComparison.runOnce(sh(script), "the peer")).isEqualTo(FULL);
  }

  /** A failure names the last non-empty line on stderr, and says "no JSON line" only when there was none. */
  @Test
  void aFailureSaysItsExitCodeAndTheLastLineOnStandardError() {
    String stderr = "echo 'Traceback' >&2; echo 'KeyError: x' >&2; echo '' >&2; echo '   ' >&2;";
    assertThatThrownBy(() -> PeerComparison.runOnce(sh(stderr + " echo '" + FULL + "'; exit 4"), "the peer"))
        .isInstanceOf(IllegalStateException.class).hasMessage("the peer failed (exit code 4): KeyError: x");
    assertThatThrownBy(() -> PeerComparison.runOnce(sh(stderr + " echo 'no json'"), "irevnet bench"))
        .hasMessage("irevnet bench failed (exit code 0, no JSON line): KeyError: x");
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("exit 3"), "the peer"))
        .hasMessage("the peer failed (exit code 3, no JSON line): nothing on stderr");
  }

  @Test
  void aJsonLineWithoutOneOfTheComparedNumbersIsRefused() {
    String noInverse = "{\"train_step_ms\": 2.0, \"forward_ms\": 0.5, \"inverse_ms\": \"fast\", \"peak_rss_mib\": 9.0}";
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("echo '" + noInverse + "'"), "the peer"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the peer printed no number for inverse_ms: " + noInverse);
    // A negative time made a ratio of -9.9, printed as a measurement.
    String negative = "{\"train_step_ms\": -2.0, \"forward_ms\": 0.5, \"inverse_ms\": 0.5, \"peak_rss_mib\": 9.0}";
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("echo '" + negative + "'"), "the peer"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the peer printed a negative train_step_ms: " + negative);
  }

  /**
   * A side that prints one JSON line per call, taking its numbers in turn from {@code values}
   * (one per call, the same for every field, over again when they run out) and appending its
   * arguments to {@code calls}.
   */
  private static String counting(Path dir, String name, double[] values, Path calls) throws Exception {
    Path counter = dir.resolve(name + ".n");
    StringBuilder cases = new StringBuilder();
    for (int i = 0; i < values.length; i++) cases.append(i).append(") v=").append(values[i]).append(";; ");
    return Files.writeString(dir.resolve(name + ".sh"), "n=$(cat " + MainTest.shellWord(counter) + " 2>/dev/null || echo 0)\n"
        + "echo $((n + 1)) > " + MainTest.shellWord(counter) + "\n"
        + "case $((n % " + values.length + ")) in " + cases + "esac\n"
        + "echo \"" + name + " $*\" >> " + MainTest.shellWord(calls) + "\n"
        + "echo '{\"peer\": \"" + name + "\", \"train_step_ms\": '$v', \"forward_ms\": '$v', \"inverse_ms\": '$v',"
        + " \"peak_rss_mib\": '$v'}'\n").toString();
  }

  /**
   * Three rounds, ours first in the first and third: the lines come in that order, the peer gets
   * its arguments each time, and the summary holds the medians and their ratio. Ours print 10, 40,
   * 20 (median 20), the peer 3, 1, 9 (median 3): the ratio 20/3 = 6.667 to three decimals.
   */
  @Test
  void roundsAlternateWhichSideGoesFirstAndTheRatiosAreOfTheMedians(@TempDir Path dir) throws Exception {
    Path calls = dir.resolve("calls.txt");
    String ours = counting(dir, "ours", new double[] {10, 40, 20}, calls);
    String peer = counting(dir, "twin", new double[] {3, 1, 9}, calls);
    List<String> lines = new ArrayList<>();
    Map<String, Object> s = PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(ours)),
        "/bin/sh " + MainTest.shellWord(peer),
        List.of("--steps", "2"), 3, lines::add);
    assertThat(Files.readAllLines(calls)).containsExactly("ours ", "twin --steps 2", "twin --steps 2", "ours ", "ours ",
        "twin --steps 2");
    assertThat(lines).hasSize(6);
    assertThat(lines.get(1)).contains("\"twin\"").contains(": 3.0,");
    assertThat(lines.get(3)).contains("\"ours\"").contains(": 40.0,");
    assertThat(s).containsEntry("rounds", 3).containsEntry("peer", "twin");
    for (String f : PeerComparison.FIELDS) {
      assertThat(s).containsEntry(f, Map.of("ours", 20.0, "peer", 3.0)).containsEntry(f + "_ratio", 6.667);
    }
  }

  /**
   * A peer that times a pass at 0.0 ms (its own rounding of a tiny model's forward pass): the
   * ratio over it is infinite, and 0 over 0 is undefined. Rounding once turned the first into
   * 9.2e15 (Math.round saturating) and the second into 0.0, both finite and wrong.
   */
  @Test
  void aRatioOverAZeroMedianIsNotAFiniteNumber(@TempDir Path dir) throws Exception {
    Path calls = dir.resolve("calls.txt");
    String ours = counting(dir, "ours", new double[] {2}, calls);
    String peer = counting(dir, "twin", new double[] {0}, calls);
    Map<String, Object> s = PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(ours)),
        "/bin/sh " + MainTest.shellWord(peer), List.of(), 1, l -> {});
    assertThat(s).containsEntry("forward_ms_ratio", Double.POSITIVE_INFINITY);
    String zeros = counting(dir, "zeros", new double[] {0}, calls);
    Map<String, Object> z = PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(zeros)),
        "/bin/sh " + MainTest.shellWord(peer), List.of(), 1, l -> {});
    assertThat((Double) z.get("forward_ms_ratio")).isNaN();
  }

  /**
   * A peer that measured another network (another parameter count or batch than ours) is refused
   * after the first pair of lines, naming both: it was timed against ours and its ratios printed.
   * A peer that prints neither field is compared as before.
   */
  @Test
  void aPeerThatMeasuredAnotherNetworkIsRefused(@TempDir Path dir) throws Exception {
    Path calls = dir.resolve("calls.txt");
    String ours = Files.writeString(dir.resolve("ours.sh"), "echo ours >> " + MainTest.shellWord(calls) + "; echo '{\"arch\": \"tiny\","
        + " \"params\": 1234, \"batch\": 64, \"train_step_ms\": 1, \"forward_ms\": 1, \"inverse_ms\": 1,"
        + " \"peak_rss_mib\": 1}'\n").toString();
    String twin = Files.writeString(dir.resolve("twin.sh"), "echo twin >> " + MainTest.shellWord(calls) + "; echo '{\"peer\": \"twin\","
        + " \"params\": 3658356, \"batch\": 64, \"train_step_ms\": 2, \"forward_ms\": 2, \"inverse_ms\": 2,"
        + " \"peak_rss_mib\": 2}'\n").toString();
    assertThatThrownBy(() -> PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(ours)),
        "/bin/sh " + MainTest.shellWord(twin), List.of(), 3, l -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--peer measured another network: its params 3658356, ours 1234 (tiny): compare the architecture"
            + " and --batch the peer runs");
    assertThat(Files.readAllLines(calls)).as("refused after the first pair").containsExactly("ours", "twin");
    String otherBatch = Files.writeString(dir.resolve("batch.sh"), "echo '{\"peer\": \"b\", \"params\": 1234,"
        + " \"batch\": 8, \"train_step_ms\": 2, \"forward_ms\": 2, \"inverse_ms\": 2, \"peak_rss_mib\": 2}'\n").toString();
    assertThatThrownBy(() -> PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(ours)),
        "/bin/sh " + MainTest.shellWord(otherBatch), List.of(), 1, l -> {}))
        .hasMessageStartingWith("--peer measured another network: its batch 8, ours 64 (tiny)");
    String silent = counting(dir, "silent", new double[] {2}, calls);
    assertThat(PeerComparison.run(sh("/bin/sh " + MainTest.shellWord(ours)),
        "/bin/sh " + MainTest.shellWord(silent), List.of(), 1, l -> {}))
        .containsEntry("train_step_ms_ratio", 0.5);
  }

  /**
   * The peer's first word, which is checked before any round, is the word sh runs: each command's
   * against sh's own reading of it. Words sh would expand, assignments and empty words are left to sh.
   */
  @Test
  void thePeersFirstWordIsTheOneShReads() throws Exception {
    String[] commands = {"/usr/bin/python3 x.py", "'/opt/my tools/twin.py' --threads 2", "\"/opt/my tools/twin.py\"",
        "/opt/my\\ tools/twin.py --x", "'/a'\\''b/c' d", "py'th'on3 -c 1", "  python3"};
    for (String c : commands) {
      Process sh = new ProcessBuilder("/bin/sh", "-c", "set -- " + c + "; printf %s \"$1\"").start();
      String read = new String(sh.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(sh.waitFor()).as(c).isZero();
      assertThat(PeerComparison.firstWord(c)).as(c).isEqualTo(read);
    }
    for (String left : new String[] {"\"$HOME/x\" a", "X=1 python3", "~/x", "*.py", "$(which python3)", "", "'' x",
        "'unclosed"}) {
      assertThat(PeerComparison.firstWord(left)).as(left).isNull();
    }
  }

  /**
   * Python's json.dumps prints a NaN as the bare token NaN, which is no JSON: the peer's line is
   * refused as the peer's failure, naming it, like any other line it printed wrong.
   */
  @Test
  void aLineThatLooksLikeJsonButIsNotIsThePeersFailure() {
    String nan = FULL.replace("9.0", "NaN");
    assertThatThrownBy(() -> PeerComparison.runOnce(sh("echo '" + nan + "'"), "the peer"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the peer printed a line that is not JSON: " + nan);
  }

  /**
   * Our side's child: this JVM's own java, options and class path running Main, with the OpenMP
   * pool sized by the environment (libnd4j reads OMP_NUM_THREADS only when it loads).
   */
  @Test
  void ourRoundRunsMainInAJvmLikeThisOneWithItsPoolSetByTheEnvironment() {
    ProcessBuilder pb = PeerComparison.ourProcess(List.of("bench", "--threads", "3"), 3);
    assertThat(pb.environment()).containsEntry("OMP_NUM_THREADS", "3");
    List<String> cmd = pb.command();
    assertThat(cmd.get(0)).isEqualTo(ProcessHandle.current().info().command().orElseThrow());
    assertThat(cmd).containsSequence("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench")
        .endsWith(Main.class.getName(), "bench", "--threads", "3")
        .containsAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
  }

  /**
   * bench stopped by {@code kill -TERM} while a child runs (here a peer that sleeps): the child
   * ran on, reparented, and the file that caught its stderr stayed in the temporary directory.
   */
  @Test
  void aStoppedBenchStopsItsChildAndLeavesNoTemporaryFile(@TempDir Path tmp) throws Exception {
    Path pidFile = tmp.resolve("child.pid"), temp = Files.createDirectories(tmp.resolve("tmpdir"));
    List<String> cmd = new ArrayList<>(PeerComparison.javaCommand(List.of(pidFile.toString())));
    cmd.set(cmd.indexOf(Main.class.getName()), StoppedWithAChild.class.getName());
    cmd.add(cmd.indexOf("-cp"), "-Djava.io.tmpdir=" + temp);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
    ProcessHandle child = null;
    try {
      for (int i = 0; i < 600 && child == null; i++) {
        String pid = Files.exists(pidFile) ? Files.readString(pidFile).strip() : "";
        if (pid.isEmpty()) Thread.sleep(100);
        else child = ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
      }
      assertThat(child).as("the child started").isNotNull();
      try (var s = Files.list(temp)) {
        assertThat(s.toList()).as("its stderr's file, before the stop").hasSize(1);
      }
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(143);
      assertThat(child.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS).isAlive()).isFalse();
    } finally {
      p.destroyForcibly();
      if (child != null) child.destroyForcibly();
    }
    assertThat(Files.readAllLines(tmp.resolve("out.txt"))).last().isEqualTo("irevnet bench: interrupted");
    try (var s = Files.list(temp)) {
      // JNA unpacks its native part under jna-<hash of the user> and keeps that folder, empty,
      // for every later JVM of the user: JNA's, not a temporary of this run (the stop loads it).
      assertThat(s.filter(f -> !f.getFileName().toString().startsWith("jna-")).toList()).isEmpty();
    }
  }

  /** The stopped process of the test above: a bench waiting for a peer that writes its pid and sleeps. */
  static final class StoppedWithAChild {
    public static void main(String[] args) throws Exception {
      Interruption.install();
      Interruption.started("bench");
      PeerComparison.runOnce(new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec sleep 300",
          args[0]), "the peer");
    }
  }
}
