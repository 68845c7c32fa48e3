package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

class IdxFilesTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "gzip={0}")
  @ValueSource(booleans = {false, true})
  void roundTripKeepsEveryPixelAndLabel(boolean gzip) throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("digits"), 7, 3, 5, 4, 3, gzip);
    DataSource src = Datasets.open(dir);
    assertThat(src.format()).isEqualTo(DataSource.Format.IDX);
    Dataset train = src.train();
    Dataset test = src.test();

    assertThat(train.name()).isEqualTo("digits/train");
    assertThat(test.name()).isEqualTo("digits/test");
    assertThat(train.images().shape()).containsExactly(7, 1, 5, 4);
    assertThat(test.images().shape()).containsExactly(3, 1, 5, 4);
    assertThat(train.images().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(train.labels()).containsExactly(0, 1, 2, 0, 1, 2, 0);
    assertThat(train.classNames()).containsExactly("0", "1", "2");
    for (int i = 0; i < 7; i++) {
      for (int r = 0; r < 5; r++) {
        for (int c = 0; c < 4; c++) {
          assertThat(train.images().getFloat(i, 0, r, c))
              .isEqualTo(Synth.pixel(i, r * 4 + c) / 255f);
        }
      }
    }
  }

  /**
   * A full device (the kernel's /dev/full: every write fails with ENOSPC, and keeps nothing) is
   * named with the file: {@code data shortcut} on a full disk said only "No space left on device".
   */
  @Test
  void aFullDiskIsNamedWithTheFile() {
    Path full = Path.of("/dev/full");
    Assumptions.assumeTrue(Files.isWritable(full), "no /dev/full on this system");
    assertThatThrownBy(() -> IdxFiles.writeImages(full, 1, 2, 2, new byte[4]))
        .isInstanceOf(java.nio.file.FileSystemException.class).hasMessage(full + ": No space left on device");
    assertThatThrownBy(() -> IdxFiles.writeLabels(full, new int[] {1, 2}))
        .isInstanceOf(java.nio.file.FileSystemException.class).hasMessage(full + ": No space left on device");
  }

  @Test
  void scalesTheFullByteRangeToZeroOne() throws IOException {
    byte[] px = new byte[16 + 4];
    System.arraycopy(Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 1, 2, 2, 0), 0, px, 0, 16);
    px[16] = 0;
    px[17] = (byte) 255;
    px[18] = (byte) 128;
    px[19] = 1;
    Path img = Synth.write(tmp.resolve("x-images-idx3-ubyte"), px, false);
    Path lab = Synth.write(tmp.resolve("x-labels-idx1-ubyte"), Synth.idxLabels(4), false);
    Dataset d = IdxFiles.read(img, lab, null, "x");
    assertThat(d.images().data().asFloat()).containsExactly(0f, 1f, 128 / 255f, 1 / 255f);
    assertThat(d.labels()).containsExactly(4);
  }

  @Test
  void classesTxtNamesTheClassesAndBoundsTheLabels() throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("set"), 4, 2, 2, 2, 3, true);
    Files.writeString(dir.resolve("classes.txt"), "cat\ndog\n\nbird\n");
    assertThat(Datasets.open(dir).train().classNames()).containsExactly("cat", "dog", "bird");
    Files.writeString(dir.resolve("classes.txt"), "\uFEFFcat\ndog\nbird\n");
    assertThat(Datasets.open(dir).train().classNames()).as("a byte-order mark is no part of a name")
        .containsExactly("cat", "dog", "bird");

    // Two classes of one name were accepted; the lines are the file's, blank ones counted.
    Files.writeString(dir.resolve("classes.txt"), "cat\n\ndog\n cat \n");
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("classes.txt") + ": class name 'cat' is given twice (lines 1 and 4)");
    // One name composed and decomposed (NFC and NFD) is one name given twice.
    Files.writeString(dir.resolve("classes.txt"), "caf\u00e9\ndog\ncafe\u0301\n");
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("classes.txt") + ": class name 'cafe\u0301' is given twice (lines 1 and 3)");
    // Latin-1 bytes: Java's MalformedInputException said only "Input length = 1".
    Files.write(dir.resolve("classes.txt"), "caf\u00e9\nd\u00f6g\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("classes.txt") + ": not UTF-8 text; save it as UTF-8, one class name a line");
    Files.delete(dir.resolve("classes.txt"));
    Files.write(dir.resolve("emnist-mapping.txt"), "0 65\n1 66\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("emnist-mapping.txt") + ": not ASCII text; EMNIST's mapping is lines of decimal numbers");
    Files.writeString(dir.resolve("emnist-mapping.txt"), "0 65\n1 66\n2 65\n");
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("emnist-mapping.txt") + ": class name 'A' is given twice (lines 1 and 3)");
    Files.delete(dir.resolve("emnist-mapping.txt"));

    Files.writeString(dir.resolve("classes.txt"), "cat\ndog\n");
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessageContaining("train-labels-idx1-ubyte.gz")
        .hasMessageEndingWith("label 2 of item 2 is out of range for 2 classes (named by classes.txt)")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  /**
   * Without names, the classes are numbered up to the largest label of both splits: a five-class
   * set got ten (a 10-way classifier, five classes never seen), and a label only the test split
   * has is a class of the training split too. A classes.txt names them instead.
   */
  @Test
  void numberedClassesReachTheLargestLabelOfBothSplits() throws IOException {
    Path dir = tmp.resolve("five");
    Synth.write(dir.resolve("train-images-idx3-ubyte"), Synth.idxImages(6, 2, 2), false);
    Synth.write(dir.resolve("train-labels-idx1-ubyte"), Synth.idxLabels(0, 1, 2, 3, 0, 1), false);
    Synth.write(dir.resolve("t10k-images-idx3-ubyte"), Synth.idxImages(3, 2, 2), false);
    Synth.write(dir.resolve("t10k-labels-idx1-ubyte"), Synth.idxLabels(4, 2, 0), false);
    DataSource src = Datasets.open(dir);
    Dataset train = src.train(), test = src.test();
    assertThat(train.classNames()).containsExactly("0", "1", "2", "3", "4");
    assertThat(test.classNames()).isEqualTo(train.classNames());
    assertThat(train.labels()).containsExactly(0, 1, 2, 3, 0, 1);
    assertThat(test.labels()).containsExactly(4, 2, 0);

    Files.writeString(dir.resolve("classes.txt"), "a\nb\nc\nd\ne\nf\n");
    assertThat(Datasets.open(dir).train().classNames()).containsExactly("a", "b", "c", "d", "e", "f");
    assertThat(Datasets.open(dir).test().classNames()).containsExactly("a", "b", "c", "d", "e", "f");
  }

  @Test
  void aDirectoryNamedFashionGetsTheFashionMnistNames() throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("my-fashion-copy"), 2, 2, 2, 2, 2, false);
    assertThat(Datasets.open(dir).test().classNames())
        .isEqualTo(Datasets.FASHION_MNIST_CLASSES).hasSize(10).startsWith("T-shirt/top")
        .endsWith("Ankle boot");
  }

  @Test
  void emnistImagesAreTransposedAndNamedFromTheMapping() throws IOException {
    Path dir = tmp.resolve("emnist");
    // two 2x3 images stored transposed: rows of the stored image are columns of the real one.
    // Stored (Synth.pixel): image 0 = [3 14 25; 36 47 58], image 1 = [40 51 62; 73 84 95].
    Synth.write(dir.resolve("emnist-letters-train-images-idx3-ubyte.gz"),
        Synth.idxImages(2, 2, 3), true);
    Synth.write(dir.resolve("emnist-letters-train-labels-idx1-ubyte.gz"), Synth.idxLabels(1, 0),
        true);
    Files.writeString(dir.resolve("emnist-letters-mapping.txt"), "0 65\n1 66\n");
    Dataset d = Datasets.open(dir).train();
    assertThat(d.classNames()).containsExactly("A", "B");
    assertThat(d.labels()).containsExactly(1, 0);
    assertThat(d.images().shape()).containsExactly(2, 1, 3, 2);
    // each image transposed on its own, written out by hand: [3 36; 14 47; 25 58], then
    // [40 73; 51 84; 62 95]
    int[] expected = {3, 36, 14, 47, 25, 58, 40, 73, 51, 84, 62, 95};
    float[] got = d.images().data().asFloat();
    assertThat(got).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(got[i]).as("element %d", i).isEqualTo(expected[i] / 255f);
    }
  }

  /**
   * EMNIST's own names and mappings, as its gzip distribution ships them: the test split is
   * {@code emnist-<set>-test-*} (not t10k), and the letters set labels its 26 classes 1..26 with
   * two character codes a line ({@code 1 65 97}), which name the classes in label order.
   */
  @Test
  void emnistTestFilesAndTheOneBasedLettersMappingAreRead() throws IOException {
    Path dir = tmp.resolve("emnist-gzip");
    Synth.write(dir.resolve("emnist-letters-train-images-idx3-ubyte.gz"), Synth.idxImages(3, 2, 2), true);
    Synth.write(dir.resolve("emnist-letters-train-labels-idx1-ubyte.gz"), Synth.idxLabels(1, 26, 2), true);
    Synth.write(dir.resolve("emnist-letters-test-images-idx3-ubyte.gz"), Synth.idxImages(2, 2, 2), true);
    Synth.write(dir.resolve("emnist-letters-test-labels-idx1-ubyte.gz"), Synth.idxLabels(3, 1), true);
    StringBuilder mapping = new StringBuilder();
    for (int k = 1; k <= 26; k++) mapping.append(k).append(' ').append(64 + k).append(' ').append(96 + k).append('\n');
    Files.writeString(dir.resolve("emnist-letters-mapping.txt"), mapping.toString());
    DataSource src = Datasets.open(dir);
    assertThat(src.has(Split.TEST)).isTrue();
    Dataset train = src.train(), test = src.test();
    // Label L is the L-th line: class L - 1 of 26, named by its upper- and lower-case letter.
    assertThat(train.classNames()).hasSize(26).startsWith("A/a", "B/b").endsWith("Z/z");
    assertThat(train.labels()).containsExactly(0, 25, 1);
    assertThat(test.labels()).containsExactly(2, 0);
    assertThat(test.classNames()).isEqualTo(train.classNames());
    // Missing labels are named by the test files' own spelling.
    Files.move(dir.resolve("emnist-letters-test-labels-idx1-ubyte.gz"), tmp.resolve("aside.gz"));
    assertThatThrownBy(src::test).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": no test-labels-idx1-ubyte[.gz] next to"
            + " emnist-letters-test-images-idx3-ubyte.gz");
    // A label the mapping does not name (0 here) is refused, saying which labels it names.
    Synth.write(dir.resolve("emnist-letters-test-labels-idx1-ubyte.gz"), Synth.idxLabels(3, 0), true);
    assertThatThrownBy(src::test).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("emnist-letters-test-labels-idx1-ubyte.gz") + ": label 0 of item 1 is out of range"
            + " for the labels 1..26 (named by emnist-letters-mapping.txt)");
  }

  /**
   * EMNIST's gzip distribution keeps every set's mapping in one folder. Beside another set's
   * mapping, the images' own was not read: the letters (labels 1..26) became 27 numbered classes,
   * the first without an image. The images' own is read; without it, the folder is refused.
   */
  @Test
  void theMappingOfTheImagesSetIsReadBesideThoseOfOtherSets() throws IOException {
    Path dir = tmp.resolve("emnist-all");
    Synth.write(dir.resolve("emnist-letters-train-images-idx3-ubyte.gz"), Synth.idxImages(3, 2, 2), true);
    Synth.write(dir.resolve("emnist-letters-train-labels-idx1-ubyte.gz"), Synth.idxLabels(1, 26, 2), true);
    StringBuilder letters = new StringBuilder();
    for (int k = 1; k <= 26; k++) letters.append(k).append(' ').append(64 + k).append(' ').append(96 + k).append('\n');
    Files.writeString(dir.resolve("emnist-letters-mapping.txt"), letters.toString());
    Files.writeString(dir.resolve("emnist-digits-mapping.txt"), "0 48\n1 49\n2 50\n");
    Files.writeString(dir.resolve("emnist-balanced-mapping.txt"), "0 48\n1 49\n");
    Dataset train = Datasets.open(dir).train();
    assertThat(train.classNames()).hasSize(26).startsWith("A/a", "B/b").endsWith("Z/z");
    assertThat(train.labels()).containsExactly(0, 25, 1);
    assertThat(IdxFiles.classNames(dir)).isEqualTo(train.classNames());
    Files.delete(dir.resolve("emnist-letters-mapping.txt"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": several class mappings [emnist-balanced-mapping.txt,"
            + " emnist-digits-mapping.txt] and none is emnist-letters-mapping.txt, that of"
            + " emnist-letters-train-images-idx3-ubyte.gz: keep the images' own");
  }

  /** Images of one set and labels of another are refused even when their counts agree. */
  @Test
  void imagesAndLabelsOfTwoSetsAreRefused() throws IOException {
    Path dir = tmp.resolve("mixed");
    Synth.write(dir.resolve("a-train-images-idx3-ubyte"), Synth.idxImages(2, 2, 2), false);
    Synth.write(dir.resolve("b-train-labels-idx1-ubyte.gz"), Synth.idxLabels(1, 0), true);
    assertThatThrownBy(() -> IdxFiles.load(dir, Split.TRAIN, "m")).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": b-train-labels-idx1-ubyte.gz is not of the set of"
            + " a-train-images-idx3-ubyte; use a directory that holds one set");
    // MNIST's t10k images with an EMNIST set's test labels: two sets too.
    Synth.write(dir.resolve("t10k-images-idx3-ubyte"), Synth.idxImages(2, 2, 2), false);
    Synth.write(dir.resolve("emnist-digits-test-labels-idx1-ubyte"), Synth.idxLabels(1, 0), false);
    assertThatThrownBy(() -> IdxFiles.load(dir, Split.TEST, "m")).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": emnist-digits-test-labels-idx1-ubyte is not of the set of"
            + " t10k-images-idx3-ubyte; use a directory that holds one set");
    // The same set, one file raw and one gzipped, in the dotted spelling: one set.
    Path one = tmp.resolve("one");
    Synth.write(one.resolve("x-train-images.idx3-ubyte"), Synth.idxImages(2, 2, 2), false);
    Synth.write(one.resolve("x-train-labels.idx1-ubyte.gz"), Synth.idxLabels(1, 0), true);
    assertThat(IdxFiles.load(one, Split.TRAIN, "one").labels()).containsExactly(1, 0);
  }

  // ---- bad inputs: one-line messages naming the file and the problem ----

  @Test
  void wrongMagicNumber() throws IOException {
    Path f = Synth.write(tmp.resolve("train-images-idx3-ubyte"), Synth.idxLabels(1, 2), false);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": wrong magic number 0x00000801, expected 0x00000803 (IDX images:"
            + " unsigned bytes, 3 dimensions); this is a label file");
    Path g = Synth.write(tmp.resolve("l.gz"), Synth.idxImages(1, 2, 2), true);
    assertThatThrownBy(() -> IdxFiles.readLabels(g))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(g + ": wrong magic number 0x00000803, expected 0x00000801");
  }

  @Test
  void truncatedRawImageFileIsCaughtFromItsLength() throws IOException {
    byte[] full = Synth.idxImages(5, 3, 3);
    Path f = Synth.write(tmp.resolve("train-images-idx3-ubyte"),
        Arrays.copyOf(full, full.length - 4), false);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated image file: header claims 5 images of 3x3 (61 bytes with the"
            + " header), the file has 57 bytes");
  }

  @Test
  void truncatedGzippedImageFileIsCaughtWhileReading() throws IOException {
    byte[] full = Synth.idxImages(5, 3, 3);
    Path f = Synth.write(tmp.resolve("train-images-idx3-ubyte.gz"),
        Arrays.copyOf(full, full.length - 13), true);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated image file: header claims 5 images of 3x3, the data ends"
            + " after 3 complete images (32 of 45 bytes)");
  }

  @Test
  void aCutOffGzipStreamIsReportedNotThrownAsIoError() throws IOException {
    Path good = Synth.write(tmp.resolve("a.gz"), Synth.idxImages(50, 8, 8), true);
    byte[] gz = Files.readAllBytes(good);
    Path f = Files.write(tmp.resolve("b.gz"), Arrays.copyOf(gz, gz.length / 2));
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(f + ": ").hasMessageContaining("truncated")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  /**
   * A gzip file cut off in the middle says how many images it held: the count came out as 0 when
   * a buffered stream lost what it had read on the failing read (found on a cut-off Fashion-MNIST
   * file: "ends after 0 complete images"). The expected count is inflated independently, with a
   * bare {@link java.util.zip.Inflater}.
   */
  @Test
  void aCutOffGzipStreamNamesHowManyImagesItHeld() throws Exception {
    byte[] header = Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 400, 28, 28, 0);
    byte[] raw = Arrays.copyOf(header, header.length + 400 * 784);
    java.util.Random noise = new java.util.Random(3); // compresses little: the cut falls mid-file
    for (int i = header.length; i < raw.length; i++) raw[i] = (byte) noise.nextInt(64);
    byte[] gz = Files.readAllBytes(Synth.write(tmp.resolve("full.gz"), raw, true));
    byte[] cut = Arrays.copyOf(gz, gz.length * 3 / 5);
    Path f = Files.write(tmp.resolve("cut-images-idx3-ubyte.gz"), cut);

    java.util.zip.Inflater inf = new java.util.zip.Inflater(true);
    inf.setInput(cut, 10, cut.length - 10); // after gzip's 10-byte header
    byte[] out = new byte[raw.length];
    while (inf.inflate(out, (int) inf.getBytesWritten(), out.length - (int) inf.getBytesWritten()) > 0) {
      // inflate all that is there
    }
    long pixels = inf.getBytesWritten() - 16;
    assertThat(pixels / 784).as("the cut leaves some whole images").isBetween(10L, 390L);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(f + ": truncated image file: header claims 400 images of 28x28, the data ends after "
            + pixels / 784 + " complete images (" + pixels + " of 313600 bytes)");
  }

  @Test
  void headerClaimingABillionImagesIsRefusedWithoutAllocating() throws IOException {
    byte[] raw = Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 1_000_000_000L, 28, 28, 784);
    Path f = Synth.write(tmp.resolve("train-images-idx3-ubyte"), raw, false);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated image file: header claims 1000000000 images of 28x28"
            + " (784000000016 bytes with the header), the file has 800 bytes");

    Path g = Synth.write(tmp.resolve("big.gz"), raw, true);
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(g + ": 1000000000 images of 1x28x28 (784000000000 pixels) are more than a loaded"
            + " dataset may hold (2147483639)");
  }

  @Test
  void plausibleButFalseCountInAGzipFileCostsOnlyWhatIsThere() throws IOException {
    // 100,000 claimed images of 28x28 (78 MB) would fit; the file holds one image.
    Path g = Synth.write(tmp.resolve("claims.gz"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 100_000, 28, 28, 784), true);
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(g + ": truncated image file: header claims 100000 images of 28x28, the data"
            + " ends after 1 complete images (784 of 78400000 bytes)");
  }

  @Test
  void aCountThatFitsAnArrayButNotTheHeapIsRefusedBeforeAllocating() throws IOException {
    long need = 2_000_000L * 784 * 5;
    Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < need, "heap larger than 7.8 GB");
    Path g = Synth.write(tmp.resolve("huge.gz"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 2_000_000, 28, 28, 784), true);
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(g + ": 2000000 images of 1x28x28 need about 7476 MiB of heap to"
            + " load, the JVM may use at most ")
        .hasMessageEndingWith(" MiB (raise -Xmx)");
  }

  @Test
  void implausibleImageSizeAndZeroCount() throws IOException {
    Path f = Synth.write(tmp.resolve("a"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 1, 0, 28, 0), false);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .hasMessage(f + ": implausible row count 0 in the header (expected 1..16384)");
    Path g = Synth.write(tmp.resolve("b"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 0, 28, 28, 0), false);
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .hasMessage(g + ": header says the file holds 0 images");
    Path h = Synth.write(tmp.resolve("c"), new byte[] {0, 0, 8}, false);
    assertThatThrownBy(() -> IdxFiles.readImages(h))
        .hasMessage(h + ": truncated header: the file ends before the magic number");
  }

  @Test
  void aDirectoryOrACorruptGzipHeaderIsNamedAsSuch() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("t10k-labels-idx1-ubyte"));
    assertThatThrownBy(() -> IdxFiles.readLabels(dir))
        .isInstanceOf(DataFormatException.class).hasMessage(dir + ": not a regular file");
    // gzip magic, then compression method 7 where gzip has only 8 (deflate)
    Path g = Synth.write(tmp.resolve("x.gz"), new byte[] {0x1f, (byte) 0x8b, 7, 0, 0, 0, 0, 0,
        0, 0}, false);
    assertThatThrownBy(() -> IdxFiles.readImages(g)).isInstanceOf(DataFormatException.class)
        .hasMessage(g + ": truncated or corrupt: Unsupported compression method");
    assertThatThrownBy(() -> IdxFiles.readLabels(g))
        .hasMessage(g + ": truncated or corrupt: Unsupported compression method");
    // gzip magic and nothing else: Java's EOFException has no message of its own
    Path cut = Synth.write(tmp.resolve("cut.gz"), new byte[] {0x1f, (byte) 0x8b}, false);
    assertThatThrownBy(() -> IdxFiles.readImages(cut))
        .hasMessage(cut + ": truncated or corrupt: the file ends early");
    Path file = Files.writeString(tmp.resolve("plain"), "x");
    assertThatThrownBy(() -> IdxFiles.list(file)).isInstanceOf(DataFormatException.class)
        .hasMessage(file + ": cannot read: java.nio.file.NotDirectoryException: " + file);
  }

  @Test
  void trailingBytesAreAnError() throws IOException {
    byte[] full = Synth.idxLabels(1, 2, 3);
    Path f = Synth.write(tmp.resolve("l"), Arrays.copyOf(full, full.length + 2), false);
    assertThatThrownBy(() -> IdxFiles.readLabels(f))
        .hasMessage(f + ": file is longer than its header says: header claims 3 labels (11 bytes"
            + " with the header), the file has 13 bytes");
    Path g = Synth.write(tmp.resolve("l.gz"), Arrays.copyOf(full, full.length + 2), true);
    assertThatThrownBy(() -> IdxFiles.readLabels(g))
        .hasMessage(g + ": file is longer than its header says (extra bytes after the last item)");
  }

  @Test
  void truncatedLabelFile() throws IOException {
    byte[] full = Synth.idxLabels(1, 2, 3, 4);
    Path f = Synth.write(tmp.resolve("l"), Arrays.copyOf(full, full.length - 1), false);
    assertThatThrownBy(() -> IdxFiles.readLabels(f))
        .hasMessage(f + ": truncated label file: header claims 4 labels (12 bytes with the"
            + " header), the file has 11 bytes");
  }

  @Test
  void labelCountDifferentFromImageCount() throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("d"), 4, 2, 2, 2, 2, false);
    Path labels = Synth.write(dir.resolve("train-labels-idx1-ubyte"), Synth.idxLabels(0, 1, 0),
        false);
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(labels + ": 3 labels, but train-images-idx3-ubyte has 4 images");
  }

  @Test
  void missingLabelFileAndMissingSplit() throws IOException {
    Path dir = tmp.resolve("d");
    Synth.write(dir.resolve("train-images-idx3-ubyte.gz"), Synth.idxImages(2, 2, 2), true);
    DataSource src = Datasets.open(dir);
    assertThat(src.has(Split.TRAIN)).isTrue();
    assertThat(src.has(Split.TEST)).isFalse();
    assertThatThrownBy(src::train).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": no train-labels-idx1-ubyte[.gz] next to"
            + " train-images-idx3-ubyte.gz");
    assertThatThrownBy(src::test).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath() + ": no t10k-images-idx3-ubyte[.gz] or test-images-idx3-ubyte[.gz] (test images) in"
            + " this directory");
  }

  /**
   * A labels file that is a link to nothing, or a folder of that name, is named as such: both were
   * passed over, and the split said to have no labels file at all. A folder beside a file of the
   * same kind is still passed over.
   */
  @Test
  void aLabelsFileThatIsALinkToNothingOrAFolderIsNamed() throws IOException {
    Path dir = tmp.resolve("d");
    Synth.write(dir.resolve("train-images-idx3-ubyte.gz"), Synth.idxImages(2, 2, 2), true);
    Path link = Files.createSymbolicLink(dir.resolve("train-labels-idx1-ubyte.gz"), tmp.resolve("gone.gz"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(link + ": a link to nothing (its target is missing or cannot be reached)");
    Files.delete(link);
    Path folder = Files.createDirectories(dir.resolve("train-labels-idx1-ubyte"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(folder + ": not a regular file");
    Synth.write(dir.resolve("train-labels-idx1-ubyte.gz"), Synth.idxLabels(0, 1), true);
    assertThat(Datasets.open(dir).train().size()).isEqualTo(2);
  }

  @Test
  void rawFileWinsOverItsGzippedTwinButTwoSetsAreAmbiguous() throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("d"), 3, 2, 2, 2, 2, false);
    Synth.write(dir.resolve("train-images-idx3-ubyte.gz"), Synth.idxImages(9, 2, 2), true);
    assertThat(Datasets.open(dir).train().size()).isEqualTo(3);
    Synth.write(dir.resolve("other-train-images-idx3-ubyte"), Synth.idxImages(9, 2, 2), false);
    assertThatThrownBy(() -> Datasets.open(dir))
        .isInstanceOf(DataFormatException.class)
        .hasMessageContaining("several train-images-idx3-ubyte files: [other-train-images-idx3-"
            + "ubyte, train-images-idx3-ubyte]");
  }

  // ---- gaps found by a mutation pass: each test says which check it holds in place ----

  /** A missing file or directory is named as missing, not as an I/O error of a later step. */
  @Test
  void aMissingFileOrDirectoryIsNamedAsMissing() {
    Path gone = tmp.resolve("train-images-idx3-ubyte");
    assertThatThrownBy(() -> IdxFiles.readImages(gone))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(gone + ": no such file")
        .satisfies(e -> assertThat(((DataFormatException) e).file()).isEqualTo(gone));
    Path dir = tmp.resolve("nowhere");
    assertThatThrownBy(() -> IdxFiles.load(dir, Split.TRAIN, "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir + ": no such directory");
  }

  /**
   * The column count is checked like the row count: a zero column count makes a zero-byte payload
   * that a 16-byte file matches exactly, so without the check it loads as images with no pixels.
   */
  @Test
  void implausibleColumnCountIsRefused() throws IOException {
    Path f = Synth.write(tmp.resolve("a"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 3, 28, 0, 0), false);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": implausible column count 0 in the header (expected 1..16384)");
    Path g = Synth.write(tmp.resolve("b"),
        Synth.idxImagesHeader(IdxFiles.IMAGES_MAGIC, 1, 1, 16385, 0), false);
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .hasMessage(g + ": implausible column count 16385 in the header (expected 1..16384)");
  }

  /** The "this is an image file" hint is given for the image magic only, not for any magic. */
  @Test
  void aLabelReaderNamesAnImageFileButNotOtherMagics() throws IOException {
    Path img = Synth.write(tmp.resolve("i"), Synth.idxImages(1, 2, 2), false);
    assertThatThrownBy(() -> IdxFiles.readLabels(img))
        .hasMessage(img + ": wrong magic number 0x00000803, expected 0x00000801 (IDX labels:"
            + " unsigned bytes, 1 dimension); this is an image file");
    // 0x00000802: unsigned bytes in 2 dimensions, neither kind the reader knows
    Path two = Synth.write(tmp.resolve("t"), new byte[] {0, 0, 8, 2, 0, 0, 0, 1, 7}, false);
    assertThatThrownBy(() -> IdxFiles.readLabels(two))
        .hasMessage(two + ": wrong magic number 0x00000802, expected 0x00000801 (IDX labels:"
            + " unsigned bytes, 1 dimension)");
    assertThatThrownBy(() -> IdxFiles.readImages(two))
        .hasMessage(two + ": wrong magic number 0x00000802, expected 0x00000803 (IDX images:"
            + " unsigned bytes, 3 dimensions)");
  }

  @Test
  void rawImageFileWithTrailingBytesIsRefused() throws IOException {
    byte[] full = Synth.idxImages(2, 2, 3);
    Path f = Synth.write(tmp.resolve("i"), Arrays.copyOf(full, full.length + 5), false);
    // 16 header bytes + 2 * 2 * 3 pixels = 28; the file has 5 more
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .hasMessage(f + ": file is longer than its header says: 2 images of 2x3 take 28 bytes with"
            + " the header, the file has 33");
  }

  @Test
  void truncatedGzippedLabelFileSaysHowManyLabelsItHeld() throws IOException {
    byte[] full = Synth.idxLabels(1, 2, 3, 4);
    Path f = Synth.write(tmp.resolve("l.gz"), Arrays.copyOf(full, full.length - 2), true);
    assertThatThrownBy(() -> IdxFiles.readLabels(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated label file: header claims 4 labels, the data ends after 2");
  }

  /**
   * A gzipped label file's count is not bounded by a file length; 3,000,000,000 (0xB2D05E00) is
   * more than an array holds, and cast to int it is negative: refused before any allocation.
   */
  @Test
  void gzippedLabelCountBeyondAnyArrayIsRefused() throws IOException {
    Path f = Synth.write(tmp.resolve("l.gz"),
        new byte[] {0, 0, 8, 1, (byte) 0xB2, (byte) 0xD0, 0x5E, 0x00, 1, 2}, true);
    assertThatThrownBy(() -> IdxFiles.readLabels(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": 3000000000 labels are more than a loaded dataset may hold (2147483639)");
  }

  /** Names given by the caller are used as they are, and a label beyond them names no source. */
  @Test
  void givenClassNamesAreUsedAndBoundTheLabels() throws IOException {
    Path img = Synth.write(tmp.resolve("x-images-idx3-ubyte"), Synth.idxImages(2, 1, 1), false);
    Path lab = Synth.write(tmp.resolve("x-labels-idx1-ubyte"), Synth.idxLabels(1, 0), false);
    assertThat(IdxFiles.read(img, lab, java.util.List.of("no", "yes"), "x").classNames())
        .containsExactly("no", "yes");
    Synth.write(lab, Synth.idxLabels(0, 2), false);
    assertThatThrownBy(() -> IdxFiles.read(img, lab, java.util.List.of("no", "yes"), "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(lab + ": label 2 of item 1 is out of range for 2 classes");
  }

  /**
   * What {@code data shortcut} and the tests write is byte for byte the IDX layout the readers
   * take (compared with headers built field by field), and labels or pixel counts the layout
   * cannot hold are refused before the file is opened.
   */
  @Test
  void writtenImagesAndLabelsAreTheIdxBytes() throws IOException {
    byte[] full = Synth.idxImages(3, 2, 5);
    byte[] pixels = Arrays.copyOfRange(full, 16, full.length);
    Path img = tmp.resolve("w-images-idx3-ubyte");
    IdxFiles.writeImages(img, 3, 2, 5, pixels);
    assertThat(Files.readAllBytes(img)).isEqualTo(full);
    Path lab = tmp.resolve("w-labels-idx1-ubyte");
    IdxFiles.writeLabels(lab, new int[] {255, 0, 128});
    assertThat(Files.readAllBytes(lab)).isEqualTo(Synth.idxLabels(255, 0, 128));

    Path none = tmp.resolve("refused");
    assertThatThrownBy(() -> IdxFiles.writeImages(none, 3, 2, 4, pixels))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("30 pixel bytes are not 3 images of 2x4");
    assertThatThrownBy(() -> IdxFiles.writeImages(none, 3, 5, 3, pixels))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IdxFiles.writeLabels(none, new int[] {3, 256}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("label 256 of item 1 does not fit in an unsigned byte");
    assertThatThrownBy(() -> IdxFiles.writeLabels(none, new int[] {-1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("label -1 of item 0 does not fit in an unsigned byte");
    assertThat(none).doesNotExist();
  }

  /** Without names, a largest label of 12 gives the 13 names "0".."12", not an error. */
  @Test
  void numberedNamesReachTheLargestLabel() throws IOException {
    Path img = Synth.write(tmp.resolve("x-images-idx3-ubyte"), Synth.idxImages(3, 1, 1), false);
    Path lab = Synth.write(tmp.resolve("x-labels-idx1-ubyte"), Synth.idxLabels(12, 0, 5), false);
    Dataset d = IdxFiles.read(img, lab, null, "x");
    assertThat(d.classNames()).containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
        "10", "11", "12");
    assertThat(d.labels()).containsExactly(12, 0, 5);
  }

  @Test
  void emnistMappingSkipsBlankLinesAndNamesABadLine() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("m"));
    Path map = Files.writeString(dir.resolve("emnist-x-mapping.txt"), "0 65\n\n1 97\n  \n");
    assertThat(IdxFiles.classNames(dir)).containsExactly("A", "a");
    assertMappingRefused(map, "0 65\n2 67\n", "line 2 is not '1 <character code> ...': 2 67");
    assertMappingRefused(map, "2 65\n", "line 1 is not '0 <character code> ...' or '1 <character code> ...': 2 65");
    assertMappingRefused(map, "0 65\n1 -5\n", "line 2: -5 is not a character code");
    assertMappingRefused(map, "0\n", "line 1 is not '0 <character code> ...' or '1 <character code> ...': 0");
    assertMappingRefused(map, "0 6x\n", "bad character code: For input string: \"6x\"");
  }

  /** The mapping file {@code map}, holding {@code content}, is refused with {@code message} after its name. */
  private static void assertMappingRefused(Path map, String content, String message) throws IOException {
    Files.writeString(map, content);
    assertThatThrownBy(() -> IdxFiles.classNames(map.getParent()))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(map + ": " + message);
  }

  /**
   * A raw file and a gzipped file that is not its twin are two sets: picking the raw one would
   * load whichever set happens to be uncompressed.
   */
  @Test
  void aRawFileAndAnUnrelatedGzippedFileAreAmbiguous() throws IOException {
    Path dir = tmp.resolve("d");
    Synth.write(dir.resolve("a-train-images-idx3-ubyte"), Synth.idxImages(2, 2, 2), false);
    Synth.write(dir.resolve("b-train-images-idx3-ubyte.gz"), Synth.idxImages(3, 2, 2), true);
    assertThatThrownBy(() -> IdxFiles.find(dir, Split.TRAIN, "images-idx3-ubyte"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir + ": several train-images-idx3-ubyte files: [a-train-images-idx3-ubyte,"
            + " b-train-images-idx3-ubyte.gz]; use a directory that holds one set");
  }

  /**
   * gzip's CRC-32 and length trailer are what tell a corrupt body from a good one: a file whose
   * trailer is wrong or missing must not load, although every pixel byte inflates.
   */
  @Test
  void aGzipFileWithABadOrMissingTrailerIsRefused() throws IOException {
    Path good = Synth.write(tmp.resolve("good.gz"), Synth.idxImages(2, 3, 3), true);
    byte[] gz = Files.readAllBytes(good);
    byte[] badCrc = gz.clone();
    badCrc[gz.length - 8] ^= 1; // the trailer is CRC-32 then length, 4 bytes each
    Path f = Files.write(tmp.resolve("crc.gz"), badCrc);
    assertThatThrownBy(() -> IdxFiles.readImages(f))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated or corrupt: Corrupt GZIP trailer");
    Path g = Files.write(tmp.resolve("cut.gz"), Arrays.copyOf(gz, gz.length - 8));
    assertThatThrownBy(() -> IdxFiles.readImages(g))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(g + ": truncated or corrupt: ");
  }
}
