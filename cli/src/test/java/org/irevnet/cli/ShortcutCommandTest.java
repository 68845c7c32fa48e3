package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.irevnet.data.IdxFiles;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * data shortcut's report, its failed check and its refusals. Apart from DataCommandTest, whose
 * first test trains on the result, so that a mutation pass can run these alone: nothing here trains.
 */
class ShortcutCommandTest {

  /** Names of the entries of {@code dir}: what a run left there, temporaries included. */
  private static List<String> entries(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  /**
   * A group without its command is an incomplete command line: `irevnet data` printed its usage
   * and exited 0, so a script whose "$SUB" was unset carried on as if a dataset had been written.
   * It is bad usage now (2), said as other usage errors are: one line naming the problem and where
   * the usage is (the whole usage, 7 lines, buried the one that matters). Asked for with --help,
   * the usage is no error. Bare `irevnet` keeps its exit code 0 (MainTest).
   */
  @Test
  void theDataGroupWithoutItsCommandIsBadUsage() {
    MainTest.Run r = run("data");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).containsExactly("irevnet data: missing a subcommand: shortcut", "Try 'irevnet data --help'.");
    // The same two lines as a usage error picocli finds.
    assertThat(run("data", "--bogus").err().lines()).containsExactly("irevnet data: Unknown option: '--bogus'",
        "Try 'irevnet data --help'.");
    MainTest.Run help = run("data", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out().lines()).contains("Usage: irevnet data [-hV] COMMAND");
  }

