package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.irevnet.check.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layout tests' comparison read against entry points known to be wrong: one that passed them
 * would pass every layout test of the modules whatever the code did with a view.
 */
class LayoutsTest {
  private static INDArray images() {
    return Numerics.normal(DataType.DOUBLE, 1, 3, 2, 4, 4);
  }

  @ParameterizedTest
  // Not OFFSET: ND4J's data() of a view with dense strides starts at its offset, so a dense read is right there.
  @EnumSource(value = Layouts.class, names = {"EVERY_OTHER_SAMPLE", "CHANNEL_RANGE", "SPATIAL_CROP",
      "FORTRAN", "PERMUTED"})
  void anEntryThatReadsTheBufferAsDenseFails(Layouts layout) {
    INDArray x = layout.of(images());
    assertThatThrownBy(() -> Layouts.assertSameAsOnDenseCopies("dense read", new INDArray[] {x},
        in -> List.of(Nd4j.create(Arrays.copyOf(in[0].data().asDouble(), (int) in[0].length()), in[0].shape(), 'c'))))
        .isInstanceOf(AssertionError.class).hasMessageContaining("dense read result 0");
    assertThatCode(() -> Layouts.assertSameAsOnDenseCopies("a copy", new INDArray[] {x},
        in -> List.of(in[0].dup('c').muli(2)))).doesNotThrowAnyException();
  }

  @Test
  void anEntryThatChangesItsInputOrGivesOtherResultsFails() {
    INDArray x = Layouts.OFFSET.of(images());
    assertThatThrownBy(() -> Layouts.assertSameAsOnDenseCopies("in place", new INDArray[] {x},
        in -> List.of(in[0].addi(1).dup()))).isInstanceOf(AssertionError.class)
        .hasMessageContaining("in place: input 0 afterwards");
    // Results of a call that depends on more than the values: shape, count and a plain value.
    int[] calls = {0};
    assertThatThrownBy(() -> Layouts.assertSameAsOnDenseCopies("shape", new INDArray[] {images()},
        in -> List.of(calls[0]++ == 0 ? in[0].reshape(3, -1) : in[0].dup()))).hasMessageContaining("shape result 0: shape");
    assertThatThrownBy(() -> Layouts.assertSameAsOnDenseCopies("count", new INDArray[] {images()},
        in -> calls[0]++ % 2 == 0 ? List.of(in[0]) : List.of(in[0], in[0]))).hasMessageContaining("count: results");
    assertThatThrownBy(() -> Layouts.assertSameAsOnDenseCopies("value", new INDArray[] {images()},
        in -> List.of(calls[0]++))).hasMessageContaining("value result 0");
  }
}
