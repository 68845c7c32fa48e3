package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.irevnet.check.BlockCatalog;
import org.irevnet.host.Host;
import org.irevnet.nn.Conv2d;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.check.Numerics;
import org.irevnet.testing.ParamGradients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import static org.assertj.core.data.Offset.offset;

/** Checks that are particular to one layer: layouts, init rules, error messages. */
class LayerSpecificsTest {

  /**
   * Every coefficient lands where the psi rule puts it, read from strided inputs as the models pass
   * them (a channel slice of a larger array, as the couplings' halves are), at block sizes 1 to 3, in
   * both directions and in both precisions; the rule is computed here index by index. An empty batch
   * gives an empty output of the right shape (libnd4j's ops are not called on it).
   */
  @ParameterizedTest
  @CsvSource({"FLOAT, 1", "FLOAT, 2", "DOUBLE, 2", "DOUBLE, 3"})
  void spaceToDepthMovesEveryCoefficientOfAStridedInputByThePsiRule(DataType dt, int b) {
    int n = 3, c = 5, h = 2 * b * 3 / 2 * 2, w = b * 4;
    INDArray wide = Numerics.normal(dt, 8, n, c + 3, h, w);
    INDArray x = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 2 + c), NDArrayIndex.all(), NDArrayIndex.all());
    SpaceToDepth psi = new SpaceToDepth(b);
    INDArray y = psi.forward(x).out();
    assertThat(y.shape()).containsExactly(n, (long) c * b * b, h / b, w / b);
    INDArray wideY = Nd4j.zeros(dt, n, (long) c * b * b + 2, h / b, w / b);
    INDArray yView = wideY.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 1 + c * b * b), NDArrayIndex.all(), NDArrayIndex.all());
    yView.assign(y);
    INDArray back = psi.inverse(yView).out();
    for (int k = 0; k < n; k++) for (int dh = 0; dh < b; dh++) for (int dw = 0; dw < b; dw++) for (int ci = 0; ci < c; ci++) {
      for (int i = 0; i < h / b; i++) for (int j = 0; j < w / b; j++) {
        double v = x.getDouble(k, ci, i * b + dh, j * b + dw);
        assertThat(y.getDouble(k, (dh * b + dw) * c + ci, i, j)).isEqualTo(v);
        assertThat(back.getDouble(k, ci, i * b + dh, j * b + dw)).isEqualTo(v);
      }
    }
    INDArray empty = Nd4j.create(dt, 0, c, h, w);
    assertThat(psi.forward(empty).out().shape()).containsExactly(0, (long) c * b * b, h / b, w / b);
    assertThat(psi.inverse(psi.forward(empty).out()).out().shape()).containsExactly(0, c, h, w);
  }

  @Test
  void spaceToDepthFollowsThePsiChannelOrder() {
    // PAPERS.md 1.2 worked example: C = 2, 4x4, block 2. Value = 100*c + 10*row + col.
    INDArray x = Nd4j.create(DataType.DOUBLE, 1, 2, 4, 4);
    for (int c = 0; c < 2; c++) for (int r = 0; r < 4; r++) for (int s = 0; s < 4; s++) {
      x.putScalar(new long[] {0, c, r, s}, 100 * c + 10 * r + s);
    }
    INDArray y = new SpaceToDepth(2).apply(x);
    assertThat(y.shape()).isEqualTo(new long[] {1, 8, 2, 2});
    double[] pixel00 = new double[8];
    for (int k = 0; k < 8; k++) pixel00[k] = y.getDouble(0, k, 0, 0);
    // [x0(0,0), x1(0,0), x0(0,1), x1(0,1), x0(1,0), x1(1,0), x0(1,1), x1(1,1)]
    assertThat(pixel00).containsExactly(0, 100, 1, 101, 10, 110, 11, 111);
    // General rule: out[(dh*b + dw)*C + c, i, j] = in[c, i*b + dh, j*b + dw].
    for (int dh = 0; dh < 2; dh++) for (int dw = 0; dw < 2; dw++) for (int c = 0; c < 2; c++) {
      for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {
        assertThat(y.getDouble(0, (dh * 2 + dw) * 2 + c, i, j))
            .isEqualTo(x.getDouble(0, c, i * 2 + dh, j * 2 + dw));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"affine", "additive"})
  void aCouplingsStoredBackwardReadsItsTape(String kind) {
    // The contract shows that a tape gives the reversible gradients; this shows the tape is what
    // the backward pass reads (not a recomputation): a changed tape changes the gradients.
    TapedBlock t = "affine".equals(kind)
        ? new AffineCoupling(4, 6, 3, 0.05, DataType.DOUBLE, new Random(1), 0.5)
        : new AdditiveCoupling(4, 6, 3, DataType.DOUBLE, new Random(1), 0.5);
    INDArray x = Numerics.normal(DataType.DOUBLE, 2, 2, 4, 3, 3);
    TapedBlock.Taped taped = t.forwardTaped(x);
    INDArray r = Numerics.normal(DataType.DOUBLE, 11, 2, 4, 3, 3);
    INDArray rl = Numerics.normal(DataType.DOUBLE, 12, 2);
    t.params().zeroGrad();
    t.backward(taped.flow().out(), r, rl, taped.tape());
    Map<String, INDArray> exact = ParamGradients.copy(t.params());
    INDArray[] changed = new INDArray[taped.tape().length];
    for (int i = 0; i < changed.length; i++) changed[i] = taped.tape()[i].add(0.5);
    t.params().zeroGrad();
    t.backward(taped.flow().out(), r, rl, changed);
    double largest = 0;
    for (var e : t.params().entries().entrySet()) {
      largest = Math.max(largest, Numerics.maxAbsDiff(e.getValue().grad(), exact.get(e.getKey())));
    }
    assertThat(largest).as("gradient change from a changed tape").isGreaterThan(1e-3);
  }

  @Test
  void spaceToDepthRejectsIndivisibleSizesWithAClearMessage() {
    assertThatThrownBy(() -> new SpaceToDepth(2).outputShape(new long[] {1, 1, 5, 4}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("divisible by 2").hasMessageContaining("[1, 1, 5, 4]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ActNorm", "AffineCoupling", "AdditiveCoupling", "Invertible1x1Conv"})
  void aChannelBlockRefusesAnInputWithOtherChannelsNamingItselfAndTheShape(String name) {
    // Six channels where the catalogue's block has three or four: without the check a coupling
    // transforms the first four and silently drops the rest, and the others fail inside libnd4j
    // with a message that names neither the block nor the shape.
    Bijection b = BlockCatalog.get(name).create(DataType.DOUBLE, 1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 1, 1, 6, 2, 2);
    java.util.List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> calls = new java.util.ArrayList<>(
        java.util.List.of(() -> b.forward(x), () -> b.inverse(x)));
    if (b instanceof DataDependentInit d) calls.add(() -> d.initFrom(x));
    if (b instanceof Invertible1x1Conv) calls.add(() -> b.backward(x, x, Nd4j.zeros(DataType.DOUBLE, 1)));
    for (var call : calls) {
      assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(name + "(").hasMessageContaining("channels, got input of shape [1, 6, 2, 2]");
    }
  }

  /**
   * The catalogue's 1x1 convolution, which the layer contract tests, changes volume: at a pure
   * rotation its log-det and the brute-force Jacobian's are both 0, which a log-det that ignored
   * log_s would match too. Its factory's log_s draw could go unseen (audit DB, under pitest
   * without its static-initialiser filter).
   */
  @Test
  void theCataloguesInvertible1x1ConvChangesVolume() {
    Invertible1x1Conv b = (Invertible1x1Conv) BlockCatalog.get("Invertible1x1Conv").create(DataType.DOUBLE, 1);
    double sumLogS = b.params().get("log_s").value().sumNumber().doubleValue();
    INDArray x = Numerics.normal(DataType.DOUBLE, 2, 1, 4, 2, 3);
    assertThat(Math.abs(sumLogS)).as("sum of log_s").isGreaterThan(0.1);
    assertThat(b.forward(x).logDet().getDouble(0)).as("h w sum(log_s)").isCloseTo(6 * sumLogS, offset(1e-12));
  }

  @Test
  void everyBlockRefusesAShapeThatIsNotNchw() {
    // Without the rank check a rank-3 shape fails with an index out of bounds, or passes a
    // channel check and fails later, naming nothing.
    for (BlockCatalog.Spec spec : BlockCatalog.all().values()) {
      Bijection b = spec.create(DataType.DOUBLE, 1);
      long[] s = spec.shape();
      assertThatThrownBy(() -> b.outputShape(new long[] {s[0], s[1], s[2]})).as(spec.name())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expects an NCHW input");
    }
  }

  @Test
  void theSmallestSizesAreAcceptedAndTheOnesBelowRefused() {
    Random r = new Random(1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 1, 2, 2, 2, 2);
    // Two channels: one per coupling half.
    AdditiveCoupling additive = new AdditiveCoupling(2, 3, 1, DataType.DOUBLE, r, 1.0);
    assertThat(Numerics.maxAbsDiff(additive.invert(additive.apply(x)), x)).isLessThan(1e-12);
    AffineCoupling nearlyFixed = new AffineCoupling(2, 3, 1, 0.999, DataType.DOUBLE, r, 1.0);
    assertThat(Numerics.maxAbsDiff(nearlyFixed.invert(nearlyFixed.apply(x)), x)).isLessThan(1e-12);
    assertThatThrownBy(() -> new AffineCoupling(2, 3, 1, 1.0, DataType.DOUBLE, r, 1.0))
        .hasMessageContaining("scale floor must be in [0, 1), got 1.0");
    assertThat(new SpaceToDepth(1).apply(x)).as("block size 1 is the identity").isEqualTo(x);
    assertThatThrownBy(() -> new SpaceToDepth(0)).hasMessageContaining("block size must be >= 1, got 0");
    assertThat(new InjectivePad(1).apply(x).shape()).isEqualTo(new long[] {2, 3, 2, 2});
    assertThatThrownBy(() -> new InjectivePad(0)).hasMessageContaining("padding must be >= 1 channel, got 0");
    assertThat(new ActNorm(1, DataType.DOUBLE).apply(Numerics.normal(DataType.DOUBLE, 2, 1, 1, 2, 2)).shape())
        .isEqualTo(new long[] {1, 1, 2, 2});
    assertThatThrownBy(() -> new ActNorm(0, DataType.DOUBLE)).hasMessageContaining("ActNorm needs >= 1 channel");
  }

  @Test
  void inversesRefuseOutputsTheForwardCannotHaveMade() {
    // Two channels are all padding for InjectivePad(2): nothing of the input would be left.
    assertThatThrownBy(() -> new InjectivePad(2).inverse(Numerics.normal(DataType.DOUBLE, 1, 1, 2, 2, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("InjectivePad(2) inverse needs more than 2 channels, got [1, 2, 2, 2]");
    assertThatThrownBy(() -> new SpaceToDepth(2).inverse(Numerics.normal(DataType.DOUBLE, 1, 1, 6, 2, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SpaceToDepth(2) inverse needs channels divisible by 4, got [1, 6, 2, 2]");
  }

  @Test
  void invertible1x1ConvStartsAsARandomRotationThatItsForwardApplies() {
    // Glow's init: a random rotation mixes every channel and keeps volume. A fixed or identity
    // start would pass every round-trip and log-det check and still not be that init.
    Invertible1x1Conv b = new Invertible1x1Conv(4, DataType.DOUBLE, new Random(3));
    INDArray w = b.weight();
    assertThat(Numerics.maxAbsDiff(w.mmul(w.transpose()), Nd4j.eye(4).castTo(DataType.DOUBLE))).isLessThan(1e-12);
    for (int i = 0; i < 4; i++) {
      INDArray row = Transforms.abs(w.getRow(i), true);
      assertThat(row.gt(1e-3).castTo(DataType.INT).sumNumber().intValue()).as("channels mixed into row " + i)
          .isGreaterThan(1);
    }
    assertThat(Numerics.maxAbsDiff(new Invertible1x1Conv(4, DataType.DOUBLE, new Random(4)).weight(), w))
        .as("another seed, another rotation").isGreaterThan(0.1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 5, 2, 4, 3, 2);
    Flow f = b.forward(x);
    assertThat(Tensors.maxAbs(f.logDet())).isLessThan(1e-12);
    // Pixel by pixel, y = W x.
    for (int n = 0; n < 2; n++) for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) {
      for (int o = 0; o < 4; o++) {
        double s = 0;
        for (int c = 0; c < 4; c++) s += w.getDouble(o, c) * x.getDouble(n, c, i, j);
        assertThat(f.out().getDouble(n, o, i, j)).isCloseTo(s, offset(1e-12));
      }
    }
  }

  /**
   * Built without a draw (a copy whose weights are assigned next) the layer is the identity, as its
   * constructor says: W = I, y = x, log-det 0, in float32 and float64. Every caller assigns the
   * weights before a call, so no other test saw the permutation and signs start as zeros.
   */
  @Test
  void invertible1x1ConvWithoutADrawIsTheIdentity() {
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      Invertible1x1Conv b = new Invertible1x1Conv(5, dt, null);
      assertThat(b.weight().castTo(DataType.DOUBLE).toDoubleMatrix()).as("W, %s", dt)
          .isDeepEqualTo(Nd4j.eye(5).castTo(DataType.DOUBLE).toDoubleMatrix());
      assertThat(b.params().get("perm").value().castTo(DataType.DOUBLE).toDoubleMatrix()).as("P, %s", dt)
          .isDeepEqualTo(Nd4j.eye(5).castTo(DataType.DOUBLE).toDoubleMatrix());
      assertThat(b.params().get("sign_s").value().castTo(DataType.DOUBLE).toDoubleVector()).as("signs, %s", dt)
          .containsExactly(1, 1, 1, 1, 1);
      INDArray x = Numerics.normal(dt, 7, 2, 5, 3, 2);
      Flow f = b.forward(x);
      assertThat(Numerics.maxAbsDiff(f.out(), x)).as("y = x, %s", dt).isZero();
      assertThat(Tensors.maxAbs(f.logDet())).as("log-det, %s", dt).isZero();
    }
  }

  @Test
  void flatteningFreesTheArraysItReplaces() {
    // The model must not hold its parameters twice: the old value and gradient arrays are freed
    // at once, not at some later garbage collection.
    ActNorm a = new ActNorm(3, DataType.FLOAT);
    INDArray value = a.logs().value(), grad = a.logs().grad();
    a.params().flatten(DataType.FLOAT);
    assertThat(value.wasClosed()).as("old value freed").isTrue();
    assertThat(grad.wasClosed()).as("old gradient freed").isTrue();
    assertThat(a.logs().value().wasClosed()).isFalse();
  }

  @Test
  void sequentialNamesTheBlockThatDoesNotFit() {
    assertThatThrownBy(() -> Sequential.builder(1, 1, 4, 4)
        .add("psi", new SpaceToDepth(2)).add("norm", new ActNorm(3, DataType.FLOAT)).build())
        .hasMessageContaining("norm").hasMessageContaining("expects 3 channels")
        .hasMessageContaining("[1, 4, 2, 2]");
  }

  @Test
  void injectivePadDropsTheAppendedChannelsNotTheFirstOnes() {
    INDArray x = Numerics.normal(DataType.DOUBLE, 1, 2, 3, 2, 2);
    INDArray y = new InjectivePad(2).apply(x);
    assertThat(y.shape()).isEqualTo(new long[] {2, 5, 2, 2});
    assertThat(Numerics.maxAbsDiff(org.irevnet.nn.Tensors.channels(y, 0, 3), x)).isZero();
    assertThat(Tensors.maxAbs(org.irevnet.nn.Tensors.channels(y, 3, 5))).isZero();
  }

  @Test
  void actNormInitNormalisesClampsAndLeavesConstantChannelsAlone() {
    // Channel 0: unit-scale data shifted by 3. Channel 1: small but real spread (std 0.05).
    // Channel 2: exactly zero, like a zero-padded border pixel after five SpaceToDepth steps.
    INDArray x = Numerics.normal(DataType.DOUBLE, 2, 64, 3, 4, 4);
    x.get(NDArrayIndex.all(), NDArrayIndex.point(0)).muli(2.0).addi(3.0);
    x.get(NDArrayIndex.all(), NDArrayIndex.point(1)).muli(0.05);
    x.get(NDArrayIndex.all(), NDArrayIndex.point(2)).assign(0);
    ActNorm a = new ActNorm(3, DataType.DOUBLE);
    a.initFrom(x);
    INDArray y = a.apply(x);
    INDArray y0 = y.get(NDArrayIndex.all(), NDArrayIndex.point(0));
    assertThat(y0.meanNumber().doubleValue()).isCloseTo(0, offset(1e-9));
    assertThat(y0.stdNumber().doubleValue()).isCloseTo(1, offset(0.02));
    assertThat(Math.exp(a.logs().value().getDouble(0, 1, 0, 0))).isCloseTo(ActNorm.MAX_INIT_SCALE, offset(1e-12));
    assertThat(a.logs().value().getDouble(0, 2, 0, 0)).isZero();
    // A second call keeps the first batch's statistics.
    INDArray logs = a.logs().value().dup();
    a.initFrom(x.mul(5));
    assertThat(a.logs().value()).isEqualTo(logs);
  }

  @Test
  void actNormInitClampsAWideChannelsScaleFromBelowAndLeavesANearlyConstantOneUnscaled() {
    // The other init test has no channel wider than MAX_INIT_SCALE and its degenerate channel is
    // exactly zero; these sit on the other side of each rule. Four values per channel (two
    // samples, 1x2 pixels), statistics by hand (population std, as the init uses):
    // channel 0: -8, 8, -8, 8: mean 0, std 8, 1/8 clamped up to 1/4, bias 0;
    // channel 1: 2.5, 3.5, ...: mean 3, std 0.5, scale 2 (inside the clamp), bias -3 * 2 = -6;
    // channel 2: 1 -+ 5e-4: std 5e-4 is below DEGENERATE_STD, so scale 1 (not the clamp's 4), bias -1.
    double[][] values = {{-8, 8}, {2.5, 3.5}, {1 - 5e-4, 1 + 5e-4}};
    INDArray x = Nd4j.create(DataType.DOUBLE, 2, 3, 1, 2);
    for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int j = 0; j < 2; j++) {
      x.putScalar(new long[] {n, c, 0, j}, values[c][j]);
    }
    ActNorm a = new ActNorm(3, DataType.DOUBLE);
    a.initFrom(x);
    double[] scale = new double[3], bias = new double[3];
    for (int c = 0; c < 3; c++) {
      scale[c] = Math.exp(a.logs().value().getDouble(0, c, 0, 0));
      bias[c] = a.bias().value().getDouble(0, c, 0, 0);
    }
    assertThat(scale).containsExactly(new double[] {0.25, 2, 1}, offset(1e-12));
    assertThat(bias).containsExactly(new double[] {0, -6, -1}, offset(1e-12));
    INDArray y = a.apply(x);
    assertThat(y.getDouble(0, 0, 0, 1)).isCloseTo(2, offset(1e-12));
    assertThat(y.getDouble(0, 2, 0, 1)).isCloseTo(5e-4, offset(1e-12));
  }

  @Test
  void stackedActNormsDoNotAmplifyTheGradientOfAConstantChannel() {
    INDArray x = Numerics.normal(DataType.DOUBLE, 3, 32, 2, 2, 2);
    x.get(NDArrayIndex.all(), NDArrayIndex.point(1)).assign(0);
    Sequential.Builder b = Sequential.builder(1, 2, 2, 2);
    for (int i = 0; i < 20; i++) b.add("an" + i, new ActNorm(2, DataType.DOUBLE));
    Sequential s = b.build();
    s.initialize(x);
    INDArray y = s.apply(x);
    INDArray dy = Nd4j.onesLike(y);
    INDArray dx = s.backward(y, dy, Nd4j.zeros(DataType.DOUBLE, 32)).dx();
    assertThat(Tensors.maxAbs(dx.get(NDArrayIndex.all(), NDArrayIndex.point(1)))).isEqualTo(1.0, offset(1e-12));
  }

  @Test
  void convMatchesADirectLoop() {
    Random r = new Random(4);
    INDArray x = Init.normal(DataType.DOUBLE, r, 2, 3, 5, 4);
    INDArray w = Init.normal(DataType.DOUBLE, r, 2, 3, 3, 3);
    INDArray b = Init.normal(DataType.DOUBLE, r, 2);
    INDArray y = Conv2d.forward(x, w, b);
    for (int n = 0; n < 2; n++) for (int o = 0; o < 2; o++) for (int i = 0; i < 5; i++) for (int j = 0; j < 4; j++) {
      double s = b.getDouble(o);
      for (int c = 0; c < 3; c++) for (int di = 0; di < 3; di++) for (int dj = 0; dj < 3; dj++) {
        int ii = i + di - 1, jj = j + dj - 1;
        if (ii < 0 || jj < 0 || ii >= 5 || jj >= 4) continue;
        // PyTorch semantics: cross-correlation with OIHW weights.
        s += w.getDouble(o, c, di, dj) * x.getDouble(n, c, ii, jj);
      }
      assertThat(y.getDouble(n, o, i, j)).isCloseTo(s, offset(1e-12));
    }
  }

  @Test
  void flattenedParametersAreViewsOfOneBuffer() {
    AffineCoupling c = new AffineCoupling(4, 3, 3, DataType.FLOAT, new Random(1), 1.0);
    INDArray x = Numerics.normal(DataType.FLOAT, 2, 1, 4, 3, 3);
    INDArray before = c.apply(x);
    INDArray[] flat = c.params().flatten(DataType.FLOAT);
    assertThat(flat[0].length()).isEqualTo(c.params().count());
    assertThat(c.apply(x)).isEqualTo(before);
    flat[0].assign(0);
    assertThat(Tensors.maxAbs(c.params().get("net.0.weight").value())).isZero();
    c.params().get("net.4.bias").grad().assign(1);
    assertThat(flat[1].sumNumber().doubleValue()).isEqualTo(4.0);
  }

  @Test
  void channelReverseReversesChannelsAndHoldsNoNativeMemoryAfterwards() {
    INDArray x = Numerics.normal(DataType.FLOAT, 3, 64, 256, 4, 4); // 1 MiB
    ChannelReverse r = new ChannelReverse();
    INDArray y = r.apply(x);
    for (int c = 0; c < 256; c++) {
      assertThat(y.get(NDArrayIndex.all(), NDArrayIndex.point(c))).isEqualTo(x.get(NDArrayIndex.all(), NDArrayIndex.point(255 - c)));
    }
    // libnd4j's reverse op kept about its output's size of native memory per call: 300 calls
    // grew the process by 360 MiB. Counted as resident memory; each output is freed at once, so
    // the collector's timing does not enter.
    for (int i = 0; i < 20; i++) r.apply(x).close();
    long before = org.bytedeco.javacpp.Pointer.physicalBytes();
    for (int i = 0; i < 300; i++) r.apply(x).close();
    long grown = org.bytedeco.javacpp.Pointer.physicalBytes() - before;
    assertThat(grown).as("resident bytes gained over 300 calls").isLessThan(100L << 20);
  }

  @Test
  void invertible1x1ConvInvertsWideRotationsInFloat32() {
    // libnd4j's matrix_inverse refused this one (its determinant underflows in float32); at 256
    // channels it took 1.5 s and gave back x within 7e-5.
    Invertible1x1Conv b = new Invertible1x1Conv(512, DataType.FLOAT, new Random(3));
    INDArray x = Numerics.normal(DataType.FLOAT, 4, 3, 512, 2, 1);
    Flow y = b.forward(x);
    Flow back = b.inverse(y.out());
    assertThat(Tensors.maxAbs(back.out().sub(x))).isLessThan(1e-6);
    assertThat(Tensors.maxAbs(back.logDet().add(y.logDet()))).isLessThan(1e-4);
  }

  /**
   * L and U are triangular whatever the stored parameters hold beyond their triangles (a
   * checkpoint from elsewhere, a decay the optimiser applies to every entry): W is built by hand
   * from the strict triangles, and the log-det, free of charge only for triangular factors, is
   * checked against {@code h w log|det W|} from an LU decomposition in float64.
   */
  @Test
  void invertible1x1ConvIgnoresWhatItsParametersHoldOutsideTheirTriangles() {
    int c = 4;
    Invertible1x1Conv b = new Invertible1x1Conv(c, DataType.DOUBLE, new Random(3));
    Random r = new Random(8);
    double[][] l = new double[c][c];
    double[][] u = new double[c][c];
    double[] logs = new double[c];
    for (int i = 0; i < c; i++) {
      logs[i] = r.nextGaussian() * 0.5;
      for (int j = 0; j < c; j++) {
        l[i][j] = r.nextGaussian();
        u[i][j] = r.nextGaussian();
      }
    }
    b.params().get("lower").set(Nd4j.create(l));
    b.params().get("upper").set(Nd4j.create(u));
    b.params().get("log_s").set(Nd4j.create(logs));
    double[][] p = b.params().get("perm").value().toDoubleMatrix();
    double[] sign = Tensors.doubles(b.params().get("sign_s").value());
    double[][] lf = new double[c][c];
    double[][] uf = new double[c][c];
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < c; j++) {
        lf[i][j] = i == j ? 1 : j < i ? l[i][j] : 0;
        uf[i][j] = i == j ? sign[i] * Math.exp(logs[i]) : j > i ? u[i][j] : 0;
      }
    }
    RealMatrix w = new Array2DRowRealMatrix(p).multiply(new Array2DRowRealMatrix(lf))
        .multiply(new Array2DRowRealMatrix(uf));
    assertThat(Numerics.maxAbsDiff(b.weight(), Nd4j.create(w.getData()))).isLessThan(1e-12);

    INDArray x = Numerics.normal(DataType.DOUBLE, 5, 2, c, 2, 3);
    Flow f = b.forward(x);
    double logDet = 2 * 3 * Math.log(Math.abs(new LUDecomposition(w).getDeterminant()));
    assertThat(f.logDet().getDouble(0)).isCloseTo(logDet, offset(1e-10));
    assertThat(f.logDet().getDouble(1)).isCloseTo(logDet, offset(1e-10));
    for (int n = 0; n < 2; n++) for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) {
      for (int o = 0; o < c; o++) {
        double y = 0;
        for (int k = 0; k < c; k++) y += w.getEntry(o, k) * x.getDouble(n, k, i, j);
        assertThat(f.out().getDouble(n, o, i, j)).isCloseTo(y, offset(1e-12));
      }
    }
  }

  /**
   * A non-finite input value stays in its pixel: only values the float32
   * cast itself makes infinite mean the solve went beyond float32, and those are what the
   * refusal counts (24 less that pixel's 3) and measures.
   */
  @ParameterizedTest
  @CsvSource({"3e30, true, NaN", "3e30, true, Infinity", "4e30, false, NaN", "4e30, false, Infinity"})
  void aNonFiniteInputToAFloat32Invertible1x1ConvInverseStaysInItsPixel(double entry, boolean fits, double bad) {
    Invertible1x1Conv b = new Invertible1x1Conv(3, DataType.FLOAT, new Random(3));
    b.params().get("lower").value().assign(0);
    b.params().get("upper").value().assign(0);
    b.params().get("log_s").value().assign(Math.log(1e-8));
    INDArray y = Nd4j.valueArrayOf(new long[] {2, 3, 2, 2}, entry, DataType.FLOAT);
    y.putScalar(new long[] {1, 2, 0, 1}, bad);
    if (fits) {
      INDArray x = b.inverse(y).out();
      // The solves multiply by inverse blocks, whose zeros make the whole pixel NaN (0 * NaN and
      // 0 * Infinity are NaN).
      assertThat(Tensors.nonFinite(x)).isEqualTo(3);
      assertThat(Tensors.nonFinite(x.get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.point(0),
          NDArrayIndex.point(1)))).as("in its pixel").isEqualTo(3);
      INDArray clean = y.dup();
      clean.putScalar(new long[] {1, 2, 0, 1}, entry);
      INDArray expected = b.inverse(clean).out();
      // Every other pixel as without the bad value (compared by hand: ND4J's replaceWhere of
      // notFinite() leaves NaN in place, and this test passed only because amaxNumber skipped them).
      double[] got = Tensors.doubles(x), want = Tensors.doubles(expected);
      double worst = 0;
      for (int i = 0; i < got.length; i++) if (Double.isFinite(got[i])) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assertThat(worst / Tensors.maxAbs(expected)).isLessThan(1e-6);
    } else {
      assertThatThrownBy(() -> b.inverse(y)).isInstanceOf(ArithmeticException.class)
          .hasMessageContaining("the solution has 21 value(s) beyond the range of float32, largest magnitude 4.0")
          .hasMessageEndingWith("E38)");
    }
  }

  /**
   * The layer runs at one thread whatever the process's count (Host.withOneThread): at two threads
   * its float32 products in backward came out of OpenBLAS in other bits (by up to 1.2e-4 at 1024
   * channels), and the products and elementwise ops together ran up to several times slower.
   */
  @Test
  void invertible1x1ConvGivesTheSameBitsAtTwoThreadsAsAtOne() {
    Invertible1x1Conv b = new Invertible1x1Conv(256, DataType.FLOAT, new Random(3));
    INDArray x = Numerics.normal(DataType.FLOAT, 5, 64, 256, 1, 1);
    INDArray dy = Numerics.normal(DataType.FLOAT, 6, 64, 256, 1, 1);
    INDArray dLogDet = Numerics.normal(DataType.FLOAT, 7, 64);
    List<INDArray> one = null;
    for (int threads : new int[] {1, 2}) {
      Host.setThreads(threads);
      Host.setOpenMpThreads(threads);
      b.params().zeroGrad();
      Flow f = b.forward(x);
      Grad g = b.backward(f.out(), dy, dLogDet);
      List<INDArray> results = List.of(f.out(), b.inverse(f.out()).out(), g.x(), g.dx(),
          b.params().get("lower").grad().dup(), b.params().get("upper").grad().dup(), b.params().get("log_s").grad().dup());
      if (one == null) one = results;
      else for (int i = 0; i < results.size(); i++) assertThat(results.get(i)).as("result " + i).isEqualTo(one.get(i));
      assertThat(Nd4j.factory().blas().getMaxThreads()).as("BLAS threads put back").isEqualTo(threads);
      assertThat(Host.openMpThreads()).as("OpenMP threads put back").isEqualTo(threads);
    }
  }

  @Test
  void aSingularInvertible1x1ConvRefusesToInvertNamingTheFactor() {
    // exp(-1e4) is 0 even in float64: U gets a zero pivot, and the inverse was Infinity and NaN.
    Invertible1x1Conv b = new Invertible1x1Conv(4, DataType.DOUBLE, new Random(3));
    b.params().get("log_s").value().putScalar(2, -1e4);
    INDArray x = Numerics.normal(DataType.DOUBLE, 5, 2, 4, 3, 2);
    INDArray y = b.forward(x).out();
    String message = "Invertible1x1Conv(4 channels) has no inverse: its factor U = upper + diag(sign_s * exp(log_s))"
        + " is singular or too close to it (triangular solve: diagonal entry 2 of the 4 x 4 matrix is 0: the matrix is singular)";
    assertThatThrownBy(() -> b.inverse(y)).isInstanceOf(ArithmeticException.class).hasMessage(message);
    assertThatThrownBy(() -> b.backward(y, y, Nd4j.zeros(DataType.DOUBLE, 2)))
        .isInstanceOf(ArithmeticException.class).hasMessage(message);
  }

  @ParameterizedTest
  @CsvSource({"3e30, true", "4e30, false"})
  void aFloat32Invertible1x1ConvRefusesAnInverseBeyondFloat32(double entry, boolean fits) {
    // W = P diag(sign_s * 1e-8): its inverse multiplies by 1e8, so an output of 3e30 comes back as
    // 3e38 (float32's largest value is 3.4e38) and one of 4e30 as 4e38, which the cast from the
    // float64 solve made Infinity without a word.
    Invertible1x1Conv b = new Invertible1x1Conv(3, DataType.FLOAT, new Random(3));
    b.params().get("lower").value().assign(0);
    b.params().get("upper").value().assign(0);
    b.params().get("log_s").value().assign(Math.log(1e-8));
    INDArray y = Nd4j.valueArrayOf(new long[] {2, 3, 2, 2}, entry, DataType.FLOAT);
    double[] s = Tensors.doubles(b.params().get("sign_s").value());
    // The layer takes exp(log_s) in float32, its type; the solve divides by it in float64.
    double scale = Math.exp(b.params().get("log_s").value().getFloat(0));
    assertThat(Math.abs(entry / scale) <= Float.MAX_VALUE).as("the float64 solution fits float32").isEqualTo(fits);
    if (fits) {
      INDArray x = b.inverse(y).out();
      for (int c = 0; c < 3; c++) {
        double expected = (float) entry / (s[c] * (float) scale);
        INDArray channel = x.get(NDArrayIndex.all(), NDArrayIndex.point(c)).castTo(DataType.DOUBLE);
        assertThat(Tensors.maxAbs(channel.sub(expected)) / Math.abs(expected)).isLessThan(1e-6);
      }
      assertThat(Tensors.nonFinite(b.backward(y, y, Nd4j.zeros(DataType.FLOAT, 2)).x())).isZero();
    } else {
      String message = "Invertible1x1Conv(3 channels) has no inverse: its factor U = upper + diag(sign_s * exp(log_s))"
          + " is singular or too close to it (the solution has 24 value(s) beyond the range of float32, largest"
          + " magnitude ";
      assertThatThrownBy(() -> b.inverse(y)).isInstanceOf(ArithmeticException.class).hasMessageStartingWith(message);
      assertThatThrownBy(() -> b.backward(y, y, Nd4j.zeros(DataType.FLOAT, 2)))
          .isInstanceOf(ArithmeticException.class).hasMessageStartingWith(message);
    }
  }
}
