package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.irevnet.cli.DocumentedCommands.Example;
import org.irevnet.cli.DocumentedCommands.Token;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every example command line in README.md, docs/*.md and experiments/*.sh still parses: a renamed
 * or removed option fails here instead of leaving a broken example for a user to find. In the
 * README also the fragments, a command without the program ("`train --data fashion-mnist --w-mle 0`"),
 * as its tables name the runs they measured. (The other
 * direction, that the README names every option, is {@link ReadmeOptionsTest}'s.) What counts as
 * an example and how a synopsis with placeholders is checked: {@link DocumentedCommands}.
 */
class DocumentedCommandsTest {
  /** 87 example lines when this was written, less a margin: fewer means the extractor lost some. */
  private static final int AT_LEAST_EXAMPLES = 80;

  @Test
  void everyDocumentedCommandLineParses() throws IOException {
    Path root = Path.of("..");
    DocumentedCommands found = markdownPages(root);
    String lib = Files.readString(root.resolve("experiments/lib.sh"));
    for (Path script : sorted(root.resolve("experiments"), ".sh")) {
      String text = Files.readString(script);
      boolean sourcesLib = text.lines().anyMatch(l -> l.matches("\\s*(source|\\.) .*/lib\\.sh\"?\\s*"));
      found.script("experiments/" + script.getFileName(), text, sourcesLib ? lib : null);
    }
    List<String> failures = check(found);
    assertThat(failures).as("example command lines the command line refuses (file:line)").isEmpty();
    assertThat(found.examples).hasSizeGreaterThan(AT_LEAST_EXAMPLES);
  }

  @Test
  void aMadeUpOptionAWrongTypeAndAnUnknownCommandAreFound() {
    DocumentedCommands found = new DocumentedCommands();
    found.markdown("x.md", """
        ```
        bin/irevnet train --out runs/x --epochs 3 --made-up-option 1
        bin/irevnet train --out runs/x --epochs three
        bin/irevnet train --out DIR [--epochs N] [--batch many] [--lr 1e-3]
        bin/irevnet trian --out runs/x
        bin/irevnet train --arch fi-revnet-s --out runs/x \\
            --epochs
        $ bin/irevnet train --out runs/x --epochs 3   # fine
        bin/irevnet train --out DIR [--epochs N] [--schedule cosine|step|constant] [--fresh | --resume]
        bin/irevnet train --out runs/x --schedule cosin
        bin/irevnet train --out DIR [--schedule cosine|stpe] [--objective ice]
        bin/irevnet eval --run runs/x --checkpoint last && bin/irevnet attack --run RUN_DIR --attack fgsm|cw
        bin/irevnet attack --run runs/x --attack pgd-linf --targeted tomato --loss margin
        ```
        The same in prose: `bin/irevnet eval --run runs/x
        --no-such-thing`, and `bin/irevnet` alone is a mention, no example.
        """);
    List<String> failures = check(found);
    assertThat(found.examples).extracting(Example::where)
        .containsExactly("x.md:2", "x.md:3", "x.md:4", "x.md:5", "x.md:6", "x.md:8", "x.md:9", "x.md:10", "x.md:11",
            "x.md:12", "x.md:12", "x.md:13", "x.md:15");
    assertThat(failures).hasSize(10);
    assertThat(failures.get(0)).startsWith("x.md:2:").contains("--made-up-option");
    assertThat(failures.get(1)).startsWith("x.md:3:").contains("three");
    assertThat(failures.get(2)).startsWith("x.md:4:").contains("'--batch'");
    assertThat(failures.get(3)).startsWith("x.md:5:").contains("trian");
    assertThat(failures.get(4)).startsWith("x.md:6:").contains("--epochs");
    // A closed set's misspelt word, written alone or as an alternative; --targeted takes any class name.
    assertThat(failures.get(5)).startsWith("x.md:10:").endsWith("--schedule takes cosine, step, constant, not 'cosin'");
    assertThat(failures.get(6)).startsWith("x.md:11:").endsWith("--schedule takes cosine, step, constant, not 'stpe'");
    assertThat(failures.get(7)).startsWith("x.md:12:").endsWith("--checkpoint takes best, latest, not 'last'");
    assertThat(failures.get(8)).startsWith("x.md:12:")
        .endsWith("--attack takes fgsm, pgd-linf, pgd-l2, metamer, feature-match, not 'cw'");
    assertThat(failures.get(9)).startsWith("x.md:15:").contains("--no-such-thing");
  }

