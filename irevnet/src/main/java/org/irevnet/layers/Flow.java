package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The result of applying a {@link Bijection} in either direction: the output and the per-sample
 * log-determinant of the Jacobian of the direction that was applied, shape {@code [batch]}.
 */
public record Flow(INDArray out, INDArray logDet) {}
