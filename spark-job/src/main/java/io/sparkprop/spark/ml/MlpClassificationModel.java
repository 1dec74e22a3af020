package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.ArrayList;
import java.util.Collections;
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
    private final NetworkSpec spec;
    private final double[] params;
    /** Driver-side only: not shipped with the prediction closure. */
    private final transient List<EpochMetrics> history;
    private transient ThreadLocal<Workspace> workspaces;

    MlpClassificationModel(String uid, NetworkSpec spec, double[] params, List<EpochMetrics> history) {
        this(UidHandoff.offer(uid), spec, params, history);
    }

    private MlpClassificationModel(UidHandoff handoff, NetworkSpec spec, double[] params, List<EpochMetrics> history) {
        super();
        this.uid = UidHandoff.take(uid);
        this.spec = spec;
        this.params = params;
        this.history = Collections.unmodifiableList(new ArrayList<>(history));
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
        return spec;
    }

    /** A copy of the trained weights, in the core's flat layout. */
    public double[] weights() {
        return params.clone();
    }

    /** Training's per-epoch metrics (loss, validation metrics, throughput, step times). */
    public List<EpochMetrics> history() {
        return history;
    }

    @Override
    public int numClasses() {
        return spec.outputSize();
    }

    @Override
    public int numFeatures() {
        return spec.inputSize();
    }

    @Override
    public Vector predictRaw(Vector features) {
        double[] probabilities = forward(features);
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

    /** The network's output (class probabilities) for one row. */
    private double[] forward(Vector features) {
        if (workspaces == null) {
            workspaces = ThreadLocal.withInitial(() -> new Workspace(spec, 1));
        }
        return MlpModelIO.forward(spec, params, workspaces.get(), features);
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
        return copyValues(new MlpClassificationModel(uid, spec, params, history), extra).setParent(parent());
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
            MlpModelIO.save(sparkSession(), path, model, model.spec, model.params, model.history);
        }
    }

    private static final class Reader extends MLReader<MlpClassificationModel> {
        @Override
        public MlpClassificationModel load(String path) {
            MlpModelIO.Loaded loaded = MlpModelIO.load(sparkSession(), path, MlpClassificationModel.class);
            MlpClassificationModel model = new MlpClassificationModel(loaded.metadata().uid(), loaded.model().spec(),
                    loaded.model().params(), loaded.history());
            loaded.metadata().getAndSetParams(model, Option.empty());
            return model;
        }
    }
}
