package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TrainConfig without training: the schedules against values worked out by hand, what {@link
 * TrainConfig#resolved} fills in, config files over a base, and the range checks. (TrainerTest
 * has the config tests that need a trainer; these run in milliseconds, so mutation passes can
 * afford them.)
 */
class TrainConfigTest {

  /** The defaults with another schedule, learning rate, warm-up and weight decay. */
  static TrainConfig with(String schedule, double lr, int warmup, double weightDecay) {
    TrainConfig d = TrainConfig.defaults();
    return new TrainConfig(d.arch(), d.data(), d.objective(), d.epochs(), d.batch(), lr, weightDecay, warmup, schedule,
        d.seed(), d.logEvery(), d.checkpointEvery(), d.dequantize(), d.augmentShift(), d.evalBatch(), d.ice(),
        d.backward(), d.validation());
  }

  /** The default iCE settings with the MLE term off. */
  private static IceConfig withoutMleTerm() {
    IceConfig d = IceConfig.defaults();
    return new IceConfig(d.wNc(), d.wNcWarmupSteps(), 0, d.nuisanceForm(), d.paperCap(), d.advSteps(),
        d.advHidden(), d.advLr(), d.adversaries(), d.advReinitEvery(), d.advStandardize(), d.advReplay());
  }

  static TrainConfig withObjective(String objective, boolean dequantize, IceConfig ice) {
    TrainConfig d = TrainConfig.defaults();
    return new TrainConfig(d.arch(), d.data(), objective, d.epochs(), d.batch(), d.lr(), d.weightDecay(),
        d.warmupSteps(), d.schedule(), d.seed(), d.logEvery(), d.checkpointEvery(), dequantize, d.augmentShift(),
        d.evalBatch(), ice, d.backward(), d.validation());
  }

  /**
   * Warm-up {@code lr (step + 1) / w}, then cosine {@code lr (1 + cos(pi p)) / 2} with {@code p =
   * (step - w) / (total - w)}: here w = 100 of 1000 steps, so step 400 is p = 1/3 and cos(pi/3) =
   * 1/2 gives 3/4 of the rate.
   */
  @Test
  void cosineScheduleWarmsUpLinearlyThenFollowsTheHalfCosine() {
    TrainConfig c = with("cosine", 1e-3, 100, 0);
    assertThat(c.lrAt(0, 1000)).isCloseTo(1e-5, offset(1e-18));
    assertThat(c.lrAt(49, 1000)).isCloseTo(5e-4, offset(1e-18));
    assertThat(c.lrAt(99, 1000)).isCloseTo(1e-3, offset(1e-18));
    // The first step after warm-up is p = 0: the full rate (the warm-up formula would give 1.01e-3).
    assertThat(c.lrAt(100, 1000)).isEqualTo(1e-3);
    assertThat(c.lrAt(400, 1000)).isCloseTo(7.5e-4, offset(1e-15));
    assertThat(c.lrAt(1000, 1000)).isCloseTo(0, offset(1e-18));
    // Past the end p is held at 1 (cos(pi p) would rise again: at p = 2.1 the rate is back near lr).
    assertThat(c.lrAt(2000, 1000)).isCloseTo(0, offset(1e-18));
    // A run no longer than its warm-up has nothing left after it: 0, not 0/0.
    assertThat(c.lrAt(100, 100)).isCloseTo(0, offset(1e-18));
    assertThat(c.lrAt(150, 120)).isCloseTo(0, offset(1e-18));
  }

