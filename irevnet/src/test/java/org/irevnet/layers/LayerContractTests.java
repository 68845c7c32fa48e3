package org.irevnet.layers;

import java.util.Random;
import org.irevnet.testing.Numerics;
import org.junit.jupiter.api.Nested;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Every layer type through the shared {@link BijectionContract}. */
class LayerContractTests {

  @Nested
  class SpaceToDepthContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) { return new SpaceToDepth(2); }
    protected long[] shape() { return new long[] {1, 2, 4, 4}; }
  }

  @Nested
  class InjectivePadContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) { return new InjectivePad(3); }
    protected long[] shape() { return new long[] {1, 2, 3, 3}; }
  }

  @Nested
  class ChannelReverseContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) { return new ChannelReverse(); }
    protected long[] shape() { return new long[] {1, 3, 3, 3}; }
  }

  @Nested
  class ActNormContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      ActNorm a = new ActNorm(3, dt);
      Random r = new Random(seed);
      a.logs().set(org.irevnet.nn.Init.uniform(dt, r, 0.5, 1, 3, 1, 1));
      a.bias().set(org.irevnet.nn.Init.uniform(dt, r, 0.5, 1, 3, 1, 1));
      return a;
    }
    protected long[] shape() { return new long[] {1, 3, 3, 3}; }
  }

  @Nested
  class AffineCouplingContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      return new AffineCoupling(4, 6, 3, dt, new Random(seed), 1.0);
    }
    protected long[] shape() { return new long[] {1, 4, 3, 3}; }
  }

  @Nested
  class AffineCoupling1x1Contract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      return new AffineCoupling(8, 5, 1, dt, new Random(seed), 1.0);
    }
    protected long[] shape() { return new long[] {1, 8, 2, 2}; }
  }

  @Nested
  class AdditiveCouplingContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      return new AdditiveCoupling(4, 6, 3, dt, new Random(seed), 1.0);
    }
    protected long[] shape() { return new long[] {1, 4, 3, 3}; }
  }

  @Nested
  class Invertible1x1ConvContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      Invertible1x1Conv c = new Invertible1x1Conv(4, dt, new Random(seed));
      // Move away from a pure rotation so the log-det is not zero.
      c.params().get("log_s").set(org.irevnet.nn.Init.uniform(dt, new Random(seed + 1), 0.4, 4));
      return c;
    }
    protected long[] shape() { return new long[] {1, 4, 2, 3}; }
  }

  @Nested
  class SequentialContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      Random r = new Random(seed);
      ActNorm a = new ActNorm(4, dt);
      a.logs().set(org.irevnet.nn.Init.uniform(dt, r, 0.5, 1, 4, 1, 1));
      return Sequential.of(new long[] {1, 1, 4, 4},
          new SpaceToDepth(2), a, new AffineCoupling(4, 4, 3, dt, r, 1.0),
          new Invertible1x1Conv(4, dt, r), new ChannelReverse(), new AdditiveCoupling(4, 4, 1, dt, r, 1.0));
    }
    protected long[] shape() { return new long[] {1, 1, 4, 4}; }
  }

  @Nested
  class InjectiveSequentialContract extends BijectionContract {
    protected Bijection create(DataType dt, long seed) {
      Random r = new Random(seed);
      return Sequential.of(new long[] {1, 1, 4, 4},
          new SpaceToDepth(2), new InjectivePad(2), new AdditiveCoupling(6, 4, 3, dt, r, 1.0));
    }
    protected long[] shape() { return new long[] {1, 1, 4, 4}; }
  }

}
