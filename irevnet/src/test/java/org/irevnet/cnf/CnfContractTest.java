package org.irevnet.cnf;

import org.irevnet.layers.Bijection;
import org.irevnet.layers.BijectionContract;
import org.nd4j.linalg.api.buffer.DataType;

/** The continuous flow through the shared {@link BijectionContract}, with a tight adaptive solver. */
class CnfContractTest extends BijectionContract {

  @Override
  protected Bijection create(DataType dt, long seed) {
    return new Cnf(new MlpDynamics(2, 8, dt, seed, 1.0), new DormandPrince(1e-13, 1e-13), 1.0);
  }

  @Override
  protected long[] shape() {
    return new long[] {1, 2, 1, 1};
  }

  @Override
  protected boolean computesInFloat64() {
    return true;
  }
}
