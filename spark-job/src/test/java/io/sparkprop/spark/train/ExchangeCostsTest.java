package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.randomClassification;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.settings;
import static io.sparkprop.spark.train.DistributedTrainerTest.split;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an exchange costs besides time ({@link ExchangeCosts}), measured by the trainer's
 * {@link ExchangeListener} in a real {@code local[2]} Spark, checked against what the exchange must
 * move: P gradient sums (k = 1) or P sets of weights and optimizer slots (k > 1) into the driver,
 * one copy of the weights out of it, and shuffle bytes only when the tree has an intermediate level.
 *
 * <p>The network 6-64-64-4 has n = 4,868 parameters, so an array of them is 38,944 bytes and
 * dominates every message. The tolerances come from what else a message holds:
 * <ul>
 *   <li>a task result ({@code resultSize}) is the serialized result plus Spark's
 *       {@code DirectTaskResult} around it: the task's non-zero metric accumulators, Java-serialized
 *       with their names (at most the ~30 internal task metrics, under 100 bytes each after the first,
 *       which carries the class descriptors, under 1 KiB), the executor metric peaks (a few dozen
 *       longs) and the result object's own fields and array headers: under {@value #RESULT_FRAMING}
 *       bytes a task;</li>
 *   <li>a broadcast is serialized (array headers: under 16 bytes an array) and, in the test
 *       session, LZ4-compressed. LZ4 never grows data by more than 1/255 plus its block headers
 *       (21 bytes a 32 KiB block), and no lossless codec shrinks a double whose 52 mantissa bits are
 *       random below 6.5 bytes: random weights and optimizer moments are such doubles.</li>
 * </ul>
 */
class ExchangeCostsTest {

