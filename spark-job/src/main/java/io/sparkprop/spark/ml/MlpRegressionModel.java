package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.train.EpochMetrics;
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
 * column. Saved like {@link MlpClassificationModel} ({@link FittedNetwork}); keeps the training history.
 */
public final class MlpRegressionModel extends RegressionModel<Vector, MlpRegressionModel> implements MLWritable {

    private static final long serialVersionUID = 1L;

    /** Not final: see {@link UidHandoff}. */
    private String uid;
    private final FittedNetwork network;

    MlpRegressionModel(String uid, FittedNetwork network) {
        this(UidHandoff.offer(uid), network);
    }

    private MlpRegressionModel(UidHandoff handoff, FittedNetwork network) {
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

    public NetworkSpec spec() {
        return network.spec;
    }

    /** A copy of the trained weights, in the core's flat layout. */
    public double[] weights() {
        return network.params.clone();
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
        return copyValues(new MlpRegressionModel(uid, network), extra).setParent(parent());
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
