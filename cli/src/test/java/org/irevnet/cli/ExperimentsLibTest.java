package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The experiment scripts' reuse of earlier results (lib.sh's train_once, the shortcut datasets,
 * vae.sh's table), run by bash against stand-in launchers that log their commands, make the --out
 * or --run directory and write the files the scripts look for, or exit 3 as FAIL says.
 */
class ExperimentsLibTest {
  private static final String STAND_IN = """
      #!/usr/bin/env bash
      cmd="$1"
      echo "$*" >> calls.log
      [ "${FAIL:-}" = "$cmd" ] && exit 3
      dir=
      while [ $# -gt 0 ]; do
        case "$1" in --out|--run) dir="$2"; shift ;; esac
        shift
      done
      mkdir -p "$dir"
      [ "$cmd" = eval ] && echo '{}' > "$dir/eval-test.json"
      [ "$cmd" = data ] && echo '{}' > "$dir/shortcut.json"
      [ "$cmd" = probe ] && mkdir -p "$dir/analysis" && echo '{}' > "$dir/analysis/nuisance-probe.json"
      [ "${HANG:-}" = "$cmd" ] && { echo $$ > hang.pid; exec sleep 60; }
      [ "${BLOCK:-}" = "$cmd" ] && while [ ! -f go ]; do sleep 0.05; done
      exit 0
      """;

  /** A copy of the tree lib.sh works in: experiments/, the stand-in launcher and the datasets' names in data/. */
  private static Path tree(Path tmp) throws IOException {
    experiments(tmp);
    for (String name : new String[] {"fashion-mnist-mini", "other", "a", "b", "d"}) {
      Files.createDirectories(tmp.resolve("data").resolve(name));
    }
    executable(Files.createDirectories(tmp.resolve("bin")).resolve("irevnet"), STAND_IN);
    return tmp;
  }

