package io.sparkprop.spark.cli;

import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.session.TrainingSession;
import io.sparkprop.spark.train.DistributedTrainer;
import org.apache.spark.sql.SparkSession;

/**
 * {@code train}: the command line's door to {@link TrainingSession}. The config file's values
 * become a {@link TrainingConfig}; the session reads the data once into cached blocks, trains, and
 * leaves a run directory with the effective config, {@code metrics.jsonl} (one line per epoch),
 * checkpoints, the model and the report.
 */
public final class TrainCommand {

    /** What a run produced. */
    public record Outcome(RunDirectory runDirectory, DistributedTrainer.Result result, Model model) {
    }

    private TrainCommand() {
    }

    /** Trains a fresh run, or resumes it when {@code runDirUri} already holds its checkpoints. */
    public static Outcome run(SparkSession spark, JobConfig config, String runDirUri) {
        return run(spark, config, runDirUri, false);
    }

    /**
     * Trains in {@code runDirUri}. When the directory's checkpoint store holds a valid checkpoint
     * (always required with {@code resume}), training continues from the newest one, bit-exactly.
     */
    public static Outcome run(SparkSession spark, JobConfig config, String runDirUri, boolean resume) {
        TrainingSession.Result result = TrainingSession.run(spark, TrainingConfig.from(config),
                new TrainingSession.Files(), TrainingSession.Outputs.commandLine(runDirUri, resume), null);
        return new Outcome(result.run(), result.result(), result.model());
    }
}
