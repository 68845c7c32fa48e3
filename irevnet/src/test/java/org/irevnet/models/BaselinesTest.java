package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The baselines are what Baselines' javadoc says they are: the parameter counts are derived from
 * the described layers by hand (a k x k convolution from a to b channels has k*k*a*b weights, DL4J's
 * BatchNorm keeps four vectors per channel: gamma, beta, mean and variance), the spatial sizes
 * from the strides, and the residual wiring from the outputs of the named vertices.
 */
class BaselinesTest {

  private static long conv(int k, int in, int out) {
    return (long) k * k * in * out;
  }

  private static long bn(int channels) {
    return 4L * channels;
  }

  /** A basic block conv3x3-BN-ReLU-conv3x3-BN (no biases), with the 1x1-conv-BN shortcut when it downsamples. */
  private static long block(int in, int out, boolean projected) {
    return conv(3, in, out) + bn(out) + conv(3, out, out) + bn(out) + (projected ? conv(1, in, out) + bn(out) : 0);
  }

  @Test
  void resnetSHasTheDescribedLayersAndShapes() {
    ComputationGraph net = Baselines.build("resnet-s", 3, 10, 1, 1e-3, 0);
    long expected = conv(3, 3, 16) + bn(16)
        + block(16, 16, false) + block(16, 16, false)
        + block(16, 32, true) + block(32, 32, false)
        + block(32, 64, true) + block(64, 64, false)
        + 64 * 10 + 10;
    assertThat(net.numParams()).isEqualTo(expected);
    // Only the first block of stages 2 and 3 has a projection shortcut.
    for (String n : List.of("s1b1", "s1b2", "s2b2", "s3b2")) assertThat(net.getVertex(n + "_proj")).as(n).isNull();
    for (String n : List.of("s2b1", "s3b1")) {
      ConvolutionLayer proj = (ConvolutionLayer) net.getLayer(n + "_proj").conf().getLayer();
      assertThat(proj.getKernelSize()).containsExactly(1, 1);
      assertThat(proj.getStride()).containsExactly(2, 2);
      assertThat(proj.hasBias()).isFalse();
    }

    Dl4jClassifier m = Dl4jClassifier.of(net, "resnet-s", new long[] {3, 32, 32}, null);
    List<String> expectedNames = new ArrayList<>(List.of("stem"));
    for (int s = 1; s <= 3; s++) for (int b = 1; b <= 2; b++) expectedNames.addAll(List.of("s" + s + "b" + b + "_relu1", "s" + s + "b" + b));
    expectedNames.add("pool");
    assertThat(m.layerNames()).containsExactlyElementsOf(expectedNames);
    assertThat(m.numClasses()).isEqualTo(10);
    Nd4j.getRandom().setSeed(1);
    List<INDArray> outs = m.layerOutputs(Nd4j.rand(DataType.FLOAT, 1, 3, 32, 32));
    assertThat(outs.get(0).shape()).containsExactly(1, 16, 16, 16);
    int[] widths = {16, 32, 64}, sides = {16, 8, 4};
    for (int s = 0; s < 3; s++) {
      for (int i = 1; i <= 4; i++) assertThat(outs.get(4 * s + i).shape()).containsExactly(1, widths[s], sides[s], sides[s]);
    }
    assertThat(outs.get(13).shape()).containsExactly(1, 64);
  }

  /** Each block's named output is ReLU(second BN + shortcut): the input itself, or its projection when it downsamples. */
  @Test
  void resnetSBlocksAddTheirShortcutBeforeTheReLU() {
    ComputationGraph net = Baselines.build("resnet-s", 1, 4, 2, 1e-3, 0);
    String[][] wiring = {{"s1b1", "stem"}, {"s1b2", "s1b1"}, {"s2b1", "s2b1_proj_bn"}, {"s2b2", "s2b1"},
        {"s3b1", "s3b1_proj_bn"}, {"s3b2", "s3b1"}};
    java.util.Set<String> needed = new java.util.HashSet<>();
    for (String[] w : wiring) needed.addAll(List.of(w[0], w[0] + "_bn2", w[1]));
    // Probed layers are given once each and in the network's order.
    List<String> probed = new ArrayList<>();
    for (int v : net.topologicalSortOrder()) {
      if (needed.contains(net.getVertices()[v].getVertexName())) probed.add(net.getVertices()[v].getVertexName());
    }
    Dl4jClassifier m = Dl4jClassifier.of(net, "resnet-s", new long[] {1, 32, 32}, probed);
    Nd4j.getRandom().setSeed(2);
    List<INDArray> outs = m.layerOutputs(Nd4j.rand(DataType.FLOAT, 2, 1, 32, 32));
    for (String[] w : wiring) {
      INDArray sum = Transforms.relu(outs.get(probed.indexOf(w[0] + "_bn2")).add(outs.get(probed.indexOf(w[1]))), false);
      assertThat(Numerics.maxAbsDiff(outs.get(probed.indexOf(w[0])), sum)).as(w[0]).isLessThan(1e-6);
    }
  }

