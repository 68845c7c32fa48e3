package org.irevnet.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a reader never sees half of one: the content goes to a temporary file in
 * the same directory, which is then renamed over the target. An interrupted write leaves the
 * previous file intact.
 */
public final class AtomicFiles {
  /**
   * Temporaries being written now. A stopped JVM runs its shutdown hooks, not the writers'
   * {@code finally} blocks, so without {@link #deleteUnfinished} every Ctrl-C during a write left a
   * hidden file next to its target.
   */
  private static final Set<Path> UNFINISHED = ConcurrentHashMap.newKeySet();

  /**
   * The temporaries {@link #deleteUnfinished} took (under {@link #RENAMES}), which are never renamed
   * into place: the hook runs while the writer's thread goes on, and a checkpoint directory it had
   * emptied in part, renamed into place, replaced a complete checkpoint with one whose files were
   * missing (CI, a test that stops a training).
   */
  private static final Set<Path> ABANDONED = ConcurrentHashMap.newKeySet();
  /** Files to delete as the process ends ({@link #deleteOnExit}). */
  private static final Set<Path> DELETED_ON_EXIT = ConcurrentHashMap.newKeySet();

  /** Set by {@link #stop} (under {@link #RENAMES}): no temporary or directory is created after it. */
  private static boolean stopped;

  private AtomicFiles() {}

  /** Something that writes a file's content to a stream. */
  @FunctionalInterface
  public interface Writer {
    void write(OutputStream out) throws IOException;
  }

  /**
   * The finished temporaries of the writes inside {@link #together} on this thread, by target,
   * renamed into place only when all are written.
   */
  private static final ThreadLocal<Map<Path, Path>> DEFERRED = new ThreadLocal<>();

  /**
   * Held while a temporary is renamed into place ({@link #moveAtomically}, all of {@link #together}'s
   * renames), while a temporary or a directory is made, and while {@link #stop} deletes: a process
   * stopped then keeps either the whole new set or none of it, never a temporary the hook emptied,
   * and nothing made after it.
   */
  private static final Object RENAMES = new Object();

  /** Writes done together ({@link #together}). */
  @FunctionalInterface
  public interface Writes {
    void run() throws IOException;
  }

  public static void write(Path target, Writer writer) throws IOException {
    // The rename cannot replace a directory, and its error would name the temporary.
    if (Files.isDirectory(target)) throw new java.nio.file.FileSystemException(target.toString(), null, "is a directory");
    Map<Path, Path> deferred = DEFERRED.get();
    List<Path> made = missingDirectories(target.toAbsolutePath().getParent());
    Path tmp = null;
    boolean kept = false, written = false;
    try {
      tmp = createTemporary(target, false);
      try (OutputStream out = Files.newOutputStream(tmp)) {
        writer.write(out);
      } catch (IOException e) {
        throw naming(target, e);
      }
      if (deferred == null) {
        moveAtomically(tmp, target);
      } else {
        Path earlier = deferred.put(target.toAbsolutePath().normalize(), tmp);
        if (earlier != null) deleteTree(earlier);
        DEFERRED_DIRECTORIES.get().addAll(made);
        kept = true;
      }
      written = true;
    } finally {
      if (!kept && tmp != null) deleteTree(tmp);
      if (!written) deleteEmpty(made);
    }
  }

  /**
   * The directories the writes inside {@link #together} on this thread made, which go again, when
   * empty, if one fails.
   */
  private static final ThreadLocal<List<Path>> DEFERRED_DIRECTORIES = new ThreadLocal<>();

