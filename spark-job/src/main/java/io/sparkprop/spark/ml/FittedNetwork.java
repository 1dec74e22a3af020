package io.sparkprop.spark.ml;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.data.FrameBlocks;
import io.sparkprop.spark.data.TargetKind;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the two fitted models hold and share: the trained network (topology, weights, the
 * per-epoch training history), one row's forward pass, and saving and loading as Spark ML
 * metadata (the params) plus the network in sparkprop's model format at {@code data/model.spm}
 * (the file {@code scripts/sparkprop evaluate} and {@code predict} read) and the history as
 * {@code data/history.jsonl}. Serializable for the prediction closure; the history stays on the
 * driver.
 */
final class FittedNetwork implements java.io.Serializable {

    private static final long serialVersionUID = 1L;
    static final String MODEL_FILE = "data/model.spm";
    static final String HISTORY_FILE = "data/history.jsonl";
    /**
     * The largest fraction of stored values for which prediction goes sparse. Measured for a
     * 784-256 first layer over 128 rows (native OpenBLAS), sparse vs dense forward: 3.7 vs 1.4 ms
     * at 19% nonzeros, 1.5 vs 1.3 ms at 5%, 0.66 vs 1.28 ms at 1%.
     */
    static final double SPARSE_DENSITY = 0.02;

    final NetworkSpec spec;
    final double[] params;
    /** Driver-side only: not shipped with the prediction closure. */
    final transient List<EpochMetrics> history;
    private transient ThreadLocal<Workspace> workspaces;

    /** The objective at the fit's starting weights; driver-side only, NaN for a loaded model. */
    final transient double startingObjective;

    FittedNetwork(NetworkSpec spec, double[] params, List<EpochMetrics> history, double startingObjective) {
        this.spec = spec;
        this.params = params;
        this.history = java.util.Collections.unmodifiableList(new ArrayList<>(history));
        this.startingObjective = startingObjective;
    }

    /**
     * The training summaries' {@code objectiveHistory} {@code (epochs + 1)}, with MLlib's meaning
     * (entry 0 before the first iteration, then one per iteration, so {@code totalIterations} is its
     * length minus 1): the objective at the starting weights over the training rows, then each
     * epoch's mean training loss (the L2 term included), as {@code metrics.jsonl}'s
     * {@code train_loss}.
     */
    double[] objectiveHistory() {
        double[] objective = new double[history.size() + 1];
        objective[0] = startingObjective;
        for (int e = 0; e < history.size(); e++) {
            objective[e + 1] = history.get(e).trainLoss();
        }
        return objective;
    }

    /** A saved model, read back: its Spark ML metadata and its network. */
    record Loaded(DefaultParamsReader.Metadata metadata, FittedNetwork network) {
    }

    /** The network's outputs {@code (outputSize)} for one row. */
    double[] forward(Vector features) {
        return java.util.Arrays.copyOf(forwardRow(features).output(), spec.outputSize());
    }

    /** The output layer's pre-activation {@code (outputSize)} for one row: the logits of a classifier. */
    double[] logits(Vector features) {
        return java.util.Arrays.copyOf(forwardRow(features).logits(), spec.outputSize());
    }

    /** This thread's one-row workspace after the forward pass over {@code features}. */
    private Workspace forwardRow(Vector features) {
        if (workspaces == null) {
            workspaces = ThreadLocal.withInitial(() -> new Workspace(spec, 1));
        }
        Workspace ws = workspaces.get();
        if (features.size() != spec.inputSize()) {
            throw new IllegalArgumentException("Expected a features vector of " + spec.inputSize() + " values but got "
                    + features.size());
        }
        DataBlock row = block(new Vector[] {features}, 1, features instanceof SparseVector, spec.inputSize(),
                spec.outputSize());
        new Network(spec).forward(params, ws.load(row, 0, 1));
        return ws;
    }

    /**
     * The metrics ({@code scripts/sparkprop evaluate}'s) of this network on {@code dataset}'s
     * features and labels, computed on the executors with the weights broadcast once.
     */
    EvaluationMetrics evaluate(Dataset<?> dataset, String featuresCol,
                                                             String labelCol, boolean regression, boolean sparse) {
        JavaRDD<DataBlock> blocks = FrameBlocks.blocks(dataset, featuresCol, labelCol, null, spec.inputSize(),
                spec.outputSize(), regression ? TargetKind.REGRESSION : TargetKind.CLASS_INDEX, sparse);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        try {
            EvaluationSums sums = DistributedTrainer.evaluate(sc, spec, blocks, params, "evaluate " + spec);
            return EvaluationMetrics.of(sums, spec.loss());
        } catch (Exception e) { // SparkException is checked in Java's eyes, and thrown all the same
            IllegalArgumentException bad = MlpTraining.badRow(e);
            if (bad != null) {
                throw bad;
            }
            throw e;
        } finally {
            blocks.unpersist(false);
        }
    }

