package org.irevnet.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.irevnet.check.Numerics;
import org.irevnet.data.Dataset;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ReadoutHead;
import org.irevnet.testing.Layouts;
import org.irevnet.testing.ParamGradients;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The objectives' Java entry points on arrays of every {@link Layouts} layout (logits and {@code
 * z} as {@code [n, d]} matrices, a forward pass whose output is a view, the readout head's
 * {@code dL/dlogits}): each gives exactly what it gives on the dense copy, parameter gradients
 * included, and leaves its inputs as they were (the models' own entry points: {@code
 * ClassifierLayoutsTest}).
 */
class TrainLayoutsTest {
  private static final DataType F64 = DataType.DOUBLE;

  @ParameterizedTest
  @EnumSource(value = Layouts.class, mode = EnumSource.Mode.EXCLUDE, names = "DENSE")
  void everyObjectiveGivesOnAnyLayoutWhatItGivesOnTheDenseCopy(Layouts layout) {
    int[] labels = {3, 0, 9, 3, 1, 7};
    INDArray logits = layout.of(Numerics.normal(F64, 1, 6, 10).muli(3));
    INDArray targets = layout.of(Transforms.softmax(Numerics.normal(F64, 2, 6, 10)));
    INDArray zn = layout.of(Numerics.normal(F64, 3, 6, 54));
    INDArray logDet = layout.of(Numerics.normal(F64, 4, 6, 1)).reshape(6);
    IceObjectiveTest.Setup ice = IceObjectiveTest.setup(IceObjectiveTest.config(1.5, 0.5, "bounded", null, 2, 4, true));
    INDArray out = layout.of(ice.model().forward(ice.x().dup(), true).out());
    ReadoutHead head = new ReadoutHead(4, 10, F64, new Random(5));
    INDArray features = layout.of(Numerics.normal(F64, 6, 6, 4, 3, 3));
    INDArray dLogits = layout.of(Numerics.normal(F64, 7, 6, 10));
    // Each entry point of the arrays above, its results as arrays (numbers as scalars).
    Map<String, Function<INDArray[], List<INDArray>>> entries = new LinkedHashMap<>();
    entries.put("Losses.logSoftmax", in -> List.of(Losses.logSoftmax(in[0])));
    entries.put("Losses.softmaxCrossEntropy by labels", in -> lossGrad(Losses.softmaxCrossEntropy(in[0], labels)));
    entries.put("Losses.softmaxCrossEntropy by targets", in -> lossGrad(Losses.softmaxCrossEntropy(in[0], in[1])));
    entries.put("Losses.predictions", in -> List.of(Nd4j.createFromArray(Losses.predictions(in[0]))));
    entries.put("GaussianPrior.nll and its parameter gradients", in -> {
      GaussianPrior prior = new GaussianPrior(54, F64);
      prior.params().entries().values().forEach(p -> p.set(Numerics.normal(F64, 8, p.value().shape())));
      GaussianPrior.Nll nll = prior.nll(in[2], in[3], 64, 0.5, true);
      List<INDArray> r = new ArrayList<>(List.of(Nd4j.scalar(nll.natsPerDim()), nll.dzn(), nll.dLogDet()));
      r.addAll(ParamGradients.copy(prior.params()).values());
      return r;
    });
    entries.put("IceObjective.step on a forward pass whose output is a view", in -> {
      IceObjectiveTest.Setup s = IceObjectiveTest.setup(IceObjectiveTest.config(1.5, 0.5, "bounded", null, 2, 4, true));
      InvertibleClassifier.Forward dense = s.model().forward(s.x().dup(), true);
      InvertibleClassifier.Forward f = new InvertibleClassifier.Forward(in[4], dense.logDet(), dense.logits(),
          dense.headTape(), dense.bodyTapes());
      s.model().params().zeroGrad();
      IceObjective.Terms t = s.obj().step(s.model(), f, s.labels(), 0);
      List<INDArray> r = new ArrayList<>(List.of(Nd4j.createFromArray(t.ce(), t.nuisanceCe(), t.nuisanceLoss(),
          t.nllBitsPerDim(), t.loss(), t.znMaxAbs())));
      r.addAll(ParamGradients.copy(s.model().params()).values());
      r.addAll(ParamGradients.copy(s.obj().prior().params()).values());
      return r;
    });
    entries.put("Density.nll on a forward pass whose output is a view", in -> {
      InvertibleClassifier m = ice.model();
      InvertibleClassifier.Forward dense = m.forward(ice.x().dup(), true);
      InvertibleClassifier.Forward f = new InvertibleClassifier.Forward(in[4], dense.logDet(), dense.logits(),
          dense.headTape(), dense.bodyTapes());
      m.params().zeroGrad();
      Density.Step step = new Density(m, 64).nll(f, true);
      List<INDArray> r = new ArrayList<>(List.of(Nd4j.createFromArray(step.natsPerDim(), step.bitsPerDim())));
      r.addAll(ParamGradients.copy(m.params()).values());
      m.params().zeroGrad();
      return r;
    });
    entries.put("Density.reencodeError of samples given as a view", in -> {
      Density d = new Density(ice.model(), 64);
      Density.Samples s = d.sample(6, 0.5, 9);
      return List.of(Nd4j.scalar(d.reencodeError(new Density.Samples(s.z(), layout.of(s.x())))));
    });
    entries.put("ReadoutHead.forward and backward in training", in -> {
      ReadoutHead h = new ReadoutHead(4, 10, F64, new Random(5));
      ReadoutHead.Tape[] tape = new ReadoutHead.Tape[1];
      INDArray y = h.forward(in[5], true, tape);
      INDArray dx = h.backward(tape[0], in[6]);
      List<INDArray> r = new ArrayList<>(List.of(y, dx));
      r.addAll(ParamGradients.copy(h.params()).values());
      return r;
    });
    entries.put("Evaluation.evaluate of a split whose images are a view, in batches", in -> {
      Evaluation.Result r = Evaluation.evaluate(ice.model(), new Dataset("test", in[7], labels,
          List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), 4, "test");
      return List.of(Nd4j.createFromArray(r.count(), r.accuracy(), r.loss()), 
          // A class without images has NaN accuracy, which no difference compares.
          Nd4j.createFromArray(java.util.Arrays.stream(r.perClassAccuracy()).map(v -> Double.isNaN(v) ? -1 : v).toArray()));
    });
    entries.put("Density.evaluate of a split whose images are a view, in batches", in -> {
      Density.Eval r = new Density(ice.model(), 64).evaluate(new Dataset("test", in[7], labels,
          List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), 4, 3);
      return List.of(Nd4j.createFromArray(r.natsPerDim(), r.bitsPerDim()));
    });
    INDArray images = layout.of(ice.x().castTo(DataType.FLOAT));
    INDArray[] given = {logits, targets, zn, logDet, out, features, dLogits, images};
    entries.forEach((name, entry) -> Layouts.assertSameAsOnDenseCopies(name, given, entry));
  }

  private static List<INDArray> lossGrad(Losses.LossGrad g) {
    return List.of(Nd4j.scalar(g.loss()), g.grad());
  }
}
