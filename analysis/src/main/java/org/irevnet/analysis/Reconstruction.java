package org.irevnet.analysis;

import java.util.ArrayList;
import java.util.List;
import org.irevnet.models.InvertibleClassifier;
import org.nd4j.linalg.api.buffer.DataType;
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
      Error e = Error.of(model.body().invertFrom(ends.get(s), outs.get(s)), x);
      errs.add(new StageError(s, outs.get(s).shape(), e.maxAbs(), e.meanAbs()));
    }
    return errs;
  }

  /** Max and mean absolute error of a reconstruction. */
  public record Error(double maxAbs, double meanAbs) {
    static Error of(INDArray back, INDArray x) {
      INDArray diff = Transforms.abs(back.sub(x), false);
      return new Error(diff.maxNumber().doubleValue(), diff.meanNumber().doubleValue());
    }
  }

  /** {@code F^-1(F(x))} through the whole body ({@link InvertibleClassifier#invert} of the output z). */
  public record FromZ(INDArray reconstruction, Error error) {}

  /** Reconstruction from the body output {@code z}, in the model's dtype. */
  public static FromZ fromZ(InvertibleClassifier model, INDArray x) {
    INDArray out = model.forward(x, false).out();
    INDArray back = model.invert(out);
    return new FromZ(back, Error.of(back, x));
  }

  /**
   * Per-stage and from-z errors of a model in float32 and in float64 (on copies of its weights),
   * for the same inputs; {@code reconstruction} is the float32 reconstruction from z.
   */
  public record Precisions(List<StageError> float32, List<StageError> float64, Error zFloat32, Error zFloat64,
      INDArray reconstruction) {}

  public static Precisions inBothPrecisions(InvertibleClassifier model, INDArray x) {
    InvertibleClassifier m32 = model.withDataType(DataType.FLOAT);
    InvertibleClassifier m64 = model.withDataType(DataType.DOUBLE);
    INDArray x32 = x.castTo(DataType.FLOAT).dup('c'), x64 = x.castTo(DataType.DOUBLE).dup('c');
    FromZ z32 = fromZ(m32, x32), z64 = fromZ(m64, x64);
    return new Precisions(perStage(m32, x32), perStage(m64, x64), z32.error(), z64.error(), z32.reconstruction());
  }
}