  /** The directories {@code dir} and its parents that do not exist, innermost first. */
  private static List<Path> missingDirectories(Path dir) {
    List<Path> missing = new ArrayList<>();
    for (Path d = dir; d != null && !Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS); d = d.getParent()) {
      missing.add(d);
    }
    return missing;
  }

  /**
   * Deletes those of {@code dirs} that are empty, deepest first: a write that failed (a full disk)
   * left its output directory behind, empty, where bad input leaves nothing.
   */
  private static void deleteEmpty(List<Path> dirs) {
    List<Path> deepestFirst = new ArrayList<>(dirs);
    deepestFirst.sort(java.util.Comparator.comparingInt(Path::getNameCount).reversed());
    for (Path d : deepestFirst) {
      try {
        Files.deleteIfExists(d);
      } catch (IOException e) {
        // not empty (another writer's file is in it), or not ours to delete: it stays
      }
    }
  }

  /**
   * {@code e} as an error of writing {@code file}. The error of a write names no file ("No space
   * left on device", from the stream), and a PNG writer's says only "I/O error writing PNG file!"
   * with that beneath it: a full disk ended a command with one of these two, naming neither the
   * file nor the reason. The reason is the innermost I/O error's; one that names a file (a {@link
   * java.nio.file.FileSystemException}: a rename, a directory in the way) stays as it is.
   */
  public static IOException naming(Path file, IOException e) {
    if (e instanceof java.nio.file.FileSystemException f && file.toString().equals(f.getFile())) return e;
    Throwable root = e;
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof IOException) root = c;
    }
    if (root instanceof java.nio.file.FileSystemException || root.getMessage() == null
        || root.getMessage().contains(file.toString())) {
      return e;
    }
    IOException named = new java.nio.file.FileSystemException(file.toString(), null, root.getMessage());
    named.initCause(e);
    return named;
  }

  /** {@code out}, which writes {@code file}, with errors that name it ({@link #naming(Path, IOException)}). */
  public static OutputStream naming(Path file, OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(int b) throws IOException {
        try {
          out.write(b);
        } catch (IOException e) {
          throw naming(file, e);
        }
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        try {
          out.write(b, off, len);
        } catch (IOException e) {
          throw naming(file, e);
        }
      }

      @Override
      public void flush() throws IOException {
        try {
          out.flush();
        } catch (IOException e) {
          throw naming(file, e);
        }
      }

      @Override
      public void close() throws IOException {
        try {
          out.close();
        } catch (IOException e) {
          throw naming(file, e);
        }
      }
    };
  }

  /**
   * Runs {@code writes}, whose {@link #write}s (on this thread) replace their targets only once all
   * have succeeded: a command's JSON and its picture are one result, and a failure or a stop
   * between the two once left the new JSON beside the old picture. A write inside the writes of an
   * enclosing call joins that call's set.
   */
  public static void together(Writes writes) throws IOException {
    if (DEFERRED.get() != null) {
      writes.run();
      return;
    }
    Map<Path, Path> deferred = new java.util.LinkedHashMap<>();
    List<Path> made = new ArrayList<>();
    DEFERRED.set(deferred);
    DEFERRED_DIRECTORIES.set(made);
    boolean renamed = false;
    try {
      writes.run();
      try (java.io.Closeable held = lockResults(deferred.keySet().stream().map(Path::getParent).toList())) {
        synchronized (RENAMES) {
          for (Map.Entry<Path, Path> e : deferred.entrySet()) moveAtomically(e.getValue(), e.getKey());
        }
      }
      renamed = true;
    } finally {
      DEFERRED.remove();
      DEFERRED_DIRECTORIES.remove();
      for (Path tmp : deferred.values()) deleteTree(tmp); // those not renamed
      if (!renamed) deleteEmpty(made);
    }
  }

  /**
   * The lock file, in a directory, of the result sets being renamed into it ({@link #lockResults});
   * no run's lock ({@code .NAME.lock}, {@link RunLock#acquire}) or temporary has this name.
   */
  static final String RESULTS_LOCK = ".results-lock";

  /** Held by the one thread of this JVM that takes {@link #lockResults}' file locks. */
  private static final java.util.concurrent.locks.ReentrantLock RESULTS = new java.util.concurrent.locks.ReentrantLock();

  /**
   * Waits until no other process renames a set of results into {@code dirs} (those that exist),
   * and keeps them from doing so until closed: for {@link #together}'s renames, and for a reader of
   * such sets. Two commands writing one set at once (two {@code invert}s of a run, a second {@code
   * report}) renamed their files in turn, and left one's JSON beside the other's picture; a report
   * read between the two renames showed one's numbers with the other's picture. Each directory's
   * {@link #RESULTS_LOCK} is taken in name order, so two holders never wait on each other, and
   * deleted when its hold ends (and by {@link #stop}). Best effort: a directory that takes no new
   * file (a read-only run) is not locked.
   */
  public static java.io.Closeable lockResults(java.util.Collection<Path> dirs) throws IOException {
    RESULTS.lock();
    List<RunLock> held = new ArrayList<>();
    try {
      // By their real paths: two holders that name one directory through different links take the
      // locks in the same order.
      java.util.SortedSet<Path> real = new java.util.TreeSet<>();
      for (Path d : dirs) {
        try {
          if (Files.isDirectory(d)) real.add(d.toRealPath());
        } catch (IOException e) {
          // gone meanwhile: nothing to rename into it
        }
      }
      for (Path dir : real) {
        Path file = dir.resolve(RESULTS_LOCK);
        try {
          held.add(RunLock.waitFor(file));
        } catch (IOException e) {
          // a directory that takes no new file: no set can be renamed into it either
        }
      }
    } catch (RuntimeException e) {
      release(held);
      throw e;
    }
    return () -> release(held);
  }

  private static void release(List<RunLock> held) {
    for (RunLock l : held) {
      try {
        l.close();
      } catch (IOException e) {
        // the set is in place; a lock file left behind is taken, and deleted, by the next set
      }
    }
    RESULTS.unlock();
  }

  /**
   * A new temporary file or directory for {@code target}'s next content ({@link #createSibling}
   * with suffix {@code .PID-KEY.tmp}, naming its owner, {@link #OWNER}; {@code .tmp} where that is
   * unknown; {@link #siblingStems} leaves room for it beside any name the file system takes), which {@link #deleteUnfinished} removes until it is
   * renamed into place or deleted, and a later temporary of the same target once its process has
   * died ({@link #deleteStaleTemporaries}). Its content is never the only copy of anything: the
   * target stays until the rename.
   */
  public static Path createTemporary(Path target, boolean directory) throws IOException {
    deleteStaleTemporaries(target);
    synchronized (RENAMES) {
      if (stopped) throw new java.nio.file.FileSystemException(target.toString(), null, "not written: the process is being stopped");
      Path tmp = createSibling(target, OWNER == null ? ".tmp" : "." + OWNER.name() + ".tmp", directory);
      UNFINISHED.add(tmp);
      return tmp;
    }
  }

  /**
   * For a process being stopped (its shutdown hook): deletes the temporaries of writes under way
   * ({@link #deleteUnfinished}) and refuses new ones, and new directories. The command's threads run
   * on while the hooks do, and the JVM halts them when the hooks end: a checkpoint save begun after
   * the deletion, or one that made its deleted directory again, left a temporary behind (2 of 80
   * SIGTERMs at random moments in a training that saved every step).
   */
  public static void stop() {
    synchronized (RENAMES) {
      stopped = true;
      deleteUnfinished();
    }
    deleteAll(DELETED_ON_EXIT);
    deleteAll(HELD_LOCKS);
  }

  /**
   * Deletes {@code file} as the process ends: {@link java.io.File#deleteOnExit} at a normal exit, and
   * {@link #stop} where the process is stopped, which the interruption hook ends without the JVM's
   * own exit steps (so without deleteOnExit's).
   */
  public static void deleteOnExit(Path file) {
    DELETED_ON_EXIT.add(file);
    file.toFile().deleteOnExit();
  }

  /** Lock files this process holds ({@link #lockHeld}). */
  private static final Set<Path> HELD_LOCKS = ConcurrentHashMap.newKeySet();
  private static final java.util.concurrent.atomic.AtomicBoolean HELD_LOCKS_HOOKED = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Deletes the lock file {@code file} if the process ends, or is stopped ({@link #stop}), before
   * {@link #lockReleased}: its holder's close deletes it otherwise. Not at every exit, as {@link
   * #deleteOnExit} would: after the close the name can be another process's lock, which this
   * process's exit deleted, letting a third process take what the second held.
   */
  static void lockHeld(Path file) {
    if (HELD_LOCKS_HOOKED.compareAndSet(false, true)) {
      try {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteAll(HELD_LOCKS), "irevnet lock files"));
      } catch (IllegalStateException e) {
        // the process is ending already: stop() deletes it, where it is stopped
      }
    }
    HELD_LOCKS.add(file);
  }

  /** Ends {@link #lockHeld} of {@code file}, as its holder closes it. */
  static void lockReleased(Path file) {
    HELD_LOCKS.remove(file);
  }

  private static void deleteAll(Set<Path> files) {
    for (Path p : files) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // as File.deleteOnExit: a file that cannot go stays
      }
    }
  }

  /**
   * Deletes the temporaries of writes still under way, which are then never renamed into place;
   * the part of {@link #stop} that leaves later writes possible (tests call it in-process).
   */
  public static void deleteUnfinished() {
    synchronized (RENAMES) {
      for (Path p : UNFINISHED) {
        ABANDONED.add(p);
        for (int attempt = 0; attempt < 3; attempt++) {
          try {
            deleteTree(p);
            break;
          } catch (IOException | java.io.UncheckedIOException e) {
            // a writer added a file while the tree was going: walk it again
          }
        }
      }
    }
  }

  /**
   * A new empty file or directory (created in one step, so two writers never share one) in the
   * directory of {@code target}, hidden and named after it ({@link #siblingStems}). It gets the
   * permissions of any new file, those of the user's umask: {@code Files.createTempFile} and {@code
   * createTempDirectory} make them private to their owner (0600, 0700), and the rename carried that
   * onto every report, model file and checkpoint.
   */
  public static Path createSibling(Path target, String suffix, boolean directory) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    createDirectories(dir);
    for (int attempt = 1; ; attempt++) {
      Path p = dir.resolve(siblingStem(target, LONGEST_RANDOM + utf8Length(suffix))
          + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + suffix);
      try {
        return directory ? Files.createDirectory(p) : Files.createFile(p);
      } catch (FileAlreadyExistsException e) {
        if (attempt == 100) throw e;
      } catch (java.nio.file.AccessDeniedException e) {
        // The sibling's random name means nothing to the user: name the file they asked for.
        throw new java.nio.file.AccessDeniedException(target.toString());
      } catch (java.nio.file.NoSuchFileException e) {
        throw new java.nio.file.NoSuchFileException(target.toString());
      } catch (java.nio.file.FileSystemException e) {
        throw new java.nio.file.FileSystemException(target.toString(), null, e.getReason());
      }
    }
  }

  /**
   * Deletes every temporary of {@code target} ({@link #isTemporarySibling}), whatever its owner:
   * what a process killed mid-write left. Only for targets one process writes at a time (under a
   * lock); live writers' temporaries would go too.
   */
  public static void deleteTemporarySiblings(Path target) throws IOException {
    deleteSiblings(target, p -> isTemporarySibling(target, p));
  }

  /**
   * Deletes every {@link #createSibling} of {@code target} with {@code suffix}: what a process
   * killed between the renames of a replacement left (suffix {@code .old}). Only for targets one
   * process writes at a time.
   */
  public static void deleteSiblings(Path target, String suffix) throws IOException {
    String name = siblingStemPattern(target) + "[0-9a-z]+" + java.util.regex.Pattern.quote(suffix);
    deleteSiblings(target, p -> p.getFileName().toString().matches(name));
  }

  private static void deleteSiblings(Path target, java.util.function.Predicate<Path> sibling) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) return;
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(sibling).toList()) deleteTree(p);
    }
  }

  /**
   * Whether {@code p} is named as a temporary of {@code target} ({@link #createTemporary}, with or
   * without its owner, or its former name).
   */
  public static boolean isTemporarySibling(Path target, Path p) {
    return p.getFileName().toString().matches(siblingStemPattern(target)
        + "([0-9a-z]+(\\.[0-9]+-[0-9a-z]+)?\\.tmp|tmp[0-9]+)");
  }

  /**
   * This process as its temporaries' names say it, {@code PID-KEY}: {@code KEY} names the kernel
   * boot and the PID namespace that give the PID its meaning, {@code uid} is the user its files
   * belong to. The host name would not be enough: containers that share a host name and a
   * directory can each have their own PID namespace, where the same PID is another process.
   */
  record Owner(long pid, String key, int uid) {
    String name() {
      return pid + "-" + key;
    }
  }

  /**
   * Null where the boot and namespace cannot be read (not Linux): temporaries then name no owner,
   * as they did before, and {@link #deleteStaleTemporaries} leaves them alone.
   */
  static final Owner OWNER = owner();

  private static Owner owner() {
    try {
      String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
      String namespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
      return new Owner(ProcessHandle.current().pid(), shortHash(boot + " " + namespace),
          (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The longest file name, in bytes, of the file systems this runs on (ext4, xfs, btrfs, tmpfs, NFS). */
  static final int NAME_MAX = 255;

  /** The first 64 bits of {@code text}'s SHA-256, in base 36 (up to 13 characters). */
  private static String shortHash(String text) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return Long.toUnsignedString(java.nio.ByteBuffer.wrap(d).getLong(), 36);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every Java has SHA-256
    }
  }

  /**
   * Bytes kept for the suffix in a shortened stem ({@link #siblingStems}): enough for the owner's
   * {@code .PID-KEY.tmp} (a 7-digit PID, Linux's most, and a 13-character key take 26).
   */
  private static final int SUFFIX_ROOM = 32;

  /** The length of the longest random part of a sibling's name. */
  private static final int LONGEST_RANDOM = Long.toUnsignedString(-1L, 36).length();

  /**
   * The starts of the names {@link #createSibling} gives {@code target}'s siblings, before their
   * random part. {@code .NAME.} left a name longer than about 236 bytes no room within {@link
   * #NAME_MAX}, and such a target could not be written at all: a long name also gets {@code
   * .PREFIX~HASH.}, its first bytes (whole characters) and a hash of all of it, so that two names
   * that begin alike keep apart. A name the file system refuses gets only the first: its
   * temporary is refused too, naming the target, before any work.
   */
  private static List<String> siblingStems(Path target) {
    String name = target.getFileName().toString(), full = "." + name + ".";
    int shortened = NAME_MAX - LONGEST_RANDOM - SUFFIX_ROOM;
    if (utf8Length(full) <= shortened || utf8Length(name) > NAME_MAX) return List.of(full);
    String hash = shortHash(name);
    java.nio.CharBuffer chars = java.nio.CharBuffer.wrap(name);
    // The encoder stops before a character that does not fit whole, so the prefix is valid UTF-8.
    java.nio.charset.StandardCharsets.UTF_8.newEncoder().encode(chars,
        java.nio.ByteBuffer.allocate(shortened - utf8Length(".~" + hash + ".")), true);
    return List.of(full, "." + name.substring(0, chars.position()) + "~" + hash + ".");
  }

  /**
   * The first of {@link #siblingStems} that leaves {@code room} bytes for the rest of a name, else
   * the shortest: where {@code .NAME.} fits, siblings keep the names they had before.
   */
  static String siblingStem(Path target, int room) {
    List<String> stems = siblingStems(target);
    return stems.stream().filter(s -> utf8Length(s) + room <= NAME_MAX).findFirst()
        .orElse(stems.get(stems.size() - 1));
  }

  /** A regular expression matching any of {@link #siblingStems}: also siblings named before names were shortened. */
  private static String siblingStemPattern(Path target) {
    return siblingStems(target).stream().map(java.util.regex.Pattern::quote)
        .collect(java.util.stream.Collectors.joining("|", "(?:", ")"));
  }

  private static int utf8Length(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /**
   * Deletes the temporaries of {@code target} whose owner ({@link #OWNER}) was a process of this
   * boot and PID namespace, and this user, that no longer runs: what a {@code kill -9} during a
   * write left. A live process's temporaries stay (another command may be writing the same file),
   * and so do those of other machines, boots, namespaces or users (a /proc mounted with hidepid
   * shows no other user's processes), and those that name no owner, whose writers cannot be told.
   * A dead writer's PID reused by a new process keeps its temporaries, which is safe. Best effort:
   * what cannot be listed or deleted stays.
   */
  static void deleteStaleTemporaries(Path target) {
    if (OWNER == null) return;
    java.util.regex.Pattern owned = java.util.regex.Pattern.compile(siblingStemPattern(target)
        + "[0-9a-z]+\\.([0-9]{1,18})-" + OWNER.key() + "\\.tmp");
    try {
      deleteSiblings(target, p -> {
        java.util.regex.Matcher m = owned.matcher(p.getFileName().toString());
        return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty() && isOurs(p);
      });
    } catch (IOException | java.io.UncheckedIOException e) {
      // a directory that cannot be read, or a temporary deleted by another writer first: the write goes on
    }
  }

  /** Whether {@code p} belongs to {@link #OWNER}'s user (false when that cannot be read). */
  private static boolean isOurs(Path p) {
    try {
      return OWNER.uid() == (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return false;
    }
  }


  /**
   * Where {@code p} is on disk: its longest existing part through its symbolic links (and the
   * {@code ..} after them, as the file system reads them), then the rest as written. A check of
   * where something will be written looks here: a link named otherwise to a run's {@code
   * checkpoints/} or {@code analysis/} was taken for a directory of its own name.
   */
  public static Path realLocation(Path p) {
    Path abs = p.toAbsolutePath(), rest = abs.getFileSystem().getPath("");
    for (Path q = abs; q != null; q = q.getParent()) {
      try {
        return q.toRealPath().resolve(rest).normalize();
      } catch (IOException notThere) {
        if (q.getFileName() != null) rest = q.getFileName().resolve(rest);
      }
    }
    return abs.normalize();
  }

  /**
   * {@code p} made absolute with each {@code ..} read as the file system reads it: after a symbolic
   * link, the parent of the link's target, not the folder holding the link. Lexical normalising read
   * {@code --data link/../other} (which {@code ls} lists) as a sibling of the link, another
   * directory or none. Links not followed by {@code ..} stay as written, so a run records the link
   * to its data that it was given.
   */
  public static Path absolute(Path p) {
    Path abs = p.toAbsolutePath();
    int last = -1;
    for (int i = 0; i < abs.getNameCount(); i++) if (abs.getName(i).toString().equals("..")) last = i;
    if (last < 0) return abs.normalize();
    Path rest = abs.getFileSystem().getPath("");
    if (last + 1 < abs.getNameCount()) rest = abs.subpath(last + 1, abs.getNameCount());
    return realLocation(abs.getRoot().resolve(abs.subpath(0, last + 1))).resolve(rest).normalize();
  }

  /**
   * {@link Files#createDirectories}, saying what is wrong when a file is in the way (Java says
   * only that it "already exists").
   */
  public static Path createDirectories(Path dir) throws IOException {
    synchronized (RENAMES) {
      // A checkpoint's writer made its temporary directory again after a stop had deleted it.
      if (stopped && !Files.isDirectory(dir)) {
        throw new java.nio.file.FileSystemException(dir.toString(), null, "not made: the process is being stopped");
      }
      try {
        return Files.createDirectories(dir);
      } catch (FileAlreadyExistsException e) {
        throw new java.nio.file.FileSystemException(e.getFile(), null, "exists and is not a directory");
      }
    }
  }

  /**
   * Throws what making directory {@code dir} and writing a file in it would, without making it:
   * a file in the way ({@link #createDirectories}' "exists and is not a directory"), or a
   * directory nothing can be made in. That is found by making and deleting a temporary file in
   * the nearest directory on the way that exists: access(2) tells root it may write anywhere,
   * and /proc refuses only the creation itself. For commands that write their results last, to
   * refuse before the work; bad input found after the check leaves no directory behind.
   */
  public static void checkCanCreate(Path dir) throws IOException {
    Path existing = dir;
    // Without following links: a dangling one is in the way, as createDirectories finds.
    while (existing != null && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) existing = Path.of("").toAbsolutePath(); // a relative path's first name is missing
    if (!Files.isDirectory(existing)) {
      throw new java.nio.file.FileSystemException(existing.toString(), null, "exists and is not a directory");
    }
    Path probe;
    try {
      probe = createTemporary(existing.resolve("write-check"), false);
    } catch (java.nio.file.AccessDeniedException e) {
      throw new java.nio.file.AccessDeniedException(dir.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new java.nio.file.NoSuchFileException(dir.toString());
    } catch (java.nio.file.FileSystemException e) {
      throw new java.nio.file.FileSystemException(dir.toString(), null, e.getReason());
    }
    deleteTree(probe);
  }

  /**
   * Throws what {@link #write} of {@code target} would, without writing it: a directory in its
   * place (the final rename cannot replace one), or a directory it cannot be made in ({@link
   * #checkCanCreate} of its parent), naming {@code target}. For commands that write a file last.
   */
  public static void checkCanWrite(Path target) throws IOException {
    if (Files.isDirectory(target)) {
      throw new java.nio.file.FileSystemException(target.toString(), null, "is a directory");
    }
    try {
      checkCanCreate(target.toAbsolutePath().getParent());
    } catch (java.nio.file.AccessDeniedException e) {
      throw new java.nio.file.AccessDeniedException(target.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new java.nio.file.NoSuchFileException(target.toString());
    }
  }

  public static void writeString(Path target, String content) throws IOException {
    write(target, out -> out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /**
   * Renames the finished temporary directory {@code tmp} to {@code target}, first moving a {@code
   * target} that exists to {@code old} (a directory cannot be renamed over one with entries; what
   * was at {@code old} goes first), and then deletes {@code old}. Without a target (a process killed
   * between the two renames) {@code old} can be the only complete copy: it goes only once the new
   * one is in place. All of it happens in one hold of the lock a stop's hook takes: a stop never
   * leaves the target moved aside for a temporary that is then refused, nor {@code old} behind.
   */
  public static void replaceDirectory(Path tmp, Path target, Path old) throws IOException {
    synchronized (RENAMES) {
      refuseAbandoned(tmp, target);
      if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(old);
        moveAtomically(target, old);
      }
      moveAtomically(tmp, target);
      deleteTree(old);
    }
  }

  private static void refuseAbandoned(Path tmp, Path target) throws IOException {
    if (ABANDONED.contains(tmp)) {
      throw new java.nio.file.FileSystemException(target.toString(), null, "not replaced: the process is being stopped");
    }
  }

  /** Deletes a file or a directory with everything in it; nothing if it does not exist. */
  public static void deleteTree(Path root) throws IOException {
    if (Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      try (java.util.stream.Stream<Path> s = Files.walk(root)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
    UNFINISHED.remove(root);
  }

  /**
   * Renames {@code from} to {@code to}, replacing it, atomically where the file system can; refused
   * for a temporary that a stopping process's hook took ({@link #deleteUnfinished}), whose writer
   * may have gone on writing into what was left of it.
   */
  public static void moveAtomically(Path from, Path to) throws IOException {
    synchronized (RENAMES) {
      refuseAbandoned(from, to);
      try {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
      }
      UNFINISHED.remove(from);
    }
  }
}