    /**
     * The values of the columns a model appends to one row, from the row's logits (the output
     * layer's pre-activation) and output, each {@code (outputSize)}.
     */
    @FunctionalInterface
    interface Columns extends java.io.Serializable {
        Object[] of(double[] logits, double[] output);
    }

    /**
     * {@code dataset} with {@code added} columns, whose values {@code columns} makes from each
     * row's output. The weights go to the executors once, as a broadcast, not in every task's
     * closure; each partition's rows go through the network {@code blockSize} rows at a time
     * (one matrix product per layer instead of one per row), in their order.
     */
    Dataset<Row> transform(Dataset<?> dataset, String featuresCol, int blockSize, List<StructField> added,
                           Columns columns) {
        Dataset<Row> rows = dataset.toDF();
        StructType schema = rows.schema();
        for (StructField field : added) {
            schema = schema.add(field);
        }
        // A double[] broadcasts with any serializer setup (Kryo with registration required, too).
        Broadcast<double[]> weights = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext())
                .broadcast(params);
        return rows.mapPartitions(new Predict(spec, weights, rows.schema().fieldIndex(featuresCol), featuresCol,
                blockSize, columns), Encoders.row(schema));
    }

    /** One partition's rows, with the appended columns. Holds the weights' broadcast handle, not the weights. */
    static final class Predict implements MapPartitionsFunction<Row, Row> {

        private static final long serialVersionUID = 1L;
        private final NetworkSpec spec;
        private final Broadcast<double[]> weights;
        private final int featuresIndex;
        private final String featuresCol;
        private final int blockSize;
        private final Columns columns;

        Predict(NetworkSpec spec, Broadcast<double[]> weights, int featuresIndex, String featuresCol, int blockSize,
                Columns columns) {
            this.spec = spec;
            this.weights = weights;
            this.featuresIndex = featuresIndex;
            this.featuresCol = featuresCol;
            this.blockSize = blockSize;
            this.columns = columns;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> input) {
            double[] params = weights.value();
            int in = spec.inputSize();
            int out = spec.outputSize();
            Network net = new Network(spec);
            Workspace ws = new Workspace(spec, blockSize);
            Row[] pending = new Row[blockSize];
            Vector[] vectors = new Vector[blockSize];
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            int partition = task == null ? -1 : task.partitionId();
            return new Iterator<>() {
                private final java.util.ArrayDeque<Row> ready = new java.util.ArrayDeque<>();
                private long rowIndex;

                @Override
                public boolean hasNext() {
                    if (ready.isEmpty() && input.hasNext()) {
                        predictBlock();
                    }
                    return !ready.isEmpty();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return ready.poll();
                }

                private void predictBlock() {
                    int n = 0;
                    boolean allSparse = true;
                    while (n < blockSize && input.hasNext()) {
                        Row row = input.next();
                        Object value = row.get(featuresIndex);
                        if (!(value instanceof Vector v) || v.size() != in) {
                            throw bad("a features vector of " + in + " values", value == null ? "null"
                                    : value instanceof Vector v ? v.size() + " values" : value.getClass().getName());
                        }
                        double[] x = v instanceof SparseVector s ? s.values() : ((DenseVector) v.toDense()).values();
                        for (int j = 0; j < x.length; j++) {
                            if (!Double.isFinite(x[j])) {
                                throw bad("finite features", x[j] + " at index "
                                        + (v instanceof SparseVector s ? s.indices()[j] : j));
                            }
                        }
                        allSparse &= v instanceof SparseVector;
                        vectors[n] = v;
                        pending[n++] = row;
                        rowIndex++;
                    }
                    DataBlock block = block(vectors, n, allSparse, in, out);
                    net.forward(params, ws.load(block, 0, n));
                    double[] logits = ws.logits();
                    double[] outputs = ws.output();
                    for (int r = 0; r < n; r++) {
                        Row row = pending[r];
                        Object[] appended = columns.of(java.util.Arrays.copyOfRange(logits, r * out, (r + 1) * out),
                                java.util.Arrays.copyOfRange(outputs, r * out, (r + 1) * out));
                        Object[] values = new Object[row.length() + appended.length];
                        for (int c = 0; c < row.length(); c++) {
                            values[c] = row.get(c);
                        }
                        System.arraycopy(appended, 0, values, row.length(), appended.length);
                        ready.add(RowFactory.create(values));
                        pending[r] = null;
                        vectors[r] = null;
                    }
                }

                private IllegalArgumentException bad(String expected, String found) {
                    return new IllegalArgumentException(String.format(java.util.Locale.ROOT, "Row %d of partition %d:"
                            + " column '%s' must hold %s but holds %s", rowIndex, partition, featuresCol, expected,
                            found));
                }
            };
        }
    }

    /**
     * {@code vectors[0..n)} as a block, targets zero (prediction only). Sparse (their stored
     * entries) when {@code allSparse} and at most {@link #SPARSE_DENSITY} of the values are stored,
     * else dense. Below that density the sparse first layer is the faster one, and a wide input's
     * memory stays its nonzeros.
     */
    static DataBlock block(Vector[] vectors, int n, boolean allSparse, int in, int out) {
        double[] targets = new double[n * out];
        long stored = 0;
        for (int r = 0; allSparse && r < n; r++) {
            stored += ((SparseVector) vectors[r]).indices().length;
        }
        if (allSparse && stored <= SPARSE_DENSITY * n * (double) in) {
            int[] starts = new int[n + 1];
            for (int r = 0; r < n; r++) {
                starts[r + 1] = starts[r] + ((SparseVector) vectors[r]).indices().length;
            }
            int[] columns = new int[starts[n]];
            double[] values = new double[starts[n]];
            for (int r = 0; r < n; r++) {
                SparseVector s = (SparseVector) vectors[r];
                System.arraycopy(s.indices(), 0, columns, starts[r], s.indices().length);
                System.arraycopy(s.values(), 0, values, starts[r], s.values().length);
            }
            return DataBlock.sparse(n, in, out, starts, columns, values, targets, null);
        }
        double[] features = new double[n * in];
        for (int r = 0; r < n; r++) {
            Vector v = vectors[r];
            if (v instanceof DenseVector d) {
                System.arraycopy(d.values(), 0, features, r * in, in);
            } else {
                SparseVector s = (SparseVector) v;
                for (int k = 0; k < s.indices().length; k++) {
                    features[r * in + s.indices()[k]] = s.values()[k];
                }
            }
        }
        return new DataBlock(n, in, out, features, targets, null);
    }

    /**
     * Writes this network as ONNX of element type {@code precision} ({@code float32} or
     * {@code float64}) at {@code path}, through the active session's Hadoop configuration (a
     * default one without a session). No scaling: the estimators take features as they are.
     */
    void exportOnnx(String path, String precision) {
        Precision type;
        try {
            type = Precision.of(precision);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ONNX export precision: " + e.getMessage(), e);
        }
        org.apache.hadoop.conf.Configuration conf = SparkSession.getActiveSession()
                .orElse(SparkSession::getDefaultSession)
                .map(session -> session.sparkContext().hadoopConfiguration())
                .getOrElse(org.apache.hadoop.conf.Configuration::new);
        ModelFiles.writeOnnx(new Model(spec, params), type, path, conf);
    }

    /** Saves {@code stage}'s params and this network under {@code path}. */
    void save(SparkSession session, String path, Params stage) {
        DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, session);
        try {
            FileSystem fs = new Path(path).getFileSystem(session.sparkContext().hadoopConfiguration());
            try (OutputStream out = fs.create(new Path(path, MODEL_FILE), false)) {
                out.write(ModelCodec.toBytes(new Model(spec, params, Map.of(), Map.of())));
            }
            try (OutputStream out = fs.create(new Path(path, HISTORY_FILE), false)) {
                out.write(EpochMetrics.toJsonLines(history).getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot save the model to " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The network of a saved model: a fitted model's save path (its {@code data/model.spm}) or a
     * model file of {@code scripts/sparkprop train}.
     */
    static Model readModel(String path, org.apache.hadoop.conf.Configuration conf) {
        try {
            Path dir = new Path(path);
            FileSystem fs = dir.getFileSystem(conf);
            if (fs.getFileStatus(dir).isDirectory()) {
                Path inside = new Path(dir, MODEL_FILE);
                if (!fs.exists(inside)) {
                    throw new IllegalArgumentException(path + " is a directory without " + MODEL_FILE
                            + ": not a saved MlpClassificationModel or MlpRegressionModel");
                }
                return ModelFiles.read(inside.toString(), conf);
            }
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalArgumentException("Model " + path + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the model " + path + ": " + e.getMessage(), e);
        }
        return ModelFiles.read(path, conf);
    }

    static Loaded load(SparkSession session, String path, Class<?> type) {
        DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, session, type.getName());
        try {
            FileSystem fs = new Path(path).getFileSystem(session.sparkContext().hadoopConfiguration());
            Model model;
            try (InputStream in = fs.open(new Path(path, MODEL_FILE))) {
                model = ModelCodec.fromBytes(in.readAllBytes());
            }
            List<EpochMetrics> history;
            Path historyFile = new Path(path, HISTORY_FILE);
            try (InputStream in = fs.open(historyFile)) {
                history = EpochMetrics.fromJsonLines(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                        historyFile.toString());
            }
            return new Loaded(metadata, new FittedNetwork(model.spec(), model.params(), history, Double.NaN));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot load the model from " + path + ": " + e.getMessage(), e);
        }
    }
}
