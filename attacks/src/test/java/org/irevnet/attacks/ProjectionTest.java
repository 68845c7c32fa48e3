package org.irevnet.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ProjectionTest {

  /**
   * Every attack refuses a mask that is not of the model's input as it is built, in one line: a
   * null one failed at the first step in a NullPointerException inside ND4J, and one of the
   * unpadded 28x28 images on a 32x32 input in a broadcast message.
   */
  @Test
  void attacksRefuseAMaskThatIsNotOfTheModelsInput() {
    org.irevnet.models.InvertibleClassifier m = TinyModels.fiRevnet(DataType.DOUBLE, 1);
    InputGradient g = new InputGradient(m);
    String after = ", where the model's inputs are [1, 1, 32, 32]: 1 where pixels may change, 0 elsewhere"
        + " (Projection.contentMask: the image, not its padding)";
    INDArray unpadded = Nd4j.ones(DataType.DOUBLE, 1, 1, 28, 28);
    // Each of the checks alone: another channel count, height or width, an extra axis.
    INDArray rgb = Nd4j.ones(DataType.DOUBLE, 1, 3, 32, 32), low = Nd4j.ones(DataType.DOUBLE, 1, 1, 28, 32);
    INDArray narrow = Nd4j.ones(DataType.DOUBLE, 1, 1, 32, 28), fiveAxes = Nd4j.ones(DataType.DOUBLE, 1, 1, 32, 32, 1);
    for (INDArray mask : new INDArray[] {null, unpadded, Nd4j.ones(DataType.DOUBLE, 1, 32, 32), rgb, low, narrow, fiveAxes}) {
      String got = "attack mask: " + (mask == null ? "null" : Tensors.shape(mask.shape())) + after;
      java.util.List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> builds = java.util.List.of(
          () -> new Fgsm(g, mask, InputGradient.Loss.CE, false),
          () -> new Pgd(g, mask, Norm.LINF, InputGradient.Loss.CE, 3, Double.NaN, false, false, 0),
          () -> new FeatureMatch(g, 0, mask, 3, Double.NaN));
      for (var build : builds) {
        org.assertj.core.api.Assertions.assertThatThrownBy(build).isInstanceOf(IllegalArgumentException.class).hasMessage(got);
      }
    }
    // The content mask, one for the batch or one a row, is taken.
    new Pgd(g, TinyModels.mask(m), Norm.L2, InputGradient.Loss.CE, 3, Double.NaN, false, false, 0);
    new Fgsm(g, Nd4j.ones(DataType.DOUBLE, 4, 1, 32, 32), InputGradient.Loss.CE, false);
  }

  @Test
  void staysInTheBallTheBoxAndTheContent() {
    Random r = new Random(1);
    INDArray x = Nd4j.zeros(DataType.DOUBLE, 3, 1, 8, 8);
    INDArray mask = Nd4j.zeros(DataType.DOUBLE, 3, 1, 8, 8);
    x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 6), NDArrayIndex.interval(2, 6))
        .assign(Init.uniform(DataType.DOUBLE, r, 0.5, 3, 1, 4, 4).addi(0.5));
    mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 6), NDArrayIndex.interval(2, 6)).assign(1);
    INDArray adv = x.add(Init.normal(DataType.DOUBLE, r, 3, 1, 8, 8));
    Projection.linf(adv, x, 0.1, mask);
    INDArray delta = adv.sub(x);
    assertThat(Tensors.maxAbs(delta)).isLessThanOrEqualTo(0.1 + 1e-12).isGreaterThan(0.05);
    assertThat(Tensors.min(adv)).isGreaterThanOrEqualTo(0.0);
    assertThat(Tensors.max(adv)).isLessThanOrEqualTo(1.0);
    assertThat(Tensors.maxAbs(delta.mul(mask.rsub(1.0)))).isZero();
    Projection.linf(adv, x, 0.0, mask);
    assertThat(adv).isEqualTo(x);
  }

  /**
   * The L2 random start's radius is eps * u^(1/d), d = the 36 content pixels of a row, whatever
   * the batch size and whether the mask is one row or one per image: its mean is d / (d + 1) =
   * 0.973 eps. (Once d came from the batch size, and a single image started at 0.5 eps on average.)
   */
  @Test
  void theL2RandomStartFillsTheBallOfTheContentPixelsAtAnyBatchSize() {
    INDArray mask = Nd4j.zeros(DataType.DOUBLE, 1, 1, 8, 8);
    mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(1, 7), NDArrayIndex.interval(1, 7)).assign(1);
    double eps = 0.1;
    Random r = new Random(3);
    for (int batch : new int[] {1, 64}) {
      INDArray x = mask.mul(0.5).repeat(0, batch);
      for (INDArray m : new INDArray[] {mask, mask.repeat(0, batch)}) {
        double sum = 0;
        int draws = 0;
        for (int t = 0; t < 400 / batch + 1; t++) {
          INDArray norms = Norm.rowNorms(Norm.L2.randomStart(x, eps, m, r).sub(x), Norm.L2);
          assertThat(Tensors.max(norms)).isLessThanOrEqualTo(eps + 1e-12);
          sum += norms.sumNumber().doubleValue();
          draws += batch;
        }
        assertThat(sum / draws / eps).as("mean radius / eps at batch %d, mask rows %d", batch, m.size(0)).isBetween(0.95, 0.99);
      }
    }
  }
  /** A [rows, 1, 2, 2] float64 batch, one row per array of four pixel values. */
  private static INDArray rows(double[]... v) {
    return Nd4j.createFromArray(v).reshape(v.length, 1, 2, 2);
  }

  /**
   * Hand-computed L2 projections around x = 0.5 with eps 0.1: a perturbation of norm 0.05 stays;
   * (0.3, 0.4) has norm 0.5 and lands on the sphere along its own direction, (0.06, 0.08); the
   * zero perturbation has no direction and stays zero; a masked pixel neither moves nor counts
   * in the norm; each row is projected on its own.
   */
  @Test
  void l2ProjectionsByHand() {
    INDArray x = rows(new double[] {0.5, 0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5, 0.5},
        new double[] {0.5, 0.5, 0.5, 0.5});
    INDArray mask = rows(new double[] {1, 1, 0, 1});
    INDArray adv = rows(new double[] {0.53, 0.54, 0.5, 0.5}, new double[] {0.8, 0.9, 1.0, 0.5},
        new double[] {0.5, 0.5, 0.5, 0.5});
    INDArray out = Projection.l2(adv, x, 0.1, mask);
    assertThat(out).isSameAs(adv);
    assertClose(out, rows(new double[] {0.53, 0.54, 0.5, 0.5}, new double[] {0.56, 0.58, 0.5, 0.5},
        new double[] {0.5, 0.5, 0.5, 0.5}));
    assertThat(Norm.rowNorms(out.sub(x), Norm.L2).getDouble(1)).isCloseTo(0.1, org.assertj.core.api.Assertions.within(1e-15));
    assertThat(Tensors.maxAbs(out.slice(2).sub(0.5))).as("zero stays zero, no NaN").isZero();
  }

  /**
   * Hand-computed L-inf projections: each pixel's change clipped to [-eps, eps] ((0.3, -0.05,
   * -0.2, 0) -> (0.1, -0.05, -0.1, 0) at eps 0.1); an eps larger than the pixel range leaves the
   * box to do the clipping; an image at the bounds pushed outwards stays where it is, in either norm.
   */
  @Test
  void linfProjectionsAndTheBoxByHand() {
    INDArray ones = rows(new double[] {1, 1, 1, 1});
    INDArray x = rows(new double[] {0.5, 0.5, 0.5, 0.5});
    assertClose(Projection.linf(rows(new double[] {0.8, 0.45, 0.3, 0.5}), x, 0.1, ones),
        rows(new double[] {0.6, 0.45, 0.4, 0.5}));
    INDArray near = rows(new double[] {0.9, 0.1, 0.5, 0.5});
    assertClose(Projection.linf(rows(new double[] {2.9, -1.9, 0.5, 3.0}), near, 5.0, ones), rows(new double[] {1, 0, 0.5, 1}));
    assertClose(Projection.l2(rows(new double[] {2.9, -1.9, 0.5, 0.5}), near, 5.0, ones), rows(new double[] {1, 0, 0.5, 0.5}));
    INDArray bounds = rows(new double[] {1, 0, 1, 0});
    for (Norm norm : Norm.values()) {
      INDArray pushed = rows(new double[] {1.05, -0.05, 1.2, -0.01});
      assertClose(norm.project(pushed, bounds, 0.1, ones), bounds);
    }
  }

  /**
   * The ascent directions, by hand: the sign per pixel (L-inf; a zero gradient does not move),
   * the gradient over its norm per row (L2; (3, 4) -> (0.6, 0.8), and a zero gradient gives zero,
   * not NaN), both of the masked gradient.
   */
  @Test
  void directionsByHand() {
    INDArray g = rows(new double[] {3, -4, 0, 12}, new double[] {0, 0, 0, 0});
    INDArray mask = rows(new double[] {1, 1, 1, 0});
    assertClose(Norm.LINF.direction(g, mask), rows(new double[] {1, -1, 0, 0}, new double[] {0, 0, 0, 0}));
    assertClose(Norm.L2.direction(g, mask), rows(new double[] {0.6, -0.8, 0, 0}, new double[] {0, 0, 0, 0}));
  }

  private static void assertClose(INDArray actual, INDArray expected) {
    assertThat(actual.shape()).containsExactly(expected.shape());
    assertThat(Tensors.maxAbs(actual.sub(expected))).as("%s vs %s", actual, expected).isLessThan(1e-14);
  }
}
