package org.irevnet.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.irevnet.testing.ChildJvm;
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
    ChildJvm.repeatFor(args[0], () -> {
      INDArray y = Tensors.perChannel(x, Tensors.ChannelOp.MUL, v, false);
      Tensors.perChannel(y, Tensors.ChannelOp.ADD, v, true);
      Tensors.concatChannels(Tensors.channels(y, 0, 512), Tensors.channels(y, 512, 1024));
    });
  }

  @Test
  void helpersSurviveCollectionsWhileLibnd4jRuns(@TempDir Path dir) throws Exception {
    // Without the fence, 4 of 4 runs crashed within 1-5 s.
    ChildJvm.Run run = ChildJvm.underCollectionPressure(dir, NativeLifetimeTest.class, "10");
    assertThat(run.survived()).as(run.output()).isTrue();
  }
}
