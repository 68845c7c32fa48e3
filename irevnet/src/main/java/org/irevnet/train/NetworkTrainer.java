package org.irevnet.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.irevnet.data.Augment;
import org.irevnet.data.BatchIterator;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.DataSource;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.host.Host;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.Baselines;
import org.irevnet.models.Dl4jClassifier;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Trains a non-invertible DL4J baseline ({@link Baselines}) into a run directory exactly as {@link
 * Trainer} does an invertible model: the same data pipeline and order, learning-rate schedule,
 * {@code config.json}, {@code metrics.jsonl} lines, epoch evaluation, {@code checkpoints/latest}
 * and {@code best} (with DL4J's {@code model.zip}, see {@link Checkpoints}) and resumption. DL4J's
 * own {@code fit} does the steps (softmax cross-entropy, Adam with the configured learning rate
 * set before each step).
 */
final class NetworkTrainer {
  private static final int GC_EVERY = 20;
  private final TrainConfig cfg;
  private final Path runDir;
  private final Trainer.Listener listener;
  private final long maxSteps;
  private final boolean startOver;

  NetworkTrainer(TrainConfig cfg, Path runDir, Trainer.Listener listener, long maxSteps, boolean startOver) {
    if (cfg.hasIceObjective() || cfg.hasMleObjective()) {
      throw new IllegalArgumentException("objective " + (cfg.hasIceObjective() ? "ice" : "mle")
          + " needs an invertible architecture, '" + cfg.arch() + "' is a non-invertible baseline");
    }
    // Accepted and recorded as the run's, though DL4J's backward pass stores every activation anyway.
    if (cfg.storesActivations()) {
      throw new IllegalArgumentException("backward stored needs an invertible architecture (a baseline's backward pass"
          + " is DL4J's), '" + cfg.arch() + "' is a non-invertible baseline");
    }
    this.cfg = cfg;
    this.runDir = runDir;
    this.listener = listener;
    this.maxSteps = maxSteps;
    this.startOver = startOver;
  }

  Trainer.Result run() throws IOException {
    long t0 = System.nanoTime();
    DataSource src = Datasets.resolve(cfg.data());
    Dataset rawTrain = Trainer.checkAugmentShift(src.load(Split.TRAIN), cfg);
    Trainer.checkTwoClasses(cfg.data(), rawTrain);
    Dataset rawTest = src.load(Split.TEST);
    Trainer.checkSameClasses(cfg.data(), rawTrain, rawTest);
    Dataset.HeldOut parts = Trainer.holdOut(Baselines.prepare(rawTrain), cfg);
    Dataset train = parts.train(), validation = parts.validation();
    Dataset test = Baselines.prepare(rawTest);
    int classes = train.classNames().size();
    long[] chw = {train.channels(), Baselines.SIZE, Baselines.SIZE};
    BatchIterator it = BatchIterator.builder(train).batchSize(cfg.batch()).seed(cfg.seed()).shuffle(true)
        .dequantize(cfg.dequantize()).augment(Augment.shifts(cfg.augmentShift()))
        .build();
    long total = (long) cfg.epochs() * it.batchesPerEpoch();
    ComputationGraph net;
    long step;
    double best;
    double before = 0; // training seconds of the sessions before this one
    Path latest = Trainer.latest(runDir);
    if (!startOver && Checkpoints.exists(latest)) {
      Checkpoints.LoadedNetwork c = Checkpoints.loadNetwork(latest);
      String changed = Trainer.checkResumeSettings(c.state().configJson(), Checkpoints.complete(latest), cfg);
      net = c.net();
      step = c.state().step();
      best = c.state().bestAccuracy();
      before = c.state().secondsOrZero();
      Trainer.restorePosition(it, c.state());
      String dropped = Trainer.truncateMetrics(runDir, step);
      Trainer.sayResuming(listener, runDir, step, total, it.nextPosition(), changed);
      if (dropped != null) listener.onMessage(dropped);
    } else {
      net = Baselines.build(cfg.arch(), train.channels(), classes, cfg.seed(), cfg.lr(), cfg.weightDecay());
      step = 0;
      best = Double.NEGATIVE_INFINITY;
      Trainer.clearForNewRun(runDir, startOver);
    }
    Dl4jClassifier model = Dl4jClassifier.of(net, cfg.arch(), chw, null);
    if (step == 0) {
      listener.onMessage(model.summary());
      Trainer.sayIfBatchExceeds(listener, cfg.batch(), train.size());
      Trainer.sayIfClassesHaveNoTrainingImages(listener, train, validation != null);
      Trainer.sayIfWarmupsOutlastTheRun(listener, cfg, total);
    }
    if (step >= total) return new Trainer.Result(step, Double.NaN, best, 0, Double.NaN, true, step);
    long fromStep = step;
    long origin = t0 - Math.round(before * 1e9); // the run's training time counts the sessions before this one
    AtomicFiles.createDirectories(runDir); // only now: bad input above leaves no directory behind
    AtomicFiles.writeString(runDir.resolve(Trainer.CONFIG), Trainer.resolvedConfig(cfg, DataIdentity.of(src, rawTest)));

    long stopAt = Trainer.stopAt(step, total, maxSteps);
    double lastTest = Double.NaN;
    try (BufferedWriter metrics = Trainer.appendMetrics(runDir.resolve(Trainer.METRICS))) {
      StepWindow window = new StepWindow();
      while (step < stopAt) {
        if (!it.hasNext()) it.reset();
        BatchIterator.Batch b = it.nextBatch();
        double lr = cfg.lrAt(step, total);
        net.setLearningRate(lr);
        INDArray x = b.features();
        // The batch's accuracy before the step, from an extra evaluation-mode forward pass (fit
        // does not expose its outputs); Trainer's comes from its training-mode pass instead.
        double acc = Losses.accuracy(net.outputSingle(false, x), b.labels());
        net.fit(new DataSet(x, Tensors.oneHot(b.labels(), classes, DataType.FLOAT)));
        double loss = net.score();
        if (!Double.isFinite(loss)) {
          throw Trainer.diverged("loss is " + loss, step, b, runDir);
        }
        step++;
        Host.collectGarbage(step, GC_EVERY);
        window.add(loss, acc, b.labels().length);
        if (step % cfg.logEvery() == 0 || step == stopAt) {
          window.report(metrics, listener, step, total, cfg.epochs(), b, it.batchesPerEpoch(), lr, Map.of());
        }
        boolean epochEnd = !it.hasNext();
        if (epochEnd) {
          Evaluation.Result ev = Evaluation.evaluate(model, test, cfg.evalBatch(), "test");
          lastTest = ev.accuracy();
          Map<String, Object> m = Trainer.epochLine(step, b.epoch() + 1, ev);
          // Without a validation split best is the last epoch's (NaN): the test split never chooses.
          double score = validation == null ? Double.NaN
              : Trainer.putValidation(m, Evaluation.evaluate(model, validation, cfg.evalBatch(), "validation"));
          m.put("seconds", Trainer.secondsSince(origin));
          Trainer.writeLine(metrics, m);
          listener.onEpoch(m);
          if (Double.isNaN(score) || score > best) {
            best = score;
            save(Trainer.best(runDir), net, step, it, best, Trainer.secondsSince(origin));
          }
        }
        if (epochEnd || step % cfg.checkpointEvery() == 0 || step == stopAt) {
          metrics.flush();
          save(latest, net, step, it, best, Trainer.secondsSince(origin));
        }
      }
    }
    return new Trainer.Result(step, lastTest, best, Trainer.secondsSince(t0), Double.NaN, false, fromStep);
  }

  private void save(Path where, ComputationGraph net, long step, BatchIterator it, double best, double seconds)
      throws IOException {
    BatchIterator.State s = it.state();
    Checkpoints.save(where, net, new Checkpoints.TrainingState(step, s.epoch(), s.batch(), best, cfg.toJson(), seconds));
  }
}
