package org.irevnet.layers;

import org.irevnet.check.BlockCatalog;
import org.junit.jupiter.api.Nested;
import org.nd4j.linalg.api.buffer.DataType;

/** Every layer type of {@link BlockCatalog} through the shared {@link BijectionContract}. */
class LayerContractTests {

  /** Contract for one catalogue entry. */
  abstract static class CatalogContract extends BijectionContract {
    private final BlockCatalog.Spec spec;

    CatalogContract(String name) {
      this.spec = BlockCatalog.get(name);
    }

    @Override
    protected Bijection create(DataType dt, long seed) {
      return spec.create(dt, seed);
    }

    @Override
    protected long[] shape() {
      return spec.shape();
    }
  }

  @Nested
  class SpaceToDepthContract extends CatalogContract {
    SpaceToDepthContract() { super("SpaceToDepth"); }
  }

  @Nested
  class InjectivePadContract extends CatalogContract {
    InjectivePadContract() { super("InjectivePad"); }
  }

  @Nested
  class ChannelReverseContract extends CatalogContract {
    ChannelReverseContract() { super("ChannelReverse"); }
  }

  @Nested
  class ActNormContract extends CatalogContract {
    ActNormContract() { super("ActNorm"); }
  }

  @Nested
  class AffineCouplingContract extends CatalogContract {
    AffineCouplingContract() { super("AffineCoupling"); }
  }

  @Nested
  class AffineCouplingFloorContract extends CatalogContract {
    AffineCouplingFloorContract() { super("AffineCouplingFloor"); }
  }

  @Nested
  class AffineCoupling1x1Contract extends CatalogContract {
    AffineCoupling1x1Contract() { super("AffineCoupling1x1"); }
  }

  @Nested
  class AdditiveCouplingContract extends CatalogContract {
    AdditiveCouplingContract() { super("AdditiveCoupling"); }
  }

  @Nested
  class Invertible1x1ConvContract extends CatalogContract {
    Invertible1x1ConvContract() { super("Invertible1x1Conv"); }
  }

  @Nested
  class SequentialContract extends CatalogContract {
    SequentialContract() { super("Sequential"); }
  }

  @Nested
  class InjectiveSequentialContract extends CatalogContract {
    InjectiveSequentialContract() { super("InjectiveSequential"); }
  }
}
