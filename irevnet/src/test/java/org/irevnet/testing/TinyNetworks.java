package org.irevnet.testing;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Tiny DL4J networks (1x6x6 inputs, 3 classes) for tests of the non-invertible path. */
public final class TinyNetworks {
  private TinyNetworks() {}

  /**
   * A tiny residual graph in {@code dt}: conv, BN, ReLU, conv, added to the first conv's output,
   * tanh, max-pool, dense sigmoid, softmax output.
   */
  public static ComputationGraph graph(DataType dt, long seed) {
    ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(seed).dataType(dt)
        .updater(new Adam(0.05)).convolutionMode(ConvolutionMode.Same).graphBuilder().addInputs("in")
        .setInputTypes(InputType.convolutional(6, 6, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.IDENTITY).build(), "in")
        .addLayer("bn", new BatchNormalization.Builder().build(), "conv")
        .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn")
        .addLayer("conv2", new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.IDENTITY).build(), "relu")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "conv2", "conv")
        .addLayer("block", new ActivationLayer.Builder().activation(Activation.TANH).build(), "add")
        .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), "block")
        .addLayer("dense", new DenseLayer.Builder().nOut(5).activation(Activation.SIGMOID).build(), "pool")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "dense")
        .setOutputs("out").build());
    net.init();
    return net;
  }

  /** A few training steps, so that BatchNorm's running statistics are not the identity. */
  public static void train(ComputationGraph net, int classes, long seed) {
    Nd4j.getRandom().setSeed(seed);
    for (int i = 0; i < 5; i++) {
      INDArray x = Nd4j.rand(net.params().dataType(), 8, 1, 6, 6);
      INDArray y = Nd4j.zeros(net.params().dataType(), 8, classes);
      for (int r = 0; r < 8; r++) y.putScalar(r, (r + i) % classes, 1.0);
      net.fit(new DataSet(x, y));
    }
  }

}
