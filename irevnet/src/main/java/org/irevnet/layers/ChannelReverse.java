package org.irevnet.layers;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.Reverse;
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

  private static INDArray reverse(INDArray x) {
    INDArray out = x.ulike();
    Nd4j.exec(new Reverse(x.dup('c'), out, 1));
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
