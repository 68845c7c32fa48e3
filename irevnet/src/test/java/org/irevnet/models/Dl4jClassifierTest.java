package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    Dl4jClassifier named = Dl4jClassifier.of(net, "tiny", CHW, List.of("add", "bn"));
    List<INDArray> pre = named.layerOutputs(x);
    assertThat(Numerics.maxAbsDiff(Transforms.tanh(pre.get(0), true), ff.get("block"))).isEqualTo(0.0);
    assertThat(Numerics.maxAbsDiff(Transforms.relu(pre.get(1), true), ff.get("relu"))).isEqualTo(0.0);
    assertThat(Numerics.maxAbsDiff(pre.get(1), ff.get("bn"))).isGreaterThan(0.0);
    assertThat(pre.get(1).minNumber().doubleValue()).isLessThan(0.0);
    assertThatThrownBy(() -> Dl4jClassifier.of(net, "tiny", CHW, List.of("nope")))
        .hasMessageContaining("no hidden layer or vertex 'nope'");
  }

  @Test
  void imagesOfAShapeTheNetworkDoesNotTakeAreAOneLineRefusal() {
    ComputationGraph net = TinyNetworks.graph(DataType.FLOAT, 5);
    assertThatThrownBy(() -> Dl4jClassifier.of(net, "tiny", new long[] {3, 6, 6}, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tiny: does not take images of shape [3, 6, 6]")
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
    assertThat(g.dx().amaxNumber().doubleValue()).isGreaterThan(1e-3);

    // ||h(x) - t||^2 at the residual block (through tanh, the add, both branches and BatchNorm).
    int block = m.layerIndex("block");
    INDArray t = m.layerOutput(images(DataType.DOUBLE, 13, 2), block);
    Classifier.Gradient gl = m.layerGradient(x, block, h -> h.sub(t).muli(2));
    INDArray numericL = numericGradient(xx -> {
      INDArray d = m.layerOutput(xx, block).sub(t);
      return d.mul(d).sumNumber().doubleValue();
    }, x.dup());
    assertThat(Numerics.maxAbsDiff(gl.dx(), numericL)).isLessThan(1e-6);
    assertThat(gl.dx().amaxNumber().doubleValue()).isGreaterThan(1e-3);
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
        });
    assertThatThrownBy(() -> Dl4jClassifier.load(dir.resolve("missing.zip"), CHW, null))
        .hasMessageContaining("no such model file");
  }
}
