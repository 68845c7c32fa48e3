package org.irevnet.attacks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.testing.Layouts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The attacks' Java entry points on images of every {@link Layouts} layout: each gives exactly
 * what it gives on the dense copy and leaves the images as they were (the models' own entry
 * points: {@code ClassifierLayoutsTest}).
 */
class AttacksLayoutsTest {
  private static final InvertibleClassifier MODEL = TinyModels.fiRevnet(DataType.FLOAT, 1);
  /**
   * Each attack's results on the dense copies, computed once: every layout but {@code BROADCAST}
   * holds the same values, so their dense copies are the same arrays bit for bit.
   */
  private static final Map<String, List<INDArray>> ON_DENSE_COPIES = new HashMap<>();

  @ParameterizedTest
  @EnumSource(value = Layouts.class, mode = EnumSource.Mode.EXCLUDE, names = "DENSE")
  void everyAttackGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(Layouts layout) {
    InvertibleClassifier m = MODEL;
    INDArray mask = TinyModels.mask(m);
    int[] y = TinyModels.labels(3, 3);
    INDArray a = layout.of(TinyModels.images(3, DataType.FLOAT, 2)), b = layout.of(TinyModels.images(3, DataType.FLOAT, 8));
    // Each attack of (a, b) with objects of its own (an FGSM keeps its last gradient), its results as arrays.
    Map<String, Function<INDArray[], List<INDArray>>> attacks = new LinkedHashMap<>();
    attacks.put("InputGradient.classification", in -> {
      InputGradient.Step s = new InputGradient(m).classification(InputGradient.Loss.MARGIN, in[0], y);
      return List.of(s.output(), s.grad());
    });
    attacks.put("Fgsm", in -> List.of(new Fgsm(new InputGradient(m), mask, InputGradient.Loss.CE, false).perturb(in[0], y, 0.1)));
    attacks.put("Pgd L2 from a random start", in -> List.of(new Pgd(new InputGradient(m), mask, Norm.L2,
        InputGradient.Loss.CE, 2, 0.05, true, true, 7).perturb(in[0], y, 0.1)));
    attacks.put("FeatureMatch", in -> List.of(new FeatureMatch(new InputGradient(m), 1, mask, 2, Double.NaN)
        .perturb(in[0], in[1], 0.1)));
    attacks.put("Robustness.logits in batches", in -> List.of(Robustness.logits(m, in[0], 2)));
    attacks.put("Robustness.run in batches", in -> {
      Fgsm fgsm = new Fgsm(new InputGradient(m), mask, InputGradient.Loss.CE, false);
      Robustness.Sweep s = Robustness.run(m, in[0], y, new double[] {0.1}, 2,
          (xb, from, to, e) -> fgsm.perturb(xb, Arrays.copyOfRange(y, from, to), e));
      List<INDArray> r = new ArrayList<>(Arrays.asList(s.rawAdversarial()));
      r.addAll(Arrays.asList(s.adversarial()));
      return r;
    });
    attacks.forEach((name, attack) -> Layouts.assertSameAsOnDenseCopies(name, new INDArray[] {a, b}, attack,
        dense -> ON_DENSE_COPIES.computeIfAbsent((layout == Layouts.BROADCAST ? "broadcast " : "") + name,
            k -> attack.apply(dense))));
  }
}
