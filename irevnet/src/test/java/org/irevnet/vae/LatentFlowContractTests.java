package org.irevnet.vae;

import java.util.List;
import org.irevnet.check.Numerics;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.BijectionContract;
import org.junit.jupiter.api.Nested;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Every posterior flow of the VAE through the shared {@link BijectionContract}: round trips
 * through the numerical inverses, log-dets (Sylvester's identity, planar's closed form) against
 * brute-force Jacobians, and SameDiff's gradients against finite differences. Latents of
 * dimension 4 are shaped {@code [batch, 4, 1, 1]}; the raw parameters are unit-scale normal,
 * far from the identity map.
 */
class LatentFlowContractTests {
  static final int D = 4;

  abstract static class FlowContract extends BijectionContract {
    abstract LatentFlow flow();

    @Override
    protected Bijection create(DataType dt, long seed) {
      LatentFlow f = flow();
      return new FlowBijection(f, Numerics.normal(dt, seed, 1, f.paramCount()));
    }

    @Override
    protected long[] shape() {
      return new long[] {2, D, 1, 1};
    }
  }

  @Nested
  class PlanarContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return new FlowStack(D, List.of(new PlanarFlow(D), new PlanarFlow(D)));
    }
  }

  @Nested
  class HouseholderContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return new HouseholderFlow(D, 3);
    }
  }

  @Nested
  class SylvesterOrthogonalContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return SylvesterFlow.orthogonal(D, 3);
    }
  }

  @Nested
  class SylvesterOrthogonalFullContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return SylvesterFlow.orthogonal(D, D);
    }
  }

  @Nested
  class SylvesterHouseholderContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return SylvesterFlow.householder(D, 2);
    }
  }

  @Nested
  class SylvesterTriangularContract extends FlowContract {
    @Override
    LatentFlow flow() {
      return Flows.create("sylvester-triangular", D, 2, 0, 0);
    }
  }
}
