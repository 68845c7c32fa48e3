package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java names the README and the pages of {@link #DOCS} give in backticks exist: a class or test
 * renamed, a method moved or given another parameter list, left "use {@code Tensors.rows(x, from,
 * to)}" naming nothing, and no other test reads the prose (ReadmeJavaExampleTest compiles the one
 * example, in its code fence). Named ReadmeJavaNamesTest until it read docs/ too.
 * A name is a span that is wholly a Java reference: {@code org.irevnet.PACKAGE[.Type...]}, or a type
 * name (a capital, then a lower-case letter somewhere, no underscore: {@code D_nc} is mathematics)
 * followed by members and argument lists, e.g. {@code Sequential.builder(shape).add(name, block)}.
 * Types are the project's (any module, main or test sources) or the DL4J/ND4J classes of {@link
 * #EXTERNAL}; members are looked up by reflection where the class is on this module's class path
 * (every main class, and the irevnet module's tests), and with their number of arguments where the
 * span gives them, following the return type along a chain.
 */
class DocsJavaNamesTest {
  private static final List<String> MODULES = List.of("irevnet", "analysis", "attacks", "reports", "cli");

  /** Other libraries' and the JDK's classes the README and {@link #DOCS} name, by the simple name they use. */
  private static final Map<String, String> EXTERNAL = Map.of(
      "ComputationGraph", "org.deeplearning4j.nn.graph.ComputationGraph",
      "MultiLayerNetwork", "org.deeplearning4j.nn.multilayer.MultiLayerNetwork",
      "ModelSerializer", "org.deeplearning4j.util.ModelSerializer",
      "OutputLayer", "org.deeplearning4j.nn.conf.layers.OutputLayer",
      "LossLayer", "org.deeplearning4j.nn.conf.layers.LossLayer",
      "ActivationLayer", "org.deeplearning4j.nn.conf.layers.ActivationLayer",
      // the layer's implementation, whose preOutput the README names
      "BatchNormalization", "org.deeplearning4j.nn.layers.normalization.BatchNormalization",
      "Adam", "org.nd4j.linalg.learning.config.Adam",
      "INDArray", "org.nd4j.linalg.api.ndarray.INDArray",
      "SplittableRandom", "java.util.SplittableRandom");

  /** Words in type form that name no class: a value and an algorithm. */
  private static final Set<String> WORDS = Set.of("NaN", "AdamW");

  private static final Pattern SPAN = Pattern.compile("`([^`]+)`");
  private static final Pattern REFERENCE = Pattern.compile(
      "(?:org\\.irevnet(?:\\.[a-z]\\w*)*|[A-Z](?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]*)(?:\\.\\w+|\\(.*?\\))*(?:\\.\\.\\..*)?");
  private static final Pattern TYPE_DECLARATION = Pattern.compile("\\b(?:class|record|interface|enum)\\s+(\\w+)");

  /**
   * The pages of docs/ that describe the code as it is (report.md's classes, shortcuts.md's, the
   * decisions' reasons); testing.md and measurements.md record what was run at their time, under
   * the names of that time.
   */
  static final List<String> DOCS = List.of("docs/report.md", "docs/shortcuts.md", "docs/decisions.md");

  @Test
  void everyJavaNameOfTheReadmeExists() throws IOException {
    Path root = Path.of("..");
    assertThat(problems(Files.readString(root.resolve("README.md")), sources(root))).isEmpty();
  }

  @Test
  void everyJavaNameOfTheDocsExists() throws IOException {
    Path root = Path.of("..");
    Map<String, List<Path>> sources = sources(root);
    List<String> problems = new ArrayList<>();
    for (String doc : DOCS) problems.addAll(problems(doc, Files.readString(root.resolve(doc)), sources));
    assertThat(problems).isEmpty();
  }

  @Test
  void aMisnamedClassOrMemberIsFound() throws IOException {
    String text = """
        Take rows with `Tensors.rows(x, from, to)` (not `Tensors.rowz(x, 0, 1)` or `Tensors.rows(x)`),
        `Sequential.builder(shape).add(name, block)...build()`, `org.irevnet.cnf.MlpDynamics.Weights.vjp`,
        `org.irevnet.layerz.Bijection`, `org.irevnet.layers.Bijektion`, `BijectionContrakt`, `D_nc`, `NaN`,
        `ComputationGraph.feedForward(x, false)`, `ComputationGraph.feedBackward`, `Sequential.builder(shape).addd(name, block)`
        ```java
        Tensors.notChecked(x);
        ```
        `Try 'irevnet COMMAND --help'.` and `BlockCatalog.Spec` and `BijectionContract`""";
    assertThat(problems(text, sources(Path.of("..")))).containsExactly(
        "README.md:1: `Tensors.rowz(x, 0, 1)`: Tensors has no member rowz with 3 arguments",
        "README.md:1: `Tensors.rows(x)`: Tensors has no member rows with 1 argument",
        "README.md:3: `org.irevnet.layerz.Bijection`: no package org.irevnet.layerz",
        "README.md:3: `org.irevnet.layers.Bijektion`: no class Bijektion in org.irevnet.layers",
        "README.md:3: `BijectionContrakt`: no class BijectionContrakt in the project's sources"
            + " (a DL4J/ND4J class goes in DocsJavaNamesTest.EXTERNAL)",
        "README.md:4: `ComputationGraph.feedBackward`: ComputationGraph has no member feedBackward",
        "README.md:4: `Sequential.builder(shape).addd(name, block)`: Builder has no member addd with 2 arguments");
    // A page of docs/ is named as such, and the JDK's and ND4J's classes it names are looked up there.
    String doc = "`org.irevnet.reports.RunSectionz` reads; `INDArray.close()`, `INDArray.equals`, `SplittableRandom`,"
        + " `INDArray.closse()`";
    assertThat(problems("docs/report.md", doc, sources(Path.of("..")))).containsExactly(
        "docs/report.md:1: `org.irevnet.reports.RunSectionz`: no class RunSectionz in org.irevnet.reports",
        "docs/report.md:1: `INDArray.closse()`: INDArray has no member closse with 0 arguments");
  }

  /** Every .java file of the modules' main and test sources, by the simple names of the types it declares. */
  static Map<String, List<Path>> sources(Path root) throws IOException {
    Map<String, List<Path>> byName = new HashMap<>();
    for (String module : MODULES) {
      for (String set : List.of("main", "test")) {
        Path dir = root.resolve(module).resolve("src").resolve(set).resolve("java");
        if (!Files.isDirectory(dir)) continue;
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
            String name = f.getFileName().toString().replace(".java", "");
            byName.computeIfAbsent(name, k -> new ArrayList<>()).add(f);
          }
        }
      }
    }
    return byName;
  }

  /** {@link #problems(String, String, Map)} of the README's text. */
  static List<String> problems(String text, Map<String, List<Path>> sources) throws IOException {
    return problems("README.md", text, sources);
  }

  /** "FILE:LINE: `SPAN`: what is missing" for each Java name of {@code text} (outside code fences) that does not exist. */
  static List<String> problems(String file, String text, Map<String, List<Path>> sources) throws IOException {
    // Fences blanked, line breaks kept: a span may wrap onto the next line.
    StringBuilder prose = new StringBuilder();
    boolean fenced = false;
    for (String line : text.split("\n", -1)) {
      boolean fence = line.startsWith("```");
      prose.append(fenced || fence ? "" : line).append('\n');
      if (fence) fenced = !fenced;
    }
    List<String> problems = new ArrayList<>();
    Matcher m = SPAN.matcher(prose);
    while (m.find()) {
      String span = m.group(1).replace('\n', ' ');
      if (!REFERENCE.matcher(span).matches() || span.split("[.(]")[0].contains("_") || WORDS.contains(span)) continue;
      String problem = problem(span, sources);
      if (problem != null) {
        int line = 1 + (int) prose.substring(0, m.start()).chars().filter(c -> c == '\n').count();
        problems.add(file + ":" + line + ": `" + span + "`: " + problem);
      }
    }
    return problems;
  }

  private record Segment(String name, Integer arguments) {}

  /** What of {@code span} does not exist, or null. */
  private static String problem(String span, Map<String, List<Path>> sources) throws IOException {
    List<Segment> segments = segments(span);
    String first = segments.get(0).name();
    List<String> candidates = new ArrayList<>();
    int member = 1;
    if (first.equals("org")) {
      // org.irevnet.PACKAGE...: the package is a directory of some module's sources.
      StringBuilder pkg = new StringBuilder();
      int i = 0;
      while (i < segments.size() && Character.isLowerCase(segments.get(i).name().charAt(0))) {
        pkg.append(i == 0 ? "" : ".").append(segments.get(i++).name());
      }
      String dir = pkg.toString().replace('.', '/');
      boolean exists = false;
      for (List<Path> files : sources.values()) {
        for (Path f : files) exists |= f.getParent().toString().replace('\\', '/').endsWith("/java/" + dir);
      }
      if (!exists) return "no package " + pkg;
      if (i == segments.size()) return null;
      String type = segments.get(i).name();
      for (Path f : sources.getOrDefault(type, List.of())) {
        if (f.getParent().toString().replace('\\', '/').endsWith("/java/" + dir)) candidates.add(pkg + "." + type);
      }
      if (candidates.isEmpty()) return "no class " + type + " in " + pkg;
      member = i + 1;
    } else if (EXTERNAL.containsKey(first)) {
      candidates.add(EXTERNAL.get(first));
    } else {
      for (Path f : sources.getOrDefault(first, List.of())) candidates.add(qualifiedName(f));
      if (candidates.isEmpty()) {
        return "no class " + first + " in the project's sources (a DL4J/ND4J class goes in DocsJavaNamesTest.EXTERNAL)";
      }
    }
    String last = null;
    for (String c : candidates) {
      last = members(c, segments.subList(member, segments.size()), sources);
      if (last == null) return null;
    }
    return last;
  }

  /** The span's identifiers with their argument counts (null: no argument list), up to a "...". */
  private static List<Segment> segments(String span) {
    List<Segment> out = new ArrayList<>();
    int i = 0;
    while (i < span.length() && !span.startsWith("...", i)) {
      int start = i;
      while (i < span.length() && (Character.isLetterOrDigit(span.charAt(i)) || span.charAt(i) == '_')) i++;
      String name = span.substring(start, i);
      Integer arguments = null;
      if (i < span.length() && span.charAt(i) == '(') {
        int depth = 0, commas = 0;
        boolean any = false;
        for (; i < span.length(); i++) {
          char ch = span.charAt(i);
          if (ch == '(') depth++;
          else if (ch == ')' && --depth == 0) break;
          else if (ch == ',' && depth == 1) commas++;
          else if (!Character.isWhitespace(ch)) any = true;
        }
        i++;
        arguments = any ? commas + 1 : 0;
      }
      out.add(new Segment(name, arguments));
      if (i < span.length() && span.charAt(i) == '.' && !span.startsWith("...", i)) i++;
    }
    return out;
  }

  private static String qualifiedName(Path file) throws IOException {
    Matcher p = Pattern.compile("(?m)^package ([\\w.]+);").matcher(Files.readString(file));
    String name = file.getFileName().toString().replace(".java", "");
    return p.find() ? p.group(1) + "." + name : name;
  }

  /**
   * What of {@code members} class {@code qualified} lacks, or null: by reflection, or in its source
   * file where the class is not on this module's class path (another module's tests).
   */
  private static String members(String qualified, List<Segment> members, Map<String, List<Path>> sources)
      throws IOException {
    Class<?> type;
    try {
      type = Class.forName(qualified, false, DocsJavaNamesTest.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      String simple = qualified.substring(qualified.lastIndexOf('.') + 1);
      for (Segment s : members) {
        boolean declared = false;
        for (Path f : sources.get(simple)) {
          String code = Files.readString(f);
          declared |= Pattern.compile("\\b" + Pattern.quote(s.name()) + "\\s*\\(").matcher(code).find()
              || TYPE_DECLARATION.matcher(code).results().anyMatch(r -> r.group(1).equals(s.name()));
        }
        if (!declared) return simple + " has no member " + s.name();
      }
      return null;
    }
    for (Segment s : members) {
      Class<?> next = member(type, s);
      if (next == null) {
        return type.getSimpleName() + " has no member " + s.name() + (s.arguments() == null ? ""
            : " with " + s.arguments() + (s.arguments() == 1 ? " argument" : " arguments"));
      }
      type = next;
    }
    return null;
  }

  /** The type {@code s} of {@code type} leads to (a nested type, a method's return type, a field's type), or null. */
  private static Class<?> member(Class<?> type, Segment s) {
    for (Class<?> k = type; k != null; k = k.getSuperclass()) {
      if (s.arguments() == null) {
        for (Class<?> nested : k.getDeclaredClasses()) if (nested.getSimpleName().equals(s.name())) return nested;
        for (Field f : k.getDeclaredFields()) if (f.getName().equals(s.name())) return f.getType();
      }
      List<Method> methods = new ArrayList<>(List.of(k.getDeclaredMethods()));
      if (k == type) methods.addAll(List.of(k.getMethods())); // interfaces' default methods too
      for (Method m : methods) {
        int n = m.getParameterCount();
        if (m.getName().equals(s.name()) && (s.arguments() == null || s.arguments() == n
            || m.isVarArgs() && s.arguments() >= n - 1)) {
          return m.getReturnType();
        }
      }
    }
    // An interface has no superclass, and its getMethods() leave out Object's (INDArray.equals).
    return type.isInterface() ? member(Object.class, s) : null;
  }
}
