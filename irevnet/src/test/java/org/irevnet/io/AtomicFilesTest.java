package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.testing.DeadProcess;
import org.irevnet.testing.TinyData;
import org.irevnet.train.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @Test
  void writeReplacesTheTargetAndLeavesNoTemporaryFile(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("a/b.txt");
    AtomicFiles.writeString(f, "one");
    AtomicFiles.writeString(f, "two");
    assertThat(Files.readString(f)).isEqualTo("two");
    assertThat(listed(f.getParent())).containsExactly(f);
  }

  /** A writer that fails midway leaves the previous content, and no half-written temporary beside it. */
  @Test
  void aFailedWriteKeepsThePreviousFileAndLeavesNoTemporary(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("b.txt");
    AtomicFiles.writeString(f, "one");
    assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
      out.write("tw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      throw new java.io.IOException("disk full");
    })).hasMessage(f + ": disk full");
    assertThat(f).hasContent("one");
    assertThat(listed(tmp)).containsExactly(f);
  }

  /**
   * A full disk fails a write with "No space left on device" alone (from the stream); a PNG
   * writer hides that under "I/O error writing PNG file!". The error names the target and the
   * reason, and the previous file stays with nothing beside it.
   */
  @Test
  void aFullDiskIsNamedWithTheTargetAndTheReason(@TempDir Path tmp) throws Exception {
    Path png = tmp.resolve("grid.png");
    AtomicFiles.writeString(png, "old png");
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(64, 64, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.util.Random noise = new java.util.Random(0); // incompressible: the PNG is far larger than 100 bytes
    for (int i = 0; i < 64 * 64; i++) img.setRGB(i % 64, i / 64, noise.nextInt());
    assertThatThrownBy(() -> AtomicFiles.write(png, out -> javax.imageio.ImageIO.write(img, "png", fullAfter(out, 100))))
        .isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(png + ": No space left on device");
    assertThat(png).hasContent("old png");
    assertThat(listed(tmp)).containsExactly(png);
  }

  /** A stream's errors name its file, once however many layers of it a writer goes through. */
  @Test
  void aNamingStreamNamesItsFileInEveryWriteAndFlush(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("metrics.jsonl");
    java.io.OutputStream out = AtomicFiles.naming(f, fullAfter(java.io.OutputStream.nullOutputStream(), 3));
    out.write(new byte[3]);
    assertThatThrownBy(() -> out.write(1)).hasMessage(f + ": No space left on device");
    assertThatThrownBy(() -> out.write(new byte[2], 0, 2)).hasMessage(f + ": No space left on device");
    java.io.Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(AtomicFiles.naming(f,
        AtomicFiles.naming(f, fullAfter(java.io.OutputStream.nullOutputStream(), 0)))));
    w.write("line");
    assertThatThrownBy(w::flush).hasMessage(f + ": No space left on device");
    // An error that names a file already is not renamed after another one.
    java.nio.file.AccessDeniedException denied = new java.nio.file.AccessDeniedException(tmp.resolve("x").toString());
    assertThat(AtomicFiles.naming(f, denied)).isSameAs(denied);
  }

  /**
   * A write that fails (a full disk) leaves no directory it made, alone or among writes done
   * together; directories that were there, empty or not, stay.
   */
  @Test
  void aFailedWriteLeavesNoDirectoryItMade(@TempDir Path tmp) throws Exception {
    AtomicFiles.Writer full = out -> {
      out.write(1);
      throw new java.io.IOException("No space left on device");
    };
    Path there = Files.createDirectory(tmp.resolve("there"));
    assertThatThrownBy(() -> AtomicFiles.write(tmp.resolve("out/deeper/r.json"), full))
        .hasMessageEndingWith("No space left on device");
    assertThatThrownBy(() -> AtomicFiles.write(there.resolve("r.json"), full))
        .hasMessageEndingWith("No space left on device");
    assertThatThrownBy(() -> AtomicFiles.together(() -> {
      AtomicFiles.writeString(tmp.resolve("results/r.json"), "{}");
      AtomicFiles.write(tmp.resolve("results/pictures/r.png"), full);
    })).hasMessageEndingWith("No space left on device");
    assertThat(listed(tmp)).containsExactly(there);
    assertThat(there).isEmptyDirectory();

    // One that succeeds keeps its directory, and a later failure in it leaves what is there.
    AtomicFiles.together(() -> AtomicFiles.writeString(tmp.resolve("results/r.json"), "{}"));
    assertThatThrownBy(() -> AtomicFiles.write(tmp.resolve("results/pictures/r.png"), full))
        .hasMessageEndingWith("No space left on device");
    assertThat(listed(tmp.resolve("results"))).containsExactly(tmp.resolve("results/r.json"));
  }

  /** {@code out}, failing as a full disk does (ENOSPC) once {@code capacity} bytes have gone through. */
  static java.io.OutputStream fullAfter(java.io.OutputStream out, int capacity) {
    return new java.io.FilterOutputStream(out) {
      private int written;

      @Override
      public void write(int b) throws java.io.IOException {
        if (written++ >= capacity) throw new java.io.IOException("No space left on device");
        out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        for (int i = 0; i < len; i++) write(b[off + i]);
      }
    };
  }

  /** Files written together appear only once all are written: a failing second write leaves the first's old content. */
  @Test
  void writesDoneTogetherReplaceNothingWhenOneFails(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("r.json"), png = tmp.resolve("r.png");
    AtomicFiles.writeString(json, "old json");
    AtomicFiles.writeString(png, "old png");
    assertThatThrownBy(() -> AtomicFiles.together(() -> {
      AtomicFiles.writeString(json, "new json");
      assertThat(json).hasContent("old json");
      AtomicFiles.write(png, out -> {
        throw new java.io.IOException("disk full");
      });
    })).hasMessage(png + ": disk full");
    assertThat(json).hasContent("old json");
    assertThat(png).hasContent("old png");
    assertThat(listed(tmp)).containsExactlyInAnyOrder(json, png);

    AtomicFiles.together(() -> {
      AtomicFiles.writeString(json, "new json");
      AtomicFiles.writeString(png, "first png");
      AtomicFiles.writeString(png, "new png");
    });
    assertThat(json).hasContent("new json");
    assertThat(png).hasContent("new png");
    assertThat(listed(tmp)).containsExactlyInAnyOrder(json, png);
  }

  /**
   * Writes done together inside another such call (a command whose result writer groups its own
   * files) join the outer set: nothing is replaced before the outer call ends, and a failure after
   * the inner call keeps every old file.
   */
  @Test
  void writesDoneTogetherInsideAnotherJoinItsSet(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("r.json"), png = tmp.resolve("r.png");
    AtomicFiles.writeString(json, "old json");
    AtomicFiles.writeString(png, "old png");
    assertThatThrownBy(() -> AtomicFiles.together(() -> {
      AtomicFiles.together(() -> AtomicFiles.writeString(json, "new json"));
      assertThat(json).as("not before the outer call ends").hasContent("old json");
      throw new java.io.IOException("disk full");
    })).hasMessage("disk full");
    assertThat(json).hasContent("old json");

    AtomicFiles.together(() -> {
      AtomicFiles.together(() -> AtomicFiles.writeString(json, "new json"));
      AtomicFiles.writeString(png, "new png");
    });
    assertThat(json).hasContent("new json");
    assertThat(png).hasContent("new png");
    assertThat(listed(tmp)).containsExactlyInAnyOrder(json, png);
  }

  /** The rename cannot replace a directory: the error names the target, not the temporary's random name. */
  @Test
  void aDirectoryInPlaceOfTheTargetIsNamed(@TempDir Path tmp) throws Exception {
    Path target = Files.createDirectories(tmp.resolve("invert.png"));
    Files.writeString(target.resolve("keep.txt"), "k");
    assertThatThrownBy(() -> AtomicFiles.writeString(target, "png"))
        .isInstanceOf(java.nio.file.FileSystemException.class).hasMessage(target + ": is a directory");
    assertThat(target.resolve("keep.txt")).hasContent("k");
    assertThat(listed(tmp)).containsExactly(target);
  }

  @Test
  void deleteTreeRemovesNestedDirectoriesAndIgnoresMissingOnes(@TempDir Path tmp) throws Exception {
    Path root = tmp.resolve("run");
    Files.createDirectories(root.resolve("checkpoints/best"));
    Files.writeString(root.resolve("checkpoints/best/weights.npz"), "x");
    Files.writeString(root.resolve("metrics.jsonl"), "{}");
    Path sibling = Files.writeString(tmp.resolve("keep.txt"), "k");
    AtomicFiles.deleteTree(root);
    assertThat(root).doesNotExist();
    assertThat(sibling).exists();
    AtomicFiles.deleteTree(root);
    AtomicFiles.deleteTree(tmp.resolve("keep.txt"));
    assertThat(sibling).doesNotExist();
  }

  /**
   * What we write is readable by whoever may read any other new file there: the temporary files
   * it starts as were private to their owner (0600, directories 0700), and a colleague could not
   * open a report or a checkpoint. The reference is a file created plainly next to it, whatever
   * the umask of the machine running the test.
   */
  @Test
  void writtenFilesAndCheckpointsHaveThePermissionsOfAnyNewFile(@TempDir Path tmp) throws Exception {
    Set<PosixFilePermission> newFile = Files.getPosixFilePermissions(Files.createFile(tmp.resolve("plain")));
    Set<PosixFilePermission> newDir = Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("plain-dir")));

    Path report = tmp.resolve("run/report.json");
    AtomicFiles.writeString(report, "{}");
    assertThat(Files.getPosixFilePermissions(report)).isEqualTo(newFile);

    Path ckpt = tmp.resolve("run/checkpoints/last");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH),
        org.nd4j.linalg.api.buffer.DataType.FLOAT, 1);
    Checkpoints.save(ckpt, m, Map.of(), new Checkpoints.TrainingState(1, 0, 1, 0.5, "{}", 1.0));
    assertThat(Files.getPosixFilePermissions(ckpt)).isEqualTo(newDir);
    try (var files = Files.list(ckpt)) {
      for (Path f : files.toList()) assertThat(Files.getPosixFilePermissions(f)).as(f.toString()).isEqualTo(newFile);
    }
  }

  /**
   * A file that cannot be created is named as the user gave it, not by its temporary's name. Linux
   * only: its /proc refuses a new file with "no such file" in a directory that exists, which nothing
   * portable does. A read-only directory does not stop root (these tests run as uid 0 here), and a
   * directory gone between the check and the creation would take a race or an injected file system,
   * a simulated failure; the refusals other file systems give are {@link
   * #aTemporaryTheFileSystemRefusesIsNamedByItsTarget}'s.
   */
  @Test
  void aFailedWriteNamesItsTarget() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux")
        && Files.isDirectory(Path.of("/proc/self")), "needs Linux's /proc, which refuses new files");
    Path target = Path.of("/proc/irevnet-cannot-write-here.json");
    assertThatThrownBy(() -> AtomicFiles.writeString(target, "{}"))
        .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessage(target.toString());
  }

  /**
   * Other refusals name the target too, with the file system's reason: a name of 256 bytes is
   * refused, and so is its temporary, whose name the message gave, a file the user never asked for.
   */
  @Test
  void aTemporaryTheFileSystemRefusesIsNamedByItsTarget(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("r".repeat(251) + ".json");
    assertThatThrownBy(() -> AtomicFiles.writeString(target, "{}"))
        .isInstanceOf(java.nio.file.FileSystemException.class).hasMessage(target + ": File name too long");
    assertThat(listed(tmp)).isEmpty();
  }

  /** An output directory where a file is: Java said only that the file "already exists". */
  @Test
  void aFileInTheWayOfADirectoryIsSaidSo(@TempDir Path tmp) throws Exception {
    assertThat(AtomicFiles.createDirectories(tmp.resolve("runs/a/b"))).isEqualTo(tmp.resolve("runs/a/b")).isDirectory();
    Path file = Files.writeString(tmp.resolve("runs/a/b/runs"), "not a directory");
    assertThatThrownBy(() -> AtomicFiles.createDirectories(file))
        .hasMessage(file + ": exists and is not a directory");
    assertThatThrownBy(() -> AtomicFiles.writeString(file.resolve("report.json"), "{}"))
        .hasMessage(file + ": exists and is not a directory");
    assertThat(file).hasContent("not a directory");
  }

  @Test
  void siblingsAreNewHiddenAndNamedAfterTheirTarget(@TempDir Path tmp) throws Exception {
    Path report = tmp.resolve("run/report.json");
    Path a = AtomicFiles.createSibling(report, ".tmp", true), b = AtomicFiles.createSibling(report, ".tmp", false);
    assertThat(a.getParent()).isEqualTo(report.getParent());
    assertThat(a.getFileName().toString()).startsWith(".report.json.").endsWith(".tmp");
    assertThat(a).isDirectory().isNotEqualTo(b);
    assertThat(b).isRegularFile().isEmptyFile();
  }

  /** A run killed while saving left a copy of its checkpoint behind per kill (found with kill -TERM). */
  @Test
  void aSaveRemovesWhatAKilledSaveOfTheSameCheckpointLeft(@TempDir Path tmp) throws Exception {
    Path ckpts = Files.createDirectories(tmp.resolve("run/checkpoints"));
    Path leftNow = Files.createDirectories(ckpts.resolve(".latest.2z7d75ubxae6q.tmp"));
    Files.writeString(leftNow.resolve("weights.npz"), "x");
    Path leftBefore = Files.createDirectories(ckpts.resolve(".latest.tmp1234567890"));
    Path leftOwned = Files.createDirectories(ckpts.resolve(".latest.2z7d75ubxae6q.12345-abc.tmp"));
    Path otherCheckpoints = Files.createDirectories(ckpts.resolve(".best.2z7d75ubxae6q.tmp"));
    Path notOurs = Files.writeString(ckpts.resolve(".latest.notes"), "keep");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH),
        org.nd4j.linalg.api.buffer.DataType.FLOAT, 1);
    Checkpoints.save(ckpts.resolve("latest"), m, Map.of(), new Checkpoints.TrainingState(1, 0, 1, 0.5, "{}", 1.0));
    assertThat(leftNow).doesNotExist();
    assertThat(leftBefore).doesNotExist();
    assertThat(leftOwned).as("under the run's lock, whatever its owner").doesNotExist();
    assertThat(otherCheckpoints).exists();
    assertThat(notOurs).exists();
    Checkpoints.verify(ckpts.resolve("latest"));
  }

  /**
   * After a kill -9 (which runs no shutdown hook) a later write of the same target deletes the
   * temporaries the killed process left, which name their owner: a dead process of this boot and
   * PID namespace. A live process's (this JVM's: another thread, or another command, may be
   * writing the same file) stays, and so do another boot's or namespace's, one that names no owner
   * (written before owners were named) and another target's.
   */
  @Test
  void aWriteDeletesOnlyTheTemporariesOfItsTargetThatADeadProcessLeft(@TempDir Path tmp) throws Exception {
    AtomicFiles.Owner me = AtomicFiles.OWNER;
    assertThat(me).as("the boot and PID namespace are readable on Linux").isNotNull();
    assertThat(me.pid()).isEqualTo(ProcessHandle.current().pid());
    long dead = DeadProcess.pid();
    Path dir = Files.createDirectories(tmp.resolve("analysis"));
    Path deadFile = Files.writeString(dir.resolve(".invert.json.2z7d." + dead + "-" + me.key() + ".tmp"), "{\"half\":");
    Path deadDir = Files.createDirectories(dir.resolve(".invert.json.k3." + dead + "-" + me.key() + ".tmp"));
    Files.writeString(Files.createDirectory(deadDir.resolve("nested")).resolve("x"), "x");
    Path live = Files.writeString(dir.resolve(".invert.json.5q." + me.pid() + "-" + me.key() + ".tmp"), "{");
    Path elsewhere = Files.writeString(dir.resolve(".invert.json.7a." + dead + "-" + me.key() + "x.tmp"), "{");
    Path unowned = Files.writeString(dir.resolve(".invert.json.8b.tmp"), "{");
    Path otherTarget = Files.writeString(dir.resolve(".invert.png.9c." + dead + "-" + me.key() + ".tmp"), "png");
    for (Path p : new Path[] {deadFile, deadDir, live, elsewhere, unowned}) {
      assertThat(AtomicFiles.isTemporarySibling(dir.resolve("invert.json"), p)).as(p.toString()).isTrue();
    }
    assertThat(AtomicFiles.isTemporarySibling(dir.resolve("invert.json"), otherTarget)).isFalse();

    AtomicFiles.writeString(dir.resolve("invert.json"), "{}");

    assertThat(dir.resolve("invert.json")).hasContent("{}");
    assertThat(listed(dir)).containsExactlyInAnyOrder(dir.resolve("invert.json"), live, elsewhere, unowned, otherTarget);
    assertThat(live).hasContent("{");
  }

  /** The temporary of a JVM killed with SIGKILL while writing (kill -9) goes at the next write of its target. */
  @Test
  void aWriteDeletesTheTemporaryOfAWriterKilledMidWrite(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("analysis/invert.json");
    Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), KilledWriter.class.getName(), target.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Path left;
    try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(writer.getInputStream()))) {
      left = Path.of(out.readLine());
      writer.destroyForcibly().waitFor();
    }
    assertThat(writer.exitValue()).as("SIGKILL").isEqualTo(128 + 9);
    assertThat(left).exists().hasParent(target.getParent());
    assertThat(AtomicFiles.isTemporarySibling(target, left)).isTrue();
    AtomicFiles.writeString(target, "{}");
    assertThat(listed(target.getParent())).containsExactly(target);
  }

  /**
   * Two processes writing one set of results at once leave one set whole: each renamed its files in
   * turn, and the JSON of one ended beside the other's picture. Here this process is in the middle
   * of its own set (its JSON renamed, its picture not yet) when another process's set is ready; that
   * one waits, and goes in whole after this one. The lock file goes with the last hold.
   */
  @Test
  void twoProcessesWritingOneSetLeaveOneSetWhole(@TempDir Path tmp) throws Exception {
    Path locks = Path.of("/proc/locks");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(locks), "no /proc/locks to see a waiting process");
    Path dir = Files.createDirectories(tmp.resolve("analysis"));
    Path json = dir.resolve("invert.json"), png = dir.resolve("invert.png");
    Process other;
    try (java.io.Closeable held = AtomicFiles.lockResults(java.util.List.of(dir))) {
      Files.writeString(json, "this");
      other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), SetWriter.class.getName(),
          dir.toString()).start();
      try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(other.getInputStream()))) {
        assertThat(out.readLine()).isEqualTo("written");
      }
      // It renames now, or waits on the lock: which one, /proc/locks tells ("->": a waiting request).
      String waiting = "-> POSIX ADVISORY WRITE " + other.pid() + " ";
      while (other.isAlive() && Files.readAllLines(locks).stream()
          .noneMatch(l -> l.replaceAll("\\s+", " ").contains(waiting))) {
        Thread.sleep(10);
      }
      Files.writeString(png, "this");
    }
    assertThat(other.waitFor()).isZero();
    // It said whom it waited for: a holder that does not let go kept it waiting without a word.
    assertThat(org.irevnet.testing.ChildJvm.ownOutput(
        new String(other.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).strip())
        .isEqualTo(dir.toRealPath() + " is being written or read by another process (pid " + ProcessHandle.current().pid()
            + "): waiting for it");
    assertThat(json).hasContent("other");
    assertThat(png).as("the picture of the same set").hasContent("other");
    assertThat(listed(dir)).containsExactlyInAnyOrder(json, png);
  }

  /** Writes a set of two files, invert.json and invert.png, into the directory its argument names; says "written" before the renames. */
  static final class SetWriter {
    public static void main(String[] args) throws Exception {
      Path dir = Path.of(args[0]);
      RunLock.onWait(System.err::println);
      AtomicFiles.together(() -> {
        AtomicFiles.writeString(dir.resolve("invert.json"), "other");
        AtomicFiles.writeString(dir.resolve("invert.png"), "other");
        System.out.println("written");
        System.out.flush();
      });
    }
  }

  /** Starts a write of the file named by its argument, prints its temporary, and waits to be killed. */
  static final class KilledWriter {
    public static void main(String[] args) throws Exception {
      Path t = AtomicFiles.createTemporary(Path.of(args[0]), false);
      Files.writeString(t, "{\"half\":");
      System.out.println(t);
      System.out.flush();
      Thread.sleep(60_000);
    }
  }

  /**
   * Any name the file system allows (255 bytes) can be written, and its temporary names its owner:
   * a dot, the name and a random part left no room for a name of more than 236 bytes, and a
   * report named after its hyper-parameters could not be written at all. A name too long to be
   * part of its temporary's is cut, at a character's end, and followed by a hash of all of it.
   */
  @Test
  void namesUpTo255BytesAreWrittenAndTheirTemporariesNameTheirOwner(@TempDir Path tmp) throws Exception {
    String owned = "." + AtomicFiles.OWNER.name() + ".tmp";
    // The longest name whose temporary holds it whole, and one byte (here: one character) more.
    int room = 255 - ("." + "." + Long.toUnsignedString(-1L, 36) + owned).length();
    java.util.List<String> names = new java.util.ArrayList<>(java.util.List.of("report.json"));
    for (int length : new int[] {room, room + 1, 236, 237, 250, 255}) names.add("r".repeat(length));
    // In UTF-8 a mathematical alpha takes 4 bytes, a CJK character 3 and an e-acute 2: 255 in all.
    names.add("\uD835\uDEFC\u65E5\u00E9".repeat(28) + "r.x");
    for (String name : names) {
      byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Path target = tmp.resolve(names.indexOf(name) + "/" + name);
      AtomicFiles.writeString(target, "x");
      AtomicFiles.writeString(target, "y");
      assertThat(target).as(bytes.length + " bytes").hasContent("y");
      assertThat(listed(target.getParent())).containsExactly(target);
      Path temporary = AtomicFiles.createTemporary(target, false);
      AtomicFiles.deleteTree(temporary);
      String made = temporary.getFileName().toString();
      byte[] madeBytes = made.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      assertThat(madeBytes.length).as(made).isLessThanOrEqualTo(255);
      assertThat(new String(madeBytes, java.nio.charset.StandardCharsets.UTF_8)).as("no character cut").isEqualTo(made);
      assertThat(made).as(bytes.length + " bytes").endsWith(owned);
      if (bytes.length <= room) {
        assertThat(made).startsWith("." + name + ".");
      } else {
        String prefix = made.substring(1, made.indexOf('~'));
        assertThat(name).startsWith(prefix);
        assertThat(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isGreaterThan(150);
      }
      assertThat(AtomicFiles.isTemporarySibling(target, temporary)).isTrue();
    }
  }

  /**
   * The temporaries of a long name (cut and hashed) are told from those of another long name
   * that begins alike: a write deletes only its own target's that a dead process left, the
   * cleanups under a lock only its own, and its old names (a whole long name with no owner)
   * are still known.
   */
  @Test
  void theSiblingsOfALongNameAreToldFromThoseOfAnotherThatBeginsAlike(@TempDir Path tmp) throws Exception {
    long dead = DeadProcess.pid();
    String common = "r".repeat(240);
    Path target = tmp.resolve(common + "-a.json"), other = tmp.resolve(common + "-b.json");
    Path live = AtomicFiles.createTemporary(target, false);
    Path deadOwn = DeadProcess.leftBy(dead, AtomicFiles.createTemporary(target, true));
    Path deadOther = DeadProcess.leftBy(dead, AtomicFiles.createTemporary(other, false));
    Path unownedBefore = Files.writeString(tmp.resolve("." + target.getFileName() + ".k1.tmp"), "{");
    for (Path p : new Path[] {live, deadOwn, unownedBefore}) {
      assertThat(AtomicFiles.isTemporarySibling(target, p)).as(p.toString()).isTrue();
      assertThat(AtomicFiles.isTemporarySibling(other, p)).as(p.toString()).isFalse();
    }
    assertThat(AtomicFiles.isTemporarySibling(target, deadOther)).isFalse();

    AtomicFiles.writeString(target, "{}");
    assertThat(listed(tmp)).containsExactlyInAnyOrder(target, live, unownedBefore, deadOther);
    AtomicFiles.deleteTemporarySiblings(target);
    assertThat(listed(tmp)).containsExactlyInAnyOrder(target, deadOther);

    Path old = AtomicFiles.createSibling(target, ".old", true);
    Path otherOld = AtomicFiles.createSibling(other, ".old", true);
    Path oldBefore = Files.createDirectory(tmp.resolve("." + target.getFileName() + ".q.old"));
    assertThat(old.getFileName().toString()).doesNotStartWith("." + target.getFileName());
    AtomicFiles.deleteSiblings(target, ".old");
    assertThat(listed(tmp)).containsExactlyInAnyOrder(target, deadOther, otherOld);
    assertThat(oldBefore).doesNotExist();
  }

  /**
   * What a stopped process's shutdown hook deletes: temporaries still being written, and nothing
   * else (not a finished file, not a checkpoint's previous version, not a renamed temporary).
   */
  @Test
  void deleteUnfinishedRemovesOnlyTemporariesStillBeingWritten(@TempDir Path tmp) throws Exception {
    Path report = tmp.resolve("run/report.json");
    AtomicFiles.writeString(report, "{}");
    Path unfinishedFile = AtomicFiles.createTemporary(report, false);
    Files.writeString(unfinishedFile, "{\"half\":");
    Path ckpt = tmp.resolve("run/checkpoints/latest");
    Path unfinishedDir = AtomicFiles.createTemporary(ckpt, true);
    Files.writeString(Files.createDirectory(unfinishedDir.resolve("nested")).resolve("weights.npz"), "x");
    Path renamed = AtomicFiles.createTemporary(tmp.resolve("run/model.json"), false);
    AtomicFiles.moveAtomically(renamed, tmp.resolve("run/model.json"));
    Path old = AtomicFiles.createSibling(ckpt, ".old", true);

    AtomicFiles.deleteUnfinished();

    assertThat(unfinishedFile).doesNotExist();
    assertThat(unfinishedDir).doesNotExist();
    assertThat(report).hasContent("{}");
    assertThat(tmp.resolve("run/model.json")).exists();
    assertThat(old).isDirectory();
    Path again = Files.createFile(unfinishedFile);
    AtomicFiles.deleteUnfinished();
    assertThat(again).as("a path is forgotten once deleted").exists();
  }

  /**
   * A temporary that a stopping process's hook took ({@link AtomicFiles#deleteUnfinished}) is never
   * renamed into place, though its writer went on writing into what was left of it: the rename is
   * refused and the previous file or checkpoint stays where it was. A checkpoint's previous version
   * is not moved aside first, where the refusal would have left the run without one.
   */
  @Test
  void aTemporaryAStopTookIsNotRenamedAndTheTargetStaysInPlace(@TempDir Path tmp) throws Exception {
    Path report = tmp.resolve("run/report.json"), ckpt = tmp.resolve("run/checkpoints/latest");
    AtomicFiles.writeString(report, "old");
    Path whole = AtomicFiles.createTemporary(ckpt, true);
    Files.writeString(whole.resolve("weights.npz"), "old");
    AtomicFiles.replaceDirectory(whole, ckpt, tmp.resolve("run/checkpoints/.latest.old"));
    Path file = AtomicFiles.createTemporary(report, false), dir = AtomicFiles.createTemporary(ckpt, true);

    AtomicFiles.deleteUnfinished();
    Files.writeString(file, "{\"half\":");
    Files.writeString(Files.createDirectories(dir).resolve("weights.npz"), "half");

    assertThatThrownBy(() -> AtomicFiles.moveAtomically(file, report)).isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(report + ": not replaced: the process is being stopped");
    assertThat(report).hasContent("old");
    Path old = tmp.resolve("run/checkpoints/.latest.old");
    assertThatThrownBy(() -> AtomicFiles.replaceDirectory(dir, ckpt, old)).isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(ckpt + ": not replaced: the process is being stopped");
    assertThat(ckpt.resolve("weights.npz")).hasContent("old");
    assertThat(old).doesNotExist();
  }

  /**
   * A directory replaced by {@link AtomicFiles#replaceDirectory} leaves only the new one: the
   * previous goes, and so does a previous version that a save killed between its renames left
   * where the target is moved aside (a directory is not renamed over one with entries).
   */
  @Test
  void aReplacedDirectoryLeavesOnlyTheNewOne(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("latest"), old = tmp.resolve(".latest.old");
    for (String content : new String[] {"one", "two"}) {
      if (content.equals("two")) Files.writeString(Files.createDirectories(old).resolve("weights.npz"), "killed save's");
      Path next = AtomicFiles.createTemporary(target, true);
      Files.writeString(next.resolve("weights.npz"), content);
      AtomicFiles.replaceDirectory(next, target, old);
    }
    assertThat(target.resolve("weights.npz")).hasContent("two");
    assertThat(listed(tmp)).containsExactly(target);
  }

  /**
   * A dead process's temporary of another user stays: a write deletes only its own user's, as it
   * cannot tell what another user's process was doing (a shared directory lets it delete them).
   * Needs root, to give the file away.
   */
  @Test
  void aDeadProcesssTemporaryOfAnotherUserStays(@TempDir Path tmp) throws Exception {
    AtomicFiles.Owner me = AtomicFiles.OWNER;
    org.junit.jupiter.api.Assumptions.assumeTrue(me != null && me.uid() == 0, "only root can give a file to another user");
    long dead = DeadProcess.pid();
    Path target = tmp.resolve("invert.json");
    Path ours = Files.writeString(tmp.resolve(".invert.json.2z7d." + dead + "-" + me.key() + ".tmp"), "{");
    Path theirs = Files.writeString(tmp.resolve(".invert.json.3a8e." + dead + "-" + me.key() + ".tmp"), "{");
    Files.setAttribute(theirs, "unix:uid", 4242, java.nio.file.LinkOption.NOFOLLOW_LINKS);

    AtomicFiles.writeString(target, "{}");

    assertThat(ours).doesNotExist();
    assertThat(listed(tmp)).containsExactlyInAnyOrder(target, theirs);
  }

  /**
   * {@link AtomicFiles#lockResults}' hold of this JVM passes to another thread once closed, and
   * not before: a hold never given back kept every other thread's result set from being renamed.
   */
  @Test
  void aResultsLockClosedOnOneThreadCanBeTakenOnAnother(@TempDir Path tmp) throws Exception {
    java.util.concurrent.CountDownLatch taken = new java.util.concurrent.CountDownLatch(1);
    Thread other = new Thread(() -> {
      try (java.io.Closeable held = AtomicFiles.lockResults(java.util.List.of(tmp))) {
        taken.countDown();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, "second holder");
    other.setDaemon(true); // a hold never given back would keep it waiting for good
    try (java.io.Closeable held = AtomicFiles.lockResults(java.util.List.of(tmp))) {
      other.start();
      while (other.isAlive() && other.getState() != Thread.State.WAITING) Thread.sleep(5); // parked on the hold
      assertThat(taken.getCount()).as("taken while this thread holds it").isEqualTo(1);
    }
    assertThat(taken.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("taken once closed").isTrue();
    other.join();
    assertThat(listed(tmp)).as("the lock file goes with its hold").isEmpty();
  }

  /**
   * After {@link AtomicFiles#stop} (a stopped process's hook) nothing new is written: the writes
   * under way lose their temporaries, and a write begun later, or one into a directory the hook
   * deleted, is refused without making a file or a directory (an existing directory is still
   * "made"). In another JVM, since this one's writes must go on. Before, a save begun after the
   * hook left its temporary behind when the JVM halted.
   */
  @Test
  void afterAStopNothingNewIsWritten(@TempDir Path tmp) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Stopped.class.getName(), tmp.toString())
        .redirectErrorStream(true).start();
    java.util.List<String> lines = org.irevnet.testing.ChildJvm.ownLines(
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList());
    assertThat(p.waitFor()).as(String.join("\n", lines)).isZero();
    Path report = tmp.resolve("report.json"), saving = Path.of(lines.get(0));
    assertThat(lines).containsExactly(saving.toString(),
        report + ": not written: the process is being stopped",
        saving.resolve("model.json") + ": not written: the process is being stopped",
        tmp.resolve("sub/x.json") + ": not written: the process is being stopped",
        saving + ": not made: the process is being stopped",
        tmp + ": exists");
    assertThat(listed(tmp)).containsExactly(report);
    assertThat(report).hasContent("old");
  }

  /** The child JVM of the test above: one write under way as the process stops, then three more and two directories. */
  static final class Stopped {
    public static void main(String[] args) throws Exception {
      Path dir = Path.of(args[0]);
      AtomicFiles.writeString(dir.resolve("report.json"), "old");
      Path saving = AtomicFiles.createTemporary(dir.resolve("latest"), true);
      Files.writeString(saving.resolve("weights.npz"), "half");
      System.out.println(saving);
      AtomicFiles.stop();
      for (Path target : new Path[] {dir.resolve("report.json"), saving.resolve("model.json"), dir.resolve("sub/x.json")}) {
        try {
          AtomicFiles.writeString(target, "new");
          System.out.println(target + ": written");
        } catch (java.io.IOException e) {
          System.out.println(e.getMessage());
        }
      }
      // ModelFiles.save makes its directory: a checkpoint's deleted temporary, made again.
      for (Path d : new Path[] {saving, dir}) {
        try {
          System.out.println(AtomicFiles.createDirectories(d) + ": exists");
        } catch (java.io.IOException e) {
          System.out.println(e.getMessage());
        }
      }
    }
  }

  /**
   * checkCanCreate refuses what createDirectories and a write would refuse, and makes nothing: a
   * directory that can be made is not, an existing one keeps its entries, and a dangling link
   * (which createDirectories cannot make a directory of) is in the way like a file.
   */
  @Test
  void checkingWhereADirectoryCanBeMadeMakesNothing(@TempDir Path tmp) throws Exception {
    AtomicFiles.checkCanCreate(tmp.resolve("a/b/c"));
    AtomicFiles.checkCanCreate(tmp);
    assertThat(listed(tmp)).as("no directory made, no check file left").isEmpty();
    Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("nowhere"));
    assertThatThrownBy(() -> AtomicFiles.checkCanCreate(link.resolve("out")))
        .hasMessage(link + ": exists and is not a directory");
    assertThatThrownBy(() -> AtomicFiles.createDirectories(link.resolve("out"))).as("as making it finds")
        .hasMessage(link + ": exists and is not a directory");
    assertThatThrownBy(() -> AtomicFiles.checkCanCreate(Path.of("/proc/irevnet-x/y")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessage("/proc/irevnet-x/y");
  }

  /**
   * checkCanWrite refuses, naming the file, what write would fail on only at its end: a
   * directory in the file's place, or a directory nothing can be made in; it makes nothing.
   */
  @Test
  void checkingWhereAFileCanBeWrittenNamesTheFileAndMakesNothing(@TempDir Path tmp) throws Exception {
    AtomicFiles.checkCanWrite(tmp.resolve("new/out.json"));
    Path dir = Files.createDirectories(tmp.resolve("out.json"));
    assertThatThrownBy(() -> AtomicFiles.checkCanWrite(dir)).hasMessage(dir + ": is a directory");
    assertThatThrownBy(() -> AtomicFiles.write(dir, out -> out.write(1))).as("as writing it finds, at its end")
        .isInstanceOf(java.io.IOException.class);
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    assertThatThrownBy(() -> AtomicFiles.checkCanWrite(file.resolve("out.json")))
        .hasMessage(file + ": exists and is not a directory");
    assertThatThrownBy(() -> AtomicFiles.checkCanWrite(Path.of("/proc/irevnet-x.json")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessage("/proc/irevnet-x.json");
    AtomicFiles.checkCanWrite(file);
    assertThat(file).hasContent("x");
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).as("no directory made, no check file left")
          .containsExactly("a-file", "out.json");
    }
    assertThat(listed(dir)).isEmpty();
  }

  /**
   * Each {@code ..} after a link is read as {@code ls} reads it, also when two follow the link
   * ({@code --data lk/../../fmnist}) or the path ends with one ({@code --data lk/..}, the folder
   * holding the link's target): the sets reached so differ from those beside the link.
   */
  @Test
  void parentsAfterALinkAreThoseOfItsTargetAlsoTwoOrAtTheEnd(@TempDir Path tmp) throws Exception {
    Path real = tmp.toRealPath();
    Path inner = Files.createDirectories(real.resolve("srv/sets/sub/inner"));
    Path cwd = Files.createDirectories(real.resolve("work/deep"));
    Files.createDirectories(real.resolve("work/fmnist"));
    Path lk = Files.createSymbolicLink(cwd.resolve("lk"), inner);
    assertThat(AtomicFiles.absolute(lk.resolve("../../fmnist"))).isEqualTo(real.resolve("srv/sets/fmnist"));
    assertThat(AtomicFiles.absolute(lk.resolve(".."))).isEqualTo(real.resolve("srv/sets/sub"));
    assertThat(AtomicFiles.absolute(lk.resolve("../.."))).isEqualTo(real.resolve("srv/sets"));
    assertThat(AtomicFiles.absolute(cwd.resolve("../fmnist"))).as("no link: as written").isEqualTo(real.resolve("work/fmnist"));
  }

  /** What {@code dir} holds. */
  private static java.util.List<Path> listed(Path dir) throws java.io.IOException {
    try (var s = Files.list(dir)) {
      return s.toList();
    }
  }
}
