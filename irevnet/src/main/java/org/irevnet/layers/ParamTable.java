package org.irevnet.layers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An ordered table of named parameters and buffers. Names follow PyTorch's {@code state_dict}
 * conventions ({@code layers.3.net.0.weight}), so exported weights can be loaded elsewhere.
 */
public final class ParamTable {
  private final Map<String, Param> entries = new LinkedHashMap<>();

  public static ParamTable empty() {
    return new ParamTable();
  }

  /** Adds a trainable parameter initialised to {@code value} and returns its holder. */
  public Param add(String name, INDArray value) {
    return put(name, new Param(value, true));
  }

  /** Adds a non-trainable buffer (saved in checkpoints, never optimised). */
  public Param addBuffer(String name, INDArray value) {
    return put(name, new Param(value, false));
  }

  /** Adds every entry of {@code child} under {@code prefix + "."}. */
  public ParamTable include(String prefix, ParamTable child) {
    child.entries.forEach((k, v) -> put(prefix.isEmpty() ? k : prefix + "." + k, v));
    return this;
  }

  private Param put(String name, Param p) {
    if (entries.putIfAbsent(name, p) != null) {
      throw new IllegalStateException("duplicate parameter name " + name);
    }
    return p;
  }

  public Map<String, Param> entries() {
    return Collections.unmodifiableMap(entries);
  }

  public Param get(String name) {
    Param p = entries.get(name);
    if (p == null) throw new IllegalArgumentException("no parameter named " + name);
    return p;
  }

  /** Number of trainable scalars. */
  public long count() {
    return entries.values().stream().filter(Param::trainable).mapToLong(p -> p.value().length()).sum();
  }

  public void zeroGrad() {
    for (Param p : entries.values()) if (p.trainable()) p.grad().assign(0);
  }


  /**
   * Moves every trainable parameter and its gradient into views of two flat row vectors, so an
   * optimiser updates all of them with one call. Returns {@code [values, grads]}. The previous
   * arrays become garbage (off-heap memory that ND4J frees when the Java collector runs).
   */
  public INDArray[] flatten(DataType dtype) {
    long n = count();
    INDArray values = Nd4j.create(dtype, 1, Math.max(n, 1));
    INDArray grads = Nd4j.create(dtype, 1, Math.max(n, 1));
    long offset = 0;
    for (Param p : entries.values()) {
      if (!p.trainable()) continue;
      long len = p.value().length();
      long[] shape = p.value().shape();
      INDArray vv = values.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1),
          org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + len)).reshape('c', shape);
      INDArray gv = grads.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1),
          org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + len)).reshape('c', shape);
      p.rebind(vv, gv);
      offset += len;
    }
    return new INDArray[] {values, grads};
  }

  /** Every entry's value, by name (a snapshot: the arrays are copies). */
  public Map<String, INDArray> state() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    entries.forEach((k, v) -> m.put(k, v.value().dup()));
    return m;
  }

  /**
   * Loads values by name. Every entry must be present with its shape; values are cast to each
   * entry's dtype.
   *
   * @throws IllegalArgumentException naming the first missing, extra or misshapen entry
   */
  public void load(Map<String, INDArray> state) {
    for (String k : state.keySet()) {
      if (!entries.containsKey(k)) throw new IllegalArgumentException("unexpected parameter " + k);
    }
    for (Map.Entry<String, Param> e : entries.entrySet()) {
      INDArray v = state.get(e.getKey());
      if (v == null) throw new IllegalArgumentException("missing parameter " + e.getKey());
      INDArray cur = e.getValue().value();
      if (!java.util.Arrays.equals(v.shape(), cur.shape())) {
        throw new IllegalArgumentException("parameter " + e.getKey() + " has shape "
            + java.util.Arrays.toString(v.shape()) + ", expected " + java.util.Arrays.toString(cur.shape()));
      }
      cur.assign(v.castTo(cur.dataType()));
    }
  }

  /** Copies values from another table with the same names and shapes. */
  public void copyFrom(ParamTable other) {
    for (Map.Entry<String, Param> e : entries.entrySet()) {
      e.getValue().set(other.get(e.getKey()).value().castTo(e.getValue().value().dataType()));
    }
  }
}
