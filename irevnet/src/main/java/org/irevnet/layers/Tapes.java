package org.irevnet.layers;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import org.irevnet.nn.BlockWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tapes of one forward pass of a chain, kept for its backward pass ({@link TapedBlock}): the
 * stored-activation backward, which skips recomputing every coupling's conditioner (a training
 * step of fi-revnet-s 5-18% faster, see docs/measurements.md) at the price of memory that grows with depth
 * and batch. Buffers are allocated outside workspaces on first use and reused by every
 * later pass of the same shapes. Each pass overwrites the previous one: {@link #record} returns a
 * token that tells a backward pass whether its tapes are still there.
 */
public final class Tapes {
  private final Map<TapedBlock, Slot> kept = new IdentityHashMap<>();
  private long pass;

  /** A block's buffers, and the pass whose tape they hold. */
  private static final class Slot {
    INDArray[] buffers;
    long pass;
  }

  /** The tapes of one recorded pass, valid until the next pass is recorded. */
  public record Pass(Tapes tapes, long number) {
    public boolean isCurrent() {
      return tapes.pass == number;
    }
  }

  /** Starts recording a new pass (forgetting the previous one's tapes). */
  public Pass record() {
    return new Pass(this, ++pass);
  }

  /** Copies {@code block}'s tape out of its workspace into this store's buffers. */
  void keep(TapedBlock block, INDArray[] tape) {
    Slot slot = kept.computeIfAbsent(block, b -> new Slot());
    if (slot.buffers == null || !sameShapes(slot.buffers, tape)) {
      slot.buffers = new INDArray[tape.length];
      for (int i = 0; i < tape.length; i++) {
        slot.buffers[i] = BlockWorkspace.outside(tape[i].dataType(), tape[i].shape());
      }
    }
    for (int i = 0; i < tape.length; i++) slot.buffers[i].assign(tape[i]);
    slot.pass = pass;
  }

  /** {@code block}'s tape of the current pass, or null if that pass did not tape it. */
  INDArray[] get(TapedBlock block) {
    Slot slot = kept.get(block);
    return slot == null || slot.pass != pass ? null : slot.buffers;
  }

  /** Bytes held by the buffers (for the benchmark and tests). */
  public long bytes() {
    long b = 0;
    for (Slot s : kept.values()) {
      for (INDArray a : s.buffers) b += a.length() * a.dataType().width();
    }
    return b;
  }

  private static boolean sameShapes(INDArray[] a, INDArray[] b) {
    if (a.length != b.length) return false;
    for (int i = 0; i < a.length; i++) {
      if (a[i].dataType() != b[i].dataType() || !Arrays.equals(a[i].shape(), b[i].shape())) return false;
    }
    return true;
  }
}
