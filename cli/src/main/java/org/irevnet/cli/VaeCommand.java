package org.irevnet.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.DataSource;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Seeds;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.Npz;
import org.irevnet.io.RunLock;
import org.irevnet.settings.Ranges;
import org.irevnet.train.AdamOptimizer;
import org.irevnet.train.Trainer;
import org.irevnet.vae.ConvVae;
import org.irevnet.vae.Flows;
import org.irevnet.vae.SylvesterFlow;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "vae", mixinStandardHelpOptions = true,
    header = "Train a small convolutional VAE with a flow posterior; test ELBO and importance-sampled NLL.",
    description = {
        "Binarised images (dynamically in training, once with a fixed seed for the test subset),",
        "Bernoulli likelihood. The posterior is a diagonal Gaussian refined by --flow, whose",
        "parameters the encoder emits per image. Evaluation on the first --test-images test",
        "images: ELBO = mean log w and NLL = -log mean w over --is-samples samples per image.",
        "Writes OUT/vae.json, OUT/config.json (bin/irevnet report OUT... compares runs) and the trained",
        "weights, OUT/weights.npz; an OUT that holds them already needs --fresh. sylvester-orthogonal records the",
        "largest |QᵀQ - I| of its iterated Q; above 1e-5 its log-det is wrong: results written, exit code 1."})
