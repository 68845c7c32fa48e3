package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The figures that compare several runs on shared axes (invertible and ordinary networks alike):
 * the per-layer probe curves of {@code analysis/layer-probes.json} by relative depth (layer {@code
 * i} of {@code n} at {@code (i + 1) / n}, so an i-RevNet's 5 stages and a ResNet's 14 layers share
 * the x axis), the PCA curves at the last probed layer, and the feature-matching invariance
 * attacks ({@code analysis/attack-feature-match*.json}) side by side.
 */
final class Comparison {
  static final String PROBES = RunSections.ANALYSIS + "/layer-probes.json";

  private Comparison() {}

  /** The comparison figures of the runs (empty when fewer than two runs or none has the files). */
  static List<Figure> of(List<String> names, List<RunFiles> files) {
    if (files.size() < 2) return List.of();
    List<Figure.Series> linear = new ArrayList<>(), nn = new ArrayList<>(), pca = new ArrayList<>();
    List<List<Object>> probeRows = new ArrayList<>(), attackRows = new ArrayList<>();
    // The data each probe file was computed on (its "data": NAME/SPLIT[subset]), by curve: curves of
    // runs on different data (a shortcut dataset, another test subset) are no comparison of the models.
    List<String> probeData = new ArrayList<>(), attackData = new ArrayList<>();
    boolean countedDistances = false;
    for (int r = 0; r < files.size(); r++) {
      RunFiles f = files.get(r);
      String run = names.get(r);
      JsonNode probes = RunSections.read(f, PROBES);
      JsonNode stages = probes.path("stages");
      if (stages.isArray() && !stages.isEmpty()) {
        int n = stages.size();
        List<Double> x = new ArrayList<>(), lin = new ArrayList<>(), knn = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          x.add((i + 1) / (double) n);
          lin.add(TreeFigures.number(stages.get(i).get("linear_accuracy")));
          knn.add(TreeFigures.number(stages.get(i).get("nearest_neighbour_accuracy")));
        }
        String label = run + " (" + n + " layers)";
        probeData.add(probeDataOf(probes));
        linear.add(new Figure.Series(label, x, lin));
        nn.add(new Figure.Series(label, x, knn));
        List<Double> px = new ArrayList<>(), py = new ArrayList<>();
        for (JsonNode p : probes.path("pca")) {
          // No components (or a missing count, read as 0) has no place on a log axis.
          Double log2 = TreeFigures.finite(Math.log(p.path("components").asDouble()) / Math.log(2));
          if (log2 == null) continue;
          px.add(log2);
          py.add(TreeFigures.number(p.get("linear_accuracy")));
        }
        pca.add(px.isEmpty() ? null : new Figure.Series(run, px, py));
        JsonNode last = stages.get(n - 1);
        probeRows.add(Arrays.asList(run, TreeFigures.scalar(probes.get("model")), n,
            TreeFigures.scalar(last.has("layer") ? last.get("layer") : last.get("stage")),
            TreeFigures.number(stages.get(0).get("linear_accuracy")), TreeFigures.number(last.get("linear_accuracy")),
            TreeFigures.number(stages.get(0).get("nearest_neighbour_accuracy")),
            TreeFigures.number(last.get("nearest_neighbour_accuracy")), TreeFigures.number(probes.get("logit_accuracy")),
            probeDataOf(probes)));
      }
      List<String> attackFiles;
      try {
        attackFiles = f.matching(RunSections.ANALYSIS, "attack-feature-match*.json");
      } catch (IOException e) {
        // The run's attacks section reports the unreadable directory.
        attackFiles = List.of();
      }
      for (String file : attackFiles) {
        JsonNode a;
        try {
          a = RunSections.checkedAttack(f, file);
        } catch (IOException e) {
          // The run's attacks section reports the unreadable file; the run's other files still count.
          continue;
        }
        Object layer = a.hasNonNull("layer_name") ? a.get("layer_name").asText() : TreeFigures.scalar(a.get("layer"));
        // A file that records a failed check of its own (sanity.passed false) is named so, as its
        // headline labels are: its rows sat beside clean ones as if they were results.
        List<String> failed = AnalysisChecks.failed(a);
        String rowName = failed.isEmpty() ? run : run + " (check failed: " + String.join(", ", failed) + ")";
        for (JsonNode p : a.path("curve")) {
          Double eps = RunSections.epsilon(p);
          if (eps == null || eps == 0) continue;
          // The distances of the examples the success rate is of; files from before they were
          // written have the counted examples' only.
          boolean own = p.has("mean_l2_at_eps");
          countedDistances |= !own;
          String suffix = own ? "_at_eps" : "";
          attackRows.add(Arrays.asList(rowName, layer, eps, TreeFigures.number(p.get("success_rate")),
              TreeFigures.number(p.get("representation_distance")), TreeFigures.number(p.get("mean_l2" + suffix)),
              TreeFigures.number(p.get("mean_linf" + suffix)), TreeFigures.number(p.get("accuracy_at_eps")),
              TreeFigures.scalar(a.get("count")), dataOf(a)));
          attackData.add(dataOf(a));
        }
      }
    }
    String probeNote = differentData(probeData), attackNote = differentData(attackData);
    if (probeNote != null) {
      linear = onData(linear, probeData);
      nn = onData(nn, probeData);
      pca = onData(pca, probeData);
    }
    pca.removeIf(java.util.Objects::isNull);
    List<Figure> figs = new ArrayList<>();
    if (!linear.isEmpty()) {
      figs.add(new Figure.Line("linear probe accuracy by relative depth", "relative depth (layer / layers)",
          "test accuracy", null, false, linear));
      figs.add(new Figure.Line("1-NN accuracy by relative depth", "relative depth (layer / layers)", "test accuracy",
          null, false, nn));
      if (!pca.isEmpty()) {
        figs.add(new Figure.Line("PCA at the last probed layer", "log2(principal components kept)",
            "linear probe accuracy", null, false, pca));
      }
      figs.add(new Figure.Table("per-layer probes", List.of("run", "model", "layers", "last layer", "linear first",
          "linear last", "1-NN first", "1-NN last", "model accuracy", "data"), probeRows, probeNote));
    }
    if (!attackRows.isEmpty()) {
      figs.add(new Figure.Table("feature-matching invariance attack (x near b, matched to a at the layer)",
          List.of("run", "layer", "eps", "success: class of x is a's", "match error ||h(x)-h(a)||/||h(b)-h(a)||",
              "mean L2 to b", "mean L-inf to b", "accuracy at eps alone", "pairs", "data"), attackRows,
          "success rate, match error and distances over each epsilon's own examples" + (countedDistances
              ? "; distances from attack files without mean_l2_at_eps (written before 2026-12-05) over the"
                  + " counted examples" : "") + (attackNote == null ? "" : "; " + attackNote)));
    }
    return figs;
  }

  /** An analysis file's {@code data} (NAME/SPLIT, with the test subset probed), null when it records none. */
  private static String dataOf(JsonNode n) {
    JsonNode d = n.get("data");
    return d != null && d.isTextual() ? d.asText() : null;
  }

  /**
   * A layer-probes file's {@code data}, with the seed that drew it when it is a seeded subset
   * ({@code probe --test-count N}: {@code NAME/SPLIT[N of M]}, drawn with {@code --seed}, which
   * {@code linear_probe.seed} records): runs probed on 300 of 1,000 test images with different seeds
   * were compared as if on the same images.
   */
  private static String probeDataOf(JsonNode probes) {
    String d = dataOf(probes);
    JsonNode seed = probes.path("linear_probe").path("seed");
    return d != null && d.matches(".*\\[\\d+ of \\d+]") && seed.isIntegralNumber() ? d + " seed " + seed.asLong() : d;
  }

  /**
   * What the comparison's note says when the files it draws side by side were computed on different
   * data (files that record none are not counted); null when they share theirs.
   */
  private static String differentData(List<String> data) {
    Set<String> distinct = new LinkedHashSet<>(data);
    distinct.remove(null);
    return distinct.size() < 2 ? null : "not all on the same data (" + String.join(", ", distinct)
        + "): a difference between these runs is also one between their data";
  }

  /** The curves named with the data each is of (the i-th curve's is {@code data[i]}); null curves stay null. */
  private static List<Figure.Series> onData(List<Figure.Series> curves, List<String> data) {
    List<Figure.Series> out = new ArrayList<>();
    for (int i = 0; i < curves.size(); i++) {
      Figure.Series c = curves.get(i);
      String d = data.get(i);
      out.add(c == null || d == null ? c : new Figure.Series(c.name() + " on " + d, c.x(), c.y()));
    }
    return out;
  }
}
