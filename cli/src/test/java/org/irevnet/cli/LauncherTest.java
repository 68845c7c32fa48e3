package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/irevnet in a copy of the tree with a stand-in jar, whose main class says where its class and
 * two libraries' resources were loaded from. Without sources the jar is never stale; the tests of
 * the build give it none at first and put a stand-in mvn first on the PATH.
 */
class LauncherTest {
  private static final String OWN = "irevnet-0.1.0-SNAPSHOT.jar", OTHER = "other-1.0.jar";

  /** The stand-in main class: where this class and each library's marker were loaded from, and the module's marker. */
  public static final class Probe {
    public static void main(String[] args) {
      System.out.println(Probe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
      for (String m : new String[] {"own.txt", "other.txt"}) {
        System.out.println(Probe.class.getClassLoader().getResource(m).getPath());
      }
      try (InputStream own = Probe.class.getClassLoader().getResourceAsStream("own.txt")) {
        System.out.println(new String(own.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /**
   * A command runs from a snapshot of the project's jars, so that a build started meanwhile (an edit
   * or a pull, then another command) cannot rewrite them under it: it rewrote cli/target's jar and
   * lib/'s module jars in place, and a running quickstart failed with NoClassDefFoundError (exit 3).
   */
  @Test
  void aCommandRunsFromASnapshotThatARebuildLeavesAlone(@TempDir Path root) throws Exception {
    Path target = tree(root, "built first");
    Path cliJar = target.resolve("irevnet-cli.jar");
    cliJar(cliJar);

    List<String> first = launch(root);
    String name = Path.of(first.get(0)).getParent().getFileName().toString();
    Path snapshot = target.resolve("run").resolve(name);
    assertThat(first.get(0)).endsWith("/cli/target/run/" + name + "/irevnet-cli.jar");
    assertThat(first.get(1)).endsWith("/cli/target/run/" + name + "/lib/" + OWN + "!/own.txt");
    assertThat(first.get(2)).endsWith("/cli/target/run/" + name + "/lib/" + OTHER + "!/other.txt");
    assertThat(Files.isSymbolicLink(snapshot.resolve("lib").resolve(OWN))).as("the module's jar is copied").isFalse();
    assertThat(Files.isSymbolicLink(snapshot.resolve("lib").resolve(OTHER))).as("a library is linked").isTrue();
    assertThat(launch(root)).as("the same build, the same snapshot").isEqualTo(first);

    // A rebuild writes the module's jar in place, as Maven does.
    byte[] before = Files.readAllBytes(snapshot.resolve("lib").resolve(OWN));
    try (OutputStream out = Files.newOutputStream(target.resolve("lib").resolve(OWN))) {
      out.write(jarBytes("own.txt", "built again"));
    }
    List<String> second = launch(root);
    assertThat(Path.of(second.get(0)).getParent().getFileName().toString()).isNotEqualTo(name);
    assertThat(Files.readAllBytes(snapshot.resolve("lib").resolve(OWN))).as("the first command's jar").isEqualTo(before);
  }

  /**
   * bin/irevnet linked from a folder on the PATH (here through a relative link to an absolute one)
   * and started from another directory runs the checkout's jar: it took the link's folder for the
   * checkout, found no jar there, made a cli/target there and ran Maven where there is no pom.xml
   * (exit 2). The checkout's path has a space in it, as a user's folder may.
   */
  @Test
  void aLauncherStartedThroughSymbolicLinksFromAnotherDirectoryRunsTheCheckoutsJar(@TempDir Path tmp) throws Exception {
    Path root = Files.createDirectories(tmp.resolve("with space/checkout"));
    cliJar(tree(root, "linked").resolve("irevnet-cli.jar"));
    Path onPath = Files.createDirectories(tmp.resolve("elsewhere/bin"));
    Files.createSymbolicLink(onPath.resolve("irevnet-abs"), root.resolve("bin/irevnet"));
    Path link = Files.createSymbolicLink(onPath.resolve("irevnet"), Path.of("irevnet-abs"));
    Path cwd = Files.createDirectories(tmp.resolve("work"));
    ProcessBuilder pb = launcher(root).directory(cwd.toFile());
    pb.command("bash", link.toString());
    List<String> out = run(pb).lines().map(l -> l.replaceFirst("^jar:", "")).toList();
    assertThat(out.get(0)).startsWith(root.toUri().getRawPath() + "cli/target/run/");
    assertThat(out.get(3)).isEqualTo("linked");
    assertThat(tmp.resolve("elsewhere/cli")).doesNotExist();
  }

  /**
   * A launcher stopped by kill -TERM while it builds stops the build: Maven ran on, reparented,
   * holding the build lock, and a build stopped after writing the jar but before lib/ left a jar
   * newer than the sources, taken for fresh. Here a stand-in mvn writes half a jar and then takes
   * its time, the first time; the second time it writes the stand-in jar and ends. A second launcher, started
   * before the jar is written, waits for the build.
   */
  @Test
  void aLauncherStoppedWhileBuildingStopsTheBuildAndTheNextOneBuildsAgain(@TempDir Path root) throws Exception {
    Path target = tree(root, "built");
    cliJar(root.resolve("built.jar"));
    standInMvn(root, """
        #!/usr/bin/env bash
        if [ -f built.once ]; then cp built.jar cli/target/irevnet-cli.jar; exit 0; fi
        touch built.once
        echo $$ > mvn.pid
        sleep 1
        echo half > cli/target/irevnet-cli.jar
        exec sleep 60
        """);
    Path pidFile = root.resolve("mvn.pid");
    Process first = launcher(root).start();
    Process second = null;
    ProcessHandle build = null;
    try {
      MainTest.await(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
      build = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();
      second = launcher(root).start(); // finds no jar, waits for the first one's build
      Path half = target.resolve("irevnet-cli.jar");
      MainTest.await(() -> Files.exists(half) && Files.size(half) > 0);
      Thread.sleep(200);
      new ProcessBuilder("kill", "-TERM", Long.toString(first.pid())).start().waitFor();
      assertThat(first.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("the launcher ended").isTrue();
      assertThat(first.exitValue()).isEqualTo(143);
      assertThat(new String(first.getInputStream().readAllBytes()))
          .endsWith("irevnet: interrupted while building the command line\n");
      assertThat(build.onExit().completeOnTimeout(build, 5, java.util.concurrent.TimeUnit.SECONDS).get().isAlive())
          .as("the build has stopped too").isFalse();
      assertThat(second.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("the second launcher ended").isTrue();
      String out = new String(second.getInputStream().readAllBytes());
      assertThat(second.exitValue()).as(out).isZero();
      assertThat(out).as("built again, not the half jar").contains("building the command line").contains("/lib/" + OWN);
    } finally {
      if (build != null) build.destroyForcibly();
      first.destroyForcibly();
      if (second != null) second.destroyForcibly();
    }
  }

  /**
   * A source edited while the build runs, after its module was compiled, is built by the next
   * command: the launcher gave the jar the time the build ended, newer than the edit, and the next
   * command took the jar for fresh without it.
   */
  @Test
  void aSourceEditedDuringTheBuildIsBuiltByTheNextCommand(@TempDir Path root) throws Exception {
    tree(root, "built");
    cliJar(root.resolve("built.jar"));
    Path source = Files.createDirectories(root.resolve("irevnet/src/main")).resolve("Edited.java");
    // The stand-in build: the jar, then an edit of a source (by the user, meanwhile), the first time.
    standInMvn(root, """
        #!/usr/bin/env bash
        echo build >> builds.log
        cp built.jar cli/target/irevnet-cli.jar
        [ -f irevnet/src/main/Edited.java ] || { sleep 0.1; echo edited > irevnet/src/main/Edited.java; }
        """);
    Path builds = root.resolve("builds.log");
    assertThat(run(launcher(root))).contains("building the command line");
    assertThat(source).exists();
    assertThat(run(launcher(root))).as("the edit is built").contains("building the command line");
    assertThat(Files.readAllLines(builds)).hasSize(2);
    assertThat(run(launcher(root))).as("and then the jar is fresh").doesNotContain("building");
    assertThat(Files.readAllLines(builds)).hasSize(2);
  }

  /**
   * A launcher started after a build wrote the jar, but before the build wrote lib/, waits for the
   * build: it found the jar fresh, took no lock, and ran from a snapshot of the old lib/ (in a real
   * build, half-copied). The stand-in mvn writes the jar, then waits for the test before lib/'s
   * module jar; the second launcher must be waiting on the lock (its flock running) by then.
   */
  @Test
  void aLauncherStartedWhileTheBuildWritesLibWaitsForIt(@TempDir Path root) throws Exception {
    Path target = tree(root, "built before");
    cliJar(root.resolve("built.jar"));
    jar(root.resolve("own-new.jar"), "own.txt", "built now");
    standInMvn(root, """
        #!/usr/bin/env bash
        cp built.jar cli/target/irevnet-cli.jar
        touch jar.written
        while [ ! -f go ]; do sleep 0.05; done
        cp own-new.jar cli/target/lib/%s
        """.formatted(OWN));
    Process first = launcher(root).start();
    Process second = null;
    try {
      MainTest.await(() -> Files.exists(root.resolve("jar.written")));
      assertThat(target.resolve("irevnet-cli.jar")).exists();
      second = launcher(root).start();
      waitingFlock(second); // or it ended, without waiting: the old launcher
      Files.writeString(root.resolve("go"), "");
      assertThat(run(first)).contains("building the command line");
      List<String> lines = run(second).lines().toList();
      assertThat(lines.get(lines.size() - 1)).as("the second launcher's module jar").isEqualTo("built now");
    } finally {
      Files.writeString(root.resolve("go"), ""); // else a stand-in mvn left waiting outlives the test
      first.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      first.destroyForcibly();
      if (second != null) second.destroyForcibly();
    }
  }

  /**
   * A launcher stopped while it waits for another command's build ends with its waiting flock: that
   * flock ran on, holding the lock file open, until the build ended, and then took the lock for a
   * moment for nobody.
   */
  @Test
  void aLauncherStoppedWhileWaitingForABuildLeavesNoFlockBehind(@TempDir Path root) throws Exception {
    tree(root, "built");
    cliJar(root.resolve("built.jar"));
    standInMvn(root, """
        #!/usr/bin/env bash
        touch building
        while [ ! -f go ]; do sleep 0.05; done
        cp built.jar cli/target/irevnet-cli.jar
        """);
    Process first = launcher(root).start();
    Process second = null;
    ProcessHandle flock = null;
    try {
      MainTest.await(() -> Files.exists(root.resolve("building")));
      second = launcher(root).start();
      flock = waitingFlock(second);
      assertThat(flock).as("the second launcher waits on the lock").isNotNull();
      new ProcessBuilder("kill", "-TERM", Long.toString(second.pid())).start().waitFor();
      assertThat(second.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("the launcher ended").isTrue();
      assertThat(second.exitValue()).isEqualTo(143);
      assertThat(new String(second.getInputStream().readAllBytes()))
          .isEqualTo("irevnet: interrupted while waiting for another command's build\n");
      assertThat(flock.onExit().completeOnTimeout(flock, 10, java.util.concurrent.TimeUnit.SECONDS).get().isAlive())
          .as("its flock has ended, while the build goes on").isFalse();
      Files.writeString(root.resolve("go"), "");
      assertThat(run(first)).as("the build finishes").contains("/lib/" + OWN);
    } finally {
      Files.writeString(root.resolve("go"), ""); // else a stand-in mvn left waiting outlives the test
      if (flock != null) flock.destroyForcibly();
      first.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      first.destroyForcibly();
      if (second != null) second.destroyForcibly();
    }
  }

  /** The flock that {@code launcher} waits in, once it is there; null if the launcher ends first. */
  private static ProcessHandle waitingFlock(Process launcher) throws InterruptedException {
    for (int i = 0; i < 400 && launcher.isAlive(); i++) {
      java.util.Optional<ProcessHandle> f = launcher.descendants()
          .filter(h -> h.info().command().map(c -> c.endsWith("/flock")).orElse(false)).findFirst();
      if (f.isPresent()) return f.get();
      Thread.sleep(50);
    }
    return null;
  }

  private static void standInMvn(Path root, String script) throws IOException {
    Path mvn = Files.writeString(Files.createDirectories(root.resolve("tools")).resolve("mvn"), script);
    mvn.toFile().setExecutable(true);
  }

  private static String run(ProcessBuilder pb) throws Exception {
    return run(pb.start());
  }

  private static String run(Process p) throws Exception {
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  private static ProcessBuilder launcher(Path root) {
    ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bin/irevnet").toString()).redirectErrorStream(true);
    pb.environment().put("IREVNET_JAVA_OPTS", "-Xmx32m -XX:TieredStopAtLevel=1");
    pb.environment().put("PATH", root.resolve("tools") + ":" + System.getenv("PATH"));
    return pb;
  }

  private static List<String> launch(Path root) throws Exception {
    return run(launcher(root)).lines().map(l -> l.replaceFirst("^jar:", "")).toList();
  }

  /** A copy of bin/irevnet in {@code root}, and cli/target/lib with the module's jar (marker {@code own}) and a library's. */
  private static Path tree(Path root, String own) throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin"));
    Files.copy(Path.of("../bin/irevnet"), bin.resolve("irevnet"));
    Path target = root.resolve("cli/target");
    Files.createDirectories(target.resolve("lib"));
    jar(target.resolve("lib").resolve(OWN), "own.txt", own);
    jar(target.resolve("lib").resolve(OTHER), "other.txt", "a library");
    return target;
  }

  private static void cliJar(Path file) throws IOException {
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Probe.class.getName());
    mf.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/" + OWN + " lib/" + OTHER);
    String name = Probe.class.getName().replace('.', '/') + ".class";
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(file), mf);
        InputStream cls = Probe.class.getClassLoader().getResourceAsStream(name)) {
      jar.putNextEntry(new JarEntry(name));
      cls.transferTo(jar);
      jar.closeEntry();
    }
  }

  private static void jar(Path file, String entry, String text) throws IOException {
    Files.write(file, jarBytes(entry, text));
  }

  private static byte[] jarBytes(String entry, String text) throws IOException {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    try (JarOutputStream jar = new JarOutputStream(b)) {
      jar.putNextEntry(new JarEntry(entry));
      jar.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return b.toByteArray();
  }
}
