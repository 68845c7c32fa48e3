package org.irevnet.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryTest {
  private static final long GIB = 1L << 30;
  /** cgroup v1's "no limit": Long.MAX_VALUE rounded down to 4 KiB pages. */
  private static final String V1_UNLIMITED = "9223372036854771712";
  /** What {@link #host} gives when no cgroup limits it. */
  private static final Memory.Limit MEM_TOTAL = new Memory.Limit(64 * GIB, "MemTotal in /proc/meminfo");

  /** The limit {@code file} under /sys/fs/cgroup sets. */
  private static Memory.Limit cgroup(long bytes, String file) {
    return new Memory.Limit(bytes, "the cgroup limit in /sys/fs/cgroup/" + file);
  }

  /** A host of 64 GiB as /proc/meminfo has it, under {@code root}, with {@code /proc/self/cgroup}. */
  private static Path host(Path root, String cgroup) throws IOException {
    write(root, "proc/meminfo", "MemTotal:       67108864 kB\nMemFree:        1000 kB\n");
    write(root, "proc/self/cgroup", cgroup);
    return root;
  }

  private static void write(Path root, String file, String content) throws IOException {
    Path p = root.resolve(file);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  /** A container given 4 GiB on a 64 GiB host: the check went by the 64 GiB, and the kernel killed it past 4. */
  @Test
  void aCgroupV2LimitBelowMemTotalIsTheLimit(@TempDir Path root) throws IOException {
    host(root, "0::/\n");
    write(root, "sys/fs/cgroup/memory.max", "4294967296\n");
    assertThat(Memory.limit(root)).isEqualTo(cgroup(4 * GIB, "memory.max"));
    write(root, "sys/fs/cgroup/memory.max", "max\n");
    assertThat(Memory.limit(root)).as("max: no limit").isEqualTo(MEM_TOTAL);
    write(root, "sys/fs/cgroup/memory.max", "137438953472\n");
    assertThat(Memory.limit(root)).as("a limit above MemTotal").isEqualTo(MEM_TOTAL);
  }

  /** The process's own cgroup is found through /proc/self/cgroup; a parent's limit binds it too, the smallest wins. */
  @Test
  void theSmallestLimitOnTheWayFromTheProcessesCgroupToTheMountIsTheLimit(@TempDir Path root) throws IOException {
    host(root, "0::/user.slice/app.scope\n");
    write(root, "sys/fs/cgroup/memory.max", "max\n");
    write(root, "sys/fs/cgroup/user.slice/memory.max", "2147483648\n");
    write(root, "sys/fs/cgroup/user.slice/app.scope/memory.max", "max\n");
    assertThat(Memory.limit(root))
        .isEqualTo(cgroup(2 * GIB, "user.slice/memory.max"));
    write(root, "sys/fs/cgroup/user.slice/app.scope/memory.max", "1073741824\n");
    assertThat(Memory.limit(root))
        .isEqualTo(cgroup(GIB, "user.slice/app.scope/memory.max"));
    // A cgroup path that is not under the mount (a namespace mounted only its own part): the mount's file is read.
    host(root, "0::/elsewhere/x\n");
    write(root, "sys/fs/cgroup/memory.max", "3221225472\n");
    assertThat(Memory.limit(root)).isEqualTo(cgroup(3 * GIB, "memory.max"));
  }

  /** cgroup v1 (and the hybrid layout this machine has): the memory controller's memory.limit_in_bytes. */
  @Test
  void aCgroupV1LimitIsReadFromTheMemoryControllersHierarchy(@TempDir Path root) throws IOException {
    host(root, "5:cpu,cpuacct:/docker/abc\n4:blkio,memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n");
    write(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", V1_UNLIMITED + "\n");
    write(root, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "1073741824\n");
    write(root, "sys/fs/cgroup/cpu/docker/abc/memory.limit_in_bytes", "1\n"); // not the memory controller's
    assertThat(Memory.limit(root))
        .isEqualTo(cgroup(GIB, "memory/docker/abc/memory.limit_in_bytes"));
    write(root, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", V1_UNLIMITED + "\n");
    assertThat(Memory.limit(root)).as("v1's no limit").isEqualTo(MEM_TOTAL);
  }

  /**
   * v1 mounts each controller's hierarchy under its own name, and a process may sit in a different
   * cgroup in each: the memory controller's path is the one followed, not the cpu or systemd one.
   */
  @Test
  void aCgroupV1LimitFollowsTheMemoryControllersOwnPath(@TempDir Path root) throws IOException {
    host(root, "5:cpu,cpuacct:/docker/cpu-only\n4:memory:/docker/mem\n1:name=systemd:/docker/cpu-only\n");
    write(root, "sys/fs/cgroup/memory/docker/mem/memory.limit_in_bytes", "1073741824\n");
    write(root, "sys/fs/cgroup/memory/docker/cpu-only/memory.limit_in_bytes", "536870912\n");
    assertThat(Memory.limit(root))
        .isEqualTo(cgroup(GIB, "memory/docker/mem/memory.limit_in_bytes"));
  }

  /** Missing or unreadable facts are unknown, never an error: nothing at all, no MemTotal, a damaged limit. */
  @Test
  void whatCannotBeReadIsUnknown(@TempDir Path root) throws IOException {
    assertThat(Memory.limit(root)).isEqualTo(new Memory.Limit(-1, "unknown"));
    write(root, "proc/self/cgroup", "0::/\n");
    write(root, "sys/fs/cgroup/memory.max", "4294967296\n");
    assertThat(Memory.limit(root)).as("a limit without MemTotal")
        .isEqualTo(cgroup(4 * GIB, "memory.max"));
    host(root, "0::/\n");
    write(root, "sys/fs/cgroup/memory.max", "lots\n");
    assertThat(Memory.limit(root)).isEqualTo(MEM_TOTAL);
    write(root, "proc/self/cgroup", "garbage\n\n");
    assertThat(Memory.limit(root)).isEqualTo(MEM_TOTAL);
    write(root, "proc/meminfo", "MemFree:        1000 kB\n");
    assertThat(Memory.limit(root)).as("a meminfo without MemTotal").isEqualTo(new Memory.Limit(-1, "unknown"));
  }

  /** On this machine: MemTotal of the real /proc/meminfo, at least what this JVM has committed, and the limit no more. */
  @Test
  void thisMachinesMemoryIsItsMemTotalOrLess() throws IOException {
    Matcher m = Pattern.compile("(?m)^MemTotal:\\s+(\\d+) kB$").matcher(Files.readString(Path.of("/proc/meminfo")));
    assertThat(m.find()).as("MemTotal in /proc/meminfo").isTrue();
    long total = Long.parseLong(m.group(1)) * 1024;
    assertThat(Memory.memTotalBytes(Path.of("/"))).isEqualTo(total).isGreaterThan(Runtime.getRuntime().totalMemory());
    assertThat(Memory.limit().bytes()).isBetween(Runtime.getRuntime().totalMemory(), total);
  }

  /** The peak is the kernel's VmHWM in MiB: between this process's peaks read before and after. */
  @Test
  void thePeakIsTheProcessesHighWaterMarkInMib() throws IOException {
    double before = vmHwmKiB() / 1024.0;
    double peak = Memory.peakRssMiB();
    double after = vmHwmKiB() / 1024.0;
    assertThat(peak).isBetween(before, after);
  }

  /**
   * After a reset the peak is the resident size from then on: 256 MiB made resident and handed
   * back count before the reset and not after it, and again after it. Compared with the resident
   * size read at the time, with 128 MiB to spare: in the whole suite under pitest the JVM's own
   * resident size moved by tens of MiB between two readings.
   */
  @Test
  void aResetPeakCountsFromTheReset() throws IOException {
    double withBlock;
    try (var block = new org.irevnet.testing.NativeBlock(256L << 20)) {
      withBlock = vmRssKiB() / 1024.0;
    }
    assertThat(Memory.resetPeakRss()).isTrue();
    assertThat(Memory.peakRssMiB()).as("the freed block no longer in the peak").isLessThan(withBlock - 128);
    double before = vmRssKiB() / 1024.0;
    try (var again = new org.irevnet.testing.NativeBlock(256L << 20)) {
      assertThat(Memory.peakRssMiB()).as("a new peak after the reset counts").isGreaterThan(before + 128);
    }
  }

  private static long vmHwmKiB() throws IOException {
    return statusKiB("VmHWM");
  }

  private static long vmRssKiB() throws IOException {
    return statusKiB("VmRSS");
  }

  /** The size on {@code key}'s line of /proc/self/status, read independently of {@link Memory}. */
  private static long statusKiB(String key) throws IOException {
    Matcher m = Pattern.compile("(?m)^" + key + ":\\s+(\\d+) kB$").matcher(Files.readString(Path.of("/proc/self/status")));
    assertThat(m.find()).as(key + " in /proc/self/status").isTrue();
    return Long.parseLong(m.group(1));
  }
}
