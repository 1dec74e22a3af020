package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.assertBitIdentical;
import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.randomClassification;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.LocalTrainer;
import io.sparkprop.core.Network;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dropout ({@code model.dropout}) in the distributed trainer: the masks' key is (seed, epoch,
 * step, partition, row), so one partition is exactly the core's {@link LocalTrainer} with the same
 * dropout, and a run with dropout stays bit-identical across task retries, failed-job restarts and
 * resume from a checkpoint.
 */
class DropoutTrainingTest {

    private static final int ROWS = 301;
    private static final DataBlock DATA = randomClassification(ROWS, 81);

    @TempDir
    static Path dir;
    private static Path csv;
    private static Model reference;

    @BeforeAll
    static void uninterruptedRun() throws Exception {
        csv = FaultPolicyTest.writeCsv(dir.resolve("train.csv"), 400, 2);
        reference = FaultPolicyTest.train(config(), dir.resolve("reference"), false).model();
    }

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        System.clearProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP);
        StepFunction.resetTestHooks();
    }

    /** FaultPolicyTest's run (2 partitions, synchronous, checkpoints every 7 steps) with dropout 0.3 on this CSV. */
    private static List<String> config(String... overrides) {
        List<String> all = new ArrayList<>(FaultPolicyTest.config("data.train=" + csv, "model.layers=6,12,8,3",
                "model.dropout=0.3,0.2"));
        all.addAll(List.of(overrides));
        return all;
    }

    @ParameterizedTest(name = "local steps = {0}")
    @ValueSource(ints = {1, 5})
    void onePartitionIsExactlyTheLocalTrainerWithTheSameDropout(int k) {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.local-steps=" + k, "model.dropout=0.4");
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, List.of(DATA)), ROWS, null)
                .train(m -> { }).params();
        TrainingConfig.Optimization o = settings.optimization();
        LocalTrainer local = new LocalTrainer(new Network(settings.spec(), o.precision(), settings.model().dropout()),
                new LocalTrainer.Settings(o.batchSize(), o.epochs(), o.seed(), o.l2(), o.clipNorm()),
                o.newOptimizer(settings.spec()), o.schedule(EpochPlan.stepsPerEpoch(ROWS, o.batchSize())));
        assertBitIdentical(local.fit(DATA).params(), distributed);

        double[] without = new DistributedTrainer(sc, settings("train.local-steps=" + k), cache(sc, List.of(DATA)),
                ROWS, null).train(m -> { }).params();
        assertFalse(Arrays.equals(without, distributed), "model.dropout takes effect");
        double[] zero = new DistributedTrainer(sc, settings("train.local-steps=" + k, "model.dropout=0"),
                cache(sc, List.of(DATA)), ROWS, null).train(m -> { }).params();
        assertBitIdentical(without, zero);
    }

    @Test
    void aFailedSparkJobRestartedFromACheckpointChangesNothing() throws Exception {
        System.setProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP, "30");
        Model retried = FaultPolicyTest.train(config("train.max-job-retries=1"), dir.resolve("retry"), false).model();
        assertBitIdentical(reference.params(), retried.params());
    }

    @Test
    void aRunStoppedMidEpochResumesToBitIdenticalWeights() throws Exception {
        Path run = dir.resolve("stopped");
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "23");
        assertThrows(IllegalStateException.class, () -> FaultPolicyTest.train(config(), run, false));
        Model resumed = FaultPolicyTest.train(config(), run, true).model();
        assertBitIdentical(reference.params(), resumed.params());
    }

    @Test
    void localSgdWithDropoutIsDeterministicAcrossPartitions() throws Exception {
        Model first = FaultPolicyTest.train(config("train.local-steps=4"), dir.resolve("k4-a"), false).model();
        Model second = FaultPolicyTest.train(config("train.local-steps=4"), dir.resolve("k4-b"), false).model();
        assertBitIdentical(first.params(), second.params());
        assertFalse(Arrays.equals(reference.params(), first.params()));
    }

    @Test
    void badRatesAreNamed() {
        for (String[] bad : new String[][] {{"model.dropout=0.2,0.1", "one rate, or one per hidden layer (1)"},
                {"model.dropout=1", "must hold rates in [0, 1)"}, {"model.dropout=-0.1", "[0, 1)"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingConfig.from(
                    JobConfig.defaults().withOverrides(List.of("model.layers=4,8,3", bad[0]))));
            assertTrue(e.getMessage().contains("'model.dropout'") && e.getMessage().contains(bad[1])
                    && e.getMessage().contains("--set"), e.getMessage());
        }
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> TrainingConfig.from(
                JobConfig.defaults().withOverrides(List.of("model.layers=4,3", "model.dropout=0.5"))));
        assertTrue(none.getMessage().contains("without hidden layers"), none.getMessage());
        assertEquals(2, TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=4,8,8,3",
                "model.dropout=0.5"))).model().dropout().hiddenLayers());
    }
}
