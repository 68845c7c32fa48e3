package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ImageGridTest {

  /**
   * The grey levels of a grid written with the default scale and gap, of {@code h x w} images: per
   * grid row, the pixels of its images left to right, each image row-major (read at the centre of
   * each magnified pixel). The grid's rows and columns follow from the PNG's size.
   */
  static int[][] levels(Path png, int h, int w) throws java.io.IOException {
    BufferedImage img = ImageIO.read(png.toFile());
    int cellW = w * ImageGrid.SCALE + ImageGrid.GAP, cellH = h * ImageGrid.SCALE + ImageGrid.GAP;
    int cols = (img.getWidth() - ImageGrid.GAP) / cellW, rows = (img.getHeight() - ImageGrid.GAP) / cellH;
    assertThat(cols * cellW + ImageGrid.GAP).as("width").isEqualTo(img.getWidth());
    assertThat(rows * cellH + ImageGrid.GAP).as("height").isEqualTo(img.getHeight());
    int[][] out = new int[rows][cols * h * w];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            out[r][(c * h + y) * w + x] = img.getRaster().getSample(ImageGrid.GAP + c * cellW + x * ImageGrid.SCALE + 1,
                ImageGrid.GAP + r * cellH + y * ImageGrid.SCALE + 1, 0);
          }
        }
      }
    }
    return out;
  }

  @Test
  void writesAScaledGridThatReadsBackWithClippedValues(@TempDir Path tmp) throws Exception {
    // Row 0: three 4x5 images; row 1: two (the third cell stays grey).
    INDArray top = Nd4j.zeros(DataType.FLOAT, 3, 1, 4, 5);
    top.putScalar(new long[] {0, 0, 0, 0}, 0.5);
    top.putScalar(new long[] {1, 0, 3, 4}, 1.7);   // clipped to white
    top.putScalar(new long[] {2, 0, 1, 2}, 0.2);
    INDArray bottom = Nd4j.zeros(DataType.DOUBLE, 2, 4, 5).addi(1.0);
    bottom.putScalar(new long[] {1, 2, 3}, -0.3);   // clipped to black
    Path png = tmp.resolve("sub/grid.png");
    ImageGrid.write(png, List.of(top, bottom), 3, 2);

    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img).isNotNull();
    assertThat(img.getWidth()).isEqualTo(3 * 5 * 3 + 4 * 2);
    assertThat(img.getHeight()).isEqualTo(2 * 4 * 3 + 3 * 2);
    var raster = img.getRaster();
    // Image (0, 0), pixel (0, 0) covers output pixels [2, 5) x [2, 5).
    for (int d = 0; d < 3; d++) assertThat(raster.getSample(2 + d, 2 + d, 0)).isEqualTo(128);
    assertThat(raster.getSample(5, 2, 0)).isZero();
    assertThat(raster.getSample(0, 0, 0)).isEqualTo(ImageGrid.GAP_LEVEL);
    // Image (0, 1), pixel (y 3, x 4): x0 = 2 + 17 = 19, y0 = 2.
    assertThat(raster.getSample(19 + 12, 2 + 9, 0)).isEqualTo(255);
    assertThat(raster.getSample(19 + 14, 2 + 11, 0)).isEqualTo(255);
    // Image (0, 2), pixel (y 1, x 2): 0.2 -> 51.
    assertThat(raster.getSample(2 + 2 * 17 + 6, 2 + 3, 0)).isEqualTo(51);
    // Row 1 (y0 = 2 + 12 + 2 = 16): image 0 is white, image 1 has a black pixel at (2, 3), cell 2 is grey.
    assertThat(raster.getSample(2, 16, 0)).isEqualTo(255);
    assertThat(raster.getSample(19 + 9, 16 + 6, 0)).isZero();
    assertThat(raster.getSample(19 + 8, 16 + 6, 0)).isEqualTo(255);
    assertThat(raster.getSample(2 + 2 * 17 + 1, 16 + 1, 0)).isEqualTo(ImageGrid.GAP_LEVEL);
  }

  @Test
  void drawsRgbImagesInTheirColoursAndGreyRowsBesideThemAsGrey(@TempDir Path tmp) throws Exception {
    // Every analysis drew CIFAR-10 and colour PNG images as [n, 3, h, w] and the grid refused them,
    // so invert, metamers, interpolate and attack failed on colour data after all their work.
    INDArray rgb = Nd4j.zeros(DataType.FLOAT, 2, 3, 2, 3);
    rgb.putScalar(new long[] {0, 0, 0, 0}, 1.0);   // image 0, pixel (0, 0): red
    rgb.putScalar(new long[] {0, 1, 1, 2}, 0.5);   // image 0, pixel (1, 2): half green
    rgb.putScalar(new long[] {1, 2, 0, 1}, 1.0);   // image 1, pixel (0, 1): blue
    rgb.putScalar(new long[] {1, 0, 1, 0}, 0.2);   // image 1, pixel (1, 0): dark red
    INDArray grey = Nd4j.zeros(DataType.DOUBLE, 1, 1, 2, 3);
    grey.putScalar(new long[] {0, 0, 1, 1}, 0.2);
    Path png = tmp.resolve("colour.png");
    ImageGrid.write(png, List.of(rgb, grey));

    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getRaster().getNumBands()).isEqualTo(3);
    int cellW = 3 * ImageGrid.SCALE + ImageGrid.GAP, cellH = 2 * ImageGrid.SCALE + ImageGrid.GAP;
    java.util.function.BiFunction<int[], int[], Integer> rgbAt = (cell, pixel) -> img.getRGB(
        ImageGrid.GAP + cell[1] * cellW + pixel[1] * ImageGrid.SCALE + 1,
        ImageGrid.GAP + cell[0] * cellH + pixel[0] * ImageGrid.SCALE + 1) & 0xffffff;
    assertThat(rgbAt.apply(new int[] {0, 0}, new int[] {0, 0})).isEqualTo(0xff0000);
    assertThat(rgbAt.apply(new int[] {0, 0}, new int[] {1, 2})).isEqualTo(0x008000);
    assertThat(rgbAt.apply(new int[] {0, 0}, new int[] {0, 1})).isEqualTo(0x000000);
    assertThat(rgbAt.apply(new int[] {0, 1}, new int[] {0, 1})).isEqualTo(0x0000ff);
    assertThat(rgbAt.apply(new int[] {0, 1}, new int[] {1, 0})).isEqualTo(0x330000);
    assertThat(rgbAt.apply(new int[] {1, 0}, new int[] {1, 1})).isEqualTo(0x333333);
    assertThat(rgbAt.apply(new int[] {1, 0}, new int[] {0, 0})).isEqualTo(0x000000);
    assertThat(rgbAt.apply(new int[] {1, 1}, new int[] {0, 0})).as("empty cell").isEqualTo(0x808080);
    assertThat(img.getRGB(0, 0) & 0xffffff).as("gap").isEqualTo(0x808080);
  }

  /**
   * A PNG is written and read without ImageIO's cache file in the temporary directory: where that
   * was full, invert said "invert.png: No space left on device" of a disk with room, and the report
   * called a whole PNG "not a readable PNG".
   */
  @Test
  void pngsAreWrittenAndReadWithoutATemporaryFile(@TempDir Path tmp) throws Exception {
    java.io.File cache = java.nio.file.Files.createDirectory(tmp.resolve("cache")).toFile();
    ImageIO.setUseCache(true); // ImageIO's default
    ImageIO.setCacheDirectory(cache);
    java.nio.file.Files.delete(cache.toPath()); // no cache file can be made
    try {
      Path run = java.nio.file.Files.createDirectory(tmp.resolve("run"));
      java.nio.file.Files.writeString(run.resolve("config.json"), "{}");
      ImageGrid.write(run.resolve("grid.png"), List.of(Nd4j.zeros(DataType.FLOAT, 2, 1, 4, 4)));
      ImageIO.setUseCache(true);
      Figure.Image img = new RunFiles(run).image("grid.png", "grid");
      assertThat(img.width()).isPositive();
    } finally {
      ImageIO.setCacheDirectory(null);
    }
  }

  @Test
  void levelsAreClippedAndRounded() {
    assertThat(ImageGrid.level(-1)).isZero();
    assertThat(ImageGrid.level(Double.NaN)).isZero();
    assertThat(ImageGrid.level(0.5)).isEqualTo(128);
    assertThat(ImageGrid.level(2)).isEqualTo(255);
  }

  @Test
  void refusesMismatchedRowsAndNothingIsWritten(@TempDir Path tmp) {
    Path png = tmp.resolve("bad.png");
    assertThatThrownBy(() -> ImageGrid.write(png, List.of(Nd4j.zeros(2, 1, 4, 4), Nd4j.zeros(2, 1, 5, 4))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1");
    assertThatThrownBy(() -> ImageGrid.write(png, List.of(Nd4j.zeros(2, 2, 4, 4))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[n, 3, h, w]");
    assertThat(png).doesNotExist();
  }

  @Test
  void refusesNoRowsABadScaleOrGapAndAGridWithoutAPixel() {
    INDArray one = Nd4j.zeros(1, 1, 2, 2);
    assertThatThrownBy(() -> ImageGrid.render(List.of(), 1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("image grid: no rows");
    for (int[] sg : new int[][] {{0, 0}, {1, -1}}) {
      assertThatThrownBy(() -> ImageGrid.render(List.of(one), sg[0], sg[1])).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("image grid: scale must be >= 1 and gap >= 0");
    }
    // Scale 1 and no gap are allowed: the images alone, side by side.
    BufferedImage tight = ImageGrid.render(List.of(Nd4j.ones(2, 2, 2)), 1, 0);
    assertThat(List.of(tight.getWidth(), tight.getHeight())).containsExactly(4, 2);
    assertThat(tight.getRaster().getSample(3, 1, 0)).isEqualTo(255);
    // No images and no gap: nothing to draw.
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(0, 1, 2, 2)), 1, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("image grid: nothing to draw");
    assertThat(ImageGrid.render(List.of(Nd4j.zeros(0, 1, 2, 2)), 1, 3).getWidth()).as("the gaps alone").isEqualTo(3);
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(1, 1, 0, 2)), 1, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("image grid: nothing to draw");
  }

  @Test
  void refusesRowsOfOtherRanksAndNamesTheShapes() {
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(2, 4)), 1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("image grid: row 0 must be [n, 1, h, w], [n, 3, h, w] or [n, h, w], got [2, 4]");
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(1, 1, 1, 2, 2)), 1, 0))
        .hasMessage("image grid: row 0 must be [n, 1, h, w], [n, 3, h, w] or [n, h, w], got [1, 1, 1, 2, 2]");
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(1, 2, 2), Nd4j.zeros(1, 2, 3)), 1, 0))
        .hasMessage("image grid: row 1 has 2x3 images, row 0 has 2x2");
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(1, 2, 2), Nd4j.zeros(1, 3, 2)), 1, 0))
        .hasMessage("image grid: row 1 has 3x2 images, row 0 has 2x2");
    // Row 0's images may have no rows of pixels; the next row is still compared with them.
    assertThatThrownBy(() -> ImageGrid.render(List.of(Nd4j.zeros(1, 0, 2), Nd4j.zeros(1, 3, 2)), 1, 1))
        .hasMessage("image grid: row 1 has 3x2 images, row 0 has 0x2");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void imagesOfAnyLayoutAreDrawnAsTheirDenseCopies(org.irevnet.testing.Layouts layout) {
    // A grid drawn from a view or a column-major array as if it were dense would show other
    // pixels, or the right ones transposed.
    INDArray grey = Nd4j.rand(DataType.FLOAT, 3, 1, 5, 4), colour = Nd4j.rand(DataType.FLOAT, 2, 3, 5, 4);
    List<INDArray> given = List.of(layout.of(grey), layout.of(colour));
    List<INDArray> dense = List.of(given.get(0).dup('c'), given.get(1).dup('c'));
    List<INDArray> before = List.of(given.get(0).dup('c'), given.get(1).dup('c'));
    BufferedImage got = ImageGrid.render(given, 2, 1), expected = ImageGrid.render(dense, 2, 1);
    assertThat(got.getRGB(0, 0, got.getWidth(), got.getHeight(), null, 0, got.getWidth()))
        .isEqualTo(expected.getRGB(0, 0, expected.getWidth(), expected.getHeight(), null, 0, expected.getWidth()));
    for (int r = 0; r < 2; r++) assertThat(given.get(r)).as("row " + r + " afterwards").isEqualTo(before.get(r));
  }
}
