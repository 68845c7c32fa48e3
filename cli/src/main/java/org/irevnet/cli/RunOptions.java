package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import picocli.CommandLine.Option;

/**
 * What a command that needs an invertible model analyses: a trained run ({@code --run}) and its
 * dataset. The commands that also take DL4J networks use {@link RunOrModelOptions}: a command's
 * {@code --help} lists only options it takes, and these commands could only refuse a model zip
 * and the layers to probe in one.
 */
class RunOptions {
  @Option(names = "--run", paramLabel = "RUN_DIR", description = "A run directory made by train.")
  Path run;

  @Option(names = "--data", description = "Dataset (default: the one the run was trained on).")
  String data;

  /** A user's DL4J model zip, given instead of a run; null where the command takes none. */
  Path model() {
    return null;
  }

  /** A DL4J network's layers to probe; null for its default ones, or where the command takes none. */
  List<String> probeLayers() {
    return null;
  }

  /** What the command must be given, for the message when it is not. */
  String required() {
    return "--run RUN_DIR";
  }

  /** The run directory, or for {@code --model} its analysis directory (made, with a config.json, when missing). */
  Path runDir() throws IOException {
    check();
    Path dir = runDirPath();
    if (run == null && !CommonOptions.isRun(dir)) {
      // check() has refused --model without --data.
      Map<String, Object> cfg = new LinkedHashMap<>();
      cfg.put("arch", "DL4J model " + model().getFileName());
      cfg.put("model", model().toString());
      cfg.put("data", Datasets.recorded(data));
      Map<String, Object> all = new LinkedHashMap<>();
      all.put("config", cfg);
      all.put("environment", Trainer.environment());
      // As train records its data: once the data has moved, other data is still told from it by content.
      DataIdentity identity = DataIdentity.of(Datasets.resolve(data));
      if (identity != null) all.put(Trainer.DATASET, identity.toMap());
      AtomicFiles.createDirectories(dir);
      AtomicFiles.writeString(dir.resolve(Trainer.CONFIG), Json.pretty(all) + "\n");
    }
    return dir;
  }

  /**
   * The directory {@link #runDir} returns, without making anything; null when the run directory or
   * the model is not there.
   */
  Path existingRunDir() {
    if (run != null) return Files.isDirectory(run) ? run : null;
    return Files.isRegularFile(model()) ? modelRunDir(model()) : null;
  }

  /**
   * Whether {@code --data} is the data whose results belong in the run's own files: for {@code --run}
   * the data the run was trained on ({@link RunInputs#isRunData}); for {@code --model} the data its
   * analysis directory was made for (the {@code config.data} and {@code dataset} of its {@code
   * config.json}, written by the first analysis), so that results on other data do not replace
   * them under that record. True when there is nothing to compare with yet.
   */
  boolean isOwnData() throws IOException {
    // isRunData compares with nothing, so takes the data, where no config.json records any.
    return data == null || (run == null && model() == null) || RunInputs.isRunData(runDirPath(), data);
  }

  /** The run directory, or a model's analysis directory, as a path: nothing is made or checked. */
  Path runDirPath() {
    return run != null ? run : modelRunDir(model());
  }

  /** What {@link #isOwnData} compares with, for its message: the run, or the model zip and its analysis directory's record. */
  String ownDataOf() {
    return run != null ? run + " was trained on" : model() + " was analysed on (" + runDirPath().resolve(Trainer.CONFIG) + ")";
  }

  /**
   * Refuses a zip whose analysis directory would lie in a checkpoint (a baseline's {@code
   * RUN/checkpoints/best/model.zip}), told as training tells one ({@link Checkpoints#enclosing}):
   * training replaces checkpoints whole, and train --resume then refused the run ("model-analysis:
   * not written by training"). Such a network is analysed with --run.
   */
  static void refuseCheckpoint(Path zip) {
    Path checkpoint = Checkpoints.enclosing(modelRunDir(zip));
    if (checkpoint == null) return;
    Path run = runHolding(checkpoint);
    String use = run != null ? "--run " + run : "--run RUN_DIR";
    throw new IllegalArgumentException("--model " + zip + " lies in " + checkpoint + ", a run's checkpoints: analyse it with "
        + use + " (--model would write its analysis directory there, which training replaces)");
  }

  /** The run directory {@code checkpoint} lies in (the nearest one above it), else null. */
  static Path runHolding(Path checkpoint) {
    Path run = checkpoint;
    while (run != null && !CommonOptions.isRun(run)) run = run.getParent();
    return run;
  }

  /** Where the analyses of a model zip go: {@code NAME-analysis} next to {@code NAME.zip}. */
  static Path modelRunDir(Path zip) {
    String name = zip.getFileName().toString();
    if (name.endsWith(".zip")) name = name.substring(0, name.length() - 4);
    return zip.toAbsolutePath().resolveSibling(name + "-analysis");
  }

  /** The model ({@code best}, else {@code latest}) and its test split. */
  RunInputs load() throws IOException {
    return load(null, Split.TEST);
  }

  RunInputs load(String checkpoint, Split split) throws IOException {
    check();
    if (model() != null) {
      // A misspelt word is named as such first, as with --run: "applies to --run only" hid the typo.
      if (checkpoint != null) org.irevnet.settings.Ranges.oneOf("--checkpoint", checkpoint, Choices.CHECKPOINTS);
      if (checkpoint != null && !checkpoint.equals("best")) throw new IllegalArgumentException("--checkpoint applies to --run only");
      return RunInputs.ofModel(model(), data, split, probeLayers());
    }
    return RunInputs.load(run, data, checkpoint, split, probeLayers());
  }

  void check() {
    if ((run == null) == (model() == null)) throw new IllegalArgumentException("give " + required());
    if (model() != null && data == null) throw new IllegalArgumentException("--model needs --data (the dataset to analyse it on)");
    if (model() != null) refuseCheckpoint(model());
    if (probeLayers() != null) CommonOptions.given("--probe-layers", probeLayers().size(), "layers");
  }
}
