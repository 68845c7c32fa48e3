package org.irevnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.irevnet.train.Benchmark;

/**
 * {@code bench --depth-curve}: memory and time against depth, each depth multiplier benchmarked
 * in a fresh process, in rounds whose order alternates. One process's peak RSS moves by 10-40 MiB
 * between identical runs (where glibc's heaps land), about as much as the depth effect being
 * measured, so the curve is read from medians over rounds, and the part reversibility keeps flat
 * ({@code working_rss_mib}) is fitted apart from the parameter state, which grows with depth by
 * construction.
 */
final class DepthCurve {
  /** The fields summarised per depth: medians over the rounds, and a least-squares line in K. */
  static final List<String> FIELDS = List.of("peak_rss_mib", "process_peak_rss_mib", "param_state_mib",
      "working_rss_mib", "train_step_ms");
  /**
   * Summarised too where every row has them (glibc): the native heap the process holds between
   * steps, which grows with depth by the parameter state alone, and what glibc keeps freed.
   */
  static final List<String> ALLOCATOR_FIELDS = List.of("native_in_use_mib", "native_free_mib");

  private DepthCurve() {}

  /**
   * @param bench {@code irevnet bench} in a child JVM for one run at depth multiplier K
   * @param out receives every JSON line as it is measured
   */
  static Map<String, Object> run(int[] depthMults, int rounds, IntFunction<ProcessBuilder> bench,
      Consumer<String> out) throws IOException, InterruptedException {
    List<JsonNode> rows = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      // Odd rounds run the depths backwards, so a trend in the machine's load hits each alike.
      for (int i = 0; i < depthMults.length; i++) {
        int k = depthMults[r % 2 == 0 ? i : depthMults.length - 1 - i];
        String line = PeerComparison.runOnce(bench.apply(k), "irevnet bench --depth-mult " + k);
        rows.add(Json.MAPPER.readTree(line));
        out.accept(line);
      }
    }
    return summary(depthMults, rows);
  }

  /**
   * The curve from {@code rows} (bench JSON lines, each with its {@code depth_mult}): per field the
   * median at each depth, and the slope and intercept of the least-squares line through every row
   * ({@code field = intercept + slope * K}); {@code peak_rss_mib_ratio} and {@code
   * working_rss_mib_ratio} divide the median at the largest multiplier by that at the smallest.
   */
  static Map<String, Object> summary(int[] depthMults, List<JsonNode> rows) {
    int lo = depthMults[0], hi = depthMults[0];
    for (int k : depthMults) {
      lo = Math.min(lo, k);
      hi = Math.max(hi, k);
    }
    Map<String, Object> s = new LinkedHashMap<>();
    JsonNode first = rows.get(0);
    String arch = first.path("arch").asText(), suffix = "-x" + first.path("depth_mult").asInt();
    s.put("arch", arch.endsWith(suffix) ? arch.substring(0, arch.length() - suffix.length()) : arch);
    s.put("batch", first.path("batch").asInt());
    s.put("threads", first.path("threads").asInt());
    s.put("backward", first.path("backward").asText());
    s.put("rounds", rows.size() / depthMults.length);
    s.put("depth_mults", depthMults);
    List<String> fields = new ArrayList<>(FIELDS);
    for (String f : ALLOCATOR_FIELDS) {
      if (rows.stream().allMatch(r -> r.path(f).isNumber())) fields.add(f);
    }
    for (String f : fields) {
      Map<String, Double> medians = new LinkedHashMap<>();
      for (int k : depthMults) medians.put(Integer.toString(k), Benchmark.round(median(rows, f, k), 1));
      double[] line = leastSquares(rows, f);
      s.put(f, medians);
      s.put(f + "_per_depth_mult", Benchmark.round(line[1], 2));
      s.put(f + "_at_depth_mult_0", Benchmark.round(line[0], 1));
    }
    s.put("peak_rss_mib_ratio", ratio(rows, "peak_rss_mib", lo, hi));
    s.put("peak_rss_mib_ratio_by_round", ratioByRound(rows, depthMults.length, lo, hi));
    s.put("process_peak_rss_mib_ratio", ratio(rows, "process_peak_rss_mib", lo, hi));
    s.put("working_rss_mib_ratio", ratio(rows, "working_rss_mib", lo, hi));
    return s;
  }

  /**
   * Each round's own peak ratio, largest multiplier over smallest, in the order the rounds ran:
   * how far one pair of runs strays from the medians (read by hand from the lines before).
   */
  private static List<Double> ratioByRound(List<JsonNode> rows, int perRound, int lo, int hi) {
    List<Double> ratios = new ArrayList<>();
    for (int from = 0; from + perRound <= rows.size(); from += perRound) {
      ratios.add(ratio(rows.subList(from, from + perRound), "peak_rss_mib", lo, hi));
    }
    return ratios;
  }

  /** {@code field}'s median at multiplier {@code hi} over that at {@code lo}, to three decimals. */
  private static double ratio(List<JsonNode> rows, String field, int lo, int hi) {
    return Benchmark.round(median(rows, field, hi) / median(rows, field, lo), 3);
  }

  private static double median(List<JsonNode> rows, String field, int k) {
    return Benchmark.median(rows.stream().filter(n -> n.path("depth_mult").asInt() == k)
        .mapToDouble(n -> number(n, field)).toArray());
  }

  /** {intercept, slope} of {@code field} against {@code depth_mult} over all rows. */
  private static double[] leastSquares(List<JsonNode> rows, String field) {
    double n = rows.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (JsonNode r : rows) {
      double x = r.path("depth_mult").asDouble(), y = number(r, field);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    return new double[] {(sy - slope * sx) / n, slope};
  }

  private static double number(JsonNode row, String field) {
    JsonNode v = row.path(field);
    if (!v.isNumber()) throw new IllegalStateException("irevnet bench printed no number for " + field + ": " + row);
    return v.asDouble();
  }
}