  /**
   * A run's config.json as --config trains as that run did: its settings are its "config" object
   * (it was refused as "unknown key 'config'"). Only a file with a run's keys alone is read so.
   */
  @Test
  void aRunsConfigJsonGivesThatRunsSettings(@TempDir Path tmp) throws Exception {
    Path partial = Files.writeString(tmp.resolve("p.json"),
        "{\"epochs\": 7, \"lr\": 0.002, \"dequantize\": false, \"objective\": \"ice\", \"ice\": {\"wNc\": 2}}");
    TrainConfig run = TrainConfig.read(partial, TrainConfig.defaults());
    Path runFile = Files.writeString(tmp.resolve("config.json"),
        Trainer.resolvedConfig(run, new org.irevnet.data.DataIdentity("d", null, 3, "00", null)));
    assertThat(TrainConfig.read(runFile, TrainConfig.defaults())).isEqualTo(run);
    assertThat(TrainConfig.setsFalse(runFile, "dequantize")).isTrue();
    Path other = Files.writeString(tmp.resolve("other.json"), "{\"config\": {\"epochs\": 2}, \"notes\": \"x\"}");
    assertThatThrownBy(() -> TrainConfig.read(other, TrainConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown key 'config'");
  }

  /** A key given twice, at the top or in "ice", is refused naming the file and key: it was read as its last value. */
  @Test
  void aConfigFileWithAKeyGivenTwiceIsRefused(@TempDir Path tmp) throws Exception {
    Path top = Files.writeString(tmp.resolve("top.json"), "{\"epochs\": 2, \"epochs\": 3}");
    assertThatThrownBy(() -> TrainConfig.read(top, TrainConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(top + ": malformed config JSON at line 1, column ")
        .hasMessageContaining("Duplicate field 'epochs'").hasMessageNotContaining("\n");
    Path ice = Files.writeString(tmp.resolve("ice.json"), "{\"ice\": {\"wNc\": 0.1, \"wNc\": 0.2}}");
    assertThatThrownBy(() -> TrainConfig.read(ice, TrainConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Duplicate field 'wNc'");
    // Each key once still reads.
    Path once = Files.writeString(tmp.resolve("once.json"), "{\"epochs\": 2, \"ice\": {\"wNc\": 0.1}}");
    TrainConfig c = TrainConfig.read(once, TrainConfig.defaults());
    assertThat(c.epochs()).isEqualTo(2);
    assertThat(c.ice().wNc()).isEqualTo(0.1);
  }

  @Test
  void withoutWarmUpTheFirstStepHasTheFullRate() {
    // warmupSteps 0 must not reach lr * (step + 1) / 0.
    assertThat(with("cosine", 2e-3, 0, 0).lrAt(0, 10)).isEqualTo(2e-3);
    assertThat(with("constant", 2e-3, 0, 0).lrAt(0, 10)).isEqualTo(2e-3);
  }

  /** x0.1 from half the steps after warm-up, x0.01 from three quarters: with 100 steps and no warm-up at 50 and 75. */
  @Test
  void stepScheduleDropsTenfoldAtHalfAndThreeQuarters() {
    TrainConfig c = with("step", 1.0, 0, 0);
    assertThat(c.lrAt(0, 100)).isEqualTo(1.0);
    assertThat(c.lrAt(49, 100)).isEqualTo(1.0);
    assertThat(c.lrAt(50, 100)).isEqualTo(0.1);
    assertThat(c.lrAt(74, 100)).isEqualTo(0.1);
    assertThat(c.lrAt(75, 100)).isEqualTo(0.01);
    assertThat(c.lrAt(99, 100)).isEqualTo(0.01);
    // With a warm-up of 20 of 100 steps the fractions count from step 20: half is step 60.
    TrainConfig w = with("step", 1.0, 20, 0);
    assertThat(w.lrAt(59, 100)).isEqualTo(1.0);
    assertThat(w.lrAt(60, 100)).isEqualTo(0.1);
  }

  @Test
  void constantScheduleKeepsTheRateAfterWarmUp() {
    TrainConfig c = with("constant", 0.5, 10, 0);
    assertThat(c.lrAt(3, 100)).isEqualTo(0.2); // 0.5 * 4 / 10
    assertThat(c.lrAt(10, 100)).isEqualTo(0.5);
    assertThat(c.lrAt(99, 100)).isEqualTo(0.5);
  }

  @Test
  void resolvedFillsWhatTheObjectiveImplies() {
    TrainConfig ce = withObjective("ce", false, null);
    assertThat(ce.resolved()).isSameAs(ce);
    assertThat(ce.hasIceObjective()).isFalse();
    assertThat(ce.hasMleObjective()).isFalse();

    // A likelihood of noise-free pixels is unbounded: mle always dequantises.
    TrainConfig mle = withObjective("mle", false, null).resolved();
    assertThat(mle.hasMleObjective()).isTrue();
    assertThat(mle.dequantize()).isTrue();
    assertThat(mle).isEqualTo(withObjective("mle", true, null));

    // iCE without settings takes the defaults, whose MLE term is on, so it dequantises too.
    TrainConfig ice = withObjective("ice", false, null).resolved();
    assertThat(ice.hasIceObjective()).isTrue();
    assertThat(ice.ice()).isEqualTo(IceConfig.defaults());
    assertThat(ice.dequantize()).isTrue();
    assertThat(ice).isEqualTo(withObjective("ice", true, IceConfig.defaults()));

    // With the MLE term off the dequantisation is the user's choice either way.
    IceConfig noMle = withoutMleTerm();
    assertThat(withObjective("ice", false, noMle).resolved().dequantize()).isFalse();
    assertThat(withObjective("ice", true, noMle).resolved().dequantize()).isTrue();
    assertThat(withObjective("ice", false, noMle).resolved().ice()).isSameAs(noMle);
  }

  /**
   * Dequantisation turned off explicitly is refused where a likelihood is trained, which resolved()
   * turned it on for without a word; where none is, and where nothing turned it off, it stands.
   */
  @Test
  void dequantizationTurnedOffIsRefusedOnlyWhereALikelihoodIsTrained(@TempDir Path tmp) throws Exception {
    String why = ", which needs dequantisation: the likelihood of discrete pixels is unbounded without it (leave"
        + " dequantize out, and it is on)";
    assertThatThrownBy(() -> withObjective("mle", false, null).refuseUndequantizedLikelihood("--dequantize false"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--dequantize false contradicts objective mle" + why);
    assertThatThrownBy(() -> withObjective("ice", false, null).refuseUndequantizedLikelihood("f.json: dequantize"))
        .hasMessage("f.json: dequantize contradicts ice.wMle " + IceConfig.defaults().wMle()
            + " (the iCE MLE term; --w-mle 0 turns it off)" + why);
    TrainConfig mle = withObjective("mle", false, null);
    assertThat(mle.refuseUndequantizedLikelihood(null)).isSameAs(mle);
    IceConfig noMle = withoutMleTerm();
    for (TrainConfig none : new TrainConfig[] {withObjective("ce", false, null), withObjective("ice", false, noMle)}) {
      assertThat(none.trainsLikelihood()).isFalse();
      assertThat(none.refuseUndequantizedLikelihood("--dequantize false")).isSameAs(none);
    }
    // Only a false the file gives counts: the default's false is no one's choice.
    Path off = Files.writeString(tmp.resolve("off.json"), "{\"dequantize\": false}");
    assertThat(TrainConfig.setsFalse(off, "dequantize")).isTrue();
    for (String other : new String[] {"{\"dequantize\": true}", "{\"epochs\": 2}"}) {
      assertThat(TrainConfig.setsFalse(Files.writeString(tmp.resolve("other.json"), other), "dequantize")).as(other)
          .isFalse();
    }
  }

  @Test
  void theBackwardPassIsReversibleUnlessStored() {
    assertThat(TrainConfig.storesActivations("stored")).isTrue();
    assertThat(TrainConfig.storesActivations("reversible")).isFalse();
    assertThatThrownBy(() -> TrainConfig.storesActivations("Stored"))
        .hasMessage("backward must be reversible or stored, got Stored");
    TrainConfig d = TrainConfig.defaults();
    assertThat(d.storesActivations()).isFalse();
    TrainConfig stored = new TrainConfig(d.arch(), d.data(), d.objective(), d.epochs(), d.batch(), d.lr(),
        d.weightDecay(), d.warmupSteps(), d.schedule(), d.seed(), d.logEvery(), d.checkpointEvery(), d.dequantize(),
        d.augmentShift(), d.evalBatch(), d.ice(), "stored", d.validation());
    assertThat(stored.storesActivations()).isTrue();
    // Configs written before the option have none: reversible.
    TrainConfig old = new TrainConfig(d.arch(), d.data(), d.objective(), d.epochs(), d.batch(), d.lr(),
        d.weightDecay(), d.warmupSteps(), d.schedule(), d.seed(), d.logEvery(), d.checkpointEvery(), d.dequantize(),
        d.augmentShift(), d.evalBatch(), d.ice(), null, d.validation());
    assertThat(old.storesActivations()).isFalse();
    assertThat(old.validate()).isSameAs(old);
  }

  @Test
  void configFilesAreMergedAndCheckedWithOneLineErrors(@TempDir Path tmp) throws Exception {
    Path good = Files.writeString(tmp.resolve("c.json"), "{\"epochs\": 7, \"lr\": 0.0005}");
    TrainConfig c = TrainConfig.read(good, TrainConfig.defaults());
    assertThat(c.epochs()).isEqualTo(7);
    assertThat(c.lr()).isEqualTo(5e-4);
    assertThat(c.batch()).isEqualTo(TrainConfig.defaults().batch());
    Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"epochs\": 7,");
    assertThatThrownBy(() -> TrainConfig.read(bad, TrainConfig.defaults()))
        .hasMessageStartingWith(bad + ": malformed config JSON at line 1, column 14: ").hasMessageNotContaining("\n");
    Path open = Files.writeString(tmp.resolve("open.json"), "{\n  \"epochs\": 7");
    assertThatThrownBy(() -> TrainConfig.read(open, TrainConfig.defaults())).hasMessage(open + ": malformed config JSON"
        + " at line 2, column 14: Unexpected end-of-input: expected close marker for Object (start marker at line 1,"
        + " column 1)");
    // An editor's UTF-16 (its byte-order mark first) was "malformed config JSON: Input length = 1".
    Path utf16 = Files.write(tmp.resolve("utf16.json"), new byte[] {(byte) 0xff, (byte) 0xfe, '{', 0, '}', 0});
    assertThatThrownBy(() -> TrainConfig.read(utf16, TrainConfig.defaults()))
        .hasMessage(utf16 + ": not UTF-8 text: save the config file as UTF-8");
    String[][] cases = {
        {"{\"epochz\": 7}", "unknown key 'epochz' (known: arch, augmentShift, backward, batch, checkpointEvery, data,"
            + " dequantize, epochs, evalBatch, ice, logEvery, lr, objective, schedule, seed, validation, warmupSteps, weightDecay)"},
        {"{\"ice\": {\"advStep\": 2}}", "unknown key 'ice.advStep' (known: advHidden, advLr, advReinitEvery, advReplay,"
            + " advStandardize, advSteps, advWhiten, adversaries, nuisanceForm, paperCap, wMle, wNc, wNcWarmupSteps)"},
        {"[7]", "malformed config JSON: the file must hold one JSON object"},
        {"{\"epochs\": 7}\n{\"epochs\": 8}", "malformed config JSON: the file must hold one JSON object"},
        {"{\"epochs\": \"two\"}", "key 'epochs' must be an integer, got \"two\""},
        {"{\"epochs\": 2.5}", "key 'epochs' must be an integer, got 2.5"}, // Jackson truncated it to 2
        {"{\"epochs\": [2]}", "key 'epochs' must be an integer"},
        {"{\"lr\": \"fast\"}", "key 'lr' must be a number, got \"fast\""},
        {"{\"dequantize\": \"yes\"}", "key 'dequantize' must be true or false, got \"yes\""},
        {"{\"ice\": 3}", "key 'ice' must be a JSON object"},
        {"{\"epochs\": null}", "key 'epochs' must not be null: leave the key out instead"}, // read as 0
        {"{\"ice\": {\"wNc\": null}}", "key 'ice.wNc' must not be null: leave the key out instead"}};
    for (String[] k : cases) {
      Path f = Files.writeString(tmp.resolve("case.json"), k[0]);
      assertThatThrownBy(() -> TrainConfig.read(f, TrainConfig.defaults())).as(k[0]).hasMessage(f + ": " + k[1]);
    }
    // config.json writes the iCE paperCap as null (ln C), and a config file may copy it.
    Path cap = Files.writeString(tmp.resolve("cap.json"), "{\"objective\": \"ice\", \"ice\": {\"paperCap\": null}}");
    assertThat(TrainConfig.read(cap, TrainConfig.defaults()).ice().paperCap()).isNull();
  }

  @Test
  void learningRateWarmsUpThenDecays() {
    TrainConfig c = TrainConfig.defaults();
    assertThat(c.lrAt(0, 1000)).isEqualTo(c.lr() / c.warmupSteps());
    assertThat(c.lrAt(c.warmupSteps() - 1, 1000)).isEqualTo(c.lr());
    assertThat(c.lrAt(550, 1000)).isCloseTo(c.lr() / 2, offset(1e-12));
    assertThat(c.lrAt(999, 1000)).isLessThan(1e-7);
  }

  /** A partial "ice" object replaces only the keys it names, over the base's settings or else the defaults. */
  @Test
  void aConfigFileReplacesOnlyTheKeysItNames(@TempDir Path tmp) throws Exception {
    Path f = Files.writeString(tmp.resolve("c.json"), "{\"objective\": \"ice\", \"ice\": {\"wNc\": 0.7, \"advSteps\": 5}}");
    TrainConfig read = TrainConfig.read(f, TrainConfig.defaults());
    IceConfig d = IceConfig.defaults();
    assertThat(read.objective()).isEqualTo("ice");
    assertThat(read.ice()).isEqualTo(new IceConfig(0.7, d.wNcWarmupSteps(), d.wMle(), d.nuisanceForm(), d.paperCap(),
        5, d.advHidden(), d.advLr(), d.adversaries(), d.advReinitEvery(), d.advStandardize(), d.advReplay()));
    assertThat(read.epochs()).isEqualTo(TrainConfig.defaults().epochs());

    // Over a base that has iCE settings of its own, those are what the file's keys replace.
    IceConfig base = new IceConfig(0.1, 7, 0, "paper", 1.5, 2, 16, 1e-2, 1, 0, false, 0);
    Path g = Files.writeString(tmp.resolve("g.json"), "{\"ice\": {\"advHidden\": 32}, \"lr\": 0.01}");
    TrainConfig over = TrainConfig.read(g, withObjective("ice", false, base));
    assertThat(over.ice()).isEqualTo(new IceConfig(0.1, 7, 0, "paper", 1.5, 2, 32, 1e-2, 1, 0, false, 0));
    assertThat(over.lr()).isEqualTo(0.01);

    Path missing = tmp.resolve("none.json");
    assertThatThrownBy(() -> TrainConfig.read(missing, TrainConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(missing + ": config file not found");
  }

  /** Only the iCE paperCap may be null (it means ln C); a null anywhere else names its key, top level or in "ice". */
  @Test
  void nullKeysAreRefusedExceptThePaperCap(@TempDir Path tmp) throws Exception {
    Path cap = Files.writeString(tmp.resolve("cap.json"), "{\"objective\": \"ice\", \"ice\": {\"paperCap\": null}}");
    assertThat(TrainConfig.read(cap, withObjective("ice", false,
        new IceConfig(0.3, 0, 0, "paper", 2.0, 1, 0, 1e-3, 1, 0, true, 0))).ice().paperCap()).isNull();
    Path lr = Files.writeString(tmp.resolve("lr.json"), "{\"lr\": null}");
    assertThatThrownBy(() -> TrainConfig.read(lr, TrainConfig.defaults()))
        .hasMessage(lr + ": key 'lr' must not be null: leave the key out instead");
    Path form = Files.writeString(tmp.resolve("form.json"), "{\"objective\": \"ice\", \"ice\": {\"nuisanceForm\": null}}");
    assertThatThrownBy(() -> TrainConfig.read(form, TrainConfig.defaults()))
        .hasMessage(form + ": key 'ice.nuisanceForm' must not be null: leave the key out instead");
  }

  @Test
  void jsonRoundTripsAndLeavesOutAnAbsentIceObject() {
    TrainConfig ce = TrainConfig.defaults();
    assertThat(ce.toJson()).doesNotContain("\"ice\"").contains("\"schedule\" : \"cosine\"");
    assertThat(TrainConfig.fromJson(ce.toJson())).isEqualTo(ce);
    TrainConfig ice = withObjective("ice", true, new IceConfig(0.3, 0, 0, "paper", null, 1, 0, 1e-3, 1, 0, true, 0));
    assertThat(TrainConfig.fromJson(ice.toJson())).isEqualTo(ice);
    TrainConfig whitened = withObjective("ice", true, new IceConfig(0.3, 0, 0, "paper", null, 1, 0, 1e-3, 1, 0, true, 0,
        true));
    assertThat(whitened.toJson()).contains("\"advWhiten\" : true");
    assertThat(TrainConfig.fromJson(whitened.toJson())).isEqualTo(whitened).isNotEqualTo(ice);
    assertThatThrownBy(() -> TrainConfig.fromJson("{\"epochs\": "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("malformed config JSON at line 1, column 12: ")
        .hasMessageNotContaining("\n");
  }

  /**
   * Jackson's default coercions read "epochs": "7" as 7, "dequantize": 1 as true and "lr": "NaN"
   * as NaN (which validate then refused naming no file): a value of the wrong JSON type in a config
   * file is a mistake to show, not to guess at. Each is refused at reading, naming the file and
   * the key, the JSON type it needs and the value (JsonErrors' wording).
   */
  @Test
  void aValueOfTheWrongJsonTypeIsRefusedNamingTheFileAndKey(@TempDir Path tmp) throws Exception {
    String[][] cases = {
        {"{\"epochs\": \"7\"}", "key 'epochs' must be an integer, got \"7\""},
        {"{\"seed\": \"1\"}", "key 'seed' must be an integer, got \"1\""},
        {"{\"lr\": \"NaN\"}", "key 'lr' must be a number, got \"NaN\""},
        {"{\"lr\": \"0.001\"}", "key 'lr' must be a number, got \"0.001\""},
        {"{\"dequantize\": 1}", "key 'dequantize' must be true or false, got 1"},
        {"{\"dequantize\": \"true\"}", "key 'dequantize' must be true or false, got \"true\""},
        {"{\"arch\": 5}", "key 'arch' must be a string, got 5"},
        {"{\"objective\": \"ice\", \"ice\": {\"advSteps\": \"3\"}}", "key 'ice.advSteps' must be an integer, got \"3\""},
        {"{\"objective\": \"ice\", \"ice\": {\"paperCap\": \"2\"}}", "key 'ice.paperCap' must be a number, got \"2\""},
        {"{\"objective\": \"ice\", \"ice\": {\"advStandardize\": 0}}",
            "key 'ice.advStandardize' must be true or false, got 0"}};
    for (int i = 0; i < cases.length; i++) {
      Path f = Files.writeString(tmp.resolve("c" + i + ".json"), cases[i][0]);
      assertThatThrownBy(() -> TrainConfig.read(f, TrainConfig.defaults())).as(cases[i][0])
          .isInstanceOf(IllegalArgumentException.class).hasMessage(f + ": " + cases[i][1]);
    }
    // An integer where a number is expected is a number, not a coercion.
    Path whole = Files.writeString(tmp.resolve("whole.json"), "{\"lr\": 1, \"objective\": \"ice\", \"ice\": {\"paperCap\": 2}}");
    TrainConfig read = TrainConfig.read(whole, TrainConfig.defaults());
    assertThat(read.lr()).isEqualTo(1.0);
    assertThat(read.ice().paperCap()).isEqualTo(2.0);
  }

  /** A run's config.json (read by --resume) is held to the same types, and its errors name it. */
  @Test
  void aRunConfigOfTheWrongJsonTypeIsRefusedNamingTheFile(@TempDir Path tmp) {
    Path file = tmp.resolve("config.json");
    String json = TrainConfig.defaults().toJson();
    String sevenAsText = json.replace("\"epochs\" : 3", "\"epochs\" : \"7\"");
    assertThat(sevenAsText).isNotEqualTo(json);
    assertThatThrownBy(() -> TrainConfig.fromJson(sevenAsText, file.toString())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(file + ": key 'epochs' must be an integer, got \"7\"");
    assertThatThrownBy(() -> TrainConfig.fromJson(sevenAsText)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key 'epochs' must be an integer, got \"7\"");
    assertThatThrownBy(() -> TrainConfig.fromJson("{\"epochs\": ", file.toString())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(file + ": malformed config JSON at line 1, column 12: ").hasMessageNotContaining("\n");
    assertThat(TrainConfig.fromJson(json, file.toString())).isEqualTo(TrainConfig.defaults());
  }

  /**
   * A run's saved config (config.json, which --resume reads, or a checkpoint's) is written whole:
   * one without a primitive key read it as 0 or false, refused only where 0 is out of range (a
   * missing seed, dequantize or weightDecay changed the run silently). Refused naming the key and
   * the file, as a null there is; the keys added since the first runs (validation, ice.advReplay,
   * ice.advWhiten) read as what those runs did, 0 or false, as does a missing backward (reversible). A text key it lacks
   * was read as null and refused later by validate, without the file's name ("arch must be an
   * architecture name or file, got null").
   */
  @Test
  void aSavedConfigWithoutAPrimitiveOrTextKeyIsRefusedUnlessOlderRunsLackedIt(@TempDir Path tmp) {
    Path file = tmp.resolve("config.json");
    TrainConfig d = TrainConfig.defaults();
    TrainConfig run = new TrainConfig(d.arch(), d.data(), "ice", 2, 16, 1e-3, 0.5, 10, "constant", 7, 5, 100, true, 1,
        50, IceConfig.defaults(), "stored", 20);
    ObjectNode saved = TrainConfig.JSON.valueToTree(run);
    for (String key : new String[] {"epochs", "weightDecay", "seed", "dequantize", "evalBatch", "ice.wMle",
        "ice.advSteps", "ice.advStandardize", "arch", "data", "objective", "schedule", "ice.nuisanceForm"}) {
      var without = saved.deepCopy();
      (key.startsWith("ice.") ? (ObjectNode) without.get("ice") : without)
          .remove(key.replace("ice.", ""));
      assertThatThrownBy(() -> TrainConfig.fromJson(without.toString(), file.toString())).as(key)
          .isInstanceOf(IllegalArgumentException.class).hasMessage(file + ": key '" + key + "' is missing");
    }
    var nullSeed = saved.deepCopy().putNull("seed");
    assertThatThrownBy(() -> TrainConfig.fromJson(nullSeed.toString(), file.toString()))
        .hasMessage(file + ": key 'seed' must not be null");

    var older = saved.deepCopy();
    older.remove(List.of("validation", "backward"));
    ((ObjectNode) older.get("ice")).remove(List.of("advReplay", "advWhiten"));
    TrainConfig read = TrainConfig.fromJson(older.toString(), file.toString());
    assertThat(read.validation()).isZero();
    assertThat(read.ice().advReplay()).isZero();
    assertThat(read.ice().advWhiten()).isFalse();
    assertThat(read.storesActivations()).isFalse();
    assertThat(read.seed()).isEqualTo(7);
    assertThat(TrainConfig.fromJson(saved.toString(), file.toString())).isEqualTo(run);
  }

  /**
   * Runs before 2026-12-02 saved the iCE paperCap resolved (ln 10) with every nuisance form, and
   * the bounded form has no cap: such a run trained as with null, and is read so, by --resume
   * (config.json, a checkpoint's config) and by --config given the run's config.json. Validate
   * refused it as a cap given with the bounded form ("--paper-cap is for --nuisance-form paper
   * only"), which nobody had given. A cap with the paper form is that run's, and a config file of
   * the user's with a cap and the bounded form is still refused.
   */
  @Test
  void aSavedBoundedIceConfigWithTheCapEarlierVersionsRecordedReadsAsUncapped(@TempDir Path tmp) throws Exception {
    ObjectNode saved = TrainConfig.JSON.valueToTree(withObjective("ice", true, IceConfig.defaults()));
    ((ObjectNode) saved.get("ice")).put("paperCap", Math.log(10));
    TrainConfig read = TrainConfig.fromJson(saved.toString(), "config.json");
    assertThat(read.ice().paperCap()).isNull();
    assertThat(read.validate()).isEqualTo(withObjective("ice", true, IceConfig.defaults()));

    ObjectNode paper = saved.deepCopy();
    ((ObjectNode) paper.get("ice")).put("nuisanceForm", "paper");
    assertThat(TrainConfig.fromJson(paper.toString(), "config.json").ice().paperCap()).isEqualTo(Math.log(10));

    ObjectNode runFile = TrainConfig.JSON.createObjectNode();
    runFile.set("config", saved);
    runFile.putObject("environment").put("threads", 1);
    Path run = Files.writeString(tmp.resolve("config.json"), runFile.toString());
    assertThat(TrainConfig.read(run, TrainConfig.defaults()).validate().ice().paperCap()).isNull();

    Path own = Files.writeString(tmp.resolve("own.json"), saved.toString());
    assertThatThrownBy(() -> TrainConfig.read(own, TrainConfig.defaults()).validate())
        .hasMessageStartingWith("paperCap is for nuisanceForm paper only");
  }

  /** Each changed setting once, in declaration order, iCE settings by their dotted key, an added object as none -> it. */
  @Test
  void changesFromListsEachChangedSettingOldToNew() {
    TrainConfig d = TrainConfig.defaults();
    assertThat(d.changesFrom(d)).isEmpty();
    TrainConfig more = with("step", 0.01, d.warmupSteps(), d.weightDecay());
    assertThat(more.changesFrom(d)).containsExactly(Map.entry("lr", "0.001 -> 0.01"), Map.entry("schedule",
        "\"cosine\" -> \"step\""));
    IceConfig a = new IceConfig(0.3, 0, 0, "paper", null, 1, 0, 1e-3, 1, 0, true, 0);
    IceConfig b = new IceConfig(0.5, 0, 0, "paper", null, 1, 0, 1e-3, 1, 0, true, 4);
    assertThat(withObjective("ice", false, b).changesFrom(withObjective("ice", false, a)))
        .containsExactly(Map.entry("ice.wNc", "0.3 -> 0.5"), Map.entry("ice.advReplay", "0 -> 4"));
    Map<String, String> added = withObjective("ice", false, a).changesFrom(d);
    assertThat(added.keySet()).containsExactly("objective", "ice");
    assertThat(added.get("ice")).startsWith("none -> {\"wNc\":0.3,");
    assertThat(d.changesFrom(withObjective("ice", false, a)).get("ice")).endsWith("} -> none");
  }

  /** Each refusal names the setting; the defaults pass. */
  @Test
  void eachSettingOutOfRangeIsRefusedByName() {
    TrainConfig d = TrainConfig.defaults();
    assertThat(d.validate()).isSameAs(d);
    String[][] cases = {
        {"epochs", "{\"epochs\": 0}"}, {"batch", "{\"batch\": 0}"}, {"lr", "{\"lr\": 0}"},
        {"weightDecay", "{\"weightDecay\": -0.1}"}, {"warmupSteps", "{\"warmupSteps\": -1}"},
        {"augmentShift", "{\"augmentShift\": -1}"}, {"schedule", "{\"schedule\": \"linear\"}"},
        {"objective", "{\"objective\": \"gan\"}"}, {"backward", "{\"backward\": \"both\"}"},
        {"logEvery", "{\"logEvery\": 0}"}, {"checkpointEvery", "{\"checkpointEvery\": 0}"},
        {"evalBatch", "{\"evalBatch\": 0}"}, {"validation", "{\"validation\": -1}"},
        {"iCE settings", "{\"objective\": \"mle\", \"ice\": {}}"}, {"adversaries", "{\"objective\": \"ice\", \"ice\": {\"adversaries\": 0}}"}};
    for (String[] c : cases) {
      TrainConfig bad = merged(d, c[1]);
      assertThatThrownBy(bad::validate).as(c[1]).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(c[0] + " ");
    }
    // The lower bounds themselves pass.
    assertThat(merged(d, "{\"epochs\": 1, \"batch\": 1, \"lr\": 1e-12, \"warmupSteps\": 0, \"augmentShift\": 0,"
        + " \"logEvery\": 1, \"checkpointEvery\": 1, \"evalBatch\": 1, \"validation\": 0, \"schedule\": \"constant\","
        + " \"objective\": \"mle\"}").validate()).isNotNull();
  }

  /**
   * Options are merged over the --config file before the check, so a refused value from the file
   * was refused naming no file. It names the file now, an iCE setting too; a value an option gave,
   * or one the file left as its base had it (a resumed run's), is refused as before.
   */
  @Test
  void aRefusedValueFromAConfigFileNamesTheFile(@TempDir Path tmp) throws Exception {
    TrainConfig base = TrainConfig.defaults();
    Path file = Files.writeString(tmp.resolve("run.json"), "{\"epochs\": 0, \"objective\": \"ice\", \"ice\": {\"adversaries\": 0}}");
    TrainConfig fromFile = TrainConfig.read(file, base);
    assertThatThrownBy(() -> fromFile.resolved().validate(file, base, fromFile))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(file + ": epochs must be at least 1, got 0");
    TrainConfig epochsGiven = merged(fromFile, "{\"epochs\": 2}");
    assertThatThrownBy(() -> epochsGiven.resolved().validate(file, base, fromFile))
        .hasMessage(file + ": adversaries must be at least 1, got 0");
    TrainConfig epochsRefused = merged(fromFile, "{\"epochs\": -1}");
    assertThatThrownBy(() -> epochsRefused.resolved().validate(file, base, fromFile))
        .hasMessage("epochs must be at least 1, got -1");

    TrainConfig badBase = merged(base, "{\"batch\": 0}");
    Path lr = Files.writeString(tmp.resolve("lr.json"), "{\"lr\": 0.01, \"batch\": 0}");
    TrainConfig overBadBase = TrainConfig.read(lr, badBase);
    assertThatThrownBy(() -> overBadBase.validate(lr, badBase, overBadBase)).hasMessage("batch must be at least 1, got 0");
    TrainConfig overDefaults = TrainConfig.read(lr, base);
    assertThatThrownBy(() -> overDefaults.validate(lr, base, overDefaults)).as("over a base whose batch it changes")
        .hasMessage(lr + ": batch must be at least 1, got 0");
  }

  /** {@code base} with the keys of {@code json} (a config file's content), unchecked. */
  static TrainConfig merged(TrainConfig base, String json) {
    try {
      Path f = Files.createTempFile("train-config", ".json");
      try {
        return TrainConfig.read(Files.writeString(f, json), base);
      } finally {
        Files.delete(f);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A config without a name (a saved one is refused before: see above) reaches validate with null
   * there: refused by name as any other value, not with a NullPointerException, which the command
   * line reports as an internal error (exit 3).
   */
  @Test
  void aMissingNameIsRefusedByName() {
    ObjectNode json = TrainConfig.JSON.valueToTree(TrainConfig.defaults());
    for (String key : new String[] {"arch", "data", "schedule", "objective"}) {
      ObjectNode without = json.deepCopy();
      assertThat(without.remove(key)).as(key + " removed").isNotNull();
      TrainConfig c = TrainConfig.JSON.convertValue(without, TrainConfig.class);
      assertThatThrownBy(c::validate).as(key).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(key + " must be ").hasMessageEndingWith(", got null");
    }
  }

  /**
   * Training runs in float32: beyond its largest number Adam's step size is infinite, which
   * libnd4j's updater replaces with its epsilon, and a run at --lr 1e39 trained nothing (weights
   * moved by 1e-8) without a word, where 1e38 diverged and said so. Refused; float32's largest is
   * accepted (it diverges, saying so).
   */
  @Test
  void aLearningRateBeyondFloat32IsRefused() {
    assertThatThrownBy(() -> with("cosine", 1e39, 100, 0).validate()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("lr must be at most 3.4028235E38 (float32's largest number")
        .hasMessageEndingWith("got 1.0E39");
    assertThat(with("constant", Float.MAX_VALUE, 0, 0).validate()).isNotNull();
  }

  /**
   * AdamW scales every weight by 1 - lr * weightDecay before each step, and no step's rate exceeds
   * lr (warm-up rises to it, the schedules fall from it): at lr * weightDecay = 1 the first step at
   * the full rate zeroes every weight, above it flips their signs and grows them (5000 at 1e-3: x(-4)
   * per step). Refused; just below is a strong decay, accepted.
   */
  @Test
  void aWeightDecayThatZeroesOrFlipsTheWeightsIsRefused() {
    for (double wd : new double[] {1000, 5000}) {
      assertThatThrownBy(() -> with("cosine", 1e-3, 100, wd).validate()).as("weightDecay " + wd)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("weightDecay must be below 1 / lr")
          .hasMessageEndingWith("got " + wd);
    }
    assertThat(with("cosine", 1e-3, 100, 999).validate()).isNotNull();
    assertThat(with("constant", 0.5, 0, 1.9).validate()).isNotNull();
    // The message gives the limit for this rate (1 / 0.5, exact in binary).
    assertThatThrownBy(() -> with("constant", 0.5, 0, 2).validate()).hasMessage("weightDecay must be below 1 / lr = 2.0"
        + " (each step scales the weights by 1 - lr * weightDecay), got 2.0");
  }
}
