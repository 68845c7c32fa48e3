package org.irevnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.irevnet.train.Benchmark;

/**
 * {@code bench --peer}: this project's benchmark and another implementation's (the PyTorch twin)
 * in alternating rounds, each in a fresh process, and their ratios. The machine is shared and
 * noisy, so both sides are measured in one run, interleaved, and compared by medians.
 */
final class PeerComparison {
  /** The fields compared; for each, {@code ours / peer} of the medians over the rounds. */
  static final List<String> FIELDS = List.of("train_step_ms", "forward_ms", "inverse_ms", "peak_rss_mib");

  private PeerComparison() {}

  /**
   * @param ours {@code irevnet bench} for one round in a child JVM ({@link #ourProcess})
   * @param peer a shell command; {@code --threads T --steps S --batch B --warmup W} are appended
   * @param out receives every JSON line as it is measured
   * @return the summary: rounds, the peer's name, both sides' medians and the ratios
   */
  static Map<String, Object> run(ProcessBuilder ours, String peer, List<String> peerArgs, int rounds,
      Consumer<String> out) throws IOException, InterruptedException {
    List<JsonNode> mine = new ArrayList<>(), theirs = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      // Alternate which side goes first, so a trend in the machine's load hits both alike.
      boolean oursFirst = r % 2 == 0;
      for (int side = 0; side < 2; side++) {
        boolean isOurs = (side == 0) == oursFirst;
        String line = isOurs ? runOnce(ours, "irevnet bench")
            : runOnce(peerProcess(peer, peerArgs, System.getenv("IREVNET_LAUNCHER_SET")), "the peer");
        (isOurs ? mine : theirs).add(Json.MAPPER.readTree(line));
        out.accept(line);
        if (!mine.isEmpty() && !theirs.isEmpty()) sameNetwork(mine.get(0), theirs.get(theirs.size() - 1));
      }
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("rounds", rounds);
    summary.put("peer", theirs.get(0).path("peer").asText("peer"));
    for (String f : FIELDS) {
      double a = median(mine, ours(f, mine.get(0))), b = median(theirs, f);
      summary.put(f, Map.of("ours", Benchmark.round(a, 1), "peer", Benchmark.round(b, 1)));
      summary.put(f + "_ratio", Benchmark.round(a / b, 3));
    }
    return summary;
  }

  /** Fields both sides print that must agree for the times to compare the same work. */
  static final List<String> SAME = List.of("params", "batch");

  /**
   * Refuses a peer that measured another network: an --arch other than the twin's, or a peer
   * that ignores --batch, was timed against it and reported as 2.4 times faster, though the twin
   * prints its parameter count and batch. A field the peer does not print is not compared.
   */
  static void sameNetwork(JsonNode ours, JsonNode peer) {
    for (String f : SAME) {
      if (peer.path(f).isNumber() && ours.path(f).isNumber() && peer.path(f).asLong() != ours.path(f).asLong()) {
        throw new IllegalArgumentException("--peer measured another network: its " + f + " " + peer.path(f).asLong()
            + ", ours " + ours.path(f).asLong() + " (" + ours.path("arch").asText("--arch") + "): compare the"
            + " architecture and --batch the peer runs");
      }
    }
  }

  /**
   * Our field compared with the peer's {@code field}: for the peak, the process's ({@code
   * process_peak_rss_mib}, as the twin's {@code ru_maxrss} is), not our timed steps' own.
   */
  static String ours(String field, JsonNode ourLine) {
    return field.equals("peak_rss_mib") && ourLine.has("process_peak_rss_mib") ? "process_peak_rss_mib" : field;
  }

  /**
   * Refuses a peer whose program is not there, before any round runs: sh said "not found" only
   * after a whole round of ours, and that was taken for a failed run. The first word is looked up
   * as /bin/sh would run it: a path must be an executable file, a name a command sh finds (on
   * PATH, or a builtin), read with its quotes as sh reads them (a path with a space must be
   * quoted; such a path went unchecked). A first word with expansions or an assignment is left to sh.
   */
  static void checkCommand(String peer) throws IOException, InterruptedException {
    String first = firstWord(peer);
    if (first == null) return;
    if (first.contains("/")) {
      java.nio.file.Path p = java.nio.file.Path.of(first);
      if (!java.nio.file.Files.exists(p)) throw new IllegalArgumentException("--peer: " + first + ": command not found");
      if (!java.nio.file.Files.isRegularFile(p) || !java.nio.file.Files.isExecutable(p)) {
        throw new IllegalArgumentException("--peer: " + first + ": not an executable file");
      }
      return;
    }
    Process p = new ProcessBuilder("/bin/sh", "-c", "command -v -- \"$1\"", "sh", first).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (p.waitFor() != 0) throw new IllegalArgumentException("--peer: " + first + ": command not found");
  }