    /** 16 steps an epoch in batches of 40. */
    private static final int ROWS = 640;
    private static final DataBlock DATA = randomClassification(ROWS, 91);
    private static final String LAYERS = "model.layers=6,64,64,4";
    /** Bytes a task result holds besides its arrays, at most (the class header derives it). */
    private static final int RESULT_FRAMING = 6 * 1024;

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP);
        StepFunction.resetTestHooks();
    }

    @Test
    void aSynchronousStepOnTwoPartitionsBringsTwoGradientSumsInAndSendsTheWeightsOut() {
        TrainingConfig settings = settings(LAYERS, "train.epochs=1", "train.local-steps=1");
        StepTimes.Summary times = trainOneEpoch(settings, 2);
        ExchangeCosts costs = times.costs();
        double n = settings.spec().paramCount();
        assertEquals(1, costs.stages(), "the direct tree: one stage, no intermediate level");
        assertEquals(2, costs.tasks(), "one task a partition");
        assertEquals(0, costs.shuffleWriteBytes());
        assertEquals(0, costs.shuffleReadBytes());
        assertEquals(0, costs.shuffleWaitMs());
        // Two gradient sums of n doubles each, each in its own task result.
        assertBetween(2 * 8 * n, 2 * (8 * n + RESULT_FRAMING), costs.driverInBytes(), "driver_in_bytes");
        assertBroadcastOf(1, n, costs.broadcastBytes());
        assertTaskBinaries(costs);
        assertCpuAndSplit(times);
    }

    @Test
    void aLocalSgdRoundBringsWeightsAndBothAdamSlotsInFromEveryPartition() {
        // Adam keeps two slots (first and second moments) in the parameters' layout: each partition
        // returns 3 arrays of n, and the driver broadcasts the same 3. Four rounds of k = 4; the
        // first broadcasts zero slots (which compress to nothing), the median is over the others.
        TrainingConfig settings = settings(LAYERS, "train.epochs=1", "train.local-steps=4", "train.optimizer=adam");
        StepTimes.Summary times = trainOneEpoch(settings, 2);
        assertEquals(4, times.steps());
        ExchangeCosts costs = times.costs();
        double n = settings.spec().paramCount();
        assertEquals(1, costs.stages());
        assertEquals(2, costs.tasks());
        assertEquals(0, costs.shuffleWriteBytes());
        assertBetween(2 * 3 * 8 * n, 2 * (3 * 8 * n + RESULT_FRAMING), costs.driverInBytes(), "driver_in_bytes");
        assertBroadcastOf(3, n, costs.broadcastBytes());
        assertTaskBinaries(costs);
        assertCpuAndSplit(times);
    }

    @Test
    void eightPartitionsAtDepthTwoShuffleThePartialsThroughOneLevel() {
        // P = 8, depth 2: scale = ceil(sqrt 8) = 3 and 8 > 3 + ceil(8/3), so one intermediate level
        // of 8 / 3 = 2 groups (OrderedTreeAggregate): a map stage of 8 tasks, a result stage of 2.
        TrainingConfig settings = settings(LAYERS, "train.epochs=1", "train.local-steps=1", "train.batch-size=80",
                "train.aggregation-depth=2");
        StepTimes.Summary times = trainOneEpoch(settings, 8);
        ExchangeCosts costs = times.costs();
        double n = settings.spec().paramCount();
        assertEquals(2, costs.stages());
        assertEquals(10, costs.tasks());
        assertTrue(costs.shuffleWriteBytes() >= 8 * 6.5 * n, "the 8 partials go through the shuffle: " + costs);
        assertEquals(costs.shuffleWriteBytes(), costs.shuffleReadBytes(), "each map output is read once");
        // The driver receives the 2 groups' sums (and 8 map statuses), not the 8 partials.
        assertBetween(2 * 8 * n, 8 * 8 * n, costs.driverInBytes(), "driver_in_bytes");
        assertBroadcastOf(1, n, costs.broadcastBytes());
        assertTaskBinaries(costs);
        assertCpuAndSplit(times);
    }

    /**
     * The reduce-scatter's point: whatever P, the driver receives one result (R slices of it,
     * each in its own task result), where the tree brings P of them. Local SGD with Adam, so a
     * result is 3 arrays of n; P = 4 and 8 (the tree has no level at 4, one at 8).
     */
    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {4, 8})
    void aReduceScatterBringsOneResultIntoTheDriverWhateverThePartitionCount(int partitions) {
        TrainingConfig settings = settings(LAYERS, "train.epochs=1", "train.local-steps=4", "train.optimizer=adam",
                "train.aggregation=reduce-scatter");
        StepTimes.Summary times = trainOneEpoch(settings, partitions);
        ExchangeCosts costs = times.costs();
        double n = settings.spec().paramCount();
        assertEquals(2, costs.stages(), "a map stage and a reduce stage");
        assertEquals(partitions + 2, costs.tasks(), "P map tasks and R = min(P, 2 cores of local[2]) reduce tasks");
        // Every partition's 3 arrays go through the shuffle once, and each slice is read once.
        assertTrue(costs.shuffleWriteBytes() >= partitions * 3 * 6.5 * n, "the partials go through the shuffle: "
                + costs);
        assertEquals(costs.shuffleWriteBytes(), costs.shuffleReadBytes(), "each map output is read once");
        // One result of 3 arrays, in R slices: the P map tasks return only their map statuses.
        assertBetween(3 * 8 * n, 3 * 8 * n + 2 * partitions * RESULT_FRAMING, costs.driverInBytes(),
                "driver_in_bytes");
        assertBroadcastOf(3, n, costs.broadcastBytes());
        assertCpuAndSplit(times);
    }

    @Test
    void theListenerIsThereWhileTrainingRunsAndGoneAfterwardsAlsoWhenAJobFails() {
        JavaSparkContext sc = sc();
        int before = exchangeListeners(sc);
        TrainingConfig settings = settings("train.epochs=2", "train.local-steps=1");
        DistributedTrainer trainer = new DistributedTrainer(sc, settings, cache(sc, split(DATA, 2)), ROWS, null);
        int[] during = {-1};
        trainer.train(m -> during[0] = exchangeListeners(sc));
        assertEquals(before + 1, during[0]);
        assertEquals(before, exchangeListeners(sc));
        assertNull(sc.getLocalProperty(ExchangeListener.PROPERTY), "no later job is taken for an exchange");

        System.setProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP, "3");
        DistributedTrainer failing = new DistributedTrainer(sc, settings, cache(sc, split(DATA, 2)), ROWS, null);
        assertThrows(SparkException.class, () -> failing.train(m -> { }));
        assertEquals(before, exchangeListeners(sc));
        assertNull(sc.getLocalProperty(ExchangeListener.PROPERTY));
    }

    /** Trains {@code settings} for its one epoch on {@code partitions} partitions; that epoch's summary. */
    private static StepTimes.Summary trainOneEpoch(TrainingConfig settings, int partitions) {
        JavaSparkContext sc = sc();
        List<EpochMetrics> history = new DistributedTrainer(sc, settings, cache(sc, split(DATA, partitions)), ROWS,
                null).train(m -> { }).history();
        assertEquals(1, history.size());
        StepTimes.Summary times = history.get(0).stepTimes();
        assertTrue(times.costs().known(), times.toString());
        return times;
    }

    /** One serialized copy of {@code arrays} arrays of {@code n} random doubles, within the codec's bounds. */
    private static void assertBroadcastOf(int arrays, double n, double bytes) {
        double raw = arrays * 8 * n;
        assertBetween(arrays * 6.5 * n, raw * (1 + 1.0 / 255) + 16 * arrays + 21 * Math.ceil(raw / 32768) + 64, bytes,
                "broadcast_bytes");
    }

    /**
     * Bytes out of the driver are the weights' broadcast plus one task binary per stage (the
     * stage's RDD and function: the network's spec and the cached blocks' lineage, no data), each
     * found: the figure is known, larger than the broadcast, and small next to it.
     */
    private static void assertTaskBinaries(ExchangeCosts costs) {
        assertFalse(Double.isNaN(costs.driverOutBytes()), "every stage's task binary was seen: " + costs);
        double binaries = costs.driverOutBytes() - costs.broadcastBytes();
        assertBetween(100 * costs.stages(), 16 * 1024 * costs.stages(), binaries, "task binaries");
    }

    /**
     * The driver's CPU time over an exchange cannot exceed its wall time on every core (plus one
     * 10 ms clock tick, the JVM's resolution), and no slowest task's part can exceed the exchange's
     * wall time (plus the millisecond the task clock rounds to) on any stage.
     */
    private static void assertCpuAndSplit(StepTimes.Summary times) {
        ExchangeCosts costs = times.costs();
        int cores = Runtime.getRuntime().availableProcessors();
        assertBetween(0, cores * times.totalMs() + 10, costs.driverCpuMs(), "driver_cpu_ms");
        double bound = times.totalMs() + costs.stages();
        assertBetween(0, bound, costs.schedulerDelayMs(), "scheduler_delay_ms");
        assertBetween(0, bound, costs.deserializeMs(), "deserialize_ms");
        assertBetween(0, bound, costs.resultMs(), "result_ms");
        assertBetween(0, bound, costs.shuffleWaitMs(), "shuffle_wait_ms");
    }

    private static void assertBetween(double low, double high, double actual, String what) {
        assertTrue(actual >= low && actual <= high, what + " = " + actual + ", expected in [" + low + ", " + high + "]");
    }

    /** The trainer's listeners on the context's bus (a Spark-internal accessor, for this test only). */
    private static int exchangeListeners(JavaSparkContext sc) {
        return (int) sc.sc().listenerBus().listeners().stream().filter(l -> l instanceof ExchangeListener).count();
    }
}
