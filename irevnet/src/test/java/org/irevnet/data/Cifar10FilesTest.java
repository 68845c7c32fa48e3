package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10FilesTest {
  @TempDir Path tmp;

  private Path cifarDir() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cifar-10-batches-bin"));
    Files.write(dir.resolve("data_batch_1.bin"), Synth.cifar(0, 3, 9, 0));
    Files.write(dir.resolve("data_batch_2.bin"), Synth.cifar(3, 1, 2));
    Files.write(dir.resolve("test_batch.bin"), Synth.cifar(100, 7));
    return dir;
  }

  @Test
  void readsBatchesInOrderWithChannelPlanes() throws IOException {
    DataSource src = Datasets.open(cifarDir());
    assertThat(src.format()).isEqualTo(DataSource.Format.CIFAR10);
    Dataset train = src.train();
    assertThat(train.images().shape()).containsExactly(5, 3, 32, 32);
    assertThat(train.labels()).containsExactly(3, 9, 0, 1, 2);
    assertThat(train.classNames()).isEqualTo(Cifar10Files.CLASSES);
    // record i, channel c, row r, column x  <-  byte 1 + c*1024 + r*32 + x
    int[][] probes = {{0, 0, 0, 0}, {1, 1, 5, 7}, {4, 2, 31, 31}, {3, 2, 0, 31}, {2, 0, 31, 0}};
    for (int[] p : probes) {
      assertThat(train.images().getFloat(p[0], p[1], p[2], p[3]))
          .isEqualTo(Synth.pixel(p[0], p[1] * 1024 + p[2] * 32 + p[3]) / 255f);
    }
    Dataset test = src.test();
    assertThat(test.labels()).containsExactly(7);
    assertThat(test.images().getFloat(0, 1, 2, 3)).isEqualTo(Synth.pixel(100, 1024 + 67) / 255f);
  }

  @Test
  void foundInsideTheTarballsSubdirectoryAndNamedFromBatchesMeta() throws IOException {
    Path dir = cifarDir();
    Files.writeString(dir.resolve("batches.meta.txt"),
        "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
    DataSource src = Datasets.open(tmp);
    assertThat(src.dir()).isEqualTo(dir);
    assertThat(src.test().classNames()).containsExactly("a", "b", "c", "d", "e", "f", "g", "h",
        "i", "j");
    Files.writeString(dir.resolve("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nb\n");
    assertThatThrownBy(src::test).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("batches.meta.txt") + ": class name 'b' is given twice (lines 2 and 10)");
  }

  @Test
  void truncatedBatchFile() throws IOException {
    Path dir = cifarDir();
    byte[] rec = Synth.cifar(0, 1, 2);
    Path f = Files.write(dir.resolve("data_batch_2.bin"), Arrays.copyOf(rec, rec.length - 100));
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated or not a CIFAR-10 batch: length 6046 is not a positive"
            + " multiple of 3073 (1 label byte + 3072 pixel bytes)");
  }

  @Test
  void aGapInTheTrainingBatchesIsRefusedAndTheFirstBatchesAlonePass() throws IOException {
    Path dir = cifarDir();
    Files.move(dir.resolve("data_batch_2.bin"), dir.resolve("data_batch_3.bin"));
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir + ": data_batch_2.bin is missing but data_batch_3.bin is present (a partial copy?); CIFAR-10"
            + " training data is data_batch_1.bin .. data_batch_5.bin");
    Files.delete(dir.resolve("data_batch_3.bin"));
    assertThat(Datasets.open(dir).train().labels()).containsExactly(3, 9, 0);
  }

  /**
   * A batch that is there by name but is no file (a link whose target is gone, a folder) is refused
   * naming it: it was passed over, and the training split was the batches before it alone.
   */
  @Test
  void aBatchThatIsALinkToNothingOrAFolderIsRefusedNamingIt() throws IOException {
    Path dir = cifarDir();
    Files.delete(dir.resolve("data_batch_2.bin"));
    Path link = Files.createSymbolicLink(dir.resolve("data_batch_2.bin"), tmp.resolve("gone.bin"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(link + ": a link to nothing (its target is missing or cannot be reached)");
    Files.delete(link);
    Path folder = Files.createDirectory(dir.resolve("data_batch_2.bin"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(folder + ": not a regular file");
    Files.delete(dir.resolve("test_batch.bin"));
    Path test = Files.createSymbolicLink(dir.resolve("test_batch.bin"), tmp.resolve("gone.bin"));
    assertThatThrownBy(() -> Datasets.open(dir).test()).isInstanceOf(DataFormatException.class)
        .hasMessage(test + ": a link to nothing (its target is missing or cannot be reached)");
  }

  @Test
  void allFiveTrainingBatchesAreReadInOrder() throws IOException {
    Path dir = cifarDir();
    Files.write(dir.resolve("data_batch_3.bin"), Synth.cifar(4, 5));
    Files.write(dir.resolve("data_batch_4.bin"), Synth.cifar(5, 6));
    Files.write(dir.resolve("data_batch_5.bin"), Synth.cifar(6, 8, 4));
    Dataset train = Datasets.open(dir).train();
    assertThat(train.labels()).containsExactly(3, 9, 0, 1, 2, 5, 6, 8, 4);
    assertThat(train.images().getFloat(8, 2, 31, 31)).isEqualTo(Synth.pixel(7, 3071) / 255f);
  }

  /** CIFAR-100's records carry a coarse and a fine label: 3074 bytes, which the message recognises. */
  @Test
  void aCifar100BatchIsNamedAsSuch() throws IOException {
    Path dir = cifarDir();
    Path f = Files.write(dir.resolve("test_batch.bin"), new byte[2 * (Cifar10Files.RECORD + 1)]);
    assertThatThrownBy(() -> Datasets.open(dir).test()).isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated or not a CIFAR-10 batch: length 6148 is not a positive multiple of 3073"
            + " (1 label byte + 3072 pixel bytes); CIFAR-100 batches (2 label bytes per record) are not supported");
  }

  @Test
  void labelOutOfRange() throws IOException {
    Path dir = cifarDir();
    Path f = Files.write(dir.resolve("test_batch.bin"), Synth.cifar(0, 4, 10));
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": label 10 of record 1 is out of range for 10 classes");
  }

  /** Fewer names in batches.meta.txt than the labels need: the message says where the count came from. */
  @Test
  void aLabelPastTheNamesOfBatchesMetaNamesTheFile() throws IOException {
    Path dir = cifarDir();
    Files.writeString(dir.resolve("batches.meta.txt"), "a\nb\nc\nd\ne\n");
    Path f = Files.write(dir.resolve("test_batch.bin"), Synth.cifar(0, 4, 7));
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": label 7 of record 1 is out of range for 5 classes (named by batches.meta.txt)");
  }

  @Test
  void missingSplit() throws IOException {
    Path dir = cifarDir();
    Files.delete(dir.resolve("test_batch.bin"));
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir + ": no test_batch.bin (CIFAR-10 test batches)");
  }

  @Test
  void aMissingDirectoryOrBatchFileIsNamedAsMissing() throws IOException {
    Path dir = tmp.resolve("nowhere");
    assertThatThrownBy(() -> Cifar10Files.load(dir, Split.TEST, "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir + ": no such directory");
    Path gone = tmp.resolve("test_batch.bin");
    assertThatThrownBy(() -> Cifar10Files.read(List.of(gone), Cifar10Files.CLASSES, "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(gone + ": no such file");
    Path sub = Files.createDirectories(tmp.resolve("data_batch_1.bin"));
    assertThatThrownBy(() -> Cifar10Files.read(List.of(sub), Cifar10Files.CLASSES, "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(sub + ": not a regular file");
  }

  @Test
  void noFilesOrNoClassNamesAreRefusedByName() throws IOException {
    assertThatThrownBy(() -> Cifar10Files.read(List.of(), Cifar10Files.CLASSES, "cifar/train"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cifar/train: no CIFAR-10 batch files to read");
    Path batch = cifarDir().resolve("test_batch.bin");
    assertThatThrownBy(() -> Cifar10Files.read(List.of(batch), List.of(), "cifar/test"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cifar/test: no class names");
  }

  /** An empty file is a multiple of every record size; it must not be called a CIFAR-100 batch. */
  @Test
  void anEmptyBatchIsNotTakenForCifar100() throws IOException {
    Path dir = cifarDir();
    Path f = Files.write(dir.resolve("test_batch.bin"), new byte[0]);
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": truncated or not a CIFAR-10 batch: length 0 is not a positive multiple"
            + " of 3073 (1 label byte + 3072 pixel bytes)");
  }

  /**
   * The size limit is checked on the sum of all batches: five files of 140,000 records each are
   * 700,000 x 3072 = 2,150,400,000 pixel bytes, over the 2^31 - 9 a Java array holds, though each
   * file alone fits. The files are sparse (length set, nothing written), so nothing is read.
   */
  @Test
  void batchesTogetherTooLargeForAnArrayAreRefusedBeforeReading() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("big"));
    for (int i = 1; i <= 5; i++) {
      try (java.io.RandomAccessFile f =
          new java.io.RandomAccessFile(dir.resolve("data_batch_" + i + ".bin").toFile(), "rw")) {
        f.setLength(140_000L * Cifar10Files.RECORD);
      }
    }
    assertThatThrownBy(() -> Cifar10Files.load(dir, Split.TRAIN, "x"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir.resolve("data_batch_1.bin") + ": 700000 images of 3x32x32 (2150400000"
            + " pixels) are more than a loaded dataset may hold (2147483639)");
  }
}
