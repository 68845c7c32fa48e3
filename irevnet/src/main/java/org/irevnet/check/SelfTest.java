package org.irevnet.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.Param;
import org.irevnet.layers.Sequential;
import org.irevnet.layers.Tapes;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The checks behind {@code irevnet selftest}, memcnn-style: round trips in float32 and float64,
 * log-dets against brute-force Jacobians (layers) or the inverse's log-det (whole models), and
 * reversible-backward gradients (for whole models also the stored-activation backward's) against
 * central finite differences in float64.
 */
public final class SelfTest {
  public static final double RECON_F32 = 1e-5;
  public static final double RECON_F64 = 1e-12;
  public static final double LOGDET = 1e-6;
  public static final double GRAD = 1e-6;

  /** One checked block or model: the largest errors seen, and whether all are within bounds. */
  public record Row(String name, String kind, double reconF32, double reconF64, double logDetErr,
      double gradErr, boolean pass) {}

  private SelfTest() {}

  /** Every catalogue layer and the given architectures (the command's default: the bundled ones). */
  public static List<Row> runAll(List<Architecture> architectures, java.util.function.Consumer<Row> progress) {
    List<Row> rows = new ArrayList<>();
    for (BlockCatalog.Spec s : BlockCatalog.all().values()) {
      Row r = checkBlock(s);
      rows.add(r);
      progress.accept(r);
    }
    for (Architecture a : architectures) {
      Row r = checkArchitecture(a, null);
      rows.add(r);
      progress.accept(r);
    }
    return rows;
  }

  /**
   * The layer checks of {@code selftest} on one block: round trips in float32 and float64, the
   * log-det against a brute-force Jacobian of one input of {@code spec}'s shape (one forward pass per
   * input dimension in each direction: keep the shape tiny), and the reversible backward's
   * gradients against finite differences. A block of one's own, or a {@link
   * org.irevnet.layers.Sequential} of them, is checked by a {@code Spec} of its factory, which
   * builds it with the same weights in either type for a seed (with non-zero last convolutions: a
   * coupling starting at the identity hides errors).
   */
  public static Row checkBlock(BlockCatalog.Spec spec) {
    long[] shape = spec.shape().clone();
    shape[0] = 3;
    Bijection f32 = spec.create(DataType.FLOAT, 1);
    Bijection f64 = spec.create(DataType.DOUBLE, 1);
    INDArray x64 = Numerics.normal(DataType.DOUBLE, 2, shape);
    // Against the float32 input the block was given: against x64 every row read at least the
    // rounding of the input to float32 (1.03e-7 for a permutation, whose round trip is exact).
    INDArray x32 = x64.castTo(DataType.FLOAT);
    double r32 = Numerics.maxAbsDiff(f32.invert(f32.apply(x32)), x32);
    double r64 = Numerics.maxAbsDiff(f64.invert(f64.apply(x64)), x64);

    INDArray one = Numerics.normal(DataType.DOUBLE, 5, spec.shape());
    double[][] jac = Numerics.jacobian(f64::apply, one, 1e-5);
    double ref = f64.logDetKind() == LogDetKind.INJECTIVE ? Numerics.halfLogDetGram(jac) : Numerics.logAbsDet(jac);
    double ld = f64.forward(one).logDet().getDouble(0);
    double ldErr = Math.abs(ld - ref) / Math.max(1, Math.abs(ref));

    double gErr = gradientError(f64, x64, 7);
    boolean pass = r32 <= RECON_F32 && r64 <= RECON_F64 && ldErr <= LOGDET && gErr <= GRAD;
    return new Row(spec.name(), "layer", r32, r64, ldErr, gErr, pass);
  }

  /**
   * Checks a whole model with seeded, perturbed weights (a freshly built model's couplings start as
   * swaps of their halves, their conditioners at 0, which would hide errors). {@code x} are real inputs in the model's input shape, or
   * null for seeded random images in [0,1].
   */
  public static Row checkArchitecture(Architecture arch, INDArray x) {
    InvertibleClassifier m32 = InvertibleClassifier.build(arch, DataType.FLOAT, 1);
    if (x == null) x = Init.uniform(DataType.DOUBLE, new Random(3), 0.5, m32.inputShape(2)).addi(0.5);
    x = x.castTo(DataType.DOUBLE);
    m32.initialize(x.castTo(DataType.FLOAT));
    Random r = new Random(4);
    for (Param p : m32.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.uniform(DataType.FLOAT, r, 0.02, p.value().shape()));
    }
    return checkModel(arch.name(), m32.body(), m32.withDataType(DataType.DOUBLE).body(), x);
  }

  /**
   * The checks of {@link #checkArchitecture} on a model's body in float32 ({@code b32}) and its
   * float64 copy ({@code b64}), at float64 inputs {@code x}. Apart so that a test can hand it a
   * broken body: a model built here passes every step.
   */
  static Row checkModel(String name, Bijection b32, Bijection b64, INDArray x) {
    INDArray x32 = x.castTo(DataType.FLOAT);
    double r32 = Numerics.maxAbsDiff(b32.invert(b32.apply(x32)), x32);
    Flow f = b64.forward(x);
    Flow inv = b64.inverse(f.out());
    double r64 = Numerics.maxAbsDiff(inv.out(), x);
    double ldErr = Numerics.maxAbsDiff(inv.logDet(), f.logDet().neg())
        / Math.max(1, Tensors.maxAbs(f.logDet()));
    double gErr = directionalGradientError(b64, x, 3);
    boolean pass = r32 <= RECON_F32 && r64 <= RECON_F64 && ldErr <= LOGDET && gErr <= GRAD;
    return new Row(name, "model", r32, r64, ldErr, gErr, pass);
  }

  /** The loss {@code <y, r> + <logdet, rl>} at {@code x} and its reversible-backward gradient. */
  private record Probe(INDArray r, INDArray rl, Grad grad) {
    static Probe at(Bijection b, INDArray x) {
      Flow f = b.forward(x);
      INDArray r = Numerics.normal(DataType.DOUBLE, 11, f.out().shape());
      INDArray rl = Numerics.normal(DataType.DOUBLE, 12, x.size(0));
      b.params().zeroGrad();
      return new Probe(r, rl, b.backward(f.out(), r, rl));
    }

    double loss(Bijection b, INDArray x) {
      Flow g = b.forward(x);
      return g.out().mul(r).sumNumber().doubleValue() + g.logDet().mul(rl).sumNumber().doubleValue();
    }
  }

  /** Whether a backward pass rebuilt {@code x}. */
  private static boolean rebuilds(Grad g, INDArray x) {
    return Numerics.maxAbsDiff(g.x(), x) <= 1e-9;
  }

  /**
   * Largest relative error of the reversible backward (dx and every trainable parameter, {@code
   * samples} sampled entries each; used for single layers) against central finite differences in
   * float64. Infinite if the rebuilt input is not x.
   */
  static double gradientError(Bijection b, INDArray x, int samples) {
    Probe p = Probe.at(b, x);
    if (!rebuilds(p.grad(), x)) return Double.POSITIVE_INFINITY;
    ToDoubleFunction<INDArray> loss = xx -> p.loss(b, xx);
    int[] xi = Numerics.sampleIndices(x.length(), samples, 3);
    double worst = compare(p.grad().dx(), Numerics.gradient(loss, x, 1e-6, xi), xi);
    for (Map.Entry<String, Param> e : b.params().entries().entrySet()) {
      Param q = e.getValue();
      if (!q.trainable()) continue;
      int[] idx = Numerics.sampleIndices(q.value().length(), samples, e.getKey().hashCode());
      double[] fd = Numerics.gradient(v -> loss.applyAsDouble(x), q.value(), 1e-6, idx);
      worst = Math.max(worst, compare(q.grad(), fd, idx));
    }
    return worst;
  }

  /**
   * Largest relative error between the reversible backward's directional derivative {@code <g, v>}
   * and a central difference of the loss along {@code v}, for {@code directions} random directions
   * {@code v} over the input and all trainable parameters at once. Used for whole models: one
   * probe covers every parameter (per-entry probes of a few sampled weights gave fi-revnet-s
   * errors up to 3e-4 at step 1e-6, where the SameDiff autodiff reference agrees to 1e-9).
   */
  static double directionalGradientError(Bijection b, INDArray x, int directions) {
    Probe probe = Probe.at(b, x);
    if (!rebuilds(probe.grad(), x)) return Double.POSITIVE_INFINITY;
    List<Param> ps = b.params().entries().values().stream().filter(Param::trainable).toList();
    // A chain's stored-activation backward (`--backward stored`) is checked against the same
    // finite differences.
    List<Gradients> passes = new ArrayList<>(List.of(Gradients.of(probe.grad(), ps)));
    if (b instanceof Sequential chain) {
      Tapes tapes = new Tapes();
      tapes.record();
      Flow f = chain.forward(x, tapes);
      b.params().zeroGrad();
      Grad stored = chain.backward(f.out(), probe.r(), probe.rl(), null, tapes);
      if (!rebuilds(stored, x)) return Double.POSITIVE_INFINITY;
      passes.add(Gradients.of(stored, ps));
    }
    Random rng = new Random(21);
    double worst = 0;
    for (int d = 0; d < directions; d++) {
      INDArray vx = Init.normal(DataType.DOUBLE, rng, x.shape());
      List<INDArray> vp = new ArrayList<>();
      for (Param p : ps) vp.add(Init.normal(DataType.DOUBLE, rng, p.value().shape()));
      double[] analytic = passes.stream().mapToDouble(g -> g.along(vx, vp)).toArray();
      // Small steps: moving millions of weights at once pushes ReLU units across their kink, and
      // the error from that shrinks only with the step (irevnet-s: 2e-3 at 1e-6, 2e-10 at 1e-7).
      // Two steps, the better one counts: a kink can spoil one, a wrong gradient spoils both.
      double[] best = new double[analytic.length];
      java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
      for (double eps : new double[] {1e-7, 3e-8}) {
        double plus = shiftedLoss(b, x, vx, ps, vp, eps, probe);
        double minus = shiftedLoss(b, x, vx, ps, vp, -eps, probe);
        double fd = (plus - minus) / (2 * eps);
        for (int k = 0; k < analytic.length; k++) {
          double a = analytic[k];
          best[k] = Math.min(best[k], Math.abs(fd - a) / Math.max(1, Math.max(Math.abs(fd), Math.abs(a))));
        }
      }
      for (double e : best) worst = Math.max(worst, e);
    }
    return worst;
  }

  /** One backward pass's gradients: dL/dx and a copy of every trainable parameter's gradient. */
  private record Gradients(INDArray dx, List<INDArray> params) {
    static Gradients of(Grad g, List<Param> ps) {
      return new Gradients(g.dx(), ps.stream().map(p -> p.grad().dup()).toList());
    }

    /** The directional derivative along {@code vx} (input) and {@code vp} (parameters). */
    double along(INDArray vx, List<INDArray> vp) {
      double d = dx.mul(vx).sumNumber().doubleValue();
      for (int i = 0; i < params.size(); i++) d += params.get(i).mul(vp.get(i)).sumNumber().doubleValue();
      return d;
    }
  }

  private static double shiftedLoss(Bijection b, INDArray x, INDArray vx, List<Param> ps, List<INDArray> vp,
      double eps, Probe probe) {
    for (int i = 0; i < ps.size(); i++) ps.get(i).value().addi(vp.get(i).mul(eps));
    double l = probe.loss(b, x.add(vx.mul(eps)));
    for (int i = 0; i < ps.size(); i++) ps.get(i).value().subi(vp.get(i).mul(eps));
    return l;
  }

  private static double compare(INDArray analytic, double[] fd, int[] idx) {
    INDArray flat = analytic.dup('c').reshape(-1);
    double[] an = new double[idx.length];
    for (int k = 0; k < idx.length; k++) an[k] = flat.getDouble(idx[k]);
    return Numerics.maxRelDiff(an, fd);
  }
}
