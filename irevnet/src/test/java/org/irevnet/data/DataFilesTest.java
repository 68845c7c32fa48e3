package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.UnixOperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFilesTest {
  @TempDir Path tmp;

  /**
   * A file that starts like gzip but has a bad gzip header fails in the decompressor's
   * constructor; the file opened under it must be closed there, or every such file (a directory
   * scan, a retry loop) keeps a descriptor until the garbage collector happens to run.
   */
  @Test
  void aCorruptGzipHeaderLeavesNoFileOpen() throws IOException {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    Assumptions.assumeTrue(os instanceof UnixOperatingSystemMXBean, "no descriptor count here");
    UnixOperatingSystemMXBean unix = (UnixOperatingSystemMXBean) os;
    // gzip magic, then compression method 7 where gzip has only 8 (deflate)
    Path g = Synth.write(tmp.resolve("x.gz"), new byte[] {0x1f, (byte) 0x8b, 7, 0, 0, 0, 0, 0,
        0, 0}, false);
    long before = unix.getOpenFileDescriptorCount();
    for (int i = 0; i < 50; i++) {
      assertThatThrownBy(() -> DataFiles.open(g, true)).isInstanceOf(IOException.class);
    }
    // a leak is one descriptor per call; the slack allows for others the JVM opens meanwhile
    assertThat(unix.getOpenFileDescriptorCount() - before).isLessThan(10);
  }
}
