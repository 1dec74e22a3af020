package io.sparkprop.spark.ml;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.checkpoint.TrainingState;
import io.sparkprop.spark.config.JobSettings;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * What {@link MlpClassifier} and {@link MlpRegressor} do in {@code train}: turn the input's
 * partitions into cached blocks (one per partition, in the partition's row order, so a
 * deterministic input gives bit-identical weights), hold out a validation split if asked, and run
 * the command line's engine, {@link DistributedTrainer}.
 */
final class MlpTraining {

    private MlpTraining() {
    }

    static FittedNetwork fit(Dataset<?> dataset, MlpParams<?> stage, JobSettings settings, String featuresCol,
                       String labelCol, boolean regression) {
        String indicator = stage.$(stage.validationIndicatorCol());
        double fraction = (Double) stage.$(stage.validationFraction());
        Dataset<?> trainRows = dataset;
        Dataset<?> validationRows = null;
        if (!indicator.isEmpty()) {
            if (fraction > 0) {
                throw new IllegalArgumentException("Set validationFraction (" + fraction + ") or validationIndicatorCol ("
                        + indicator + "), not both");
            }
            DataType type = dataset.schema().apply(indicator).dataType();
            if (!type.equals(DataTypes.BooleanType)) {
                throw new IllegalArgumentException("validationIndicatorCol '" + indicator + "' must be boolean but is "
                        + type.simpleString());
            }
            // Filters keep each partition's row order: the split is as deterministic as the input.
            trainRows = dataset.filter(functions.not(functions.col(indicator)));
            validationRows = dataset.filter(functions.col(indicator));
        }
        JavaRDD<DataBlock> blocks = blocks(trainRows, stage, settings, featuresCol, labelCol, regression);
        JavaRDD<DataBlock> validationBlocks = validationRows == null ? null
                : blocks(validationRows, stage, settings, featuresCol, labelCol, regression);
        try {
            long count = blocks.map(DataBlock::rows).reduce(Integer::sum);
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
            JavaRDD<DataBlock> train = blocks;
            JavaRDD<DataBlock> validation = validationBlocks;
            if (fraction > 0) {
                List<JavaRDD<DataBlock>> split = BlockOps.holdOut(blocks, fraction, (Long) stage.$(stage.seed()));
                train = split.get(0);
                validation = split.get(1);
                count = train.map(DataBlock::rows).reduce(Integer::sum);
            }
            if (validation == null && !stage.$(stage.earlyStoppingMetric()).equals("none")) {
                throw new IllegalArgumentException("earlyStoppingMetric=" + stage.$(stage.earlyStoppingMetric())
                        + " needs validation data: set validationFraction > 0 or validationIndicatorCol");
            }
            DistributedTrainer trainer = new DistributedTrainer(sc, settings, train, count, validation);
            TrainingState start = trainer.initialState();
            if (stage.isDefined(stage.initialWeights())) {
                double[] initial = stage.$(stage.initialWeights()).toArray();
                if (initial.length != settings.spec().paramCount()) {
                    throw new IllegalArgumentException("initialWeights holds " + initial.length + " values but "
                            + settings.spec() + " has " + settings.spec().paramCount() + " parameters");
                }
                start = new TrainingState(0, 0, 0, initial, start.optimizer(), 0, 0, 1.0, 0, 0, 0, List.of(),
                        new double[0]);
            }
            List<EpochMetrics> history = new ArrayList<>();
            double[] params = trainer.train(start, DistributedTrainer.NO_CHECKPOINTS, history::add).params();
            return new FittedNetwork(settings.spec(), params, history);
        } finally {
            blocks.unpersist(false);
            if (validationBlocks != null) {
                validationBlocks.unpersist(false);
            }
        }
    }

    /** The rows of {@code data} as one cached block per partition. */
    private static JavaRDD<DataBlock> blocks(Dataset<?> data, MlpParams<?> stage, JobSettings settings,
                                             String featuresCol, String labelCol, boolean regression) {
        String weight = stage.$(stage.weightCol());
        Dataset<Row> rows = data.select(functions.col(featuresCol), functions.col(labelCol).cast("double"),
                weight.isEmpty() ? functions.lit(1.0) : functions.col(weight).cast("double"));
        return rows.javaRDD()
                .mapPartitions(new ToBlock(settings.spec().inputSize(), settings.spec().outputSize(), regression,
                        !weight.isEmpty()), true)
                .persist(StorageLevel.MEMORY_AND_DISK());
    }

    /** One partition's rows as one block: features densified and checked; the label one-hot or as is. */
    private static final class ToBlock implements FlatMapFunction<Iterator<Row>, DataBlock> {

        private static final long serialVersionUID = 1L;
        private final int numFeatures;
        private final int numOutputs;
        private final boolean regression;
        private final boolean weighted;

        ToBlock(int numFeatures, int numOutputs, boolean regression, boolean weighted) {
            this.numFeatures = numFeatures;
            this.numOutputs = numOutputs;
            this.regression = regression;
            this.weighted = weighted;
        }

        @Override
        public Iterator<DataBlock> call(Iterator<Row> it) {
            List<double[]> x = new ArrayList<>();
            List<Double> labels = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            for (int index = 0; it.hasNext(); index++) {
                Row row = it.next();
                Vector v = (Vector) row.get(0);
                if (v == null || v.size() != numFeatures) {
                    throw bad(index, "a features vector of " + numFeatures + " values (layers[0])",
                            v == null ? "null" : v.size() + " values");
                }
                double[] values = v.toArray();
                for (double d : values) {
                    if (!Double.isFinite(d)) {
                        throw bad(index, "finite features", Double.toString(d));
                    }
                }
                double label = row.isNullAt(1) ? Double.NaN : row.getDouble(1);
                if (regression ? !Double.isFinite(label)
                        : !(label >= 0 && label < numOutputs && label == Math.rint(label))) {
                    throw bad(index, regression ? "a finite label" : "a class index in [0, " + numOutputs
                            + ") (the last layer's size)", Double.toString(label));
                }
                double w = row.isNullAt(2) ? Double.NaN : row.getDouble(2);
                if (!(w >= 0) || Double.isInfinite(w)) {
                    throw bad(index, "a finite weight >= 0", Double.toString(w));
                }
                x.add(values);
                labels.add(label);
                weights.add(w);
            }
            int n = x.size();
            double[] features = new double[n * numFeatures];
            double[] targets = new double[n * numOutputs];
            double[] w = weighted ? new double[n] : null;
            for (int r = 0; r < n; r++) {
                System.arraycopy(x.get(r), 0, features, r * numFeatures, numFeatures);
                if (regression) {
                    targets[r] = labels.get(r);
                } else {
                    targets[r * numOutputs + (int) (double) labels.get(r)] = 1.0;
                }
                if (w != null) {
                    w[r] = weights.get(r);
                }
            }
            return List.of(new DataBlock(n, numFeatures, numOutputs, features, targets, w)).iterator();
        }

        private static IllegalArgumentException bad(int row, String expected, String found) {
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            return new IllegalArgumentException(String.format(Locale.ROOT, "Row %d of partition %d: expected %s but"
                    + " found %s", row, task == null ? -1 : task.partitionId(), expected, found));
        }
    }
}
