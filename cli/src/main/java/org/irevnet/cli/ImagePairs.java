package org.irevnet.cli;

import org.irevnet.analysis.MetamerSampler;
import org.irevnet.data.Dataset;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Seeded pairs (a, b) of test images with different labels ({@link MetamerSampler#choosePairs}):
 * the indices, the images of both sides (float32) and b's labels.
 */
record ImagePairs(int[][] indices, INDArray a, INDArray b, int[] labelsB) {

  /** {@code count} pairs, refused ({@code --count}) when their images cannot be held. */
  static ImagePairs choose(Dataset test, int count, long seed) {
    CommonOptions.checkCountFits("--count", count, (long) test.channels() * test.height() * test.width(),
        "the pairs' images", "a", "b");
    int[][] pairs = MetamerSampler.choosePairs(test.labels(), count, seed);
    int[] ia = new int[pairs.length], ib = new int[pairs.length], labelsB = new int[pairs.length];
    for (int i = 0; i < pairs.length; i++) {
      ia[i] = pairs[i][0];
      ib[i] = pairs[i][1];
      labelsB[i] = test.labels()[ib[i]];
    }
    return new ImagePairs(pairs, test.subset("a", ia).images(), test.subset("b", ib).images(), labelsB);
  }
}
