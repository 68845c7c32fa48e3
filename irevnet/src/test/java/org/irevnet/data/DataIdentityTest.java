package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class DataIdentityTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The same test split digests alike wherever it lies and however its IDX files are stored. */
  @Test
  void sameDataDigestsAlikeInAnotherPlaceOrGzipped(@TempDir Path tmp) throws IOException {
    Path a = TinyData.idx(tmp.resolve("a"), 10, 6);
    Path gz = Files.createDirectories(tmp.resolve("gz"));
    for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte")) {
      try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz.resolve(f + ".gz")))) {
        out.write(Files.readAllBytes(a.resolve(f)));
      }
    }
    DataIdentity ofA = DataIdentity.of(Datasets.open(a)), ofGz = DataIdentity.of(Datasets.open(gz));
    assertThat(ofA.testSha256()).matches("[0-9a-f]{64}");
    assertThat(ofA.sameData(ofGz)).isTrue();
    assertThat(ofA.name()).isEqualTo("a");
    assertThat(ofA.testImages()).isEqualTo(6);
    assertThat(ofA.classes()).as("IDX files without classes.txt name no classes").isNull();
    assertThat(ofA.imageShape()).as("as stored, before the model's padding").containsExactly(1, 28, 28);
  }

  /** A changed pixel, label or class name, or one image fewer, is other data. */
  @Test
  void anyChangeOfTheTestSplitIsOtherData() {
    Dataset d = new Dataset("d", Nd4j.rand(DataType.FLOAT, 3, 1, 4, 4), new int[] {0, 1, 0}, List.of("x", "y"));
    String sha = DataIdentity.sha256(d);
    assertThat(DataIdentity.sha256(new Dataset("renamed", d.images().dup(), d.labels().clone(), d.classNames())))
        .as("the name is not content").isEqualTo(sha);
    var pixel = d.images().dup();
    pixel.putScalar(new long[] {2, 0, 3, 3}, pixel.getFloat(2L, 0, 3, 3) + 1f / 255);
    assertThat(DataIdentity.sha256(new Dataset("d", pixel, d.labels(), d.classNames()))).isNotEqualTo(sha);
    assertThat(DataIdentity.sha256(new Dataset("d", d.images(), new int[] {0, 1, 1}, d.classNames()))).isNotEqualTo(sha);
    assertThat(DataIdentity.sha256(new Dataset("d", d.images(), d.labels(), List.of("x", "z")))).isNotEqualTo(sha);
    assertThat(DataIdentity.sha256(d.subset("d", 0, 1))).isNotEqualTo(sha);
    var reshaped = d.images().dup().reshape(3, 1, 2, 8);
    assertThat(DataIdentity.sha256(new Dataset("d", reshaped, d.labels(), d.classNames()))).isNotEqualTo(sha);
  }

  /**
   * Class names digest in Unicode NFC, as the analyses compare them: folders copied from macOS
   * spell them decomposed. A split of more than a thousand images (read in pieces) digests as one.
   */
  @Test
  void classNamesDigestComposedAndLargeSplitsInPieces() {
    var images = Nd4j.rand(DataType.FLOAT, 2500, 1, 2, 2);
    int[] labels = new int[2500];
    Dataset composed = new Dataset("c", images, labels, List.of("\u00c4rmel"));
    Dataset decomposed = new Dataset("c", images, labels, List.of("A\u0308rmel"));
    assertThat(DataIdentity.sha256(composed)).isEqualTo(DataIdentity.sha256(decomposed));
    var last = images.dup();
    last.putScalar(new long[] {2499, 0, 1, 1}, 2f);
    assertThat(DataIdentity.sha256(new Dataset("c", last, labels, List.of("\u00c4rmel"))))
        .as("the last piece counts").isNotEqualTo(DataIdentity.sha256(composed));
    // Names are separated, not run together; a split of whole pieces ends with its last piece.
    var few = images.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2000)).dup();
    int[] some = new int[2000];
    assertThat(DataIdentity.sha256(new Dataset("c", few, some, List.of("ab", "c"))))
        .isNotEqualTo(DataIdentity.sha256(new Dataset("c", few, some, List.of("a", "bc"))));
  }

  /**
   * A caller's split whose images are a view, strided or column-major digests as its dense copy:
   * the pieces of a thousand images are rows of the caller's array, and ND4J 1.0.0-M2.1 slices a
   * view's last rows as an empty array.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(value = Layouts.class, names = "BROADCAST", mode =
      org.junit.jupiter.params.provider.EnumSource.Mode.EXCLUDE)
  void aSplitOfAnyLayoutDigestsAsItsDenseCopy(Layouts layout) {
    var images = Nd4j.rand(DataType.FLOAT, 2500, 1, 2, 2);
    int[] labels = new int[2500];
    var laidOut = layout.of(images);
    String dense = DataIdentity.sha256(new Dataset("c", images, labels, List.of("a")));
    assertThat(DataIdentity.sha256(new Dataset("c", laidOut, labels, List.of("a")))).isEqualTo(dense);
    assertThat(laidOut.equals(images)).as("left as it was").isTrue();
  }

  /**
   * What a run records reads back; a record of another form, or none, gives nothing to tell by. A
   * record from before the images' shape was recorded reads without one, and so does a shape that
   * is not three positive whole numbers.
   */
  @Test
  void readsBackWhatARunRecords() throws IOException {
    DataIdentity id = new DataIdentity("png", List.of("a", "b"), 12, "ab".repeat(32), List.of(3, 24, 20));
    JsonNode written = JSON.readTree(JSON.writeValueAsString(id.toMap()));
    assertThat(written.fieldNames()).toIterable()
        .containsExactly("name", "classes", "test_images", "test_sha256", "image_shape");
    assertThat(DataIdentity.read(written)).isEqualTo(id);
    DataIdentity before = new DataIdentity("idx", null, 3, "cd".repeat(32), null);
    JsonNode old = JSON.readTree(JSON.writeValueAsString(before.toMap()));
    assertThat(old.fieldNames()).toIterable().containsExactly("name", "classes", "test_images", "test_sha256");
    assertThat(DataIdentity.read(old)).isEqualTo(before);
    // A grey run's record (one channel, as every Fashion-MNIST run's): read as a shape, not as none,
    // which would leave its analyses comparing no size.
    DataIdentity grey = new DataIdentity("fmnist", null, 3, "ef".repeat(32), List.of(1, 28, 28));
    assertThat(DataIdentity.read(JSON.readTree(JSON.writeValueAsString(grey.toMap())))).isEqualTo(grey);
    for (String shape : List.of("[1, 28]", "[1, 28, 0]", "[1, 28, 2.5]", "[1, 28, \"28\"]", "\"1x28x28\"", "null")) {
      assertThat(DataIdentity.read(JSON.readTree("{\"test_sha256\": \"ab\", \"test_images\": 3, \"classes\": null, \"image_shape\": "
          + shape + "}")).imageShape()).as(shape).isNull();
    }
    assertThat(DataIdentity.read(JSON.missingNode())).isNull();
    assertThat(DataIdentity.read(JSON.readTree("{\"test_sha256\": 5, \"test_images\": 3}"))).isNull();
    assertThat(DataIdentity.read(JSON.readTree("{\"test_sha256\": \"ab\", \"test_images\": 3, \"classes\": [1]}")))
        .isNull();
    assertThat(id.sameData(null)).isFalse();
    assertThat(id.sameData(new DataIdentity("elsewhere", null, 12, id.testSha256(), null))).isTrue();
  }

  /** Data without a test split has no identity to compare. */
  @Test
  void dataWithoutATestSplitHasNoIdentity(@TempDir Path tmp) throws IOException {
    Path a = TinyData.idx(tmp.resolve("a"), 10, 2);
    Files.delete(a.resolve("t10k-images-idx3-ubyte"));
    Files.delete(a.resolve("t10k-labels-idx1-ubyte"));
    assertThat(DataIdentity.of(Datasets.open(a))).isNull();
  }
}
