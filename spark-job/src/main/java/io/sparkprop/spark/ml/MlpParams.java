package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.JobSettings;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;

/**
 * The training params shared by {@link MlpClassifier} and {@link MlpRegressor}, with their
 * getters and setters. Spark ML finds params through public no-argument methods returning a
 * {@code Param}, which default methods are; the {@code Param} objects themselves live in each
 * stage's {@link ParamSet}, made once the stage's uid is known.
 *
 * Public because Spark invokes the getters by reflection; the estimators are the API.
 *
 * @param <S> the stage, so that setters chain
 */
public interface MlpParams<S extends MlpParams<S>> extends Params {

    /** The stage's param objects. */
    ParamSet mlpParams();

    default IntArrayParam layers() {
        return mlpParams().layers;
    }

    default Param<String> hiddenActivation() {
        return mlpParams().hiddenActivation;
    }

    default Param<String> optimizer() {
        return mlpParams().optimizer;
    }

    default DoubleParam stepSize() {
        return mlpParams().stepSize;
    }

    default IntParam batchSize() {
        return mlpParams().batchSize;
    }

    default IntParam maxIter() {
        return mlpParams().maxIter;
    }

    default LongParam seed() {
        return mlpParams().seed;
    }

    default DoubleParam regParam() {
        return mlpParams().regParam;
    }

    default BooleanParam sparse() {
        return mlpParams().sparse;
    }

    default IntParam numPartitions() {
        return mlpParams().numPartitions;
    }

    default Param<String> reportDir() {
        return mlpParams().reportDir;
    }

    default Param<String> precision() {
        return mlpParams().precision;
    }

    default IntParam localSteps() {
        return mlpParams().localSteps;
    }

    default DoubleParam validationFraction() {
        return mlpParams().validationFraction;
    }

    default Param<String> weightCol() {
        return mlpParams().weightCol;
    }

    default Param<String> validationIndicatorCol() {
        return mlpParams().validationIndicatorCol;
    }

    default Param<String> earlyStoppingMetric() {
        return mlpParams().earlyStoppingMetric;
    }

    default IntParam earlyStoppingPatience() {
        return mlpParams().earlyStoppingPatience;
    }

    default DoubleParam earlyStoppingMinDelta() {
        return mlpParams().earlyStoppingMinDelta;
    }

    default Param<Vector> initialWeights() {
        return mlpParams().initialWeights;
    }

    default DoubleParam momentum() {
        return mlpParams().momentum;
    }

    default DoubleParam adamBeta1() {
        return mlpParams().adamBeta1;
    }

    default DoubleParam adamBeta2() {
        return mlpParams().adamBeta2;
    }

    default DoubleParam adamEpsilon() {
        return mlpParams().adamEpsilon;
    }

    default DoubleParam weightDecay() {
        return mlpParams().weightDecay;
    }

    default DoubleParam clipNorm() {
        return mlpParams().clipNorm;
    }

    default Param<String> schedule() {
        return mlpParams().schedule;
    }

    default DoubleParam scheduleGamma() {
        return mlpParams().scheduleGamma;
    }

    default IntParam scheduleStepEpochs() {
        return mlpParams().scheduleStepEpochs;
    }

    default DoubleParam minStepSize() {
        return mlpParams().minStepSize;
    }

    default IntParam warmupSteps() {
        return mlpParams().warmupSteps;
    }

    default Param<String> checkpointDir() {
        return mlpParams().checkpointDir;
    }

    default IntParam checkpointInterval() {
        return mlpParams().checkpointInterval;
    }

    default IntParam maxJobRetries() {
        return mlpParams().maxJobRetries;
    }

    default Param<String> initialModel() {
        return mlpParams().initialModel;
    }

    default Param<String> solver() {
        return mlpParams().solver;
    }

    default IntParam blockSize() {
        return mlpParams().blockSize;
    }

    default DoubleParam tol() {
        return mlpParams().tol;
    }

    default S setLayers(int[] value) {
        return with(layers(), value);
    }

    default S setHiddenActivation(String value) {
        return with(hiddenActivation(), value);
    }

    default S setOptimizer(String value) {
        return with(optimizer(), value);
    }

