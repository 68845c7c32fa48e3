package org.irevnet.nn;

import java.util.function.Function;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs one block's work in an ND4J workspace whose memory the next block reuses; only the results
 * are copied out (by the caller's {@code copyOut}, while the workspace is still open).
 *
 * <p>Why: every array created outside a workspace is off-heap memory that lives until the garbage
 * collector finds its tiny Java wrapper ({@code INDArray.close()} would free it at once, but the
 * temporaries of a block's ops have no owner that could call it). Without workspaces fi-revnet-s
 * reached 2.7 GB after 12 training steps and memory grew with depth; fresh pages also cost time.
 * Containers ({@code Sequential}) copy block results into buffers they reuse, so a training step
 * allocates almost nothing outside a workspace and holds one block's temporaries at a time.
 * Nested containers get one workspace per nesting level.
 *
 * <p>Disable with {@code -Direvnet.workspaces=false} (for debugging a suspected workspace bug).
 */
public final class BlockWorkspace {
  private static final boolean ENABLED = !"false".equals(System.getProperty("irevnet.workspaces"));
  private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
  private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
      .initialSize(0)
      .policyAllocation(AllocationPolicy.OVERALLOCATE)
      .overallocationLimit(0.1)
      .policyLearning(LearningPolicy.FIRST_LOOP)
      .policySpill(SpillPolicy.REALLOCATE)
      .build();

  private BlockWorkspace() {}

  /**
   * The blocks' workspace configuration, for work that opens a workspace of its own (a DL4J
   * network's evaluation pass, whose layers allocate through a workspace manager by name).
   */
  public static WorkspaceConfiguration config() {
    return CONFIG;
  }

  /** Whether work runs in workspaces at all ({@code -Direvnet.workspaces=false} turns them off). */
  public static boolean enabled() {
    return ENABLED;
  }

  /** Runs {@code work} inside the workspace and returns what {@code copyOut} makes of its result. */
  public static <T, R> R run(Supplier<T> work, Function<T, R> copyOut) {
    if (!ENABLED) return copyOut.apply(work.get());
    int[] depth = DEPTH.get();
    depth[0]++;
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "irevnet-block-" + depth[0])) {
      return copyOut.apply(work.get());
    } finally {
      depth[0]--;
    }
  }

  /** A new array outside any workspace (for results and reusable buffers). */
  public static INDArray outside(DataType dt, long... shape) {
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return Nd4j.createUninitialized(dt, shape);
    }
  }

  /** A copy of {@code a} outside any workspace. */
  public static INDArray copyOutside(INDArray a) {
    return outside(a.dataType(), a.shape()).assign(a);
  }
}
