package org.irevnet.models;

import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The i-RevNet readout, its only non-invertible part: BatchNorm(c) - ReLU - global average pool
 * - Linear(c -> classes). In training mode BatchNorm uses batch statistics and updates running
 * averages (momentum 0.1, PyTorch's convention); in evaluation mode it uses the running ones.
 * Names follow PyTorch ({@code bn.weight}, {@code bn.running_mean}, {@code linear.weight}).
 */
public final class ReadoutHead {
  static final double EPS = 1e-5;
  static final double MOMENTUM = 0.1;
  private final Param gamma, beta, runMean, runVar, w, b;
  private final ParamTable params = ParamTable.empty();

  /** What one forward pass keeps for its backward pass. */
  public record Tape(INDArray xhat, INDArray invStd, INDArray act, INDArray pooled, boolean training) {
    /** Frees the tape's arrays now, once no backward pass will read them. */
    void free() {
      Tensors.freeAll(xhat, invStd, act, pooled);
    }
  }

  public ReadoutHead(int channels, int classes, DataType dt, java.util.Random rng) {
    gamma = params.add("bn.weight", Nd4j.ones(dt, 1, channels, 1, 1));
    beta = params.add("bn.bias", Nd4j.zeros(dt, 1, channels, 1, 1));
    runMean = params.addBuffer("bn.running_mean", Nd4j.zeros(dt, 1, channels, 1, 1));
    runVar = params.addBuffer("bn.running_var", Nd4j.ones(dt, 1, channels, 1, 1));
    double bound = 1.0 / Math.sqrt(channels);
    w = params.add("linear.weight", Init.uniform(dt, rng, bound, classes, channels));
    b = params.add("linear.bias", Init.uniform(dt, rng, bound, classes));
  }

  public ParamTable params() {
    return params;
  }

  /**
   * Logits {@code [n, classes]} and, when {@code tapeOut} is not null, the tape for {@link
   * #backward}. Without a tape every array but the logits is freed now, not left to the collector
   * (xhat and the activations are each the size of {@code x}; evaluation asks for every batch's).
   */
  public INDArray forward(INDArray x, boolean training, Tape[] tapeOut) {
    // A column-major x's batch statistics summed in its order (logits 1e-16 from its row-major
    // copy's); the model's own, the body's dense output, is used as is.
    INDArray given = x;
    x = Tensors.dense(x);
    INDArray mean, var;
    if (training) {
      mean = x.mean(true, 0, 2, 3);
      var = x.var(false, 0, 2, 3).reshape(mean.shape());
      long m = x.size(0) * x.size(2) * x.size(3);
      runMean.value().muli(1 - MOMENTUM).addi(mean.mul(MOMENTUM));
      runVar.value().muli(1 - MOMENTUM).addi(var.mul(MOMENTUM * m / Math.max(1, m - 1)));
    } else {
      mean = runMean.value();
      var = runVar.value();
    }
    INDArray invStd = Transforms.pow(var.add(EPS), -0.5, false);
    INDArray xhat = x.sub(mean).muli(invStd);
    INDArray act = Transforms.relu(xhat.mul(gamma.value()).addi(beta.value()), false);
    INDArray pooled = act.mean(2, 3);
    INDArray logits = pooled.mmul(w.value().transpose()).addi(b.value());
    Tape tape = new Tape(xhat, invStd, act, pooled, training);
    if (tapeOut != null) {
      tapeOut[0] = tape;
    } else {
      tape.free();
      Tensors.free(x, given);
    }
    return logits;
  }

  /** {@code dL/dx} from {@code dL/dlogits}; accumulates parameter gradients. */
  public INDArray backward(Tape t, INDArray dLogits) {
    // ND4J 1.0.0-M2.1's mmul reads a stride-0 (broadcast) matrix as if it were dense: a caller's
    // dL/dlogits repeated along the batch gave a wrong dL/dx and dL/dw. A dense one is used as is.
    dLogits = Tensors.dense(dLogits);
    w.grad().addi(dLogits.transpose().mmul(t.pooled()));
    b.grad().addi(dLogits.sum(0));
    INDArray dPooled = dLogits.mmul(w.value());
    long h = t.act().size(2), wd = t.act().size(3);
    long n = t.act().size(0), c = t.act().size(1);
    INDArray dAct = dPooled.reshape(n, c, 1, 1).div(h * wd).mul(Nd4j.onesLike(t.act()));
    dAct.muli(t.act().gt(0).castTo(dAct.dataType()));
    gamma.grad().addi(dAct.mul(t.xhat()).sum(true, 0, 2, 3));
    beta.grad().addi(dAct.sum(true, 0, 2, 3));
    INDArray dXhat = dAct.mul(gamma.value());
    if (!t.training()) return dXhat.muli(t.invStd());
    // Batch statistics depend on every sample: dx = invStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    INDArray meanD = dXhat.mean(true, 0, 2, 3);
    INDArray meanDX = dXhat.mul(t.xhat()).mean(true, 0, 2, 3);
    return dXhat.sub(meanD).subi(t.xhat().mul(meanDX)).muli(t.invStd());
  }
}
