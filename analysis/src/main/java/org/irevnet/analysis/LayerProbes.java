package org.irevnet.analysis;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.models.Classifier;
import org.irevnet.nn.Tensors;
import org.irevnet.stats.Proportions;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-layer probes (DESIGN.md section 5; PAPERS.md 1.7, the i-RevNet paper's progressive linear
 * separation): at every stage output, features averaged over the spatial positions and
 * standardised with statistics of the training split; the test accuracy of a linear softmax
 * classifier ({@link SoftmaxRegression}: L2-penalised, the penalty chosen on held-out training
 * examples, fitted to {@link SoftmaxRegression.Stopping#LAYER_PROBES}' gradient of 1e-4, near its
 * minimum but not at it: up to 0.3 points from the minimiser's accuracies) and of an exact
 * 1-nearest-neighbour classifier (Euclidean). At the last stage, the PCA contraction curve: the
 * linear probe's accuracy on the projections onto the top-{@code d} principal components (of the
 * standardised training features) for {@code d = 1, 2, 4, ...} and the full dimension.
 */
public final class LayerProbes {
  /**
   * How the linear probes were fitted, for the JSON: the solver, the penalties it may choose from
   * and the share of training examples held out to choose, its tolerance on the gradient and
   * iteration limit, and over all probes of a measurement (the held-out fits and the refits) the
   * most iterations any took, the largest final gradient and whether every one converged.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record LinearProbe(String solver, List<Double> penalties, double validationShare, long seed,
      double gradientTolerance, int maxIterations, int mostIterations, double largestGradient, boolean allConverged) {
    static LinearProbe of(long seed, List<SoftmaxRegression.Fit> fits, SoftmaxRegression.Stopping stopping) {
      List<Double> penalties = java.util.Arrays.stream(SoftmaxRegression.PENALTIES).boxed().toList();
      return new LinearProbe("L2-penalised softmax regression by L-BFGS in float64, penalty chosen on held-out"
          + " training examples", penalties, SoftmaxRegression.VALIDATION_SHARE, seed,
          stopping.gradientTolerance(), stopping.maxIterations(),
          fits.stream().mapToInt(SoftmaxRegression.Fit::iterations).max().orElse(0),
          fits.stream().mapToDouble(SoftmaxRegression.Fit::gradientMaxAbs).max().orElse(0),
          fits.stream().allMatch(SoftmaxRegression.Fit::converged));
    }
  }

  /** Test rows per block of the nearest-neighbour distance matrix. */
  static final int NN_BLOCK = 500;

  private LayerProbes() {}

  /**
   * One stage.
   *
   * @param stage 0-based stage (probed layer) index
   * @param layer the layer's name ({@code stage<i>} for invertible models), or null when unnamed
   * @param shape one sample's stage output {@code [c, h, w]}
   * @param features dimensions after spatial averaging ({@code c})
   * @param linearAccuracy test accuracy of the linear probe
   * @param linearTrainAccuracy its accuracy on the training features
   * @param linearL2 the penalty chosen for it on held-out training examples
   * @param nearestNeighbourAccuracy test accuracy of 1-NN against the training features
   * @param linearAccuracyCi95 the 95% Wilson interval of {@code linearAccuracy} over the test
   *     examples ({@code nearestNeighbourAccuracyCi95} likewise); null for a stage built without
   *     their count
   * @param linearL2Ties the penalties tried whose held-out accuracy equalled {@code linearL2}'s, passed
   *     over for the stronger ({@link SoftmaxRegression.Selected#tiedPenalties}): empty when the choice
   *     was no tie; null (absent) for a stage built without them
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record Stage(int stage, String layer, List<Long> shape, long features, double linearAccuracy, double linearTrainAccuracy,
      double linearL2, double nearestNeighbourAccuracy, Proportions.Interval linearAccuracyCi95,
      Proportions.Interval nearestNeighbourAccuracyCi95, List<Double> linearL2Ties) {

    public Stage(int stage, String layer, List<Long> shape, long features, double linearAccuracy,
        double linearTrainAccuracy, double linearL2, double nearestNeighbourAccuracy) {
      this(stage, layer, shape, features, linearAccuracy, linearTrainAccuracy, linearL2, nearestNeighbourAccuracy, null,
          null, null);
    }

    /** This stage with its accuracies' intervals over {@code testCount} test examples. */
    Stage withIntervals(int testCount) {
      return new Stage(stage, layer, shape, features, linearAccuracy, linearTrainAccuracy, linearL2,
          nearestNeighbourAccuracy, Proportions.wilson95OfShare(linearAccuracy, testCount),
          Proportions.wilson95OfShare(nearestNeighbourAccuracy, testCount), linearL2Ties);
    }
  }

  /**
   * One point of the PCA curve.
   *
   * @param components number {@code d} of principal components kept
   * @param explainedVariance fraction of the total variance of the standardised features they hold
   * @param linearAccuracy test accuracy of the linear probe on them
   * @param linearL2 the penalty chosen for that probe
   * @param linearAccuracyCi95 the 95% Wilson interval of {@code linearAccuracy} over the test
   *     examples; null (absent) for a point built without their count
   * @param linearL2Ties as {@link Stage#linearL2Ties}, for that probe; null (absent) for a point built
   *     without them
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record PcaPoint(int components, double explainedVariance, double linearAccuracy, double linearL2,
      Proportions.Interval linearAccuracyCi95, List<Double> linearL2Ties) {

    public PcaPoint(int components, double explainedVariance, double linearAccuracy, double linearL2) {
      this(components, explainedVariance, linearAccuracy, linearL2, null, null);
    }
  }

  /** All curves, with how the linear probes were fitted and the numbers of training and test examples. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Result(List<Stage> stages, List<PcaPoint> pca, LinearProbe linearProbe, int trainCount,
      int testCount, double seconds) {}

  /**
   * Probes every probed layer of the frozen {@code model} (an invertible model's stages, a DL4J
   * network's layers); features computed in batches in evaluation mode.
   */
  public static Result measure(Classifier model, Dataset train, Dataset test, long seed) {
    return measure(model, Features.pooledStages(model, train.images()), train, Features.pooledStages(model,
        test.images()), test, seed);
  }

  /**
   * {@link #measure(Classifier, Dataset, Dataset, long)} on features already computed: {@link
   * Features#pooledStages} of {@code train}'s and {@code test}'s images.
   */
  public static Result measure(Classifier model, List<INDArray> trainFeatures, Dataset train,
      List<INDArray> testFeatures, Dataset test, long seed) {
    List<List<Long>> shapes = new ArrayList<>();
    for (INDArray s : model.layerOutputs(train.images().get(NDArrayIndex.interval(0, 1)).castTo(model.dataType()))) {
      List<Long> shape = new ArrayList<>();
      for (int i = 1; i < s.rank(); i++) shape.add(s.size(i));
      shapes.add(shape);
    }
    Result r = measure(trainFeatures, train.labels(), testFeatures, test.labels(), model.numClasses(), shapes, seed);
    List<Stage> named = new ArrayList<>();
    for (Stage s : r.stages()) {
      named.add(new Stage(s.stage(), model.layerNames().get(s.stage()), s.shape(), s.features(), s.linearAccuracy(),
          s.linearTrainAccuracy(), s.linearL2(), s.nearestNeighbourAccuracy(), s.linearAccuracyCi95(),
          s.nearestNeighbourAccuracyCi95(), s.linearL2Ties()));
    }
    return new Result(named, r.pca(), r.linearProbe(), r.trainCount(), r.testCount(), r.seconds());
  }

  /**
   * Probes given per-stage features ({@code [n, d_s]} for the training and the test split).
   *
   * @param shapes the stages' output shapes, for the report (or null: {@code [d_s]})
   * @param seed draws the training examples held out to choose each linear probe's penalty
   */
  public static Result measure(List<INDArray> trainFeatures, int[] yTrain, List<INDArray> testFeatures, int[] yTest,
      int classes, List<List<Long>> shapes, long seed) {
    if (trainFeatures.isEmpty() || trainFeatures.size() != testFeatures.size()) {
      throw new IllegalArgumentException("layer probes: need the same (non-zero) number of stages in both splits, got "
          + trainFeatures.size() + " and " + testFeatures.size());
    }
    long t0 = System.nanoTime();
    List<SoftmaxRegression.Fit> fits = new ArrayList<>();
    List<Stage> stages = new ArrayList<>();
    INDArray lastTrain = null, lastTest = null;
    SoftmaxRegression.Selected last = null;
    for (int s = 0; s < trainFeatures.size(); s++) {
      Features.Standardizer st = Features.Standardizer.fit(trainFeatures.get(s));
      INDArray tr = st.apply(trainFeatures.get(s)), te = st.apply(testFeatures.get(s));
      last = fitted(tr, yTrain, classes, seed, fits);
      SoftmaxRegression probe = last.probe();
      int[] nn = nearestNeighbour(tr, te);
      int[] nnLabels = new int[nn.length];
      for (int i = 0; i < nn.length; i++) nnLabels[i] = yTrain[nn[i]];
      long d = tr.size(1);
      stages.add(new Stage(s, null, shapes == null ? List.of(d) : shapes.get(s), d, probe.accuracy(te, yTest),
          probe.accuracy(tr, yTrain), probe.fit().l2(), Losses.accuracy(nnLabels, yTest), null, null,
          last.tiedPenalties()).withIntervals(yTest.length));
      Tensors.freeAll(lastTrain, lastTest);
      lastTrain = tr;
      lastTest = te;
    }
    List<PcaPoint> pca = pcaCurve(lastTrain, yTrain, lastTest, yTest, classes, seed, last, fits);
    Tensors.freeAll(lastTrain, lastTest);
    return new Result(stages, pca, LinearProbe.of(seed, fits, SoftmaxRegression.Stopping.LAYER_PROBES), yTrain.length,
        yTest.length, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * For every row of {@code query}, the index of its nearest row of {@code reference} in
   * Euclidean distance (exact search in float64; ties go to the lowest index).
   */
  public static int[] nearestNeighbour(INDArray reference, INDArray query) {
    if (reference.size(1) != query.size(1) || reference.size(0) == 0) {
      throw new IllegalArgumentException("nearest neighbour: reference " + java.util.Arrays.toString(reference.shape())
          + " and query " + java.util.Arrays.toString(query.shape()) + " must be non-empty with equal widths");
    }
    INDArray cast = reference.castTo(DataType.DOUBLE), ref = Tensors.dense(cast);
    INDArray squares = Transforms.pow(ref, 2, true);
    INDArray refNorms = squares.sum(1).reshape(1, ref.size(0));
    Tensors.free(squares, null);
    int m = (int) query.size(0);
    int[] out = new int[m];
    for (int start = 0; start < m; start += NN_BLOCK) {
      int end = Math.min(m, start + NN_BLOCK);
      // Not query.get(interval): of a caller's view (every other row, a column range) it is empty
      // near the view's end, and the search failed on its second block.
      INDArray rows = Tensors.rows(query, start, end);
      INDArray q = rows.castTo(DataType.DOUBLE);
      // argmin_r |q - r|^2 = argmax_r (2 q.r - |r|^2): |q|^2 does not depend on r. Tensors.product
      // with the reference transposed by the call, not mmul of a transposed view: mmul copied the
      // view and made a second product, both left to the collector at every block (measure kept
      // 0.9-1.5 GB of 10,000 x 64 features' two stages).
      INDArray scores = Tensors.product(q, ref, false, true).muli(2).subi(refNorms);
      int[] idx = scores.argMax(1).toIntVector();
      System.arraycopy(idx, 0, out, start, idx.length);
      Tensors.free(scores, null);
      Tensors.free(q, rows);
    }
    Tensors.free(ref, cast);
    Tensors.free(cast, reference);
    return out;
  }

  /**
   * The PCA contraction curve: principal components of the (standardised) training features,
   * then the linear probe on the top-{@code d} projections for {@code d = 1, 2, 4, ...} and the
   * full dimension; each probe's fits (held-out and final) are added to {@code fits}.
   *
   * @param full the probe of {@code train} itself with the same {@code seed} and the penalties it
   *     tried, or null. It is the
   *     full dimension's: there the projections are the features rotated and shifted, which moves
   *     neither the held-out examples nor the penalty (the bias has none), so it would be refitted
   *     to the same accuracy at the cost of the largest fit.
   */
  public static List<PcaPoint> pcaCurve(INDArray train, int[] yTrain, INDArray test, int[] yTest, int classes,
      long seed, SoftmaxRegression.Selected full, List<SoftmaxRegression.Fit> fits) {
    // Every float64 copy and product is freed as the curve ends (each projection as its point
    // does), not left to the collector: at 6,000 x 1,024 features the copies are about 130 MB and
    // mmul's own column-major products (Tensors.product) 65 MB more; with its probes' row copies
    // (SoftmaxRegression.select) a curve kept 248 MB, 1 MB now.
    Features.Eigenbasis basis = Features.Eigenbasis.of(train, Math.max(1, train.size(0) - 1));
    INDArray mean = basis.mean(), centred = basis.centred(), vectors = basis.vectors(), values = basis.values();
    long dim = values.length();
    double total = Math.max(values.sumNumber().doubleValue(), Double.MIN_VALUE);
    INDArray testCast = test.castTo(DataType.DOUBLE), testCentred = testCast.sub(mean);
    Tensors.free(testCast, test);
    List<PcaPoint> curve = new ArrayList<>();
    for (long d = 1; ; d = Math.min(d * 2, dim)) {
      double explained = values.get(NDArrayIndex.interval(dim - d, dim)).sumNumber().doubleValue() / total;
      if (d == dim && full != null) {
        curve.add(pcaPoint((int) d, explained, full.probe().accuracy(test, yTest), full, yTest.length));
        break;
      }
      INDArray top = vectors.get(NDArrayIndex.all(), NDArrayIndex.interval(dim - d, dim)).dup('c');
      // Projections, not whitened: at the full dimension this is a rotation of the stage's features.
      INDArray ptr = Tensors.product(centred, top, false, false), pte = Tensors.product(testCentred, top, false, false);
      SoftmaxRegression.Selected probe = fitted(ptr, yTrain, classes, seed, fits);
      curve.add(pcaPoint((int) d, explained, probe.probe().accuracy(pte, yTest), probe, yTest.length));
      Tensors.freeAll(top, ptr, pte);
      if (d == dim) break;
    }
    Tensors.freeAll(centred, testCentred, vectors);
    return curve;
  }

  private static PcaPoint pcaPoint(int components, double explained, double accuracy, SoftmaxRegression.Selected probe,
      int testCount) {
    return new PcaPoint(components, explained, accuracy, probe.probe().fit().l2(),
        Proportions.wilson95OfShare(accuracy, testCount), probe.tiedPenalties());
  }

  /** The linear probe with its penalty chosen on held-out examples; every fit it took goes into {@code fits}. */
  static SoftmaxRegression.Selected fitted(INDArray x, int[] y, int classes, long seed,
      List<SoftmaxRegression.Fit> fits) {
    SoftmaxRegression.Selected s = SoftmaxRegression.select(x, y, classes, seed);
    fits.addAll(s.fits());
    return s;
  }
}
