package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.Checkpoints;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;

/** A trained run's model ({@code checkpoints/best}, else {@code latest}) and its test split. */
record RunInputs(InvertibleClassifier model, String checkpoint, Dataset test) {

  /** @param data dataset name or path, or null for the one in the run's {@code config.json} */
  static RunInputs load(Path run, String data) throws IOException {
    if (!Files.isDirectory(run)) throw new IllegalArgumentException(run + ": no such run directory");
    String which = Checkpoints.exists(Trainer.best(run)) ? "best" : "latest";
    Path ck = which.equals("best") ? Trainer.best(run) : Trainer.latest(run);
    if (!Checkpoints.exists(ck)) throw new IllegalArgumentException(run + ": no checkpoint (has it been trained?)");
    InvertibleClassifier model = Checkpoints.load(ck, DataType.FLOAT).model();
    String dataName = data;
    if (dataName == null) {
      Path cfg = run.resolve(Trainer.CONFIG);
      if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(cfg + ": not found; pass --data");
      dataName = Json.MAPPER.readTree(cfg.toFile()).path("config").path("data").asText();
      if (dataName.isEmpty()) throw new IllegalArgumentException(cfg + ": no config.data; pass --data");
    }
    Dataset test = Trainer.prepare(Datasets.resolve(dataName), Split.TEST, model.architecture());
    return new RunInputs(model, which, test);
  }

  /** The first {@code count} test images (fewer if the split is smaller). */
  Dataset first(int count) {
    if (count < 1) throw new IllegalArgumentException("--count must be at least 1, got " + count);
    int n = Math.min(count, test.size());
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return test.subset(test.name() + "[0:" + n + "]", idx);
  }
}
