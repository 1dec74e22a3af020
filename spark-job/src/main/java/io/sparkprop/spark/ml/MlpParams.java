package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.JobSettings;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.ml.linalg.Vector;
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

    @SuppressWarnings("unchecked")
    private <T> S with(Param<T> param, T value) {
        set(param, value);
        return (S) this;
    }

    /**
     * The training settings these params stand for, as the command line's config keys;
     * {@code task} is {@code classification} or {@code regression}.
     */
    default JobSettings settings(String task) {
        if (!isDefined(layers())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs layers, e.g. setLayers(new int[]"
                    + " {784, 256, 10})");
        }
        return JobSettings.from(JobConfig.defaults().withOverrides(List.of("model.task=" + task,
                "model.layers=" + Arrays.stream($(layers())).mapToObj(Integer::toString)
                        .collect(Collectors.joining(",")),
                "model.hidden-activation=" + $(hiddenActivation()).replace('_', '-'),
                "train.optimizer=" + $(optimizer()), "train.learning-rate=" + $(stepSize()),
                "train.batch-size=" + $(batchSize()), "train.epochs=" + $(maxIter()), "train.seed=" + $(seed()),
                "train.l2=" + $(regParam()), "train.local-steps=" + $(localSteps()),
                "train.early-stopping.metric=" + $(earlyStoppingMetric()),
                "train.early-stopping.patience=" + $(earlyStoppingPatience()),
                "train.early-stopping.min-delta=" + $(earlyStoppingMinDelta()))));
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
        final DoubleParam validationFraction;
        final Param<String> weightCol;
        final Param<String> validationIndicatorCol;
        final Param<String> earlyStoppingMetric;
        final IntParam earlyStoppingPatience;
        final DoubleParam earlyStoppingMinDelta;
        final Param<Vector> initialWeights;

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
            validationFraction = new DoubleParam(stage, "validationFraction", "fraction of rows held out for"
                    + " per-epoch validation metrics, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
            weightCol = new Param<>(stage, "weightCol", "sample weight column; empty for weight 1");
            validationIndicatorCol = new Param<>(stage, "validationIndicatorCol", "a boolean column: true rows are"
                    + " the validation data (instead of validationFraction); empty for none");
            earlyStoppingMetric = new Param<>(stage, "earlyStoppingMetric", "stop when this validation metric stops"
                    + " improving and keep the best epoch's weights: none, val_loss, val_accuracy, val_rmse or val_mae"
                    + " (needs validationFraction > 0 or validationIndicatorCol)", ParamValidators.inArray(new String[] {"none", "val_loss",
                            "val_accuracy", "val_rmse", "val_mae"}));
            earlyStoppingPatience = new IntParam(stage, "earlyStoppingPatience", "epochs in a row without improvement"
                    + " before stopping (>= 1)", ParamValidators.gtEq(1));
            earlyStoppingMinDelta = new DoubleParam(stage, "earlyStoppingMinDelta", "the least change that counts as"
                    + " an improvement (>= 0)", ParamValidators.gtEq(0));
            initialWeights = new Param<>(stage, "initialWeights", "weights to start from instead of the seeded"
                    + " initialization, in the core's flat layout (a fitted model's weights())");
            stage.setDefault(hiddenActivation, "relu");
            stage.setDefault(optimizer, "adam");
            stage.setDefault(stepSize, 0.001);
            stage.setDefault(batchSize, 128);
            stage.setDefault(maxIter, 10);
            stage.setDefault(seed, 42L);
            stage.setDefault(regParam, 0.0);
            stage.setDefault(localSteps, JobConfig.defaults().getInt("train.local-steps"));
            stage.setDefault(validationFraction, 0.0);
            stage.setDefault(weightCol, "");
            stage.setDefault(validationIndicatorCol, "");
            stage.setDefault(earlyStoppingMetric, "none");
            stage.setDefault(earlyStoppingPatience, 3);
            stage.setDefault(earlyStoppingMinDelta, 0.0);
        }
    }
}
