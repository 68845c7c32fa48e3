package org.irevnet.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.data.BatchIterator;

/**
 * The training steps since the last {@code train} line of {@code metrics.jsonl}, whose means the
 * line and the listener's progress show, for every objective and trainer. The line says how many
 * steps it averages ({@code window_steps}): fewer than {@code --log-every} at the end of training
 * and after a resume, which a report must not read as a change of trend.
 */
final class StepWindow {
  private double lossSum;
  private double accuracySum;
  private int steps;
  private long images;
  private long start = System.nanoTime();

  void add(double loss, double accuracy, int batchImages) {
    lossSum += loss;
    accuracySum += accuracy;
    steps++;
    images += batchImages;
  }

  /** Steps in the window: the caller's own means for {@code report}'s {@code extra} divide by it. */
  int steps() {
    return steps;
  }

  /**
   * Writes the window's train line (the common fields, then {@code extra}'s), tells the listener,
   * and starts the next window.
   */
  void report(BufferedWriter metrics, Trainer.Listener listener, long step, long totalSteps, int epochs,
      BatchIterator.Batch b, int batchesPerEpoch, double lr, Map<String, Object> extra) throws IOException {
    double imagesPerSecond = images / ((System.nanoTime() - start) / 1e9);
    double loss = lossSum / steps, accuracy = accuracySum / steps;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", "train");
    m.put("step", step);
    m.put("epoch", b.epoch() + 1);
    m.put("window_steps", steps);
    m.put("loss", loss);
    m.put("accuracy", accuracy);
    m.put("lr", lr);
    m.put("images_per_s", imagesPerSecond);
    m.putAll(extra);
    Trainer.writeLine(metrics, m);
    listener.onStep(new Trainer.StepInfo(step, totalSteps, b.epoch() + 1, epochs, b.batch() + 1, batchesPerEpoch,
        loss, accuracy, lr, imagesPerSecond));
    lossSum = accuracySum = 0;
    steps = 0;
    images = 0;
    start = System.nanoTime();
  }
}
