package org.irevnet.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The example command lines of markdown files and shell scripts, and whether the command line
 * accepts them ({@link DocumentedCommandsTest} says which files and why).
 *
 * <p>What counts as an example: in markdown, a line of a fenced block where {@code bin/irevnet}
 * is a command (the first word of the line or of a part after ";" or "&&", after a "$ " prompt,
 * "do", "nice -n N" or VAR=value), and an inline code span that starts with it (or, where {@link
 * #markdown(String, String, boolean)} is asked to, a <em>fragment</em>: a command's name followed by options
 * without the program, "`train --data fashion-mnist --w-mle 0`", as the README's tables name the runs
 * they measured); in a script also
 * the shell function {@code irevnet} (with the arguments its definition appends, lib.sh's
 * "--threads $THREADS --no-progress") and lib.sh's {@code train_once RUN ARGS}, which runs
 * {@code irevnet train} with ARGS. Backslash-continued lines are joined; comments and redirections
 * are dropped, and in a script what follows a pipe. A command whose arguments start with "$@" is a wrapper
 * handing on its caller's arguments, no example; "$@" elsewhere is empty (the caller's extra
 * options). Shell variables take the values the file gives them: each word of a for loop in turn,
 * each assignment, an array's words, ${X:-default}'s default; those a file cannot give (the
 * environment, positional parameters, command substitutions) come from {@link #PLAUSIBLE}, and a
 * variable with no value at all is a failure, not a guess.
 *
 * <p>Two kinds of line. A concrete command line is parsed whole, as the shell would hand it over
 * ({@link CommandLine#parseArgs}, never executed): it must name a command, options that exist,
 * values of their type, and every required option. A synopsis, a line with "[", "]", "(", ")",
 * "|" or "..." or with an ALL-CAPS placeholder (N, DIR, RUN_DIR, I,J,..., COMMAND), is checked
 * option by option: each option must exist in its command and be written with a value exactly
 * when it takes one, and each alternative of that value ("cosine|step|constant") must convert to
 * the option's type unless it is a placeholder. In both kinds, a value of an option with a closed
 * set of words (its completion candidates, {@link Choices}) must be one of them. A synopsis's other
 * words (placeholders, "both") are not checked. A fragment is checked as a synopsis, but leaves out
 * required options by design, and an option in it written without its value is a mention of the
 * option ("`bench --peer` runs ..."), not a value left out.
 */
final class DocumentedCommands {
  /** Values of what the files do not set: the environment, arguments, command substitutions. */
  static final Map<String, String> PLAUSIBLE = Map.of(
      "root", "/home/me/irevnet-workbench", // "$(cd "$(dirname ...)/.." && pwd)"
      "1", "run-name", // a function's first argument: lib.sh's train_once's run
      "MAX_STEPS", "400", // density.sh: "DATA=fashion-mnist EPOCHS=1 MAX_STEPS=400"
      "seed", "1"); // seeds.sh: an argument, "$((10#$word))"

  /** The command names a fragment starts with (help's takes a command name, no options). */
  private static final List<String> COMMANDS = Main.commandLine().getSubcommands().keySet().stream()
      .filter(c -> !c.equals("help")).toList();

  /** More combinations of a line's variable values than this are not all checked. */
  private static final int MAX_EXPANSIONS = 64;

  private static final Pattern PLACEHOLDER =
      Pattern.compile("([A-Z][A-Z0-9_]*|\\.\\.\\.)(,([A-Z][A-Z0-9_]*|\\.\\.\\.))*(\\.\\.\\.)?");
  private static final Pattern DEFAULT = Pattern.compile("\\$\\{\\w+:-([^{}]*)\\}");
  private static final Pattern ARRAY =
      Pattern.compile("\\$\\{(\\w+)\\[@\\]\\+\"\\$\\{\\1\\[@\\]\\}\"\\}|\"\\$\\{(\\w+)\\[@\\]\\}\"");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)\\}|\\$(\\w+)");
  private static final Pattern BASENAME = Pattern.compile("\\$\\(basename\\s+([^()]*)\\)");
  private static final Pattern FOR = Pattern.compile("\\bfor (\\w+) in (.+?); do\\b");
  private static final Pattern ASSIGNMENT = Pattern.compile("(?<![\\w$/{:\"'=-])(\\w+)(\\+?)=(?!=)");
  /** bin/irevnet, "$root/bin/irevnet", or the jar run by hand ("java -Xmx2g -jar cli/target/irevnet-cli.jar"). */
  private static final Pattern PROGRAM = Pattern.compile(
      "^(\"?(\\$\\{?\\w+\\}?/)?bin/irevnet\"?|java(\\s+-\\S+)*?\\s+-jar\\s+\\S*irevnet-cli\\.jar)(?=\\s|$)");
  private static final Pattern PREFIX =
      Pattern.compile("^(\\$|do|then|else|time|!|nice(\\s+-n\\s*-?\\d+)?|\\w+=\\S*)\\s+");

  /**
   * An example command line: where it is, and its arguments for each combination of variable
   * values; {@code fragment}: an inline span naming a command without the program, so its
   * options are checked one by one, never the line whole.
   */
  record Example(String where, List<List<Token>> expansions, boolean fragment) {}

  /** A shell word; quoted: some of it was in quotes, so none of it is synopsis syntax. */
  record Token(String text, boolean quoted) {}

  record Line(int number, String text) {}

  /** Variables of one file: scalars with their alternative values, arrays with their words (both raw shell text). */
  record Variables(Map<String, List<String>> scalars, Map<String, List<String>> arrays) {
    static Variables none() {
      return new Variables(new LinkedHashMap<>(), new LinkedHashMap<>());
    }
  }

  /** What a script's function {@code irevnet} appends, and what lib.sh's train_once puts before its ARGS. */
  record Wrappers(String functionSuffix, String trainOncePrefix, Variables variables) {
    static final Wrappers NONE = new Wrappers(null, null, Variables.none());
  }

  final List<Example> examples = new ArrayList<>();
  final List<String> failures = new ArrayList<>();

  /** Adds the examples of a markdown file: its fenced blocks' lines and its inline code spans. */
  void markdown(String name, String text) {
    markdown(name, text, false);
  }

  /**
   * Adds the examples of a markdown file, with its fragments when {@code withFragments}: the
   * README's, which tell users what to type. docs/testing.md and measurements.md record command
   * lines of their time, refused ones among them ("`data shortcut --out \"\" --force` replaced
   * the working directory").
   */
  void markdown(String name, String text, boolean withFragments) {
    String[] lines = text.split("\n", -1);
    List<Line> code = new ArrayList<>();
    StringBuilder prose = new StringBuilder();
    List<Line> block = new ArrayList<>();
    boolean fenced = false;
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].strip().startsWith("```")) {
        if (fenced) code.addAll(joinContinued(block));
        block.clear();
        fenced = !fenced;
      } else if (fenced) {
        block.add(new Line(i + 1, lines[i]));
      }
      prose.append(fenced || lines[i].strip().startsWith("```") ? "" : lines[i]).append('\n');
    }
    Matcher span = Pattern.compile("`([^`]+)`").matcher(prose);
    List<Line> fragments = new ArrayList<>();
    while (span.find()) {
      String inline = span.group(1).replace('\n', ' ');
      int line = 1 + (int) prose.substring(0, span.start()).chars().filter(c -> c == '\n').count();
      if (PROGRAM.matcher(inline.strip().replaceFirst("^\\$\\s+", "")).find()) {
        code.add(new Line(line, inline));
      } else if (withFragments && fragment(inline)) {
        fragments.add(new Line(line, "bin/irevnet " + inline.strip()));
      }
    }
    code = preprocess(code);
    commands(name, code, false, Wrappers.NONE, variables(code), false);
    commands(name, preprocess(fragments), false, Wrappers.NONE, variables(code), true);
  }

  /**
   * Whether an inline span is a command's name followed by at least one option: the README's
   * tables name the runs they measured so ("`train --data fashion-mnist --epochs 1 --threads 1`"),
   * and a renamed option left them naming an option that no longer exists unchecked.
   */
  private static boolean fragment(String inline) {
    List<String> words = List.of(inline.strip().split("\\s+"));
    return words.size() > 1 && COMMANDS.contains(words.get(0)) && words.stream().anyMatch(w -> w.startsWith("--"));
  }

  /** Adds the examples of a script; {@code lib} is lib.sh's text when the script sources it, else null. */
  void script(String name, String text, String lib) {
    List<Line> code = preprocess(joinContinued(numbered(text)));
    Wrappers wrappers = wrappers(lib == null ? text : lib);
    Variables own = variables(code);
    commands(name, code, true, wrappers, lib == null ? own : withFallback(own, wrappers.variables()), false);
  }

  private static List<Line> numbered(String text) {
    String[] lines = text.split("\n", -1);
    List<Line> out = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) out.add(new Line(i + 1, lines[i]));
    return out;
  }

  private static List<Line> joinContinued(List<Line> lines) {
    List<Line> out = new ArrayList<>();
    StringBuilder joined = null;
    int first = 0;
    for (Line l : lines) {
      if (joined == null) {
        joined = new StringBuilder();
        first = l.number();
      }
      String t = l.text();
      if (t.endsWith("\\")) {
        joined.append(t, 0, t.length() - 1).append(' ');
      } else {
        out.add(new Line(first, joined.append(t).toString()));
        joined = null;
      }
    }
    if (joined != null) out.add(new Line(first, joined.toString()));
    return out;
  }

  /** Without comments, and ${X:-default} as its default. */
  private static List<Line> preprocess(List<Line> lines) {
    List<Line> out = new ArrayList<>();
    for (Line l : lines) {
      String t = stripComment(l.text());
      for (String before = null; !t.equals(before); ) {
        before = t;
        t = DEFAULT.matcher(t).replaceAll(m -> Matcher.quoteReplacement(m.group(1)));
      }
      out.add(new Line(l.number(), t));
    }
    return out;
  }

  /**
   * The script's function {@code irevnet} and lib.sh's train_once, read from their definitions in
   * {@code text}. train_once's local variables (its run directory) take its values, not the caller's.
   */
  private static Wrappers wrappers(String text) {
    Variables variables = variables(preprocess(joinContinued(numbered(text))));
    Matcher suffix = Pattern.compile("bin/irevnet\"?\\s+\"\\$@\"\\s*([^|\\n]*?)\\s*(\\|\\||&?\\s*\\n|$)").matcher(text);
    boolean function = Pattern.compile("(?m)^irevnet\\(\\)").matcher(text).find();
    Matcher trainOnce = Pattern.compile("(?m)^\\s*irevnet train (.*?)\"\\$@\"").matcher(text);
    String prefix = trainOnce.find() ? trainOnce.group(1) : null;
    Matcher local = Pattern.compile("\\blocal\\s+(\\w+)=").matcher(text);
    while (prefix != null && local.find()) {
      List<String> values = variables.scalars().get(local.group(1));
      if (values == null) continue; // x="$1": stays for the caller's value
      prefix = prefix.replaceAll("\\$(\\{" + local.group(1) + "\\}|" + local.group(1) + "(?!\\w))",
          Matcher.quoteReplacement(values.get(0)));
    }
    return new Wrappers(function && suffix.find() ? suffix.group(1) : null, prefix, variables);
  }

  private static Variables withFallback(Variables own, Variables fallback) {
    Variables all = Variables.none();
    all.scalars().putAll(fallback.scalars());
    all.scalars().putAll(own.scalars());
    all.arrays().putAll(fallback.arrays());
    all.arrays().putAll(own.arrays());
    return all;
  }

  /** The values a file's code gives its variables: assignments, array assignments and for loops. */
  static Variables variables(List<Line> code) {
    Variables v = Variables.none();
    for (Line l : code) {
      Matcher a = ASSIGNMENT.matcher(l.text());
      while (a.find()) {
        if (l.text().startsWith("(", a.end())) {
          int close = l.text().indexOf(')', a.end());
          List<String> words = words(l.text().substring(a.end() + 1, close < 0 ? l.text().length() : close));
          v.arrays().computeIfAbsent(a.group(1), k -> new ArrayList<>()).addAll(words);
        } else {
          String word = wordAt(l.text(), a.end());
          // flow="$1": a function's argument, whose values are its callers' business.
          if (word.matches("\"?\\$\\d\"?")) continue;
          // EPOCHS="${EPOCHS#...}": a rewrite of the variable's other values, which stand for it.
          if (Pattern.compile("\\$\\{?" + a.group(1) + "(?!\\w)").matcher(word).find()) continue;
          List<String> values = v.scalars().computeIfAbsent(a.group(1), k -> new ArrayList<>());
          if (!values.contains(word)) values.add(word);
        }
      }
    }
    for (Line l : code) {
      Matcher f = FOR.matcher(l.text());
      while (f.find()) {
        String in = f.group(2).strip();
        Matcher array = ARRAY.matcher(in), scalar = VARIABLE.matcher(unquoted(in));
        List<String> values;
        if (array.matches()) {
          values = v.arrays().getOrDefault(array.group(2) == null ? array.group(1) : array.group(2), List.of());
        } else if (scalar.matches()) {
          String name = scalar.group(1) == null ? scalar.group(2) : scalar.group(1);
          values = v.scalars().getOrDefault(name, List.of()).stream().flatMap(s -> words(unquoted(s)).stream()).toList();
        } else {
          values = words(in);
        }
        List<String> all = v.scalars().computeIfAbsent(f.group(1), k -> new ArrayList<>());
        values.stream().filter(value -> !all.contains(value)).forEach(all::add);
      }
    }
    return v;
  }

  private void commands(String file, List<Line> code, boolean script, Wrappers wrappers, Variables variables,
      boolean fragments) {
    for (Line l : code) {
      for (String part : parts(l.text(), script)) {
        String rest = part.strip();
        for (Matcher p = PREFIX.matcher(rest); p.find(); p = PREFIX.matcher(rest)) rest = rest.substring(p.end());
        String args;
        Matcher program = PROGRAM.matcher(rest);
        if (program.find()) {
          args = rest.substring(program.end());
        } else if (script && wrappers.functionSuffix() != null && rest.matches("irevnet(\\s.*)?")) {
          args = rest.substring("irevnet".length()) + " " + wrappers.functionSuffix();
        } else if (script && wrappers.trainOncePrefix() != null && rest.matches("train_once\\s+\\S+.*")) {
          String run = wordAt(rest, "train_once ".length());
          args = " train " + wrappers.trainOncePrefix().replace("$1", run)
              + rest.substring("train_once ".length() + run.length()) + " "
              + Objects.requireNonNullElse(wrappers.functionSuffix(), "");
        } else {
          continue;
        }
        if (args.strip().startsWith("\"$@\"") || args.strip().startsWith("$*")) continue;
        String where = file + ":" + l.number();
        List<List<Token>> expansions = new ArrayList<>();
        for (String expanded : expand(args.replace("\"$@\"", "").replace("$@", ""), variables, Map.of(), where)) {
          List<Token> tokens = tokens(expanded);
          if (!tokens.isEmpty()) expansions.add(tokens);
        }
        if (!expansions.isEmpty()) examples.add(new Example(where, expansions, fragments));
      }
    }
  }

  /** The parts of a line that can each be a command: split at ; && || (and | & in a script), redirections cut. */
  private static List<String> parts(String line, boolean script) {
    List<String> out = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean redirected = false;
    boolean[] outside = outsideQuotes(line);
    int depth = 0; // inside $( ... ) or ${ ... }
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (!outside[i]) {
        // quoted: part of the word
      } else if (c == '$' && i + 1 < line.length() && (line.charAt(i + 1) == '(' || line.charAt(i + 1) == '{')) {
        depth++;
      } else if ((c == ')' || c == '}') && depth > 0) {
        depth--;
      } else if (depth == 0) {
        boolean separator = c == ';' || line.startsWith("&&", i) || line.startsWith("||", i)
            || (script && (c == '|' || c == '&'));
        if (separator) {
          out.add(part.toString());
          part.setLength(0);
          redirected = false;
          if (line.startsWith("&&", i) || line.startsWith("||", i)) i++;
          continue;
        }
        if (c == '>' || c == '<') {
          // "2>" redirects descriptor 2: the digits belong to the redirection, not to an argument.
          int digits = part.length();
          while (digits > 0 && Character.isDigit(part.charAt(digits - 1))) digits--;
          if (digits < part.length() && (digits == 0 || Character.isWhitespace(part.charAt(digits - 1)))) {
            part.setLength(digits);
          }
          redirected = true;
        }
      }
      if (!redirected) part.append(c);
    }
    out.add(part.toString());
    return out;
  }

  private static String stripComment(String line) {
    boolean[] outside = outsideQuotes(line);
    for (int i = 0; i < line.length(); i++) {
      if (outside[i] && line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
        return line.substring(0, i);
      }
    }
    return line;
  }

  /** For each character of {@code line}, whether it is outside quotes (a quote character itself is not). */
  private static boolean[] outsideQuotes(String line) {
    boolean[] outside = new boolean[line.length()];
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else {
        outside[i] = true;
      }
    }
    return outside;
  }

  /**
   * Every combination of the values of the variables in {@code text} (at most {@link
   * #MAX_EXPANSIONS}); a variable keeps the value {@code bound} gives it ("$data", which is
   * "$OUT/data/shortcut-$kind", next to "$kind" in one line).
   */
  private List<String> expand(String text, Variables v, Map<String, String> bound, String where) {
    Matcher array = ARRAY.matcher(text);
    if (array.find()) {
      String name = array.group(1) != null ? array.group(1) : array.group(2);
      if (!v.arrays().containsKey(name)) {
        failures.add(where + ": no value for the array " + name);
        return List.of();
      }
      String words = String.join(" ", v.arrays().get(name));
      return expand(text.substring(0, array.start()) + words + text.substring(array.end()), v, bound, where);
    }
    Matcher variable = VARIABLE.matcher(text);
    if (!variable.find()) {
      String done = BASENAME.matcher(text).replaceAll(m -> {
        String path = unquoted(m.group(1));
        return Matcher.quoteReplacement(path.substring(path.lastIndexOf('/') + 1));
      });
      if (done.contains("$")) {
        failures.add(where + ": cannot give a value to " + done.substring(done.indexOf('$')));
        return List.of();
      }
      return List.of(done);
    }
    String name = variable.group(1) != null ? variable.group(1) : variable.group(2);
    List<String> values = bound.containsKey(name) ? List.of(bound.get(name))
        : PLAUSIBLE.containsKey(name) ? List.of(PLAUSIBLE.get(name)) : v.scalars().get(name);
    if (values == null || values.isEmpty()) {
      failures.add(where + ": no value for $" + name + " (the file sets none; add one to PLAUSIBLE)");
      return List.of();
    }
    Pattern each = Pattern.compile("\\$(\\{" + name + "\\}|" + name + "(?!\\w))");
    List<String> out = new ArrayList<>();
    for (String value : values) {
      Map<String, String> binding = new LinkedHashMap<>(bound);
      binding.put(name, value);
      for (String e : expand(each.matcher(text).replaceAll(Matcher.quoteReplacement(value)), v, binding, where)) {
        if (out.size() < MAX_EXPANSIONS) out.add(e);
      }
    }
    return out;
  }

  /** The raw shell word starting at {@code from}: up to unquoted white space or ";", across quotes and $( ). */
  private static String wordAt(String text, int from) {
    char quote = 0;
    int depth = 0, i = from;
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == quote) quote = 0;
        else if (c == '$' && quote == '"' && text.startsWith("$(", i)) depth++;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (text.startsWith("$(", i)) {
        depth++;
      } else if (c == ')' && depth > 0) {
        depth--;
        // a quote opened inside $( ) was closed there; one outside it is still open
      } else if (depth == 0 && (Character.isWhitespace(c) || c == ';')) {
        break;
      }
    }
    return text.substring(from, i);
  }

  private static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < text.length(); ) {
      if (Character.isWhitespace(text.charAt(i))) {
        i++;
        continue;
      }
      String w = wordAt(text, i);
      out.add(w);
      i += Math.max(1, w.length());
    }
    return out;
  }

  private static String unquoted(String word) {
    return tokens(word).stream().map(Token::text).reduce((a, b) -> a + " " + b).orElse("");
  }

  /**
   * The words the shell hands over, quotes removed. An unquoted word's leading "[" "(" and
   * trailing "]" ")" are words of their own: synopsis brackets ("[--batch 64]").
   */
  static List<Token> tokens(String text) {
    List<Token> out = new ArrayList<>();
    StringBuilder word = null;
    boolean quoted = false;
    char quote = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ' ';
      if (quote != 0) {
        if (c == quote) quote = 0;
        else word.append(c);
      } else if (Character.isWhitespace(c)) {
        if (word != null) out.addAll(brackets(word.toString(), quoted));
        word = null;
        quoted = false;
      } else {
        if (word == null) word = new StringBuilder();
        if (c == '\'' || c == '"') {
          quote = c;
          quoted = true;
        } else if (c == '\\' && i + 1 < text.length()) {
          word.append(text.charAt(++i));
        } else {
          word.append(c);
        }
      }
    }
    return out;
  }

  private static List<Token> brackets(String word, boolean quoted) {
    if (quoted) return List.of(new Token(word, true));
    List<Token> out = new ArrayList<>();
    int start = 0, end = word.length();
    while (start < end && (word.charAt(start) == '[' || word.charAt(start) == '(')) {
      out.add(new Token(String.valueOf(word.charAt(start++)), false));
    }
    List<Token> closing = new ArrayList<>();
    while (end > start && (word.charAt(end - 1) == ']' || word.charAt(end - 1) == ')')) {
      closing.add(0, new Token(String.valueOf(word.charAt(--end)), false));
    }
    if (start < end) out.add(new Token(word.substring(start, end), false));
    out.addAll(closing);
    return out;
  }

  // ---------------------------------------------------------------- checking

  /**
   * What is wrong with one example's arguments (empty: the command line accepts them); a {@code
   * fragment}'s options are checked one by one, as a synopsis's.
   */
  static List<String> problems(CommandLine root, List<Token> args, boolean fragment) {
    CommandLine named = root;
    int words = 0;
    while (words < args.size() && named.getSubcommands().containsKey(args.get(words).text())) {
      named = named.getSubcommands().get(args.get(words++).text());
    }
    // "`bin/irevnet cnf` trains ...": a command named in prose, no command line to run.
    if (words == args.size()) return List.of();
    if (!fragment && args.stream().noneMatch(DocumentedCommands::synopsis)) {
      try {
        return choiceProblems(root.parseArgs(args.stream().map(Token::text).toArray(String[]::new)));
      } catch (CommandLine.ParameterException e) {
        return List.of(firstLine(e.getMessage()));
      }
    }
    List<String> path = new ArrayList<>();
    List<CommandLine> commands = List.of(root);
    int i = 0;
    for (; i < args.size() && !syntax(args.get(i)) && !args.get(i).text().startsWith("-"); i++) {
      CommandLine at = commands.get(0);
      String word = args.get(i).text();
      if (at.getSubcommands().containsKey(word) && commands.size() == 1) {
        commands = List.of(at.getSubcommands().get(word));
        path.add(word);
      } else if (placeholder(word) && !at.getSubcommands().isEmpty() && commands.size() == 1) {
        // "bin/irevnet COMMAND --help": the options must be those of every command.
        commands = List.copyOf(at.getSubcommands().values());
      } else {
        if (!at.getSubcommands().isEmpty() && at.getCommandSpec().positionalParameters().isEmpty()) {
          return List.of("unknown command '" + word + "' of " + at.getCommandSpec().qualifiedName());
        }
        break;
      }
    }
    List<String> problems = new ArrayList<>();
    for (CommandLine command : commands) {
      List<String> typed = new ArrayList<>(path);
      if (command != root && path.isEmpty()) typed.add(command.getCommandSpec().name());
      for (int j = i; j < args.size(); j++) {
        Token t = args.get(j);
        if (t.quoted() || !t.text().startsWith("-")) continue;
        String option = t.text().contains("=") ? t.text().substring(0, t.text().indexOf('=')) : t.text();
        Token value = t.text().contains("=") ? new Token(t.text().substring(option.length() + 1), false) : null;
        if (value == null && j + 1 < args.size() && !syntax(args.get(j + 1))
            && (args.get(j + 1).quoted() || !args.get(j + 1).text().startsWith("-"))) {
          value = args.get(++j);
        }
        String problem = optionProblem(root, typed, option, value, fragment);
        if (problem != null) problems.add(problem);
      }
    }
    return problems;
  }

  /**
   * What is wrong with {@code option} written with {@code value} (null: none written) in command
   * {@code path}; in a {@code fragment} an option without a value is a mention, so it only has to exist.
   */
  private static String optionProblem(CommandLine root, List<String> path, String option, Token value,
      boolean fragment) {
    // Before parsing: a parse that also misses a required option (a synopsis or fragment without
    // train's --out) fails on that first, and an unknown option then went unreported.
    if (command(root, path).getCommandSpec().findOption(option) == null) return "Unknown option: '" + option + "'";
    List<String> alternatives = value == null ? List.of()
        : value.quoted() ? List.of(value.text()) : Arrays.asList(value.text().split("\\|", -1));
    boolean placeholder = alternatives.stream().anyMatch(DocumentedCommands::placeholder);
    if (value == null) return fragment && missingValueOf(root, path, option) ? null : parseProblem(root, path, option, null);
    if (placeholder) {
      // A placeholder stands for a value: the option must want one, which it says by missing it.
      try {
        root.parseArgs(concat(path, option));
        return option + " takes no value, but a value (" + value.text() + ") is written after it";
      } catch (CommandLine.MissingParameterException e) {
        if (!names(e, option)) return option + " takes no value, but a value (" + value.text() + ") is written after it";
      } catch (CommandLine.ParameterException e) {
        return firstLine(e.getMessage());
      }
    }
    for (String alternative : alternatives) {
      if (placeholder(alternative)) continue;
      String problem = parseProblem(root, path, option, alternative);
      if (problem == null) problem = choiceProblem(command(root, path).getCommandSpec().findOption(option), alternative);
      if (problem != null) return problem;
    }
    return null;
  }

  /** The values given to options with a closed set of words that are not among them, by a parsed command line. */
  private static List<String> choiceProblems(CommandLine.ParseResult parsed) {
    List<String> problems = new ArrayList<>();
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      for (OptionSpec o : p.matchedOptions()) {
        for (String value : o.stringValues()) {
          String problem = choiceProblem(o, value);
          if (problem != null) problems.add(problem);
        }
      }
    }
    return problems;
  }

  /** Why {@code value} is not a word the option takes; null when it is, or the option takes any. */
  private static String choiceProblem(OptionSpec option, String value) {
    if (option.completionCandidates() == null) return null;
    List<String> words = new ArrayList<>();
    option.completionCandidates().forEach(words::add);
    return words.contains(value) ? null
        : option.longestName() + " takes " + String.join(", ", words) + ", not '" + value + "'";
  }

  private static CommandLine command(CommandLine root, List<String> path) {
    CommandLine at = root;
    for (String word : path) at = at.getSubcommands().get(word);
    return at;
  }

  /** The parse error of "path option [value]", ignoring required options and parameters left out. */
  private static String parseProblem(CommandLine root, List<String> path, String option, String value) {
    try {
      root.parseArgs(value == null ? concat(path, option) : concat(path, option, value));
      return null;
    } catch (CommandLine.MissingParameterException e) {
      return names(e, option) ? firstLine(e.getMessage()) : null;
    } catch (CommandLine.ParameterException e) {
      return firstLine(e.getMessage());
    }
  }

  /** Whether "path option" fails only for want of the option's value. */
  private static boolean missingValueOf(CommandLine root, List<String> path, String option) {
    try {
      root.parseArgs(concat(path, option));
      return false;
    } catch (CommandLine.MissingParameterException e) {
      return names(e, option);
    } catch (CommandLine.ParameterException e) {
      return false;
    }
  }

  private static boolean names(CommandLine.MissingParameterException e, String option) {
    return e.getMissing().stream().anyMatch(a -> a instanceof OptionSpec o && Arrays.asList(o.names()).contains(option));
  }

  private static String[] concat(List<String> path, String... more) {
    List<String> all = new ArrayList<>(path);
    all.addAll(Arrays.asList(more));
    return all.toArray(String[]::new);
  }

  /**
   * What a synopsis's "[--option VALUE]" with a literal VALUE (no placeholder, no alternatives)
   * claims wrongly: every other such value reads as the option's default ("[--warmup 30]"), so one
   * that differs from the declared default, or is given for an option with none ("[--threads 1]",
   * whose default is all cores), is a default the command does not have. Empty: none.
   */
  static List<String> bracketedDefaultProblems(CommandLine root, List<Token> args) {
    CommandLine named = root;
    int i = 0;
    while (i < args.size() && named.getSubcommands().containsKey(args.get(i).text())) {
      named = named.getSubcommands().get(args.get(i++).text());
    }
    List<String> problems = new ArrayList<>();
    for (; i + 3 < args.size(); i++) {
      Token open = args.get(i), option = args.get(i + 1), value = args.get(i + 2), close = args.get(i + 3);
      if (!open.text().equals("[") || open.quoted() || !close.text().equals("]") || close.quoted()
          || option.quoted() || !option.text().startsWith("--") || synopsis(value)
          || Arrays.stream(value.text().split("[^A-Za-z0-9_]")).anyMatch(DocumentedCommands::placeholder)) {
        continue;
      }
      CommandLine.Model.OptionSpec spec = named.getCommandSpec().findOption(option.text());
      if (spec == null) continue; // the parse check reports it
      // Defaults a config supplies (train's) are not declared to picocli; the help text states them.
      String declared = spec.defaultValue() != null ? spec.defaultValue() : statedDefault(spec);
      if (declared == null) {
        problems.add("[" + option.text() + " " + value.text() + "] reads as a default, and " + option.text()
            + " has none: write a placeholder");
      } else if (!sameValue(declared, value.text())) {
        problems.add("[" + option.text() + " " + value.text() + "] reads as a default, and " + option.text()
            + "'s is " + declared);
      }
    }
    return problems;
  }

  /** What the option's help says its default is ("(default 64)", "(default: all cores)", ", default 0."), or null. */
  private static String statedDefault(CommandLine.Model.OptionSpec spec) {
    Matcher m = Pattern.compile("\\bdefault:? ([^,;)]+?)(?:[,;)]|\\.(?:\\s|$))").matcher(String.join(" ", spec.description()));
    return m.find() ? m.group(1) : null;
  }

  /** Equal as text, or as numbers ("1e-3" and "0.001"). */
  private static boolean sameValue(String a, String b) {
    if (a.equals(b)) return true;
    try {
      return Double.parseDouble(a) == Double.parseDouble(b);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static boolean synopsis(Token t) {
    if (t.quoted()) return false;
    return syntax(t) || t.text().contains("|") || t.text().contains("...")
        || Arrays.stream(t.text().split("=")).anyMatch(DocumentedCommands::placeholder);
  }

  private static boolean syntax(Token t) {
    return !t.quoted() && t.text().matches("[\\[\\]()|]|\\.\\.\\.");
  }

  static boolean placeholder(String word) {
    return PLACEHOLDER.matcher(word).matches();
  }

  private static String firstLine(String message) {
    return String.valueOf(message).lines().findFirst().orElse("");
  }
}
