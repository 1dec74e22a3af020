package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.regression.RegressionModel;
import org.apache.spark.ml.util.HasTrainingSummary;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * A trained {@link MlpRegressor}: a Spark ML {@code Transformer} that adds the {@code prediction}
 * column. Saved like {@link MlpClassificationModel} ({@link FittedNetwork}); keeps the training history.
 */
public final class MlpRegressionModel extends RegressionModel<Vector, MlpRegressionModel>
        implements MlpParams, MLWritable, HasTrainingSummary<MlpRegressionTrainingSummary> {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final FittedNetwork network;
    private final ParamSet params;
    /** The training summary; driver-side, so not serialized (null after deserialization: none). */
    private transient Option<MlpRegressionTrainingSummary> trainingSummary = Option.empty();

    MlpRegressionModel(String uid, FittedNetwork network) {
        this(UidHandoff.offer(uid), network);
    }

    private MlpRegressionModel(UidHandoff handoff, FittedNetwork network) {
        super();
        this.uid = UidHandoff.take(uid);
        this.network = network;
        params = new ParamSet(this, "1 (the one output)");
    }

    @Override
    public ParamSet mlpParams() {
        return params;
    }

    @Override
    public String uid() {
        if (uid == null) {
            uid = UidHandoff.peek();
        }
        return uid;
    }

    public NetworkSpec spec() {
        return network.spec;
    }

    /**
     * The trained weights in MLlib's layout (a copy): per layer its {@code (out, in)} weight matrix
     * column-major, then its biases, the layout of MLlib's MLPC {@code weights()} and of
     * {@code initialWeights} (see {@link MllibLayout}).
     */
    public Vector weights() {
        return Vectors.dense(MllibLayout.toMllib(network.spec, network.params));
    }

    /** The layer sizes, input first. */
    @Override
    public int[] getLayers() {
        return network.spec.sizes();
    }

    /**
     * Writes this model as an ONNX model at {@code path} (any Hadoop URI; an existing file is
     * replaced), float32: input {@code features (batch, numFeatures)}, output {@code prediction}
     * {@code (batch, outputs)}; opset 13 (README, "Export to ONNX"). The features go in as this
     * model takes them: the estimators do not scale features.
     */
    public void exportOnnx(String path) {
        exportOnnx(path, "float32");
    }

    /** {@link #exportOnnx(String)} with the graph's element type, {@code float32} or {@code float64}. */
    public void exportOnnx(String path, String precision) {
        network.exportOnnx(path, precision);
    }

    public MlpRegressionModel setBlockSize(int value) {
        set(blockSize(), (Object) value);
        return this;
    }

    /**
     * Adds the {@code prediction} column, the values {@link #predict} gives, computed
     * {@code blockSize} rows at a time with the weights broadcast once rather than shipped in
     * every task.
     */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = transformSchema(dataset.schema(), true);
        if ($(predictionCol()).isEmpty()) {
            return dataset.toDF();
        }
        return network.transform(dataset, $(featuresCol()), getBlockSize(), List.of(schema.apply($(predictionCol()))),
                (logits, output) -> new Object[] {output[0]});
    }

    /**
     * The regression summary of this model on {@code dataset}'s {@code featuresCol} and
     * {@code labelCol}: RMSE, MSE, MAE, R², explained variance with MLlib's names and meaning
     * (computed by MLlib's {@code RegressionMetrics} when first asked, rows unweighted).
     * {@link #metrics(Dataset)} has sparkprop's metrics (the mean loss) beside these.
     */
    public MlpRegressionSummary evaluate(Dataset<?> dataset) {
        return new MlpRegressionSummary(summaryModel().transform(dataset), summaryPredictionCol(), $(labelCol()), "");
    }

    /**
     * The training summary: {@link #evaluate}'s metrics on the dataset the model was fitted on,
     * weighted by the fit's {@code weightCol} when it had one, and {@code objectiveHistory}: the objective
     * at the starting weights, then each epoch's mean training loss (L2 term included). A model fitted here has one; a loaded model
     * has none, as in MLlib.
     *
     * @throws org.apache.spark.SparkException if {@link #hasSummary()} is false
     */
    @Override
    public MlpRegressionTrainingSummary summary() {
        return HasTrainingSummary.super.summary();
    }

    @Override
    public Option<MlpRegressionTrainingSummary> trainingSummary() {
        return trainingSummary == null ? Option.empty() : trainingSummary;
    }

    @Override
    public void trainingSummary_$eq(Option<MlpRegressionTrainingSummary> value) {
        trainingSummary = value;
    }

    /** Sets the training summary on {@code dataset}, the fit's input ({@code weightCol} empty for none). */
    void createSummary(Dataset<?> dataset, String weightCol) {
        setSummary(Option.apply(new MlpRegressionTrainingSummary(summaryModel().transform(dataset),
                summaryPredictionCol(), $(labelCol()), weightCol, network.objectiveHistory())));
    }

    /** This model, or a copy with a prediction column when {@code predictionCol} is empty (as MLlib's summaries do). */
    private MlpRegressionModel summaryModel() {
        return $(predictionCol()).isEmpty() ? copy(ParamMap.empty()).setPredictionCol(summaryPredictionCol()) : this;
    }

    private String summaryPredictionCol() {
        return $(predictionCol()).isEmpty() ? "prediction_" + uid() : $(predictionCol());
    }

    /**
     * sparkprop's metrics of this model on {@code dataset}'s {@code featuresCol} and
     * {@code labelCol}, as {@code scripts/sparkprop evaluate} reports them: the mean loss, RMSE, MAE
     * and R² ({@code toText()} and {@code toJson()} print them). One pass on the executors.
     */
    public EvaluationMetrics metrics(Dataset<?> dataset) {
        return metrics(dataset, false);
    }

    /** {@link #metrics(Dataset)}, with {@code sparse} blocks of the features' nonzeros (for wide inputs). */
    public EvaluationMetrics metrics(Dataset<?> dataset, boolean sparse) {
        return network.evaluate(dataset, $(featuresCol()), $(labelCol()), true, sparse);
    }

    /** Training's per-epoch metrics. */
    public List<EpochMetrics> history() {
        return network.history;
    }

    @Override
    public int numFeatures() {
        return network.spec.inputSize();
    }

    @Override
    public double predict(Vector features) {
        return network.forward(features)[0];
    }

    @Override
    public MlpRegressionModel copy(ParamMap extra) {
        MlpRegressionModel copied = copyValues(new MlpRegressionModel(uid, network), extra).setParent(parent());
        copied.setSummary(trainingSummary());
        return copied;
    }

    @Override
    public MLWriter write() {
        MlpRegressionModel model = this;
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                network.save(sparkSession(), path, model);
            }
        };
    }

    /** Reads a model saved with {@link #write()}. */
    public static MLReader<MlpRegressionModel> read() {
        return new MLReader<>() {
            @Override
            public MlpRegressionModel load(String path) {
                FittedNetwork.Loaded loaded = FittedNetwork.load(sparkSession(), path, MlpRegressionModel.class);
                MlpRegressionModel model = new MlpRegressionModel(loaded.metadata().uid(), loaded.network());
                loaded.metadata().getAndSetParams(model, Option.empty());
                return model;
            }
        };
    }

    public static MlpRegressionModel load(String path) {
        return read().load(path);
    }
}
