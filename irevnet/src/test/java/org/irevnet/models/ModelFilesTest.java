package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.irevnet.io.Npz;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ModelFilesTest {

  /** Each way a model directory can be incomplete is named by its file, in one line. */
  @Test
  void aMissingOrMismatchedFileIsNamed(@TempDir Path tmp) throws Exception {
    InvertibleClassifier m = TinyData.perturbedModel();
    Path dir = tmp.resolve("model");
    ModelFiles.save(dir, m);
    assertThat(ModelFiles.load(dir, DataType.FLOAT).params().state()).isEqualTo(m.params().state());

    Path weights = dir.resolve(ModelFiles.WEIGHTS), arch = dir.resolve(ModelFiles.ARCH);
    Map<String, INDArray> w = Npz.read(weights);
    w.remove(w.keySet().iterator().next());
    Npz.write(weights, w);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessageStartingWith(weights + ": ").hasMessageEndingWith("(weights do not match " + arch + ")")
        .hasMessageNotContaining("\n");

    // Named once: the architecture's own checks name their source too ("model.json: model.json: ...").
    String good = Files.readString(arch);
    Files.writeString(arch, good.replace("\"numClasses\" : 10", "\"numClasses\" : 1"));
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(arch + ": 'numClasses' must be >= 2, got 1");
    Files.writeString(arch, "{");
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).message().startsWith(arch + ": malformed")
        .doesNotContain(ModelFiles.ARCH + ": " + ModelFiles.ARCH);
    Files.writeString(arch, good.substring(0, good.lastIndexOf('}')));
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).message()
        .startsWith(arch + ": malformed architecture JSON at line " + good.lines().count() + ", column ")
        .endsWith(": Unexpected end-of-input: expected close marker for Object (start marker at line 1, column 1)");
    Files.writeString(arch, good);

    Files.delete(weights);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).hasMessage(weights + ": not found");
    Files.delete(arch);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT))
        .hasMessage(arch + ": not found (is " + dir + " a model directory?)");
  }

  /** The directory of a saved model, whose files a test then damages. */
  private static Path savedModel(Path tmp) throws IOException {
    Path dir = tmp.resolve("model");
    ModelFiles.save(dir, TinyData.perturbedModel());
    return dir;
  }

  /**
   * An architecture that is not UTF-8 (a flipped high bit in a letter, a file saved as Latin-1) is
   * named: it was refused in Java's words alone, "Input length = 1" (found by DamagedModelFilesTest).
   */
  @Test
  void anArchitectureThatIsNotUtf8IsNamed(@TempDir Path tmp) throws Exception {
    Path dir = savedModel(tmp);
    Path arch = dir.resolve(ModelFiles.ARCH);
    byte[] bytes = Files.readAllBytes(arch);
    bytes[0] ^= (byte) 0x80;
    Files.write(arch, bytes);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(arch + ": not UTF-8 text: save the architecture file as UTF-8");
  }

  /** Weights with a NaN or an infinity are refused naming the parameter and how many. */
  @Test
  void nonFiniteWeightsAreRefusedNamingTheParameter(@TempDir Path tmp) throws Exception {
    Path dir = savedModel(tmp);
    Path weights = dir.resolve(ModelFiles.WEIGHTS);
    Map<String, INDArray> w = Npz.read(weights);
    String last = w.keySet().stream().reduce((a, b) -> b).orElseThrow();
    INDArray bad = w.get(last).dup();
    bad.putScalar(0, Double.NaN);
    bad.putScalar(bad.length() - 1, Double.NEGATIVE_INFINITY);
    w.put(last, bad);
    Npz.write(weights, w);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(weights + ": parameter " + last + " has 2 non-finite value(s) (NaN or infinite): a model with"
            + " them computes NaN");
  }

  /**
   * The non-finite count is one reduction over the entry: a lone NaN counts once, and an empty
   * float entry (left in a file by hand) reaches the name check instead of failing in ND4J's sum.
   */
  @Test
  void theNonFiniteCountCountsEachValueOnceAndAcceptsAnEmptyEntry(@TempDir Path tmp) throws Exception {
    Path dir = savedModel(tmp);
    Path weights = dir.resolve(ModelFiles.WEIGHTS), arch = dir.resolve(ModelFiles.ARCH);
    Map<String, INDArray> good = Npz.read(weights);
    Map<String, INDArray> w = new java.util.LinkedHashMap<>(good);
    w.put("extra", org.nd4j.linalg.factory.Nd4j.create(DataType.FLOAT, 0));
    Npz.write(weights, w);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(weights + ": unexpected parameter extra (weights do not match " + arch + ")");

    w = new java.util.LinkedHashMap<>(good);
    String first = w.keySet().iterator().next();
    INDArray bad = w.get(first).dup();
    bad.putScalar(bad.length() - 1, Double.NaN);
    w.put(first, bad);
    Npz.write(weights, w);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessageStartingWith(weights + ": parameter " + first + " has 1 non-finite value(s)");
  }

  /** A float64 file's value beyond float32's range is refused for a float32 model, naming the file and entry. */
  @Test
  void float64WeightsThatOverflowFloat32AreRefused(@TempDir Path tmp) throws Exception {
    Path dir = savedModel(tmp);
    Path weights = dir.resolve(ModelFiles.WEIGHTS);
    Map<String, INDArray> w = Npz.read(weights);
    String first = w.keySet().iterator().next();
    INDArray big = w.get(first).castTo(DataType.DOUBLE);
    big.putScalar(0, 1e300);
    w.put(first, big);
    Npz.write(weights, w);
    assertThatThrownBy(() -> ModelFiles.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(weights + ": parameter " + first + " has 1 value(s) beyond the range of FLOAT (largest magnitude"
            + " 1.0E300), infinite as FLOAT");
    // In float64 the same file is a finite model.
    assertThat(ModelFiles.load(dir, DataType.DOUBLE).params().get(first).value().getDouble(0)).isEqualTo(1e300);
  }

  /** A float64 model with a weight beyond float32's range is not saved as an unloadable infinity. */
  @Test
  void aFloat64WeightBeyondFloat32IsNotSaved(@TempDir Path tmp) throws Exception {
    InvertibleClassifier m = TinyData.perturbedModel().withDataType(DataType.DOUBLE);
    String first = m.params().entries().keySet().iterator().next();
    m.params().get(first).value().putScalar(0, -1e39);
    Path dir = tmp.resolve("model");
    assertThatThrownBy(() -> ModelFiles.save(dir, m)).isInstanceOf(IOException.class)
        .hasMessage(dir.resolve(ModelFiles.WEIGHTS) + ": not written: parameter " + first + " has 1 value(s) beyond"
            + " the range of FLOAT (largest magnitude 1.0E39), infinite as FLOAT");
    assertThat(dir).doesNotExist();
  }

  /**
   * A save among writes that fail together (export's check.npz on a full disk) leaves no directory
   * it made: the export directory stayed behind, empty.
   */
  @Test
  void aSaveWhoseWritesFailLeavesNoDirectory(@TempDir Path tmp) {
    Path dir = tmp.resolve("export/model");
    assertThatThrownBy(() -> org.irevnet.io.AtomicFiles.together(() -> {
      ModelFiles.save(dir, TinyData.perturbedModel());
      org.irevnet.io.AtomicFiles.write(dir.resolve("check.npz"), out -> {
        out.write(1);
        throw new IOException("No space left on device");
      });
    })).hasMessageEndingWith("No space left on device");
    assertThat(tmp.resolve("export")).doesNotExist();
  }
}
