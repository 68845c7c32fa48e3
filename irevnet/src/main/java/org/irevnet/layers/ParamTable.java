package org.irevnet.layers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.nn.Tensors;
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
   * arrays' native memory is freed at once ({@link Param}), so the model never holds its
   * parameters twice.
   */
  public INDArray[] flatten(DataType dtype) {
    Map<Param, Long> offset = offsets();
    long n = count();
    INDArray values = Nd4j.create(dtype, 1, Math.max(n, 1));
    INDArray grads = Nd4j.create(dtype, 1, Math.max(n, 1));
    bind(values, offset, grads, offset);
    return new INDArray[] {values, grads};
  }

  /** Each trainable parameter's offset in a flat buffer of all of them, in table order. */
  private Map<Param, Long> offsets() {
    Map<Param, Long> offset = new java.util.IdentityHashMap<>();
    long n = 0;
    for (Param p : entries.values()) {
      if (!p.trainable()) continue;
      offset.put(p, n);
      n += p.value().length();
    }
    return offset;
  }

  /** Rebinds every trainable parameter to views of {@code values} and {@code grads} at the given offsets. */
  private void bind(INDArray values, Map<Param, Long> valueAt, INDArray grads, Map<Param, Long> gradAt) {
    for (Param p : entries.values()) {
      if (!p.trainable()) continue;
      long len = p.value().length();
      long[] shape = p.value().shape();
      p.rebind(Tensors.rowSlice(values, valueAt.get(p), len).reshape('c', shape),
          Tensors.rowSlice(grads, gradAt.get(p), len).reshape('c', shape));
    }
  }

  /**
   * The flat layout of an optimiser that updates one group of parameters at a time: values in one
   * flat row vector as in {@link #flatten}, but the gradients of all groups share one scratch row
   * vector the size of the largest group, so no gradient of the whole model exists at once.
   *
   * @param values all trainable values, in table order
   * @param scratch the shared gradient buffer; group {@code g}'s gradients are its first {@code
   *     range[1]} entries while that group is being updated
   * @param ranges per group (by identity): {@code {offset in values, length}}
   */
  public record GroupedLayout(INDArray values, INDArray scratch, Map<ParamTable, long[]> ranges) {}

  /**
   * Binds every trainable parameter to a {@link GroupedLayout}. {@code groups} must cover the
   * trainable parameters of this table exactly once, each group's parameters contiguous and in
   * table order (as a model's blocks are).
   *
   * @throws IllegalArgumentException if they do not
   */
  public GroupedLayout flattenGrouped(DataType dtype, java.util.List<ParamTable> groups) {
    Map<Param, Long> offset = offsets();
    long n = count();
    Map<ParamTable, long[]> ranges = new java.util.IdentityHashMap<>();
    Map<Param, Long> inGroup = new java.util.IdentityHashMap<>();
    long covered = 0, largest = 1;
    for (ParamTable g : groups) {
      long start = -1, len = 0;
      for (Param p : g.entries.values()) {
        if (!p.trainable()) continue;
        Long at = offset.get(p);
        if (at == null) throw new IllegalArgumentException("a group holds a parameter this table does not");
        if (inGroup.containsKey(p)) throw new IllegalArgumentException("a parameter is in two groups");
        if (start < 0) start = at;
        if (at != start + len) throw new IllegalArgumentException("a group's parameters are not contiguous in the table");
        inGroup.put(p, len);
        len += p.value().length();
      }
      if (len == 0) continue;
      ranges.put(g, new long[] {start, len});
      covered += len;
      largest = Math.max(largest, len);
    }
    if (covered != n) throw new IllegalArgumentException("the groups cover " + covered + " of " + n + " parameters");
    INDArray values = Nd4j.create(dtype, 1, Math.max(n, 1));
    INDArray scratch = Nd4j.create(dtype, 1, largest);
    bind(values, offset, scratch, inGroup);
    // Rebinding copied each old gradient into the shared scratch, where the groups overlap.
    scratch.assign(0);
    return new GroupedLayout(values, scratch, ranges);
  }

  /** Every entry's value, by name (a snapshot: the arrays are copies). */
  public Map<String, INDArray> state() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    entries.forEach((k, v) -> m.put(k, v.value().dup()));
    return m;
  }

  /**
   * Loads values by name. Every entry must be present with its shape and finite in the entry's
   * dtype ({@link #finiteAs}); values are cast to it. Nothing is loaded unless everything fits.
   *
   * @throws IllegalArgumentException naming the first missing, extra, misshapen or non-finite entry
   */
  public void load(Map<String, INDArray> state) {
    // Every check before the first write: a misshapen entry late in the table left the entries
    // before it loaded, a model half of one checkpoint and half of its own weights.
    Map<String, INDArray> cast = checked(state, ParamTable::finiteAs);
    for (Map.Entry<String, Param> e : entries.entrySet()) e.getValue().value().assign(cast.get(e.getKey()));
  }

  /** A check of one value for an entry of type {@code into}, returning what to assign. */
  private interface EntryCheck {
    INDArray apply(String name, INDArray value, DataType into);
  }

  /**
   * Refuses an entry of {@code values} this table does not have, then entry by entry in table
   * order a missing or misshapen one and what {@code check} refuses; {@code check}'s results by name.
   */
  private Map<String, INDArray> checked(Map<String, INDArray> values, EntryCheck check) {
    for (String k : values.keySet()) {
      if (!entries.containsKey(k)) throw new IllegalArgumentException("unexpected parameter " + k);
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, Param> e : entries.entrySet()) {
      INDArray v = values.get(e.getKey());
      if (v == null) throw new IllegalArgumentException("missing parameter " + e.getKey());
      INDArray cur = e.getValue().value();
      if (!java.util.Arrays.equals(v.shape(), cur.shape())) {
        throw new IllegalArgumentException("parameter " + e.getKey() + " has shape "
            + java.util.Arrays.toString(v.shape()) + ", expected " + java.util.Arrays.toString(cur.shape()));
      }
      out.put(e.getKey(), check.apply(e.getKey(), v, cur.dataType()));
    }
    return out;
  }

  /**
   * {@code value} of the parameter {@code name} cast to {@code target}, refused when a
   * floating-point value is not finite as {@code target}: NaN or infinite already, or beyond
   * {@code target}'s range (1e300 into float32), which the cast would make infinite without a word.
   * Every analysis of such a model is NaN.
   *
   * @throws IllegalArgumentException naming the parameter, how many values and why
   */
  public static INDArray finiteAs(String name, INDArray value, DataType target) {
    INDArray cast = value.castTo(target);
    if (!value.dataType().isFPType()) return cast;
    checkFinite(name, value);
    long overflow = value.dataType() == target ? 0 : Tensors.nonFinite(cast);
    if (overflow > 0) {
      // amaxNumber is NaN-blind on purpose: the values are finite here (checked above).
      throw new IllegalArgumentException("parameter " + name + " has " + overflow + " value(s) beyond the range of "
          + target + " (largest magnitude " + value.amaxNumber().doubleValue() + "), infinite as " + target);
    }
    return cast;
  }

  private static void checkFinite(String name, INDArray value) {
    if (!value.dataType().isFPType()) return;
    long bad = Tensors.nonFinite(value);
    if (bad > 0) {
      throw new IllegalArgumentException("parameter " + name + " has " + bad + " non-finite value(s) (NaN or"
          + " infinite): a model with them computes NaN");
    }
  }

  /**
   * Copies values from another table with the same names and shapes, cast to this table's types,
   * as {@link #load}: an entry only the source has is refused, not dropped (it would be a weight of
   * another architecture). Each value is cast into its place: a cast of the whole table first, as
   * {@link #load} makes, held the weights twice (a float64 copy of a model: 2 x 28 MiB for
   * fi-revnet-s).
   *
   * @throws IllegalArgumentException naming the first missing, extra, misshapen or non-finite
   *     entry, before any is copied
   */
  public void copyFrom(ParamTable other) {
    Map<String, INDArray> values = new LinkedHashMap<>();
    other.entries.forEach((k, v) -> values.put(k, v.value()));
    checked(values, (name, v, into) -> {
      requireFiniteAs(name, v, into);
      return v;
    });
    for (Map.Entry<String, Param> e : entries.entrySet()) e.getValue().value().assign(values.get(e.getKey()));
  }

  /**
   * {@link #finiteAs}'s refusal without keeping the cast: a value finite in a type at least as wide
   * stays finite in {@code target}, so only a narrowing cast is made (and freed at once).
   */
  private static void requireFiniteAs(String name, INDArray value, DataType target) {
    boolean narrows = value.dataType().isFPType() && target.width() < value.dataType().width();
    if (!narrows) {
      checkFinite(name, value);
      return;
    }
    INDArray cast = finiteAs(name, value, target);
    if (cast != value && cast.closeable()) cast.close();
  }
}
