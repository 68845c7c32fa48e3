package org.irevnet.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a reversible backward pass hands to the block before it: the input {@code x} rebuilt from
 * the block's output, and the gradient of the loss with respect to that input.
 */
public record Grad(INDArray x, INDArray dx) {}
