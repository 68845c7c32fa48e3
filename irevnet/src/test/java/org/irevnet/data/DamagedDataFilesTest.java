package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.InFile;
import org.irevnet.testing.Damage.Field;
import org.irevnet.testing.Damage.Outcome;

/**
 * The dataset readers fuzzed: valid tiny files (IDX raw and gzipped, a CIFAR-10 batch, PNGs of each
 * kind the loader takes) cut, bit-flipped, overwritten and given extreme header integers. Each
 * damaged copy reads as the original, or as the original with other pixel or label values where
 * the damage is in a payload no checksum covers (raw IDX, CIFAR-10), or is refused as a {@link
 * DataFormatException} naming the file (see {@link Damage#read}). Gzip (CRC-32) and PNG (a CRC-32 a
 * chunk) carry checksums: any damage there is refused or read as the original.
 */
class DamagedDataFilesTest {
  private static final Path DIR = Damage.directory("damaged-data");

  private static final byte[] PIXELS = {0, 1, 2, (byte) 255, 10, 20, 30, 40, 7, 8, 9, (byte) 128};
  private static final byte[] IMAGES = idx(true);
  private static final byte[] LABELS = idx(false);
  private static final List<Field> IMAGE_FIELDS = List.of(new Field("magic", 0, 4, true),
      new Field("count", 4, 4, true), new Field("rows", 8, 4, true), new Field("columns", 12, 4, true));
  private static final List<Field> LABEL_FIELDS = List.of(new Field("magic", 0, 4, true), new Field("count", 4, 4, true));

