package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.LocalTrainer;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.Workspace;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The distributed trainer computes what the core computes, deterministically, across retries. */
class DistributedTrainerTest {

    private static final int ROWS = 301;
    private static final int FEATURES = 6;
    private static final int CLASSES = 4;
    private static final DataBlock DATA = randomClassification(ROWS, 77);

    static TrainingConfig settings(String... overrides) {
        // Synchronous SGD unless a test overrides train.local-steps (LocalSgdTest).
        List<String> all = new ArrayList<>(List.of("model.layers=6,16,12,4", "model.hidden-activation=tanh",
                "train.batch-size=40", "train.epochs=3", "train.seed=5", "train.optimizer=adam",
                "train.learning-rate=0.01", "train.l2=0.001", "train.clip-norm=3", "train.local-steps=1"));
        all.addAll(List.of(overrides));
        return TrainingConfig.from(JobConfig.defaults().withOverrides(all));
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {1, 3, 7})
    void distributedGradientEqualsTheCoresGradientOfTheSameRows(int partitions) {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings();
        NetworkSpec spec = settings.spec();
        List<DataBlock> parts = split(DATA, partitions);
        DistributedTrainer trainer = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null);
        double[] params = WeightInit.initialize(spec, 3);
        int steps = trainer.stepsPerEpoch();
        for (int[] epochStep : new int[][] {{0, 0}, {1, steps - 1}, {2, steps / 2}}) {
            int epoch = epochStep[0];
            int step = epochStep[1];
            GradientAccumulator distributed = trainer.gradient(params, epoch, step, 0);
            // The same rows, gathered by hand from each partition's plan, in one single-process batch.
            GradientAccumulator local = new GradientAccumulator(spec.paramCount());
            for (int p = 0; p < partitions; p++) {
                DataBlock block = parts.get(p);
                int[] order = EpochPlan.permutation(settings.optimization().seed(), epoch, p, block.rows());
                int from = EpochPlan.sliceStart(step, block.rows(), steps);
                int to = EpochPlan.sliceStart(step + 1, block.rows(), steps);
                local.add(new Network(spec), params, new Workspace(spec, Math.max(1, to - from)).gather(block, order, from, to));
            }
            double[] gDistributed = new double[spec.paramCount()];
            double[] gLocal = new double[spec.paramCount()];
            Network network = new Network(spec);
            double jDistributed = distributed.mean(network, params, 0.001, gDistributed);
            double jLocal = local.mean(network, params, 0.001, gLocal);
            assertEquals(local.count(), distributed.count());
            // A step takes N/S rows on average (S = ceil(N/B)); per-partition rounding moves that by
            // less than one row per partition (EpochPlan).
            assertTrue(local.count() <= 40 + partitions - 1 && local.count() >= ROWS / steps - partitions,
                    "batch of " + local.count());
            assertEquals(jLocal, jDistributed, 1e-12 * Math.abs(jLocal));
            double scale = 0;
            for (double g : gLocal) {
                scale = Math.max(scale, Math.abs(g));
            }
            for (int i = 0; i < gLocal.length; i++) {
                assertEquals(gLocal[i], gDistributed[i], 1e-12 * scale, "param " + i);
            }
        }
    }

    @Test
    void onePartitionIsExactlyTheLocalTrainer() {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings();
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, List.of(DATA)), ROWS, null)
                .train(m -> { }).params();
        LocalTrainer local = new LocalTrainer(settings.spec(), new LocalTrainer.Settings(settings.optimization().batchSize(),
                settings.optimization().epochs(), settings.optimization().seed(), settings.optimization().l2(), settings.optimization().clipNorm()), settings.optimization().newOptimizer(settings.spec()),
                settings.optimization().schedule(EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize())));
        double[] reference = local.fit(DATA).params();
        assertBitIdentical(reference, distributed);
    }

    @Test
    void twoRunsWithTheSameSeedAndPartitionsAreBitIdentical() {
        JavaSparkContext sc = sc();
        // 7 partitions with depth 2 adds a shuffle level to the aggregation tree.
        TrainingConfig settings = settings("train.aggregation-depth=2");
        List<DataBlock> parts = split(DATA, 7);
        DistributedTrainer.Result a = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { });
        DistributedTrainer.Result b = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { });
        assertBitIdentical(a.params(), b.params());
        assertEquals(3, a.history().size());
        DistributedTrainer.Result other = new DistributedTrainer(sc, settings("train.seed=6"), cache(sc, parts), ROWS, null)
                .train(m -> { });
        assertFalse(java.util.Arrays.equals(a.params(), other.params()));
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndChangesNothing() {
        TrainingConfig settings = settings();
        List<DataBlock> parts = split(DATA, 3);
        double[] undisturbed = new DistributedTrainer(sc(), settings, cache(sc(), parts), ROWS, null).train(m -> { })
                .params();
        SparkTestSupport.stopShared();
        // local[2,4]: two threads, up to 4 attempts per task; partition 0's first attempt at step 5 throws.
        SparkSession spark = SparkTestSupport.builder("local[2,4]")
                .config(StepFunction.FAIL_ONCE_AT_STEP, "5").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<EpochMetrics> seen = new ArrayList<>();
            double[] retried = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(seen::add)
                    .params();
            assertBitIdentical(undisturbed, retried);
            assertEquals(3, seen.size());
        } finally {
            spark.stop();
        }
    }

    @Test
    void thePauseTestHookWaitsBetweenExchangesAndChangesNothing() {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings();
        List<DataBlock> parts = split(DATA, 2);
        double[] undisturbed = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { })
                .params();
        try {
            System.setProperty(DistributedTrainer.PAUSE_AFTER_STEP, "3:300");
            long start = System.nanoTime();
            double[] paused = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { })
                    .params();
            assertTrue(System.nanoTime() - start >= 300_000_000L, "no pause");
            assertBitIdentical(undisturbed, paused);
            System.setProperty(DistributedTrainer.PAUSE_AFTER_STEP, "3");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { }));
            assertEquals("Expected " + DistributedTrainer.PAUSE_AFTER_STEP + " = STEP:MILLIS but got '3'",
                    e.getMessage());
        } finally {
            System.clearProperty(DistributedTrainer.PAUSE_AFTER_STEP);
        }
    }

    @Test
    void validationMetricsAreReportedEveryEpoch() {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.epochs=4");
        List<EpochMetrics> seen = new ArrayList<>();
        new DistributedTrainer(sc, settings, cache(sc, split(DATA, 2)), ROWS, cache(sc, split(DATA, 2)))
                .train(seen::add);
        assertEquals(4, seen.size());
        for (EpochMetrics m : seen) {
            assertTrue(m.valAccuracy() >= 0 && m.valAccuracy() <= 1, m.toJson());
            assertTrue(m.valLoss() > 0, m.toJson());
            assertTrue(Double.isNaN(m.valRmse()), m.toJson());
            assertTrue(m.toJson().startsWith("{\"epoch\":" + m.epoch()), m.toJson());
        }
        assertTrue(seen.get(3).trainLoss() < seen.get(0).trainLoss(), seen.toString());
    }

    @Test
    void regressionReportsRmseAndMaeThatMatchAHandComputation() {
        JavaSparkContext sc = sc();
        // y = 0.5 x0 - 0.25 x1 on 200 rows; a linear network with MSE.
        SplitMix64 random = new SplitMix64(4);
        double[] x = new double[400];
        double[] y = new double[200];
        for (int r = 0; r < 200; r++) {
            x[2 * r] = random.nextDouble();
            x[2 * r + 1] = random.nextDouble();
            y[r] = 0.5 * x[2 * r] - 0.25 * x[2 * r + 1];
        }
        DataBlock data = new DataBlock(200, 2, 1, x, y, null);
        TrainingConfig settings = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=2,1",
                "model.task=regression", "train.epochs=30", "train.batch-size=20", "train.learning-rate=0.05",
                "train.local-steps=1")));
        List<EpochMetrics> seen = new ArrayList<>();
        JavaRDD<DataBlock> blocks = cache(sc, split(data, 2));
        double[] params = new DistributedTrainer(sc, settings, blocks, 200, blocks).train(seen::add).params();
        EpochMetrics last = seen.get(seen.size() - 1);
        assertTrue(Double.isNaN(last.valAccuracy()), last.toJson());
        assertTrue(last.valRmse() < 0.01, last.toJson());
        // RMSE, MAE and loss from the learned weights, computed here by hand: ŷ = w0 x0 + w1 x1 + b.
        double sse = 0;
        double sae = 0;
        for (int r = 0; r < 200; r++) {
            double diff = params[0] * x[2 * r] + params[1] * x[2 * r + 1] + params[2] - y[r];
            sse += diff * diff;
            sae += Math.abs(diff);
        }
        EvaluationSums sums = DistributedTrainer.evaluate(sc, settings.spec(), blocks, params, "test");
        assertEquals(Math.sqrt(sse / 200), sums.rmse(), 1e-12);
        assertEquals(sae / 200, sums.mae(), 1e-12);
        assertEquals(0.5 * sse / 200, sums.meanLoss(), 1e-12);
    }

    static JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    }

    /** One block per partition, cached, lineage cut so tasks never re-ship the driver's arrays. */
    static JavaRDD<DataBlock> cache(JavaSparkContext sc, List<DataBlock> parts) {
        JavaRDD<DataBlock> rdd = sc.parallelize(parts, parts.size()).persist(StorageLevel.MEMORY_AND_DISK());
        rdd.rdd().localCheckpoint();
        rdd.count();
        return rdd;
    }

    static void assertBitIdentical(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]),
                    "param " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    /** Contiguous, nearly equal parts. */
    static List<DataBlock> split(DataBlock data, int parts) {
        List<DataBlock> out = new ArrayList<>();
        int in = data.numFeatures();
        int out2 = data.numTargets();
        for (int p = 0; p < parts; p++) {
            int from = (int) ((long) p * data.rows() / parts);
            int to = (int) ((long) (p + 1) * data.rows() / parts);
            double[] x = java.util.Arrays.copyOfRange(data.features(), from * in, to * in);
            double[] y = java.util.Arrays.copyOfRange(data.targets(), from * out2, to * out2);
            double[] w = data.weights() == null ? null : java.util.Arrays.copyOfRange(data.weights(), from, to);
            out.add(new DataBlock(to - from, in, out2, x, y, w));
        }
        return out;
    }

    /** Features uniform in [-1, 1); the class is a fixed function of the features, one-hot. */
    static DataBlock randomClassification(int rows, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        double[] x = new double[rows * FEATURES];
        double[] y = new double[rows * CLASSES];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < FEATURES; j++) {
                x[r * FEATURES + j] = 2 * random.nextDouble() - 1;
                s += (j + 1) * x[r * FEATURES + j];
            }
            int c = (int) Math.floor((Math.tanh(s) + 1) / 2 * CLASSES);
            y[r * CLASSES + Math.min(c, CLASSES - 1)] = 1;
        }
        return new DataBlock(rows, FEATURES, CLASSES, x, y, null);
    }
}
