package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.indexing.NDArrayIndex;

class PngFoldersTest {
  @TempDir Path tmp;

  /** A grey h x w PNG whose pixel (r, c) is pixel(seed, r * w + c). */
  private static Path grey(Path file, int seed, int h, int w) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        img.getRaster().setSample(c, r, 0, Synth.pixel(seed, r * w + c));
      }
    }
    Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
    return file;
  }

  private static Path rgb(Path file, int h, int w, int argb, int type) throws IOException {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        img.setRGB(c, r, argb + r * 16 + c);
      }
    }
    Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
    return file;
  }

  /** A palette PNG of 2x3 pixels whose pixel (r, c) is palette entry {@code index[r * 3 + c]}. */
  private static Path indexed(Path file, int[] red, int[] green, int[] blue, int[] alpha,
      int... index) throws IOException {
    byte[][] p = new byte[4][red.length];
    for (int i = 0; i < red.length; i++) {
      p[0][i] = (byte) red[i];
      p[1][i] = (byte) green[i];
      p[2][i] = (byte) blue[i];
      p[3][i] = (byte) alpha[i];
    }
    IndexColorModel cm = new IndexColorModel(8, red.length, p[0], p[1], p[2], p[3]);
    BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_INDEXED, cm);
    img.getRaster().setPixels(0, 0, 3, 2, index);
    Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
    return file;
  }

  private static final int[] OPAQUE = {255, 255, 255, 255};

  @Test
  void paletteImagesAreGreyWhenEveryEntryIsGreyAndColourOtherwise() throws IOException {
    // a full palette of 256 grey entries, 7i mod 256: no even ramp, so that the PNG is written
    // with its palette
    int[] grey = new int[256];
    int[] opaque = new int[256];
    for (int i = 0; i < 256; i++) {
      grey[i] = i * 7 % 256;
      opaque[i] = 255;
    }
    Path g = indexed(tmp.resolve("grey/train/a/1.png"), grey, grey, grey, opaque,
        0, 1, 2, 3, 255, 128);
    assertThat(ImageIO.read(g.toFile()).getColorModel()).isInstanceOf(IndexColorModel.class);
    Dataset d = Datasets.open(tmp.resolve("grey")).train();
    assertThat(d.images().shape()).containsExactly(1, 1, 2, 3);
    float[] v = d.images().data().asFloat();
    int[] expected = {0, 7, 14, 21, 249, 128}; // 255 x 7 = 1785 = 6 x 256 + 249; 128 x 7 = 896
    for (int i = 0; i < 6; i++) {
      assertThat(v[i]).isEqualTo(expected[i] / 255f);
    }

    // the first entry differs in blue only: colour, as R, G and B planes
    Path c = indexed(tmp.resolve("colour/train/a/1.png"), new int[] {7, 0, 255, 1},
        new int[] {7, 0, 0, 2}, new int[] {70, 255, 0, 3}, OPAQUE, 0, 1, 2, 3, 0, 0);
    assertThat(ImageIO.read(c.toFile()).getColorModel()).isInstanceOf(IndexColorModel.class);
    Dataset e = Datasets.open(tmp.resolve("colour")).train();
    assertThat(e.images().shape()).containsExactly(1, 3, 2, 3);
    assertThat(e.images().data().asFloat()).containsExactly(
        7 / 255f, 0f, 1f, 1 / 255f, 7 / 255f, 7 / 255f, // R
        7 / 255f, 0f, 0f, 2 / 255f, 7 / 255f, 7 / 255f, // G
        70 / 255f, 1f, 0f, 3 / 255f, 70 / 255f, 70 / 255f); // B
  }

  /**
   * Whether a palette image is colour is decided by the entries its pixels use: one whose only
   * colour entry is unused is grey among grey images, and an entry off grey in green alone
   * (red = blue) makes it colour.
   */
  @Test
  void aPaletteImageIsColourOnlyWhereItsPixelsAre() throws IOException {
    Path dir = tmp.resolve("grey");
    Path unused = indexed(dir.resolve("train/a/0.png"), new int[] {9, 120, 250, 200},
        new int[] {9, 120, 250, 10}, new int[] {9, 120, 250, 10}, OPAQUE, 0, 1, 2, 1, 0, 2);
    assertThat(ImageIO.read(unused.toFile()).getColorModel()).isInstanceOf(IndexColorModel.class);
    grey(dir.resolve("train/a/1.png"), 6, 2, 3);
    Dataset d = Datasets.open(dir).train();
    assertThat(d.images().shape()).containsExactly(2, 1, 2, 3);
    assertThat(d.images().get(NDArrayIndex.point(0)).dup().data().asFloat()).containsExactly(
        9 / 255f, 120 / 255f, 250 / 255f, 120 / 255f, 9 / 255f, 250 / 255f);

    Path green = tmp.resolve("green");
    indexed(green.resolve("train/a/0.png"), new int[] {50, 100}, new int[] {50, 180}, new int[] {50, 100},
        new int[] {255, 255}, 0, 1, 0, 1, 1, 0);
    Dataset e = Datasets.open(green).train();
    assertThat(e.images().shape()).containsExactly(1, 3, 2, 3);
    assertThat(e.images().data().asFloat()).containsExactly(
        50 / 255f, 100 / 255f, 50 / 255f, 100 / 255f, 100 / 255f, 50 / 255f, // R
        50 / 255f, 180 / 255f, 50 / 255f, 180 / 255f, 180 / 255f, 50 / 255f, // G
        50 / 255f, 100 / 255f, 50 / 255f, 100 / 255f, 100 / 255f, 50 / 255f); // B
  }

  @Test
  void aTransparentPaletteEntryInUseIsRefused() throws IOException {
    int[] grey = {10, 200, 30, 90};
    Path f = indexed(tmp.resolve("t/train/a/1.png"), grey, grey, grey,
        new int[] {255, 255, 0, 255}, 0, 1, 3, 3, 2, 1);
    assertThatThrownBy(() -> Datasets.open(tmp.resolve("t")).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(f + ": has transparent pixels; only opaque images are supported");
  }

  @Test
  void theClassesTakeTurnsSoThatTheFirstImagesAreOfEveryClass() throws IOException {
    // Read class by class, the first --count test images an attack or analysis takes were all of
    // the first class.
    Path dir = tmp.resolve("turns");
    String[][] names = {{"apple", "a1", "a2", "a3"}, {"fig", "f1", "f2", "f3"}, {"kiwi", "k1"}};
    int seed = 1;
    for (String[] cls : names) {
      for (int i = 1; i < cls.length; i++) grey(dir.resolve("train/" + cls[0] + "/" + cls[i] + ".png"), seed++, 3, 4);
    }
    Dataset train = Datasets.open(dir).train();
    assertThat(train.labels()).containsExactly(0, 1, 2, 0, 1, 0, 1);
    int[] seeds = {1, 4, 7, 2, 5, 3, 6}; // a1 f1 k1 a2 f2 a3 f3
    for (int i = 0; i < seeds.length; i++) {
      assertThat(train.images().getFloat(i, 0, 2, 3)).isEqualTo(Synth.pixel(seeds[i], 2 * 4 + 3) / 255f);
    }
  }

  /**
   * A class folder whose name is composed (NFC) in one split and decomposed (NFD, as macOS writes
   * names) in the other is one class: it was two, one "without training images", both shown alike.
   */
  @Test
  void aClassSpelledComposedInOneSplitAndDecomposedInTheOtherIsOneClass() throws IOException {
    String composed = "Caf\u00e9", decomposed = "Cafe\u0301";
    Path dir = tmp.resolve("drinks");
    grey(dir.resolve("train/" + composed + "/a.png"), 1, 3, 4);
    grey(dir.resolve("train/tea/a.png"), 2, 3, 4);
    grey(dir.resolve("test/" + decomposed + "/b.png"), 3, 3, 4);
    grey(dir.resolve("test/tea/b.png"), 4, 3, 4);
    assertThat(Files.isDirectory(dir.resolve("test/" + composed))).as("the file system keeps both spellings").isFalse();
    DataSource src = Datasets.open(dir);
    assertThat(src.train().classNames()).containsExactly(composed, "tea");
    assertThat(src.test().classNames()).containsExactly(composed, "tea");
    assertThat(src.test().labels()).containsExactly(0, 1);
    assertThat(src.test().size()).isEqualTo(2);
  }

  /**
   * Two folders of one class in one split, its name composed in one and decomposed in the other, are
   * refused naming them: the composed one was read and the other's images left out without a word.
   */
  @Test
  void twoFoldersOfOneClassNameInDifferentUnicodeFormsAreRefused() throws IOException {
    String composed = "Caf\u00e9", decomposed = "Cafe\u0301";
    Path dir = tmp.resolve("twice");
    grey(dir.resolve("train/" + composed + "/a.png"), 1, 3, 4);
    grey(dir.resolve("train/" + decomposed + "/b.png"), 2, 3, 4);
    grey(dir.resolve("train/tea/a.png"), 3, 3, 4);
    grey(dir.resolve("test/tea/a.png"), 4, 3, 4);
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessageContaining("a second folder of class '" + composed + "'")
        .hasMessageContaining("merge them into one");
    assertThatThrownBy(() -> Datasets.open(dir).test()).isInstanceOf(DataFormatException.class)
        .hasMessageContaining("a second folder of class '" + composed + "'");
  }

  @Test
  void classesAreSortedFolderNamesAndFilesAreReadInNameOrder() throws IOException {
    Path dir = tmp.resolve("shapes");
    grey(dir.resolve("train/zebra/b.png"), 1, 3, 4);
    grey(dir.resolve("train/zebra/a.png"), 2, 3, 4);
    grey(dir.resolve("train/apple/x.png"), 3, 3, 4);
    grey(dir.resolve("test/mango/m.png"), 4, 3, 4);
    Files.writeString(dir.resolve("train/apple/notes.txt"), "ignored");
    grey(dir.resolve("train/apple/.hidden.png"), 9, 3, 4);

    DataSource src = Datasets.open(dir);
    assertThat(src.format()).isEqualTo(DataSource.Format.PNG_FOLDERS);
    // A class only the test split has would be a class the model never learns (a misspelt folder).
    assertThatThrownBy(src::train).isInstanceOf(DataFormatException.class).hasMessage(
        dir.toAbsolutePath().resolve("test/mango") + ": a class without training images (no train/mango): add them"
            + " or remove the folder");
    grey(dir.resolve("train/mango/m.png"), 5, 3, 4);
    Dataset train = Datasets.open(dir).train();
    assertThat(train.classNames()).containsExactly("apple", "mango", "zebra");
    assertThat(train.labels()).containsExactly(0, 1, 2, 2);
    assertThat(train.images().shape()).containsExactly(4, 1, 3, 4);
    int[] seeds = {3, 5, 2, 1}; // apple/x, mango/m, zebra/a, zebra/b
    for (int i = 0; i < 4; i++) {
      for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 4; c++) {
          assertThat(train.images().getFloat(i, 0, r, c))
              .isEqualTo(Synth.pixel(seeds[i], r * 4 + c) / 255f);
        }
      }
    }
    Dataset test = src.test();
    assertThat(test.labels()).containsExactly(1);
    assertThat(test.classNames()).isEqualTo(train.classNames());
  }

  @Test
  void colourImagesGiveThreeChannelPlanes() throws IOException {
    Path dir = tmp.resolve("colour");
    rgb(dir.resolve("train/a/1.png"), 2, 3, 0xFF102030, BufferedImage.TYPE_INT_RGB);
    rgb(dir.resolve("train/b/1.png"), 2, 3, 0xFFA0B0C0, BufferedImage.TYPE_INT_ARGB);
    Dataset d = Datasets.open(dir).train();
    assertThat(d.images().shape()).containsExactly(2, 3, 2, 3);
    assertThat(d.images().getFloat(0, 0, 1, 2)).isEqualTo(0x10 / 255f);
    assertThat(d.images().getFloat(0, 1, 1, 2)).isEqualTo(0x20 / 255f);
    assertThat(d.images().getFloat(0, 2, 1, 2)).isEqualTo((0x30 + 16 + 2) / 255f);
    assertThat(d.images().getFloat(1, 0, 0, 0)).isEqualTo(0xA0 / 255f);
    assertThat(d.images().getFloat(1, 2, 0, 1)).isEqualTo((0xC0 + 1) / 255f);
  }

  @Test
  void imagesOfAnotherSizeOrChannelCountAreRefused() throws IOException {
    Path dir = tmp.resolve("mixed");
    Path first = grey(dir.resolve("train/a/1.png"), 1, 3, 4);
    Path odd = grey(dir.resolve("train/b/1.png"), 1, 4, 4);
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(odd + ": image is 4x4 with 1 channel(s), but " + first
            + " is 3x4 with 1; all images must agree");
    Files.delete(odd);
    Path colour = rgb(dir.resolve("train/b/1.png"), 3, 4, 0xFF102030, BufferedImage.TYPE_INT_RGB);
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .hasMessage(colour + ": image is 3x4 with 3 channel(s), but " + first
            + " is 3x4 with 1; all images must agree");
  }

  /** A grey image stored as RGB of {@code type}: R = G = B = pixel(seed, r * w + c). */
  private static Path greyAsRgb(Path file, int seed, int h, int w, int type) throws IOException {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        int v = Synth.pixel(seed, r * w + c);
        img.setRGB(c, r, 0xFF000000 | v << 16 | v << 8 | v);
      }
    }
    Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
    return file;
  }

  /**
   * Among grey images, one saved as RGB with R = G = B everywhere (export tools do this) is read
   * as grey, wherever it comes in the split; it was refused for its three channels. Among colour
   * images, or when every image is stored so, it stays three equal planes, and one pixel of colour
   * keeps it colour, refused among grey images.
   */
  @Test
  void anRgbImageWithoutColourIsGreyAmongGreyImages() throws IOException {
    Path dir = tmp.resolve("grey");
    greyAsRgb(dir.resolve("train/a/0.png"), 5, 2, 3, BufferedImage.TYPE_INT_RGB);
    grey(dir.resolve("train/a/1.png"), 6, 2, 3);
    grey(dir.resolve("train/b/0.png"), 8, 2, 3);
    greyAsRgb(dir.resolve("train/b/1.png"), 7, 2, 3, BufferedImage.TYPE_INT_ARGB);
    Dataset d = Datasets.open(dir).train();
    assertThat(d.images().shape()).containsExactly(4, 1, 2, 3);
    int[] seeds = {5, 8, 6, 7}; // the classes take turns: a/0 (RGB, first), b/0, a/1, b/1 (RGB after grey)
    for (int i = 0; i < 4; i++) {
      for (int p = 0; p < 6; p++) {
        assertThat(d.images().getFloat(i, 0, p / 3, p % 3)).as("image %d pixel %d", i, p)
            .isEqualTo(Synth.pixel(seeds[i], p) / 255f);
      }
    }

    Path colour = tmp.resolve("colour");
    greyAsRgb(colour.resolve("train/a/0.png"), 5, 2, 3, BufferedImage.TYPE_INT_RGB);
    rgb(colour.resolve("train/b/1.png"), 2, 3, 0xFF102030, BufferedImage.TYPE_INT_RGB);
    Dataset c = Datasets.open(colour).train();
    assertThat(c.images().shape()).containsExactly(2, 3, 2, 3);
    for (int b = 0; b < 3; b++) {
      assertThat(c.images().getFloat(0, b, 1, 2)).isEqualTo(Synth.pixel(5, 5) / 255f);
    }
    assertThat(c.images().getFloat(1, 1, 1, 2)).isEqualTo(0x20 / 255f);
    Files.delete(colour.resolve("train/b/1.png"));
    greyAsRgb(colour.resolve("train/b/1.png"), 6, 2, 3, BufferedImage.TYPE_INT_RGB);
    assertThat(Datasets.open(colour).train().images().shape()).containsExactly(2, 3, 2, 3);

    Path one = greyAsRgb(dir.resolve("train/b/2.png"), 9, 2, 3, BufferedImage.TYPE_INT_RGB);
    BufferedImage img = ImageIO.read(one.toFile());
    img.setRGB(2, 1, 0xFF000001 | Synth.pixel(9, 5) << 16 | Synth.pixel(9, 5) << 8);
    ImageIO.write(img, "png", one.toFile());
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .hasMessage(one + ": image is 2x3 with 3 channel(s), but " + dir.resolve("train/b/0.png")
            + " is 2x3 with 1; all images must agree");
  }

  /**
   * RGB images without colour read before the first colour one are widened to three planes when
   * it comes: each keeps its own pixels in every plane.
   */
  @Test
  void greyRgbImagesBeforeAColourOneKeepTheirOwnPixels() throws IOException {
    Path dir = tmp.resolve("mixed");
    int[] seeds = {5, 6, 7};
    for (int i = 0; i < 3; i++) {
      greyAsRgb(dir.resolve("train/a/" + i + ".png"), seeds[i], 2, 3, BufferedImage.TYPE_INT_RGB);
    }
    rgb(dir.resolve("train/a/3.png"), 2, 3, 0xFF102030, BufferedImage.TYPE_INT_RGB);
    Dataset d = Datasets.open(dir).train();
    assertThat(d.images().shape()).containsExactly(4, 3, 2, 3);
    for (int i = 0; i < 3; i++) {
      for (int b = 0; b < 3; b++) {
        for (int p = 0; p < 6; p++) {
          assertThat(d.images().getFloat(i, b, p / 3, p % 3)).as("image %d plane %d pixel %d", i, b, p)
              .isEqualTo(Synth.pixel(seeds[i], p) / 255f);
        }
      }
    }
    assertThat(d.images().getFloat(3, 2, 1, 2)).isEqualTo((0x30 + 16 + 2) / 255f);
  }

  /**
   * Grey or colour is decided over both splits: a split exported entirely as RGB without colour
   * is grey beside a grey split, whichever split it is (it was three planes, and the run was then
   * refused by the model's channel check), and reads each image's own pixels.
   */
  @Test
  void aSplitOfRgbImagesWithoutColourIsGreyBesideAGreySplit() throws IOException {
    for (String greySplit : new String[] {"train", "test"}) {
      String rgbSplit = greySplit.equals("train") ? "test" : "train";
      Path dir = tmp.resolve("grey-" + greySplit);
      grey(dir.resolve(greySplit + "/a/0.png"), 1, 2, 3);
      grey(dir.resolve(greySplit + "/b/0.png"), 2, 2, 3);
      greyAsRgb(dir.resolve(rgbSplit + "/a/0.png"), 3, 2, 3, BufferedImage.TYPE_INT_RGB);
      greyAsRgb(dir.resolve(rgbSplit + "/b/0.png"), 4, 2, 3, BufferedImage.TYPE_INT_ARGB);
      DataSource src = Datasets.open(dir);
      Dataset rgbOnes = src.load(rgbSplit.equals("train") ? Split.TRAIN : Split.TEST);
      assertThat(rgbOnes.images().shape()).as(rgbSplit).containsExactly(2, 1, 2, 3);
      for (int i = 0; i < 2; i++) {
        for (int p = 0; p < 6; p++) {
          assertThat(rgbOnes.images().getFloat(i, 0, p / 3, p % 3)).as("%s image %d pixel %d", rgbSplit, i, p)
              .isEqualTo(Synth.pixel(3 + i, p) / 255f);
        }
      }
      Dataset greyOnes = src.load(greySplit.equals("train") ? Split.TRAIN : Split.TEST);
      assertThat(greyOnes.images().shape()).as(greySplit).containsExactly(2, 1, 2, 3);
    }
  }

  /**
   * The other split decides grey or colour however it spells its class folders: a grey training
   * split whose folders are all decomposed (NFD, as macOS writes names) decided nothing, so a test
   * split of RGB images without colour, with composed names, loaded as three planes and the run was
   * refused by the model's channel check.
   */
  @Test
  void aGreySplitWithDecomposedClassNamesStillMakesAnRgbSplitWithoutColourGrey() throws IOException {
    Path dir = tmp.resolve("nfd-grey");
    grey(dir.resolve("train/Cafe\u0301/0.png"), 1, 2, 3);
    grey(dir.resolve("train/Cre\u0300me/0.png"), 2, 2, 3);
    greyAsRgb(dir.resolve("test/Caf\u00e9/0.png"), 3, 2, 3, BufferedImage.TYPE_INT_RGB);
    greyAsRgb(dir.resolve("test/Cr\u00e8me/0.png"), 4, 2, 3, BufferedImage.TYPE_INT_RGB);
    assertThat(Files.isDirectory(dir.resolve("train/Caf\u00e9"))).as("the file system keeps both spellings").isFalse();
    DataSource src = Datasets.open(dir);
    assertThat(src.test().images().shape()).containsExactly(2, 1, 2, 3);
    assertThat(src.train().images().shape()).containsExactly(2, 1, 2, 3);
  }

  /**
   * Beside a colour split, RGB images without colour stay three equal planes; a grey split beside
   * a colour one is refused as grey and colour images are within a split, naming one of each,
   * whichever split is loaded (the grey split loaded, and the run was refused later).
   */
  @Test
  void aColourSplitMakesRgbImagesColourAndIsRefusedBesideGreyImages() throws IOException {
    Path dir = tmp.resolve("colour");
    greyAsRgb(dir.resolve("train/a/0.png"), 5, 2, 3, BufferedImage.TYPE_INT_RGB);
    Path colour = rgb(dir.resolve("test/a/0.png"), 2, 3, 0xFF102030, BufferedImage.TYPE_INT_RGB);
    Dataset train = Datasets.open(dir).train();
    assertThat(train.images().shape()).containsExactly(1, 3, 2, 3);
    for (int b = 0; b < 3; b++) {
      assertThat(train.images().getFloat(0, b, 1, 2)).isEqualTo(Synth.pixel(5, 5) / 255f);
    }
    assertThat(Datasets.open(dir).test().images().shape()).containsExactly(1, 3, 2, 3);

    Files.delete(dir.resolve("train/a/0.png"));
    Path greyImage = grey(dir.resolve("train/a/0.png"), 5, 2, 3);
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(colour + ": image is 2x3 with 3 channel(s), but " + greyImage
            + " is 2x3 with 1; all images must agree");
    assertThatThrownBy(() -> Datasets.open(dir).test()).isInstanceOf(DataFormatException.class)
        .hasMessage(greyImage + ": image is 2x3 with 1 channel(s), but " + colour
            + " is 2x3 with 3; all images must agree");
  }

  @Test
  void transparentPixelsAndUnreadableFilesAreRefused() throws IOException {
    Path dir = tmp.resolve("bad");
    Path f = rgb(dir.resolve("train/a/1.png"), 2, 2, 0x80102030, BufferedImage.TYPE_INT_ARGB);
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .hasMessage(f + ": has transparent pixels; only opaque images are supported");
    Files.delete(f);
    Path junk = Files.writeString(dir.resolve("train/a/1.png"), "not a png");
    assertThatThrownBy(() -> Datasets.open(dir).train())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(junk + ": not a readable PNG image");
  }

  @Test
  void aMissingDatasetDirectoryIsNamedAsSuch() throws IOException {
    Path gone = tmp.resolve("gone");
    assertThatThrownBy(() -> PngFolders.load(gone, Split.TRAIN, "x"))
        .isInstanceOf(DataFormatException.class).hasMessage(gone + ": no such directory");
  }

  @Test
  void tooManyPixelsAreRefusedBeforeTheBufferIsAllocated() throws IOException {
    // 512 files of 2048x2048: 2^31 pixels, past the largest Java array. Only the first file
    // is decoded before the check; the others are never read.
    Path dir = tmp.resolve("huge");
    Path first = dir.resolve("train/a/0000.png");
    Files.createDirectories(first.getParent());
    ImageIO.write(new BufferedImage(2048, 2048, BufferedImage.TYPE_BYTE_GRAY), "png",
        first.toFile());
    for (int i = 1; i < 512; i++) {
      Files.createFile(dir.resolve(String.format("train/a/%04d.png", i)));
    }
    assertThatThrownBy(() -> PngFolders.load(dir, Split.TRAIN, "huge"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(first + ": 512 images of 1x2048x2048 (2147483648 pixels) are more than a loaded"
            + " dataset may hold (2147483639)");
  }

  /** A PNG chunk: length, type, data, CRC. */
  private static byte[] chunk(String type, byte[] data) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length).put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(data);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(b.array(), 4, 4 + data.length);
    return b.putInt((int) crc.getValue()).array();
  }

  /**
   * A PNG of 8-bit samples whose header says {@code width x height} of {@code colourType} (0 grey, 2
   * RGB) and whose data is an empty zlib stream, with {@code extra} chunks after the header.
   */
  private static byte[] headerAndEmptyData(int width, int height, int colourType, byte[]... extra) throws IOException {
    byte[] ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) colourType)
        .put(new byte[3]).array();
    java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
    png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    png.write(chunk("IHDR", ihdr));
    for (byte[] c : extra) png.write(c);
    png.write(chunk("IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}));
    png.write(chunk("IEND", new byte[0]));
    return png.toByteArray();
  }

  /**
   * An image whose header claims more pixels than a dataset may hold is refused from its header:
   * it was decoded first, and ImageIO's failure to make its raster read "not a readable PNG image:
   * Caught exception during read" (also where the heap could not hold a huge image).
   */
  @Test
  void aHugeImageIsRefusedFromItsHeaderBeforeDecoding() throws IOException {
    Path dir = tmp.resolve("bomb");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    Path huge = dir.resolve("train/b/1.png");
    Files.createDirectories(huge.getParent());
    // A private chunk (which decoders skip) of 8 MB: a file that large could hold the pixels compressed.
    Files.write(huge, headerAndEmptyData(50000, 50000, 2, chunk("prVt", new byte[8 << 20]))); // 8-bit RGB
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(huge.toAbsolutePath() + ": 1 images of 3x50000x50000 (7500000000 pixels) are more than a loaded"
            + " dataset may hold (2147483639)");
  }

  /**
   * A header of more pixels than the file can hold compressed is refused before decoding: the
   * decoder allocated the whole image (here 16 MB for a file of 70 bytes; a bit flipped in a width
   * made 84 MB, a hostile header gigabytes) and only then found the data missing.
   */
  @Test
  void aHeaderLargerThanTheFileCanHoldIsRefusedBeforeDecoding() throws IOException {
    Path dir = tmp.resolve("liar");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    Path liar = dir.resolve("train/b/1.png");
    Files.createDirectories(liar.getParent());
    byte[] png = headerAndEmptyData(4000, 4000, 0); // 8-bit grey
    Files.write(liar, png);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    assertThatThrownBy(() -> PngFolders.load(dir, Split.TRAIN, "liar")).isInstanceOf(DataFormatException.class)
        .hasMessage(liar + ": header says 4000x4000 pixels (16004000 bytes before compression), more than a PNG of "
            + png.length + " bytes can hold: truncated or damaged");
    assertThat(threads.getCurrentThreadAllocatedBytes() - before).isLessThan(8 << 20);
  }

  /**
   * A chunk that does not match its CRC-32 is refused: ImageIO checks none, so a bit flipped in a
   * palette read as another colour; and so is a file cut before its IEND chunk.
   */
  @Test
  void aChunkThatFailsItsCrcOrAFileCutBeforeItsEndIsRefused() throws IOException {
    Path dir = tmp.resolve("flipped");
    Path file = indexed(dir.resolve("train/a/1.png"), new int[] {0, 200}, new int[] {0, 50}, new int[] {0, 80},
        new int[] {255, 255}, 0, 1, 0, 1, 1, 0);
    byte[] png = Files.readAllBytes(file);
    int plte = new String(png, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("PLTE");
    byte[] flipped = png.clone();
    flipped[plte + 4 + 3] ^= 1; // the second entry's red: 200 read as 201
    Files.write(file, flipped);
    assertThatThrownBy(() -> PngFolders.load(dir, Split.TRAIN, "x")).isInstanceOf(DataFormatException.class)
        .hasMessage(file + ": damaged: chunk PLTE at byte " + (plte - 4) + " does not match its CRC-32");
    Files.write(file, java.util.Arrays.copyOf(png, png.length - 12)); // without IEND
    assertThatThrownBy(() -> PngFolders.load(dir, Split.TRAIN, "x")).isInstanceOf(DataFormatException.class)
        .hasMessage(file + ": truncated: the file ends before its IEND chunk");
    Files.write(file, png);
    assertThat(PngFolders.load(dir, Split.TRAIN, "x").images().getFloat(0, 0, 0, 1)).isEqualTo(200 / 255f);
  }

  /** The bound above is deflate's best ratio: an image of one colour, compressed about 1000 to 1, still loads. */
  @Test
  void anImageOfOneColourCompressedToItsLimitLoads() throws IOException {
    Path dir = tmp.resolve("black");
    Path file = dir.resolve("train/a/1.png");
    Files.createDirectories(file.getParent());
    ImageIO.write(new BufferedImage(2000, 2000, BufferedImage.TYPE_BYTE_BINARY), "png", file.toFile());
    long raw = 2000L * (1 + 2000 / 8);
    assertThat(raw / Files.size(file)).as("compression ratio").isGreaterThan(400);
    assertThat(PngFolders.load(dir, Split.TRAIN, "black").images().sumNumber().doubleValue()).isZero();
  }

  @Test
  void missingSplitFolderAndEmptySplit() throws IOException {
    Path dir = tmp.resolve("half");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath().resolve("test")
            + ": no such directory (expected test/<class>/*.png)");
    Files.createDirectories(dir.resolve("test"));
    assertThatThrownBy(() -> Datasets.open(dir).test())
        .hasMessage(dir.toAbsolutePath().resolve("test") + ": no PNG images in test/<class>/");
  }

  /** A class folder without images was a class without samples: never learnt, NaN per-class accuracy. */
  @Test
  void aClassFolderWithoutImagesIsNamed() throws IOException {
    Path dir = tmp.resolve("gap");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    Files.writeString(Files.createDirectories(dir.resolve("train/b")).resolve("notes.txt"), "no images");
    grey(dir.resolve("train/b/.hidden.png"), 2, 2, 2);
    grey(dir.resolve("train/c/1.png"), 3, 2, 2);
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(dir.toAbsolutePath().resolve("train/b") + ": class folder without PNG images: add images or"
            + " remove the folder");
    // The test split may lack a class's folder altogether.
    grey(dir.resolve("train/b/1.png"), 2, 2, 2);
    grey(dir.resolve("test/c/1.png"), 4, 2, 2);
    assertThat(Datasets.open(dir).test().labels()).containsExactly(2);
  }

  /** A {@code w x h} PNG of {@code bands} samples per pixel of {@code bits} each (1 or 3 colour bands, then alpha). */
  private static Path component(Path file, int w, int h, boolean grey, boolean alpha, int bits,
      java.util.function.IntBinaryOperator sample) throws IOException {
    java.awt.color.ColorSpace cs = java.awt.color.ColorSpace.getInstance(
        grey ? java.awt.color.ColorSpace.CS_GRAY : java.awt.color.ColorSpace.CS_sRGB);
    var cm = new java.awt.image.ComponentColorModel(cs, alpha, false,
        alpha ? java.awt.Transparency.TRANSLUCENT : java.awt.Transparency.OPAQUE,
        bits == 16 ? java.awt.image.DataBuffer.TYPE_USHORT : java.awt.image.DataBuffer.TYPE_BYTE);
    var raster = cm.createCompatibleWritableRaster(w, h);
    for (int b = 0; b < raster.getNumBands(); b++) {
      for (int p = 0; p < w * h; p++) raster.setSample(p % w, p / w, b, sample.applyAsInt(b, p));
    }
    Files.createDirectories(file.getParent());
    assertThat(ImageIO.write(new BufferedImage(cm, raster, false, null), "png", file.toFile())).isTrue();
    return file;
  }

  /**
   * Folders as they come: an upper-case .PNG is an image; macOS's .DS_Store and ._x.png
   * AppleDouble files, a text file and a hidden folder (.ipynb_checkpoints) are ignored; a class
   * folder that is a link to another is read through it. 16-bit grey is scaled by 65535, grey
   * with an opaque alpha and RGBA with an opaque alpha lose the alpha, a palette of greys is grey.
   */
  @Test
  void realWorldFoldersAreReadAsTheirPixelsSay() throws IOException {
    Path dir = tmp.resolve("real");
    int w = 3, h = 2;
    // Four grey images of four kinds, one a class: 8-bit (.PNG), 16-bit, grey + alpha, grey palette.
    component(dir.resolve("train/a/1.PNG"), w, h, true, false, 8, (b, p) -> 10 * p + 1);
    component(dir.resolve("train/b/1.png"), w, h, true, false, 16, (b, p) -> 12345 * p + 7);
    component(dir.resolve("train/c/1.png"), w, h, true, true, 8, (b, p) -> b == 1 ? 255 : 40 + p);
    int[] ramp = new int[256], opaque = new int[256];
    for (int i = 0; i < 256; i++) {
      ramp[i] = i * 7 % 256;
      opaque[i] = 255;
    }
    Path target = tmp.resolve("elsewhere/d");
    indexed(target.resolve("1.png"), ramp, ramp, ramp, opaque, 5, 4, 3, 2, 1, 0);
    Files.createDirectories(dir.resolve("train"));
    Files.createSymbolicLink(dir.resolve("train/d"), target);
    Files.write(dir.resolve("train/a/.DS_Store"), new byte[] {0, 0, 0, 1, 'B', 'u', 'd', '1'});
    Files.write(dir.resolve("train/a/._1.PNG"), new byte[] {0, 5, 22, 7, 0, 2, 0, 0}); // AppleDouble header
    Files.write(dir.resolve(".DS_Store"), new byte[] {0, 0, 0, 1});
    Files.writeString(dir.resolve("train/b/labels.txt"), "notes");
    component(dir.resolve("train/c/.ipynb_checkpoints/1-checkpoint.png"), w, h, true, false, 8, (b, p) -> 0);

    Dataset d = Datasets.open(dir).train();
    assertThat(d.classNames()).containsExactly("a", "b", "c", "d");
    assertThat(d.labels()).containsExactly(0, 1, 2, 3);
    assertThat(d.images().shape()).containsExactly(4, 1, h, w);
    for (int p = 0; p < w * h; p++) {
      assertThat(d.images().getFloat(0, 0, p / w, p % w)).isEqualTo((10 * p + 1) / 255f);
      assertThat(d.images().getFloat(1, 0, p / w, p % w)).isEqualTo((12345 * p + 7) / 65535f);
      assertThat(d.images().getFloat(2, 0, p / w, p % w)).isEqualTo((40 + p) / 255f);
      assertThat(d.images().getFloat(3, 0, p / w, p % w)).isEqualTo(ramp[5 - p] / 255f);
    }

    // RGBA, 8 and 16 bits, with an opaque alpha: three planes.
    Path colour = tmp.resolve("colour");
    component(colour.resolve("train/a/1.png"), w, h, false, true, 8, (b, p) -> b == 3 ? 255 : 50 * b + p);
    component(colour.resolve("train/b/1.png"), w, h, false, true, 16, (b, p) -> b == 3 ? 65535 : 20000 * b + p);
    Dataset c = Datasets.open(colour).train();
    assertThat(c.images().shape()).containsExactly(2, 3, h, w);
    for (int b = 0; b < 3; b++) {
      for (int p = 0; p < w * h; p++) {
        assertThat(c.images().getFloat(0, b, p / w, p % w)).isEqualTo((50 * b + p) / 255f);
        assertThat(c.images().getFloat(1, b, p / w, p % w)).isEqualTo((20000 * b + p) / 65535f);
      }
    }
  }

  /**
   * What was skipped without a word is refused, naming the file: a folder inside a class folder
   * (its images were lost to the class), an image of another format beside the PNGs, and a JPEG
   * renamed .png (ImageIO read it as a JPEG). Each refusal names the file; once it is gone, the
   * folder loads.
   */
  @Test
  void nestedFoldersAndImagesOfOtherFormatsAreRefusedNamingThem() throws IOException {
    Path dir = tmp.resolve("mixed");
    grey(dir.resolve("train/a/1.png"), 1, 2, 3);
    grey(dir.resolve("train/b/1.png"), 2, 2, 3);
    Path nested = grey(dir.resolve("train/b/more/2.png"), 3, 2, 3).getParent();
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(nested.toAbsolutePath() + ": a folder inside a class folder: images must be directly in train/<class>/"
            + " (move them up or remove the folder)");
    Files.delete(nested.resolve("2.png"));
    Files.delete(nested);
    BufferedImage photo = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
    for (String name : new String[] {"2.jpg", "2.JPEG", "2.gif", "2.bmp", "2.tiff"}) {
      Path other = dir.resolve("train/a/" + name);
      String format = name.substring(2).toLowerCase(java.util.Locale.ROOT);
      assertThat(ImageIO.write(photo, format.equals("jpg") ? "jpeg" : format, other.toFile())).as(name).isTrue();
      assertThatThrownBy(() -> Datasets.open(dir).train()).as(name).isInstanceOf(DataFormatException.class)
          .hasMessage(other.toAbsolutePath() + ": not a PNG image: convert it to PNG or move it out of the class folder");
      Files.delete(other);
    }
    Path renamed = dir.resolve("train/a/2.png");
    assertThat(ImageIO.write(photo, "jpeg", renamed.toFile())).isTrue();
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(renamed.toAbsolutePath() + ": a JPEG image, not a PNG: convert it to PNG");
    Files.delete(renamed);
    assertThat(Datasets.open(dir).train().labels()).containsExactly(0, 1);
  }

  /**
   * An image beside the class folders (train/x.png) has no class, and was skipped without a word;
   * other files there are ignored as in a class folder.
   */
  @Test
  void anImageOutsideTheClassFoldersIsRefusedNamingIt() throws IOException {
    Path dir = tmp.resolve("stray");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    grey(dir.resolve("train/b/1.png"), 2, 2, 2);
    grey(dir.resolve("test/a/1.png"), 3, 2, 2);
    Files.writeString(dir.resolve("train/README.txt"), "notes");
    Files.write(dir.resolve("train/.DS_Store"), new byte[] {0, 0, 0, 1});
    assertThat(Datasets.open(dir).train().labels()).containsExactly(0, 1);
    for (String name : new String[] {"train/2.png", "train/2.JPG", "test/2.PNG"}) {
      Path stray = grey(dir.resolve(name), 4, 2, 2);
      String split = name.substring(0, name.indexOf('/'));
      assertThatThrownBy(() -> Datasets.open(dir).load(split.equals("train") ? Split.TRAIN : Split.TEST))
          .as(name).isInstanceOf(DataFormatException.class)
          .hasMessage(stray.toAbsolutePath() + ": an image outside a class folder: images must be in " + split
              + "/<class>/ (move it into its class's folder or out of " + split + "/)");
      Files.delete(stray);
    }
    assertThat(Datasets.open(dir).test().labels()).containsExactly(0);
  }

  /**
   * A loop of links, a class folder's or an image's, is named as one: it was "a link to nothing (its
   * target is missing)", where every link in the loop exists.
   */
  @Test
  void aLoopOfLinksIsRefusedAsSuchNamingIt() throws IOException {
    Path dir = tmp.resolve("loops");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    grey(dir.resolve("train/b/1.png"), 2, 2, 2);
    Path image = Files.createSymbolicLink(dir.resolve("train/a/2.png"), dir.resolve("train/a/3.png"));
    Files.createSymbolicLink(dir.resolve("train/a/3.png"), image);
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(image.toAbsolutePath() + ": a link that cannot be followed (")
        .hasMessageNotContaining("missing");
    Files.delete(dir.resolve("train/a/3.png"));
    Files.delete(image);
    Path folder = Files.createSymbolicLink(dir.resolve("train/c"), dir.resolve("train/c"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(folder.toAbsolutePath() + ": a link that cannot be followed (")
        .hasMessageNotContaining("missing");
  }

  /** A link to nothing, a class folder's or an image's, was skipped without a word. */
  @Test
  void aLinkToNothingIsRefusedNamingIt() throws IOException {
    Path dir = tmp.resolve("links");
    grey(dir.resolve("train/a/1.png"), 1, 2, 2);
    grey(dir.resolve("train/b/1.png"), 2, 2, 2);
    Path image = Files.createSymbolicLink(dir.resolve("train/a/2.png"), tmp.resolve("gone/2.png"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessage(image.toAbsolutePath() + ": a link to nothing (its target is missing): restore the target or remove"
            + " the link");
    Files.delete(image);
    Path folder = Files.createSymbolicLink(dir.resolve("train/c"), tmp.resolve("gone/c"));
    assertThatThrownBy(() -> Datasets.open(dir).train()).isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(folder.toAbsolutePath() + ": a link to nothing");
    Files.delete(folder);
    assertThat(Datasets.open(dir).train().classNames()).containsExactly("a", "b");
  }

}
