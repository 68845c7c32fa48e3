package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.Outcome;
import org.irevnet.testing.TinyData;
import org.irevnet.testing.TinyNetworks;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model readers fuzzed: a model directory as {@code export} writes it ({@code model.json} and
 * {@code weights.npz}, no manifest) and a DL4J model zip ({@code --model}). An architecture has no
 * checksum: a changed number may read as another architecture, which the weights must then fit; the
 * weights and the zip are under the zip's CRC-32, so what reads from them is the original. Anything
 * else is an IOException naming the file, one line (see {@link Damage#read}).
 */
class DamagedModelFilesTest {
  private static final Path DIR = Damage.directory("damaged-model");

  private static final InvertibleClassifier MODEL = TinyData.perturbedModel();
  private static final Path SAVED = saved();

  private static Path saved() {
    try {
      Path dir = DIR.resolve("saved");
      ModelFiles.save(dir, MODEL);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A model directory with {@code file} damaged and the other as saved. */
  private static Path modelWith(String file) throws IOException {
    Path dir = DIR.resolve("model");
    Files.createDirectories(dir);
    for (String f : List.of(ModelFiles.ARCH, ModelFiles.WEIGHTS)) {
      if (!f.equals(file)) Files.copy(SAVED.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return dir;
  }

  /** {@code ModelFiles.load} of a saved model whose file {@code name} is {@code d}. */
  private static Outcome<InvertibleClassifier> loadWithDamaged(String name, Damaged d) throws Exception {
    Path dir = modelWith(name);
    return Damage.read(dir.resolve(name), d, dir, f -> ModelFiles.load(dir, DataType.FLOAT), IOException.class);
  }

  @Provide
  Arbitrary<Damaged> architectures() {
    return Damage.ofText(new String(Damage.bytes(SAVED.resolve(ModelFiles.ARCH)), StandardCharsets.UTF_8));
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedArchitectureIsReadOrRefused(@ForAll("architectures") Damaged d) throws Exception {
    Outcome<InvertibleClassifier> o = loadWithDamaged(ModelFiles.ARCH, d);
    if (o.refused()) return;
    // No checksum: another architecture may read, but only with the weights it has.
    assertThat(o.value().params().state().keySet()).isEqualTo(MODEL.params().state().keySet());
    if (o.value().architecture().equals(MODEL.architecture())) {
      assertThat(o.value().params().state()).as(d.toString()).isEqualTo(MODEL.params().state());
    }
  }

  /** Nesting deeper than anyone writes (Jackson's limit is 1000) is refused in one line, not a stack overflow. */
  @Example
  void anArchitectureNestedAHundredThousandDeepIsRefused() throws Exception {
    String deep = "{\"stages\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    Damaged d = new Damaged("nested 100000 deep", deep.getBytes(StandardCharsets.UTF_8), 0);
    Outcome<InvertibleClassifier> o = loadWithDamaged(ModelFiles.ARCH, d);
    assertThat(o.refusal()).hasMessageContaining("nesting depth");
  }

  @Provide
  Arbitrary<Damaged> weights() {
    return Damage.of(Damage.bytes(SAVED.resolve(ModelFiles.WEIGHTS)), List.of());
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedWeightsFileIsReadAsTheOriginalOrRefused(@ForAll("weights") Damaged d) throws Exception {
    Outcome<InvertibleClassifier> o = loadWithDamaged(ModelFiles.WEIGHTS, d);
    if (o.refused()) return;
    assertThat(o.value().params().state()).as(d.toString()).isEqualTo(MODEL.params().state());
  }

  private static final ComputationGraph NETWORK = TinyNetworks.graph(DataType.FLOAT, 4);
  private static final byte[] NETWORK_ZIP = networkZip();

  private static byte[] networkZip() {
    try {
      Path zip = DIR.resolve("valid-network.zip");
      ModelSerializer.writeModel(NETWORK, zip.toFile(), false);
      return Files.readAllBytes(zip);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<Damaged> networks() {
    return Damage.of(NETWORK_ZIP, List.of());
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedDl4jModelZipIsReadAsTheOriginalOrRefused(@ForAll("networks") Damaged d) throws Exception {
    Path zip = DIR.resolve("network.zip");
    Outcome<Dl4jClassifier> o = Damage.read(zip, d, zip, f -> Dl4jClassifier.load(f, new long[] {1, 6, 6}, null),
        IOException.class, IllegalArgumentException.class);
    if (o.refused()) return;
    INDArray x = org.nd4j.linalg.factory.Nd4j.linspace(0, 1, 2 * 36, DataType.FLOAT).reshape(2, 1, 6, 6);
    assertThat(o.value().logits(x)).as(d.toString())
        .isEqualTo(Dl4jClassifier.of(NETWORK, "original", new long[] {1, 6, 6}, null).logits(x));
  }
}
