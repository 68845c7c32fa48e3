package org.irevnet.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.layers.ParamTable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Adam over a whole {@link ParamTable}: the parameters and gradients are moved into two flat
 * buffers once, so a step is one ND4J updater call and one subtraction, whatever the depth.
 * Optional decoupled weight decay (AdamW: {@code theta -= lr * wd * theta}).
 */
public final class AdamOptimizer {
  private final INDArray values;
  private final INDArray grads;
  private final INDArray state;
  private final AdamUpdater updater;
  private final Adam config;
  private double weightDecay;
  private int iteration;

  public AdamOptimizer(ParamTable params, double learningRate) {
    DataType dt = params.entries().values().iterator().next().value().dataType();
    INDArray[] flat = params.flatten(dt);
    this.values = flat[0];
    this.grads = flat[1];
    this.config = new Adam(learningRate);
    this.updater = new AdamUpdater(config);
    this.state = Nd4j.zeros(dt, 1, 2 * values.length());
    updater.setStateViewArray(state, values.shape(), 'c', true);
  }

  public void setLearningRate(double lr) {
    config.setLearningRate(lr);
  }


  public void setWeightDecay(double wd) {
    this.weightDecay = wd;
  }


  /** The flat gradient buffer (all trainable parameters' gradients, in table order). */
  public INDArray gradients() {
    return grads;
  }

  /** Applies one update from the accumulated gradients, then zeroes them. */
  public void step() {
    double lr = config.getLearningRate();
    updater.applyUpdater(grads, iteration, 0);
    if (weightDecay != 0) values.muli(1 - lr * weightDecay);
    values.subi(grads);
    grads.assign(0);
    iteration++;
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
      throw new IllegalArgumentException("optimizer state does not match this model ("
          + (moments == null ? "missing" : moments.length() + " vs " + state.length() + " values") + ")");
    }
    state.assign(moments.reshape(state.shape()).castTo(state.dataType()));
    iteration = it.getInt(0);
  }
}
