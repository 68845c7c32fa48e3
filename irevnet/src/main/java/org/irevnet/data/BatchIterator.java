package org.irevnet.data;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded mini-batches of a {@link Dataset}, as an ND4J {@link DataSetIterator} (features
 * float32 [b, c, h, w], labels one-hot float32 [b, classes]) and as {@link #nextBatch()} with
 * int labels and the dataset indices.
 *
 * <p>Position: {@link State} {@code (epoch, batch)}. The order of epoch {@code e} is
 * {@link Batches#order}{@code (n, seed, e, shuffle)}; dequantisation noise and shifts of batch
 * {@code b} are drawn from a generator seeded by {@code (seed, e, b)}. So a batch depends only
 * on the dataset, the settings and its position: an iterator built with the same dataset and
 * settings and {@link #restore restored} to a saved {@link #state()} yields exactly the batches
 * the saved one would have yielded.
 *
 * <p>Epochs: {@link #hasNext()} is false at the end of an epoch; {@link #reset()} then moves to
 * the start of the next epoch (with its own shuffle). {@code reset()} at the start of an epoch
 * does nothing, so that callers that reset before they begin do not skip an epoch. Not
 * thread-safe; {@link #asyncSupported()} is false because an asynchronous prefetcher would read
 * ahead of the position that {@link #state()} reports.
 */
public final class BatchIterator implements DataSetIterator {
  private static final long serialVersionUID = 1L;

  /** A position: the next batch to be returned is batch {@code batch} of epoch {@code epoch}. */
  public record State(int epoch, int batch) {
    public State {
      if (epoch < 0 || batch < 0) {
        throw new IllegalArgumentException("epoch and batch must be >= 0, got " + epoch + ", "
            + batch);
      }
    }
  }

  /**
   * One batch: features [b, c, h, w], class indices, the indices of the images in the dataset,
   * and the position it was taken from.
   */
  public record Batch(INDArray features, int[] labels, int[] indices, int epoch, int batch) {}

  private final Dataset data;
  private final INDArray flat;
  private final int batchSize;
  private final long seed;
  private final boolean shuffle;
  private final boolean dropLast;
  private final boolean dequantize;
  private final Augment augment;
  private final int batchesPerEpoch;
  private int epoch;
  private int batch;
  private int[] order;
  private int orderEpoch = -1;
  private DataSetPreProcessor preProcessor;

  /**
   * DL4J's iterator interface is Serializable, but the images live in native memory: refuse,
   * rather than write an iterator that would fail on first use. Save {@link #state()} instead.
   */
  private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
    throw new java.io.NotSerializableException("BatchIterator: save its state() and restore() a new one");
  }

  private BatchIterator(Builder b) {
    this.data = b.data;
    this.batchSize = b.batchSize;
    this.seed = b.seed;
    this.shuffle = b.shuffle;
    this.dropLast = b.dropLast;
    this.dequantize = b.dequantize;
    this.augment = b.augment;
    this.batchesPerEpoch = Batches.count(data.size(), batchSize, dropLast);
    if (batchesPerEpoch == 0) {
      throw new IllegalArgumentException(data.name() + ": " + data.size() + " images give no"
          + " batch of " + batchSize + (dropLast ? " (dropLast)" : ""));
    }
    long per = (long) data.channels() * data.height() * data.width();
    this.flat = data.images().reshape('c', new long[] {data.size(), per});
  }

  public static Builder builder(Dataset data) {
    return new Builder(data);
  }

  /** Settings; defaults: batch size 64, seed 0, shuffled, last short batch kept, no noise, no
   * augmentation. */
  public static final class Builder {
    private final Dataset data;
    private int batchSize = 64;
    private long seed;
    private boolean shuffle = true;
    private boolean dropLast;
    private boolean dequantize;
    private Augment augment = Augment.NONE;

    private Builder(Dataset data) {
      this.data = Objects.requireNonNull(data, "data");
    }

    public Builder batchSize(int batchSize) {
      Batches.checkBatchSize(batchSize);
      this.batchSize = batchSize;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder shuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    /** Drop the last batch of an epoch if it is shorter than the batch size. */
    public Builder dropLast(boolean dropLast) {
      this.dropLast = dropLast;
      return this;
    }

    /** Add uniform dequantisation noise {@code U[0,1)/256} to every pixel of every batch. */
    public Builder dequantize(boolean dequantize) {
      this.dequantize = dequantize;
      return this;
    }

    public Builder augment(Augment augment) {
      this.augment = Objects.requireNonNull(augment, "augment");
      return this;
    }

    public BatchIterator build() {
      return new BatchIterator(this);
    }
  }

  public Dataset dataset() {
    return data;
  }

  public int batchesPerEpoch() {
    return batchesPerEpoch;
  }

  public int epoch() {
    return epoch;
  }

  /** The current position; pass it to {@link #restore} to continue from here later. */
  public State state() {
    return new State(epoch, batch);
  }

  /**
   * Where the next batch a training loop takes comes from: {@link #state()}, or past an epoch's
   * last batch the first of the next epoch (where {@link #reset()} moves).
   */
  public State nextPosition() {
    return hasNext() ? state() : new State(epoch + 1, 0);
  }

  /** Moves to a saved position; the next batch is batch {@code s.batch()} of {@code s.epoch()}. */
  public void restore(State s) {
    if (s.batch() > batchesPerEpoch) {
      throw new IllegalArgumentException("cannot restore batch " + s.batch() + ": an epoch of "
          + data.name() + " has " + batchesPerEpoch + " batches of " + batchSize);
    }
    epoch = s.epoch();
    batch = s.batch();
  }

  /** The order of the images in an epoch (a copy). */
  public int[] order(int e) {
    return Batches.order(data.size(), seed, e, shuffle);
  }

  @Override
  public boolean hasNext() {
    return batch < batchesPerEpoch;
  }

  /** The next batch of the current epoch. */
  public Batch nextBatch() {
    if (!hasNext()) {
      throw new NoSuchElementException("end of epoch " + epoch + " of " + data.name()
          + "; call reset() to start the next epoch");
    }
    if (orderEpoch != epoch || order == null) {
      order = Batches.order(data.size(), seed, epoch, shuffle);
      orderEpoch = epoch;
    }
    int[] idx = Batches.slice(order, batch, batchSize);
    INDArray rows = Nd4j.pullRows(flat, 1, idx, 'c');
    long[] shape = {idx.length, data.channels(), data.height(), data.width()};
    INDArray x;
    if (dequantize || augment.enabled()) {
      float[] v = rows.data().asFloat();
      SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, epoch, batch, Seeds.NOISE));
      if (augment.enabled()) {
        v = Preprocess.randomShift(v, idx.length, data.channels(), data.height(), data.width(),
            augment.maxShift(), rng);
      }
      if (dequantize) {
        Preprocess.dequantizeInPlace(v, rng);
      }
      x = Nd4j.create(v, shape, DataType.FLOAT);
    } else {
      x = rows.reshape('c', shape);
    }
    int[] labels = new int[idx.length];
    for (int k = 0; k < idx.length; k++) {
      labels[k] = data.labels()[idx[k]];
    }
    Batch out = new Batch(x, labels, idx, epoch, batch);
    batch++;
    return out;
  }

  @Override
  public DataSet next() {
    Batch b = nextBatch();
    DataSet ds = new DataSet(b.features(), Tensors.oneHot(b.labels(), data.numClasses(), DataType.FLOAT));
    if (preProcessor != null) {
      preProcessor.preProcess(ds);
    }
    return ds;
  }

  /** Only the configured batch size is supported (the position is counted in batches). */
  @Override
  public DataSet next(int num) {
    if (num != batchSize) {
      throw new UnsupportedOperationException("this iterator returns batches of " + batchSize
          + " (its position is counted in batches); next(" + num + ") is not supported");
    }
    return next();
  }

  @Override
  public int inputColumns() {
    return data.channels() * data.height() * data.width();
  }

  @Override
  public int totalOutcomes() {
    return data.numClasses();
  }

  @Override
  public boolean resetSupported() {
    return true;
  }

  @Override
  public boolean asyncSupported() {
    return false;
  }

  /** Moves to the start of the next epoch, unless already at the start of one. */
  @Override
  public void reset() {
    if (batch > 0) {
      epoch++;
      batch = 0;
    }
  }

  @Override
  public int batch() {
    return batchSize;
  }

  @Override
  public void setPreProcessor(DataSetPreProcessor preProcessor) {
    this.preProcessor = preProcessor;
  }

  @Override
  public DataSetPreProcessor getPreProcessor() {
    return preProcessor;
  }

  @Override
  public List<String> getLabels() {
    return data.classNames();
  }
}
