package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Evaluation;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code evaluate} (model + labelled data -> metrics), and what it shares with {@code predict}
 * ({@link PredictCommand}): the network and the feature preprocessing come from the model; the
 * config only says where the data is and how to read it ({@code data.test}, else
 * {@code data.validation}, for evaluate).
 */
public final class ModelDataCommands {

    private static final Logger LOG = LoggerFactory.getLogger(ModelDataCommands.class);

    private ModelDataCommands() {
    }

    /**
     * {@code evaluate}: metrics of {@code modelUri} on the config's test (or validation) data,
     * printed as a report and, with {@code outputUri}, written there as one JSON object.
     */
    public static EvaluationMetrics evaluate(SparkSession spark, JobConfig config, String modelUri, String outputUri)
            throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Model model = ModelFiles.read(modelUri, sc.hadoopConfiguration());
        TrainingConfig settings = settingsFor(config, model);
        DataOptions data = byName(evaluationData(settings), model);
        String key = settings.data().test() != null ? "data.test" : "data.validation";
        if (outputUri != null) {
            // The metrics file replaces whatever is at outputUri: never the data or the model.
            OutputGuard guard = OutputGuard.of("evaluate", "--output", outputUri, sc.hadoopConfiguration())
                    .reads("--model " + modelUri, modelUri)
                    .reads(key + " " + data.path(), DataLoader.readPaths(data.path(), sc.hadoopConfiguration()));
            if (data.labelsPath() != null) {
                guard.reads("the labels file " + data.labelsPath(), data.labelsPath());
            }
            guard.check();
        }
        JavaRDD<DataBlock> blocks = load(spark, settings, data, model);
        EvaluationSums sums = DistributedTrainer.evaluate(sc, model.spec(), blocks, model.params(),
                "evaluate " + modelUri);
        EvaluationMetrics metrics = EvaluationMetrics.of(sums, model.spec().loss());
        System.out.print(metrics.toText());
        if (outputUri != null) {
            writeText(sc, outputUri, metrics.toJson() + "\n");
        }
        blocks.unpersist(false);
        return metrics;
    }

    /** The config's test data, else its validation data, to evaluate on. */
    private static DataOptions evaluationData(TrainingConfig settings) {
        DataOptions options = settings.data().test() != null ? settings.testData() : settings.validationData();
        if (options == null) {
            throw new IllegalArgumentException("Config key 'data.test' (or 'data.validation') is required to evaluate:"
                    + " the labelled data to measure the model on");
        }
        return options;
    }

    /** {@code options}' data, read and preprocessed as the model was trained. */
    private static JavaRDD<DataBlock> load(SparkSession spark, TrainingConfig settings, DataOptions options,
                                           Model model) {
        NetworkSpec spec = model.spec();
        boolean test = settings.data().test() != null;
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = partitions(settings, sc);
        // With train.shuffle = window the data is read as chunks, which streams: no task holds a partition.
        boolean window = settings.exchange().shuffle() == TrainingConfig.Shuffle.WINDOW;
        LoadedData data = DataLoader.load(spark, options, partitions, window ? settings.data().chunkBytes() : 0);
        if (data.numFeatures() != spec.inputSize()) {
            throw new IllegalArgumentException("The model expects " + spec.inputSize() + " features but "
                    + (test ? "data.test" : "data.validation") + " has " + data.numFeatures());
        }
        BlockOps.Scaling standardization = ModelFiles.standardization(model);
        return standardization == null ? data.blocks() : BlockOps.scale(data.blocks(), standardization);
    }

    /**
     * {@code options} with the features selected by the names {@code model} records
     * ({@link ModelFiles#featureColumns}), when the data names its columns and
     * {@code data.feature-columns} is not set, so that columns in another order are read as the
     * model was trained; else {@code options} (positional).
     */
    static DataOptions byName(DataOptions options, Model model) {
        List<String> names = ModelFiles.featureColumns(model);
        DataOptions named = options.withFeatureColumnsIfUnset(names);
        if (named != options) {
            LOG.info("Reading the features by name, as the model was trained on them: {}", String.join(", ", names));
        } else if (names.isEmpty() && options.featureColumns().isEmpty()) {
            LOG.info("The model records no feature column names: the features of {} are read by position",
                    options.path());
        }
        return named;
    }

    /** {@code data.partitions}, or Spark's default parallelism when it is 0. */
    static int partitions(TrainingConfig settings, JavaSparkContext sc) {
        return settings.data().partitions() > 0 ? settings.data().partitions() : sc.defaultParallelism();
    }

    /**
     * {@code config} with the network, the task and the feature scaling taken from {@code model}
     * (a config's own model keys are overridden), read into a checked {@link TrainingConfig}.
     */
    static TrainingConfig settingsFor(JobConfig config, Model model) {
        NetworkSpec spec = model.spec();
        String sizes = Arrays.stream(spec.sizes()).mapToObj(Integer::toString).collect(Collectors.joining(","));
        String task = model.metadata().getOrDefault(ModelFiles.TASK,
                spec.loss() == Loss.MSE ? "regression" : spec.loss() == Loss.BINARY_CROSS_ENTROPY ? "multilabel"
                        : "classification");
        String scaling = model.metadata().getOrDefault(ModelFiles.SCALING, "none");
        JobConfig effective = config.with("model.layers", sizes).with("model.task", task)
                .with("model.output-activation", spec.layer(spec.numLayers() - 1).activation().name()
                        .toLowerCase(Locale.ROOT).replace('_', '-'))
                .with("data.scaling", scaling);
        if (scaling.equals("divide")) {
            effective = effective.with("data.scaling.divisor", Double.toString(ModelFiles.divisor(model)));
        }
        return TrainingConfig.from(effective);
    }

    private static void writeText(JavaSparkContext sc, String uri, String text) throws IOException {
        Path path = new Path(uri);
        FileSystem fs = path.getFileSystem(sc.hadoopConfiguration());
        try (OutputStream out = fs.create(path, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
