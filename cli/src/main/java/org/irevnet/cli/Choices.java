package org.irevnet.cli;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.irevnet.analysis.Stability;
import org.irevnet.cnf.ToyDensity;
import org.irevnet.data.Shortcut;
import org.irevnet.train.IceConfig;
import org.irevnet.train.TrainConfig;
import org.irevnet.vae.Flows;

/**
 * The closed sets of words options take, as picocli's {@code completionCandidates}: the command's
 * own check reads the same list (the constants here, or the irevnet module's for the sets a config
 * file can also give, checked there), and DocumentedCommandsTest checks the values of the
 * documented examples against them. With a second list written by hand for the check, a misspelt
 * value in the README passed every test.
 */
abstract class Choices implements Iterable<String> {
  /** The sets only the command line takes; the others are the irevnet module's. */
  static final List<String> CHECKPOINTS = List.of("best", "latest"), EVAL_SPLITS = List.of("test", "train"),
      ATTACKS = List.of("fgsm", "pgd-linf", "pgd-l2", "metamer", "feature-match"),
      ATTACK_LOSSES = List.of("ce", "margin"), SOLVERS = List.of("rk4", "dopri5"),
      BENCH_BACKWARDS = Stream.concat(TrainConfig.BACKWARDS.stream(), Stream.of("both")).toList();

  private final List<String> words;

  Choices(List<String> words) {
    this.words = words;
  }

  @Override
  public Iterator<String> iterator() {
    return words.iterator();
  }

  // One class per set, each named after its option: picocli makes the candidates from a class.
  static final class Checkpoint extends Choices { Checkpoint() { super(CHECKPOINTS); } }
  static final class EvalSplit extends Choices { EvalSplit() { super(EVAL_SPLITS); } }
  static final class Attack extends Choices { Attack() { super(ATTACKS); } }
  static final class AttackLoss extends Choices { AttackLoss() { super(ATTACK_LOSSES); } }
  static final class Solver extends Choices { Solver() { super(SOLVERS); } }
  static final class StabilityMethod extends Choices { StabilityMethod() { super(Stability.Method.ids()); } }
  static final class BenchBackward extends Choices { BenchBackward() { super(BENCH_BACKWARDS); } }
  static final class Backward extends Choices { Backward() { super(TrainConfig.BACKWARDS); } }
  static final class Schedule extends Choices { Schedule() { super(TrainConfig.SCHEDULES); } }
  static final class Objective extends Choices { Objective() { super(TrainConfig.OBJECTIVES); } }
  static final class NuisanceForm extends Choices { NuisanceForm() { super(IceConfig.NUISANCE_FORMS); } }
  static final class Flow extends Choices { Flow() { super(Flows.NAMES); } }
  static final class ShortcutKind extends Choices { ShortcutKind() { super(Shortcut.Kind.ids()); } }
  static final class CnfTarget extends Choices { CnfTarget() { super(ToyDensity.ids()); } }
}