  /**
   * The first word of the shell command {@code peer} as sh reads it (its single and double quotes
   * and backslashes removed), or null where sh would expand something in it, it assigns a variable
   * or it is empty.
   */
  static String firstWord(String peer) {
    String s = peer.strip();
    StringBuilder word = new StringBuilder();
    int i = 0;
    while (i < s.length() && !Character.isWhitespace(s.charAt(i))) {
      char c = s.charAt(i);
      if (c == '\'' || c == '"') {
        int end = s.indexOf(c, i + 1);
        if (end < 0) return null;
        String quoted = s.substring(i + 1, end);
        if (c == '"' && quoted.matches("(?s).*[$`\\\\].*")) return null;
        word.append(quoted);
        i = end + 1;
      } else if (c == '\\' && i + 1 < s.length() && s.charAt(i + 1) != '\n') {
        word.append(s.charAt(i + 1));
        i += 2;
      } else if (String.valueOf(c).matches("[A-Za-z0-9_./+,:@%-]")) {
        word.append(c);
        i++;
      } else {
        return null;
      }
    }
    return word.length() == 0 ? null : word.toString();
  }

  /** The same JVM, options and class path as this process, running {@code Main} with {@code args}. */
  static List<String> javaCommand(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    return cmd;
  }

  /**
   * {@code Main} with {@code args} in a child JVM ({@link #javaCommand}) whose OpenMP pool has
   * {@code threads}: libnd4j sizes it from OMP_NUM_THREADS at start-up only. {@code Main} sets that
   * from a {@code --threads} in {@code args} before ND4J loads; the environment makes it hold
   * whether or not {@code args} has one.
   */
  static ProcessBuilder ourProcess(List<String> args, int threads) {
    ProcessBuilder pb = new ProcessBuilder(javaCommand(args));
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    return pb;
  }

  /**
   * The peer through {@code /bin/sh}, without the malloc settings bin/irevnet made for this JVM
   * ({@code launcherSet}: the names it set itself, space-separated): tuned for ND4J, they made
   * the PyTorch twin's step 1.7x slower. What the user set stays.
   */
  static ProcessBuilder peerProcess(String peer, List<String> args, String launcherSet) {
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", peer + " \"$@\"", "peer"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (launcherSet != null) {
      for (String name : launcherSet.trim().split("\\s+")) if (!name.isEmpty()) pb.environment().remove(name);
    }
    return pb;
  }

  /**
   * Runs {@code cmd} and returns the last line of its stdout that is a JSON object. A failure says
   * the last line the process printed on stderr: its reason ("No module named torch").
   */
  static String runOnce(ProcessBuilder pb, String who) throws IOException, InterruptedException {
    java.nio.file.Path err = java.nio.file.Files.createTempFile("irevnet-bench-", ".err");
    // A stopped bench exits without the finally below: the file stayed in the temporary directory.
    org.irevnet.io.AtomicFiles.deleteOnExit(err);
    try {
      Process p = pb.redirectError(err.toFile()).start();
      String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int code = p.waitFor();
      List<String> json = stdout.lines().map(String::strip).filter(l -> l.startsWith("{") && l.endsWith("}")).toList();
      if (code != 0 || json.isEmpty()) {
        String reason = new String(java.nio.file.Files.readAllBytes(err), StandardCharsets.UTF_8).lines().map(String::strip)
            .filter(l -> !l.isEmpty()).reduce((a, b) -> b).orElse("nothing on stderr");
        throw new IllegalStateException(who + " failed (exit code " + code + (json.isEmpty() ? ", no JSON line" : "")
            + "): " + reason);
      }
      return checked(json.get(json.size() - 1), who);
    } finally {
      java.nio.file.Files.deleteIfExists(err);
    }
  }

  /**
   * {@code line}, if it has every compared number, none below 0. A line that is no JSON (Python prints a NaN
   * as a bare NaN) is the process's failure too, named as such: Jackson's own message would say
   * neither whose line it was nor that the run failed (it would pass for bad input, exit code 2).
   */
  private static String checked(String line, String who) {
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(who + " printed a line that is not JSON: " + line);
    }
    for (String f : FIELDS) {
      if (!n.path(f).isNumber()) throw new IllegalStateException(who + " printed no number for " + f + ": " + line);
      // A time or a size below 0 is a broken measurement: its ratio (-9.9) was printed as one.
      if (n.path(f).asDouble() < 0) throw new IllegalStateException(who + " printed a negative " + f + ": " + line);
    }
    return line;
  }

  private static double median(List<JsonNode> rows, String field) {
    return Benchmark.median(rows.stream().mapToDouble(n -> n.path(field).asDouble()).toArray());
  }
}
