package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.MAP;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.irevnet.io.AtomicFiles;
import org.irevnet.testing.DeadProcess;
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

  /**
   * A damaged shortcut.json is one line naming the file, and where malformed JSON breaks, its line
   * and column; the file must hold an object. Jackson's own message spread over several lines.
   */
  @Test
  void aDamagedDescriptionIsOneLineNamingTheFileLineAndColumn() throws IOException {
    Path file = tmp.resolve(ShortcutDatasets.JSON_FILE);
    String[][] cases = {
        {"{\n  \"kind\": \"texture\",\n  \"seed\": 7,,\n}", "malformed shortcut JSON at line 3, column 13: "},
        {"{\"kind\": \"texture\"", "malformed shortcut JSON at line 1, column 19: "},
        {"[1, 2]", "malformed shortcut JSON: the file must hold one JSON object"},
        {"null", "malformed shortcut JSON: the file must hold one JSON object"}};
    for (String[] c : cases) {
      Files.writeString(file, c[0]);
      assertThatThrownBy(() -> ShortcutDatasets.readDescription(tmp)).as(c[0]).isInstanceOf(IOException.class)
          .message().startsWith(file + ": " + c[1]).doesNotContain("\n").doesNotContain("Source");
    }
    Files.writeString(file, "{\"kind\": \"texture\", \"seed\": 7}");
    assertThat(ShortcutDatasets.readDescription(tmp)).containsEntry("kind", "texture").containsEntry("seed", 7);
    Files.delete(file);
    assertThatThrownBy(() -> ShortcutDatasets.readDescription(tmp)).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessage(file.toString());
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

  /**
   * --force never replaces the working directory or one holding it ({@code --out .} or {@code ..}
   * in a script). The base named here does not exist and is looked for after the output is
   * checked: a regression fails on the message instead of replacing this module's directory.
   */
  @Test
  void neverReplacesTheWorkingDirectoryOrOneAboveIt() {
    Path cwd = Path.of("").toAbsolutePath();
    for (Path out : new Path[] {Path.of("."), cwd, cwd.getParent()}) {
      assertThatThrownBy(() -> ShortcutDatasets.generate(tmp.resolve("no-such-base").toString(),
          Shortcut.Kind.TEXTURE, 0, out, true))
          .as(out.toString()).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(out + ": the output directory would replace the working directory " + cwd);
    }
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
  void binaryCodeDescribesItsCellsAndItsCodesInLexicographicOrder() {
    Shortcut sc = Shortcut.create(Shortcut.Kind.BINARY_CODE, 10, 28, 28, 0);
    assertThat(sc.kind()).isEqualTo(Shortcut.Kind.BINARY_CODE);
    Map<String, Object> m = sc.describe();
    assertThat(m).containsEntry("corner", "top-left").containsEntry("cell_pixels", 2)
        .containsEntry("cells", 5).containsEntry("lit_cells_per_code", 2)
        .containsEntry("lit_value", 255).containsEntry("dark_value", 0)
        .containsEntry("region", Map.of("row", 0, "col", 0, "rows", 6, "cols", 4));
    @SuppressWarnings("unchecked")
    List<int[]> origins = (List<int[]>) m.get("cell_origins");
    assertThat(origins.stream().map(Arrays::toString))
        .containsExactly("[0, 0]", "[0, 2]", "[2, 0]", "[2, 2]", "[4, 0]");
    // the 2-element subsets of 5 cells, in lexicographic order of their lit positions
    assertThat(m.get("codes")).isEqualTo(List.of("11000", "10100", "10010", "10001", "01100",
        "01010", "01001", "00110", "00101", "00011"));
  }

  @Test
  void aBinaryCodeMayFillTheWholeImage() {
    // 10 classes on images under 28 pixels: 1-pixel cells, 5 of them in a 3x2 region
    Shortcut sc = Shortcut.create(Shortcut.Kind.BINARY_CODE, 10, 3, 2, 0);
    for (int y = 0; y < 10; y++) {
      byte[] img = new byte[6];
      assertThat(sc.apply(img, 0, y)).isEqualTo(2);
      assertThat(sc.decode(img, 0)).isEqualTo(y);
    }
    byte[] img = new byte[6];
    sc.apply(img, 0, 0); // code 11000: pixels (0, 0) and (0, 1) lit
    img[2] = 100; // cell 2, pixel (1, 0): under half brightness, so still dark
    assertThat(sc.decode(img, 0)).isEqualTo(0);
    assertThatThrownBy(() -> Shortcut.create(Shortcut.Kind.BINARY_CODE, 10, 2, 2, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("binary-code: 10 classes need a 3x2 pixel code region, the images are 2x2");
    assertThatThrownBy(() -> Shortcut.create(Shortcut.Kind.BINARY_CODE, 10, 3, 1, 0))
        .hasMessage("binary-code: 10 classes need a 3x2 pixel code region, the images are 3x1");
  }

  @Test
  void aCodeCellIsLitFromHalfOfFullBrightnessOn() {
    Shortcut sc = Shortcut.create(Shortcut.Kind.BINARY_CODE, 10, 28, 28, 0);
    byte[] img = new byte[PER];
    sc.apply(img, 0, 0); // code 11000: cell 0 is pixels (0..1, 0..1), cell 1 (0..1, 2..3)
    for (int p : new int[] {0, 1, 28, 29}) {
      img[p] = (byte) 128; // cell 0 sums to 512 = 128 x 4 pixels
    }
    assertThat(sc.decode(img, 0)).isEqualTo(0);
    img[29] = 127; // 511: cell 0 reads dark, and 01000 is no codeword
    assertThat(sc.decode(img, 0)).isEqualTo(Shortcut.NONE);
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
    assertThat(Shortcut.Kind.parse("texture")).isEqualTo(Shortcut.Kind.TEXTURE);
    assertThat(Shortcut.Kind.parse("binary-code")).isEqualTo(Shortcut.Kind.BINARY_CODE);
  }

  @Test
  void aTextureIsDecodedFromEightMatchingPixelsOn() {
    // a 4x4 image holds one tile: its 8 lit pixels score 8, the least that decodes
    Shortcut sc = Shortcut.create(Shortcut.Kind.TEXTURE, 10, 4, 4, 1);
    byte[] img = new byte[16];
    assertThat(sc.apply(img, 0, 3)).isEqualTo(8);
    assertThat(sc.decode(img, 0)).isEqualTo(3);
    for (int p = 0; p < 16; p++) {
      if (img[p] != 0) {
        img[p] = 0; // 7 matching pixels: no class
        break;
      }
    }
    assertThat(sc.decode(img, 0)).isEqualTo(Shortcut.NONE);
  }

  @Test
  void textureDescribesItsTilesRowByRow() {
    Shortcut sc = Shortcut.create(Shortcut.Kind.TEXTURE, 3, 4, 4, 2);
    assertThat(sc.kind()).isEqualTo(Shortcut.Kind.TEXTURE);
    Map<String, Object> m = sc.describe();
    assertThat(m).containsEntry("tile_pixels", 4).containsEntry("lit_per_tile", 8)
        .containsEntry("value", 96).containsEntry("background_max", 8)
        .containsEntry("min_distance_under_shifts", 4).containsEntry("decode_min_score", 8);
    @SuppressWarnings("unchecked")
    List<List<String>> tiles = (List<List<String>>) m.get("tiles");
    assertThat(tiles).hasSize(3);
    for (int k = 0; k < 3; k++) {
      byte[] img = new byte[16]; // one tile on a black 4x4 image: lit pixels become VALUE
      sc.apply(img, 0, k);
      StringBuilder lit = new StringBuilder();
      for (int p = 0; p < 16; p++) {
        lit.append(img[p] == Shortcut.Texture.VALUE ? '1' : '0');
      }
      assertThat(String.join("", tiles.get(k))).isEqualTo(lit.toString());
      assertThat(tiles.get(k)).hasSize(4).allSatisfy(row -> assertThat(row).hasSize(4));
    }
  }

  /** A 4x4 tile with the given pixels (row * 4 + column) lit. */
  private static boolean[] tile(int... lit) {
    boolean[] t = new boolean[16];
    for (int p : lit) {
      t[p] = true;
    }
    return t;
  }

  @Test
  void minShiftDistanceTriesEveryCyclicShift() {
    boolean[] l = tile(0, 1, 4); // an L in the top-left corner
    assertThat(Shortcut.Texture.minShiftDistance(l, l)).isZero();
    // the L moved 1 down and 2 right, wrapping around: (1,2), (1,3), (2,2)
    assertThat(Shortcut.Texture.minShiftDistance(l, tile(6, 7, 10))).isZero();
    // and moved 3 down, 3 right: (3,3), (3,0), (0,3)
    assertThat(Shortcut.Texture.minShiftDistance(l, tile(15, 12, 3))).isZero();
    // a row against a column: every shift overlaps them in one pixel, 3 + 3 differ
    assertThat(Shortcut.Texture.minShiftDistance(tile(0, 1, 2, 3), tile(1, 5, 9, 13)))
        .isEqualTo(6);
    assertThat(Shortcut.Texture.minShiftDistance(tile(5), tile(0, 15))).isEqualTo(1);
  }

  @Test
  void rgbImagesBecomeGrey() {
    float[] f = {1f, 0f, 0f, 1f, 0f, 0f, // image 0: R of 2 pixels, then G, then B
        0f, 0f, 0f, 1f, 1f, 1f}; // image 1: pixel 0 pure blue, pixel 1 green + blue
    Dataset d = new Dataset("rgb", Nd4j.create(f, new long[] {2, 3, 1, 2}), new int[] {0, 1},
        List.of("a", "b"));
    // 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1, (0.587 + 0.114) * 255 = 178.8
    assertThat(ShortcutDatasets.greyBytes(d)).containsExactly((byte) 76, (byte) 150, (byte) 29,
        (byte) 179);
  }

  /** An IDX directory of all-black 28x28 images with labels {@code train} and {@code test}. */
  private static Path blankIdx(Path dir, int[] train, int[] test) throws IOException {
    Files.createDirectories(dir);
    IdxFiles.writeImages(dir.resolve("train-images-idx3-ubyte"), train.length, 28, 28,
        new byte[train.length * PER]);
    IdxFiles.writeLabels(dir.resolve("train-labels-idx1-ubyte"), train);
    IdxFiles.writeImages(dir.resolve("t10k-images-idx3-ubyte"), test.length, 28, 28,
        new byte[test.length * PER]);
    IdxFiles.writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), test);
    return dir;
  }

  /**
   * A run killed between its two renames left the dataset it replaced as {@code .out.RANDOM.old}
   * (and no {@code out}): a run that fails keeps it, the next one that installs a dataset deletes
   * it, and nothing else that is named alike.
   */
  @Test
  void theDatasetAKilledRunMovedAsideGoesOnceANewOneIsInPlace() throws IOException {
    Path base = blankIdx(tmp.resolve("blank"), new int[] {0, 3, 9, 9}, new int[] {1, 2, 5});
    Path out = tmp.resolve("out");
    Path aside = Files.createDirectories(tmp.resolve(".out.k1x9.old"));
    Files.writeString(aside.resolve("classes.txt"), "the dataset replaced");
    List<Path> others = List.of(Files.createDirectories(tmp.resolve(".out.old")),
        Files.createDirectories(tmp.resolve(".out.K1.old")), Files.createDirectories(tmp.resolve(".outer.k1.old")),
        Files.writeString(tmp.resolve(".out.k1.old.txt"), "mine"));

    assertThatThrownBy(() -> ShortcutDatasets.generate(tmp.resolve("missing").toString(), Shortcut.Kind.BINARY_CODE, 0,
        out, false)).hasMessageContaining(tmp.resolve("missing").toString());
    assertThat(aside.resolve("classes.txt")).as("a failed run keeps it").hasContent("the dataset replaced");

    ShortcutDatasets.generate(base.toString(), Shortcut.Kind.BINARY_CODE, 0, out, false);
    assertThat(aside).doesNotExist();
    for (Path p : others) assertThat(p).exists();
    ShortcutDatasets.generate(base.toString(), Shortcut.Kind.BINARY_CODE, 1, out, true);
    for (Path p : others) assertThat(p).exists();
    try (var s = Files.list(tmp)) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith(".out.")).toList())
          .as("the replaced dataset goes, and only that").containsExactlyInAnyOrder(others.get(0), others.get(1),
              others.get(3));
    }
  }

  @Test
  void anEmptyOutputIsUsedWithoutForceAndTheCountsOfStampedPixelsAreRecorded()
      throws IOException {
    Path base = blankIdx(tmp.resolve("blank"), new int[] {0, 3, 9, 9}, new int[] {1, 2, 5});
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path leftover = DeadProcess.leftBy(DeadProcess.pid(), AtomicFiles.createTemporary(out, true));
    Files.writeString(leftover.resolve("x"), "x");
    ShortcutDatasets.Result r = ShortcutDatasets.generate(base.toString(),
        Shortcut.Kind.BINARY_CODE, 0, out, false);
    assertThat(r.out()).isEqualTo(out.toAbsolutePath().normalize());
    assertThat(leftover).doesNotExist();
    Map<String, Object> d = r.description();
    assertThat(d).containsEntry("kind", "binary-code").containsKey("binary-code");
    assertThat(d.get("base")).asInstanceOf(MAP)
        .containsEntry("channels", 1).containsEntry("converted_to_grey", false);
    // 10 classes: a 2-of-5 code of 2x2-pixel cells, so each black image gets 2 x 4 lit pixels
    @SuppressWarnings("unchecked")
    Map<String, Object> stamped = (Map<String, Object>) d.get("stamped");
    assertThat(stamped).containsOnlyKeys("train", "consistent", "randomised");
    assertThat(stamped.get("train")).isEqualTo(Map.of("images", 4, "decoded_as_stamped", 4,
        "changed_pixels_mean", 8.0, "changed_pixels_min", 8));
    assertThat(stamped.get("randomised")).isEqualTo(Map.of("images", 3,
        "decoded_as_stamped", 3, "changed_pixels_mean", 8.0, "changed_pixels_min", 8));
  }

  /**
   * Two runs writing the same {@code --out}: the second must not delete the first's temporary
   * (it did: every temporary of {@code --out} went, whoever was writing it).
   */
  @Test
  void aRunLeavesTheTemporaryOfAnotherRunStillWriting() throws IOException {
    Path base = blankIdx(tmp.resolve("blank"), new int[] {0, 3, 9, 9}, new int[] {1, 2, 5});
    Path out = tmp.resolve("out");
    Path live = AtomicFiles.createTemporary(out, true); // this process is alive: another run, still writing
    Files.writeString(live.resolve("x"), "half a dataset");
    ShortcutDatasets.generate(base.toString(), Shortcut.Kind.BINARY_CODE, 0, out, false);
    assertThat(live.resolve("x")).hasContent("half a dataset");
    assertThat(out.resolve("classes.txt")).exists();
  }

  /** An output inside a PNG dataset's train/ or test/ folder would be read as a class of the base next time. */
  @Test
  void refusesAnOutputInsideTheBasesSplitFolders() throws IOException {
    Path base = tmp.resolve("pngs");
    for (String split : List.of("train", "test")) {
      for (int k = 0; k < 2; k++) {
        Path png = base.resolve(String.format("%s/c%d/a.png", split, k));
        Files.createDirectories(png.getParent());
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", png.toFile());
      }
    }
    for (String split : List.of("train", "test")) {
      Path out = base.resolve(split).resolve("shortcut");
      assertThatThrownBy(() -> ShortcutDatasets.generate(base.toString(), Shortcut.Kind.TEXTURE, 0, out, false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(out + ": the output directory lies in the base dataset's " + base.resolve(split).toAbsolutePath()
              + ", where it would be read as a class of the base: put it elsewhere");
      assertThat(out).doesNotExist();
    }
    // Beside the split folders it is no class of the base.
    ShortcutDatasets.generate(base.toString(), Shortcut.Kind.TEXTURE, 0, base.resolve("shortcut"), false);
    assertThat(Datasets.open(base).train().numClasses()).isEqualTo(2);
  }

  @Test
  void moreClassesThanAnIdxLabelByteHoldsAreRefusedByTheBinaryCodeBeforeAnythingIsWritten()
      throws IOException {
    // 257 classes have codes (462 fit the 2x6-cell region), but labels are IDX bytes: before
    // the up-front refusal the images were stamped and the writer refused "label 256 of item
    // 256", naming neither the shortcut nor its limit.
    assertThatThrownBy(() -> Shortcut.create(Shortcut.Kind.BINARY_CODE, 257, 28, 28, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("binary-code: at most 256 classes, got 257 (the dataset's IDX labels are single bytes)");
    // Every training class has an image: an empty class folder is refused as it is loaded.
    Path base = tmp.resolve("many");
    for (int k = 0; k < 257; k++) {
      for (String split : k == 256 ? List.of("train", "test") : List.of("train")) {
        Path png = base.resolve(String.format("%s/c%03d/a.png", split, k));
        Files.createDirectories(png.getParent());
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", png.toFile());
      }
    }
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> ShortcutDatasets.generate(base.toString(),
        Shortcut.Kind.BINARY_CODE, 0, out, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("binary-code: at most 256 classes, got 257 (the dataset's IDX labels are single bytes)");
    assertThat(out).doesNotExist();
  }

  @Test
  void aFailedWriteLeavesNoTemporaryDirectory() throws IOException {
    // A write that fails after the temporary directory is made (the 257-class base that failed
    // the label write here is refused before it now). The file system refuses a path longer than
    // its limit, measured here (Linux's is 4,095 bytes; macOS's PATH_MAX is 1,024 with the NUL):
    // the output, a name of 33 characters, goes in a parent 75-80 shorter, so its temporary (.NAME.,
    // a random part of 1-13 characters, .PID-KEY.tmp of 8-26) and the check that DIR can be made
    // (.write-check. and the same) fit, and the deepest file written,
    // randomised/t10k-shortcut-idx1-ubyte, does not.
    int limit = longestPath(tmp.resolve("probe"), 8191);
    org.junit.jupiter.api.Assumptions.assumeTrue(limit > 0, "no path of up to 8,191 bytes is refused here");
    if (Files.isDirectory(Path.of("/proc/self"))) assertThat(limit).as("Linux's PATH_MAX, 4,096 with the NUL").isEqualTo(4095);
    Path base = blankIdx(tmp.resolve("blank"), new int[] {0, 1}, new int[] {1, 0});
    Path parent = tmp.toAbsolutePath();
    int length = limit - 77;
    while (parent.toString().length() < length) {
      parent = parent.resolve("d".repeat(Math.max(1, Math.min(200, length - parent.toString().length() - 1))));
    }
    assertThat(parent.toString().length()).isBetween(limit - 80, limit - 75);
    Files.createDirectories(parent);
    Path out = parent.resolve("shortcut-dataset-with-a-long-name");
    assertThatThrownBy(() -> ShortcutDatasets.generate(base.toString(),
        Shortcut.Kind.BINARY_CODE, 0, out, false))
        .isInstanceOf(IOException.class).hasMessageContaining("File name too long");
    try (Stream<Path> s = Files.list(parent)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".lock")))
          .isEmpty();
    }
  }

  /**
   * The longest absolute path of ASCII characters at which a file can be made in {@code dir}'s file
   * system: directories of 100 characters are nested in {@code dir} while they can be, then the
   * longest file name that fits in the deepest is found. -1 when every path up to {@code most} was taken.
   */
  private static int longestPath(Path dir, int most) throws IOException {
    Path deepest = Files.createDirectories(dir).toAbsolutePath();
    while (deepest.toString().length() + 101 <= most) {
      Path next = deepest.resolve("p".repeat(100));
      try {
        Files.createDirectory(next);
      } catch (java.nio.file.FileSystemException e) {
        break;
      }
      deepest = next;
    }
    int fits = 0;
    for (int n = 1; n <= 100 && deepest.toString().length() + 1 + n <= most; n++) {
      try {
        Files.delete(Files.createFile(deepest.resolve("f".repeat(n))));
        fits = n;
      } catch (java.nio.file.FileSystemException e) {
        return fits == 0 ? deepest.toString().length() : deepest.toString().length() + 1 + fits;
      }
    }
    return -1;
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
