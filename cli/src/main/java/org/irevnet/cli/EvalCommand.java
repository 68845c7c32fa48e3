package org.irevnet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.reports.JsonReport;
import org.irevnet.settings.Ranges;
import org.irevnet.stats.Proportions;
import org.irevnet.train.Density;
import org.irevnet.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
    header = "Accuracy, per-class accuracy and confusion matrix of a trained run (and, for bijective models, "
        + "bits/dim); one JSON object.",
    description = {"Prints the JSON object and saves it as RUN_DIR/eval-<split>.json, or eval-NAME.json with --as NAME.",
        "accuracy_ci95 and per_class_accuracy_ci95 are 95%% Wilson intervals over the images counted: the sampling",
        "of the test images given this trained model, not the spread over training seeds.",
        "Bijective models add the density of the split: bits_per_dim (per real pixel: the joint likelihood of the",
        "dequantised pixels and zero padding, an upper bound on the real pixels' NLL), bits_per_input_dim (the same",
        "per input dimension, padding included), nats_per_input_dim (the continuous NLL)."})
final class EvalCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOrModelOptions target;

  @Option(names = "--split", defaultValue = "test", completionCandidates = Choices.EvalSplit.class,
      description = "test (default) or train.") String split;

  @Option(names = "--checkpoint", completionCandidates = Choices.Checkpoint.class,
      description = "best or latest (default: best, else latest).") String checkpoint;

  @Option(names = "--as", paramLabel = "NAME",
      description = "Save as RUN_DIR/eval-NAME.json (letters, digits, - and _), so evaluations on other test sets "
          + "(e.g. --data SHORTCUT/randomised --as randomised) sit next to eval-test.json; the report shows each.")
  String as;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Save eval-NAME.json in DIR instead of the run directory (for a run on a read-only file system;"
          + " the report shows only those in the run directory).")
  Path outDir;

  @Override
  public Integer call() throws Exception {
    common.apply();
    Ranges.oneOf("--split", split, Choices.EVAL_SPLITS);
    Split sp = split.equals("train") ? Split.TRAIN : Split.TEST;
    if (as != null && !as.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("--as must be letters, digits, - or _, got '" + as + "'");
    if (as != null && (as.equals("test") || as.equals("train")) && !as.equals(split)) {
      throw new IllegalArgumentException("--as " + as + " would overwrite the " + as + " split's evaluation; choose another name");
    }
    String name = as == null ? split : as;
    // --out naming the run's own directory is no other place; another run's, whose eval-NAME.json
    // would be replaced and whose report would show this evaluation as that run's, is refused.
    boolean intoOwn = outDir == null || Datasets.sameDirectory(outDir, target.runDirPath());
    if (!intoOwn && CommonOptions.isRun(outDir)) {
      throw new IllegalArgumentException("--out " + outDir + " is the directory of another run, whose report would show"
          + " this evaluation as that run's own: give another directory");
    }
    // Another run's analysis/ likewise: its report took this eval-test.json for that run's "other results".
    if (!intoOwn) CommonOptions.refuseOtherRunsAnalysis(outDir, target.runDirPath(), "this evaluation");
    // "--as test" (or train with --split train) names the split's own file: it replaced the run's
    // eval-test.json with other data's, which the report then showed as the run's test accuracy.
    if (name.equals(split) && intoOwn && !target.isOwnData()) {
      throw new IllegalArgumentException("--data " + target.data + " is not the data " + target.ownDataOf() + ":"
          + " name this evaluation with --as NAME" + (as == null ? "" : " other than " + as) + ", so that it does not"
          + " replace eval-" + split + ".json");
    }
    target.check();
    // Written last: a run directory nothing can be written in failed only after the evaluation.
    // A run on a read-only mount could not be evaluated: the result had nowhere to go.
    Path dir = outDir != null ? outDir : target.existingRunDir();
    if (outDir != null) CommonOptions.refuseInCheckpoints(outDir);
    if (dir != null) AtomicFiles.checkCanWrite(dir.resolve("eval-" + name + ".json"));
    RunInputs in = target.load(checkpoint, sp).requireTrainingSize();
    var ds = in.data();
    Evaluation.Result r = Evaluation.evaluate(in.classifier(), ds, 250, split);
    Map<String, Object> out = new LinkedHashMap<>();
    // As every other result file: the report refuses a newer one rather than misread it.
    out.put("schemaVersion", JsonReport.SCHEMA_VERSION);
    out.put("accuracy", r.accuracy());
    out.put("accuracy_ci95", Proportions.wilson95OfShare(r.accuracy(), r.count()));
    out.put("loss", r.loss());
    out.put("count", r.count());
    out.put("non_finite_logits", r.nonFinite()); // images counted as wrong for want of a prediction
    out.put("split", split);
    out.put("name", name);
    out.put("data", ds.name());
    out.put("data_path", in.dataDir().toString());
    out.put("checkpoint", in.checkpoint());
    if (in.weightsSha256() != null) out.put(JsonReport.WEIGHTS_SHA256, in.weightsSha256());
    out.put("class_names", r.classNames());
    out.put("per_class_accuracy", r.perClassAccuracy());
    out.put("per_class_count", r.perClassCount()); // the images each accuracy is over, non-finite ones included
    List<Proportions.Interval> perClass = new ArrayList<>();
    for (int c = 0; c < r.perClassCount().length; c++) {
      perClass.add(Proportions.wilson95OfShare(r.perClassAccuracy()[c], r.perClassCount()[c]));
    }
    out.put("per_class_accuracy_ci95", perClass);
    out.put("confusion_matrix", r.confusion());
    if (in.classifier() instanceof InvertibleClassifier m && m.isBijective()) {
      Density.Eval d = new Density(m, in.content().dims()).evaluate(ds, 250, Density.EVAL_SEED);
      out.put("bits_per_dim", d.bitsPerDim());
      out.put("bits_per_input_dim", d.bitsPerInputDim());
      out.put("nats_per_input_dim", d.natsPerDim());
      out.put("content_dims", d.contentDims());
      out.put("input_dims", d.inputDims());
      out.put("dequantization_seed", Density.EVAL_SEED);
    }
    String json = Json.line(out);
    AtomicFiles.writeString((outDir != null ? outDir : target.runDir()).resolve("eval-" + name + ".json"),
        Json.pretty(out) + "\n");
    System.out.println(json);
    return 0;
  }
}
