package org.irevnet.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code irevnet} command line. Exit codes: 0 ok, 1 failed check, 2 bad usage or input. */
@Command(name = "irevnet", mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "A workbench for invertible neural networks (i-RevNet, fi-RevNet) used to understand classifiers.",
    subcommands = {QuickstartCommand.class, TrainCommand.class, EvalCommand.class, InvertCommand.class,
        MetamersCommand.class, ProbeCommand.class, InterpolateCommand.class, AttackCommand.class, ExportCommand.class,
        SampleCommand.class, SelftestCommand.class, BenchCommand.class, SeedsCommand.class,
        DataCommand.class, CnfCommand.class, VaeCommand.class,
        ReportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  /** Exit code of a run that failed (a diverged training, an internal error): nothing was written. */
  static final int RUN_FAILED = 3;

  public static void main(String[] args) {
    int code;
    if (!Interruption.install()) return; // stopped as it started: the JVM exits with the signal's code
    try {
      code = execute(args);
    } catch (Throwable t) {
      // An Error (out of memory, a native library failing to load) gets past picocli's handler;
      // without this the JVM would exit with 1, the code of a failed check.
      System.err.println("irevnet: " + (t instanceof OutOfMemoryError oom ? outOfMemory(oom, null) : t));
      code = RUN_FAILED;
    }
    Interruption.ended();
    System.exit(code);
  }

  /** Runs a command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    // Numbers are printed as the result files and any script reading the output spell them
    // ("0.8420", not "0,8420"), whatever the machine's locale.
    Locale.setDefault(Locale.ROOT);
    Logging.configure(Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose"));
    org.irevnet.io.RunLock.onWait(message -> System.err.println("irevnet: " + message));
    return commandLine().execute(args);
  }

  /** The command line with its handlers; tests add commands to it. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    joinDescriptionParagraphs(cl);
    shareVersion(cl, cl.getCommandSpec().versionProvider());
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      // Bad input is one clear line (2); anything else, a diverged run or a bug, is a failed run
      // (3, never 1, which says "ran, results written, a check failed") and keeps its stack
      // trace under -v.
      // The command as typed ("irevnet data shortcut"): a subcommand's own name is no command.
      cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + message(ex));
      if (Logging.verbose()) ex.printStackTrace(cmd.getErr());
      return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException ? 2 : RUN_FAILED;
    });
    cl.setExecutionStrategy(parsed -> {
      CommandLine.ParseResult leaf = parsed;
      while (leaf.hasSubcommand()) leaf = leaf.subcommand();
      Interruption.started(commandAsTyped(leaf.commandSpec()));
      CommonOptions.sizePool(leaf.matchedOptionValue("--threads", null));
      try {
        return new CommandLine.RunLast().execute(parsed);
      } catch (OutOfMemoryError e) {
        // An Error gets past the exception handler: this said "irevnet: java.lang.OutOfMemoryError:
        // Java heap space", with neither the command nor what to change.
        leaf.commandSpec().commandLine().getErr().println(leaf.commandSpec().qualifiedName() + ": "
            + outOfMemory(e, leaf.commandSpec()));
        if (Logging.verbose()) e.printStackTrace(leaf.commandSpec().commandLine().getErr());
        return RUN_FAILED;
      } finally {
        Interruption.finished();
      }
    });
    // The file system reads "" as the working directory: an unset "$OUT" would write there, and
    // data shortcut --force replaced it.
    cl.registerConverter(java.nio.file.Path.class, s -> {
      if (s.isEmpty()) throw new CommandLine.TypeConversionException("an empty path names no file (the working directory is '.')");
      // The shell expands ~ only at the start of a word: --out=~/runs/x (or "~/runs/x") reached us
      // as typed, and made a folder named ~ in the working directory.
      if (s.startsWith("~") && !java.nio.file.Files.exists(java.nio.file.Path.of(s), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new CommandLine.TypeConversionException(s + ": a leading ~ is not expanded here (the shell expands it"
            + " only at the start of a word: --out ~/x, not --out=~/x nor '~/x'): write the home folder's path ($HOME/...),"
            + " or ./" + s + " for a folder named so");
      }
      return java.nio.file.Path.of(s);
    });
    // Named as the command's own refusals are ("irevnet attack: ..."), so one prefix tells a script
    // which command refused, whether picocli or the command found the problem.
    cl.setParameterExceptionHandler((ex, a) -> usageError(ex.getCommandLine(), ex.getMessage()));
    return cl;
  }

  /** Says what is wrong with {@code command}'s command line and where its usage is; returns the exit code, 2. */
  static int usageError(CommandLine command, String message) {
    String name = command.getCommandSpec().qualifiedName();
    command.getErr().println(name + ": " + message);
    command.getErr().println("Try '" + name + " --help'.");
    return 2;
  }

  /** The Java options bin/irevnet runs with when IREVNET_JAVA_OPTS is not set. */
  static final String LAUNCHER_JAVA_OPTS = "-Xmx6g -Xms32m -Xmn8m -XX:+UseParallelGC";

  /**
   * What to say when the memory ran out: the error, which memory (Java's heap, with its limit, or
   * the native memory ND4J's arrays live in, which javacpp refuses with "Cannot allocate"), and the
   * options that change it ({@code --batch} when {@code command} has one; null: not known).
   */
  static String outOfMemory(OutOfMemoryError e, CommandLine.Model.CommandSpec command) {
    boolean batch = command != null && command.optionsMap().containsKey("--batch");
    boolean heap = String.valueOf(e.getMessage()).startsWith("Java heap space")
        || String.valueOf(e.getMessage()).startsWith("GC overhead");
    String which = heap ? "Java's heap is at most " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB"
        : "native memory, where ND4J keeps its arrays";
    return "out of memory (" + e + "; " + which + "): " + (batch ? "use a smaller --batch, or " : "")
        + (heap ? "give Java a larger heap (bin/irevnet takes Java's options from IREVNET_JAVA_OPTS, by default "
            + LAUNCHER_JAVA_OPTS + ")"
            : "free memory for the process (its limits, if set: -Dorg.bytedeco.javacpp.maxbytes and maxphysicalbytes"
                + " in IREVNET_JAVA_OPTS, or ulimit -v)");
  }

  /** "data shortcut" for {@code irevnet data shortcut}: the command as typed, without the program. */
  static String commandAsTyped(CommandLine.Model.CommandSpec spec) {
    String name = spec.qualifiedName();
    return name.substring(name.indexOf(' ') + 1);
  }

  /**
   * The first line of what went wrong. A file-system error from java.nio often carries only the
   * path (an {@code AccessDeniedException}'s message is the path alone): the reason is then its
   * type, spelled as the shell would.
   */
  static String message(Throwable ex) {
    String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
    if (ex instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
      msg += ": " + (f instanceof java.nio.file.AccessDeniedException ? "permission denied"
          : f instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
          : f instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
          : f instanceof java.nio.file.NotDirectoryException ? "not a directory"
          : f instanceof java.nio.file.DirectoryNotEmptyException ? "directory not empty"
          : f.getClass().getSimpleName());
    }
    return msg.lines().findFirst().orElse(msg);
  }

  /**
   * Makes each paragraph of every command's description one string, so picocli wraps it once at
   * the help width. Why: the descriptions are written as source lines of about 90 characters and
   * picocli keeps each element as a line of its own, wrapping it again at 80 columns: every
   * paragraph came out with orphaned fragments of a word or two. Empty elements separate
   * paragraphs.
   */
  static void joinDescriptionParagraphs(CommandLine cl) {
    CommandLine.Model.UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    usage.description(paragraphs(usage.description()));
    cl.getSubcommands().values().forEach(Main::joinDescriptionParagraphs);
  }

  /**
   * Gives every command the program's version: each has {@code --version} (standard help options),
   * and without a provider of its own {@code irevnet train --version} printed nothing and exited 0.
   */
  static void shareVersion(CommandLine cl, CommandLine.IVersionProvider version) {
    cl.getCommandSpec().versionProvider(version);
    cl.getSubcommands().values().forEach(sub -> shareVersion(sub, version));
  }

  static String[] paragraphs(String[] lines) {
    List<String> out = new ArrayList<>();
    StringBuilder paragraph = new StringBuilder();
    for (String line : lines) {
      if (line.isBlank()) {
        if (paragraph.length() > 0) out.add(paragraph.toString());
        paragraph.setLength(0);
        out.add("");
      } else {
        if (paragraph.length() > 0) paragraph.append(' ');
        paragraph.append(line.strip());
      }
    }
    if (paragraph.length() > 0) out.add(paragraph.toString());
    return out.toArray(String[]::new);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"irevnet-workbench " + (v == null ? "dev" : v) + " (ND4J 1.0.0-M2.1, CPU)"};
    }
  }
}
