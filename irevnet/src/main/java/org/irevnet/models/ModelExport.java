package org.irevnet.models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.Npz;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model for other frameworks: {@link ModelFiles} ({@code model.json}, {@code weights.npz} with
 * PyTorch's names and layouts) and {@code check.npz}, a few inputs with this implementation's
 * outputs in float32 and float64, so that a port can show it computes the same function
 * ({@code scripts/torch_port.py} is one, in PyTorch). The three files replace an earlier export
 * together or not at all.
 *
 * <p>{@code check.npz} holds {@code x} (the inputs as the model takes them, padded, float32),
 * {@code labels} (int64), and for each precision {@code P} of {@code f32} and {@code f64}: {@code
 * z_P} (the body's output flattened per sample in C order; for an i-RevNet the readout head's
 * input), {@code log_det_P} (per sample) and {@code logits_P}. The float64 outputs come from the
 * same float32 weights widened, so a float64 port can match them to rounding.
 */
public final class ModelExport {
  public static final String CHECK = "check.npz";

  private ModelExport() {}

  /** Writes {@code model} and its outputs on {@code x} (float32, the model's input shape) to {@code dir}. */
  public static void write(Path dir, InvertibleClassifier model, INDArray x, int[] labels) throws IOException {
    if (x.size(0) != labels.length) {
      throw new IllegalArgumentException(x.size(0) + " inputs but " + labels.length + " labels");
    }
    INDArray x32 = x.castTo(DataType.FLOAT);
    Map<String, INDArray> check = new LinkedHashMap<>();
    check.put("x", x32);
    check.put("labels", org.nd4j.linalg.factory.Nd4j.createFromArray(labels).castTo(DataType.LONG));
    putOutputs(check, "f32", model.withDataType(DataType.FLOAT), x32);
    putOutputs(check, "f64", model.withDataType(DataType.DOUBLE), x.castTo(DataType.DOUBLE));
    AtomicFiles.together(() -> {
      ModelFiles.save(dir, model);
      Npz.write(dir.resolve(CHECK), check);
    });
  }

  private static void putOutputs(Map<String, INDArray> check, String p, InvertibleClassifier m, INDArray x) {
    InvertibleClassifier.Forward f = m.forward(x, false);
    check.put("z_" + p, f.z().dup());
    check.put("log_det_" + p, f.logDet().dup());
    check.put("logits_" + p, f.logits().dup());
  }
}
