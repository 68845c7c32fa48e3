package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @Test
  void writeReplacesTheTargetAndLeavesNoTemporaryFile(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("a/b.txt");
    AtomicFiles.writeString(f, "one");
    AtomicFiles.writeString(f, "two");
    assertThat(Files.readString(f)).isEqualTo("two");
    try (var s = Files.list(f.getParent())) {
      assertThat(s.toList()).containsExactly(f);
    }
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
}
