package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.analysis.SoftmaxRegression;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README says how to use every option: a new option without a word there fails the build. And
 * where it gives the probes' stopping rules in numbers, they are the code's.
 */
class ReadmeOptionsTest {
  /** Where the README describes the options a class shares between commands. */
  private static final Map<Class<?>, String> SHARED_IN = Map.of(
      CommonOptions.class, "## Commands",
      RunOptions.class, "## Non-invertible baselines",
      RunOrModelOptions.class, "## Non-invertible baselines",
      RunOrProbedModelOptions.class, "## Non-invertible baselines",
      AnalysisOutput.class, "## Commands");

  record Section(String heading, String text) {}

  @Test
  void everyOptionOfEveryCommandIsInItsSection() throws IOException {
    List<Section> sections = sections(Files.readString(Path.of("../README.md")));
    List<String> missing = new ArrayList<>();
    walk(new CommandLine(new Main()), sections, missing);
    assertThat(missing).isEmpty();
  }

  @Test
  void anOptionTheReadmeDoesNotNameIsFound() {
    List<String> missing = new ArrayList<>();
    walk(new CommandLine(new Main()), List.of(new Section("### `train`", "### `train`\n`--arch`")), missing);
    assertThat(missing).contains("train --epochs").doesNotContain("train --arch");
  }

  @Test
  void theProbesStoppingRulesAreTheCodes() throws IOException {
    assertThat(stoppingRuleProblems(Files.readString(Path.of("../README.md")))).isEmpty();
  }

  @Test
  void aStoppingRuleTheCodeDoesNotHaveIsFound() throws IOException {
    String readme = Files.readString(Path.of("../README.md"));
    assertThat(stoppingRuleProblems(readme.replaceFirst("`max_iterations` is 3,000", "`max_iterations` is 2,000")))
        .containsExactly("the linear reader's iteration limit: 2000 in the README, 3000 in the code");
    assertThat(stoppingRuleProblems(readme.replace("`SoftmaxRegression.Stopping.LAYER_PROBES`", "the layer probes'")))
        .containsExactly("no sentence gives the layer probes' gradient tolerance");
  }

  /**
   * Where the README's sentences on {@code probe --layers} and {@code --linear} give the gradient
   * tolerance and iteration limit of {@link SoftmaxRegression.Stopping#LAYER_PROBES} and {@link
   * NuisanceProbe#LINEAR_READER}: each number that is not the code's, and each sentence not found
   * (reworded: then this test's patterns follow it).
   */
  static List<String> stoppingRuleProblems(String readme) {
    String text = readme.replaceAll("\\s+", " ");
    SoftmaxRegression.Stopping layers = SoftmaxRegression.Stopping.LAYER_PROBES, reader = NuisanceProbe.LINEAR_READER;
    String layersTolerance = "the layer probes' gradient tolerance", layersLimit = "the layer probes' iteration limit";
    String readerTolerance = "the linear reader's gradient tolerance", readerLimit = "the linear reader's iteration limit";
    List<String> problems = new ArrayList<>();
    compare(text, "exceeds (\\S+) \\(or after ([0-9,]+) iterations; `SoftmaxRegression.Stopping.LAYER_PROBES`",
        Map.of(layersTolerance, layers.gradientTolerance(), layersLimit, (double) layers.maxIterations()),
        List.of(layersTolerance, layersLimit), problems);
    compare(text, "gradient of (\\S+) rather than `--layers`' (\\S+): `NuisanceProbe.LINEAR_READER`",
        Map.of(readerTolerance, reader.gradientTolerance(), layersTolerance, layers.gradientTolerance()),
        List.of(readerTolerance, layersTolerance), problems);
    compare(text, "the reader's `max_iterations` is ([0-9,]+), not `--layers`' ([0-9,]+)\\)",
        Map.of(readerLimit, (double) reader.maxIterations(), layersLimit, (double) layers.maxIterations()),
        List.of(readerLimit, layersLimit), problems);
    return problems;
  }

  /**
   * Adds to {@code problems} each group of {@code sentence}'s first match in {@code text} (the
   * numbers {@code groups} name, in order) that is not the code's value, or that no sentence matches.
   */
  private static void compare(String text, String sentence, Map<String, Double> code, List<String> groups,
      List<String> problems) {
    Matcher m = Pattern.compile(sentence).matcher(text);
    if (!m.find()) {
      problems.add("no sentence gives " + groups.get(0));
      return;
    }
    for (int g = 0; g < groups.size(); g++) {
      double stated = Double.parseDouble(m.group(g + 1).replace(",", "")), expected = code.get(groups.get(g));
      if (stated != expected) {
        problems.add(groups.get(g) + ": " + number(stated) + " in the README, " + number(expected) + " in the code");
      }
    }
  }

  /** 3000 for 3,000 and 1e-4 as Java writes it (1.0E-4). */
  private static String number(double v) {
    return v >= 1 && v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  /** The README's sections: each "##" or "###" heading with the text up to the next. */
  static List<Section> sections(String readme) {
    Matcher m = Pattern.compile("(?m)^#{2,3} .*$").matcher(readme);
    List<int[]> at = new ArrayList<>();
    while (m.find()) at.add(new int[] {m.start(), m.end()});
    List<Section> out = new ArrayList<>();
    for (int i = 0; i < at.size(); i++) {
      int end = i + 1 < at.size() ? at.get(i + 1)[0] : readme.length();
      out.add(new Section(readme.substring(at.get(i)[0], at.get(i)[1]), readme.substring(at.get(i)[0], end)));
    }
    return out;
  }

  /**
   * Adds "command --option" to {@code missing} for each option whose names appear neither in a
   * section whose heading names the command ("### `train`", "## VAE with flow posteriors") nor,
   * for a shared option, where the README describes the options of its class.
   */
  private static void walk(CommandLine cl, List<Section> sections, List<String> missing) {
    String command = Main.commandAsTyped(cl.getCommandSpec());
    boolean leaf = cl.getParent() != null && cl.getSubcommands().isEmpty()
        && !(cl.getCommand() instanceof CommandLine.HelpCommand);
    if (leaf) {
      Pattern heading = Pattern.compile("(?i)\\b" + Pattern.quote(command) + "\\b");
      StringBuilder own = new StringBuilder();
      for (Section s : sections) if (heading.matcher(s.heading()).find()) own.append(s.text());
      for (OptionSpec o : cl.getCommandSpec().options()) {
        StringBuilder doc = new StringBuilder(own);
        if (declaringClass(o) != cl.getCommand().getClass()) {
          // Shared: a mixin's, or picocli's --help and --version, which the commands' introduction names.
          String where = SHARED_IN.getOrDefault(declaringClass(o), "## Commands");
          for (Section s : sections) if (s.heading().startsWith(where)) doc.append(s.text());
        }
        boolean named = false;
        for (String n : o.names()) named |= doc.indexOf(n) >= 0;
        if (!named) missing.add(command + " " + o.longestName());
      }
    }
    for (CommandLine sub : cl.getSubcommands().values()) walk(sub, sections, missing);
  }

  /** The class that declares the option's field: the command's own, or a mixin's. */
  private static Class<?> declaringClass(OptionSpec o) {
    return o.userObject() instanceof Field f ? f.getDeclaringClass() : Object.class;
  }
}
