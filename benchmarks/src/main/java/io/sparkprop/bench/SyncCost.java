package io.sparkprop.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The wall time of one synchronous Spark step with no computation in it, measured in the caller's
 * SparkContext: the reference points printed next to sparkprop's measured step overhead. Not a
 * model of sparkprop's step; two ends of a scale.
 *
 * <ul>
 * <li>{@link #bareTreeAggregate}: the floor. One {@code treeAggregate} of one double per
 *     partition (Spark's default: the last level merged on the driver), so the time is job
 *     scheduling, task launch and result collection.</li>
 * <li>{@link #mllibStyleTreeAggregate}: what one MLlib optimizer step (MLPC's L-BFGS function
 *     evaluation or gd iteration, Spark 4.1 {@code mllib.optimization.LBFGS} and
 *     {@code GradientDescent}) costs without the gradient computation: broadcast the weights
 *     ({@code paramCount} doubles), {@code treeAggregate} at depth 2 with
 *     {@code finalAggregateOnExecutor = true} (so the partials of more than one partition go
 *     through a shuffle to one task that merges them, and the driver fetches that one result),
 *     then destroy the broadcast. As in MLlib, the zero value in the task closure is empty (MLlib
 *     ships an empty sparse vector for L-BFGS and a {@code null} for gd) and each task allocates
 *     its dense {@code double[paramCount]} partial on its first record; here each task adds the
 *     broadcast weights into it.</li>
 * </ul>
 *
 * Both run on a tiny RDD of one element per partition, cached and materialized before any
 * timing. Each call runs {@code warmup} untimed repetitions, then times {@code reps}. Every result
 * is checked (an exact sum), outside the timing. In local mode a broadcast is serialized on the
 * driver but read back by reference, so broadcast costs here are lower than on a cluster.
 */
public final class SyncCost {

    /** Parameters of the 784-256-128-10 MLP (weights and biases). */
    public static final int MLP_PARAM_COUNT = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10;

    /** MLlib's treeAggregate depth. */
    static final int DEPTH = 2;

    /**
     * Wall milliseconds of {@code reps} timed repetitions. Percentiles interpolate linearly between
     * the closest ranks.
     *
     * @param paramCount doubles broadcast and aggregated per step; 1 for the bare aggregate (one double)
     */
    public record Timing(String name, int partitions, int paramCount, int warmup, int reps, double medianMs,
                         double p10Ms, double p90Ms) {

        public String toJson() {
            return new JsonFields()
                    .add("name", name)
                    .add("partitions", partitions)
                    .add("param_count", paramCount)
                    .add("warmup", warmup)
                    .add("reps", reps)
                    .add("median_ms", medianMs)
                    .add("p10_ms", p10Ms)
                    .add("p90_ms", p90Ms)
                    .close();
        }

        /**
         * For example {@code mllib-style-tree-aggregate (8 partitions, 235,146 doubles): median
         * 41.20 ms (p10 38.00, p90 47.90; 20 reps)}.
         */
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s (%d partitions, %,d double%s): median %.2f ms (p10 %.2f, p90 %.2f;"
                    + " %d reps)", name, partitions, paramCount, paramCount == 1 ? "" : "s", medianMs, p10Ms, p90Ms,
                    reps);
        }
    }

    private SyncCost() {
    }

    /** One-double {@code treeAggregate}s (depth 2, last level on the driver) over {@code partitions} partitions. */
    public static Timing bareTreeAggregate(JavaSparkContext sc, int partitions, int warmup, int reps) {
        check(partitions, 1, warmup, reps);
        JavaRDD<Double> rdd = tinyRdd(sc, partitions);
        try {
            double[] ms = new double[reps];
            for (int rep = -warmup; rep < reps; rep++) {
                long start = System.nanoTime();
                double sum = rdd.treeAggregate(0.0, (a, x) -> a + x, (a, b) -> a + b, DEPTH);
                long end = System.nanoTime();
                if (sum != partitions) {
                    throw new IllegalStateException("Bare treeAggregate over " + partitions + " partitions summed to "
                            + sum + ", expected " + partitions);
                }
                if (rep >= 0) {
                    ms[rep] = (end - start) / 1e6;
                }
            }
            return timing("bare-tree-aggregate", partitions, 1, warmup, ms);
        } finally {
            rdd.unpersist(true);
        }
    }

    /**
     * MLlib-style steps: broadcast {@code double[paramCount]}, {@code treeAggregate} a dense
     * {@code double[paramCount]} per task (depth 2, final merge on an executor), destroy the
     * broadcast; the whole step timed.
     */
    public static Timing mllibStyleTreeAggregate(JavaSparkContext sc, int partitions, int paramCount, int warmup,
                                                 int reps) {
        check(partitions, paramCount, warmup, reps);
        // multiples of 1/8: every partial sum is exact, so the result can be checked with ==
        double[] weights = new double[paramCount];
        for (int i = 0; i < paramCount; i++) {
            weights[i] = (i % 8) * 0.125;
        }
        JavaRDD<Double> rdd = tinyRdd(sc, partitions);
        try {
            double[] ms = new double[reps];
            for (int rep = -warmup; rep < reps; rep++) {
                long start = System.nanoTime();
                Broadcast<double[]> broadcast = sc.broadcast(weights);
                double[] sum = rdd.treeAggregate(null, (double[] partial, Double ignored) -> {
                    double[] w = broadcast.value();
                    double[] into = partial == null ? new double[w.length] : partial;
                    for (int i = 0; i < w.length; i++) {
                        into[i] += w[i];
                    }
                    return into;
                }, SyncCost::merge, DEPTH, true);
                broadcast.destroy();
                long end = System.nanoTime();
                checkSum(sum, weights, partitions);
                if (rep >= 0) {
                    ms[rep] = (end - start) / 1e6;
                }
            }
            return timing("mllib-style-tree-aggregate", partitions, paramCount, warmup, ms);
        } finally {
            rdd.unpersist(true);
        }
    }

    /** {@code into += other}; either may be an empty ({@code null}) partial. Mutates and returns {@code into}. */
    private static double[] merge(double[] into, double[] other) {
        if (into == null) {
            return other;
        }
        if (other == null) {
            return into;
        }
        if (into.length != other.length) {
            throw new IllegalStateException("Partials disagree: " + into.length + " and " + other.length + " doubles");
        }
        for (int i = 0; i < into.length; i++) {
            into[i] += other[i];
        }
        return into;
    }

    private static void checkSum(double[] sum, double[] weights, int partitions) {
        if (sum == null || sum.length != weights.length) {
            throw new IllegalStateException("MLlib-style treeAggregate returned " + (sum == null ? "nothing"
                    : sum.length + " doubles") + ", expected " + weights.length);
        }
        for (int i = 0; i < sum.length; i++) {
            if (sum[i] != partitions * weights[i]) {
                throw new IllegalStateException("MLlib-style treeAggregate over " + partitions + " partitions: element "
                        + i + " is " + sum[i] + ", expected " + partitions * weights[i]);
            }
        }
    }

    /** One 1.0 per partition, cached and materialized. */
    private static JavaRDD<Double> tinyRdd(JavaSparkContext sc, int partitions) {
        List<Double> ones = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            ones.add(1.0);
        }
        JavaRDD<Double> rdd = sc.parallelize(ones, partitions).cache();
        long count = rdd.count();
        if (count != partitions) {
            throw new IllegalStateException("Cached " + count + " elements, expected " + partitions);
        }
        return rdd;
    }

    private static void check(int partitions, int paramCount, int warmup, int reps) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1 but got " + partitions);
        }
        if (paramCount < 1) {
            throw new IllegalArgumentException("paramCount must be at least 1 but got " + paramCount);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup must be at least 0 but got " + warmup);
        }
        if (reps < 1) {
            throw new IllegalArgumentException("reps must be at least 1 but got " + reps);
        }
    }

    private static Timing timing(String name, int partitions, int paramCount, int warmup, double[] ms) {
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return new Timing(name, partitions, paramCount, warmup, ms.length, percentile(sorted, 0.5),
                percentile(sorted, 0.1), percentile(sorted, 0.9));
    }

    /** The {@code q} quantile of ascending {@code sorted}, interpolated linearly between the closest ranks. */
    static double percentile(double[] sorted, double q) {
        double rank = q * (sorted.length - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }
}
