package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.RunDirectory;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.ResumeCheck;
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
import io.sparkprop.spark.report.RunReport;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.EvalSums;
import io.sparkprop.core.Loss;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.SparkException;
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
        Sink checkpoints = new Sink(store, settings, config, fingerprint, arrays, metadata);
        TrainingState start;
        if (latest.isPresent()) {
            CheckpointStore.Checkpoint checkpoint = latest.get();
            checkResumable(checkpoint, config, fingerprint, store);
            start = checkpoint.state();
            LOG.info("Resuming from checkpoint at global step {} (epoch {}, step {}) in {}", start.globalStep(),
                    start.epoch() + 1, start.step() + 1, store.uri());
        } else {
            start = trainer.initialState();
        }
        writeMetrics(run, start.metricsLines());

        int epochs = settings.epochs();
        DistributedTrainer.Result result = null;
        // One line per epoch, keyed by epoch: an epoch re-run after a rollback replaces its line.
        TreeMap<Integer, String> lines = new TreeMap<>();
        for (int attempt = 0; result == null; attempt++) {
            lines.clear();
            for (String line : start.metricsLines()) {
                lines.put(EpochMetrics.fromJson(line).epoch(), line);
            }
            try {
                result = trainer.train(start, checkpoints, metrics -> {
                    lines.tailMap(metrics.epoch(), true).clear();
                    lines.put(metrics.epoch(), metrics.toJson());
                    double eta = metrics.elapsedSeconds() / (metrics.epoch() + 1) * (epochs - metrics.epoch() - 1);
                    if (progress != null) {
                        progress.clear();
                    }
                    LOG.info(metrics.toConsole(epochs, eta));
                    writeMetrics(run, new ArrayList<>(lines.values()));
                });
            } catch (Exception e) {
                // Scala throws SparkException undeclared, so it arrives here as a checked Exception.
                if (!isSparkException(e) || attempt >= settings.maxJobRetries()) {
                    if (e instanceof RuntimeException runtime) {
                        throw runtime;
                    }
                    throw new IllegalStateException("Training failed: " + e.getMessage(), e);
                }
                start = checkpoints.latest().orElseGet(trainer::initialState);
                LOG.warn("A Spark job failed ({}); retry {} of train.max-job-retries={} from global step {}",
                        e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""),
                        attempt + 1, settings.maxJobRetries(), start.globalStep());
                writeMetrics(run, start.metricsLines());
            }
        }

        Model model = new Model(settings.spec(), result.params(), arrays, metadata);
        run.write(RunDirectory.MODEL, out -> ModelCodec.write(model, out));
        LOG.info(result.bestEpoch() >= 0
                ? String.format(Locale.ROOT, "%s; the model holds epoch %d's weights (the best by %s), written to %s",
                        result.stoppedEarly() ? "Stopped early" : "Trained " + epochs + " epochs", result.bestEpoch() + 1,
                        config.get("train.early-stopping.metric"), run.file(RunDirectory.MODEL))
                : String.format(Locale.ROOT, "Trained %d epochs; model written to %s", epochs,
                        run.file(RunDirectory.MODEL)));
        writeReport(sc, run, settings, config, validation, model, result, new ArrayList<>(lines.values()));
        return new Outcome(run, result, model);
    }

    /**
     * The run's report ({@link RunReport}): curves, the confusion heatmap of the final model on the
     * validation data, and report.html. A report that cannot be drawn (a JVM without fonts, say)
     * is logged and skipped: the model is already written.
     */
    private static void writeReport(JavaSparkContext sc, RunDirectory run, JobSettings settings, JobConfig config,
                                    JavaRDD<DataBlock> validation, Model model, DistributedTrainer.Result result,
                                    List<String> metricsLines) {
        try {
            List<EpochMetrics> history = new ArrayList<>();
            for (String line : metricsLines) {
                history.add(EpochMetrics.fromJson(line));
            }
            Map<String, String> finals = new LinkedHashMap<>();
            double[][] confusion = null;
            if (validation != null) {
                EvalSums sums = DistributedTrainer.evaluate(sc, settings.spec(), validation, model.params(),
                        "report: final validation metrics");
                finals.put("validation rows", Long.toString(sums.rows()));
                finals.put("validation loss", String.format(Locale.ROOT, "%.4f", sums.meanLoss()));
                if (settings.spec().loss() == Loss.MSE) {
                    finals.put("validation RMSE", String.format(Locale.ROOT, "%.4f", sums.rmse()));
                    finals.put("validation MAE", String.format(Locale.ROOT, "%.4f", sums.mae()));
                    finals.put("validation R²", String.format(Locale.ROOT, "%.4f", sums.r2()));
                } else {
                    finals.put("validation accuracy", String.format(Locale.ROOT, "%.2f%%", 100 * sums.accuracy()));
                }
                double[] flat = sums.confusion();
                int k = settings.spec().outputSize();
                if (settings.spec().loss() == Loss.SOFTMAX_CROSS_ENTROPY && flat.length == k * k) {
                    confusion = new double[k][];
                    for (int t = 0; t < k; t++) {
                        confusion[t] = java.util.Arrays.copyOfRange(flat, t * k, (t + 1) * k);
                    }
                }
            }
            finals.put("epochs", Integer.toString(history.size()) + (result.stoppedEarly() ? " (stopped early)" : ""));
            if (result.bestEpoch() >= 0) {
                finals.put("model weights", "epoch " + (result.bestEpoch() + 1) + ", the best by "
                        + config.get("train.early-stopping.metric"));
            }
            finals.put("training seconds", String.format(Locale.ROOT, "%.1f",
                    history.stream().mapToDouble(EpochMetrics::epochSeconds).sum()));
            finals.put("parameters", Integer.toString(settings.spec().paramCount()));
            finals.put("exchange", settings.localSteps() == 1 ? "synchronous SGD"
                    : "local SGD, " + settings.localSteps() + " steps per exchange");
            List<String> written = RunReport.write(run, new RunReport.Content(settings.spec().toString(),
                    config.render(), history, finals, confusion));
            LOG.info("Report written to {} ({})", run.file(RunReport.HTML), String.join(", ", written));
        } catch (Exception | LinkageError e) {
            LOG.warn("Could not write the run report into {}: {}", run.uri(), e.toString());
        }
    }

    /** SparkException is checked in Scala's eyes, so Java sees it only as a Throwable. */
    private static boolean isSparkException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SparkException) {
                return true;
            }
        }
        return false;
    }

    private static void writeMetrics(RunDirectory run, List<String> lines) {
        try {
            run.writeText(RunDirectory.METRICS, lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Refuses a checkpoint of other data or an incompatible config; logs what else changed. */
    private static void checkResumable(CheckpointStore.Checkpoint checkpoint, JobConfig config, String fingerprint,
                                       CheckpointStore store) {
        if (!checkpoint.fingerprint().equals(fingerprint)) {
            throw new IllegalArgumentException("Cannot resume from " + store.uri() + ": it was written for other"
                    + " training data or another partition count.\nCheckpoint:\n" + checkpoint.fingerprint()
                    + "Now:\n" + fingerprint);
        }
        ResumeCheck.Differences diff = ResumeCheck.compare(JobConfig.parse(checkpoint.config(), "checkpoint config"),
                config);
        if (!diff.incompatible().isEmpty()) {
            throw new IllegalArgumentException("Cannot resume from " + store.uri() + " with an incompatible config: "
                    + String.join("; ", diff.incompatible()) + ". Use a new --run-dir to train afresh.");
        }
        for (String change : diff.harmless()) {
            LOG.info("Resuming with a changed setting: {}", change);
        }
        for (String change : diff.trajectory()) {
            LOG.warn("Resuming with a changed setting that makes the rest of the run differ from an uninterrupted one:"
                    + " {}", change);
        }
    }

    /** Writes checkpoints for the loop, applying checkpoint.on-failure. */
    private static final class Sink implements DistributedTrainer.Checkpoints {
        private final CheckpointStore store;
        private final JobSettings settings;
        private final String config;
        private final String fingerprint;
        private final Map<String, double[]> arrays;
        private final Map<String, String> metadata;

        Sink(CheckpointStore store, JobSettings settings, JobConfig config, String fingerprint,
             Map<String, double[]> arrays, Map<String, String> metadata) {
            this.store = store;
            this.settings = settings;
            this.config = config.render();
            this.fingerprint = fingerprint;
            this.arrays = arrays;
            this.metadata = metadata;
        }

        @Override
        public void save(TrainingState state) {
            Model model = new Model(settings.spec(), state.params(), arrays, metadata);
            try {
                String uri = store.write(new CheckpointStore.Checkpoint(state, model, config, fingerprint));
                LOG.info("Checkpoint at global step {} written to {}", state.globalStep(), uri);
            } catch (IOException | RuntimeException e) {
                String message = "Cannot write the checkpoint at global step " + state.globalStep() + " to "
                        + store.uri() + ": " + e.getMessage() + "; any earlier checkpoint is intact";
                if (settings.checkpointFailureIsFatal()) {
                    throw new IllegalStateException(message + " (checkpoint.on-failure=fail)", e);
                }
                LOG.warn("{} (checkpoint.on-failure=warn: training goes on)", message);
            }
        }

        @Override
        public Optional<TrainingState> latest() {
            try {
                return store.loadNewest().map(c -> {
                    if (!c.fingerprint().equals(fingerprint)) {
                        throw new IllegalStateException("The newest checkpoint in " + store.uri()
                                + " belongs to other training data");
                    }
                    return c.state();
                });
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read checkpoints from " + store.uri() + ": " + e.getMessage(), e);
            }
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
