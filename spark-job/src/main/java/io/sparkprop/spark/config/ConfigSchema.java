package io.sparkprop.spark.config;

import io.sparkprop.spark.config.ConfigKey.Kind;
import io.sparkprop.spark.config.ConfigKey.Resume;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every setting the job understands, with its default, documentation, estimator param and resume
 * rule in one place: the one source of {@code conf/reference.conf} (a test keeps the file in step),
 * of the config-file parser's checks ({@link JobConfig}), of the estimators' param docs and
 * defaults, and of {@link TrainingConfig}'s values. Any key not declared here is an error.
 *
 * <p>A new hyperparameter is three edits: its declaration here, its field (and checks) in
 * {@link TrainingConfig}, and, for the estimators, its param accessors in {@code ml.MlpParams}.
 */
public final class ConfigSchema {

    private static final Map<String, ConfigKey<?>> KEYS = new LinkedHashMap<>();

    // The declarations below are in documentation order; each states its name, default, example,
    // description, the estimators' param that sets it (if any) and its resume rule.

    public static final ConfigKey<String> DATA_FORMAT = add(ConfigKey.choice("data.format", "idx", List.of("idx", "libsvm", "csv", "parquet"),
                "Format of every data set of the run.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_TRAIN = add(ConfigKey.<String>of("data.train", Kind.PATH, "", "data/mnist/train-images-idx3-ubyte.gz",
                "Training data: a file, directory or glob, any Hadoop URI (hdfs://, file://, s3a://). Required for train.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_TRAIN_LABELS = add(ConfigKey.<String>of("data.train-labels", Kind.PATH, "", "data/mnist/train-labels-idx1-ubyte.gz",
                "IDX only: the training labels file.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_VALIDATION = add(ConfigKey.<String>of("data.validation", Kind.PATH, "", "data/mnist/t10k-images-idx3-ubyte.gz",
                "Validation data, evaluated after every epoch; empty for none (see data.validation-fraction).").resume(Resume.HARMLESS));

    public static final ConfigKey<String> DATA_VALIDATION_LABELS = add(ConfigKey.<String>of("data.validation-labels", Kind.PATH, "", "data/mnist/t10k-labels-idx1-ubyte.gz",
                "IDX only: the validation labels file.").resume(Resume.HARMLESS));

    public static final ConfigKey<Double> DATA_VALIDATION_FRACTION = add(ConfigKey.<Double>of("data.validation-fraction", Kind.DOUBLE, "0", "0.1",
                "When data.validation is empty: hold out this seeded fraction of the training rows for validation.").resume(Resume.MUST_MATCH).param("validationFraction")
            .valid(v -> v >= 0 && v < 1, "must be in [0, 1)"));

    public static final ConfigKey<String> DATA_TEST = add(ConfigKey.<String>of("data.test", Kind.PATH, "", "data/mnist/t10k-images-idx3-ubyte.gz",
                "Labelled data for the evaluate command (it falls back to data.validation). predict reads its --input with the same data.* keys.").resume(Resume.HARMLESS));

    public static final ConfigKey<String> DATA_TEST_LABELS = add(ConfigKey.<String>of("data.test-labels", Kind.PATH, "", "data/mnist/t10k-labels-idx1-ubyte.gz",
                "IDX only: the test labels file.").resume(Resume.HARMLESS));

    public static final ConfigKey<Integer> DATA_NUM_FEATURES = add(ConfigKey.<Integer>of("data.num-features", Kind.INT, "0", "784",
                "Features per row; 0 takes the count from the data (LIBSVM: the largest index) and requires it of every row.").resume(Resume.MUST_MATCH)
            .valid(v -> v >= 0, "must be >= 0 (0 = from the data)"));

