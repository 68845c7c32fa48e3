package org.irevnet.reports;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.irevnet.analysis.MetamerSampler;

/**
 * A small run directory with every file a report reads: the records of this module where they
 * exist (InversionReport, MetamerReport), tiny hand-written JSON in the shapes of train, eval and
 * the analyses otherwise. Text fields carry {@code <script>} to test escaping.
 */
final class SyntheticRun {
  static final String EVIL = "<script>alert(1)</script>";

  private SyntheticRun() {}

  /** config.json only: a run that was set up but nothing else. */
  static Path bare(Path dir, String objective) throws IOException {
    Files.createDirectories(dir);
    JsonReport.MAPPER.writeValue(dir.resolve("config.json").toFile(), Map.of(
        "config", Map.of("arch", "fi-revnet-s", "data", "fashion-mnist-mini " + EVIL, "objective", objective,
            "epochs", 2, "lr", 0.001, "seed", 0),
        "environment", Map.of("java", "17", "nd4j", "1.0.0-M2.1", "backend", "CpuBackend", "threads", 2)));
    return dir;
  }

  /** Every section's files; {@code nuisanceAccuracy} distinguishes runs in a comparison. */
  static Path full(Path dir, String objective, double nuisanceAccuracy) throws IOException {
    bare(dir, objective);
    StringBuilder m = new StringBuilder();
    for (int s = 1; s <= 6; s++) {
      m.append(String.format(java.util.Locale.ROOT, "{\"type\":\"train\",\"step\":%d,\"epoch\":%d,\"loss\":%.3f,"
          + "\"accuracy\":%.3f,\"lr\":0.001,\"images_per_s\":500,\"nuisance_ce\":%.3f,\"dnc_accuracy\":%.3f,"
          + "\"nll_bits_per_dim\":%.3f,\"zn_max_abs\":%.1f}%n", s * 10, (s + 2) / 3, 2.0 / s, 0.5 + s * 0.05,
          2.3 - s * 0.01, 0.9 - s * 0.1, 5.0 - s * 0.3, Math.pow(10, s)));
      if (s % 3 == 0) {
        m.append(String.format(java.util.Locale.ROOT, "{\"type\":\"epoch\",\"step\":%d,\"epoch\":%d,"
            + "\"test_accuracy\":%.3f,\"test_loss\":%.3f,\"seconds\":%d}%n", s * 10, s / 3, 0.6 + s * 0.03, 1.0 / s, s * 5));
      }
    }
    m.append("{\"type\":\"train\",\"step\":70,\"lo");  // a half-written last line of a running training
    Files.writeString(dir.resolve("metrics.jsonl"), m.toString());
    List<String> names = List.of("T-shirt", EVIL, "Bag");
    Map<String, Object> eval = new java.util.HashMap<>(Map.of("accuracy", 0.7, "loss", 0.8,
        "bits_per_dim", 4.25, "count", 30, "split", "test", "data", "synthetic/test", "checkpoint", "best", "class_names", names,
        "per_class_accuracy", List.of(0.8, 0.6, 0.7), "confusion_matrix",
        List.of(List.of(8, 1, 1), List.of(2, 6, 2), List.of(1, 2, 7))));
    eval.put("data_path", "/data/synthetic");
    JsonReport.MAPPER.writeValue(dir.resolve("eval-test.json").toFile(), eval);
    Path a = Files.createDirectories(dir.resolve("analysis"));
    InversionReport.Errors e32 = new InversionReport.Errors(2e-6, 1e-7, 1), e64 = new InversionReport.Errors(3e-15, 0.0, 0);
    List<InversionReport.Stage> stages = List.of(new InversionReport.Stage("0", List.of(4L, 16L, 16L), e32, e64),
        new InversionReport.Stage("1", List.of(16L, 8L, 8L), e32, e64));
    new InversionReport(dir.toString(), "best", "synthetic/test[0:2]", "tiny " + EVIL, 2, stages,
        new InversionReport.Stage("z", List.of(16L, 8L, 8L), e32, e64), 2e-6, 3e-15, 2e-6, 1e3, List.of(0L),
        List.of(new InversionReport.StabilityRow("stage 0 " + EVIL, 1024, "lanczos", 20, 2.5, 2.0, 1.5, 1.2, 3.75, 2.4, false)),
        "/data/synthetic").writeJson(a.resolve("invert.json"));
    png(a.resolve("invert.png"), 20, 12);
    MetamerReport.Pair p = new MetamerReport.Pair(1, 2, 0, 1, 0, 1, 0, 1e-6, 1e-14, true, 1e-6, 2e-14, 3.0, 2.0, 4.0, -0.1, 1.2, null,
        new MetamerReport.Names("Sandal", "Sneaker", "Sandal", "Sneaker", "Sandal", null));
    new MetamerReport(dir.toString(), "best", "synthetic/test", "tiny", 0, 1, MetamerSampler.TOLERANCE,
        MetamerSampler.ROUNDING_RATIO, true, true,
        List.of(p), new MetamerReport.Summary(1e-6, Double.NaN, 1e-6, Double.NaN, 1.0, 0.0, 3.0, 2.0, 4.0, 3.0, 2.0, 4.0, null),
        List.of("Sandal", "Sneaker"), "/data/synthetic")
        .writeJson(a.resolve("metamers.json"));
    png(a.resolve("metamers.png"), 30, 20);
    Files.writeString(a.resolve("stability.json"), """
        {"schemaVersion": 1, "rows": [{"block": "stage0", "max_abs_err": 1e-7}, {"block": "%s", "max_abs_err": 2e-6}]}
        """.formatted("stage1 \\u003cscript\\u003e"));
    // Shapes of the analysis branch's LayerProbes.Result and NuisanceProbeReport.
    Files.writeString(a.resolve("layer-probes.json"), """
        {"schemaVersion": 1, "train_count": 60, "test_count": 30, "seconds": 1.5,
         "linear_probe": {"solver": "L-BFGS", "penalties": [0.1, 0.01], "validation_share": 0.2, "seed": 0,
                          "gradient_tolerance": 1e-4, "max_iterations": 1000, "most_iterations": 37,
                          "largest_gradient": 4e-5, "all_converged": true},
         "stages": [{"stage": 0, "shape": [4, 16, 16], "features": 4, "linear_accuracy": 0.5,
                     "linear_train_accuracy": 0.55, "nearest_neighbour_accuracy": 0.4},
                    {"stage": 1, "shape": [16, 8, 8], "features": 16, "linear_accuracy": 0.7,
                     "linear_train_accuracy": 0.8, "nearest_neighbour_accuracy": 0.6}],
         "pca": [{"components": 1, "explained_variance": 0.3, "linear_accuracy": 0.3},
                 {"components": 4, "explained_variance": 0.6, "linear_accuracy": 0.6},
                 {"components": 16, "explained_variance": 0.9, "linear_accuracy": 0.7}]}
        """);
    Files.writeString(a.resolve("nuisance-probe.json"), """
        {"schemaVersion": 1, "run": "r", "checkpoint": "best", "data": "d", "model": "m", "logit_accuracy": 0.7,
         "nuisance_accuracy": %s, "excess": %s, "nuisance_train_accuracy": 0.99, "train_count": 60, "test_count": 30,
         "nuisance_dims": 1014, "recipe": {"hidden": [256], "epochs": 3}, "seconds": 2.0, "total_seconds": 3.0}
        """.formatted(nuisanceAccuracy, nuisanceAccuracy - 0.7));
    Files.writeString(a.resolve("interpolation.json"), """
        {"schemaVersion": 1, "paths": [{"alpha": 0.0, "class": 0, "logit_max_abs_diff": 0.0},
          {"alpha": 0.5, "class": 0, "logit_max_abs_diff": 1e-6}, {"alpha": 1.0, "class": 0, "logit_max_abs_diff": 2e-6}]}
        """);
    png(a.resolve("interpolation.png"), 40, 10);
    // Some fields of the cli's SampleCommand output (the settings, the checks and the image's name);
    // run, checkpoint, model, input_dims, fraction_outside_unit_interval, seconds and threads are left out.
    Files.writeString(a.resolve("samples-t0.7.json"), """
        {"schemaVersion": 1, "count": 16, "temperature": 0.7, "seed": 0, "finite": true, "min_pixel": -0.1,
         "max_pixel": 1.2, "reencode_max_abs_err": 1e-6, "image": "samples-t0.7.png"}
        """);
    png(a.resolve("samples-t0.7.png"), 24, 24);
    // Shapes of the attacks branch's AttackReport: a sweep, and the metameric attack without epsilon.
    for (String[] at : new String[][] {{"fgsm", "0.3"}, {"pgd-linf", "0.1"}}) {
      Files.writeString(a.resolve("attack-" + at[0] + ".json"), """
          {"schemaVersion": 1, "attack": "%s", "norm": "linf", "targeted": null, "count": 30, "clean_accuracy": 0.7,
           "monotone": true, "sanity": {"passed": true, "accuracy_at_zero": 0.7},
           "curve": [{"eps": 0.0, "accuracy": 0.7, "accuracy_at_eps": 0.7, "target_rate": null, "mean_linf": 0.0},
                     {"eps": 0.1, "accuracy": %s, "accuracy_at_eps": %s, "target_rate": null, "mean_linf": 0.1}]}
          """.formatted(at[0], at[1], at[1]));
    }
    Files.writeString(a.resolve("attack-metamer.json"), """
        {"schemaVersion": 1, "attack": "metamer", "norm": null, "count": 30, "clean_accuracy": 0.7, "sanity": null,
         "curve": [{"eps": null, "accuracy": 0.0, "success_rate": 0.9, "representation_distance": 0.0}]}
        """);
    png(a.resolve("attack-fgsm.png"), 30, 10);
    return dir;
  }

