package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.Map;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;

/**
 * sparkprop as a Spark ML estimator: a multilayer perceptron classifier trained by the same engine
 * as {@code scripts/sparkprop train} ({@link DistributedTrainer}: mini-batch SGD, momentum or Adam,
 * local SGD, deterministic). A drop-in for MLlib's {@code MultilayerPerceptronClassifier}: the same
 * {@code layers}, {@code maxIter} (epochs here), {@code seed}, {@code stepSize} (the learning rate)
 * and columns; plus ReLU/tanh hidden layers, Adam, batch size, L2, local steps and a validation
 * split.
 *
 * <p>The data stays in the input's partitions and order: each partition of
 * {@code (features, label, weight)} becomes one cached block, so the same input and seed give the
 * same model bit for bit. Labels are class indices {@code 0..K-1} with {@code K} the last layer size.
 */
public final class MlpClassifier extends ProbabilisticClassifier<Vector, MlpClassifier, MlpClassificationModel>
        implements MlpEstimatorParams<MlpClassifier>, MLWritable {

    private static final long serialVersionUID = 1L;

    /**
     * Not final and without an initializer on purpose: Spark's inherited params (featuresCol, …) are
     * built during the superclass constructor and ask for {@link #uid()} then, before a Java
     * constructor body can run; {@link UidHandoff} hands the uid over in time.
     */
    private String uid;
    private final ParamSet params;

    public MlpClassifier() {
        this(Identifiable$.MODULE$.randomUID("sparkpropMlp"));
    }

    public MlpClassifier(String uid) {
        this(UidHandoff.offer(uid));
    }

    private MlpClassifier(UidHandoff handoff) {
        super();
        uid = UidHandoff.take(uid);
        params = new ParamSet(this, "classes");
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

    @Override
    public MlpClassificationModel train(Dataset<?> dataset) {
        TrainingConfig settings = trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        MlpClassificationModel model = copyValues(new MlpClassificationModel(uid(),
                MlpTraining.fit(dataset, this, settings, $(featuresCol()), $(labelCol()))), ParamMap.empty());
        model.createSummary(dataset, getWeightCol());
        return model;
    }

    @Override
    public MlpClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    /** Reads an estimator saved with {@link #write()}. */
    public static MLReader<MlpClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static MlpClassifier load(String path) {
        return read().load(path);
    }
}