    default S setStepSize(double value) {
        return with(stepSize(), value);
    }

    default S setBatchSize(int value) {
        return with(batchSize(), value);
    }

    default S setMaxIter(int value) {
        return with(maxIter(), value);
    }

    default S setSeed(long value) {
        return with(seed(), value);
    }

    default S setRegParam(double value) {
        return with(regParam(), value);
    }

    default S setSparse(boolean value) {
        return with(sparse(), value);
    }

    default S setNumPartitions(int value) {
        return with(numPartitions(), value);
    }

    default S setReportDir(String value) {
        return with(reportDir(), value);
    }

    default S setPrecision(String value) {
        return with(precision(), value);
    }

    default S setLocalSteps(int value) {
        return with(localSteps(), value);
    }

    default S setValidationFraction(double value) {
        return with(validationFraction(), value);
    }

    default S setWeightCol(String value) {
        return with(weightCol(), value);
    }

    default S setValidationIndicatorCol(String value) {
        return with(validationIndicatorCol(), value);
    }

    default S setEarlyStoppingMetric(String value) {
        return with(earlyStoppingMetric(), value);
    }

    default S setEarlyStoppingPatience(int value) {
        return with(earlyStoppingPatience(), value);
    }

    default S setEarlyStoppingMinDelta(double value) {
        return with(earlyStoppingMinDelta(), value);
    }

    default S setInitialWeights(Vector value) {
        return with(initialWeights(), value);
    }

    default S setMomentum(double value) {
        return with(momentum(), value);
    }

    default S setAdamBeta1(double value) {
        return with(adamBeta1(), value);
    }

    default S setAdamBeta2(double value) {
        return with(adamBeta2(), value);
    }

    default S setAdamEpsilon(double value) {
        return with(adamEpsilon(), value);
    }

    default S setWeightDecay(double value) {
        return with(weightDecay(), value);
    }

    default S setClipNorm(double value) {
        return with(clipNorm(), value);
    }

    default S setSchedule(String value) {
        return with(schedule(), value);
    }

    default S setScheduleGamma(double value) {
        return with(scheduleGamma(), value);
    }

    default S setScheduleStepEpochs(int value) {
        return with(scheduleStepEpochs(), value);
    }

    default S setMinStepSize(double value) {
        return with(minStepSize(), value);
    }

    default S setWarmupSteps(int value) {
        return with(warmupSteps(), value);
    }

    default S setCheckpointDir(String value) {
        return with(checkpointDir(), value);
    }

    default S setCheckpointInterval(int value) {
        return with(checkpointInterval(), value);
    }

    default S setMaxJobRetries(int value) {
        return with(maxJobRetries(), value);
    }

    default S setInitialModel(String value) {
        return with(initialModel(), value);
    }

    default S setSolver(String value) {
        return with(solver(), value);
    }

    default S setBlockSize(int value) {
        return with(blockSize(), value);
    }

    default S setTol(double value) {
        return with(tol(), value);
    }

    default int[] getLayers() {
        return $(layers());
    }

    default String getHiddenActivation() {
        return $(hiddenActivation());
    }

    default String getOptimizer() {
        return $(optimizer());
    }

    default double getStepSize() {
        return (Double) $(stepSize());
    }

    default int getBatchSize() {
        return (Integer) $(batchSize());
    }

    default int getMaxIter() {
        return (Integer) $(maxIter());
    }

    default long getSeed() {
        return (Long) $(seed());
    }

    default double getRegParam() {
        return (Double) $(regParam());
    }

    default boolean getSparse() {
        return (Boolean) $(sparse());
    }

    default int getNumPartitions() {
        return (Integer) $(numPartitions());
    }

    default String getReportDir() {
        return $(reportDir());
    }

    default String getPrecision() {
        return $(precision());
    }

    default int getLocalSteps() {
        return (Integer) $(localSteps());
    }

    default double getValidationFraction() {
        return (Double) $(validationFraction());
    }

    default String getWeightCol() {
        return $(weightCol());
    }

    default String getValidationIndicatorCol() {
        return $(validationIndicatorCol());
    }

    default String getEarlyStoppingMetric() {
        return $(earlyStoppingMetric());
    }

