package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.SplitMix64;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whole-RDD operations on cached blocks, each done once before training: feature
 * standardization (statistics from the training blocks, merged in partition order) and a seeded
 * hold-out split. Results are cached and materialized; inputs are unpersisted.
 */
public final class BlockOps {

    private static final Logger LOG = LoggerFactory.getLogger(BlockOps.class);

    private BlockOps() {
    }

    /** Per-feature {@code shift} and {@code scale}: features become {@code (x - shift) / scale}. */
    public record Scaling(double[] shift, double[] scale) implements java.io.Serializable {
    }

    /**
     * The training blocks' per-feature mean and standard deviation (population), computed in two
     * passes for accuracy, with partial sums merged in partition order.
     *
     * <p>A constant feature (its minimum equals its maximum) is shifted by its value and scaled by 1,
     * so it becomes exactly 0 on every training row, as scikit-learn's and Spark's StandardScaler
     * leave it: not an error. Its mean is not used, because its rounding alone (0.1 three times sums
     * to 0.30000000000000004) would give a deviation of about 1e-17 and a column of -1s.
     *
     * @param names the features' names in order (CSV columns), or empty when they are unknown
     * @throws IllegalArgumentException when the set is empty, or a feature's mean or standard
     *                                  deviation is not finite (its sum or its squares overflow a
     *                                  double), naming the feature, its name, the statistic and its value
     */
    public static Scaling fitStandardization(JavaRDD<DataBlock> blocks, int numFeatures, List<String> names) {
        // Per block: column sums (d), minima (d), maxima (d), then the row count.
        List<double[]> parts = blocks.map(BlockOps::sumsAndRange).collect();
        double[] sums = new double[numFeatures];
        double[] min = new double[numFeatures];
        double[] max = new double[numFeatures];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        double count = 0;
        for (double[] part : parts) {
            for (int j = 0; j < numFeatures; j++) {
                sums[j] += part[j];
                min[j] = Math.min(min[j], part[numFeatures + j]);
                max[j] = Math.max(max[j], part[2 * numFeatures + j]);
            }
            count += part[3 * numFeatures];
        }
        if (count == 0) {
            throw new IllegalArgumentException("Cannot standardize features of an empty training set");
        }
        double[] mean = new double[numFeatures];
        for (int j = 0; j < numFeatures; j++) {
            mean[j] = min[j] == max[j] ? min[j] : sums[j] / count;
            if (!Double.isFinite(mean[j])) {
                throw overflow(j, names, "mean", mean[j], count, min[j], max[j]);
            }
        }
        double[] squares = mergeInOrder(blocks.map(b -> columnSums(b, mean)).collect(), numFeatures + 1);
        double[] scale = new double[numFeatures];
        List<String> constant = new ArrayList<>();
        for (int j = 0; j < numFeatures; j++) {
            if (min[j] == max[j]) {
                scale[j] = 1.0;
                constant.add(feature(j, names));
                continue;
            }
            double sd = Math.sqrt(squares[j] / count);
            if (!Double.isFinite(sd)) {
                throw overflow(j, names, "standard deviation", sd, count, min[j], max[j]);
            }
            scale[j] = sd > 0 ? sd : 1.0;
        }
        if (!constant.isEmpty()) {
            LOG.info("Standardization: {} constant in the training data, left unscaled (0 on every training row): {}",
                    constant.size() == 1 ? "1 feature is" : constant.size() + " features are",
                    String.join(", ", constant.subList(0, Math.min(10, constant.size())))
                            + (constant.size() > 10 ? ", ..." : ""));
        }
        return new Scaling(mean, scale);
    }

    private static IllegalArgumentException overflow(int j, List<String> names, String statistic, double value,
                                                     double count, double min, double max) {
        return new IllegalArgumentException(String.format(Locale.ROOT, "Cannot standardize %s: its %s over"
                        + " the %.0f training rows is %s (its values run from %s to %s, and their %s overflows a"
                        + " double). Rescale the column, or set data.scaling to none or divide.", feature(j, names),
                statistic, count, value, min, max, statistic.equals("mean") ? "sum" : "sum of squared deviations"));
    }

    /** {@code feature 3 ('age')}, or {@code feature 3} when the names are unknown. */
    private static String feature(int j, List<String> names) {
        return j < names.size() ? "feature " + j + " ('" + names.get(j) + "')" : "feature " + j;
    }

    /** A block's column sums, minima and maxima, then its row count: {@code (3 numFeatures + 1)}. */
    private static double[] sumsAndRange(DataBlock block) {
        int d = block.numFeatures();
        double[] out = new double[3 * d + 1];
        Arrays.fill(out, d, 2 * d, Double.POSITIVE_INFINITY);
        Arrays.fill(out, 2 * d, 3 * d, Double.NEGATIVE_INFINITY);
        double[] x = block.features();
        for (int r = 0; r < block.rows(); r++) {
            for (int j = 0; j < d; j++) {
                double v = x[r * d + j];
                out[j] += v;
                out[d + j] = Math.min(out[d + j], v);
                out[2 * d + j] = Math.max(out[2 * d + j], v);
            }
        }
        out[3 * d] = block.rows();
        return out;
    }

    /** Column sums of {@code (x - mean)²}, plus the row count at the end. */
    private static double[] columnSums(DataBlock block, double[] mean) {
        int d = block.numFeatures();
        double[] sums = new double[d + 1];
        double[] x = block.features();
        for (int r = 0; r < block.rows(); r++) {
            for (int j = 0; j < d; j++) {
                double c = x[r * d + j] - mean[j];
                sums[j] += c * c;
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
