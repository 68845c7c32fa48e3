package org.irevnet.layers;

import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Injective i-RevNet padding: appends {@code pad} zero channels at the end of the channel axis;
 * the inverse drops them (the last {@code pad} channels, not the first: pytorch-i-revnet #6).
 * The embedding is an isometry, so {@code 1/2 log det(J^T J) = 0}.
 */
public final class InjectivePad implements Bijection {
  private final int pad;

  public InjectivePad(int pad) {
    if (pad < 1) throw new IllegalArgumentException("padding must be >= 1 channel, got " + pad);
    this.pad = pad;
  }

  public int pad() {
    return pad;
  }

  @Override
  public Flow forward(INDArray x) {
    INDArray zeros = Nd4j.zeros(x.dataType(), x.size(0), pad, x.size(2), x.size(3));
    return new Flow(Tensors.concatChannels(x, zeros), Nd4j.zeros(x.dataType(), x.size(0)));
  }

  @Override
  public Flow inverse(INDArray y) {
    return new Flow(drop(y), Nd4j.zeros(y.dataType(), y.size(0)));
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    return new Grad(drop(y), drop(dy));
  }

  private INDArray drop(INDArray y) {
    if (y.size(1) <= pad) {
      throw new IllegalArgumentException("InjectivePad(" + pad + ") inverse needs more than " + pad
          + " channels, got " + Tensors.shape(y.shape()));
    }
    return Tensors.channels(y, 0, y.size(1) - pad);
  }

  @Override
  public long[] outputShape(long[] s) {
    Tensors.requireRank4("InjectivePad(" + pad + ")", s);
    return new long[] {s[0], s[1] + pad, s[2], s[3]};
  }

  @Override
  public ParamTable params() {
    return ParamTable.empty();
  }

  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.INJECTIVE;
  }
}
