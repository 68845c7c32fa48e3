package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.Checkpoints;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A trained run's model and one split of its data (the test split unless asked otherwise), padded
 * to the model's input; {@code contentDims} counts the dimensions of the images before padding.
 */
record RunInputs(InvertibleClassifier model, String checkpoint, Dataset data, long contentDims) {

  /** {@code checkpoints/best}, else {@code latest}, and the test split. */
  static RunInputs load(Path run, String data) throws IOException {
    return load(run, data, null, Split.TEST);
  }

  /**
   * @param data dataset name or path, or null for the one in the run's {@code config.json}
   * @param checkpoint {@code best}, {@code latest}, or null for best falling back to latest
   */
  static RunInputs load(Path run, String data, String checkpoint, Split split) throws IOException {
    if (!Files.isDirectory(run)) throw new IllegalArgumentException(run + ": no such run directory");
    String which = checkpoint != null ? checkpoint : Checkpoints.exists(Trainer.best(run)) ? "best" : "latest";
    Path ck = switch (which) {
      case "best" -> Trainer.best(run);
      case "latest" -> Trainer.latest(run);
      default -> throw new IllegalArgumentException("--checkpoint must be best or latest, got " + which);
    };
    if (!Checkpoints.exists(ck)) throw new IllegalArgumentException(ck + ": no checkpoint (has " + run + " been trained?)");
    InvertibleClassifier model = Checkpoints.load(ck, DataType.FLOAT).model();
    Dataset raw = Datasets.resolve(dataName(run, data)).load(split);
    return new RunInputs(model, which, Trainer.prepare(raw, model.architecture()),
        (long) raw.channels() * raw.height() * raw.width());
  }

  /** One split of the run's dataset (or of {@code data}), prepared for {@code arch}. */
  static Dataset dataset(Path run, String data, Split split, Architecture arch) throws IOException {
    return Trainer.prepare(Datasets.resolve(dataName(run, data)), split, arch);
  }

  /** {@code data}, or the dataset named in the run's {@code config.json} when it is null. */
  static String dataName(Path run, String data) throws IOException {
    if (data != null) return data;
    Path cfg = run.resolve(Trainer.CONFIG);
    if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(cfg + ": not found; pass --data");
    String name = Json.MAPPER.readTree(cfg.toFile()).path("config").path("data").asText();
    if (name.isEmpty()) throw new IllegalArgumentException(cfg + ": no config.data; pass --data");
    return name;
  }

  /** The first {@code count} images of the split (fewer if the split is smaller). */
  Dataset first(int count) {
    if (count < 1) throw new IllegalArgumentException("--count must be at least 1, got " + count);
    int n = Math.min(count, data.size());
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return data.subset(data.name() + "[0:" + n + "]", idx);
  }
}
