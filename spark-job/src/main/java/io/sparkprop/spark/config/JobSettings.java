package io.sparkprop.spark.config;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.spark.data.BadRowPolicy;
import io.sparkprop.spark.data.DataFormat;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.TargetKind;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The run's settings in the core's terms, built from a {@link JobConfig} with every cross-key
 * check done once: the network, how to read each data set, and how to optimize. Immutable.
 */
public final class JobSettings implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Feature scaling modes. */
    public enum Scaling {
        NONE, DIVIDE, STANDARDIZE
    }

    private final JobConfig config;
    private final NetworkSpec spec;
    private final TargetKind targetKind;
    private final Scaling scaling;

    private JobSettings(JobConfig config) {
        this.config = config;
        this.targetKind = switch (config.getChoice("model.task")) {
            case "classification" -> TargetKind.CLASS_INDEX;
            case "multilabel" -> TargetKind.MULTI_LABEL;
            case "regression" -> TargetKind.REGRESSION;
            default -> throw new AssertionError(config.get("model.task"));
        };
        this.scaling = Scaling.valueOf(config.getChoice("data.scaling").toUpperCase(java.util.Locale.ROOT));
        this.spec = buildSpec(config, targetKind);
        checkNumbers(config);
    }

    /** Checks {@code config} as a whole and returns its settings. */
    public static JobSettings from(JobConfig config) {
        return new JobSettings(config);
    }

    private static NetworkSpec buildSpec(JobConfig config, TargetKind targetKind) {
        List<Integer> sizes = config.getIntList("model.layers");
        if (sizes.size() < 2) {
            throw config.invalid("model.layers", "needs the input size and at least one layer size, like 784,256,10,");
        }
        for (int size : sizes) {
            if (size <= 0) {
                throw config.invalid("model.layers", "must hold positive sizes");
            }
        }
        if (targetKind == TargetKind.CLASS_INDEX && sizes.get(sizes.size() - 1) < 2) {
            throw config.invalid("model.layers", "must end with the number of classes (at least 2) for classification");
        }
        Activation hidden = Activation.parse(config.getChoice("model.hidden-activation"));
        Activation taskOutput = switch (targetKind) {
            case CLASS_INDEX -> Activation.SOFTMAX;
            case MULTI_LABEL -> Activation.SIGMOID;
            case REGRESSION -> Activation.IDENTITY;
        };
        Activation output = taskOutput;
        if (config.isSet("model.output-activation")) {
            output = Activation.parse(config.getChoice("model.output-activation"));
            if (output != taskOutput && targetKind != TargetKind.REGRESSION) {
                throw config.invalid("model.output-activation", "must be " + taskOutput.name().toLowerCase(java.util.Locale.ROOT)
                        + " (or empty) for model.task=" + config.get("model.task"));
            }
        }
        Loss loss = switch (targetKind) {
            case CLASS_INDEX -> Loss.SOFTMAX_CROSS_ENTROPY;
            case MULTI_LABEL -> Loss.BINARY_CROSS_ENTROPY;
            case REGRESSION -> Loss.MSE;
        };
        int[] array = sizes.stream().mapToInt(Integer::intValue).toArray();
        return NetworkSpec.of(array, hidden, output, loss);
    }

    private static void checkNumbers(JobConfig config) {
        if (config.getInt("train.epochs") < 1) {
            throw config.invalid("train.epochs", "must be at least 1");
        }
        if (config.getInt("train.batch-size") < 1) {
            throw config.invalid("train.batch-size", "must be at least 1");
        }
        if (!(config.getDouble("train.learning-rate") > 0)) {
            throw config.invalid("train.learning-rate", "must be > 0");
        }
        if (config.getDouble("train.l2") < 0) {
            throw config.invalid("train.l2", "must be >= 0");
        }
        if (config.getDouble("train.clip-norm") < 0) {
            throw config.invalid("train.clip-norm", "must be >= 0 (0 = off)");
        }
        if (config.getInt("train.warmup-steps") < 0) {
            throw config.invalid("train.warmup-steps", "must be >= 0");
        }
        if (config.getInt("train.early-stopping.patience") < 1) {
            throw config.invalid("train.early-stopping.patience", "must be at least 1");
        }
        if (!(config.getDouble("train.early-stopping.min-delta") >= 0)) {
            throw config.invalid("train.early-stopping.min-delta", "must be >= 0");
        }
        String watched = config.getChoice("train.early-stopping.metric");
        boolean regression = config.getChoice("model.task").equals("regression");
        if (regression && watched.equals("val_accuracy") || !regression && (watched.equals("val_rmse")
                || watched.equals("val_mae"))) {
            throw config.invalid("train.early-stopping.metric", "must be val_loss"
                    + (regression ? ", val_rmse or val_mae for regression" : " or val_accuracy for classification"));
        }
        if (config.getBoolean("data.sparse") && config.getChoice("data.scaling").equals("standardize")) {
            throw config.invalid("data.scaling", "must be none or divide with data.sparse = true: standardize subtracts"
                    + " each feature's mean, which fills in every zero");
        }
        if (config.getInt("train.local-steps") < 1) {
            throw config.invalid("train.local-steps", "must be at least 1 (1 = synchronous SGD)");
        }
        if (config.getInt("train.aggregation-depth") < 1) {
            throw config.invalid("train.aggregation-depth", "must be at least 1");
        }
        if (config.getInt("data.partitions") < 0) {
            throw config.invalid("data.partitions", "must be >= 0 (0 = Spark's default parallelism)");
        }
        double fraction = config.getDouble("data.validation-fraction");
        if (!(fraction >= 0 && fraction < 1)) {
            throw config.invalid("data.validation-fraction", "must be in [0, 1)");
        }
        if (config.get("data.csv.delimiter").length() != 1) {
            throw config.invalid("data.csv.delimiter", "must be exactly one character");
        }
        if (!(config.getDouble("data.scaling.divisor") > 0)) {
            throw config.invalid("data.scaling.divisor", "must be > 0");
        }
        double momentum = config.getDouble("train.momentum");
        if (!(momentum >= 0 && momentum < 1)) {
            throw config.invalid("train.momentum", "must be in [0, 1)");
        }
        if (config.isSet("train.weight-decay") && config.getDouble("train.weight-decay") < 0) {
            throw config.invalid("train.weight-decay", "must be >= 0");
        }
        double gamma = config.getDouble("train.schedule.gamma");
        if (!(gamma > 0 && gamma <= 1)) {
            throw config.invalid("train.schedule.gamma", "must be in (0, 1]");
        }
        if (config.getInt("train.schedule.step-epochs") < 1) {
            throw config.invalid("train.schedule.step-epochs", "must be at least 1");
        }
        double minRate = config.getDouble("train.schedule.min-learning-rate");
        if (!(minRate >= 0 && minRate <= config.getDouble("train.learning-rate"))) {
            throw config.invalid("train.schedule.min-learning-rate", "must be in [0, train.learning-rate]");
        }
        DataFormat.parse(config.get("data.format"));
        if (config.getInt("train.non-finite.max-skips") < 1) {
            throw config.invalid("train.non-finite.max-skips", "must be at least 1");
        }
        double factor = config.getDouble("train.non-finite.rollback-factor");
        if (!(factor > 0 && factor < 1)) {
            throw config.invalid("train.non-finite.rollback-factor", "must be in (0, 1)");
        }
        if (config.getInt("train.max-job-retries") < 0) {
            throw config.invalid("train.max-job-retries", "must be >= 0");
        }
        if (config.getInt("checkpoint.every-steps") < 0) {
            throw config.invalid("checkpoint.every-steps", "must be >= 0 (0 = epoch ends only)");
        }
        if (config.getInt("checkpoint.keep") < 1) {
            throw config.invalid("checkpoint.keep", "must be at least 1");
        }
    }

    /** What to do with a non-finite loss or gradient. */
    public enum NonFinitePolicy {
        FAIL, SKIP, ROLLBACK
    }

    public NonFinitePolicy nonFinitePolicy() {
        return NonFinitePolicy.valueOf(config.getChoice("train.non-finite").toUpperCase(java.util.Locale.ROOT));
    }

    public int maxSkips() {
        return config.getInt("train.non-finite.max-skips");
    }

    public double rollbackFactor() {
        return config.getDouble("train.non-finite.rollback-factor");
    }

    public int maxJobRetries() {
        return config.getInt("train.max-job-retries");
    }

    public int checkpointEverySteps() {
        return config.getInt("checkpoint.every-steps");
    }

    public int checkpointKeep() {
        return config.getInt("checkpoint.keep");
    }

    public boolean checkpointFailureIsFatal() {
        return config.getChoice("checkpoint.on-failure").equals("fail");
    }

    public JobConfig config() {
        return config;
    }

    public NetworkSpec spec() {
        return spec;
    }

    public TargetKind targetKind() {
        return targetKind;
    }

    public Scaling scaling() {
        return scaling;
    }

    public int epochs() {
        return config.getInt("train.epochs");
    }

    public int batchSize() {
        return config.getInt("train.batch-size");
    }

    public long seed() {
        return config.getLong("train.seed");
    }

    public double l2() {
        return config.getDouble("train.l2");
    }

    public double clipNorm() {
        return config.getDouble("train.clip-norm");
    }

    public int aggregationDepth() {
        return config.getInt("train.aggregation-depth");
    }

    /** Requested partitions; 0 means Spark's default parallelism. */
    public int partitions() {
        return config.getInt("data.partitions");
    }

    public double validationFraction() {
        return config.getDouble("data.validation-fraction");
    }

    /** Reading options for the data at {@code pathKey} (with {@code labelsKey} for IDX); null if the path is unset. */
    public DataOptions dataOptions(String pathKey, String labelsKey) {
        if (!config.isSet(pathKey)) {
            return null;
        }
        DataFormat format = DataFormat.parse(config.get("data.format"));
        String labels = format == DataFormat.IDX ? config.get(labelsKey) : null;
        if (format == DataFormat.IDX && (labels == null || labels.isEmpty())) {
            throw new IllegalArgumentException("Config key '" + labelsKey + "' is required with data.format=idx, next to "
                    + pathKey + " = " + config.get(pathKey));
        }
        // Column options mean something for CSV and Parquet only; the loader rejects them elsewhere.
        boolean columns = format == DataFormat.CSV || format == DataFormat.PARQUET;
        String label = columns ? config.get("data.label-column") : null;
        List<String> features = columns ? new ArrayList<>(config.getList("data.feature-columns")) : List.of();
        String featuresColumn = format == DataFormat.PARQUET && config.isSet("data.features-column")
                ? config.get("data.features-column") : null;
        String weight = columns && config.isSet("data.weight-column") ? config.get("data.weight-column") : null;
        return new DataOptions(format, config.get(pathKey), labels, config.getInt("data.num-features"), targetKind,
                spec.outputSize(), label, featuresColumn, features, weight, config.getBoolean("data.csv.header"),
                config.get("data.csv.delimiter").charAt(0),
                BadRowPolicy.valueOf(config.getChoice("data.bad-rows").toUpperCase(java.util.Locale.ROOT)),
                scaling == Scaling.DIVIDE ? config.getDouble("data.scaling.divisor") : 1.0,
                config.getBoolean("data.sparse"));
    }

    /** A fresh optimizer for the network, with decoupled weight decay limited to weights. */
    public Optimizer newOptimizer() {
        return optimizerFactory().create();
    }

    /** What {@link #newOptimizer()} builds, as a serializable recipe for executors. */
    public OptimizerFactory optimizerFactory() {
        String kind = config.getChoice("train.optimizer");
        double decay = config.isSet("train.weight-decay") ? config.getDouble("train.weight-decay")
                : kind.equals("adamw") ? 0.01 : 0.0;
        return new OptimizerFactory(kind, spec.paramCount(), config.getDouble("train.momentum"),
                config.getDouble("train.adam.beta1"), config.getDouble("train.adam.beta2"),
                config.getDouble("train.adam.epsilon"), decay, spec.weightRanges());
    }

    /** Early stopping as configured, or {@code null} when {@code train.early-stopping.metric = none}. */
    public io.sparkprop.spark.train.EarlyStopping earlyStopping() {
        String metric = config.getChoice("train.early-stopping.metric");
        return metric.equals("none") ? null : new io.sparkprop.spark.train.EarlyStopping(
                io.sparkprop.spark.train.EarlyStopping.Metric.of(metric), config.getInt("train.early-stopping.patience"),
                config.getDouble("train.early-stopping.min-delta"));
    }

    /** Local mini-batch steps per exchange; 1 is synchronous SGD. */
    /** The arithmetic of training's matrix products ({@code train.precision}). */
    public io.sparkprop.core.Precision precision() {
        return io.sparkprop.core.Precision.of(config.getChoice("train.precision"));
    }

    public int localSteps() {
        return config.getInt("train.local-steps");
    }

    /** The learning-rate schedule for {@code stepsPerEpoch} steps in each of {@link #epochs()} epochs. */
    public LearningRateSchedule schedule(int stepsPerEpoch) {
        double base = config.getDouble("train.learning-rate");
        long warmup = config.getInt("train.warmup-steps");
        long totalSteps = (long) stepsPerEpoch * epochs();
        LearningRateSchedule schedule = switch (config.getChoice("train.schedule")) {
            case "constant" -> LearningRateSchedule.constant(base);
            case "step" -> LearningRateSchedule.stepDecay(base, config.getDouble("train.schedule.gamma"),
                    (long) stepsPerEpoch * config.getInt("train.schedule.step-epochs"));
            case "exponential" -> LearningRateSchedule.exponential(base, config.getDouble("train.schedule.gamma"),
                    stepsPerEpoch);
            case "cosine" -> LearningRateSchedule.cosine(base, Math.max(1, totalSteps - warmup),
                    config.getDouble("train.schedule.min-learning-rate"));
            default -> throw new AssertionError(config.get("train.schedule"));
        };
        return warmup > 0 ? schedule.withWarmup(warmup) : schedule;
    }
}
