package org.irevnet.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.data.Augment;
import org.irevnet.data.BatchIterator;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.DataSource;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Preprocess;
import org.irevnet.host.Host;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.RunLock;
import org.irevnet.models.Architecture;
import org.irevnet.models.Baselines;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.irevnet.models.UnknownArchitectureException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Trains a classifier into a run directory (DESIGN.md section 7): {@code config.json}, {@code
 * metrics.jsonl}, {@code checkpoints/latest} and {@code checkpoints/best}. A resumed run continues
 * exactly where {@code latest} left off (weights, Adam state, data order, step), so N steps, a
 * stop and N more give the same weights as 2N steps straight.
 */
public final class Trainer {
  public static final String CONFIG = "config.json";
  /** The key of {@code config.json} that records the data's {@link DataIdentity}. */
  public static final String DATASET = "dataset";
  public static final String METRICS = "metrics.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int GC_EVERY = 20;

  /** Progress callbacks (the command line draws a progress bar from them). */
  public interface Listener {
    void onStep(StepInfo s);

    default void onEpoch(Map<String, Object> epochMetrics) {}

    default void onMessage(String line) {}
  }

  public record StepInfo(long step, long totalSteps, int epoch, int epochs, int batch, int batchesPerEpoch,
      double loss, double accuracy, double lr, double imagesPerSecond) {}

