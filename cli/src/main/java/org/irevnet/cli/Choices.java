package org.irevnet.cli;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.irevnet.cnf.ToyDensity;
import org.irevnet.data.Shortcut;
import org.irevnet.train.IceConfig;
import org.irevnet.train.TrainConfig;
import org.irevnet.vae.Flows;

/**
 * The closed sets of words options take, as picocli's {@code completionCandidates}: the command's
 * own check reads its words from here ({@code WORDS}) or from the same list in the irevnet module
 * (sets a config file can also give, checked there), and DocumentedCommandsTest checks the values
 * of the documented examples against them. A second list written by hand let a misspelt value in
 * the README pass every test.
 */
abstract class Choices implements Iterable<String> {
  private final List<String> words;

  Choices(List<String> words) {
    this.words = words;
  }

  @Override
  public Iterator<String> iterator() {
    return words.iterator();
  }

  /** --checkpoint of eval, export, sample. */
  static final class Checkpoint extends Choices {
    static final List<String> WORDS = List.of("best", "latest");

    Checkpoint() {
      super(WORDS);
    }
  }

  /** eval --split. */
  static final class EvalSplit extends Choices {
    static final List<String> WORDS = List.of("test", "train");

    EvalSplit() {
      super(WORDS);
    }
  }

  /** attack --attack (also taken in capitals). */
  static final class Attack extends Choices {
    static final List<String> WORDS = List.of("fgsm", "pgd-linf", "pgd-l2", "metamer", "feature-match");

    Attack() {
      super(WORDS);
    }
  }

  /** attack --loss. */
  static final class AttackLoss extends Choices {
    static final List<String> WORDS = List.of("ce", "margin");

    AttackLoss() {
      super(WORDS);
    }
  }

  /** cnf --solver. */
  static final class Solver extends Choices {
    static final List<String> WORDS = List.of("rk4", "dopri5");

    Solver() {
      super(WORDS);
    }
  }

  /** bench --backward: train's, or both in turn. */
  static final class BenchBackward extends Choices {
    static final List<String> WORDS = Stream.concat(TrainConfig.BACKWARDS.stream(), Stream.of("both")).toList();

    BenchBackward() {
      super(WORDS);
    }
  }

  /** train --backward. */
  static final class Backward extends Choices {
    Backward() {
      super(TrainConfig.BACKWARDS);
    }
  }

  /** train --schedule. */
  static final class Schedule extends Choices {
    Schedule() {
      super(TrainConfig.SCHEDULES);
    }
  }

  /** train --objective. */
  static final class Objective extends Choices {
    Objective() {
      super(TrainConfig.OBJECTIVES);
    }
  }

  /** train --nuisance-form. */
  static final class NuisanceForm extends Choices {
    NuisanceForm() {
      super(IceConfig.NUISANCE_FORMS);
    }
  }

  /** vae --flow. */
  static final class Flow extends Choices {
    Flow() {
      super(Flows.NAMES);
    }
  }

  /** data shortcut --kind. */
  static final class ShortcutKind extends Choices {
    ShortcutKind() {
      super(Shortcut.Kind.ids());
    }
  }

  /** cnf --target. */
  static final class CnfTarget extends Choices {
    CnfTarget() {
      super(ToyDensity.ids());
    }
  }
}
