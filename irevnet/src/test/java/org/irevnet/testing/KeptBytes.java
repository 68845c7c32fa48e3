package org.irevnet.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.irevnet.nn.NativeHeap;

/**
 * Native bytes (glibc's in use, {@link NativeHeap#usage}) that runs of an action keep, each read
 * from a heap the collector has just settled: ND4J frees an array's memory only when the collector
 * finds its wrapper, so garbage of earlier work would otherwise be freed during a run and hide what
 * the run keeps. Other threads allocate meanwhile, and ND4J's own products leave an array behind now
 * and then, so tests read the fewest bytes of a few runs.
 */
public final class KeptBytes {
  private KeptBytes() {}

  /** The bytes each of {@code runs} runs of {@code action} (given the run's index) kept; its results stay alive. */
  public static List<Long> of(int runs, IntFunction<Object> action) throws InterruptedException {
    return of(0, runs, action);
  }

  /**
   * {@link #of(int, IntFunction)} after {@code warmUps} unmeasured runs: for bounds below a
   * megabyte, where the JIT's compiler arenas (glibc's memory too) grew by 0.1-0.6 MB in each of a
   * test's first runs now and then, while hot methods were compiled.
   */
  public static List<Long> of(int warmUps, int runs, IntFunction<Object> action) throws InterruptedException {
    for (int run = 0; run < warmUps; run++) action.apply(run);
    List<Object> results = new ArrayList<>();
    List<Long> kept = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      long before = settled();
      results.add(action.apply(run));
      kept.add(NativeHeap.usage().inUseBytes() - before);
    }
    return kept;
  }

  /**
   * The middle reading of {@code kept} (of five runs, the third smallest): a collection during one
   * run frees what others left, so one low reading says less than the middle.
   */
  public static long middle(List<Long> kept) {
    return kept.stream().sorted().toList().get(kept.size() / 2);
  }

  private static long settled() throws InterruptedException {
    System.gc();
    long before = NativeHeap.usage().inUseBytes();
    for (int wait = 0; wait < 50; wait++) { // ND4J's deallocator thread frees after the collection
      Thread.sleep(20);
      long now = NativeHeap.usage().inUseBytes();
      if (Math.abs(now - before) < (64 << 10)) return now;
      before = now;
    }
    return before;
  }
}
