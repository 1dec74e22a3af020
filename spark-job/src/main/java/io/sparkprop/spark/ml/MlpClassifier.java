package io.sparkprop.spark.ml;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.JobSettings;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * sparkprop as a Spark ML estimator: a multilayer perceptron classifier trained by the same engine
 * as {@code scripts/sparkprop train} ({@link DistributedTrainer}: mini-batch SGD, momentum or Adam,
 * local SGD, deterministic). A drop-in for MLlib's {@code MultilayerPerceptronClassifier}: the same
 * {@code layers}, {@code maxIter} (epochs here), {@code seed}, {@code stepSize} (the learning rate)
 * and columns; plus ReLU/tanh hidden layers, Adam, batch size, L2, local steps and a validation
 * split.
 *
 * <p>The data stays in the input's partitions and order: each partition of
 * {@code (features, label, weight)} becomes one cached block, so the same input and seed give the
 * same model bit for bit. Labels are class indices {@code 0..K-1} with {@code K} the last layer size.
 */
public final class MlpClassifier extends ProbabilisticClassifier<Vector, MlpClassifier, MlpClassificationModel>
        implements MLWritable {

    private static final long serialVersionUID = 1L;

    /**
     * Not final and without an initializer on purpose: Spark's inherited params (featuresCol, …) are
     * built during the superclass constructor and ask for {@link #uid()} then, before a Java
     * constructor body can run; {@link UidHandoff} hands the uid over in time.
     */
    private String uid;
    private final IntArrayParam layers;
    private final Param<String> hiddenActivation;
    private final Param<String> optimizer;
    private final DoubleParam stepSize;
    private final IntParam batchSize;
    private final IntParam maxIter;
    private final LongParam seed;
    private final DoubleParam regParam;
    private final IntParam localSteps;
    private final DoubleParam validationFraction;
    private final Param<String> weightCol;

    public MlpClassifier() {
        this(Identifiable$.MODULE$.randomUID("sparkpropMlp"));
    }

    public MlpClassifier(String uid) {
        this(UidHandoff.offer(uid));
    }

    private MlpClassifier(UidHandoff handoff) {
        super();
        uid = UidHandoff.take(uid);
        layers = new IntArrayParam(this, "layers", "layer sizes, input first and classes last, e.g. [784, 256, 10]");
        hiddenActivation = new Param<>(this, "hiddenActivation", "hidden layers' activation: relu, leaky_relu, tanh,"
                + " sigmoid or identity", ParamValidators.inArray(new String[] {"relu", "leaky_relu", "tanh",
                        "sigmoid", "identity"}));
        optimizer = new Param<>(this, "optimizer", "sgd, momentum, nesterov, adam or adamw",
                ParamValidators.inArray(new String[] {"sgd", "momentum", "nesterov", "adam", "adamw"}));
        stepSize = new DoubleParam(this, "stepSize", "learning rate (> 0)", ParamValidators.gt(0));
        batchSize = new IntParam(this, "batchSize", "global mini-batch size (>= 1)", ParamValidators.gtEq(1));
        maxIter = new IntParam(this, "maxIter", "epochs (>= 1)", ParamValidators.gtEq(1));
        seed = new LongParam(this, "seed", "the seed of initial weights, shuffles and the validation split");
        regParam = new DoubleParam(this, "regParam", "L2 strength λ (>= 0)", ParamValidators.gtEq(0));
        localSteps = new IntParam(this, "localSteps", "local SGD steps per exchange; 1 is synchronous SGD",
                ParamValidators.gtEq(1));
        validationFraction = new DoubleParam(this, "validationFraction", "fraction of rows held out for per-epoch"
                + " validation metrics, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
        weightCol = new Param<>(this, "weightCol", "sample weight column; empty for weight 1");
        setDefault(hiddenActivation, "relu");
        setDefault(optimizer, "adam");
        setDefault(stepSize, 0.001);
        setDefault(batchSize, 128);
        setDefault(maxIter, 10);
        setDefault(seed, 42L);
        setDefault(regParam, 0.0);
        setDefault(localSteps, JobConfig.defaults().getInt("train.local-steps"));
        setDefault(validationFraction, 0.0);
        setDefault(weightCol, "");
    }

    @Override
    public String uid() {
        if (uid == null) {
            uid = UidHandoff.peek();
        }
        return uid;
    }

    public IntArrayParam layers() {
        return layers;
    }

    public Param<String> hiddenActivation() {
        return hiddenActivation;
    }

    public Param<String> optimizer() {
        return optimizer;
    }

    public DoubleParam stepSize() {
        return stepSize;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam maxIter() {
        return maxIter;
    }

    public LongParam seed() {
        return seed;
    }

    public DoubleParam regParam() {
        return regParam;
    }

    public IntParam localSteps() {
        return localSteps;
    }

    public DoubleParam validationFraction() {
        return validationFraction;
    }

    public Param<String> weightCol() {
        return weightCol;
    }

    public MlpClassifier setLayers(int[] value) {
        return (MlpClassifier) set(layers, value);
    }

    public MlpClassifier setHiddenActivation(String value) {
        return (MlpClassifier) set(hiddenActivation, value);
    }

    public MlpClassifier setOptimizer(String value) {
        return (MlpClassifier) set(optimizer, value);
    }

    public MlpClassifier setStepSize(double value) {
        return (MlpClassifier) set(stepSize, value);
    }

    public MlpClassifier setBatchSize(int value) {
        return (MlpClassifier) set(batchSize, value);
    }

    public MlpClassifier setMaxIter(int value) {
        return (MlpClassifier) set(maxIter, value);
    }

    public MlpClassifier setSeed(long value) {
        return (MlpClassifier) set(seed, value);
    }

    public MlpClassifier setRegParam(double value) {
        return (MlpClassifier) set(regParam, value);
    }

    public MlpClassifier setLocalSteps(int value) {
        return (MlpClassifier) set(localSteps, value);
    }

    public MlpClassifier setValidationFraction(double value) {
        return (MlpClassifier) set(validationFraction, value);
    }

    public MlpClassifier setWeightCol(String value) {
        return (MlpClassifier) set(weightCol, value);
    }

    /** The training settings these params stand for, as the command line's config keys. */
    JobSettings settings() {
        if (!isDefined(layers)) {
            throw new IllegalArgumentException("MlpClassifier needs layers, e.g. setLayers(new int[] {784, 256, 10})");
        }
        int[] sizes = $(layers);
        return JobSettings.from(JobConfig.defaults().withOverrides(List.of(
                "model.layers=" + Arrays.stream(sizes).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                "model.hidden-activation=" + $(hiddenActivation).replace('_', '-'),
                "train.optimizer=" + $(optimizer), "train.learning-rate=" + $(stepSize),
                "train.batch-size=" + $(batchSize), "train.epochs=" + $(maxIter), "train.seed=" + $(seed),
                "train.l2=" + $(regParam), "train.local-steps=" + $(localSteps))));
    }

    @Override
    public MlpClassificationModel train(Dataset<?> dataset) {
        JobSettings settings = settings();
        NetworkSpec spec = settings.spec();
        String weight = $(weightCol);
        Dataset<Row> rows = dataset.select(functions.col($(featuresCol())),
                functions.col($(labelCol())).cast("double"),
                weight.isEmpty() ? functions.lit(1.0) : functions.col(weight).cast("double"));
        JavaRDD<DataBlock> blocks = rows.javaRDD()
                .mapPartitions(new ToBlock(spec.inputSize(), spec.outputSize(), !weight.isEmpty()), true)
                .persist(StorageLevel.MEMORY_AND_DISK());
        long count = blocks.map(DataBlock::rows).reduce(Integer::sum);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        JavaRDD<DataBlock> train = blocks;
        JavaRDD<DataBlock> validation = null;
        double fraction = (Double) $(validationFraction);
        if (fraction > 0) {
            List<JavaRDD<DataBlock>> split = BlockOps.holdOut(blocks, fraction, (Long) $(seed));
            train = split.get(0);
            validation = split.get(1);
            count = train.map(DataBlock::rows).reduce(Integer::sum);
        }
        List<EpochMetrics> history = new ArrayList<>();
        DistributedTrainer.Result result;
        try {
            result = new DistributedTrainer(sc, settings, train, count, validation).train(history::add);
        } finally {
            blocks.unpersist(false);
        }
        return new MlpClassificationModel(uid, spec, result.params(), history);
    }

    /** One partition's rows as one block: features densified and checked, the label one-hot. */
    private static final class ToBlock implements org.apache.spark.api.java.function.FlatMapFunction<Iterator<Row>,
            DataBlock> {

        private static final long serialVersionUID = 1L;
        private final int numFeatures;
        private final int numClasses;
        private final boolean weighted;

        ToBlock(int numFeatures, int numClasses, boolean weighted) {
            this.numFeatures = numFeatures;
            this.numClasses = numClasses;
            this.weighted = weighted;
        }

        @Override
        public Iterator<DataBlock> call(Iterator<Row> it) {
            List<double[]> x = new ArrayList<>();
            List<Integer> labels = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            int index = 0;
            while (it.hasNext()) {
                Row row = it.next();
                Vector v = (Vector) row.get(0);
                if (v == null || v.size() != numFeatures) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "Row %d of partition %d: expected a"
                            + " features vector of %d values (layers[0]) but got %s", index, partitionId(),
                            numFeatures, v == null ? "null" : v.size() + " values"));
                }
                double[] values = v.toArray();
                for (double d : values) {
                    if (!Double.isFinite(d)) {
                        throw new IllegalArgumentException(String.format(Locale.ROOT, "Row %d of partition %d:"
                                + " expected finite features but found %s", index, partitionId(), d));
                    }
                }
                double label = row.isNullAt(1) ? Double.NaN : row.getDouble(1);
                if (!(label >= 0 && label < numClasses && label == Math.rint(label))) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "Row %d of partition %d: expected a"
                            + " class index in [0, %d) (the last layer's size) but found %s", index, partitionId(),
                            numClasses, label));
                }
                double w = row.isNullAt(2) ? Double.NaN : row.getDouble(2);
                if (!(w >= 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "Row %d of partition %d: expected a"
                            + " finite weight >= 0 but found %s", index, partitionId(), w));
                }
                x.add(values);
                labels.add((int) label);
                weights.add(w);
                index++;
            }
            int n = x.size();
            double[] features = new double[n * numFeatures];
            double[] targets = new double[n * numClasses];
            double[] w = weighted ? new double[n] : null;
            for (int r = 0; r < n; r++) {
                System.arraycopy(x.get(r), 0, features, r * numFeatures, numFeatures);
                targets[r * numClasses + labels.get(r)] = 1.0;
                if (w != null) {
                    w[r] = weights.get(r);
                }
            }
            return List.of(new DataBlock(n, numFeatures, numClasses, features, targets, w)).iterator();
        }

        private static int partitionId() {
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            return task == null ? -1 : task.partitionId();
        }
    }

    @Override
    public MlpClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    /** Reads an estimator saved with {@link #write()}. */
    public static MLReader<MlpClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static MlpClassifier load(String path) {
        return read().load(path);
    }
}
