package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * What identifies a run's training data, for checkpoints: the partition count, the row count and a
 * hash of every value (features, sparse structure, targets, weights) in partition and row order.
 * A checkpoint resumes only onto data with the same fingerprint, whichever front door (files or
 * a DataFrame) made the blocks and wherever the files now are. An estimator fit's run key also
 * holds the fingerprint of its validation blocks. Computed by one pass over the cached blocks.
 */
public final class BlockFingerprint {

    private BlockFingerprint() {
    }

    /** The fingerprint of training blocks, as text (stored in each checkpoint). */
    public static String of(JavaRDD<DataBlock> blocks) {
        return of("training data", blocks);
    }

    /**
     * The fingerprint of {@code blocks} as text: the line {@code what} ("validation data"), then
     * the partitions, rows and content hash, one a line.
     */
    public static String of(String what, JavaRDD<DataBlock> blocks) {
        List<long[]> parts = blocks.map(BlockFingerprint::summarize).collect();
        long rows = 0;
        long hash = 1;
        for (long[] part : parts) {
            rows += part[0];
            hash = 31 * hash + part[1];
        }
        return what + "\npartitions " + blocks.getNumPartitions() + "\nrows " + rows + "\ncontent hash "
                + Long.toHexString(hash) + "\n";
    }

    private static long[] summarize(DataBlock block) {
        long hash = block.rows();
        if (block.isSparse()) {
            for (int v : block.rowStart()) {
                hash = hash * 0x9E3779B97F4A7C15L + v;
            }
            for (int v : block.columns()) {
                hash = hash * 0x9E3779B97F4A7C15L + v;
            }
        }
        double[] features = block.isSparse() ? block.values() : block.features();
        for (double[] values : new double[][] {features, block.targets(), block.weights()}) {
            hash = 31 * hash + (values == null ? 0 : values.length);
            if (values != null) {
                for (double v : values) {
                    hash = hash * 0x9E3779B97F4A7C15L + Double.doubleToLongBits(v);
                }
            }
        }
        return new long[] {block.rows(), hash};
    }
}
