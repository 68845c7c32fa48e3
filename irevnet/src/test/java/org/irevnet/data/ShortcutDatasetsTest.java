package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shortcut datasets made from the shipped fashion-mnist-mini: the shortcut predicts the label in
 * train, is a wrong label's in the randomised test split and absent in the removed one.
 */
class ShortcutDatasetsTest {
  @TempDir Path tmp;

  private static final int PER = 28 * 28;

  @ParameterizedTest
  @EnumSource(Shortcut.Kind.class)
  void shortcutPredictsTheLabelInTrainAndIsBrokenInTheTestVariants(Shortcut.Kind kind)
      throws IOException {
    Path out = tmp.resolve("out");
    ShortcutDatasets.generate(Datasets.FASHION_MNIST_MINI, kind, 7, out, false);
    Shortcut sc = Shortcut.create(kind, 10, 28, 28, 7);
    DataSource base = Datasets.resolve(Datasets.FASHION_MNIST_MINI);
    byte[] baseTrain = IdxFiles.readImages(base.dir().resolve("train-images-idx3-ubyte.gz"))
        .pixels();
    byte[] baseTest = IdxFiles.readImages(base.dir().resolve("t10k-images-idx3-ubyte.gz"))
        .pixels();
    int[] testLabels = IdxFiles.readLabels(base.dir().resolve("t10k-labels-idx1-ubyte.gz"));

    // train: every image decodes to its label; nothing else of the image changed
    Dataset train = Datasets.open(out).train();
    assertThat(train.size()).isEqualTo(6000);
    assertThat(train.classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);
    byte[] trainPx = IdxFiles.readImages(out.resolve("train-images-idx3-ubyte")).pixels();
    assertThat(decodeAll(sc, trainPx)).containsExactly(train.labels());
    assertOnlyShortcutPixelsChanged(kind, baseTrain, trainPx);

    // consistent: its own label
    for (Path dir : List.of(out, out.resolve("consistent"))) {
      Dataset t = Datasets.open(dir).test();
      assertThat(t.labels()).containsExactly(testLabels);
      assertThat(decodeAll(sc, IdxFiles.readImages(dir.resolve("t10k-images-idx3-ubyte"))
          .pixels())).containsExactly(testLabels);
    }
    byte[] consistent = IdxFiles.readImages(out.resolve("t10k-images-idx3-ubyte")).pixels();
    assertOnlyShortcutPixelsChanged(kind, baseTest, consistent);

    // randomised: always a wrong label, uniformly over the wrong labels
    Path rnd = out.resolve("randomised");
    assertThat(Datasets.open(rnd).test().labels()).containsExactly(testLabels);
    byte[] randomised = IdxFiles.readImages(rnd.resolve("t10k-images-idx3-ubyte")).pixels();
    int[] decoded = decodeAll(sc, randomised);
    assertThat(decoded).containsExactly(IdxFiles.readLabels(
        rnd.resolve(ShortcutDatasets.SHORTCUT_LABELS)));
    assertOnlyShortcutPixelsChanged(kind, baseTest, randomised);
    int[] offsets = new int[10];
    int[][] pairs = new int[10][10];
    for (int i = 0; i < decoded.length; i++) {
      assertThat(decoded[i]).as("image %d", i).isNotEqualTo(testLabels[i]);
      offsets[Math.floorMod(decoded[i] - testLabels[i], 10)]++;
      pairs[testLabels[i]][decoded[i]]++;
    }
    double expected = decoded.length / 9.0;
    for (int o = 1; o < 10; o++) {
      assertThat((double) offsets[o]).as("offset %d", o).isBetween(0.7 * expected,
          1.3 * expected);
    }
    for (int y = 0; y < 10; y++) {
      for (int s = 0; s < 10; s++) {
        assertThat(pairs[y][s] > 0).as("label %d with the shortcut of %d", y, s)
            .isEqualTo(y != s);
      }
    }

    // removed: the base test images, byte for byte; no valid pattern in them
    byte[] removed = IdxFiles.readImages(out.resolve("removed/t10k-images-idx3-ubyte"))
        .pixels();
    assertThat(removed).isEqualTo(baseTest);
    long none = Arrays.stream(decodeAll(sc, removed)).filter(d -> d == Shortcut.NONE).count();
    assertThat(none).isGreaterThanOrEqualTo(990);

    // every variant is a full dataset sharing the train split
    for (String v : ShortcutDatasets.VARIANTS) {
      DataSource src = Datasets.open(out.resolve(v));
      assertThat(src.format()).isEqualTo(DataSource.Format.IDX);
      assertThat(src.train().size()).isEqualTo(6000);
      assertThat(src.test().size()).isEqualTo(1000);
      assertThat(src.classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);
    }
    Map<String, Object> json = ShortcutDatasets.readDescription(out);
    assertThat(json).containsEntry("kind", kind.id()).containsEntry("seed", 7)
        .containsKey(kind.id());
    assertThat(json.get("stamped").toString()).contains("decoded_as_stamped=6000")
        .contains("decoded_as_stamped=1000");
  }