  @Test
  void anUnknownOptionIsFoundInASynopsisThatLeavesOutARequiredOne() {
    DocumentedCommands found = new DocumentedCommands();
    found.markdown("x.md", """
        ```
        bin/irevnet train [--epochs N] [--made-up N] [--made-up-flag]
        ```
        """);
    List<String> failures = check(found);
    assertThat(failures).hasSize(2);
    assertThat(failures.get(0)).startsWith("x.md:2:").endsWith(": Unknown option: '--made-up'");
    assertThat(failures.get(1)).startsWith("x.md:2:").endsWith(": Unknown option: '--made-up-flag'");
  }

  @Test
  void theReadmesFragmentsAreCheckedOptionByOptionAndOnlyThere() {
    String text = """
        | CE (`train --data fashion-mnist --epochs 1 --threads 1`) | 0.887 |
        | iCE (`train --objective ice --w-nc-warmpu 600`) | 0.776 |
        `invert --stability --iterations many`, `probe --nuisance --linear`; `bench --peer` names an option.
        `--w-nc 0.5` and `train` alone are no fragments; `attack --attack cw` is one.
        """;
    DocumentedCommands found = new DocumentedCommands();
    found.markdown("x.md", text, true);
    assertThat(found.examples).extracting(Example::where)
        .containsExactly("x.md:1", "x.md:2", "x.md:3", "x.md:3", "x.md:3", "x.md:4");
    // Line 1 leaves out train's required --out, and bench --peer its value: neither is a problem here.
    List<String> failures = check(found);
    assertThat(failures).hasSize(3);
    assertThat(failures.get(0)).startsWith("x.md:2:").contains("--w-nc-warmpu");
    assertThat(failures.get(1)).startsWith("x.md:3:").contains("many");
    assertThat(failures.get(2)).startsWith("x.md:4:")
        .endsWith("--attack takes fgsm, pgd-linf, pgd-l2, metamer, feature-match, not 'cw'");
    DocumentedCommands elsewhere = new DocumentedCommands();
    elsewhere.markdown("y.md", text);
    assertThat(elsewhere.examples).isEmpty();
  }

  @Test
  void everyValueInASynopsisBracketIsTheOptionsDefault() throws IOException {
    assertThat(bracketedDefaultProblems(markdownPages(Path.of("..")))).isEmpty();
  }

  @Test
  void aBracketedValueThatIsNoDefaultIsFound() {
    DocumentedCommands found = new DocumentedCommands();
    found.markdown("x.md", """
        ```
        bin/irevnet cnf --target rings [--iterations 500] [--lr 0.003] [--batch 128] [--threads 1] [--seed S]
        bin/irevnet bench [--backward stored] [--backward reversible|stored] [--depth-mult K] [--arch fi-revnet-s]
        bin/irevnet data shortcut --base DATA --kind texture --out DIR [--seed 1] [--force]
        ```
        """);
    assertThat(bracketedDefaultProblems(found)).containsExactly(
        "x.md:2: [--batch 128] reads as a default, and --batch's is 256",
        "x.md:2: [--threads 1] reads as a default, and --threads's is all cores",
        "x.md:3: [--backward stored] reads as a default, and --backward's is reversible",
        "x.md:4: [--seed 1] reads as a default, and --seed's is 0");
  }

