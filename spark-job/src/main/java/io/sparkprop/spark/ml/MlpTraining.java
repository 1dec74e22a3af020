package io.sparkprop.spark.ml;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.checkpoint.CheckpointSink;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.TrainingState;
import io.sparkprop.spark.RunDirectory;
import io.sparkprop.spark.cli.ModelFiles;
import io.sparkprop.spark.report.TrainingReport;
import io.sparkprop.spark.config.JobSettings;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.TrainingRun;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link MlpClassifier} and {@link MlpRegressor} do in {@code train}: turn the input's
 * partitions into cached blocks (one per partition, in the partition's row order, so a
 * deterministic input gives bit-identical weights), hold out a validation split if asked, and run
 * the command line's engine, {@link DistributedTrainer}.
 */
final class MlpTraining {

    private static final Logger LOG = LoggerFactory.getLogger(MlpTraining.class);

    private MlpTraining() {
    }

    static FittedNetwork fit(Dataset<?> dataset, MlpParams<?> stage, JobSettings settings, String featuresCol,
                       String labelCol, boolean regression) {
        String indicator = stage.$(stage.validationIndicatorCol());
        double fraction = (Double) stage.$(stage.validationFraction());
        int partitions = (Integer) stage.$(stage.numPartitions());
        if (partitions > 0 && partitions < dataset.rdd().getNumPartitions()) {
            // Coalescing merges neighbouring partitions without a shuffle: the row order stays fixed.
            dataset = dataset.coalesce(partitions);
        }
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
        // Every cached RDD this fit makes, to unpersist at the end.
        List<JavaRDD<DataBlock>> held = new ArrayList<>(List.of(blocks));
        if (validationBlocks != null) {
            held.add(validationBlocks);
        }
        try {
            long[] summary = summarize(blocks);
            long count = summary[0];
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
            JavaRDD<DataBlock> train = blocks;
            JavaRDD<DataBlock> validation = validationBlocks;
            if (fraction > 0) {
                List<JavaRDD<DataBlock>> split = BlockOps.holdOut(blocks, fraction, (Long) stage.$(stage.seed()));
                held.addAll(split);
                train = split.get(0);
                validation = split.get(1);
                count = train.map(DataBlock::rows).reduce(Integer::sum);
            }
            if (validation == null && stage.$(stage.earlyStoppingMetric()).startsWith("val_")) {
                throw new IllegalArgumentException("earlyStoppingMetric=" + stage.$(stage.earlyStoppingMetric())
                        + " needs validation data: set validationFraction > 0 or validationIndicatorCol");
            }
            DistributedTrainer trainer = new DistributedTrainer(sc, settings, train, count, validation);
            DistributedTrainer.Checkpoints checkpoints = DistributedTrainer.NO_CHECKPOINTS;
            TrainingState start = null;
            String checkpointDir = stage.$(stage.checkpointDir());
            if (!checkpointDir.isEmpty()) {
                // The data's identity: its partitions, rows and a hash of every value, in order.
                String fingerprint = "estimator training data\npartitions " + blocks.getNumPartitions() + "\nrows "
                        + summary[0] + "\ncontent hash " + Long.toHexString(summary[1]) + "\n";
                CheckpointStore store = CheckpointStore.open(checkpointDir, sc.hadoopConfiguration(),
                        settings.checkpointKeep());
                Optional<CheckpointStore.Checkpoint> latest;
                try {
                    latest = store.loadNewest();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("Cannot read checkpoints from " + store.uri() + ": "
                            + e.getMessage(), e);
                }
                if (latest.isPresent()) {
                    CheckpointSink.checkResumable(latest.get(), settings.config(), fingerprint, store,
                            "Set another checkpointDir to train afresh.");
                    start = latest.get().state();
                    LOG.info("Resuming from the checkpoint at global step {} (epoch {}) in {}", start.globalStep(),
                            start.epoch() + 1, store.uri());
                }
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put(ModelFiles.TASK, regression ? "regression" : "classification");
                metadata.put(ModelFiles.SCALING, "none");
                metadata.put(ModelFiles.CONFIG, settings.config().render());
                checkpoints = new CheckpointSink(store, settings, settings.config(), fingerprint, Map.of(), metadata);
            }
            if (start == null) {
                double[] initial = initialWeights(stage, settings, sc);
                start = initial == null ? trainer.initialState() : trainer.initialState(initial);
            }
            TrainingRun.Outcome outcome = TrainingRun.run(trainer, start, checkpoints, settings.maxJobRetries(),
                    (metrics, lines) -> LOG.info(metrics.toConsole(settings.epochs(), Double.NaN)));
            String reportDir = stage.$(stage.reportDir());
            if (!reportDir.isEmpty()) {
                report(sc, reportDir, settings, validation, outcome);
            }
            return new FittedNetwork(settings.spec(), outcome.result().params(), outcome.history());
        } finally {
            for (JavaRDD<DataBlock> cached : held) {
                cached.unpersist(false);
            }
        }
    }

