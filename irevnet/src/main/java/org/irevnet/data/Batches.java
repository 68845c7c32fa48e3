package org.irevnet.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Index-based batching: the order of an epoch and its split into batches. The order of epoch
 * {@code e} depends only on {@code (n, seed, e)}, so any epoch can be recomputed without
 * replaying the earlier ones.
 */
public final class Batches {
  private Batches() {}

  /** A permutation of {@code 0..n-1} for this epoch (identity if {@code shuffle} is false). */
  public static int[] order(int n, long seed, int epoch, boolean shuffle) {
    if (shuffle) return permutation(n, new SplittableRandom(Seeds.mix(seed, epoch, Seeds.ORDER)));
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    return order;
  }

  /** A uniformly random permutation of {@code 0..n-1} (Fisher-Yates), drawn from {@code rng}. */
  public static int[] permutation(int n, RandomGenerator rng) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** Number of batches in an epoch of {@code n} items. */
  public static int count(int n, int batchSize, boolean dropLast) {
    checkBatchSize(batchSize);
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** The batches of one epoch, as index arrays into the dataset. */
  public static List<int[]> epoch(int n, int batchSize, long seed, int epoch, boolean shuffle,
      boolean dropLast) {
    int[] order = order(n, seed, epoch, shuffle);
    int count = count(n, batchSize, dropLast);
    List<int[]> out = new ArrayList<>(count);
    for (int b = 0; b < count; b++) {
      out.add(slice(order, b, batchSize));
    }
    return out;
  }

  static int[] slice(int[] order, int batch, int batchSize) {
    int from = batch * batchSize;
    int to = Math.min(order.length, from + batchSize);
    int[] idx = new int[to - from];
    System.arraycopy(order, from, idx, 0, idx.length);
    return idx;
  }

  static void checkBatchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
  }
}
