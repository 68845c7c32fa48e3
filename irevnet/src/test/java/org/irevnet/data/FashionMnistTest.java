package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The shipped mini subset, and the full Debian set where it is installed. */
class FashionMnistTest {

  @Test
  void shippedMiniSetLoadsBalancedWithTheFashionClassNames() {
    DataSource src = Datasets.resolve(Datasets.FASHION_MNIST_MINI);
    assertThat(src.format()).isEqualTo(DataSource.Format.IDX);
    Dataset train = src.train();
    Dataset test = src.test();
    assertThat(train.images().shape()).containsExactly(6000, 1, 28, 28);
    assertThat(test.images().shape()).containsExactly(1000, 1, 28, 28);
    assertThat(train.classCounts()).containsOnly(600).hasSize(10);
    assertThat(test.classCounts()).containsOnly(100).hasSize(10);
    assertThat(train.classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);
    assertThat(test.classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);
    for (Dataset d : new Dataset[] {train, test}) {
      assertThat(Tensors.min(d.images())).isEqualTo(0.0);
      assertThat(Tensors.max(d.images())).isEqualTo(1.0);
      // real images, not blanks: Fashion-MNIST's mean intensity is about 0.29
      assertThat(d.images().meanNumber().doubleValue()).isBetween(0.2, 0.4);
    }
  }

  @Test
  void fullDebianSetLoadsAndContainsTheMiniSet() {
    Assumptions.assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_SYSTEM_DIR),
        "dataset-fashion-mnist is not installed");
    DataSource full = Datasets.resolve(Datasets.FASHION_MNIST);
    assertThat(full.dir()).isEqualTo(Datasets.FASHION_MNIST_SYSTEM_DIR);
    Dataset train = full.train();
    Dataset test = full.test();
    assertThat(train.size()).isEqualTo(60000);
    assertThat(test.size()).isEqualTo(10000);
    assertThat(train.classCounts()).containsOnly(6000);
    assertThat(test.classCounts()).containsOnly(1000);
    assertThat(train.classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);

    // the mini set is a real subset: compare the raw bytes of the IDX files
    DataSource mini = Datasets.resolve(Datasets.FASHION_MNIST_MINI);
    for (Split split : Split.values()) {
      String images = split.idxPrefix() + "-images-idx3-ubyte.gz";
      String labels = split.idxPrefix() + "-labels-idx1-ubyte.gz";
      assertSubset(IdxFiles.readImages(mini.dir().resolve(images)),
          IdxFiles.readLabels(mini.dir().resolve(labels)),
          IdxFiles.readImages(full.dir().resolve(images)),
          IdxFiles.readLabels(full.dir().resolve(labels)), split);
    }
  }

  /** Every image of {@code part} is an image of {@code whole} with the same label. */
  private static void assertSubset(IdxFiles.Images part, int[] partLabels,
      IdxFiles.Images whole, int[] wholeLabels, Split split) {
    int per = whole.rows() * whole.cols();
    Map<ByteBuffer, Integer> labelOf = new HashMap<>(); // image bytes -> label (-1: clash)
    for (int i = 0; i < whole.count(); i++) {
      labelOf.merge(ByteBuffer.wrap(whole.pixels(), i * per, per).slice(), wholeLabels[i],
          (a, b) -> a.equals(b) ? a : -1);
    }
    assertThat(part.rows() * part.cols()).isEqualTo(per);
    for (int i = 0; i < part.count(); i++) {
      Integer y = labelOf.get(ByteBuffer.wrap(part.pixels(), i * per, per).slice());
      assertThat(y).as("%s image %d of the mini set is in the full set", split, i).isNotNull();
      if (y >= 0) {
        assertThat(partLabels[i]).as("label of %s image %d", split, i).isEqualTo(y);
      }
    }
  }
}