  /** {@code file} holding {@code script}, executable. */
  private static Path executable(Path file, String script) throws IOException {
    Files.writeString(file, script);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  /** A copy of the project's experiments/ in {@code tmp}. */
  private static void experiments(Path tmp) throws IOException {
    Files.createDirectories(tmp.resolve("experiments"));
    try (var scripts = Files.list(Path.of("../experiments"))) {
      for (Path script : scripts.toList()) Files.copy(script, tmp.resolve("experiments").resolve(script.getFileName()));
    }
  }

  private record Outcome(int exit, String stderr, List<String> calls) {}

  /** Runs {@code train_once ce --data DATA} in a script with the given settings. */
  private static Outcome trainOnce(Path tree, String env) throws Exception {
    return run(tree, env + " bash -c 'source experiments/lib.sh; train_once ce --data \"$DATA\"'");
  }

  private static Outcome run(Path tree, String command) throws Exception {
    Files.deleteIfExists(tree.resolve("calls.log"));
    Path err = tree.resolve("err.txt");
    Process p = new ProcessBuilder("bash", "-c", command)
        .directory(tree.toFile()).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    int exit = p.waitFor();
    Path log = tree.resolve("calls.log");
    return new Outcome(exit, Files.readString(err), Files.exists(log) ? Files.readAllLines(log) : List.of());
  }

  @Test
  void aRunTrainedWithOtherSettingsIsNotReusedAsIfItWereThisOne(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Outcome first = trainOnce(tree, "DATA=fashion-mnist-mini EPOCHS=3 OUT=o");
    assertThat(first.exit()).isZero();
    assertThat(first.calls()).hasSize(2).first().asString().startsWith("train --out o/runs/ce --fresh --epochs 3");

    Outcome same = trainOnce(tree, "DATA=fashion-mnist-mini EPOCHS=3 OUT=o");
    assertThat(same.exit()).isZero();
    assertThat(same.calls()).as("the same settings reuse the run").isEmpty();

    Outcome otherData = trainOnce(tree, "DATA=other EPOCHS=3 OUT=o");
    assertThat(otherData.exit()).isEqualTo(2);
    assertThat(otherData.calls()).isEmpty();
    assertThat(otherData.stderr()).isEqualTo("o/runs/ce was trained with DATA=fashion-mnist-mini --epochs 3 --data"
        + " fashion-mnist-mini, not DATA=other --epochs 3 --data other: FRESH=1 retrains it, another OUT"
        + " keeps both\n");
    assertThat(trainOnce(tree, "DATA=fashion-mnist-mini EPOCHS=20 OUT=o").exit()).as("other epochs").isEqualTo(2);

    Outcome fresh = trainOnce(tree, "DATA=other EPOCHS=3 OUT=o FRESH=1");
    assertThat(fresh.exit()).isZero();
    assertThat(fresh.calls()).hasSize(2);
    assertThat(trainOnce(tree, "DATA=other EPOCHS=3 OUT=o").calls()).as("now of the new settings").isEmpty();
  }

  /** EPOCHS that is no number of epochs is said as such, before a run trained already is looked at or retrained. */
  @Test
  void epochsThatIsNoNumberOfEpochsIsRefusedBeforeAnyRunIsTouched(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").exit()).isZero();
    for (String epochs : new String[] {"abc", "0", "-1", "1.5"}) {
      Outcome bad = trainOnce(tree, "DATA=d EPOCHS=" + epochs + " OUT=o FRESH=1");
      assertThat(bad.exit()).as(epochs).isEqualTo(2);
      assertThat(bad.stderr()).as(epochs).startsWith("EPOCHS=").contains("not a number of epochs").doesNotContain("FRESH");
      assertThat(bad.calls()).as(epochs).isEmpty();
      assertThat(tree.resolve("o/runs/ce/eval-test.json")).as("the finished run is kept").exists();
    }
  }

  /**
   * A script given arguments says it takes none (baselines.sh: OUT_DIR at most), before any work:
   * `experiments/1-nuisance-information.sh --help` trained into OUT with the default settings,
   * and baselines.sh took --help for its OUT_DIR.
   */
  @Test
  void argumentsAScriptDoesNotTakeAreRefused(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    for (String script : new String[] {"1-nuisance-information.sh", "2-metamers.sh", "3-shortcuts.sh",
        "4-irevnet-layers.sh", "density.sh"}) {
      Outcome o = run(tree, "DATA=d OUT=o bash experiments/" + script + " --help");
      assertThat(o.exit()).as(script).isEqualTo(2);
      assertThat(o.stderr()).as(script).isEqualTo("experiments/" + script + " takes no arguments (given: --help): its"
          + " settings are environment variables, such as DATA, EPOCHS and OUT\n");
      assertThat(o.calls()).as(script).isEmpty();
    }
    for (String args : new String[] {"--help", "o extra"}) {
      Outcome o = run(tree, "bash experiments/baselines.sh " + args);
      assertThat(o.exit()).as(args).isEqualTo(2);
      assertThat(o.stderr()).as(args).isEqualTo("usage: experiments/baselines.sh [OUT_DIR] (not: " + args + ")\n");
      assertThat(o.calls()).as(args).isEmpty();
    }
    assertThat(tree.resolve("o")).as("nothing made").doesNotExist();
    assertThat(run(tree, "bash experiments/baselines.sh o").calls()).as("an OUT_DIR").isNotEmpty();
  }

  /**
   * seeds.sh trains, evaluates and probes each seed's CE and iCE runs with the quickstart's recipe,
   * then summarises them; run again it reuses the runs and their probes, and FRESH=1 makes both
   * again. Seeds that are no whole numbers, a seed given twice and a single seed are refused before
   * any work.
   */
  @Test
  void seedsShTrainsEachSeedOnceThenSummarises(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Outcome first = run(tree, "OUT=o bash experiments/seeds.sh 0 1");
    assertThat(first.exit()).as(first.stderr()).isZero();
    String tail = " --threads 1 --no-progress";
    List<String> made = new java.util.ArrayList<>();
    for (String s : new String[] {"0", "1"}) {
      for (String obj : new String[] {"ce", "ice"}) {
        String run = "o/runs/seed" + s + "/" + obj;
        made.add("train --out " + run + " --fresh --epochs 3 --arch fi-revnet-s --data fashion-mnist-mini --objective "
            + obj + " --seed " + s + tail);
        made.add("eval --run " + run + tail);
        made.add("probe --run " + run + " --nuisance" + tail);
      }
    }
    List<String> summary = List.of("seeds o/runs/seed0 o/runs/seed1" + tail);
    assertThat(first.calls()).isEqualTo(java.util.stream.Stream.concat(made.stream(), summary.stream()).toList());
    assertThat(run(tree, "OUT=o bash experiments/seeds.sh 0 1").calls()).as("reused").isEqualTo(summary);
    // A run stopped before its probe is probed, and only it.
    Files.delete(tree.resolve("o/runs/seed1/ice/analysis/nuisance-probe.json"));
    assertThat(run(tree, "OUT=o bash experiments/seeds.sh 0 1").calls())
        .containsExactly("probe --run o/runs/seed1/ice --nuisance" + tail, summary.get(0));
    Outcome fresh = run(tree, "OUT=o FRESH=1 bash experiments/seeds.sh 0 1");
    assertThat(fresh.calls()).as("retrained, and probed again").isEqualTo(first.calls());

    String[][] refused = {{"--help", "--help: not a seed (a whole number from 0); the arguments are training seeds, the"
        + " settings environment variables such as DATA and OUT"}, {"1 01", "seed 1 given twice: each seed once"},
        {"3", "a spread over seeds needs at least two seeds, got 3"}};
    for (String[] r : refused) {
      Outcome o = run(tree, "OUT=p bash experiments/seeds.sh " + r[0]);
      assertThat(o.exit()).as(r[0]).isEqualTo(2);
      assertThat(o.stderr()).as(r[0]).isEqualTo(r[1] + "\n");
      assertThat(o.calls()).as(r[0]).isEmpty();
    }
    assertThat(tree.resolve("p")).as("nothing made").doesNotExist();
  }

  /**
   * An OUT that cannot be made is said naming OUT, exit 2: it was mkdir's own words and exit 1,
   * which the scripts use for "ran, but a check failed".
   */
  @Test
  void outThatCannotBeMadeIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Files.writeString(tree.resolve("a-file"), "");
    for (String out : new String[] {"a-file", "a-file/o"}) {
      Outcome bad = trainOnce(tree, "DATA=d EPOCHS=1 OUT=" + out);
      assertThat(bad.exit()).as(out).isEqualTo(2);
      assertThat(bad.stderr()).as(out).startsWith("OUT=" + out + ": cannot make that directory (").endsWith(")\n")
          .hasLineCount(1);
      assertThat(bad.calls()).as(out).isEmpty();
    }
    Outcome baselines = run(tree, "bash experiments/baselines.sh a-file/o");
    assertThat(baselines.exit()).isEqualTo(2);
    assertThat(baselines.stderr()).startsWith("a-file/o: cannot make that directory (").hasLineCount(1);
    assertThat(baselines.calls()).isEmpty();
  }

