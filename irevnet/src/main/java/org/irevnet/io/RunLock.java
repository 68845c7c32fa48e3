package org.irevnet.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One process at a time per run directory. Two trainings of one run (a command started twice)
 * appended interleaved metrics and raced their checkpoint saves, where each deletes what it takes
 * for the other's leftovers. The lock is the operating system's ({@link FileChannel#tryLock}) on a
 * hidden file next to the run directory, which does not exist yet when a run starts (bad input
 * must leave no directory behind); a killed holder's lock goes with its process. The same lock
 * keeps other commands that write a directory whole (quickstart, data shortcut, cnf, vae) to one at
 * a time, and {@link #waitFor} is the lock, waited for, of the result sets renamed into a directory.
 */
public final class RunLock implements AutoCloseable {
  /** Lock files this process holds by {@link #acquire}. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
  private static final Object ABSENT = new Object();

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final List<Path> made;

  private RunLock(Path file, FileChannel channel, FileLock lock, List<Path> made) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
    this.made = made;
    AtomicFiles.lockHeld(file); // a stopped command (Ctrl-C) leaves no lock file behind
  }

  /**
   * Takes the lock of {@code runDir}, or refuses with a message naming the process that holds it.
   * Directories it makes for the lock file go again with {@link #close} while they stay empty, so
   * a training refused for bad input leaves nothing behind.
   *
   * @throws IllegalArgumentException if another process (or this one) holds it
   */
  public static RunLock acquire(Path runDir) throws IOException {
    return acquire(runDir, "trained", "wait for it to end, or stop it and continue with --resume");
  }

  /**
   * {@link #acquire(Path)} for another command that writes {@code dir} whole and must not do so
   * twice at once: the refusal says that {@code dir} "is being {@code doing} by another process",
   * and then {@code advice}.
   */
  public static RunLock acquire(Path dir, String doing, String advice) throws IOException {
    // A run directory that cannot be written was refused naming the lock file, a name the user
    // never gave; the check names the directory and makes nothing.
    AtomicFiles.checkCanCreate(dir);
    // Beside the directory itself: one reached through a link was locked beside the link.
    Path abs = AtomicFiles.realLocation(dir);
    // As a long name's temporaries are named: .NAME.lock would not fit beside a name of 250 bytes.
    Path file = abs.getParent().resolve(AtomicFiles.siblingStem(abs, "lock".length()) + "lock");
    // Checked before any channel is opened: closing a channel on the file would release every
    // lock this process holds on it (POSIX record locks).
    if (!HELD.add(file)) throw refused(dir, doing, "pid " + ProcessHandle.current().pid(), advice);
    try {
      List<Path> made = new ArrayList<>();
      for (Path d = abs.getParent(); d != null && !Files.exists(d); d = d.getParent()) made.add(d);
      AtomicFiles.createDirectories(abs.getParent());
      FileLock l = lockFile(file, false);
      if (l == null) throw refused(dir, doing, holder(file), advice);
      FileChannel ch = l.channel();
      try {
        writeHolder(ch);
      } catch (IOException e) {
        // On a full disk the file was made but its holder not written: it stayed behind, and
        // the line named neither it nor the lock.
        try {
          Files.deleteIfExists(file);
        } catch (IOException notDeleted) {
          // the error that matters is the write's
        } finally {
          l.release();
          ch.close();
        }
        String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
            : e.getMessage();
        IOException named = new java.nio.file.FileSystemException(file.toString(), null,
            reason + " (the lock of " + dir + ", made beside it)");
        named.initCause(e);
        throw named;
      }
      return new RunLock(file, ch, l, made);
    } catch (IOException | RuntimeException e) {
      HELD.remove(file);
      throw e;
    }
  }

  /**
   * Waits until no other process holds the lock file {@code file} (made if missing), and takes it;
   * {@link #close} deletes it. For holds of moments that another process waits out instead of
   * being refused ({@link AtomicFiles#together}'s renames). One thread of this process holds a
   * given file at a time (the caller's to ensure).
   */
  static RunLock waitFor(Path file) throws IOException {
    FileLock l = lockFile(file, false);
    if (l == null) {
      // A holder that does not let go (a report stopped with Ctrl-Z) kept a finished command
      // waiting at its last step without a word.
      String holder = holder(file);
      waiting.accept(file.getParent() + " is being written or read by another process" + (holder.isEmpty() ? ""
          : " (" + holder + ")") + ": waiting for it");
      l = lockFile(file, true);
    }
    try {
      writeHolder(l.channel());
    } catch (IOException e) {
      // the holder's name is for the message of a process that waits; the lock holds without it
    }
    return new RunLock(file, l.channel(), l, List.of());
  }

  private static volatile java.util.function.Consumer<String> waiting = message -> {};

  /** Where {@link #waitFor} says, before it waits, that another process holds the lock and which. */
  public static void onWait(java.util.function.Consumer<String> notice) {
    waiting = notice;
  }

  /**
   * The operating system's lock of {@code file}, made if missing, on a channel of its own; null
   * where another process holds it and {@code wait} is false.
   */
  private static FileLock lockFile(Path file, boolean wait) throws IOException {
    while (true) {
      Object before = fileKey(file);
      FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = wait ? ch.lock() : ch.tryLock();
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
      if (l == null) {
        ch.close();
        return null;
      }
      // A holder deletes the file before it releases the lock: if it did so after this
      // process opened the file, the lock is on an unlinked file that the next process will
      // not see. The name holds the locked file if it named one file before the opening and
      // after the lock (a file held open keeps its inode number). Else: again.
      if (before != ABSENT && Objects.equals(before, fileKey(file))) return l;
      l.release();
      ch.close();
    }
  }

  /** Names this process as the holder, in the lock file {@code ch} is open on ({@link #holder} reads it). */
  private static void writeHolder(FileChannel ch) throws IOException {
    ch.truncate(0);
    ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
  }

  /** What the holder of lock file {@code file} wrote there ({@code pid N}); empty if it cannot be read. */
  private static String holder(Path file) {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(64), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return ""; // its holder has just deleted it
    }
  }

  private static IllegalArgumentException refused(Path dir, String doing, String holder, String advice) {
    return new IllegalArgumentException(dir + " is being " + doing + " by another process" + (holder.isEmpty() ? ""
        : " (" + holder + ")") + ": " + advice);
  }

  /**
   * The file's identity (device and inode; null where the platform has none), or {@link #ABSENT};
   * opens no descriptor.
   */
  private static Object fileKey(Path file) throws IOException {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    } catch (NoSuchFileException e) {
      return ABSENT;
    }
  }

  /** Releases the lock, deletes its file and the directories made for it that are empty. */
  @Override
  public void close() throws IOException {
    AtomicFiles.lockReleased(file);
    try {
      Files.deleteIfExists(file);
      lock.release();
    } finally {
      channel.close();
      HELD.remove(file);
    }
    try {
      for (Path d : made) Files.delete(d); // innermost first
    } catch (DirectoryNotEmptyException | NoSuchFileException e) {
      // The run (or another one) is in it: it stays.
    }
  }
}