    public static final ConfigKey<String> DATA_LABEL_COLUMN = add(ConfigKey.<String>of("data.label-column", Kind.STRING, "label", "label",
                "CSV/Parquet: the label column (CSV without header: _c0, _c1, ...); several, comma-separated, for multi-label or multi-output regression.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_FEATURES_COLUMN = add(ConfigKey.<String>of("data.features-column", Kind.STRING, "", "features",
                "Parquet: a Vector or array<double> features column; empty to use numeric columns.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<List<String>> DATA_FEATURE_COLUMNS = add(ConfigKey.<List<String>>of("data.feature-columns", Kind.STRING_LIST, "", "x1,x2,x3",
                "CSV/Parquet: numeric feature columns; empty means all columns that are not label or weight columns. A model trained"
                        + " on named columns (CSV with a header, Parquet) records them, and predict and evaluate select those"
                        + " columns by name unless this key is set.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_WEIGHT_COLUMN = add(ConfigKey.<String>of("data.weight-column", Kind.STRING, "", "weight",
                "CSV/Parquet: a non-negative sample weight column; empty for weight 1 on every row.").resume(Resume.MUST_MATCH).param("weightCol"));

    public static final ConfigKey<Boolean> DATA_SPARSE = add(ConfigKey.<Boolean>of("data.sparse", Kind.BOOLEAN, "false", "true", "Keep each row's nonzero features only (compressed sparse rows) and compute the first layer from them: for wide, mostly-zero inputs such as LIBSVM text features, where dense rows would not fit in memory. LIBSVM rows and sparse vectors stay sparse from the file to the block; dense rows drop their zeros. Needs data.scaling none or divide.").param("sparse"));

