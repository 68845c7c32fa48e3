package org.irevnet.models;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.deeplearning4j.exception.DL4JException;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.LossLayer;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.layers.convolution.CnnLossLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A DL4J network ({@link ComputationGraph}; a {@code MultiLayerNetwork} is converted to one) as a
 * {@link Classifier}: the non-invertible baselines and a user's own model zip saved by {@link
 * ModelSerializer}.
 *
 * <p>The graph is walked vertex by vertex in topological order with DL4J's own {@code doForward}
 * and {@code doBackward} (evaluation mode, in a workspace of its own), so any layer's output and the input
 * gradient of a loss of it come from DL4J's layer code. Each vertex gets copies of its inputs:
 * DL4J's {@code ActivationLayer} works in place in evaluation mode, which makes {@code
 * ComputationGraph.feedForward} return the activated values for a vertex that feeds one. BatchNorm
 * is differentiated here (its own backward is the training-mode one). The output layer is too:
 * its loss-bound backward needs labels, so the logits are taken before its activation ({@code
 * OutputLayer}: {@code x W + b}; {@code LossLayer}, {@code CnnLossLayer}: its input) and
 * differentiated here. For a softmax output, softmax(logits) is the network's output.
 *
 * <p>Probed layers default to every point after a non-linearity or a pooling (layers with a
 * non-identity activation, activation layers, pooling layers), the output layer excepted: the
 * places where a representation is complete. Backward passes overwrite the network's parameter
 * gradient buffer (never its parameters): do not analyse a network while an optimiser uses it.
 */
public final class Dl4jClassifier implements Classifier {
  private static final String PASS_WORKSPACE = "irevnet-dl4j-pass";
  /**
   * DL4J's BatchNormalization ends each forward pass (without a helper, as on CPU) by detaching x - mean
   * and (x - mean) / std into these fields for its training backward, which is never run here ({@link
   * #batchNormBackward}): two copies the size of its input, outside any workspace, held until its next
   * pass and freed by the collector after it. Empty where the fields are not found (another DL4J).
   */
  private static final List<Field> BATCH_NORM_COPIES = batchNormCopyFields("xMu", "xHat");
  private final ComputationGraph net;
  private final String name;
  private final long[] chw;
  private final boolean flatInput;
  private final GraphVertex[] vertices;
  private final int[] order;
  private final int outputVertex;
  private final List<String> layers;
  private final int[] layerVertices;
  private final int numClasses;

  private Dl4jClassifier(ComputationGraph net, String name, long[] chw, List<String> probed) {
    if (net.getNumInputArrays() != 1 || net.getNumOutputArrays() != 1) {
      throw new IllegalArgumentException(name + ": only networks with one input and one output are supported, this one has "
          + net.getNumInputArrays() + " and " + net.getNumOutputArrays());
    }
    this.net = net;
    this.name = name;
    this.chw = chw.clone();
    this.vertices = net.getVertices();
    this.order = net.topologicalSortOrder();
    this.outputVertex = net.getVertex(net.getConfiguration().getNetworkOutputs().get(0)).getVertexIndex();
    Layer out = vertices[outputVertex].getLayer();
    if (!(out instanceof OutputLayer || out instanceof LossLayer || out instanceof CnnLossLayer)) {
      throw new IllegalArgumentException(name + ": the output vertex '" + vertices[outputVertex].getVertexName()
          + "' must be an OutputLayer, LossLayer or CnnLossLayer, got " + (out == null ? "no layer" : out.getClass().getSimpleName()));
    }
    this.flatInput = takesFlatInput();
    net.initGradientsView();
    this.layers = probed != null ? List.copyOf(probed) : defaultLayers();
    this.layerVertices = new int[layers.size()];
    List<String> hidden = hiddenVertexNames();
    for (int i = 0; i < layers.size(); i++) {
      int at = hidden.indexOf(layers.get(i));
      if (at < 0) {
        throw new IllegalArgumentException(name + ": no hidden layer or vertex '" + layers.get(i) + "'; its layers are "
            + hidden);
      }
      layerVertices[i] = hiddenVertices().get(at);
      // Probed layers are stages in depth order: the comparison puts layer i of n at relative depth
      // (i + 1) / n, and --layer's index counts in them. Given twice or out of order, "dense,conv1"
      // was plotted as conv1 deeper than dense.
      if (i > 0 && position(layerVertices[i]) <= position(layerVertices[i - 1])) {
        throw new IllegalArgumentException(name + ": probed layers must be distinct and in the network's order, got '"
            + layers.get(i - 1) + "' before '" + layers.get(i) + "'; its layers in order are " + hidden);
      }
    }
    try {
      this.numClasses = (int) logits(Nd4j.zeros(dataType(), inputShape(1))).size(1);
    } catch (DL4JException | IllegalStateException e) {
      // DL4J says which layer refused the shape, in several lines; one names the problem. A
      // preprocessor (conv to dense) refuses a wrong height or width with an IllegalStateException.
      String channels = channelMismatch(chw[0]);
      throw new IllegalArgumentException(name + ": does not take images of shape " + Arrays.toString(chw)
          + " (" + firstLine(e) + "); " + (channels != null ? channels
          : "the images are given as the data stores them, without the zero padding train adds (a baseline"
          + " trained here takes " + Baselines.SIZE + "x" + Baselines.SIZE + ")"), e);
    }
  }

