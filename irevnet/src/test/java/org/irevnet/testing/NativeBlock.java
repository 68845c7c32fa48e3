package org.irevnet.testing;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * Anonymous memory mapped from the kernel (libc {@code mmap}), every page written, unmapped on
 * {@link #close}: memory a test can make resident and hand back at once, whatever state malloc is
 * in. A 96 MiB block from malloc stayed resident after {@code free} when the whole suite ran in
 * one JVM under pitest, though not in a test alone.
 */
public final class NativeBlock implements AutoCloseable {
  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20; // Linux x86-64
  private static final NativeLibrary C = NativeLibrary.getInstance("c");

  private final Pointer memory;
  private final long bytes;

  /** {@code bytes} of fresh memory, written. */
  public NativeBlock(long bytes) {
    this.bytes = bytes;
    Function mmap = C.getFunction("mmap");
    memory = mmap.invokePointer(new Object[] {Pointer.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L});
    if (memory == null || Pointer.nativeValue(memory) == -1) {
      throw new IllegalStateException("mmap of " + bytes + " bytes failed");
    }
    memory.setMemory(0, bytes, (byte) 1);
  }

  @Override
  public void close() {
    if (C.getFunction("munmap").invokeInt(new Object[] {memory, bytes}) != 0) {
      throw new IllegalStateException("munmap failed");
    }
  }
}
