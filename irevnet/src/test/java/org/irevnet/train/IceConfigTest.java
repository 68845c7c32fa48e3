package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IceConfigTest {
  static IceConfig with(double wNc, int warmup, double wMle, String form, Double cap, int k, int hidden, double lr,
      int adversaries, int reinit, int replay) {
    return new IceConfig(wNc, warmup, wMle, form, cap, k, hidden, lr, adversaries, reinit, true, replay);
  }

  static final IceConfig OK = with(0.5, 4, 0.1, "paper", null, 1, 0, 1e-3, 1, 0, 0);

  @Test
  void theNuisanceWeightRisesLinearlyOverTheWarmUpThenStays() {
    assertThat(OK.wNcAt(0)).isZero();
    assertThat(OK.wNcAt(1)).isEqualTo(0.125);
    assertThat(OK.wNcAt(3)).isEqualTo(0.375);
    assertThat(OK.wNcAt(4)).isEqualTo(0.5);
    assertThat(OK.wNcAt(1000)).isEqualTo(0.5);
    assertThat(with(0.5, 0, 0, "bounded", null, 1, 0, 1e-3, 1, 0, 0).wNcAt(0)).as("no warm-up").isEqualTo(0.5);
  }

  @Test
  void thePaperCapIsChanceForTheClassCountUnlessSet() {
    assertThat(OK.paperCapFor(3)).isEqualTo(Math.log(3));
    assertThat(with(0.5, 4, 0, "paper", 2.5, 1, 0, 1e-3, 1, 0, 0).paperCapFor(3)).isEqualTo(2.5);
  }

  /** Whitening is the adversaries' standardisation, so it is refused without it; off by default and in the old constructor. */
  @Test
  void whiteningNeedsStandardisationAndIsOffByDefault() {
    assertThat(IceConfig.defaults().advWhiten()).isFalse();
    assertThat(OK.advWhiten()).isFalse();
    IceConfig whitened = new IceConfig(0.5, 4, 0.1, "paper", null, 1, 0, 1e-3, 1, 0, true, 0, true);
    assertThat(whitened.validate()).isEqualTo(whitened);
    assertThatThrownBy(() -> new IceConfig(0.5, 4, 0.1, "paper", null, 1, 0, 1e-3, 1, 0, false, 0, true).validate())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("advWhiten with advStandardize false: ")
        .hasMessageNotContaining("\n");
  }

  @Test
  void theDefaultsAreValid() {
    assertThat(IceConfig.defaults().validate()).isEqualTo(IceConfig.defaults());
  }

  /** Each refusal names the setting; the boundary values are accepted. */
  @Test
  void eachSettingOutOfRangeIsRefusedByName() {
    assertThat(with(0, 0, 0, "bounded", null, 0, 0, 1e-9, 1, 0, 0).validate()).as("every lower bound").isNotNull();
    assertThatThrownBy(() -> with(-1, 4, 0, "paper", null, 1, 0, 1e-3, 1, 0, 0).validate()).hasMessageStartingWith("wNc ");
    assertThatThrownBy(() -> with(1, -1, 0, "paper", null, 1, 0, 1e-3, 1, 0, 0).validate())
        .hasMessageStartingWith("wNcWarmupSteps ");
    assertThatThrownBy(() -> with(1, 4, -0.1, "paper", null, 1, 0, 1e-3, 1, 0, 0).validate())
        .hasMessageStartingWith("wMle ");
    assertThatThrownBy(() -> with(1, 4, 0, "Paper", null, 1, 0, 1e-3, 1, 0, 0).validate())
        .hasMessage("nuisanceForm must be bounded or paper, got Paper");
    // A config.json without the key (--resume reads it as it is): refused by name, not with a NullPointerException.
    assertThatThrownBy(() -> with(1, 4, 0, null, null, 1, 0, 1e-3, 1, 0, 0).validate())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("nuisanceForm must be bounded or paper, got null");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", 0.0, 1, 0, 1e-3, 1, 0, 0).validate())
        .hasMessageStartingWith("paperCap ");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, -1, 0, 1e-3, 1, 0, 0).validate())
        .hasMessageStartingWith("advSteps ");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, -1, 1e-3, 1, 0, 0).validate())
        .hasMessageStartingWith("advHidden ");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, 0, 0, 1, 0, 0).validate())
        .hasMessageStartingWith("advLr ");
    // Beyond float32 the adversaries' Adam stepped by 1e-8 instead: they never learned, without a word.
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, 0, 1e39, 1, 0, 0).validate())
        .hasMessageStartingWith("advLr must be at most ");
    assertThat(with(1, 4, 0, "paper", null, 1, 0, Float.MAX_VALUE, 1, 0, 0).validate()).isNotNull();
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, 0, 1e-3, 0, 0, 0).validate())
        .hasMessageStartingWith("adversaries ");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, 0, 1e-3, 1, -1, 0).validate())
        .hasMessageStartingWith("advReinitEvery ");
    assertThatThrownBy(() -> with(1, 4, 0, "paper", null, 1, 0, 1e-3, 1, 0, -1).validate())
        .hasMessageStartingWith("advReplay ");
  }

  /**
   * With no adversary steps the adversaries stay as initialised, and a nuisance weight above 0
   * would push z_n against classifiers that never learned to read y from it: not the min-max game
   * the weight asks for. Without the term (wNc 0) untrained adversaries are harmless.
   */
  @Test
  void noAdversaryStepsWithTheNuisanceTermOnIsRefused() {
    assertThatThrownBy(() -> with(0.3, 4, 0, "bounded", null, 0, 0, 1e-3, 1, 0, 0).validate())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("advSteps 0 with wNc 0.3: the adversaries would never"
            + " train, so the nuisance term would push against untrained classifiers; give advSteps at least 1, or wNc 0");
    assertThat(with(0, 4, 0, "bounded", null, 0, 0, 1e-3, 1, 0, 0).validate()).as("wNc 0").isNotNull();
    assertThat(with(1e-9, 4, 0, "bounded", null, 1, 0, 1e-3, 1, 0, 0).validate()).as("one step").isNotNull();
  }

  /** The cap belongs to the paper form; the bounded form ignored one in silence. */
  @Test
  void aPaperCapWithTheBoundedFormIsRefused() {
    assertThatThrownBy(() -> with(0.3, 4, 0, "bounded", 2.0, 1, 0, 1e-3, 1, 0, 0).validate())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("paperCap is for nuisanceForm paper only, got 2.0 with bounded: leave it out");
    assertThat(with(0.3, 4, 0, "paper", 2.0, 1, 0, 1e-3, 1, 0, 0).validate()).as("paper").isNotNull();
  }
}
