package io.sparkprop.spark.data;

import io.sparkprop.spark.data.InputFiles.InputFile;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.types.StructType;

/**
 * What a text or Parquet reader hands {@link DataLoader#forScoring}: the keyed rows (not yet
 * partitioned), each file's extent in key positions for {@link InputOrderPartitioner} (bytes of a
 * text file, rows of a Parquet file), the feature width, the files read, and the passthrough
 * columns' names and types.
 */
record ScoringPlan(JavaPairRDD<Long, ParsedRow> keyed, long[] extents, int numFeatures, List<InputFile> files,
                   StructType passthrough) {
}