  /** The examples of the README and docs/*.md under {@code root}. */
  private static DocumentedCommands markdownPages(Path root) throws IOException {
    DocumentedCommands found = new DocumentedCommands();
    found.markdown("README.md", Files.readString(root.resolve("README.md")), true);
    for (Path doc : sorted(root.resolve("docs"), ".md")) {
      found.markdown("docs/" + doc.getFileName(), Files.readString(doc));
    }
    return found;
  }

  private static List<String> bracketedDefaultProblems(DocumentedCommands found) {
    CommandLine cl = Main.commandLine();
    List<String> problems = new ArrayList<>();
    for (Example e : found.examples) {
      Set<String> seen = new HashSet<>();
      for (List<Token> args : e.expansions()) {
        for (String p : DocumentedCommands.bracketedDefaultProblems(cl, args)) {
          if (seen.add(p)) problems.add(e.where() + ": " + p);
        }
      }
    }
    return problems;
  }

  @Test
  void aScriptsFunctionLoopsAndVariablesAreFollowed() {
    DocumentedCommands found = new DocumentedCommands();
    found.script("x.sh", """
        irevnet() {
          bin/irevnet "$@" --threads "$THREADS" --no-progress || exit 2
        }
        THREADS="${THREADS:-1}"
        OUT=runs/x   # an assignment
        for n in 2 lots; do
          irevnet train --out "$OUT/n$n" --epochs "$n" >/dev/null 2>&1
        done
        irevnet eval --run "$UNSET"
        """, null);
    List<String> failures = check(found);
    assertThat(found.examples).hasSize(1);
    assertThat(found.examples.get(0).expansions()).extracting(DocumentedCommandsTest::joined).containsExactly(
        "train --out runs/x/n2 --epochs 2 --threads 1 --no-progress",
        "train --out runs/x/nlots --epochs lots --threads 1 --no-progress");
    assertThat(failures).hasSize(2);
    assertThat(failures.get(0)).startsWith("x.sh:9: no value for $UNSET");
    assertThat(failures.get(1)).startsWith("x.sh:7:").contains("lots");
  }

  @Test
  void libShsTrainOnceRunsTrainThroughItsFunction() {
    String lib = """
        irevnet() {
          bin/irevnet "$@" --threads 1 --no-progress || exit 2
        }
        train_once() {
          local run="runs/$1"; shift
          irevnet train --out "$run" --epochs 3 "$@"
        }
        """;
    DocumentedCommands found = new DocumentedCommands();
    found.script("x.sh", "source \"$(dirname \"$0\")/lib.sh\"\ntrain_once \"ce\" --arch fi-revnet-s --bogus\n", lib);
    assertThat(found.examples).hasSize(1);
    assertThat(found.examples.get(0).expansions()).extracting(DocumentedCommandsTest::joined).containsExactly(
        "train --out runs/ce --epochs 3 --arch fi-revnet-s --bogus --threads 1 --no-progress");
    assertThat(check(found)).singleElement(STRING).startsWith("x.sh:2:").contains("'--bogus'");
  }

  /** The extractor's failures, then each example's, as "file:line: command: problem". */
  private static List<String> check(DocumentedCommands found) {
    CommandLine cl = Main.commandLine();
    List<String> failures = new ArrayList<>(found.failures);
    for (Example e : found.examples) {
      // A problem once per line, with the first values of its variables that show it.
      Set<String> seen = new HashSet<>();
      for (List<Token> args : e.expansions()) {
        for (String problem : DocumentedCommands.problems(cl, args, e.fragment())) {
          if (seen.add(problem)) failures.add(e.where() + ": bin/irevnet " + joined(args) + ": " + problem);
        }
      }
    }
    return failures;
  }

  private static String joined(List<Token> args) {
    return String.join(" ", args.stream().map(Token::text).toList());
  }

  private static List<Path> sorted(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }
}
