package org.irevnet.layers;

import org.irevnet.nn.Tensors;

/**
 * Base of the blocks that keep the shape of an NCHW input with a fixed channel count: the shape
 * check (with a message naming the block, the expected channels and the actual shape), {@code
 * outputShape} and the parameter table.
 */
abstract class ChannelBlock implements Bijection {
  protected final int channels;
  protected final ParamTable params = ParamTable.empty();

  ChannelBlock(int channels) {
    if (channels < 1) throw new IllegalArgumentException(getClass().getSimpleName() + " needs >= 1 channel");
    this.channels = channels;
  }

  /** @throws IllegalArgumentException unless {@code s} is {@code [n, channels, h, w]} */
  protected final void check(long[] s) {
    String block = getClass().getSimpleName() + "(" + channels + ")";
    Tensors.requireRank4(block, s);
    if (s[1] != channels) {
      throw new IllegalArgumentException(block + " expects " + channels + " channels, got input of shape "
          + Tensors.shape(s));
    }
  }

  @Override
  public final long[] outputShape(long[] s) {
    check(s);
    return s.clone();
  }

  @Override
  public final ParamTable params() {
    return params;
  }
}
