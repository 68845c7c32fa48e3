package org.irevnet.layers;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.nn.Conv2d;
import org.irevnet.nn.Tensors;
import org.irevnet.nn.Triangular;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import java.util.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Glow's invertible 1x1 convolution in LU form: {@code W = P (L + I) (U + diag(sign * exp(logs)))}
 * with P a fixed permutation, L strictly lower and U strictly upper triangular; log-det {@code
 * h*w*sum(logs)} costs nothing to compute. Initialised as a random rotation.
 */
public final class Invertible1x1Conv extends ChannelBlock {
  private final Param lower;
  private final Param upper;
  private final Param logS;
  private final Param perm;
  private final Param sign;
  private final INDArray lowerMask;
  private final INDArray upperMask;

  public Invertible1x1Conv(int channels, DataType dt, Random rng) {
    super(channels);
    double[][] a = new double[channels][channels];
    for (int i = 0; i < channels; i++) for (int j = 0; j < channels; j++) a[i][j] = rng.nextGaussian();
    RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(a)).getQ();
    LUDecomposition lu = new LUDecomposition(q);
    // commons-math: P q = L U, so q = P^T L U.
    double[][] l = lu.getL().getData();
    double[][] u = lu.getU().getData();
    double[][] pt = lu.getP().transpose().getData();
    double[] sgn = new double[channels];
    double[] logs = new double[channels];
    for (int i = 0; i < channels; i++) {
      sgn[i] = Math.signum(u[i][i]);
      logs[i] = Math.log(Math.abs(u[i][i]));
      l[i][i] = 0;
      u[i][i] = 0;
    }
    lowerMask = Nd4j.ones(dt, channels, channels);
    upperMask = Nd4j.ones(dt, channels, channels);
    for (int i = 0; i < channels; i++) {
      for (int j = 0; j < channels; j++) {
        if (j >= i) lowerMask.putScalar(i, j, 0);
        if (j <= i) upperMask.putScalar(i, j, 0);
      }
    }
    this.lower = params.add("lower", Nd4j.create(l).castTo(dt));
    this.upper = params.add("upper", Nd4j.create(u).castTo(dt));
    this.logS = params.add("log_s", Nd4j.create(logs).castTo(dt));
    this.perm = params.addBuffer("perm", Nd4j.create(pt).castTo(dt));
    this.sign = params.addBuffer("sign_s", Nd4j.create(sgn).castTo(dt));
  }

  private INDArray lowerFactor() {
    return lower.value().mul(lowerMask).addi(Nd4j.eye(channels).castTo(lowerMask.dataType()));
  }

  private INDArray upperFactor() {
    INDArray diag = Nd4j.diag(Transforms.exp(logS.value(), true).muli(sign.value()));
    return upper.value().mul(upperMask).addi(diag);
  }

  /** The current channels x channels matrix W. */
  public INDArray weight() {
    return perm.value().mmul(lowerFactor()).mmul(upperFactor());
  }

  private INDArray kernel(INDArray w) {
    return w.reshape('c', channels, channels, 1, 1).dup('c');
  }

  @Override
  public Flow forward(INDArray x) {
    check(x.shape());
    INDArray y = Conv2d.forward(x.dup('c'), kernel(weight()), Nd4j.zeros(x.dataType(), channels));
    return new Flow(y, logDet(x, 1));
  }

  @Override
  public Flow inverse(INDArray y) {
    check(y.shape());
    // x = U^-1 L^-1 P^T y, pixel by pixel, by triangular solves on the factors: no inverse is formed
    // (libnd4j's refused every 512-channel rotation in float32: its determinant underflows).
    // In float64 whatever the model's type: in float32 the solves alone added up to 3e-5 to the
    // round trip at 1024 channels, where float64 costs a few milliseconds.
    long n = y.size(0), h = y.size(2), w = y.size(3);
    DataType f64 = DataType.DOUBLE;
    INDArray pixels = y.permute(1, 0, 2, 3).castTo(f64).dup('c').reshape(channels, n * h * w);
    INDArray z = Triangular.solveLower(lowerFactor().castTo(f64),
        perm.value().castTo(f64).transpose().mmul(pixels), true);
    z = Triangular.solveUpper(upperFactor().castTo(f64), z);
    INDArray x = z.reshape(channels, n, h, w).permute(1, 0, 2, 3).castTo(y.dataType()).dup('c');
    return new Flow(x, logDet(y, -1));
  }

  private INDArray logDet(INDArray x, double sgn) {
    double v = sgn * x.size(2) * x.size(3) * logS.value().sumNumber().doubleValue();
    return Nd4j.valueArrayOf(new long[] {x.size(0)}, v, x.dataType());
  }

  @Override
  public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
    INDArray x = inverse(y).out();
    INDArray lf = lowerFactor();
    INDArray uf = upperFactor();
    INDArray w = kernel(perm.value().mmul(lf).mmul(uf));
    INDArray dw4 = Nd4j.zeros(x.dataType(), channels, channels, 1, 1);
    INDArray dx = Conv2d.backward(x, w, Nd4j.zeros(x.dataType(), channels), dy.dup('c'), dw4,
        Nd4j.zeros(x.dataType(), channels));
    INDArray dW = dw4.reshape(channels, channels);
    INDArray dM = perm.value().transpose().mmul(dW);
    lower.grad().addi(dM.mmul(uf.transpose()).muli(lowerMask));
    INDArray dU = lf.transpose().mmul(dM);
    upper.grad().addi(dU.mul(upperMask));
    INDArray dDiag = Nd4j.diag(dU).reshape(channels);
    INDArray s = Transforms.exp(logS.value(), true).muli(sign.value());
    logS.grad().addi(dDiag.muli(s).addi(y.size(2) * y.size(3) * dLogDet.sumNumber().doubleValue()));
    return new Grad(x, dx);
  }




  @Override
  public LogDetKind logDetKind() {
    return LogDetKind.EXACT;
  }
}
