package org.irevnet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module's packages are layers, as the modules are: no package uses, through others, itself.
 * A cycle makes every package on it one unit (none can be understood, tested or moved alone); the
 * four that had grown here were broken by moving a class each to the package it belongs with.
 */
class PackageCyclesTest {
  private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
  /** Imports and fully qualified names alike: a package name followed by a class name. */
  private static final Pattern REFERENCE = Pattern.compile("\\b(org\\.irevnet(?:\\.[a-z]\\w*)+)\\.[A-Z]");

  @Test
  void theModulesPackagesFormNoCycle() throws IOException {
    Map<String, Set<String>> uses = packageGraph(Path.of("src/main/java"));
    assertThat(uses.keySet()).as("the packages the scan found").contains("org.irevnet.nn", "org.irevnet.train");
    assertThat(cycles(uses)).as("packages that use each other, directly or through others").isEmpty();
  }

  @Test
  void theSearchFindsEveryCycleAndOnlyThose() {
    Map<String, Set<String>> uses = Map.of(
        "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"),
        "d", Set.of("e"), "e", Set.of(),
        "f", Set.of("g"), "g", Set.of("f", "a"));
    assertThat(cycles(uses)).containsExactlyInAnyOrder(List.of("a", "b", "c"), List.of("f", "g"));
    assertThat(cycles(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of()))).isEmpty();
  }

  /** For each package of the source tree, the other packages of this project it names. */
  static Map<String, Set<String>> packageGraph(Path sources) throws IOException {
    Map<String, Set<String>> uses = new TreeMap<>();
    try (Stream<Path> files = Files.walk(sources)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        String text = Files.readString(f);
        Matcher p = PACKAGE.matcher(text);
        if (!p.find()) continue;
        Set<String> used = uses.computeIfAbsent(p.group(1), k -> new TreeSet<>());
        Matcher r = REFERENCE.matcher(text);
        while (r.find()) {
          if (!r.group(1).equals(p.group(1))) used.add(r.group(1));
        }
      }
    }
    return uses;
  }

  /** The strongly connected components of more than one package (Tarjan), each sorted. */
  static List<List<String>> cycles(Map<String, Set<String>> uses) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new HashSet<>();
    List<List<String>> found = new ArrayList<>();
    for (String v : new TreeSet<>(uses.keySet())) {
      if (!index.containsKey(v)) connect(v, uses, index, low, stack, onStack, found);
    }
    return found;
  }

  private static void connect(String v, Map<String, Set<String>> uses, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<List<String>> found) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (String w : uses.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, uses, index, low, stack, onStack, found);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      List<String> component = new ArrayList<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) found.add(component.stream().sorted().toList());
    }
  }
}