  /**
   * A run of the cli's vae command: its config.json and a vae.json with the fields VaeCommand
   * writes (made-up values), which the vae section and the headline read.
   */
  static Path vae(Path dir) throws IOException {
    Files.createDirectories(dir);
    String config = """
        "flow": "sylvester-householder", "data": "synthetic %s", "latent": 4, "hidden": 16, "flow_steps": 2,
        "reflections": 2, "orthonormal": true, "seed": 0, "epochs": 2, "batch": 16, "lr": 0.001, "train_images": 32
        """.formatted("\\u003cscript\\u003e");
    Files.writeString(dir.resolve("config.json"), """
        {"config": {%s}, "environment": {"java": "17", "nd4j": "1.0.0-M2.1", "backend": "CpuBackend", "threads": 1}}
        """.formatted(config));
    Files.writeString(dir.resolve(RunSections.VAE), """
        {%s, "flow_params_per_image": 40, "params": 5000, "test_images": 3, "is_samples": 20,
         "test_elbo_nats": -210.5, "test_is_nll_nats": 205.25, "test_is_nll_std_error": 1.5,
         "train_neg_elbo_per_epoch": [400.0, 250.0], "train_seconds": 2.5, "eval_seconds": 0.5,
         "train_cpu_seconds": 2.4, "eval_cpu_seconds": 0.5, "threads": 1}
        """.formatted(config));
    return dir;
  }

  /** A grey ramp PNG (not one colour, so screenshots of it are not blank). */
  static void png(Path file, int w, int h) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, (x * 255) / w);
    ImageIO.write(img, "png", file.toFile());
  }
}
