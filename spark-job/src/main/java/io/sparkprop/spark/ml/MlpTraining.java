package io.sparkprop.spark.ml;

import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.BadRowException;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.session.SparkSettings;
import io.sparkprop.spark.session.TrainingSession;
import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link MlpClassifier} and {@link MlpRegressor} do in {@code train}: the estimators' door to
 * {@link TrainingSession}, with the DataFrame's partitions as they are (one cached block each, in
 * the partition's row order, so a deterministic input gives bit-identical weights), the
 * validation rows an indicator column marks, and the starting weights {@code initialWeights} or
 * {@code initialModel} give.
 */
final class MlpTraining {

    private static final Logger LOG = LoggerFactory.getLogger(MlpTraining.class);

    private MlpTraining() {
    }

    static FittedNetwork fit(Dataset<?> dataset, MlpParams stage, TrainingConfig settings, String featuresCol,
                             String labelCol) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        double[] initial = initialWeights(stage, settings, sc);
        SparkSettings.advise(sc.getConf(), settings);
        try {
            TrainingSession.Result result = TrainingSession.run(dataset.sparkSession(), settings,
                    new TrainingSession.Frame(dataset, featuresCol, labelCol, stage.$(stage.validationIndicatorCol())),
                    TrainingSession.Outputs.estimator(stage.$(stage.reportDir())), initial);
            return new FittedNetwork(settings.spec(), result.model().params(), result.history(),
                    result.startingObjective());
        } catch (Exception e) { // SparkException is checked in Java's eyes, and thrown all the same
            RuntimeException bad = badRow(e);
            if (bad != null) {
                throw bad;
            }
            throw e;
        }
    }

    /**
     * When a task refused a row ({@link BadRowException}, which Spark wraps in a
     * {@code SparkException} with the executor's stack trace): an {@code IllegalArgumentException}
     * with that row's message (the row, its partition, the column, what was expected and found),
     * {@code e} as its cause. Otherwise {@code null}.
     */
    static IllegalArgumentException badRow(Throwable e) {
        BadRowException bad = BadRowException.in(e);
        return bad == null || bad == e ? null : new IllegalArgumentException(bad.getMessage(), e);
    }

    /**
     * The weights to start from, in the core's layout: {@code initialWeights} (MLlib's layout,
     * see {@link MllibLayout}), or the saved model {@code initialModel} names; null for the seeded
     * initialization.
     */
    private static double[] initialWeights(MlpParams stage, TrainingConfig settings, JavaSparkContext sc) {
        String path = stage.$(stage.initialModel());
        boolean weightsSet = stage.isDefined(stage.initialWeights());
        if (weightsSet && !path.isEmpty()) {
            throw new IllegalArgumentException("Set initialWeights or initialModel (" + path + "), not both");
        }
        double[] initial;
        String what;
        if (weightsSet) {
            double[] mllib = stage.$(stage.initialWeights()).toArray();
            if (mllib.length != settings.spec().paramCount()) {
                throw new IllegalArgumentException("initialWeights holds " + mllib.length + " values but "
                        + settings.spec() + " has " + settings.spec().paramCount() + " parameters");
            }
            return MllibLayout.fromMllib(settings.spec(), mllib);
        } else if (!path.isEmpty()) {
            Model model = FittedNetwork.readModel(path, sc.hadoopConfiguration());
            if (!Arrays.equals(model.spec().sizes(), settings.spec().sizes())) {
                throw new IllegalArgumentException("initialModel " + path + " has layers "
                        + Arrays.toString(model.spec().sizes()) + " but layers is "
                        + Arrays.toString(settings.spec().sizes()));
            }
            String scaling = model.metadata().getOrDefault(ModelFiles.SCALING, "none");
            if (!scaling.equals("none")) {
                LOG.warn("initialModel {} was trained on features scaled by sparkprop ({}={}); this fit takes the"
                        + " features column as it is", path, ModelFiles.SCALING, scaling);
            }
            initial = model.params();
            what = "initialModel " + path;
        } else {
            return null;
        }
        if (initial.length != settings.spec().paramCount()) {
            throw new IllegalArgumentException(what + " holds " + initial.length + " values but "
                    + settings.spec() + " has " + settings.spec().paramCount() + " parameters");
        }
        return initial;
    }
}
