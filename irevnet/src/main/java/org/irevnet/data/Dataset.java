package org.irevnet.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One split of a dataset in memory.
 *
 * @param name       shown in logs and reports, e.g. {@code fashion-mnist-mini/train}
 * @param images     float32 [n, c, h, w], C order, values in [0, 1]
 * @param labels     class index of each image, {@code 0 <= label < classNames.size()}; the array
 *                   is shared, not copied: do not change it
 * @param classNames class names in label order
 */
public record Dataset(String name, INDArray images, int[] labels, List<String> classNames) {

  public Dataset {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(images, "images");
    Objects.requireNonNull(labels, "labels");
    classNames = List.copyOf(classNames);
    if (images.rank() != 4) {
      throw new IllegalArgumentException(name + ": images must be [n, c, h, w], got "
          + Arrays.toString(images.shape()));
    }
    if (images.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException(name + ": images must be float32, got "
          + images.dataType());
    }
    if (images.size(0) != labels.length) {
      throw new IllegalArgumentException(name + ": " + images.size(0) + " images but "
          + labels.length + " labels");
    }
    if (classNames.isEmpty()) {
      throw new IllegalArgumentException(name + ": no class names");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classNames.size()) {
        throw new IllegalArgumentException(name + ": label " + labels[i] + " of image " + i
            + " is out of range for " + classNames.size() + " classes");
      }
    }
  }

  public int size() {
    return labels.length;
  }

  public int channels() {
    return (int) images.size(1);
  }

  public int height() {
    return (int) images.size(2);
  }

  public int width() {
    return (int) images.size(3);
  }

  public int numClasses() {
    return classNames.size();
  }

  /** Number of images of each class, indexed by label. */
  public int[] classCounts() {
    int[] counts = new int[numClasses()];
    for (int y : labels) {
      counts[y]++;
    }
    return counts;
  }

  /** The images at {@code indices} (in that order) as a new dataset. */
  public Dataset subset(String newName, int... indices) {
    int n = size();
    for (int i : indices) {
      if (i < 0 || i >= n) {
        throw new IndexOutOfBoundsException(name + ": index " + i + " of " + n + " images");
      }
    }
    long per = images.length() / Math.max(1, n);
    INDArray flat = images.reshape('c', new long[] {n, per});
    INDArray rows = indices.length == 0
        ? Nd4j.create(DataType.FLOAT, 0, per)
        : Nd4j.pullRows(flat, 1, indices, 'c');
    int[] y = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      y[k] = labels[indices[k]];
    }
    return new Dataset(newName,
        rows.reshape('c', new long[] {indices.length, channels(), height(), width()}), y,
        classNames);
  }

  /** A split divided into the images trained on and those held out to choose a checkpoint by. */
  public record HeldOut(Dataset train, Dataset validation) {}

  private static final long HOLD_OUT = 0x484f4c444f5554L; // "HOLDOUT"

  /**
   * Holds out {@code n} images drawn at random (from {@code seed}) as {@code NAME (validation)};
   * the rest, in their order, keep the name.
   *
   * @throws IllegalArgumentException unless {@code 0 < n < size()}
   */
  public HeldOut holdOut(int n, long seed) {
    if (n <= 0 || n >= size()) {
      throw new IllegalArgumentException("validation must be between 1 and " + (size() - 1) + " images (" + name
          + " has " + size() + "), got " + n);
    }
    int[] order = Batches.permutation(size(), new Random(Seeds.mix(seed, HOLD_OUT)));
    int[] held = Arrays.copyOf(order, n), kept = Arrays.copyOfRange(order, n, order.length);
    Arrays.sort(held);
    Arrays.sort(kept);
    return new HeldOut(subset(name, kept), subset(name + " (validation)", held));
  }

  @Override
  public String toString() {
    return name + " (" + size() + " images, " + channels() + "x" + height() + "x" + width() + ", "
        + numClasses() + " classes)";
  }
}
