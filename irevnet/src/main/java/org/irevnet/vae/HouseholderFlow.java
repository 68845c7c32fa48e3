package org.irevnet.vae;

import static org.irevnet.vae.Graphs.cols;
import static org.irevnet.vae.Graphs.dot;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Householder flow (Tomczak &amp; Welling 2016): {@code T} reflections {@code z_t = (I - 2 v_t
 * v_tᵀ/|v_t|²) z_{t-1}}, volume preserving (log-det 0). All {@code T} vectors come from the
 * encoder (the paper derives {@code v_t} from {@code v_{t-1}} by a linear layer; emitting them
 * directly is the same family with a wider output head). A reflection is its own inverse, so the
 * inverse applies them in reverse order.
 */
public final class HouseholderFlow implements LatentFlow {
  private final int d;
  private final int reflections;

  public HouseholderFlow(int dim, int reflections) {
    if (reflections < 1) throw new IllegalArgumentException("reflections must be >= 1, got " + reflections);
    this.d = dim;
    this.reflections = reflections;
  }

  @Override
  public int dim() {
    return d;
  }

  @Override
  public int paramCount() {
    return reflections * d;
  }

  @Override
  public Map<String, SDVariable> prepare(SameDiff sd, SDVariable raw) {
    Map<String, SDVariable> p = new LinkedHashMap<>();
    for (int t = 0; t < reflections; t++) p.put("v" + t, cols(raw, (long) t * d, (long) (t + 1) * d));
    return p;
  }

  /** {@code z - 2 v (v·z)/|v|²} for vectors {@code [n, D]} ({@code z} where {@code v = 0}). */
  static SDVariable reflect(SDVariable z, SDVariable v) {
    return z.sub(v.mul(dot(v, z).mul(2.0).div(Graphs.zeroAsOne(dot(v, v)))));
  }

  @Override
  public org.irevnet.layers.LogDetKind logDetKind() {
    return org.irevnet.layers.LogDetKind.ZERO;
  }

  @Override
  public Step transform(SameDiff sd, SDVariable z, Map<String, SDVariable> p) {
    SDVariable out = z;
    for (int t = 0; t < reflections; t++) out = reflect(out, p.get("v" + t));
    return new Step(out, sd.zerosLike(z.sum(1)));
  }

  @Override
  public INDArray invert(INDArray y, Map<String, INDArray> p) {
    INDArray x = y.castTo(DataType.DOUBLE).dup();
    for (int t = reflections - 1; t >= 0; t--) {
      INDArray v = p.get("v" + t).castTo(DataType.DOUBLE);
      INDArray vz = v.mul(x).sum(true, 1);
      INDArray vv = v.mul(v).sum(true, 1);
      vv.addi(vv.eq(0.0).castTo(DataType.DOUBLE)); // v = 0: no reflection, as in Graphs.zeroAsOne
      x.subi(v.mul(vz.mul(2.0).divi(vv)));
    }
    return x.castTo(y.dataType());
  }
}
