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
 *
 * <p>The order the slices are taken from is, by default, that full permutation of the partition's
 * rows. For data read chunk by chunk, {@link #windowedOrder} is a bounded shuffle instead: the
 * partition's chunks in a seeded order, grouped into windows of a few chunks whose rows are
 * shuffled together ({@link WindowPlan}). The slicing, and so the batch sizes and the L2 scaling,
 * are the same for both orders.
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

    /**
     * The windowed order of a partition of chunks of {@code chunkRows[c]} rows, with windows of
     * {@code windowChunks} chunks, for {@code (seed, epoch, partition)}: a new {@code (n)} array of
     * the partition's row indices (rows numbered across the chunks in chunk order), each exactly
     * once. {@link WindowPlan#of}{@code (...).order()}; see {@link WindowPlan} for the rule, which
     * windows a range of positions needs, and their chunks.
     *
     * @throws IllegalArgumentException as {@link WindowPlan#of} does
     */
    public static int[] windowedOrder(long seed, long epoch, int partition, int[] chunkRows, int windowChunks) {
        return WindowPlan.of(seed, epoch, partition, chunkRows, windowChunks).order();
    }
}
