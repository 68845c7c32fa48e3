package org.irevnet.testing;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeds ND4J's global generator before every test class and test from their names, for every
 * module's tests (registered through {@code META-INF/services} and {@code junit-platform.properties}
 * of the test-jar). Tests that draw from it without a seed of their own ({@code Nd4j.rand},
 * {@code Nd4j.randn}) otherwise saw whatever state the tests before them left, so a failure that
 * needed one draw could not be repeated by running that test alone, nor in another order.
 */
public final class SeededNd4j implements BeforeAllCallback, BeforeEachCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    Nd4j.getRandom().setSeed(seedOf(context.getRequiredTestClass().getName(), "", ""));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Nd4j.getRandom().setSeed(seedOf(context.getRequiredTestClass().getName(),
        context.getTestMethod().map(Method::getName).orElse(""), context.getDisplayName()));
  }

  /**
   * The seed of a test: FNV-1a over its class, method and display name (the display name tells a
   * parameterised or repeated test's invocations apart), the same in every JVM and order.
   */
  public static long seedOf(String className, String method, String displayName) {
    long h = 0xcbf29ce484222325L;
    for (byte b : (className + '#' + method + '#' + displayName).getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h;
  }

  /**
   * The first five float64 draws of the generator seeded as this extension seeds the test {@code
   * info} names: what a test drawing first thing must have drawn, if the extension ran.
   */
  public static INDArray firstDrawOf(TestInfo info) {
    Nd4j.getRandom().setSeed(seedOf(info.getTestClass().orElseThrow().getName(),
        info.getTestMethod().orElseThrow().getName(), info.getDisplayName()));
    return Nd4j.rand(DataType.DOUBLE, 5);
  }
}
