package org.irevnet.train;

import java.util.Map;
import java.util.Random;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The iCE adversary {@code D_nc}: an MLP {@code linear(in, hidden) - ReLU - linear(hidden,
 * classes)} (or one linear map when {@code hidden} is 0) on ND4J, with its own Adam. It learns
 * only in {@link #trainStep}; {@link #inputGradient} gives the model {@code dL/dinput} without
 * touching the adversary's parameters or gradients.
 */
final class NuisanceClassifier {
  private final int hidden;
  private final ParamTable params = ParamTable.empty();
  private final Param[] w;
  private final Param[] b;
  private final AdamOptimizer adam;

  /** Activations of one forward pass. */
  record Tape(INDArray x, INDArray hidden, INDArray logits) {}

  NuisanceClassifier(int in, int hidden, int classes, DataType dt, double lr, Random rng) {
    this.hidden = hidden;
    int layers = hidden == 0 ? 1 : 2;
    w = new Param[layers];
    b = new Param[layers];
    for (int l = 0; l < layers; l++) {
      long fanIn = l == 0 ? in : hidden;
      long fanOut = l == layers - 1 ? classes : hidden;
      w[l] = params.add("fc" + l + ".weight", Init.uniform(dt, rng, 0, fanIn, fanOut));
      b[l] = params.add("fc" + l + ".bias", Init.uniform(dt, rng, 0, 1, fanOut));
    }
    reinitialize(rng);
    adam = new AdamOptimizer(params, lr);
  }

  ParamTable params() {
    return params;
  }

  /** Fresh weights (PyTorch's default scale {@code U(+-1/sqrt(fan_in))}) and a fresh Adam state. */
  void reinitialize(Random rng) {
    for (int l = 0; l < w.length; l++) {
      long[] s = w[l].value().shape();
      double bound = 1.0 / Math.sqrt(s[0]);
      w[l].set(Init.uniform(w[l].value().dataType(), rng, bound, s));
      b[l].set(Init.uniform(b[l].value().dataType(), rng, bound, b[l].value().shape()));
    }
    if (adam != null) adam.resetState();
  }

  /**
   * The activations at {@code x}. The layers multiply by {@link Tensors#product}, mmul's bits without
   * the column-major product mmul leaves to the collector: {@link IceObjective#evaluate} passes the
   * whole split outside any workspace, where that product (the hidden layer's size, 2 KB an image at
   * width 512 in float32) was 6.3 of the 7.5 MB a call kept at fi-revnet-s's three adversaries on
   * 1,000 images, 1.2 MB now. In the updates' and the terms' workspaces it costs as much as mmul.
   */
  Tape forward(INDArray x) {
    if (hidden == 0) return new Tape(x, null, Tensors.product(x, w[0].value(), false, false).addi(b[0].value()));
    INDArray h = Transforms.relu(Tensors.product(x, w[0].value(), false, false).addi(b[0].value()), false);
    return new Tape(x, h, Tensors.product(h, w[1].value(), false, false).addi(b[1].value()));
  }

  /** {@code dL/dx} of a loss of this adversary's logits; the adversary's own state is untouched. */
  INDArray inputGradient(Tape t, INDArray dLogits) {
    if (hidden == 0) return dLogits.mmul(w[0].value().transpose());
    return hiddenGradient(t, dLogits).mmul(w[0].value().transpose());
  }

  /**
   * One Adam step on the mean cross-entropy of {@code x} (detached inputs) against the labels. The
   * passes' arrays live in a reused workspace ({@link BlockWorkspace}); only the gradients they add
   * to outlive it. Left to the collector, each step's (mmul's products, the first layer's weight
   * gradient twice over) came to 5.0 MB at fi-revnet-s's 1,014 nuisance dimensions and width 512,
   * 45 MB a model step at iCE's default three adversaries of three updates each.
   */
  void trainStep(INDArray x, int[] labels) {
    BlockWorkspace.run(() -> {
      Tape t = forward(x);
      INDArray g = Losses.softmaxCrossEntropy(t.logits(), labels).grad();
      if (hidden == 0) {
        accumulate(0, x, g);
      } else {
        accumulate(1, t.hidden(), g);
        accumulate(0, x, hiddenGradient(t, g));
      }
      return null;
    }, r -> r);
    adam.step();
  }

  private INDArray hiddenGradient(Tape t, INDArray dLogits) {
    return dLogits.mmul(w[1].value().transpose()).muli(t.hidden().gt(0).castTo(dLogits.dataType()));
  }

  private void accumulate(int l, INDArray input, INDArray dOut) {
    w[l].grad().addi(input.transpose().mmul(dOut));
    b[l].grad().addi(dOut.sum(true, 0));
  }

  /** Parameters and Adam state, for checkpoints (names relative to this adversary). */
  Map<String, INDArray> state() {
    Map<String, INDArray> m = params.state();
    m.putAll(adam.state());
    return m;
  }

  void loadState(Map<String, INDArray> m) {
    Map<String, INDArray> p = new java.util.LinkedHashMap<>(m);
    Map<String, INDArray> opt = new java.util.LinkedHashMap<>();
    for (String k : Map.copyOf(p).keySet()) if (k.startsWith("adam.")) opt.put(k, p.remove(k));
    params.load(p);
    adam.loadState(opt);
  }
}
