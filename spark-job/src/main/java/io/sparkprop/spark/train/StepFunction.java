package io.sparkprop.spark.train;

import io.sparkprop.core.EpochRows;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.LocalRound;
import io.sparkprop.core.Network;
import java.util.Iterator;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * One training step on one partition, run by a Spark task: take this step's slice of the
 * partition's epoch order ({@link EpochPlan}, or the windowed order: {@link PartitionRows}), run the core's forward and backward passes
 * with the broadcast weights ({@link LocalRound#addStep}), and return the partition's
 * {@code (gradient sum, loss sum, count)} with its compute time. The driver applies the core's
 * {@link io.sparkprop.core.StepRule} to the merged sums.
 *
 * <p>The closure is small: the broadcast handle, the network (spec, precision, dropout) and a few numbers. The batch depends on
 * {@code (seed, epoch, partition, step)} only, never on the task attempt, so a retried task
 * computes exactly the same result.
 */
final class StepFunction<T> implements OrderedTreeAggregate.PartitionFunction<T, TimedGradient> {

    private static final long serialVersionUID = 1L;

    /**
     * Test hook: a Spark conf key whose value is a global step number; the first attempt of
     * partition 0's task at that step throws, to prove that retries change nothing.
     */
    static final String FAIL_ONCE_AT_STEP = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "failOnceAtStep";

    /**
     * Test hook: a Spark conf key with comma-separated global steps; the first time each of those
     * steps runs in this JVM, partition 0 returns a NaN gradient, as a numerical blow-up would.
     */
    static final String NAN_ONCE_AT_STEPS = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "nanOnceAtSteps";

    /**
     * Test hook: a Spark conf key with a global step; the first time that step runs in this JVM,
     * partition 0's task fails in every attempt, so the Spark job fails.
     */
    static final String FAIL_JOB_ONCE_AT_STEP = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX
            + "failJobOnceAtStep";

    /**
     * Test hook: a Spark conf key whose value is a global step number; the first attempt of
     * partition 0's task at that step (a step, or the local-SGD round that starts there) sleeps
     * before it computes, up to {@link #SLOW_MILLIS} ms, unless the scheduler kills it meanwhile:
     * a straggler for which {@code spark.speculation} launches a copy, whose result (the same
     * bits) is used while this attempt is killed ({@code scripts/cluster-test-elastic}). Later
     * attempts, the speculative copy among them, run at full speed.
     */
    static final String SLOW_ONCE_AT_STEP = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "slowOnceAtStep";

    /** How long the {@link #SLOW_ONCE_AT_STEP} straggler sleeps when nothing kills it. */
    static final long SLOW_MILLIS = 60_000;

    private static final java.util.Set<Long> NAN_FIRED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.Set<Long> JOB_FAILURE_FIRED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A test hook's value: a JVM system property of that name (in local mode the executors are the
     * test's JVM, so a test can set it per run), else the Spark conf key.
     */
    private static String hook(SparkEnv env, String key) {
        String value = System.getProperty(key);
        return value != null ? value : env.conf().get(key, "");
    }

    /** Forgets which one-shot hooks have fired, so the next test can fire them again. */
    static void resetTestHooks() {
        NAN_FIRED.clear();
        JOB_FAILURE_FIRED.clear();
    }

    /** The step's weights, one array, as the wire carries them ({@code train.exchange-precision}); null with a pull. */
    private final Broadcast<WireArrays> weights;
    /**
     * A lazy step over cached blocks: the weights of the rows any partition's slice uses and the
     * layers above (a pull, {@link RoundColumns}); null otherwise. The sums then go back row-sparse.
     */
    private final Broadcast<io.sparkprop.core.IndexedRows> pull;
    private final Network network;
    private final long seed;
    private final int epoch;
    private final int step;
    private final int stepsPerEpoch;
    private final long globalStep;
    private final PartitionRows<T> source;
    /** Lazy updates: the sums carry the rows they touch ({@link GradientAccumulator#trackRows}). */
    private final boolean trackRows;

    /**
     * @param weights   the step's weights; or null, with {@code pull} the rows a lazy step uses
     * @param trackRows lazy updates: the sums carry the rows they touch
     */
    StepFunction(Broadcast<WireArrays> weights, Broadcast<io.sparkprop.core.IndexedRows> pull, Network network,
                 long seed, int epoch, int step, int stepsPerEpoch, long globalStep, PartitionRows<T> source,
                 boolean trackRows) {
        if ((weights == null) == (pull == null) || pull != null && !trackRows) {
            throw new IllegalArgumentException("A step reads its weights, or (lazy) a pull of its rows");
        }
        this.weights = weights;
        this.pull = pull;
        this.network = network;
        this.seed = seed;
        this.epoch = epoch;
        this.step = step;
        this.stepsPerEpoch = stepsPerEpoch;
        this.globalStep = globalStep;
        this.source = source;
        this.trackRows = trackRows;
    }

    @Override
    public TimedGradient apply(int partition, Iterator<T> input) {
        injectFailureIfAsked(partition, globalStep);
        long start = System.nanoTime();
        EpochRows own = source.open(partition, input, seed, epoch);
        if (pull != null) {
            return rowSparse(partition, own, start);
        }
        GradientAccumulator sums = new GradientAccumulator(network.spec().paramCount());
        if (trackRows) {
            sums.trackRows(network.spec());
        }
        GradientAccumulator accumulator = LocalRound.addStep(network, weights.value().shared()[0], own,
                new LocalRound.Origin(seed, epoch, partition), step, stepsPerEpoch, ExecutorCache.WORKSPACES, sums);
        source.close(own);
        if (nanRequested(partition, globalStep, globalStep + 1)) {
            // The last parameter (an output bias) is updated by every step, lazy ones included.
            accumulator.gradSum()[accumulator.gradSum().length - 1] = Double.NaN;
        }
        return new TimedGradient(accumulator, System.nanoTime() - start);
    }

    /**
     * A lazy step on a working set ({@link io.sparkprop.core.WorkingSet}, as a lazy round's): the
     * rows of the columns the slice uses, copied from the pull into a compact network, the sums
     * computed there (the bits the whole network gives: the same products in the same order), and
     * returned row-sparse in the wide model's rows.
     */
    private TimedGradient rowSparse(int partition, EpochRows own, long start) {
        io.sparkprop.core.IndexedRows rows = pull.value();
        java.util.BitSet columns = new java.util.BitSet(network.spec().inputSize());
        if (!own.columnsOf(step, 1, stepsPerEpoch, columns)) {
            throw new IllegalStateException("Partition " + partition + "'s rows cannot say their columns: a pulled"
                    + " step needs cached sparse blocks");
        }
        io.sparkprop.core.WorkingSet set = ExecutorCache.takeWorkingSet(network.spec(), 1, columns.cardinality());
        try {
            EpochRows compactRows = set.begin(null, rows, columns, own);
            Network compact = new Network(set.spec(), network.precision(), network.dropout());
            GradientAccumulator sums = LocalRound.addStep(compact, set.values()[0], compactRows,
                    new LocalRound.Origin(seed, epoch, partition), step, stepsPerEpoch,
                    set.workspaces(ExecutorCache.WORKSPACES), set.sums().reset());
            source.close(own);
            if (nanRequested(partition, globalStep, globalStep + 1)) {
                sums.gradSum()[sums.gradSum().length - 1] = Double.NaN; // an output bias, as below
            }
            return TimedGradient.rowSparse(set.rowsOf(sums.gradSum(), sums.touchedRows()),
                    set.features(sums.touchedRows()), sums.lossSum(), sums.count(), sums.weightSum(),
                    System.nanoTime() - start);
        } finally {
            ExecutorCache.putWorkingSet(set);
        }
    }

    /**
     * The NaN test hook: true, once per step in this JVM, when partition 0 runs a global step in
     * {@code [from, to)} that {@link #NAN_ONCE_AT_STEPS} names.
     */
    static boolean nanRequested(int partition, long from, long to) {
        SparkEnv env = SparkEnv.get();
        if (env == null || partition != 0) {
            return false;
        }
        boolean fire = false;
        for (String s : hook(env, NAN_ONCE_AT_STEPS).split(",")) {
            if (!s.isBlank()) {
                long at = Long.parseLong(s.strip());
                if (at >= from && at < to && NAN_FIRED.add(at)) {
                    fire = true;
                }
            }
        }
        return fire;
    }

    /**
     * The failure and straggler test hooks, for partition 0's task at {@code globalStep} (a step,
     * or a round's first step).
     */
    static void injectFailureIfAsked(int partition, long globalStep) {
        SparkEnv env = SparkEnv.get();
        TaskContext task = TaskContext.get();
        if (env == null || task == null || partition != 0 || task.attemptNumber() != 0) {
            return;
        }
        String jobFailAt = hook(env, FAIL_JOB_ONCE_AT_STEP);
        if (!jobFailAt.isEmpty() && Long.parseLong(jobFailAt) == globalStep && JOB_FAILURE_FIRED.add(globalStep)) {
            throw new IllegalStateException("Injected job failure (" + FAIL_JOB_ONCE_AT_STEP + "=" + jobFailAt
                    + ") at global step " + globalStep);
        }
        String failAt = env.conf().get(FAIL_ONCE_AT_STEP, "");
        if (!failAt.isEmpty() && Long.parseLong(failAt) == globalStep) {
            throw new IllegalStateException("Injected failure (" + FAIL_ONCE_AT_STEP + "=" + failAt + ") in attempt 0 of"
                    + " partition 0 at global step " + globalStep);
        }
        String slowAt = env.conf().get(SLOW_ONCE_AT_STEP, "");
        if (!slowAt.isEmpty() && Long.parseLong(slowAt) == globalStep) {
            try {
                Thread.sleep(SLOW_MILLIS);
            } catch (InterruptedException e) {
                // Killed (another attempt succeeded): end as a killed task, with the scheduler's reason.
                Thread.currentThread().interrupt();
                task.killTaskIfInterrupted();
                throw new IllegalStateException("Interrupted while slowed by " + SLOW_ONCE_AT_STEP + "=" + slowAt
                        + " at global step " + globalStep, e);
            }
        }
    }
}