    public static final ConfigKey<Boolean> DATA_CSV_HEADER = add(ConfigKey.<Boolean>of("data.csv.header", Kind.BOOLEAN, "true", "false", "CSV: whether each file starts with a header line.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<String> DATA_CSV_DELIMITER = add(ConfigKey.<String>of("data.csv.delimiter", Kind.STRING, ",", ";", "CSV: the field delimiter, one character. Fields may be quoted as RFC 4180 says (\"a,b\", \"say \"\"hi\"\"\"), within one line.").resume(Resume.MUST_MATCH)
            .valid(v -> v.length() == 1 && !v.equals("\""), "must be exactly one character other than the double quote"));

    public static final ConfigKey<String> DATA_BAD_ROWS = add(ConfigKey.choice("data.bad-rows", "fail", List.of("fail", "skip"),
                "A malformed row, wrong feature count, NaN/Inf value or out-of-range label: fail naming the file and row, or skip and count it.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<Integer> DATA_PARTITIONS = add(ConfigKey.<Integer>of("data.partitions", Kind.INT, "0", "8",
                "Partitions of the training data, one cached block each; 0 uses Spark's default parallelism (the total cores).").resume(Resume.MUST_MATCH).param("numPartitions")
            .valid(v -> v >= 0, "must be >= 0 (0 = Spark's default parallelism)"));

    public static final ConfigKey<Long> DATA_CHUNK_BYTES = add(ConfigKey.<Long>of("data.chunk-bytes", Kind.LONG, "8388608", "33554432",
                "With train.shuffle = window: the training and validation rows are cached as chunks of about this many bytes (8 MiB by default), each its own Spark block, so Spark keeps in memory what fits and spills the rest chunk by chunk. Rows per chunk: this divided by a row's bytes (dense: 8 x (features + outputs + 1)). Unused with train.shuffle = partition. See docs/out-of-core.md.").resume(Resume.MUST_MATCH).param("chunkBytes")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<String> DATA_SCALING = add(ConfigKey.choice("data.scaling", "none", List.of("none", "divide", "standardize"),
                "Feature scaling: none; divide by data.scaling.divisor; or standardize with the training data's mean and standard deviation (stored with the model).").resume(Resume.MUST_MATCH));

    public static final ConfigKey<Double> DATA_SCALING_DIVISOR = add(ConfigKey.<Double>of("data.scaling.divisor", Kind.DOUBLE, "255", "255", "With data.scaling=divide: what every feature is divided by.").resume(Resume.MUST_MATCH)
            .valid(v -> v > 0, "must be > 0"));

    public static final ConfigKey<String> MODEL_TASK = add(ConfigKey.choice("model.task", "classification", List.of("classification", "multilabel", "regression"),
                "classification: softmax outputs, cross-entropy, labels are class indices 0..K-1; multilabel: sigmoid outputs, binary cross-entropy, 0/1 labels; regression: linear outputs, mean squared error.").resume(Resume.MUST_MATCH));

    public static final ConfigKey<int[]> MODEL_LAYERS = add(ConfigKey.<int[]>of("model.layers", Kind.INT_LIST, "", "784,256,128,10",
                "Layer sizes from the input to the output: the first is the feature count, the last the number of classes, labels or regression outputs. Required.").resume(Resume.MUST_MATCH).param("layers"));

    public static final ConfigKey<String> MODEL_HIDDEN_ACTIVATION = add(ConfigKey.choice("model.hidden-activation", "relu", List.of("relu", "leaky-relu", "tanh", "sigmoid", "identity"),
                "Activation of every hidden layer.").resume(Resume.MUST_MATCH).param("hiddenActivation"));

    public static final ConfigKey<String> MODEL_OUTPUT_ACTIVATION = add(ConfigKey.choice("model.output-activation", "", List.of("softmax", "sigmoid", "identity", "tanh", "relu", "leaky-relu"),
                "Output activation; empty chooses the task's (softmax, sigmoid, identity). Only regression may change it.").resume(Resume.MUST_MATCH).param("outputActivation"));

    public static final ConfigKey<double[]> MODEL_DROPOUT = add(ConfigKey.<double[]>of("model.dropout", Kind.DOUBLE_LIST, "0", "0.2,0.1",
                "Inverted dropout on the hidden layers' outputs while training (Srivastava et al. 2014): one rate for every hidden layer, or one per hidden layer, each in [0, 1); 0 for none. Kept units are scaled by 1/(1-rate), so evaluation and prediction, which never drop, need no change. Masks are drawn from (seed, epoch, step, partition, row), so runs stay bit-identical across task retries and resume.").param("dropout")
            .valid(v -> java.util.Arrays.stream(v).allMatch(r -> r >= 0 && r < 1), "must hold rates in [0, 1)"));

    public static final ConfigKey<Integer> TRAIN_EPOCHS = add(ConfigKey.<Integer>of("train.epochs", Kind.INT, "10", "12", "Passes over the training data.").resume(Resume.HARMLESS).param("maxIter")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<Integer> TRAIN_BATCH_SIZE = add(ConfigKey.<Integer>of("train.batch-size", Kind.INT, "128", "128",
                "Global mini-batch size: every step, each partition takes its proportional share.").resume(Resume.MUST_MATCH).param("batchSize")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<Long> TRAIN_SEED = add(ConfigKey.<Long>of("train.seed", Kind.LONG, "42", "42",
                "The one seed: initial weights, shuffles and validation splits derive from it.").resume(Resume.MUST_MATCH).param("seed"));

    public static final ConfigKey<String> TRAIN_OPTIMIZER = add(ConfigKey.choice("train.optimizer", "adam", List.of("sgd", "momentum", "nesterov", "adam", "adamw"),
                "Update rule (adamw is adam with train.weight-decay, default 0.01 for it).").resume(Resume.MUST_MATCH).param("optimizer"));

    public static final ConfigKey<Double> TRAIN_LEARNING_RATE = add(ConfigKey.<Double>of("train.learning-rate", Kind.DOUBLE, "0.001", "0.001", "Base learning rate.").param("stepSize")
            .valid(v -> v > 0, "must be > 0"));

    public static final ConfigKey<Double> TRAIN_MOMENTUM = add(ConfigKey.<Double>of("train.momentum", Kind.DOUBLE, "0.9", "0.9", "momentum/nesterov: the momentum coefficient in [0, 1).").param("momentum")
            .valid(v -> v >= 0 && v < 1, "must be in [0, 1)"));

    public static final ConfigKey<Double> TRAIN_ADAM_BETA1 = add(ConfigKey.<Double>of("train.adam.beta1", Kind.DOUBLE, "0.9", "0.9", "adam/adamw: decay of the first moment.").param("adamBeta1")
            .valid(v -> v >= 0 && v < 1, "must be in [0, 1)"));

    public static final ConfigKey<Double> TRAIN_ADAM_BETA2 = add(ConfigKey.<Double>of("train.adam.beta2", Kind.DOUBLE, "0.999", "0.999", "adam/adamw: decay of the second moment.").param("adamBeta2")
            .valid(v -> v >= 0 && v < 1, "must be in [0, 1)"));

    public static final ConfigKey<Double> TRAIN_ADAM_EPSILON = add(ConfigKey.<Double>of("train.adam.epsilon", Kind.DOUBLE, "1e-8", "1e-8", "adam/adamw: added to the root of the second moment.").param("adamEpsilon")
            .valid(v -> v > 0, "must be > 0"));

    public static final ConfigKey<Double> TRAIN_WEIGHT_DECAY = add(ConfigKey.<Double>of("train.weight-decay", Kind.DOUBLE, "", "0.01",
                "Decoupled weight decay on weights (not biases); empty means 0.01 for adamw and 0 otherwise.").param("weightDecay")
            .valid(v -> v >= 0, "must be >= 0"));

    public static final ConfigKey<Double> TRAIN_L2 = add(ConfigKey.<Double>of("train.l2", Kind.DOUBLE, "0", "0.0001", "L2 strength λ: the objective adds λ/(2m) Σ W² over weights.").param("regParam")
            .valid(v -> v >= 0, "must be >= 0"));

    public static final ConfigKey<Double> TRAIN_CLIP_NORM = add(ConfigKey.<Double>of("train.clip-norm", Kind.DOUBLE, "0", "5", "Clip the gradient to this global L2 norm; 0 for no clipping.").param("clipNorm")
            .valid(v -> v >= 0, "must be >= 0 (0 = off)"));

    public static final ConfigKey<String> TRAIN_SCHEDULE = add(ConfigKey.choice("train.schedule", "constant", List.of("constant", "step", "exponential", "cosine"),
                "Learning-rate schedule after warm-up: constant; step (times gamma every step-epochs); exponential (times gamma per epoch); cosine (to min-learning-rate at the last step).").param("schedule"));

    public static final ConfigKey<Double> TRAIN_SCHEDULE_GAMMA = add(ConfigKey.<Double>of("train.schedule.gamma", Kind.DOUBLE, "0.1", "0.5", "step/exponential: the decay factor in (0, 1].").param("scheduleGamma")
            .valid(v -> v > 0 && v <= 1, "must be in (0, 1]"));

    public static final ConfigKey<Integer> TRAIN_SCHEDULE_STEP_EPOCHS = add(ConfigKey.<Integer>of("train.schedule.step-epochs", Kind.INT, "10", "5", "step: epochs between decays.").param("scheduleStepEpochs")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<Double> TRAIN_SCHEDULE_MIN_LEARNING_RATE = add(ConfigKey.<Double>of("train.schedule.min-learning-rate", Kind.DOUBLE, "0", "1e-5", "cosine: the final learning rate.").param("minStepSize")
            .valid(v -> v >= 0, "must be in [0, train.learning-rate]"));

    public static final ConfigKey<Integer> TRAIN_WARMUP_STEPS = add(ConfigKey.<Integer>of("train.warmup-steps", Kind.INT, "0", "200", "Linear learning-rate warm-up over this many steps.").param("warmupSteps")
            .valid(v -> v >= 0, "must be >= 0"));

    public static final ConfigKey<String> TRAIN_PRECISION = add(ConfigKey.choice("train.precision", "float64", List.of("float64", "float32"),
                "The arithmetic of training's matrix products. float64: double precision throughout. float32: the products in single precision (sgemm, about twice as fast as dgemm with a native BLAS), everything else (the weights kept between steps, the optimizer, biases, activations, the loss, gradient sums) in double. Both are deterministic. Prediction and validation stay in double.").param("precision"));

    public static final ConfigKey<String> TRAIN_SPARSE_UPDATE = add(ConfigKey.choice("train.sparse-update", "dense", List.of("dense", "lazy"),
                "With data.sparse = true: how a step updates the first layer's weights. dense: every weight, every step, as for dense input. lazy: only the rows (features) the step's rows use, and everything above the first layer: the optimizer's lazy step (LazyAdam's semantics: a row's moments and momentum move only on the steps that touch it), L2 and decoupled weight decay on the touched weights only. The same bits as dense for plain SGD without L2 or decay; otherwise a different run, usually as accurate and far cheaper for wide sparse input (docs/sparse.md).").param("sparseUpdate"));

    public static final ConfigKey<Integer> TRAIN_LOCAL_STEPS = add(ConfigKey.<Integer>of("train.local-steps", Kind.INT, "64", "1",
                "Local SGD: each partition takes this many mini-batch steps on its own rows (its share of each global batch, with the configured optimizer) from the broadcast weights and optimizer state; then weights and state are averaged, weighted by each partition's rows. 1 is exact synchronous SGD: one gradient exchange per global batch. The default, 64, reached 97% MNIST test accuracy several times sooner than 1 and ended 10 epochs as accurate (docs/local-sgd.md).").param("localSteps")
            .valid(v -> v >= 1, "must be at least 1 (1 = synchronous SGD)"));

    public static final ConfigKey<String> TRAIN_SHUFFLE = add(ConfigKey.choice("train.shuffle", "partition", List.of("partition", "window"),
                "The order of each partition's rows within an epoch. partition: a uniform permutation of all the partition's rows, with the partition cached as one block; best when the training data fits in Spark's storage memory (every exchange reads the whole block, from disk when it was spilled). window: the data cached as chunks of data.chunk-bytes; each epoch visits a partition's chunks in a seeded order and shuffles the rows of train.shuffle-buffer chunks at a time (a shuffle buffer, as tf.data's and Petastorm's), so each chunk is read once per epoch: for data larger than storage memory. Both are deterministic; they are different runs. See docs/out-of-core.md.").resume(Resume.MUST_MATCH).param("shuffle"));

    public static final ConfigKey<Integer> TRAIN_SHUFFLE_BUFFER = add(ConfigKey.<Integer>of("train.shuffle-buffer", Kind.INT, "4", "8",
                "With train.shuffle = window: the shuffle buffer, in chunks; a window of this many chunks is shuffled together, and each executor keeps one decoded window per partition (about this times data.chunk-bytes of memory each). Larger mixes better. Unused with train.shuffle = partition.").resume(Resume.MUST_MATCH).param("shuffleBuffer")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<String> TRAIN_EARLY_STOPPING_METRIC = add(ConfigKey.choice("train.early-stopping.metric", "none", List.of("none", "val_loss", "val_accuracy", "val_rmse", "val_mae", "train_loss"),
                "Stop when this validation metric has not improved for train.early-stopping.patience epochs, and keep the best epoch's weights as the model; none trains every epoch. The val_ metrics need validation data; val_accuracy is for classification, val_rmse and val_mae for regression. train_loss (the epoch's mean mini-batch loss) needs none: with patience 1 and a small min-delta it is a convergence test, like MLlib's tol.").param("earlyStoppingMetric"));

    public static final ConfigKey<Integer> TRAIN_EARLY_STOPPING_PATIENCE = add(ConfigKey.<Integer>of("train.early-stopping.patience", Kind.INT, "3", "5",
                "Epochs in a row without improvement before early stopping stops, at least 1.").param("earlyStoppingPatience")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<Double> TRAIN_EARLY_STOPPING_MIN_DELTA = add(ConfigKey.<Double>of("train.early-stopping.min-delta", Kind.DOUBLE, "0", "0.001",
                "An epoch improves only when it beats the best value by more than this (>= 0).").param("earlyStoppingMinDelta")
            .valid(v -> v >= 0, "must be >= 0"));

    public static final ConfigKey<String> TRAIN_AGGREGATION = add(ConfigKey.choice("train.aggregation", "auto", List.of("auto", "tree", "reduce-scatter"),
                "How the partitions' results (a step's gradient sums, or a local-SGD round's weights and optimizer state) are summed. tree: a partition-ordered treeAggregate of depth train.aggregation-depth, one stage; the driver receives every partition's result (from 6 partitions on at depth 2, about √P merged ones). reduce-scatter: a shuffle keyed by parameter slice, each slice summed on an executor in the tree's order, two stages; the driver receives one result whatever the partition count. auto: tree in local mode (no network to save), while the tree brings the driver at most 2 results or results under 1 MiB, and with train.sparse-update = lazy (results of touched rows, merged row-sparse; the reduce-scatter slices their dense form); reduce-scatter otherwise. All three give bit-identical weights (docs/scaling.md).").resume(Resume.HARMLESS));

    public static final ConfigKey<Integer> TRAIN_AGGREGATION_DEPTH = add(ConfigKey.<Integer>of("train.aggregation-depth", Kind.INT, "2", "2",
                "Depth of the aggregation tree (as treeAggregate's depth), at least 1; with train.aggregation = reduce-scatter, the order each slice is summed in, so both give the same bits.")
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<String> TRAIN_EXCHANGE_PRECISION = add(ConfigKey.choice("train.exchange-precision", "float64", List.of("float64", "float32"),
                "The wire format of what an exchange ships: the weights (and a local-SGD round's optimizer state) the driver broadcasts, and the gradient sums (or weights and state) the partitions send back. float64: as they are. float32: each value rounded to the nearest float, half the bytes; the driver keeps its weights and optimizer state in double (master weights) and sums the rounded values in double, in the same fixed order, so runs stay bit-reproducible and tree and reduce-scatter still agree. A different run from float64 (about 7 significant digits per exchange); values beyond float's range (3.4e38) become infinities, which train.non-finite handles. The reduce-scatter's summed slices come back in double (they are sums: rounding them would part it from the tree). Changing it at resume is allowed with a warning, as for train.precision: the rest of the run differs from an uninterrupted one. docs/scaling.md."));

    public static final ConfigKey<String> TRAIN_NON_FINITE = add(ConfigKey.choice("train.non-finite", "fail", List.of("fail", "skip", "rollback"),
                "A non-finite loss or gradient: fail (stop naming the step; the last checkpoint stays intact), skip (drop that update; stop after train.non-finite.max-skips in a row) or rollback (reload the last checkpoint and multiply the learning rate by train.non-finite.rollback-factor).").resume(Resume.HARMLESS));

    public static final ConfigKey<Integer> TRAIN_NON_FINITE_MAX_SKIPS = add(ConfigKey.<Integer>of("train.non-finite.max-skips", Kind.INT, "5", "3",
                "skip: consecutive skipped steps, and rollback: rollbacks in a row, tolerated before stopping.").resume(Resume.HARMLESS)
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<Double> TRAIN_NON_FINITE_ROLLBACK_FACTOR = add(ConfigKey.<Double>of("train.non-finite.rollback-factor", Kind.DOUBLE, "0.5", "0.5",
                "rollback: the learning rate is multiplied by this after each rollback, in (0, 1).").resume(Resume.HARMLESS)
            .valid(v -> v > 0 && v < 1, "must be in (0, 1)"));

    public static final ConfigKey<Integer> TRAIN_MAX_JOB_RETRIES = add(ConfigKey.<Integer>of("train.max-job-retries", Kind.INT, "0", "3",
                "When a Spark job fails (after Spark's own task retries), reload the last checkpoint and go on, at most this many times.").resume(Resume.HARMLESS).param("maxJobRetries")
            .valid(v -> v >= 0, "must be >= 0"));

    public static final ConfigKey<String> CHECKPOINT_DIR = add(ConfigKey.<String>of("checkpoint.dir", Kind.PATH, "", "hdfs:///user/me/runs/mnist-1/checkpoints",
                "Where checkpoints go, any Hadoop URI; empty means <run-dir>/checkpoints (for the estimators: no checkpoints). A command-line run owns this directory and resumes from it. Estimator fits may share one: each keeps its state in the subdirectory fit-<hash> named by its run key (every setting that is not harmless to resume with, the epoch count, the starting weights and the data's fingerprints; the key is written beside as run-key.txt) and resumes only that, so the fits of a model-selection grid never resume one another.").resume(Resume.HARMLESS).param("checkpointDir"));

    public static final ConfigKey<Integer> CHECKPOINT_EVERY_STEPS = add(ConfigKey.<Integer>of("checkpoint.every-steps", Kind.INT, "0", "200",
                "Also checkpoint every this many steps, at the end of the exchange (the local-SGD round) that reaches them (0: only at the end of each epoch, which always happens).").resume(Resume.HARMLESS).param("checkpointInterval")
            .valid(v -> v >= 0, "must be >= 0 (0 = epoch ends only)"));

    public static final ConfigKey<Integer> CHECKPOINT_KEEP = add(ConfigKey.<Integer>of("checkpoint.keep", Kind.INT, "3", "3",
                "How many valid checkpoints to keep; older ones are deleted once a newer one is complete.").resume(Resume.HARMLESS)
            .valid(v -> v >= 1, "must be at least 1"));

    public static final ConfigKey<String> CHECKPOINT_ON_FAILURE = add(ConfigKey.choice("checkpoint.on-failure", "fail", List.of("fail", "warn"),
                "A checkpoint that cannot be written (permissions, full disk, file system down): fail the run, or warn and go on. The previous checkpoint stays valid either way.").resume(Resume.HARMLESS));

    public static final ConfigKey<Integer> CHECKPOINT_WRITER_TIMEOUT = add(ConfigKey.<Integer>of("checkpoint.writer-timeout", Kind.INT, "60", "120",
                "Seconds. A run claims its run directory and checkpoint directory (an estimator fit: its fit-<hash>) with a file WRITER naming it (Spark application id and attempt, host, pid, start time) and renews the file's modification time every sixth of this. Another run is refused at once while the claim is fresher than this, and takes it over (logged) once it is older (its owner died); a later YARN attempt of the same application takes it over at once. The hosts' clocks must agree to well within it.").resume(Resume.HARMLESS)
            .valid(v -> v >= 1, "must be at least 1"));

    private ConfigSchema() {
    }

    private static <T> ConfigKey<T> add(ConfigKey<T> key) {
        KEYS.put(key.name(), key);
        return key;
    }

    /** Every key, in documentation order. */
    public static Map<String, ConfigKey<?>> keys() {
        return java.util.Collections.unmodifiableMap(KEYS);
    }

    /**
     * What changing {@code key} between a checkpoint and a resume under {@code now} means: the key's
     * declared {@link Resume} rule, except that more or fewer epochs change the trajectory under a
     * cosine schedule, whose length follows the epoch count.
     */
    public static Resume resumeRule(ConfigKey<?> key, JobConfig now) {
        if (key == TRAIN_EPOCHS && "cosine".equals(now.get(TRAIN_SCHEDULE.name()))) {
            return Resume.TRAJECTORY;
        }
        if ((key == DATA_CHUNK_BYTES || key == TRAIN_SHUFFLE_BUFFER) && "partition".equals(now.get(TRAIN_SHUFFLE.name()))) {
            return Resume.HARMLESS; // unused in partition mode; a change of train.shuffle itself must match
        }
        return key.resume();
    }

    /**
     * Whether {@code key} is part of what makes an estimator fit one run
     * ({@code checkpoint.RunKey}): two fits that differ in it keep separate checkpoints, and neither
     * resumes the other's. That is every key whose change is not {@link Resume#HARMLESS} (what is
     * trained, and its trajectory: the learning rate, L2, dropout, ...), and {@link #TRAIN_EPOCHS}
     * ({@code maxIter}). More epochs are harmless to a resumed command-line run, which goes on where
     * it stopped; but a fit's result is its last epoch, so fits of 3 and of 6 epochs are different
     * runs, and sharing a store would let the longer one prune the shorter one's final state. The
     * other harmless keys (where and how often checkpoints are written, job retries, fault
     * policies, the command line's test and validation files) do not split a run.
     */
    public static boolean definesRun(ConfigKey<?> key) {
        return key == TRAIN_EPOCHS || key.resume() != Resume.HARMLESS;
    }

    /** The key named {@code name}, or an error listing the valid keys. */
    public static ConfigKey<?> key(String name) {
        ConfigKey<?> key = KEYS.get(name);
        if (key == null) {
            throw new IllegalArgumentException("Unknown config key '" + name + "'" + suggestion(name)
                    + "; valid keys: " + String.join(", ", KEYS.keySet()));
        }
        return key;
    }

    private static String suggestion(String name) {
        String best = nearest(name);
        return best != null ? " (did you mean '" + best + "'?)" : "";
    }

    /** The declared key nearest to {@code name} (at most 3 edits away), or null. */
    static String nearest(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : KEYS.keySet()) {
            int d = editDistance(name, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return bestDistance <= 3 ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    /** {@code conf/reference.conf}: every key with its description, valid values and default. */
    public static String renderReference() {
        StringBuilder sb = new StringBuilder();
        sb.append("# sparkprop configuration reference: every key, its meaning and its default.\n")
          .append("# Generated from io.sparkprop.spark.config.ConfigSchema; a test keeps this file in step.\n")
          .append("# Format: one 'key = value' per line. '#' starts a comment at the start of a line or after\n")
          .append("# whitespace ('a = b  # note' sets b; 'a = b#c' sets b#c). A value in double quotes is taken\n")
          .append("# as it is, '#' and all ('a = \"b #c\"  # note' sets b #c); inside the quotes \\\" is a quote and\n")
          .append("# \\\\ a backslash. Override any key as Spark conf with spark.sparkprop.<key> (spark-submit\n")
          .append("# --conf spark.sparkprop.train.epochs=5), and on the command line with --set key=value: the\n")
          .append("# file < Spark conf < --set. Unknown keys are errors. Relative paths in a config file are\n")
          .append("# relative to the file's directory; in Spark conf and --set, to the default file system's\n")
          .append("# working directory (locally, the working directory). A run's config.conf holds every path as\n")
          .append("# the full URI it read, and quotes the values that need it, so it reads back to the same run.\n");
        String section = "";
        for (ConfigKey<?> key : KEYS.values()) {
            String prefix = key.name().substring(0, key.name().indexOf('.'));
            if (!prefix.equals(section)) {
                section = prefix;
                sb.append("\n# ---- ").append(section).append("\n");
            }
            sb.append("\n# ").append(key.description()).append('\n');
            if (!key.choices().isEmpty()) {
                sb.append("# One of: ").append(String.join(", ", key.choices())).append('\n');
            }
            sb.append("# Example: ").append(key.name()).append(" = ").append(key.example()).append('\n');
            sb.append(key.name()).append(key.defaultValue().isEmpty() ? " =" : " = " + key.defaultValue()).append('\n');
        }
        return sb.toString();
    }
}
