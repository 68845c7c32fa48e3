package org.irevnet.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.Checkpoints;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.train.Evaluation;
import org.irevnet.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
    header = "Accuracy, per-class accuracy and confusion matrix of a trained run; one JSON object.",
    description = "Prints the JSON object and saves it as RUN_DIR/eval-<split>.json.")
final class EvalCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--run", required = true, paramLabel = "RUN_DIR") Path run;

  @Option(names = "--data", description = "Dataset (default: the one the run was trained on).") String data;

  @Option(names = "--split", defaultValue = "test", description = "test (default) or train.") String split;

  @Option(names = "--checkpoint", defaultValue = "best", description = "best (default) or latest.") String checkpoint;

  @Override
  public Integer call() throws Exception {
    common.apply();
    Path ck = switch (checkpoint) {
      case "best" -> Trainer.best(run);
      case "latest" -> Trainer.latest(run);
      default -> throw new IllegalArgumentException("--checkpoint must be best or latest, got " + checkpoint);
    };
    if (!Checkpoints.exists(ck)) throw new IllegalArgumentException(ck + ": no checkpoint (has " + run + " been trained?)");
    Split sp = switch (split) {
      case "test" -> Split.TEST;
      case "train" -> Split.TRAIN;
      default -> throw new IllegalArgumentException("--split must be test or train, got " + split);
    };
    InvertibleClassifier model = Checkpoints.load(ck, DataType.FLOAT).model();
    String dataName = data != null ? data
        : Json.MAPPER.readTree(run.resolve(Trainer.CONFIG).toFile()).path("config").path("data").asText();
    var ds = Trainer.prepare(Datasets.resolve(dataName), sp, model.architecture());
    Evaluation.Result r = Evaluation.evaluate(model, ds, 250, split);
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
    AtomicFiles.writeString(run.resolve("eval-" + split + ".json"), Json.pretty(out) + "\n");
    System.out.println(json);
    return 0;
  }
}
