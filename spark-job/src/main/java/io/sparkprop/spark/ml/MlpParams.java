package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.ConfigKey;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.TrainingConfig;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import scala.runtime.AbstractFunction1;

/**
 * The training params shared by {@link MlpClassifier} and {@link MlpRegressor} and their fitted
 * models, with their getters, as MLlib's {@code MultilayerPerceptronParams} are shared by MLPC and
 * its model: a fit copies its values onto the model, so {@code bestModel.getStepSize()} reads what
 * a model was trained with. The estimators' setters are in {@link MlpEstimatorParams}. Spark ML finds params through public no-argument methods returning a
 * {@code Param}, which default methods are; the {@code Param} objects themselves live in each
 * stage's {@link ParamSet}, made once the stage's uid is known from the config keys that name an
 * estimator param ({@link ConfigKey#param()}): their docs, defaults and checks are the keys'.
 * {@link #trainingConfig} hands the typed values to {@link TrainingConfig#from}, the same
 * constructor the config file goes through.
 *
 * Public because Spark invokes the getters by reflection; the estimators are the API.
 */
public interface MlpParams extends Params {

    /** The stage's param objects. */
    ParamSet mlpParams();

    default IntArrayParam layers() {
        return (IntArrayParam) mlpParams().get("layers");
    }

    @SuppressWarnings("unchecked")
    default Param<String> hiddenActivation() {
        return (Param<String>) mlpParams().get("hiddenActivation");
    }

    @SuppressWarnings("unchecked")
    default Param<String> optimizer() {
        return (Param<String>) mlpParams().get("optimizer");
    }

    default DoubleParam stepSize() {
        return (DoubleParam) mlpParams().get("stepSize");
    }

    default IntParam batchSize() {
        return (IntParam) mlpParams().get("batchSize");
    }

    default IntParam maxIter() {
        return (IntParam) mlpParams().get("maxIter");
    }

    default LongParam seed() {
        return (LongParam) mlpParams().get("seed");
    }

    default DoubleParam regParam() {
        return (DoubleParam) mlpParams().get("regParam");
    }

    default BooleanParam sparse() {
        return (BooleanParam) mlpParams().get("sparse");
    }

    default IntParam numPartitions() {
        return (IntParam) mlpParams().get("numPartitions");
    }

    @SuppressWarnings("unchecked")
    default Param<String> reportDir() {
        return (Param<String>) mlpParams().get("reportDir");
    }

    @SuppressWarnings("unchecked")
    default Param<String> precision() {
        return (Param<String>) mlpParams().get("precision");
    }

    @SuppressWarnings("unchecked")
    default Param<String> sparseUpdate() {
        return (Param<String>) mlpParams().get("sparseUpdate");
    }

    @SuppressWarnings("unchecked")
    default Param<String> shuffle() {
        return (Param<String>) mlpParams().get("shuffle");
    }

    default IntParam shuffleBuffer() {
        return (IntParam) mlpParams().get("shuffleBuffer");
    }

    default LongParam chunkBytes() {
        return (LongParam) mlpParams().get("chunkBytes");
    }

    default IntParam localSteps() {
        return (IntParam) mlpParams().get("localSteps");
    }

    default DoubleParam validationFraction() {
        return (DoubleParam) mlpParams().get("validationFraction");
    }

    @SuppressWarnings("unchecked")
    default Param<String> weightCol() {
        return (Param<String>) mlpParams().get("weightCol");
    }

    @SuppressWarnings("unchecked")
    default Param<String> validationIndicatorCol() {
        return (Param<String>) mlpParams().get("validationIndicatorCol");
    }

    @SuppressWarnings("unchecked")
    default Param<String> earlyStoppingMetric() {
        return (Param<String>) mlpParams().get("earlyStoppingMetric");
    }

    default IntParam earlyStoppingPatience() {
        return (IntParam) mlpParams().get("earlyStoppingPatience");
    }

    default DoubleParam earlyStoppingMinDelta() {
        return (DoubleParam) mlpParams().get("earlyStoppingMinDelta");
    }

    @SuppressWarnings("unchecked")
    default Param<Vector> initialWeights() {
        return (Param<Vector>) mlpParams().get("initialWeights");
    }

    default DoubleParam momentum() {
        return (DoubleParam) mlpParams().get("momentum");
    }

    default DoubleParam adamBeta1() {
        return (DoubleParam) mlpParams().get("adamBeta1");
    }

    default DoubleParam adamBeta2() {
        return (DoubleParam) mlpParams().get("adamBeta2");
    }

    default DoubleParam adamEpsilon() {
        return (DoubleParam) mlpParams().get("adamEpsilon");
    }

    default DoubleParam weightDecay() {
        return (DoubleParam) mlpParams().get("weightDecay");
    }

