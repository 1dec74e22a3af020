package io.sparkprop.spark.config;

import static io.sparkprop.spark.config.ConfigSchema.*;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Dropout;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.spark.data.BadRowPolicy;
import io.sparkprop.spark.data.DataFormat;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.TargetKind;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/**
 * The one typed, immutable configuration of a training run, as both front doors build it: the
 * command line from a config file and {@code --set} overrides ({@link JobConfig}), the Spark ML
 * estimators from their params. Each part is a record whose constructor checks its fields; errors
 * name the key (or, from the estimators, the param), the value and what is valid. Defaults and
 * documentation live with the keys in {@link ConfigSchema}; {@link #from} reads every value once.
 *
 * @param data          what to read and how: formats, paths, columns, partitions, scaling, hold-out
 * @param model         the network: task, layer sizes and activations, as a {@link NetworkSpec}
 * @param optimization  epochs, batch size, seed, the optimizer and its schedule, L2, clipping,
 *                      the arithmetic of the products
 * @param exchange      how partitions exchange: local steps per exchange, aggregation depth
 * @param stopping      early stopping
 * @param faults        non-finite losses and failed Spark jobs
 * @param checkpoints   where and how often checkpoints are written
 * @param text          the same values in the config file's form (text with where each came from):
 *                      written as a run's {@code config.conf} and kept in checkpoints and models for
 *                      the resume check; training itself reads only the typed parts
 */
