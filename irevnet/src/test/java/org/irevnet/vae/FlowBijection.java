package org.irevnet.vae;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link LatentFlow} as a {@link Bijection} on latents shaped {@code [batch, D, 1, 1]}, with one
 * raw parameter vector {@code theta [1, P]} shared by every row (the VAE gives each row its own;
 * the math is the same). Forward and backward run the flow's own SameDiff graph (this form is
 * for checks, not for speed); the inverse is the flow's eager {@link
 * LatentFlow#invert}. So the contract tests check exactly the code the VAE trains.
 *
 * <p>Everything runs outside ND4J workspaces: the cached graphs keep arrays from call to call,
 * which a container's block workspace (a {@link org.irevnet.layers.Sequential}) would invalidate
 * when it reopens.
 */
public final class FlowBijection implements Bijection {
  private final LatentFlow flow;
  private final ParamTable params = ParamTable.empty();
  private final Param theta;

  public FlowBijection(LatentFlow flow, INDArray theta) {
    if (theta.rank() != 2 || theta.size(0) != 1 || theta.size(1) != flow.paramCount()) {
      throw new IllegalArgumentException("theta must be [1, " + flow.paramCount() + "], got " + Arrays.toString(theta.shape()));
    }
    this.flow = flow;
    this.theta = params.add("theta", theta);
  }

  // One graph per (dtype, batch size), rebuilt never: the contract's finite-difference checks
  // call forward hundreds of times, and building plus first-running a SameDiff graph dominates.
  private final Map<String, Graph> graphs = new HashMap<>();

  /** The flow's graph on {@code z [n, D]} with the current theta, and the loss {@code <out, dy> + <logDet, dLogDet>}. */
  private final class Graph {
    final SameDiff sd = SameDiff.create();
    final SDVariable z;
    final SDVariable raw;
    final SDVariable dy;
    final SDVariable dLogDet;
    final Map<String, SDVariable> prepared;
    final LatentFlow.Step step;

    Graph(DataType dt, long n) {
      z = sd.var("z", Nd4j.zeros(dt, n, flow.dim()));
      raw = sd.var("theta", Nd4j.zeros(dt, 1, flow.paramCount()));
      dy = sd.var("dy", Nd4j.zeros(dt, n, flow.dim()));
      dLogDet = sd.var("dLogDet", Nd4j.zeros(dt, n));
      SDVariable rows = sd.constant(Nd4j.ones(dt, n, 1)).mmul(raw);
      prepared = flow.prepare(sd, rows);
      step = flow.transform(sd, z, prepared);
      sd.setLossVariables(step.out().mul(dy).sum().add(step.logDet().mul(dLogDet).sum()));
    }

    Graph at(INDArray zValue) {
      z.setArray(zValue.dup('c'));
      raw.setArray(theta.value().dup('c'));
      return this;
    }

    Map<String, INDArray> values(List<String> names) {
      Map<String, INDArray> out = sd.output(new LinkedHashMap<>(), names);
      Map<String, INDArray> copy = new LinkedHashMap<>();
      out.forEach((k, v) -> copy.put(k, v.dup('c')));
      return copy;
    }
  }

  private Graph graph(INDArray z) {
    Graph g = graphs.computeIfAbsent(z.dataType() + "/" + z.size(0), k -> new Graph(z.dataType(), z.size(0)));
    return g.at(z);
  }

  private INDArray latent(INDArray x) {
    outputShape(x.shape());
    requireThetaType("inputs", x);
    return x.reshape(x.size(0), flow.dim()).dup('c');
  }

  /** As a block with parameters, the adapter takes arrays of its parameters' type only (BijectionContract). */
  private void requireThetaType(String what, INDArray a) {
    DataType dt = theta.value().dataType();
    if (a.dataType() != dt) {
      throw new IllegalArgumentException("latent flow expects " + what + " of its parameters' type "
          + org.irevnet.nn.Tensors.typeName(dt) + ", got " + org.irevnet.nn.Tensors.typeName(a.dataType()));
    }
  }

  private INDArray image(INDArray z) {
    return z.reshape(z.size(0), flow.dim(), 1, 1);
  }

  private static <T> T outsideWorkspaces(java.util.function.Supplier<T> work) {
    try (org.nd4j.linalg.api.memory.MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return work.get();
    }
  }

  @Override
  public Flow forward(INDArray x) {
    return outsideWorkspaces(() -> {
      Graph g = graph(latent(x));
      Map<String, INDArray> v = g.values(List.of(g.step.out().name(), g.step.logDet().name()));
      return new Flow(image(v.get(g.step.out().name())), v.get(g.step.logDet().name()));
    });
  }

  @Override
  public Flow inverse(INDArray y) {
    return outsideWorkspaces(() -> invertOutside(y));
  }

  private Flow invertOutside(INDArray y) {
    INDArray yz = latent(y);
    Graph g = graph(yz);
    Map<String, String> names = new LinkedHashMap<>();
    g.prepared.forEach((k, var) -> names.put(k, var.name()));
    Map<String, INDArray> v = g.values(new ArrayList<>(names.values()));
    Map<String, INDArray> prepared = new LinkedHashMap<>();
    names.forEach((k, n) -> prepared.put(k, v.get(n)));
    INDArray x = image(flow.invert(yz, prepared));
    return new Flow(x, forward(x).logDet().neg());
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    requireThetaType("dL/dy", dy);
    requireThetaType("dL/dlogdet", dLogDet);
    return outsideWorkspaces(() -> {
      INDArray x = invertOutside(y).out();
      Graph g = graph(latent(x));
      g.dy.setArray(dy.reshape(dy.size(0), flow.dim()).dup('c'));
      g.dLogDet.setArray(dLogDet.dup('c'));
      Map<String, INDArray> grads = g.sd.calculateGradients(new LinkedHashMap<>(), "z", "theta");
      theta.grad().addi(grads.get("theta"));
      return new Grad(x, image(grads.get("z").dup('c')));
    });
  }

  @Override
  public long[] outputShape(long[] s) {
    if (s.length != 4 || s[1] != flow.dim() || s[2] != 1 || s[3] != 1) {
      throw new IllegalArgumentException("latent flow expects [batch, " + flow.dim() + ", 1, 1], got " + Arrays.toString(s));
    }
    return s.clone();
  }

  @Override
  public ParamTable params() {
    return params;
  }

  @Override
  public LogDetKind logDetKind() {
    return flow.logDetKind();
  }
}
