/**
 * From files or a DataFrame to cached blocks: readers for IDX, LIBSVM, CSV and Parquet, the
 * row-to-block path ({@code ParsedRow} to {@code BlockBuilder}, which
 * {@link io.sparkprop.spark.data.FrameBlocks} shares), bad-row policies that name the file and row,
 * the training data's {@link io.sparkprop.spark.data.BlockFingerprint}, and the same readers' rows
 * for scoring ({@link io.sparkprop.spark.data.ScoringInput}: no labels, in input order, each row
 * with its file, row number and passthrough values).
 *
 * <p>Not here: what is done with the blocks (training, evaluation), or the config keys that say
 * how to read (they arrive as {@link io.sparkprop.spark.data.DataOptions}).
 */
package io.sparkprop.spark.data;
