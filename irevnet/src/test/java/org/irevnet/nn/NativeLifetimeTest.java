package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The helpers that hand libnd4j native handles keep the arrays behind them alive until it is
 * done. Without {@code reachabilityFence}, a collection inside the executioner freed the legacy
 * broadcast op's temporaries while libnd4j read them: a crash (SIGSEGV) once the JIT had compiled
 * {@link Tensors#perChannel}, seen in training.
 */
class NativeLifetimeTest {
  /** Runs the helpers in a loop under constant collection pressure until {@code args[0]} seconds pass. */
  public static void main(String[] args) {
    INDArray flat = Nd4j.rand(DataType.FLOAT, 1, 4096);
    // A parameter-like view, as ActNorm's scale and bias are views into the optimiser's buffer.
    INDArray v = flat.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(100, 1124)).reshape(1, 1024, 1, 1);
    INDArray x = Nd4j.rand(DataType.FLOAT, 64, 1024, 1, 1);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
    long calls = 0;
    while (System.nanoTime() < end) {
      INDArray y = Tensors.perChannel(x, Tensors.ChannelOp.MUL, v, false);
      Tensors.perChannel(y, Tensors.ChannelOp.ADD, v, true);
      Tensors.concatChannels(Tensors.channels(y, 0, 512), Tensors.channels(y, 512, 1024));
      calls++;
    }
    System.out.println("survived " + calls + " iterations");
  }

  @Test
  void helpersSurviveCollectionsWhileLibnd4jRuns(@TempDir Path dir) throws Exception {
    // A separate JVM: a regression crashes the process. A 1 MB young generation makes collections
    // so frequent that, without the fence, 4 of 4 runs crashed within 1-5 s.
    Path log = dir.resolve("child.log");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Xmn1m", "-XX:+UseParallelGC", "-XX:ErrorFile=" + dir.resolve("hs_err.log"),
        "-cp", System.getProperty("java.class.path"), NativeLifetimeTest.class.getName(), "10")
        .redirectErrorStream(true).redirectOutput(log.toFile()).directory(dir.toFile()).start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("finished").isTrue();
    List<String> out = Files.readAllLines(log);
    assertThat(p.exitValue()).as(String.join("\n", out)).isZero();
    assertThat(out).anyMatch(l -> l.startsWith("survived "));
  }
}