  /** THREADS that the commands refuse is said before a finished run is retrained: FRESH=1 dropped its eval-test.json first. */
  @Test
  void threadsThatIsNoNumberOfThreadsIsRefusedBeforeAnyRunIsTouched(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").exit()).isZero();
    for (String threads : new String[] {"one", "0", "-1", "1025", "1.5"}) {
      Outcome bad = trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=1 THREADS=" + threads);
      assertThat(bad.exit()).as(threads).isEqualTo(2);
      assertThat(bad.stderr()).as(threads)
          .isEqualTo("THREADS=" + threads + ": not a number of threads (a whole number from 1 to 1024)\n");
      assertThat(bad.calls()).as(threads).isEmpty();
      assertThat(tree.resolve("o/runs/ce/eval-test.json")).as("the finished run is kept").exists();
    }
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=1 THREADS=1024").calls()).first().asString().endsWith(" --threads 1024 --no-progress");
  }

  /** FRESH other than 0 or 1 is refused: FRESH=yes reused the runs as FRESH=0 does. */
  @Test
  void freshOtherThanZeroOrOneIsRefused(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").exit()).isZero();
    for (String fresh : new String[] {"yes", "true", "2"}) {
      Outcome bad = trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=" + fresh);
      assertThat(bad.exit()).as(fresh).isEqualTo(2);
      assertThat(bad.stderr()).as(fresh).isEqualTo("FRESH=" + fresh + ": 1 retrains, 0 (the default) reuses\n");
      assertThat(bad.calls()).as(fresh).isEmpty();
    }
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=0").calls()).as("reused").isEmpty();
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=").calls()).as("empty: the default").isEmpty();
  }

  /** EPOCHS is compared as the number it is: EPOCHS=01 met a run of EPOCHS=1 as one trained with other settings. */
  @Test
  void epochsWithLeadingZerosIsTheSameNumberOfEpochs(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=10 OUT=o").exit()).isZero();
    Outcome same = trainOnce(tree, "DATA=d EPOCHS=010 OUT=o");
    assertThat(same.exit()).as(same.stderr()).isZero();
    assertThat(same.calls()).as("the run is reused").isEmpty();
    Outcome fresh = trainOnce(tree, "DATA=d EPOCHS=0010 OUT=o FRESH=1");
    assertThat(fresh.calls()).first().asString().startsWith("train --out o/runs/ce --fresh --epochs 10 ");
  }