  /**
   * Each stamped split's count, train's first, under a name that is not ASCII; the seconds keep
   * their decimal point on a comma-decimal machine. The 20 and 10 are TinyData's sizes, and every
   * image decodes: the binary code overwrites its whole corner region. Nothing else (no
   * temporary) is left beside the output.
   */
  @Test
  void eachStampedSplitIsCountedUnderTheOutputAsNamed(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 20, 10);
    Path out = tmp.resolve(MainTest.fileName("ausgabe-ü"));
    Locale before = Locale.getDefault();
    MainTest.Run r;
    long t0 = System.nanoTime();
    try {
      Locale.setDefault(Locale.GERMANY);
      r = run("data", "shortcut", "--base", base.toString(), "--kind", "binary-code", "--out", out.toString(), "--seed", "-3");
    } finally {
      Locale.setDefault(before);
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out().lines().toList()).satisfiesExactly(
        l -> assertThat(l).matches(java.util.regex.Pattern.quote(out + ": binary-code shortcut (seed -3) on base: 20 train,"
            + " 10 test images per variant (consistent, randomised, removed) in ") + "\\d+\\.\\d s"),
        l -> assertThat(l).isEqualTo("  train      decodes as stamped: 20 of 20"),
        l -> assertThat(l).isEqualTo("  consistent decodes as stamped: 10 of 10"),
        l -> assertThat(l).isEqualTo("  randomised decodes as stamped: 10 of 10"));
    // The time it says is at most what this test measured around it (rounded to 0.1 s).
    double said = Double.parseDouble(r.out().lines().findFirst().orElseThrow().replaceAll(".* in (\\S+) s$", "$1"));
    assertThat(said).isBetween(0.0, wall + 0.05);
    assertThat(out.resolve("shortcut.json")).isRegularFile();
    assertThat(entries(tmp)).containsExactlyInAnyOrder("base", out.getFileName().toString());
  }

  /**
   * The texture goes on background pixels (at most 8): on images bright all over nothing is
   * stamped, no class scores, and none of the 10 train, 10 consistent and 10 randomised images
   * decodes. A failed check (1): the dataset is written, the reason said in one line.
   */
  @Test
  void imagesThatDoNotDecodeFailTheCheck(@TempDir Path tmp) throws Exception {
    Path base = Files.createDirectories(tmp.resolve("bright"));
    int[] labels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    byte[] px = new byte[labels.length * 28 * 28];
    java.util.Arrays.fill(px, (byte) 200);
    for (String split : new String[] {"train", "t10k"}) {
      IdxFiles.writeImages(base.resolve(split + "-images-idx3-ubyte"), labels.length, 28, 28, px);
      IdxFiles.writeLabels(base.resolve(split + "-labels-idx1-ubyte"), labels);
    }
    Path out = tmp.resolve("out");
    MainTest.Run r = run("data", "shortcut", "--base", base.toString(), "--kind", "texture", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("irevnet data shortcut: 30 images do not decode to the shortcut they carry"
        + " (too little background?); see shortcut.json");
    assertThat(r.out()).contains("  train      decodes as stamped: 0 of 10").contains("  randomised decodes as stamped: 0 of 10");
    assertThat(out.resolve("shortcut.json")).isRegularFile();
  }

  /**
   * A second data shortcut into a directory that another is writing is refused, naming it: both
   * found the directory empty, and the later one replaced the first's dataset without --force (with
   * it, one's rename could meet the other's dataset in place and fail). The lock is train's, taken
   * here as another command of this process would; nothing is written, and an earlier dataset stays.
   */
  @Test
  void aSecondShortcutIntoADirectoryBeingWrittenIsRefused(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 10, 10);
    Path out = tmp.resolve("out");
    String[] shortcut = {"data", "shortcut", "--base", base.toString(), "--kind", "binary-code", "--out", out.toString()};
    String refusal = "irevnet data shortcut: " + out + " is being written by another process (pid "
        + ProcessHandle.current().pid() + "): wait for it to end, or choose another --out";
    try (org.irevnet.io.RunLock writing = org.irevnet.io.RunLock.acquire(out)) {
      MainTest.Run r = run(shortcut);
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo(refusal);
    }
    assertThat(entries(tmp)).containsExactly("base");
    assertThat(run(shortcut).code()).isZero();
    String written = Files.readString(out.resolve("shortcut.json"));
    try (org.irevnet.io.RunLock writing = org.irevnet.io.RunLock.acquire(out)) {
      MainTest.Run r = run(Stream.concat(Stream.of(shortcut), Stream.of("--force", "--seed", "1")).toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo(refusal);
    }
    assertThat(out.resolve("shortcut.json")).as("the earlier dataset").hasContent(written);
    assertThat(entries(tmp)).containsExactlyInAnyOrder("base", "out");
  }

  /**
   * Bad input is one line naming the command as typed, "irevnet data shortcut", and exit code 2;
   * a parse error says where the help is, and `irevnet shortcut --help` is no command. The output
   * is a file, under one, in a directory nothing can be made in (as root, /proc: a chmod would not
   * stop root), or would replace the base; the options are past their bounds. Nothing is left.
   */
  @Test
  void badInputIsOneLineNamingTheCommandAsTyped(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 10, 10);
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    String[][] cases = {
        {"--out", file.toString(), file + ": exists and is not a directory"},
        {"--out", file.resolve("sub").toString(), file + ": exists and is not a directory"},
        {"--out", "/proc/irevnet-out", "/proc/irevnet-out: no such file or directory"},
        {"--out", tmp.toString(), "--force", tmp + ": the output directory would replace the base dataset " + base},
        {"--out", tmp.resolve("o").toString(), "--threads", "0", "--threads must be at least 1, got 0"}};
    for (String[] c : cases) {
      List<String> args = new java.util.ArrayList<>(List.of("data", "shortcut", "--base", base.toString(), "--kind", "texture"));
      args.addAll(List.of(c).subList(0, c.length - 1));
      MainTest.Run r = run(args.toArray(String[]::new));
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet data shortcut: " + c[c.length - 1]);
    }
    // A base that is no dataset is named as --base, the option given: the messages said "--data".
    String[][] bases = {
        {"", "irevnet data shortcut: --base: empty dataset name or path"},
        // A name that is a file in the working directory (the module's): "--data takes a dataset's directory".
        {"pom.xml", "/pom.xml: not a directory: --base takes a dataset's directory"}};
    for (String[] c : bases) {
      MainTest.Run r = run("data", "shortcut", "--base", c[0], "--kind", "texture", "--out", tmp.resolve("o").toString());
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err().strip()).contains(c[1]).doesNotContain("--data");
    }
    MainTest.Run r = run("data", "shortcut", "--base", base.toString(), "--kind", "texture", "--out", tmp.resolve("o").toString(),
        "--seed", "9223372036854775808");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(
        "irevnet data shortcut: Invalid value for option '--seed': '9223372036854775808' is not a long", "Try 'irevnet data shortcut --help'.");
    assertThat(entries(tmp)).containsExactlyInAnyOrder("base", "a-file");
  }

  /**
   * An empty path ("$OUT" unset in a script) is refused as it is parsed, for every path option:
   * the file system reads it as the working directory, which {@code data shortcut --out ""
   * --force} replaced with the dataset (found by running this test without the fix: it replaced
   * the module's directory, sources and all). Without --force here, a regression fails on the
   * message and leaves the working directory alone.
   */
  @Test
  void anEmptyPathIsRefusedBeforeAnythingRuns(@TempDir Path tmp) throws Exception {
    Path base = TinyData.idx(tmp.resolve("base"), 10, 10);
    for (String[] args : new String[][] {
        {"data", "shortcut", "--base", base.toString(), "--kind", "texture", "--out", ""},
        {"eval", "--run", ""}}) {
      MainTest.Run r = run(args);
      String option = args[args.length - 2];
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      String command = "irevnet " + String.join(" ", java.util.List.of(args).subList(0, args[0].equals("data") ? 2 : 1));
      assertThat(r.err().lines().findFirst()).as(String.join(" ", args)).hasValue(
          command + ": Invalid value for option '" + option + "': an empty path names no file (the working directory is '.')");
    }
    assertThat(entries(tmp)).containsExactly("base");
  }

  /** The interruption line names the command as typed, as the error lines do. */
  @Test
  void theInterruptedCommandIsNamedAsTyped() {
    picocli.CommandLine cl = new picocli.CommandLine(new Main());
    assertThat(Main.commandAsTyped(cl.getSubcommands().get("data").getSubcommands().get("shortcut").getCommandSpec()))
        .isEqualTo("data shortcut");
    assertThat(Main.commandAsTyped(cl.getSubcommands().get("train").getCommandSpec())).isEqualTo("train");
  }
}
