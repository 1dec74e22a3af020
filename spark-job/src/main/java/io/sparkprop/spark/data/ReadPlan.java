package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.data.InputFiles.InputFile;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * What a format reader hands {@link DataLoader}: the (not yet persisted or computed) blocks, a
 * pass that counts the rows the blocks leave out (run only under {@link BadRowPolicy#SKIP}), the
 * feature width, the files read and the features' names (CSV columns, Parquet numeric columns;
 * empty when the format has none). Formats that shuffle parsed rows (CSV, LIBSVM, Parquet) also
 * hand over those partitioned, sorted rows ({@code rows}) and whether they carry weights, from
 * which {@link Chunker} cuts chunks; IDX, which builds its blocks directly, has none.
 */
record ReadPlan(JavaRDD<DataBlock> blocks, JavaRDD<PartitionStats> badRows, int numFeatures, List<InputFile> files,
                List<String> featureNames, JavaRDD<ParsedRow> rows, boolean weighted) {

    ReadPlan {
        featureNames = List.copyOf(featureNames);
    }

    /** A plan for a format whose features have no names and that builds its blocks directly. */
    ReadPlan(JavaRDD<DataBlock> blocks, JavaRDD<PartitionStats> badRows, int numFeatures, List<InputFile> files) {
        this(blocks, badRows, numFeatures, files, List.of(), null, false);
    }

    /** The plan of rows partitioned and sorted by {@link BlockBuilder#partitionAndSort}. */
    static ReadPlan ofRows(JavaRDD<ParsedRow> sorted, int numFeatures, int numOutputs, boolean weighted,
                           boolean sparse, List<InputFile> files, List<String> featureNames) {
        return new ReadPlan(BlockBuilder.blocks(sorted, numFeatures, numOutputs, weighted, sparse),
                BlockBuilder.badRowStats(sorted), numFeatures, files, featureNames, sorted, weighted);
    }
}
