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
 * Planar flow (Rezende &amp; Mohamed 2015): {@code z' = z + û tanh(w·z + b)}, {@code log|det| =
 * log|1 + (1 - tanh²(w·z + b)) w·û|}. Raw parameters per sample: {@code u [D], w [D], b}.
 *
 * <p>Invertibility needs {@code w·û >= -1}; as in the paper's appendix {@code û = u + (m(w·u) -
 * w·u) w/|w|²} with {@code m(a) = -1 + softplus(a)}, so {@code w·û = m(w·u) > -1}. The inverse
 * solves the 1-D monotone equation {@code a + (w·û) tanh(a + b) = w·y} for {@code a = w·z}, then
 * {@code z = y - û tanh(a + b)}.
 */
public final class PlanarFlow implements LatentFlow {
  private final int d;

  public PlanarFlow(int dim) {
    this.d = dim;
  }

  @Override
  public int dim() {
    return d;
  }

  @Override
  public int paramCount() {
    return 2 * d + 1;
  }

  @Override
  public Map<String, SDVariable> prepare(SameDiff sd, SDVariable raw) {
    SDVariable u = cols(raw, 0, d);
    SDVariable w = cols(raw, d, 2L * d);
    SDVariable b = cols(raw, 2L * d, 2L * d + 1);
    SDVariable wu = dot(w, u);
    SDVariable m = sd.nn().softplus(wu).sub(1.0);
    SDVariable uHat = u.add(w.mul(m.sub(wu).div(Graphs.zeroAsOne(dot(w, w)))));
    Map<String, SDVariable> p = new LinkedHashMap<>();
    p.put("u", uHat);
    p.put("w", w);
    p.put("b", b);
    return p;
  }

  @Override
  public Step transform(SameDiff sd, SDVariable z, Map<String, SDVariable> p) {
    SDVariable h = sd.math().tanh(dot(p.get("w"), z).add(p.get("b")));
    SDVariable out = z.add(p.get("u").mul(h));
    SDVariable det = h.mul(h).rsub(1.0).mul(dot(p.get("w"), p.get("u"))).add(1.0);
    // reshape, not sum over the length-1 axis: that reduction fails to run in SameDiff M2.1.
    return new Step(out, sd.math().log(sd.math().abs(det)).reshape(-1));
  }

  @Override
  public INDArray invert(INDArray y, Map<String, INDArray> p) {
    double[][] ys = y.castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] u = p.get("u").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] w = p.get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] b = p.get("b").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] x = new double[ys.length][];
    for (int i = 0; i < ys.length; i++) {
      double wu = 0, wy = 0;
      for (int j = 0; j < d; j++) {
        wu += w[i][j] * u[i][j];
        wy += w[i][j] * ys[i][j];
      }
      double c = wu, bias = b[i][0];
      // |tanh| <= 1 brackets the root within |c| of w·y.
      double a = Monotone.solve(t -> t + c * Math.tanh(t + bias),
          t -> 1 + c * (1 - Math.tanh(t + bias) * Math.tanh(t + bias)), wy, wy - Math.abs(c) - 1, wy + Math.abs(c) + 1);
      double h = Math.tanh(a + bias);
      x[i] = new double[d];
      for (int j = 0; j < d; j++) x[i][j] = ys[i][j] - u[i][j] * h;
    }
    return Nd4j.create(x).castTo(y.dataType());
  }
}
