package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;

/**
 * Consecutive rows of one partition of {@link ScoringInput}, in input order: their features as a
 * block (targets zero), and for each row where it came from and its passthrough values. Built and
 * consumed within one task; never shipped.
 *
 * @param block       the rows' features {@code (n, numFeatures)}, scaled as read (the feature
 *                    divisor); dense, or sparse with {@code data.sparse}
 * @param file        {@code (n)}: each row's file URI
 * @param row         {@code (n)}: each row's number in its file, as the file-and-row messages name
 *                    it: a text file's 1-based line (the header is line 1), a Parquet file's
 *                    0-based row index, an IDX file's 0-based record
 * @param passthrough {@code (n, passthrough columns)}: each row's passthrough values (the text of
 *                    a CSV field; the value Spark reads from Parquet); {@code (n, 0)} when none
 */
public record ScoringBatch(DataBlock block, String[] file, long[] row, Object[][] passthrough) {
}
