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
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.StateFiles;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Early stopping stops when it should, keeps the best epoch's weights, and resumes exactly. */
class EarlyStoppingTest {

    private static final DataBlock TRAIN = randomClassification(400, 81);
    private static final DataBlock HELD_OUT = randomClassification(200, 82);

    @TempDir
    Path dir;

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        StepFunction.resetTestHooks();
    }

    @Test
    void noImprovementStopsAfterPatienceEpochsWithTheFirstEpochsWeights() {
        // A min-delta no epoch can beat: epoch 1 stays the best, epochs 2 and 3 do not improve, so a
        // 10-epoch run stops after epoch 3 and returns exactly what a 1-epoch run ends with.
        JavaSparkContext sc = sc();
        List<EpochMetrics> seen = new ArrayList<>();
        DistributedTrainer.Result result = trainer(sc, "train.epochs=10", "train.schedule=constant",
                "train.early-stopping.metric=val_loss", "train.early-stopping.patience=2",
                "train.early-stopping.min-delta=1e9").train(seen::add);
        assertEquals(3, seen.size());
        assertTrue(result.stoppedEarly());
        assertEquals(0, result.bestEpoch());
        double[] oneEpoch = trainer(sc, "train.epochs=1", "train.schedule=constant").train(m -> { }).params();
        assertBitIdentical(oneEpoch, result.params());
    }

    @Test
    void theResultIsTheBestEpochsWeightsByTheWatchedMetric() {
        JavaSparkContext sc = sc();
        List<EpochMetrics> seen = new ArrayList<>();
        JavaRDD<DataBlock> validation = cache(sc, split(HELD_OUT, 2));
        DistributedTrainer.Result result = trainer(sc, "train.epochs=8", "train.learning-rate=0.05",
                "train.early-stopping.metric=val_loss", "train.early-stopping.patience=8").train(seen::add);
        assertFalse(result.stoppedEarly());
        int best = 0;
        for (EpochMetrics m : seen) {
            if (m.valLoss() < seen.get(best).valLoss()) {
                best = m.epoch();
            }
        }
        assertEquals(best, result.bestEpoch());
        // Evaluating the returned weights gives exactly the best epoch's validation loss.
        EvaluationSums sums = DistributedTrainer.evaluate(sc, settings().spec(), validation, result.params(), "test");
        assertEquals(seen.get(best).valLoss(), sums.meanLoss());
    }

    @TempDir
    static Path shared;
    private static TrainCommand.Outcome earlyStopReference;

    /**
     * 20 steps an epoch, synchronous; a 25% hold-out for validation; min-delta 0.02 makes the loss
     * stop improving within a few epochs.
     */
    private static List<String> earlyStopConfig() throws Exception {
        Path csv = shared.resolve("train.csv");
        if (!Files.exists(csv)) {
            FaultPolicyTest.writeCsv(csv, 400, 1);
        }
        return List.of("data.format=csv", "data.train=" + csv, "data.partitions=2",
                "data.validation-fraction=0.25", "model.layers=6,12,3", "model.hidden-activation=tanh",
                "train.epochs=12", "train.batch-size=15", "train.learning-rate=0.05", "train.local-steps=1",
                "train.early-stopping.metric=val_loss", "train.early-stopping.patience=2",
                "train.early-stopping.min-delta=0.02");
    }

    /** The uninterrupted run of {@link #earlyStopConfig}, trained once for the tests that resume it. */
    private static synchronized TrainCommand.Outcome earlyStopReference() throws Exception {
        if (earlyStopReference == null) {
            earlyStopReference = FaultPolicyTest.train(earlyStopConfig(), shared.resolve("reference"), false);
        }
        return earlyStopReference;
    }

    @Test
    void aRunStoppedBeforeItsEarlyStopResumesToTheSameModel() throws Exception {
        List<String> config = earlyStopConfig();
        TrainCommand.Outcome reference = earlyStopReference();
        int epochs = reference.result().history().size();
        assertTrue(reference.result().stoppedEarly() && epochs < 12, "stopped after " + epochs + " epochs");

        // The same run, killed (a NaN with non-finite=fail) in its last epoch, then resumed.
        Path run = dir.resolve("stopped");
        long lastEpochStep = (long) (epochs - 1) * 20 + 5;
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, Long.toString(lastEpochStep));
        assertThrows(IllegalStateException.class, () -> FaultPolicyTest.train(config, run, false));
        TrainCommand.Outcome resumed = FaultPolicyTest.train(config, run, true);
        assertBitIdentical(reference.model().params(), resumed.model().params());
        assertEquals(epochs, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        assertEquals(reference.result().bestEpoch(), resumed.result().bestEpoch());
    }

    @Test
    void aRunWhoseMetricsAJsonToolRewroteResumesToTheSameModel() throws Exception {
        // As above, but before the resume a JSON tool rewrites metrics.jsonl and the metrics inside
        // every checkpoint (keys reversed, pretty-printed onto one line): early stopping's replay
        // reads them, so a misread value would move the best epoch or the stop.
        List<String> config = earlyStopConfig();
        TrainCommand.Outcome reference = earlyStopReference();
        List<EpochMetrics> referenceHistory = reference.result().history();
        int epochs = referenceHistory.size();

        // Stopped by a NaN (non-finite=fail) in its last epoch.
        Path run = dir.resolve("stopped");
        long stepsPerEpoch = referenceHistory.get(0).step();
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, Long.toString((epochs - 1) * stepsPerEpoch + 5));
        assertThrows(IllegalStateException.class, () -> FaultPolicyTest.train(config, run, false));
        Path metricsFile = run.resolve(RunDirectory.METRICS);
        List<String> before = Files.readAllLines(metricsFile);
        assertEquals(epochs - 1, before.size());
        Files.write(metricsFile, before.stream().map(MetricsJsonTest::reformat).toList());
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 100);
        int rewritten = 0;
        for (CheckpointStore.Entry entry : store.list()) {
            List<String> lines = StateFiles.rewriteMetrics(entry.uri(), MetricsJsonTest::reformat);
            assertTrue(lines.stream().allMatch(l -> l.contains("\" : ")), lines.toString());
            rewritten += lines.size();
        }
        assertTrue(rewritten > 0, "no metrics in the checkpoints of " + run);
        assertTrue(store.list().stream().allMatch(CheckpointStore.Entry::valid), store.list().toString());

        TrainCommand.Outcome resumed = FaultPolicyTest.train(config, run, true);
        assertBitIdentical(reference.model().params(), resumed.model().params());
        assertEquals(reference.result().bestEpoch(), resumed.result().bestEpoch());
        assertTrue(resumed.result().stoppedEarly());
        List<String> after = Files.readAllLines(metricsFile);
        List<EpochMetrics> history = EpochMetrics.fromJsonLines(String.join("\n", after), metricsFile.toString());
        assertEquals(epochs, history.size());
        for (int e = 0; e < epochs; e++) {
            assertTrue(after.get(e).startsWith("{\"epoch\":" + e + ",\"step\":"), after.get(e));
            EpochMetrics expected = referenceHistory.get(e);
            EpochMetrics actual = history.get(e);
            assertEquals(expected.step(), actual.step());
            assertEquals(expected.trainLoss(), actual.trainLoss(), "epoch " + e);
            assertEquals(expected.valLoss(), actual.valLoss(), "epoch " + e);
            assertEquals(expected.valAccuracy(), actual.valAccuracy(), "epoch " + e);
        }
    }

    @Test
    void configurationMistakesAreNamed() {
        IllegalArgumentException noValidation = assertThrows(IllegalArgumentException.class,
                () -> new DistributedTrainer(sc(), settings("train.early-stopping.metric=val_accuracy"),
                        cache(sc(), split(TRAIN, 2)), 400, null).train(m -> { }));
        assertTrue(noValidation.getMessage().contains("needs validation data"), noValidation.getMessage());
        IllegalArgumentException wrongTask = assertThrows(IllegalArgumentException.class,
                () -> settings("train.early-stopping.metric=val_rmse"));
        assertTrue(wrongTask.getMessage().contains("train.early-stopping.metric"), wrongTask.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=2,1",
                        "train.early-stopping.patience=0"))));
    }

    private static DistributedTrainer trainer(JavaSparkContext sc, String... overrides) {
        return new DistributedTrainer(sc, settings(overrides), cache(sc, split(TRAIN, 2)), 400,
                cache(sc, split(HELD_OUT, 2)));
    }
}
