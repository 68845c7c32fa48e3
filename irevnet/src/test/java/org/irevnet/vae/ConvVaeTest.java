package org.irevnet.vae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.layers.Param;
import org.irevnet.testing.TinyData;
import org.irevnet.train.AdamOptimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The VAE graph: its gradients through decoder, flow and encoder against finite differences
 * (float64), the training and sampling graphs computing the same {@code log w}, the
 * importance-sampling estimate against the ELBO, and training lowering the loss.
 */
class ConvVaeTest {

  private static ConvVae.Config config(String flow) {
    return new ConvVae.Config(flow, 3, 8, 2, 2, 2);
  }

  private static INDArray binaryImages(DataType dt, int n, long seed) {
    Random r = new Random(seed);
    INDArray x = Nd4j.zeros(dt, n, 784);
    for (int i = 0; i < n; i++) for (int j = 0; j < 784; j++) x.putScalar(i, j, r.nextBoolean() ? 1 : 0);
    return x;
  }

  @Test
  void gradientsMatchFiniteDifferencesThroughEncoderFlowAndDecoder() {
    for (String flow : List.of("sylvester-orthogonal")) {
      ConvVae vae = new ConvVae(config(flow), 3, DataType.DOUBLE);
      INDArray x = binaryImages(DataType.DOUBLE, 2, 4);
      INDArray eps = Numerics.normal(DataType.DOUBLE, 5, 2, 3);
      INDArray rows = Nd4j.createFromArray(0, 1);
      // Biases start at zero, and a 3x3 patch of zero pixels then puts a ReLU exactly at its kink,
      // where finite differences see half a slope: moving every parameter a little avoids that.
      Random noise = new Random(6);
      for (Param p : vae.params().entries().values()) {
        p.value().addi(org.irevnet.nn.Init.normal(DataType.DOUBLE, noise, p.value().shape()).muli(0.05));
      }
      vae.params().zeroGrad();
      double loss = vae.accumulateGradients(x, eps);
      assertThat(loss).as("training graph vs sampling graph")
          .isCloseTo(-vae.logWeights(x, eps, rows).meanNumber().doubleValue(), offset(1e-9));

      List<Double> analytic = new ArrayList<>(), numeric = new ArrayList<>();
      for (Map.Entry<String, Param> e : vae.params().entries().entrySet()) {
        INDArray v = e.getValue().value();
        INDArray g = e.getValue().grad().dup('c').reshape(-1);
        for (int k : Numerics.sampleIndices(v.length(), 2, e.getKey().hashCode())) {
          double fd = Numerics.gradient(a -> -vae.logWeights(x, eps, rows).meanNumber().doubleValue(), v, 1e-6,
              new int[] {k})[0];
          analytic.add(g.getDouble(k));
          numeric.add(fd);
        }
      }
      double[] an = analytic.stream().mapToDouble(Double::doubleValue).toArray();
      double[] nu = numeric.stream().mapToDouble(Double::doubleValue).toArray();
      assertThat(Numerics.maxRelDiff(an, nu)).as(flow + ": dLoss/dθ vs finite differences").isLessThanOrEqualTo(1e-6);
      assertThat(java.util.Arrays.stream(an).filter(a -> Math.abs(a) > 1e-3).count()).as("non-trivial gradients")
          .isGreaterThan(an.length / 3);
    }
  }

  @Test
  void importanceSampledNllIsBelowTheNegativeElboAndEqualWithOneSample() {
    ConvVae vae = new ConvVae(config("sylvester-triangular"), 1, DataType.FLOAT);
    INDArray x = binaryImages(DataType.FLOAT, 3, 2);
    ConvVae.Evaluation many = vae.evaluate(x, 40, 16, new Random(7));
    assertThat(Double.isFinite(many.nll()) && Double.isFinite(many.elbo())).isTrue();
    // Jensen on the same samples: log mean w >= mean log w.
    assertThat(many.nll()).isLessThanOrEqualTo(-many.elbo());
    assertThat(many.nll()).isLessThan(-many.elbo() - 1e-3);
    ConvVae.Evaluation one = vae.evaluate(x, 1, 1, new Random(7));
    assertThat(one.nll()).isCloseTo(-one.elbo(), offset(1e-9));
    assertThat(one.images()).isEqualTo(3);
  }

  @Test
  void trainingLowersTheNegativeElbo(@TempDir Path tmp) throws Exception {
    Dataset train = Datasets.open(TinyData.idx(tmp, 64, 10)).train();
    INDArray images = train.images().reshape(64, 784);
    ConvVae vae = new ConvVae(new ConvVae.Config("householder", 4, 16, 2, 2, 2), 1, DataType.FLOAT);
    AdamOptimizer opt = vae.optimizer(3e-3);
    Random rng = new Random(1);
    double first = vae.trainEpoch(images, 16, opt, 1, 0, rng);
    double last = first;
    for (int e = 1; e < 6; e++) last = vae.trainEpoch(images, 16, opt, 1, e, rng);
    assertThat(last).as("negative ELBO after 6 epochs vs after the first").isLessThan(first - 20);
  }
}
