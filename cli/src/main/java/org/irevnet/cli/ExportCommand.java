package org.irevnet.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.irevnet.data.Dataset;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelExport;
import org.irevnet.models.ModelFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
    // No file names in the header: the command list wrapped them at their dots ("model." / "json").
    header = "A trained run's invertible model for other frameworks: its architecture, its weights (PyTorch names,"
        + " conv weights OIHW) and test images with this model's outputs in float32 and float64.",
    description = {"Writes model.json, weights.npz and check.npz into --out (default RUN_DIR/export), replacing an"
        + " earlier export together.",
        "scripts/torch_port.py DIR rebuilds the model in PyTorch from them and checks that it computes the same",
        "z, log-det, logits and inverse (exit 0 when float64 agrees to 1e-9)."})
final class ExportCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "A run directory made by train.")
  Path run;

  @Option(names = "--data", description = "Dataset of check.npz's images (default: the one the run was trained on).")
  String data;

  @Option(names = "--checkpoint", completionCandidates = Choices.Checkpoint.class,
      description = "best or latest (default: best, else latest).") String checkpoint;

  @Option(names = "--count", defaultValue = "8",
      description = "Test images in check.npz, the first N, at most the test split's size (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default RUN_DIR/export).")
  Path out;

  @Override
  public Integer call() throws Exception {
    CommonOptions.positive("--count", count);
    common.apply();
    Path dir = out != null ? out : run.resolve("export");
    // The files of a checkpoint are vouched for by its manifest: replacing them would damage it.
    CommonOptions.refuseInCheckpoints(dir);
    // Another run's analysis/: that run's report showed this model.json among its own results.
    CommonOptions.refuseOtherRunsAnalysis(dir, run, "this export");
    AtomicFiles.checkCanCreate(dir);
    RunInputs in = RunInputs.load(run, data, checkpoint, org.irevnet.data.Split.TEST, null).noteOtherSize("export");
    InvertibleClassifier model = in.model();
    Dataset ds = in.first(count);
    ModelExport.write(dir, model, ds.images(), ds.labels());
    System.out.printf("%s, checkpoint %s%n", model.summary(), in.checkpoint());
    System.out.printf("%s: %s, %s, %s (%d images of %s)%n", dir, ModelFiles.ARCH, ModelFiles.WEIGHTS, ModelExport.CHECK,
        ds.size(), ds.name());
    System.out.printf("check it in PyTorch (a python3 with torch and numpy): python3 %s %s%n", portScript(), dir);
    return 0;
  }

  /**
   * The port's path as a command can use it: under the checkout bin/irevnet runs from ({@link
   * org.irevnet.data.Datasets#home}) when it is there; "scripts/torch_port.py" worked from the
   * checkout's root only.
   */
  static String portScript() {
    String home = org.irevnet.data.Datasets.home();
    Path script = home == null ? null : Path.of(home, "scripts", "torch_port.py");
    return script != null && java.nio.file.Files.isRegularFile(script) ? script.toString() : "scripts/torch_port.py";
  }
}
