package org.irevnet.layers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Blocks applied in order: {@code forward} runs {@code blocks[0]} first and sums the log-dets;
 * {@code inverse} and {@code backward} walk the blocks from last to first. Shapes are checked as
 * blocks are added. Each block's parameters appear under the name it was added with.
 */
public final class Sequential implements Bijection {
  private final List<String> names;
  private final List<Bijection> blocks;
  private final long[] inputShape;
  private final ParamTable params = ParamTable.empty();

  private Sequential(long[] inputShape, List<String> names, List<Bijection> blocks) {
    this.inputShape = inputShape;
    this.names = List.copyOf(names);
    this.blocks = List.copyOf(blocks);
    for (int i = 0; i < blocks.size(); i++) params.include(names.get(i), blocks.get(i).params());
  }

  /** Starts a chain for inputs of shape {@code [batch, c, h, w]} (the batch size is ignored). */
  public static Builder builder(long... inputShape) {
    return new Builder(inputShape);
  }

  /** A chain of unnamed blocks, named by position. */
  public static Sequential of(long[] inputShape, Bijection... blocks) {
    Builder b = builder(inputShape);
    for (int i = 0; i < blocks.length; i++) b.add(Integer.toString(i), blocks[i]);
    return b.build();
  }

  public static final class Builder {
    private final long[] inputShape;
    private long[] shape;
    private final List<String> names = new ArrayList<>();
    private final List<Bijection> blocks = new ArrayList<>();

    private Builder(long[] inputShape) {
      this.inputShape = inputShape.clone();
      this.shape = inputShape.clone();
    }

    public Builder add(String name, Bijection block) {
      try {
        shape = block.outputShape(shape);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("block " + blocks.size() + " (" + name + ", "
            + block.getClass().getSimpleName() + ") does not fit the output of the blocks before it: "
            + e.getMessage(), e);
      }
      names.add(name);
      blocks.add(block);
      return this;
    }

    /** The shape the chain produces so far. */
    public long[] shape() {
      return shape.clone();
    }

    public int size() {
      return blocks.size();
    }

    public Sequential build() {
      return new Sequential(inputShape, names, blocks);
    }
  }

  public List<Bijection> blocks() {
    return Collections.unmodifiableList(blocks);
  }

  public List<String> names() {
    return names;
  }

  public long[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public Flow forward(INDArray x) {
    INDArray logDet = null;
    final INDArray input = x;
    for (Bijection b : blocks) {
      final INDArray in = x;
      Flow f = BlockWorkspace.forward(() -> b.forward(in));
      if (in != input) BlockWorkspace.release(in);
      x = f.out();
      if (logDet == null) {
        logDet = f.logDet();
      } else {
        logDet.addi(f.logDet());
        BlockWorkspace.release(f.logDet());
      }
    }
    return new Flow(x, logDet == null ? org.nd4j.linalg.factory.Nd4j.zeros(x.dataType(), x.size(0)) : logDet);
  }

  /**
   * Every block's output in order ({@code size()} arrays; the last is {@code forward(x).out()}),
   * for the per-layer analyses.
   */
  public List<INDArray> forwardWithIntermediates(INDArray x) {
    List<INDArray> outs = new ArrayList<>(blocks.size());
    for (Bijection b : blocks) {
      final INDArray in = x;
      x = BlockWorkspace.forward(() -> b.forward(in)).out();
      outs.add(x);
    }
    return outs;
  }

  @Override
  public Flow inverse(INDArray y) {
    INDArray logDet = null;
    final INDArray output = y;
    for (int i = blocks.size() - 1; i >= 0; i--) {
      Bijection b = blocks.get(i);
      final INDArray out = y;
      Flow f = BlockWorkspace.forward(() -> b.inverse(out));
      if (out != output) BlockWorkspace.release(out);
      y = f.out();
      if (logDet == null) {
        logDet = f.logDet();
      } else {
        logDet.addi(f.logDet());
        BlockWorkspace.release(f.logDet());
      }
    }
    return new Flow(y, logDet == null ? org.nd4j.linalg.factory.Nd4j.zeros(y.dataType(), y.size(0)) : logDet);
  }

  /** Inverts the output of block {@code index} back to the chain's input. */
  public INDArray invertFrom(int index, INDArray h) {
    final INDArray start = h;
    for (int i = index; i >= 0; i--) {
      Bijection b = blocks.get(i);
      final INDArray out = h;
      Flow f = BlockWorkspace.forward(() -> b.inverse(out));
      if (out != start) BlockWorkspace.release(out);
      BlockWorkspace.release(f.logDet());
      h = f.out();
    }
    return h;
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    // Every block's log-det enters the total with weight one, so each sees the same dL/dlogdet.
    final INDArray y0 = y, dy0 = dy;
    for (int i = blocks.size() - 1; i >= 0; i--) {
      Bijection b = blocks.get(i);
      final INDArray out = y, dOut = dy;
      Grad g = BlockWorkspace.backward(() -> b.backward(out, dOut, dLogDet));
      if (out != y0) BlockWorkspace.release(out);
      if (dOut != dy0) BlockWorkspace.release(dOut);
      y = g.x();
      dy = g.dx();
    }
    return new Grad(y, dy);
  }

  /** Data-dependent initialisation of every block that has one, from one input batch. */
  public void initialize(INDArray x) {
    for (Bijection b : blocks) {
      if (b instanceof DataDependentInit d) d.initFrom(x);
      if (b instanceof Sequential s) s.initialize(x);
      x = b.apply(x);
    }
  }

  @Override
  public long[] outputShape(long[] s) {
    for (int i = 0; i < blocks.size(); i++) {
      try {
        s = blocks.get(i).outputShape(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("block " + i + " (" + names.get(i) + "): " + e.getMessage(), e);
      }
    }
    return s;
  }

  @Override
  public ParamTable params() {
    return params;
  }

  @Override
  public LogDetKind logDetKind() {
    boolean injective = blocks.stream().anyMatch(b -> b.logDetKind() == LogDetKind.INJECTIVE);
    if (injective) return LogDetKind.INJECTIVE;
    boolean exact = blocks.stream().anyMatch(b -> b.logDetKind() == LogDetKind.EXACT);
    return exact ? LogDetKind.EXACT : LogDetKind.ZERO;
  }

  @Override
  public String toString() {
    return "Sequential" + names + " on " + Tensors.shape(inputShape);
  }
}
