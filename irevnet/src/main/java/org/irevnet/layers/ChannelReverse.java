package org.irevnet.layers;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Reverses the channel order, so the next coupling transforms the other half. Log-det zero. */
public final class ChannelReverse implements Bijection {

  @Override
  public Flow forward(INDArray x) {
    return new Flow(reverse(x), Nd4j.zeros(x.dataType(), x.size(0)));
  }

  @Override
  public Flow inverse(INDArray y) {
    return forward(y);
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    return new Grad(reverse(y), reverse(dy));
  }

  /**
   * A gather of the channels in reverse order. Not libnd4j's {@code reverse} op: in 1.0.0-M2.1 it
   * leaks native memory of about its output's size on every call (36 MiB a training step of
   * fi-revnet-s with reverse permutations, until the process ran out of memory).
   */
  private static INDArray reverse(INDArray x) {
    // Axis 1 of one image given as [c, h, w] is its rows: reversed silently without the check.
    Tensors.requireRank4("ChannelReverse", x.shape());
    INDArray out = x.ulike();
    int c = (int) x.size(1);
    int[] order = new int[c];
    for (int i = 0; i < c; i++) order[i] = c - 1 - i;
    Nd4j.exec(DynamicCustomOp.builder("gather")
        .addInputs(Tensors.dense(x), Nd4j.createFromArray(order))
        .addOutputs(out)
        .addIntegerArguments(1)
        .build());
    return out;
  }

  @Override
  public long[] outputShape(long[] s) {
    Tensors.requireRank4("ChannelReverse", s);
    return s.clone();
  }

  @Override
  public ParamTable params() {
    return ParamTable.empty();
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.ZERO;
  }
}
