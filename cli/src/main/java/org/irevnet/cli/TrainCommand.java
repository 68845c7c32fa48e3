package org.irevnet.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.irevnet.data.Datasets;
import org.irevnet.io.RunLock;
import org.irevnet.models.Architecture;
import org.irevnet.settings.Ranges;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.IceConfig;
import org.irevnet.train.TrainConfig;
import org.irevnet.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
    header = "Train a classifier into a run directory (config, metrics, checkpoints).",
    description = {
        "Options override the --config file, which overrides the defaults. RUN_DIR gets config.json",
        "(fully resolved), metrics.jsonl, checkpoints/latest and checkpoints/best. --resume continues",
        "exactly where checkpoints/latest left off; a NaN loss stops with exit code 3 and leaves the",
        "last checkpoint intact, as does stopping it (Ctrl-C), which says where to resume from."})
final class TrainCommand implements Callable<Integer> {
  @Mixin CommonOptions common;
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "Run directory.")
  Path out;

  @Option(names = "--config", paramLabel = "FILE", description = "JSON file with any of the training options.")
  Path config;

  @Option(names = "--arch", description = "Architecture name or JSON file (default fi-revnet-s), or a"
      + " non-invertible DL4J baseline: resnet-s, cnn-s.")
  String arch;

  @Option(names = "--data", description = "Dataset: fashion-mnist-mini (shipped), fashion-mnist, or a directory"
      + " (default fashion-mnist-mini).")
  String data;

  @Option(names = "--epochs", description = "Passes over the training images (default 3).") Integer epochs;
  @Option(names = "--batch", description = "Images per training step (default 64).") Integer batch;
  @Option(names = "--lr", description = "Peak learning rate of Adam (default 1e-3).") Double lr;
  @Option(names = "--weight-decay", description = "Decoupled weight decay (AdamW), default 0.") Double weightDecay;
  @Option(names = "--warmup-steps", description = "Linear learning-rate warm-up (default 100).") Integer warmupSteps;
  @Option(names = "--schedule", completionCandidates = Choices.Schedule.class,
      description = "cosine (default), step or constant.") String schedule;
  @Option(names = "--seed", description = "Seed of everything random in the run: initialisation, batch order,"
      + " noise, held-out images (default 0).") Long seed;
  @Option(names = "--dequantize", description = "Add uniform noise U(0,1/256) to the pixels.") Boolean dequantize;
  @Option(names = "--augment-shift", description = "Random shifts of up to N pixels, below the image size (default 0: off).") Integer augmentShift;
  @Option(names = "--log-every", description = "Steps between metrics lines (default 20).") Integer logEvery;
  @Option(names = "--checkpoint-every", description = "Steps between checkpoints (default 500; also every epoch).") Integer checkpointEvery;
  @Option(names = "--validation", paramLabel = "N", description = "Hold out N training images (drawn with --seed) and"
      + " choose checkpoints/best by their accuracy (bits/dim for mle) after each epoch (default 0: none held out,"
      + " and best is the last epoch's; the test split never chooses).") Integer validation;

  @Option(names = "--objective", completionCandidates = Choices.Objective.class,
      description = "ce (default), ice (independence cross-entropy; fi-revnet only) or "
      + "mle (maximum likelihood: the model as a density on its input, dequantised; bijective architectures only).")
  String objective;

  @Option(names = "--w-nc", description = "iCE: weight of the nuisance term (default 0.3).") Double wNc;
  @Option(names = "--w-nc-warmup", paramLabel = "STEPS",
      description = "iCE: w_nc rises linearly from 0 over this many steps (default 200).") Integer wNcWarmup;
  @Option(names = "--w-mle", description = "iCE: weight of the MLE term (default 0.0003; > 0 turns on --dequantize).")
  Double wMle;
  @Option(names = "--nuisance-form", completionCandidates = Choices.NuisanceForm.class,
      description = "iCE: bounded (CE against uniform, default) or paper (-CE against y, capped per sample at"
          + " --paper-cap).") String nuisanceForm;
  @Option(names = "--paper-cap", description = "iCE paper form: cap of the adversary's per-sample CE (default ln C, chance for C classes).")
  Double paperCap;
  @Option(names = "--adv-steps", paramLabel = "K", description = "iCE: adversary updates per model step (default 3).")
  Integer advSteps;
  @Option(names = "--adv-hidden", description = "iCE: adversary MLP hidden width, 0 = linear (default 512).")
  Integer advHidden;
  @Option(names = "--adv-lr", description = "iCE: adversary Adam learning rate (default 1e-3).") Double advLr;
  @Option(names = "--adversaries", description = "iCE: ensemble size (default 3).") Integer adversaries;
  @Option(names = "--adv-reinit-every", paramLabel = "STEPS",
      description = "iCE: re-initialise each adversary every STEPS steps, staggered (default 300; 0: never).")
  Integer advReinitEvery;
  @Option(names = "--adv-standardize", arity = "1", paramLabel = "true|false",
      description = "iCE: adversaries see batch-standardised z_n (default true).") Boolean advStandardize;
  @Option(names = "--adv-replay", paramLabel = "BATCHES",
      description = "iCE: adversary steps draw from the last BATCHES batches' z_n (default 32; 0: current batch).")
  Integer advReplay;
  @Option(names = "--adv-whiten", description = "iCE experiment (off by default): adversaries see z_n whitened (ZCA of "
      + "a running covariance of z_n: exact mean of the batches until 100, then decay 0.99; refreshed every step of the "
      + "first 50, then every 25th; a constant in the model's gradient) in place of batch-standardised z_n. Needs "
      + "--adv-standardize true. Measured on the mini set (docs/measurements.md, audit BG): nothing hidden, and next "
      + "to nothing removed.")
  Boolean advWhiten;

  @Option(names = "--resume", description = "Continue the run in RUN_DIR from checkpoints/latest.")
  boolean resume;

  @Option(names = "--fresh", description = "Delete RUN_DIR's checkpoints and metrics and start over.")
  boolean fresh;

  @Option(names = "--backward", paramLabel = "reversible|stored", completionCandidates = Choices.Backward.class,
      description = "reversible (default: rebuilds activations, memory flat in depth) or stored (keeps the"
          + " couplings' conditioner activations: 5-18%% faster here, memory grows with depth and batch).")
  String backward;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N steps in this call (resume later).")
  Long maxSteps;

  @Override
  public Integer call() throws Exception {
    common.apply();
    if (resume && fresh) throw new IllegalArgumentException("--resume and --fresh exclude each other");
    if (maxSteps != null) Ranges.atLeast("--max-steps", maxSteps, 1);
    Path latest = Trainer.latest(out);
    CommonOptions.refuseInCheckpoints(out);
    CommonOptions.refuseRunsAnalysis(out, "this training run");
    // The same config.json names a VAE's settings, which train would replace.
    if (java.nio.file.Files.exists(out.resolve("vae.json"))) {
      throw new IllegalArgumentException(out + " holds a VAE run (vae.json), whose config.json train would replace:"
          + " choose another --out");
    }
    TrainConfig base = TrainConfig.defaults();
    if (resume) {
      if (!Checkpoints.exists(latest)) {
        // A run still before its first checkpoint, being trained by another process, was said to
        // have nothing to resume, as if nothing were training it.
        if (java.nio.file.Files.isDirectory(out)) {
          RunLock.acquire(out, "trained", "it has no checkpoint to resume from yet: wait for it to end").close();
        }
        // A checkpoints/latest without its manifest was said to be absent.
        throw new IllegalArgumentException(java.nio.file.Files.exists(latest, java.nio.file.LinkOption.NOFOLLOW_LINKS)
            ? latest + ": not a checkpoint (no " + Checkpoints.MANIFEST + "): damaged or incomplete, nothing to resume;"
                + " --fresh starts over"
            : out + ": nothing to resume (no checkpoints/latest)");
      }
      Path runConfig = out.resolve(Trainer.CONFIG);
      // Jackson's error said "RUN/config.json (No such file or directory)".
      if (!java.nio.file.Files.isRegularFile(runConfig)) {
        throw new IllegalArgumentException(runConfig + ": not found (--resume continues with the options it holds);"
            + " --fresh starts over");
      }
      com.fasterxml.jackson.databind.JsonNode saved = Json.read(runConfig, "config").get("config");
      if (saved == null || !saved.isObject()) throw new IllegalArgumentException(runConfig + ": has no \"config\" object");
      base = TrainConfig.fromJson(saved.toString(), runConfig.toString());
    } else if (!fresh && Checkpoints.exists(latest)) {
      throw new IllegalArgumentException(out + " already holds a run (checkpoints/latest): use --resume to continue it or --fresh to start over");
    } else if (!fresh && Checkpoints.exists(Trainer.best(out))) {
      // A run whose latest was deleted was trained over: its metrics went, and its old best stayed
      // beside the new run's latest, which the analyses took as this run's best.
      throw new IllegalArgumentException(out + " already holds a run (checkpoints/best, without the checkpoints/latest"
          + " --resume needs): use --fresh to start over, or another --out");
    }
    TrainConfig beforeFile = base;
    if (config != null) base = TrainConfig.read(config, base);
    String obj = or(objective, base.objective());
    IceConfig ice = null;
    if ("ice".equals(obj)) {
      IceConfig i = base.ice() != null ? base.ice() : IceConfig.defaults();
      ice = new IceConfig(or(wNc, i.wNc()), or(wNcWarmup, i.wNcWarmupSteps()), or(wMle, i.wMle()),
          or(nuisanceForm, i.nuisanceForm()), or(paperCap, i.paperCap()), or(advSteps, i.advSteps()),
          or(advHidden, i.advHidden()), or(advLr, i.advLr()), or(adversaries, i.adversaries()),
          or(advReinitEvery, i.advReinitEvery()), or(advStandardize, i.advStandardize()),
          or(advReplay, i.advReplay()), or(advWhiten, i.advWhiten()));
    } else if (java.util.stream.Stream.of(wNc, wNcWarmup, wMle, nuisanceForm, paperCap, advSteps, advHidden, advLr,
        adversaries, advReinitEvery, advStandardize, advReplay, advWhiten).anyMatch(java.util.Objects::nonNull)) {
      throw new IllegalArgumentException("the iCE options (--w-nc, --adv-*, ...) need --objective ice");
    } else if (config != null && !java.util.Objects.equals(base.ice(), beforeFile.ice())) {
      // The file's "ice" keys were dropped without a word for another objective: {"objective": "ce",
      // "ice": {"wNc": 1}} trained plain CE, as did an iCE file run with --objective ce.
      throw new IllegalArgumentException(config + ": the iCE settings (\"ice\") need objective ice, and this run's"
          + " is " + obj + ": leave them out, or train with objective ice");
    }
    // An architecture file and a data directory are recorded absolute (found from any directory);
    // names stay names.
    TrainConfig cfg = new TrainConfig(Architecture.recorded(or(arch, base.arch())), Datasets.recorded(or(data, base.data())), obj,
        or(epochs, base.epochs()), or(batch, base.batch()), or(lr, base.lr()), or(weightDecay, base.weightDecay()),
        or(warmupSteps, base.warmupSteps()), or(schedule, base.schedule()), or(seed, base.seed()),
        or(logEvery, base.logEvery()), or(checkpointEvery, base.checkpointEvery()), or(dequantize, base.dequantize()),
        or(augmentShift, base.augmentShift()), base.evalBatch(), ice, or(backward, base.backward()),
        or(validation, base.validation()));
    // The config's false is also the default's: only the option and the file say it was given.
    String dequantizeOff = Boolean.FALSE.equals(dequantize) ? "--dequantize=false"
        : dequantize == null && config != null && TrainConfig.setsFalse(config, "dequantize")
            ? config + ": \"dequantize\": false" : null;
    cfg = cfg.refuseUndequantizedLikelihood(dequantizeOff).resolved();
    try {
      cfg = config == null ? cfg.validate() : cfg.validate(config, beforeFile, base);
    } catch (IllegalArgumentException e) {
      throw namingOption(e);
    }
    // A resume of a moved run, or of one whose data moved, said only "DIR: no such directory".
    if (resume && data == null && java.util.Objects.equals(cfg.data(), beforeFile.data())) RunInputs.resolve(out, null);
    Interruption.hint(() -> whenStopped(out));
    ProgressListener listener = new ProgressListener(!common.noProgress && Terminal.stderr());
    Trainer.Result r;
    try {
      r = new Trainer(cfg, out, listener, maxSteps == null ? Long.MAX_VALUE : maxSteps, fresh).run();
    } catch (IllegalArgumentException e) {
      throw namingOption(config == null ? e : namingConfigPath(cfg.namingFile(e, config, beforeFile, base), beforeFile, base));
    } finally {
      listener.close();
    }
    // Best is chosen on the validation split, or is the last epoch (NaN score) without one.
    String best = Double.isNaN(r.bestAccuracy()) ? ""
        : cfg.hasMleObjective() ? String.format(" (checkpoints/best: validation bits/dim %.4f)", -r.bestAccuracy())
        : String.format(" (checkpoints/best: validation accuracy %.4f)", r.bestAccuracy());
    if (r.nothingLeft()) {
      System.out.printf("%s has trained all its %d steps (%d epoch(s)); nothing left to train (--resume --epochs %d"
          + " trains on)%s%n", out, r.steps(), cfg.epochs(), cfg.epochs() + 1, best);
    } else if (cfg.hasMleObjective() && !Double.isNaN(r.testBitsPerDim())) {
      System.out.printf("%s in %.0f s; test bits/dim %.4f%s; run: %s%n", trained(r), r.seconds(), r.testBitsPerDim(), best,
          out);
    } else if (Double.isNaN(r.testAccuracy())) {
      System.out.printf("stopped after step %d (%.0f s) before the end of an epoch; continue with --resume; run: %s%n",
          r.steps(), r.seconds(), out);
    } else {
      System.out.printf("%s in %.0f s; test accuracy %.4f%s; run: %s%n", trained(r), r.seconds(), r.testAccuracy(), best,
          out);
    }
    return 0;
  }

  /**
   * What a training stopped from outside adds after "interrupted": where --resume continues from, or
   * why it cannot. An epoch's end saves checkpoints/best, then checkpoints/latest: stopped between
   * the two, a first epoch said "no checkpoint had been written yet" beside the best it had written.
   */
  static String whenStopped(Path out) {
    Path latest = Trainer.latest(out);
    if (Checkpoints.exists(latest)) return "continue from " + latest + " with --resume";
    if (Checkpoints.exists(Trainer.best(out))) {
      return "checkpoints/best was written, but not yet checkpoints/latest, which --resume continues from: start"
          + " again with --fresh";
    }
    return "no checkpoint had been written yet";
  }

  /** The steps this call trained: a resumed run's "trained 188 steps in 37 s" counted the 94 before it. */
  private static String trained(Trainer.Result r) {
    long n = r.steps() - r.fromStep();
    return r.fromStep() == 0 ? "trained " + n + (n == 1 ? " step" : " steps")
        : "trained steps " + (r.fromStep() + 1) + "-" + r.steps();
  }

  /**
   * {@code e} with the settings it names ({@code wNc must be ...}) named as the options the user
   * typed ({@code --w-nc must be ...}), as the other commands name theirs: the setting it starts
   * with when an option gave it, and each other camel-case setting when an option gave it or no
   * --config file was given ("--adv-steps 0 with wNc 0.3 ... give advSteps at least 1" mixed both).
   */
  private IllegalArgumentException namingOption(IllegalArgumentException e) {
    String message = String.valueOf(e.getMessage());
    java.util.regex.Matcher m = SETTING.matcher(message);
    StringBuilder named = new StringBuilder();
    boolean changed = false;
    while (m.find()) {
      String key = m.group(), name = optionFor(key);
      OptionSpec option = spec.findOption(name);
      // Plain words within the message ("batch", "lr") are left alone: only its first may be a key.
      boolean camel = !key.equals(key.toLowerCase(java.util.Locale.ROOT));
      boolean rename = option != null && (m.start() == 0 || camel)
          && (option.getValue() != null || camel && config == null);
      m.appendReplacement(named, java.util.regex.Matcher.quoteReplacement(rename ? name : key));
      changed |= rename;
    }
    m.appendTail(named);
    return changed ? new IllegalArgumentException(named.toString(), e) : e;
  }

  /** A word that can be a setting's name: not part of a path or a file name. */
  private static final java.util.regex.Pattern SETTING = java.util.regex.Pattern.compile("(?<![\\w/.-])[a-z]+(?:[A-Z][a-z]*)*(?![\\w/.-])");

  /** The option that sets a config key: {@code wNcWarmupSteps} is {@code --w-nc-warmup}, else the key in kebab case. */
  private static String optionFor(String key) {
    return "wNcWarmupSteps".equals(key) ? "--w-nc-warmup" : "--" + key.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * {@code e}, naming the {@code --config} file, when the relative {@code arch} or {@code data} path
   * the file gave ({@code fromFile}, over {@code beforeFile}; no option replaced it) named nothing:
   * it is read from the working directory, as on the command line, not from the file's folder, and
   * "arch/tiny8.json: architecture file not found" named neither the file nor that rule.
   */
  private IllegalArgumentException namingConfigPath(IllegalArgumentException e, TrainConfig beforeFile,
      TrainConfig fromFile) {
    String message = String.valueOf(e.getMessage());
    for (String[] given : new String[][] {{arch, beforeFile.arch(), fromFile.arch()},
        {data, beforeFile.data(), fromFile.data()}}) {
      String option = given[0], before = given[1], read = given[2];
      if (option != null || read == null || read.equals(before) || Path.of(read).isAbsolute()) continue;
      Path looked = Path.of("").toAbsolutePath().resolve(read).normalize();
      if (message.startsWith(read + ": ") || message.startsWith(looked + ": ")) {
        return new IllegalArgumentException(config + ": " + message + "; a relative path in a --config file is read"
            + " from the working directory, not from the file's folder", e);
      }
    }
    return e;
  }

  private static <T> T or(T v, T fallback) {
    return v != null ? v : fallback;
  }

  /** A progress bar on a terminal; plain log lines on stderr otherwise. */
  static final class ProgressListener implements Trainer.Listener, AutoCloseable {
    private final boolean bar;
    private ProgressBar pb;

    ProgressListener(boolean bar) {
      this.bar = bar;
    }

    @Override
    public void onStep(Trainer.StepInfo s) {
      if (bar) {
        if (pb == null) {
          pb = new ProgressBarBuilder().setTaskName("train").setInitialMax(s.totalSteps())
              .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed().build();
        }
        pb.stepTo(s.step());
        pb.setExtraMessage(String.format("epoch %d/%d loss %.3f acc %.3f %.0f img/s", s.epoch(), s.epochs(),
            s.loss(), s.accuracy(), s.imagesPerSecond()));
      } else {
        System.err.printf("step %d/%d  epoch %d/%d  batch %d/%d  loss %.4f  acc %.3f  lr %.2e  %.0f img/s%n",
            s.step(), s.totalSteps(), s.epoch(), s.epochs(), s.batch(), s.batchesPerEpoch(), s.loss(), s.accuracy(),
            s.lr(), s.imagesPerSecond());
      }
    }

    @Override
    public void onEpoch(java.util.Map<String, Object> m) {
      String validation = m.containsKey("validation_bits_per_dim")
          ? String.format("validation bits/dim %.4f, ", (Double) m.get("validation_bits_per_dim"))
          : m.containsKey("validation_accuracy")
              ? String.format("validation accuracy %.4f, ", (Double) m.get("validation_accuracy")) : "";
      String line = m.containsKey("test_bits_per_dim")
          ? String.format("epoch %s done: %stest bits/dim %.4f, %.0f s", m.get("epoch"), validation,
              (Double) m.get("test_bits_per_dim"), (Double) m.get("seconds"))
          : String.format("epoch %s done: %stest accuracy %.4f, test loss %.4f, %.0f s", m.get("epoch"), validation,
              (Double) m.get("test_accuracy"), (Double) m.get("test_loss"), (Double) m.get("seconds"));
      if (pb != null) pb.setExtraMessage(line);
      else System.err.println(line);
    }

    @Override
    public void onMessage(String line) {
      System.err.println(line);
    }

    @Override
    public void close() {
      if (pb != null) pb.close();
    }
  }
}
