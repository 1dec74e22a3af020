package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;

/**
 * Whole-RDD operations on cached blocks, each done once before training: feature
 * standardization (statistics from the training blocks, merged in partition order) and a seeded
 * hold-out split. Results are cached and materialized; inputs are unpersisted.
 */
public final class BlockOps {

    private BlockOps() {
    }

    /** Per-feature {@code shift} and {@code scale}: features become {@code (x - shift) / scale}. */
    public record Scaling(double[] shift, double[] scale) implements java.io.Serializable {
    }

    /**
     * The training blocks' per-feature mean and standard deviation (population; a constant feature
     * gets scale 1), computed in two passes for accuracy.
     */
    public static Scaling fitStandardization(JavaRDD<DataBlock> blocks, int numFeatures) {
        double[] sums = mergeInOrder(blocks.map(b -> columnSums(b, null)).collect(), numFeatures + 1);
        double count = sums[numFeatures];
        if (count == 0) {
            throw new IllegalArgumentException("Cannot standardize features of an empty training set");
        }
        double[] mean = new double[numFeatures];
        for (int j = 0; j < numFeatures; j++) {
            mean[j] = sums[j] / count;
        }
        double[] squares = mergeInOrder(blocks.map(b -> columnSums(b, mean)).collect(), numFeatures + 1);
        double[] scale = new double[numFeatures];
        for (int j = 0; j < numFeatures; j++) {
            double sd = Math.sqrt(squares[j] / count);
            scale[j] = sd > 0 ? sd : 1.0;
        }
        return new Scaling(mean, scale);
    }

    /** Column sums of x (when {@code mean} is null) or of {@code (x - mean)²}, plus the row count at the end. */
    private static double[] columnSums(DataBlock block, double[] mean) {
        int d = block.numFeatures();
        double[] sums = new double[d + 1];
        double[] x = block.features();
        for (int r = 0; r < block.rows(); r++) {
            for (int j = 0; j < d; j++) {
                double v = x[r * d + j];
                if (mean == null) {
                    sums[j] += v;
                } else {
                    double c = v - mean[j];
                    sums[j] += c * c;
                }
            }
        }
        sums[d] = block.rows();
        return sums;
    }

    private static double[] mergeInOrder(List<double[]> parts, int width) {
        double[] total = new double[width];
        for (double[] part : parts) {
            for (int j = 0; j < width; j++) {
                total[j] += part[j];
            }
        }
        return total;
    }

    /** {@code blocks} with {@code scaling} applied, cached and materialized; {@code blocks} is unpersisted. */
    public static JavaRDD<DataBlock> scale(JavaRDD<DataBlock> blocks, Scaling scaling) {
        JavaRDD<DataBlock> scaled = blocks.map(b -> scaleBlock(b, scaling)).persist(StorageLevel.MEMORY_AND_DISK());
        scaled.count();
        blocks.unpersist(false);
        return scaled;
    }

    /** A copy of {@code block} with {@code (x - shift) / scale} applied to every feature. */
    public static DataBlock scaleBlock(DataBlock block, Scaling scaling) {
        int d = block.numFeatures();
        double[] x = block.features().clone();
        for (int r = 0; r < block.rows(); r++) {
            for (int j = 0; j < d; j++) {
                x[r * d + j] = (x[r * d + j] - scaling.shift()[j]) / scaling.scale()[j];
            }
        }
        return new DataBlock(block.rows(), d, block.numTargets(), x, block.targets(), block.weights());
    }

    /**
     * Splits every block's rows into (train, held out): each row is held out with probability
     * {@code fraction}, decided by the stream {@code (seed, SAMPLE, partition)}, so the split is
     * the same on every run. Returns both, cached and materialized; {@code blocks} is unpersisted.
     */
    public static List<JavaRDD<DataBlock>> holdOut(JavaRDD<DataBlock> blocks, double fraction, long seed) {
        List<JavaRDD<DataBlock>> out = new ArrayList<>();
        for (boolean heldOut : new boolean[] {false, true}) {
            JavaRDD<DataBlock> part = blocks.mapPartitionsWithIndex((p, it) -> {
                List<DataBlock> result = new ArrayList<>();
                while (it.hasNext()) {
                    result.add(select(it.next(), fraction, SplitMix64.derive(seed, SplitMix64.STREAM_SAMPLE, p), heldOut));
                }
                return result.iterator();
            }, true).persist(StorageLevel.MEMORY_AND_DISK());
            part.count();
            out.add(part);
        }
        blocks.unpersist(false);
        return out;
    }

    private static DataBlock select(DataBlock block, double fraction, long streamSeed, boolean heldOut) {
        SplitMix64 random = new SplitMix64(streamSeed);
        int[] kept = new int[block.rows()];
        int n = 0;
        for (int r = 0; r < block.rows(); r++) {
            if ((random.nextDouble() < fraction) == heldOut) {
                kept[n++] = r;
            }
        }
        return block.select(kept, 0, n);
    }
}