final class VaeCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--flow", required = true, paramLabel = "FLOW", completionCandidates = Choices.Flow.class,
      description = "${COMPLETION-CANDIDATES}.")
  String flow;

  @Option(names = "--data", defaultValue = "fashion-mnist-mini",
      description = "Dataset of 28x28 grey images (default fashion-mnist-mini).")
  String data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory for vae.json.")
  Path out;

  @Option(names = "--epochs", defaultValue = "5", description = "Training epochs (default 5).") int epochs;

  @Option(names = "--train-images", defaultValue = "0",
      description = "Use the first N training images (default 0: all).") int trainImages;

  @Option(names = "--batch", defaultValue = "100", description = "Batch size (default 100).") int batch;

  @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default 1e-3).") double lr;

  @Option(names = "--latent", defaultValue = "16", description = "Latent dimension (default 16).") int latent;

  @Option(names = "--hidden", defaultValue = "256", description = "Dense hidden width (default 256).") int hidden;

  @Option(names = "--flow-steps", defaultValue = "4",
      description = "Planar/Sylvester steps, or Householder-flow reflections (default 4).") int flowSteps;

  @Option(names = "--reflections", defaultValue = "4",
      description = "Householder reflections per sylvester-householder step (default 4).") int reflections;

  @Option(names = "--orthonormal", defaultValue = "8",
      description = "Orthonormal columns per sylvester-orthogonal step (default 8).") int orthonormal;

  @Option(names = "--test-images", defaultValue = "500", description = "Test images evaluated (default 500).") int testImages;

  @Option(names = "--is-samples", defaultValue = "1000", description = "Importance samples per test image (default 1000).") int isSamples;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default 0).") long seed;

  @Option(names = "--fresh", description = "Replace the results of an earlier run in --out instead of refusing.")
  boolean fresh;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  @Override
  public Integer call() throws Exception {
    common.apply();
    if (!Flows.NAMES.contains(flow)) {
      throw new IllegalArgumentException("--flow must be one of " + String.join(", ", Flows.NAMES) + ", got " + flow);
    }
    CommonOptions.positive("--epochs", epochs);
    // ND4J M2.1's strided_slice_bp fails on a one-row batch, in the middle of the first epoch
    Ranges.atLeast("--batch", batch, 2);
    CommonOptions.positive("--latent", latent);
    CommonOptions.positive("--hidden", hidden);
    // The flow's own check said "orthonormal vectors must be in 1..16", naming neither option.
    if (flow.equals("sylvester-orthogonal") && (orthonormal < 1 || orthonormal > latent)) {
      throw new IllegalArgumentException("--orthonormal must be in 1..--latent (" + latent + "), got " + orthonormal);
    }
    // Said, not refused: experiments/vae.sh gives its extra options to all six flows.
    for (String[] o : new String[][] {{"--reflections", "sylvester-householder"}, {"--orthonormal", "sylvester-orthogonal"},
        {"--flow-steps", null}}) {
      boolean unused = o[1] == null ? flow.equals("none") : !flow.equals(o[1]);
      if (unused && CommonOptions.typed(spec, o[0])) {
        System.err.println("irevnet vae: note: " + o[0] + " is not used by --flow " + flow
            + (o[1] == null ? "" : " (only by " + o[1] + ")"));
      }
    }
    CommonOptions.positive("--test-images", testImages);
    CommonOptions.positive("--is-samples", isSamples);
    Ranges.learningRate("--lr", lr); // float32: beyond its range Adam stepped by 1e-8 and nothing trained
    Ranges.atLeast("--train-images", trainImages, 0); // 0 means all
    CommonOptions.refuseInCheckpoints(out);
    // A run's analysis/: that run's report showed these files as its own results.
    CommonOptions.refuseRunsAnalysis(out, "these results");
    try (RunLock writing = CommonOptions.writingResults(out, fresh, "vae.json", "config.json", "weights.npz")) {
      return trainAndWrite();
    }
  }

  /** Trains and evaluates the VAE, and writes its results into {@code out}; the exit code. */
  private int trainAndWrite() throws Exception {
    // --fresh replaces a vae's results; a training run's config.json is what its --resume, eval and
    // analyses read, and replacing it would break them all.
    for (String f : new String[] {"checkpoints", "metrics.jsonl"}) {
      if (java.nio.file.Files.exists(out.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException(out + " holds a training run (" + f + "), whose config.json vae would"
            + " replace: choose another --out");
      }
    }
    DataSource source = Datasets.resolve(data);
    Dataset train = source.train();
    Dataset test = source.test();
    // The test split too: one of another size trained a whole run, then stopped in ND4J's reshape
    // (exit 3, native error lines).
    for (Dataset d : List.of(train, test)) {
      if (d.channels() != 1 || d.height() != 28 || d.width() != 28) {
        throw new IllegalArgumentException("vae needs 1x28x28 images, " + d.name() + " has "
            + d.channels() + "x" + d.height() + "x" + d.width());
      }
    }
    int nTrain = trainImages > 0 ? Math.min(trainImages, train.size()) : train.size();
    int nTest = Math.min(testImages, test.size());
    if (nTrain < batch) throw new IllegalArgumentException("--batch " + batch + " exceeds the " + nTrain + " training images");
    INDArray trainX = train.images().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, nTrain)).reshape(nTrain, 784).dup();
    INDArray testX = ConvVae.binarise(test.images().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, nTest)),
        new Random(Seeds.mix(seed, 1)));

    ConvVae.Config cfg = new ConvVae.Config(flow, latent, hidden, flowSteps, reflections, orthonormal);
    ConvVae vae = new ConvVae(cfg, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    AdamOptimizer opt = vae.optimizer(lr);
    Random rng = new Random(Seeds.mix(seed, 2));
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime(), cpu0 = cpuNanos();
    for (int e = 0; e < epochs; e++) {
      double l = vae.trainEpoch(trainX, batch, opt, seed, e, rng);
      losses.add(l);
      if (!common.noProgress) {
        System.err.printf("vae %s: epoch %d/%d, train -ELBO %.2f nats (%.0f s)%n", flow, e + 1, epochs, l, (System.nanoTime() - t0) / 1e9);
      }
    }
    double trainSeconds = (System.nanoTime() - t0) / 1e9, trainCpu = (cpuNanos() - cpu0) / 1e9;
    long t1 = System.nanoTime(), cpu1 = cpuNanos();
    ConvVae.Evaluation ev = vae.evaluate(testX, isSamples, Math.min(isSamples, 500), new Random(Seeds.mix(seed, 3)));
    double evalSeconds = (System.nanoTime() - t1) / 1e9, evalCpu = (cpuNanos() - cpu1) / 1e9;
    if (!Double.isFinite(ev.elbo()) || !Double.isFinite(ev.nll())) {
      System.err.println("irevnet vae: the evaluation is not finite (ELBO " + ev.elbo() + ", NLL " + ev.nll()
          + "); nothing written");
      return Main.RUN_FAILED;
    }

    Map<String, Object> cfgMap = new LinkedHashMap<>();
    cfgMap.put("flow", flow);
    cfgMap.put("data", data); // as typed, as train records it: a directory's name alone did not say which
    cfgMap.put("likelihood", "Bernoulli on binarised pixels (dynamic in training, fixed seed for test)");
    cfgMap.put("latent", latent);
    cfgMap.put("hidden", hidden);
    cfgMap.put("flow_steps", flowSteps);
    cfgMap.put("reflections", reflections);
    cfgMap.put("orthonormal", orthonormal);
    cfgMap.put("seed", seed);
    cfgMap.put("epochs", epochs);
    cfgMap.put("batch", batch);
    cfgMap.put("lr", lr);
    cfgMap.put("train_images", nTrain);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("schemaVersion", org.irevnet.reports.JsonReport.SCHEMA_VERSION); // as every other result file
    r.putAll(cfgMap);
    r.put("flow_params_per_image", vae.flow().paramCount());
    r.put("params", vae.params().count());
    r.put("test_images", ev.images());
    r.put("is_samples", ev.samples());
    r.put("test_elbo_nats", ev.elbo());
    r.put("test_is_nll_nats", ev.nll());
    r.put("test_is_nll_std_error", ev.nllStdError());
    if (vae.measuresOrthogonality()) {
      r.put("orthogonality_error_train", vae.orthogonalityError());
      r.put("orthogonality_error_test", ev.orthogonalityError());
      r.put("orthogonality_tolerance", SylvesterFlow.ORTHOGONALITY_TOLERANCE);
    }
    r.put("train_neg_elbo_per_epoch", losses);
    r.put("train_seconds", trainSeconds);
    r.put("eval_seconds", evalSeconds);
    // Process CPU time next to wall time: on a shared machine the wall time includes waiting.
    r.put("train_cpu_seconds", trainCpu);
    r.put("eval_cpu_seconds", evalCpu);
    r.put("threads", org.irevnet.host.Host.threads());
    // config.json makes OUT a run directory for the report command (its "VAE" section and headline).
    AtomicFiles.together(() -> {
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("config", cfgMap);
      config.put("environment", Trainer.environment());
      // The data by content, as a training run records it (the report's headline shows it).
      config.put(Trainer.DATASET, DataIdentity.of(source, test).toMap());
      AtomicFiles.writeString(out.resolve("config.json"), Json.pretty(config) + "\n");
      // The numbers in vae.json can be recomputed outside (scripts/torch_density.py) only from these.
      Npz.write(out.resolve("weights.npz"), vae.params().state());
      AtomicFiles.writeString(out.resolve("vae.json"), Json.pretty(r) + "\n");
    });
    System.out.println(Json.line(r));
    String failed = vae.measuresOrthogonality() ? orthogonalityFailure(vae.orthogonalityError(), ev.orthogonalityError()) : null;
    if (failed != null) {
      System.err.println("irevnet vae: " + failed);
      return 1;
    }
    return 0;
  }

  /**
   * Null when both largest {@code |QᵀQ - I|} entries (training, test) are within the tolerance,
   * else the one-line failure: past it the log-det formula is not the flow's, so the objective
   * trained or the numbers reported are not what they say.
   */
  static String orthogonalityFailure(double train, double test) {
    double tol = SylvesterFlow.ORTHOGONALITY_TOLERANCE;
    if (train <= tol && test <= tol) return null; // NaN fails
    boolean inTest = !(test <= tol);
    return String.format("orthogonality check failed: sylvester-orthogonal's Q after %d iterations has |QᵀQ - I|"
        + " up to %.3g %s (%s %.3g), above the tolerance %.3g: the log-det formula assumes QᵀQ = I, so %s (some raw"
        + " matrix's condition number is above about 1e4)", SylvesterFlow.ORTHOGONALISATION_STEPS, inTest ? test : train,
        inTest ? "on the test images" : "in training", inTest ? "training" : "test", inTest ? train : test, tol,
        inTest ? "the ELBO and IS-NLL written are wrong" : "the objective trained was not the ELBO");
  }
}
