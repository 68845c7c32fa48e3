package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** One workspace per nesting level, released level by level; results copied out of it. */
class BlockWorkspaceTest {
  private static String current() {
    MemoryWorkspace ws = Nd4j.getMemoryManager().getCurrentWorkspace();
    return ws == null ? null : ws.getId();
  }

  @Test
  void nestedRunsGetOneWorkspacePerLevelAndTheLevelsAreGivenBack() {
    List<String> seen = new ArrayList<>();
    String result = BlockWorkspace.run(() -> {
      seen.add(current());
      BlockWorkspace.run(() -> seen.add(current()), added -> null);
      seen.add(current());
      return "work";
    }, w -> w + " copied");
    assertThat(result).isEqualTo("work copied");
    BlockWorkspace.run(() -> seen.add(current()), added -> null);
    assertThat(seen).containsExactly("irevnet-block-1", "irevnet-block-2", "irevnet-block-1", "irevnet-block-1");
    assertThat(current()).isNull();
  }

  @Test
  void arraysMadeOutsideOutliveTheWorkspace() {
    INDArray[] made = BlockWorkspace.run(() -> {
      INDArray inside = Nd4j.createFromArray(1.0, 2.0, 3.0).reshape(1, 3);
      return inside;
    }, inside -> {
      assertThat(inside.isAttached()).isTrue();
      return new INDArray[] {BlockWorkspace.copyOutside(inside), BlockWorkspace.outside(DataType.FLOAT, 2, 5)};
    });
    assertThat(made[0].isAttached()).isFalse();
    assertThat(Tensors.doubles(made[0])).containsExactly(1.0, 2.0, 3.0);
    assertThat(made[0].shape()).containsExactly(1, 3);
    assertThat(made[0].dataType()).isEqualTo(DataType.DOUBLE);
    assertThat(made[1].isAttached()).isFalse();
    assertThat(made[1].shape()).containsExactly(2, 5);
    assertThat(made[1].dataType()).isEqualTo(DataType.FLOAT);
  }
}