  @Test
  void cnnSHasTheDescribedLayersAndShapes() {
    ComputationGraph net = Baselines.build("cnn-s", 1, 10, 1, 1e-3, 0);
    // Unpadded 5x5 convolutions: 32 -> 28, pool 14 -> 10, pool 5.
    long expected = conv(5, 1, 20) + 20 + conv(5, 20, 50) + 50 + 50L * 5 * 5 * 500 + 500 + 500 * 10 + 10;
    assertThat(net.numParams()).isEqualTo(expected);
    Dl4jClassifier m = Dl4jClassifier.of(net, "cnn-s", new long[] {1, 32, 32}, null);
    assertThat(m.layerNames()).containsExactly("conv1", "pool1", "conv2", "pool2", "dense");
    Nd4j.getRandom().setSeed(3);
    List<INDArray> outs = m.layerOutputs(Nd4j.rand(DataType.FLOAT, 1, 1, 32, 32));
    long[][] shapes = {{1, 20, 28, 28}, {1, 20, 14, 14}, {1, 50, 10, 10}, {1, 50, 5, 5}, {1, 500}};
    for (int i = 0; i < shapes.length; i++) assertThat(outs.get(i).shape()).as(m.layerNames().get(i)).containsExactly(shapes[i]);
  }

  @Test
  void seedZeroTheDefaultGivesTheSameWeightsEveryTime() {
    // ND4J takes seed 0 for none: two baselines built at seed 0 had other weights.
    for (String arch : Baselines.NAMES) {
      assertThat(Baselines.build(arch, 1, 10, 0, 1e-3, 0).params()).as(arch)
          .isEqualTo(Baselines.build(arch, 1, 10, 0, 1e-3, 0).params());
    }
    assertThat(Baselines.build("cnn-s", 1, 10, 0, 1e-3, 0).params())
        .isNotEqualTo(Baselines.build("cnn-s", 1, 10, 1, 1e-3, 0).params());
  }

  @Test
  void theLearningRateAndSeedAreTheCallers() {
    for (String arch : Baselines.NAMES) {
      ComputationGraph net = Baselines.build(arch, 1, 10, 5, 2e-3, 0);
      for (var layer : net.getLayers()) {
        if (!(layer.conf().getLayer() instanceof BaseLayer b) || layer.numParams() == 0) continue;
        assertThat(((Adam) b.getIUpdater()).getLearningRate()).as(arch).isEqualTo(2e-3);
        assertThat(b.getRegularization()).as("no weight decay at 0").isEmpty();
      }
      assertThat(Baselines.build(arch, 1, 10, 5, 1e-3, 0).params()).as("same seed, same weights").isEqualTo(net.params());
      assertThat(Baselines.build(arch, 1, 10, 6, 2e-3, 0).params()).isNotEqualTo(net.params());
      assertThat(Baselines.isBaseline(arch)).isTrue();
    }
    assertThat(Baselines.isBaseline("fi-revnet-s")).isFalse();
    assertThatThrownBy(() -> Baselines.build("resnet", 1, 10, 1, 1e-3, 0))
        .hasMessage("unknown baseline 'resnet': use one of [resnet-s, cnn-s]");
  }

  /**
   * {@code --weight-decay W} is decoupled weight decay (AdamW, as the invertible models' optimiser
   * has it): one step later, the decayed run's weights differ from the undecayed run's by exactly
   * lr * W * theta (DL4J applies it after Adam's update, which the two runs share). DL4J 1.0.0-M2.1
   * puts a network-wide weight decay into every layer's list twice, and the weights decayed at 2 W.
   */
  @Test
  void weightDecayIsAppliedOnceAtTheGivenRate() {
    Nd4j.getRandom().setSeed(4);
    INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 32, 32);
    INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 10);
    for (int i = 0; i < 4; i++) y.putScalar(i, i, 1.0);
    double lr = 1e-2, wd = 0.1;
    for (String arch : Baselines.NAMES) {
      ComputationGraph plain = Baselines.build(arch, 1, 10, 5, lr, 0), decayed = Baselines.build(arch, 1, 10, 5, lr, wd);
      for (var layer : decayed.getLayers()) {
        if (layer.numParams() == 0) continue;
        assertThat(((BaseLayer) layer.conf().getLayer()).getRegularization()).as("%s %s", arch, layer.conf().getLayer().getLayerName())
            .containsExactly(new WeightDecay(wd, true));
      }
      List<String> checked = List.of(arch.equals("cnn-s") ? "conv1_W" : "stem_conv_W", "output_W");
      List<INDArray> before = checked.stream().map(p -> plain.getParam(p).dup()).toList();
      plain.fit(new DataSet(x, y));
      decayed.fit(new DataSet(x, y));
      for (int k = 0; k < checked.size(); k++) {
        String p = checked.get(k);
        INDArray expected = before.get(k).mul(lr * wd);
        INDArray decay = plain.getParam(p).sub(decayed.getParam(p));
        assertThat(Numerics.maxAbsDiff(decay, expected)).as("%s %s", arch, p)
            .isLessThan(0.01 * Tensors.maxAbs(expected));
      }
    }
  }

  @Test
  void preparePadsAnImageSplitTo32By32(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 4, 2);
    Dataset raw = Datasets.resolve(data.toString()).load(Split.TEST);
    Dataset padded = Baselines.prepare(Datasets.resolve(data.toString()), Split.TEST);
    assertThat(padded.images().shape()).containsExactly(2, 1, 32, 32);
    assertThat(padded.labels()).containsExactly(raw.labels());
    // Two rows and columns of zeros on each side, the image in the middle.
    assertThat(padded.images().castTo(DataType.DOUBLE).sumNumber().doubleValue())
        .isCloseTo(raw.images().castTo(DataType.DOUBLE).sumNumber().doubleValue(), org.assertj.core.data.Offset.offset(1e-9));
    assertThat(Numerics.maxAbsDiff(padded.images().get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 30),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 30)), raw.images())).isZero();
    assertThat(Baselines.prepare(raw).images().shape()).containsExactly(2, 1, 32, 32);
  }
}
