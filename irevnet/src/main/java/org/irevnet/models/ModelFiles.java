package org.irevnet.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.Npz;
import org.irevnet.layers.ParamTable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model on disk: {@code model.json} (the architecture) and {@code weights.npz} (float32,
 * PyTorch-style names, conv weights OIHW; {@code np.load} reads it). Each file is written
 * atomically.
 */
public final class ModelFiles {
  public static final String ARCH = "model.json";
  public static final String WEIGHTS = "weights.npz";

  private ModelFiles() {}

  /**
   * Writes {@code model} to {@code dir}.
   *
   * @throws IOException naming the weights file and the parameter, before writing anything, when
   *     a value of a float64 model lies beyond float32's range: the file would hold an infinity
   *     that {@link #load} refuses
   */
  public static void save(Path dir, InvertibleClassifier model) throws IOException {
    Map<String, INDArray> w = new LinkedHashMap<>();
    for (Map.Entry<String, INDArray> e : model.params().state().entrySet()) {
      try {
        w.put(e.getKey(), ParamTable.finiteAs(e.getKey(), e.getValue(), DataType.FLOAT));
      } catch (IllegalArgumentException ex) {
        throw new IOException(dir.resolve(WEIGHTS) + ": not written: " + ex.getMessage());
      }
    }
    // The writes make the directory: made here, before them, it stayed behind, empty, when they
    // failed (export onto a full disk).
    Npz.write(dir.resolve(WEIGHTS), w);
    AtomicFiles.writeString(dir.resolve(ARCH), model.architecture().toJson());
  }

  /**
   * Loads a model saved by {@link #save}.
   *
   * @throws IOException with a one-line message naming the file and the problem
   */
  public static InvertibleClassifier load(Path dir, DataType dt) throws IOException {
    Path archFile = dir.resolve(ARCH);
    Architecture arch;
    try {
      arch = Architecture.fromJson(Files.readString(archFile), archFile.toString());
    } catch (NoSuchFileException e) {
      throw new IOException(archFile + ": not found (is " + dir + " a model directory?)");
    } catch (java.nio.charset.CharacterCodingException e) {
      // Java's own words were "Input length = 1", without the file (a flipped bit in a letter).
      throw new IOException(archFile + ": " + org.irevnet.io.JsonErrors.describe(e, "architecture"), e);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage()); // it names archFile
    }
    InvertibleClassifier model = InvertibleClassifier.build(arch, dt, 0);
    Path wFile = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(wFile)) throw new IOException(wFile + ": not found");
    Map<String, INDArray> weights = Npz.read(wFile);
    // Values first, named by this file: they are its fault, not a mismatch with the architecture.
    // The checked values are the model's type already, so the table's load does not cast them again.
    for (Map.Entry<String, INDArray> e : weights.entrySet()) {
      try {
        e.setValue(ParamTable.finiteAs(e.getKey(), e.getValue(), dt));
      } catch (IllegalArgumentException ex) {
        throw new IOException(wFile + ": " + ex.getMessage());
      }
    }
    try {
      model.params().load(weights);
    } catch (IllegalArgumentException e) {
      throw new IOException(wFile + ": " + e.getMessage() + " (weights do not match " + archFile + ")");
    }
    return model;
  }
}
