package org.irevnet.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** NumPy {@code .npz} archives (a zip of {@code name.npy} entries), readable by {@code np.load}. */
public final class Npz {
  private Npz() {}

  /** Writes the arrays atomically, in map order. */
  public static void write(Path file, Map<String, INDArray> arrays) throws IOException {
    AtomicFiles.write(file, out -> {
      ZipOutputStream zip = new ZipOutputStream(out);
      for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        zip.write(Nd4j.toNpyByteArray(e.getValue().dup('c')));
        zip.closeEntry();
      }
      zip.finish();
    });
  }

  /**
   * Reads every array of the archive.
   *
   * @throws IOException naming the file when it is not a readable npz archive
   */
  public static Map<String, INDArray> read(Path file) throws IOException {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        String name = e.getName();
        if (!name.endsWith(".npy")) throw new IOException(file + ": unexpected entry " + name);
        byte[] bytes = zip.readAllBytes();
        INDArray a;
        try {
          a = Nd4j.createNpyFromByteArray(bytes).dup();
        } catch (RuntimeException ex) {
          throw new IOException(file + ": entry " + name + " is not a valid .npy array", ex);
        }
        arrays.put(name.substring(0, name.length() - 4), a);
      }
    }
    if (arrays.isEmpty()) throw new IOException(file + ": not an npz archive (no arrays found)");
    return arrays;
  }
}
