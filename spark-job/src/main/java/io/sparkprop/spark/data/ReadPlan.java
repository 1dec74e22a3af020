package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.data.InputFiles.InputFile;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * What a format reader hands {@link DataLoader}: the (not yet persisted or computed) blocks, a
 * pass that counts the rows the blocks leave out (run only under {@link BadRowPolicy#SKIP}), the
 * feature width, the files read and the features' names (CSV columns, Parquet numeric columns;
 * empty when the format has none).
 */
record ReadPlan(JavaRDD<DataBlock> blocks, JavaRDD<PartitionStats> badRows, int numFeatures, List<InputFile> files,
                List<String> featureNames) {

    ReadPlan {
        featureNames = List.copyOf(featureNames);
    }

    /** A plan for a format whose features have no names. */
    ReadPlan(JavaRDD<DataBlock> blocks, JavaRDD<PartitionStats> badRows, int numFeatures, List<InputFile> files) {
        this(blocks, badRows, numFeatures, files, List.of());
    }
}
