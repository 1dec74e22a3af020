package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.RunDirectory;
import io.sparkprop.spark.checkpoint.CheckpointSink;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.TrainingState;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.JobSettings;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.sparkprop.spark.report.TrainingReport;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.TrainingRun;
import io.sparkprop.core.Loss;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train}: read the data once into cached blocks, train, and leave a run directory with the
 * effective config, {@code metrics.jsonl} (one line per epoch) and the model.
 */
public final class TrainCommand {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    /** What a run produced. */
    public record Outcome(RunDirectory runDirectory, DistributedTrainer.Result result, Model model) {
    }

    private TrainCommand() {
    }

    /** Trains a fresh run, or resumes it when {@code runDirUri} already holds its checkpoints. */
    public static Outcome run(SparkSession spark, JobConfig config, String runDirUri) throws IOException {
        return run(spark, config, runDirUri, false);
    }

    /**
     * Trains in {@code runDirUri}. When the directory's checkpoint store holds a valid checkpoint
     * (always required with {@code resume}), training continues from the newest one, bit-exactly.
     */
    public static Outcome run(SparkSession spark, JobConfig config, String runDirUri, boolean resume) throws IOException {
        JobSettings settings = JobSettings.from(config);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        RunDirectory run = RunDirectory.create(runDirUri, sc.hadoopConfiguration());
        String checkpointDir = config.isSet("checkpoint.dir") ? config.get("checkpoint.dir") : run.file("checkpoints");
        CheckpointStore store = CheckpointStore.open(checkpointDir, sc.hadoopConfiguration(), settings.checkpointKeep());
        Optional<CheckpointStore.Checkpoint> latest = store.loadNewest();
        if (resume && latest.isEmpty()) {
            throw new IllegalArgumentException("--resume: no valid checkpoint in " + store.uri());
        }
        LOG.info("Run directory {}", run.uri());
        LOG.info("Effective configuration:\n{}", config.render());
        run.writeText(RunDirectory.CONFIG, config.render());

        int partitions = settings.partitions() > 0 ? settings.partitions() : sc.defaultParallelism();
        DataOptions trainOptions = settings.dataOptions("data.train", "data.train-labels");
        if (trainOptions == null) {
            config.require("data.train");
        }
        LoadedData train = DataLoader.load(spark, trainOptions, partitions);
        checkWidth(settings, train, "data.train");
        String fingerprint = "training data\n" + String.join("\n", train.sources()) + "\nrows " + train.rows()
                + "\npartitions " + train.blocks().getNumPartitions() + "\n";
        JavaRDD<DataBlock> trainBlocks = train.blocks();
        long trainRows = train.rows();
        JavaRDD<DataBlock> validation = null;
        DataOptions validationOptions = settings.dataOptions("data.validation", "data.validation-labels");
        if (validationOptions != null) {
            LoadedData loaded = DataLoader.load(spark, validationOptions, partitions);
            checkWidth(settings, loaded, "data.validation");
            validation = loaded.blocks();
        } else if (settings.validationFraction() > 0) {
            List<JavaRDD<DataBlock>> split = BlockOps.holdOut(trainBlocks, settings.validationFraction(), settings.seed());
            trainBlocks = split.get(0);
            validation = split.get(1);
            trainRows = trainBlocks.map(DataBlock::rows).reduce(Integer::sum);
            LOG.info("Held out {} of {} training rows for validation", train.rows() - trainRows, train.rows());
        }
        BlockOps.Scaling standardization = null;
        if (settings.scaling() == JobSettings.Scaling.STANDARDIZE) {
            standardization = BlockOps.fitStandardization(trainBlocks, settings.spec().inputSize());
            trainBlocks = BlockOps.scale(trainBlocks, standardization);
            if (validation != null) {
                validation = BlockOps.scale(validation, standardization);
            }
        }

        DistributedTrainer trainer = new DistributedTrainer(sc, settings, trainBlocks, trainRows, validation);
        ProgressLine progress = ProgressLine.wanted() ? ProgressLine.forTerminal(trainRows) : null;
        if (progress != null) {
            trainer.setProgress(progress);
        }
        Map<String, double[]> arrays = arrays(standardization);
        Map<String, String> metadata = metadata(settings, config);
        CheckpointSink checkpoints = new CheckpointSink(store, settings, config, fingerprint, arrays, metadata);
        TrainingState start;
        if (latest.isPresent()) {
            CheckpointStore.Checkpoint checkpoint = latest.get();
            CheckpointSink.checkResumable(checkpoint, config, fingerprint, store,
                    "Use a new --run-dir to train afresh.");
            start = checkpoint.state();
            LOG.info("Resuming from checkpoint at global step {} (epoch {}, step {}) in {}", start.globalStep(),
                    start.epoch() + 1, start.step() + 1, store.uri());
        } else {
            start = trainer.initialState();
        }
        writeMetrics(run, start.metricsLines());

        int epochs = settings.epochs();
        TrainingRun.Outcome outcome = TrainingRun.run(trainer, start, checkpoints, settings.maxJobRetries(),
                new TrainingRun.Listener() {
                    @Override
                    public void epoch(EpochMetrics metrics, List<String> lines) {
                        double eta = metrics.elapsedSeconds() / (metrics.epoch() + 1) * (epochs - metrics.epoch() - 1);
                        if (progress != null) {
                            progress.clear();
                        }
                        LOG.info(metrics.toConsole(epochs, eta));
                        writeMetrics(run, lines);
                    }

                    @Override
                    public void restarted(List<String> lines) {
                        writeMetrics(run, lines);
                    }
                });
        DistributedTrainer.Result result = outcome.result();

        Model model = new Model(settings.spec(), result.params(), arrays, metadata);
        run.write(RunDirectory.MODEL, out -> ModelCodec.write(model, out));
        LOG.info(result.bestEpoch() >= 0
                ? String.format(Locale.ROOT, "%s; the model holds epoch %d's weights (the best by %s), written to %s",
                        result.stoppedEarly() ? "Stopped early" : "Trained " + epochs + " epochs", result.bestEpoch() + 1,
                        config.get("train.early-stopping.metric"), run.file(RunDirectory.MODEL))
                : String.format(Locale.ROOT, "Trained %d epochs; model written to %s", epochs,
                        run.file(RunDirectory.MODEL)));
        TrainingReport.write(sc, run, settings, validation, model.params(), result, outcome.metricsLines());
        return new Outcome(run, result, model);
    }

