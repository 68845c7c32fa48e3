package org.irevnet.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.irevnet.data.DataSource;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.JsonErrors;
import org.irevnet.models.InvertibleClassifier;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A run that {@code irevnet train} wrote, opened from Java: its invertible model as the analysis
 * commands load it (the checkpoint {@link #defaultCheckpoint} chooses, float32, its manifest
 * verified) and the data it was trained on. Before this, the only way to both went through the
 * command line's package-private classes: a researcher's own code had to know the checkpoint
 * layout, read {@code config.json} for the data, and pad the images as training did.
 *
 * @param dir the run directory
 * @param checkpoint the checkpoint loaded ({@code RUN/checkpoints/best} or {@code latest})
 * @param weightsSha256 its weights' digest, as the analysis files record it
 */
public record TrainedRun(Path dir, Path checkpoint, InvertibleClassifier model, String weightsSha256) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Loads the model of the run at {@code dir}, from {@link #defaultCheckpoint}, in float32 ({@link
   * InvertibleClassifier#withDataType} gives a float64 copy).
   *
   * @throws IOException the run or its checkpoint is missing, damaged, or holds a DL4J network (a
   *     baseline run: {@link Checkpoints#loadNetwork}), in one line naming it
   */
  public static TrainedRun load(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) throw new IOException(dir + (Files.exists(dir) ? ": not a directory" : ": no such run directory"));
    Path ck = defaultCheckpoint(dir);
    // A damaged checkpoint goes on to the load, whose refusal says what is wrong with it.
    if (!Checkpoints.exists(ck) && !Files.exists(ck, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + ": no checkpoint (has it been trained?)");
    }
    if (Checkpoints.holdsNetwork(ck)) {
      throw new IOException(ck + ": holds a DL4J network (" + Checkpoints.NETWORK + "), not an invertible model;"
          + " Checkpoints.loadNetwork loads it");
    }
    Checkpoints.LoadedModel loaded = Checkpoints.loadModel(ck, DataType.FLOAT);
    return new TrainedRun(dir, ck, loaded.model(), loaded.weightsSha256());
  }

  /**
   * The checkpoint the analysis commands read unless told otherwise: {@code best} (the epoch end
   * with the best validation score, or the last one), else {@code latest}, which a run stopped
   * before its first epoch ended has alone. A {@code best} directory without its manifest is still
   * chosen, and refused as damaged when loaded: falling back to latest gave another checkpoint's
   * results without a word.
   */
  public static Path defaultCheckpoint(Path dir) {
    Path best = Trainer.best(dir);
    return Checkpoints.exists(best) || Files.exists(best, LinkOption.NOFOLLOW_LINKS) ? best : Trainer.latest(dir);
  }

  /**
   * The data the run was trained on, as its {@code config.json} records it (a dataset name or an
   * absolute directory).
   *
   * @throws IllegalArgumentException that data is no longer where the run recorded it, or the run
   *     records none
   */
  public DataSource data() throws IOException {
    Path cfg = dir.resolve(Trainer.CONFIG);
    String name = recordedData(dir);
    if (name == null) throw new IllegalArgumentException(cfg + ": not found (the run records its data there)");
    if (name.isEmpty()) throw new IllegalArgumentException(cfg + ": no config.data");
    try {
      return Datasets.resolve(name);
    } catch (IllegalArgumentException e) {
      // A directory is recorded absolute; a name (fashion-mnist-mini) is looked for from the working
      // directory and IREVNET_HOME, which the refusal says: nothing moved.
      if (!Path.of(name).isAbsolute()) throw e;
      throw new IllegalArgumentException(e.getMessage() + " (the data " + dir + " was trained on, moved or deleted since:"
          + " Datasets.open of its new place, and prepare, give its splits)", e);
    }
  }

  /**
   * The data ({@code config.data}: a dataset name or an absolute directory) that the {@code
   * config.json} of the run at {@code dir} records, "" when it records none, null when there is no
   * {@code config.json}; each caller says what to do about those.
   *
   * @throws IllegalArgumentException {@code config.json} is not JSON, in one line naming it
   */
  public static String recordedData(Path dir) throws IOException {
    Path cfg = dir.resolve(Trainer.CONFIG);
    if (!Files.isRegularFile(cfg)) return null;
    try {
      return JSON.readTree(cfg.toFile()).path("config").path("data").asText();
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(cfg + ": " + JsonErrors.describe(e, "config"), e);
    }
  }

  /**
   * {@code raw} images laid onto the model's input as training laid its own (zero-padded: 28x28
   * into 32x32), which every entry point of the model expects; its classes must be the model's
   * outputs. Any dataset's split: another dataset's too.
   */
  public Dataset prepare(Dataset raw) {
    return Trainer.prepare(raw, model.architecture());
  }

  /** {@link #prepare} of the run's own data's {@code split} ({@link #data}). */
  public Dataset split(Split split) throws IOException {
    return prepare(data().load(split));
  }
}