  /**
   * @param chw the input shape {@code [c, h, w]} the images are given in
   * @param probed the probed layers or vertices by name, or null for the default
   */
  public static Dl4jClassifier of(ComputationGraph net, String name, long[] chw, List<String> probed) {
    return new Dl4jClassifier(net, name, chw, probed);
  }

  /**
   * A model zip written by {@link ModelSerializer} (a ComputationGraph or a MultiLayerNetwork).
   *
   * @throws IOException one line naming the file when it is missing or not a DL4J model
   */
  public static Dl4jClassifier load(Path zip, long[] chw, List<String> probed) throws IOException {
    ComputationGraph net = restore(zip);
    requireFiniteParameters(net, zip.toString());
    return of(net, zip.getFileName().toString(), chw, probed);
  }

  /**
   * Refuses a network with a NaN or infinite parameter, naming the first such one (layer and
   * parameter), as the reader of an invertible model's {@code weights.npz} does. Accepted, such a
   * network gave NaN logits: eval wrote accuracy 0 with an empty confusion matrix and exit code 0.
   *
   * @param source the file the network came from, for the message
   * @throws IOException one line naming {@code source} and the parameter
   */
  public static void requireFiniteParameters(ComputationGraph net, String source) throws IOException {
    for (int idx : net.topologicalSortOrder()) {
      GraphVertex v = net.getVertices()[idx];
      if (!v.hasLayer()) continue;
      String layer = displayName(v);
      for (var p : v.getLayer().paramTable().entrySet()) {
        long bad = Tensors.nonFinite(p.getValue());
        if (bad > 0) {
          throw new IOException(source + ": layer '" + layer + "' parameter " + p.getKey() + " has " + bad
              + " NaN or infinite value(s) of " + p.getValue().length());
        }
      }
    }
  }

