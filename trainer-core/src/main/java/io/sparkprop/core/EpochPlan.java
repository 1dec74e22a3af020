package io.sparkprop.core;

/**
 * Which rows make up each mini-batch: the rule the single-process trainer and every Spark
 * partition follow, so that both draw exactly the same batches from the same data.
 *
 * <p>An epoch of {@code N} rows with global batch size {@code B} has {@code S = ceil(N / B)} steps.
 * Each partition (the single-process trainer is one partition) shuffles its {@code n_p} rows with
 * the permutation seeded by {@code (seed, epoch, partition)} and, at step {@code s}, takes the
 * slice {@code [⌊s·n_p/S⌋, ⌊(s+1)·n_p/S⌋)} of it. Every row is used exactly once per epoch (drawn
 * without replacement), every partition contributes in proportion to its size, and a partition's
 * slices differ by at most one row (no tiny last batch). A global batch therefore holds
 * {@code N/S <= B} rows on average, and any one batch is within {@code P - 1} rows of that average
 * for {@code P} partitions. Nothing depends on the task attempt, so a retried task computes the same
 * batch.
 */
public final class EpochPlan {

    private EpochPlan() {
    }

    /** {@code S = ceil(totalRows / batchSize)}, at least 1. */
    public static int stepsPerEpoch(long totalRows, int batchSize) {
        if (totalRows <= 0) {
            throw new IllegalArgumentException("Training data must have at least one row but has " + totalRows);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Batch size must be positive but got " + batchSize);
        }
        long steps = (totalRows + batchSize - 1) / batchSize;
        if (steps > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("An epoch of " + totalRows + " rows in batches of " + batchSize
                    + " has more than " + Integer.MAX_VALUE + " steps; use a larger batch");
        }
        return (int) steps;
    }

    /** Start of step {@code step}'s slice in a partition of {@code rows} rows: {@code ⌊step·rows/steps⌋}. */
    public static int sliceStart(int step, int rows, int steps) {
        return (int) ((long) step * rows / steps);
    }

    /** The largest slice any step takes from a partition of {@code rows} rows. */
    public static int maxSlice(int rows, int steps) {
        return (rows + steps - 1) / steps;
    }

    /** The seeded shuffle of {@code rows} row indices for {@code (seed, epoch, partition)} (Fisher-Yates). */
    public static int[] permutation(long seed, long epoch, int partition, int rows) {
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        SplitMix64 random = new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_SHUFFLE, epoch, partition));
        for (int i = rows - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
