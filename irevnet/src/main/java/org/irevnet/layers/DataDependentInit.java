package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A block whose parameters are set from the first batch of data it sees (ActNorm). */
public interface DataDependentInit {
  /** Sets the parameters from {@code x}, an input batch; later calls do nothing. */
  void initFrom(INDArray x);

  boolean initialized();
}
