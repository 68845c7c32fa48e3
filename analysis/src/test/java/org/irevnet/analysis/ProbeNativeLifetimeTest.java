package org.irevnet.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
    long calls = 0;
    while (System.nanoTime() < end) {
      INDArray z = st.apply(x);
      st.applyInPlace(x.dup());
      probe.logits(z);
      calls++;
    }
    System.out.println("survived " + calls + " iterations");
  }

  @Test
  void rowWiseArithmeticSurvivesCollectionsWhileLibnd4jRuns(@TempDir Path dir) throws Exception {
    // A separate JVM, as NativeLifetimeTest's: a regression crashes the process. A 1 MB young
    // generation makes collections frequent enough to meet the window, and so do many iterations:
    // one OpenMP thread (two spin-waiting on a loaded machine ran 300 iterations where one ran
    // 20,000) and glibc's own malloc settings, under which the freed memory is reused at once
    // (without the fix 4 of 4 runs crashed, 2 of 3 with the launcher's settings).
    Path log = dir.resolve("child.log");
    ProcessBuilder b = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Xmn1m", "-XX:+UseParallelGC", "-XX:ErrorFile=" + dir.resolve("hs_err.log"),
        "-cp", System.getProperty("java.class.path"), ProbeNativeLifetimeTest.class.getName(), "8")
        .redirectErrorStream(true).redirectOutput(log.toFile()).directory(dir.toFile());
    b.environment().put("OMP_NUM_THREADS", "1");
    b.environment().keySet().removeIf(k -> k.startsWith("MALLOC_"));
    Process p = b.start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("finished").isTrue();
    List<String> out = ChildJvm.ownLines(Files.readAllLines(log));
    assertThat(p.exitValue()).as(String.join("\n", out)).isZero();
    assertThat(out).anyMatch(l -> l.startsWith("survived "));
  }
}
