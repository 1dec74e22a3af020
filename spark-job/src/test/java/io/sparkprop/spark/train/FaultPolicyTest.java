package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stops, resumes, non-finite policies, Spark job retries and unwritable checkpoints, through the
 * train command on a small CSV: 400 rows in 2 partitions, batches of 20 (20 steps an epoch), 3
 * epochs, a checkpoint every 7 steps and at each epoch end. A run that continues after any fault
 * the policy undoes must end bit-identical to the uninterrupted run.
 */
class FaultPolicyTest {

    @TempDir
    static Path dir;
    private static Path csv;
    private static Model reference;

    @BeforeAll
    static void uninterruptedRun() throws Exception {
        csv = writeCsv(dir.resolve("train.csv"), 400, 1);
        reference = train(config(), dir.resolve("reference"), false).model();
    }

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        System.clearProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP);
        StepFunction.resetTestHooks();
    }

    static List<String> config(String... overrides) {
        List<String> all = new ArrayList<>(List.of("data.format=csv", "data.train=" + csv, "data.partitions=2",
                "model.layers=6,12,3", "model.hidden-activation=tanh", "train.epochs=3", "train.batch-size=20",
                "train.learning-rate=0.01", "train.local-steps=1", "checkpoint.every-steps=7", "checkpoint.keep=2"));
        all.addAll(List.of(overrides));
        return all;
    }

    static TrainCommand.Outcome train(List<String> settings, Path runDir, boolean resume) throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        return TrainCommand.run(spark, JobConfig.defaults().withOverrides(settings), runDir.toString(), resume);
    }

    @Test
    void aRunStoppedAtAnArbitraryStepResumesToBitIdenticalWeights() throws Exception {
        Path run = dir.resolve("stopped");
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "23");
        IllegalStateException stop = assertThrows(IllegalStateException.class,
                () -> train(config("train.non-finite=fail"), run, false));
        assertTrue(stop.getMessage().contains("global step 23") && stop.getMessage().contains("last checkpoint is intact"),
                stop.getMessage());
        assertFalse(Files.exists(run.resolve("model.spm")));
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 2);
        CheckpointStore.Checkpoint last = store.loadNewest().orElseThrow();
        assertEquals(21, last.state().globalStep());
        for (double p : last.state().params()) {
            assertTrue(Double.isFinite(p));
        }
        // Resume: the NaN hook has fired once and stays quiet, as a transient fault would.
        TrainCommand.Outcome resumed = train(config("train.non-finite=fail"), run, true);
        assertBitIdentical(reference.params(), resumed.model().params());
        assertEquals(3, Files.readAllLines(run.resolve("metrics.jsonl")).size());
    }

    @Test
    void skipDropsTheBadUpdatesAndStopsWhenTooManyComeInARow() throws Exception {
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "11,12");
        Model skipped = train(config("train.non-finite=skip", "train.non-finite.max-skips=3"), dir.resolve("skip"), false)
                .model();
        assertFalse(java.util.Arrays.equals(reference.params(), skipped.params()));
        StepFunction.resetTestHooks();
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "11,12,13,14");
        IllegalStateException tooMany = assertThrows(IllegalStateException.class,
                () -> train(config("train.non-finite=skip", "train.non-finite.max-skips=3"), dir.resolve("skip4"), false));
        assertTrue(tooMany.getMessage().contains("4 skipped steps in a row")
                && tooMany.getMessage().contains("global step 14"), tooMany.getMessage());
    }

    @Test
    void rollbackReloadsTheLastCheckpointWithAHalvedLearningRate() throws Exception {
        Path run = dir.resolve("rollback");
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "16");
        Model model = train(config("train.non-finite=rollback"), run, false).model();
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 2);
        assertEquals(0.5, store.loadNewest().orElseThrow().state().learningRateScale());
        assertFalse(java.util.Arrays.equals(reference.params(), model.params()));
        assertEquals(3, Files.readAllLines(run.resolve("metrics.jsonl")).size());
    }

    /** A run from given weights (not the seeded ones), synchronous, on one cached partition. */
    private static double[] fromGivenWeights(io.sparkprop.spark.config.TrainingConfig settings, boolean retried) {
        org.apache.spark.api.java.JavaSparkContext sc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                SparkTestSupport.spark().sparkContext());
        io.sparkprop.core.DataBlock data = DistributedTrainerTest.randomClassification(200, 3);
        DistributedTrainer trainer = new DistributedTrainer(sc, settings, DistributedTrainerTest.cache(sc,
                List.of(data)), 200, null);
        io.sparkprop.spark.train.TrainingState start = trainer.initialState(
                io.sparkprop.core.WeightInit.initialize(settings.spec(), 999));
        TrainingRun.Listener quiet = (metrics, lines) -> { };
        return TrainingRun.run(trainer, start.copy(), start::copy, DistributedTrainer.NO_CHECKPOINTS, retried ? 1 : 0, quiet).result()
                .params();
    }

    @Test
    void withoutACheckpointRollbacksAndRetriesReturnToTheGivenStartNotTheSeededWeights() {
        double[] halfRate = fromGivenWeights(DistributedTrainerTest.settings("train.learning-rate=0.005"), false);
        // A NaN at step 2 before any checkpoint: back to the given weights, at half the learning rate
        // (0.01 x 0.5 is exactly 0.005), so the run is the half-rate run from those weights.
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "2");
        double[] rolledBack = fromGivenWeights(DistributedTrainerTest.settings("train.non-finite=rollback"), false);
        assertBitIdentical(halfRate, rolledBack);

        // A failed job before any checkpoint: the whole run again from the given weights.
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        double[] uninterrupted = fromGivenWeights(DistributedTrainerTest.settings(), false);
        System.setProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP, "4");
        assertBitIdentical(uninterrupted, fromGivenWeights(DistributedTrainerTest.settings(), true));
    }

    @Test
    void aFailedSparkJobIsRetriedFromTheLastCheckpointAndChangesNothing() throws Exception {
        System.setProperty(StepFunction.FAIL_JOB_ONCE_AT_STEP, "30");
        Model retried = train(config("train.max-job-retries=1"), dir.resolve("retry"), false).model();
        assertBitIdentical(reference.params(), retried.params());

        StepFunction.resetTestHooks();
        Exception noRetries = assertThrows(Exception.class,
                () -> train(config("train.max-job-retries=0"), dir.resolve("noretry"), false));
        assertTrue(String.valueOf(noRetries.getMessage()).contains("Injected job failure"), noRetries.toString());
    }

    @Test
    void anUnwritableCheckpointDirectoryFailsClearlyOrWarnsAsConfigured() throws Exception {
        Path blocker = Files.writeString(dir.resolve("a-file"), "not a directory");
        String unwritable = "checkpoint.dir=" + blocker.resolve("checkpoints");
        IllegalStateException failed = assertThrows(IllegalStateException.class,
                () -> train(config(unwritable), dir.resolve("unwritable"), false));
        // The run stops before training: its checkpoint directory cannot even be claimed.
        assertTrue(failed.getMessage().contains("Cannot claim the checkpoint directory file:" + blocker
                .resolve("checkpoints")) && failed.getMessage().contains("not a directory")
                && failed.getMessage().contains("checkpoint.on-failure=fail"), failed.getMessage());
        assertEquals("not a directory", Files.readString(blocker));

        Model warned = train(config(unwritable, "checkpoint.on-failure=warn"), dir.resolve("warned"), false).model();
        assertBitIdentical(reference.params(), warned.params());
    }

    @Test
    void resumingWithAnotherTopologyOrOtherDataIsRefused() throws Exception {
        Path run = dir.resolve("refuse");
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "9");
        assertThrows(IllegalStateException.class, () -> train(config(), run, false));
        IllegalArgumentException topology = assertThrows(IllegalArgumentException.class,
                () -> train(config("model.layers=6,8,3"), run, true));
        assertTrue(topology.getMessage().contains("incompatible config")
                && topology.getMessage().contains("model.layers: '6,12,3' -> '6,8,3'"), topology.getMessage());
        // Another file is a changed key that must match, named as such (before any data is read).
        Path other = writeCsv(dir.resolve("other.csv"), 300, 2);
        List<String> otherData = new ArrayList<>(config());
        otherData.add("data.train=" + other);
        IllegalArgumentException otherFile = assertThrows(IllegalArgumentException.class,
                () -> train(otherData, run, true));
        assertTrue(otherFile.getMessage().contains("incompatible config") && otherFile.getMessage().contains(
                "data.train: "), otherFile.getMessage());
        // Other contents under the same name: the fingerprint refuses it.
        byte[] original = Files.readAllBytes(csv);
        try {
            Files.copy(other, csv, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            IllegalArgumentException data = assertThrows(IllegalArgumentException.class,
                    () -> train(config(), run, true));
            assertTrue(data.getMessage().contains("other training data"), data.getMessage());
        } finally {
            Files.write(csv, original);
        }
        // A harmless change (more epochs) is accepted, and the run continues from its checkpoint.
        Model longer = train(config("train.epochs=4"), run, true).model();
        assertEquals(4, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        assertFalse(java.util.Arrays.equals(reference.params(), longer.params()));
    }

    /** label,x1..x6 rows; the class is a fixed function of the features. */
    static Path writeCsv(Path file, int rows, long seed) throws Exception {
        SplitMix64 random = new SplitMix64(seed);
        StringBuilder sb = new StringBuilder("label,x1,x2,x3,x4,x5,x6\n");
        for (int r = 0; r < rows; r++) {
            double[] x = new double[6];
            double s = 0;
            for (int j = 0; j < 6; j++) {
                x[j] = 2 * random.nextDouble() - 1;
                s += (j % 2 == 0 ? 1 : -1) * x[j];
            }
            int label = s < -0.5 ? 0 : s < 0.5 ? 1 : 2;
            sb.append(label);
            for (double v : x) {
                sb.append(',').append(v);
            }
            sb.append('\n');
        }
        Files.writeString(file, sb.toString());
        return file;
    }

    static void assertBitIdentical(double[] expected, double[] actual) {
        DistributedTrainerTest.assertBitIdentical(expected, actual);
    }
}
