package org.irevnet.analysis;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.irevnet.data.Batches;
import org.irevnet.layers.Param;
import org.irevnet.layers.ParamTable;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Init;
import org.irevnet.nn.Tensors;
import org.irevnet.train.AdamOptimizer;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A probe classifier on fixed feature vectors: fully connected ReLU layers ({@link
 * Recipe#hidden()}, none for softmax regression) and a linear layer to the class logits, trained
 * with softmax cross-entropy, Adam (cosine decay of the learning rate to zero) and seeded
 * initialisation and batch order. Plain ND4J in float32; the same recipe, data and thread count
 * give the same classifier.
 */
public final class MlpClassifier {
  /**
   * How a probe is trained.
   *
   * @param hidden widths of the hidden ReLU layers (empty: softmax regression)
   * @param epochs passes over the training set
   * @param batch examples per Adam step
   * @param learningRate initial Adam learning rate, decayed to zero by a cosine over all steps
   * @param weightDecay decoupled (AdamW) weight decay
   * @param seed initial weights and batch order
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Recipe(List<Integer> hidden, int epochs, int batch, double learningRate, double weightDecay,
      long seed) {
    public Recipe {
      hidden = List.copyOf(hidden);
      if (epochs < 1 || batch < 1 || !(learningRate > 0) || !(weightDecay >= 0)) {
        throw new IllegalArgumentException("probe recipe: need epochs >= 1, batch >= 1, learning rate > 0 and"
            + " weight decay >= 0, got " + epochs + ", " + batch + ", " + learningRate + ", " + weightDecay);
      }
      if (learningRate * weightDecay >= 1) {
        throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "probe recipe: weight decay must be below"
            + " 1 / learning rate = %.3f (each step scales the weights by 1 - learning rate * weight decay), got %.3f",
            1 / learningRate, weightDecay));
      }
      for (int h : hidden) if (h < 1) throw new IllegalArgumentException("probe recipe: hidden width " + h);
    }

    /** The same recipe with another seed. */
    public Recipe withSeed(long s) {
      return new Recipe(hidden, epochs, batch, learningRate, weightDecay, s);
    }

    /** The same recipe with another number of epochs. */
    public Recipe withEpochs(int e) {
      return new Recipe(hidden, e, batch, learningRate, weightDecay, seed);
    }

    /** The same recipe with another weight decay. */
    public Recipe withWeightDecay(double wd) {
      return new Recipe(hidden, epochs, batch, learningRate, wd, seed);
    }
  }

  private final List<Param> weights = new ArrayList<>();
  private final List<Param> biases = new ArrayList<>();
  private final ParamTable params = ParamTable.empty();

  private MlpClassifier(int in, List<Integer> hidden, int classes, Random rng) {
    int prev = in;
    List<Integer> widths = new ArrayList<>(hidden);
    widths.add(classes);
    for (int i = 0; i < widths.size(); i++) {
      int out = widths.get(i);
      boolean last = i == widths.size() - 1;
      // He-uniform for ReLU layers; PyTorch's default U(+-1/sqrt(fan_in)) for the output layer.
      double bound = last ? 1 / Math.sqrt(prev) : Math.sqrt(6.0 / prev);
      weights.add(params.add(i + ".weight", Init.uniform(DataType.FLOAT, rng, bound, prev, out)));
      biases.add(params.add(i + ".bias", Nd4j.zeros(DataType.FLOAT, 1, out)));
      prev = out;
    }
  }

  /**
   * Trains a fresh classifier.
   *
   * @param x features {@code [n, d]} (standardise them first)
   * @param labels class of each row, in {@code [0, classes)}
   */
  public static MlpClassifier train(INDArray x, int[] labels, int classes, Recipe recipe) {
    if (x.rank() != 2 || x.size(0) != labels.length || labels.length == 0) {
      throw new IllegalArgumentException("probe: need [n, d] features with n = " + labels.length + " labels, got "
          + java.util.Arrays.toString(x.shape()));
    }
    // The rows are gathered from x each epoch; a copy is made only where x is not a float32
    // matrix of its own (a copy beside x was 232 MiB for the full set's nuisance).
    INDArray xs = x.dataType() == DataType.FLOAT && !x.isView() && x.ordering() == 'c' ? x : x.castTo(DataType.FLOAT).dup('c');
    MlpClassifier m = new MlpClassifier((int) xs.size(1), recipe.hidden(), classes, new Random(recipe.seed()));
    AdamOptimizer adam = new AdamOptimizer(m.params, recipe.learningRate());
    adam.setWeightDecay(recipe.weightDecay());
    int n = labels.length;
    long total = (long) recipe.epochs() * Batches.count(n, recipe.batch(), false), step = 0;
    INDArray targets = Tensors.oneHot(labels, classes, DataType.FLOAT);
    // One gather per epoch into the same two buffers; the batches are then views (a gather per
    // step costs more than the step). Each step's temporaries live in a reused workspace: outside
    // one, ND4J frees them only when the Java collector runs, which this loop's few small Java
    // objects hardly ever trigger (a nuisance probe on 60,000 images grew past 20 GB that way).
    INDArray xe = Nd4j.createUninitialized(DataType.FLOAT, xs.shape()), ye = Nd4j.createUninitialized(DataType.FLOAT, targets.shape());
    for (int epoch = 0; epoch < recipe.epochs(); epoch++) {
      int[] order = Batches.order(n, recipe.seed(), epoch, true);
      Nd4j.pullRows(xs, xe, 1, order);
      Nd4j.pullRows(targets, ye, 1, order);
      for (int start = 0; start < n; start += recipe.batch()) {
        final int from = start, to = Math.min(n, start + recipe.batch());
        adam.setLearningRate(recipe.learningRate() * 0.5 * (1 + Math.cos(Math.PI * step / total)));
        BlockWorkspace.run(() -> {
          m.step(xe.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()),
              ye.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()));
          return null;
        }, r -> r);
        adam.step();
        step++;
      }
    }
    Tensors.freeAll(xe, ye, targets);
    Tensors.free(xs, x);
    return m;
  }

  /** The logits of {@code x}; the inputs of every layer are appended to {@code acts} when given. */
  private INDArray forward(INDArray x, List<INDArray> acts) {
    INDArray h = x;
    for (int i = 0; i < weights.size(); i++) {
      if (acts != null) acts.add(h);
      h = h.mmul(weights.get(i).value()).addi(biases.get(i).value());
      if (i < weights.size() - 1) h = Transforms.relu(h, false);
    }
    return h;
  }

  /** One forward and backward pass; accumulates the gradients of the mean cross-entropy. */
  private void step(INDArray x, INDArray targets) {
    List<INDArray> acts = new ArrayList<>();
    INDArray h = forward(x, acts);
    // d(mean cross-entropy)/d logits = (softmax - one-hot) / n. (Losses.softmaxCrossEntropy also
    // computes the loss value, a synchronising reduction per step that a probe does not need.)
    INDArray g = Transforms.softmax(h, false).subi(targets).divi(x.size(0));
    for (int i = weights.size() - 1; i >= 0; i--) {
      INDArray a = acts.get(i);
      weights.get(i).grad().addi(a.transpose().mmul(g));
      biases.get(i).grad().addi(g.sum(true, 0));
      if (i > 0) g = g.mmul(weights.get(i).value().transpose()).muli(Transforms.step(a));
    }
  }

  /** Class logits {@code [n, classes]} (float32), in batches. */
  public INDArray logits(INDArray x) {
    long n = x.size(0);
    INDArray out = Nd4j.create(DataType.FLOAT, n, biases.get(biases.size() - 1).value().size(1));
    for (long start = 0; start < n; start += Features.BATCH * 4L) {
      long end = Math.min(n, start + Features.BATCH * 4L);
      final long from = start, to = end;
      // Tensors.rows, not get(interval), which of a caller's view is empty near its end; a dense
      // copy of a stride-0 (broadcast) x, which ND4J's mmul reads as if it were dense.
      BlockWorkspace.run(() -> forward(Tensors.dense(Tensors.rows(x, from, to).castTo(DataType.FLOAT)), null),
          h -> out.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).assign(h));
    }
    return out;
  }

  /** The fraction of rows classified as their label. */
  public double accuracy(INDArray x, int[] labels) {
    return Losses.accuracy(logits(x), labels);
  }
}