  /** The network in a {@link ModelSerializer} zip, as a ComputationGraph. */
  private static ComputationGraph restore(Path zip) throws IOException {
    if (!Files.isRegularFile(zip)) throw new IOException(zip + ": no such model file");
    try {
      return ModelSerializer.restoreComputationGraph(zip.toFile(), false);
    } catch (Exception notAGraph) {
      try {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork mln = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);
        ComputationGraph g = mln.toComputationGraph();
        // The conversion names the vertices (and their layers) by index: give the layers back their own names.
        for (int i = 0; i < mln.getnLayers(); i++) {
          String own = mln.getLayerWiseConfigurations().getConf(i).getLayer().getLayerName();
          GraphVertex v = g.getVertex(String.valueOf(i));
          if (own != null && v != null && v.hasLayer()) v.getLayer().conf().getLayer().setLayerName(own);
        }
        return g;
      } catch (Exception e) {
        // Either reason may be the real one: a graph zip that is damaged fails both ways.
        IOException failure = new IOException(zip + ": not a DL4J model saved by ModelSerializer (as a"
            + " ComputationGraph: " + firstLine(notAGraph) + "; as a MultiLayerNetwork: " + firstLine(e) + ")", e);
        failure.addSuppressed(notAGraph);
        throw failure;
      }
    }
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.lines().findFirst().orElse("");
  }

  @Override
  public String summary() {
    return name + " (DL4J " + net.getNumLayers() + " layers, not invertible): input " + Arrays.toString(inputShape(1))
        + ", " + String.format("%,d", net.numParams()) + " parameters";
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public long[] inputShape(long n) {
    return new long[] {n, chw[0], chw[1], chw[2]};
  }

  @Override
  public DataType dataType() {
    return net.params().dataType();
  }

  @Override
  public List<String> layerNames() {
    return layers;
  }

  @Override
  public INDArray logits(INDArray x) {
    return outputsAlone(x, outputVertex).get(0);
  }

  @Override
  public List<INDArray> layerOutputs(INDArray x) {
    return outputsAlone(x, layerVertices);
  }

  @Override
  public INDArray layerOutput(INDArray x, int layer) {
    return outputsAlone(x, layerVertices[layer]).get(0);
  }

  /** The outputs of {@code targets} in evaluation mode, new arrays. */
  private List<INDArray> outputsAlone(INDArray x, int... targets) {
    int last = 0;
    for (int v : targets) last = Math.max(last, position(v));
    int to = order[last];
    return inPassWorkspace(true, mgr -> {
      INDArray[] out = forward(x, to, mgr);
      List<INDArray> r = new ArrayList<>();
      for (int v : targets) r.add(BlockWorkspace.copyOutside(out[v]));
      return r;
    });
  }

  /**
   * Runs {@code pass} given a workspace manager and lets the vertices go of their inputs after.
   * With {@code workspace} (and workspaces enabled), every array of the pass, the layers' own working
   * memory included, is made in a workspace of its own (DL4J's manager allocates by the workspace's
   * name), reused by the next pass: {@code pass} must copy out what it returns. Without one, a logits
   * call on 250 images left 124 MB to the collector at cnn-s and 542 MB at resnet-s, and a logit
   * gradient on 64 images 123 and 460 MB.
   */
  private <T> T inPassWorkspace(boolean workspace, Function<LayerWorkspaceMgr, T> pass) {
    try {
      if (!workspace || !BlockWorkspace.enabled()) return pass.apply(LayerWorkspaceMgr.noWorkspaces());
      LayerWorkspaceMgr mgr = LayerWorkspaceMgr.builder().defaultWorkspace(PASS_WORKSPACE, BlockWorkspace.config()).build();
      mgr.setHelperWorkspacePointers(new java.util.HashMap<>());
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BlockWorkspace.config(), PASS_WORKSPACE)) {
        return pass.apply(mgr);
      }
    } finally {
      for (GraphVertex v : vertices) if (!v.isInputVertex()) v.clear();
    }
  }

  @Override
  public Gradient logitGradient(INDArray x, UnaryOperator<INDArray> dLogits) {
    return gradient(x, outputVertex, dLogits, true);
  }

  @Override
  public Gradient layerGradient(INDArray x, int layer, UnaryOperator<INDArray> dOutput) {
    return gradient(x, layerVertices[layer], dOutput, true);
  }

  /**
   * {@link #logitGradient} ({@code layer} negative) or {@link #layerGradient} as they ran before
   * they had a workspace, every array left to the collector: for the tests, which hold the two to
   * the same bits.
   */
  Gradient gradientWithoutWorkspace(INDArray x, int layer, UnaryOperator<INDArray> dOut) {
    return gradient(x, layer < 0 ? outputVertex : layerVertices[layer], dOut, false);
  }

  /**
   * The forward pass to {@code target} and the backward pass from it, in the pass workspace when
   * {@code workspace}; only the target's output and the input gradient are copied out. {@code dOut}
   * runs in it too: what it makes goes with the pass, and the output it is given lives only as long
   * (the attacks' losses keep none of it).
   */
  private Gradient gradient(INDArray x, int target, UnaryOperator<INDArray> dOut, boolean workspace) {
    return inPassWorkspace(workspace, mgr -> {
      INDArray[] out = forward(x, target, mgr);
      INDArray dx = backward(out, target, dOut.apply(out[target]), (int) x.size(0), mgr);
      return new Gradient(BlockWorkspace.copyOutside(out[target]), BlockWorkspace.copyOutside(dx.reshape('c', x.shape())));
    });
  }

  /** Every vertex's output up to {@code target} in topological order (the output vertex gives the logits). */
  private INDArray[] forward(INDArray x, int target, LayerWorkspaceMgr mgr) {
    requireInput(name, x);
    INDArray[] out = new INDArray[vertices.length];
    INDArray input = flatInput ? x.reshape('c', x.size(0), x.length() / x.size(0)) : x;
    net.setInput(0, input); // preprocessors read the batch size from the graph's input
    for (int idx : order) {
      GraphVertex v = vertices[idx];
      if (v.isInputVertex()) {
        out[idx] = input;
      } else {
        VertexIndices[] in = v.getInputVertices();
        // A copy: some layers work in place in evaluation mode (ActivationLayer), which would
        // overwrite the kept output of the vertex before and the point its backward needs.
        for (int j = 0; j < in.length; j++) v.setInput(j, out[in[j].getVertexIndex()].dup(), mgr);
        out[idx] = idx == outputVertex ? outputLogits(v, mgr) : v.doForward(false, mgr);
        if (v.getLayer() instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization bn) {
          freeBatchNormCopies(bn);
        }
      }
      if (idx == target) break;
    }
    return out;
  }

  /** The input gradient given {@code dTarget}, the gradient with respect to vertex {@code target}'s output. */
  private INDArray backward(INDArray[] out, int target, INDArray dTarget, int batch, LayerWorkspaceMgr mgr) {
    INDArray[] eps = new INDArray[vertices.length];
    eps[target] = dTarget;
    for (int k = position(target); k >= 0; k--) {
      int idx = order[k];
      GraphVertex v = vertices[idx];
      if (eps[idx] == null) continue;
      if (v.isInputVertex()) return eps[idx];
      VertexIndices[] in = v.getInputVertices();
      // Fresh copies: a layer that worked in place has overwritten the input it kept.
      for (int j = 0; j < in.length; j++) v.setInput(j, out[in[j].getVertexIndex()].dup(), mgr);
      INDArray[] dIn;
      if (idx == outputVertex) {
        dIn = new INDArray[] {outputBackward(v, eps[idx], batch, mgr)};
      } else if (v.getLayer() instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization) {
        dIn = new INDArray[] {batchNormBackward(v, eps[idx], batch, mgr)};
      } else {
        v.setEpsilon(eps[idx]);
        dIn = backwardWithoutNoise(v, mgr);
      }
      for (int j = 0; j < in.length; j++) {
        int src = in[j].getVertexIndex();
        eps[src] = eps[src] == null ? dIn[j].dup() : eps[src].addi(dIn[j]);
      }
    }
    throw new IllegalStateException(name + ": vertex " + vertices[target].getVertexName() + " does not depend on the input");
  }

  /**
   * DL4J's {@code doBackward} for vertex {@code v} without the layer's dropout and weight noise,
   * which are put back after. Its backward recomputes the layer's output in training mode, which
   * drew them: the input gradient of a dense layer with dropout was that of a randomly thinned
   * network (FGSM moved half the pixels, and each run others), and a convolution with dropout
   * failed for want of the mask its forward never drew. The forward pass here is evaluation mode,
   * without either.
   */
  private static INDArray[] backwardWithoutNoise(GraphVertex v, LayerWorkspaceMgr mgr) {
    if (!v.hasLayer()) return v.doBackward(false, mgr).getSecond();
    org.deeplearning4j.nn.conf.layers.Layer conf = v.getLayer().conf().getLayer();
    org.deeplearning4j.nn.conf.dropout.IDropout dropout = conf.getIDropout();
    org.deeplearning4j.nn.conf.weightnoise.IWeightNoise noise = conf instanceof BaseLayer b ? b.getWeightNoise() : null;
    conf.setIDropout(null);
    if (noise != null) ((BaseLayer) conf).setWeightNoise(null);
    try {
      return v.doBackward(false, mgr).getSecond();
    } finally {
      conf.setIDropout(dropout);
      if (noise != null) ((BaseLayer) conf).setWeightNoise(noise);
    }
  }

  private INDArray outputLogits(GraphVertex v, LayerWorkspaceMgr mgr) {
    INDArray in = v.getInputs()[0];
    InputPreProcessor pre = ((LayerVertex) v).getLayerPreProcessor();
    if (pre != null) in = pre.preProcess(in, (int) in.size(0), mgr);
    Layer l = v.getLayer();
    if (!(l instanceof OutputLayer)) return in.dup();
    INDArray z = in.mmul(l.getParam("W"));
    INDArray b = l.getParam("b");
    return b == null ? z : z.addi(b);
  }

  private INDArray outputBackward(GraphVertex v, INDArray dLogits, int batch, LayerWorkspaceMgr mgr) {
    Layer l = v.getLayer();
    INDArray d = l instanceof OutputLayer ? dLogits.mmul(l.getParam("W").transpose()) : dLogits;
    InputPreProcessor pre = ((LayerVertex) v).getLayerPreProcessor();
    return pre == null ? d : pre.backprop(d, batch, mgr);
  }

  /** Whether the input goes straight into a dense layer (an MLP on flattened images), not a convolution. */
  /**
   * Which convolution fed by the input takes other than {@code channels} channels, said as the
   * cause of a refused shape; null when none does (the height and width are then to blame).
   */
  private String channelMismatch(long channels) {
    for (GraphVertex v : layersOnInput()) {
      if (v.getLayer().conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer conv
          && conv.getNIn() != channels) {
        return "its layer '" + displayName(v) + "' takes " + conv.getNIn() + (conv.getNIn() == 1 ? " channel" : " channels")
            + ", the images have " + channels;
      }
    }
    return null;
  }

  private boolean takesFlatInput() {
    return layersOnInput().stream().map(v -> v.getLayer().conf().getLayer())
        .anyMatch(conf -> conf instanceof org.deeplearning4j.nn.conf.layers.DenseLayer
            || conf instanceof org.deeplearning4j.nn.conf.layers.OutputLayer);
  }

  /** The layer vertices that read the network's input as it is given (no preprocessor between). */
  private List<GraphVertex> layersOnInput() {
    List<GraphVertex> on = new ArrayList<>();
    for (GraphVertex v : vertices) {
      if (!v.hasLayer() || ((LayerVertex) v).getLayerPreProcessor() != null) continue;
      for (VertexIndices in : v.getInputVertices()) {
        if (vertices[in.getVertexIndex()].isInputVertex()) {
          on.add(v);
          break;
        }
      }
    }
    return on;
  }

  /**
   * BatchNorm with its running statistics: DL4J's own backward assumes batch statistics (the
   * training-mode gradient), wrong for the fixed affine map of evaluation mode, checked against
   * finite differences in the tests.
   */
  private INDArray batchNormBackward(GraphVertex v, INDArray dOut, int batch, LayerWorkspaceMgr mgr) {
    Layer l = v.getLayer();
    org.deeplearning4j.nn.conf.layers.BatchNormalization conf =
        (org.deeplearning4j.nn.conf.layers.BatchNormalization) l.conf().getLayer();
    INDArray in = v.getInputs()[0];
    InputPreProcessor pre = ((LayerVertex) v).getLayerPreProcessor();
    if (pre != null) in = pre.preProcess(in, batch, mgr);
    if (in.rank() == 4 && conf.getCnn2DFormat() != org.deeplearning4j.nn.conf.CNN2DFormat.NCHW) {
      throw new IllegalArgumentException(name + ": BatchNormalization '" + v.getVertexName() + "' in NHWC is not supported");
    }
    // useLogStd stores log10 of the running standard deviation: var = 10^(2 log10std).
    INDArray var = conf.isUseLogStd() ? Transforms.exp(l.getParam("log10stdev").mul(2 * Math.log(10)), false)
        : l.getParam("var");
    INDArray invStd = Transforms.pow(var.add(conf.getEps()), -0.5, false).reshape(-1);
    INDArray gamma = conf.isLockGammaBeta() ? Nd4j.valueArrayOf(invStd.shape(), conf.getGamma(), invStd.dataType())
        : l.getParam("gamma").reshape(-1);
    long[] perChannel = in.rank() == 4 ? new long[] {1, invStd.length(), 1, 1} : new long[] {1, invStd.length()};
    INDArray scale = gamma.mul(invStd).reshape(perChannel);
    // DL4J's BatchNormalization applies no activation function (its configured one is unused).
    INDArray d = dOut.mul(scale);
    return pre == null ? d : pre.backprop(d, batch, mgr);
  }

  private static List<Field> batchNormCopyFields(String... names) {
    List<Field> fields = new ArrayList<>();
    for (String n : names) {
      try {
        Field f = org.deeplearning4j.nn.layers.normalization.BatchNormalization.class.getDeclaredField(n);
        f.setAccessible(true);
        fields.add(f);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return List.of();
      }
    }
    return List.copyOf(fields);
  }

  /** Frees the copies {@code bn}'s forward pass kept ({@link #BATCH_NORM_COPIES}) and drops them. */
  private static void freeBatchNormCopies(org.deeplearning4j.nn.layers.normalization.BatchNormalization bn) {
    try {
      for (Field f : BATCH_NORM_COPIES) {
        INDArray kept = (INDArray) f.get(bn);
        f.set(bn, null);
        // DL4J detaches both; an attached one (none seen) is not closeable, and a view is not its own.
        if (kept != null && !kept.isView()) Tensors.free(kept, null);
      }
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private int position(int vertex) {
    for (int k = 0; k < order.length; k++) if (order[k] == vertex) return k;
    throw new IllegalStateException("vertex " + vertex + " not in the topological order");
  }

  /** The vertices between input and output, in topological order. */
  private List<Integer> hiddenVertices() {
    List<Integer> out = new ArrayList<>();
    for (int idx : order) if (!vertices[idx].isInputVertex() && idx != outputVertex) out.add(idx);
    return out;
  }

  private List<String> hiddenVertexNames() {
    return hiddenVertices().stream().map(idx -> displayName(vertices[idx])).toList();
  }

  /**
   * A vertex's name: its layer's own name where it has one (a MultiLayerNetwork converted to a
   * graph names its vertices by index but keeps the names given to its layers), else the vertex name.
   */
  private static String displayName(GraphVertex v) {
    String layerName = v.hasLayer() ? v.getLayer().conf().getLayer().getLayerName() : null;
    return layerName != null && !layerName.isEmpty() ? layerName : v.getVertexName();
  }

  private List<String> defaultLayers() {
    List<String> names = new ArrayList<>();
    for (int idx : order) {
      GraphVertex v = vertices[idx];
      if (v.isInputVertex() || idx == outputVertex || !v.hasLayer()) continue;
      org.deeplearning4j.nn.conf.layers.Layer conf = v.getLayer().conf().getLayer();
      if (conf instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) continue;
      boolean pooling = conf instanceof SubsamplingLayer || conf instanceof GlobalPoolingLayer;
      boolean nonLinear = (conf instanceof BaseLayer b && b.getActivationFn() != null
          && !(b.getActivationFn() instanceof ActivationIdentity))
          || (conf instanceof ActivationLayer a && !(a.getActivationFn() instanceof ActivationIdentity));
      if (pooling || nonLinear) names.add(displayName(v));
    }
    return names.isEmpty() ? hiddenVertexNames() : names;
  }
}
