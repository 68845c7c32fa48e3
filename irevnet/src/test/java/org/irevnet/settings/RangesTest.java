package org.irevnet.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RangesTest {

  @Test
  void atLeastTakesItsBoundAndRefusesBelowIt() {
    assertThatCode(() -> Ranges.atLeast("--batch", 3L, 3L)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Ranges.atLeast("--batch", 2L, 3L)).hasMessage("--batch must be at least 3, got 2");
    assertThatCode(() -> Ranges.atLeast("--scale", 0.25, 0.25)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Ranges.atLeast("--scale", 0.2, 0.25)).hasMessage("--scale must be at least 0.25, got 0.2");
    // A whole bound reads as one, not 1.0.
    assertThatThrownBy(() -> Ranges.atLeast("--scale", 0.5, 1.0)).hasMessage("--scale must be at least 1, got 0.5");
    assertThatThrownBy(() -> Ranges.atLeast("--scale", Double.NaN, 0))
        .hasMessage("--scale must be a finite number, got NaN");
    assertThatThrownBy(() -> Ranges.atLeast("--scale", Double.POSITIVE_INFINITY, 0))
        .hasMessage("--scale must be a finite number, got Infinity");
  }

  @Test
  void positiveRefusesZeroAndNonFinite() {
    assertThatCode(() -> Ranges.positive("--lr", Double.MIN_VALUE)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Ranges.positive("--lr", 0)).hasMessage("--lr must be above 0, got 0.0");
    assertThatThrownBy(() -> Ranges.positive("--lr", -1)).hasMessage("--lr must be above 0, got -1.0");
    assertThatThrownBy(() -> Ranges.positive("--lr", Double.NaN)).hasMessage("--lr must be a finite number, got NaN");
    assertThatThrownBy(() -> Ranges.positive("--lr", Double.POSITIVE_INFINITY))
        .hasMessage("--lr must be a finite number, got Infinity");
  }

  @Test
  void nonNegativeTakesZeroOnly() {
    assertThatCode(() -> Ranges.nonNegative("--decay", 0)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Ranges.nonNegative("--decay", -1e-9)).hasMessage("--decay must be at least 0, got -1.0E-9");
    assertThatThrownBy(() -> Ranges.nonNegative("--decay", Double.NEGATIVE_INFINITY))
        .hasMessage("--decay must be a finite number, got -Infinity");
  }

  @Test
  void oneOfTakesItsWordsOnlyAndListsThem() {
    List<String> schedules = List.of("cosine", "step", "constant");
    assertThatCode(() -> Ranges.oneOf("--schedule", "step", schedules)).doesNotThrowAnyException();
    assertThatThrownBy(() -> Ranges.oneOf("--schedule", "cosin", schedules))
        .hasMessage("--schedule must be cosine, step or constant, got cosin");
    assertThatThrownBy(() -> Ranges.oneOf("--schedule", "Step", schedules))
        .hasMessage("--schedule must be cosine, step or constant, got Step");
    // A config.json without the key gives null, which List.of's contains would throw on.
    assertThatThrownBy(() -> Ranges.oneOf("schedule", null, schedules))
        .hasMessage("schedule must be cosine, step or constant, got null");
    assertThat(Ranges.listed(List.of("best", "latest"))).isEqualTo("best or latest");
    assertThat(Ranges.listed(List.of("only"))).isEqualTo("only");
  }
}
