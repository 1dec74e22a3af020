package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.assertBitIdentical;
import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.randomClassification;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.settings;
import static io.sparkprop.spark.train.DistributedTrainerTest.split;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.LocalTrainer;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Momentum;
import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Local SGD ({@code train.local-steps} > 1): what a round computes, checked against an
 * independent simulation on the core; determinism, retries, resume and non-finite rounds.
 */
class LocalSgdTest {

    private static final int ROWS = 301;
    private static final DataBlock DATA = randomClassification(ROWS, 78);

    @TempDir
    Path dir;

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        StepFunction.resetTestHooks();
    }

    @ParameterizedTest(name = "k = {0}")
    @ValueSource(ints = {3, 5, 100})
    void onePartitionIsExactlyTheLocalTrainerForAnyK(int k) {
        // 301 rows in batches of 40: 8 steps an epoch, so k = 3 and 5 leave a short last round and
        // k = 100 makes each epoch one round.
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.local-steps=" + k);
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, List.of(DATA)), ROWS, null)
                .train(m -> { }).params();
        LocalTrainer local = new LocalTrainer(settings.spec(), new LocalTrainer.Settings(settings.optimization().batchSize(),
                settings.optimization().epochs(), settings.optimization().seed(), settings.optimization().l2(), settings.optimization().clipNorm()), settings.optimization().newOptimizer(settings.spec()),
                settings.optimization().schedule(EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize())));
        assertBitIdentical(local.fit(DATA).params(), distributed);
    }

    @ParameterizedTest(name = "k = {0}")
    @ValueSource(ints = {1, 5})
    void float32OnOnePartitionIsExactlyTheFloat32LocalTrainer(int k) {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.local-steps=" + k, "train.precision=float32");
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, List.of(DATA)), ROWS, null)
                .train(m -> { }).params();
        LocalTrainer.Settings local = new LocalTrainer.Settings(settings.optimization().batchSize(), settings.optimization().epochs(),
                settings.optimization().seed(), settings.optimization().l2(), settings.optimization().clipNorm());
        double[] float32 = new LocalTrainer(settings.spec(), local, settings.optimization().newOptimizer(settings.spec()),
                settings.optimization().schedule(EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize())),
                io.sparkprop.core.Precision.FLOAT32).fit(DATA).params();
        assertBitIdentical(float32, distributed);
        double[] float64 = new LocalTrainer(settings.spec(), local, settings.optimization().newOptimizer(settings.spec()),
                settings.optimization().schedule(EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize()))).fit(DATA).params();
        assertFalse(java.util.Arrays.equals(float64, distributed), "train.precision=float32 takes effect");
    }

    @Test
    void aRoundAveragesEachPartitionsOwnStepsWeightedByItsRows() {
        // Three partitions of unequal size (the weighting matters), momentum (its state is averaged
        // too), L2 and clipping on; 8 steps an epoch in rounds of 3, 3 and 2; two epochs.
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.optimizer=momentum", "train.momentum=0.9", "train.learning-rate=0.05",
                "train.local-steps=3", "train.epochs=2", "train.schedule=cosine");
        List<DataBlock> parts = List.of(slice(DATA, 0, 50), slice(DATA, 50, 150), slice(DATA, 150, ROWS));
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { })
                .params();

        // The same computation written out on the core, one partition after another.
        NetworkSpec spec = settings.spec();
        Network network = new Network(spec);
        int steps = EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize());
        LearningRateSchedule schedule = settings.optimization().schedule(steps);
        double[] params = WeightInit.initialize(spec, settings.optimization().seed());
        double[] velocity = new double[spec.paramCount()];
        long optimizerSteps = 0;
        long globalStep = 0;
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int first = 0; first < steps; first += 3) {
                int k = Math.min(3, steps - first);
                double[] paramsSum = new double[spec.paramCount()];
                double[] velocitySum = new double[spec.paramCount()];
                double weightSum = 0;
                for (int p = 0; p < parts.size(); p++) {
                    DataBlock block = parts.get(p);
                    double[] w = params.clone();
                    Momentum momentum = new Momentum(spec.paramCount(), 0.9, false);
                    momentum.restore(new OptimizerState(Momentum.KIND_CLASSICAL, optimizerSteps,
                            new double[][] {velocity.clone()}));
                    int[] order = EpochPlan.permutation(settings.optimization().seed(), epoch, p, block.rows());
                    double partitionWeight = 0;
                    for (int j = 0; j < k; j++) {
                        int from = EpochPlan.sliceStart(first + j, block.rows(), steps);
                        int to = EpochPlan.sliceStart(first + j + 1, block.rows(), steps);
                        GradientAccumulator acc = new GradientAccumulator(spec.paramCount())
                                .add(network, w, new Workspace(spec, to - from).gather(block, order, from, to));
                        double[] grad = new double[spec.paramCount()];
                        acc.mean(network, w, settings.optimization().l2() * block.rows() / ROWS, grad);
                        GradientClipping.clipByGlobalNorm(grad, settings.optimization().clipNorm());
                        momentum.step(w, grad, schedule.rate(globalStep + j));
                        partitionWeight += to - from;
                    }
                    double[] v = momentum.state().slots()[0];
                    for (int i = 0; i < w.length; i++) {
                        paramsSum[i] += partitionWeight * w[i];
                        velocitySum[i] += partitionWeight * v[i];
                    }
                    weightSum += partitionWeight;
                }
                for (int i = 0; i < params.length; i++) {
                    params[i] = paramsSum[i] / weightSum;
                    velocity[i] = velocitySum[i] / weightSum;
                }
                optimizerSteps += k;
                globalStep += k;
            }
        }
        for (int i = 0; i < params.length; i++) {
            assertEquals(params[i], distributed[i], 1e-12 * Math.max(1, Math.abs(params[i])), "param " + i);
        }
        double[] synchronous = new DistributedTrainer(sc, settings("train.optimizer=momentum", "train.momentum=0.9",
                "train.learning-rate=0.05", "train.epochs=2", "train.schedule=cosine"), cache(sc, parts), ROWS, null)
                .train(m -> { }).params();
        assertFalse(java.util.Arrays.equals(synchronous, distributed), "local SGD must differ from synchronous SGD");
    }

    @Test
    void sevenPartitionsTwiceAndWithARetriedTaskGiveBitIdenticalWeights() {
        TrainingConfig settings = settings("train.local-steps=3");
        List<DataBlock> parts = split(DATA, 7);
        double[] a = new DistributedTrainer(sc(), settings, cache(sc(), parts), ROWS, null).train(m -> { }).params();
        double[] b = new DistributedTrainer(sc(), settings, cache(sc(), parts), ROWS, null).train(m -> { }).params();
        assertBitIdentical(a, b);
        SparkTestSupport.stopShared();
        // Partition 0's first attempt of the round that starts at global step 3 throws.
        SparkSession spark = SparkTestSupport.builder("local[2,4]").config(StepFunction.FAIL_ONCE_AT_STEP, "3")
                .getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            assertBitIdentical(a, new DistributedTrainer(sc, settings, cache(sc, parts), ROWS, null).train(m -> { })
                    .params());
        } finally {
            spark.stop();
        }
    }

    @Test
    void localSgdLearnsAsWellAsSynchronousSgd() {
        JavaSparkContext sc = sc();
        DataBlock data = randomClassification(2000, 79);
        DataBlock heldOut = randomClassification(1000, 80);
        List<Double> accuracy = new ArrayList<>();
        for (String k : List.of("1", "8")) {
            List<EpochMetrics> seen = new ArrayList<>();
            new DistributedTrainer(sc, settings("train.local-steps=" + k, "train.epochs=8", "train.batch-size=50"),
                    cache(sc, split(data, 4)), 2000, cache(sc, split(heldOut, 2))).train(seen::add);
            accuracy.add(seen.get(seen.size() - 1).valAccuracy());
        }
        assertTrue(accuracy.get(0) > 0.9, "synchronous: " + accuracy);
        assertTrue(accuracy.get(1) > accuracy.get(0) - 0.03, "local SGD k=8 vs synchronous: " + accuracy);
    }

    @Test
    void aRunStoppedInsideARoundResumesToBitIdenticalWeights() throws Exception {
        Path csv = FaultPolicyTest.writeCsv(dir.resolve("train.csv"), 400, 1);
        // 20 steps an epoch in rounds of 4; checkpoints when a round crosses a multiple of 7 and at
        // epoch ends. The NaN at global step 23 is inside the round 20-23, so the run stops there
        // and its newest checkpoint is the end of epoch 1 (global step 20).
        List<String> config = List.of("data.format=csv", "data.train=" + csv, "data.partitions=2",
                "model.layers=6,12,3", "model.hidden-activation=tanh", "train.epochs=3", "train.batch-size=20",
                "train.learning-rate=0.01", "train.local-steps=4", "checkpoint.every-steps=7", "checkpoint.keep=2");
        double[] reference = FaultPolicyTest.train(config, dir.resolve("reference"), false).model().params();
        Path run = dir.resolve("stopped");
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "23");
        IllegalStateException stop = assertThrows(IllegalStateException.class,
                () -> FaultPolicyTest.train(config, run, false));
        assertTrue(stop.getMessage().contains("partition 0") && stop.getMessage().contains("global step 23"),
                stop.getMessage());
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 2);
        assertEquals(20, store.loadNewest().orElseThrow().state().globalStep());
        TrainCommand.Outcome resumed = FaultPolicyTest.train(config, run, true);
        assertBitIdentical(reference, resumed.model().params());
        assertEquals(3, Files.readAllLines(run.resolve("metrics.jsonl")).size());

        // skip drops the whole round and goes on.
        StepFunction.resetTestHooks();
        List<String> skip = new ArrayList<>(config);
        skip.add("train.non-finite=skip");
        double[] skipped = FaultPolicyTest.train(skip, dir.resolve("skip"), false).model().params();
        assertFalse(java.util.Arrays.equals(reference, skipped));
    }

    private static DataBlock slice(DataBlock data, int from, int to) {
        int in = data.numFeatures();
        int out = data.numTargets();
        return new DataBlock(to - from, in, out, java.util.Arrays.copyOfRange(data.features(), from * in, to * in),
                java.util.Arrays.copyOfRange(data.targets(), from * out, to * out), null);
    }
}
