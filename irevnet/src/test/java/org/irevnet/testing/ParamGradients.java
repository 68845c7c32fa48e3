package org.irevnet.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.layers.ParamTable;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Snapshots of accumulated parameter gradients, for comparing two backward passes. */
public final class ParamGradients {
  private ParamGradients() {}

  /** A copy of every trainable parameter's gradient, by name. */
  public static Map<String, INDArray> copy(ParamTable params) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    params.entries().forEach((k, p) -> {
      if (p.trainable()) m.put(k, p.grad().dup());
    });
    return m;
  }
}