  /**
   * DATA that names no dataset is said as such, before a run trained already is looked at or
   * retrained: it met one as "trained with DATA=d ..., not DATA=dd ...: FRESH=1 retrains it", and
   * FRESH=1 then dropped that run's eval-test.json before train refused the name.
   */
  @Test
  void dataThatNamesNoDatasetIsRefusedBeforeAnyRunIsTouched(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").exit()).isZero();
    Files.writeString(tree.resolve("a-file"), "");
    for (String data : new String[] {"dd", "./d", "data/dd", "a-file"}) {
      for (String fresh : new String[] {"0", "1"}) {
        Outcome bad = trainOnce(tree, "DATA=" + data + " EPOCHS=1 OUT=o FRESH=" + fresh);
        assertThat(bad.exit()).as(data).isEqualTo(2);
        assertThat(bad.stderr()).as(data).isEqualTo("DATA=" + data + ": no such directory and no such dataset name"
            + " (fashion-mnist, or a directory in " + tree.toRealPath().resolve("data") + ")\n");
        assertThat(bad.calls()).as(data).isEmpty();
        assertThat(tree.resolve("o/runs/ce/eval-test.json")).as("the finished run is kept").exists();
      }
    }
    assertThat(trainOnce(tree, "DATA=data/d EPOCHS=1 OUT=o FRESH=1").calls()).as("a directory").hasSize(2);
  }

  /** A retraining that stops (Ctrl-C, a crash) leaves no sign of a finished run to be reused next time. */
  @Test
  void anInterruptedRetrainingIsNotTakenForAFinishedRun(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").exit()).isZero();
    Outcome stopped = trainOnce(tree, "DATA=d EPOCHS=1 OUT=o FRESH=1 FAIL=train");
    assertThat(stopped.exit()).isEqualTo(3);
    Outcome next = trainOnce(tree, "DATA=d EPOCHS=1 OUT=o");
    assertThat(next.calls()).as("trained again").hasSize(2).first().asString().startsWith("train ");
  }

