package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.irevnet.analysis.NuisanceProbe;
import org.irevnet.analysis.SoftmaxRegression;
import org.irevnet.train.IceConfig;
import org.irevnet.train.TrainConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code --help} says what every option and parameter of every command is. */
class HelpTextTest {
  /** "(default 64)", "default: 0.3", "(default 0,0.05)", "(default true)" in an option's description. */
  private static final Pattern STATED = Pattern.compile("default:? ([-+0-9.eE]+(?:,[-+0-9.eE]+)*|true|false)\\b");

  @Test
  void everyOptionAndParameterHasADescription() {
    List<String> bare = new ArrayList<>();
    walk(new CommandLine(new Main()), bare);
    assertThat(bare).isEmpty();
  }

  /**
   * A command lists only options it takes: those that need an invertible model listed --model and
   * --probe-layers, a DL4J network's, which they could only refuse; those that take DL4J networks
   * list --model, and those that look at a network's layers also --probe-layers (eval listed it,
   * and used only the logits).
   */
  @Test
  void aCommandListsNoOptionItOnlyRefuses() {
    CommandLine main = new CommandLine(new Main());
    for (String invertibleOnly : new String[] {"sample", "invert", "metamers", "interpolate"}) {
      CommandLine cl = main.getSubcommands().get(invertibleOnly);
      for (String dl4j : new String[] {"--model", "--probe-layers"}) {
        assertThat(cl.getCommandSpec().findOption(dl4j)).as(invertibleOnly + " " + dl4j).isNull();
        assertThat(cl.getUsageMessage()).as(invertibleOnly).doesNotContain(dl4j);
      }
      assertThat(cl.getCommandSpec().findOption("--run")).as(invertibleOnly).isNotNull();
    }
    for (String probesLayers : new String[] {"probe", "attack"}) {
      CommandLine cl = main.getSubcommands().get(probesLayers);
      assertThat(cl.getUsageMessage()).as(probesLayers).contains("--run", "--model", "--probe-layers");
    }
    CommandLine eval = main.getSubcommands().get("eval");
    assertThat(eval.getUsageMessage()).contains("--run", "--model").doesNotContain("--probe-layers");
    assertThat(eval.getCommandSpec().findOption("--probe-layers")).isNull();
  }

