package org.irevnet.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.irevnet.data.Dataset;
import org.irevnet.layers.Param;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.Init;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Tiny datasets and architectures for fast training tests (shared through the test-jar). */
public final class TinyData {
  private TinyData() {}

  /** A two-stage fi-RevNet for 1x32x32 inputs with 4 hidden channels. */
  public static final String ARCH = """
      {"name": "tiny", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
                  {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true}]}""";

  /**
   * A split of {@code n} uniform images of {@code m}'s input shape, labelled at random in ten
   * classes, with {@code m} initialised (actnorm's data-dependent start) on its first 64.
   */
  public static Dataset splitFor(InvertibleClassifier m, int n) {
    INDArray x = Init.uniform(DataType.FLOAT, new Random(3), 0.5, m.inputShape(n)).addi(0.5);
    m.initialize(x.get(NDArrayIndex.interval(0, Math.min(n, 64))).dup());
    return new Dataset("t", x, new Random(8).ints(n, 0, 10).toArray(),
        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
  }

  /** Weights no freshly built model has, so that a load which skipped them is seen. */
  public static InvertibleClassifier perturbedModel() {
    InvertibleClassifier m = InvertibleClassifier.build(Architecture.fromJson(ARCH), DataType.FLOAT, 1);
    Random r = new Random(3);
    for (Param p : m.params().entries().values()) {
      p.set(p.value().add(Init.uniform(DataType.FLOAT, r, 0.3, p.value().shape())));
    }
    return m;
  }

  /** A tiny IDX dataset: class c has a bright 6x6 square at a class-specific place, plus noise. */
  public static Path idx(Path dir, int nTrain, int nTest) throws IOException {
    Files.createDirectories(dir);
    Random r = new Random(1);
    for (String split : new String[] {"train", "t10k"}) {
      int n = split.equals("train") ? nTrain : nTest;
      ByteArrayOutputStream img = new ByteArrayOutputStream(), lab = new ByteArrayOutputStream();
      DataOutputStream di = new DataOutputStream(img), dl = new DataOutputStream(lab);
      di.writeInt(2051); di.writeInt(n); di.writeInt(28); di.writeInt(28);
      dl.writeInt(2049); dl.writeInt(n);
      for (int i = 0; i < n; i++) {
        int c = i % 10;
        int top = 2 + (c / 5) * 12, left = 2 + (c % 5) * 5;
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) {
          boolean on = y >= top && y < top + 6 && x >= left && x < left + 6;
          di.writeByte(on ? 200 + r.nextInt(55) : r.nextInt(40));
        }
        dl.writeByte(c);
      }
      Files.write(dir.resolve(split + "-images-idx3-ubyte"), img.toByteArray());
      Files.write(dir.resolve(split + "-labels-idx1-ubyte"), lab.toByteArray());
    }
    return dir;
  }

}
