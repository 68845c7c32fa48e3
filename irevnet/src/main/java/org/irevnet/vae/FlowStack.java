package org.irevnet.vae;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.layers.LogDetKind;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Flows applied in list order ({@code z_K = f_K(...f_1(z_0))}); log-dets add, the raw parameters
 * are the steps' raw parameters side by side, and step {@code k}'s prepared parameters are named
 * {@code "k.name"}. An empty stack is the identity (the plain diagonal-Gaussian VAE).
 */
public final class FlowStack implements LatentFlow {
  private final int d;
  private final List<LatentFlow> steps;

  public FlowStack(int dim, List<LatentFlow> steps) {
    for (LatentFlow f : steps) {
      if (f.dim() != dim) throw new IllegalArgumentException("flow step of dimension " + f.dim() + " in a stack of " + dim);
    }
    this.d = dim;
    this.steps = List.copyOf(steps);
  }

  public List<LatentFlow> steps() {
    return steps;
  }

  @Override
  public int dim() {
    return d;
  }

  @Override
  public int paramCount() {
    return steps.stream().mapToInt(LatentFlow::paramCount).sum();
  }

  @Override
  public Map<String, SDVariable> prepare(SameDiff sd, SDVariable raw) {
    Map<String, SDVariable> p = new LinkedHashMap<>();
    long from = 0;
    for (int k = 0; k < steps.size(); k++) {
      LatentFlow f = steps.get(k);
      Map<String, SDVariable> sub = f.prepare(sd, Graphs.cols(raw, from, from + f.paramCount()));
      from += f.paramCount();
      for (Map.Entry<String, SDVariable> e : sub.entrySet()) p.put(k + "." + e.getKey(), e.getValue());
    }
    return p;
  }

  @Override
  public LogDetKind logDetKind() {
    return steps.stream().allMatch(s -> s.logDetKind() == LogDetKind.ZERO) ? LogDetKind.ZERO : LogDetKind.EXACT;
  }

  @Override
  public Step transform(SameDiff sd, SDVariable z, Map<String, SDVariable> p) {
    SDVariable out = z;
    SDVariable logDet = sd.zerosLike(z.sum(1));
    for (int k = 0; k < steps.size(); k++) {
      Step s = steps.get(k).transform(sd, out, stepParams(p, k));
      out = s.out();
      logDet = logDet.add(s.logDet());
    }
    return new Step(out, logDet);
  }

  @Override
  public INDArray invert(INDArray y, Map<String, INDArray> p) {
    INDArray x = y;
    for (int k = steps.size() - 1; k >= 0; k--) x = steps.get(k).invert(x, stepParams(p, k));
    return x == y ? y.dup() : x;
  }

  private static <T> Map<String, T> stepParams(Map<String, T> p, int k) {
    String prefix = k + ".";
    Map<String, T> sub = new LinkedHashMap<>();
    for (Map.Entry<String, T> e : p.entrySet()) {
      if (e.getKey().startsWith(prefix)) sub.put(e.getKey().substring(prefix.length()), e.getValue());
    }
    return sub;
  }
}
