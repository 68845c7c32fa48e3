package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.irevnet.check.Numerics;
import org.irevnet.host.Memory;
import org.irevnet.layers.AffineCoupling;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Flow;
import org.irevnet.layers.Grad;
import org.irevnet.layers.InjectivePad;
import org.irevnet.layers.Invertible1x1Conv;
import org.irevnet.layers.LogDetKind;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.layers.Sequential;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class StabilityTest {

  /** An invertible 1x1 convolution with a spread spectrum (singular values from about 0.05 to 5). */
  static Invertible1x1Conv conv(int c) {
    Invertible1x1Conv conv = new Invertible1x1Conv(c, DataType.DOUBLE, new Random(3));
    Random r = new Random(4);
    for (Param p : conv.params().entries().values()) {
      if (p.trainable()) p.value().addi(Init.normal(DataType.DOUBLE, r, p.value().shape()).muli(0.7));
    }
    INDArray logS = conv.params().get("log_s").value();
    for (int i = 0; i < c; i++) logS.putScalar(i, Math.log(5) - i * Math.log(100) / (c - 1));
    return conv;
  }

  static double[] singularValues(INDArray m) {
    return new SingularValueDecomposition(new Array2DRowRealMatrix(m.toDoubleMatrix())).getSingularValues();
  }

  void check(Bijection map, INDArray jacobianPerPixel, long[] inShape) {
    check(map, jacobianPerPixel, inShape, 20);
  }

  void check(Bijection map, INDArray jacobianPerPixel, long[] inShape, int iterations) {
    check(map, jacobianPerPixel, Init.normal(DataType.DOUBLE, new Random(1), inShape), iterations);
  }

  void check(Bijection map, INDArray jacobianPerPixel, INDArray x, int iterations) {
    // J v comes from central differences with a step of ~1e-6 |x|: rounding leaves ~1e-10 |J| in
    // it, which is ~1e-5 of sigma_min^2 here (sigma_max / sigma_min ~ 600), so sigma_min is only
    // good to a few 1e-6 relative and the digits past that differ between CPUs (seen: 1.7e-6).
    expect(Stability.estimate("m", map, x, iterations, 0), jacobianPerPixel, x.size(0), 1e-7, 2e-5);
  }

  /** {@code s} holds {@code n} points, each with the extreme singular values of {@code jacobianPerPixel}. */
  static void expect(Stability.MapStability s, INDArray jacobianPerPixel, long n, double maxTol, double minTol) {
    double[] sv = singularValues(jacobianPerPixel);
    double max = sv[0], min = sv[sv.length - 1];
    assertThat(min).isLessThan(max / 10);
    assertThat(s.points()).hasSize((int) n);
    for (Stability.Point p : s.points()) {
      assertThat(p.forwardLipschitz()).isCloseTo(max, within(maxTol * max));
      assertThat(p.inverseLipschitz()).isCloseTo(1 / min, within(minTol / min));
      assertThat(p.condition()).isCloseTo(max / min, within(minTol * max / min));
    }
    assertThat(s.maxCondition()).isCloseTo(max / min, within(minTol * max / min));
    assertThat(s.maxForward()).isCloseTo(max, within(maxTol * max));
    assertThat(s.maxInverse()).isCloseTo(1 / min, within(minTol / min));
  }

  @Test
  void matchesTheSingularValuesOfALinearMap() {
    // A 1x1 convolution on 2x2 pixels: J is W repeated per pixel, 16 dimensions.
    Invertible1x1Conv conv = conv(4);
    check(conv, conv.weight(), new long[] {3, 4, 2, 2});
    checkJacobian(conv, conv.weight(), new long[] {3, 4, 2, 2});
  }

  /**
   * J^T J of a 1x1 convolution on 2x2 pixels has only 4 distinct eigenvalues (each 4 times), so
   * the Krylov space of any start is 4-dimensional: Lanczos has the exact extremes after 4 of
   * the 16 dimensions, where random directions would not.
   */
  @Test
  void lanczosIsExactOnceItsKrylovSpaceIsInvariantBeforeTheDimensionIsReached() {
    Invertible1x1Conv conv = conv(4);
    check(conv, conv.weight(), new long[] {3, 4, 2, 2}, 6);
  }

  /**
   * At x = 0 a linear map's central difference is exact up to one rounding (f(-u) = -f(u) in
   * floating point), so after the 4 steps that span the Krylov space the residual is ~1e-16 of
   * the Ritz values, not the ~1e-10 of finite-difference noise at other points: Lanczos must see
   * the breakdown and go on from a fresh direction. The extremes are then still the true ones
   * (from the SVD), for a run that stops inside the second Krylov space and for one that fills
   * all 16 dimensions.
   */
  @Test
  void anExactlyInvariantKrylovSpaceIsLeftForAFreshDirection() {
    Invertible1x1Conv conv = conv(4);
    INDArray zero = Nd4j.zeros(DataType.DOUBLE, 3, 4, 2, 2);
    check(conv, conv.weight(), zero, 6);
    check(conv, conv.weight(), zero, 16);
  }

  /**
   * The breakdown test is relative to the Ritz values: a map whose singular values are all 1e3
   * times smaller (a strongly contracting stage) is estimated as exactly as the original, its
   * Lanczos residuals being small only in absolute terms.
   */
  @Test
  void aStronglyContractingMapIsEstimatedAsWellAsAnyOther() {
    Invertible1x1Conv conv = conv(4);
    // W = P L U: scaling U (its diagonal exp(log_s) and the part above it) scales W.
    INDArray w = conv.weight().dup();
    conv.params().get("log_s").value().addi(Math.log(1e-3));
    conv.params().get("upper").value().muli(1e-3);
    assertThat(Tensors.maxAbs(conv.weight().sub(w.muli(1e-3)))).isLessThan(1e-15);
    check(conv, conv.weight(), new long[] {3, 4, 2, 2});
  }

  /**
   * A non-linear map (an affine coupling, then the mixing convolution): J differs between points,
   * and J^T u from the reversible backward pass must be the transpose of the J v that the finite
   * differences give. At as many steps as dimensions every point's estimates are its Jacobian's
   * extreme singular values, with the Jacobian built column by column by central differences; so
   * are those of the whole Jacobian assembled from backward passes (to the differences' truncation
   * error).
   */
  @Test
  void matchesTheSingularValuesOfANonLinearMapsJacobianAtEachPoint() {
    Random r = new Random(5);
    AffineCoupling coupling = new AffineCoupling(4, 3, 3, DataType.DOUBLE, r, 0.5);
    Sequential map = Sequential.of(new long[] {1, 4, 2, 2}, coupling, conv(4));
    INDArray x = Init.normal(DataType.DOUBLE, new Random(6), 3, 4, 2, 2);
    Stability.MapStability s = Stability.estimate("m", map, x, 16, 0), exact = Stability.jacobian("m", map, x);
    double[] firstPoint = null;
    for (int i = 0; i < 3; i++) {
      INDArray xi = x.get(NDArrayIndex.interval(i, i + 1)).dup('c');
      double[] sv = new SingularValueDecomposition(new Array2DRowRealMatrix(
          Numerics.jacobian(v -> map.forward(v).out(), xi, 1e-5))).getSingularValues();
      double max = sv[0], min = sv[sv.length - 1];
      if (firstPoint == null) firstPoint = sv;
      // Same tolerances as for the linear maps (check): rounding in the central differences.
      Stability.Point p = s.points().get(i);
      assertThat(p.forwardLipschitz()).as("point %d", i).isCloseTo(max, within(1e-7 * max));
      assertThat(p.inverseLipschitz()).as("point %d", i).isCloseTo(1 / min, within(2e-5 / min));
      assertThat(p.condition()).as("point %d", i).isCloseTo(max / min, within(2e-5 * max / min));
      Stability.Point e = exact.points().get(i);
      assertThat(e.forwardLipschitz()).as("point %d", i).isCloseTo(max, within(1e-7 * max));
      assertThat(e.inverseLipschitz()).as("point %d", i).isCloseTo(1 / min, within(1e-6 / min));
    }
    assertThat(List.of(s.inputDims(), exact.inputDims())).as("the dimensions of one point").containsOnly(16L);
    // The map is not linear: the last point's Jacobian is not the first's.
    assertThat(s.points().get(2).forwardLipschitz()).isNotCloseTo(firstPoint[0], within(1e-3 * firstPoint[0]));
  }

  /** One step is the Rayleigh quotient of the start: one Ritz value, so a condition of exactly 1. */
  @Test
  void oneIterationGivesOneRitzValue() {
    Invertible1x1Conv conv = conv(4);
    INDArray x = Init.normal(DataType.DOUBLE, new Random(1), 2, 4, 2, 2);
    Stability.MapStability s = Stability.estimate("m", conv, x, 1, 0);
    double max = singularValues(conv.weight())[0];
    for (Stability.Point p : s.points()) {
      assertThat(p.condition()).isEqualTo(1.0);
      assertThat(p.forwardLipschitz()).isCloseTo(1 / p.inverseLipschitz(), within(1e-12 * max)).isLessThanOrEqualTo(max * (1 + 1e-7));
    }
    assertThat(s.iterations()).isEqualTo(1);
  }

  @Test
  void matchesTheLeftInverseOfAnInjectiveLinearMap() {
    // Zero channels appended, then mixed: J = W[:, :3] per pixel (tall); L_inv is 1 / its sigma_min.
    Invertible1x1Conv conv = conv(5);
    Sequential map = Sequential.of(new long[] {1, 3, 2, 2}, new InjectivePad(2), conv);
    INDArray tall = conv.weight().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 3));
    check(map, tall, new long[] {2, 3, 2, 2});
    checkJacobian(map, tall, new long[] {2, 3, 2, 2});
  }

  @Test
  void everyStageOfATinyModelAndTheWholeBody() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 1, 1);
    List<Stability.MapStability> all = Stability.perStage(m, x, Stability.Method.LANCZOS, 5, 0, Stability.Progress.NONE);
    assertThat(all).extracting(Stability.MapStability::name).containsExactly("0", "1", "z");
    assertThat(all).extracting(Stability.MapStability::inputDims).containsExactly(1024L, 1024L, 1024L);
    for (Stability.MapStability s : all) {
      assertThat(s.method()).isEqualTo(Stability.Method.LANCZOS);
      assertThat(s.iterations()).isEqualTo(5);
      for (Stability.Point p : s.points()) {
        assertThat(p.forwardLipschitz()).isPositive().isFinite();
        assertThat(p.inverseLipschitz()).isPositive().isFinite();
        // sigma_max >= sigma_min, so L * L_inv >= 1.
        assertThat(p.condition()).isGreaterThanOrEqualTo(1.0);
      }
    }
    // The whole body's constant is at most the product of the stages' (up to the estimates' slack).
    Stability.Point whole = all.get(2).points().get(0);
    assertThat(whole.forwardLipschitz()).isLessThanOrEqualTo(
        all.get(0).points().get(0).forwardLipschitz() * all.get(1).points().get(0).forwardLipschitz() * 1.001);
    // Stability leaves no parameter gradients behind.
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) assertThat(Tensors.maxAbs(p.grad())).isZero();
    }
  }

  /**
   * Each stage's map is that stage's blocks alone, from the previous stage's output: built here as
   * the difference of two stage prefixes, it maps the one output to the next and gives the same
   * estimates (same seed, same arithmetic). A stage that also ran a block of the previous one
   * would differ. Lanczos's estimates are lower bounds of the exact constants, and the Jacobian
   * leaves no parameter gradients behind.
   */
  @Test
  void eachStagesMapIsItsOwnBlocksFromThePreviousStagesOutput() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 2, 1);
    List<Stability.MapStability> all = Stability.perStage(m, x, Stability.Method.LANCZOS, 4, 7, Stability.Progress.NONE);
    List<Stability.MapStability> exact = Stability.perStage(m, x, Stability.Method.AUTO, 4, 7, Stability.Progress.NONE);
    for (Param p : m.params().entries().values()) {
      if (p.trainable()) assertThat(Tensors.maxAbs(p.grad())).as("perStage zeroes its gradients").isZero();
    }
    List<INDArray> outs = m.stageOutputs(x);
    for (int s = 0; s < outs.size(); s++) {
      List<Bijection> before = s == 0 ? List.of() : m.stagePrefix(s - 1).blocks();
      List<Bijection> upTo = m.stagePrefix(s).blocks();
      INDArray in = s == 0 ? x : outs.get(s - 1);
      Sequential stage = Sequential.of(in.shape(), upTo.subList(before.size(), upTo.size()).toArray(new Bijection[0]));
      assertThat(Tensors.maxAbs(stage.forward(in).out().sub(outs.get(s)))).as("stage %d", s).isZero();
      assertThat(all.get(s).points()).as("stage %d", s)
          .isEqualTo(Stability.estimate(String.valueOf(s), stage, in, 4, 7).points());
      assertThat(exact.get(s).points()).as("stage %d", s)
          .isEqualTo(Stability.jacobian(String.valueOf(s), stage, in).points());
    }
    // The body's exact constants come from the product of its stages' Jacobians: the same as
    // from its own rows, up to rounding.
    assertThat(exact).extracting(Stability.MapStability::method).containsOnly(Stability.Method.JACOBIAN);
    for (int s = 0; s < exact.size(); s++) {
      Stability.Point e = exact.get(s).points().get(0), l = all.get(s).points().get(0);
      assertThat(l.forwardLipschitz()).isLessThanOrEqualTo(e.forwardLipschitz() * (1 + 1e-6));
      assertThat(l.inverseLipschitz()).isLessThanOrEqualTo(e.inverseLipschitz() * (1 + 1e-6));
    }
    List<Stability.Point> z = Stability.jacobian("z", m.body(), x).points();
    for (int i = 0; i < z.size(); i++) {
      Stability.Point own = z.get(i), product = exact.get(outs.size()).points().get(i);
      assertThat(product.forwardLipschitz()).isCloseTo(own.forwardLipschitz(), within(1e-12 * own.forwardLipschitz()));
      assertThat(product.inverseLipschitz()).isCloseTo(own.inverseLipschitz(), within(1e-11 * own.inverseLipschitz()));
    }
  }

  void checkJacobian(Bijection map, INDArray jacobianPerPixel, long[] inShape) {
    Stability.MapStability s = Stability.jacobian("m", map, Init.normal(DataType.DOUBLE, new Random(1), inShape));
    assertThat(s.method()).isEqualTo(Stability.Method.JACOBIAN);
    // Rows of J from the backward pass are exact up to rounding: sigma_min too, unlike Lanczos's
    // finite differences (check).
    expect(s, jacobianPerPixel, inShape[0], 1e-12, 1e-11);
  }

  /**
   * Whole Jacobians that would not fit are refused before any is computed: the tiny model's
   * 1,024-dimensional maps at 2 images need (2 x 2 + 2) x 1024^2 x 8 bytes = 48 MiB each.
   */
  @Test
  void wholeJacobiansThatWouldNotFitAreRefusedUpFront() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 2, 2);
    long need = 6L * 1024 * 1024 * Double.BYTES;
    assertThatThrownBy(() -> Stability.perStage(m, x, Stability.Method.AUTO, 5, 0, Stability.Progress.NONE, new Memory.Limit(need - 1, "a test")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the whole Jacobians of stage 0 at 2 images need 0.0 GiB (1024 x 1024 float64 values each;"
            + " Lanczos steps need a few vectors instead), more than the 0.0 GiB of memory this process may use"
            + " (a test)");
    assertThat(Stability.perStage(m, x, Stability.Method.LANCZOS, 2, 0, Stability.Progress.NONE, new Memory.Limit(need - 1, "a test")))
        .extracting(Stability.MapStability::method).containsOnly(Stability.Method.LANCZOS);
    List<Stability.MapStability> exact = Stability.perStage(m, x, Stability.Method.AUTO, 5, 0, Stability.Progress.NONE,
        new Memory.Limit(need, "a test"));
    assertThat(exact).extracting(Stability.MapStability::method).containsOnly(Stability.Method.JACOBIAN);
    // invert.json's input_dims: per image, not per batch.
    assertThat(exact).extracting(Stability.MapStability::inputDims).containsOnly(1024L);
  }

  /**
   * In an injective model a stage after the padding takes more dimensions than the image: its
   * whole Jacobians (32 x 32 here, where the image has 16 dimensions) are what the memory check
   * counts, and one that would not fit is refused by that stage's name.
   */
  @Test
  void aStageAfterInjectivePaddingIsSizedByItsOwnInput() {
    InvertibleClassifier m = InvertibleClassifier.build(org.irevnet.models.Architecture.fromJson("""
        {"name": "inj", "type": "irevnet", "inputShape": [1, 4, 4], "numClasses": 3,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive", "pad": 4},
                    {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive"}]}"""), DataType.DOUBLE, 1);
    INDArray x = Init.normal(DataType.DOUBLE, new Random(2), 2, 1, 4, 4);
    List<INDArray> outs = m.stageOutputs(x);
    assertThat(outs.get(0).length() / 2).as("stage 1's input, padded").isEqualTo(32);
    long need = 6L * 32 * 32 * Double.BYTES;
    assertThatThrownBy(() -> Stability.perStage(m, x, Stability.Method.JACOBIAN, 5, 0, Stability.Progress.NONE,
        new Memory.Limit(need - 1, "a test"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the whole Jacobians of stage 1 at 2 images need");
    assertThat(Stability.perStage(m, x, Stability.Method.JACOBIAN, 5, 0, Stability.Progress.NONE,
        new Memory.Limit(need, "a test"))).extracting(Stability.MapStability::inputDims).containsExactly(16L, 32L, 16L);
  }

  /**
   * Progress counts backward passes, one at a time up to the total it announces, map by map: 1,024
   * Jacobian rows 32 a pass at each of 2 images for each of the 2 stages, none for the body (the
   * product of theirs); one pass a Lanczos step for each of the 3 maps.
   */
  @Test
  void progressCountsEveryBackwardPassMapByMap() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 2, 2);
    for (Stability.Method method : new Stability.Method[] {Stability.Method.AUTO, Stability.Method.LANCZOS}) {
      List<String> seen = new java.util.ArrayList<>();
      long[] last = {0, -1};
      Stability.perStage(m, x, method, 5, 0, (done, total, map) -> {
        assertThat(done).isEqualTo(last[0] + 1);
        if (last[1] >= 0) assertThat(total).isEqualTo(last[1]);
        last[0] = done;
        last[1] = total;
        if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(map)) seen.add(map);
      });
      boolean exact = method == Stability.Method.AUTO;
      assertThat(last[0]).isEqualTo(last[1]).isEqualTo(exact ? 2 * 2 * 1024 / 32 : 3 * 5);
      assertThat(seen).isEqualTo(exact ? List.of("stage 0", "stage 1") : List.of("stage 0", "stage 1", "z"));
    }
  }

  @Test
  void autoFormsTheJacobianUpToItsSizeLimitOnEitherSide() {
    long limit = Stability.JACOBIAN_MAX_DIMS;
    assertThat(Stability.Method.AUTO.at(limit, limit)).isEqualTo(Stability.Method.JACOBIAN);
    assertThat(Stability.Method.AUTO.at(limit + 1, limit)).isEqualTo(Stability.Method.LANCZOS);
    assertThat(Stability.Method.AUTO.at(limit, limit + 1)).isEqualTo(Stability.Method.LANCZOS);
    assertThat(Stability.Method.LANCZOS.at(4, 4)).isEqualTo(Stability.Method.LANCZOS);
    assertThat(Stability.Method.JACOBIAN.at(limit + 1, limit + 1)).isEqualTo(Stability.Method.JACOBIAN);
  }

  @Test
  void singularValuesAreLargestFirstAndNaNForANonFiniteMatrix() {
    INDArray a = Nd4j.createFromArray(new double[][] {{0, 2}, {3, 0}, {0, 0}});
    assertThat(Stability.singularValues(a)).containsExactly(new double[] {3.0, 2.0}, within(1e-15));
    a.putScalar(2, 1, Double.NaN);
    assertThat(Stability.singularValues(a)).containsExactly(Double.NaN, Double.NaN);
    a.putScalar(2, 1, Double.NEGATIVE_INFINITY);
    assertThat(Stability.singularValues(a)).containsExactly(Double.NaN, Double.NaN);
  }

  /**
   * The whole Jacobian's backward passes run with the convolutions' heap threshold kept at its base
   * (NativeHeap.withBaseThreshold): served from the heap, the float64 temporaries of invert
   * --stability's thousands of passes left 1.4 GiB of free arena chunks that the quickstart's next
   * step made resident again. Seen from inside the map's backward pass.
   */
  @Test
  void theJacobiansBackwardPassesKeepTheBaseHeapThreshold() {
    Bijection conv = conv(2);
    boolean[] raisedInBackward = {true};
    Bijection watched = new Bijection() {
      @Override
      public Flow forward(INDArray x) {
        return conv.forward(x);
      }

      @Override
      public Flow inverse(INDArray y) {
        return conv.inverse(y);
      }

      @Override
      public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) {
        raisedInBackward[0] &= NativeHeap.raisesForConvolutions();
        return conv.backward(y, dy, dLogDet);
      }

      @Override
      public long[] outputShape(long[] inputShape) {
        return conv.outputShape(inputShape);
      }

      @Override
      public ParamTable params() {
        return conv.params();
      }

      @Override
      public LogDetKind logDetKind() {
        return conv.logDetKind();
      }
    };
    // The launcher's (and the build's) MALLOC_MMAP_THRESHOLD_ and glibc's mallopt: else nothing is raised anywhere.
    assumeTrue(NativeHeap.raisesForConvolutions(),
        "convolutions raise no threshold here");
    INDArray x = Init.normal(DataType.DOUBLE, new Random(7), 1, 2, 2, 2);
    Stability.MapStability s = Stability.jacobian("m", watched, x);
    assertThat(raisedInBackward[0]).as("a convolution in a Jacobian pass would raise the threshold").isFalse();
    assertThat(s.points()).isEqualTo(Stability.jacobian("m", conv, x).points());
    assertThat(NativeHeap.raisesForConvolutions()).as("after the passes").isTrue();
  }

  /**
   * The whole Jacobians' work leaves little to the collector: each pass's copies of the point and
   * its unit vectors, the body's running product (mmul's, with its column-major copy, and both
   * factors) and LAPACK's copy of every Jacobian were left: 283-307 MB for two images of two stages
   * of 1,024 float64 dimensions (8.4 MB a Jacobian) in a process that did not collect, 84-103 MB
   * with them freed. One image here, where the middle of five runs was 141-150 MB before and 25-44
   * then (three runs of this test each way). The passes' results (the rebuilt input and its
   * gradient, half a megabyte a pass) and the body's Jacobians, the stages' product, were left
   * too: middles of 41-46 MB here (two runs of this test; two Jacobians a stage for the passes,
   * one for the product), 2.2-5.5 with them freed (four runs). A collection during a run frees
   * what others left, hence the middle.
   */
  @Test
  void wholeJacobiansLeaveLittleToTheCollector() throws InterruptedException {
    List<Long> kept = keptByPerStage(Stability.Method.JACOBIAN, 1, 5);
    long jacobian = 1024L * 1024 * Double.BYTES;
    assertThat(KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept)
        .isLessThan(3 * jacobian);
  }

  /** Native bytes each of five perStage calls kept on the tiny float64 model at {@code images} images. */
  private static List<Long> keptByPerStage(Stability.Method method, long images, int iterations)
      throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = MetamerSamplerTest.tiny(5).withDataType(DataType.DOUBLE);
    INDArray x = MetamerSamplerTest.images(DataType.DOUBLE, 2, images);
    return KeptBytes.of(5, run -> Stability.perStage(m, x, method, iterations, 0, Stability.Progress.NONE));
  }

  /**
   * Lanczos steps leave little to the collector. Each step's inputs and passes (the perturbed
   * points, a Sequential's forward and backward results: new arrays for the caller), the full
   * reorthogonalisation's dots and projections (two a basis vector and sweep, so they grow with the
   * square of the steps), the new direction's norms and the basis itself were left: at 16 images
   * and 10 steps on the tiny model (three maps of 1,024 float64 dimensions) 123 MB a call in a
   * process that did not collect (-Xmn3g, one thread), 7.3 with them freed; here the middles were
   * 48.7-65.3 MB before (four runs, each failing), 1.1-3.6 after (five). What is left is ND4J's
   * native memory per array and op, the same at one image as at four, most of it the blocks' own
   * passes. A collection during a run frees what others left, hence the middle.
   */
  @Test
  void lanczosStepsLeaveLittleToTheCollector() throws InterruptedException {
    List<Long> kept = keptByPerStage(Stability.Method.LANCZOS, 16, 10);
    assertThat(KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept).isLessThan(12L << 20);
  }

  /**
   * A lone block runs as a chain of one, whose results are copies: its own may be its input itself,
   * as this identity's are (its forward gives back the point, its backward the point and the
   * gradient), and the point stays the caller's. Its Jacobian is I: every constant 1.
   */
  @Test
  void neitherMethodFreesWhatAMapReturningItsInputsReturns() {
    Bijection identity = new Bijection() {
      @Override public Flow forward(INDArray x) { return new Flow(x, Nd4j.zeros(x.dataType(), x.size(0))); }
      @Override public Flow inverse(INDArray y) { return forward(y); }
      @Override public Grad backward(INDArray y, INDArray dy, INDArray dLogDet) { return new Grad(y, dy); }
      @Override public long[] outputShape(long[] inputShape) { return inputShape; }
      @Override public ParamTable params() { return ParamTable.empty(); }
      @Override public LogDetKind logDetKind() { return LogDetKind.ZERO; }
    };
    INDArray x = Init.normal(DataType.DOUBLE, new Random(7), 2, 1, 4, 4), copy = x.dup();
    for (Stability.MapStability s : List.of(Stability.estimate("m", identity, x, 5, 0), Stability.jacobian("m", identity, x))) {
      for (Stability.Point p : s.points()) {
        assertThat(p.forwardLipschitz()).isCloseTo(1, within(1e-9));
        assertThat(p.inverseLipschitz()).isCloseTo(1, within(1e-9));
      }
      assertThat(x.closeable()).as("the point is not freed").isTrue();
      assertThat(Tensors.maxAbs(x.sub(copy))).isZero();
    }
  }

  /**
   * A lone block's whole Jacobian leaves little to the collector. When the map was not a Sequential
   * (only tests pass one), its passes' results, the Jacobians themselves and everything the block
   * made on the way (no workspace) were left: 83.4-85.6 MB a call here (two runs of this test), two
   * images of 512 float64 dimensions, a Jacobian 2 MB. It runs as a chain of one now: 1.3-4.6 MB
   * (three runs), the bound four Jacobians.
   */
  @Test
  void aLoneBlocksWholeJacobianLeavesLittleToTheCollector() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    Invertible1x1Conv conv = conv(8);
    INDArray x = Init.normal(DataType.DOUBLE, new Random(7), 2, 8, 8, 8);
    long jacobian = 512L * 512 * Double.BYTES;
    List<Long> kept = KeptBytes.of(5, run -> Stability.jacobian("m", conv, x));
    assertThat(KeptBytes.middle(kept)).as("native bytes each call kept: %s", kept).isLessThan(4 * jacobian);
  }
}
