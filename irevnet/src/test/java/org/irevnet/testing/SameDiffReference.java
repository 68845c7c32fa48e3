package org.irevnet.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.irevnet.layers.ActNorm;
import org.irevnet.layers.AdditiveCoupling;
import org.irevnet.layers.AffineCoupling;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.ChannelReverse;
import org.irevnet.layers.InjectivePad;
import org.irevnet.layers.Invertible1x1Conv;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.layers.Sequential;
import org.irevnet.layers.SpaceToDepth;
import org.irevnet.models.InvertibleClassifier;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An independent autodiff reference for the reversible backward passes: the same function as a
 * {@link Bijection} (or a whole {@link InvertibleClassifier}), rebuilt as a SameDiff graph from
 * the block's <em>parameter values only</em>, written from each layer's definition (its Javadoc
 * and DESIGN.md section 3). None of the layers' forward, inverse or backward code runs here.
 *
 * <p>Every trainable parameter becomes a SameDiff variable under its {@link ParamTable} name,
 * initialised from the block's current value; buffers ({@code perm}, {@code sign_s}, running
 * statistics) become constants; the input is the variable {@link #INPUT}. SameDiff's reverse-mode
 * autodiff then gives {@code dL/dx} and {@code dL/dθ} for any loss built on {@link #out()},
 * {@link #logDet()} and {@link #logits()}.
 *
 * <p>Where the layers use a library primitive, the reference can avoid the same primitive:
 * convolutions either run as SameDiff's {@code conv2d} (whose gradient is libnd4j's {@code
 * conv2d_bp}, the kernel the layers call) or, with {@link ConvImpl#SHIFTED_MATMUL}, as a sum over
 * kernel taps of zero-padded shifted slices times matrix products, whose gradient shares no code
 * with {@code conv2d_bp}. Space-to-depth is built from strided slices (the psi definition read
 * literally), channel reversal from single-channel slices, the 1x1 convolution from a matrix
 * product, the readout BatchNorm from means and a square root.
 *
 * <p>Workarounds for SameDiff 1.0.0-M2.1 (each found when the graph failed to run): conv2d
 * weights are handed over in YXIO layout, because the gradient op loses the OIYX weights-format
 * argument; {@code gather} along the channel axis has a failing gradient, so reversal uses
 * slices; and {@code nn().logSoftmax(x, dim)} fails to build (callers write it out).
 */
public final class SameDiffReference {

  /** How convolutions are expressed in the graph. */
  public enum ConvImpl {
    /** SameDiff's {@code cnn().conv2d} ('same' padding, stride 1), weights permuted to YXIO. */
    CONV2D_OP,
    /** Zero padding, one shifted slice per kernel tap, a matrix product per tap, summed. */
    SHIFTED_MATMUL
  }

  /** Name of the input variable in {@link #gradients} results. */
  public static final String INPUT = "input";

  /** BatchNorm epsilon of the readout head (PyTorch's default, as in ReadoutHead). */
  public static final double BN_EPS = 1e-5;

  private record Node(SDVariable v, SDVariable logDet, long[] shape) {}

  private final SameDiff sd = SameDiff.create();
  private final ConvImpl convImpl;
  private final DataType dt;
  private final Map<String, SDVariable> trainable = new LinkedHashMap<>();
  private final Map<String, SDVariable> buffers = new LinkedHashMap<>();
  private final Set<String> used = new HashSet<>();
  private final SDVariable input;
  private SDVariable out;
  private SDVariable logDet;
  private SDVariable logits;
  private long[] outShape;

  private SameDiffReference(ParamTable table, INDArray x, ConvImpl convImpl) {
    this.convImpl = convImpl;
    this.dt = x.dataType();
    for (Map.Entry<String, Param> e : table.entries().entrySet()) {
      INDArray v = e.getValue().value().dup('c');
      if (e.getValue().trainable()) {
        trainable.put(e.getKey(), sd.var(e.getKey(), v));
      } else {
        buffers.put(e.getKey(), sd.constant(e.getKey(), v));
      }
    }
    this.input = sd.var(INPUT, x.dup('c'));
  }

  /** The graph of {@code block} applied to {@code x}: {@link #out()} and {@link #logDet()}. */
  public static SameDiffReference of(Bijection block, INDArray x, ConvImpl convImpl) {
    SameDiffReference r = new SameDiffReference(block.params(), x, convImpl);
    Node n = r.apply(block, "", r.input, x.shape());
    r.out = n.v();
    r.logDet = n.logDet();
    r.outShape = n.shape();
    r.requireAllParametersUsed();
    return r;
  }

  /**
   * The graph of a whole classifier on {@code x}: body output, log-det and logits. For a
   * fi-RevNet the logits are the first {@code numClasses} entries of the flattened output; for an
   * i-RevNet they come from the readout BatchNorm (batch statistics, training mode) - ReLU -
   * global average pool - Linear, built here from the {@code head.*} parameters.
   */
  public static SameDiffReference ofClassifier(InvertibleClassifier model, INDArray x, ConvImpl convImpl) {
    SameDiffReference r = new SameDiffReference(model.params(), x, convImpl);
    Node n = r.apply(model.body(), "", r.input, x.shape());
    r.out = n.v();
    r.logDet = n.logDet();
    r.outShape = n.shape();
    long[] s = n.shape();
    int classes = model.numClasses();
    if (model.isFullyInvertible()) {
      long d = s[1] * s[2] * s[3];
      SDVariable z = n.v().reshape(new long[] {s[0], d});
      r.logits = r.sd.stridedSlice(z, new long[] {0, 0}, new long[] {s[0], classes}, 1, 1);
    } else {
      r.logits = r.readoutHead(n.v(), s, "head.");
    }
    r.requireAllParametersUsed();
    return r;
  }

  public SameDiff sd() {
    return sd;
  }

  public SDVariable input() {
    return input;
  }

  /** The (body) output, NCHW. */
  public SDVariable out() {
    return out;
  }

  /** The per-sample log-det, shape {@code [batch]}. */
  public SDVariable logDet() {
    return logDet;
  }

  /** The logits (classifiers only). */
  public SDVariable logits() {
    if (logits == null) throw new IllegalStateException("not a classifier graph");
    return logits;
  }

  public long[] outShape() {
    return outShape.clone();
  }

  /** Names of the trainable parameters, in the block's order. */
  public List<String> parameterNames() {
    return new ArrayList<>(trainable.keySet());
  }

  /** A constant of the graph's dtype. */
  public SDVariable constant(INDArray v) {
    return sd.constant(v.castTo(dt).dup('c'));
  }

  /** {@code sum(out * dOut) + sum(logDet * dLogDet)}: a random linear functional of both outputs. */
  public SDVariable linearLoss(INDArray dOut, INDArray dLogDet) {
    SDVariable a = out.mul(constant(dOut.reshape('c', outShape))).sum();
    SDVariable b = logDet.mul(constant(dLogDet)).sum();
    return a.add(b);
  }

  /** Evaluates the given variables (forward pass). */
  public Map<String, INDArray> eval(SDVariable... vars) {
    String[] names = Arrays.stream(vars).map(SDVariable::name).toArray(String[]::new);
    Map<String, INDArray> res = sd.output(new LinkedHashMap<>(), names);
    Map<String, INDArray> copy = new LinkedHashMap<>();
    res.forEach((k, v) -> copy.put(k, v.dup('c')));
    return copy;
  }

  /**
   * Reverse-mode gradients of the scalar {@code loss}: {@code dL/dθ} for every trainable
   * parameter (by its {@link ParamTable} name) and {@code dL/dx} under {@link #INPUT}.
   */
  public Map<String, INDArray> gradients(SDVariable loss) {
    sd.setLossVariables(loss);
    List<String> names = new ArrayList<>(trainable.keySet());
    names.add(INPUT);
    Map<String, INDArray> g = sd.calculateGradients(new LinkedHashMap<>(), names);
    Map<String, INDArray> copy = new LinkedHashMap<>();
    for (String k : names) {
      INDArray v = g.get(k);
      if (v == null) throw new IllegalStateException("SameDiff returned no gradient for " + k);
      copy.put(k, v.dup('c'));
    }
    return copy;
  }

  // ---------------------------------------------------------------------------------------------
  // The layers, from their definitions.

  private Node apply(Bijection b, String prefix, SDVariable x, long[] s) {
    if (b instanceof Sequential seq) {
      SDVariable ld = zerosPerSample(s[0]);
      for (int i = 0; i < seq.blocks().size(); i++) {
        String name = seq.names().get(i);
        Node n = apply(seq.blocks().get(i), prefix + name + ".", x, s);
        x = n.v();
        s = n.shape();
        ld = ld.add(n.logDet());
      }
      return new Node(x, ld, s);
    }
    if (b instanceof SpaceToDepth p) return spaceToDepth(x, s, p.blockSize());
    if (b instanceof InjectivePad p) return injectivePad(x, s, p.pad());
    if (b instanceof ChannelReverse) return channelReverse(x, s);
    if (b instanceof ActNorm) return actNorm(x, s, prefix);
    if (b instanceof Invertible1x1Conv) return invertible1x1(x, s, prefix);
    if (b instanceof AffineCoupling a) return affineCoupling(x, s, prefix, a.scaleFloor());
    if (b instanceof AdditiveCoupling) return additiveCoupling(x, s, prefix);
    throw new IllegalArgumentException("no SameDiff reference for " + b.getClass().getName());
  }

  /** out[(dh*b + dw)*c + ci, i, j] = in[ci, i*b + dh, j*b + dw]: one strided slice per offset. */
  private Node spaceToDepth(SDVariable x, long[] s, int blk) {
    long n = s[0], c = s[1], h = s[2], w = s[3];
    List<SDVariable> parts = new ArrayList<>();
    for (int dh = 0; dh < blk; dh++) {
      for (int dw = 0; dw < blk; dw++) {
        parts.add(sd.stridedSlice(x, new long[] {0, 0, dh, dw}, new long[] {n, c, h, w}, 1, 1, blk, blk));
      }
    }
    SDVariable y = parts.size() == 1 ? parts.get(0) : sd.concat(1, parts.toArray(new SDVariable[0]));
    return new Node(y, zerosPerSample(n), new long[] {n, c * blk * blk, h / blk, w / blk});
  }

  /** Appends {@code pad} zero channels at the end. */
  private Node injectivePad(SDVariable x, long[] s, int pad) {
    SDVariable zeros = sd.constant(Nd4j.zeros(dt, s[0], pad, s[2], s[3]));
    return new Node(sd.concat(1, x, zeros), zerosPerSample(s[0]), new long[] {s[0], s[1] + pad, s[2], s[3]});
  }

  /** Channel c-1-k of the output is channel k of the input. */
  private Node channelReverse(SDVariable x, long[] s) {
    // One single-channel slice per channel, concatenated last to first. (SameDiff's gather
    // gradient fails on this rank-4 case in M2.1.)
    List<SDVariable> parts = new ArrayList<>();
    for (long k = s[1] - 1; k >= 0; k--) parts.add(channels(x, s, k, k + 1));
    SDVariable y = parts.size() == 1 ? parts.get(0) : sd.concat(1, parts.toArray(new SDVariable[0]));
    return new Node(y, zerosPerSample(s[0]), s.clone());
  }

  /** y = x * exp(logs) + b, log-det h*w*sum(logs). */
  private Node actNorm(SDVariable x, long[] s, String prefix) {
    SDVariable logs = param(prefix + "logs");
    SDVariable bias = param(prefix + "b");
    SDVariable y = x.mul(sd.math().exp(logs)).add(bias);
    SDVariable ld = onesPerSample(s[0]).mul(logs.sum().mul((double) (s[2] * s[3])));
    return new Node(y, ld, s.clone());
  }

  /**
   * W = perm (lower * strictLower + I) (upper * strictUpper + diag(sign * exp(log_s))), y[o] =
   * sum_i W[o, i] x[i] at every pixel, log-det h*w*sum(log_s).
   */
  private Node invertible1x1(SDVariable x, long[] s, String prefix) {
    int c = (int) s[1];
    SDVariable lower = param(prefix + "lower");
    SDVariable upper = param(prefix + "upper");
    SDVariable logS = param(prefix + "log_s");
    SDVariable perm = buffer(prefix + "perm");
    SDVariable sign = buffer(prefix + "sign_s");
    INDArray lowerMask = Nd4j.zeros(dt, c, c);
    INDArray upperMask = Nd4j.zeros(dt, c, c);
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < c; j++) {
        if (i > j) lowerMask.putScalar(i, j, 1);
        if (i < j) upperMask.putScalar(i, j, 1);
      }
    }
    SDVariable eye = sd.constant(Nd4j.eye(c).castTo(dt));
    SDVariable lf = lower.mul(sd.constant(lowerMask)).add(eye);
    // diag(v) as I * v broadcast along rows: (I * v)[i][j] = v[j] when i == j, else 0.
    SDVariable diag = eye.mul(sign.mul(sd.math().exp(logS)).reshape(new long[] {1, c}));
    SDVariable uf = upper.mul(sd.constant(upperMask)).add(diag);
    SDVariable w = sd.mmul(sd.mmul(perm, lf), uf);
    long n = s[0], h = s[2], wd = s[3];
    SDVariable rows = x.permute(0, 2, 3, 1).reshape(new long[] {n * h * wd, c});
    SDVariable y = sd.mmul(rows, w, false, true, false).reshape(new long[] {n, h, wd, c}).permute(0, 3, 1, 2);
    SDVariable ld = onesPerSample(n).mul(logS.sum().mul((double) (h * wd)));
    return new Node(y, ld, s.clone());
  }

  /**
   * x1, x2 = channel halves; h = net(x1); raw, t = halves of h; s = f + (1 - f) sigmoid(raw + 2);
   * y = concat(x2 * s + t, x1); log-det = sum log s.
   */
  private Node affineCoupling(SDVariable x, long[] s, String prefix, double floor) {
    long half = s[1] / 2;
    long[] hs = {s[0], half, s[2], s[3]};
    SDVariable x1 = channels(x, s, 0, half);
    SDVariable x2 = channels(x, s, half, s[1]);
    SDVariable h = convNet(x1, hs, prefix + "net.");
    SDVariable raw = channels(h, s, 0, half);
    SDVariable t = channels(h, s, half, s[1]);
    SDVariable sc = sd.nn().sigmoid(raw.add(2.0)).mul(1 - floor).add(floor);
    SDVariable y = sd.concat(1, x2.mul(sc).add(t), x1);
    SDVariable ld = sd.math().log(sc).sum(1, 2, 3);
    return new Node(y, ld, s.clone());
  }

  /** x1, x2 = channel halves; y = concat(x2, x1 + F(x2)); volume preserving. */
  private Node additiveCoupling(SDVariable x, long[] s, String prefix) {
    long half = s[1] / 2;
    long[] hs = {s[0], half, s[2], s[3]};
    SDVariable x1 = channels(x, s, 0, half);
    SDVariable x2 = channels(x, s, half, s[1]);
    SDVariable y = sd.concat(1, x2, x1.add(convNet(x2, hs, prefix + "bottleneck.")));
    return new Node(y, zerosPerSample(s[0]), s.clone());
  }

  /** conv ReLU conv ReLU conv, 'same' padding, biases ({@code 0.*}, {@code 2.*}, {@code 4.*}). */
  private SDVariable convNet(SDVariable x, long[] s, String prefix) {
    SDVariable h = sd.nn().relu(conv(x, s, prefix + "0."), 0.0);
    h = sd.nn().relu(conv(h, withChannels(s, weightShape(prefix + "0.")[0]), prefix + "2."), 0.0);
    return conv(h, withChannels(s, weightShape(prefix + "2.")[0]), prefix + "4.");
  }

  private long[] weightShape(String prefix) {
    return trainable.get(prefix + "weight").getArr().shape();
  }

  private static long[] withChannels(long[] s, long c) {
    return new long[] {s[0], c, s[2], s[3]};
  }

  /** PyTorch conv2d (cross-correlation), OIHW weights, stride 1, zero padding k/2, plus bias. */
  private SDVariable conv(SDVariable x, long[] s, String prefix) {
    SDVariable w = param(prefix + "weight");
    SDVariable b = param(prefix + "bias");
    long[] ws = weightShape(prefix);
    long co = ws[0], ci = ws[1], k = ws[2];
    if (ci != s[1] || ws[3] != k || k % 2 == 0) {
      throw new IllegalArgumentException(prefix + "weight " + Arrays.toString(ws) + " does not fit input "
          + Arrays.toString(s));
    }
    if (convImpl == ConvImpl.CONV2D_OP) {
      // Weights handed over as [kH, kW, iC, oC] (YXIO): in M2.1 SameDiff's conv2d gradient drops
      // the weights-format argument and conv2d_bp then rejects OIYX weights.
      Conv2DConfig cfg = Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(k / 2).pW(k / 2).dH(1).dW(1)
          .paddingMode(PaddingMode.VALID).dataFormat("NCHW").weightsFormat(WeightsFormat.YXIO).build();
      return sd.cnn().conv2d(x, w.permute(2, 3, 1, 0), b, cfg);
    }
    long n = s[0], h = s[2], wd = s[3], p = k / 2;
    SDVariable xp = x;
    if (p > 0) {
      SDVariable zh = sd.constant(Nd4j.zeros(dt, n, ci, p, wd));
      xp = sd.concat(2, zh, xp, zh);
      SDVariable zw = sd.constant(Nd4j.zeros(dt, n, ci, h + 2 * p, p));
      xp = sd.concat(3, zw, xp, zw);
    }
    SDVariable acc = null;
    for (long di = 0; di < k; di++) {
      for (long dj = 0; dj < k; dj++) {
        // out[n, o, i, j] += sum_c w[o, c, di, dj] * xpad[n, c, i + di, j + dj]
        SDVariable patch = sd.stridedSlice(xp, new long[] {0, 0, di, dj}, new long[] {n, ci, di + h, dj + wd},
            1, 1, 1, 1);
        SDVariable rows = patch.permute(0, 2, 3, 1).reshape(new long[] {n * h * wd, ci});
        SDVariable tap = sd.stridedSlice(w, new long[] {0, 0, di, dj}, new long[] {co, ci, di + 1, dj + 1},
            1, 1, 1, 1).reshape(new long[] {co, ci});
        SDVariable term = sd.mmul(rows, tap, false, true, false);
        acc = acc == null ? term : acc.add(term);
      }
    }
    SDVariable y = acc.add(b.reshape(new long[] {1, co}));
    return y.reshape(new long[] {n, h, wd, co}).permute(0, 3, 1, 2);
  }

  /**
   * BatchNorm with batch statistics (biased variance, eps {@link #BN_EPS}), scale and shift,
   * ReLU, mean over h and w, then {@code pooled W^T + b}.
   */
  private SDVariable readoutHead(SDVariable x, long[] s, String prefix) {
    SDVariable gamma = param(prefix + "bn.weight");
    SDVariable beta = param(prefix + "bn.bias");
    SDVariable w = param(prefix + "linear.weight");
    SDVariable b = param(prefix + "linear.bias");
    SDVariable mean = x.mean(true, 0, 2, 3);
    SDVariable centred = x.sub(mean);
    SDVariable var = centred.mul(centred).mean(true, 0, 2, 3);
    SDVariable xhat = centred.div(sd.math().sqrt(var.add(BN_EPS)));
    SDVariable act = sd.nn().relu(xhat.mul(gamma).add(beta), 0.0);
    SDVariable pooled = act.mean(2, 3);
    long classes = trainable.get(prefix + "linear.bias").getArr().length();
    return sd.mmul(pooled, w, false, true, false).add(b.reshape(new long[] {1, classes}));
  }

  // ---------------------------------------------------------------------------------------------

  private SDVariable channels(SDVariable x, long[] s, long from, long to) {
    return sd.stridedSlice(x, new long[] {0, from, 0, 0}, new long[] {s[0], to, s[2], s[3]}, 1, 1, 1, 1);
  }

  private SDVariable zerosPerSample(long n) {
    return sd.constant(Nd4j.zeros(dt, n));
  }

  private SDVariable onesPerSample(long n) {
    return sd.constant(Nd4j.ones(dt, n));
  }

  private SDVariable param(String name) {
    SDVariable v = trainable.get(name);
    if (v == null) throw new IllegalArgumentException("no trainable parameter " + name + " in " + trainable.keySet());
    used.add(name);
    return v;
  }

  private SDVariable buffer(String name) {
    SDVariable v = buffers.get(name);
    if (v == null) throw new IllegalArgumentException("no buffer " + name + " in " + buffers.keySet());
    return v;
  }

  private void requireAllParametersUsed() {
    Set<String> unused = new HashSet<>(trainable.keySet());
    unused.removeAll(used);
    if (!unused.isEmpty()) {
      throw new IllegalStateException("the reference graph does not use parameters " + unused);
    }
  }
}
