package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.Model;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.ml.MlpRegressor;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose loss or weights stop being finite never ends as a finished run (issue 13, item 4):
 * no model, no "Trained N epochs", an error naming the epoch, the value and what to lower; the
 * run directory marked {@code FAILED}; and the checkpoints of the good epochs before it intact.
 * Small data: 40 rows in 2 partitions, batches of 10, so an epoch is global steps 4e .. 4e+3.
 */
class DivergenceTest {

    @TempDir
    Path dir;

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
        StepFunction.resetTestHooks();
    }

    private Path classificationCsv() throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,label\n");
        for (int r = 0; r < 40; r++) {
            csv.append(String.format(Locale.ROOT, "%.4f,%.4f,%d%n", Math.sin(r), Math.cos(r), r % 2));
        }
        return Files.writeString(dir.resolve("train.csv"), csv.toString());
    }

    /** y = x1 - 2 x2 + 1 on the same rows, for regression: squared error has no ceiling, so a big rate overflows it. */
    private Path regressionCsv() throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,label\n");
        for (int r = 0; r < 40; r++) {
            double x1 = Math.sin(r);
            double x2 = Math.cos(r);
            csv.append(String.format(Locale.ROOT, "%.4f,%.4f,%.4f%n", x1, x2, x1 - 2 * x2 + 1));
        }
        return Files.writeString(dir.resolve("regression.csv"), csv.toString());
    }

    private static List<String> settings(Path csv, String... overrides) {
        List<String> all = new ArrayList<>(List.of("data.format=csv", "data.train=" + csv, "data.partitions=2",
                "model.layers=2,8,2", "train.batch-size=10", "train.local-steps=1", "train.optimizer=sgd"));
        all.addAll(List.of(overrides));
        return all;
    }

    private static TrainCommand.Outcome train(List<String> settings, Path run) {
        return TrainCommand.run(SparkTestSupport.spark(), JobConfig.defaults().withOverrides(settings), run.toString());
    }


    @Test
    void aDivergingRunFailsNamesTheRateMarksTheRunFailedAndKeepsTheGoodEpochsCheckpoint() throws Exception {
        Path csv = regressionCsv();
        String checkpoints = "checkpoint.dir=" + dir.resolve("checkpoints");
        // One good epoch at a sane rate: its end (global step 4) is checkpointed.
        Model good = train(settings(csv, checkpoints, "model.task=regression", "model.layers=2,8,1",
                "model.hidden-activation=identity", "train.epochs=1", "train.learning-rate=0.05"), dir.resolve("good")).model();
        // The same checkpoints continued at 1e6 (a rate change is allowed on resume, with a warning). Linear
        // units: with relu or tanh units, or softmax outputs, a rate of 1e6 kills or saturates the units and
        // the loss stays huge but finite, which no finiteness check can see.
        Path run = dir.resolve("diverged");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> train(settings(csv, checkpoints,
                "model.task=regression", "model.layers=2,8,1", "model.hidden-activation=identity", "train.epochs=6",
                "train.learning-rate=1e6"), run));
        assertTrue(e.getMessage().contains("Non-finite") && e.getMessage().contains("epoch ")
                && e.getMessage().contains("lower train.learning-rate (1000000.0)")
                && e.getMessage().contains("train.clip-norm"), e.getMessage());
        assertFalse(Files.exists(run.resolve(RunDirectory.MODEL)), "a diverged run writes no model");
        assertTrue(Files.exists(run.resolve(RunDirectory.FAILED)), "a diverged run is marked failed");
        assertTrue(Files.readString(run.resolve(RunDirectory.FAILED)).contains(e.getMessage()));

        CheckpointStore store = CheckpointStore.open(dir.resolve("checkpoints").toString(), new Configuration(), 2);
        CheckpointStore.Checkpoint newest = store.loadNewest().orElseThrow();
        for (double p : newest.state().params()) {
            assertTrue(Double.isFinite(p), "every checkpoint left holds finite weights");
        }
        assertEquals(4, newest.state().globalStep(), "the good epoch's checkpoint is still the newest");
        assertArrayEquals(good.params(), newest.state().params(), 0.0);
    }

    @Test
    void anEpochWhoseEveryStepWasSkippedIsNotAFinishedEpoch() throws Exception {
        Path csv = classificationCsv();
        Path run = dir.resolve("skipped");
        // Epoch 2 is global steps 4-7: every one of its updates is dropped (4 in a row, max-skips 5), so
        // its training loss is 0/0. Before, the run logged train_loss NaN and went on to "Trained 3 epochs".
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "4,5,6,7");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> train(settings(csv,
                "train.epochs=3", "train.learning-rate=0.05", "train.non-finite=skip"), run));
        assertTrue(e.getMessage().contains("epoch 2") && e.getMessage().contains("NaN")
                && e.getMessage().contains("every step"), e.getMessage());
        assertFalse(Files.exists(run.resolve(RunDirectory.MODEL)));
        assertTrue(Files.exists(run.resolve(RunDirectory.FAILED)));
        // Epoch 1's line stays in metrics.jsonl; the failed epoch adds none.
        assertEquals(1, Files.readAllLines(run.resolve(RunDirectory.METRICS)).size());
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 2);
        assertEquals(4, store.loadNewest().orElseThrow().state().globalStep(), "epoch 1's checkpoint is the newest");
    }

    @Test
    void weightsThatOverflowAreNeverCheckpointedOrReturned() throws Exception {
        // Regression targets near 1000 and a rate of 1e306: the first step's update, rate x gradient
        // (the output bias's gradient is about 2 x (0 - 1000)), overflows to -Infinity or +Infinity.
        StringBuilder csv = new StringBuilder("x1,x2,y\n");
        for (int r = 0; r < 40; r++) {
            csv.append(String.format(Locale.ROOT, "%.4f,%.4f,%d%n", Math.sin(r), Math.cos(r), 1000 + r));
        }
        Path data = Files.writeString(dir.resolve("reg.csv"), csv.toString());
        Path run = dir.resolve("overflow");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> train(List.of("data.format=csv",
                "data.train=" + data, "data.label-column=y", "data.partitions=2", "model.task=regression",
                "model.layers=2,4,1", "train.batch-size=40", "train.local-steps=1", "train.optimizer=sgd",
                "train.learning-rate=1e306", "train.epochs=2"), run));
        assertTrue(e.getMessage().contains("Non-finite weights") && e.getMessage().contains("epoch 1")
                && e.getMessage().contains("train.learning-rate"), e.getMessage());
        assertTrue(Files.exists(run.resolve(RunDirectory.FAILED)));
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(), 2);
        assertTrue(store.loadNewest().isEmpty(), "no checkpoint holds the overflowed weights");

        // The estimator: one epoch of one step, so the overflowed weights would be the model's.
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 40; r++) {
            rows.add(RowFactory.create(Vectors.dense(Math.sin(r), Math.cos(r)), 1000.0 + r));
        }
        Dataset<Row> df = SparkTestSupport.spark().createDataFrame(rows, new StructType()
                .add("features", new VectorUDT()).add("label", DataTypes.DoubleType)).coalesce(2);
        Exception fit = assertThrows(Exception.class, () -> new MlpRegressor().setLayers(new int[] {2, 4, 1})
                .setOptimizer("sgd").setStepSize(1e306).setBatchSize(40).setMaxIter(1).setLocalSteps(1).fit(df));
        assertTrue(SparkTestSupport.messages(fit).contains("Non-finite weights") && SparkTestSupport.messages(fit).contains("stepSize (1.0E306)"),
                SparkTestSupport.messages(fit));
    }

    @Test
    void theEstimatorFailsOnDivergenceNamingItsOwnParams() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 40; r++) {
            double x1 = Math.sin(r);
            double x2 = Math.cos(r);
            rows.add(RowFactory.create(Vectors.dense(x1, x2), x1 - 2 * x2 + 1));
        }
        Dataset<Row> df = SparkTestSupport.spark().createDataFrame(rows, new StructType()
                .add("features", new VectorUDT()).add("label", DataTypes.DoubleType)).coalesce(2);
        Exception e = assertThrows(Exception.class, () -> new MlpRegressor().setLayers(new int[] {2, 8, 1})
                .setHiddenActivation("identity").setOptimizer("sgd").setStepSize(1e6).setBatchSize(10).setMaxIter(6).setLocalSteps(1).fit(df));
        String m = SparkTestSupport.messages(e);
        assertTrue(m.contains("Non-finite") && m.contains("epoch ") && m.contains("lower stepSize (1000000.0)")
                && m.contains("clipNorm") && !m.contains("train.non-finite"), m);
    }

    @Test
    void aFiniteButDivergedRunIsNotAFinishedRun() throws Exception {
        // The trial's case: plain SGD at rate 1e6 on softmax classification blows the loss up by many
        // orders of magnitude without an overflow (ReLU units die, the softmax saturates). Before, the
        // fit returned a model of chance accuracy and the command line said "Trained 5 epochs".
        Path run = dir.resolve("diverged");
        IllegalStateException cli = assertThrows(IllegalStateException.class, () -> train(settings(classificationCsv(),
                "train.epochs=5", "train.learning-rate=1e6"), run));
        assertTrue(cli.getMessage().startsWith("Training diverged: epoch 5's training loss")
                && cli.getMessage().contains("train.learning-rate (1000000.0)"), cli.getMessage());
        assertFalse(Files.exists(run.resolve(RunDirectory.MODEL)), "no model");
        assertTrue(Files.exists(run.resolve(RunDirectory.FAILED)));

        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 40; r++) {
            rows.add(RowFactory.create(Vectors.dense(Math.sin(r), Math.cos(r)), (double) (r % 2)));
        }
        Dataset<Row> df = SparkTestSupport.spark().createDataFrame(rows, new StructType()
                .add("features", new VectorUDT()).add("label", DataTypes.DoubleType)).coalesce(2);
        IllegalStateException fit = assertThrows(IllegalStateException.class, () -> new io.sparkprop.spark.ml.MlpClassifier()
                .setLayers(new int[] {2, 8, 2}).setSolver("gd").setStepSize(1e6).setBatchSize(10).setMaxIter(5)
                .setLocalSteps(1).fit(df));
        assertTrue(fit.getMessage().startsWith("Training diverged") && fit.getMessage().contains("stepSize (1000000.0)"),
                fit.getMessage());
    }
}