    default int getEarlyStoppingPatience() {
        return (Integer) $(earlyStoppingPatience());
    }

    default double getEarlyStoppingMinDelta() {
        return (Double) $(earlyStoppingMinDelta());
    }

    default Vector getInitialWeights() {
        return $(initialWeights());
    }

    default double getMomentum() {
        return (Double) $(momentum());
    }

    default double getAdamBeta1() {
        return (Double) $(adamBeta1());
    }

    default double getAdamBeta2() {
        return (Double) $(adamBeta2());
    }

    default double getAdamEpsilon() {
        return (Double) $(adamEpsilon());
    }

    default double getWeightDecay() {
        return (Double) $(weightDecay());
    }

    default double getClipNorm() {
        return (Double) $(clipNorm());
    }

    default String getSchedule() {
        return $(schedule());
    }

    default double getScheduleGamma() {
        return (Double) $(scheduleGamma());
    }

    default int getScheduleStepEpochs() {
        return (Integer) $(scheduleStepEpochs());
    }

    default double getMinStepSize() {
        return (Double) $(minStepSize());
    }

    default int getWarmupSteps() {
        return (Integer) $(warmupSteps());
    }

    default String getCheckpointDir() {
        return $(checkpointDir());
    }

    default int getCheckpointInterval() {
        return (Integer) $(checkpointInterval());
    }

    default int getMaxJobRetries() {
        return (Integer) $(maxJobRetries());
    }

    default String getInitialModel() {
        return $(initialModel());
    }

    default String getSolver() {
        return $(solver());
    }

    default int getBlockSize() {
        return (Integer) $(blockSize());
    }

    default double getTol() {
        return (Double) $(tol());
    }

    @SuppressWarnings("unchecked")
    private <T> S with(Param<T> param, T value) {
        set(param, value);
        return (S) this;
    }

    /**
     * The training settings these params stand for, as the command line's config keys;
     * {@code task} is {@code classification} or {@code regression}; {@code extra} are more
     * {@code key=value} overrides.
     */
    default JobSettings settings(String task, String... extra) {
        if (!isDefined(layers())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs layers, e.g. setLayers(new int[]"
                    + " {784, 256, 10})");
        }
        String optimizerName = $(optimizer());
        double learningRate = (Double) $(stepSize());
        if (isSet(solver())) {
            if ($(solver()).equals("l-bfgs")) {
                throw new IllegalArgumentException("solver=l-bfgs: sparkprop trains with mini-batch optimizers and has"
                        + " no L-BFGS; leave solver unset to train with " + optimizerName + " (the optimizer param),"
                        + " or set solver=gd for plain SGD");
            }
            if (isSet(optimizer()) && !optimizerName.equals("sgd")) {
                throw new IllegalArgumentException("solver=gd means optimizer sgd but optimizer is set to "
                        + optimizerName + "; set one of them");
            }
            optimizerName = "sgd";
            if (!isSet(stepSize())) {
                learningRate = 0.03;
            }
        }
        String stopMetric = $(earlyStoppingMetric());
        int patience = (Integer) $(earlyStoppingPatience());
        double minDelta = (Double) $(earlyStoppingMinDelta());
        if (isSet(tol())) {
            if (!stopMetric.equals("none")) {
                throw new IllegalArgumentException("tol (" + $(tol()) + ") stops on the training loss but"
                        + " earlyStoppingMetric is " + stopMetric + "; set one of them");
            }
            stopMetric = "train_loss";
            patience = 1;
            minDelta = (Double) $(tol());
        }
        List<String> overrides = new java.util.ArrayList<>(List.of("model.task=" + task,
                "model.layers=" + Arrays.stream($(layers())).mapToObj(Integer::toString)
                        .collect(Collectors.joining(",")),
                "model.hidden-activation=" + $(hiddenActivation()).replace('_', '-'),
                "train.optimizer=" + optimizerName, "train.learning-rate=" + learningRate,
                "train.batch-size=" + $(batchSize()), "train.epochs=" + $(maxIter()), "train.seed=" + $(seed()),
                "train.l2=" + $(regParam()), "train.local-steps=" + $(localSteps()),
                "train.precision=" + $(precision()), "data.sparse=" + $(sparse()),
                "train.momentum=" + $(momentum()), "train.adam.beta1=" + $(adamBeta1()),
                "train.adam.beta2=" + $(adamBeta2()), "train.adam.epsilon=" + $(adamEpsilon()),
                "train.clip-norm=" + $(clipNorm()), "train.schedule=" + $(schedule()),
                "train.schedule.gamma=" + $(scheduleGamma()), "train.schedule.step-epochs=" + $(scheduleStepEpochs()),
                "train.schedule.min-learning-rate=" + $(minStepSize()), "train.warmup-steps=" + $(warmupSteps()),
                "train.early-stopping.metric=" + stopMetric, "train.early-stopping.patience=" + patience,
                "train.early-stopping.min-delta=" + minDelta, "train.max-job-retries=" + $(maxJobRetries()),
                "checkpoint.every-steps=" + $(checkpointInterval())));
        if (isDefined(weightDecay())) {
            overrides.add("train.weight-decay=" + $(weightDecay()));
        }
        if (!$(checkpointDir()).isEmpty()) {
            overrides.add("checkpoint.dir=" + $(checkpointDir()));
        }
        overrides.addAll(List.of(extra));
        return JobSettings.from(JobConfig.defaults().withOverrides(overrides));
    }

