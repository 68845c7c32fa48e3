package org.irevnet.train;

import static org.irevnet.nn.Tensors.rowSlice;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.layers.ParamTable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Adam over a whole {@link ParamTable}: the parameters and gradients are moved into two flat
 * buffers once, so a step is one ND4J updater call and one subtraction, whatever the depth.
 * Optional decoupled weight decay (AdamW: {@code theta -= lr * wd * theta}).
 *
 * <p>{@link #grouped} instead updates one group of parameters (a block) at a time, as soon as the
 * reversible backward pass has finished that block: its gradients then live in one scratch
 * buffer the size of the largest block, and a model never holds a gradient of all its
 * parameters, which is what keeps training memory (parameter state aside) flat in depth. Both
 * modes run the same elementwise update on the same state layout, so they give identical
 * parameters and checkpoints.
 */
public final class AdamOptimizer {
  private final INDArray values;
  private final INDArray grads;
  private final INDArray state;
  private final Map<ParamTable, long[]> groups;
  private final Adam config;
  private double weightDecay;
  private int iteration;

  /**
   * Adam over every trainable parameter of {@code params}; {@link #step} after each backward pass.
   * Build it once, before training: it moves the parameters into its flat buffer and frees their
   * previous arrays, so an array taken from {@code Param.value()} or {@code grad()} before is no
   * longer the parameter's (take them again).
   */
  public AdamOptimizer(ParamTable params, double learningRate) {
    this(params.flatten(dataType(params)), null, learningRate);
  }

  private AdamOptimizer(INDArray[] flat, Map<ParamTable, long[]> groups, double learningRate) {
    this.values = flat[0];
    this.grads = flat[1];
    this.groups = groups;
    this.config = new Adam(learningRate);
    // DL4J's AdamUpdater layout (first moments, then second moments), kept for checkpoints.
    this.state = Nd4j.zeros(values.dataType(), 1, 2 * values.length());
  }

  /**
   * Adam that updates each of {@code groups} on its own ({@link #stepGroup}), the model's blocks
   * in the order the backward pass finishes them; see {@link ParamTable#flattenGrouped}.
   */
  public static AdamOptimizer grouped(ParamTable params, List<ParamTable> groups, double learningRate) {
    ParamTable.GroupedLayout l = params.flattenGrouped(dataType(params), groups);
    return new AdamOptimizer(new INDArray[] {l.values(), l.scratch()}, l.ranges(), learningRate);
  }

  private static DataType dataType(ParamTable params) {
    return params.entries().values().iterator().next().value().dataType();
  }

  public void setLearningRate(double lr) {
    config.setLearningRate(lr);
  }


  public void setWeightDecay(double wd) {
    this.weightDecay = wd;
  }


  /**
   * The flat gradient buffer (all trainable parameters' gradients, in table order); for a
   * {@link #grouped} optimiser the scratch buffer of the group being updated.
   */
  public INDArray gradients() {
    return grads;
  }

  /** Applies one update from the accumulated gradients, then zeroes them. */
  public void step() {
    if (groups != null) throw new IllegalStateException("a grouped optimiser steps with stepGroup and endStep");
    update(0, values.length(), grads);
    iteration++;
  }

  /**
   * Updates one group from its gradients (in the scratch buffer) and zeroes them; the step's
   * count advances in {@link #endStep}, after every group.
   *
   * @throws NonFiniteGradientException if a gradient of the group is NaN or infinite (nothing of
   *     the group is changed)
   */
  public void stepGroup(ParamTable group) {
    long[] r = groups.get(group);
    if (r == null) {
      if (group.count() == 0) return;
      throw new IllegalArgumentException("not a group of this optimiser");
    }
    INDArray g = rowSlice(grads, 0, r[1]);
    // A sum is NaN or infinite when an entry is, and overflows only past 3e38, where the norm
    // (a sum of squares) did past 2e19: finite float32 gradients of 1e18 stopped training.
    if (!Double.isFinite(g.sumNumber().doubleValue())) throw new NonFiniteGradientException();
    update(r[0], r[1], g);
  }

  /** Ends a step of a {@link #grouped} optimiser (every group has been updated). */
  public void endStep() {
    iteration++;
  }

  /** Updates values {@code [from, from + len)} and their moments from {@code g}, then zeroes {@code g}. */
  private void update(long from, long len, INDArray g) {
    long n = values.length();
    INDArray theta = rowSlice(values, from, len), m1 = rowSlice(state, from, len), m2 = rowSlice(state, n + from, len);
    double lr = config.getLearningRate();
    // The op DL4J's AdamUpdater runs, in place on (g, v, m): elementwise, so a block's slices
    // give the same numbers as the whole buffers.
    Nd4j.exec(new org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater(g, m2, m1, lr, config.getBeta1(),
        config.getBeta2(), config.getEpsilon(), iteration));
    // At learning rate 0 libnd4j's updater steps by epsilon instead (it replaces a zero step
    // size), which moved float32 weights by an ulp or so per step; PyTorch leaves them alone.
    if (lr != 0) {
      if (weightDecay != 0) theta.muli(1 - lr * weightDecay);
      theta.subi(g);
    }
    g.assign(0);
  }

  /** A gradient was NaN or infinite; the group it belongs to was left unchanged. */
  public static final class NonFiniteGradientException extends RuntimeException {
    NonFiniteGradientException() {
      super("a gradient is not finite");
    }

    /** @param group the group as messages name it ({@code InvertibleClassifier.describeGroup}) */
    NonFiniteGradientException(String group) {
      super("a gradient of " + group + " is not finite");
    }
  }

  /** Forgets the moment estimates and the step count (a fresh optimiser for the same parameters). */
  public void resetState() {
    state.assign(0);
    iteration = 0;
  }

  /** Optimiser state for checkpoints: the moment estimates and the step count. */
  public Map<String, INDArray> state() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("adam.moments", state.dup());
    m.put("adam.iteration", Nd4j.scalar(DataType.LONG, iteration).reshape(1));
    return m;
  }

  public void loadState(Map<String, INDArray> m) {
    INDArray moments = m.get("adam.moments");
    INDArray it = m.get("adam.iteration");
    if (moments == null || it == null || moments.length() != state.length()) {
      // A state without its step count read "(N vs N values)": the sizes agreed, and nothing said what was wrong.
      throw new IllegalArgumentException("optimizer state does not match this model (" + (moments == null ? "missing"
          : it == null ? "no adam.iteration" : moments.length() + " vs " + state.length() + " values") + ")");
    }
    state.assign(moments.reshape(state.shape()).castTo(state.dataType()));
    iteration = it.getInt(0);
  }
}
