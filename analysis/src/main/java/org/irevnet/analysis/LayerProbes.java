package org.irevnet.analysis;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.models.Classifier;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-layer probes (DESIGN.md section 5; PAPERS.md 1.7, the i-RevNet paper's progressive linear
 * separation): at every stage output, features averaged over the spatial positions and
 * standardised with statistics of the training split; the test accuracy of a linear softmax
 * classifier ({@link MlpClassifier} without hidden layers, {@link #LINEAR_RECIPE}) and of an exact
 * 1-nearest-neighbour classifier (Euclidean). At the last stage, the PCA contraction curve: the
 * linear probe's accuracy on the projections onto the top-{@code d} principal components (of the
 * standardised training features) for {@code d = 1, 2, 4, ...} and the full dimension.
 */
public final class LayerProbes {
  /**
   * Softmax regression: 10 epochs of Adam, batch 500, learning rate 2e-2 with cosine decay, seed 0
   * (120 steps on 6,000 examples: 16 probes per run, and each step costs mostly per-op overhead).
   */
  public static final MlpClassifier.Recipe LINEAR_RECIPE = new MlpClassifier.Recipe(List.of(), 10, 500, 2e-2, 0, 0);

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
   * @param nearestNeighbourAccuracy test accuracy of 1-NN against the training features
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record Stage(int stage, String layer, List<Long> shape, long features, double linearAccuracy, double linearTrainAccuracy,
      double nearestNeighbourAccuracy) {}

  /**
   * One point of the PCA curve.
   *
   * @param components number {@code d} of principal components kept
   * @param explainedVariance fraction of the total variance of the standardised features they hold
   * @param linearAccuracy test accuracy of the linear probe on them
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record PcaPoint(int components, double explainedVariance, double linearAccuracy) {}

  /** All curves, with the probe recipe and the numbers of training and test examples. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Result(List<Stage> stages, List<PcaPoint> pca, MlpClassifier.Recipe recipe, int trainCount,
      int testCount, double seconds) {}

  /**
   * Probes every probed layer of the frozen {@code model} (an invertible model's stages, a DL4J
   * network's layers); features computed in batches in evaluation mode.
   */
  public static Result measure(Classifier model, Dataset train, Dataset test, MlpClassifier.Recipe recipe) {
    List<List<Long>> shapes = new ArrayList<>();
    for (INDArray s : model.layerOutputs(train.images().get(NDArrayIndex.interval(0, 1)).castTo(model.dataType()))) {
      List<Long> shape = new ArrayList<>();
      for (int i = 1; i < s.rank(); i++) shape.add(s.size(i));
      shapes.add(shape);
    }
    Result r = measure(Features.pooledStages(model, train.images()), train.labels(),
        Features.pooledStages(model, test.images()), test.labels(), model.numClasses(), shapes, recipe);
    List<Stage> named = new ArrayList<>();
    for (Stage s : r.stages()) {
      named.add(new Stage(s.stage(), model.layerNames().get(s.stage()), s.shape(), s.features(), s.linearAccuracy(),
          s.linearTrainAccuracy(), s.nearestNeighbourAccuracy()));
    }
    return new Result(named, r.pca(), r.recipe(), r.trainCount(), r.testCount(), r.seconds());
  }

  /**
   * Probes given per-stage features ({@code [n, d_s]} for the training and the test split).
   *
   * @param shapes the stages' output shapes, for the report (or null: {@code [d_s]})
   */
  public static Result measure(List<INDArray> trainFeatures, int[] yTrain, List<INDArray> testFeatures, int[] yTest,
      int classes, List<List<Long>> shapes, MlpClassifier.Recipe recipe) {
    if (trainFeatures.isEmpty() || trainFeatures.size() != testFeatures.size()) {
      throw new IllegalArgumentException("layer probes: need the same (non-zero) number of stages in both splits, got "
          + trainFeatures.size() + " and " + testFeatures.size());
    }
    long t0 = System.nanoTime();
    List<Stage> stages = new ArrayList<>();
    INDArray lastTrain = null, lastTest = null;
    for (int s = 0; s < trainFeatures.size(); s++) {
      Features.Standardizer st = Features.Standardizer.fit(trainFeatures.get(s));
      INDArray tr = st.apply(trainFeatures.get(s)), te = st.apply(testFeatures.get(s));
      MlpClassifier probe = MlpClassifier.train(tr, yTrain, classes, recipe);
      int[] nn = nearestNeighbour(tr, te);
      int[] nnLabels = new int[nn.length];
      for (int i = 0; i < nn.length; i++) nnLabels[i] = yTrain[nn[i]];
      long d = tr.size(1);
      stages.add(new Stage(s, null, shapes == null ? List.of(d) : shapes.get(s), d, probe.accuracy(te, yTest),
          probe.accuracy(tr, yTrain), Losses.accuracy(nnLabels, yTest)));
      lastTrain = tr;
      lastTest = te;
    }
    List<PcaPoint> pca = pcaCurve(lastTrain, yTrain, lastTest, yTest, classes, recipe);
    return new Result(stages, pca, recipe, yTrain.length, yTest.length, (System.nanoTime() - t0) / 1e9);
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
    INDArray ref = reference.castTo(DataType.DOUBLE);
    INDArray refNorms = Transforms.pow(ref, 2, true).sum(1).reshape(1, ref.size(0));
    INDArray refT = ref.transpose();
    int m = (int) query.size(0);
    int[] out = new int[m];
    for (int start = 0; start < m; start += NN_BLOCK) {
      int end = Math.min(m, start + NN_BLOCK);
      INDArray q = query.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).castTo(DataType.DOUBLE);
      // argmin_r |q - r|^2 = argmax_r (2 q.r - |r|^2): |q|^2 does not depend on r.
      int[] idx = q.mmul(refT).muli(2).subi(refNorms).argMax(1).toIntVector();
      System.arraycopy(idx, 0, out, start, idx.length);
    }
    return out;
  }

  /**
   * The PCA contraction curve: principal components of the (standardised) training features,
   * then the linear probe on the top-{@code d} projections for {@code d = 1, 2, 4, ...} and the
   * full dimension.
   */
  public static List<PcaPoint> pcaCurve(INDArray train, int[] yTrain, INDArray test, int[] yTest, int classes,
      MlpClassifier.Recipe recipe) {
    INDArray x = train.castTo(DataType.DOUBLE);
    INDArray mean = x.mean(true, 0);
    INDArray centred = x.subRowVector(mean);
    INDArray cov = centred.transpose().mmul(centred).divi(Math.max(1, x.size(0) - 1));
    INDArray vectors = cov.dup('f');
    // LAPACK syev: ascending eigenvalues, the matrix overwritten by the eigenvectors (columns).
    INDArray values = Eigen.symmetricGeneralizedEigenvalues(vectors, true).reshape(-1);
    long dim = values.length();
    double total = Math.max(values.sumNumber().doubleValue(), Double.MIN_VALUE);
    INDArray testCentred = test.castTo(DataType.DOUBLE).subRowVector(mean);
    List<PcaPoint> curve = new ArrayList<>();
    for (long d = 1; ; d = Math.min(d * 2, dim)) {
      INDArray top = vectors.get(NDArrayIndex.all(), NDArrayIndex.interval(dim - d, dim)).dup('c');
      // Projections, not whitened: at the full dimension this is a rotation of the stage's features.
      INDArray ptr = centred.mmul(top).castTo(DataType.FLOAT), pte = testCentred.mmul(top).castTo(DataType.FLOAT);
      MlpClassifier probe = MlpClassifier.train(ptr, yTrain, classes, recipe);
      double explained = values.get(NDArrayIndex.interval(dim - d, dim)).sumNumber().doubleValue() / total;
      curve.add(new PcaPoint((int) d, explained, probe.accuracy(pte, yTest)));
      if (d == dim) break;
    }
    return curve;
  }
}
