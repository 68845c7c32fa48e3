package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training memory counted in array bytes, not process RSS (which the allocator, the JVM and the
 * machine blur by tens of MiB from run to run): what the model and the optimiser keep between
 * training steps, the forward result a backward pass starts from, and the block workspaces a step
 * runs in are the same at every depth, but for parameter state (the values and Adam's two
 * moments, 12 bytes per float32 parameter). This is what the reversible backward pass promises;
 * {@code bench --depth-mult} measures it in RSS. Not counted: short-lived arrays a step allocates
 * outside the workspaces, garbage until the next collection.
 */
class TrainingMemoryTest {
  private static final Architecture TINY = Architecture.fromJson(TinyData.ARCH);
  private static final int BATCH = 8;

  /**
   * What one training run at one depth holds, in bytes of distinct native memory; {@code params}
   * counts trainable scalars, {@code buffers} the bytes of non-trainable state (ActNorm's flag).
   */
  record Held(long params, long buffers, long modelAndOptimizer, long forwardResult, long workspaces,
      long storedActivations) {}

  @Test
  void onlyParameterStateGrowsWithDepth() {
    Held shallow = measure(2, false), deep = measure(6, false);
    assertThat(deep.storedActivations()).isZero();
    assertOnlyStateAndTapesGrow(shallow, deep);
    assertThat(deep.forwardResult()).isEqualTo(shallow.forwardResult());
  }

  @Test
  void theStoredActivationBackwardAlsoKeepsItsTapesWhichGrowWithDepth() {
    // The trade `--backward stored` makes, in bytes: on top of the parameter state, the
    // couplings' conditioner activations, three times as many at three times the depth.
    Held shallow = measure(2, true), deep = measure(6, true);
    assertThat(shallow.storedActivations()).isPositive();
    assertThat(deep.storedActivations()).isEqualTo(3 * shallow.storedActivations());
    assertOnlyStateAndTapesGrow(shallow, deep);
  }

  private static void assertOnlyStateAndTapesGrow(Held shallow, Held deep) {
    assertThat(deep.params()).isEqualTo(3 * shallow.params());
    // Values and Adam's two moments, 4 bytes each, the blocks' buffers and any stored tapes:
    // nothing else that the model and the optimiser keep between steps depends on depth.
    long stateGrowth = 12 * (deep.params() - shallow.params()) + deep.buffers() - shallow.buffers();
    assertThat(deep.modelAndOptimizer() - shallow.modelAndOptimizer())
        .isEqualTo(stateGrowth + deep.storedActivations() - shallow.storedActivations());
    // The block workspaces hold one block's temporaries at a time, so they are sized by the
    // largest block, the same at both depths.
    assertThat(deep.workspaces()).isPositive().isEqualTo(shallow.workspaces());
  }

  @Test
  void theCountWouldSeeStoredActivations() {
    // The measure itself can fail: keeping every block's output, as a non-reversible backward
    // pass must, grows with depth.
    long[] held = new long[2];
    int i = 0;
    for (int k : new int[] {2, 6}) {
      InvertibleClassifier model = InvertibleClassifier.build(TINY.withDepthMultiplier(k), DataType.FLOAT, 0);
      held[i++] = heldBytes(model.body().forwardWithIntermediates(Benchmark.images(model, BATCH, new Random(0))));
    }
    assertThat(held[1]).isGreaterThan(2 * held[0]);
  }

  /**
   * Two training steps at depth multiplier {@code k} (with the stored-activation backward if
   * {@code stored}), then a forward pass, on a fresh thread.
   */
  private static Held measure(int k, boolean stored) {
    AtomicReference<Held> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    // Workspaces belong to a thread and keep the largest size they have learned: a fresh thread
    // sees only this run's.
    Thread t = new Thread(() -> {
      try {
        result.set(train(k, stored));
      } catch (Throwable e) {
        failure.set(e);
      }
    });
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    if (failure.get() != null) throw new AssertionError(failure.get());
    return result.get();
  }

  private static Held train(int k, boolean stored) {
    Benchmark.Setup setup = Benchmark.Setup.of(TINY.withDepthMultiplier(k), BATCH);
    InvertibleClassifier model = setup.model();
    AdamOptimizer adam = setup.adam();
    model.setStoredActivations(stored);
    for (int s = 0; s < 2; s++) Benchmark.step(model, setup.x(), setup.y(), adam);
    InvertibleClassifier.Forward f = model.forward(setup.x(), true);
    long workspaces = 0;
    for (MemoryWorkspace ws : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
      workspaces += ws.getCurrentSize();
    }
    long buffers = model.params().entries().values().stream().filter(p -> !p.trainable())
        .mapToLong(p -> p.value().length() * p.value().dataType().width()).sum();
    return new Held(model.params().count(), buffers, heldBytes(model, adam), heldBytes(f), workspaces,
        model.storedActivationBytes());
  }

  /**
   * The bytes of native memory behind every array reachable from {@code roots} through this
   * project's objects, records, collections and arrays, each byte counted once however many
   * views share it.
   */
  static long heldBytes(Object... roots) {
    List<long[]> ranges = new ArrayList<>();
    Map<Object, Boolean> seen = new IdentityHashMap<>();
    List<Object> todo = new ArrayList<>(Arrays.asList(roots));
    while (!todo.isEmpty()) {
      Object o = todo.remove(todo.size() - 1);
      if (o == null || seen.put(o, Boolean.TRUE) != null) continue;
      if (o instanceof INDArray a) {
        if (a.isEmpty()) continue;
        DataBuffer d = a.data();
        long span = 1;
        for (int i = 0; i < a.rank(); i++) span += (a.size(i) - 1) * Math.abs(a.stride(i));
        long start = d.address() + a.offset() * d.getElementSize();
        ranges.add(new long[] {start, start + span * d.getElementSize()});
      } else if (o instanceof Collection<?> c) {
        todo.addAll(c);
      } else if (o instanceof Map<?, ?> m) {
        todo.addAll(m.keySet());
        todo.addAll(m.values());
      } else if (o instanceof Object[] arr) {
        Collections.addAll(todo, arr);
      } else if (o.getClass().getName().startsWith("org.irevnet.")) {
        for (Class<?> c = o.getClass(); c != null && c.getName().startsWith("org.irevnet."); c = c.getSuperclass()) {
          for (Field fld : c.getDeclaredFields()) {
            if (Modifier.isStatic(fld.getModifiers()) || fld.getType().isPrimitive()) continue;
            try {
              fld.setAccessible(true);
              todo.add(fld.get(o));
            } catch (ReflectiveOperationException | RuntimeException e) {
              throw new AssertionError("cannot read " + c.getName() + "." + fld.getName(), e);
            }
          }
        }
      }
    }
    return unionLength(ranges);
  }

  private static long unionLength(List<long[]> ranges) {
    ranges.sort((a, b) -> Long.compare(a[0], b[0]));
    long total = 0, start = -1, end = -1;
    for (long[] r : ranges) {
      if (r[0] > end) {
        total += end - start;
        start = r[0];
        end = r[1];
      } else {
        end = Math.max(end, r[1]);
      }
    }
    return total + end - start;
  }
}
