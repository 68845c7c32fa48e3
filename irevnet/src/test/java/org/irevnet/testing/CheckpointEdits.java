package org.irevnet.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hand edits of a saved checkpoint that keep its manifest right: what the manifest cannot catch. */
public final class CheckpointEdits {
  private CheckpointEdits() {}

  /** Writes {@code content} as the checkpoint's {@code file}, and its SHA-256 into manifest.json. */
  public static void rewrite(Path checkpoint, String file, String content) throws IOException {
    Files.write(checkpoint.resolve(file), content.getBytes(StandardCharsets.UTF_8));
    rehash(checkpoint, file);
  }

  /** Writes the SHA-256 of the checkpoint's {@code file} as it is now (computed here) into manifest.json. */
  public static void rehash(Path checkpoint, String file) throws IOException {
    byte[] bytes = Files.readAllBytes(checkpoint.resolve(file));
    ObjectMapper json = new ObjectMapper();
    Path manifest = checkpoint.resolve("manifest.json");
    ObjectNode m = (ObjectNode) json.readTree(manifest.toFile());
    try {
      ((ObjectNode) m.get("sha256")).put(file, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    json.writeValue(manifest.toFile(), m);
  }
}