    /**
     * Writes the fit's report into {@code uri}, as {@code scripts/sparkprop train} does into its
     * run directory: the effective config, metrics.jsonl and {@link TrainingReport}.
     */
    private static void report(JavaSparkContext sc, String uri, JobSettings settings, JavaRDD<DataBlock> validation,
                               TrainingRun.Outcome outcome) {
        RunDirectory run = RunDirectory.create(uri, sc.hadoopConfiguration());
        try {
            run.writeText(RunDirectory.CONFIG, settings.config().render());
            run.writeText(RunDirectory.METRICS, EpochMetrics.toJsonLines(outcome.history()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("Cannot write the report to " + run.uri() + ": " + e.getMessage(), e);
        }
        TrainingReport.write(sc, run, settings, validation, outcome.result().params(), outcome.result(),
                outcome.history());
    }

    /**
     * The weights to start from: {@code initialWeights}, or the saved model {@code initialModel}
     * names; null for the seeded initialization.
     */
    private static double[] initialWeights(MlpParams<?> stage, JobSettings settings, JavaSparkContext sc) {
        String path = stage.$(stage.initialModel());
        boolean weightsSet = stage.isDefined(stage.initialWeights());
        if (weightsSet && !path.isEmpty()) {
            throw new IllegalArgumentException("Set initialWeights or initialModel (" + path + "), not both");
        }
        double[] initial;
        String what;
        if (weightsSet) {
            initial = stage.$(stage.initialWeights()).toArray();
            what = "initialWeights";
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

    /** Rows and a hash of every value of {@code blocks}, in partition order: {rows, hash}. */
    private static long[] summarize(JavaRDD<DataBlock> blocks) {
        List<long[]> parts = blocks.map(MlpTraining::summarize).collect();
        long rows = 0;
        long hash = 1;
        for (long[] part : parts) {
            rows += part[0];
            hash = 31 * hash + part[1];
        }
        return new long[] {rows, hash};
    }

    private static long[] summarize(DataBlock block) {
        long hash = block.rows();
        if (block.isSparse()) {
            for (int v : block.rowStart()) {
                hash = hash * 0x9E3779B97F4A7C15L + v;
            }
            for (int v : block.columns()) {
                hash = hash * 0x9E3779B97F4A7C15L + v;
            }
        }
        double[] features = block.isSparse() ? block.values() : block.features();
        for (double[] values : new double[][] {features, block.targets(), block.weights()}) {
            hash = 31 * hash + (values == null ? 0 : values.length);
            if (values != null) {
                for (double v : values) {
                    hash = hash * 0x9E3779B97F4A7C15L + Double.doubleToLongBits(v);
                }
            }
        }
        return new long[] {block.rows(), hash};
    }

    /** The rows of {@code data} as one cached block per partition. */
    private static JavaRDD<DataBlock> blocks(Dataset<?> data, MlpParams<?> stage, JobSettings settings,
                                             String featuresCol, String labelCol, boolean regression) {
        return blocks(data, settings.spec(), featuresCol, labelCol, stage.$(stage.weightCol()), regression,
                (Boolean) stage.$(stage.sparse()));
    }

    /**
     * The rows of {@code data} as one cached block per partition, for a network {@code spec}:
     * features checked against its input width, labels against its outputs.
     *
     * @param weight the weight column, or empty for weight 1
     */
    static JavaRDD<DataBlock> blocks(Dataset<?> data, NetworkSpec spec, String featuresCol, String labelCol,
                                     String weight, boolean regression, boolean sparse) {
        Dataset<Row> rows = data.select(functions.col(featuresCol), functions.col(labelCol).cast("double"),
                weight.isEmpty() ? functions.lit(1.0) : functions.col(weight).cast("double"));
        return rows.javaRDD()
                .mapPartitions(new ToBlock(spec.inputSize(), spec.outputSize(), regression, !weight.isEmpty(), sparse),
                        true)
                .persist(StorageLevel.MEMORY_AND_DISK());
    }

    /**
     * One partition's rows as one block: features densified (or, with {@code sparse}, their
     * nonzeros kept) and checked; the label one-hot or as is.
     */
    private static final class ToBlock implements FlatMapFunction<Iterator<Row>, DataBlock> {

        private static final long serialVersionUID = 1L;
        private final int numFeatures;
        private final int numOutputs;
        private final boolean regression;
        private final boolean weighted;
        private final boolean sparse;

        ToBlock(int numFeatures, int numOutputs, boolean regression, boolean weighted, boolean sparse) {
            this.numFeatures = numFeatures;
            this.numOutputs = numOutputs;
            this.regression = regression;
            this.weighted = weighted;
            this.sparse = sparse;
        }

        @Override
        public Iterator<DataBlock> call(Iterator<Row> it) {
            List<double[]> x = new ArrayList<>();
            List<int[]> columns = new ArrayList<>();
            List<Double> labels = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            for (int index = 0; it.hasNext(); index++) {
                Row row = it.next();
                Vector v = (Vector) row.get(0);
                if (v == null || v.size() != numFeatures) {
                    throw bad(index, "a features vector of " + numFeatures + " values (layers[0])",
                            v == null ? "null" : v.size() + " values");
                }
                int[] indices = null;
                double[] values;
                if (sparse && v instanceof SparseVector s) {
                    indices = s.indices();
                    values = s.values();
                } else {
                    values = v.toArray();
                }
                for (double d : values) {
                    if (!Double.isFinite(d)) {
                        throw bad(index, "finite features", Double.toString(d));
                    }
                }
                if (sparse) {
                    int nonzeros = 0;
                    for (double d : values) {
                        nonzeros += d != 0.0 ? 1 : 0;
                    }
                    int[] keptColumns = new int[nonzeros];
                    double[] kept = new double[nonzeros];
                    for (int k = 0, p = 0; k < values.length; k++) {
                        if (values[k] != 0.0) {
                            keptColumns[p] = indices == null ? k : indices[k];
                            kept[p++] = values[k];
                        }
                    }
                    columns.add(keptColumns);
                    values = kept;
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
            double[] targets = new double[n * numOutputs];
            double[] w = weighted ? new double[n] : null;
            for (int r = 0; r < n; r++) {
                if (regression) {
                    targets[r] = labels.get(r);
                } else {
                    targets[r * numOutputs + (int) (double) labels.get(r)] = 1.0;
                }
                if (w != null) {
                    w[r] = weights.get(r);
                }
            }
            if (sparse) {
                int[] starts = new int[n + 1];
                for (int r = 0; r < n; r++) {
                    starts[r + 1] = starts[r] + columns.get(r).length;
                }
                int[] allColumns = new int[starts[n]];
                double[] allValues = new double[starts[n]];
                for (int r = 0; r < n; r++) {
                    System.arraycopy(columns.get(r), 0, allColumns, starts[r], columns.get(r).length);
                    System.arraycopy(x.get(r), 0, allValues, starts[r], columns.get(r).length);
                }
                return List.of(DataBlock.sparse(n, numFeatures, numOutputs, starts, allColumns, allValues, targets, w))
                        .iterator();
            }
            double[] features = new double[n * numFeatures];
            for (int r = 0; r < n; r++) {
                System.arraycopy(x.get(r), 0, features, r * numFeatures, numFeatures);
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
