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
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The README says how to use every option: a new option without a word there fails the build. */
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