  /**
   * A script stopped once eval has written eval-test.json leaves a run that is finished with its
   * settings: stopped before train-args was written (last), its run was reused next time unchecked,
   * as one from before train-args, also by a script of another DATA.
   */
  @Test
  void aRunStoppedAfterItsEvaluationIsCheckedLikeAnyOther(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Process script = new ProcessBuilder("bash", "-c", "DATA=d EPOCHS=1 OUT=o HANG=eval bash -c"
        + " 'source experiments/lib.sh; train_once ce --data \"$DATA\"'")
        .directory(tree.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Path pidFile = tree.resolve("hang.pid");
    try {
      MainTest.await(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
      assertThat(tree.resolve("o/runs/ce/eval-test.json")).exists();
      new ProcessBuilder("kill", "-TERM", Long.toString(script.pid())).start().waitFor();
      assertThat(script.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      script.destroyForcibly();
      if (Files.exists(pidFile)) ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(ProcessHandle::destroy);
    }
    Outcome otherData = trainOnce(tree, "DATA=other EPOCHS=1 OUT=o");
    assertThat(otherData.exit()).as(otherData.stderr()).isEqualTo(2);
    assertThat(otherData.stderr()).startsWith("o/runs/ce was trained with DATA=d --epochs 1 --data d, not DATA=other");
    assertThat(trainOnce(tree, "DATA=d EPOCHS=1 OUT=o").calls()).as("finished: reused").isEmpty();
  }

  /**
   * Two scripts on one OUT that train the same run (scripts 1 and 2: ce, ice) train it once: the
   * second waits for the first's training and evaluation, then reuses the run. Both trained it: the
   * later train was refused, as the run was being trained (exit 2, ending that script), or, begun
   * after the first's training, retrained the run under the first script's analyses.
   */
  @Test
  void twoScriptsTrainingOneRunAtOnceTrainItOnce(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    String trainCe = "DATA=d EPOCHS=1 OUT=o bash -c 'source experiments/lib.sh; train_once ce --data \"$DATA\"'";
    String second = twoAtOnce(tree, "train", trainCe);
    assertThat(Files.readAllLines(tree.resolve("calls.log"))).as("trained and evaluated once").hasSize(2);
    assertThat(second).isEqualTo("= o/runs/ce: another script is training it; waiting to reuse it\n"
        + "= o/runs/ce: trained already (FRESH=1 retrains)\n");
  }

  /**
   * Script 3 run twice at once on one OUT makes each shortcut dataset once: the second waits for
   * the first's, then reuses it. Both made it, and the later data shortcut was refused as the
   * dataset was being written (exit 2, ending that script).
   */
  @Test
  void script3TwiceAtOnceMakesEachDatasetOnce(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    String second = twoAtOnce(tree, "data", "DATA=d EPOCHS=1 OUT=o bash experiments/3-shortcuts.sh");
    List<String> calls = Files.readAllLines(tree.resolve("calls.log"));
    assertThat(calls).filteredOn(c -> c.startsWith("data ")).as("one dataset of each kind").hasSize(2);
    assertThat(calls).filteredOn(c -> c.startsWith("train ")).as("one training of each run").hasSize(4);
    assertThat(second).startsWith("= o/data: another script is making it; waiting to reuse it\n");
  }

  /**
   * Starts {@code script} with the stand-in blocking at its first {@code command}, then the same
   * script again, which waits (and says so) or, where nothing holds it back, runs on and ends; then
   * lets the first go on. Both must succeed; returns the second's stderr without its command lines.
   */
  private static String twoAtOnce(Path tree, String command, String script) throws Exception {
    Path firstErr = tree.resolve("first.txt"), secondErr = tree.resolve("second.txt");
    Process first = new ProcessBuilder("bash", "-c", "BLOCK=" + command + " " + script).directory(tree.toFile())
        .redirectError(firstErr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Process second = null;
    try {
      Path calls = tree.resolve("calls.log");
      MainTest.await(() -> Files.exists(calls) && Files.readString(calls).startsWith(command + " "));
      second = new ProcessBuilder("bash", "-c", script).directory(tree.toFile())
          .redirectError(secondErr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      Process waiting = second;
      MainTest.await(() -> !waiting.isAlive() || Files.readString(secondErr).contains("waiting"));
      Files.writeString(tree.resolve("go"), "");
      assertThat(first.waitFor()).as(Files.readString(firstErr)).isZero();
      assertThat(second.waitFor()).as(Files.readString(secondErr)).isZero();
    } finally {
      Files.writeString(tree.resolve("go"), ""); // else a stand-in left waiting outlives the test
      first.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      first.destroyForcibly();
      if (second != null) second.destroyForcibly();
    }
    return Files.readAllLines(secondErr).stream().filter(l -> l.startsWith("= ")).map(l -> l + "\n")
        .collect(java.util.stream.Collectors.joining());
  }

  /**
   * A relative OUT and DATA directory are the caller's, as for any command: lib.sh's cd into the
   * project put OUT=o in the project and found no DATA=mydir there ("no such directory").
   */
  @Test
  void relativeOutAndDataAreTakenFromTheDirectoryTheScriptIsRunIn(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Path elsewhere = Files.createDirectories(tree.resolve("elsewhere"));
    Files.createDirectories(elsewhere.resolve("mydir"));
    Outcome o = run(tree, "cd elsewhere && DATA=mydir EPOCHS=1 OUT=o bash -c 'source ../experiments/lib.sh;"
        + " train_once ce --data \"$DATA\"'");
    assertThat(o.exit()).as(o.stderr()).isZero();
    assertThat(elsewhere.resolve("o/runs/ce/eval-test.json")).as("the run is in the caller's o").exists();
    assertThat(tree.resolve("o")).as("not in the project's").doesNotExist();

    Outcome defaultOut = run(tree, "cd elsewhere && DATA=d EPOCHS=1 bash -c 'source ../experiments/lib.sh;"
        + " train_once ce --data \"$DATA\"'");
    assertThat(defaultOut.exit()).as(defaultOut.stderr()).isZero();
    assertThat(tree.resolve("runs/paper/runs/ce/eval-test.json")).as("the default OUT is the project's").exists();
    // From the project itself the default keeps its spelling, which script 3's train-args record.
    Outcome fromRoot = trainOnce(tree, "DATA=d EPOCHS=1 FRESH=1");
    assertThat(fromRoot.calls()).first().asString().startsWith("train --out runs/paper/runs/ce ");
  }

  /**
   * A script stopped by kill -TERM stops the command it runs: the training a stopped script had
   * started ran on, reparented, into OUT.
   */
  @Test
  void aScriptStoppedByTermStopsItsRunningCommand(@TempDir Path tmp) throws Exception {
    assertStoppedByTerm(tree(tmp), "OUT=o source experiments/lib.sh; irevnet train --out o/runs/ce", 1);
  }

  /**
   * The scripts that do not use lib.sh's irevnet stop their running command too: a kill -TERM of
   * cnf.sh, vae.sh (also with its six flows at once) or baselines.sh left the java command going
   * on, reparented, writing into runs/. density.sh runs its commands through lib.sh.
   */
  @Test
  void everyScriptStoppedByTermStopsItsRunningCommands(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    // IREVNET is a command line, split into words: the stand-in is named from the scripts' working
    // directory, the tree, since the temporary directory's path may hold a space.
    String launcher = "IREVNET=bin/irevnet ";
    assertStoppedByTerm(tree, "bash experiments/cnf.sh", 1);
    assertStoppedByTerm(tree, launcher + "OUT=o bash experiments/vae.sh", 1);
    assertStoppedByTerm(tree, launcher + "OUT=o PARALLEL=1 bash experiments/vae.sh", 6);
    assertStoppedByTerm(tree, "bash experiments/baselines.sh o", 1);
    assertStoppedByTerm(tree, "OUT=o bash experiments/density.sh", 1);
  }

  /**
   * Runs {@code command} with a stand-in launcher that is a long sleep, sends the script TERM once
   * {@code commands} of them run, and checks that it exits 143 and that they have stopped.
   */
  private static void assertStoppedByTerm(Path tree, String command, int commands) throws Exception {
    // The stand-in for a long training: adds its pid to child.pid, then is a sleep of that pid (TERM ends it).
    Files.writeString(tree.resolve("bin/irevnet"), "#!/usr/bin/env bash\necho $$ >> child.pid\nexec sleep 60\n");
    Path pidFile = tree.resolve("child.pid");
    Files.deleteIfExists(pidFile);
    Process script = new ProcessBuilder("bash", "-c", command)
        .directory(tree.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    List<ProcessHandle> children = new java.util.ArrayList<>();
    try {
      MainTest.await(() -> Files.exists(pidFile) && Files.readAllLines(pidFile).size() >= commands);
      assertThat(Files.readAllLines(pidFile)).as(command).hasSize(commands);
      for (String pid : Files.readAllLines(pidFile)) ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(children::add);
      Thread.sleep(200); // the stand-ins have become the sleeps
      new ProcessBuilder("kill", "-TERM", Long.toString(script.pid())).start().waitFor();
      assertThat(script.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as(command + ": the script ended").isTrue();
      assertThat(script.exitValue()).as(command).isEqualTo(143);
      for (ProcessHandle child : children) {
        assertThat(child.onExit().completeOnTimeout(child, 5, java.util.concurrent.TimeUnit.SECONDS).get().isAlive())
            .as(command + ": the command it ran has stopped too").isFalse();
      }
    } finally {
      children.forEach(ProcessHandle::destroyForcibly);
      script.destroyForcibly();
    }
  }

  /**
   * density.sh's MAX_STEPS run (a partial training, into the same run directory) is not taken by a
   * later run without MAX_STEPS for its own: it kept the earlier run's train-args, and was reused
   * as the model of the full epochs.
   */
  @Test
  void aDensityRunOfMaxStepsIsNotReusedAsAFullOne(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(run(tree, "OUT=o bash experiments/density.sh").exit()).isZero();
    Outcome partial = run(tree, "OUT=o MAX_STEPS=5 bash experiments/density.sh");
    assertThat(partial.exit()).isZero();
    assertThat(partial.calls()).first().asString().startsWith("train ").contains("--max-steps 5");
    Outcome full = run(tree, "OUT=o bash experiments/density.sh");
    assertThat(full.exit()).isEqualTo(2);
    assertThat(full.stderr()).contains("was trained with DATA=fashion-mnist-mini --epochs 3 --arch fi-revnet-s --data"
        + " fashion-mnist-mini --objective mle --max-steps 5, not ");
    assertThat(full.calls()).isEmpty();
    assertThat(run(tree, "OUT=o FRESH=1 bash experiments/density.sh").calls()).first().asString().startsWith("train ")
        .doesNotContain("--max-steps");
    for (String steps : new String[] {"abc", "0", "1.5"}) {
      Outcome bad = run(tree, "OUT=o MAX_STEPS=" + steps + " bash experiments/density.sh");
      assertThat(bad.exit()).as(steps).isEqualTo(2);
      assertThat(bad.stderr()).as(steps).isEqualTo("MAX_STEPS=" + steps + ": not a number of steps (a whole number, at least 1)\n");
      assertThat(tree.resolve("o/runs/mle-fashion-mnist-mini/eval-test.json")).as("the finished run is kept").exists();
    }
  }

  /** The shortcut datasets are made from DATA; FRESH=1, which a change of DATA asks for, makes them again. */
  @Test
  void freshShortcutRunsAreTrainedOnShortcutsOfTheNewData(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    assertThat(run(tree, "DATA=a OUT=o bash experiments/3-shortcuts.sh").calls())
        .filteredOn(c -> c.startsWith("data shortcut")).hasSize(2).allMatch(c -> c.contains("--base a "));
    assertThat(run(tree, "DATA=b OUT=o bash experiments/3-shortcuts.sh").exit()).as("the runs are of DATA=a").isEqualTo(2);
    assertThat(run(tree, "DATA=b OUT=o FRESH=1 bash experiments/3-shortcuts.sh").calls())
        .filteredOn(c -> c.startsWith("data shortcut")).hasSize(2).allMatch(c -> c.contains("--base b "));
  }

  /** cnf.sh --table without the runs says which is missing and prints no table: it printed the rows up to it, then jq's error. */
  @Test
  void cnfTableWithoutItsRunsPrintsNoTable(@TempDir Path tmp) throws Exception {
    Path tree = tree(tmp);
    Files.createDirectories(tree.resolve("runs/cnf-two-moons"));
    Files.writeString(tree.resolve("runs/cnf-two-moons/cnf.json"), "{\"target\":\"two-moons\"}");
    Path table = tree.resolve("table.md");
    Process p = new ProcessBuilder("bash", "experiments/cnf.sh", "--table").directory(tree.toFile())
        .redirectOutput(table.toFile()).redirectError(tree.resolve("err.txt").toFile()).start();
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(Files.readString(tree.resolve("err.txt")))
        .isEqualTo("experiments/cnf.sh: no runs/cnf-rings/cnf.json: run experiments/cnf.sh without --table first\n");
    assertThat(table).isEmptyFile();
  }

  /**
   * vae.sh's launcher: writes a vae.json whose ELBO is -100, or exits 3 (nothing written) for the flow
   * FAIL names, or writes one whose orthogonality check failed and exits 1 for the flow CHECK names.
   */
  private static final String VAE_STAND_IN = """
      #!/usr/bin/env bash
      [ "$1" = vae ] || exit 0
      while [ $# -gt 0 ]; do
        case "$1" in --flow) flow="$2"; shift ;; --out) out="$2"; shift ;; esac
        shift
      done
      [ "$flow" = "${FAIL:-}" ] && exit 3
      [ "$flow" = "${BLOCK:-}" ] && { touch blocked; while [ ! -f go ]; do sleep 0.05; done; }
      mkdir -p "$out"
      echo '{}' > "$out/config.json"
      echo '{"flow":"'$flow'","data":"d","train_images":1,"epochs":1,"batch":2,"latent":2,"flow_steps":1,
        "test_images":1,"is_samples":1,"test_elbo_nats":-100,"test_is_nll_nats":99,"test_is_nll_std_error":1,
        "flow_params_per_image":0,"train_seconds":1,"train_cpu_seconds":1,"eval_seconds":1,"eval_cpu_seconds":1,
        "orthogonality_error_train":1e-7,"orthogonality_error_test":0.4,"orthogonality_tolerance":1e-5}' > "$out/vae.json"
      [ "$flow" = "${CHECK:-}" ] && exit 1
      sed -i 's/"orthogonality_error_test":0.4/"orthogonality_error_test":2e-7/' "$out/vae.json"
      """;

  /** experiments/ and {@link #VAE_STAND_IN} ({@code stand-in}) in {@code tmp}: the command that runs vae.sh with it into tmp/out. */
  private static String vaeSh(Path tmp) throws IOException {
    experiments(tmp);
    executable(tmp.resolve("stand-in"), VAE_STAND_IN);
    // IREVNET is a command line, split into words: the stand-in is named from tmp, the working
    // directory, as the temporary directory's path may hold a space.
    return "IREVNET=./stand-in OUT=" + MainTest.shellWord(tmp.resolve("out")) + " bash experiments/vae.sh";
  }

  /** The table {@code command} (vae.sh's, from {@link #vaeSh}) prints with {@code env} set, once it has exited 0. */
  private static List<String> vaeTable(Path tmp, String env, String command) throws Exception {
    Path table = tmp.resolve("table.md");
    Process p = new ProcessBuilder("bash", "-c", env + " " + command).directory(tmp.toFile())
        .redirectOutput(table.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(p.waitFor()).isZero();
    return Files.readAllLines(table);
  }

  /** A flow that fails this time has no result in the table, whatever an earlier run left in its directory. */
  @Test
  void vaeShSaysNoResultForAFlowThatFailedThisTime(@TempDir Path tmp) throws Exception {
    String command = vaeSh(tmp);
    assertThat(run(tmp, command).exit()).isZero();
    assertThat(vaeTable(tmp, "FAIL=planar", command)).contains("| planar | no result (see the run's error) | | | | |")
        .filteredOn(l -> l.startsWith("| none |")).singleElement().asString().startsWith("| none | -100 |");
  }

  /**
   * sylvester-orthogonal's failed orthogonality check (exit code 1, results written) stopped the
   * script, and deleted the run's results with the flows after it never run: now the others run and
   * the table marks that row.
   */
  @Test
  void vaeShGoesOnAfterAFailedOrthogonalityCheckAndMarksItsRow(@TempDir Path tmp) throws Exception {
    assertThat(vaeTable(tmp, "CHECK=sylvester-orthogonal", vaeSh(tmp)))
        .contains("| sylvester-orthogonal (orthogonality check failed: its log-det is wrong) | -100 | 99 ± 1 | 0 | 1 s (1 s) | 1 s (1 s) |")
        .filteredOn(l -> l.startsWith("| sylvester-triangular |")).singleElement().asString()
        .startsWith("| sylvester-triangular | -100 |");
  }

  /**
   * A flow's earlier result stays until its new run has ended: it was deleted as the run started,
   * so a second vae.sh on the same OUT deleted the result the first had just written (whose table
   * then said "no result" for it), and a run stopped meanwhile lost it.
   */
  @Test
  void vaeShKeepsAFlowsResultWhileItsRunIsUnderWay(@TempDir Path tmp) throws Exception {
    String command = vaeSh(tmp);
    assertThat(run(tmp, command).exit()).isZero();
    Path result = tmp.resolve("out/vae-none/vae.json");
    String earlier = Files.readString(result);
    Process p = new ProcessBuilder("bash", "-c", "BLOCK=none " + command).directory(tmp.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      MainTest.await(() -> Files.exists(tmp.resolve("blocked")));
      assertThat(tmp.resolve("blocked")).as("the run of none is under way").exists();
      assertThat(result).as("none's earlier result").hasContent(earlier);
      Files.writeString(tmp.resolve("go"), "");
      assertThat(p.waitFor()).isZero();
    } finally {
      Files.writeString(tmp.resolve("go"), ""); // else a stand-in left waiting outlives the test
      p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      p.destroyForcibly();
    }
  }

  /**
   * A failed none, the first flow, leaves the other flows' table: the settings line was read from
   * none's vae.json alone, and the script ended with jq's error. No flow with a result is said.
   */
  @Test
  void vaeShPrintsTheTableWhenTheFirstFlowFailed(@TempDir Path tmp) throws Exception {
    String command = vaeSh(tmp);
    List<String> table = vaeTable(tmp, "FAIL=none", command);
    assertThat(table).first().asString().startsWith("Data d: first 1 training images");
    assertThat(table).contains("| none | no result (see the run's error) | | | | |")
        .filteredOn(l -> l.startsWith("| planar |")).singleElement().asString().startsWith("| planar | -100 |");

    // Every flow failed: no table, a line saying so.
    Files.writeString(tmp.resolve("stand-in"), "#!/usr/bin/env bash\nexit 3\n");
    Outcome none = run(tmp, command);
    assertThat(none.exit()).isEqualTo(3);
    assertThat(none.stderr()).endsWith("experiments/vae.sh: no flow has a result (see the runs' errors above)\n");
  }

  /** PARALLEL other than 0 or 1 is refused before any run: PARALLEL=yes ran the flows one after the other. */
  @Test
  void vaeShRefusesParallelOtherThanZeroOrOne(@TempDir Path tmp) throws Exception {
    experiments(tmp);
    executable(tmp.resolve("stand-in"), VAE_STAND_IN);
    for (String parallel : new String[] {"yes", "true", "2"}) {
      Outcome bad = run(tmp, "PARALLEL=" + parallel + " IREVNET=./stand-in OUT=out bash experiments/vae.sh");
      assertThat(bad.exit()).as(parallel).isEqualTo(2);
      assertThat(bad.stderr()).as(parallel)
          .isEqualTo("PARALLEL=" + parallel + ": 1 runs the six flows at once, 0 (the default) one after the other\n");
      assertThat(tmp.resolve("out")).as(parallel).doesNotExist();
    }
  }

  /** With PARALLEL=1, a refusal of the six commands (exit 2) ends the script with it, as in sequence, without a table. */
  @Test
  void vaeShInParallelEndsWithTheCommandsBadUsage(@TempDir Path tmp) throws Exception {
    experiments(tmp);
    executable(tmp.resolve("stand-in"), "#!/usr/bin/env bash\necho 'irevnet vae: unknown option' >&2\nexit 2\n");
    for (String parallel : new String[] {"0", "1"}) {
      Path table = tmp.resolve("table.md");
      Process p = new ProcessBuilder("bash", "-c", "PARALLEL=" + parallel + " IREVNET=./stand-in OUT=out bash experiments/vae.sh")
          .directory(tmp.toFile()).redirectOutput(table.toFile()).redirectError(tmp.resolve("err.txt").toFile()).start();
      assertThat(p.waitFor()).as(parallel).isEqualTo(2);
      assertThat(table).as(parallel).isEmptyFile();
      assertThat(Files.readString(tmp.resolve("err.txt"))).as(parallel).doesNotContain("jq").doesNotContain("no flow");
    }
  }
}
