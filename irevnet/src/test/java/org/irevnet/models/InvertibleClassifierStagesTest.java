package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.irevnet.check.Numerics.maxAbsDiff;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.irevnet.check.Numerics;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.Sequential;
import org.irevnet.nn.NativeHeap;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.RandomWeights;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The probing side of {@link InvertibleClassifier} (stages, their prefixes, outputs and input
 * gradients), the block naming, the output-size check, the readout of the i-RevNet variant and
 * the dtype copy, on models small enough for finite differences in float64.
 */
class InvertibleClassifierStagesTest {

  /** Two stages using every block kind: squeeze, ActNorm, 1x1 conv, coupling, padding, reversal. */
  static final String TWO_STAGES = """
      {"name": "two-stages", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": 3,
       "stages": [
         {"steps": 2, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
         {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "additive", "pad": 2, "permutation": "reverse"}
       ]}""";

  private static InvertibleClassifier twoStages() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TWO_STAGES), DataType.DOUBLE, 1);
    m.initialize(Numerics.normal(DataType.DOUBLE, 2, 4, 1, 4, 4));
    RandomWeights.perturb(m, 0.2, 3);
    return m;
  }

  @Test
  void everyPaddingBlockHasItsOwnName() {
    // The second stage pads without squeezing; naming pads by the squeeze count gave both "pad1".
    String arch = """
        {"name": "pads", "type": "irevnet", "inputShape": [1, 4, 4], "numClasses": 3,
         "stages": [
           {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "additive", "pad": 2},
           {"steps": 1, "hidden": 4, "kernel": 1, "coupling": "additive", "pad": 2, "squeeze": false}
         ]}""";
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(arch), DataType.DOUBLE, 1);
    assertThat(m.body().names()).containsExactly("psi0", "pad0", "layers.0", "pad1", "layers.1");
    assertThat(m.body().outputShape(new long[] {1, 1, 4, 4})).containsExactly(1, 8, 2, 2);
  }

  @Test
  void blocksAreNamedLikeThePyTorchTwinsModules() {
    InvertibleClassifier m = twoStages();
    // Parameterised blocks (ActNorm, 1x1 conv, coupling) share one "layers.N" counter, as the
    // twin's ModuleList does; weight files are keyed by these names.
    assertThat(m.body().names()).containsExactly("psi0", "layers.0", "layers.1", "layers.2", "layers.3",
        "layers.4", "layers.5", "psi1", "pad0", "reverse6", "layers.6");
    assertThat(m.params().entries()).containsKeys("layers.1.lower", "layers.4.log_s", "layers.3.logs");
    assertThat(m.stageEnds()).containsExactly(6, 10);
    assertThat(m.layerNames()).containsExactly("stage0", "stage1");
  }

  @Test
  void stageOutputsAreTheBodyBlocksAppliedUpToEachStageEnd() {
    InvertibleClassifier m = twoStages();
    INDArray x = Numerics.normal(DataType.DOUBLE, 4, 3, 1, 4, 4);
    // By hand: the blocks one after another, keeping the output after the first stage's last block.
    List<Bijection> blocks = m.body().blocks();
    INDArray h = x;
    INDArray afterStage0 = null;
    for (int i = 0; i < blocks.size(); i++) {
      h = blocks.get(i).forward(h).out();
      if (i == 6) afterStage0 = h.dup();
    }
    List<INDArray> stages = m.stageOutputs(x);
    assertThat(stages).hasSize(2);
    assertThat(maxAbsDiff(stages.get(0), afterStage0)).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(stages.get(1), h)).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(stages.get(1), m.forward(x, false).out())).isZero();
    assertThat(m.layerOutputs(x)).hasSize(2);
    assertThat(maxAbsDiff(m.layerOutputs(x).get(0), afterStage0)).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(m.layerOutput(x, 0), afterStage0)).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(m.layerOutput(x, 1), h)).isLessThanOrEqualTo(1e-12);
  }

  @Test
  void aStagePrefixSharesTheModelsBlocksAndOnlyExistingStagesHaveOne() {
    InvertibleClassifier m = twoStages();
    Sequential first = m.stagePrefix(0);
    assertThat(first.blocks()).hasSize(7);
    for (int i = 0; i < 7; i++) assertThat(first.blocks().get(i)).isSameAs(m.body().blocks().get(i));
    assertThat(m.stagePrefix(1).blocks()).hasSize(11);
    // Probes take the stage index from user input: a bad one is named, not an index error.
    for (int bad : new int[] {-1, 2}) {
      assertThatThrownBy(() -> m.stagePrefix(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("stage must be in 0..1, got " + bad);
    }
  }

  @Test
  void layerGradientMatchesFiniteDifferencesAndLeavesParameterGradientsAlone() {
    InvertibleClassifier m = twoStages();
    INDArray x = Numerics.normal(DataType.DOUBLE, 5, 1, 1, 4, 4);
    INDArray r = Numerics.normal(DataType.DOUBLE, 6, 1, 4, 2, 2);
    Map<String, INDArray> before = InvertibleClassifierTest.valuesAndGradients(m);
    // Loss sum(h * r) of the first stage's output h: dL/dh = r.
    Classifier.Gradient g = m.layerGradient(x, 0, out -> r);
    assertThat(maxAbsDiff(g.output(), m.layerOutput(x, 0))).isZero();
    double[] fd = Numerics.gradient(xs -> m.layerOutput(xs, 0).mul(r).sumNumber().doubleValue(), x, 1e-6,
        Numerics.sampleIndices(x.length(), 32, 7));
    double[] got = new double[fd.length];
    int[] idx = Numerics.sampleIndices(x.length(), 32, 7);
    INDArray dx = g.dx().dup('c').reshape(x.length());
    for (int k = 0; k < idx.length; k++) got[k] = dx.getDouble(idx[k]);
    assertThat(Numerics.maxRelDiff(got, fd)).isLessThanOrEqualTo(1e-7);
    assertThat(InvertibleClassifierTest.valuesAndGradients(m)).isEqualTo(before);
  }

  @Test
  void anOutputSmallerThanTheClassCountIsRefusedButAnEqualOneIsNot() {
    // One squeeze of 1x4x4: the output is 4x2x2, 16 entries, one per class at most.
    String json = """
        {"name": "narrow", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": %d,
         "stages": [{"steps": 1, "hidden": 2, "kernel": 1, "coupling": "additive"}]}""";
    InvertibleClassifier fits = InvertibleClassifier.build(Architecture.fromJson(json.formatted(16)), DataType.DOUBLE, 1);
    assertThat(fits.forward(Numerics.normal(DataType.DOUBLE, 1, 2, 1, 4, 4), false).logits().shape())
        .isEqualTo(new long[] {2, 16});
    // Refused as the file is read, before anything is built.
    assertThatThrownBy(() -> Architecture.fromJson(json.formatted(17)))
        .hasMessage("model.json: the output has 16 dimensions, fewer than 'numClasses' 17 (a fi-revnet's logits are its"
            + " first numClasses)");
  }

  @Test
  void initializeNormalisesTheFirstActNormOnTheBatch() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TWO_STAGES), DataType.DOUBLE, 1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 8, 6, 1, 4, 4).muli(3).addi(2);
    m.initialize(x);
    // Block 1 is the first ActNorm, after the squeeze: its output on the init batch is standardised per channel.
    INDArray a = m.body().blocks().get(1).forward(m.body().blocks().get(0).forward(x).out()).out();
    assertThat(maxAbsDiff(a.mean(0, 2, 3), a.mean(0, 2, 3).mul(0))).isLessThanOrEqualTo(1e-12);
    assertThat(maxAbsDiff(a.std(false, 0, 2, 3), a.std(false, 0, 2, 3).mul(0).add(1))).isLessThanOrEqualTo(1e-12);
  }

  @Test
  void irevnetLogitsAreTheReadoutHeadOfTheBodyOutput() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "tiny-head", "type": "irevnet", "inputShape": [1, 4, 4], "numClasses": 3,
         "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "additive"}]}"""), DataType.DOUBLE, 1);
    RandomWeights.perturb(m, 0.3, 2);
    assertThat(m.isFullyInvertible()).isFalse();
    INDArray x = Numerics.normal(DataType.DOUBLE, 3, 2, 1, 4, 4);
    INDArray out = m.forward(x, false).out();
    // By hand, in evaluation mode (running mean 0, running variance 1 after construction):
    // BatchNorm, ReLU, average over the 2x2 positions, linear.
    double[] gamma = m.params().get("head.bn.weight").value().reshape(4).toDoubleVector();
    double[] beta = m.params().get("head.bn.bias").value().reshape(4).toDoubleVector();
    double[][] w = m.params().get("head.linear.weight").value().toDoubleMatrix();
    double[] b = m.params().get("head.linear.bias").value().toDoubleVector();
    double[][] want = new double[2][3];
    for (int n = 0; n < 2; n++) {
      for (int k = 0; k < 3; k++) {
        double s = b[k];
        for (int c = 0; c < 4; c++) {
          double pooled = 0;
          for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
              pooled += Math.max(0, out.getDouble(n, c, i, j) / Math.sqrt(1 + 1e-5) * gamma[c] + beta[c]) / 4;
            }
          }
          s += w[k][c] * pooled;
        }
        want[n][k] = s;
      }
    }
    INDArray logits = m.logits(x);
    for (int n = 0; n < 2; n++) {
      for (int k = 0; k < 3; k++) assertThat(logits.getDouble(n, k)).isCloseTo(want[n][k], offset(1e-12));
    }
  }

  @Test
  void aDtypeCopyHasTheSameWeightsAndInitStateAndTheSameDtypeIsNoCopy() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(TWO_STAGES), DataType.FLOAT, 1);
    m.initialize(Numerics.normal(DataType.FLOAT, 2, 4, 1, 4, 4));
    RandomWeights.perturb(m, 0.2, 3);
    assertThat(m.withDataType(DataType.FLOAT)).isSameAs(m);
    InvertibleClassifier m64 = m.withDataType(DataType.DOUBLE);
    assertThat(m64.dataType()).isEqualTo(DataType.DOUBLE);
    m.params().entries().forEach((name, p) ->
        assertThat(maxAbsDiff(m64.params().get(name).value(), p.value())).as(name).isZero());
    // The ActNorm init flags came along: initialising the copy on other data changes nothing.
    Map<String, INDArray> before = InvertibleClassifierTest.valuesAndGradients(m64);
    m64.initialize(Numerics.normal(DataType.DOUBLE, 9, 4, 1, 4, 4).muli(5));
    assertThat(InvertibleClassifierTest.valuesAndGradients(m64)).isEqualTo(before);
    INDArray x = Numerics.normal(DataType.FLOAT, 4, 2, 1, 4, 4);
    assertThat(maxAbsDiff(m64.logits(x.castTo(DataType.DOUBLE)), m.logits(x))).isLessThanOrEqualTo(1e-4);
  }

  @Test
  void aFloat64CopyHoldsItsWeightsOnceWhileItIsMade() throws InterruptedException {
    // withDataType built a seeded model and loaded a cast of the whole table into it: the native
    // heap grew by twice the copy's weights (the cast was garbage only once the copy returned).
    // Now the copy's weights are its only arrays of that size: some copy of five within 1 MiB.
    assertACopyKeepsOnlyItsWeights(DataType.FLOAT, DataType.DOUBLE);
  }

  @Test
  void aFloat32CopyOfAFloat64ModelKeepsNoCastBesideItsWeights() throws InterruptedException {
    // A narrowing copy checks that each weight stays finite in float32 by casting it: that cast is
    // freed at once, or the copy would hold its weights twice until the collector found the casts.
    assertACopyKeepsOnlyItsWeights(DataType.DOUBLE, DataType.FLOAT);
  }

  /** withDataType({@code to}) of a wide model in {@code from} keeps its weights' bytes, within 1 MiB, in some of five copies. */
  private static void assertACopyKeepsOnlyItsWeights(DataType from, DataType to) throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "wide", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": 3,
         "stages": [{"steps": 1, "hidden": 384, "kernel": 3, "coupling": "affine", "actnorm": true}]}"""), from, 1);
    long weights = 0;
    for (org.irevnet.layers.Param p : m.params().entries().values()) weights += to.width() * p.value().length();
    long copy = weights;
    assertThat(copy).as("a copy's weights, well above the tolerance").isGreaterThan(4L << 20);
    assertThat(KeptBytes.of(5, run -> m.withDataType(to))).as("native bytes of a copy of %d bytes of weights", copy)
        .anySatisfy(kept -> assertThat(Math.abs(kept - copy)).isLessThan(1L << 20));
  }

  @Test
  void stageOutputsKeepNoOtherBlocksOutput() throws InterruptedException {
    // Every block's output was copied out and left to the collector, which finds them late (probe's
    // features and invert's stages ask for them 256 images at a time). Now only the stages' stay.
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson("""
        {"name": "deep", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 3,
         "stages": [{"steps": 4, "hidden": 2, "kernel": 1, "coupling": "affine", "actnorm": true},
                    {"steps": 4, "hidden": 2, "kernel": 1, "coupling": "affine", "actnorm": true}]}"""),
        DataType.DOUBLE, 1);
    INDArray x = Numerics.normal(DataType.DOUBLE, 7, 128, 1, 32, 32);
    m.initialize(x);
    long outputs = 0;
    for (INDArray h : m.stageOutputs(x)) outputs += 8 * h.length();
    long held = outputs;
    assertThat(KeptBytes.of(5, run -> m.stageOutputs(x))).as("native bytes of %d bytes of stage outputs", held)
        .anySatisfy(kept -> assertThat(Math.abs(kept - held)).isLessThan(1L << 20));
    assertThat(maxAbsDiff(m.stageOutputs(x).get(1), m.forward(x, false).out())).isZero();
  }
}