  /** Binary code: only the code region changed. Texture: only background pixels changed. */
  private static void assertOnlyShortcutPixelsChanged(Shortcut.Kind kind, byte[] base,
      byte[] px) {
    assertThat(px).hasSameSizeAs(base);
    for (int i = 0; i < px.length; i++) {
      int r = (i % PER) / 28;
      int c = i % 28;
      int b = base[i] & 0xFF;
      int v = px[i] & 0xFF;
      boolean mayChange = kind == Shortcut.Kind.BINARY_CODE ? r < 6 && c < 4
          : b <= Shortcut.Texture.BACKGROUND_MAX;
      if (!mayChange) {
        assertThat(v).as("pixel %d", i).isEqualTo(b);
      } else if (kind == Shortcut.Kind.TEXTURE) {
        assertThat(v).as("pixel %d", i).isIn(0, Shortcut.Texture.VALUE);
      } else {
        assertThat(v).as("pixel %d", i).isIn(0, 255);
      }
    }
  }

  private static int[] decodeAll(Shortcut sc, byte[] px) {
    int[] d = new int[px.length / PER];
    for (int i = 0; i < d.length; i++) {
      d[i] = sc.decode(px, i * PER);
    }
    return d;
  }

  @ParameterizedTest
  @EnumSource(Shortcut.Kind.class)
  void sameSeedGivesByteIdenticalFilesAndAnotherSeedOtherOnes(Shortcut.Kind kind)
      throws IOException {
    Path base = TinyData.idx(tmp.resolve("tiny"), 60, 40);
    ShortcutDatasets.generate(base.toString(), kind, 3, tmp.resolve("a"), false);
    ShortcutDatasets.generate(base.toString(), kind, 3, tmp.resolve("b"), false);
    ShortcutDatasets.generate(base.toString(), kind, 4, tmp.resolve("c"), false);
    List<Path> files = files(tmp.resolve("a"));
    assertThat(files).hasSize(22).contains(Path.of("shortcut.json"),
        Path.of("randomised/t10k-images-idx3-ubyte"));
    assertThat(files(tmp.resolve("b"))).isEqualTo(files);
    for (Path f : files) {
      assertThat(Files.readAllBytes(tmp.resolve("b").resolve(f))).as(f.toString())
          .isEqualTo(Files.readAllBytes(tmp.resolve("a").resolve(f)));
    }
    Path r = Path.of("randomised", ShortcutDatasets.SHORTCUT_LABELS);
    assertThat(Files.readAllBytes(tmp.resolve("c").resolve(r)))
        .isNotEqualTo(Files.readAllBytes(tmp.resolve("a").resolve(r)));
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
    }
  }

  @Test
  void refusesANonEmptyOutputWithoutForceAndReplacesItWithForce() throws IOException {
    Path base = TinyData.idx(tmp.resolve("tiny"), 20, 10);
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "x");
    assertThatThrownBy(() -> ShortcutDatasets.generate(base.toString(),
        Shortcut.Kind.BINARY_CODE, 0, out, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--force");
    assertThat(out.resolve("keep.txt")).exists();
    ShortcutDatasets.generate(base.toString(), Shortcut.Kind.BINARY_CODE, 0, out, true);
    assertThat(out.resolve("keep.txt")).doesNotExist();
    assertThat(out.resolve("removed/t10k-images-idx3-ubyte")).exists();
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("tiny",
          "out"); // no temporary directories left behind
    }
    assertThatThrownBy(() -> ShortcutDatasets.generate(base.toString(),
        Shortcut.Kind.TEXTURE, 0, tmp, true))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base dataset");
    assertThat(base.resolve("train-images-idx3-ubyte")).exists();
  }

  @Test
  void binaryCodesAreDistinctConstantWeightAndDecodeForUpTo256Classes() {
    Shortcut.BinaryCode ten = (Shortcut.BinaryCode) Shortcut.create(Shortcut.Kind.BINARY_CODE,
        10, 28, 28, 0);
    assertThat(ten.cells).isEqualTo(5);
    assertThat(ten.regionRows).isEqualTo(6);
    assertThat(ten.regionCols).isEqualTo(4);
    for (int k : new int[] {2, 3, 10, 47, 62, 256}) {
      Shortcut sc = Shortcut.create(Shortcut.Kind.BINARY_CODE, k, 28, 28, 0);
      byte[] blank = new byte[PER];
      assertThat(sc.decode(blank, 0)).isEqualTo(Shortcut.NONE);
      for (int y = 0; y < k; y++) {
        byte[] img = new byte[PER];
        sc.apply(img, 0, y);
        assertThat(sc.decode(img, 0)).as("%d classes, label %d", k, y).isEqualTo(y);
      }
    }
    assertThatThrownBy(() -> Shortcut.create(Shortcut.Kind.BINARY_CODE, 256, 4, 4, 0))
        .hasMessageContaining("code region");
  }

  @Test
  void texturesDifferUnderEveryShiftAndDecodeOnABlankImage() {
    Shortcut.Texture t = (Shortcut.Texture) Shortcut.create(Shortcut.Kind.TEXTURE, 32, 28, 28,
        5);
    for (int a = 0; a < 32; a++) {
      for (int b = 0; b < a; b++) {
        assertThat(Shortcut.Texture.minShiftDistance(t.tiles[a], t.tiles[b]))
            .isGreaterThanOrEqualTo(Shortcut.Texture.MIN_DISTANCE);
      }
      byte[] img = new byte[PER];
      assertThat(t.apply(img, 0, a)).isEqualTo(PER / 2);
      assertThat(t.decode(img, 0)).isEqualTo(a);
    }
    Shortcut.Texture other = (Shortcut.Texture) Shortcut.create(Shortcut.Kind.TEXTURE, 32, 28,
        28, 6);
    assertThat(other.tiles).isNotEqualTo(t.tiles);
    assertThatThrownBy(() -> Shortcut.create(Shortcut.Kind.TEXTURE, 33, 28, 28, 0))
        .hasMessageContaining("at most 32");
    assertThatThrownBy(() -> Shortcut.Kind.parse("stripes"))
        .hasMessageContaining("unknown shortcut kind 'stripes'");
  }

  @Test
  void rgbImagesBecomeGrey() {
    float[] f = {1f, 0f, 0f, 1f, 0f, 0f}; // R of 2 pixels, then G, then B
    Dataset d = new Dataset("rgb", Nd4j.create(f, new long[] {1, 3, 1, 2}), new int[] {0},
        List.of("a", "b"));
    assertThat(ShortcutDatasets.greyBytes(d)).containsExactly((byte) 76, (byte) 150);
  }

  @Test
  void idxWritersRoundTrip() throws IOException {
    byte[] px = {0, 1, (byte) 200, (byte) 255, 7, 8};
    IdxFiles.writeImages(tmp.resolve("x-images-idx3-ubyte"), 3, 1, 2, px);
    IdxFiles.writeLabels(tmp.resolve("x-labels-idx1-ubyte"), new int[] {0, 255, 9});
    assertThat(IdxFiles.readImages(tmp.resolve("x-images-idx3-ubyte")).pixels())
        .containsExactly(px);
    assertThat(IdxFiles.readLabels(tmp.resolve("x-labels-idx1-ubyte")))
        .containsExactly(0, 255, 9);
    assertThatThrownBy(() -> IdxFiles.writeLabels(tmp.resolve("y"), new int[] {256}))
        .hasMessageContaining("unsigned byte");
  }
}
