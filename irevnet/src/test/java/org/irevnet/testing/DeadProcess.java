package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a writer killed mid-write ({@code kill -9}) leaves: temporaries that name a process no longer running. */
public final class DeadProcess {
  private static final Pattern OWNED = Pattern.compile("(.*\\.)[0-9]+(-[0-9a-z]+\\.tmp)");

  private DeadProcess() {}

  /** The PID of a process that has exited (until the system gives it to another one). */
  public static long pid() throws IOException {
    Process exited = new ProcessBuilder("true").start();
    try {
      exited.waitFor();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    assertThat(ProcessHandle.of(exited.pid())).isEmpty();
    return exited.pid();
  }

  /** {@code temporary} (made by this process, {@code .NAME.RANDOM.PID-KEY.tmp}) renamed as if process {@code pid} had made it. */
  public static Path leftBy(long pid, Path temporary) throws IOException {
    Matcher m = OWNED.matcher(temporary.getFileName().toString());
    assertThat(m.matches()).as("%s names its owner", temporary).isTrue();
    return Files.move(temporary, temporary.resolveSibling(m.group(1) + pid + m.group(2)));
  }
}
