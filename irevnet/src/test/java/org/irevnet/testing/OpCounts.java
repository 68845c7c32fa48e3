package org.irevnet.testing;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.profiler.OpProfiler;
import org.nd4j.linalg.profiler.ProfilerConfig;

/**
 * libnd4j op calls made by a piece of work, counted by ND4J's op profiler: how much work, in
 * passes rather than seconds (convolutions are most of every forward, inverse and backward pass).
 */
public final class OpCounts {
  private OpCounts() {}

  /** Calls of libnd4j's {@code conv2d} (forward convolutions, in any precision) while {@code work} runs. */
  public static long conv2d(Runnable work) {
    return calls("conv2d", work);
  }

  /** Calls of the libnd4j op {@code op} (e.g. {@code conv2d_bp}, a backward pass's) while {@code work} runs. */
  public static long calls(String op, Runnable work) {
    OpProfiler profiler = OpProfiler.getInstance();
    profiler.reset();
    // Any setting turns the counting on; elapsed time is the cheapest.
    Nd4j.getExecutioner().setProfilingConfig(ProfilerConfig.builder().checkElapsedTime(true).build());
    try {
      work.run();
      return profiler.getOpCounter().getCount(op);
    } finally {
      Nd4j.getExecutioner().setProfilingConfig(ProfilerConfig.builder().build());
      profiler.reset();
    }
  }
}