  /**
   * --no-progress, which every command takes, names the commands whose code reads it and no other:
   * every command's --help said it kept "train's step line every --log-every steps", which only
   * train prints.
   */
  @Test
  void noProgressNamesTheCommandsItQuiets() throws Exception {
    CommandLine main = new CommandLine(new Main());
    String text = String.join(" ", main.getSubcommands().get("eval").getCommandSpec().findOption("--no-progress")
        .description());
    Set<String> reading = new TreeSet<>();
    try (Stream<Path> files = Files.list(Path.of("src/main/java/org/irevnet/cli"))) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString().replace(".java", "");
        if (name.equals("CommonOptions") || !Files.readString(f).contains("common.noProgress")) continue;
        reading.add(Class.forName("org.irevnet.cli." + name).getAnnotation(CommandLine.Command.class).name());
      }
    }
    assertThat(reading).contains("train", "bench");
    for (String command : main.getSubcommands().keySet()) {
      assertThat(Pattern.compile("\\b" + command + "\\b").matcher(text).find()).as(command + " in: " + text)
          .isEqualTo(reading.contains(command));
    }
  }

  /**
   * report's --help names every section the report has (RunSections' list, read from its source):
   * it listed those of its first version, without the samples and the VAE sections added since.
   */
  @Test
  void reportHelpNamesEverySection() throws Exception {
    String help = String.join(" ", new CommandLine(new Main()).getSubcommands().get("report").getCommandSpec()
        .usageMessage().description()).toLowerCase(java.util.Locale.ROOT);
    Matcher m = Pattern.compile("new Spec\\(\"([a-z]+)\"")
        .matcher(Files.readString(Path.of("../reports/src/main/java/org/irevnet/reports/RunSections.java")));
    List<String> ids = new ArrayList<>();
    while (m.find()) ids.add(m.group(1));
    assertThat(ids).contains("training", "samples", "vae");
    for (String id : ids) {
      // The configuration is in every report, and "other" results are named by where they are.
      String named = id.equals("config") ? "run directories" : id.equals("other") ? "analysis/" : id;
      assertThat(help).as(id).contains(named);
    }
  }

  /** quickstart's --help says it trains --arch: it said "a CE and an iCE fi-revnet-s" whatever --arch said. */
  @Test
  void quickstartHelpSaysItTrainsTheArchitectureGiven() {
    String help = String.join(" ", new CommandLine(new Main()).getSubcommands().get("quickstart").getCommandSpec()
        .usageMessage().description());
    assertThat(help).contains("an iCE model of --arch").doesNotContain("iCE fi-revnet-s");
  }

  /**
   * A count of images larger than the split is cut to the split's size, without a word at run time
   * ("attack --count 100000" attacked 1000): the options say so.
   */
  @Test
  void countsOfImagesSayTheyAreAtMostTheSplitsSize() {
    CommandLine main = new CommandLine(new Main());
    String[][] counts = {{"attack", "--count"}, {"invert", "--count"}, {"export", "--count"}, {"probe", "--train-count"},
        {"probe", "--test-count"}};
    for (String[] c : counts) {
      String text = String.join(" ", main.getSubcommands().get(c[0]).getCommandSpec().findOption(c[1]).description());
      assertThat(text).as(c[0] + " " + c[1]).containsPattern("at most the (test )?split's size");
    }
  }

  /**
   * The gradient tolerances probe's help and its --epochs refusal give are those its linear probes
   * stop at ({@link SoftmaxRegression.Stopping#LAYER_PROBES}, {@link NuisanceProbe#LINEAR_READER}):
   * picocli's texts must be compile-time constants, so they write the numbers out, and a changed
   * constant left them saying the old one unseen.
   */
  @Test
  void probesHelpGivesTheTolerancesItsProbesStopAt() {
    CommandLine.Model.CommandSpec probe = new CommandLine(new Main()).getSubcommands().get("probe").getCommandSpec();
    double layers = SoftmaxRegression.Stopping.LAYER_PROBES.gradientTolerance();
    double reader = NuisanceProbe.LINEAR_READER.gradientTolerance();
    assertThat(numbersAfter("gradient of", String.join(" ", probe.usageMessage().description()))).containsExactly(layers);
    assertThat(numbersAfter("gradient of", String.join(" ", probe.findOption("--epochs").description())))
        .containsExactly(layers);
    String linear = String.join(" ", probe.findOption("--linear").description());
    assertThat(numbersAfter("gradient of", linear)).containsExactly(reader);
    assertThat(numbersAfter("stop at", linear)).containsExactly(layers);
    // The refusal comes before the run is read: no run is needed.
    MainTest.Run refused = MainTest.run("probe", "--run", "no-such-run", "--layers", "--epochs", "2");
    assertThat(refused.code()).isEqualTo(2);
    assertThat(numbersAfter("gradient of", refused.err())).as(refused.err()).containsExactly(layers);
  }

  /** The numbers ({@code 1e-4}, {@code 0.5}) that follow {@code words} in {@code text}, in order. */
  private static List<Double> numbersAfter(String words, String text) {
    Matcher m = Pattern.compile(Pattern.quote(words) + "\\s+([0-9.]+(?:e-?[0-9]+)?)").matcher(text);
    List<Double> found = new ArrayList<>();
    while (m.find()) found.add(Double.valueOf(m.group(1)));
    return found;
  }

  /** Where an option has a picocli default, a default its description states as a number is that one. */
  @Test
  void aStatedDefaultIsTheOptionsDefault() {
    List<String> wrong = new ArrayList<>(), checked = new ArrayList<>();
    statedDefaults(new CommandLine(new Main()), wrong, checked);
    assertThat(wrong).isEmpty();
    assertThat(checked).isNotEmpty();
  }

  private static void statedDefaults(CommandLine cl, List<String> wrong, List<String> checked) {
    for (OptionSpec o : cl.getCommandSpec().options()) {
      Matcher m = STATED.matcher(String.join(" ", o.description()));
      if (o.defaultValue() == null || !m.find() || m.group(1).matches("true|false")) continue;
      String option = Main.commandAsTyped(cl.getCommandSpec()) + " " + o.longestName();
      if (numbers(m.group(1)) == null || !numbers(m.group(1)).equals(numbers(o.defaultValue()))) {
        wrong.add(option + ": says " + m.group(1) + ", is " + o.defaultValue());
      }
      checked.add(option);
    }
    for (CommandLine sub : cl.getSubcommands().values()) statedDefaults(sub, wrong, checked);
  }

  /** A comma-separated list of numbers, or null if it is not one. */
  private static List<Double> numbers(String text) {
    try {
      return java.util.Arrays.stream(text.split(",")).map(Double::valueOf).toList();
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Test
  void anOptionWithoutADescriptionIsFound() {
    @CommandLine.Command(name = "probe-me")
    class Undescribed {
      @CommandLine.Option(names = "--size") int size;
      @CommandLine.Option(names = "--seed", description = "Seed.") int seed;
    }
    List<String> bare = new ArrayList<>();
    walk(new CommandLine(new Main()).addSubcommand(new CommandLine(new Undescribed())), bare);
    assertThat(bare).contains("probe-me --size").doesNotContain("probe-me --seed");
  }

  /**
   * A default that {@code train --help} states as a number or a boolean is the one the run gets
   * ({@link TrainConfig#defaults()}, {@link IceConfig#defaults()}): the options have no picocli
   * defaults (they override a --config file), so nothing else ties the text to the value.
   */
  @Test
  void trainHelpStatesTheConfigDefaults() throws Exception {
    List<String> checked = new ArrayList<>();
    for (OptionSpec o : new CommandLine(new TrainCommand()).getCommandSpec().options()) {
      Matcher m = STATED.matcher(String.join(" ", o.description()));
      if (!m.find()) continue;
      String name = o.longestName().substring(2);
      Object actual = configDefault(name);
      assertThat(actual).as(o.longestName() + " has no config field").isNotNull();
      if (actual instanceof Boolean) {
        assertThat(actual.toString()).as(o.longestName()).isEqualTo(m.group(1));
      } else {
        assertThat(((Number) actual).doubleValue()).as(o.longestName()).isEqualTo(Double.parseDouble(m.group(1)));
      }
      checked.add(name);
    }
    assertThat(checked).contains("epochs", "batch", "lr", "seed", "w-nc", "w-mle", "w-nc-warmup", "adv-standardize");
    CommandLine.Model.CommandSpec train = new CommandLine(new TrainCommand()).getCommandSpec();
    for (String[] text : new String[][] {{"--data", TrainConfig.defaults().data()}, {"--arch", TrainConfig.defaults().arch()}}) {
      assertThat(String.join(" ", train.findOption(text[0]).description())).as(text[0]).contains("(default " + text[1] + ")");
    }
  }

  /** The default of the config field an option sets ({@code --w-nc-warmup}: {@code wNcWarmupSteps}); null if none. */
  private static Object configDefault(String option) throws Exception {
    StringBuilder camel = new StringBuilder();
    for (String part : option.split("-")) {
      camel.append(camel.length() == 0 ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
    }
    for (Object defaults : new Object[] {TrainConfig.defaults(), IceConfig.defaults()}) {
      for (String field : List.of(camel.toString(), camel + "Steps")) {
        try {
          Method accessor = defaults.getClass().getMethod(field);
          return accessor.invoke(defaults);
        } catch (NoSuchMethodException e) {
          // not this record's, or not this name
        }
      }
    }
    return null;
  }

  private static void walk(CommandLine cl, List<String> bare) {
    String command = Main.commandAsTyped(cl.getCommandSpec());
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (String.join("", o.description()).isBlank()) bare.add(command + " " + o.longestName());
    }
    for (PositionalParamSpec p : cl.getCommandSpec().positionalParameters()) {
      if (String.join("", p.description()).isBlank()) bare.add(command + " " + p.paramLabel());
    }
    for (CommandLine sub : cl.getSubcommands().values()) walk(sub, bare);
  }
}
