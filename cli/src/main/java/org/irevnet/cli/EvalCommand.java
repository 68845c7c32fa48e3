package org.irevnet.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
    header = "Accuracy, per-class accuracy and confusion matrix of a trained run; one JSON object.",
    description = "Prints the JSON object and saves it as RUN_DIR/eval-<split>.json.")
final class EvalCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RunOptions target;

  @Option(names = "--split", defaultValue = "test", description = "test (default) or train.") String split;

  @Option(names = "--checkpoint", defaultValue = "best", description = "best (default) or latest.") String checkpoint;

  @Override
  public Integer call() throws Exception {
    common.apply();
    Split sp = switch (split) {
      case "test" -> Split.TEST;
      case "train" -> Split.TRAIN;
      default -> throw new IllegalArgumentException("--split must be test or train, got " + split);
    };
    RunInputs in = target.load(checkpoint, sp);
    var ds = in.data();
    Evaluation.Result r = Evaluation.evaluate(in.classifier(), ds, 250, split);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("accuracy", r.accuracy());
    out.put("loss", r.loss());
    out.put("count", r.count());
    out.put("split", split);
    out.put("data", ds.name());
    out.put("checkpoint", checkpoint);
    out.put("class_names", r.classNames());
    out.put("per_class_accuracy", r.perClassAccuracy());
    out.put("confusion_matrix", r.confusion());
    String json = Json.line(out);
    AtomicFiles.writeString(target.runDir().resolve("eval-" + split + ".json"), Json.pretty(out) + "\n");
    System.out.println(json);
    return 0;
  }
}