    private static void writeMetrics(RunDirectory run, List<String> lines) {
        try {
            run.writeText(RunDirectory.METRICS, lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkWidth(JobSettings settings, LoadedData data, String key) {
        if (data.numFeatures() != settings.spec().inputSize()) {
            throw new IllegalArgumentException("model.layers starts with " + settings.spec().inputSize() + " inputs but "
                    + key + " (" + settings.config().get(key) + ") has " + data.numFeatures() + " features per row");
        }
    }

    private static Map<String, double[]> arrays(BlockOps.Scaling standardization) {
        Map<String, double[]> arrays = new LinkedHashMap<>();
        if (standardization != null) {
            arrays.put(ModelFiles.SHIFT, standardization.shift());
            arrays.put(ModelFiles.SCALE, standardization.scale());
        }
        return arrays;
    }

    private static Map<String, String> metadata(JobSettings settings, JobConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(ModelFiles.TASK, config.getChoice("model.task"));
        metadata.put(ModelFiles.SCALING, settings.scaling().name().toLowerCase(Locale.ROOT));
        if (settings.scaling() == JobSettings.Scaling.DIVIDE) {
            metadata.put(ModelFiles.DIVISOR, config.get("data.scaling.divisor"));
        }
        metadata.put(ModelFiles.CONFIG, config.render());
        return metadata;
    }
}