  /** Three 2x2 images (or their labels 0, 1, 2) as the tool writes them. */
  private static byte[] idx(boolean images) {
    try {
      Path f = DIR.resolve(images ? "valid-images" : "valid-labels");
      if (images) IdxFiles.writeImages(f, 3, 2, 2, PIXELS);
      else IdxFiles.writeLabels(f, new int[] {0, 1, 2});
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] gzip(byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<Damaged> idxImages() {
    return Damage.of(IMAGES, IMAGE_FIELDS);
  }

  @Provide
  Arbitrary<Damaged> idxLabels() {
    return Damage.of(LABELS, LABEL_FIELDS);
  }

  @Provide
  Arbitrary<Damaged> gzippedImages() {
    return Damage.of(gzip(IMAGES), List.of());
  }

  @Provide
  Arbitrary<Damaged> gzippedLabels() {
    return Damage.of(gzip(LABELS), List.of());
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedIdxImageFileIsReadAsItsPixelsOrRefused(@ForAll("idxImages") Damaged d) throws Exception {
    Path f = DIR.resolve("train-images-idx3-ubyte");
    Outcome<IdxFiles.Images> o = Damage.read(f, d, f, IdxFiles::readImages, DataFormatException.class);
    if (o.refused()) return;
    // No checksum: a change in the pixels (from byte 16) reads as other pixels, never other sizes.
    assertThat(d.first()).as(d + " read without a word").isGreaterThanOrEqualTo(16);
    assertThat(List.of(o.value().count(), o.value().rows(), o.value().cols())).isEqualTo(List.of(3, 2, 2));
    assertThat(o.value().pixels()).hasSize(PIXELS.length);
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedIdxLabelFileIsReadAsItsLabelsOrRefused(@ForAll("idxLabels") Damaged d) throws Exception {
    Path f = DIR.resolve("train-labels-idx1-ubyte");
    Outcome<int[]> o = Damage.read(f, d, f, IdxFiles::readLabels, DataFormatException.class);
    if (o.refused()) return;
    assertThat(d.first()).as(d + " read without a word").isGreaterThanOrEqualTo(8);
    assertThat(o.value()).hasSize(3);
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedGzippedIdxImageFileIsReadAsTheOriginalOrRefused(@ForAll("gzippedImages") Damaged d) throws Exception {
    Path f = DIR.resolve("train-images-idx3-ubyte.gz");
    Outcome<IdxFiles.Images> o = Damage.read(f, d, f, IdxFiles::readImages, DataFormatException.class);
    if (o.refused()) return;
    // Gzip's CRC-32 covers every byte: what reads is the original (damage in the header's time or OS byte).
    assertThat(List.of(o.value().count(), o.value().rows(), o.value().cols())).as(d.toString())
        .isEqualTo(List.of(3, 2, 2));
    assertThat(o.value().pixels()).as(d.toString()).isEqualTo(PIXELS);
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedGzippedIdxLabelFileIsReadAsTheOriginalOrRefused(@ForAll("gzippedLabels") Damaged d) throws Exception {
    Path f = DIR.resolve("train-labels-idx1-ubyte.gz");
    Outcome<int[]> o = Damage.read(f, d, f, IdxFiles::readLabels, DataFormatException.class);
    if (o.refused()) return;
    assertThat(o.value()).as(d.toString()).containsExactly(0, 1, 2);
  }

  /** The class-name files of an IDX directory: {@code classes.txt} and EMNIST's letters mapping. */
  enum Names {
    CLASSES("classes.txt", "T-shirt/top\nTrouser\nPullover\n"),
    MAPPING("emnist-letters-mapping.txt", "1 65 97\n2 66 98\n3 67 99\n");

    final String file;
    final String text;

    Names(String file, String text) {
      this.file = file;
      this.text = text;
    }
  }

  @Provide
  Arbitrary<InFile> classNames() {
    return net.jqwik.api.Arbitraries.of(Names.values())
        .flatMap(n -> Damage.ofText(n.text).map(d -> new InFile(n.name(), d)));
  }

  /**
   * An IDX directory of labels 0, 1, 2 (1, 2, 3 in EMNIST letters) whose class names are damaged:
   * other names (no checksum), or a refusal naming the file.
   */
  @Property(tries = 200, seed = "20261206")
  void damagedClassNamesAreReadAsNamesOrRefused(@ForAll("classNames") InFile p) throws Exception {
    Names names = Names.valueOf(p.file());
    Path dir = DIR.resolve("names-" + names);
    Files.createDirectories(dir);
    boolean emnist = names == Names.MAPPING;
    String prefix = emnist ? "emnist-letters-" : "";
    Files.write(dir.resolve(prefix + "train-images-idx3-ubyte"), IMAGES);
    IdxFiles.writeLabels(dir.resolve(prefix + "train-labels-idx1-ubyte"), emnist ? new int[] {1, 2, 3} : new int[] {0, 1, 2});
    Outcome<Dataset> o = Damage.read(dir.resolve(names.file), p.damaged(), dir, f -> IdxFiles.load(dir, Split.TRAIN, "n"),
        DataFormatException.class);
    if (!o.refused()) assertThat(o.value().labels()).containsExactly(0, 1, 2);
  }

  private static final byte[] CIFAR = Synth.cifar(5, 3, 9);

  @Provide
  Arbitrary<Damaged> cifarBatches() {
    return Damage.of(CIFAR, List.of());
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedCifarBatchIsReadAsItsRecordsOrRefused(@ForAll("cifarBatches") Damaged d) throws Exception {
    Path f = DIR.resolve("data_batch_1.bin");
    Outcome<Dataset> o = Damage.read(f, d, f, p -> Cifar10Files.read(List.of(p), Cifar10Files.CLASSES, "c"),
        DataFormatException.class);
    if (o.refused()) return;
    // No checksum, no header: a changed byte is another label or pixel of the same two records.
    assertThat(d.bytes()).hasSameSizeAs(CIFAR);
    assertThat(o.value().images().shape()).containsExactly(2, 3, 32, 32);
  }

  /** The PNG kinds the loader reads: 8-bit grey, RGB, 16-bit grey, a palette of colours. */
  enum Png { GREY, RGB, GREY16, PALETTE }

  private static byte[] png(Png kind) {
    BufferedImage img = switch (kind) {
      case GREY -> new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
      case RGB -> new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
      case GREY16 -> new BufferedImage(3, 2, BufferedImage.TYPE_USHORT_GRAY);
      case PALETTE -> new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 4,
          new byte[] {0, 10, (byte) 200, 30}, new byte[] {0, 90, 50, 60}, new byte[] {0, 70, 80, (byte) 250}));
    };
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        int k = r * 3 + c;
        switch (kind) {
          case GREY -> img.getRaster().setSample(c, r, 0, 40 * k + 5);
          case GREY16 -> img.getRaster().setSample(c, r, 0, 10_000 * k + 7);
          case RGB -> img.setRGB(c, r, 0xFF000000 | (40 * k) << 16 | (200 - 30 * k) << 8 | 17 * k);
          case PALETTE -> img.getRaster().setSample(c, r, 0, k % 4);
        }
      }
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<InFile> pngs() {
    return net.jqwik.api.Arbitraries.of(Png.values()).flatMap(kind -> Damage.of(png(kind), List.of(
        new Field("width", 16, 4, true), new Field("height", 20, 4, true), new Field("bit depth", 24, 1, true),
        new Field("colour type", 25, 1, true), new Field("IDAT length", 33, 4, true)))
        .map(d -> new InFile(kind.name(), d)));
  }

  /**
   * A folder of two classes, one image each, the first damaged. PNG checks each chunk with a CRC-32,
   * and its pixels with zlib's Adler-32: damage reads as the original image or is refused.
   */
  @Property(tries = 200, seed = "20261206")
  void aDamagedPngIsReadAsTheOriginalOrRefused(@ForAll("pngs") InFile p) throws Exception {
    Png kind = Png.valueOf(p.file());
    Path root = DIR.resolve("png-" + kind);
    Path damaged = root.resolve("train/a/x.png");
    Files.createDirectories(damaged.getParent());
    Files.createDirectories(root.resolve("train/b"));
    Files.write(root.resolve("train/b/y.png"), png(kind));
    Files.write(damaged, png(kind));
    Dataset original = PngFolders.load(root, Split.TRAIN, "p");
    Outcome<Dataset> o = Damage.read(damaged, p.damaged(), damaged, f -> PngFolders.load(root, Split.TRAIN, "p"),
        DataFormatException.class);
    if (o.refused()) return;
    assertThat(o.value().images()).as(p + " read as other pixels").isEqualTo(original.images());
    assertThat(o.value().labels()).isEqualTo(original.labels());
  }
}