    default DoubleParam clipNorm() {
        return (DoubleParam) mlpParams().get("clipNorm");
    }

    @SuppressWarnings("unchecked")
    default Param<String> schedule() {
        return (Param<String>) mlpParams().get("schedule");
    }

    default DoubleParam scheduleGamma() {
        return (DoubleParam) mlpParams().get("scheduleGamma");
    }

    default IntParam scheduleStepEpochs() {
        return (IntParam) mlpParams().get("scheduleStepEpochs");
    }

    default DoubleParam minStepSize() {
        return (DoubleParam) mlpParams().get("minStepSize");
    }

    default IntParam warmupSteps() {
        return (IntParam) mlpParams().get("warmupSteps");
    }

    @SuppressWarnings("unchecked")
    default Param<String> checkpointDir() {
        return (Param<String>) mlpParams().get("checkpointDir");
    }

    default IntParam checkpointInterval() {
        return (IntParam) mlpParams().get("checkpointInterval");
    }

    default IntParam maxJobRetries() {
        return (IntParam) mlpParams().get("maxJobRetries");
    }

    @SuppressWarnings("unchecked")
    default Param<String> initialModel() {
        return (Param<String>) mlpParams().get("initialModel");
    }

    @SuppressWarnings("unchecked")
    default Param<String> solver() {
        return (Param<String>) mlpParams().get("solver");
    }

    default IntParam blockSize() {
        return (IntParam) mlpParams().get("blockSize");
    }

    default DoubleParam tol() {
        return (DoubleParam) mlpParams().get("tol");
    }

    default DoubleArrayParam dropout() {
        return (DoubleArrayParam) mlpParams().get("dropout");
    }

