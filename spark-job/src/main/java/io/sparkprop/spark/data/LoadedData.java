package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * A dataset read into exactly one {@link DataBlock} per partition (or, with a {@link ChunkLayout},
 * one per chunk of about {@code data.chunk-bytes}), persisted
 * {@code MEMORY_AND_DISK} and already materialized (counted), so training steps never re-read or
 * re-parse the files.
 *
 * <p>The blocks are a deterministic function of the files and the partition count: the same
 * files read into the same number of partitions give the same rows in the same order in every
 * block, whatever the order in which Spark's tasks ran or fetched their inputs.
 *
 * @param blocks      one block per partition (a partition may hold an empty block)
 * @param rows        total rows kept
 * @param skippedRows rows dropped under {@link BadRowPolicy#SKIP}
 * @param numFeatures the feature width of every block
 * @param sources     what was read, for logs and checkpoint fingerprints: each file's URI and size
 * @param featureNames the features' names in order (CSV columns, {@code _c0}... without a header;
 *                     Parquet numeric columns), for messages; empty when the format has none (IDX,
 *                     LIBSVM, a Parquet vector column)
 * @param featureColumns the features' column names in order when the data names its columns
 *                     ({@link DataOptions#namedColumns}: CSV with a header, Parquet numeric columns),
 *                     by which other data's features can be found; empty when they are positional
 * @param chunks       with {@code train.shuffle = window}: which of {@code blocks} (then one per
 *                     chunk, not per partition) belong to which training partition; null when
 *                     {@code blocks} holds one block per partition
 */
public record LoadedData(JavaRDD<DataBlock> blocks, long rows, long skippedRows, int numFeatures,
                         List<String> sources, List<String> featureNames, List<String> featureColumns,
                         ChunkLayout chunks) {

    public LoadedData {
        featureNames = List.copyOf(featureNames);
        featureColumns = List.copyOf(featureColumns);
    }
}
