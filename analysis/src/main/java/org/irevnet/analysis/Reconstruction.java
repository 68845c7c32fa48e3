package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.List;
import org.irevnet.models.InvertibleClassifier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Inverting a model's representation at every stage: {@code x' = F_{<=s}^-1(F_{<=s}(x))}, and
 * how far {@code x'} is from {@code x} (the reconstruction error of DESIGN.md section 5).
 */
public final class Reconstruction {
  private Reconstruction() {}

  /** Reconstruction error from the output of stage {@code stage} (0-based). */
  public record StageError(int stage, long[] shape, double maxAbs, double meanAbs) {}

  /** Errors per stage for inputs {@code x}, in the model's dtype. */
  public static List<StageError> perStage(InvertibleClassifier model, INDArray x) {
    List<INDArray> outs = model.stageOutputs(x);
    List<Integer> ends = model.stageEnds();
    List<StageError> errs = new ArrayList<>();
    for (int s = 0; s < outs.size(); s++) {
      INDArray back = model.body().invertFrom(ends.get(s), outs.get(s));
      INDArray diff = Transforms.abs(back.sub(x), false);
      errs.add(new StageError(s, outs.get(s).shape(), diff.maxNumber().doubleValue(),
          diff.meanNumber().doubleValue()));
    }
    return errs;
  }
}
