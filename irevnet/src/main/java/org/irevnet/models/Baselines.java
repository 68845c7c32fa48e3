package org.irevnet.models;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The non-invertible baselines, built with DL4J for {@code c x 32 x 32} inputs (the channels are
 * the dataset's: 1 for Fashion-MNIST, 3 for CIFAR-10), softmax cross-entropy, Adam.
 *
 * <ul>
 *   <li>{@code resnet-s}: a ResNet-style CNN. Stem conv3x3(16, stride 2)-BN-ReLU, then three stages of two
 *       basic blocks (16, 32, 64 channels at 16x16, 8x8, 4x4; the first block of stages 2 and 3
 *       has stride 2 and a 1x1-conv-BN shortcut), each block conv3x3-BN-ReLU-conv3x3-BN, add,
 *       ReLU; global average pool; linear readout. The ReLU after each add is named {@code
 *       s<stage>b<block>}.
 *   <li>{@code cnn-s}: a plain LeNet-like CNN. conv5x5(20)-ReLU, max-pool 2, conv5x5(50)-ReLU,
 *       max-pool 2, dense(500)-ReLU, linear readout.
 * </ul>
 */
public final class Baselines {
  public static final List<String> NAMES = List.of("resnet-s", "cnn-s");
  /** Input height and width of every baseline (28x28 images are zero-padded by the data pipeline). */
  public static final int SIZE = 32;

  private Baselines() {}

  /** A split padded to the baselines' 32x32 input (the channels are the dataset's). */
  public static org.irevnet.data.Dataset prepare(org.irevnet.data.DataSource src, org.irevnet.data.Split split) {
    return prepare(src.load(split));
  }

  /** {@link #prepare(org.irevnet.data.DataSource, org.irevnet.data.Split)} of a split already loaded. */
  public static org.irevnet.data.Dataset prepare(org.irevnet.data.Dataset loaded) {
    return org.irevnet.data.Preprocess.padTo(loaded, SIZE, SIZE);
  }

  public static boolean isBaseline(String arch) {
    return NAMES.contains(arch);
  }

  /** An initialised baseline for {@code channels x 32 x 32} inputs and {@code classes} outputs. */
  public static ComputationGraph build(String arch, int channels, int classes, long seed, double lr, double weightDecay) {
    NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder().seed(dl4jSeed(seed)).updater(new Adam(lr))
        .weightInit(WeightInit.RELU).convolutionMode(ConvolutionMode.Same);
    ComputationGraphConfiguration conf = switch (arch) {
      case "resnet-s" -> resnet(base, channels, classes);
      case "cnn-s" -> cnn(base, channels, classes);
      default -> throw new IllegalArgumentException("unknown baseline '" + arch + "': use one of " + NAMES);
    };
    if (weightDecay > 0) {
      // Set per layer: DL4J (1.0.0-M2.1) puts a network-wide weight decay (the builder's) into every
      // layer's list twice, and its updater applies each entry, which decayed at twice the rate.
      for (GraphVertex v : conf.getVertices().values()) {
        if (v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseLayer b) {
          b.setRegularization(new ArrayList<>(List.of(new WeightDecay(weightDecay, true))));
        }
      }
    }
    ComputationGraph net = new ComputationGraph(conf);
    net.init();
    return net;
  }

  /**
   * The seed given to DL4J for {@code seed}. ND4J (1.0.0-M2.1) takes seed 0 for none: its random
   * generator, set to 0, draws other numbers in every process, so every baseline trained at the
   * default {@code --seed 0} started from other weights, and two runs of one command differed from
   * the first step. 0 is given as {@link Long#MIN_VALUE} (which thus gives the weights of seed 0),
   * every other seed as itself.
   */
  static long dl4jSeed(long seed) {
    return seed == 0 ? Long.MIN_VALUE : seed;
  }

  private static ComputationGraphConfiguration resnet(NeuralNetConfiguration.Builder base, int channels, int classes) {
    ComputationGraphConfiguration.GraphBuilder g = base.graphBuilder().addInputs("input")
        .setInputTypes(InputType.convolutional(SIZE, SIZE, channels));
    g.addLayer("stem_conv", conv(3, 16, 2), "input").addLayer("stem_bn", bn(), "stem_conv")
        .addLayer("stem", relu(), "stem_bn");
    String prev = "stem";
    int[] widths = {16, 32, 64};
    for (int s = 0; s < widths.length; s++) {
      for (int b = 0; b < 2; b++) {
        String n = "s" + (s + 1) + "b" + (b + 1);
        int stride = s > 0 && b == 0 ? 2 : 1;
        g.addLayer(n + "_conv1", conv(3, widths[s], stride), prev).addLayer(n + "_bn1", bn(), n + "_conv1")
            .addLayer(n + "_relu1", relu(), n + "_bn1")
            .addLayer(n + "_conv2", conv(3, widths[s], 1), n + "_relu1").addLayer(n + "_bn2", bn(), n + "_conv2");
        String shortcut = prev;
        if (stride != 1) {
          g.addLayer(n + "_proj", conv(1, widths[s], stride), prev).addLayer(n + "_proj_bn", bn(), n + "_proj");
          shortcut = n + "_proj_bn";
        }
        g.addVertex(n + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), n + "_bn2", shortcut)
            .addLayer(n, relu(), n + "_add");
        prev = n;
      }
    }
    g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev)
        .addLayer("output", output(classes), "pool").setOutputs("output");
    return g.build();
  }

  private static ComputationGraphConfiguration cnn(NeuralNetConfiguration.Builder base, int channels, int classes) {
    return base.graphBuilder().addInputs("input").setInputTypes(InputType.convolutional(SIZE, SIZE, channels))
        .addLayer("conv1", new ConvolutionLayer.Builder(5, 5).nOut(20).convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.RELU).build(), "input")
        .addLayer("pool1", maxPool(), "conv1")
        .addLayer("conv2", new ConvolutionLayer.Builder(5, 5).nOut(50).convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.RELU).build(), "pool1")
        .addLayer("pool2", maxPool(), "conv2")
        .addLayer("dense", new DenseLayer.Builder().nOut(500).activation(Activation.RELU).build(), "pool2")
        .addLayer("output", output(classes), "dense").setOutputs("output").build();
  }

  private static ConvolutionLayer conv(int k, int out, int stride) {
    return new ConvolutionLayer.Builder(k, k).stride(stride, stride).nOut(out).activation(Activation.IDENTITY)
        .hasBias(false).build();
  }

  private static BatchNormalization bn() {
    return new BatchNormalization.Builder().build();
  }

  private static ActivationLayer relu() {
    return new ActivationLayer.Builder().activation(Activation.RELU).build();
  }

  private static SubsamplingLayer maxPool() {
    return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build();
  }

  private static OutputLayer output(int classes) {
    return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes).activation(Activation.SOFTMAX)
        .weightInit(WeightInit.XAVIER).build();
  }
}
