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

/** The 2-D histogram on points it cannot place, and the PNG it writes. */
class CnfFiguresTest {

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
