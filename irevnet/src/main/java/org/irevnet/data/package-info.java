/**
 * Datasets: loading, checking, preprocessing and batching.
 *
 * <ul>
 *   <li>{@link org.irevnet.data.Datasets#resolve(String)} turns a {@code --data} value (a
 *       directory, {@code fashion-mnist} or {@code fashion-mnist-mini}) into a
 *       {@link org.irevnet.data.DataSource}, whose {@code train()} and {@code test()} give
 *       {@link org.irevnet.data.Dataset}s: float32 [n, c, h, w] images in [0, 1], int labels,
 *       class names.
 *   <li>Formats: {@link org.irevnet.data.IdxFiles} (MNIST, Fashion-MNIST, EMNIST),
 *       {@link org.irevnet.data.Cifar10Files}, {@link org.irevnet.data.PngFolders}. Headers, sizes
 *       and lengths are validated before allocating; every problem is a one-line
 *       {@link org.irevnet.data.DataFormatException} naming the file.
 *   <li>{@link org.irevnet.data.Preprocess}: zero-padding to the model input (never cropping),
 *       dequantisation noise, random shifts.
 *   <li>{@link org.irevnet.data.BatchIterator}: an ND4J {@code DataSetIterator} with seeded
 *       per-epoch shuffling and an exact, restorable position;
 *       {@link org.irevnet.data.Batches} gives the same batches as index arrays.
 * </ul>
 */
package org.irevnet.data;
