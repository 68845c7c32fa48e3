package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
  /**
   * A holder in another process (see {@link #holder}): takes the lock of {@code args[0]}, says
   * "locked", and keeps it until its standard input ends.
   */
  public static void main(String[] args) throws Exception {
    try (RunLock held = RunLock.acquire(Path.of(args[0]))) {
      System.out.println("locked");
      System.out.flush();
      System.in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  /**
   * Starts {@link #main} for {@code run} in a new JVM and returns once it holds the lock. Another
   * process, because this one's own second acquire is refused before the operating system's lock
   * is tried (closing a second channel would drop the first one's lock).
   */
  static Process holder(Path run) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), RunLockTest.class.getName(),
        run.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"locked".equals(line)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("the holder did not take the lock: " + line);
    }
    return p;
  }

  /**
   * A lock that a process has closed is not deleted again as that process exits: by then it can be
   * another process's lock, and its file gone, a third process took the run as well (a quickstart's
   * exit, long after its training of a run, did so to a train of that run started meanwhile).
   */
  @Test
  void aClosedLockIsNotDeletedAgainAsItsProcessExits(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    Process released = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Released.class.getName(),
        run.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Process holder = null;
    try {
      assertThat(new BufferedReader(new InputStreamReader(released.getInputStream(), StandardCharsets.UTF_8)).readLine())
          .isEqualTo("released");
      holder = holder(run);
      released.getOutputStream().close();
      assertThat(released.waitFor()).isZero();
      assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("(pid " + holder.pid() + ")");
    } finally {
      released.destroyForcibly();
      if (holder != null) holder.destroyForcibly().waitFor();
    }
  }

  /** Takes the lock of {@code args[0]} and closes it, says "released", and exits once its standard input ends. */
  static final class Released {
    public static void main(String[] args) throws Exception {
      RunLock.acquire(Path.of(args[0])).close();
      System.out.println("released");
      System.out.flush();
      System.in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  /**
   * A lock file that takes no bytes: made in place of {@code .run.lock} as a link to the kernel's
   * full device, whose writes fail with ENOSPC, as a full disk's do once the file exists. The
   * refusal names the lock file and says what it is; no file is left, and the run can be locked
   * once the disk has room. No descriptor of it stays open (the channel is closed too).
   */
  @Test
  void aLockThatCannotBeWrittenIsNamedAndLeftNowhere(@TempDir Path tmp) throws Exception {
    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "no /dev/full on this system");
    Path run = tmp.resolve("run"), lockFile = tmp.resolve(".run.lock");
    Files.createSymbolicLink(lockFile, full);
    long open = openDescriptorsOf(full);
    assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(lockFile + ": No space left on device (the lock of " + run + ", made beside it)");
    assertThat(lockFile).doesNotExist();
    assertThat(openDescriptorsOf(full)).as("descriptors left open on what the lock file was").isEqualTo(open);
    try (RunLock lock = RunLock.acquire(run)) {
      assertThat(lockFile).isRegularFile();
    }
  }

  /**
   * A process waiting for a lock whose holder deletes the lock file as it lets go holds the file
   * that is there afterwards, not the deleted one it had opened: a lock on the deleted file would
   * keep out no third process, which makes the file again and locks that (two result sets renamed
   * into one directory at once).
   */
  @Test
  void aWaiterWhoseHolderDeletesTheLockFileHoldsTheFileThatIsThere(@TempDir Path tmp) throws Exception {
    Path locks = Path.of("/proc/locks");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(locks), "no /proc/locks to see a waiting process");
    Path run = tmp.resolve("run"), file = tmp.resolve(".run.lock");
    Process holder = holder(run);
    java.util.concurrent.CompletableFuture<RunLock> taken = new java.util.concurrent.CompletableFuture<>();
    Thread waiter = new Thread(() -> {
      try {
        taken.complete(RunLock.waitFor(file));
      } catch (Throwable e) {
        taken.completeExceptionally(e);
      }
    }, "waiter");
    waiter.setDaemon(true);
    try {
      waiter.start();
      String waiting = "-> POSIX ADVISORY WRITE " + ProcessHandle.current().pid() + " ";
      while (!taken.isDone() && Files.readAllLines(locks).stream()
          .noneMatch(l -> l.replaceAll("\\s+", " ").contains(waiting))) {
        Thread.sleep(10);
      }
      holder.getOutputStream().close(); // it deletes the file, then lets go
      assertThat(holder.waitFor()).isZero();
      try (RunLock held = taken.get(20, TimeUnit.SECONDS)) {
        assertThat(file).as("the file this process holds").hasContent("pid " + ProcessHandle.current().pid());
      }
    } finally {
      holder.destroyForcibly().waitFor();
    }
  }

  @Test
  void aRunIsLockedUntilItsHolderClosesTheLock(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("runs/r1");
    Path file = tmp.resolve("runs/.r1.lock");
    try (RunLock held = RunLock.acquire(run)) {
      assertThat(file).hasContent("pid " + ProcessHandle.current().pid());
      assertThat(run).as("the run directory is not made for the lock").doesNotExist();
      assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(run + " is being trained by another process (pid " + ProcessHandle.current().pid()
              + "): wait for it to end, or stop it and continue with --resume");
      try (RunLock other = RunLock.acquire(tmp.resolve("runs/r2"))) {
        assertThat(tmp.resolve("runs/.r2.lock")).exists();
      }
    }
    assertThat(file).doesNotExist();
    try (RunLock again = RunLock.acquire(run)) {
      assertThat(Files.exists(file)).isTrue();
    }
  }

  /**
   * A run reached through a symbolic link to it has the run's one lock: its lock was made beside
   * the link, .LINK.lock, so `train --resume --out latest` (latest -> runs/r1) trained the run while
   * `train --resume --out runs/r1` did, both racing the run's checkpoint saves and metrics.
   */
  @Test
  void aRunReachedThroughSymbolicLinksIsLockedByItsOwnLock(@TempDir Path tmp) throws Exception {
    Path run = Files.createDirectories(tmp.resolve("runs/r1"));
    Path toRun = Files.createSymbolicLink(tmp.resolve("latest"), run);
    Path toRuns = Files.createSymbolicLink(tmp.resolve("all"), tmp.resolve("runs"));
    try (RunLock held = RunLock.acquire(run)) {
      for (Path other : java.util.List.of(toRun, toRuns.resolve("r1"))) {
        assertThatThrownBy(() -> RunLock.acquire(other)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage(other + " is being trained by another process (pid " + ProcessHandle.current().pid()
                + "): wait for it to end, or stop it and continue with --resume");
      }
    }
    assertThat(tmp.resolve(".latest.lock")).doesNotExist();
    try (RunLock throughTheLink = RunLock.acquire(toRun)) {
      assertThat(tmp.resolve("runs/.r1.lock")).exists();
    }
  }

  /**
   * A run directory may have any name the file system allows: its lock beside it, {@code
   * .NAME.lock}, could not be made for a name of more than 249 bytes, and such a run could not be
   * trained. A longer name's lock is named as its temporaries are (cut and hashed), and one of
   * another run whose name begins alike is its own.
   */
  @Test
  void aRunDirectoryWithANameOf255BytesIsLockedByItsOwnLock(@TempDir Path tmp) throws Exception {
    String common = "r".repeat(250);
    java.util.List<Path> runs = java.util.List.of(tmp.resolve("r".repeat(249)), tmp.resolve(common),
        tmp.resolve(common + "-lr=1"), tmp.resolve(common + "-lr=2"));
    java.util.List<RunLock> held = new java.util.ArrayList<>();
    try {
      for (Path run : runs) held.add(RunLock.acquire(run));
      assertThat(tmp.resolve("." + "r".repeat(249) + ".lock")).as("the name it had").exists();
      try (var s = Files.list(tmp)) {
        java.util.List<Path> locks = s.toList();
        assertThat(locks).hasSize(runs.size());
        for (Path lock : locks) {
          assertThat(lock.getFileName().toString()).startsWith(".r").endsWith(".lock");
          assertThat(lock).hasContent("pid " + ProcessHandle.current().pid());
        }
      }
      for (Path run : runs) {
        assertThatThrownBy(() -> RunLock.acquire(run)).as(run.toString()).isInstanceOf(IllegalArgumentException.class);
      }
    } finally {
      for (RunLock lock : held) lock.close();
    }
    assertThat(tmp).isEmptyDirectory();
  }

  /**
   * No descriptor of the lock file stays open once the lock is closed: on Linux, closing any
   * descriptor of a file releases every lock the process holds on it, so a leaked one would drop a
   * later holder's lock whenever the garbage collector closed it.
   */
  @Test
  void aClosedLockLeavesNoDescriptorOfItsFileOpen(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve(".r1.lock");
    try (RunLock held = RunLock.acquire(tmp.resolve("r1"))) {
      assertThat(openDescriptorsOf(file)).isEqualTo(1);
    }
    try (RunLock again = RunLock.acquire(tmp.resolve("r1"))) {
      assertThat(openDescriptorsOf(file)).isEqualTo(1);
    }
    assertThat(openDescriptorsOf(file)).isZero();
  }

  /** Descriptors of this process open on {@code file}, deleted or not (Linux's /proc). */
  static long openDescriptorsOf(Path file) throws java.io.IOException {
    String name = file.toAbsolutePath().toString();
    long n = 0;
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.equals(name) || target.equals(name + " (deleted)")) n++;
        } catch (java.io.IOException e) {
          // the descriptor of the listing itself, closed by now
        }
      }
    }
    return n;
  }

  /**
   * A run directory nothing can be made in (Linux's /proc makes nothing on request, root's writes
   * included) is named: the refusal named the hidden lock file, which the user never gave.
   */
  @Test
  void aRunDirectoryThatCannotBeWrittenIsNamedNotItsLockFile() {
    Path run = Path.of("/proc/irevnet-run");
    assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessage(run.toString());
  }

  @Test
  void directoriesMadeForTheLockGoWithItUnlessTheRunIsInThem(@TempDir Path tmp) throws Exception {
    try (RunLock refused = RunLock.acquire(tmp.resolve("new/deeper/run"))) {
      assertThat(tmp.resolve("new/deeper/.run.lock")).exists();
    }
    assertThat(tmp.resolve("new")).as("a training refused for bad input leaves no directory").doesNotExist();

    try (RunLock trained = RunLock.acquire(tmp.resolve("new/deeper/run"))) {
      Files.createDirectories(tmp.resolve("new/deeper/run"));
    }
    assertThat(tmp.resolve("new/deeper/run")).isDirectory();
    assertThat(tmp.resolve("new/deeper/.run.lock")).doesNotExist();

    Files.createDirectories(tmp.resolve("kept"));
    try (RunLock existing = RunLock.acquire(tmp.resolve("kept/run"))) {
      assertThat(tmp.resolve("kept/.run.lock")).exists();
    }
    assertThat(tmp.resolve("kept")).as("a directory that was there stays").isDirectory();
  }

  /**
   * A run trained by another live process is refused, naming that process by the pid it wrote
   * (Process.pid() here, not the file); the refusal leaves no descriptor of the lock file open and
   * does not keep the run marked as held, so it is taken once the holder ends.
   */
  @Test
  void aRunHeldByAnotherLiveProcessIsRefusedWithItsPidUntilItEnds(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("r1"), file = tmp.resolve(".r1.lock");
    Process p = holder(run);
    try {
      assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(run + " is being trained by another process (pid " + p.pid()
              + "): wait for it to end, or stop it and continue with --resume");
      assertThat(openDescriptorsOf(file)).as("descriptors left by the refusal").isZero();
    } finally {
      p.getOutputStream().close();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).isZero();
    try (RunLock mine = RunLock.acquire(run)) {
      assertThat(file).hasContent("pid " + ProcessHandle.current().pid());
    }
  }

  /**
   * A holder killed with SIGKILL runs no shutdown hook: its lock file stays, naming a dead
   * process. Its lock went with it, so the run is taken, and the file names the new holder.
   */
  @Test
  void aLockFileLeftByAKilledProcessDoesNotStopTheNextRun(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("r1"), file = tmp.resolve(".r1.lock");
    Process p = holder(run);
    assertThat(p.toHandle().destroyForcibly()).isTrue(); // the signal alone (see the SIGTERM test)
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(file).as("what the killed holder left").hasContent("pid " + p.pid());

    try (RunLock mine = RunLock.acquire(run)) {
      assertThat(file).hasContent("pid " + ProcessHandle.current().pid());
    }
    assertThat(file).doesNotExist();
  }

  /**
   * A training stopped with SIGTERM (what Ctrl-C's SIGINT also does) runs the shutdown hooks, not
   * the holder's close: its lock file goes all the same, so the run directory's parent is left as
   * it was. This runs in the child, so pitest cannot mutate what it checks; it checks the
   * behaviour.
   */
  @Test
  void aHolderStoppedBySigtermLeavesNoLockFile(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve(".r1.lock");
    Process p = holder(tmp.resolve("r1"));
    assertThat(file).exists();
    // Not p.destroy(): it also closes the child's standard input, and the holder's own close then
    // raced the signal (under pitest it won).
    assertThat(p.toHandle().destroy()).isTrue();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("stopped by the signal, not by the end of its input").isEqualTo(128 + 15);
    assertThat(file).doesNotExist();
  }
}
