package org.irevnet.models;

import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What probes and attacks need of a trained image classifier, invertible or not: logits, the
 * outputs of named layers, and input gradients of losses of either. Implemented by the invertible
 * models ({@link InvertibleClassifier}: the layers are its stages) and by DL4J networks ({@link
 * Dl4jClassifier}: the layers are the network's own layers or vertices), so one analysis runs
 * unchanged on both and their curves can be compared.
 *
 * <p>Everything runs in evaluation mode (BatchNorm uses running statistics, no dropout) and leaves
 * the model unchanged: the gradient methods touch no parameter or parameter gradient.
 */
public interface Classifier {
  /** What a loss was computed from (the logits, or a layer's output) and its gradient to the input. */
  record Gradient(INDArray output, INDArray dx) {}

  /** One line describing the model, for logs and reports. */
  String summary();

  int numClasses();

  /** {@code [n, c, h, w]} of the model's input. */
  long[] inputShape(long n);

  DataType dataType();

  /**
   * Refuses {@code x} unless its shape is {@link #inputShape} for its batch size and its type the
   * model's; the one-line message names {@code model}, what it expects and what it got. Another
   * type was not refused by a DL4J network (it cast a float64 input to its float32 in silence) and
   * was refused by an invertible model's first block with parameters, in a message naming the block.
   */
  default void requireInput(String model, INDArray x) {
    long[] expected = inputShape(x.rank() == 0 ? 0 : x.size(0));
    if (!Arrays.equals(x.shape(), expected)) {
      throw new IllegalArgumentException(model + " expects inputs of shape " + Tensors.shape(expected) + ", got "
          + Tensors.shape(x.shape()));
    }
    if (x.dataType() != dataType()) {
      throw new IllegalArgumentException(model + " expects " + Tensors.typeName(dataType()) + " inputs (the model's type), got "
          + Tensors.typeName(x.dataType()) + "; cast them with castTo(DataType." + dataType() + ")");
    }
  }

  /**
   * The logits {@code [n, classes]} of {@code x}: a new array, the caller's to free ({@code
   * Evaluation} and {@code Tensors.batched} free it once read), sharing no memory with the model.
   */
  INDArray logits(INDArray x);

  /** The probed layers, from input to output (the layers the probes and feature matching address). */
  List<String> layerNames();

  /** The outputs of every probed layer for {@code x}, in {@link #layerNames()} order. */
  List<INDArray> layerOutputs(INDArray x);

  /**
   * The output of probed layer {@code layer} (an index into {@link #layerNames()}): a new array, the
   * caller's to free, as {@link #logits}.
   */
  INDArray layerOutput(INDArray x, int layer);

  /**
   * The logits of {@code x} and the input gradient of a loss whose gradient with respect to the
   * logits is {@code dLogits.apply(logits)}: both new arrays, the caller's. The array the function
   * is given lives only as long as the pass (a DL4J network's is in the pass's workspace): it must
   * keep nothing of it, and may return an array the caller keeps, which is left as it is.
   */
  Gradient logitGradient(INDArray x, UnaryOperator<INDArray> dLogits);

  /**
   * The output {@code h} of probed layer {@code layer} and the input gradient of a loss whose
   * gradient with respect to {@code h} is {@code dOutput.apply(h)}, as {@link #logitGradient}.
   */
  Gradient layerGradient(INDArray x, int layer, UnaryOperator<INDArray> dOutput);

  /** The message for a model without probed layers (a DL4J network whose output layer reads the input). */
  default String noLayersToProbe() {
    return summary() + ": no hidden layer or vertex to probe (its output layer reads the input)";
  }

  /**
   * Index of a probed layer given as "last", its name or its index, or a one-line error listing
   * them. Names before indices: a DL4J vertex may be called "1", and then it means that vertex.
   */
  default int layerIndex(String layer) {
    List<String> names = layerNames();
    // Without this, a network whose output layer reads the input said "layer must be in 0..-1, got -1".
    if (names.isEmpty()) throw new IllegalArgumentException(noLayersToProbe());
    if (layer.equals("last")) return names.size() - 1;
    if (names.contains(layer)) return names.indexOf(layer);
    if (layer.matches("\\d{1,9}") && Integer.parseInt(layer) < names.size()) return Integer.parseInt(layer);
    throw new IllegalArgumentException("no layer '" + layer + "' (layers: 0.." + (names.size() - 1) + ", 'last' or one of "
        + names + ")");
  }
}
