package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.irevnet.check.Numerics.maxAbsDiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.irevnet.io.Npz;
import org.irevnet.layers.Grad;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.ParamGradients;
import org.irevnet.testing.TinyNetworks;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The models' entry points as a Java caller uses them, on arrays of every {@link Layouts} layout:
 * each gives exactly what it gives on the dense copy and leaves its input as it was; an input of
 * another type or without its batch axis is refused in one line. Layers: {@code BijectionContract}.
 */
class ClassifierLayoutsTest {
  private static final Map<String, Classifier> MODELS = new java.util.HashMap<>();

  /** The three bundled invertible architectures (perturbed, so no block is near the identity) and a DL4J graph. */
  static Classifier model(String name) {
    return MODELS.computeIfAbsent(name, n -> n.equals("dl4j")
        ? Dl4jClassifier.of(TinyNetworks.graph(DataType.FLOAT, 3), "tiny", new long[] {1, 6, 6}, List.of("block", "dense"))
        : ModelContractTest.model(n, 1));
  }

  static INDArray images(Classifier m, long seed, int n) {
    return m instanceof Dl4jClassifier ? Dl4jClassifierTest.images(DataType.FLOAT, seed, n)
        : ModelContractTest.images(DataType.FLOAT, seed, n);
  }

  static Stream<Arguments> modelsAndLayouts() {
    List<Arguments> all = new ArrayList<>();
    // Every layout on one model of each kind; the blocks are checked on every layout by the layer
    // contract, so the other two architectures (6 s a case) take two of them.
    for (String name : new String[] {"fi-revnet-s", "dl4j"}) {
      for (Layouts layout : Layouts.values()) if (layout != Layouts.DENSE) all.add(Arguments.of(name, layout));
    }
    for (String name : new String[] {"irevnet-s", "irevnet-s-inj"}) {
      all.add(Arguments.of(name, Layouts.OFFSET));
      all.add(Arguments.of(name, Layouts.FORTRAN));
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("modelsAndLayouts")
  void everyEntryPointGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(String name, Layouts layout) {
    Classifier m = model(name);
    INDArray x = layout.of(images(m, 2, 2));
    int last = m.layerNames().size() - 1;
    Map<String, Function<INDArray, List<INDArray>>> entries = new java.util.LinkedHashMap<>();
    entries.put("logits", v -> List.of(m.logits(v)));
    entries.put("layerOutputs", m::layerOutputs);
    entries.put("layerOutput", v -> List.of(m.layerOutput(v, last)));
    entries.put("logitGradient", v -> gradient(m.logitGradient(v, l -> l.mul(2))));
    entries.put("layerGradient", v -> gradient(m.layerGradient(v, 0, h -> h.dup())));
    if (m instanceof InvertibleClassifier ic) {
      entries.put("forward", v -> {
        InvertibleClassifier.Forward f = ic.forward(v, false);
        return List.of(f.out(), f.logDet(), f.logits());
      });
      entries.put("backward and its parameter gradients", v -> {
        ic.params().zeroGrad();
        InvertibleClassifier.Forward f = ic.forward(v, false);
        Grad g = ic.backward(f, f.logits().dup(), null, null);
        List<INDArray> r = new ArrayList<>(List.of(g.x(), g.dx()));
        r.addAll(ParamGradients.copy(ic.params()).values());
        ic.params().zeroGrad();
        return r;
      });
    }
    entries.forEach((entryName, entry) -> Layouts.assertSameAsOnDenseCopies(entryName, new INDArray[] {x},
        in -> entry.apply(in[0])));
    if (m instanceof InvertibleClassifier ic) {
      INDArray out = layout.of(ic.forward(x.dup('c'), false).out());
      Layouts.assertSameAsOnDenseCopies("invert", new INDArray[] {out}, in -> List.of(ic.invert(in[0])));
    }
  }

  @ParameterizedTest
  // An offset, column-major and channels-last strides and a stride of 0 (4 s each: a save and two precisions).
  @EnumSource(value = Layouts.class, names = {"OFFSET", "FORTRAN", "PERMUTED", "BROADCAST"})
  void anExportOfImagesOfAnyLayoutHoldsWhatTheDenseCopyGives(Layouts layout, @TempDir Path tmp) throws Exception {
    // check.npz is what PyTorch compares its own outputs with: its x must be the images' values.
    InvertibleClassifier m = (InvertibleClassifier) model("fi-revnet-s");
    INDArray x = layout.of(images(m, 2, 2)), before = x.dup('c'), dense = x.dup('c');
    ModelExport.write(tmp.resolve("given"), m, x, new int[] {1, 0});
    ModelExport.write(tmp.resolve("dense"), m, dense, new int[] {1, 0});
    assertThat(Files.readAllBytes(tmp.resolve("given").resolve(ModelExport.CHECK)))
        .isEqualTo(Files.readAllBytes(tmp.resolve("dense").resolve(ModelExport.CHECK)));
    assertThat(Npz.read(tmp.resolve("given").resolve(ModelExport.CHECK)).get("x")).isEqualTo(dense);
    assertThat(maxAbsDiff(x, before)).as("the images afterwards").isEqualTo(0.0);
  }

  private static List<INDArray> gradient(Classifier.Gradient g) {
    return List.of(g.output(), g.dx());
  }

  @ParameterizedTest
  @ValueSource(strings = {"fi-revnet-s", "irevnet-s-inj", "dl4j"})
  void inputsOfAnotherTypeOrWithoutTheirBatchAxisAreRefusedInOneLine(String name) {
    Classifier m = model(name);
    INDArray x = images(m, 2, 1);
    for (DataType other : new DataType[] {DataType.DOUBLE, DataType.HALF, DataType.INT}) {
      INDArray given = x.castTo(other);
      for (Function<INDArray, Object> entry : entryPoints(m)) {
        assertThatThrownBy(() -> entry.apply(given)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith(label(name)).hasMessageContainingAll("float32", Tensors.typeName(other)).hasMessageNotContaining("\n");
      }
    }
    INDArray image = x.reshape(x.shape()[1], x.shape()[2], x.shape()[3]);
    for (Function<INDArray, Object> entry : entryPoints(m)) {
      assertThatThrownBy(() -> entry.apply(image)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(label(name)).hasMessageContaining(Tensors.shape(image.shape())).hasMessageNotContaining("\n");
    }
  }

  /** How the model's messages name it. */
  private static String label(String name) {
    return name.equals("dl4j") ? "tiny" : name;
  }

  private static List<Function<INDArray, Object>> entryPoints(Classifier m) {
    return List.of(m::logits, m::layerOutputs, v -> m.layerOutput(v, 0), v -> m.logitGradient(v, l -> l),
        v -> m.layerGradient(v, 0, h -> h));
  }
}
