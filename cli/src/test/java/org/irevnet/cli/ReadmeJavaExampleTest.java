package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Using it from Java" program compiles against the modules as they are and runs on a
 * tiny run: nothing else checked that what the README tells Java users exists, and an API change
 * would leave the example broken without a word.
 */
class ReadmeJavaExampleTest {
  static final String HEADING = "## Using it from Java";

  /** The section's Java block; fails, naming the section, if there is none. */
  static String example(String readme) {
    int at = readme.indexOf("\n" + HEADING + "\n");
    assertThat(at).as("README.md has a section '%s'", HEADING).isNotNegative();
    int next = readme.indexOf("\n## ", at + 1);
    String section = readme.substring(at, next < 0 ? readme.length() : next);
    Matcher code = Pattern.compile("(?s)\n```java\n(.*?)\n```\n").matcher(section);
    assertThat(code.find()).as("a ```java block in '%s'", HEADING).isTrue();
    return code.group(1);
  }

  /** The number {@code out} prints after {@code label}, as printed; fails, naming the label, if none. */
  static String printed(String out, String label) {
    Matcher m = Pattern.compile(Pattern.quote(label) + " (-?[0-9.]+(?:e[-+][0-9]+)?)").matcher(out);
    assertThat(m.find()).as("'%s' followed by a number in:%n%s", label, out).isTrue();
    return m.group(1);
  }

  static double number(String out, String label) {
    return Double.parseDouble(printed(out, label));
  }

  /**
   * Every {@code Class.member} of one of the modules' classes that the README names in code
   * (`NuisanceProbe.measure(...)`, `Tensors.rows`) is a public method or field of that class: a
   * renamed method left such sentences pointing at nothing.
   */
  @Test
  void everyClassMemberTheReadmeNamesInCodeExists() throws Exception {
    java.util.Map<String, String> classes = new java.util.HashMap<>();
    for (String module : List.of("irevnet", "analysis", "attacks", "reports", "cli")) {
      Path root = Path.of("..", module, "src", "main", "java");
      try (java.util.stream.Stream<Path> files = Files.walk(root)) {
        files.filter(f -> f.toString().endsWith(".java")).forEach(f -> classes.put(f.getFileName().toString()
            .replace(".java", ""), root.relativize(f).toString().replace(".java", "").replace('/', '.')));
      }
    }
    Matcher span = Pattern.compile("`([^`\n]+)`").matcher(Files.readString(Path.of("..", "README.md")));
    java.util.Set<String> named = new java.util.TreeSet<>(), missing = new java.util.TreeSet<>();
    while (span.find()) {
      Matcher ref = Pattern.compile("\\b([A-Z][A-Za-z0-9]*)\\.([a-z][A-Za-z0-9]*)\\b").matcher(span.group(1));
      while (ref.find()) {
        String type = classes.get(ref.group(1));
        if (type == null) continue;
        named.add(ref.group(1) + "." + ref.group(2));
        Class<?> c = Class.forName(type);
        boolean exists = java.util.Arrays.stream(c.getMethods()).anyMatch(m -> m.getName().equals(ref.group(2)))
            || java.util.Arrays.stream(c.getFields()).anyMatch(f -> f.getName().equals(ref.group(2)));
        if (!exists) missing.add(ref.group(1) + "." + ref.group(2));
      }
    }
    assertThat(named).as("the README names the Java API somewhere").contains("NuisanceProbe.measure", "Tensors.rows");
    assertThat(missing).as("named in README.md, but no public method or field of that name").isEmpty();
  }

  @Test
  void theReadmesJavaExampleCompilesAndPrintsTheRunsNumbers(@TempDir Path tmp) throws Exception {
    String source = example(Files.readString(Path.of("..", "README.md")));
    Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
    assertThat(name.find()).as("the example declares a public class").isTrue();
    Path src = Files.createDirectories(tmp.resolve("src")), classes = Files.createDirectories(tmp.resolve("classes"));
    Path file = Files.writeString(src.resolve(name.group(1) + ".java"), source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    boolean compiled = javac.getTask(diagnostics, null, null, List.of("-d", classes.toString(), "-cp",
        System.getProperty("java.class.path"), "-Xlint:none"), null,
        javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(file.toFile())).call();
    assertThat(compiled).as("README.md's example compiles:%n%s", diagnostics).isTrue();

    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    PrintStream stdout = System.out;
    Locale locale = Locale.getDefault();
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      // Main sets Locale.ROOT; the example's printf uses the default one.
      Locale.setDefault(Locale.ROOT);
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      loader.loadClass(name.group(1)).getMethod("main", String[].class).invoke(null, (Object) new String[] {tiny.dir().toString()});
    } finally {
      System.setOut(stdout);
      Locale.setDefault(locale);
    }
    String out = printed.toString(StandardCharsets.UTF_8);

    assertThat(out).as(out).startsWith("tiny (fi-revnet, bijective)");
    // The command line's eval of the same run: the same checkpoint and test split, loaded through RunInputs.
    MainTest.Run eval = MainTest.run("eval", "--run", tiny.dir().toString());
    assertThat(eval.code()).as(eval.err()).isZero();
    double accuracy = Json.read(tiny.dir().resolve("eval-test.json"), "eval").path("accuracy").asDouble();
    assertThat(printed(out, "test accuracy")).as(out).isEqualTo(String.format(Locale.ROOT, "%.4f", accuracy));
    assertThat(number(out, "inverse error")).as(out).isLessThan(1e-4);
    assertThat(number(out, "logit difference")).as(out).isLessThan(1e-3);
    assertThat(printed(out, "metamer class")).as("the metamer has a's class: " + out).isEqualTo(printed(out, "a's"));
    // The command line's PGD of the example's (the first 16 test images, eps 0.03, 10 steps of the
    // default length, no random start): its clean and attacked accuracies are the example's.
    MainTest.Run attack = MainTest.run("attack", "--run", tiny.dir().toString(), "--attack", "pgd-linf", "--eps", "0.03",
        "--steps", "10", "--count", "16", "--batch", "16", "--no-progress");
    assertThat(attack.code()).as(attack.err()).isZero();
    com.fasterxml.jackson.databind.JsonNode pgd = Json.read(tiny.dir().resolve("analysis/attack-pgd-linf.json"), "attack");
    assertThat(printed(out, "batch accuracy")).as(out)
        .isEqualTo(String.format(Locale.ROOT, "%.4f", pgd.path("clean_accuracy").asDouble()));
    com.fasterxml.jackson.databind.JsonNode atEps = pgd.path("curve").get(pgd.path("curve").size() - 1);
    assertThat(atEps.path("eps").asDouble()).isEqualTo(0.03);
    assertThat(printed(out, "PGD accuracy")).as(out).isEqualTo(String.format(Locale.ROOT, "%.4f", atEps.path("accuracy").asDouble()));
  }
}