    default double[] getDropout() {
        return $(dropout());
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

    default String getSparseUpdate() {
        return $(sparseUpdate());
    }

    default String getShuffle() {
        return $(shuffle());
    }

    default int getShuffleBuffer() {
        return (Integer) $(shuffleBuffer());
    }

    default long getChunkBytes() {
        return (Long) $(chunkBytes());
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

    /**
     * The training configuration these params stand for: each param that sets a config key
     * ({@link ConfigKey#param()}) hands over its typed value, every other key keeps its default, and
     * {@code overrides} (the estimator's own: the task, say) come last. MLlib's {@code solver} and
     * {@code tol} map to the optimizer and to early stopping on the training loss. Errors name the
     * param, the value and what is valid.
     */
    default TrainingConfig trainingConfig(Map<ConfigKey<?>, Object> overrides) {
        if (!isDefined(layers())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs layers, e.g. setLayers(new int[]"
                    + " {784, 256, 10})");
        }
        Map<ConfigKey<?>, Object> fixed = new LinkedHashMap<>(overrides);
        Map<ConfigKey<?>, String> why = new LinkedHashMap<>();
        for (ConfigKey<?> key : overrides.keySet()) {
            why.put(key, getClass().getSimpleName());
        }
        String optimizerName = $(optimizer());
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
            fixed.put(ConfigSchema.TRAIN_OPTIMIZER, "sgd");
            why.put(ConfigSchema.TRAIN_OPTIMIZER, "param solver=gd");
            if (!isSet(stepSize())) {
                fixed.put(ConfigSchema.TRAIN_LEARNING_RATE, 0.03); // MLlib's default for gd
                why.put(ConfigSchema.TRAIN_LEARNING_RATE, "param solver=gd (MLlib's stepSize)");
            }
        }
        if (isSet(tol())) {
            String stopMetric = $(earlyStoppingMetric());
            if (!stopMetric.equals("none")) {
                throw new IllegalArgumentException("tol (" + $(tol()) + ") stops on the training loss but"
                        + " earlyStoppingMetric is " + stopMetric + "; set one of them");
            }
            fixed.put(ConfigSchema.TRAIN_EARLY_STOPPING_METRIC, "train_loss");
            fixed.put(ConfigSchema.TRAIN_EARLY_STOPPING_PATIENCE, 1);
            fixed.put(ConfigSchema.TRAIN_EARLY_STOPPING_MIN_DELTA, $(tol()));
            for (ConfigKey<?> key : List.of(ConfigSchema.TRAIN_EARLY_STOPPING_METRIC,
                    ConfigSchema.TRAIN_EARLY_STOPPING_PATIENCE, ConfigSchema.TRAIN_EARLY_STOPPING_MIN_DELTA)) {
                why.put(key, "param tol");
            }
        }
        return TrainingConfig.from(new ParamsSource(this, fixed, why));
    }

    /**
     * One stage's param objects: one per config key with an estimator param
     * ({@link ConfigKey#param()}), documented and defaulted as {@link ConfigSchema} declares it and
     * validated by the key's own check, plus the estimator-only params.
     */
    final class ParamSet implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Map<String, Param<?>> byName = new LinkedHashMap<>();

        /** Params owned by {@code stage} (whose uid must be set), with their defaults set on it. */
        ParamSet(Params stage, String lastLayer) {
            for (ConfigKey<?> key : ConfigSchema.keys().values()) {
                if (key.param() != null && key != ConfigSchema.MODEL_OUTPUT_ACTIVATION) {
                    add(stage, key, key == ConfigSchema.MODEL_LAYERS ? "layer sizes, input first and " + lastLayer
                            + " last" : null);
                }
            }
            put(new Param<String>(stage, "validationIndicatorCol", "a boolean column: true rows are the validation"
                    + " data (instead of validationFraction); empty for none"));
            put(new Param<String>(stage, "reportDir", "a Hadoop file system directory for the fit's report:"
                    + " config.conf, metrics.jsonl, learning curves, the confusion heatmap and report.html, as"
                    + " scripts/sparkprop train writes; empty for none"));
            put(new Param<Vector>(stage, "initialWeights", "weights to start from instead of the seeded"
                    + " initialization, in MLlib's layout: per layer its (out, in) weight matrix column-major,"
                    + " then its biases (an MLlib MLPC model's or a fitted model's weights())"));
            put(new Param<String>(stage, "initialModel", "a saved model to start from: a fitted model's save"
                    + " path or a model.spm of scripts/sparkprop train; empty for the seeded initialization"));
            put(new Param<String>(stage, "solver", "MLlib compatibility: gd trains with plain SGD (and stepSize 0.03,"
                    + " MLlib's default, unless set); l-bfgs is refused. Unset: the optimizer param decides",
                    ParamValidators.inArray(new String[] {"gd", "l-bfgs"})));
            put(new IntParam(stage, "blockSize", "MLlib compatibility: rows per matrix when predicting (>= 1);"
                    + " training stacks each partition's mini-batch slice whatever its size", ParamValidators.gtEq(1)));
            put(new DoubleParam(stage, "tol", "MLlib compatibility: stop when an epoch's training loss improves by"
                    + " less than tol, keeping the best epoch (early stopping on train_loss, patience 1); unset: off",
                    ParamValidators.gtEq(0)));
            setDefault(stage, get("validationIndicatorCol"), "");
            setDefault(stage, get("reportDir"), "");
            setDefault(stage, get("initialModel"), "");
            setDefault(stage, get("blockSize"), 128);
        }

        /** The param named {@code name}. */
        Param<?> get(String name) {
            Param<?> param = byName.get(name);
            if (param == null) {
                throw new IllegalArgumentException("No param " + name + "; params: " + byName.keySet());
            }
            return param;
        }

        private void put(Param<?> param) {
            byName.put(param.name(), param);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private void add(Params stage, ConfigKey<?> key, String doc) {
            String name = key.param();
            String text = (doc != null ? doc : key.description() + (key.choices().isEmpty() ? ""
                    : " One of: " + String.join(", ", ParamsSource.paramChoices(key)) + "."))
                    + " (Config key " + key.name() + ".)";
            KeyValidator valid = new KeyValidator(key.name());
            Param param = switch (key.kind()) {
                case INT -> new IntParam(stage, name, text, valid);
                case LONG -> new LongParam(stage, name, text, valid);
                case DOUBLE -> new DoubleParam(stage, name, text, valid);
                case BOOLEAN -> new BooleanParam(stage, name, text);
                case INT_LIST -> new IntArrayParam(stage, name, text);
                case DOUBLE_LIST -> new DoubleArrayParam(stage, name, text, (scala.Function1) valid);
                case STRING, PATH, CHOICE -> new Param(stage, name, text, valid);
                case STRING_LIST -> throw new AssertionError("no estimator param for list key " + key.name());
            };
            put(param);
            Object defaultValue = ParamsSource.toParam(key, key.defaultTyped());
            if (defaultValue == null && (key.kind() == ConfigKey.Kind.STRING || key.kind() == ConfigKey.Kind.PATH)) {
                defaultValue = "";
            }
            if (defaultValue != null) {
                setDefault(stage, param, defaultValue);
            }
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static void setDefault(Params stage, Param param, Object value) {
            stage.setDefault(param, value);
        }
    }

    /** A param's validator: the config key's own check (and, for choices, its choices). */
    final class KeyValidator extends AbstractFunction1<Object, Object> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String keyName;

        KeyValidator(String keyName) {
            this.keyName = keyName;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Object apply(Object value) {
            ConfigKey<Object> key = (ConfigKey<Object>) ConfigSchema.key(keyName);
            if (key.kind() == ConfigKey.Kind.CHOICE) {
                return ParamsSource.paramChoices(key).contains(value);
            }
            Object typed = ParamsSource.fromParam(key, value);
            return typed == null || key.valid().test(typed);
        }
    }
}