    /** One stage's param objects and their defaults. */
    final class ParamSet {
        final IntArrayParam layers;
        final Param<String> hiddenActivation;
        final Param<String> optimizer;
        final DoubleParam stepSize;
        final IntParam batchSize;
        final IntParam maxIter;
        final LongParam seed;
        final DoubleParam regParam;
        final IntParam localSteps;
        final Param<String> precision;
        final Param<String> reportDir;
        final IntParam numPartitions;
        final BooleanParam sparse;
        final DoubleParam validationFraction;
        final Param<String> weightCol;
        final Param<String> validationIndicatorCol;
        final Param<String> earlyStoppingMetric;
        final IntParam earlyStoppingPatience;
        final DoubleParam earlyStoppingMinDelta;
        final Param<Vector> initialWeights;
        final DoubleParam momentum;
        final DoubleParam adamBeta1;
        final DoubleParam adamBeta2;
        final DoubleParam adamEpsilon;
        final DoubleParam weightDecay;
        final DoubleParam clipNorm;
        final Param<String> schedule;
        final DoubleParam scheduleGamma;
        final IntParam scheduleStepEpochs;
        final DoubleParam minStepSize;
        final IntParam warmupSteps;
        final Param<String> checkpointDir;
        final IntParam checkpointInterval;
        final IntParam maxJobRetries;
        final Param<String> initialModel;
        final Param<String> solver;
        final IntParam blockSize;
        final DoubleParam tol;

