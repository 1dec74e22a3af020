/**
 * From files or a DataFrame to cached blocks: readers for IDX, LIBSVM, CSV and Parquet, the
 * row-to-block path ({@code ParsedRow} to {@code BlockBuilder}, which
 * {@link io.sparkprop.spark.data.FrameBlocks} shares), bad-row policies that name the file and row,
 * and the training data's {@link io.sparkprop.spark.data.BlockFingerprint}.
 *
 * <p>Not here: what is done with the blocks (training, evaluation), or the config keys that say
 * how to read (they arrive as {@link io.sparkprop.spark.data.DataOptions}).
 */
package io.sparkprop.spark.data;
