package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FeaturesTest {

  /**
   * The whitened training rows have identity covariance, and distances between whitened rows are
   * the Mahalanobis distances of the rows, (a - b)' S^-1 (a - b) with S their covariance: both
   * computed here in plain loops (S inverted by Gauss-Jordan), on features whose variances span a
   * factor of 1e6, as an iCE nuisance's do. A column repeating another adds no axis.
   */
  @Test
  void whitenedRowsHaveIdentityCovarianceAndMahalanobisDistances() {
    int n = 400, d = 5;
    Random r = new Random(7);
    double[][] x = new double[n][d + 1];
    for (int i = 0; i < n; i++) {
      double common = r.nextGaussian();
      for (int j = 0; j < d; j++) x[i][j] = 10 * common + Math.pow(10, -j / 2.0) * r.nextGaussian() + j;
      x[i][d] = x[i][0];
    }
    INDArray features = Nd4j.createFromArray(x);
    Features.Whitener w = Features.Whitener.fit(features);
    INDArray white = w.apply(features);
    assertThat(white.shape()).containsExactly((long) n, (long) d);
    // float32 rows are centred in their float64 copy, float64 ones in a new array: the same rows.
    INDArray whiteOfFloats = w.apply(features.castTo(DataType.FLOAT)).castTo(DataType.DOUBLE);
    assertThat(Tensors.maxAbs(whiteOfFloats.sub(white))).isLessThan(1e-2);
    assertThat(features.toDoubleMatrix()).as("the caller's rows, untouched").isEqualTo(x);
    double[][] wx = white.toDoubleMatrix();
    double[] mean = new double[d + 1];
    for (double[] row : x) for (int j = 0; j <= d; j++) mean[j] += row[j] / n;
    double[][] cov = new double[d][d], wcov = new double[d][d];
    for (int i = 0; i < n; i++) {
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          cov[a][b] += (x[i][a] - mean[a]) * (x[i][b] - mean[b]) / (n - 1);
          wcov[a][b] += wx[i][a] * wx[i][b] / (n - 1);
        }
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b < d; b++) assertThat(wcov[a][b]).as("%d, %d", a, b).isCloseTo(a == b ? 1 : 0, within(1e-6));
    }
    double[][] inv = inverse(cov);
    for (int[] pair : new int[][] {{0, 1}, {2, 3}, {5, 399}}) {
      double[] diff = new double[d];
      for (int j = 0; j < d; j++) diff[j] = x[pair[0]][j] - x[pair[1]][j];
      double mahalanobis = 0, euclidWhite = 0;
      for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) mahalanobis += diff[a] * inv[a][b] * diff[b];
      for (int j = 0; j < d; j++) euclidWhite += Math.pow(wx[pair[0]][j] - wx[pair[1]][j], 2);
      assertThat(euclidWhite).isCloseTo(mahalanobis, within(1e-6 * (1 + mahalanobis)));
    }
  }

  /**
   * The cutoff is relative to the largest variance, at any scale. By hand: the columns are three
   * orthogonal zero-mean sign patterns over four rows, scaled by s, s sqrt(1e-7) and s sqrt(1e-9),
   * so the covariance is exactly diagonal, (4/3) s^2 (1, 1e-7, 1e-9): the first two axes are kept,
   * the third (1e-9 of the largest, below 1e-8) dropped, and each kept column is its pattern's
   * entries, s_j / (s_j sqrt(4/3)) = sqrt(3)/2 in size. A cutoff of 1e-8 divided by the largest
   * variance, not multiplied, kept the third at s = 1000.
   */
  @Test
  void keepsTheAxesAboveTheRelativeCutoffAtAnyScale() {
    double[][] signs = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
    for (double scale : new double[] {1e-3, 1, 1e3}) {
      double[] sd = {scale, scale * Math.sqrt(1e-7), scale * Math.sqrt(1e-9)};
      double[][] x = new double[4][3];
      for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) x[i][j] = signs[i][j] * sd[j];
      INDArray white = Features.Whitener.fit(Nd4j.createFromArray(x))
          .apply(Nd4j.createFromArray(x));
      assertThat(white.shape()).as("scale %s", scale).containsExactly(4L, 2L);
      for (double v : white.data().asDouble()) assertThat(Math.abs(v)).isCloseTo(Math.sqrt(3) / 2, within(1e-9));
    }
  }

  /**
   * The fewest rows it fits: two, one axis (their difference; by hand, rows a and b are centred to
   * +-(a - b)/2, of variance |a - b|^2 / 2, so each whitens to 1/sqrt(2) in size); one row is
   * refused. Constant rows (no variance at all) keep one axis, on which every row is 0: a probe of
   * them trains and guesses, where no axis left it nothing to read.
   */
  @Test
  void fitsTwoRowsAndConstantRows() {
    INDArray two = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {3, 2, -1}});
    INDArray white = Features.Whitener.fit(two).apply(two);
    assertThat(white.shape()).containsExactly(2L, 1L);
    for (double v : white.data().asDouble()) assertThat(Math.abs(v)).isCloseTo(1 / Math.sqrt(2), within(1e-12));
    assertThatThrownBy(() -> Features.Whitener.fit(two.getRows(0)))
        .hasMessage("whitening needs at least 2 rows, got 1");

    INDArray constant = Nd4j.createFromArray(new double[][] {{1, 2}, {1, 2}, {1, 2}});
    INDArray none = Features.Whitener.fit(constant).apply(constant);
    assertThat(none.shape()).containsExactly(3L, 1L);
    assertThat(none.data().asDouble()).containsOnly(0.0);
  }

  /**
   * Fitting and whitening keep their results and nothing else: their float64 copies of the rows
   * (the cast, the centred rows, their projection: twice the result's bytes each here, 487 MB each
   * on the full Fashion-MNIST's nuisance) are freed, not left to the collector, which a probe's
   * training may not run before the next copy. The fewest bytes of five runs (a collection during
   * one frees what it left); applying it kept three such copies, of which ND4J's mmul left one.
   */
  @Test
  void whiteningKeepsOnlyItsResult() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int n = 20000, d = 64;
    INDArray x = Init.normal(DataType.FLOAT, new Random(3), n, d);
    long rows = (long) n * d * 4;
    List<Long> fitting = KeptBytes.of(5, run -> Features.Whitener.fit(x));
    assertThat(fitting.stream().mapToLong(Long::longValue).min().getAsLong()).as("bytes kept: %s", fitting)
        .isLessThan(rows / 2);
    Features.Whitener w = Features.Whitener.fit(x);
    assertThat(w.projection().size(1)).isEqualTo(d);
    List<Long> applying = KeptBytes.of(5, run -> w.apply(x));
    assertThat(applying.stream().mapToLong(Long::longValue).min().getAsLong()).as("bytes kept: %s", applying)
        .isLessThan(2 * rows);
    // At the nuisance's width a fit kept its covariance twice besides its projection (mmul's
    // column-major product, and the row-major covariance copied for LAPACK): the middle of five
    // fits, ten runs of this test each way, 25.0 MB every time against 8.55 (the projection is 8.2).
    INDArray wide = Init.normal(DataType.FLOAT, new Random(4), 1200, 1014);
    List<Long> wideFits = KeptBytes.of(5, run -> Features.Whitener.fit(wide));
    assertThat(KeptBytes.middle(wideFits)).as("bytes kept: %s", wideFits)
        .isLessThan(1014L * 1014 * 8 * 3 / 2);
  }

  private static double[][] inverse(double[][] m) {
    int d = m.length;
    double[][] a = new double[d][2 * d];
    for (int i = 0; i < d; i++) {
      System.arraycopy(m[i], 0, a[i], 0, d);
      a[i][d + i] = 1;
    }
    for (int c = 0; c < d; c++) {
      int p = c;
      for (int i = c + 1; i < d; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
      double[] t = a[c];
      a[c] = a[p];
      a[p] = t;
      double pivot = a[c][c];
      for (int j = 0; j < 2 * d; j++) a[c][j] /= pivot;
      for (int i = 0; i < d; i++) {
        if (i == c) continue;
        double f = a[i][c];
        for (int j = 0; j < 2 * d; j++) a[i][j] -= f * a[c][j];
      }
    }
    double[][] inv = new double[d][d];
    for (int i = 0; i < d; i++) System.arraycopy(a[i], d, inv[i], 0, d);
    return inv;
  }

  /** Two full batches, the last ending exactly at the last image: every row is that of one forward pass. */
  @Test
  void featuresInBatchesAreThoseOfOneForwardPass() {
    InvertibleClassifier m = MetamerSamplerTest.tiny(5);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 3, 2 * Features.BATCH);
    INDArray z = Features.z(m, x);
    assertThat(z.shape()).containsExactly(2L * Features.BATCH, 1024L);
    assertThat(Tensors.maxAbs(z.sub(m.forward(x, false).z()))).isLessThan(1e-5);
    List<INDArray> pooled = Features.pooledStages(m, x);
    List<INDArray> stages = m.stageOutputs(x);
    assertThat(pooled).hasSize(stages.size());
    for (int s = 0; s < stages.size(); s++) {
      assertThat(Tensors.maxAbs(pooled.get(s).sub(stages.get(s).mean(2, 3)))).as("stage %d", s).isLessThan(1e-5);
    }
  }

  /**
   * The stages and z of one pass are, bit for bit, those of {@link Features#pooledStages} and
   * {@link Features#z}: on the tiny model, whose last stage has 8x8 positions (z held apart), and on
   * one that ends at 1x1 as fi-revnet-s does (z is the last pooled matrix).
   */
  @Test
  void stagesAndZOfOnePassAreThoseComputedApart() {
    InvertibleClassifier endsAt1x1 = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "to1x1", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10, "stages": [
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "affine", "actnorm": true},
          {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "affine", "actnorm": true}]}"""), DataType.FLOAT, 3);
    org.irevnet.testing.RandomWeights.perturb(endsAt1x1, 0.05, 4);
    INDArray x = MetamerSamplerTest.images(DataType.FLOAT, 3, Features.BATCH + 3);
    for (InvertibleClassifier m : List.of(MetamerSamplerTest.tiny(5), endsAt1x1)) {
      Features.StagesAndZ both = Features.pooledStagesAndZ(m, x);
      List<INDArray> pooled = Features.pooledStages(m, x);
      assertThat(both.pooled()).hasSameSizeAs(pooled);
      for (int s = 0; s < pooled.size(); s++) {
        assertThat(both.pooled().get(s).shape()).isEqualTo(pooled.get(s).shape());
        assertThat(Tensors.maxAbs(both.pooled().get(s).sub(pooled.get(s)))).as("stage %d", s).isZero();
      }
      INDArray z = Features.z(m, x);
      assertThat(both.z().shape()).isEqualTo(z.shape());
      assertThat(Tensors.maxAbs(both.z().sub(z))).isZero();
    }
    Features.StagesAndZ at1x1 = Features.pooledStagesAndZ(endsAt1x1, x);
    assertThat(at1x1.z()).isSameAs(at1x1.pooled().get(4));
  }
}
