package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.irevnet.io.Npz;
import org.irevnet.layers.Param;
import org.irevnet.testing.RandomWeights;
import org.irevnet.testing.TorchPython;
import org.irevnet.testing.TorchPython.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An independent implementation in another framework computes what ours does: each architecture
 * is exported ({@link ModelExport}) with random weights (every coupling's last convolution too,
 * which models start at zero) and {@code scripts/torch_port.py} rebuilds it in PyTorch from the
 * files alone and compares its outputs, log-dets, logits and round trip in float32 and float64.
 *
 * <p>Needs Python with PyTorch ({@link TorchPython}: without it the test fails, unless {@code
 * IREVNET_SKIP_TORCH_TEST=1} says to skip it).
 */
class ModelExportTorchTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "torch_port.py").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static String python;

  /** Small architectures covering every layer and option the builder has, besides the bundled ones. */
  private static final Map<String, String> CUSTOM = Map.of(
      "affine-1x1conv", """
          {"name": "t1", "type": "fi-revnet", "inputShape": [2, 8, 8], "numClasses": 3, "stages": [
            {"steps": 2, "hidden": 6, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
            {"steps": 1, "hidden": 8, "kernel": 1, "coupling": "affine", "actnorm": true, "scaleFloor": 0.1}]}""",
      "additive-reverse-pad", """
          {"name": "t2", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 4, "stages": [
            {"steps": 2, "hidden": 5, "kernel": 3, "coupling": "additive", "pad": 2, "permutation": "reverse"},
            {"steps": 1, "hidden": 6, "kernel": 3, "coupling": "affine", "squeeze": false, "actnorm": true}]}""",
      "no-squeeze-additive", """
          {"name": "t3", "type": "fi-revnet", "inputShape": [4, 4, 4], "numClasses": 2, "stages": [
            {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "additive", "squeeze": false, "actnorm": true,
             "permutation": "reverse"}]}""");

  @BeforeAll
  static void findPyTorch() throws Exception {
    python = TorchPython.find();
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet-s", "irevnet-s", "irevnet-s-inj", "affine-1x1conv", "additive-reverse-pad",
      "no-squeeze-additive"})
  void pyTorchComputesTheSameFunctionFromTheExportedFiles(String name, @TempDir Path dir) throws Exception {
    Architecture arch = CUSTOM.containsKey(name) ? Architecture.fromJson(CUSTOM.get(name), name) : Architecture.load(name);
    InvertibleClassifier model = RandomWeights.randomised(arch, 7);
    ModelExport.write(dir, model, inputs(model, 3, 11), new int[] {0, 1, 1});

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString(), "--json");
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    JsonNode j = JSON.readTree(r.stdout());
    assertThat(j.path("pass").asBoolean()).as(r.stdout()).isTrue();
    assertThat(j.path("count").asInt()).isEqualTo(3);
    for (String p : new String[] {"f32", "f64"}) {
      double tol = p.equals("f64") ? 1e-9 : 1e-3;
      for (String out : new String[] {"z", "log_det", "logits", "round_trip"}) {
        JsonNode d = j.path(p).path(out);
        assertThat(d.path("max_abs_diff").asDouble(Double.NaN)).as(p + " " + out + ": " + r.stdout())
            .isLessThanOrEqualTo(tol * (1 + d.path("max_abs_ref").asDouble()));
      }
      assertThat(j.path(p).path("argmax_agrees").asDouble()).isEqualTo(1.0);
    }
    // Not a comparison of zeros: the randomised couplings move z away from the input's values.
    assertThat(j.path("f64").path("z").path("max_abs_ref").asDouble()).isGreaterThan(0.1);
  }

  /**
   * Our reversible backward pass (float64) against PyTorch's autograd of the same function: the
   * gradient of a random linear functional of logits, body output and log-det with respect to the
   * input and every trainable weight.
   */
  @ParameterizedTest
  @ValueSource(strings = {"irevnet-s-inj", "affine-1x1conv", "additive-reverse-pad", "no-squeeze-additive"})
  void pyTorchAutogradGivesTheGradientsOfOurReversibleBackwardPass(String name, @TempDir Path dir) throws Exception {
    Architecture arch = CUSTOM.containsKey(name) ? Architecture.fromJson(CUSTOM.get(name), name) : Architecture.load(name);
    InvertibleClassifier model = RandomWeights.randomised(arch, 5);
    INDArray x = inputs(model, 2, 13);
    ModelExport.write(dir, model, x, new int[] {1, 0});
    Path grads = writeGradients(dir.resolve("gradients.npz"), model.withDataType(DataType.DOUBLE), x, 17);

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString(), "--json", "--gradients", grads.toString());
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
    JsonNode g = JSON.readTree(r.stdout()).path("gradients");
    assertThat(g.path("count").asInt()).as(r.stdout()).isEqualTo(1 + (int) model.params().entries().values().stream()
        .filter(Param::trainable).count());
    assertThat(g.path("max_rel_diff").asDouble(Double.NaN)).as(r.stdout()).isLessThanOrEqualTo(1e-9);
  }

  @Test
  void aWrongGradientIsFound(@TempDir Path dir) throws Exception {
    InvertibleClassifier model = RandomWeights.randomised(Architecture.fromJson(CUSTOM.get("affine-1x1conv"), "t1"), 5);
    INDArray x = inputs(model, 2, 13);
    ModelExport.write(dir, model, x, new int[] {1, 0});
    Path grads = writeGradients(dir.resolve("gradients.npz"), model.withDataType(DataType.DOUBLE), x, 17);
    Map<String, INDArray> g = Npz.read(grads);
    INDArray w = g.get("grad.layers.1.lower");
    w.putScalar(3, w.getDouble(3) + 1e-6);
    Npz.write(grads, g);

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString(), "--json", "--gradients", grads.toString());
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(1);
    JsonNode j = JSON.readTree(r.stdout()).path("gradients");
    assertThat(j.path("worst").asText()).isEqualTo("layers.1.lower");
    assertThat(j.path("max_rel_diff").asDouble()).isGreaterThan(1e-9);
  }

  /** Seeded cotangents and the gradients our backward pass gives for them, as torch_port.py --gradients reads them. */
  static Path writeGradients(Path file, InvertibleClassifier m64, INDArray x, long seed) throws IOException {
    INDArray x64 = x.castTo(DataType.DOUBLE);
    InvertibleClassifier.Forward f = m64.forward(x64, false);
    Nd4j.getRandom().setSeed(seed);
    INDArray dLogits = Nd4j.randn(DataType.DOUBLE, f.logits().shape());
    INDArray dOut = Nd4j.randn(DataType.DOUBLE, f.out().shape());
    INDArray dLogDet = Nd4j.randn(DataType.DOUBLE, x.size(0));
    Map<String, INDArray> g = new java.util.LinkedHashMap<>();
    g.put("d_logits", dLogits);
    g.put("d_out", dOut.dup());
    g.put("d_log_det", dLogDet);
    g.put("grad.x", m64.backward(f, dLogits, dOut, dLogDet).dx());
    m64.params().entries().forEach((k, p) -> {
      if (p.trainable()) g.put("grad." + k, p.grad());
    });
    Npz.write(file, g);
    return file;
  }

  @Test
  void aWeightChangedAfterTheExportIsFound(@TempDir Path dir) throws Exception {
    InvertibleClassifier model = RandomWeights.randomised(Architecture.fromJson(CUSTOM.get("affine-1x1conv"), "t1"), 3);
    ModelExport.write(dir, model, inputs(model, 2, 5), new int[] {0, 2});
    Path weights = dir.resolve(ModelFiles.WEIGHTS);
    Map<String, INDArray> w = Npz.read(weights);
    // The last block's shift: a change of 1e-3 is far beyond float64's tolerance and within float32's.
    String key = "layers.5.net.4.bias";
    assertThat(w).containsKey(key);
    w.get(key).putScalar(1, w.get(key).getDouble(1) + 1e-3);
    Npz.write(weights, w);

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString(), "--json");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(1);
    JsonNode j = JSON.readTree(r.stdout());
    assertThat(j.path("pass").asBoolean()).isFalse();
    assertThat(j.path("f64").path("z").path("max_abs_diff").asDouble()).isGreaterThan(1e-5);
  }

  @Test
  void weightsOfAnotherArchitectureAreRefusedByName(@TempDir Path dir) throws Exception {
    InvertibleClassifier model = RandomWeights.randomised(Architecture.fromJson(CUSTOM.get("affine-1x1conv"), "t1"), 3);
    ModelExport.write(dir, model, inputs(model, 1, 5), new int[] {0});
    Map<String, INDArray> w = Npz.read(dir.resolve(ModelFiles.WEIGHTS));
    w.remove("layers.1.log_s");
    Npz.write(dir.resolve(ModelFiles.WEIGHTS), w);

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr().strip()).startsWith("torch_port: " + dir).contains("missing").contains("layers.1.log_s")
        .doesNotContain("Traceback");
  }

  /** A truncated copy of weights.npz (numpy's zip error named no file) is refused in one line naming it. */
  @Test
  void aTruncatedWeightsFileIsRefusedByName(@TempDir Path dir) throws Exception {
    InvertibleClassifier model = RandomWeights.randomised(Architecture.fromJson(CUSTOM.get("affine-1x1conv"), "t1"), 3);
    ModelExport.write(dir, model, inputs(model, 1, 5), new int[] {0});
    Path weights = dir.resolve(ModelFiles.WEIGHTS);
    byte[] whole = Files.readAllBytes(weights);
    Files.write(weights, Arrays.copyOf(whole, whole.length / 2));

    Result r = TorchPython.run(python, SCRIPT.toString(), dir.toString());
    assertThat(r.exitCode()).as(r.stderr()).isEqualTo(2);
    assertThat(r.stderr().strip()).isEqualTo("torch_port: " + weights + ": not a readable .npz file (File is not a zip file)");
  }

  static INDArray inputs(InvertibleClassifier m, int n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.rand(DataType.FLOAT, m.inputShape(n));
  }
}
