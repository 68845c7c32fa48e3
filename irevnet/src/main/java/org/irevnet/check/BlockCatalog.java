package org.irevnet.check;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.irevnet.layers.ActNorm;
import org.irevnet.layers.AdditiveCoupling;
import org.irevnet.layers.AffineCoupling;
import org.irevnet.layers.Bijection;
import org.irevnet.layers.ChannelReverse;
import org.irevnet.layers.InjectivePad;
import org.irevnet.layers.Invertible1x1Conv;
import org.irevnet.layers.Sequential;
import org.irevnet.layers.SpaceToDepth;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * One tiny, seeded instance of every layer type, with non-trivial parameters (non-zero last
 * convolutions, ActNorm away from the identity) so that every path of every block is exercised.
 * Used by the contract tests and by {@code selftest}.
 */
public final class BlockCatalog {
  private BlockCatalog() {}

  /** A block factory and the tiny input shape {@code [batch, c, h, w]} it is checked on. */
  public record Spec(String name, BiFunction<DataType, Long, Bijection> factory, long[] shape) {
    public Bijection create(DataType dt, long seed) {
      return factory.apply(dt, seed);
    }
  }

  private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

  private static void add(String name, BiFunction<DataType, Long, Bijection> f, long... shape) {
    SPECS.put(name, new Spec(name, f, shape));
  }

  private static ActNorm actNorm(int c, DataType dt, Random r) {
    ActNorm a = new ActNorm(c, dt);
    a.logs().set(Init.uniform(dt, r, 0.5, 1, c, 1, 1));
    a.bias().set(Init.uniform(dt, r, 0.5, 1, c, 1, 1));
    return a;
  }

  static {
    add("SpaceToDepth", (dt, s) -> new SpaceToDepth(2), 1, 2, 4, 4);
    add("InjectivePad", (dt, s) -> new InjectivePad(3), 1, 2, 3, 3);
    add("ChannelReverse", (dt, s) -> new ChannelReverse(), 1, 3, 3, 3);
    add("ActNorm", (dt, s) -> actNorm(3, dt, new Random(s)), 1, 3, 3, 3);
    add("AffineCoupling", (dt, s) -> new AffineCoupling(4, 6, 3, dt, new Random(s), 1.0), 1, 4, 3, 3);
    add("AffineCouplingFloor", (dt, s) -> new AffineCoupling(4, 6, 3, 0.05, dt, new Random(s), 1.0), 1, 4, 3, 3);
    add("AffineCoupling1x1", (dt, s) -> new AffineCoupling(8, 5, 1, dt, new Random(s), 1.0), 1, 8, 2, 2);
    add("AdditiveCoupling", (dt, s) -> new AdditiveCoupling(4, 6, 3, dt, new Random(s), 1.0), 1, 4, 3, 3);
    add("Invertible1x1Conv", (dt, s) -> {
      Invertible1x1Conv c = new Invertible1x1Conv(4, dt, new Random(s));
      // Away from a pure rotation, so the log-det is not zero.
      c.params().get("log_s").set(Init.uniform(dt, new Random(s + 1), 0.4, 4));
      return c;
    }, 1, 4, 2, 3);
    add("Sequential", (dt, s) -> {
      Random r = new Random(s);
      return Sequential.of(new long[] {1, 1, 4, 4}, new SpaceToDepth(2), actNorm(4, dt, r),
          new AffineCoupling(4, 4, 3, dt, r, 1.0), new Invertible1x1Conv(4, dt, r), new ChannelReverse(),
          new AdditiveCoupling(4, 4, 1, dt, r, 1.0));
    }, 1, 1, 4, 4);
    add("InjectiveSequential", (dt, s) -> {
      Random r = new Random(s);
      return Sequential.of(new long[] {1, 1, 4, 4}, new SpaceToDepth(2), new InjectivePad(2),
          new AdditiveCoupling(6, 4, 3, dt, r, 1.0));
    }, 1, 1, 4, 4);
  }

  public static Map<String, Spec> all() {
    return java.util.Collections.unmodifiableMap(SPECS);
  }

  public static Spec get(String name) {
    Spec s = SPECS.get(name);
    if (s == null) throw new IllegalArgumentException("no block named " + name + " in " + SPECS.keySet());
    return s;
  }
}
