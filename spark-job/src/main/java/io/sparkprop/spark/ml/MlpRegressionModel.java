package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.regression.RegressionModel;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

/**
 * A trained {@link MlpRegressor}: a Spark ML {@code Transformer} that adds the {@code prediction}
 * column. Saved like {@link MlpClassificationModel} ({@link MlpModelIO}); keeps the training history.
 */
public final class MlpRegressionModel extends RegressionModel<Vector, MlpRegressionModel> implements MLWritable {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final NetworkSpec spec;
    private final double[] params;
    /** Driver-side only: not shipped with the prediction closure. */
    private final transient List<EpochMetrics> history;
    private transient ThreadLocal<Workspace> workspaces;

    MlpRegressionModel(String uid, NetworkSpec spec, double[] params, List<EpochMetrics> history) {
        this(UidHandoff.offer(uid), spec, params, history);
    }

    private MlpRegressionModel(UidHandoff handoff, NetworkSpec spec, double[] params, List<EpochMetrics> history) {
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

    public NetworkSpec spec() {
        return spec;
    }

    /** A copy of the trained weights, in the core's flat layout. */
    public double[] weights() {
        return params.clone();
    }

    /** Training's per-epoch metrics. */
    public List<EpochMetrics> history() {
        return history;
    }

    @Override
    public int numFeatures() {
        return spec.inputSize();
    }

    @Override
    public double predict(Vector features) {
        if (workspaces == null) {
            workspaces = ThreadLocal.withInitial(() -> new Workspace(spec, 1));
        }
        return MlpModelIO.forward(spec, params, workspaces.get(), features)[0];
    }

    @Override
    public MlpRegressionModel copy(ParamMap extra) {
        return copyValues(new MlpRegressionModel(uid, spec, params, history), extra).setParent(parent());
    }

    @Override
    public MLWriter write() {
        MlpRegressionModel model = this;
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                MlpModelIO.save(sparkSession(), path, model, spec, params, history);
            }
        };
    }

    /** Reads a model saved with {@link #write()}. */
    public static MLReader<MlpRegressionModel> read() {
        return new MLReader<>() {
            @Override
            public MlpRegressionModel load(String path) {
                MlpModelIO.Loaded loaded = MlpModelIO.load(sparkSession(), path, MlpRegressionModel.class);
                MlpRegressionModel model = new MlpRegressionModel(loaded.metadata().uid(), loaded.model().spec(),
                        loaded.model().params(), loaded.history());
                loaded.metadata().getAndSetParams(model, Option.empty());
                return model;
            }
        };
    }

    public static MlpRegressionModel load(String path) {
        return read().load(path);
    }
}
