package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;
import org.irevnet.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The probes' row-wise arithmetic (standardising features, a linear probe's logits) survives
 * collections while libnd4j runs it. ND4J's {@code addiRowVector} and the other {@code *RowVector}
 * methods run a legacy broadcast op whose dimension array only the op holds, and the executioner
 * drops the op before libnd4j reads that array: a collection then frees it under libnd4j (SIGSEGV in
 * {@code DataBuffer::primary}, from {@code execBroadcast}). {@code LayerProbes.measure} called 20
 * times in one JVM crashed so; under this test's collection pressure 3 of 3 runs of a row-vector
 * loop crashed within seconds.
 */
class ProbeNativeLifetimeTest {
  /** Standardises and scores small feature matrices in a loop until {@code args[0]} seconds pass. */
  public static void main(String[] args) {
    Random r = new Random(0);
    int n = 64, d = 16, classes = 4;
    INDArray x = Nd4j.rand(DataType.FLOAT, n, d);
    int[] y = r.ints(n, 0, classes).toArray();
    Features.Standardizer st = Features.Standardizer.fit(x);
    SoftmaxRegression probe = SoftmaxRegression.train(st.apply(x), y, classes, 1e-2);
    ChildJvm.repeatFor(args[0], () -> {
      INDArray z = st.apply(x);
      st.applyInPlace(x.dup());
      probe.logits(z);
    });
  }

  @Test
  void rowWiseArithmeticSurvivesCollectionsWhileLibnd4jRuns(@TempDir Path dir) throws Exception {
    ChildJvm.Run run = ChildJvm.underCollectionPressure(dir, ProbeNativeLifetimeTest.class, "8");
    assertThat(run.survived()).as(run.output()).isTrue();
  }
}
