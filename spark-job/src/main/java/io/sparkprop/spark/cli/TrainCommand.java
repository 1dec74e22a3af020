package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.RunDirectory;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.JobSettings;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.train.BlockOps;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train}: read the data once into cached blocks, train, and leave a run directory with the
 * effective config, {@code metrics.jsonl} (one line per epoch) and the model.
 */
public final class TrainCommand {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    /** What a run produced. */
    public record Outcome(RunDirectory runDirectory, DistributedTrainer.Result result, Model model) {
    }

    private TrainCommand() {
    }

    public static Outcome run(SparkSession spark, JobConfig config, String runDirUri) throws IOException {
        JobSettings settings = JobSettings.from(config);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        RunDirectory run = RunDirectory.create(runDirUri, sc.hadoopConfiguration());
        LOG.info("Run directory {}", run.uri());
        LOG.info("Effective configuration:\n{}", config.render());
        run.writeText(RunDirectory.CONFIG, config.render());

        int partitions = settings.partitions() > 0 ? settings.partitions() : sc.defaultParallelism();
        DataOptions trainOptions = settings.dataOptions("data.train", "data.train-labels");
        if (trainOptions == null) {
            config.require("data.train");
        }
        LoadedData train = DataLoader.load(spark, trainOptions, partitions);
        checkWidth(settings, train, "data.train");
        JavaRDD<DataBlock> trainBlocks = train.blocks();
        long trainRows = train.rows();
        JavaRDD<DataBlock> validation = null;
        DataOptions validationOptions = settings.dataOptions("data.validation", "data.validation-labels");
        if (validationOptions != null) {
            LoadedData loaded = DataLoader.load(spark, validationOptions, partitions);
            checkWidth(settings, loaded, "data.validation");
            validation = loaded.blocks();
        } else if (settings.validationFraction() > 0) {
            List<JavaRDD<DataBlock>> split = BlockOps.holdOut(trainBlocks, settings.validationFraction(), settings.seed());
            trainBlocks = split.get(0);
            validation = split.get(1);
            trainRows = trainBlocks.map(DataBlock::rows).reduce(Integer::sum);
            LOG.info("Held out {} of {} training rows for validation", train.rows() - trainRows, train.rows());
        }
        BlockOps.Scaling standardization = null;
        if (settings.scaling() == JobSettings.Scaling.STANDARDIZE) {
            standardization = BlockOps.fitStandardization(trainBlocks, settings.spec().inputSize());
            trainBlocks = BlockOps.scale(trainBlocks, standardization);
            if (validation != null) {
                validation = BlockOps.scale(validation, standardization);
            }
        }

        DistributedTrainer trainer = new DistributedTrainer(sc, settings, trainBlocks, trainRows, validation);
        List<String> metricsLines = new ArrayList<>();
        int epochs = settings.epochs();
        DistributedTrainer.Result result = trainer.train(metrics -> {
            metricsLines.add(metrics.toJson());
            double eta = metrics.elapsedSeconds() / (metrics.epoch() + 1) * (epochs - metrics.epoch() - 1);
            LOG.info(metrics.toConsole(epochs, eta));
            try {
                run.writeText(RunDirectory.METRICS, String.join("\n", metricsLines) + "\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });

        Model model = new Model(settings.spec(), result.params(), arrays(standardization), metadata(settings, config));
        run.write(RunDirectory.MODEL, out -> ModelCodec.write(model, out));
        EpochMetrics last = result.history().get(result.history().size() - 1);
        LOG.info(String.format(Locale.ROOT, "Trained %d epochs in %.1fs; model written to %s", epochs,
                last.elapsedSeconds(), run.file(RunDirectory.MODEL)));
        return new Outcome(run, result, model);
    }

    private static void checkWidth(JobSettings settings, LoadedData data, String key) {
        if (data.numFeatures() != settings.spec().inputSize()) {
            throw new IllegalArgumentException("model.layers starts with " + settings.spec().inputSize() + " inputs but "
                    + key + " (" + settings.config().get(key) + ") has " + data.numFeatures() + " features per row");
        }
    }

    private static Map<String, double[]> arrays(BlockOps.Scaling standardization) {
        Map<String, double[]> arrays = new LinkedHashMap<>();
        if (standardization != null) {
            arrays.put(ModelFiles.SHIFT, standardization.shift());
            arrays.put(ModelFiles.SCALE, standardization.scale());
        }
        return arrays;
    }

    private static Map<String, String> metadata(JobSettings settings, JobConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(ModelFiles.TASK, config.getChoice("model.task"));
        metadata.put(ModelFiles.SCALING, settings.scaling().name().toLowerCase(Locale.ROOT));
        if (settings.scaling() == JobSettings.Scaling.DIVIDE) {
            metadata.put(ModelFiles.DIVISOR, config.get("data.scaling.divisor"));
        }
        metadata.put(ModelFiles.CONFIG, config.render());
        return metadata;
    }
}
