package org.irevnet.analysis;

import org.irevnet.models.InvertibleClassifier;
import org.nd4j.linalg.api.buffer.DataType;

/** Copies of a model in another precision (float64 for exact-inverse analyses). */
public final class ModelCopies {
  private ModelCopies() {}

  /** The same architecture and weights (including buffers such as ActNorm's init flag) in {@code dt}. */
  public static InvertibleClassifier withDataType(InvertibleClassifier model, DataType dt) {
    InvertibleClassifier copy = InvertibleClassifier.build(model.architecture(), dt, 0);
    copy.params().copyFrom(model.params());
    return copy;
  }

  /** A float64 copy of {@code model}; float32 weights are widened exactly. */
  public static InvertibleClassifier float64(InvertibleClassifier model) {
    return withDataType(model, DataType.DOUBLE);
  }
}
