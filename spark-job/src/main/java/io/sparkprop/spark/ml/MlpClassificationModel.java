package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.List;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

/**
 * A trained {@link MlpClassifier}: a Spark ML {@code Transformer} that adds the standard
 * {@code rawPrediction} (log-probabilities), {@code probability} (the softmax output) and
 * {@code prediction} columns. It keeps the per-epoch training history.
 *
 * <p>Saved as Spark ML's metadata (params) plus the network in sparkprop's model format at
 * {@code <path>/data/model.spm}, and the history as {@code <path>/data/history.jsonl}; the same
 * model file {@code scripts/sparkprop evaluate} and {@code predict} read.
 */
public final class MlpClassificationModel extends ProbabilisticClassificationModel<Vector, MlpClassificationModel>
        implements MLWritable {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final FittedNetwork network;

    MlpClassificationModel(String uid, FittedNetwork network) {
        this(UidHandoff.offer(uid), network);
    }

    private MlpClassificationModel(UidHandoff handoff, FittedNetwork network) {
        super();
        this.uid = UidHandoff.take(uid);
        this.network = network;
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

    /** A copy of the trained weights, in the core's flat layout. */
    public double[] weights() {
        return network.params.clone();
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
        double[] probabilities = network.forward(features);
        double[] raw = new double[probabilities.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = Math.log(probabilities[i]);
        }
        return Vectors.dense(raw);
    }

    @Override
    public Vector raw2probabilityInPlace(Vector rawPrediction) {
        double[] values = ((DenseVector) rawPrediction).values();
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.exp(values[i] - max);
            sum += values[i];
        }
        for (int i = 0; i < values.length; i++) {
            values[i] /= sum;
        }
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
        return copyValues(new MlpClassificationModel(uid, network), extra).setParent(parent());
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
