package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.irevnet.check.Numerics;
import org.irevnet.nn.Conv2d;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link Conv2d} against a convolution written out entry by entry in float64, and {@link ConvNet}'s
 * initialisation, parameter names and backward pass against central finite differences.
 */
class ConvNetTest {
  /** {@code b[o] + sum w[o, c, i, j] x[n, c, y + i - kh/2, z + j - kw/2]}, zero outside the image. */
  private static double[][][][] bruteConv(double[][][][] x, double[][][][] w, double[] b) {
    int n = x.length, ci = x[0].length, h = x[0][0].length, wd = x[0][0][0].length;
    int co = w.length, kh = w[0][0].length, kw = w[0][0][0].length;
    double[][][][] out = new double[n][co][h][wd];
    for (int s = 0; s < n; s++) for (int o = 0; o < co; o++) for (int y = 0; y < h; y++) for (int z = 0; z < wd; z++) {
      double v = b[o];
      for (int c = 0; c < ci; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
        int yy = y + i - (kh - 1) / 2, zz = z + j - (kw - 1) / 2;
        if (yy >= 0 && yy < h && zz >= 0 && zz < wd) v += w[o][c][i][j] * x[s][c][yy][zz];
      }
      out[s][o][y][z] = v;
    }
    return out;
  }

  private static double[][][][] bruteConv(INDArray x, INDArray w, INDArray b) {
    return bruteConv(toArray(x), toArray(w), Tensors.doubles(b));
  }

  private static void assertEqualsEntrywise(INDArray got, double[][][][] expected, double tol) {
    assertThat(got.shape()).containsExactly(expected.length, expected[0].length, expected[0][0].length,
        expected[0][0][0].length);
    for (int s = 0; s < expected.length; s++) for (int o = 0; o < expected[0].length; o++)
      for (int y = 0; y < expected[0][0].length; y++) for (int z = 0; z < expected[0][0][0].length; z++) {
        assertThat(got.getDouble(s, o, y, z)).as("[%d, %d, %d, %d]", s, o, y, z).isCloseTo(expected[s][o][y][z], within(tol));
      }
  }

