package org.irevnet.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.assertj.core.api.SoftAssertions;
import org.irevnet.check.Numerics;
import org.irevnet.host.Host;
import org.irevnet.io.Npz;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.NativeHeap;
import org.irevnet.nn.Tensors;
import org.irevnet.testing.KeptBytes;
import org.irevnet.testing.OpCounts;
import org.irevnet.train.AdamOptimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Invertible1x1Conv keeps what it derives from its parameters (factors, permutation indices, the
 * solves' inverted blocks) from one call to the next. After each way its parameters can change,
 * every result of the layer that kept them must be the bits of a layer that never made a call
 * with the old parameters; and the change must move the forward output, so that results made
 * from the old parameters could not pass.
 */
class Invertible1x1ConvCacheTest {
  /** Above Triangular's 64-row blocks, so the solves keep the inverses of several blocks. */
  private static final int CHANNELS = 130;

  @TempDir
  Path dir;

  /**
   * Forward's output and log-det, inverse's output and log-det, backward's x and dx, and the three
   * parameter gradients, as doubles. Each call runs in a block workspace as in a model, whose
   * memory the next call reuses: something kept inside it would be overwritten.
   */
  private static List<double[]> results(Invertible1x1Conv b, INDArray x, INDArray dy, INDArray dLogDet) {
    b.params().zeroGrad();
    List<double[]> r = new ArrayList<>();
    INDArray y = BlockWorkspace.run(() -> b.forward(x), f -> {
      r.add(Tensors.doubles(f.out()));
      r.add(Tensors.doubles(f.logDet()));
      return BlockWorkspace.copyOutside(f.out());
    });
    BlockWorkspace.run(() -> b.inverse(y), f -> {
      r.add(Tensors.doubles(f.out()));
      return r.add(Tensors.doubles(f.logDet()));
    });
    BlockWorkspace.run(() -> b.backward(y, dy, dLogDet), g -> {
      r.add(Tensors.doubles(g.x()));
      return r.add(Tensors.doubles(g.dx()));
    });
    for (String name : new String[] {"lower", "upper", "log_s"}) r.add(Tensors.doubles(b.params().get(name).grad()));
    return r;
  }

  /**
   * A layer that has made no call, holding {@code b}'s parameters (assigned, not loaded: the
   * table's load refuses the NaN one change makes).
   */
  private static Invertible1x1Conv freshCopy(Invertible1x1Conv b, DataType dt) {
    Invertible1x1Conv fresh = new Invertible1x1Conv(CHANNELS, dt, null);
    b.params().entries().forEach((name, p) -> fresh.params().get(name).value().assign(p.value()));
    return fresh;
  }

  /** The ways the parameters change, each applied to a layer that has already made its calls. */
  private Map<String, Consumer<Invertible1x1Conv>> changes(DataType dt, INDArray x, INDArray dy, INDArray dLogDet) {
    Map<String, Consumer<Invertible1x1Conv>> m = new LinkedHashMap<>();
    m.put("one entry of lower's triangle, by value().putScalar", b -> {
      INDArray v = b.params().get("lower").value();
      v.putScalar(new long[] {100, 3}, v.getDouble(100, 3) + 0.25);
    });
    // Outside the triangle the entry is masked, but NaN * 0 is NaN: a check of the triangles alone
    // would miss it.
    m.put("one entry above lower's triangle made NaN", b -> b.params().get("lower").value().putScalar(new long[] {3, 100}, Double.NaN));
    m.put("all of upper, by value().addi", b -> b.params().get("upper").value().addi(0.01));
    m.put("one log_s", b -> b.params().get("log_s").value().putScalar(70, 0.3));
    m.put("two rows of perm swapped", b -> {
      INDArray p = b.params().get("perm").value();
      INDArray row = p.getRow(5).dup();
      p.putRow(5, p.getRow(120).dup());
      p.putRow(120, row);
    });
    m.put("one sign_s flipped", b -> b.params().get("sign_s").value().putScalar(0, -b.params().get("sign_s").value().getDouble(0)));
    m.put("another layer's state loaded into the table", b -> b.params().load(new Invertible1x1Conv(CHANNELS, dt, new Random(9)).params().state()));
    m.put("another layer's weights read back from an npz file", b -> {
      try {
        Path file = dir.resolve("weights.npz");
        Npz.write(file, new Invertible1x1Conv(CHANNELS, dt, new Random(10)).params().state());
        b.params().load(Npz.read(file));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    m.put("an Adam step (values moved into its flat buffer, then updated)", b -> {
      AdamOptimizer adam = new AdamOptimizer(b.params(), 1e-2);
      results(b, x, dy, dLogDet);
      adam.step();
    });
    return m;
  }

  @ParameterizedTest
  @CsvSource({"FLOAT, 1", "FLOAT, 2", "DOUBLE, 1", "DOUBLE, 2"})
  void everyResultAfterAParameterChangeIsTheBitsOfALayerThatNeverSawTheOldParameters(DataType dt, int threads) {
    INDArray x = Numerics.normal(dt, 5, 3, CHANNELS, 2, 2);
    INDArray dy = Numerics.normal(dt, 6, 3, CHANNELS, 2, 2);
    INDArray dLogDet = Numerics.normal(dt, 7, 3);
    // RestoredThreadCounts puts both counts back after each invocation.
    Host.setThreads(threads);
    Host.setOpenMpThreads(threads);
    SoftAssertions soft = new SoftAssertions();
    for (Map.Entry<String, Consumer<Invertible1x1Conv>> change : changes(dt, x, dy, dLogDet).entrySet()) {
      Invertible1x1Conv b = new Invertible1x1Conv(CHANNELS, dt, new Random(3));
      List<double[]> before = results(b, x, dy, dLogDet);
      // A second round on unchanged parameters, from what was kept: the bits of the first.
      List<double[]> again = results(b, x, dy, dLogDet);
      for (int i = 0; i < before.size(); i++) assertThat(again.get(i)).as("unchanged, result " + i).containsExactly(before.get(i));
      change.getValue().accept(b);
      List<double[]> expected = results(freshCopy(b, dt), x, dy, dLogDet);
      assertThat(expected.get(0)).as(change.getKey() + ": the change moves the output").isNotEqualTo(before.get(0));
      List<double[]> got = results(b, x, dy, dLogDet);
      // Soft: a failure names every change whose results went stale, not only the first.
      for (int i = 0; i < expected.size(); i++) {
        soft.assertThat(got.get(i)).as(change.getKey() + ", result " + i).containsExactly(expected.get(i));
      }
    }
    soft.assertAll();
  }

  /**
   * Calls on unchanged parameters derive nothing again, and after a change the first call derives
   * everything once for the calls after it. P's gather indices, an argmax over perm's rows, are
   * made only when the layer derives: libnd4j's argmax calls count the rebuilds.
   */
  @ParameterizedTest
  @CsvSource({"FLOAT", "DOUBLE"})
  void unchangedParametersAreNotDerivedAgainAndAChangeOnlyOnce(DataType dt) {
    INDArray x = Numerics.normal(dt, 5, 3, CHANNELS, 2, 2);
    INDArray dy = Numerics.normal(dt, 6, 3, CHANNELS, 2, 2);
    INDArray dLogDet = Numerics.normal(dt, 7, 3);
    Invertible1x1Conv b = new Invertible1x1Conv(CHANNELS, dt, new Random(3));
    assertThat(OpCounts.calls("argmax", () -> results(b, x, dy, dLogDet))).as("the first round").isEqualTo(1);
    assertThat(OpCounts.calls("argmax", () -> results(b, x, dy, dLogDet))).as("unchanged").isZero();
    b.params().get("log_s").value().putScalar(70, 0.3);
    assertThat(OpCounts.calls("argmax", () -> results(b, x, dy, dLogDet))).as("after a change").isEqualTo(1);
  }

  /**
   * What a rebuild makes besides its kept arrays is given back at once. Outside a workspace (a
   * direct call, not a model's) its c x c temporaries (the two factors, U's diagonal, their float64
   * casts: 1-2 MiB each at 512 channels in float32) are freed by hand. In a block workspace, as
   * in a model, the temporaries are the workspace's and the solves' inverted diagonal blocks
   * (outside it, 8 of 64 x 64 float64 per factor at 512 channels, 256 KiB) are kept: a change
   * frees the old ones, and the copies each was read from (Tensors.doubles's, 512 KiB a rebuild
   * until 2026-12-07), so that each rebuild keeps no more. The first two runs, in which the
   * workspace learns its size, are not judged there.
   */
  @Test
  void aRebuildKeepsNothingButWhatItDerives() throws InterruptedException {
    assumeTrue(NativeHeap.usage() != null, "no glibc mallinfo2");
    int c = 512;
    Invertible1x1Conv b = new Invertible1x1Conv(c, DataType.FLOAT, new Random(3));
    INDArray x = Numerics.normal(DataType.FLOAT, 5, 1, c, 1, 1);
    INDArray logS = b.params().get("log_s").value();
    long square = (long) c * c * 4;
    b.forward(x);
    List<Long> outside = KeptBytes.of(5, run -> {
      logS.putScalar(0, 1e-3 * (run + 1));
      Flow f = b.forward(x);
      Tensors.free(f.out(), null);
      return null;
    });
    assertThat(KeptBytes.middle(outside)).as("bytes each rebuild and forward kept: %s", outside)
        .isLessThan(square / 4);
    List<Long> inWorkspace = KeptBytes.of(8, run -> {
      logS.putScalar(0, -1e-3 * (run + 1));
      return BlockWorkspace.run(() -> b.inverse(x), f -> null);
    });
    List<Long> judged = inWorkspace.subList(2, inWorkspace.size()).stream().sorted().toList();
    // About 140 KB stays (2026-12-07); one factor's inverses are 256 KiB.
    assertThat(judged.get(2)).as("bytes each rebuild and inverse in a workspace kept: %s", inWorkspace)
        .isLessThan(2L * 8 * 64 * 64 * 8 / 2);
  }
}
