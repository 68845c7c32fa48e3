package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.TinyNetworks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

class Dl4jClassifierTest {
  static final long[] CHW = {1, 6, 6};

  static MultiLayerNetwork tinyLeNet(long seed) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).updater(new Adam(0.01)).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional(6, 6, 1)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  static INDArray images(DataType dt, long seed, int n) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.rand(dt, n, 1, 6, 6);
  }

  @Test
  void aModelSavedByModelSerializerGivesTheSamePredictionsWhenLoadedByModel(@TempDir Path dir) throws Exception {
    MultiLayerNetwork mln = tinyLeNet(3);
    ComputationGraph cg = TinyNetworks.graph(DataType.FLOAT, 4);
    TinyNetworks.train(cg, 3, 1);
    INDArray x = images(DataType.FLOAT, 7, 16);
    Path mlnZip = dir.resolve("lenet.zip"), cgZip = dir.resolve("graph.zip");
    ModelSerializer.writeModel(mln, mlnZip.toFile(), false);
    ModelSerializer.writeModel(cg, cgZip.toFile(), true);
    for (var c : List.of(Map.entry(mlnZip, mln.output(x, false)), Map.entry(cgZip, cg.outputSingle(false, x)))) {
      Dl4jClassifier m = Dl4jClassifier.load(c.getKey(), CHW, null);
      INDArray probs = Transforms.softmax(m.logits(x), true);
      assertThat(Numerics.maxAbsDiff(probs, c.getValue())).isLessThan(1e-6);
      assertThat(probs.argMax(1).toIntVector()).containsExactly(c.getValue().argMax(1).toIntVector());
      assertThat(m.numClasses()).isEqualTo((int) c.getValue().size(1));
    }
  }

  @Test
  void layerActivationsEqualDl4jFeedForward() {
    ComputationGraph net = TinyNetworks.graph(DataType.DOUBLE, 5);
    TinyNetworks.train(net, 3, 2);
    Dl4jClassifier m = Dl4jClassifier.of(net, "tiny", CHW, null);
    // Default probes: after every non-linearity or pooling; the output layer is not one.
    assertThat(m.layerNames()).containsExactly("relu", "block", "pool", "dense");
    INDArray x = images(DataType.DOUBLE, 9, 4);
    Map<String, INDArray> ff = net.feedForward(x, false);
    List<INDArray> outs = m.layerOutputs(x);
    for (int i = 0; i < outs.size(); i++) {
      INDArray expected = ff.get(m.layerNames().get(i));
      assertThat(outs.get(i).shape()).containsExactly(expected.shape());
      assertThat(Numerics.maxAbsDiff(outs.get(i), expected)).isEqualTo(0.0);
      assertThat(Numerics.maxAbsDiff(m.layerOutput(x, i), expected)).isEqualTo(0.0);
    }
    // feedForward's entries for vertices that feed an ActivationLayer hold the activated values
    // (the layer works in place in evaluation mode): check those through the activation.
    Dl4jClassifier named = Dl4jClassifier.of(net, "tiny", CHW, List.of("bn", "add"));
    List<INDArray> pre = named.layerOutputs(x);
    assertThat(Numerics.maxAbsDiff(Transforms.tanh(pre.get(1), true), ff.get("block"))).isEqualTo(0.0);
    assertThat(Numerics.maxAbsDiff(Transforms.relu(pre.get(0), true), ff.get("relu"))).isEqualTo(0.0);
    assertThat(Numerics.maxAbsDiff(pre.get(0), ff.get("bn"))).isGreaterThan(0.0);
    assertThat(Tensors.min(pre.get(0))).isLessThan(0.0);
    assertThatThrownBy(() -> Dl4jClassifier.of(net, "tiny", CHW, List.of("nope")))
        .hasMessageContaining("no hidden layer or vertex 'nope'");
  }

  @Test
  void imagesOfAShapeTheNetworkDoesNotTakeAreAOneLineRefusal() {
    ComputationGraph net = TinyNetworks.graph(DataType.FLOAT, 5);
    assertThatThrownBy(() -> Dl4jClassifier.of(net, "tiny", new long[] {3, 6, 6}, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tiny: does not take images of shape [3, 6, 6]")
        // The channels are to blame, not the zero padding every such message named.
        .hasMessageEndingWith("; its layer 'conv' takes 1 channel, the images have 3")
        .hasMessageNotContaining("\n");
    // A wrong height and width reach the dense layer's preprocessor, which threw its own exception (exit code 3).
    ComputationGraph lenet = tinyLeNet(3).toComputationGraph();
    assertThatThrownBy(() -> Dl4jClassifier.of(lenet, "lenet", new long[] {1, 8, 8}, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("lenet: does not take images of shape [1, 8, 8]")
        .hasMessageContaining("without the zero padding train adds")
        .hasMessageNotContaining("channels")
        .hasMessageNotContaining("\n");
  }

  /** Central differences of a scalar function of the input, every pixel (float64). */
  static INDArray numericGradient(java.util.function.ToDoubleFunction<INDArray> f, INDArray x) {
    INDArray g = Nd4j.zeros(DataType.DOUBLE, x.shape());
    INDArray flat = x.reshape(x.length()), gf = g.reshape(x.length());
    double h = 1e-6;
    for (long i = 0; i < x.length(); i++) {
      double v = flat.getDouble(i);
      flat.putScalar(i, v + h);
      double up = f.applyAsDouble(x);
      flat.putScalar(i, v - h);
      double down = f.applyAsDouble(x);
      flat.putScalar(i, v);
      gf.putScalar(i, (up - down) / (2 * h));
    }
    return g;
  }

  @Test
  void inputGradientsMatchFiniteDifferencesThroughBatchNormInEvaluationMode() {
    ComputationGraph net = TinyNetworks.graph(DataType.DOUBLE, 6);
    TinyNetworks.train(net, 3, 3);
    Dl4jClassifier m = Dl4jClassifier.of(net, "tiny", CHW, null);
    INDArray x = images(DataType.DOUBLE, 11, 2);
    INDArray w = images(DataType.DOUBLE, 12, 2).reshape(2, 36).get(
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3)).dup();
    // Loss sum(w * logits): its gradient with respect to the logits is w.
    Classifier.Gradient g = m.logitGradient(x, logits -> w);
    assertThat(Numerics.maxAbsDiff(g.output(), m.logits(x))).isEqualTo(0.0);
    INDArray numeric = numericGradient(xx -> m.logits(xx).mul(w).sumNumber().doubleValue(), x.dup());
    assertThat(Numerics.maxAbsDiff(g.dx(), numeric)).isLessThan(1e-6);
    assertThat(Tensors.maxAbs(g.dx())).isGreaterThan(1e-3);

    // ||h(x) - t||^2 at the residual block (through tanh, the add, both branches and BatchNorm).
    int block = m.layerIndex("block");
    INDArray t = m.layerOutput(images(DataType.DOUBLE, 13, 2), block);
    Classifier.Gradient gl = m.layerGradient(x, block, h -> h.sub(t).muli(2));
    INDArray numericL = numericGradient(xx -> {
      INDArray d = m.layerOutput(xx, block).sub(t);
      return d.mul(d).sumNumber().doubleValue();
    }, x.dup());
    assertThat(Numerics.maxAbsDiff(gl.dx(), numericL)).isLessThan(1e-6);
    assertThat(Tensors.maxAbs(gl.dx())).isGreaterThan(1e-3);
  }

  @Test
  void aFileThatIsNotAModelIsAOneLineError(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.zip");
    Files.writeString(bad, "not a zip");
    assertThatThrownBy(() -> Dl4jClassifier.load(bad, CHW, null)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(bad + ": not a DL4J model")
        .hasMessageContaining("as a ComputationGraph: ").hasMessageContaining("; as a MultiLayerNetwork: ")
        .satisfies(e -> {
          assertThat(e.getMessage()).doesNotContain("\n");
          assertThat(e.getSuppressed()).as("the ComputationGraph attempt's exception").hasSize(1);
          assertThat(e.getCause()).as("the MultiLayerNetwork attempt's exception").isNotNull();
          // Each attempt's own reason, its first line.
          assertThat(e.getMessage())
              .contains("as a ComputationGraph: " + e.getSuppressed()[0].getMessage().lines().findFirst().orElseThrow())
              .contains("as a MultiLayerNetwork: " + e.getCause().getMessage().lines().findFirst().orElseThrow());
        });
    assertThatThrownBy(() -> Dl4jClassifier.load(dir.resolve("missing.zip"), CHW, null))
        .hasMessageContaining("no such model file");
  }

  @Test
  void aModelWithANonFiniteParameterIsRefusedNamingTheLayerAndParameter(@TempDir Path dir) throws Exception {
    MultiLayerNetwork mln = tinyLeNet(3);
    // The dense layer (index 2) gets one NaN and one infinity among its weights: a model that
    // diverged in training. Its logits would all be NaN, scored as accuracy 0.
    INDArray w = mln.getLayer(2).getParam("W");
    w.putScalar(0, 1, Double.NaN);
    w.putScalar(3, 2, Double.POSITIVE_INFINITY);
    Path zip = dir.resolve("diverged.zip");
    ModelSerializer.writeModel(mln, zip.toFile(), false);
    assertThatThrownBy(() -> Dl4jClassifier.load(zip, CHW, null)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(zip + ": layer '" + mln.getLayer(2).conf().getLayer().getLayerName() + "' parameter W has 2 NaN or infinite value(s) of " + w.length())
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    // The same network with finite weights loads.
    w.putScalar(0, 1, 0.5);
    w.putScalar(3, 2, -0.5);
    ModelSerializer.writeModel(mln, zip.toFile(), false);
    assertThat(Dl4jClassifier.load(zip, CHW, null).numClasses()).isEqualTo(4);
  }

  /**
   * A model zip stored without compression (zip -0, as re-zipping tools may), whose bytes no inflater
   * checks, with one bit flipped in a weight is refused naming the file: ModelSerializer checks each
   * entry's CRC-32 (pinned here: a bit flip there would otherwise load as another model).
   */
  @Test
  void aModelZipWhoseEntryFailsItsCrcIsRefused(@TempDir Path dir) throws Exception {
    Path written = dir.resolve("written.zip"), stored = dir.resolve("stored.zip");
    ModelSerializer.writeModel(tinyLeNet(3), written.toFile(), false);
    try (java.util.zip.ZipFile in = new java.util.zip.ZipFile(written.toFile());
        java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(Files.newOutputStream(stored))) {
      for (var e : java.util.Collections.list(in.entries())) {
        byte[] b = in.getInputStream(e).readAllBytes();
        java.util.zip.ZipEntry s = new java.util.zip.ZipEntry(e.getName());
        s.setMethod(java.util.zip.ZipEntry.STORED);
        s.setSize(b.length);
        s.setCompressedSize(b.length);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b);
        s.setCrc(crc.getValue());
        out.putNextEntry(s);
        out.write(b);
        out.closeEntry();
      }
    }
    INDArray x = images(DataType.FLOAT, 7, 4);
    INDArray logits = Dl4jClassifier.load(stored, CHW, null).logits(x);
    byte[] bytes = Files.readAllBytes(stored);
    int coefficients = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("coefficients.bin");
    assertThat(coefficients).isPositive();
    bytes[coefficients + "coefficients.bin".length() + 200] ^= 0x04; // a weight's bits, well past its header
    Files.write(stored, bytes);
    assertThatThrownBy(() -> Dl4jClassifier.load(stored, CHW, null)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(stored + ": ").hasMessageContaining("invalid entry CRC")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThat(logits).isNotNull();
  }

  @Test
  void probedLayersGivenTwiceOrOutOfTheNetworksOrderAreRefused() {
    MultiLayerNetwork mln = tinyLeNet(3);
    ComputationGraph g = mln.toComputationGraph();
    List<String> inOrder = Dl4jClassifier.of(g, "lenet", CHW, null).layerNames();
    assertThat(inOrder).hasSizeGreaterThan(1);
    String first = inOrder.get(0), last = inOrder.get(inOrder.size() - 1);
    assertThatThrownBy(() -> Dl4jClassifier.of(g, "lenet", CHW, List.of(last, first)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("lenet: probed layers must be distinct and in the network's order, got '" + last
            + "' before '" + first + "'");
    assertThatThrownBy(() -> Dl4jClassifier.of(g, "lenet", CHW, List.of(first, first)))
        .hasMessageStartingWith("lenet: probed layers must be distinct and in the network's order, got '" + first
            + "' before '" + first + "'");
    assertThat(Dl4jClassifier.of(g, "lenet", CHW, List.of(first, last)).layerNames()).containsExactly(first, last);
  }

  /** A graph on {@code 1 x 6 x 6} images in float64, trained a few steps unless {@code fresh}. */
  private static ComputationGraph graph(ComputationGraphConfiguration.GraphBuilder g, boolean fresh) {
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    if (!fresh) TinyNetworks.train(net, 3, 8);
    return net;
  }

  private static ComputationGraphConfiguration.GraphBuilder builder() {
    return new NeuralNetConfiguration.Builder().seed(4).dataType(DataType.DOUBLE).updater(new Adam(0.05)).graphBuilder()
        .addInputs("in");
  }

  /** The input gradient of sum(w * logits) against central differences, with w fixed per row. */
  private static void assertLogitGradientMatchesFiniteDifferences(Dl4jClassifier m, INDArray x) {
    Nd4j.getRandom().setSeed(21);
    INDArray w = Nd4j.rand(DataType.DOUBLE, x.size(0), m.numClasses()).subi(0.5);
    Classifier.Gradient g = m.logitGradient(x, logits -> w);
    INDArray numeric = numericGradient(xx -> m.logits(xx).mul(w).sumNumber().doubleValue(), x.dup());
    assertThat(g.dx().shape()).containsExactly(x.shape());
    assertThat(Numerics.maxAbsDiff(g.dx(), numeric)).isLessThan(1e-6);
    assertThat(Tensors.maxAbs(g.dx())).isGreaterThan(1e-3);
  }

  /**
   * An MLP on flattened images (no preprocessor between the input and its first dense layer):
   * the classifier flattens the [n, 1, 6, 6] images itself and gives the gradient back in their
   * shape. The logits are tanh(x W1 + b1) W2 + b2 from the parameters; the network is fresh, so
   * the gradient also works before any training initialised the gradient buffers.
   */
  @Test
  void anMlpOnFlattenedImagesTakesImagesAndGivesImageShapedGradients() {
    ComputationGraph net = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("hidden", new DenseLayer.Builder().nOut(4).activation(Activation.TANH).build(), "in")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "hidden").setOutputs("out"), true);
    Dl4jClassifier m = Dl4jClassifier.of(net, "mlp", CHW, null);
    INDArray x = images(DataType.DOUBLE, 14, 3);
    INDArray flat = x.reshape(3, 36);
    INDArray h = Transforms.tanh(flat.mmul(net.getParam("hidden_W")).addiRowVector(net.getParam("hidden_b")), false);
    INDArray logits = h.mmul(net.getParam("out_W")).addiRowVector(net.getParam("out_b"));
    assertThat(Numerics.maxAbsDiff(m.logits(x), logits)).isLessThan(1e-12);
    assertThat(Numerics.maxAbsDiff(Transforms.softmax(m.logits(x), true), net.outputSingle(false, flat))).isLessThan(1e-12);
    assertThat(m.layerNames()).containsExactly("hidden");
    assertThat(m.dataType()).isEqualTo(DataType.DOUBLE);
    assertLogitGradientMatchesFiniteDifferences(m, x);
    assertThatThrownBy(() -> m.logits(flat)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("mlp expects inputs of shape [3, 1, 6, 6], got [3, 36]");
  }

  /**
   * Dropout and weight noise are training-time noise: DL4J's backward recomputes a layer's output in
   * training mode and drew them there, so the input gradient was that of a randomly thinned network
   * (FGSM on an MLP with dropout 0.5 on its input moved about half the pixels, and two runs of one
   * command gave other numbers). The gradients are those of the logits the classifier gives, and
   * the network keeps its dropout and weight noise for training.
   */
  @Test
  void inputGradientsIgnoreDropoutAndWeightNoiseAsTheLogitsDo() {
    ComputationGraph net = graph(builder().setInputTypes(InputType.convolutional(6, 6, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).dropOut(0.5).build(),
            "in")
        .addLayer("hidden", new DenseLayer.Builder().nOut(5).activation(Activation.TANH).dropOut(0.5)
            .weightNoise(new org.deeplearning4j.nn.conf.weightnoise.DropConnect(0.5)).build(), "conv")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "hidden").setOutputs("out"), true);
    Dl4jClassifier m = Dl4jClassifier.of(net, "dropout", CHW, null);
    INDArray x = images(DataType.DOUBLE, 15, 3);
    assertLogitGradientMatchesFiniteDifferences(m, x);
    INDArray t = m.layerOutput(images(DataType.DOUBLE, 16, 3), 1);
    Classifier.Gradient gl = m.layerGradient(x, 1, h -> h.sub(t).muli(2));
    INDArray numeric = numericGradient(xx -> {
      INDArray d = m.layerOutput(xx, 1).sub(t);
      return d.mul(d).sumNumber().doubleValue();
    }, x.dup());
    assertThat(Numerics.maxAbsDiff(gl.dx(), numeric)).isLessThan(1e-6);
    assertThat(net.getLayer("conv").conf().getLayer().getIDropout()).isNotNull();
    assertThat(net.getLayer("hidden").conf().getLayer().getIDropout()).isNotNull();
    assertThat(((org.deeplearning4j.nn.conf.layers.BaseLayer) net.getLayer("hidden").conf().getLayer()).getWeightNoise())
        .isNotNull();
  }

  /**
   * A LossLayer's logits are its input (here a linear layer's x W + b), and with no non-linear
   * layer at all the probes fall back to every hidden layer. A single OutputLayer on flat inputs
   * is an MLP too.
   */
  @Test
  void aLossLayersLogitsAreItsInput() {
    ComputationGraph net = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("lin", new DenseLayer.Builder().nOut(3).activation(Activation.IDENTITY).build(), "in")
        .addLayer("out", new org.deeplearning4j.nn.conf.layers.LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .activation(Activation.SOFTMAX).build(), "lin").setOutputs("out"), true);
    Dl4jClassifier m = Dl4jClassifier.of(net, "linear", CHW, null);
    INDArray x = images(DataType.DOUBLE, 15, 2);
    INDArray logits = x.reshape(2, 36).mmul(net.getParam("lin_W")).addiRowVector(net.getParam("lin_b"));
    assertThat(Numerics.maxAbsDiff(m.logits(x), logits)).isLessThan(1e-12);
    assertThat(m.layerNames()).containsExactly("lin");
    assertThat(m.numClasses()).isEqualTo(3);
    assertLogitGradientMatchesFiniteDifferences(m, x);

    ComputationGraph single = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
            .activation(Activation.SOFTMAX).build(), "in").setOutputs("out"), true);
    Dl4jClassifier s = Dl4jClassifier.of(single, "logistic", CHW, List.of());
    INDArray sl = x.reshape(2, 36).mmul(single.getParam("out_W")).addiRowVector(single.getParam("out_b"));
    assertThat(Numerics.maxAbsDiff(s.logits(x), sl)).isLessThan(1e-12);
  }

  /**
   * An OutputLayer without bias straight after a pooling layer (DL4J puts a flattening
   * preprocessor in front of it): the logits are the flattened pooled map times W.
   */
  @Test
  void anOutputLayerWithoutBiasAfterAPoolingLayer() {
    ComputationGraph net = graph(builder().setInputTypes(InputType.convolutional(6, 6, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build(), "in")
        .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), "conv")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).hasBias(false)
            .activation(Activation.SOFTMAX).build(), "pool").setOutputs("out"), false);
    Dl4jClassifier m = Dl4jClassifier.of(net, "nobias", CHW, null);
    assertThat(net.getParam("out_b")).isNull();
    INDArray x = images(DataType.DOUBLE, 16, 1);
    INDArray pooled = m.layerOutput(x, m.layerIndex("pool"));
    assertThat(pooled.shape()).containsExactly(1, 2, 2, 2);
    assertThat(Numerics.maxAbsDiff(m.logits(x), pooled.reshape('c', 1, 8).mmul(net.getParam("out_W")))).isLessThan(1e-12);
    assertLogitGradientMatchesFiniteDifferences(m, x);
  }

  /**
   * BatchNorm on a flattened feature map (a preprocessor in front of it), with gamma and beta
   * fixed by the configuration, storing its running variance as a variance or as log10 of the
   * standard deviation: the evaluation-mode gradient against central differences in each case.
   */
  @Test
  void batchNormGradientsWithAPreprocessorFixedGammaAndEitherVarianceForm() {
    // Each form of the variance once, gamma fixed in one of them (every combination would double the run time).
    for (boolean logStd : new boolean[] {false, true}) {
      boolean locked = !logStd;
      ComputationGraph net = graph(builder().setInputTypes(InputType.convolutional(6, 6, 1))
          .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.IDENTITY).build(), "in")
          .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().lockGammaBeta(locked)
              .gamma(1.7).beta(0.2).useLogStd(logStd).build(), "conv")
          .inputPreProcessor("bn", new org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor(4, 4, 2))
          .addLayer("dense", new DenseLayer.Builder().nOut(4).activation(Activation.SIGMOID).build(), "bn")
          .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
              .activation(Activation.SOFTMAX).build(), "dense").setOutputs("out"), false);
      Dl4jClassifier m = Dl4jClassifier.of(net, "bn", CHW, null);
      assertThat(m.layerNames()).as("BatchNorm is not a probe").containsExactly("dense");
      assertThat(m.layerOutput(images(DataType.DOUBLE, 17, 1), 0).shape()).containsExactly(1, 4);
      assertLogitGradientMatchesFiniteDifferences(m, images(DataType.DOUBLE, 18, 1));
    }
  }

  /**
   * DL4J's batch norm keeps x - mean and the normalised x (its fields {@code xMu}, {@code xHat})
   * after every forward pass, for a training backward this class never runs; each of its passes
   * frees and drops them, by reflection (DL4J is pinned at 1.0.0-M2.1). A DL4J that renames the
   * fields fails here, where the classifier would free nothing and say nothing.
   */
  @Test
  void everyPassDropsWhatTheBatchNormsKeptForTraining() throws ReflectiveOperationException {
    ComputationGraph net = graph(builder().setInputTypes(InputType.convolutional(6, 6, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build(), "in")
        .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(), "conv")
        .addLayer("dense", new DenseLayer.Builder().nOut(4).activation(Activation.SIGMOID).build(), "bn")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "dense").setOutputs("out"), false);
    Dl4jClassifier m = Dl4jClassifier.of(net, "bn", CHW, null);
    Object bn = net.getLayer("bn");
    List<java.lang.reflect.Field> kept = new java.util.ArrayList<>();
    for (String name : new String[] {"xMu", "xHat"}) {
      java.lang.reflect.Field f = org.deeplearning4j.nn.layers.normalization.BatchNormalization.class.getDeclaredField(name);
      f.setAccessible(true);
      kept.add(f);
    }
    INDArray x = images(DataType.DOUBLE, 19, 3);
    Map<String, Runnable> passes = new java.util.LinkedHashMap<>();
    passes.put("logits", () -> m.logits(x));
    passes.put("layerOutputs", () -> m.layerOutputs(x));
    passes.put("logitGradient", () -> m.logitGradient(x, l -> l.mul(0)));
    for (Map.Entry<String, Runnable> pass : passes.entrySet()) {
      net.output(x);
      for (java.lang.reflect.Field f : kept) assertThat(f.get(bn)).as("DL4J's own pass keeps %s", f.getName()).isNotNull();
      pass.getValue().run();
      for (java.lang.reflect.Field f : kept) assertThat(f.get(bn)).as("%s after %s", f.getName(), pass.getKey()).isNull();
    }
  }

  /**
   * A BatchNorm over channels-last maps: its gradient here assumes NCHW, so the gradient is
   * refused by name (the forward pass is DL4J's own and works).
   */
  @Test
  void batchNormInNhwcIsRefusedForGradients() {
    CNN2DFormat nhwc = CNN2DFormat.NHWC;
    ComputationGraph net = graph(builder().setInputTypes(InputType.convolutional(6, 6, 1, nhwc))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).dataFormat(nhwc).activation(Activation.IDENTITY)
            .build(), "in")
        .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().dataFormat(nhwc).build(), "conv")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "bn").setOutputs("out"), true);
    Dl4jClassifier m = Dl4jClassifier.of(net, "nhwc", new long[] {6, 6, 1}, null);
    INDArray x = images(DataType.DOUBLE, 22, 1).reshape(1, 6, 6, 1);
    assertThat(Numerics.maxAbsDiff(Transforms.softmax(m.logits(x), true), net.outputSingle(false, x))).isLessThan(1e-12);
    assertThatThrownBy(() -> m.logitGradient(x, logits -> logits)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nhwc: BatchNormalization 'bn' in NHWC is not supported");
  }

  /**
   * A MultiLayerNetwork's layers keep the names given to them (the conversion to a graph names
   * the vertices by index), and probes and layerIndex address them by those names.
   */
  @Test
  void aLoadedMultiLayerNetworksLayersKeepTheirNames(@TempDir Path dir) throws Exception {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(2).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU).name("features").build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).name("pooled").build())
        .layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).name("hidden").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional(6, 6, 1)).build();
    MultiLayerNetwork mln = new MultiLayerNetwork(conf);
    mln.init();
    Path zip = dir.resolve("named.zip");
    ModelSerializer.writeModel(mln, zip.toFile(), false);
    Dl4jClassifier m = Dl4jClassifier.load(zip, CHW, null);
    assertThat(m.layerNames()).containsExactly("features", "pooled", "hidden");
    assertThat(m.layerIndex("features")).isZero();
    assertThat(m.layerIndex("hidden")).isEqualTo(2);
    assertThat(m.layerIndex("last")).isEqualTo(2);
    assertThat(m.layerIndex("1")).isEqualTo(1);
    assertThatThrownBy(() -> m.layerIndex("conv")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no layer 'conv' (layers: 0..2, 'last' or one of [features, pooled, hidden])");
    assertThatThrownBy(() -> m.layerIndex("3")).hasMessageStartingWith("no layer '3' (layers: 0..2,");
    INDArray x = images(DataType.FLOAT, 19, 2);
    // The MultiLayerNetwork's own activations, by layer index: 0 = features, 2 = hidden.
    List<INDArray> ff = mln.feedForward(x, false);
    Dl4jClassifier probed = Dl4jClassifier.load(zip, CHW, List.of("features", "hidden"));
    assertThat(Numerics.maxAbsDiff(probed.layerOutputs(x).get(1), ff.get(3))).isEqualTo(0.0);
    assertThat(Numerics.maxAbsDiff(probed.layerOutputs(x).get(0), ff.get(1))).isEqualTo(0.0);
  }

  /** Eight layers (conv, bn, relu, conv2, block, pool, dense, out) and 20 + 8 + 38 + 95 + 18 parameters, counted by hand. */
  @Test
  void theSummaryNamesTheModelItsInputAndItsSize() {
    Dl4jClassifier m = Dl4jClassifier.of(TinyNetworks.graph(DataType.FLOAT, 5), "tiny", CHW, null);
    assertThat(m.summary()).isEqualTo("tiny (DL4J 8 layers, not invertible): input [1, 1, 6, 6], 179 parameters");
  }

  @Test
  void networksWithoutOneInputOneOutputAndALossBoundOutputAreRefused() {
    ComputationGraph twoInputs = graph(new NeuralNetConfiguration.Builder().graphBuilder().addInputs("a", "b")
        .setInputTypes(InputType.feedForward(36), InputType.feedForward(36))
        .addVertex("sum", new org.deeplearning4j.nn.conf.graph.ElementWiseVertex(
            org.deeplearning4j.nn.conf.graph.ElementWiseVertex.Op.Add), "a", "b")
        .addLayer("out", new OutputLayer.Builder().nOut(3).activation(Activation.SOFTMAX).build(), "sum")
        .setOutputs("out"), true);
    assertThatThrownBy(() -> Dl4jClassifier.of(twoInputs, "two", CHW, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("two: only networks with one input and one output are supported, this one has 2 and 1");
    ComputationGraph twoOutputs = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("o1", new OutputLayer.Builder().nOut(3).activation(Activation.SOFTMAX).build(), "in")
        .addLayer("o2", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "in")
        .setOutputs("o1", "o2"), true);
    assertThatThrownBy(() -> Dl4jClassifier.of(twoOutputs, "two", CHW, null))
        .hasMessage("two: only networks with one input and one output are supported, this one has 1 and 2");
    ComputationGraph denseOut = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("dense", new DenseLayer.Builder().nOut(3).build(), "in").setOutputs("dense"), true);
    assertThatThrownBy(() -> Dl4jClassifier.of(denseOut, "d", CHW, null))
        .hasMessage("d: the output vertex 'dense' must be an OutputLayer, LossLayer or CnnLossLayer, got DenseLayer");
    ComputationGraph vertexOut = graph(builder().setInputTypes(InputType.feedForward(36))
        .addLayer("dense", new DenseLayer.Builder().nOut(3).build(), "in")
        .addVertex("twice", new org.deeplearning4j.nn.conf.graph.ElementWiseVertex(
            org.deeplearning4j.nn.conf.graph.ElementWiseVertex.Op.Add), "dense", "dense").setOutputs("twice"), true);
    assertThatThrownBy(() -> Dl4jClassifier.of(vertexOut, "v", CHW, null))
        .hasMessage("v: the output vertex 'twice' must be an OutputLayer, LossLayer or CnnLossLayer, got no layer");
  }

  /**
   * A DL4J network's logits and layer outputs come from a pass in a workspace of its own, from
   * which only they are copied out: the same bits as the pass without one (as the gradient methods
   * ran until audit FA), and next to nothing left to the collector. Without it a logits call on 250
   * images left 124 MB at cnn-s (542 at resnet-s), the network's activations and its layers' working
   * memory; with it, before its batch norms' copies were freed, 72 MB at resnet-s.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"cnn-s", "resnet-s"})
  void evaluationPassesKeepOnlyWhatTheyReturnAndTheBitsOfAPassWithoutAWorkspace(String arch)
      throws InterruptedException {
    Dl4jClassifier m = untrainedBaseline(arch);
    INDArray x = Nd4j.rand(DataType.FLOAT, 8, 1, 32, 32);
    assertSameBits("logits", m.logits(x), m.gradientWithoutWorkspace(x, -1, l -> l.mul(0)).output());
    List<INDArray> layers = m.layerOutputs(x);
    for (int k = 0; k < layers.size(); k++) {
      INDArray alone = m.gradientWithoutWorkspace(x, k, h -> h.mul(0)).output();
      assertSameBits(m.layerNames().get(k), layers.get(k), alone);
      assertSameBits(m.layerNames().get(k), m.layerOutput(x, k), alone);
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(org.irevnet.nn.NativeHeap.usage() != null, "no glibc mallinfo2");
    INDArray batch = Nd4j.rand(DataType.FLOAT, 250, 1, 32, 32);
    m.logits(batch);
    List<Long> kept = org.irevnet.testing.KeptBytes.of(5, run -> m.logits(batch));
    assertThat(org.irevnet.testing.KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept)
        .isLessThan(4L << 20);
  }

  /**
   * The input gradients of a DL4J network (FGSM, PGD and feature matching on a baseline) come from a
   * forward and backward pass in the evaluation passes' workspace, of which only the target's output
   * and the gradient are copied out: the same bits as the pass without one. Without it, one logit
   * gradient on 64 images left 123 MB to the collector at cnn-s and 460 MB at resnet-s (audit FA).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"cnn-s", "resnet-s"})
  void gradientPassesKeepOnlyWhatTheyReturnAndTheBitsOfAPassWithoutAWorkspace(String arch)
      throws InterruptedException {
    Dl4jClassifier m = untrainedBaseline(arch);
    // Losses whose gradients depend on the output, as the attacks' do; l.mul(0) would give dx = 0 either way.
    java.util.function.UnaryOperator<INDArray> dLogits = l -> l.mul(l).subi(0.5);
    INDArray x = Nd4j.rand(DataType.FLOAT, 8, 1, 32, 32);
    Classifier.Gradient g = m.logitGradient(x, dLogits);
    Classifier.Gradient alone = m.gradientWithoutWorkspace(x, -1, dLogits);
    assertSameBits("logits", g.output(), alone.output());
    assertSameBits("logit gradient", g.dx(), alone.dx());
    assertThat(Tensors.maxAbs(alone.dx())).as("a gradient that is not zero").isGreaterThan(0);
    for (int k : new int[] {0, m.layerNames().size() - 1}) { // the first and deepest probed layers
      INDArray target = Nd4j.rand(DataType.FLOAT, m.layerOutput(x, k).shape());
      java.util.function.UnaryOperator<INDArray> dOut = h -> h.sub(target).muli(2);
      Classifier.Gradient gl = m.layerGradient(x, k, dOut);
      Classifier.Gradient layerAlone = m.gradientWithoutWorkspace(x, k, dOut);
      assertSameBits(m.layerNames().get(k), gl.output(), layerAlone.output());
      assertSameBits(m.layerNames().get(k) + " gradient", gl.dx(), layerAlone.dx());
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(org.irevnet.nn.NativeHeap.usage() != null, "no glibc mallinfo2");
    INDArray batch = Nd4j.rand(DataType.FLOAT, 64, 1, 32, 32);
    m.logitGradient(batch, dLogits);
    List<Long> kept = org.irevnet.testing.KeptBytes.of(5, run -> m.logitGradient(batch, dLogits));
    // What a call returns is 262 KB (the gradient) and 2.5 KB (the logits).
    assertThat(org.irevnet.testing.KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept)
        .isLessThan(16L << 20);
  }

  /** An untrained baseline for 32x32 grey images and ten classes (seed 7). */
  private static Dl4jClassifier untrainedBaseline(String arch) {
    return Dl4jClassifier.of(Baselines.build(arch, 1, 10, 7, 3e-3, 0), arch, new long[] {1, 32, 32}, null);
  }

  /** Equal to the bit (float32): INDArray.equals allows a difference of 1e-5. */
  private static void assertSameBits(String what, INDArray actual, INDArray expected) {
    assertThat(actual.shape()).as(what + ": shape").isEqualTo(expected.shape());
    assertThat(Nd4j.toFlattened('c', actual).toFloatVector()).as(what).containsExactly(
        Nd4j.toFlattened('c', expected).toFloatVector());
  }
}

