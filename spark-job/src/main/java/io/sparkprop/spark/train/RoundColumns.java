package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochRows;
import java.util.BitSet;
import java.util.Iterator;
import org.apache.spark.api.java.JavaRDD;

/**
 * The driver's knowledge of which first-layer rows each lazy local-SGD round uses: for every
 * round, the union over the partitions of the columns of the rows the round's steps take
 * ({@link EpochRows#columnsOf}), so that the round's broadcast can hold exactly those rows (a
 * pull, {@code docs/sparse.md}) instead of a whole-model base. The rows of a round follow from the
 * seed, the epoch and the partitions' cached blocks, so the driver asks the executors, one small
 * job for many rounds: the rounds from a given step to the end of the epoch, at most {@link
 * #JOB_BYTES} of bitsets at a time ({@code D/8} bytes a round: 128 KiB at 2^20 features, so 256
 * rounds a job). The union is an OR, so the partitions' order does not matter.
 *
 * <p>Lifecycle: one per training run over cached blocks ({@code train.shuffle = partition}); {@link
 * #of} for each round, in any order (a resume or rollback starts anywhere: a round outside the
 * rounds known runs the job again from it).
 */
final class RoundColumns {

    /** At most this many bytes of bitsets a job brings to the driver. */
    static final long JOB_BYTES = 32L << 20;

    private final JavaRDD<DataBlock> blocks;
    private final long seed;
    private final int stepsPerEpoch;
    private final int localSteps;
    private final int features;
    private final int depth;
    private final long jobBytes;
    private int epoch = -1;
    private int firstStep;
    /** The known rounds' columns: round {@code r} covers steps {@code firstStep + r·localSteps ..}. */
    private long[][] rounds = new long[0][];
    /** Jobs run so far (tests). */
    int jobs;

    /**
     * @param blocks        the training partitions, cached, in {@link PartitionRows#BLOCKS}' form
     * @param localSteps    {@code k}, the steps of a round (the last of an epoch may be shorter)
     * @param features      {@code D}, the first layer's inputs
     * @param depth         the aggregation tree's depth ({@code train.aggregation-depth})
     */
    RoundColumns(JavaRDD<DataBlock> blocks, long seed, int stepsPerEpoch, int localSteps, int features, int depth) {
        this(blocks, seed, stepsPerEpoch, localSteps, features, depth, JOB_BYTES);
    }

    /** With another budget than {@link #JOB_BYTES} per job (tests: a job for every few rounds). */
    RoundColumns(JavaRDD<DataBlock> blocks, long seed, int stepsPerEpoch, int localSteps, int features, int depth,
                 long jobBytes) {
        this.jobBytes = jobBytes;
        this.blocks = blocks;
        this.seed = seed;
        this.stepsPerEpoch = stepsPerEpoch;
        this.localSteps = localSteps;
        this.features = features;
        this.depth = depth;
    }

    /**
     * The rows (features, increasing) that the round of epoch {@code epoch} starting at step {@code
     * step} uses in any partition. Runs a Spark job when the round is not among those known.
     *
     * @throws IllegalStateException when a partition's rows cannot say their columns (dense blocks)
     */
    int[] of(int epoch, int step) {
        int r = step - firstStep;
        if (epoch != this.epoch || r < 0 || r % localSteps != 0 || r / localSteps >= rounds.length) {
            fetch(epoch, step);
            r = 0;
        }
        return BitSet.valueOf(rounds[r / localSteps]).stream().toArray();
    }

    private void fetch(int epoch, int step) {
        int left = (stepsPerEpoch - step + localSteps - 1) / localSteps;
        int count = (int) Math.max(1, Math.min(left, jobBytes / Math.max(1, features / 8)));
        long seed = this.seed;
        int stepsPerEpoch = this.stepsPerEpoch;
        int localSteps = this.localSteps;
        int features = this.features;
        this.rounds = OrderedTreeAggregate.aggregate(blocks, (partition, input) -> columns(partition, input, seed,
                epoch, step, count, localSteps, stepsPerEpoch, features), RoundColumns::or, depth);
        this.epoch = epoch;
        this.firstStep = step;
        jobs++;
    }

    /** On an executor: the columns of this partition's rows in each of the {@code count} rounds from {@code step}. */
    private static long[][] columns(int partition, Iterator<DataBlock> input, long seed, int epoch, int step,
                                    int count, int localSteps, int stepsPerEpoch, int features) {
        EpochRows rows = PartitionRows.BLOCKS.open(partition, input, seed, epoch);
        long[][] out = new long[count][];
        BitSet columns = new BitSet(features);
        for (int r = 0; r < count; r++) {
            int first = step + r * localSteps;
            columns.clear();
            if (!rows.columnsOf(first, Math.min(localSteps, stepsPerEpoch - first), stepsPerEpoch, columns)) {
                throw new IllegalStateException("Partition " + partition + "'s rows cannot say the columns they use"
                        + " (dense blocks): a lazy round needs sparse ones");
            }
            out[r] = columns.toLongArray();
        }
        return out;
    }

    /** ORs {@code other}'s bitsets into {@code into}'s, round by round. */
    private static long[][] or(long[][] into, long[][] other) {
        for (int r = 0; r < into.length; r++) {
            long[] a = into[r];
            long[] b = other[r];
            if (b.length > a.length) {
                long[] t = a;
                a = b.clone();
                b = t;
            }
            for (int w = 0; w < b.length; w++) {
                a[w] |= b[w];
            }
            into[r] = a;
        }
        return into;
    }
}