  @Test
  void forwardIsTheSameConvolutionWithBiasForNonSquareKernels() {
    // kh != kw: each padding comes from its own kernel side.
    for (long[] k : new long[][] {{3, 1}, {1, 5}, {3, 3}}) {
      INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 3, 4, 5);
      INDArray w = Nd4j.randn(DataType.DOUBLE, 2, 3, k[0], k[1]);
      INDArray b = Nd4j.randn(DataType.DOUBLE, 2);
      assertEqualsEntrywise(Conv2d.forward(x, w, b), bruteConv(x, w, b), 1e-12);
    }
  }

  @Test
  void backwardAddsTheExactGradientsToWhatIsAlreadyThere() {
    INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 2, 3, 4);
    INDArray w = Nd4j.randn(DataType.DOUBLE, 3, 2, 3, 1);
    INDArray b = Nd4j.randn(DataType.DOUBLE, 3);
    INDArray dOut = Nd4j.randn(DataType.DOUBLE, 2, 3, 3, 4);
    INDArray dw = Nd4j.ones(DataType.DOUBLE, 3, 2, 3, 1), db = Nd4j.ones(DataType.DOUBLE, 3);
    INDArray dx = Conv2d.backward(x, w, b, dOut, dw, db);
    // The convolution is linear in each argument, so L = sum(dOut * conv(x, w, b)) has
    // dL/dx[s,c,p,q] = L of a one-hot x with b = 0 (and likewise for w and b).
    double[][][][] xs = toArray(x), ws = toArray(w), ds = toArray(dOut);
    double[] zeroB = new double[3];
    for (int s = 0; s < 2; s++) for (int c = 0; c < 2; c++) for (int p = 0; p < 3; p++) for (int q = 0; q < 4; q++) {
      double[][][][] e = new double[2][2][3][4];
      e[s][c][p][q] = 1;
      assertThat(dx.getDouble(s, c, p, q)).isCloseTo(dot(ds, bruteConv(e, ws, zeroB)), within(1e-12));
    }
    for (int o = 0; o < 3; o++) {
      for (int c = 0; c < 2; c++) for (int i = 0; i < 3; i++) {
        double[][][][] e = new double[3][2][3][1];
        e[o][c][i][0] = 1;
        assertThat(dw.getDouble(o, c, i, 0)).isCloseTo(1 + dot(ds, bruteConv(xs, e, zeroB)), within(1e-12));
      }
      double[] e = new double[3];
      e[o] = 1;
      assertThat(db.getDouble(o)).isCloseTo(1 + dot(ds, bruteConv(new double[2][2][3][4], ws, e)), within(1e-12));
    }
  }

  /**
   * The arrays as training hands them over: weights, biases and gradients are views into the flat
   * parameter and gradient rows ({@code ParamTable} rebinds them there), and an input may be a
   * channel range or a batch range of a larger tensor. Each starts at an offset into its buffer,
   * and the channel range is not even one run of it.
   */
  private static INDArray inFlatRow(INDArray a, long at) {
    INDArray row = Nd4j.randn(a.dataType(), 1, at + a.length() + 5);
    INDArray v = Tensors.rowSlice(row, at, a.length()).reshape('c', a.shape());
    return v.assign(a);
  }

  @Test
  void forwardAndBackwardAreRightOnViewsIntoLargerBuffers() {
    // float32 runs oneDNN's kernels, float64 libnd4j's own: each meets the views.
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double tol = dt == DataType.DOUBLE ? 1e-12 : 1e-4;
      INDArray base = Nd4j.randn(dt, 4, 5, 3, 4);
      INDArray x = base.get(NDArrayIndex.interval(1, 3), NDArrayIndex.interval(1, 3), NDArrayIndex.all(), NDArrayIndex.all());
      assertThat(Tensors.dense(x)).as("the input is a strided view").isNotSameAs(x);
      INDArray w0 = Nd4j.randn(dt, 3, 2, 3, 3), b0 = Nd4j.randn(dt, 3);
      INDArray w = inFlatRow(w0, 7), b = inFlatRow(b0, 3);
      INDArray dOutBase = Nd4j.randn(dt, 2, 5, 3, 4);
      INDArray dOut = dOutBase.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 5), NDArrayIndex.all(), NDArrayIndex.all());
      // The expected values come from dense copies (ND4J's dup) run through the float64 loops.
      INDArray xd = x.dup('c');
      assertEqualsEntrywise(Conv2d.forward(x, w, b), bruteConv(xd, w0, b0), tol);

      INDArray dw = inFlatRow(Nd4j.zeros(dt, 3, 2, 3, 3), 11), db = inFlatRow(Nd4j.zeros(dt, 3), 2);
      INDArray dx = Conv2d.backward(x, w, b, dOut, dw, db);
      INDArray dxDense = Conv2d.backward(xd, w0, b0, dOut.dup('c'), Nd4j.zeros(dt, 3, 2, 3, 3),
          Nd4j.zeros(dt, 3));
      // Against the same op on dense copies, whose exactness the tests below check;
      // plus the bias gradient by hand: the sum of dOut over batch and pixels, per channel.
      assertThat(dx.equalsWithEps(dxDense, tol)).as("dx").isTrue();
      double[][][][] d = toArray(dOut.dup('c'));
      for (int o = 0; o < 3; o++) {
        double sum = 0;
        for (int s = 0; s < 2; s++) for (int y = 0; y < 3; y++) for (int z = 0; z < 4; z++) sum += d[s][o][y][z];
        assertThat(db.getDouble(o)).as("db[%d]", o).isCloseTo(sum, within(tol));
      }
      // dL/dw[o,c,i,j] = sum dOut[s,o,y,z] x[s,c,y+i-1,z+j-1]: the correlation written out.
      double[][][][] xs = toArray(xd);
      for (int o = 0; o < 3; o++) for (int c = 0; c < 2; c++) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
        double sum = 0;
        for (int s = 0; s < 2; s++) for (int y = 0; y < 3; y++) for (int z = 0; z < 4; z++) {
          int yy = y + i - 1, zz = z + j - 1;
          if (yy >= 0 && yy < 3 && zz >= 0 && zz < 4) sum += d[s][o][y][z] * xs[s][c][yy][zz];
        }
        assertThat(dw.getDouble(o, c, i, j)).as("dw[%d, %d, %d, %d]", o, c, i, j).isCloseTo(sum, within(tol));
      }
    }
  }

  @Test
  void float32ForwardAndBackwardMatchTheFloat64Loops() {
    // Float32 runs oneDNN's kernels, float64 libnd4j's own: the shapes the models use (3x3 and 1x1
    // kernels, batch 1, a 1x1 image smaller than the kernel) against the loops in float64.
    for (int[] shape : new int[][] {{1, 3, 4, 4, 3}, {2, 4, 2, 3, 1}, {1, 2, 1, 1, 3}, {3, 1, 5, 2, 5}}) {
      int n = shape[0], c = shape[1], h = shape[2], wd = shape[3], k = shape[4];
      INDArray x = Nd4j.randn(DataType.FLOAT, n, c, h, wd), w = Nd4j.randn(DataType.FLOAT, 2, c, k, k);
      INDArray b = Nd4j.randn(DataType.FLOAT, 2);
      String what = java.util.Arrays.toString(shape);
      INDArray got = Conv2d.forward(x, w, b);
      assertThat(got.dataType()).isEqualTo(DataType.FLOAT);
      double[][][][] expected = bruteConv(x, w, b);
      for (int s = 0; s < n; s++) for (int o = 0; o < 2; o++) for (int y = 0; y < h; y++) for (int z = 0; z < wd; z++) {
        assertThat(got.getDouble(s, o, y, z)).as("%s [%d, %d, %d, %d]", what, s, o, y, z)
            .isCloseTo(expected[s][o][y][z], within(1e-4));
      }
      // The input gradient of L = sum(dOut * conv) is L of a one-hot input with zero bias (linearity).
      INDArray dOut = Nd4j.randn(DataType.FLOAT, n, 2, h, wd);
      INDArray dw = Nd4j.zeros(DataType.FLOAT, 2, c, k, k), db = Nd4j.zeros(DataType.FLOAT, 2);
      INDArray dx = Conv2d.backward(x, w, b, dOut, dw, db);
      double[][][][] ws = toArray(w), ds = toArray(dOut), xs = toArray(x);
      for (int s = 0; s < n; s++) for (int ci = 0; ci < c; ci++) for (int p = 0; p < h; p++) for (int q = 0; q < wd; q++) {
        double[][][][] e = new double[n][c][h][wd];
        e[s][ci][p][q] = 1;
        assertThat(dx.getDouble(s, ci, p, q)).as("%s dx", what).isCloseTo(dot(ds, bruteConv(e, ws, new double[2])), within(1e-4));
      }
      for (int o = 0; o < 2; o++) for (int ci = 0; ci < c; ci++) for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
        double[][][][] e = new double[2][c][k][k];
        e[o][ci][i][j] = 1;
        assertThat(dw.getDouble(o, ci, i, j)).as("%s dw", what).isCloseTo(dot(ds, bruteConv(xs, e, new double[2])), within(1e-4));
      }
    }
  }

  @Test
  void anEmptyBatchGivesEmptyResultsAndNoGradientInEveryDtype() {
    // A batch of 0 samples (an empty split, a last batch of nothing): in float64 libnd4j's own
    // conv2d aborted the whole JVM on it, where oneDNN's float32 one returns an empty array.
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      INDArray x = Nd4j.create(dt, 0, 2, 3, 4), w = Nd4j.randn(dt, 3, 2, 3, 3), b = Nd4j.randn(dt, 3);
      assertThat(Conv2d.forward(x, w, b).shape()).as("%s", dt).containsExactly(0, 3, 3, 4);
      INDArray dw = Nd4j.ones(dt, 3, 2, 3, 3), db = Nd4j.ones(dt, 3);
      INDArray dx = Conv2d.backward(x, w, b, Nd4j.create(dt, 0, 3, 3, 4), dw, db);
      assertThat(dx.shape()).as("%s", dt).containsExactly(0, 2, 3, 4);
      // No sample, no contribution: the gradients stay as they were.
      assertThat(Tensors.min(dw)).isEqualTo(1.0);
      assertThat(Tensors.max(dw)).isEqualTo(1.0);
      assertThat(Tensors.doubles(db)).containsExactly(1, 1, 1);
    }
  }

  @Test
  void evenKernelsAreRefused() {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 1, 1, 4, 4), b = Nd4j.zeros(DataType.DOUBLE, 1);
    assertThatThrownBy(() -> Conv2d.forward(x, Nd4j.zeros(DataType.DOUBLE, 1, 1, 2, 3), b))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("'same' convolution needs an odd kernel, got 2x3");
    assertThatThrownBy(() -> Conv2d.forward(x, Nd4j.zeros(DataType.DOUBLE, 1, 1, 3, 4), b))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("'same' convolution needs an odd kernel, got 3x4");
  }

  @Test
  void initialisesAsPyTorchFromTheGivenRandomUnderPyTorchsNames() {
    ConvNet net = new ConvNet(2, 3, 4, 3, DataType.DOUBLE, new Random(11), 0.5);
    // in 2, hidden 3, out 4, kernel 3: OIHW weights.
    assertThat(net.params().entries().values().stream().map(p -> java.util.Arrays.toString(p.value().shape())))
        .containsExactly("[3, 2, 3, 3]", "[3]", "[3, 3, 3, 3]", "[3]", "[4, 3, 3, 3]", "[4]");
    assertThat(net.params().entries().keySet())
        .containsExactly("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias");
    // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weights then bias, layer by layer; the last scaled by 0.5.
    Random r = new Random(11);
    int[][] layers = {{3, 2}, {3, 3}, {4, 3}};
    for (int l = 0; l < 3; l++) {
      double bound = (l == 2 ? 0.5 : 1.0) / Math.sqrt(layers[l][1] * 9.0);
      INDArray w = net.params().get(2 * l + ".weight").value(), b = net.params().get(2 * l + ".bias").value();
      assertThat(w.shape()).containsExactly(layers[l][0], layers[l][1], 3, 3);
      assertThat(b.shape()).containsExactly(layers[l][0]);
      for (double v : Tensors.doubles(w)) assertThat(v).isEqualTo((2 * r.nextDouble() - 1) * bound);
      for (double v : Tensors.doubles(b)) assertThat(v).isEqualTo((2 * r.nextDouble() - 1) * bound);
    }
    ConvNet identity = new ConvNet(2, 3, 4, 3, DataType.DOUBLE, new Random(11), 0);
    assertThat(Tensors.maxAbs(identity.apply(Nd4j.randn(DataType.DOUBLE, 1, 2, 3, 3))))
        .as("a zero last layer outputs zeros").isZero();
  }

  @Test
  void forwardIsConvReluConvReluConv() {
    ConvNet net = new ConvNet(2, 3, 2, 3, DataType.DOUBLE, new Random(3), 1.0);
    INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 2, 3, 3);
    ConvNet.Tape t = net.forward(x);
    double[][][][] r1 = relu(bruteConv(x, value(net, "0.weight"), value(net, "0.bias")));
    double[][][][] r2 = relu(bruteConv(r1, toArray(value(net, "2.weight")), Tensors.doubles(value(net, "2.bias"))));
    assertEqualsEntrywise(t.r1(), r1, 1e-12);
    assertEqualsEntrywise(t.r2(), r2, 1e-12);
    assertEqualsEntrywise(t.out(), bruteConv(r2, toArray(value(net, "4.weight")), Tensors.doubles(value(net, "4.bias"))),
        1e-12);
    assertEqualsEntrywise(net.apply(x), toArray(t.out()), 0);
    assertThat(t.arrays()).containsExactly(t.x(), t.r1(), t.r2(), t.out());
    assertThat(ConvNet.Tape.of(t.arrays())).isEqualTo(t);
    assertThatThrownBy(() -> ConvNet.Tape.of(new INDArray[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("a ConvNet tape has 4 arrays, got 3");
  }

  @Test
  void backwardMatchesCentralDifferencesForTheInputAndEveryParameter() {
    ConvNet net = new ConvNet(2, 3, 2, 3, DataType.DOUBLE, new Random(5), 1.0);
    INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 2, 3, 3);
    INDArray dOut = Nd4j.randn(DataType.DOUBLE, 2, 2, 3, 3);
    INDArray dx = net.backward(net.forward(x), dOut);
    // The loss sum(dOut * net(x)) recomputed in float64 Java loops from the arrays as they are:
    // central differences perturb x and each parameter in place.
    double[][][][] d = toArray(dOut);
    ToDoubleFunction<INDArray> loss = ignored -> dot(d, javaNet(net, x));
    for (String name : new String[] {"x", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}) {
      INDArray v = name.equals("x") ? x : value(net, name);
      double[] got = Tensors.doubles(name.equals("x") ? dx : net.params().get(name).grad());
      double[] fd = Numerics.gradient(loss, v, 1e-6, IntStream.range(0, got.length).toArray());
      for (int i = 0; i < got.length; i++) {
        assertThat(got[i]).as("%s[%d]", name, i).isCloseTo(fd[i], within(1e-7));
      }
    }
  }

  private static double[][][][] javaNet(ConvNet net, INDArray x) {
    double[][][][] r = toArray(x);
    for (int l = 0; l < 3; l++) {
      r = bruteConv(r, toArray(value(net, 2 * l + ".weight")), Tensors.doubles(value(net, 2 * l + ".bias")));
      if (l < 2) r = relu(r);
    }
    return r;
  }

  private static double dot(double[][][][] a, double[][][][] b) {
    double s = 0;
    for (int i = 0; i < b.length; i++) for (int j = 0; j < b[0].length; j++) for (int k = 0; k < b[0][0].length; k++)
      for (int l = 0; l < b[0][0][0].length; l++) s += a[i][j][k][l] * b[i][j][k][l];
    return s;
  }

  private static INDArray value(ConvNet net, String name) {
    return net.params().get(name).value();
  }

  private static double[][][][] relu(double[][][][] a) {
    double[][][][] r = new double[a.length][a[0].length][a[0][0].length][a[0][0][0].length];
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) for (int k = 0; k < a[0][0].length; k++)
      for (int l = 0; l < a[0][0][0].length; l++) r[i][j][k][l] = Math.max(0, a[i][j][k][l]);
    return r;
  }

  private static double[][][][] toArray(INDArray a) {
    return toArray(Tensors.doubles(a), a.shape());
  }

  /** Row-major {@code v} as a 4-D array of shape {@code s}. */
  private static double[][][][] toArray(double[] v, long[] s) {
    double[][][][] r = new double[(int) s[0]][(int) s[1]][(int) s[2]][(int) s[3]];
    int p = 0;
    for (int i = 0; i < r.length; i++) for (int j = 0; j < r[0].length; j++) for (int k = 0; k < r[0][0].length; k++)
      for (int l = 0; l < r[0][0][0].length; l++) r[i][j][k][l] = v[p++];
    return r;
  }
}
