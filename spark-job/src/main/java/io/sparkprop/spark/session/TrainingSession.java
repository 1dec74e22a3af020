package io.sparkprop.spark.session;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.checkpoint.CheckpointSink;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.RunKey;
import io.sparkprop.spark.checkpoint.WriterClaim;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.BlockFingerprint;
import io.sparkprop.spark.data.DataFormat;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.FrameBlocks;
import io.sparkprop.spark.data.ChunkLayout;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.data.TargetKind;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.report.TrainingReport;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.TrainingRun;
import io.sparkprop.spark.train.TrainingState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run, whichever front door started it: {@code scripts/sparkprop train}
 * ({@code cli.TrainCommand}) and the Spark ML estimators' {@code fit} ({@code ml.MlpTraining}) are
 * thin adapters over {@link #run}. Not a long-lived object: one call is one run.
 *
 * <p>What {@link #run} does, in order:
 * <ol>
 *   <li>opens the run directory (if any) and the checkpoint store, and finds the newest valid
 *       checkpoint;</li>
 *   <li>turns the input into cached blocks, one per partition ({@link DataLoader} for files,
 *       {@link FrameBlocks} for a DataFrame), holds out validation rows (a file, an indicator
 *       column or a seeded fraction) and fits the standardization;</li>
 *   <li>resumes from the checkpoint, refused when the data's {@link BlockFingerprint} or an
 *       incompatible setting differs, or starts from the given or the seeded weights. An estimator
 *       fit's checkpoints are its run's own: the subdirectory of {@code checkpointDir} that its
 *       {@link RunKey} (the defining settings, the starting weights, the data's fingerprints) names,
 *       opened at this point;</li>
 *   <li>trains with {@link DistributedTrainer} through {@link TrainingRun} (restarts after failed
 *       Spark jobs), writing {@code metrics.jsonl} after every epoch and checkpoints as configured;</li>
 *   <li>builds the {@link Model} (weights, standardization, metadata), writes it and the report
 *       ({@link TrainingReport}) into the run directory, and releases the cached blocks.</li>
 * </ol>
 */
public final class TrainingSession {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingSession.class);

    /** Where the training rows come from. */
    public sealed interface Input permits Files, Frame {
    }

    /** The config's files: {@code data.train}, and {@code data.validation} when set. */
    public record Files() implements Input {
    }

    /**
     * A DataFrame: a Vector {@code featuresCol}, a numeric {@code labelCol}, the config's
     * {@code data.weight-column} if set, and an optional boolean {@code validationIndicatorCol}
     * (empty for none) whose true rows are validated on and never trained on. Partitions and row
     * order are kept; {@code data.partitions > 0} merges neighbouring partitions down to that many.
     */
    public record Frame(Dataset<?> rows, String featuresCol, String labelCol, String validationIndicatorCol)
            implements Input {
    }

    /**
     * Where the run's files go.
     *
     * @param runDirectory       a Hadoop URI for config.conf, metrics.jsonl, the report (and, with
     *                           {@code modelFile}, model.spm); {@code null} for none
     * @param checkpointsInRun   without {@code checkpoint.dir}: checkpoint into the run directory's
     *                           {@code checkpoints/} (the command line) or not at all (the estimators)
     * @param checkpointsPerRun  keep the checkpoints in the subdirectory of {@code checkpoint.dir} that
     *                           the run's {@link RunKey} names, so that a run resumes only its own
     *                           state (the estimators, whose fits share one {@code checkpointDir});
     *                           false: the checkpoint directory is this one run's (the command line)
     * @param modelFile          write model.spm into the run directory
     * @param requireCheckpoint  refuse to start afresh: there must be a checkpoint to resume
     * @param progressLine       show the live progress line on a terminal
     * @param afresh             what to do instead of resuming, for errors
     */
    public record Outputs(String runDirectory, boolean checkpointsInRun, boolean checkpointsPerRun, boolean modelFile,
                          boolean requireCheckpoint, boolean progressLine, String afresh) {

        /**
         * The command line's: everything in {@code runDir}. Its checkpoint directory is the run's: training
         * again with it resumes, and a deliberately changed learning rate is the user's call (warned).
         */
        public static Outputs commandLine(String runDir, boolean resume) {
            return new Outputs(runDir, true, false, true, resume, true, "Use a new --run-dir to train afresh.");
        }

        /**
         * The estimators': a report directory if given (empty for none), checkpoints only in
         * checkpointDir, each fit's in its own run-keyed subdirectory.
         */
        public static Outputs estimator(String reportDir) {
            return new Outputs(reportDir == null || reportDir.isEmpty() ? null : reportDir, false, true, false, false,
                    false, "Set another checkpointDir to train afresh.");
        }
    }

    /**
     * What a run produced.
     *
     * @param run     its directory, or {@code null}
     * @param model   the trained network with its preprocessing and metadata
     * @param result  the trainer's result (best epoch, early stop)
     * @param history the metrics of every epoch, first to last
     * @param startingObjective the objective at the starting weights over the training rows,
     *                {@code (Σ w_i L_i + λ/2 Σ W²) / Σ w_i} (a step's objective, over all rows)
     */
    public record Result(RunDirectory run, Model model, DistributedTrainer.Result result, List<EpochMetrics> history,
                         double startingObjective) {
    }

    private TrainingSession() {
    }

    /**
     * Trains {@code given}'s network on {@code input}, resuming from the newest valid checkpoint
     * when there is one. {@code initialParams} (not modified; {@code null} for the seeded
     * initialization) is where a fresh run starts. The run works with {@code given}'s paths
     * qualified under the session's Hadoop configuration ({@link TrainingConfig#withQualifiedPaths}),
     * and records them so.
     *
     * @throws IllegalArgumentException bad input or settings, or a checkpoint that cannot be resumed
     *                                  (named, and left intact)
     * @throws IllegalStateException    training failed (a non-finite loss, gradient or weights, more
     *                                  failed jobs than allowed); no model is written, the checkpoints
     *                                  stay as they were, and the run directory, if any, is marked
     *                                  {@link RunDirectory#FAILED} with the error
     */
    public static Result run(SparkSession spark, TrainingConfig given, Input input, Outputs outputs,
                             double[] initialParams) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // From here on each path is the URI the run opens, as config.conf, checkpoints and the model record it.
        TrainingConfig config = given.withQualifiedPaths(sc.hadoopConfiguration());
        RunDirectory run = outputs.runDirectory() == null ? null
                : RunDirectory.create(outputs.runDirectory(), sc.hadoopConfiguration());
        try (Claims claims = new Claims(sc, config)) {
            return run(spark, sc, config, input, outputs, initialParams, run, claims);
        }
    }

    /** {@link #run} once the run directory is open: everything it writes is under {@code claims}. */
    private static Result run(SparkSession spark, JavaSparkContext sc, TrainingConfig config, Input input,
                              Outputs outputs, double[] initialParams, RunDirectory run, Claims claims) {
        WriterClaim runClaim = null;
        if (run != null) {
            runClaim = claims.take(run.uri(), "run directory");
            run.guardedBy(runClaim);
            try {
                run.requireUnfinished();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read the run directory " + run.uri() + ": " + e.getMessage(), e);
            }
        }
        String checkpointDir = config.checkpoints().dir() != null ? config.checkpoints().dir()
                : run != null && outputs.checkpointsInRun() ? run.file("checkpoints") : null;
        // An estimator fit's store is known once its data is fingerprinted (runStore); the command
        // line's is opened now, so that --resume without a checkpoint fails before the data is read.
        boolean perRun = checkpointDir != null && outputs.checkpointsPerRun();
        CheckpointStore store = checkpointDir == null || perRun ? null
                : CheckpointStore.open(checkpointDir, sc.hadoopConfiguration(), config.checkpoints().keep());
        if (store != null) {
            // checkpoint.dir is claimed on its own; the run directory's checkpoints/ is under its claim.
            store.guardedBy(config.checkpoints().dir() != null ? claims.takeForCheckpoints(store.uri(),
                    "checkpoint directory") : runClaim);
        }
        Optional<CheckpointStore.Checkpoint> latest = newest(store);
        if (outputs.requireCheckpoint() && latest.isEmpty()) {
            throw new IllegalArgumentException("--resume: no valid checkpoint in "
                    + (store == null ? "(no checkpoint directory)" : store.uri()));
        }
        if (store != null && latest.isPresent()) {
            // Before any data is loaded: a key that must match is named at once, not after a long load.
            CheckpointSink.checkConfig(latest.get(), config.text(), store, sc.hadoopConfiguration(),
                    outputs.afresh());
        }
        if (run != null) {
            LOG.info("Run directory {}", run.uri());
            LOG.info("Effective configuration:\n{}", config.text().render());
            try {
                run.clearFailed();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot clear the mark of an earlier failed attempt in " + run.uri()
                        + ": " + e.getMessage(), e);
            }
            write(run, RunDirectory.CONFIG, config.text().render(), store);
        }
        try {
            // Handed over without this frame keeping it: train() drops it once it has taken the state.
            java.util.concurrent.atomic.AtomicReference<Optional<CheckpointStore.Checkpoint>> handOver =
                    new java.util.concurrent.atomic.AtomicReference<>(latest);
            latest = null;
            return train(spark, sc, config, input, outputs, initialParams, run, checkpointDir, perRun, store,
                    handOver.getAndSet(null), claims);
        } catch (RuntimeException | Error e) {
            if (run != null) {
                run.markFailed(e); // not finished: no model, the checkpoints as they were
            }
            throw e;
        }
    }

    private static Result train(SparkSession spark, JavaSparkContext sc, TrainingConfig config, Input input,
                                Outputs outputs, double[] initialParams, RunDirectory run, String checkpointDir,
                                boolean perRun, CheckpointStore store, Optional<CheckpointStore.Checkpoint> latest,
                                Claims claims) {
        Blocks data = Blocks.of(spark, config, input);
        try {
            DistributedTrainer trainer = new DistributedTrainer(sc, config, data.train, data.trainRows,
                    data.validation, data.layout == null ? null
                            : new DistributedTrainer.Chunked(data.layout.partitionStarts(), data.trainChunkRows));
            ProgressLine progress = outputs.progressLine() && ProgressLine.wanted()
                    ? ProgressLine.forTerminal(data.trainRows) : null;
            if (progress != null) {
                trainer.setProgress(progress);
            }
            Map<String, double[]> arrays = arrays(data.standardization);
            Map<String, String> metadata = ModelFiles.metadata(config, data.featureColumns);
            DistributedTrainer.Checkpoints checkpoints = DistributedTrainer.NO_CHECKPOINTS;
            TrainingState start;
            String fingerprint = checkpointDir == null ? null : BlockFingerprint.of(data.loaded);
            if (perRun) {
                store = runStore(sc, config, checkpointDir, initialParams, fingerprint, data.validation, claims);
                latest = newest(store);
            }
            if (store != null) {
                checkpoints = new CheckpointSink(store, config, fingerprint, arrays, metadata);
                if (latest.isPresent() && perRun) {
                    CheckpointSink.checkResumable(latest.get(), config.text(), fingerprint, store,
                            sc.hadoopConfiguration(), outputs.afresh());
                } else if (latest.isPresent()) {
                    CheckpointSink.checkData(latest.get(), fingerprint, store, outputs.afresh()); // config: checked above
                }
            }
            // The trainer takes the start's arrays; origin gives them again (a retry or rollback before
            // any checkpoint), so no copy of a wide model's state is kept beside the loop's.
            Supplier<TrainingState> origin;
            if (latest.isPresent()) {
                start = latest.get().state();
                latest = Optional.empty();
                LOG.info("Resuming from checkpoint at global step {} (epoch {}, step {}) in {}", start.globalStep(),
                        start.epoch() + 1, start.step() + 1, store.uri());
                DistributedTrainer.Checkpoints saved = checkpoints;
                CheckpointStore from = store;
                origin = () -> saved.latest().orElseThrow(() -> new IllegalStateException("The checkpoints this run"
                        + " resumed from are gone from " + from.uri()));
            } else {
                origin = () -> initialParams == null ? trainer.initialState()
                        : trainer.initialState(initialParams.clone());
                start = origin.get();
            }
            CheckpointStore written = store;
            if (run != null) {
                writeMetrics(run, start.history(), written);
            }

            int epochs = config.optimization().epochs();
            // Handed over without a local keeping it: after the run, the start's optimizer slots (the
            // loop's, updated in place) must not outlive the loop (1 GB at 2^20 x 64 with Adam).
            java.util.concurrent.atomic.AtomicReference<TrainingState> handOver =
                    new java.util.concurrent.atomic.AtomicReference<>(start);
            start = null;
            TrainingRun.Outcome outcome = TrainingRun.run(trainer, handOver.getAndSet(null), origin, checkpoints,
                    config.faults().maxJobRetries(),
                    new TrainingRun.Listener() {
                        @Override
                        public void epoch(EpochMetrics metrics, List<EpochMetrics> history) {
                            double eta = metrics.elapsedSeconds() / (metrics.epoch() + 1) * (epochs - metrics.epoch()
                                    - 1);
                            if (progress != null) {
                                progress.clear();
                            }
                            LOG.info(metrics.toConsole(epochs, eta));
                            if (run != null) {
                                writeMetrics(run, history, written);
                            }
                        }

                        @Override
                        public void restarted(List<EpochMetrics> history) {
                            if (run != null) {
                                writeMetrics(run, history, written);
                            }
                        }
                    });
            DistributedTrainer.Result result = outcome.result();
            double startingObjective = trainer.objective(data.train, initialParams != null ? initialParams.clone()
                    : trainer.initialParams(), "starting objective " + config.spec());
            requireTrained(config, result, outcome.history(), startingObjective);
            Model model = new Model(config.spec(), result.params(), arrays, metadata);
            if (run != null && outputs.modelFile()) {
                try {
                    run.write(RunDirectory.MODEL, out -> ModelCodec.write(model, out));
                } catch (IOException e) {
                    throw writeFailed(e, store);
                }
                LOG.info(result.bestEpoch() >= 0
                        ? String.format(Locale.ROOT, "%s; the model holds epoch %d's weights (the best by %s),"
                                + " written to %s", result.stoppedEarly() ? "Stopped early" : "Trained "
                                + epochs(epochs), result.bestEpoch() + 1, config.stopping().metric(),
                                run.file(RunDirectory.MODEL))
                        : String.format(Locale.ROOT, "Trained %s; model written to %s", epochs(epochs),
                                run.file(RunDirectory.MODEL)));
            }
            if (run != null) {
                TrainingReport.write(sc, run, config, data.validation, model.params(), result, outcome.history());
            }
            return new Result(run, model, result, outcome.history(), startingObjective);
        } finally {
            data.release();
        }
    }

    /**
     * The store of this run's own checkpoints under {@code root}: the subdirectory its {@link RunKey}
     * names, created with the key beside the checkpoints if new. Checkpoints written directly in
     * {@code root} (by a version without run keys, or by the command line) are left alone, with a
     * warning that they are not resumed.
     *
     * @throws IllegalArgumentException the subdirectory holds another run's key (left intact)
     * @throws UncheckedIOException     the checkpoints cannot be read, or the key cannot be written
     *                                  under {@code checkpoint.on-failure = fail} (with {@code warn},
     *                                  a warning, as for any checkpoint that cannot be written)
     */
    private static CheckpointStore runStore(JavaSparkContext sc, TrainingConfig config, String root,
                                            double[] initialParams, String fingerprint,
                                            JavaRDD<DataBlock> validation, Claims claims) {
        RunKey key = RunKey.of(config.text(), initialParams, fingerprint,
                validation == null ? null : BlockFingerprint.of("validation data", validation));
        int keep = config.checkpoints().keep();
        CheckpointStore store = CheckpointStore.open(key.directory(root), sc.hadoopConfiguration(), keep);
        // Fits of one application are different writers too (a CrossValidator's parallel duplicates).
        store.guardedBy(claims.takeForCheckpoints(store.uri(), "fit's checkpoint directory"));
        try {
            if (!CheckpointStore.open(root, sc.hadoopConfiguration(), keep).list().isEmpty()) {
                LOG.warn("{} holds checkpoints directly, not in a fit's subdirectory; they are left alone and not"
                        + " resumed: each fit resumes only its own run's state, in the subdirectory its run key names",
                        root);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read checkpoints from " + root + ": " + e.getMessage(), e);
        }
        try {
            store.bind(key);
        } catch (IOException e) {
            String message = "Cannot write this fit's run key to " + store.uri() + ": " + e.getMessage();
            if (config.checkpoints().failureIsFatal()) {
                throw new UncheckedIOException(message + " (checkpoint.on-failure=fail)", e);
            }
            LOG.warn("{} (checkpoint.on-failure=warn: training goes on)", message);
        }
        LOG.info("This fit's checkpoints: {} (its run key in {})", store.uri(), CheckpointStore.RUN_KEY);
        return store;
    }

    /**
     * How many times the objective at the starting weights a run's final training loss may reach
     * before the run counts as diverged. Divergence need not overflow: a rate far too large can
     * leave ReLU units dead or saturate the softmax at losses of 1e10 to 1e166, all finite.
     */
    static final double DIVERGED_FACTOR = 1000;

    /**
     * The objective {@code (Σ w_i L_i + λ/2 Σ W²) / Σ w_i} at {@code startParams} over the training
     * blocks: one forward pass on the executors. The run's starting weights are the given or the
     * seeded ones, also when it resumed.
     */
    /**
     * Throws when the run did not train: the training loss of the epoch whose weights it keeps is
     * over {@link #DIVERGED_FACTOR} times the objective at the starting weights. Nothing is written
     * then; the checkpoints stay as they are.
     */
    /** {@code "1 epoch"}, {@code "3 epochs"}: a count of epochs as a log line says it. */
    static String epochs(int count) {
        return count + (count == 1 ? " epoch" : " epochs");
    }

    static void requireTrained(TrainingConfig config, DistributedTrainer.Result result, List<EpochMetrics> history,
                               double startingObjective) {
        if (history.isEmpty() || !(startingObjective > 0)) {
            return;
        }
        int kept = result.bestEpoch() >= 0 ? result.bestEpoch() : history.size() - 1;
        double loss = history.get(kept).trainLoss();
        if (loss > DIVERGED_FACTOR * startingObjective) {
            throw new IllegalStateException(String.format(Locale.ROOT, "Training diverged: epoch %d's training loss"
                    + " %.4g is over %.0f times the objective at the starting weights (%.4g), so no model is kept; %s.",
                    kept + 1, loss, DIVERGED_FACTOR, startingObjective, DistributedTrainer.divergenceHint(config)));
        }
    }

    private static Optional<CheckpointStore.Checkpoint> newest(CheckpointStore store) {
        if (store == null) {
            return Optional.empty();
        }
        try {
            return store.loadNewest();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read checkpoints from " + store.uri() + ": " + e.getMessage(), e);
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

    private static void writeMetrics(RunDirectory run, List<EpochMetrics> history, CheckpointStore store) {
        write(run, RunDirectory.METRICS, EpochMetrics.toJsonLines(history), store);
    }

    private static void write(RunDirectory run, String name, String text, CheckpointStore store) {
        try {
            run.writeText(name, text);
        } catch (IOException e) {
            throw writeFailed(e, store);
        }
    }

    /**
     * A failed write of the run directory as one line: the file and the cause ({@code e}'s message,
     * from {@link RunDirectory#write}), and the newest valid checkpoint to resume from.
     */
    private static IllegalStateException writeFailed(IOException e, CheckpointStore store) {
        return new IllegalStateException(e.getMessage().lines().findFirst().orElse("") + "; its temporary file is"
                + " removed and " + (store == null ? "the run has no checkpoints" : store.newestValid()), e);
    }

    /**
     * The writer claims a run holds ({@link WriterClaim}), released together when it ends, failed or
     * not. Every claim names this Spark application, its attempt and this process.
     */
    private static final class Claims implements AutoCloseable {
        private final WriterClaim.Owner owner;
        private final Duration timeout;
        private final boolean failureIsFatal;
        private final Configuration conf;
        private final List<WriterClaim> held = new ArrayList<>();

        Claims(JavaSparkContext sc, TrainingConfig config) {
            SparkContext context = sc.sc();
            this.owner = WriterClaim.Owner.current(context.applicationId(),
                    context.applicationAttemptId().isDefined() ? context.applicationAttemptId().get() : "");
            this.timeout = config.checkpoints().writerTimeout();
            this.failureIsFatal = config.checkpoints().failureIsFatal();
            this.conf = sc.hadoopConfiguration();
        }

        /**
         * Claims {@code uri}.
         *
         * @throws IllegalStateException another live run holds it, or the claim cannot be written
         */
        WriterClaim take(String uri, String what) {
            try {
                return claim(uri, what);
            } catch (UncheckedIOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        /**
         * Claims a checkpoint directory. One that cannot be claimed (not writable, say) is treated as a
         * checkpoint that cannot be written: under {@code checkpoint.on-failure = warn} the run goes on
         * unclaimed there (each checkpoint then warns as it fails), under {@code fail} it stops now.
         *
         * @return the claim, or {@code null} when warned
         * @throws IllegalStateException another live run holds it, or it cannot be claimed under
         *                               {@code checkpoint.on-failure = fail}
         */
        WriterClaim takeForCheckpoints(String uri, String what) {
            try {
                return claim(uri, what);
            } catch (UncheckedIOException e) {
                if (failureIsFatal) {
                    throw new IllegalStateException(e.getMessage() + " (checkpoint.on-failure=fail)", e);
                }
                LOG.warn("{} (checkpoint.on-failure=warn: training goes on)", e.getMessage());
                return null;
            }
        }

        /** Claims {@code uri} and holds it until {@link #close}; an unwritable claim throws {@code UncheckedIOException}. */
        private WriterClaim claim(String uri, String what) {
            WriterClaim claim = WriterClaim.take(uri, conf, owner, timeout, what);
            held.add(claim);
            return claim;
        }

        @Override
        public void close() {
            for (int i = held.size() - 1; i >= 0; i--) {
                held.get(i).close();
            }
        }
    }

    /**
     * A run's cached blocks: the training blocks as loaded (for the fingerprint), the blocks trained
     * on and validated on, and the standardization fitted on the training blocks.
     */
    private static final class Blocks {
        private JavaRDD<DataBlock> loaded;
        private JavaRDD<DataBlock> train;
        /** Set by {@link #measure}. */
        private long trainRows;
        /** With {@code train.shuffle = window}: the training chunks' layout; else null. */
        private ChunkLayout layout;
        /** With a layout, set by {@link #measure}: each training chunk's rows after the hold-out. */
        private int[] trainChunkRows;
        /** Whether the validation rows are a seeded hold-out of the training rows. */
        private boolean heldOut;
        private JavaRDD<DataBlock> validation;
        private BlockOps.Scaling standardization;
        /** The training features' names (CSV columns), for messages; empty when unknown. */
        private List<String> featureNames = List.of();
        /** The training features' column names when the data names its columns, for the model; else empty. */
        private List<String> featureColumns = List.of();
        /** Every cached RDD the run made, to unpersist at the end. */
        private final List<JavaRDD<DataBlock>> held = new ArrayList<>();

        static Blocks of(SparkSession spark, TrainingConfig config, Input input) {
            Blocks blocks = new Blocks();
            try {
                if (input instanceof Frame frame) {
                    blocks.fromFrame(config, frame);
                } else {
                    blocks.fromFiles(spark, config);
                }
                blocks.holdOut(config);
                blocks.measure(config, input);
                blocks.standardize(config);
            } catch (RuntimeException e) {
                blocks.release();
                throw e;
            }
            String metric = config.stopping().metric();
            if (blocks.validation == null && metric != null && metric.startsWith("val_")) {
                blocks.release();
                throw new IllegalArgumentException(input instanceof Frame
                        ? "earlyStoppingMetric=" + metric + " needs validation data: set validationFraction > 0 or"
                                + " validationIndicatorCol"
                        : "train.early-stopping.metric=" + metric + " needs validation data: set data.validation or"
                                + " data.validation-fraction");
            }
            return blocks;
        }

        private void fromFiles(SparkSession spark, TrainingConfig config) {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int partitions = config.data().partitions() > 0 ? config.data().partitions() : sc.defaultParallelism();
            if (config.data().partitions() == 0 && sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false)) {
                LOG.warn("data.partitions is not set, so the data is cut into Spark's default parallelism, {}: under"
                        + " spark.dynamicAllocation.enabled, the cores of the executors that happen to be up now. Set"
                        + " data.partitions: the partition count is part of what makes a run reproducible and"
                        + " resumable.", partitions);
            }
            LoadedData data = load(spark, config, config.trainData(), partitions, "data.train");
            layout = data.chunks();
            loaded = data.blocks();
            featureNames = data.featureNames();
            featureColumns = data.featureColumns();
            train = loaded;
            DataOptions validationOptions = config.validationData();
            if (validationOptions != null) {
                validation = load(spark, config, validationOptions, partitions, "data.validation").blocks();
            }
        }

        private LoadedData load(SparkSession spark, TrainingConfig config, DataOptions options, int partitions,
                                String key) {
            boolean window = config.exchange().shuffle() == TrainingConfig.Shuffle.WINDOW;
            LoadedData data = DataLoader.load(spark, options, partitions, window ? config.data().chunkBytes() : 0);
            held.add(data.blocks());
            NetworkSpec spec = config.spec();
            if (data.numFeatures() != spec.inputSize()) {
                throw new IllegalArgumentException("model.layers starts with " + spec.inputSize() + " inputs but " + key
                        + " (" + options.path() + ") has " + data.numFeatures() + " features per row");
            }
            return data;
        }

        private void fromFrame(TrainingConfig config, Frame frame) {
            Dataset<?> rows = frame.rows();
            int partitions = config.data().partitions();
            if (partitions > 0 && partitions < rows.rdd().getNumPartitions()) {
                // Coalescing merges neighbouring partitions without a shuffle: the row order stays fixed.
                rows = rows.coalesce(partitions);
            }
            Dataset<?> validationRows = null;
            String indicator = frame.validationIndicatorCol();
            if (indicator != null && !indicator.isEmpty()) {
                double fraction = config.data().validationFraction();
                if (fraction > 0) {
                    throw new IllegalArgumentException("Set validationFraction (" + fraction
                            + ") or validationIndicatorCol (" + indicator + "), not both");
                }
                DataType type = rows.schema().apply(indicator).dataType();
                if (!type.equals(DataTypes.BooleanType)) {
                    throw new IllegalArgumentException("validationIndicatorCol '" + indicator + "' must be boolean but"
                            + " is " + type.simpleString());
                }
                // Filters keep each partition's row order: the split is as deterministic as the input.
                validationRows = rows.filter(functions.col(indicator));
                rows = rows.filter(functions.not(functions.col(indicator)));
            }
            loaded = frameBlocks(config, frame, rows, true);
            train = loaded;
            if (validationRows != null) {
                validation = frameBlocks(config, frame, validationRows, false);
            }
        }

        /**
         * {@code rows} as one block per partition, or, with {@code train.shuffle = window}, as
         * chunks (then, for the training rows, their layout is kept).
         */
        private JavaRDD<DataBlock> frameBlocks(TrainingConfig config, Frame frame, Dataset<?> rows, boolean training) {
            NetworkSpec spec = config.spec();
            JavaRDD<DataBlock> blocks;
            if (config.exchange().shuffle() == TrainingConfig.Shuffle.WINDOW) {
                LoadedData chunks = FrameBlocks.chunks(rows, frame.featuresCol(), frame.labelCol(),
                        config.data().weightColumn(), spec.inputSize(), spec.outputSize(), config.model().task(),
                        config.data().sparse(), config.data().chunkBytes());
                blocks = chunks.blocks();
                if (training) {
                    layout = chunks.chunks();
                }
            } else {
                blocks = FrameBlocks.blocks(rows, frame.featuresCol(), frame.labelCol(), config.data().weightColumn(),
                        spec.inputSize(), spec.outputSize(), config.model().task(), config.data().sparse());
            }
            held.add(blocks);
            return blocks;
        }

        private void holdOut(TrainingConfig config) {
            double fraction = config.data().validationFraction();
            if (validation != null || fraction <= 0) {
                return;
            }
            List<JavaRDD<DataBlock>> split = BlockOps.holdOut(train, fraction, config.optimization().seed());
            held.addAll(split);
            train = split.get(0);
            validation = split.get(1);
            heldOut = true;
        }

        /**
         * Counts the training and validation rows, their weights and, for classification, each
         * class's weight, one pass over each set's cached blocks. Refuses a set with no rows or with
         * sample weights that sum to zero: every step would have nothing to learn from (or every
         * metric would be 0/0), and a run that did not train must not report success. Refuses
         * training rows whose weight is all in one class (nothing to tell apart), and warns, naming
         * them, about classes with no training weight: data may lack a class legitimately, but the
         * model will never predict it.
         */
        private void measure(TrainingConfig config, Input input) {
            int classes = config.model().task() == TargetKind.CLASS_INDEX ? config.spec().outputSize() : 0;
            List<double[]> trainParts = partSums(train, classes);
            double[] trainSums = total(trainParts);
            trainRows = (long) trainSums[0];
            if (layout != null) {
                trainChunkRows = trainParts.stream().mapToInt(part -> (int) part[0]).toArray();
            }
            double[] validationSums = validation == null ? null : total(partSums(validation, 0));
            if (heldOut) {
                LOG.info("Held out {} of {} training rows for validation", (long) validationSums[0],
                        trainRows + (long) validationSums[0]);
            }
            String column = config.data().weightColumn();
            String named = input instanceof Frame ? "weightCol '" + column + "'"
                    : "data.weight-column = " + column;
            check(trainSums, "training", column, named);
            if (validationSums != null) {
                check(validationSums, "validation", column, named);
            }
            if (classes > 0) {
                checkClasses(trainSums, classes, input instanceof Frame frame ? "labelCol '" + frame.labelCol() + "'"
                        : config.data().labelColumn() != null && (config.data().format() == DataFormat.CSV
                                || config.data().format() == DataFormat.PARQUET)
                                ? "data.label-column = " + config.data().labelColumn() : "the labels of data.train",
                        column != null);
            }
        }

        /**
         * Per partition (or chunk) of {@code blocks}, in order: {@code {rows, Σ weight, Σ weight of
         * class 0, ..., of class classes-1}} (weight 1 a row without a weight column; one-hot
         * targets, so a class's weight is its target column's weighted sum).
         */
        private static List<double[]> partSums(JavaRDD<DataBlock> blocks, int classes) {
            return blocks.mapPartitions(it -> {
                double[] sum = new double[2 + classes];
                while (it.hasNext()) {
                    double[] part = sums(it.next(), classes);
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += part[i];
                    }
                }
                return List.of(sum).iterator();
            }).collect();
        }

        /** The sums of {@link #partSums}' parts, added in partition order. */
        private static double[] total(List<double[]> parts) {
            double[] sum = new double[parts.isEmpty() ? 0 : parts.get(0).length];
            for (double[] part : parts) {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += part[i];
                }
            }
            return sum;
        }

        private static double[] sums(DataBlock block, int classes) {
            double[] out = new double[2 + classes];
            out[0] = block.rows();
            out[1] = totalWeight(block);
            double[] w = block.weights();
            double[] y = block.targets();
            for (int r = 0; r < block.rows() && classes > 0; r++) {
                double weight = w == null ? 1.0 : w[r];
                for (int k = 0; k < classes; k++) {
                    out[2 + k] += weight * y[r * classes + k];
                }
            }
            return out;
        }

        /**
         * Refuses training weight that is all in one class and warns about classes with none. A
         * class's presence is its weight: rows of weight 0 teach nothing.
         */
        private static void checkClasses(double[] sums, int classes, String labels, boolean weighted) {
            List<Integer> present = new ArrayList<>();
            List<Integer> absent = new ArrayList<>();
            for (int k = 0; k < classes; k++) {
                (sums[2 + k] > 0 ? present : absent).add(k);
            }
            String of = weighted ? " of positive weight" : "";
            if (present.size() == 1) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "The training rows%s (%s) are all of class"
                        + " %d of %d (the last layer's size): there is nothing to tell apart."
                        + " Give the training data rows of at least two classes.", of, labels, present.get(0), classes));
            }
            if (!absent.isEmpty()) {
                LOG.warn("Classes {} of {} have no training rows{} ({}): the model will learn never to predict them",
                        absent, classes, of, labels);
            }
        }

        private static void check(double[] rowsAndWeight, String what, String column, String named) {
            if (rowsAndWeight[0] == 0) {
                throw new IllegalArgumentException("The " + what + " data has no rows: nothing to "
                        + (what.equals("training") ? "train on" : "validate on"));
            }
            if (column != null && !(rowsAndWeight[1] > 0)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "The %s rows' sample weights (%s) sum"
                        + " to %s over %.0f rows: there is nothing to %s. Give some rows a positive weight.", what,
                        named, rowsAndWeight[1], rowsAndWeight[0], what.equals("training") ? "learn from"
                                : "measure"));
            }
        }

        private static double totalWeight(DataBlock block) {
            double[] w = block.weights();
            if (w == null) {
                return block.rows();
            }
            double sum = 0;
            for (double v : w) {
                sum += v;
            }
            return sum;
        }

        private void standardize(TrainingConfig config) {
            if (config.data().scaling() != TrainingConfig.Scaling.STANDARDIZE) {
                return;
            }
            standardization = BlockOps.fitStandardization(train, config.spec().inputSize(), featureNames);
            train = BlockOps.scale(train, standardization);
            held.add(train);
            if (validation != null) {
                validation = BlockOps.scale(validation, standardization);
                held.add(validation);
            }
        }

        void release() {
            for (JavaRDD<DataBlock> cached : held) {
                cached.unpersist(false);
            }
        }
    }
}
