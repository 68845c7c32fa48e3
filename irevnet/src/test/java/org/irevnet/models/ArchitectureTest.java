package org.irevnet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.host.Memory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** Validation bounds of {@link Architecture}: the smallest legal value of each field passes, the next one out fails. */
class ArchitectureTest {

  /** One stage with {@code stage} as its fields, {@code classes} classes. */
  private static String json(int classes, String stage) {
    return """
        {"name": "bounds", "type": "fi-revnet", "inputShape": [1, 4, 4], "numClasses": %d,
         "stages": [{%s}]}""".formatted(classes, stage);
  }

  private static final String STAGE = "\"steps\": 1, \"hidden\": 2, \"kernel\": 3, \"coupling\": \"affine\"";

  @Test
  void theSmallestLegalValuesAreAcceptedAndTheNextOnesOutAreNamed() {
    assertThat(Architecture.fromJson(json(2, STAGE)).numClasses()).isEqualTo(2);
    assertThatThrownBy(() -> Architecture.fromJson(json(1, STAGE)))
        .hasMessage("model.json: 'numClasses' must be >= 2, got 1");
    // Zero steps: a stage that only squeezes.
    assertThat(Architecture.fromJson(json(2, STAGE.replace("\"steps\": 1", "\"steps\": 0"))).stages().get(0).steps()).isZero();
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE.replace("\"steps\": 1", "\"steps\": -1"))))
        .hasMessage("model.json: stage 0: 'steps' must be >= 0");
    assertThat(Architecture.fromJson(json(2, STAGE.replace("\"hidden\": 2", "\"hidden\": 1"))).stages().get(0).hidden()).isEqualTo(1);
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE.replace("\"hidden\": 2", "\"hidden\": 0"))))
        .hasMessage("model.json: stage 0: 'hidden' must be >= 1");
    assertThat(Architecture.fromJson(json(2, STAGE.replace("\"kernel\": 3", "\"kernel\": 1"))).stages().get(0).kernel()).isEqualTo(1);
    for (int even : new int[] {0, 2}) {
      assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE.replace("\"kernel\": 3", "\"kernel\": " + even))))
          .hasMessage("model.json: stage 0: 'kernel' must be odd");
    }
    // The scale floor is a lower bound on exp-type scales: 0 (off) is legal, 1 would freeze every scale.
    Architecture floor = Architecture.fromJson(json(2, STAGE + ", \"scaleFloor\": 0.25"));
    assertThat(floor.stages().get(0).scaleFloorValue()).isEqualTo(0.25);
    assertThat(Architecture.fromJson(json(2, STAGE + ", \"scaleFloor\": 0.0")).stages().get(0).scaleFloorValue()).isZero();
    for (String bad : new String[] {"1.0", "-0.1"}) {
      assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE + ", \"scaleFloor\": " + bad)))
          .hasMessage("model.json: stage 0: 'scaleFloor' must be in [0, 1)");
    }
    // An additive coupling has no scale: the floor was accepted there and did nothing.
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE.replace("affine", "additive") + ", \"scaleFloor\": 0.05")))
        .hasMessage("model.json: stage 0: 'scaleFloor' bounds an affine coupling's scale; this stage's coupling is"
            + " additive, which has none");
    // A misspelt choice is echoed, as the coupling's is.
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE + ", \"permutation\": \"shuffle\"")))
        .hasMessage("model.json: stage 0: 'permutation' must be none, reverse or 1x1conv, got shuffle");
  }

  /**
   * A stage of {@code "steps": 0} has no coupling, so the keys that describe one are not asked
   * for (it was refused as "'hidden' must be >= 1"); with steps, each missing one is named as missing.
   */
  @Test
  void aStageWithoutStepsNeedsNoCouplingKeysAndOneWithStepsNamesTheMissingKey() throws Exception {
    Architecture squeezeOnly = Architecture.fromJson(json(2, "\"steps\": 0"));
    assertThat(squeezeOnly.stages().get(0).steps()).isZero();
    assertThat(squeezeOnly.parameterCount()).isZero();
    // What a checkpoint's model.json holds of it reads back as the same architecture.
    assertThat(Architecture.fromJson(squeezeOnly.toJson())).isEqualTo(squeezeOnly);
    assertThat(InvertibleClassifier.build(squeezeOnly, DataType.DOUBLE, 0).forward(
        org.nd4j.linalg.factory.Nd4j.rand(DataType.DOUBLE, 2, 1, 4, 4), false).z().shape()).containsExactly(2, 16);
    for (String key : new String[] {"hidden", "kernel", "coupling"}) {
      String without = STAGE.replaceAll(", \"" + key + "\": [^,]+|\"" + key + "\": [^,]+, ", "");
      assertThat(without).doesNotContain(key);
      assertThatThrownBy(() -> Architecture.fromJson(json(2, without))).as(key)
          .hasMessage("model.json: stage 0: '" + key + "' is missing (its 1 step(s) each have a coupling; a stage of"
              + " \"steps\": 0 needs none)");
    }
  }

  /**
   * What a hand-written architecture file can get wrong is refused in one line naming the file
   * and the key: before, a value of another JSON type was converted ("steps": "2" built 2 steps,
   * "actnorm": 1 turned ActNorm on), a key given twice or a second document was read over, and a
   * null document or stage (NullPointerException) or a weight
   * array beyond Java's (integer overflow) stopped the build with exit code 3.
   */
  @Test
  void whatAFileGetsWrongIsNamedNotGuessedAtNorACrash() {
    String[][] cases = {
        {STAGE.replace("\"steps\": 1", "\"steps\": \"2\""), "key 'stages[0].steps' must be an integer, got \"2\""},
        {STAGE.replace("\"hidden\": 2", "\"hidden\": \"2\""), "key 'stages[0].hidden' must be an integer, got \"2\""},
        {STAGE + ", \"actnorm\": 1", "key 'stages[0].actnorm' must be true or false, got 1"},
        {STAGE + ", \"squeeze\": \"false\"", "key 'stages[0].squeeze' must be true or false, got \"false\""},
        {STAGE + ", \"pad\": \"2\"", "key 'stages[0].pad' must be an integer, got \"2\""},
        {STAGE + ", \"scaleFloor\": \"0.1\"", "key 'stages[0].scaleFloor' must be a number, got \"0.1\""},
        // Read as 0: "steps": null made a stage of SpaceToDepth alone, whatever its couplings said.
        {STAGE.replace("\"steps\": 1", "\"steps\": null"), "key 'stages[0].steps' must be an integer, got null"},
        {STAGE.replace("\"kernel\": 3", "\"kernel\": null"), "key 'stages[0].kernel' must be an integer, got null"},
        {STAGE.replace("\"hidden\": 2", "\"hidden\": null"), "key 'stages[0].hidden' must be an integer, got null"},
        // Placed where Jackson found it (the end of the second "steps", column 80 of line 2).
        {STAGE + ", \"steps\": 2", "malformed architecture JSON at line 2, column 81: Duplicate field 'steps'"},
        // Left out, "steps" read as 0: a stage of SpaceToDepth alone, without a word.
        {STAGE.replace("\"steps\": 1, ", ""), "stage 0: 'steps' is missing (0 for a stage without couplings)"},
        {STAGE.replace("\"hidden\": 2", "\"hidden\": 100000"),
            "stage 0: one of its weight arrays would have 9.00e+10 entries (hidden 100000, kernel 3, 4 channels),"
                + " more than an array can hold (2147483647)"},
        {STAGE.replace("\"kernel\": 3", "\"kernel\": 2147483647"),
            "stage 0: one of its weight arrays would have 3.69e+19 entries (hidden 2, kernel 2147483647, 4 channels),"
                + " more than an array can hold (2147483647)"},
        {STAGE + ", \"pad\": 2000000000",
            "stage 0: one of its weight arrays would have 3.60e+10 entries (hidden 2, kernel 3, 2000000004 channels),"
                + " more than an array can hold (2147483647)"}};
    // Found only while building, after the stages before them were allocated, without the file or stage.
    String odd = """
        {"name": "odd", "type": "irevnet", "inputShape": [1, 6, 6], "numClasses": 2, "stages": [{%s}, {%s}]}"""
        .formatted(STAGE, STAGE);
    assertThatThrownBy(() -> Architecture.fromJson(odd)).hasMessage("model.json: stage 1: its SpaceToDepth(2) needs an"
        + " even height and width, its input is 4x3x3 (\"squeeze\": false skips it)");
    assertThat(Architecture.fromJson(odd.replace("[1, 6, 6]", "[1, 4, 4]")).stages()).hasSize(2);
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE + ", \"pad\": 1")))
        .hasMessage("model.json: stage 0: its couplings split the channels in halves, but it has 5");
    assertThat(Architecture.fromJson(json(2, STAGE.replace("\"steps\": 1", "\"steps\": 0") + ", \"pad\": 1"))
        .stages()).as("a stage without couplings splits nothing").hasSize(1);
    for (String[] c : cases) {
      assertThatThrownBy(() -> Architecture.fromJson(json(2, c[0]))).as(c[0]).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("model.json: " + c[1]);
    }
    // Misspelt, it is named as the unknown key it is, not as a missing "steps".
    assertThatThrownBy(() -> Architecture.fromJson(json(2, STAGE.replace("\"steps\"", "\"step\""))))
        .message().startsWith("model.json: unknown key 'stages[0].step'").doesNotContain("missing");
    // The largest array that fits passes the array check: the bound is Java's, not a guess. Its
    // 2.03e9 parameters need 30 GiB to train, so on a smaller machine the memory check refuses it.
    try {
      assertThat(Architecture.fromJson(json(2, STAGE.replace("\"hidden\": 2", "\"hidden\": 15000"))).stages().get(0)
          .hidden()).as("15000^2 * 9 = 2.03e9 entries").isEqualTo(15000);
    } catch (IllegalArgumentException tooLargeHere) {
      assertThat(tooLargeHere).hasMessageContaining("of memory this process may use").hasMessageNotContaining("array");
    }
    String whole = json(2, STAGE);
    String[][] documents = {
        {"null", "malformed architecture JSON: the file must hold one JSON object"},
        {whole + " {}", "malformed architecture JSON: the file must hold one JSON object"},
        {whole.replace("\"stages\": [{", "\"stages\": [null, {"), "stage 0: must be a JSON object, got null"},
        {whole.replace("\"numClasses\": 2", "\"numClasses\": null"), "key 'numClasses' must be an integer, got null"},
        {whole.replace("\"numClasses\": 2,", ""), "'numClasses' is missing (the number of classes, at least 2)"}};
    for (String[] d : documents) {
      assertThatThrownBy(() -> Architecture.fromJson(d[0])).as(d[0]).isInstanceOf(IllegalArgumentException.class)
          .message().startsWith("model.json: " + d[1]).doesNotContain("\n");
    }
  }

  /**
   * The count that the memory check goes by is the built model's, on every bundled architecture
   * and on stages with every option (1x1 convolutions, reversal, padding, no squeeze, both
   * couplings in both types).
   */
  @Test
  void theParameterCountIsTheBuiltModelsOnEveryArchitecture() {
    List<Architecture> archs = new ArrayList<>();
    for (String name : Architecture.BUNDLED) archs.add(Architecture.load(name));
    String[] stages = {
        "{\"steps\": 2, \"hidden\": 3, \"kernel\": 3, \"coupling\": \"affine\", \"actnorm\": true,"
            + " \"permutation\": \"1x1conv\"}, {\"steps\": 1, \"hidden\": 5, \"kernel\": 1, \"coupling\": \"additive\","
            + " \"squeeze\": false, \"pad\": 2, \"permutation\": \"reverse\"}",
        "{\"steps\": 1, \"hidden\": 4, \"kernel\": 5, \"coupling\": \"additive\", \"pad\": 4},"
            + " {\"steps\": 0, \"hidden\": 4, \"kernel\": 3, \"coupling\": \"affine\"}"};
    for (String type : new String[] {"fi-revnet", "irevnet"}) {
      for (String st : stages) {
        archs.add(Architecture.fromJson("""
            {"name": "options", "type": "%s", "inputShape": [2, 8, 8], "numClasses": 3, "stages": [%s]}"""
            .formatted(type, st)));
      }
    }
    for (Architecture a : archs) {
      assertThat(a.parameterCount()).as(a.name() + " " + a.type() + " " + a.stages())
          .isEqualTo(InvertibleClassifier.build(a, DataType.FLOAT, 0).params().count());
    }
  }

  /**
   * 100000 steps, or a stage wide enough, built for minutes and then ran out of memory; now both
   * are refused as the file is read, naming it, the parameter count and the memory they need.
   */
  @Test
  void aModelTooLargeToTrainIsRefusedBeforeItIsBuilt(@TempDir Path dir) throws Exception {
    String tiny = "\"hidden\": 1, \"kernel\": 1, \"coupling\": \"additive\"";
    assertThat(Architecture.fromJson(json(2, "\"steps\": " + Architecture.MAX_STEPS + ", " + tiny)).stages().get(0)
        .steps()).isEqualTo(Architecture.MAX_STEPS);
    Path deep = dir.resolve("deep.json");
    Files.writeString(deep, json(2, "\"steps\": 100000, " + tiny));
    assertThatThrownBy(() -> Architecture.load(deep.toString()))
        .hasMessage(deep + ": stage 0: 'steps' must be at most 1000, got 100000");
    // 1000 steps of a conditioner with 9 * 10000^2 weights in its middle convolution: 9.0e11
    // parameters, 9.8 TiB of training state.
    Path wide = dir.resolve("wide.json");
    Files.writeString(wide, json(2, "\"steps\": 1000, \"hidden\": 10000, \"kernel\": 3, \"coupling\": \"affine\""));
    long count = 1000L * (9L * 10000 * (2 + 10000 + 4) + 2 * 10000 + 4);
    assertThatThrownBy(() -> Architecture.load(wide.toString()))
        .hasMessageMatching(java.util.regex.Pattern.quote(wide + ": " + String.format(java.util.Locale.ROOT, "%,d", count) + " parameters need "
            + String.format(java.util.Locale.ROOT, "%.1f", count * 12.0 / (1L << 30)) + " GiB to train (12 bytes each:"
            + " values and Adam's two moments), more than the ") + "[0-9.]+ GiB of memory this process may use \\(.+\\)");
    // A depth multiplier is validated too: 3 steps times 2^30 overflowed to a negative count, which built none.
    assertThatThrownBy(() -> Architecture.load("irevnet-s").withDepthMultiplier(1 << 30))
        .hasMessage("irevnet-s-x1073741824: stage 0: 'steps' must be at most 1000, got 2147483647");
  }

  /** What fits is kept, a byte more is refused, naming what set the limit; an unknown memory size refuses nothing. */
  @Test
  void theMemoryBoundIsTwelveBytesAParameter() {
    String cgroup = "the cgroup limit in /sys/fs/cgroup/memory.max";
    Architecture.checkFitsInMemory("a.json", 1000, new Memory.Limit(12000, cgroup));
    assertThatThrownBy(() -> Architecture.checkFitsInMemory("a.json", 1000, new Memory.Limit(11999, cgroup)))
        .hasMessage("a.json: 1,000 parameters need 0.0 GiB to train (12 bytes each: values and Adam's two"
            + " moments), more than the 0.0 GiB of memory this process may use (" + cgroup + ")");
    Architecture.checkFitsInMemory("a.json", 1e15, new Memory.Limit(-1, "unknown"));
  }

  @Test
  void absentStageOptionsTakeTheirDefaultsAndGivenOnesAreKept() {
    Architecture.Stage plain = Architecture.fromJson(json(2, STAGE)).stages().get(0);
    // Squeezing is the default (every bundled stage starts with SpaceToDepth); the rest is off.
    assertThat(plain.hasSqueeze()).isTrue();
    assertThat(plain.hasActnorm()).isFalse();
    assertThat(plain.padChannels()).isZero();
    assertThat(plain.permutationKind()).isEqualTo("none");
    Architecture.Stage given = Architecture.fromJson(json(2, STAGE
        + ", \"squeeze\": false, \"actnorm\": true, \"pad\": 1, \"permutation\": \"reverse\"")).stages().get(0);
    assertThat(given.hasSqueeze()).isFalse();
    assertThat(given.hasActnorm()).isTrue();
    assertThat(given.padChannels()).isEqualTo(1);
    assertThat(given.permutationKind()).isEqualTo("reverse");
    assertThat(Architecture.fromJson(json(2, STAGE + ", \"squeeze\": true")).stages().get(0).hasSqueeze()).isTrue();
  }

  @Test
  void aDepthMultiplierScalesEveryStagesStepsAndNamesTheResult() {
    Architecture a = Architecture.load("irevnet-s");
    Architecture deep = a.withDepthMultiplier(3);
    assertThat(deep.name()).isEqualTo("irevnet-s-x3");
    assertThat(deep.stages()).extracting(Architecture.Stage::steps).containsExactly(9, 9, 9);
    assertThat(deep.stages()).extracting(Architecture.Stage::hidden).containsExactly(32, 64, 64);
    assertThat(a.withDepthMultiplier(1)).isEqualTo(a);
  }

  @Test
  void aFileLoadsTheSameArchitectureAsItsJson(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mine.json");
    Files.writeString(file, json(3, STAGE));
    assertThat(Architecture.load(file.toString())).isEqualTo(Architecture.fromJson(json(3, STAGE)));
    // Unclosed: the second line ends (column 17) inside the stages array opened at column 12.
    Files.writeString(file, "{\"name\": \"open\",\n \"stages\": [{}\n");
    assertThatThrownBy(() -> Architecture.load(file.toString())).hasMessage(file + ": malformed architecture JSON at"
        + " line 3, column 1: Unexpected end-of-input: expected close marker for Array (start marker at line 2,"
        + " column 12)");
  }

  /**
   * A run recorded --arch as typed, so a relative architecture file was read against wherever the
   * run was resumed from, and the same file spelled absolute was refused as another architecture.
   */
  @Test
  void anArchitectureFileIsRecordedAbsoluteAndNormalisedANameAsItIs(@TempDir Path tmp) throws Exception {
    Path cwd = Files.createDirectories(tmp.resolve("work"));
    Path file = Files.writeString(Files.createDirectories(cwd.resolve("arch")).resolve("tiny8.json"), "{}");
    assertThat(Architecture.recorded("arch/tiny8.json", cwd)).isEqualTo(file.toString());
    assertThat(Architecture.recorded("./arch/../arch/tiny8.json", cwd)).isEqualTo(file.toString());
    assertThat(Architecture.recorded(cwd + "/arch/./tiny8.json", cwd)).isEqualTo(file.toString());
    // A .. after a link is the parent of its target (as ls reads it), not the folder holding the link.
    Path behindLink = Files.writeString(Files.createDirectories(tmp.resolve("srv/archs")).resolve("tiny8.json"), "{}");
    Files.createSymbolicLink(cwd.resolve("lk"), Files.createDirectories(tmp.resolve("srv/archs/sub")));
    Files.writeString(cwd.resolve("tiny8.json"), "{}");
    assertThat(Architecture.recorded("lk/../tiny8.json", cwd)).isEqualTo(behindLink.toString());
    // Names stay names, a baseline's even beside a file of that name (train builds the baseline).
    assertThat(Architecture.recorded("fi-revnet-s", cwd)).isEqualTo("fi-revnet-s");
    Files.writeString(cwd.resolve("resnet-s"), "{}");
    assertThat(Architecture.recorded("resnet-s", cwd)).isEqualTo("resnet-s");
    // A file named as a bundled architecture is what load reads, so it is recorded as the file.
    Path shadow = Files.writeString(cwd.resolve("irevnet-s"), "{}");
    assertThat(Architecture.recorded("irevnet-s", cwd)).isEqualTo(shadow.toString());
    // A path to no file stays as typed: loading it is refused, naming it and where it was looked for.
    assertThat(Architecture.recorded("arch/none.json", cwd)).isEqualTo("arch/none.json");
    assertThat(Architecture.recorded(null, cwd)).isNull();
  }

  @Test
  void aRelativeArchitectureFileNotFoundSaysWhereItWasLookedFor() {
    Path looked = Path.of("").toAbsolutePath().resolve("no-such-dir/tiny8.json");
    assertThatThrownBy(() -> Architecture.load("no-such-dir/./tiny8.json"))
        .hasMessage("no-such-dir/./tiny8.json: architecture file not found (looked for " + looked + ")");
  }
}
