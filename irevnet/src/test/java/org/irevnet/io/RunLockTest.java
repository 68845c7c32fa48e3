package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {

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
}