public record TrainingConfig(Data data, Model model, Optimization optimization, Exchange exchange, Stopping stopping,
                             Faults faults, Checkpoints checkpoints, JobConfig text) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Feature scaling modes ({@code data.scaling}). */
    public enum Scaling {
        NONE, DIVIDE, STANDARDIZE;

        /** The config name: none, divide, standardize. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What to do with a non-finite loss or gradient ({@code train.non-finite}). */
    public enum NonFinitePolicy {
        FAIL, SKIP, ROLLBACK
    }

    public TrainingConfig {
        if (optimization.sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY && !data.sparse()) {
            throw TRAIN_SPARSE_UPDATE.invalid("lazy", "needs data.sparse = true: lazy updates follow the features a"
                    + " sparse row uses, and dense rows use every feature");
        }
        if (data.sparse() && data.scaling() == Scaling.STANDARDIZE) {
            throw DATA_SCALING.invalid(data.scaling().key(), "must be none or divide with data.sparse = true:"
                    + " standardize subtracts each feature's mean, which fills in every zero");
        }
        String metric = stopping.metric();
        boolean regression = model.task() == TargetKind.REGRESSION;
        if (metric != null && (regression && metric.equals("val_accuracy")
                || !regression && (metric.equals("val_rmse") || metric.equals("val_mae")))) {
            throw TRAIN_EARLY_STOPPING_METRIC.invalid(metric, "must be val_loss"
                    + (regression ? ", val_rmse or val_mae for regression" : " or val_accuracy for classification"));
        }
        double minRate = optimization.minLearningRate();
        TRAIN_SCHEDULE_MIN_LEARNING_RATE.check(minRate <= optimization.learningRate(), minRate,
                "must be in [0, train.learning-rate]");
    }

    /**
     * Reads and checks every value of {@code source}. Errors name the key (or param), the value,
     * what is valid and where the value came from.
     */
    public static TrainingConfig from(ConfigSource source) {
        try {
            Model model = Model.of(source);
            return new TrainingConfig(Data.of(source), model, Optimization.of(source), Exchange.of(source),
                    Stopping.of(source), Faults.of(source), Checkpoints.of(source),
                    JobConfig.of(source));
        } catch (ConfigException e) {
            throw new ConfigException(e, source.subject(e.key()), source.origin(e.key()));
        }
    }

    /**
     * This config with every path-valued key ({@code data.*} files, {@code checkpoint.dir}) as the
     * fully qualified URI the run opens under {@code hadoopConf} ({@link JobConfig#withQualifiedPaths}),
     * in the typed parts and the {@link #text} alike: what a run trains with, so that its
     * {@code config.conf}, checkpoints and model name the files it read wherever they are read.
     */
    public TrainingConfig withQualifiedPaths(Configuration hadoopConf) {
        JobConfig qualified = text.withQualifiedPaths(hadoopConf);
        // Only path values changed, and they were checked already: reading them again cannot fail.
        return qualified == text ? this : from(qualified);
    }

    /** The network. */
    public NetworkSpec spec() {
        return model.spec();
    }

    /** Reading options for the training data ({@code data.train}); throws naming the key when it is unset. */
    public DataOptions trainData() {
        DataOptions options = dataOptions(data.train(), DATA_TRAIN, data.trainLabels(), DATA_TRAIN_LABELS);
        if (options == null) {
            throw required(DATA_TRAIN);
        }
        return options;
    }

    /**
     * How this config's user names {@code key} in a message: its estimator param ({@code stepSize})
     * when the config came from an estimator's params (whose origins read {@code param ...}), else
     * the config key ({@code train.learning-rate}).
     */
    public String named(ConfigKey<?> key) {
        String origin = text.origin(key);
        return key.param() != null && origin != null && origin.startsWith("param ") ? key.param() : key.name();
    }

    /** Reading options for {@code data.validation}, or {@code null} when it is unset. */
    public DataOptions validationData() {
        return dataOptions(data.validation(), DATA_VALIDATION, data.validationLabels(), DATA_VALIDATION_LABELS);
    }

    /** Reading options for {@code data.test}, or {@code null} when it is unset. */
    public DataOptions testData() {
        return dataOptions(data.test(), DATA_TEST, data.testLabels(), DATA_TEST_LABELS);
    }

    /**
     * Reading options for scoring the data at {@code path} (the {@code predict} command's input)
     * with this config's {@code data.*} keys: no labels file, and the feature count is the
     * network's input size, required of every row.
     */
    public DataOptions scoringData(String path) {
        DataFormat format = data.format();
        boolean columns = format == DataFormat.CSV || format == DataFormat.PARQUET;
        return new DataOptions(format, path, null, model.spec().inputSize(), model.task(), model.spec().outputSize(),
                columns ? data.labelColumn() : null, format == DataFormat.PARQUET ? data.featuresColumn() : null,
                columns ? data.featureColumns() : List.of(), columns ? data.weightColumn() : null, data.csvHeader(),
                data.csvDelimiter(), data.badRows(), data.scaling() == Scaling.DIVIDE ? data.scalingDivisor() : 1.0,
                data.sparse());
    }

    private DataOptions dataOptions(String path, ConfigKey<String> pathKey, String labels, ConfigKey<String> labelsKey) {
        if (path == null) {
            return null;
        }
        DataFormat format = data.format();
        if (format == DataFormat.IDX && labels == null) {
            throw new IllegalArgumentException("Config key '" + labelsKey.name() + "' is required with data.format=idx,"
                    + " next to " + pathKey.name() + " = " + path);
        }
        // Column options mean something for CSV and Parquet only; the loader rejects them elsewhere.
        boolean columns = format == DataFormat.CSV || format == DataFormat.PARQUET;
        return new DataOptions(format, path, format == DataFormat.IDX ? labels : null, data.numFeatures(), model.task(),
                model.spec().outputSize(), columns ? data.labelColumn() : null,
                format == DataFormat.PARQUET ? data.featuresColumn() : null,
                columns ? data.featureColumns() : List.of(), columns ? data.weightColumn() : null, data.csvHeader(),
                data.csvDelimiter(), data.badRows(), data.scaling() == Scaling.DIVIDE ? data.scalingDivisor() : 1.0,
                data.sparse());
    }

    private static IllegalArgumentException required(ConfigKey<?> key) {
        return new IllegalArgumentException("Config key '" + key.name() + "' is required: " + key.description()
                + " For example: " + key.name() + " = " + key.example());
    }

    private static <T> T require(ConfigSource source, ConfigKey<T> key) {
        T value = source.value(key);
        if (value == null) {
            throw required(key);
        }
        return value;
    }

    /**
     * The data sets and how to read them.
     *
     * @param train              {@code data.train}: a file, directory or glob (Hadoop URI); null if unset
     * @param validationFraction the seeded fraction of training rows held out when there is no
     *                           {@code validation} data, in [0, 1)
     * @param numFeatures        features per row; 0 takes the count from the data
     * @param featuresColumn     Parquet's vector column, or null for numeric columns
     * @param weightColumn       the sample-weight column, or null for weight 1
     * @param partitions         partitions of the training data; 0 for Spark's default parallelism
     * @param scalingDivisor     with {@link Scaling#DIVIDE}: what every feature is divided by (> 0)
     * @param chunkBytes         with {@link Shuffle#WINDOW}: the bytes of a cached chunk (>= 1)
     */
    public record Data(DataFormat format, String train, String trainLabels, String validation, String validationLabels,
                       String test, String testLabels, double validationFraction, int numFeatures, String labelColumn,
                       String featuresColumn, List<String> featureColumns, String weightColumn, boolean sparse,
                       boolean csvHeader, char csvDelimiter, BadRowPolicy badRows, int partitions, Scaling scaling,
                       double scalingDivisor, long chunkBytes) implements Serializable {

        private static final long serialVersionUID = 1L;

        public Data {
            DATA_VALIDATION_FRACTION.check(validationFraction);
            DATA_NUM_FEATURES.check(numFeatures);
            DATA_PARTITIONS.check(partitions);
            DATA_SCALING_DIVISOR.check(scalingDivisor);
            DATA_CHUNK_BYTES.check(chunkBytes);
            featureColumns = List.copyOf(featureColumns);
        }

        static Data of(ConfigSource s) {
            String delimiter = DATA_CSV_DELIMITER.check(require(s, DATA_CSV_DELIMITER));
            List<String> featureColumns = s.value(DATA_FEATURE_COLUMNS);
            return new Data(DataFormat.parse(require(s, DATA_FORMAT)), s.value(DATA_TRAIN), s.value(DATA_TRAIN_LABELS),
                    s.value(DATA_VALIDATION), s.value(DATA_VALIDATION_LABELS), s.value(DATA_TEST),
                    s.value(DATA_TEST_LABELS), require(s, DATA_VALIDATION_FRACTION), require(s, DATA_NUM_FEATURES),
                    s.value(DATA_LABEL_COLUMN), s.value(DATA_FEATURES_COLUMN),
                    featureColumns == null ? List.of() : featureColumns, s.value(DATA_WEIGHT_COLUMN),
                    require(s, DATA_SPARSE), require(s, DATA_CSV_HEADER), delimiter.charAt(0),
                    BadRowPolicy.valueOf(require(s, DATA_BAD_ROWS).toUpperCase(Locale.ROOT)),
                    require(s, DATA_PARTITIONS), Scaling.valueOf(require(s, DATA_SCALING).toUpperCase(Locale.ROOT)),
                    require(s, DATA_SCALING_DIVISOR), require(s, DATA_CHUNK_BYTES));
        }
    }

    /**
     * The network to train.
     *
     * @param task    how labels become targets: class indices (softmax), 0/1 labels (sigmoid outputs)
     *                or real values (regression)
     * @param spec    the layers, activations and loss
     * @param dropout the hidden layers' dropout rates while training ({@link Dropout#none()} for none)
     */
    public record Model(TargetKind task, NetworkSpec spec, Dropout dropout) implements Serializable {

        private static final long serialVersionUID = 1L;

        /**
         * The network of {@code sizes} (input first) with {@code hidden} activations and the task's
         * output and loss; {@code output} (null for the task's own) may differ only for regression;
         * {@code dropout} is one rate for every hidden layer, or one per hidden layer, each in [0, 1).
         */
        public static Model of(TargetKind task, int[] sizes, Activation hidden, Activation output, double[] dropout) {
            MODEL_LAYERS.check(sizes.length >= 2, sizes, "needs the input size and at least one layer size, like"
                    + " 784,256,10,");
            for (int size : sizes) {
                MODEL_LAYERS.check(size > 0, sizes, "must hold positive sizes");
            }
            MODEL_LAYERS.check(task != TargetKind.CLASS_INDEX || sizes[sizes.length - 1] >= 2, sizes,
                    "must end with the number of classes (at least 2) for classification");
            Activation taskOutput = switch (task) {
                case CLASS_INDEX -> Activation.SOFTMAX;
                case MULTI_LABEL -> Activation.SIGMOID;
                case REGRESSION -> Activation.IDENTITY;
            };
            if (output != null && output != taskOutput && task != TargetKind.REGRESSION) {
                throw MODEL_OUTPUT_ACTIVATION.invalid(output.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                        "must be " + taskOutput.name().toLowerCase(Locale.ROOT) + " (or empty) for model.task="
                                + taskName(task));
            }
            Loss loss = switch (task) {
                case CLASS_INDEX -> Loss.SOFTMAX_CROSS_ENTROPY;
                case MULTI_LABEL -> Loss.BINARY_CROSS_ENTROPY;
                case REGRESSION -> Loss.MSE;
            };
            int hiddenLayers = sizes.length - 2;
            MODEL_DROPOUT.check(dropout);
            MODEL_DROPOUT.check(dropout.length == 1 || dropout.length == hiddenLayers, dropout,
                    "must give one rate, or one per hidden layer (" + hiddenLayers + ")");
            boolean none = java.util.Arrays.stream(dropout).allMatch(r -> r == 0);
            MODEL_DROPOUT.check(none || hiddenLayers > 0, dropout, "must be 0 for a network without hidden layers");
            Dropout rates = none ? Dropout.none() : dropout.length == 1 ? Dropout.uniform(dropout[0], hiddenLayers)
                    : Dropout.of(dropout);
            return new Model(task, NetworkSpec.of(sizes.clone(), hidden, output == null ? taskOutput : output, loss),
                    rates);
        }

        /** The {@code model.task} name of {@code task}: classification, multilabel or regression. */
        public static String taskName(TargetKind task) {
            return switch (task) {
                case CLASS_INDEX -> "classification";
                case MULTI_LABEL -> "multilabel";
                case REGRESSION -> "regression";
            };
        }

        static Model of(ConfigSource s) {
            String name = require(s, MODEL_TASK);
            TargetKind task = switch (name) {
                case "classification" -> TargetKind.CLASS_INDEX;
                case "multilabel" -> TargetKind.MULTI_LABEL;
                case "regression" -> TargetKind.REGRESSION;
                default -> throw new AssertionError(name);
            };
            String output = s.value(MODEL_OUTPUT_ACTIVATION);
            return of(task, require(s, MODEL_LAYERS), Activation.parse(require(s, MODEL_HIDDEN_ACTIVATION)),
                    output == null ? null : Activation.parse(output), require(s, MODEL_DROPOUT));
        }
    }

    /**
     * How to optimize: the training loop's length and batches, the update rule and its schedule.
     *
     * @param optimizer       sgd, momentum, nesterov, adam or adamw
     * @param learningRate    the base learning rate η (> 0)
     * @param weightDecay     decoupled weight decay on weights (resolved: 0.01 for adamw, else 0, when unset)
     * @param l2              L2 strength λ: the objective adds λ/(2m) Σ W² (>= 0)
     * @param clipNorm        the global L2 norm the gradient is clipped to; 0 for none
     * @param schedule        constant, step, exponential or cosine
     * @param warmupSteps     steps of linear warm-up before the schedule
     * @param batchSize       the global mini-batch size, split over the partitions
     * @param seed            the one seed of initial weights, shuffles and hold-out splits
     * @param precision       the arithmetic of training's matrix products
     */
    public record Optimization(String optimizer, double learningRate, double momentum, double adamBeta1,
                               double adamBeta2, double adamEpsilon, double weightDecay, double l2, double clipNorm,
                               String schedule, double scheduleGamma, int scheduleStepEpochs, double minLearningRate,
                               int warmupSteps, int epochs, int batchSize, long seed, Precision precision,
                               io.sparkprop.core.SparseUpdate sparseUpdate)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        public Optimization {
            TRAIN_EPOCHS.check(epochs);
            TRAIN_BATCH_SIZE.check(batchSize);
            TRAIN_LEARNING_RATE.check(learningRate);
            TRAIN_L2.check(l2);
            TRAIN_CLIP_NORM.check(clipNorm);
            TRAIN_WARMUP_STEPS.check(warmupSteps);
            TRAIN_MOMENTUM.check(momentum);
            TRAIN_ADAM_BETA1.check(adamBeta1);
            TRAIN_ADAM_BETA2.check(adamBeta2);
            TRAIN_ADAM_EPSILON.check(adamEpsilon);
            TRAIN_WEIGHT_DECAY.check(weightDecay);
            TRAIN_SCHEDULE_GAMMA.check(scheduleGamma);
            TRAIN_SCHEDULE_STEP_EPOCHS.check(scheduleStepEpochs);
            TRAIN_SCHEDULE_MIN_LEARNING_RATE.check(minLearningRate);
            java.util.Objects.requireNonNull(sparseUpdate, "sparseUpdate");
        }

        static Optimization of(ConfigSource s) {
            String optimizer = require(s, TRAIN_OPTIMIZER);
            Double decay = s.value(TRAIN_WEIGHT_DECAY);
            return new Optimization(optimizer, require(s, TRAIN_LEARNING_RATE), require(s, TRAIN_MOMENTUM),
                    require(s, TRAIN_ADAM_BETA1), require(s, TRAIN_ADAM_BETA2), require(s, TRAIN_ADAM_EPSILON),
                    decay != null ? decay : optimizer.equals("adamw") ? 0.01 : 0.0, require(s, TRAIN_L2),
                    require(s, TRAIN_CLIP_NORM), require(s, TRAIN_SCHEDULE), require(s, TRAIN_SCHEDULE_GAMMA),
                    require(s, TRAIN_SCHEDULE_STEP_EPOCHS), require(s, TRAIN_SCHEDULE_MIN_LEARNING_RATE),
                    require(s, TRAIN_WARMUP_STEPS), require(s, TRAIN_EPOCHS), require(s, TRAIN_BATCH_SIZE),
                    require(s, TRAIN_SEED), Precision.of(require(s, TRAIN_PRECISION)),
                    io.sparkprop.core.SparseUpdate.valueOf(require(s, TRAIN_SPARSE_UPDATE).toUpperCase(Locale.ROOT)));
        }

        /** A serializable recipe for fresh optimizers of {@code spec}, decay limited to its weights. */
        public OptimizerFactory optimizerFactory(NetworkSpec spec) {
            return new OptimizerFactory(optimizer, spec.paramCount(), momentum, adamBeta1, adamBeta2, adamEpsilon,
                    weightDecay, spec.weightRanges());
        }

        /** A fresh optimizer for {@code spec}: zero state, zero steps. */
        public Optimizer newOptimizer(NetworkSpec spec) {
            return optimizerFactory(spec).create();
        }

        /** The learning-rate schedule over {@link #epochs} epochs of {@code stepsPerEpoch} steps. */
        public LearningRateSchedule schedule(int stepsPerEpoch) {
            long totalSteps = (long) stepsPerEpoch * epochs;
            LearningRateSchedule rule = switch (schedule) {
                case "constant" -> LearningRateSchedule.constant(learningRate);
                case "step" -> LearningRateSchedule.stepDecay(learningRate, scheduleGamma,
                        (long) stepsPerEpoch * scheduleStepEpochs);
                case "exponential" -> LearningRateSchedule.exponential(learningRate, scheduleGamma, stepsPerEpoch);
                case "cosine" -> LearningRateSchedule.cosine(learningRate, Math.max(1, totalSteps - warmupSteps),
                        minLearningRate);
                default -> throw new AssertionError(schedule);
            };
            return warmupSteps > 0 ? rule.withWarmup(warmupSteps) : rule;
        }
    }

    /**
     * How the partitions exchange their work.
     *
     * @param localSteps       mini-batch steps per exchange: 1 is synchronous SGD, more is local SGD
     * @param aggregationDepth depth of the partition-ordered aggregation tree (as treeAggregate's)
     * @param aggregation      how the partitions' results are summed ({@code train.aggregation})
     * @param wirePrecision    what an exchange ships values as ({@code train.exchange-precision})
     * @param shuffle          the order of a partition's rows within an epoch ({@code train.shuffle})
     * @param shuffleBuffer    with {@link Shuffle#WINDOW}: the shuffle buffer in chunks (>= 1)
     */
    public record Exchange(int localSteps, int aggregationDepth, Aggregation aggregation, Precision wirePrecision,
                           Shuffle shuffle, int shuffleBuffer)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        public Exchange {
            TRAIN_LOCAL_STEPS.check(localSteps);
            TRAIN_AGGREGATION_DEPTH.check(aggregationDepth);
            java.util.Objects.requireNonNull(aggregation, "aggregation");
            java.util.Objects.requireNonNull(wirePrecision, "wirePrecision");
            java.util.Objects.requireNonNull(shuffle, "shuffle");
            TRAIN_SHUFFLE_BUFFER.check(shuffleBuffer);
        }

        static Exchange of(ConfigSource s) {
            return new Exchange(require(s, TRAIN_LOCAL_STEPS), require(s, TRAIN_AGGREGATION_DEPTH),
                    Aggregation.valueOf(require(s, TRAIN_AGGREGATION).toUpperCase(Locale.ROOT).replace('-', '_')),
                    Precision.of(require(s, TRAIN_EXCHANGE_PRECISION)),
                    Shuffle.valueOf(require(s, TRAIN_SHUFFLE).toUpperCase(Locale.ROOT)),
                    require(s, TRAIN_SHUFFLE_BUFFER));
        }
    }

    /**
     * {@code train.aggregation}: how the partitions' results are summed ({@code docs/scaling.md}).
     * The choice changes the time, never the weights.
     */
    public enum Aggregation {
        /** {@link #TREE} or {@link #REDUCE_SCATTER}, by the cluster, the partition count and the result's size. */
        AUTO,
        /** A partition-ordered treeAggregate; the driver receives the last level's results. */
        TREE,
        /** A shuffle keyed by parameter slice, summed in the tree's order; the driver receives one result. */
        REDUCE_SCATTER
    }

    /**
     * {@code train.shuffle}: the order of each partition's rows within an epoch
     * ({@code docs/out-of-core.md}).
     */
    public enum Shuffle {
        /** A uniform permutation of the partition's rows, cached as one block per partition. */
        PARTITION,
        /** Chunks in a seeded order, shuffled {@code train.shuffle-buffer} chunks at a time. */
        WINDOW
    }

    /**
     * Early stopping.
     *
     * @param metric   val_loss, val_accuracy, val_rmse, val_mae or train_loss; {@code null} for none
     * @param patience epochs in a row without improvement before stopping (>= 1)
     * @param minDelta the least change that counts as an improvement (>= 0)
     */
    public record Stopping(String metric, int patience, double minDelta) implements Serializable {

        private static final long serialVersionUID = 1L;

        public Stopping {
            TRAIN_EARLY_STOPPING_PATIENCE.check(patience);
            TRAIN_EARLY_STOPPING_MIN_DELTA.check(minDelta);
        }

        static Stopping of(ConfigSource s) {
            String metric = require(s, TRAIN_EARLY_STOPPING_METRIC);
            return new Stopping(metric.equals("none") ? null : metric, require(s, TRAIN_EARLY_STOPPING_PATIENCE),
                    require(s, TRAIN_EARLY_STOPPING_MIN_DELTA));
        }
    }

    /**
     * Faults: a non-finite loss or gradient, and failed Spark jobs.
     *
     * @param maxSkips       skip: steps skipped in a row, and rollback: rollbacks in a row, before stopping
     * @param rollbackFactor rollback: the learning rate's factor after each rollback, in (0, 1)
     * @param maxJobRetries  restarts from the newest checkpoint after a failed Spark job
     */
    public record Faults(NonFinitePolicy nonFinite, int maxSkips, double rollbackFactor, int maxJobRetries)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        public Faults {
            TRAIN_NON_FINITE_MAX_SKIPS.check(maxSkips);
            TRAIN_NON_FINITE_ROLLBACK_FACTOR.check(rollbackFactor);
            TRAIN_MAX_JOB_RETRIES.check(maxJobRetries);
        }

        static Faults of(ConfigSource s) {
            return new Faults(NonFinitePolicy.valueOf(require(s, TRAIN_NON_FINITE).toUpperCase(Locale.ROOT)),
                    require(s, TRAIN_NON_FINITE_MAX_SKIPS), require(s, TRAIN_NON_FINITE_ROLLBACK_FACTOR),
                    require(s, TRAIN_MAX_JOB_RETRIES));
        }
    }

    /**
     * Checkpoints.
     *
     * @param dir            where they go (a Hadoop URI), or {@code null} for the run directory's
     *                       {@code checkpoints/} (the command line) or none (the estimators)
     * @param everySteps     also checkpoint every this many steps; 0 for epoch ends only
     * @param keep           valid checkpoints kept (>= 1)
     * @param failureIsFatal whether a checkpoint that cannot be written stops the run
     * @param writerTimeout  how long a claim on a written directory lives without its heartbeat
     */
    public record Checkpoints(String dir, int everySteps, int keep, boolean failureIsFatal, Duration writerTimeout)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        public Checkpoints {
            CHECKPOINT_EVERY_STEPS.check(everySteps);
            CHECKPOINT_KEEP.check(keep);
            CHECKPOINT_WRITER_TIMEOUT.check((int) writerTimeout.toSeconds());
        }

        static Checkpoints of(ConfigSource s) {
            return new Checkpoints(s.value(CHECKPOINT_DIR), require(s, CHECKPOINT_EVERY_STEPS),
                    require(s, CHECKPOINT_KEEP), require(s, CHECKPOINT_ON_FAILURE).equals("fail"),
                    Duration.ofSeconds(require(s, CHECKPOINT_WRITER_TIMEOUT)));
        }
    }
}
