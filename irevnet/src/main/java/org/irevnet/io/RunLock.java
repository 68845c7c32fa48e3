package org.irevnet.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One process at a time per run directory. Two trainings of one run (a command started twice)
 * appended interleaved metrics and raced their checkpoint saves, where each deletes what it takes
 * for the other's leftovers. The lock is the operating system's ({@link FileChannel#tryLock}) on a
 * hidden file next to the run directory, which does not exist yet when a run starts (bad input
 * must leave no directory behind); a killed holder's lock goes with its process.
 */
public final class RunLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock of {@code runDir}, or refuses with a message naming the process that holds it.
   *
   * @throws IllegalArgumentException if another process (or this one) holds it
   */
  public static RunLock acquire(Path runDir) throws IOException {
    Path abs = runDir.toAbsolutePath().normalize();
    AtomicFiles.createDirectories(abs.getParent());
    Path file = abs.getParent().resolve("." + abs.getFileName() + ".lock");
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null; // held by this process
    }
    if (l == null) {
      String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
      ch.close();
      throw new IllegalArgumentException(runDir + " is being trained by another process" + (holder.isEmpty() ? "" : " (" + holder
          + ")") + ": wait for it to end, or stop it and continue with --resume");
    }
    file.toFile().deleteOnExit(); // a stopped training (Ctrl-C) leaves no lock file behind
    ch.truncate(0);
    ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
    return new RunLock(file, ch, l);
  }

  /**
   * Releases the lock and deletes its file. (A process that opened the file just before the
   * deletion could then lock the unlinked file while a third locks a new one: that needs three
   * trainings of one run started within the same moment.)
   */
  @Override
  public void close() throws IOException {
    try {
      Files.deleteIfExists(file);
      lock.release();
    } finally {
      channel.close();
    }
  }
}
