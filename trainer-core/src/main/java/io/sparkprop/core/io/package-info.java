/**
 * The model file: {@link io.sparkprop.core.io.Model} (spec, weights, named arrays, metadata) and
 * its versioned, CRC32C-checked binary form ({@link io.sparkprop.core.io.ModelCodec}, specified
 * byte by byte in docs/model-format.md), with one exception type per way a file can be wrong.
 *
 * <p>Not here: Hadoop file systems (the Spark job reads and writes streams through this codec).
 */
package io.sparkprop.core.io;
