package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.irevnet.attacks.Norm;
import org.irevnet.attacks.Robustness;
import org.irevnet.nn.Tensors;
import org.irevnet.stats.Proportions;
import org.irevnet.train.Losses;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@code attack-<name>.json}: one attack on a trained run, in one shape for perturbation attacks
 * (FGSM, PGD) and invariance attacks (metamer, feature-match). {@code curve} has one point per
 * epsilon (one point with {@code eps = null} for the metameric attack, which has no radius).
 * Perturbations are measured from the attacked image: the clean image, or the nuisance/start
 * image {@code b} of an invariance attack. Fields that do not apply to an attack are null.
 *
 * @param attack {@code fgsm}, {@code pgd-linf}, {@code pgd-l2}, {@code metamer} or {@code feature-match}
 * @param norm the threat model's norm ({@code linf} or {@code l2}), null for the metameric attack
 * @param loss the loss FGSM and PGD ascend ({@code ce} or {@code margin}), null for invariance attacks
 * @param targeted how targets were chosen ({@code next}, {@code random} or a class), null if untargeted
 * @param multiTargeted PGD only: whether the images the untargeted attack left correct were then
 *     attacked towards each wrong class in turn (an image counts as broken when misclassified)
 * @param layer the stage (or probed layer of a DL4J network) whose representation {@code feature-match} matches
 * @param layerName its name ({@code stage<i>}, or the network's layer name)
 * @param batch {@code --batch}, the images attacked at a time: PGD's random starts are drawn batch
 *     by batch, so with {@code random_start} the numbers depend on it
 * @param cleanAccuracy the model's accuracy on the attacked (clean) images; {@code clean_accuracy_ci95}
 *     its 95% Wilson interval over the {@code count} images ({@link #cleanAccuracyCi95()})
 * @param monotone whether {@code accuracy} is non-increasing in epsilon
 * @param sanity the epsilon-0 check; null for the metameric attack (its check is the logit invariant)
 * @param maxLogitAbsDiff metamer only: max |logits(x_met) - z_s(a)|, in float32, or in float64 where float32
 *     missed 1e-4 (the invariant holds within 1e-4 or up to rounding: {@code MetamerSampler.invariantHolds}):
 *     {@code maxLogitAbsDiffF32} where {@code float32Holds}, else {@code maxLogitAbsDiffF64}
 * @param maxLogitAbsDiffF32 metamer only: the same in float32, of the metamers whose classes, norms
 *     and distances the curve gives; absent for the other attacks and in files from before it
 * @param maxLogitAbsDiffF64 metamer only: the same of the pairs sampled again in float64, which is
 *     done only where float32 missed 1e-4; absent otherwise
 * @param float32Holds metamer only: whether {@code maxLogitAbsDiffF32} is within 1e-4, as {@code
 *     float32_holds} in {@code metamers.json}. False is no failed check (the metamers lie so far
 *     outside the images' range that float32 cannot hold them; the report notes it), but the
 *     curve's numbers are then of metamers whose logits are not a's. Absent as the two above.
 * @param targetClassName the name of the class {@code targeted} names by its number or name; absent
 *     when there is none (not a fixed class, or data whose classes have only numbers)
 * @param dataPath the data's directory ({@code data} names only its last part and the split)
 * @param invariantHolds metamer only: the attack's own check, whether the logits of every metamer are
 *     a's (within 1e-4 in float32, else in float64 up to rounding: {@code MetamerSampler.invariantHolds});
 *     when false the command exits 1 and the report marks the file's section failed. Absent otherwise.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AttackReport(String run, String checkpoint, String data, String model, String attack, String norm,
    String loss, String targeted, Integer steps, Double stepSize, Boolean randomStart, Boolean multiTargeted, Integer layer,
    String layerName, long seed, int count, int batch, double cleanAccuracy, List<Point> curve, boolean monotone, Sanity sanity,
    Double maxLogitAbsDiff, @JsonInclude(JsonInclude.Include.NON_NULL) Double maxLogitAbsDiffF32,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double maxLogitAbsDiffF64,
    @JsonInclude(JsonInclude.Include.NON_NULL) Boolean float32Holds, Timing timing, String image,
    @JsonInclude(JsonInclude.Include.NON_NULL) String targetClassName, String dataPath,
    @JsonInclude(JsonInclude.Include.NON_NULL) Boolean invariantHolds)
    implements AnalysisFile {

  /** The 95% Wilson interval of {@code clean_accuracy} over the {@code count} attacked images (or pairs). */
  @JsonProperty("clean_accuracy_ci95")
  public Proportions.Interval cleanAccuracyCi95() {
    return Proportions.wilson95OfShare(cleanAccuracy, count);
  }

  /**
   * One epsilon. The accuracies, norms and pixel ranges are over the counted examples (see {@link
   * Robustness}); {@code success_rate} and {@code representation_distance} over this epsilon's
   * own examples.
   *
   * @param accuracy the robustness curve: fraction still classified as their label when every
   *     image counts as broken if the attack broke it at this or any smaller epsilon of the sweep
   * @param accuracyAtEps the accuracy under this epsilon's attack alone
   * @param targetRate targeted attacks: fraction classified as their target (among images whose
   *     label is not the target) by the attack at this or any smaller epsilon ({@link #curve}); null
   *     where every image's label is its target
   * @param successRate invariance attacks: fraction whose model class is that of the source a
   *     while b's label differs from it
   * @param representationDistance invariance attacks: mean of ||h(x) - h(a)|| / ||h(b) - h(a)||
   *     (h: the matched stage's output, or the logits for metamers); 1 at b, 0 when matched
   * @param meanLinf mean L-inf norm of the perturbations (likewise {@code max*}, {@code *L2})
   * @param meanLinfAtEps mean L-inf norm of this epsilon's own perturbations ({@code meanL2AtEps}
   *     likewise): the distance of the examples {@code accuracy_at_eps}, {@code success_rate} and
   *     {@code representation_distance} are of. An image broken at a smaller epsilon, or at 0 (a
   *     clean image the model gets wrong), keeps that example in the counted ones, so on a weak
   *     model {@code mean_linf} read 0 while feature matching moved every image.
   * @param minPixel smallest pixel of the examples ({@code maxPixel} largest): [0, 1] when valid
   * @param maxAbsPadding largest |pixel| on the zero padding: 0 when valid
   * @param accuracyCi95 the 95% Wilson interval of {@code accuracy} over the attacked images (or
   *     pairs); {@code accuracyAtEpsCi95} and {@code successRateCi95} likewise of theirs
   * @param targetRateCi95 that of {@code target_rate}, over the images whose label is not their
   *     target. Each absent where its rate is null, and all four in files from before them
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Point(Double eps, double accuracy, double accuracyAtEps, Double targetRate, Double successRate,
      Double representationDistance, double meanLinf, double maxLinf, double meanL2, double maxL2,
      double meanLinfAtEps, double meanL2AtEps, double minPixel, double maxPixel, double maxAbsPadding,
      Proportions.Interval accuracyCi95, Proportions.Interval accuracyAtEpsCi95,
      @JsonInclude(JsonInclude.Include.NON_NULL) Proportions.Interval targetRateCi95,
      @JsonInclude(JsonInclude.Include.NON_NULL) Proportions.Interval successRateCi95) {

    /** A point without its intervals (null: not known), as in files from before them. */
    public Point(Double eps, double accuracy, double accuracyAtEps, Double targetRate, Double successRate,
        Double representationDistance, double meanLinf, double maxLinf, double meanL2, double maxL2,
        double meanLinfAtEps, double meanL2AtEps, double minPixel, double maxPixel, double maxAbsPadding) {
      this(eps, accuracy, accuracyAtEps, targetRate, successRate, representationDistance, meanLinf, maxLinf, meanL2,
          maxL2, meanLinfAtEps, meanL2AtEps, minPixel, maxPixel, maxAbsPadding, null, null, null, null);
    }

    /**
     * @param examples the counted examples {@code [n, c, h, w]}; {@code clean} the attacked images
     * @param rawExamples this epsilon's own examples (the counted ones where there is no sweep)
     * @param mask 1 on the image content, 0 on the padding
     * @param targetRate targeted attacks' rate (see {@link #curve}), else null; {@code
     *     targetImages} the images it is over (those whose label is not their target)
     * @param successRate invariance attacks' rate over the pairs ({@code labels}), else null
     */
    public static Point of(Double eps, int[] labels, int[] rawClasses, int[] classes, INDArray examples,
        INDArray rawExamples, INDArray clean, INDArray mask, Double targetRate, Integer targetImages,
        Double successRate, Double representationDistance) {
      INDArray d = perturbations(examples, clean);
      INDArray dOwn = rawExamples == examples ? d : perturbations(rawExamples, clean);
      INDArray linf = Norm.rowNorms(d, Norm.LINF), l2 = Norm.rowNorms(d, Norm.L2);
      INDArray padding = examples.castTo(DataType.DOUBLE).mul(mask.castTo(DataType.DOUBLE).rsub(1.0));
      double accuracy = Losses.accuracy(classes, labels), accuracyAtEps = Losses.accuracy(rawClasses, labels);
      int n = labels.length;
      return new Point(eps, accuracy, accuracyAtEps,
          targetRate, successRate, representationDistance, linf.meanNumber().doubleValue(),
          Tensors.max(linf), l2.meanNumber().doubleValue(), Tensors.max(l2),
          Norm.rowNorms(dOwn, Norm.LINF).meanNumber().doubleValue(),
          Norm.rowNorms(dOwn, Norm.L2).meanNumber().doubleValue(),
          Tensors.min(examples), Tensors.max(examples),
          Tensors.maxAbs(padding), Proportions.wilson95OfShare(accuracy, n),
          Proportions.wilson95OfShare(accuracyAtEps, n),
          targetRate == null ? null : Proportions.wilson95OfShare(targetRate, targetImages),
          successRate == null ? null : Proportions.wilson95OfShare(successRate, n));
    }

    /** {@code examples - clean} in float64, whose rows both norms are taken of. */
    private static INDArray perturbations(INDArray examples, INDArray clean) {
      return examples.castTo(DataType.DOUBLE).sub(clean.castTo(DataType.DOUBLE));
    }
  }

  /**
   * The built-in check: epsilon 0 must give back every clean image and the model's clean classes
   * (so exactly the clean accuracy), and the model must be unchanged by the sweep.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Sanity(double cleanAccuracy, double accuracyAtZero, double maxAbsDiffAtZero, boolean modelUnchanged,
      boolean passed) {
    public static Sanity of(Robustness.Sweep s) {
      return new Sanity(s.cleanAccuracy(), s.rawAccuracy(0), s.maxAbsDiffAtZero(), s.modelUnchanged(), s.saneAtZero());
    }
  }

  /** Wall time of the attack, threads, and the machine's 1-minute load average before and after. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Timing(double seconds, int threads, int cores, double loadAverageStart, double loadAverageEnd) {}

  /**
   * The points of a sweep; {@code targets} (targeted attacks, else null) gives each point's {@code
   * target_rate}: the fraction of images whose label is not their target that an attack at this or
   * any smaller epsilon of the sweep classified as the target. Like {@code accuracy}, a worst case
   * over the sweep, but of its own: the counted examples are those that break the label, and an
   * image first pushed into another wrong class may reach its target only at a larger epsilon.
   */
  public static List<Point> curve(Robustness.Sweep s, INDArray clean, INDArray mask, int[] targets,
      double[] successRate, Double[] representationDistance) {
    List<Point> points = new ArrayList<>();
    boolean[] hit = new boolean[s.labels().length];
    for (int k = 0; k < s.eps().length; k++) {
      Double targetRate = null;
      Integer eligible = null;
      if (targets != null) {
        int hits = 0;
        eligible = 0;
        for (int i = 0; i < hit.length; i++) {
          if (targets[i] == s.labels()[i]) continue;
          eligible++;
          hit[i] |= s.rawClasses()[k][i] == targets[i];
          if (hit[i]) hits++;
        }
        // Every image already of its target (a --count of one class, --targeted that class): a
        // share of none, which was NaN in the JSON and the report's table.
        targetRate = eligible == 0 ? null : (double) hits / eligible;
      }
      points.add(Point.of(s.eps()[k], s.labels(), s.rawClasses()[k], s.classes()[k], s.adversarial()[k],
          s.rawAdversarial()[k], clean, mask,
          targetRate, eligible, successRate == null ? null : successRate[k],
          representationDistance == null ? null : representationDistance[k]));
    }
    return points;
  }

  /**
   * An invariance attack's {@code representation_distance}: the mean over pairs of ||h - ha|| /
   * ||hb - ha|| (rows: each pair's example, source a and source b; h the matched representation),
   * over the pairs whose b differs from a, in pixels and in representation. A pair of one image
   * twice (two labels for one picture, or a set of blank images) has no such ratio: a floor of
   * 1e-30 under its zero denominator made the metamer attack's mean 1e19. Null where no pair has one.
   *
   * @param a the pairs' a images ({@code b} their b images), row by row as {@code h}
   */
  public static Double representationDistance(INDArray h, INDArray ha, INDArray hb, INDArray a, INDArray b) {
    INDArray matched = Norm.rowNorms(h.castTo(DataType.DOUBLE).sub(ha.castTo(DataType.DOUBLE)), Norm.L2);
    INDArray apart = Norm.rowNorms(hb.castTo(DataType.DOUBLE).sub(ha.castTo(DataType.DOUBLE)), Norm.L2);
    INDArray differ = Norm.rowNorms(b.castTo(DataType.DOUBLE).sub(a.castTo(DataType.DOUBLE)), Norm.LINF);
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < apart.length(); i++) {
      if (differ.getDouble(i) > 0 && apart.getDouble(i) > 0) {
        sum += matched.getDouble(i) / apart.getDouble(i);
        pairs++;
      }
    }
    return pairs == 0 ? null : sum / pairs;
  }

  public static boolean monotone(List<Point> curve) {
    for (int k = 1; k < curve.size(); k++) if (curve.get(k).accuracy() > curve.get(k - 1).accuracy()) return false;
    return true;
  }

  /**
   * The example grid, first {@code columns} images: optionally a row of sources {@code a}
   * (invariance attacks), the attacked images, then for each set of examples two rows: the
   * examples and their perturbation, amplified per image to {@code 0.5 + 0.5 d / max|d|} (mid
   * grey is no change).
   */
  public static void writePng(Path file, INDArray sources, INDArray clean, List<INDArray> examples, int columns)
      throws IOException {
    int n = (int) Math.min(columns, clean.size(0));
    List<INDArray> rows = new ArrayList<>();
    if (sources != null) rows.add(first(sources, n));
    INDArray c = first(clean, n);
    rows.add(c);
    for (INDArray e : examples) {
      INDArray x = first(e, n);
      rows.add(x);
      INDArray d = x.sub(c);
      INDArray scale = Transforms.max(Norm.rowNorms(d, Norm.LINF), 1e-12, false).muli(2).reshape(n, 1);
      rows.add(d.reshape('c', n, d.length() / n).diviColumnVector(scale).addi(0.5).reshape('c', d.shape()));
    }
    ImageGrid.write(file, rows);
  }

  private static INDArray first(INDArray x, int n) {
    return x.get(NDArrayIndex.interval(0, n)).castTo(DataType.DOUBLE).dup('c');
  }

  /** A fixed-width table for the terminal. */
  public String table() {
    // The curve's accuracy with its examples' norms, then each epsilon's own attack with its own.
    String row = "%-8s %9s %9s %9s %11s %11s %11s %9s %9s%n";
    StringBuilder t = new StringBuilder(String.format(Locale.ROOT, row, "eps", "accuracy", "mean Linf", "mean L2",
        "acc at eps", "Linf at eps", "L2 at eps", targeted == null ? "success" : "on target", "repr dist"));
    for (Point p : curve) {
      t.append(String.format(Locale.ROOT, row, p.eps() == null ? "-" : String.valueOf(p.eps()),
          fmt(p.accuracy()), fmt(p.meanLinf()), fmt(p.meanL2()), fmt(p.accuracyAtEps()), fmt(p.meanLinfAtEps()),
          fmt(p.meanL2AtEps()), fmt(p.successRate() != null ? p.successRate() : p.targetRate()),
          fmt(p.representationDistance())));
    }
    // The invariance attacks attack image b of each pair (a, b).
    String unit = (attack.equals("metamer") || attack.equals("feature-match") ? "pair" : "image") + (count == 1 ? "" : "s");
    String target = targetClassName == null ? ""
        : " targeted at " + targeted + (targeted.equals(targetClassName) ? "" : " (" + targetClassName + ")");
    t.append(String.format(Locale.ROOT, "%s%s on %d %s: clean accuracy %.4f, %.1f s%n", attack, target, count, unit,
        cleanAccuracy, timing.seconds()));
    return t.toString();
  }

  /**
   * Four decimals, in scientific notation from 10^4 on, so that a column stays 9 wide: a metamer's
   * perturbation norms reach millions (its pixels are not kept in [0,1]).
   */
  static String fmt(Double v) {
    if (v == null) return "-";
    return String.format(Locale.ROOT, Math.abs(v) < 1e4 || !Double.isFinite(v) ? "%.4f" : "%.3e", v);
  }
}
