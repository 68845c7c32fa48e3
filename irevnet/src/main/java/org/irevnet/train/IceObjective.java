package org.irevnet.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.irevnet.data.Dataset;
import org.irevnet.data.Preprocess;
import org.irevnet.data.Seeds;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.nn.BlockWorkspace;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Independence cross-entropy (DESIGN.md section 4) for a fully invertible classifier with {@code z
 * = (z_s, z_n)}, {@code z_s = z[0:C]}:
 *
 * <pre>L = CE(z_s, y) + w_nc(step) * L_nuis + w_mle * L_mle</pre>
 *
 * <ul>
 *   <li>{@code L_nuis}, averaged over an ensemble of adversaries {@code D_nc} ({@link
 *       NuisanceClassifier}) that see {@code z_n} (optionally standardised with the batch's
 *       statistics, or whitened with running statistics: {@link IceConfig#advWhiten}): {@code
 *       bounded} = {@code CE(D_nc(z_n), uniform)}; {@code paper} = {@code -min(CE(D_nc(z_n), y),
 *       cap)} per sample.
 *   <li>{@code L_mle}: {@link GaussianPrior#nll}.
 * </ul>
 *
 * A model step ({@link #step}) first re-initialises adversaries that are due, trains every
 * adversary {@code k} times on the batch's detached {@code z_n} (or on batches drawn from a replay
 * buffer of recent ones; their parameters move only there), then computes the model's loss against the updated adversaries and runs the model's
 * reversible backward pass with {@code dL/dz} (nuisance and MLE terms) and {@code dL/dlogdet}. The
 * prior's parameters get their gradients in the same pass and move in {@link #stepPrior}, with
 * the model. All state (adversaries and prior with their Adam states, replay buffer, whitening
 * statistics) is in {@link #state()}, and
 * re-initialisation is seeded by (seed, adversary, step), so a resumed run is exact.
 */
public final class IceObjective {
  private static final double STD_EPS = 1e-5;
  private static final long REINIT = 0x5245494e4954L; // "REINIT"
  private static final long REPLAY = 0x5245504c4159L; // "REPLAY"
  /** advWhiten: the running statistics' decay once this many batches (1 / (1 - decay)) were averaged exactly. */
  static final double WHITEN_DECAY = 0.99;
  /** advWhiten: mu and W are refreshed at every step before this one (the estimate is young), then every 25th. */
  static final long WHITEN_WARMUP = 50, WHITEN_EVERY = 25;
  /**
   * advWhiten: eps of {@code W = V diag((lambda + eps)^-1/2) V^T}, this share of the largest
   * eigenvalue (the share below which the probe's Features.Whitener drops an axis).
   */
  static final double WHITEN_RELATIVE_EPS = 1e-8;
  private final IceConfig cfg;
  private final int classes;
  private final double paperCap;
  private final long zDims;
  private final long seed;
  private final List<NuisanceClassifier> adversaries = new ArrayList<>();
  private final GaussianPrior prior;
  private final AdamOptimizer priorAdam;
  /** The last {@code advReplay} batches' adversary inputs and labels, oldest first. */
  private final List<INDArray> replayX = new ArrayList<>();
  private final List<int[]> replayY = new ArrayList<>();
  /**
   * advWhiten (float64, else null): the running mean {@code [1, d]} and covariance {@code [d, d]} of
   * the raw {@code z_n}, and the centre {@code mu} and ZCA matrix {@code W} last computed from them.
   */
  private INDArray runMean, runCov, whitenMean, whitenMatrix;

  /**
   * One batch's terms (batch means). {@code nllBitsPerDim} is NaN when the MLE term is off. {@code
   * znMaxAbs} is the largest {@code |z_n|} in the batch: without the MLE term nothing bounds it
   * (README, iCE experiments).
   */
  public record Terms(double ce, double nuisanceCe, double adversaryAccuracy, double nuisanceLoss,
      double nllBitsPerDim, double wNc, double loss, double znMaxAbs) {}

  /** The adversaries' accuracy and the NLL on a whole split. */
  public record Eval(double adversaryAccuracy, double nllBitsPerDim) {}

  /**
   * @param zDims entries of {@code z} per sample (the input size for a bijective model)
   */
  public IceObjective(IceConfig cfg, int classes, long zDims, DataType dt, long seed, double lr) {
    this.cfg = cfg.validate();
    this.classes = classes;
    this.paperCap = cfg.paperCapFor(classes);
    this.zDims = zDims;
    this.seed = seed;
    int zn = Math.toIntExact(zDims - classes);
    for (int j = 0; j < cfg.adversaries(); j++) {
      adversaries.add(new NuisanceClassifier(zn, cfg.advHidden(), classes, dt, cfg.advLr(), reinitRng(j, 0)));
    }
    prior = new GaussianPrior(zn, dt);
    priorAdam = new AdamOptimizer(prior.params(), lr);
  }

  /** The objective for a fully invertible model. */
  public static IceObjective forModel(IceConfig cfg, InvertibleClassifier model, long seed, double lr) {
    model.architecture().requireFullyInvertible("iCE");
    if (cfg.wMle() > 0 && !model.isBijective()) {
      // z has more dimensions than the input, and the log-det leaves out the padded ones.
      throw new IllegalArgumentException("architecture '" + model.architecture().name() + "' is injective (it pads "
          + "zero channels), so iCE's MLE term has no density to fit; use --w-mle 0 or a bijective architecture");
    }
    long[] out = model.body().outputShape(model.inputShape(1));
    return new IceObjective(cfg, model.numClasses(), out[1] * out[2] * out[3], model.dataType(), seed, lr);
  }

  private Random reinitRng(int adversary, long step) {
    return new Random(Seeds.mix(seed, REINIT + adversary, step));
  }

  /**
   * One model step's objective work: re-initialisation, {@code k} adversary updates, then the
   * model's gradients (accumulated by {@code model.backward}) and the prior's. Does not update
   * the model or the prior.
   */
  public Terms step(InvertibleClassifier model, InvertibleClassifier.Forward f, int[] labels, long step) {
    int r = cfg.advReinitEvery();
    for (int j = 0; j < adversaries.size(); j++) {
      if (r > 0 && step > 0 && (step + (long) j * r / adversaries.size()) % r == 0) {
        adversaries.get(j).reinitialize(reinitRng(j, step));
      }
    }
    INDArray zn = nuisance(f.z());
    if (cfg.advWhiten()) updateWhitening(zn, step);
    AdversaryInput in = adversaryInput(zn);
    INDArray x = in.x();
    if (cfg.advReplay() > 0) {
      replayX.add(x);
      replayY.add(labels.clone());
      if (replayX.size() > cfg.advReplay()) {
        Tensors.free(replayX.remove(0), null); // held nowhere else: state() copies
        replayY.remove(0);
      }
    }
    Random pick = new Random(Seeds.mix(seed, REPLAY, step));
    for (int s = 0; s < cfg.advSteps(); s++) {
      for (NuisanceClassifier a : adversaries) {
        if (cfg.advReplay() == 0) {
          a.trainStep(x, labels);
        } else {
          int i = pick.nextInt(replayX.size());
          a.trainStep(replayX.get(i), replayY.get(i));
        }
      }
    }
    Terms terms = terms(model, f, labels, zn, in, cfg.wNcAt(step), true);
    // Freed now, not at the next collection (the trainer's comes every 20 steps): z_n's copy and
    // what the adversaries saw, unless the replay buffer keeps it (z_n itself when not standardised).
    if (cfg.advReplay() == 0) Tensors.free(x, zn);
    if (cfg.advReplay() == 0 || x != zn) Tensors.free(zn, null);
    return terms;
  }

  /** The loss of the current model, adversaries and prior, without gradients (for checks). */
  Terms loss(InvertibleClassifier model, InvertibleClassifier.Forward f, int[] labels, long step) {
    INDArray zn = nuisance(f.z());
    return terms(model, f, labels, zn, adversaryInput(zn), cfg.wNcAt(step), false);
  }

  /** The terms on {@code zn = z_n} and what the adversaries see of it, {@code in}. */
  private Terms terms(InvertibleClassifier model, InvertibleClassifier.Forward f, int[] labels, INDArray zn,
      AdversaryInput in, double wNc, boolean backward) {
    long n = labels.length;
    Losses.LossGrad ce = Losses.softmaxCrossEntropy(f.logits(), labels);
    INDArray x = in.x();
    INDArray onehot = org.irevnet.nn.Tensors.oneHot(labels, classes, zn.dataType());
    double nuisCe = 0, advAcc = 0, nuisLoss = 0;
    INDArray dx = backward ? Nd4j.zeros(zn.dataType(), zn.shape()) : null;
    for (NuisanceClassifier a : adversaries) {
      // In a reused workspace (BlockWorkspace): only the scalars and dx's sum outlive the pass. Left
      // to the collector, an adversary's arrays came to 1.3 MB a model step at fi-revnet-s's 1,014
      // nuisance dimensions and width 512.
      double[] v = BlockWorkspace.run(() -> adversaryTerms(a, x, onehot, labels, dx), r -> r);
      nuisCe += v[0];
      advAcc += v[1];
      nuisLoss += v[2];
    }
    int m = adversaries.size();
    nuisCe /= m;
    advAcc /= m;
    nuisLoss /= m;
    double loss = ce.loss() + wNc * nuisLoss;
    double bits = Double.NaN;
    INDArray dzn = null, dLogDet = null;
    if (backward) {
      dx.muli(wNc / m);
      dzn = in.backward().apply(dx);
      Tensors.free(dx, dzn); // dzn is dx itself when the adversaries see z_n as it is
    }
    if (cfg.wMle() > 0) {
      GaussianPrior.Nll nll = prior.nll(zn, f.logDet(), zDims, cfg.wMle(), backward);
      bits = nll.bitsPerDim();
      loss += cfg.wMle() * nll.natsPerDim();
      if (backward) {
        dzn.addi(nll.dzn());
        dLogDet = nll.dLogDet();
      }
      Tensors.free(nll.dzn(), null);
    }
    // A loss that is not finite skips the model's backward pass, as Density.nll does: its gradients
    // would be too, and the block-wise Adam would stop training on "a gradient of block N is not
    // finite" instead of the trainer reporting the loss and the forward pass that overflowed.
    if (backward && Double.isFinite(loss)) {
      INDArray dz = Nd4j.zeros(zn.dataType(), n, zDims);
      dz.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, zDims)).assign(dzn);
      model.backward(f, ce.grad(), dz, dLogDet);
      Tensors.free(dz, null);
    }
    Tensors.free(dzn, null);
    return new Terms(ce.loss(), nuisCe, advAcc, nuisLoss, bits, wNc, loss, Tensors.maxAbs(zn));
  }

  /**
   * One adversary's nuisance cross-entropy, accuracy and nuisance loss on {@code x}; its {@code
   * dL/dx} (unweighted) added to {@code dx} when that is not null.
   */
  private double[] adversaryTerms(NuisanceClassifier a, INDArray x, INDArray onehot, int[] labels, INDArray dx) {
    long n = labels.length;
    NuisanceClassifier.Tape t = a.forward(x);
    INDArray logp = Losses.logSoftmax(t.logits());
    INDArray ceRows = logp.mul(onehot).sum(1).negi();
    double nuisCe = ceRows.sumNumber().doubleValue() / n, advAcc = Losses.accuracy(t.logits(), labels), nuisLoss;
    INDArray dLogits;
    if ("bounded".equals(cfg.nuisanceForm())) {
      nuisLoss = -logp.sumNumber().doubleValue() / (n * classes);
      dLogits = Transforms.exp(logp, true).subi(1.0 / classes).divi(n);
    } else {
      INDArray active = ceRows.lt(paperCap).castTo(x.dataType()).reshape(n, 1);
      nuisLoss = -Transforms.min(ceRows, paperCap, true).sumNumber().doubleValue() / n;
      dLogits = Transforms.exp(logp, true).subi(onehot).divi(-n).muli(active);
    }
    if (dx != null) dx.addi(a.inputGradient(t, dLogits));
    return new double[] {nuisCe, advAcc, nuisLoss};
  }

  private INDArray nuisance(INDArray z) {
    return z.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, zDims)).dup('c');
  }

  /** What the adversaries see of {@code z_n}, and the way from its gradient back to {@code z_n}'s. */
  private record AdversaryInput(INDArray x, UnaryOperator<INDArray> backward) {}

  /**
   * {@code z_n} whitened ({@link IceConfig#advWhiten}: {@code mu} and {@code W} are constants of the
   * step), standardised with its own statistics, or as it is: made once per step, for the
   * adversaries' updates and the terms alike.
   */
  private AdversaryInput adversaryInput(INDArray zn) {
    if (cfg.advWhiten()) return new AdversaryInput(whiten(zn), this::whitenBackward);
    if (!cfg.advStandardize()) return new AdversaryInput(zn, UnaryOperator.identity());
    Standardized std = standardize(zn);
    return new AdversaryInput(std.x(), std::backward);
  }

  /**
   * Adds the batch's raw {@code z_n} (detached) to the running mean and covariance, as the exact
   * mixture of their distributions: the mean of the first 100 batches' alike, then each new
   * batch's at weight {@code 1 - WHITEN_DECAY}; then refreshes {@code mu} and {@code W} when due.
   * {@code step} counts batches from 0 (a resumed run continues it), so the weights need no state.
   */
  private void updateWhitening(INDArray zn, long step) {
    INDArray z = zn.castTo(DataType.DOUBLE);
    INDArray batchMean = z.mean(true, 0);
    INDArray centred = z.sub(batchMean);
    INDArray batchCov = Nd4j.gemm(centred, centred, true, false).divi(z.size(0));
    double keep = runMean == null ? 0 : Math.min(WHITEN_DECAY, step / (step + 1.0));
    if (keep == 0) {
      runMean = batchMean;
      runCov = batchCov;
    } else {
      // Mixture of (runMean, runCov) at weight keep and the batch's at 1 - keep: the spread of the
      // two means adds keep (1 - keep) d d^T. In place, and the d x d temporaries freed: a step made
      // three of them (8 MB each on fi-revnet-s) for the collector.
      INDArray d = batchMean.sub(runMean);
      INDArray spread = Nd4j.gemm(d, d, true, false).muli(keep * (1 - keep));
      runCov.muli(keep).addi(batchCov.muli(1 - keep)).addi(spread);
      runMean.muli(keep).addi(batchMean.muli(1 - keep));
      Tensors.freeAll(spread, batchCov);
    }
    Tensors.free(centred, null);
    Tensors.free(z, zn);
    if (whitenMatrix == null || step < WHITEN_WARMUP || step % WHITEN_EVERY == 0) {
      whitenMean = runMean.dup();
      whitenMatrix = zca(runCov);
    }
  }

  /** {@code W = V diag((lambda + eps)^-1/2) V^T} of a covariance, eigenvalues below 0 (rounding) read as 0. */
  static INDArray zca(INDArray cov) {
    INDArray vectors = cov.castTo(DataType.DOUBLE).dup('f');
    // LAPACK syev: ascending eigenvalues, the matrix overwritten by the eigenvectors (columns).
    double[] values = Eigen.symmetricGeneralizedEigenvalues(vectors, true).reshape(-1).toDoubleVector();
    double eps = WHITEN_RELATIVE_EPS * Math.max(values[values.length - 1], Double.MIN_NORMAL);
    double[] scale = new double[values.length];
    for (int j = 0; j < values.length; j++) scale[j] = 1 / Math.sqrt(Math.max(values[j], 0) + eps);
    INDArray scaled = vectors.mulRowVector(Nd4j.createFromArray(scale));
    return Nd4j.gemm(scaled, vectors, false, true);
  }

  /** {@code (z_n - mu) W} in {@code z_n}'s data type. */
  private INDArray whiten(INDArray zn) {
    if (whitenMatrix == null) throw new IllegalStateException("advWhiten: no whitening before the first training step");
    INDArray wide = zn.castTo(DataType.DOUBLE), centred = wide.sub(whitenMean);
    INDArray product = Nd4j.gemm(centred, whitenMatrix, false, false), x = product.castTo(zn.dataType());
    Tensors.free(wide, zn);
    Tensors.free(centred, null);
    Tensors.free(product, x);
    return x;
  }

  /** {@code dz_n = dx W^T}: mu and W are constants of the model's step. */
  private INDArray whitenBackward(INDArray dx) {
    INDArray wide = dx.castTo(DataType.DOUBLE), product = Nd4j.gemm(wide, whitenMatrix, false, true);
    INDArray dzn = product.castTo(dx.dataType());
    Tensors.free(wide, dx);
    Tensors.free(product, dzn);
    return dzn;
  }

  /** Per-dimension batch standardisation and its backward pass (as batch norm without affine). */
  private record Standardized(INDArray x, INDArray invStd) {
    INDArray backward(INDArray g) {
      INDArray meanG = g.mean(true, 0);
      INDArray gx = g.mul(x), meanGx = gx.mean(true, 0), xMeanGx = x.mul(meanGx);
      INDArray dzn = g.sub(meanG).subi(xMeanGx).muli(invStd);
      Tensors.freeAll(gx, xMeanGx); // each z_n's size
      return dzn;
    }
  }

  private static Standardized standardize(INDArray zn) {
    INDArray mean = zn.mean(true, 0);
    INDArray centred = zn.sub(mean), squares = centred.mul(centred);
    INDArray invStd = Transforms.pow(squares.mean(true, 0).addi(STD_EPS), -0.5, false);
    Tensors.free(squares, null); // z_n's size
    return new Standardized(centred.muli(invStd), invStd);
  }

  /** The prior's flat gradient buffer (checked for finiteness with the model's). */
  public INDArray priorGradients() {
    return priorAdam.gradients();
  }

  /** Updates the prior from its accumulated gradients (with the model, at the model's rate). */
  public void stepPrior(double lr) {
    priorAdam.setLearningRate(lr);
    priorAdam.step();
  }

  /**
   * The adversaries' accuracy and the NLL (when the MLE term is on) on a split, in evaluation
   * batches. With the MLE term on, the images get the dequantisation noise training gives them
   * (drawn from {@link Density#EVAL_SEED}, as {@link Density#evaluate}): the bound's "+ 8" bits
   * average the density over each pixel's cell, and on noise-free pixels, the padding's exact
   * zeros above all, it would be read at the cell's corner instead. The adversaries see {@code
   * z_n} standardised with the whole split's statistics (as batch norm at inference), so the
   * accuracy does not depend on {@code batch}. With {@link IceConfig#advWhiten} they see {@code
   * (z_n - mu) W} with the {@code mu} and {@code W} of the last training step instead.
   */
  public Eval evaluate(InvertibleClassifier model, Dataset data, int batch) {
    int n = data.size();
    INDArray images = cfg.wMle() > 0 ? Preprocess.dequantize(data.images(), Density.EVAL_SEED) : data.images();
    // Every array the evaluation makes is freed once used, not left to the collector: 62 KB an
    // image at fi-revnet-s, 62 MB at once for fashion-mnist-mini's 1,000 test images at the end of
    // an epoch. The model's results are new arrays for the caller (Sequential copies its chain's
    // out of its blocks' workspaces).
    if (n == 0) throw new IllegalArgumentException("iCE evaluation: " + data.name() + " has no images");
    double[] nats = {0};
    INDArray zn = Tensors.batched(rows -> {
      INDArray x = rows.castTo(model.dataType());
      InvertibleClassifier.Forward f = model.forward(x, false);
      INDArray part = nuisance(f.z());
      if (cfg.wMle() > 0) nats[0] += prior.natsPerDim(part, f.logDet(), zDims) * x.size(0);
      f.free();
      Tensors.free(x, rows);
      return part;
    }, images, batch);
    Tensors.free(images, data.images());
    INDArray in = adversaryInput(zn).x();
    double correct = 0;
    for (NuisanceClassifier a : adversaries) {
      NuisanceClassifier.Tape t = a.forward(in);
      correct += Losses.accuracy(t.logits(), data.labels()) * n;
      Tensors.freeAll(t.hidden(), t.logits());
    }
    Tensors.free(in, zn);
    Tensors.free(zn, null);
    double bits = cfg.wMle() > 0 ? nats[0] / n / Math.log(2) + 8 : Double.NaN;
    return new Eval(correct / adversaries.size() / n, bits);
  }

  /**
   * Adversaries and prior with their Adam states, the replay buffer and, with advWhiten after the
   * first step, the whitening's statistics, by name ({@code adv.J.*}, {@code prior.*}, {@code
   * replay.I.x|y}, {@code whiten.run_mean|run_cov|mean|matrix}).
   */
  public Map<String, INDArray> state() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    for (int j = 0; j < adversaries.size(); j++) {
      int jj = j;
      adversaries.get(j).state().forEach((k, v) -> m.put("adv." + jj + "." + k, v));
    }
    prior.params().state().forEach((k, v) -> m.put("prior." + k, v));
    priorAdam.state().forEach((k, v) -> m.put("prior." + k, v));
    for (int i = 0; i < replayX.size(); i++) {
      m.put("replay." + i + ".x", replayX.get(i).dup());
      m.put("replay." + i + ".y", Nd4j.createFromArray(replayY.get(i)));
    }
    if (whitenMatrix != null) {
      m.put("whiten.run_mean", runMean.dup());
      m.put("whiten.run_cov", runCov.dup());
      m.put("whiten.mean", whitenMean.dup());
      m.put("whiten.matrix", whitenMatrix.dup());
    }
    return m;
  }

  /** Loads {@link #state()}; every entry must be present with its shape. */
  public void loadState(Map<String, INDArray> m) {
    for (int j = 0; j < adversaries.size(); j++) {
      Checkpoints.naming("adv." + j + ".*: ", adversaries.get(j)::loadState, prefixed(m, "adv." + j + "."));
    }
    Map<String, INDArray> p = prefixed(m, "prior.");
    Map<String, INDArray> opt = new LinkedHashMap<>();
    for (String k : List.copyOf(p.keySet())) if (k.startsWith("adam.")) opt.put(k, p.remove(k));
    // "missing parameter gamma" or "parameter fc0.weight has shape ..." did not say of which part.
    Checkpoints.naming("prior.*: ", prior.params()::load, p);
    Checkpoints.naming("prior.*: ", priorAdam::loadState, opt);
    replayX.clear();
    replayY.clear();
    for (int i = 0; m.containsKey("replay." + i + ".x"); i++) {
      replayX.add(m.get("replay." + i + ".x").dup());
      replayY.add(m.get("replay." + i + ".y").toIntVector());
    }
    // Absent before the first step (nothing seen yet); present with advWhiten off they are refused,
    // as would be any other state of a run under other settings.
    boolean whitened = m.containsKey("whiten.matrix");
    if (whitened && !cfg.advWhiten()) {
      throw new IllegalArgumentException("objective state has whitening statistics (whiten.*) but advWhiten is off");
    }
    runMean = runCov = whitenMean = whitenMatrix = null;
    if (whitened) {
      long d = zDims - classes;
      runMean = whitenEntry(m, "whiten.run_mean", 1, d);
      runCov = whitenEntry(m, "whiten.run_cov", d, d);
      whitenMean = whitenEntry(m, "whiten.mean", 1, d);
      whitenMatrix = whitenEntry(m, "whiten.matrix", d, d);
    }
  }

  private static INDArray whitenEntry(Map<String, INDArray> m, String key, long rows, long cols) {
    INDArray v = m.get(key);
    if (v == null) throw new IllegalArgumentException("objective state has no entry " + key);
    if (v.rank() != 2 || v.size(0) != rows || v.size(1) != cols) {
      throw new IllegalArgumentException("objective state's " + key + " has shape "
          + java.util.Arrays.toString(v.shape()) + ", expected [" + rows + ", " + cols + "]");
    }
    return v.castTo(DataType.DOUBLE).dup('c');
  }

  private static Map<String, INDArray> prefixed(Map<String, INDArray> m, String prefix) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    m.forEach((k, v) -> {
      if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
    });
    if (out.isEmpty()) throw new IllegalArgumentException("objective state has no entries " + prefix + "*");
    return out;
  }

  /** The adversaries (for tests). */
  List<NuisanceClassifier> adversaries() {
    return adversaries;
  }

  GaussianPrior prior() {
    return prior;
  }
}
