package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.regression.Regressor;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;

/**
 * sparkprop as a Spark ML regressor: a multilayer perceptron with one linear output trained on
 * squared error by the command line's engine. Same params as {@link MlpClassifier} ({@link MlpParams});
 * {@code layers} ends in 1.
 */
public final class MlpRegressor extends Regressor<Vector, MlpRegressor, MlpRegressionModel>
        implements MlpEstimatorParams<MlpRegressor>, MLWritable {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final ParamSet params;
    private final Param<String> outputActivation;

    public MlpRegressor() {
        this(Identifiable$.MODULE$.randomUID("sparkpropMlpReg"));
    }

    public MlpRegressor(String uid) {
        this(UidHandoff.offer(uid));
    }

    private MlpRegressor(UidHandoff handoff) {
        super();
        uid = UidHandoff.take(uid);
        params = new ParamSet(this, "1 (the one output)");
        outputActivation = new Param<>(this, "outputActivation", "the output's activation: identity, sigmoid, tanh,"
                + " relu or leaky_relu (for targets in a known range)", ParamValidators.inArray(new String[] {"identity",
                        "sigmoid", "tanh", "relu", "leaky_relu"}));
        setDefault(outputActivation, "identity");
    }

    @Override
    public String uid() {
        if (uid == null) {
            uid = UidHandoff.peek();
        }
        return uid;
    }

    @Override
    public ParamSet mlpParams() {
        return params;
    }

    public Param<String> outputActivation() {
        return outputActivation;
    }

    public MlpRegressor setOutputActivation(String value) {
        set(outputActivation, value);
        return this;
    }

    @Override
    public MlpRegressionModel train(Dataset<?> dataset) {
        TrainingConfig settings = trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "regression",
                ConfigSchema.MODEL_OUTPUT_ACTIVATION, $(outputActivation).replace('_', '-')));
        if (settings.spec().outputSize() != 1) {
            throw new IllegalArgumentException("MlpRegressor predicts one value: layers must end in 1 but end in "
                    + settings.spec().outputSize());
        }
        MlpRegressionModel model = copyValues(new MlpRegressionModel(uid(),
                MlpTraining.fit(dataset, this, settings, $(featuresCol()), $(labelCol()))), ParamMap.empty());
        model.createSummary(dataset, getWeightCol());
        return model;
    }

    @Override
    public MlpRegressor copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    /** Reads an estimator saved with {@link #write()}. */
    public static MLReader<MlpRegressor> read() {
        return new DefaultParamsReader<>();
    }

    public static MlpRegressor load(String path) {
        return read().load(path);
    }
}
