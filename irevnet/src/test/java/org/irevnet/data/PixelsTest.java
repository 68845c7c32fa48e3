package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PixelsTest {
  private static final Path F = Path.of("f");

  @Test
  void theLargestJavaArrayIsTheLimitOfADatasetsPixels() {
    // 2^31 - 9 = 7 x 17 x 18046081 pixels: as many as an array holds, so only the heap says no
    long need = 5L * Pixels.MAX_ELEMENTS;
    long max = Runtime.getRuntime().maxMemory();
    Assumptions.assumeTrue(max < need, "heap larger than 10 GiB");
    assertThatThrownBy(() -> Pixels.checkFits(F, 18046081, 7, 17, 1))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("f: 18046081 images of 7x17x1 need about 10239 MiB of heap to load, the JVM"
            + " may use at most " + max / (1024 * 1024) + " MiB (raise -Xmx)");
    // one more: 2^31 - 8 = 17895697 x 3 x 8 x 5
    assertThatThrownBy(() -> Pixels.checkFits(F, 17895697, 3, 8, 5))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("f: 17895697 images of 3x8x5 (2147483640 pixels) are more than a loaded dataset"
            + " may hold (2147483639)");
    // Labels are counted as labels: as many as an array holds need the heap, one more is refused.
    assertThatThrownBy(() -> Pixels.checkLabelsFit(F, Pixels.MAX_ELEMENTS))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("f: 2147483639 labels need about 10239 MiB of heap to load, the JVM may use at most "
            + max / (1024 * 1024) + " MiB (raise -Xmx)");
    assertThatThrownBy(() -> Pixels.checkLabelsFit(F, Pixels.MAX_ELEMENTS + 1))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("f: 2147483640 labels are more than a loaded dataset may hold (2147483639)");
  }

  @Test
  void sidesFromOneTo16384AreAccepted() {
    assertThatCode(() -> Pixels.checkSide(F, "row count", 1)).doesNotThrowAnyException();
    assertThatCode(() -> Pixels.checkSide(F, "row count", 16384)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Pixels.checkSide(F, "column count", 16385))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("f: implausible column count 16385 in the header (expected 1..16384)");
  }

  @Test
  void floatsAreTheElementsInCOrderWhateverTheLayout() {
    float[] v = {1, 2, 3, 4, 5, 6};
    INDArray c = Nd4j.create(v, new long[] {2, 3}, DataType.FLOAT);
    assertThat(Pixels.floats(c)).containsExactly(1, 2, 3, 4, 5, 6);
    // row 1 of c: a view into its buffer
    assertThat(Pixels.floats(c.getRow(1))).containsExactly(4, 5, 6);
    // the same 2x3 matrix stored column by column
    INDArray f = Nd4j.create(new float[] {1, 4, 2, 5, 3, 6}, new long[] {2, 3}, 'f');
    assertThat(Pixels.floats(f)).containsExactly(1, 2, 3, 4, 5, 6);
    INDArray d = Nd4j.create(new double[] {0.5, 0.25}, new long[] {2}, DataType.DOUBLE);
    assertThat(Pixels.floats(d)).containsExactly(0.5f, 0.25f);
  }
}
