package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.irevnet.check.Numerics.maxAbsDiff;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.io.Npz;
import org.irevnet.layers.Param;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.ParamGradients;
import org.irevnet.testing.RandomWeights;
import org.irevnet.testing.TinyData;
import org.irevnet.train.AdamOptimizer;
import org.irevnet.train.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class InvertibleClassifierTest {

  /** Images in [0,1] with the 2-pixel zero border of padded 28x28 inputs. */
  static INDArray paddedImages(DataType dt, long seed, int n) {
    INDArray x = Nd4j.zeros(dt, n, 1, 32, 32);
    Nd4j.getRandom().setSeed(seed); // before the draw: after it, the images were whatever came next
    INDArray inner = Nd4j.rand(dt, n, 1, 28, 28);
    x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 30), org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 30))
        .assign(inner);
    return x;
  }

  @Test
  void storedActivationsAreReusedAndAStalePassFallsBackToTheReversibleBackward() {
    Architecture a = ModelGradientTest.reduced(Architecture.load("fi-revnet-s"), 32, 4, 1);
    InvertibleClassifier m = InvertibleClassifier.build(a, DataType.DOUBLE, 3);
    RandomWeights.perturb(m, 0.2, 4);
    INDArray x1 = Numerics.normal(DataType.DOUBLE, 5, m.inputShape(2));
    INDArray x2 = Numerics.normal(DataType.DOUBLE, 6, m.inputShape(2));
    int[] y = {1, 7};

    InvertibleClassifier.Forward reversible = m.forward(x1, true);
    m.params().zeroGrad();
    m.backward(reversible, Losses.softmaxCrossEntropy(reversible.logits(), y).grad(), null, null);
    Map<String, INDArray> want = ParamGradients.copy(m.params());

    assertThat(m.storesActivations()).isFalse();
    m.setStoredActivations(true);
    assertThat(m.storesActivations()).isTrue();
    InvertibleClassifier.Forward first = m.forward(x1, true);
    long bytes = m.storedActivationBytes();
    // Four arrays per coupling: conditioner input, two hidden activations, output.
    assertThat(bytes).isPositive();
    InvertibleClassifier.Forward second = m.forward(x2, true);
    assertThat(m.storedActivationBytes()).as("buffers reused, not added").isEqualTo(bytes);
    assertThat(first.bodyTapes().isCurrent()).isFalse();
    assertThat(second.bodyTapes().isCurrent()).isTrue();
    // first's tapes were overwritten by x2's: its backward must rebuild, and still be right.
    m.params().zeroGrad();
    m.backward(first, Losses.softmaxCrossEntropy(first.logits(), y).grad(), null, null);
    Map<String, INDArray> got = ParamGradients.copy(m.params());
    want.forEach((k, g) -> assertThat(maxAbsDiff(got.get(k), g)).as(k).isLessThanOrEqualTo(1e-12));
    // Evaluation passes store nothing, and leave the training pass's tapes current.
    m.forward(x1, false);
    assertThat(second.bodyTapes().isCurrent()).isTrue();
    // The reused buffers hold the latest pass (x2's), not the first one's.
    m.setStoredActivations(false);
    assertThat(m.storesActivations()).isFalse();
    InvertibleClassifier.Forward rebuilt = m.forward(x2, true);
    m.params().zeroGrad();
    m.backward(rebuilt, Losses.softmaxCrossEntropy(rebuilt.logits(), y).grad(), null, null);
    Map<String, INDArray> want2 = ParamGradients.copy(m.params());
    m.params().zeroGrad();
    m.backward(second, Losses.softmaxCrossEntropy(second.logits(), y).grad(), null, null);
    Map<String, INDArray> got2 = ParamGradients.copy(m.params());
    want2.forEach((k, g) -> assertThat(maxAbsDiff(got2.get(k), g)).as(k).isLessThanOrEqualTo(1e-12));
  }

  @Test
  void fiRevnetSHasTheReferenceParameterCount() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("fi-revnet-s"), DataType.FLOAT, 1);
    // Independent count from DESIGN.md section 3: per step, ActNorm 2c and three convs.
    int[][] stages = {{3, 32, 3}, {3, 64, 3}, {3, 128, 3}, {3, 128, 3}, {2, 256, 1}};
    long expected = 0;
    long c = 1;
    for (int[] s : stages) {
      c *= 4;
      long h = s[1], k2 = (long) s[2] * s[2];
      long perStep = 2 * c + (c / 2 * h * k2 + h) + (h * h * k2 + h) + (h * c * k2 + c);
      expected += s[0] * perStep;
    }
    assertThat(m.params().count()).isEqualTo(expected);
    // The count DESIGN.md's "about 3.66 M" rounds, as the README states it.
    assertThat(expected).isEqualTo(3_658_356L);
    assertThat(m.summary()).contains("fi-revnet-s").contains("bijective").contains("[1, 1024, 1, 1]");
  }

  @Test
  void fiRevnetSRoundTripsAfterTraining() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("fi-revnet-s"), DataType.FLOAT, 1);
    INDArray x = paddedImages(DataType.FLOAT, 3, 4);
    m.initialize(x);
    RandomWeights.perturb(m, 0.02, 5);
    InvertibleClassifier.Forward f = m.forward(x, false);
    assertThat(f.z().shape()).isEqualTo(new long[] {4, 1024});
    assertThat(maxAbsDiff(m.invert(f.z()), x)).isLessThanOrEqualTo(1e-5);
    assertThat(maxAbsDiff(f.logits(), f.z().get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 10)))).isZero();
  }

  @Test
  void irevnetVariantsRoundTripAndSayWhatTheyAre() {
    for (String name : new String[] {"irevnet-s", "irevnet-s-inj"}) {
      InvertibleClassifier m = InvertibleClassifier.build(Architecture.load(name), DataType.DOUBLE, 1);
      RandomWeights.perturb(m, 0.02, 2);
      INDArray x = paddedImages(DataType.DOUBLE, 3, 3);
      InvertibleClassifier.Forward f = m.forward(x, false);
      assertThat(f.logits().shape()).isEqualTo(new long[] {3, 10});
      assertThat(maxAbsDiff(m.invert(f.out()), x)).isLessThanOrEqualTo(1e-12);
      boolean injective = name.endsWith("inj");
      assertThat(m.isBijective()).isEqualTo(!injective);
      assertThat(m.summary()).contains(injective ? "injective" : "bijective");
      assertThat(f.out().shape()).isEqualTo(injective ? new long[] {3, 256, 4, 4} : new long[] {3, 64, 4, 4});
    }
  }

  @Test
  void wrongInputShapeIsNamed() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 1);
    assertThatThrownBy(() -> m.forward(Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28), false))
        .hasMessageContaining("[2, 1, 32, 32]").hasMessageContaining("[2, 1, 28, 28]");
    assertThatThrownBy(() -> m.logits(Nd4j.zeros(DataType.FLOAT, 2, 1, 28, 28)))
        .hasMessage("irevnet-s expects inputs of shape [2, 1, 32, 32], got [2, 1, 28, 28]");
  }

  /**
   * {@code invert} takes the body's output or z, of the model's type; anything else is refused in
   * one line naming the model and both shapes: a z of other entries a row, or an output without its
   * batch axis, failed in ND4J's reshape ("New shape length doesn't match original length"), and
   * a float64 one was refused by the last block, by its name.
   */
  @Test
  void invertRefusesOutputsOfAnotherShapeOrTypeNamingTheModel() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH), DataType.FLOAT, 1);
    INDArray x = Init.uniform(DataType.FLOAT, new Random(2), 0.5, 2, 1, 32, 32).addi(0.5);
    InvertibleClassifier.Forward f = m.forward(x, false);
    assertThat(f.out().shape()).containsExactly(2, 16, 8, 8);
    // The body's output and z are both taken, and give x back.
    assertThat(maxAbsDiff(m.invert(f.out()), x)).isLessThan(1e-5);
    assertThat(maxAbsDiff(m.invert(f.z()), x)).isLessThan(1e-5);
    String takes = "tiny inverts outputs of shape [2, 16, 8, 8] (or z, [2, 1024]), float32, got ";
    assertThatThrownBy(() -> m.invert(f.z().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 1000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(takes + "[2, 1000] float32");
    assertThatThrownBy(() -> m.invert(f.z().castTo(DataType.DOUBLE))).hasMessage(takes + "[2, 1024] float64");
    assertThatThrownBy(() -> m.firstNonFiniteInverse(f.z().reshape(4, 512))).hasMessage(
        "tiny inverts outputs of shape [4, 16, 8, 8] (or z, [4, 1024]), float32, got [4, 512] float32");
    assertThatThrownBy(() -> m.invert(f.out().get(NDArrayIndex.point(0)))).hasMessage(
        "tiny inverts outputs of shape [16, 16, 8, 8] (or z, [16, 1024]), float32, got [16, 8, 8] float32");
    assertThatThrownBy(() -> m.invert(Nd4j.scalar(1f))).hasMessage(
        "tiny inverts outputs of shape [0, 16, 8, 8] (or z, [0, 1024]), float32, got [] float32");
    // An empty array without a batch axis holds 0 x 1024 entries, and is no batch of 0 either.
    assertThatThrownBy(() -> m.invert(Nd4j.create(DataType.FLOAT, 0))).hasMessage(
        "tiny inverts outputs of shape [0, 16, 8, 8] (or z, [0, 1024]), float32, got [0] float32");
  }

  @Test
  void unknownArchitectureAndMalformedJsonGiveOneLineErrors(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> Architecture.load("resnet-9000"))
        .hasMessageContaining("unknown architecture 'resnet-9000'").hasMessageContaining("fi-revnet-s");
    Path none = dir.resolve("none.json");
    assertThatThrownBy(() -> Architecture.load(none.toString())).hasMessage(none + ": architecture file not found");
    assertThatThrownBy(() -> Architecture.load(dir.toString())).hasMessage(dir + ": is a directory, not an architecture file");
    Path bad = dir.resolve("bad.json");
    java.nio.file.Files.writeString(bad, "{\"name\": \"x\", \"type\": ");
    assertThatThrownBy(() -> Architecture.load(bad.toString()))
        .hasMessageContaining("malformed architecture JSON").hasMessageNotContaining("\n");
    Path wrong = dir.resolve("wrong.json");
    java.nio.file.Files.writeString(wrong, Architecture.load("fi-revnet-s").toJson().replace("\"affine\"", "\"cubic\""));
    assertThatThrownBy(() -> Architecture.load(wrong.toString())).hasMessageContaining("'coupling'");
    String json = Architecture.load("fi-revnet-s").toJson();
    Path fraction = dir.resolve("fraction.json");
    java.nio.file.Files.writeString(fraction, json.replaceFirst("\"steps\" : 3", "\"steps\" : 2.5"));
    assertThatThrownBy(() -> Architecture.load(fraction.toString())).as("once truncated to 2 steps")
        .hasMessage(fraction + ": key 'stages[0].steps' must be an integer, got 2.5");
    Path typo = dir.resolve("typo.json");
    java.nio.file.Files.writeString(typo, json.replaceFirst("\"steps\"", "\"step\""));
    assertThatThrownBy(() -> Architecture.load(typo.toString())).hasMessageStartingWith(typo
        + ": unknown key 'stages[0].step' (known: actnorm, coupling, hidden, kernel, pad, permutation, scaleFloor,");
  }

  /**
   * The gradients given to backward are checked against the model, naming it: a float64 dL/dlogits
   * of a float32 model was refused, if at all, by the first block it reached, naming the block.
   */
  @Test
  void backwardRefusesGradientsOfAnotherTypeOrShapeNamingTheModel() {
    for (Architecture a : List.of(ModelGradientTest.reduced(Architecture.load("fi-revnet-s"), 32, 4, 1),
        Architecture.load("irevnet-s"))) {
      InvertibleClassifier m = InvertibleClassifier.build(a, DataType.FLOAT, 2);
      INDArray x = Numerics.normal(DataType.FLOAT, 3, m.inputShape(2));
      InvertibleClassifier.Forward f = m.forward(x, false);
      INDArray dLogits = Numerics.normal(DataType.FLOAT, 4, 2, m.numClasses());
      long perSample = f.out().length() / 2;
      String expected = a.name() + " backward expects dL/dlogits of shape [2, " + m.numClasses() + "], float32, got ";
      assertThatThrownBy(() -> m.backward(f, dLogits.castTo(DataType.DOUBLE), null, null)).as(a.name())
          .isInstanceOf(IllegalArgumentException.class).hasMessage(expected + "[2, " + m.numClasses() + "] float64");
      assertThatThrownBy(() -> m.backward(f, Nd4j.zeros(DataType.FLOAT, 2, m.numClasses() + 1), null, null)).as(a.name())
          .hasMessage(expected + "[2, " + (m.numClasses() + 1) + "] float32");
      assertThatThrownBy(() -> m.backward(f, null, null, Nd4j.zeros(DataType.FLOAT, 2, 1))).as(a.name())
          .hasMessageStartingWith(a.name() + " backward expects dL/dlogdet of shape [2], float32");
      assertThatThrownBy(() -> m.backward(f, null, Nd4j.zeros(DataType.FLOAT, 2, perSample + 1), null)).as(a.name())
          .hasMessageStartingWith(a.name() + " backward expects dL/dout of shape " + org.irevnet.nn.Tensors.shape(f.out().shape()));
      // A scalar (a loss's value given for its gradient) and the same entries in another batch are refused too.
      for (INDArray dOut : new INDArray[] {Nd4j.scalar(0f), Nd4j.zeros(DataType.FLOAT, 1, 2 * perSample)}) {
        assertThatThrownBy(() -> m.backward(f, null, dOut, null)).as(a.name() + ", " + org.irevnet.nn.Tensors.shape(dOut.shape()))
            .isInstanceOf(IllegalArgumentException.class).hasMessage(a.name() + " backward expects dL/dout of shape "
                + org.irevnet.nn.Tensors.shape(f.out().shape()) + " (or its entries per sample in another shape), float32, got "
                + org.irevnet.nn.Tensors.shape(dOut.shape()) + " float32");
      }
      // dL/dout in another shape with the same entries per sample (the nuisance terms' dL/dz) is taken.
      INDArray dx = m.backward(f, dLogits, Nd4j.zeros(DataType.FLOAT, 2, perSample), Nd4j.zeros(DataType.FLOAT, 2)).dx();
      assertThat(dx.shape()).isEqualTo(x.shape());
    }
  }

  @Test
  void saveLoadGivesIdenticalLogitsAndPyTorchNames(@TempDir Path dir) throws Exception {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("fi-revnet-s"), DataType.FLOAT, 1);
    INDArray x = paddedImages(DataType.FLOAT, 3, 2);
    m.initialize(x);
    RandomWeights.perturb(m, 0.01, 3);
    ModelFiles.save(dir, m);
    Map<String, INDArray> w = Npz.read(dir.resolve(ModelFiles.WEIGHTS));
    // The PyTorch twin's state_dict names and layouts (../shared/bench/torch_fi_revnet.py).
    assertThat(w.get("layers.0.logs").shape()).isEqualTo(new long[] {1, 4, 1, 1});
    assertThat(w.get("layers.1.net.0.weight").shape()).isEqualTo(new long[] {32, 2, 3, 3});
    assertThat(w.get("layers.1.net.4.weight").shape()).isEqualTo(new long[] {4, 32, 3, 3});
    assertThat(w.get("layers.27.net.4.bias").shape()).isEqualTo(new long[] {1024});
    InvertibleClassifier back = ModelFiles.load(dir, DataType.FLOAT);
    assertThat(back.logits(x)).isEqualTo(m.logits(x));
    assertThat(java.nio.file.Files.list(dir).map(p -> p.getFileName().toString()))
        .containsExactlyInAnyOrder("model.json", "weights.npz");
  }

  @Test
  void reversibleTrainingReducesTheLossOnAFixedBatch() {
    Architecture tiny = Architecture.fromJson("""
        {"name": "tiny", "type": "fi-revnet", "inputShape": [1, 8, 8], "numClasses": 4,
         "stages": [{"steps": 2, "hidden": 8, "kernel": 3, "coupling": "affine", "actnorm": true},
                    {"steps": 2, "hidden": 8, "kernel": 3, "coupling": "affine", "actnorm": true}]}""");
    InvertibleClassifier m = InvertibleClassifier.build(tiny, DataType.FLOAT, 1);
    INDArray x = Numerics.normal(DataType.FLOAT, 3, 16, 1, 8, 8);
    int[] y = new Random(4).ints(16, 0, 4).toArray();
    m.initialize(x);
    AdamOptimizer adam = new AdamOptimizer(m.params(), 3e-3);
    double first = 0, last = 0;
    for (int step = 0; step < 60; step++) {
      InvertibleClassifier.Forward f = m.forward(x, true);
      Losses.LossGrad lg = Losses.softmaxCrossEntropy(f.logits(), y);
      if (step == 0) first = lg.loss();
      last = lg.loss();
      m.backward(f, lg.grad(), null, null);
      adam.step();
    }
    assertThat(last).isLessThan(0.5 * first);
    // Overfitting drives some scales s towards 0, where float32 inversion loses digits
    // ((y2 - t) / s cancels: errors of 1e-1 were seen); the same weights in float64 invert to
    // ~1e-8, i.e. the map's conditioning is ~1e8 here, not a bug in the inverse.
    InvertibleClassifier m64 = m.withDataType(DataType.DOUBLE);
    INDArray x64 = x.castTo(DataType.DOUBLE);
    assertThat(maxAbsDiff(m64.invert(m64.forward(x64, false).z()), x64)).isLessThanOrEqualTo(1e-6);
  }

  /** Every trainable parameter's value and gradient, copied. */
  static Map<String, INDArray> valuesAndGradients(InvertibleClassifier m) {
    Map<String, INDArray> out = new java.util.TreeMap<>();
    m.params().entries().forEach((name, p) -> {
      if (!p.trainable()) return;
      out.put(name, p.value().dup());
      out.put(name + ".grad", p.grad().dup());
    });
    return out;
  }

  @Test
  void inputGradientsNeitherCallTheGradientListenerNorTouchParametersOrGradients() {
    // With a readout head, whose block update is a separate listener call.
    Architecture tiny = Architecture.fromJson("""
        {"name": "tiny-head", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 4,
         "stages": [{"steps": 2, "hidden": 4, "kernel": 3, "coupling": "additive"}]}""");
    InvertibleClassifier m = InvertibleClassifier.build(tiny, DataType.DOUBLE, 1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 3, 5, 1, 8, 8);
    m.initialize(x);
    // As Trainer wires it: Adam steps each block from inside the backward pass.
    AdamOptimizer adam = AdamOptimizer.grouped(m.params(), m.parameterGroups(), 1e-2);
    int[] calls = {0};
    m.setGradientListener(g -> {
      calls[0]++;
      adam.stepGroup(g);
    });
    // Non-zero gradients, so that a pass which adds to them or zeroes them shows.
    Random r = new Random(8);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) p.grad().assign(Init.uniform(DataType.DOUBLE, r, 1.0, p.grad().shape()));
    }
    Map<String, INDArray> before = valuesAndGradients(m);

    Classifier.Gradient g = m.logitGradient(x, logits -> Nd4j.onesLike(logits));
    assertThat(maxAbsDiff(g.dx(), Nd4j.zerosLike(x))).as("a real input gradient").isGreaterThan(0);
    assertThatThrownBy(() -> m.logitGradient(x, logits -> {
      throw new IllegalStateException("loss failed");
    })).hasMessage("loss failed");
    assertThat(calls[0]).isZero();
    assertThat(valuesAndGradients(m)).isEqualTo(before);

    // The listener is back for training.
    InvertibleClassifier.Forward f = m.forward(x, true);
    m.backward(f, Nd4j.onesLike(f.logits()), null, null);
    assertThat(calls[0]).isEqualTo(m.parameterGroups().size());
  }

  /**
   * Every parameter group with parameters is named, in the order the backward pass finishes them:
   * the readout head first, then the body's blocks from the last, each by its index, name and class.
   */
  @Test
  void parameterGroupsAreNamedByBlock() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "tiny-head", "type": "irevnet", "inputShape": [1, 8, 8], "numClasses": 4,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true}]}"""),
        DataType.FLOAT, 1);
    // The groups of blocks without parameters are never stepped, so never named.
    List<String> names = m.parameterGroups().stream().filter(g -> g.count() > 0).map(m::describeGroup).toList();
    assertThat(m.body().names()).containsExactly("psi0", "layers.0", "layers.1");
    assertThat(names).containsExactly("the readout head", "block 2 (layers.1, AffineCoupling)",
        "block 1 (layers.0, ActNorm)");
    assertThatThrownBy(() -> m.describeGroup(TinyData.perturbedModel().parameterGroups().get(0)))
        .hasMessage("not a parameter group of 'tiny-head'");
  }

  /**
   * The i-RevNet readout's backward pass leaves its arrays to no collector: a dozen the size of
   * the body's output ([64, 64, 4, 4] float32 here, 262 KB), 2.2 MB a pass, were most of what an
   * irevnet-s training step left outside the blocks' workspaces. Three passes kept 9.78-9.79 MB
   * (the middle of five runs, two runs of this test) that way, 3.13 now: the body's own. The
   * middle of five runs of three backward passes from one forward pass.
   */
  @Test
  void theReadoutsBackwardPassLeavesNoArraysToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("irevnet-s"), DataType.FLOAT, 0);
    Random r = new Random(3);
    INDArray x = Init.uniform(DataType.FLOAT, r, 0.5, m.inputShape(64)).addi(0.5);
    INDArray dLogits = Init.normal(DataType.FLOAT, r, 64, 10).divi(64);
    m.initialize(x);
    InvertibleClassifier.Forward f = m.forward(x, true);
    m.backward(f, dLogits, null, null); // the workspaces learn their sizes
    List<Long> kept = KeptBytes.of(5, run -> {
      for (int i = 0; i < 3; i++) m.backward(f, dLogits, null, null);
      return null;
    });
    assertThat(KeptBytes.middle(kept)).as("native bytes three backward passes kept: %s", kept)
        .isLessThan(6L << 20);
  }

  /**
   * {@code logits} keeps the logits alone: the body's output and log-det and the readout's
   * activations are freed now, not when the collector finds them. For 250 images it kept 1.3 MB
   * at fi-revnet-s and 3.2 at irevnet-s that way; every evaluation and attack sweep asks for the
   * logits batch by batch.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"fi-revnet-s", "irevnet-s"})
  void logitsLeaveNothingElseToTheCollector(String arch) throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load(arch), DataType.FLOAT, 0);
    INDArray x = Init.uniform(DataType.FLOAT, new Random(3), 0.5, m.inputShape(250)).addi(0.5);
    m.initialize(x);
    assertThat(m.logits(x)).isEqualTo(m.forward(x, false).logits());
    List<Long> kept = KeptBytes.of(5, run -> m.logits(x));
    assertThat(KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept).isLessThan(750L << 10);
  }

  /**
   * An input gradient keeps its output and dx alone. Putting the parameter gradients back left
   * their saved copy to the collector, the parameters' size (14.6 MB at fi-revnet-s) every call,
   * and the pass its body output, log-det, rebuilt input and readout activations: 14.7 MB a
   * logitGradient and 15.4 MB a layerGradient of 32 images kept (middles of five), 1.1 and 0.63
   * now; attacks ask for hundreds in a row, with a collection every fifth.
   */
  @Test
  void inputGradientsKeepTheirOutputAndDxAlone() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.load("fi-revnet-s"), DataType.FLOAT, 0);
    INDArray x = Init.uniform(DataType.FLOAT, new Random(3), 0.5, m.inputShape(32)).addi(0.5);
    m.initialize(x);
    long params = m.params().count() * Float.BYTES;
    List<Long> logit = KeptBytes.of(2, 5, run -> m.logitGradient(x, l -> l.mul(0.1)));
    assertThat(KeptBytes.middle(logit)).as("native bytes each logitGradient kept: %s", logit).isLessThan(params / 4);
    List<Long> layer = KeptBytes.of(2, 5, run -> m.layerGradient(x, 0, h -> h.mul(0.1)));
    assertThat(KeptBytes.middle(layer)).as("native bytes each layerGradient kept: %s", layer).isLessThan(params / 4);
  }
}