  /** Training stopped because the loss or a gradient is not finite. */
  public static final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
      super(message);
    }
  }

  /**
   * What a run ended with. {@code bestAccuracy} is the validation score of {@code checkpoints/best}
   * (NaN without a validation split: best is then the last epoch's); for objective {@code mle}
   * minus the validation bits/dim (higher is better), and {@code testBitsPerDim} the last epoch's
   * test bits/dim; otherwise {@code testBitsPerDim} is NaN. {@code nothingLeft}: the run had
   * already trained all its {@code steps} when resumed, and this call trained none (nor
   * evaluated: testAccuracy NaN). {@code seconds} and {@code fromStep}: this call's time and the
   * step it began at (0, or the resumed checkpoint's).
   */
  public record Result(long steps, double testAccuracy, double bestAccuracy, double seconds, double testBitsPerDim,
      boolean nothingLeft, long fromStep) {}

  private final TrainConfig cfg;
  private final Path runDir;
  private final Listener listener;
  private final long maxSteps;
  private final boolean startOver;

  /**
   * @param maxSteps stop after this many steps in this call (the run can be resumed), or
   *     {@code Long.MAX_VALUE}
   */
  public Trainer(TrainConfig cfg, Path runDir, Listener listener, long maxSteps) {
    this(cfg, runDir, listener, maxSteps, false);
  }

  /**
   * @param startOver begin a new run even if {@code runDir} holds one, whose checkpoints and
   *     metrics are deleted only once the architecture and data have loaded (see {@link
   *     #clearForNewRun})
   */
  public Trainer(TrainConfig cfg, Path runDir, Listener listener, long maxSteps, boolean startOver) {
    this.cfg = cfg.resolved().validate();
    this.runDir = runDir;
    this.listener = listener;
    this.maxSteps = maxSteps;
    this.startOver = startOver;
  }

  /** The checkpoint a run saves as it trains and resumes from. */
  public static Path latest(Path runDir) {
    return runDir.resolve("checkpoints").resolve("latest");
  }

  /** The checkpoint of the epoch end with the best validation score (the last one without a validation split). */
  public static Path best(Path runDir) {
    return runDir.resolve("checkpoints").resolve("best");
  }

  /** Pads a loaded split for an architecture, checking its channels and that its classes are the outputs. */
  public static Dataset prepare(Dataset d, Architecture arch) {
    List<Integer> in = arch.inputShape();
    if (d.channels() != in.get(0)) throw new IllegalArgumentException(channelMismatch(d, arch));
    // Fewer classes were accepted: a fi-RevNet's logits are the first numClasses entries of z, so
    // the outputs past the classes went on being trained as logits no label ever named, and eval
    // printed a 10x10 confusion matrix under 3 class names.
    int classes = d.classNames().size();
    if (classes != arch.numClasses()) {
      throw new IllegalArgumentException(d.name() + ": " + classes + " classes, architecture '" + arch.name()
          + "' has " + arch.numClasses() + " outputs; set \"numClasses\": " + classes + " in a copy of its JSON file");
    }
    return Preprocess.padTo(d, in.get(1), in.get(2));
  }

  /**
   * Refuses training images with other channels than the architecture's input, saying how to
   * train on them: every bundled invertible architecture takes grey images, and CIFAR-10 or colour
   * PNGs were refused without a word of the copy with three input channels they need.
   */
  static void checkChannels(Dataset raw, Architecture arch) {
    List<Integer> in = arch.inputShape();
    if (raw.channels() != in.get(0)) {
      throw new IllegalArgumentException(channelMismatch(raw, arch) + "; set \"inputShape\": [" + raw.channels() + ", "
          + in.get(1) + ", " + in.get(2) + "] in a copy of its JSON file");
    }
  }

  private static String channelMismatch(Dataset d, Architecture arch) {
    // PNGs of grey images saved as RGB (R = G = B), a whole dataset of them, load as three equal
    // planes: "images have 3 channels" of them read as if they were colour, on a grey model.
    boolean greyAsRgb = d.channels() == 3 && arch.inputShape().get(0) == 1 && equalPlanes(d.images());
    return d.name() + ": images have " + d.channels() + (d.channels() == 1 ? " channel" : " channels")
        + (greyAsRgb ? " (three equal planes: grey images saved as RGB; saved as grey PNGs they have one)" : "")
        + ", architecture '" + arch.name() + "' takes " + arch.inputShape().get(0);
  }

  /** Whether every image of {@code images} ({@code [n, 3, h, w]}) has equal red, green and blue planes. */
  private static boolean equalPlanes(INDArray images) {
    INDArray red = images.get(NDArrayIndex.all(), NDArrayIndex.point(0));
    return org.irevnet.nn.Tensors.maxAbs(images.get(NDArrayIndex.all(), NDArrayIndex.point(1)).sub(red)) == 0
        && org.irevnet.nn.Tensors.maxAbs(images.get(NDArrayIndex.all(), NDArrayIndex.point(2)).sub(red)) == 0;
  }

  /**
   * Refuses splits of {@code data} whose images differ in size. Each split is padded to the model's
   * input on its own: 28x28 training and 20x20 test images were both accepted, and the test images
   * sat elsewhere on the canvas than those trained on.
   */
  public static void checkSameSize(String data, Dataset train, Dataset test) {
    if (train.height() != test.height() || train.width() != test.width()) {
      throw new IllegalArgumentException(data + ": the training images are " + train.height() + "x" + train.width()
          + ", the test images " + test.height() + "x" + test.width() + "; both splits must have one size");
    }
  }

  /**
   * Refuses splits whose classes differ, before anything trains. IDX files without a classes.txt
   * were numbered per split (labels up to 10 in training and 9 in test gave 11 and 10 classes),
   * and the test split was refused as the wrong data for the model, or for a baseline, whose
   * outputs are the training split's classes, only once the first epoch was trained. Every loader
   * now gives the splits of one directory the same classes; this keeps it so.
   */
  static void checkSameClasses(String data, Dataset train, Dataset test) {
    if (!train.classNames().equals(test.classNames())) {
      throw new IllegalArgumentException(data + ": the training split's " + train.numClasses() + " classes "
          + (train.numClasses() == test.numClasses() ? train.classNames() + " " : "") + "are not the test split's "
          + test.numClasses() + (train.numClasses() == test.numClasses() ? " " + test.classNames() : "")
          + "; name every class, in label order, in a classes.txt");
    }
  }

  /**
   * Refuses training data of one class: a fi-RevNet was told to set {@code "numClasses": 1} in a
   * copy of its JSON, which the architecture then refuses (at least 2), and a baseline stopped in
   * DL4J's output layer ("Softmax + nOut=1 networks are not supported").
   */
  static void checkTwoClasses(String data, Dataset train) {
    if (train.numClasses() < 2) {
      throw new IllegalArgumentException(data + ": " + train.numClasses() + " class " + train.classNames()
          + " in the training split; a classifier needs at least 2");
    }
  }

  /**
   * Returns {@code raw} (the training images before padding) once {@code cfg.augmentShift()} is
   * below their size: a shift as large as the image moves it off the canvas, and a run on blank
   * images trained at a loss of exactly ln 10 without a word.
   */
  static Dataset checkAugmentShift(Dataset raw, TrainConfig cfg) {
    int limit = Math.min(raw.height(), raw.width()) - 1;
    if (cfg.augmentShift() > limit) {
      throw new IllegalArgumentException("augmentShift must be at most " + limit + " (" + raw.name() + " has "
          + raw.height() + "x" + raw.width() + " images), got " + cfg.augmentShift());
    }
    return raw;
  }

  /**
   * Runs (or resumes, when {@code checkpoints/latest} exists) training, holding the run
   * directory's {@link RunLock}.
   */
  public Result run() throws IOException {
    try (RunLock lock = RunLock.acquire(runDir)) {
      deleteTemporaries(runDir);
      // Before any work: saving a checkpoint, or starting over, deletes these directories whole.
      Checkpoints.refuseForeignFiles(latest(runDir));
      Checkpoints.refuseForeignFiles(best(runDir));
      if (!startOver) {
        // Else the first save refused them, once this run had trained and replaced the config and
        // metrics of the run they belong to (--fresh deletes them).
        Checkpoints.refuseToReplace(latest(runDir));
        Checkpoints.refuseToReplace(best(runDir));
      }
      return Baselines.isBaseline(cfg.arch()) ? new NetworkTrainer(cfg, runDir, listener, maxSteps, startOver).run()
          : runLocked();
    }
  }

  /**
   * Deletes what a training killed mid-write ({@code kill -9}) left in {@code runDir}: the hidden
   * temporaries of its config, metrics and checkpoints. Only under the run's lock: no other process
   * writes these files then. A checkpoint's previous version ({@code .latest.old}) is no temporary:
   * it stays, for the load that finds no checkpoint beside it.
   */
  static void deleteTemporaries(Path runDir) throws IOException {
    for (Path target : List.of(runDir.resolve(CONFIG), runDir.resolve(METRICS), latest(runDir), best(runDir))) {
      AtomicFiles.deleteTemporarySiblings(target);
    }
  }

  /** Says when the architecture file a run began from now reads as another architecture, or not at all. */
  static void sayIfArchitectureFileChanged(Listener listener, String configured, Architecture own, Path checkpoint) {
    String problem;
    try {
      problem = Architecture.load(configured).equals(own) ? null : configured + ": has changed since the run began";
    } catch (IllegalArgumentException e) {
      problem = e.getMessage();
    }
    if (problem != null) {
      listener.onMessage(problem + "; resuming with the run's own architecture '" + own.name() + "' ("
          + checkpoint.resolve(ModelFiles.ARCH) + ")");
    }
  }

  /** {@link Architecture#load}, whose list of known names leaves out the baselines training also takes. */
  private static Architecture load(String arch) {
    try {
      return Architecture.load(arch);
    } catch (UnknownArchitectureException e) {
      throw new IllegalArgumentException(e.getMessage() + " (train also takes the non-invertible baselines "
          + String.join(", ", Baselines.NAMES) + ")", e);
    }
  }

  private Result runLocked() throws IOException {
    long t0 = System.nanoTime();
    Checkpoints.Loaded resumed = !startOver && Checkpoints.exists(latest(runDir))
        ? Checkpoints.load(latest(runDir), DataType.FLOAT) : null;
    // A run goes on with the architecture it was trained with, which its checkpoint holds: the
    // user's architecture file it began from, once moved or edited, stopped the resume ("not found",
    // or "'my-arch' differs from the configured 'my-arch'"), though nothing else reads that file.
    Architecture arch = resumed == null ? load(cfg.arch()) : resumed.model().architecture();
    if (cfg.hasIceObjective()) arch.requireFullyInvertible("objective ice");
    DataSource src = Datasets.resolve(cfg.data());
    Dataset rawTrain = checkAugmentShift(src.load(org.irevnet.data.Split.TRAIN), cfg);
    checkTwoClasses(cfg.data(), rawTrain);
    checkChannels(rawTrain, arch);
    Dataset.HeldOut parts = holdOut(prepare(rawTrain, arch), cfg);
    Dataset train = parts.train(), validation = parts.validation();
    checkReadoutBatches(arch, cfg.batch(), train.size());
    Dataset rawTest = src.load(org.irevnet.data.Split.TEST);
    checkSameClasses(cfg.data(), rawTrain, rawTest);
    checkSameSize(cfg.data(), rawTrain, rawTest);
    Dataset test = prepare(rawTest, arch);

    InvertibleClassifier model;
    AdamOptimizer adam;
    IceObjective ice = null;
    long step;
    double best;
    double before = 0; // training seconds of the sessions before this one
    BatchIterator it = BatchIterator.builder(train).batchSize(cfg.batch()).seed(cfg.seed()).shuffle(true)
        .dequantize(cfg.dequantize()).augment(Augment.shifts(cfg.augmentShift()))
        .build();
    long total = (long) cfg.epochs() * it.batchesPerEpoch();
    if (resumed != null) {
      Checkpoints.Loaded c = resumed;
      Path from = Checkpoints.complete(latest(runDir));
      String changed = checkResumeSettings(c.state().configJson(), from, cfg);
      model = c.model();
      adam = optimizer(model, cfg.lr());
      Checkpoints.naming(from.resolve(Checkpoints.OPTIMIZER) + ": ", adam::loadState, c.optimizer());
      if (cfg.hasIceObjective()) {
        ice = IceObjective.forModel(cfg.ice(), model, cfg.seed(), cfg.lr());
        Checkpoints.naming(from.resolve(Checkpoints.OBJECTIVE) + ": ", ice::loadState, c.objective());
      }
      step = c.state().step();
      best = c.state().bestAccuracy();
      before = c.state().secondsOrZero();
      restorePosition(it, c.state());
      String dropped = truncateMetrics(runDir, step);
      sayResuming(listener, runDir, step, total, it.nextPosition(), changed);
      if (dropped != null) listener.onMessage(dropped);
      if (step < total) sayIfArchitectureFileChanged(listener, cfg.arch(), arch, from);
    } else {
      arch.requireParameters(cfg.arch() + ": ");
      model = InvertibleClassifier.build(arch, DataType.FLOAT, cfg.seed());
      adam = optimizer(model, cfg.lr());
      if (cfg.hasIceObjective()) ice = IceObjective.forModel(cfg.ice(), model, cfg.seed(), cfg.lr());
      step = 0;
      best = Double.NEGATIVE_INFINITY;
      clearForNewRun(runDir, startOver);
    }
    // The real pixels (before zero padding) are what bits/dim is counted over.
    Density density = cfg.hasMleObjective()
        ? new Density(model, (long) rawTest.channels() * rawTest.height() * rawTest.width()) : null;
    model.setStoredActivations(cfg.storesActivations());
    if (step == 0) {
      listener.onMessage(model.summary() + (cfg.storesActivations() ? "; backward from stored activations" : ""));
      sayIfBatchExceeds(listener, cfg.batch(), train.size());
      if (!cfg.hasMleObjective()) sayIfClassesHaveNoTrainingImages(listener, train, validation != null);
      sayIfWarmupsOutlastTheRun(listener, cfg, total);
    }
    adam.setWeightDecay(cfg.weightDecay());
    if (step >= total) return new Result(step, Double.NaN, best, 0, Double.NaN, true, step);
    long fromStep = step;
    long origin = t0 - Math.round(before * 1e9); // the run's training time counts the sessions before this one
    Host.collectGarbage(0, 1); // the parameter arrays replaced by the optimiser's flat buffer
    AtomicFiles.createDirectories(runDir); // only now: bad input above leaves no directory behind
    AtomicFiles.writeString(runDir.resolve(CONFIG), resolvedConfig(cfg, DataIdentity.of(src, rawTest)));

    long stopAt = stopAt(step, total, maxSteps);
    double lastTest = Double.NaN, lastBits = Double.NaN;
    try (BufferedWriter metrics = appendMetrics(runDir.resolve(METRICS))) {
      StepWindow window = new StepWindow();
      double[] iceSums = new double[5]; // ce, nuisance ce, adversary accuracy, nll bits/dim, w_nc
      double znMaxAbs = 0;
      boolean saidOutliers = false;
      double bitsSum = 0;
      while (step < stopAt) {
        if (!it.hasNext()) it.reset();
        BatchIterator.Batch b = it.nextBatch();
        if (step == 0) model.initialize(b.features());
        double lr = cfg.lrAt(step, total);
        adam.setLearningRate(lr);
        InvertibleClassifier.Forward f = model.forward(b.features(), true);
        double loss;
        try {
          if (density != null) {
            Density.Step d = density.nll(f, true);
            loss = d.natsPerDim();
            if (!Double.isFinite(loss)) throw divergedLoss(loss, model, step, b, runDir);
            bitsSum += d.bitsPerDim();
          } else if (ice == null) {
            Losses.LossGrad lg = Losses.softmaxCrossEntropy(f.logits(), b.labels());
            loss = lg.loss();
            if (!Double.isFinite(loss)) throw divergedLoss(loss, model, step, b, runDir);
            model.backward(f, lg.grad(), null, null);
          } else {
            IceObjective.Terms t = ice.step(model, f, b.labels(), step);
            loss = t.loss();
            if (!Double.isFinite(loss)) {
              throw adversariesDiverged(t) ? divergedAdversaries(t, cfg.ice(), step, b)
                  : divergedLoss(loss, model, step, b, runDir);
            }
            if (!Double.isFinite(ice.priorGradients().norm2Number().doubleValue())) {
              throw diverged("a gradient of the iCE prior is not finite", step, b, runDir);
            }
            double[] v = {t.ce(), t.nuisanceCe(), t.adversaryAccuracy(), t.nllBitsPerDim(), t.wNc()};
            for (int i = 0; i < v.length; i++) iceSums[i] += v[i];
            znMaxAbs = Math.max(znMaxAbs, t.znMaxAbs());
            if (!saidOutliers) saidOutliers = sayIfNuisanceOutliers(listener, t.znMaxAbs(), step, cfg.ice().wMle());
          }
        } catch (AdamOptimizer.NonFiniteGradientException e) {
          // Raised by the block update inside the backward pass (see optimizer()), naming the block.
          throw diverged(e.getMessage(), whereNotFinite(model, b.features(), true), step, b, runDir);
        }
        adam.endStep();
        if (ice != null) ice.stepPrior(lr);
        step++;
        Host.collectGarbage(step, GC_EVERY);
        double acc = Losses.accuracy(f.logits(), b.labels());
        window.add(loss, acc, b.labels().length);
        if (step % cfg.logEvery() == 0 || step == stopAt) {
          int n = window.steps();
          Map<String, Object> extra = new LinkedHashMap<>();
          if (density != null) extra.put("bits_per_dim", bitsSum / n);
          if (ice != null) {
            extra.put("ce", iceSums[0] / n);
            extra.put("nuisance_ce", iceSums[1] / n);
            extra.put("adversary_accuracy", iceSums[2] / n);
            if (cfg.ice().wMle() > 0) extra.put("nll_bits_per_dim", iceSums[3] / n);
            extra.put("w_nc", iceSums[4] / n);
            extra.put("zn_max_abs", znMaxAbs);
          }
          window.report(metrics, listener, step, total, cfg.epochs(), b, it.batchesPerEpoch(), lr, extra);
          bitsSum = 0;
          java.util.Arrays.fill(iceSums, 0);
          znMaxAbs = 0;
        }
        boolean epochEnd = !it.hasNext();
        if (epochEnd) {
          Evaluation.Result ev = Evaluation.evaluate(model, test, cfg.evalBatch(), "test");
          lastTest = ev.accuracy();
          Map<String, Object> m = epochLine(step, b.epoch() + 1, ev);
          double score = Double.NaN; // by which best is chosen: NaN, without a validation split, keeps the last
          if (density != null) {
            // test_loss is the quantity of the train lines' loss, as for the other objectives; it
            // was the logits' cross-entropy, which means little for a density model.
            Density.Eval testDensity = density.evaluate(test, cfg.evalBatch(), Density.EVAL_SEED);
            lastBits = testDensity.bitsPerDim();
            m.put("test_loss", testDensity.natsPerDim());
            m.put("test_cross_entropy", ev.loss());
            m.put("test_bits_per_dim", lastBits);
            if (validation != null) {
              double bits = density.evaluate(validation, cfg.evalBatch(), Density.EVAL_SEED).bitsPerDim();
              m.put("validation_bits_per_dim", bits);
              score = -bits;
            }
          } else if (validation != null) {
            score = putValidation(m, Evaluation.evaluate(model, validation, cfg.evalBatch(), "validation"));
          }
          if (ice != null) {
            IceObjective.Eval ie = ice.evaluate(model, test, cfg.evalBatch());
            m.put("adversary_test_accuracy", ie.adversaryAccuracy());
            if (cfg.ice().wMle() > 0) m.put("test_nll_bits_per_dim", ie.nllBitsPerDim());
          }
          m.put("seconds", secondsSince(origin));
          writeLine(metrics, m);
          listener.onEpoch(m);
          if (Double.isNaN(score) || score > best) {
            best = score;
            save(best(runDir), model, adam, ice, step, it, best, secondsSince(origin));
          }
        }
        if (epochEnd || step % cfg.checkpointEvery() == 0 || step == stopAt) {
          metrics.flush();
          save(latest(runDir), model, adam, ice, step, it, best, secondsSince(origin));
        }
      }
    }
    return new Result(step, lastTest, best, secondsSince(t0), lastBits, false, fromStep);
  }

  private void save(Path where, InvertibleClassifier model, AdamOptimizer adam, IceObjective ice, long step,
      BatchIterator it, double best, double seconds) throws IOException {
    BatchIterator.State s = it.state();
    Checkpoints.save(where, model, adam.state(),
        new Checkpoints.TrainingState(step, s.epoch(), s.batch(), best, cfg.toJson(), seconds),
        ice == null ? Map.of() : ice.state());
  }

  /**
   * Refuses a batch of one image where an i-RevNet's readout normalises a 1x1 map: each channel's
   * batch mean and variance are then of one value, which normalises every input to the shift
   * (nothing is learnt through it) and draws the running variance, by which evaluation divides,
   * towards 0. With {@code --batch 1} a run trained 200 steps at a loss of ln 10 and tested at 49.7;
   * PyTorch's BatchNorm refuses such a batch too. A last batch of one image is one such step an epoch.
   */
  static void checkReadoutBatches(Architecture arch, int batch, int trainingImages) {
    if (arch.readoutPositions() != 1) return;
    int last = batch >= trainingImages ? trainingImages : trainingImages % batch;
    if (batch > 1 && last != 1) return;
    String why = ": the i-RevNet readout's batch normalisation takes each channel's mean and variance over the"
        + " batch and its 1x1 map, so over one value for one image (nothing is learnt through it, and the running"
        + " variance evaluation divides by is drawn to 0)";
    throw new IllegalArgumentException(batch == 1 ? "--batch 1" + why + "; use --batch 2 or more"
        : "--batch " + batch + " leaves a last batch of one image (" + trainingImages + " training images)" + why
        + "; choose a --batch that leaves at least 2");
  }

  /** A batch larger than the training set is the whole set: said once, as it is likely a typo. */
  static void sayIfBatchExceeds(Listener listener, int batch, int trainingImages) {
    if (batch > trainingImages) {
      listener.onMessage("batch " + batch + " is more than the " + trainingImages
          + " training images: every step trains on all of them");
    }
  }

  /**
   * Classes without a training image, said once as training starts: the model is trained never to
   * predict them, which read as a poor model. IDX labels {2, 5, 7} give 8 classes, 5 of them empty;
   * a test-only class of an IDX set, or a rare class that {@code --validation} held out entirely,
   * trained without a word.
   */
  static void sayIfClassesHaveNoTrainingImages(Listener listener, Dataset train, boolean heldOut) {
    int[] counts = train.classCounts();
    List<String> empty = new ArrayList<>();
    for (int k = 0; k < counts.length; k++) if (counts[k] == 0) empty.add(k + " '" + train.classNames().get(k) + "'");
    if (empty.isEmpty()) return;
    String shown = empty.size() <= 5 ? String.join(", ", empty) : String.join(", ", empty.subList(0, 5)) + ", ...";
    listener.onMessage(empty.size() + " of the " + counts.length + " classes have no training image"
        + (heldOut ? " once --validation has held its images out" : "") + " (" + shown
        + "): the model learns never to predict them");
  }

  /**
   * A warm-up as long as the run, said once as training starts: a one-epoch run on a small set (94
   * steps of the shipped subset against the default 100) never reached its learning rate, and the
   * schedule never began, without a word; the same for iCE's nuisance weight.
   */
  static void sayIfWarmupsOutlastTheRun(Listener listener, TrainConfig cfg, long total) {
    if (total <= 0) return;
    int w = cfg.warmupSteps();
    if (w > 0 && w >= total && !(w == total && cfg.schedule().equals("constant"))) {
      double last = cfg.lrAt(total - 1, total);
      listener.onMessage(String.format(java.util.Locale.ROOT, "the learning rate warms up over %d steps (--warmup-steps),"
          + " and this run has %d: it ends at %.3g, %.0f%% of --lr %.3g%s", w, total, last, 100 * last / cfg.lr(), cfg.lr(),
          cfg.schedule().equals("constant") ? "" : ", and the " + cfg.schedule() + " schedule never starts"));
    }
    if (cfg.hasIceObjective() && cfg.ice().wNcWarmupSteps() > total) {
      double last = cfg.ice().wNcAt(total - 1);
      listener.onMessage(String.format(java.util.Locale.ROOT, "w_nc warms up over %d steps (--w-nc-warmup), and this"
          + " run has %d: it ends at %.3g of --w-nc %.3g", cfg.ice().wNcWarmupSteps(), total, last, cfg.ice().wNc()));
    }
  }

  /**
   * Settings that make the steps so far what they are (the data stream and the loss): a resume
   * that changed one would continue another run than the one checkpointed, and once did so
   * silently ({@code --batch 32} restored the data position in units of 64).
   */
  private static final java.util.List<String> FIXED_ON_RESUME =
      java.util.List.of("arch", "objective", "batch", "seed", "dequantize", "augmentShift", "ice", "validation");

  /**
   * Compares the configuration a resume runs with ({@code now}) against the checkpoint's ({@code
   * TrainingState.configJson} of the checkpoint {@code checkpoint}), before any file of the run
   * changes: refuses a change to a setting that defines the run; returns what else changed
   * (epochs, the learning rate and its schedule, the data's path...), for {@link #sayResuming}, or
   * null.
   */
  static String checkResumeSettings(String checkpointConfigJson, Path checkpoint, TrainConfig now) {
    if (checkpointConfigJson == null || checkpointConfigJson.isBlank() || checkpointConfigJson.equals("{}")) return null;
    TrainConfig saved = TrainConfig.fromJson(checkpointConfigJson, checkpoint.resolve(Checkpoints.TRAINING) + ": configJson");
    java.util.Map<String, String> changed = now.changesFrom(saved.resolved());
    // Runs begun before train recorded a relative --data directory absolute (Datasets.recorded)
    // have it relative: the same directory, unless it now resolves to another one.
    if (saved.data() != null && Datasets.recorded(saved.data()).equals(now.data())) changed.remove("data");
    // The same for an architecture file, recorded absolute since 2026-12-05 (Architecture.recorded).
    // An older run's relative path is read, as its data's, from the working directory: the run never
    // recorded where it began, so that is the only base there is, and the right one when it is
    // resumed from where it began; then the same file spelled absolute (or relative) goes on. A
    // relative path that names no file from here stays as typed, no change either (the run goes on
    // with its checkpoint's architecture and says the file is not found); one that names another
    // file is refused, as any other architecture is.
    if (saved.arch() != null && Architecture.recorded(saved.arch()).equals(now.arch())) changed.remove("arch");
    for (var e : changed.entrySet()) {
      if (FIXED_ON_RESUME.contains(e.getKey().split("\\.")[0])) {
        throw new IllegalArgumentException("--resume continues the run as it was configured, and " + e.getKey()
            + " would change (" + e.getValue() + "): start a new run for that (--fresh, or another --out)");
      }
    }
    return changed.isEmpty() ? null : "resuming with " + String.join(", ", changed.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue()).toList()) + ": the steps so far used the former";
  }

  /**
   * Moves {@code it} to the checkpoint's place in its epoch, refusing a training split whose epoch
   * has another number of batches than the one checkpointed (another --data): the step count and
   * the place in the epoch would disagree, and such a run trained on past its last epoch ("epoch
   * 3/2", with an end-of-epoch evaluation in the middle of an epoch).
   */
  static void restorePosition(BatchIterator it, Checkpoints.TrainingState saved) {
    if (saved.epoch() > 0 && (long) saved.epoch() * it.batchesPerEpoch() + saved.batch() != saved.step()) {
      throw new IllegalArgumentException("--resume continues the run as it was configured, and an epoch would change"
          + " (" + (saved.step() - saved.batch()) / saved.epoch() + " -> " + it.batchesPerEpoch() + " batches: "
          + it.dataset().name() + " has other images than the run was trained on): start a new run for that (--fresh,"
          + " or another --out)");
    }
    it.restore(new BatchIterator.State(saved.epoch(), saved.batch()));
  }

  /**
   * Every trainer's first line on resuming {@code runDir} after {@code step} with the (0-based)
   * position {@code next} of the next batch, then the settings that changed ({@link
   * #checkResumeSettings}) and the thread count's. Nothing when the run has trained all its {@code
   * total} steps: it does not resume, and the caller says that there is nothing left to train.
   */
  static void sayResuming(Listener listener, Path runDir, long step, long total, BatchIterator.State next,
      String changedSettings) {
    if (step >= total) return;
    listener.onMessage("resuming " + runDir + " after step " + step + " (next: epoch " + (next.epoch() + 1)
        + ", batch " + (next.batch() + 1) + ")");
    if (changedSettings != null) listener.onMessage(changedSettings);
    sayIfEnvironmentChanged(listener, runDir);
  }

  /**
   * A run resumed at another thread count than its {@code config.json} records, or on other
   * OpenBLAS kernels ({@link #kernelsChanged}): said, because the convolutions then round
   * differently and the run leaves the path an uninterrupted one takes (an iCE run can take or miss
   * a shock over it; see the README). Resuming at the same count on the same kernels is exact.
   */
  private static void sayIfEnvironmentChanged(Listener listener, Path runDir) {
    JsonNode recorded;
    try {
      recorded = JSON.readTree(runDir.resolve(CONFIG).toFile()).path("environment");
    } catch (IOException e) {
      return; // no readable record: nothing to compare with
    }
    int before = recorded.path("threads").asInt(0);
    if (before > 0 && before != Host.threads()) {
      listener.onMessage("resuming at " + Host.threads() + " thread(s) where the run so far used " + before
          + ": it will not repeat an uninterrupted run exactly (use --threads " + before + " for that)");
    }
    String kernels = kernelsChanged(recorded, environment());
    if (kernels != null) listener.onMessage(kernels);
  }

  /**
   * What says that OpenBLAS picks other kernels than the run so far did ({@code recorded}, its
   * config's environment, against {@code now}), or null: another {@code cpu}, or another {@code
   * openblas_coretype}, which moved an iCE run's loss in the tenth digit. A record without {@code
   * cpu} (written before 2026-12-07, or where the processor was unknown) is compared on neither.
   */
  static String kernelsChanged(JsonNode recorded, Map<String, Object> now) {
    if (!recorded.path("cpu").isTextual()) return null;
    List<String> changed = new ArrayList<>();
    for (String key : List.of("cpu", "openblas_coretype")) {
      String before = recorded.path(key).isTextual() ? recorded.get(key).asText() : null;
      Object after = now.get(key);
      if (!java.util.Objects.equals(before, after)) {
        changed.add(key + " " + (before == null ? "unset" : before) + " -> " + (after == null ? "unset" : after));
      }
    }
    return changed.isEmpty() ? null : "resuming with " + String.join(", ", changed) + ": OpenBLAS's kernels may round"
        + " differently, so it may not repeat an uninterrupted run exactly";
  }

  /** The largest {@code |z_n|} past which an iCE run without the MLE term is warned (once). */
  static final double NUISANCE_OUTLIER = 1e3;

  /**
   * Says, and returns true, when an iCE step without the MLE term saw {@code |z_n|} beyond {@link
   * #NUISANCE_OUTLIER}: the sign that nothing bounds {@code z_n}'s scale. On the full Fashion-MNIST
   * such outliers reached 5*10^3-10^4 in the logged default runs, the one that collapsed and the one
   * that did not, and stayed below 900 with {@code --w-mle 0.001} (README, iCE experiments).
   */
  static boolean sayIfNuisanceOutliers(Listener listener, double znMaxAbs, long step, double wMle) {
    if (wMle > 0 || !(znMaxAbs > NUISANCE_OUTLIER)) return false;
    listener.onMessage(String.format(java.util.Locale.ROOT, "z_n reached |z| = %.3g at step %d: without the MLE"
        + " term nothing bounds its scale, and on the full Fashion-MNIST most such runs collapsed part-way;"
        + " a positive --w-mle (the default, 0.0003) bounds it (see the README's iCE experiments)", znMaxAbs, step + 1));
    return true;
  }

  /**
   * Training of {@code runDir} stopped at {@code step} (0-based) on batch {@code b}; every trainer's
   * message. It does not call {@code latest} good: saved a step or a few before, its weights can
   * be finite yet already diverged (~1e30), and a resume with a lower --lr then fails the same way.
   */
  static DivergedException diverged(String what, long step, BatchIterator.Batch b, Path runDir) {
    return diverged(what, null, step, b, runDir);
  }

  /** {@link #diverged(String, long, BatchIterator.Batch, Path)} saying {@code where} it went wrong (null: nothing). */
  static DivergedException diverged(String what, String where, long step, BatchIterator.Batch b, Path runDir) {
    String stopped = what + " " + atStep(step, b) + (where == null ? "" : "; " + where) + "; stopped without saving; ";
    if (!Checkpoints.exists(latest(runDir))) {
      return new DivergedException(stopped + "no checkpoint had been written yet; try a lower --lr");
    }
    String saved;
    try {
      saved = "the weights after step " + Checkpoints.trainingState(latest(runDir)).step();
    } catch (IOException e) {
      saved = "the weights last saved";
    }
    return new DivergedException(stopped + latest(runDir) + " holds " + saved + ": resume from it with a lower"
        + " --lr, and if that stops the same way its weights had already diverged: start over with --fresh and a"
        + " lower --lr");
  }

  /**
   * Whether an iCE loss that is not finite is the nuisance classifiers' alone: the model's
   * cross-entropy and {@code z_n} are finite and their term is not. A lower --lr, which the message
   * of a diverged model advises, does not mend that (an --adv-lr of 1e13 overflowed them).
   */
  static boolean adversariesDiverged(IceObjective.Terms t) {
    return Double.isFinite(t.ce()) && Double.isFinite(t.znMaxAbs()) && !Double.isFinite(t.nuisanceLoss());
  }

  /** The iCE options define the steps so far and cannot change on resume: the remedy is a new run. */
  private static DivergedException divergedAdversaries(IceObjective.Terms t, IceConfig ice, long step,
      BatchIterator.Batch b) {
    return new DivergedException("loss is " + t.loss() + " " + atStep(step, b) + ": the model's cross-entropy and"
        + " z_n are finite and the nuisance classifiers' term is " + t.nuisanceLoss() + ", so they diverged (--adv-lr "
        + ice.advLr() + ");"
        + " stopped without saving; the iCE options cannot change on resume: start over with --fresh and a lower"
        + " --adv-lr");
  }

  /** "at step N (epoch E, batch B)", 1-based, for {@code step} (0-based) on batch {@code b}. */
  private static String atStep(long step, BatchIterator.Batch b) {
    return "at step " + (step + 1) + " (epoch " + (b.epoch() + 1) + ", batch " + (b.batch() + 1) + ")";
  }

  private static DivergedException divergedLoss(double loss, InvertibleClassifier model, long step,
      BatchIterator.Batch b, Path runDir) {
    return diverged("loss is " + loss, whereNotFinite(model, b.features(), false), step, b, runDir);
  }

  /**
   * Where the passes of {@code model} over the batch {@code x} that stopped training first give a
   * NaN or infinity: the forward pass, else (for a {@code gradient}) the inverse of its output, with
   * which the backward pass rebuilds every block's input, so that an overflowing inverse (float32,
   * affine couplings with large scales) is told from an exploding gradient. With the weights as
   * training stopped: a gradient's step has already updated the blocks after the one it names (the
   * backward pass updates each block as it finishes it, last first). Runs the passes again, one
   * block at a time: on the failure path only.
   */
  static String whereNotFinite(InvertibleClassifier model, INDArray x, boolean gradient) {
    String weights = "with the weights as training stopped" + (gradient ? " (any block after it already updated"
        + " by this step), " : ", ");
    String forward = model.body().firstNonFiniteForward(x);
    if (forward != null) return weights + forward;
    if (!gradient) return weights + "the output of every block is finite";
    String inverse = model.firstNonFiniteInverse(model.forward(x, false).out());
    if (inverse != null) return weights + inverse + ", and the backward pass rebuilds each block's input by inverting it";
    return weights + "the forward pass of the batch and the inverse of its output are finite, which points to the"
        + " gradient itself rather than to a rebuilt input";
  }

  /**
   * Removes what a new run in {@code runDir} replaces: its metrics and, when starting over, its
   * checkpoints. Called once the configuration, architecture and data have loaded, so that a
   * mistyped {@code train --fresh} (a wrong option, a missing dataset) loses nothing.
   */
  static void clearForNewRun(Path runDir, boolean startOver) throws IOException {
    if (!Files.isDirectory(runDir)) return; // nothing to clear; a file in the way is said when the run is created
    Path checkpoints = latest(runDir).getParent();
    if (startOver && Files.isDirectory(checkpoints)) {
      try (java.util.stream.Stream<Path> s = Files.list(checkpoints)) {
        java.util.Optional<Path> theirs = s.filter(p -> !Checkpoints.isSavedAs(latest(runDir), p)
            && !Checkpoints.isSavedAs(best(runDir), p)).findFirst();
        if (theirs.isPresent()) throw Checkpoints.notWrittenByTraining(theirs.get());
      }
    }
    if (startOver) AtomicFiles.deleteTree(checkpoints);
    Files.deleteIfExists(runDir.resolve(METRICS));
  }

  /** Seconds since {@code origin}, a {@link System#nanoTime} reading. */
  static double secondsSince(long origin) {
    return (System.nanoTime() - origin) / 1e9;
  }

  /** Where a call that may run {@code maxSteps} more steps from {@code step} stops, at most {@code total}. */
  static long stopAt(long step, long total, long maxSteps) {
    return maxSteps >= total - step ? total : step + maxSteps;
  }

  /** {@code config.json}: the configuration, the environment and what the data is ({@link DataIdentity}). */
  static String resolvedConfig(TrainConfig cfg, DataIdentity data) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("config", JSON.readValue(cfg.toJson(), Map.class));
    m.put("environment", environment());
    m.put(DATASET, data.toMap());
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m);
  }

  /**
   * Versions, threads and what picks the numerical kernels, echoed into every config and report:
   * {@code cpu} (absent where /proc/cpuinfo names none) and {@code openblas_coretype} (only when
   * set), since OPENBLAS_CORETYPE moved an iCE run's loss in the tenth digit from step 2 (audit BQ).
   */
  public static Map<String, Object> environment() {
    Map<String, Object> env = new LinkedHashMap<>();
    env.put("java", System.getProperty("java.version"));
    env.put("nd4j", "1.0.0-M2.1");
    env.put("backend", String.valueOf(org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName()));
    env.put("threads", Host.threads());
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    String cpu = Host.cpuModel();
    if (cpu != null) env.put("cpu", cpu);
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    if (coretype != null) env.put("openblas_coretype", coretype);
    return env;
  }

  /**
   * Drops the metrics lines after {@code step} (a resumed run logs them again) and lines that are
   * not JSON; returns what to say of those before the last line (null when there are none): an
   * interruption cuts off only the last, so one further up was damaged by hand and went unsaid.
   */
  static String truncateMetrics(Path runDir, long step) throws IOException {
    Path p = runDir.resolve(METRICS);
    if (!Files.exists(p)) return null;
    List<String> keep = new ArrayList<>();
    List<Integer> damaged = new ArrayList<>();
    List<String> lines = utf8Lines(p);
    int last = lines.size() - 1;
    while (last >= 0 && lines.get(last) != null && lines.get(last).isBlank()) last--;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line == null) {
        if (i < last) damaged.add(i + 1);
        continue;
      }
      if (line.isBlank()) continue;
      try {
        if (JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= step) keep.add(line);
      } catch (IOException e) {
        if (i < last) damaged.add(i + 1);
      }
    }
    AtomicFiles.writeString(p, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
    return damaged.isEmpty() ? null : p + ": dropped " + damaged.size() + (damaged.size() == 1 ? " line" : " lines")
        + " that did not read as JSON (line " + damaged.stream().map(String::valueOf).collect(java.util.stream.Collectors
        .joining(", ")) + ")";
  }

  /**
   * The lines of {@code p}, each decoded as UTF-8 on its own; null for a line that is not UTF-8
   * (damaged). Decoded whole, one such byte stopped the resume with Java's "Input length = 1", which
   * named no file.
   */
  private static List<String> utf8Lines(Path p) throws IOException {
    byte[] bytes = Files.readAllBytes(p);
    java.nio.charset.CharsetDecoder utf8 = java.nio.charset.StandardCharsets.UTF_8.newDecoder();
    List<String> lines = new ArrayList<>();
    for (int start = 0, end; start < bytes.length; start = end + 1) {
      for (end = start; end < bytes.length && bytes[end] != '\n'; end++) {
        // up to the line's end
      }
      try {
        lines.add(utf8.decode(java.nio.ByteBuffer.wrap(bytes, start, end - start)).toString());
      } catch (java.nio.charset.CharacterCodingException e) {
        lines.add(null);
      }
    }
    return lines;
  }

  /**
   * Adam that updates each block as soon as the reversible backward pass has finished it, so no
   * gradient of the whole model is ever held (training memory flat in depth, parameter state
   * aside); the same updates as one step over all parameters. Public for the tests that retrace
   * training steps outside the trainer (in float64, for the PyTorch cross-check).
   */
  public static AdamOptimizer optimizer(InvertibleClassifier model, double lr) {
    AdamOptimizer adam = AdamOptimizer.grouped(model.params(), model.parameterGroups(), lr);
    model.setGradientListener(group -> {
      try {
        adam.stepGroup(group);
      } catch (AdamOptimizer.NonFiniteGradientException e) {
        // Named here, where the group is known, and only once a step has failed.
        throw new AdamOptimizer.NonFiniteGradientException(model.describeGroup(group));
      }
    });
    return adam;
  }

  /**
   * The training split and the images held out from it ({@code cfg.validation()}; null when none),
   * drawn with the run's seed.
   */
  static Dataset.HeldOut holdOut(Dataset train, TrainConfig cfg) {
    if (cfg.validation() == 0) return new Dataset.HeldOut(train, null);
    if (cfg.validation() >= train.size()) {
      // Named as the setting, as validate() names those: the command names the option or the --config file.
      throw new IllegalArgumentException("validation " + cfg.validation() + " must leave training images: "
          + train.name() + " has " + train.size());
    }
    return train.holdOut(cfg.validation(), cfg.seed());
  }

  /** Adds the validation split's accuracy to an epoch line; returns it (the score best is chosen by). */
  static double putValidation(Map<String, Object> epochLine, Evaluation.Result validation) {
    epochLine.put("validation_accuracy", validation.accuracy());
    epochLine.put("validation_loss", validation.loss());
    if (validation.nonFinite() > 0) epochLine.put("validation_non_finite_logits", validation.nonFinite());
    return validation.accuracy();
  }

  /** The fields of an {@code epoch} line every trainer logs. */
  static Map<String, Object> epochLine(long step, int epoch, Evaluation.Result test) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", "epoch");
    m.put("step", step);
    m.put("epoch", epoch);
    m.put("test_accuracy", test.accuracy());
    m.put("test_loss", test.loss());
    // Only when there are any: such images count as wrong, and this says why the loss is NaN.
    if (test.nonFinite() > 0) m.put("test_non_finite_logits", test.nonFinite());
    return m;
  }

  /**
   * The metrics file, opened to append. Its write errors name it: a full disk stopped training with
   * only "No space left on device".
   */
  static BufferedWriter appendMetrics(Path file) throws IOException {
    return new BufferedWriter(new java.io.OutputStreamWriter(AtomicFiles.naming(file,
        Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)), StandardCharsets.UTF_8));
  }

  static void writeLine(BufferedWriter w, Map<String, Object> m) throws IOException {
    w.write(JSON.writeValueAsString(m));
    w.newLine();
  }
}
