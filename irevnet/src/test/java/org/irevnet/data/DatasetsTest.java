package org.irevnet.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir Path tmp;

  private Datasets.Resolver resolver(Path cwd, String home, Path fashion) {
    return new Datasets.Resolver(cwd, home, fashion);
  }

  @Test
  void theSameDirectoryIsToldThroughLinksAndByPathOnceGone() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("srv/fmnist"));
    Path other = Files.createDirectories(tmp.resolve("srv/other"));
    Path link = Files.createSymbolicLink(tmp.resolve("data"), data);
    assertThat(Datasets.sameDirectory(link, data)).isTrue();
    assertThat(Datasets.sameDirectory(tmp.resolve("srv/other/../fmnist"), data)).isTrue();
    assertThat(Datasets.sameDirectory(link, other)).isFalse();
    Path gone = tmp.resolve("gone");
    assertThat(Datasets.sameDirectory(gone, gone.resolve("."))).isTrue();
    assertThat(Datasets.sameDirectory(gone, data)).isFalse();
  }

  @Test
  void aRunRecordsARelativeDirectoryAbsoluteAndNamesAsTheyAre(@TempDir Path tmp) throws Exception {
    Path cwd = Files.createDirectories(tmp.resolve("work"));
    Files.createDirectories(cwd.resolve("mine"));
    Datasets.Resolver r = resolver(cwd, null, tmp.resolve("none"));
    assertThat(r.recorded("mine")).isEqualTo(cwd.resolve("mine").toString());
    assertThat(r.recorded("./mine/../mine")).isEqualTo(cwd.resolve("mine").toString());
    assertThat(r.recorded("fashion-mnist-mini")).isEqualTo("fashion-mnist-mini");
    assertThat(r.recorded("missing/dir")).isEqualTo("missing/dir");
    assertThat(r.recorded(tmp.toString())).isEqualTo(tmp.toString());
    Files.writeString(cwd.resolve("file"), "x");
    assertThat(r.recorded("file")).isEqualTo("file");
  }

  /**
   * A {@code ..} after a symbolic link is the parent of the link's target, as {@code ls} and the
   * shell read it: {@code --data lk/../fmnist} (lk -> srv/sets/sub) was read as work/fmnist, another
   * dataset beside the link (or "no such directory" where there is none), and recorded so.
   */
  @Test
  void aParentAfterASymbolicLinkIsTheParentOfItsTarget(@TempDir Path tmp) throws Exception {
    Path cwd = Files.createDirectories(tmp.resolve("work"));
    Path data = tmp.resolve("srv/sets/fmnist");
    Synth.idxDir(data, 2, 2, 2, 2, 2, true);
    Files.createSymbolicLink(cwd.resolve("lk"), Files.createDirectories(tmp.resolve("srv/sets/sub")));
    Synth.idxDir(cwd.resolve("fmnist"), 2, 2, 2, 2, 2, true);
    Datasets.Resolver r = resolver(cwd, null, tmp.resolve("none"));
    assertThat(r.resolve("lk/../fmnist").dir()).isEqualTo(data);
    assertThat(r.recorded("lk/../fmnist")).isEqualTo(data.toString());
    assertThat(Datasets.open(cwd.resolve("lk/../fmnist")).dir()).isEqualTo(data);
    assertThat(Datasets.sameDirectory(cwd.resolve("lk/../fmnist"), cwd.resolve("fmnist"))).isFalse();
    // A link not followed by .. is kept as given: a run records the link to its data.
    assertThat(r.recorded("lk")).isEqualTo(cwd.resolve("lk").toString());
  }

  @Test
  void aDirectoryPathIsOpenedWithItsLayoutDetected() throws IOException {
    Synth.idxDir(tmp.resolve("idx"), 2, 2, 2, 2, 2, true);
    Files.createDirectories(tmp.resolve("cifar"));
    Files.write(tmp.resolve("cifar/test_batch.bin"), Synth.cifar(0, 1));
    Files.createDirectories(tmp.resolve("png/train/a"));
    Datasets.Resolver r = resolver(tmp, null, tmp.resolve("none"));
    assertThat(r.resolve("idx").format()).isEqualTo(DataSource.Format.IDX);
    assertThat(r.resolve("./cifar").format()).isEqualTo(DataSource.Format.CIFAR10);
    assertThat(r.resolve(tmp.resolve("png").toString()).format())
        .isEqualTo(DataSource.Format.PNG_FOLDERS);
    assertThat(r.resolve("idx").name()).isEqualTo("idx");
    assertThat(r.resolve("idx").dir()).isEqualTo(tmp.resolve("idx"));
  }

  @Test
  void missingDirectoryAndUnknownName() {
    Datasets.Resolver r = resolver(tmp, null, tmp.resolve("none"));
    assertThatThrownBy(() -> r.resolve("./nowhere"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(tmp.resolve("nowhere") + ": no such directory");
    assertThatThrownBy(() -> Datasets.open(tmp.resolve("gone")))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(tmp.resolve("gone") + ": no such directory");
    assertThatThrownBy(() -> r.resolve("mnist"))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith("mnist: no such directory and no such dataset name (known names:"
            + " fashion-mnist, fashion-mnist-mini; also looked for data/mnist in " + tmp);
  }

  /** A file given by a bare name is not a directory, not a name that was not found. */
  @Test
  void aFileIsNamedAsNotADirectory() throws IOException {
    Files.writeString(tmp.resolve("train-images.gz"), "not a dataset");
    Datasets.Resolver r = resolver(tmp, null, tmp.resolve("none"));
    assertThatThrownBy(() -> r.resolve("train-images.gz"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(tmp.resolve("train-images.gz") + ": not a directory: --data takes a dataset's directory (IDX"
            + " files, CIFAR-10 batches or PNG class folders) or a dataset name (fashion-mnist, fashion-mnist-mini)");
  }

  @Test
  void aDirectoryWithoutADatasetSaysWhatWasExpected() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Files.writeString(empty.resolve("readme.txt"), "hi");
    assertThatThrownBy(() -> Datasets.open(empty))
        .isInstanceOf(DataFormatException.class)
        .hasMessageStartingWith(empty + ": no dataset found: expected IDX files")
        .hasMessageContaining("data_batch_1.bin").hasMessageContaining("train/<class>/*.png");
  }

  @Test
  void twoLayoutsInOneDirectoryAreAmbiguous() throws IOException {
    Path dir = Synth.idxDir(tmp.resolve("both"), 2, 2, 2, 2, 2, false);
    Files.write(dir.resolve("test_batch.bin"), Synth.cifar(0, 1));
    assertThatThrownBy(() -> Datasets.open(dir))
        .hasMessage(dir + ": ambiguous dataset directory: it looks like [IDX, CIFAR10]; keep one"
            + " layout per directory");
  }

  @Test
  void fashionMnistNameUsesTheDebianDirectoryOrSaysHowToInstallIt() throws IOException {
    Path missing = tmp.resolve("usr/share/datasets/fashion-mnist");
    assertThatThrownBy(() -> resolver(tmp, null, missing).resolve("fashion-mnist"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage(missing + ": no such directory: the full Fashion-MNIST comes from the Debian"
            + " package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or use"
            + " --data fashion-mnist-mini");
    Synth.idxDir(missing, 2, 2, 2, 2, 2, true);
    DataSource src = resolver(tmp, null, missing).resolve("fashion-mnist");
    assertThat(src.name()).isEqualTo("fashion-mnist");
    assertThat(src.dir()).isEqualTo(missing);
    assertThat(src.train().classNames()).isEqualTo(Datasets.FASHION_MNIST_CLASSES);
  }

  @Test
  void shippedNameIsFoundUnderHomeOrByWalkingUpFromTheWorkingDirectory() throws IOException {
    Path home = tmp.resolve("checkout");
    Synth.idxDir(home.resolve("data/fashion-mnist-mini"), 3, 2, 2, 2, 2, true);
    Path deep = Files.createDirectories(home.resolve("cli/target/run"));
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));

    DataSource viaWalk = resolver(deep, null, tmp.resolve("none")).resolve("fashion-mnist-mini");
    assertThat(viaWalk.dir()).isEqualTo(home.resolve("data/fashion-mnist-mini"));
    assertThat(viaWalk.train().name()).isEqualTo("fashion-mnist-mini/train");
    DataSource viaHome = resolver(elsewhere, home.toString(), tmp.resolve("none"))
        .resolve("fashion-mnist-mini");
    assertThat(viaHome.dir()).isEqualTo(home.resolve("data/fashion-mnist-mini"));

    assertThatThrownBy(() -> resolver(elsewhere, tmp.resolve("nohome").toString(),
        tmp.resolve("none")).resolve("fashion-mnist-mini"))
        .isInstanceOf(DataFormatException.class)
        .hasMessage("fashion-mnist-mini: the dataset shipped with irevnet-workbench was not found"
            + " (looked for " + tmp.resolve("nohome/data/fashion-mnist-mini") + ", data/fashion-"
            + "mnist-mini in " + elsewhere + " and its parents): run from inside the checkout or"
            + " set IREVNET_HOME to its root");
  }

  /** Runs {@code body} with the system property {@code irevnet.home} set to {@code home}. */
  private static void withHomeProperty(String home, Runnable body) {
    String before = System.getProperty(Datasets.HOME_PROPERTY);
    System.setProperty(Datasets.HOME_PROPERTY, home);
    try {
      body.run();
    } finally {
      if (before == null) {
        System.clearProperty(Datasets.HOME_PROPERTY);
      } else {
        System.setProperty(Datasets.HOME_PROPERTY, before);
      }
    }
  }

  @Test
  void homeSystemPropertyIsHonoured() throws IOException {
    Path home = tmp.resolve("h");
    Synth.idxDir(home.resolve("data/toy"), 2, 2, 2, 2, 2, false);
    withHomeProperty(home.toString(), () ->
        assertThat(Datasets.resolve("toy").dir()).isEqualTo(home.resolve("data/toy")));
  }

  @Test
  void withoutAHomeOnlyTheWorkingDirectoryAndItsParentsAreSearched() {
    Assumptions.assumeTrue(System.getenv(Datasets.HOME_ENV) == null
        && System.getProperty(Datasets.HOME_ENV) == null, "IREVNET_HOME is set");
    withHomeProperty(" ", () -> // blank: no home
        assertThatThrownBy(() -> Datasets.resolve("no-such-dataset"))
            .isInstanceOf(DataFormatException.class)
            .hasMessage("no-such-dataset: no such directory and no such dataset name (known"
                + " names: fashion-mnist, fashion-mnist-mini; also looked for"
                + " data/no-such-dataset in " + Path.of("").toAbsolutePath()
                + " and its parents)"));
  }
}
