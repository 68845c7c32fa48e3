package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.List;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PreprocessTest {

  /** n images c x h x w with every value in (0, 1]: (1 + i*1000 + ch*100 + r*h + col) / 1e5. */
  static Dataset ramp(int n, int c, int h, int w) {
    float[] v = new float[n * c * h * w];
    int k = 0;
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int r = 0; r < h; r++) {
          for (int col = 0; col < w; col++) {
            v[k++] = (1 + i * 1000 + ch * 100 + r * w + col) / 1e5f;
          }
        }
      }
    }
    return new Dataset("ramp", Nd4j.create(v, new long[] {n, c, h, w}, DataType.FLOAT),
        new int[n], List.of("only"));
  }

  @Test
  void padding28To32PutsTheImageInTheCentreAndZerosElsewhere() {
    Dataset d = ramp(2, 1, 28, 28);
    Dataset p = Preprocess.padTo(d, 32, 32);
    assertThat(p.images().shape()).containsExactly(2, 1, 32, 32);
    assertThat(p.labels()).isSameAs(d.labels());
    for (int i = 0; i < 2; i++) {
      for (int r = 0; r < 32; r++) {
        for (int c = 0; c < 32; c++) {
          float got = p.images().getFloat(i, 0, r, c);
          boolean inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          if (inside) {
            assertThat(got).isEqualTo(d.images().getFloat(i, 0, r - 2, c - 2));
          } else {
            assertThat(got).isZero();
          }
        }
      }
    }
    assertThat(p.images().sumNumber().doubleValue())
        .isCloseTo(d.images().sumNumber().doubleValue(), offset(1e-3));
  }

  @Test
  void oddDifferencePutsTheExtraRowAndColumnAtTheBottomRight() {
    Dataset d = ramp(1, 3, 2, 3);
    INDArray p = Preprocess.padTo(d.images(), 5, 4);
    assertThat(p.shape()).containsExactly(1, 3, 5, 4);
    // top = (5-2)/2 = 1, left = (4-3)/2 = 0
    for (int ch = 0; ch < 3; ch++) {
      assertThat(p.getFloat(0, ch, 1, 0)).isEqualTo(d.images().getFloat(0, ch, 0, 0));
      assertThat(p.getFloat(0, ch, 2, 2)).isEqualTo(d.images().getFloat(0, ch, 1, 2));
      assertThat(p.getFloat(0, ch, 0, 0)).isZero();
      assertThat(p.getFloat(0, ch, 3, 0)).isZero();
      assertThat(p.getFloat(0, ch, 4, 3)).isZero();
      assertThat(p.getFloat(0, ch, 1, 3)).isZero();
    }
  }

  @Test
  void largerImagesAreRefusedNeverCropped() {
    Dataset d = ramp(1, 1, 36, 28);
    assertThatThrownBy(() -> Preprocess.padTo(d, 32, 32))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ramp: images are 36x28, larger than the model input 32x32; images are"
            + " zero-padded to the input size but never cropped");
    assertThatThrownBy(() -> Preprocess.padTo(ramp(1, 1, 28, 33), 32, 32))
        .hasMessageContaining("28x33");
  }

  @Test
  void aSideAlreadyAtTheTargetSizeIsKept() {
    INDArray x = ramp(1, 1, 3, 2).images();
    INDArray wider = Preprocess.padTo(x, 3, 4); // rows as they are, one column each side
    assertThat(wider.shape()).containsExactly(1, 1, 3, 4);
    assertThat(wider.getFloat(0, 0, 2, 2)).isEqualTo(x.getFloat(0, 0, 2, 1));
    assertThat(wider.getFloat(0, 0, 2, 3)).isZero();
    INDArray taller = Preprocess.padTo(x, 5, 2); // one row above and below
    assertThat(taller.shape()).containsExactly(1, 1, 5, 2);
    assertThat(taller.getFloat(0, 0, 1, 0)).isEqualTo(x.getFloat(0, 0, 0, 0));
    assertThat(taller.getFloat(0, 0, 4, 1)).isZero();
  }

  @Test
  void sameSizeIsLeftAlone() {
    Dataset d = ramp(1, 1, 32, 32);
    assertThat(Preprocess.padTo(d, 32, 32)).isSameAs(d);
  }

  @Test
  void dequantisationAddsSeededNoiseBelowOneOver256() {
    INDArray x = ramp(3, 1, 8, 8).images();
    INDArray a = Preprocess.dequantize(x, 7);
    INDArray b = Preprocess.dequantize(x, 7);
    INDArray c = Preprocess.dequantize(x, 8);
    assertThat(a.data().asFloat()).containsExactly(b.data().asFloat());
    assertThat(a.data().asFloat()).isNotEqualTo(c.data().asFloat());
    INDArray diff = a.sub(x);
    assertThat(Tensors.min(diff)).isGreaterThanOrEqualTo(0.0);
    assertThat(Tensors.max(diff)).isLessThan(1.0 / 256 + 1e-6);
    assertThat(diff.meanNumber().doubleValue())
        .isCloseTo(0.5 / 256, offset(0.1 / 256));
  }

  @Test
  void randomShiftMovesEachImageByAtMostMaxShiftWithZeroFill() {
    // one bright pixel per image in the middle of a 9x9 image
    int n = 40;
    float[] v = new float[n * 81];
    for (int i = 0; i < n; i++) {
      v[i * 81 + 4 * 9 + 4] = 1f;
    }
    INDArray x = Nd4j.create(v, new long[] {n, 1, 9, 9}, DataType.FLOAT);
    INDArray y = Preprocess.randomShift(x, 2, 11);
    assertThat(Preprocess.randomShift(x, 2, 11).data().asFloat())
        .containsExactly(y.data().asFloat());
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      int found = 0;
      for (int r = 0; r < 9; r++) {
        for (int c = 0; c < 9; c++) {
          if (y.getFloat(i, 0, r, c) != 0f) {
            assertThat(y.getFloat(i, 0, r, c)).isEqualTo(1f);
            assertThat(Math.abs(r - 4)).isLessThanOrEqualTo(2);
            assertThat(Math.abs(c - 4)).isLessThanOrEqualTo(2);
            seen.add((r - 4) + "," + (c - 4));
            found++;
          }
        }
      }
      assertThat(found).isEqualTo(1);
    }
    assertThat(seen.size()).isGreaterThan(5);
    // every offset from -2 to 2 turns up in each direction (40 draws of 5 values each)
    assertThat(seen.stream().map(o -> Integer.parseInt(o.split(",")[0])).distinct())
        .containsExactlyInAnyOrder(-2, -1, 0, 1, 2);
    assertThat(seen.stream().map(o -> Integer.parseInt(o.split(",")[1])).distinct())
        .containsExactlyInAnyOrder(-2, -1, 0, 1, 2);
  }

  @Test
  void theChannelsOfAnImageShiftTogether() {
    // channel ch of every image: one pixel of value (ch + 1) / 4 in the middle of 7x7
    int n = 6;
    int c = 3;
    float[] v = new float[n * c * 49];
    for (int plane = 0; plane < n * c; plane++) {
      v[plane * 49 + 3 * 7 + 3] = (plane % c + 1) / 4f;
    }
    INDArray y = Preprocess.randomShift(Nd4j.create(v, new long[] {n, c, 7, 7}, DataType.FLOAT),
        1, 3);
    for (int i = 0; i < n; i++) {
      String where = null;
      for (int ch = 0; ch < c; ch++) {
        int found = 0;
        for (int r = 0; r < 7; r++) {
          for (int col = 0; col < 7; col++) {
            if (y.getFloat(i, ch, r, col) != 0f) {
              assertThat(y.getFloat(i, ch, r, col)).isEqualTo((ch + 1) / 4f);
              if (where == null) {
                where = r + "," + col;
              }
              assertThat(r + "," + col).as("image %d channel %d", i, ch).isEqualTo(where);
              found++;
            }
          }
        }
        assertThat(found).as("image %d channel %d", i, ch).isEqualTo(1);
      }
    }
  }

  @Test
  void shiftPlaneFillsUncoveredPixelsWithZero() {
    float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float[] out = new float[9];
    Preprocess.shiftPlane(in, out, 0, 3, 3, 1, -1);
    assertThat(out).containsExactly(0, 0, 0, 2, 3, 0, 5, 6, 0);
  }
}
