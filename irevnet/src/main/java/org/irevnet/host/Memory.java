package org.irevnet.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How much memory this process may use and has used, from /proc and /sys/fs/cgroup. It uses no
 * other package of the project, so that every package may: models refuses an architecture too
 * large to train, train measures benchmarks, and train depends on models.
 */
public final class Memory {
  private static final Path ROOT = Path.of("/");

  private Memory() {}

  /** At most {@code bytes} (-1: unknown), as {@code source} says. */
  public record Limit(long bytes, String source) {
    private static final double GIB = 1L << 30;

    /**
     * Refuses {@code need} bytes beyond this limit (unknown: nothing refused) in one line: {@code
     * what} ("a.json: 1,000 parameters"), "need N GiB", {@code detail}, then the limit and where
     * it comes from.
     */
    public void check(String what, double need, String detail) {
      if (bytes > 0 && need > bytes) {
        throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s need %.1f GiB%s, more than the"
            + " %.1f GiB of memory this process may use (%s)", what, need / GIB, detail, bytes / GIB, source));
      }
    }
  }

  /**
   * The smaller of the machine's physical memory (MemTotal) and the memory limit of this
   * process's cgroup or any cgroup above it (cgroup v2 {@code memory.max}, v1 {@code
   * memory.limit_in_bytes}): a container given 4 GiB on a 64 GiB host is killed past 4 GiB.
   */
  public static Limit limit() {
    return limit(ROOT);
  }

  /** {@link #limit()} with /proc and /sys under {@code root}. */
  static Limit limit(Path root) {
    long total = memTotalBytes(root);
    Limit least = new Limit(total, total > 0 ? "MemTotal in /proc/meminfo" : "unknown");
    for (Path file : cgroupLimitFiles(root)) {
      long bytes = cgroupLimitBytes(file);
      if (bytes > 0 && (least.bytes() <= 0 || bytes < least.bytes())) {
        least = new Limit(bytes, "the cgroup limit in /" + root.relativize(file));
      }
    }
    return least;
  }

  /** MemTotal of /proc/meminfo in bytes, or -1 where it is missing. */
  static long memTotalBytes(Path root) {
    long kib = procKiB(root.resolve("proc/meminfo"), "MemTotal:");
    return kib < 0 ? -1 : kib * 1024;
  }

  /** Peak resident set size of this process in MiB (VmHWM), or NaN where /proc is missing. */
  public static double peakRssMiB() {
    long kib = procKiB(ROOT.resolve("proc/self/status"), "VmHWM:");
    return kib < 0 ? Double.NaN : kib / 1024.0;
  }

  /**
   * Sets this process's peak resident set size (VmHWM) back to its resident set size now, so that
   * {@link #peakRssMiB} then reads the peak since this call (Linux 4.0 and later: {@code 5} written
   * to {@code /proc/self/clear_refs}). False where that is not possible: the peak stays the process's.
   */
  public static boolean resetPeakRss() {
    try {
      Files.writeString(ROOT.resolve("proc/self/clear_refs"), "5");
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The number on the line of {@code file} that starts with {@code key} (a size in kB), or -1. */
  private static long procKiB(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /**
   * The limit files of this process's memory cgroups ({@code /proc/self/cgroup}) and of every
   * cgroup above them up to the mount, as a parent's limit binds its children. In a container
   * with its own cgroup namespace the path is "/" and the mount's own file is the container's;
   * files that do not exist (a hierarchy mounted elsewhere) are skipped when read.
   */
  static List<Path> cgroupLimitFiles(Path root) {
    List<Path> files = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(root.resolve("proc/self/cgroup"));
    } catch (IOException e) {
      return files;
    }
    for (String line : lines) {
      String[] f = line.split(":", 3); // hierarchy-ID:controllers:path
      if (f.length < 3) continue;
      if (f[0].equals("0") && f[1].isEmpty()) {
        addHierarchy(files, root.resolve("sys/fs/cgroup"), f[2], "memory.max");
      } else if (Arrays.asList(f[1].split(",")).contains("memory")) {
        addHierarchy(files, root.resolve("sys/fs/cgroup/memory"), f[2], "memory.limit_in_bytes");
      }
    }
    return files;
  }

  private static void addHierarchy(List<Path> files, Path mount, String cgroup, String name) {
    Path dir = mount;
    files.add(dir.resolve(name));
    for (String part : cgroup.split("/")) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) continue;
      dir = dir.resolve(part);
      files.add(dir.resolve(name));
    }
  }

  /**
   * A cgroup's limit in bytes, or -1 for none: "max" (v2), a missing or unreadable file. v1
   * writes no limit as a page-rounded Long.MAX_VALUE, which MemTotal undercuts.
   */
  static long cgroupLimitBytes(Path file) {
    try {
      String v = Files.readString(file).trim();
      return v.equals("max") ? -1 : Long.parseLong(v);
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }
}