        /** Params owned by {@code stage} (whose uid must be set), with their defaults set on it. */
        ParamSet(Params stage, String lastLayer) {
            layers = new IntArrayParam(stage, "layers", "layer sizes, input first and " + lastLayer + " last");
            hiddenActivation = new Param<>(stage, "hiddenActivation", "hidden layers' activation: relu, leaky_relu,"
                    + " tanh, sigmoid or identity", ParamValidators.inArray(new String[] {"relu", "leaky_relu", "tanh",
                            "sigmoid", "identity"}));
            optimizer = new Param<>(stage, "optimizer", "sgd, momentum, nesterov, adam or adamw",
                    ParamValidators.inArray(new String[] {"sgd", "momentum", "nesterov", "adam", "adamw"}));
            stepSize = new DoubleParam(stage, "stepSize", "learning rate (> 0)", ParamValidators.gt(0));
            batchSize = new IntParam(stage, "batchSize", "global mini-batch size (>= 1)", ParamValidators.gtEq(1));
            maxIter = new IntParam(stage, "maxIter", "epochs (>= 1)", ParamValidators.gtEq(1));
            seed = new LongParam(stage, "seed", "the seed of initial weights, shuffles and the validation split");
            regParam = new DoubleParam(stage, "regParam", "L2 strength λ (>= 0)", ParamValidators.gtEq(0));
            localSteps = new IntParam(stage, "localSteps", "local SGD steps per exchange; 1 is synchronous SGD",
                    ParamValidators.gtEq(1));
            sparse = new BooleanParam(stage, "sparse", "keep only each row's nonzero"
                    + " features and compute the first layer from them (for wide, mostly-zero features)");
            numPartitions = new IntParam(stage, "numPartitions", "train on at most this many partitions, merging"
                    + " neighbouring input partitions without a shuffle (a DataFrame after a join has 200); 0 keeps the"
                    + " input's partitions", ParamValidators.gtEq(0));
            reportDir = new Param<>(stage, "reportDir", "a Hadoop file system directory for the fit's report:"
                    + " config.conf, metrics.jsonl, learning curves, the confusion heatmap and report.html, as"
                    + " scripts/sparkprop train writes; empty for none");
            precision = new Param<>(stage, "precision", "the arithmetic of training's matrix products: float64, or"
                    + " float32 (single-precision products, double weights, optimizer and loss)",
                    ParamValidators.inArray(new String[] {"float64", "float32"}));
            validationFraction = new DoubleParam(stage, "validationFraction", "fraction of rows held out for"
                    + " per-epoch validation metrics, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
            weightCol = new Param<>(stage, "weightCol", "sample weight column; empty for weight 1");
            validationIndicatorCol = new Param<>(stage, "validationIndicatorCol", "a boolean column: true rows are"
                    + " the validation data (instead of validationFraction); empty for none");
            earlyStoppingMetric = new Param<>(stage, "earlyStoppingMetric", "stop when this validation metric stops"
                    + " improving and keep the best epoch's weights: none, val_loss, val_accuracy, val_rmse, val_mae"
                    + " (these need validationFraction > 0 or validationIndicatorCol) or train_loss", ParamValidators.inArray(new String[] {"none", "val_loss",
                            "val_accuracy", "val_rmse", "val_mae", "train_loss"}));
            earlyStoppingPatience = new IntParam(stage, "earlyStoppingPatience", "epochs in a row without improvement"
                    + " before stopping (>= 1)", ParamValidators.gtEq(1));
            earlyStoppingMinDelta = new DoubleParam(stage, "earlyStoppingMinDelta", "the least change that counts as"
                    + " an improvement (>= 0)", ParamValidators.gtEq(0));
            initialWeights = new Param<>(stage, "initialWeights", "weights to start from instead of the seeded"
                    + " initialization, in the core's flat layout (a fitted model's weights())");
            momentum = new DoubleParam(stage, "momentum", "momentum and nesterov: the momentum coefficient in [0, 1)",
                    ParamValidators.inRange(0, 1, true, false));
            adamBeta1 = new DoubleParam(stage, "adamBeta1", "adam and adamw: decay of the first moment, in [0, 1)",
                    ParamValidators.inRange(0, 1, true, false));
            adamBeta2 = new DoubleParam(stage, "adamBeta2", "adam and adamw: decay of the second moment, in [0, 1)",
                    ParamValidators.inRange(0, 1, true, false));
            adamEpsilon = new DoubleParam(stage, "adamEpsilon", "adam and adamw: added to the root of the second"
                    + " moment (> 0)", ParamValidators.gt(0));
            weightDecay = new DoubleParam(stage, "weightDecay", "decoupled weight decay (>= 0); unset: 0.01 for adamw,"
                    + " 0 otherwise", ParamValidators.gtEq(0));
            clipNorm = new DoubleParam(stage, "clipNorm", "clip the gradient to this global L2 norm; 0 for no"
                    + " clipping", ParamValidators.gtEq(0));
            schedule = new Param<>(stage, "schedule", "learning-rate schedule over epochs: constant, step, exponential"
                    + " or cosine", ParamValidators.inArray(new String[] {"constant", "step", "exponential", "cosine"}));
            scheduleGamma = new DoubleParam(stage, "scheduleGamma", "step and exponential: the decay factor in (0, 1]",
                    ParamValidators.inRange(0, 1, false, true));
            scheduleStepEpochs = new IntParam(stage, "scheduleStepEpochs", "step: epochs between decays (>= 1)",
                    ParamValidators.gtEq(1));
            minStepSize = new DoubleParam(stage, "minStepSize", "cosine: the final learning rate (>= 0)",
                    ParamValidators.gtEq(0));
            warmupSteps = new IntParam(stage, "warmupSteps", "linear learning-rate warm-up over this many steps (>= 0)",
                    ParamValidators.gtEq(0));
            checkpointDir = new Param<>(stage, "checkpointDir", "a Hadoop file system directory for checkpoints;"
                    + " a fit finding a checkpoint of the same data and params there resumes from it; empty for none");
            checkpointInterval = new IntParam(stage, "checkpointInterval", "with checkpointDir: global steps between"
                    + " checkpoints (rounded up to a local-SGD round); 0 checkpoints at each epoch's end only",
                    ParamValidators.gtEq(0));
            maxJobRetries = new IntParam(stage, "maxJobRetries", "restarts from the newest checkpoint (or the start)"
                    + " after a failed Spark job (>= 0)", ParamValidators.gtEq(0));
            initialModel = new Param<>(stage, "initialModel", "a saved model to start from: a fitted model's save"
                    + " path or a model.spm of scripts/sparkprop train; empty for the seeded initialization");
            solver = new Param<>(stage, "solver", "MLlib compatibility: gd trains with plain SGD (and stepSize 0.03,"
                    + " MLlib's default, unless set); l-bfgs is refused. Unset: the optimizer param decides",
                    ParamValidators.inArray(new String[] {"gd", "l-bfgs"}));
            blockSize = new IntParam(stage, "blockSize", "MLlib compatibility: rows per matrix when predicting (>= 1);"
                    + " training stacks each partition's mini-batch slice whatever its size", ParamValidators.gtEq(1));
            tol = new DoubleParam(stage, "tol", "MLlib compatibility: stop when an epoch's training loss improves by"
                    + " less than tol, keeping the best epoch (early stopping on train_loss, patience 1); unset: off",
                    ParamValidators.gtEq(0));
            stage.setDefault(hiddenActivation, "relu");
            stage.setDefault(optimizer, "adam");
            stage.setDefault(stepSize, 0.001);
            stage.setDefault(batchSize, 128);
            stage.setDefault(maxIter, 10);
            stage.setDefault(seed, 42L);
            stage.setDefault(regParam, 0.0);
            stage.setDefault(localSteps, JobConfig.defaults().getInt("train.local-steps"));
            stage.setDefault(precision, JobConfig.defaults().get("train.precision"));
            stage.setDefault(sparse, false);
            stage.setDefault(reportDir, "");
            stage.setDefault(numPartitions, 0);
            stage.setDefault(validationFraction, 0.0);
            stage.setDefault(weightCol, "");
            stage.setDefault(validationIndicatorCol, "");
            stage.setDefault(earlyStoppingMetric, "none");
            stage.setDefault(earlyStoppingPatience, 3);
            stage.setDefault(earlyStoppingMinDelta, 0.0);
            JobConfig defaults = JobConfig.defaults();
            stage.setDefault(momentum, defaults.getDouble("train.momentum"));
            stage.setDefault(adamBeta1, defaults.getDouble("train.adam.beta1"));
            stage.setDefault(adamBeta2, defaults.getDouble("train.adam.beta2"));
            stage.setDefault(adamEpsilon, defaults.getDouble("train.adam.epsilon"));
            stage.setDefault(clipNorm, defaults.getDouble("train.clip-norm"));
            stage.setDefault(schedule, defaults.get("train.schedule"));
            stage.setDefault(scheduleGamma, defaults.getDouble("train.schedule.gamma"));
            stage.setDefault(scheduleStepEpochs, defaults.getInt("train.schedule.step-epochs"));
            stage.setDefault(minStepSize, defaults.getDouble("train.schedule.min-learning-rate"));
            stage.setDefault(warmupSteps, defaults.getInt("train.warmup-steps"));
            stage.setDefault(checkpointDir, "");
            stage.setDefault(checkpointInterval, defaults.getInt("checkpoint.every-steps"));
            stage.setDefault(maxJobRetries, defaults.getInt("train.max-job-retries"));
            stage.setDefault(initialModel, "");
            stage.setDefault(blockSize, 128);
        }
    }
}
