package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The grid of cell centres, the 2-D histogram, the colour map and the rendered panels. */
class CnfFiguresTest {

  @Test
  void gridPointsAreCellCentresRowMajorWithTheTopRowFirst() {
    // On [-1, 3]^2 with 2x2 cells of side 2 the centres are at 0 and 2.
    assertThat(CnfFigures.gridPoints(2, -1, 3)).containsExactly(0, 2, 2, 2, 0, 0, 2, 0);
  }

  @Test
  void histogramCellsIncludeTheirLowerBoundsAndThePointsOutsideAreLeftOut() {
    // On [-1, 3]^2 with 2x2 cells of side 2: (-1, 3) is the top-left corner (cell 0), (1, 1) the
    // lower right cell's top-left corner (cell 3), (2, 2) is in the top right cell; x = 3, x < -1,
    // y > 3 and y = -1 are outside.
    double[] points = {-1, 3, 1, 1, 1, 1, 3, 1, -1.5, 1, 0.5, 3.5, 0.5, -1, 2, 2};
    assertThat(CnfFigures.histogram(points, 2, -1, 3)).containsExactly(1, 1, 0, 2);
  }

  @Test
  void theColourMapRunsThroughItsStopsAndClipsWhatIsOutside() {
    int dark = 0x000004, bright = 0xFCFDBF;
    assertThat(CnfFigures.color(0)).isEqualTo(dark);
    assertThat(CnfFigures.color(-1)).isEqualTo(dark);
    assertThat(CnfFigures.color(Double.NaN)).isEqualTo(dark);
    assertThat(CnfFigures.color(1)).isEqualTo(bright);
    assertThat(CnfFigures.color(2)).isEqualTo(bright);
    // 0.2 is the second stop (59, 15, 112); 0.5 halfway between the third and fourth:
    // (140 + 222) / 2 = 181, (41 + 73) / 2 = 57, (129 + 104) / 2 = 116.5, rounded up.
    assertThat(CnfFigures.color(0.2)).isEqualTo(0x3B0F70);
    assertThat(CnfFigures.color(0.5)).isEqualTo(0xB53975);
    // 0.95: three quarters of the way from (254, 159, 109) to (252, 253, 191): 252.5, 229.5, 170.5.
    assertThat(CnfFigures.color(0.95)).isEqualTo((253 << 16) | (230 << 8) | 171);
  }

  /**
   * A 2x2 panel at scale 3 beside a 3x3 one (6 pixels gap): each is shaded by its own maximum, an
   * all-zero panel is dark, the gap and the space below the shorter panel stay white, and each
   * caption is drawn above its panel.
   */
  @Test
  void panelsAreDrawnSideBySideEachScaledToItsOwnMaximum() {
    BufferedImage img = CnfFigures.render(List.of(new CnfFigures.Panel("a", new double[] {0, 1, 2, 4}, 2),
        new CnfFigures.Panel("b", new double[9], 3)), 3);
    int caption = 18, white = 0xFFFFFF;
    assertThat(img.getWidth()).isEqualTo(6 + 6 + 9);
    assertThat(img.getHeight()).isEqualTo(caption + 9);
    int[][] want = {{CnfFigures.color(0), CnfFigures.color(0.25)}, {CnfFigures.color(0.5), CnfFigures.color(1)}};
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        for (int d = 0; d < 3; d++) {
          assertThat(rgb(img, j * 3 + d, caption + i * 3 + d)).as("cell %d %d", i, j).isEqualTo(want[i][j]);
          assertThat(rgb(img, j * 3 + 2 - d, caption + i * 3 + d)).as("cell %d %d", i, j).isEqualTo(want[i][j]);
        }
      }
    }
    for (int y = caption; y < caption + 9; y++) {
      for (int x = 12; x < 21; x++) assertThat(rgb(img, x, y)).isEqualTo(CnfFigures.color(0));
      for (int x = 6; x < 12; x++) assertThat(rgb(img, x, y)).as("gap").isEqualTo(white);
    }
    assertThat(rgb(img, 0, caption + 6)).as("below the shorter panel").isEqualTo(white);
    assertThat(dark(img, 0, 6)).as("caption a").isTrue();
    assertThat(dark(img, 12, 21)).as("caption b").isTrue();
  }

  /**
   * Panel a has no caption, so the caption strip left of panel b (from x = 12) stays blank unless
   * b's caption starts left of its panel; it starts 2 pixels into it.
   */
  @Test
  void aCaptionIsDrawnFromItsOwnPanel() {
    BufferedImage img = CnfFigures.render(List.of(new CnfFigures.Panel("", new double[4], 2),
        new CnfFigures.Panel("b", new double[4], 2)), 3);
    assertThat(dark(img, 0, 12)).isFalse();
    assertThat(dark(img, 12, img.getWidth())).isTrue();
  }

  private static int rgb(BufferedImage img, int x, int y) {
    return img.getRGB(x, y) & 0xFFFFFF;
  }

  /** Whether the caption strip above columns [x0, x1) has a dark pixel. */
  private static boolean dark(BufferedImage img, int x0, int x1) {
    for (int y = 0; y < 18; y++) for (int x = x0; x < x1; x++) if ((img.getRGB(x, y) & 0xFF) < 128) return true;
    return false;
  }

  @Test
  void nonFinitePointsAreNotCounted() {
    double inf = Double.POSITIVE_INFINITY, nan = Double.NaN;
    // On [0, 2]^2 with 2x2 cells the top-left cell (index 0) is x in [0, 1), y in (1, 2]; a NaN
    // coordinate would land there through (int) Math.floor(NaN) == 0.
    double[] points = {0.5, 1.5, nan, nan, nan, 1.5, 0.5, nan, -inf, 1.5, 0.5, inf, 1.5, 0.5};
    double[] counts = CnfFigures.histogram(points, 2, 0, 2);
    assertThat(counts).containsExactly(1, 0, 0, 1);
  }

  @Test
  void writesTheRenderedPanelsAsAPng(@TempDir Path tmp) throws Exception {
    List<CnfFigures.Panel> panels = List.of(new CnfFigures.Panel("a", new double[] {0, 1, 2, 3}, 2),
        new CnfFigures.Panel("b", new double[] {3, 2, 1, 0}, 2));
    Path png = tmp.resolve("density.png");
    CnfFigures.write(png, panels, 4);
    BufferedImage read = ImageIO.read(png.toFile()), rendered = CnfFigures.render(panels, 4);
    assertThat(read.getWidth()).isEqualTo(rendered.getWidth());
    assertThat(read.getHeight()).isEqualTo(rendered.getHeight());
    int[] want = rendered.getRGB(0, 0, rendered.getWidth(), rendered.getHeight(), null, 0, rendered.getWidth());
    int[] got = read.getRGB(0, 0, read.getWidth(), read.getHeight(), null, 0, read.getWidth());
    assertThat(Arrays.equals(got, want)).isTrue();
    try (var files = Files.list(tmp)) {
      assertThat(files).containsExactly(png);
    }
  }
}
