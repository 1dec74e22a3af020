package io.sparkprop.spark.ml;

import io.sparkprop.core.Activation;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationSummary;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationSummaryImpl;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationTrainingSummary;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationTrainingSummaryImpl;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.HasTrainingSummary;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * A trained {@link MlpClassifier}: a Spark ML {@code Transformer} that adds the standard columns
 * with MLlib's MLPC meaning:
 * <ul>
 *   <li>{@code rawPrediction}: the logits, the output layer's pre-activation {@code a = b + W h}
 *       {@code (numClasses)}, finite for finite features even where a probability rounds to 0;
 *   <li>{@code probability}: {@code softmax(rawPrediction)}, computed stably (max subtracted);
 *   <li>{@code prediction}: the class of the largest logit, or with {@code thresholds} Spark's
 *       rule on the probabilities.
 * </ul>
 * It keeps the per-epoch training history.
 *
 * <p>Saved as Spark ML's metadata (params) plus the network in sparkprop's model format at
 * {@code <path>/data/model.spm}, and the history as {@code <path>/data/history.jsonl}; the same
 * model file {@code scripts/sparkprop evaluate} and {@code predict} read.
 */
public final class MlpClassificationModel extends ProbabilisticClassificationModel<Vector, MlpClassificationModel>
        implements MlpParams, MLWritable, HasTrainingSummary<MultilayerPerceptronClassificationTrainingSummary> {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final FittedNetwork network;
    private final ParamSet params;
    /** The training summary; driver-side, so not serialized (null after deserialization: none). */
    private transient Option<MultilayerPerceptronClassificationTrainingSummary> trainingSummary = Option.empty();

    MlpClassificationModel(String uid, FittedNetwork network) {
        this(UidHandoff.offer(uid), network);
    }

    private MlpClassificationModel(UidHandoff handoff, FittedNetwork network) {
        super();
        this.uid = UidHandoff.take(uid);
        if (network.spec.layer(network.spec.numLayers() - 1).activation() != Activation.SOFTMAX) {
            throw new IllegalArgumentException("A classification model needs a softmax output layer; "
                    + network.spec + " has " + network.spec.layer(network.spec.numLayers() - 1).activation());
        }
        this.network = network;
        params = new ParamSet(this, "classes");
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

    /** The network's topology. */
    public NetworkSpec spec() {
        return network.spec;
    }

    /**
     * The trained weights in MLlib's layout (a copy): per layer its {@code (out, in)} weight matrix
     * column-major, then its biases, as MLlib's {@code MultilayerPerceptronClassificationModel.weights()}
     * and {@code initialWeights} have them (see {@link MllibLayout}).
     */
    public Vector weights() {
        return Vectors.dense(MllibLayout.toMllib(network.spec, network.params));
    }

    /** The layer sizes, input first (MLlib's model has the same getter). */
    @Override
    public int[] getLayers() {
        return network.spec.sizes();
    }

    /**
     * Writes this model as an ONNX model at {@code path} (any Hadoop URI; an existing file is
     * replaced), float32: input {@code features (batch, numFeatures)}; outputs
     * {@code rawPrediction} (the logits, as {@link #predictRaw}) and {@code probability}
     * {@code (batch, numClasses)}, and {@code prediction (batch)} int64; opset 13 (README, "Export to
     * ONNX"). The features go in as this model takes them: the estimators do not scale features.
     */
    public void exportOnnx(String path) {
        exportOnnx(path, "float32");
    }

    /** {@link #exportOnnx(String)} with the graph's element type, {@code float32} or {@code float64}. */
    public void exportOnnx(String path, String precision) {
        network.exportOnnx(path, precision);
    }

    public MlpClassificationModel setBlockSize(int value) {
        set(blockSize(), (Object) value);
        return this;
    }

    /**
     * Adds the {@code rawPrediction}, {@code probability} and {@code prediction} columns (those
     * whose column names are not empty), with the values {@link #predictRaw}, {@link #predictProbability}
     * and {@link #predict} give, computed {@code blockSize} rows at a time with the weights
     * broadcast once rather than shipped in every task.
     */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = transformSchema(dataset.schema(), true);
        List<StructField> added = new ArrayList<>();
        boolean raw = !$(rawPredictionCol()).isEmpty();
        boolean probability = !$(probabilityCol()).isEmpty();
        boolean prediction = !$(predictionCol()).isEmpty();
        for (String column : new String[] {raw ? $(rawPredictionCol()) : "", probability ? $(probabilityCol()) : "",
                prediction ? $(predictionCol()) : ""}) {
            if (!column.isEmpty()) {
                added.add(schema.apply(column));
            }
        }
        if (added.isEmpty()) {
            return dataset.toDF();
        }
        double[] thresholds = isDefined(thresholds()) ? $(thresholds()) : null;
        return network.transform(dataset, $(featuresCol()), getBlockSize(), added,
                new ClassColumns(raw, probability, prediction, thresholds));
    }

    /** The classifier's columns from the softmax output, as Spark's per-row methods compute them. */
    private record ClassColumns(boolean raw, boolean probability, boolean prediction, double[] thresholds)
            implements FittedNetwork.Columns {

        @Override
        public Object[] of(double[] logits, double[] output) {
            Object[] values = new Object[(raw ? 1 : 0) + (probability ? 1 : 0) + (prediction ? 1 : 0)];
            int c = 0;
            if (raw) {
                values[c++] = Vectors.dense(logits);
            }
            double[] p = probability || (prediction && thresholds != null) ? Predictions.softmax(logits.clone()) : null;
            if (probability) {
                values[c++] = Vectors.dense(p);
            }
            if (prediction) {
                values[c] = thresholds == null ? (double) Predictions.argmax(logits) : (double) thresholdArgmax(p, thresholds);
            }
            return values;
        }
    }

    /** Spark's rule: the class whose probability over threshold is largest (a 0 threshold wins). */
    static int thresholdArgmax(double[] probability, double[] thresholds) {
        int best = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < probability.length; i++) {
            double scaled = probability[i] / thresholds[i];
            if (scaled > max) {
                max = scaled;
                best = i;
            }
        }
        return best;
    }

    /**
     * MLlib's classification summary of this model on {@code dataset}'s {@code featuresCol} and
     * {@code labelCol}, as MLPC's {@code evaluate} gives it: {@code accuracy}, the weighted and
     * per-label precision, recall, F-measure, true and false positive rates, and the
     * {@code predictions} they come from (computed by MLlib's {@code MulticlassMetrics} when first
     * asked, rows unweighted as in MLPC). {@link #metrics(Dataset)} has sparkprop's metrics (the
     * mean loss, the confusion matrix) beside these.
     */
    public MultilayerPerceptronClassificationSummary evaluate(Dataset<?> dataset) {
        @SuppressWarnings("rawtypes")
        scala.Tuple3 found = findSummaryModel();
        MlpClassificationModel summaryModel = (MlpClassificationModel) found._1();
        return new MultilayerPerceptronClassificationSummaryImpl(summaryModel.transform(dataset),
                (String) found._3(), $(labelCol()), "");
    }

    /**
     * The training summary: {@link #evaluate}'s metrics on the dataset the model was fitted on,
     * weighted by the fit's {@code weightCol} when it had one, and {@code objectiveHistory}, the
     * mean training loss (L2 term included) of each epoch, so {@code totalIterations} counts
     * epochs. A model fitted here has one; a loaded model has none, as in MLlib.
     *
     * @throws org.apache.spark.SparkException if {@link #hasSummary()} is false
     */
    @Override
    public MultilayerPerceptronClassificationTrainingSummary summary() {
        return HasTrainingSummary.super.summary();
    }

    @Override
    public Option<MultilayerPerceptronClassificationTrainingSummary> trainingSummary() {
        return trainingSummary == null ? Option.empty() : trainingSummary;
    }

    @Override
    public void trainingSummary_$eq(Option<MultilayerPerceptronClassificationTrainingSummary> value) {
        trainingSummary = value;
    }

    /** Sets the training summary on {@code dataset}, the fit's input ({@code weightCol} empty for none). */
    void createSummary(Dataset<?> dataset, String weightCol) {
        @SuppressWarnings("rawtypes")
        scala.Tuple3 found = findSummaryModel();
        MlpClassificationModel summaryModel = (MlpClassificationModel) found._1();
        setSummary(Option.apply(new MultilayerPerceptronClassificationTrainingSummaryImpl(
                summaryModel.transform(dataset), (String) found._3(), $(labelCol()), weightCol,
                network.objectiveHistory())));
    }

    /**
     * sparkprop's metrics of this model on {@code dataset}'s {@code featuresCol} and
     * {@code labelCol}, as {@code scripts/sparkprop evaluate} reports them: the mean loss,
     * accuracy, per-class precision, recall, F1 and support, and the confusion matrix
     * ({@code toText()} and {@code toJson()} print them). One pass over the data on the executors.
     */
    public EvaluationMetrics metrics(Dataset<?> dataset) {
        return metrics(dataset, false);
    }

    /** {@link #metrics(Dataset)}, with {@code sparse} blocks of the features' nonzeros (for wide inputs). */
    public EvaluationMetrics metrics(Dataset<?> dataset, boolean sparse) {
        return network.evaluate(dataset, $(featuresCol()), $(labelCol()), false, sparse);
    }

    /** Training's per-epoch metrics (loss, validation metrics, throughput, step times). */
    public List<EpochMetrics> history() {
        return network.history;
    }

    @Override
    public int numClasses() {
        return network.spec.outputSize();
    }

    @Override
    public int numFeatures() {
        return network.spec.inputSize();
    }

    @Override
    public Vector predictRaw(Vector features) {
        return Vectors.dense(network.logits(features));
    }

    @Override
    public Vector raw2probabilityInPlace(Vector rawPrediction) {
        Predictions.softmax(((DenseVector) rawPrediction).values());
        return rawPrediction;
    }

    /**
     * Spark's summary plumbing, declared by both ClassificationModel and
     * ProbabilisticClassificationModel with Scala's covariant tuple; Java needs it overridden once,
     * with the raw type that converts to both.
     */
    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public scala.Tuple3 findSummaryModel() {
        return super.findSummaryModel();
    }

    @Override
    public MlpClassificationModel copy(ParamMap extra) {
        MlpClassificationModel copied = copyValues(new MlpClassificationModel(uid, network), extra).setParent(parent());
        copied.setSummary(trainingSummary());
        return copied;
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Reads a model saved with {@link #write()}. */
    public static MLReader<MlpClassificationModel> read() {
        return new Reader();
    }

    public static MlpClassificationModel load(String path) {
        return read().load(path);
    }

    private static final class Writer extends MLWriter {
        private final MlpClassificationModel model;

        Writer(MlpClassificationModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            model.network.save(sparkSession(), path, model);
        }
    }

    private static final class Reader extends MLReader<MlpClassificationModel> {
        @Override
        public MlpClassificationModel load(String path) {
            FittedNetwork.Loaded loaded = FittedNetwork.load(sparkSession(), path, MlpClassificationModel.class);
            MlpClassificationModel model = new MlpClassificationModel(loaded.metadata().uid(), loaded.network());
            loaded.metadata().getAndSetParams(model, Option.empty());
            return model;
        }
    }
}
