package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.cli.ModelDataCommands;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end on real data: MNIST's 10,000 test images (shipped in data/mnist),
 * 80% to train and a seeded 20% held out, through {@link Main#run}, the command line's entry point.
 */
class EndToEndTest {

    private static final Path MNIST = Path.of("..", "data", "mnist").toAbsolutePath().normalize();

    private static Path writeConfig(Path dir) throws Exception {
        String conf = String.join("\n",
                "data.format = idx",
                "data.train = " + MNIST.resolve("t10k-images-idx3-ubyte.gz"),
                "data.train-labels = " + MNIST.resolve("t10k-labels-idx1-ubyte.gz"),
                "data.validation-fraction = 0.2",
                "data.test = " + MNIST.resolve("t10k-images-idx3-ubyte.gz"),
                "data.test-labels = " + MNIST.resolve("t10k-labels-idx1-ubyte.gz"),
                "data.scaling = divide",
                "data.partitions = 2",
                "model.layers = 784,64,10",
                "train.epochs = 3",
                "train.batch-size = 100",
                "train.learning-rate = 0.002",
                "train.schedule = cosine",
                "");
        Path file = dir.resolve("small-mnist.conf");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void trainEvaluatePredictAndGradcheckThroughTheCommandLine(@TempDir Path dir) throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = writeConfig(dir);
        Path run = dir.resolve("run");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString()));

        List<String> metrics = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        assertEquals(3, metrics.size());
        for (String line : metrics) {
            for (String field : List.of("\"epoch\":", "\"step\":", "\"train_loss\":", "\"val_loss\":",
                    "\"val_accuracy\":", "\"examples_per_sec\":", "\"epoch_seconds\":", "\"elapsed_seconds\":")) {
                assertTrue(line.contains(field), field + " in " + line);
            }
        }
        double accuracy = Double.parseDouble(metrics.get(2).replaceAll(".*\"val_accuracy\":([0-9.eE-]+).*", "$1"));
        assertTrue(accuracy > 0.90, "held-out accuracy " + accuracy);
        assertTrue(Files.readString(run.resolve(RunDirectory.CONFIG)).contains("model.layers = 784,64,10"));

        Model model = ModelCodec.read(run.resolve(RunDirectory.MODEL));
        assertEquals("784-64(RELU)-10(SOFTMAX) SOFTMAX_CROSS_ENTROPY", model.spec().toString());
        assertEquals("divide", model.metadata().get("sparkprop.scaling"));

        // evaluate: on all 10,000 rows (80% of which were trained on), so better than held-out.
        JobConfig config = JobConfig.load(conf.toString(), new Configuration());
        EvaluationMetrics evaluated = ModelDataCommands.evaluate(spark, config,
                run.resolve(RunDirectory.MODEL).toString(), dir.resolve("eval.json").toString());
        assertEquals(10_000, evaluated.rows());
        assertTrue(evaluated.accuracy() > accuracy - 0.02, evaluated.toJson());
        assertTrue(Files.readString(dir.resolve("eval.json")).contains("\"accuracy\":"));

        // predict: the unlabelled images file alone (no labels file), one Parquet row per image in
        // record order, each naming its record; the classes are the probabilities' argmax.
        Path predictions = dir.resolve("predictions");
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model",
                run.resolve(RunDirectory.MODEL).toString(), "--input",
                MNIST.resolve("t10k-images-idx3-ubyte.gz").toString(), "--output", predictions.toString()));
        List<Row> rows = spark.read().parquet(predictions.toString()).orderBy("input_row").collectAsList();
        assertEquals(10_000, rows.size());
        Row first = rows.get(0);
        assertEquals(0L, first.getLong(first.fieldIndex("input_row")));
        assertTrue(first.getString(first.fieldIndex("input_file")).endsWith("t10k-images-idx3-ubyte.gz"));
        double sum = 0;
        int best = 0;
        for (int j = 0; j < 10; j++) {
            double p = first.getDouble(first.fieldIndex("probability_" + j));
            sum += p;
            best = p > first.getDouble(first.fieldIndex("probability_" + best)) ? j : best;
        }
        assertEquals(1.0, sum, 1e-9);
        assertEquals(best, first.getDouble(first.fieldIndex("prediction")));
        assertEquals(9999L, rows.get(9999).getLong(rows.get(9999).fieldIndex("input_row")));

        // gradcheck on the same network, at its initial weights, on 4 rows and 300 sampled parameters.
        assertEquals(0, Main.run(spark, "gradcheck", "--config", conf.toString(), "--rows", "4", "--params", "300"));

        // A second train into the same run directory is refused and leaves the model untouched.
        byte[] before = Files.readAllBytes(run.resolve(RunDirectory.MODEL));
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString()));
        assertTrue(again.getMessage().contains("already holds a finished run"), again.getMessage());
        assertEquals(java.util.Arrays.toString(before),
                java.util.Arrays.toString(Files.readAllBytes(run.resolve(RunDirectory.MODEL))));
    }

    @Test
    void sparseBlocksTrainEvaluateAndGradcheckThroughTheCommandLine(@TempDir Path dir) throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = writeConfig(dir);
        Path run = dir.resolve("run");
        Path again = dir.resolve("again");
        for (Path r : List.of(run, again)) {
            assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", r.toString(), "--set",
                    "data.sparse=true"));
        }
        List<String> metrics = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        double accuracy = Double.parseDouble(metrics.get(2).replaceAll(".*\"val_accuracy\":([0-9.eE-]+).*", "$1"));
        assertTrue(accuracy > 0.90, "held-out accuracy " + accuracy);
        Model model = ModelCodec.read(run.resolve(RunDirectory.MODEL));
        assertArrayEquals(model.params(), ModelCodec.read(again.resolve(RunDirectory.MODEL)).params(),
                "sparse runs are deterministic too");

        // The model does not care how its input was stored: dense and sparse evaluation agree.
        JobConfig config = JobConfig.load(conf.toString(), new Configuration());
        EvaluationMetrics dense = ModelDataCommands.evaluate(spark, config,
                run.resolve(RunDirectory.MODEL).toString(), dir.resolve("dense.json").toString());
        EvaluationMetrics sparse = ModelDataCommands.evaluate(spark,
                config.withOverrides(List.of("data.sparse=true")), run.resolve(RunDirectory.MODEL).toString(),
                dir.resolve("sparse.json").toString());
        assertEquals(dense.accuracy(), sparse.accuracy());
        assertEquals(dense.loss(), sparse.loss(), 1e-9);
        assertEquals(0, Main.run(spark, "gradcheck", "--config", conf.toString(), "--set", "data.sparse=true",
                "--rows", "4", "--params", "300"));
    }

    @Test
    void commandLineErrorsNameTheProblem(@TempDir Path dir) throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = writeConfig(dir);
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "train", "--config", conf.toString(), "--set", "train.epoch=2"));
        assertTrue(unknown.getMessage().contains("'train.epoch'") && unknown.getMessage().contains("train.epochs"),
                unknown.getMessage());
        IllegalArgumentException command = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "fit", "--config", conf.toString()));
        assertTrue(command.getMessage().contains("Unknown command 'fit'"), command.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "evaluate", "--config", conf.toString()));
        assertTrue(missing.getMessage().contains("Missing required option: '--model=URI' (evaluate)"),
                missing.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "train", "--config", conf.toString(), "--set", "model.layers=100,10",
                        "--run-dir", dir.resolve("w").toString()));
        assertTrue(width.getMessage().contains("100 inputs") && width.getMessage().contains("784 features"),
                width.getMessage());
    }
}
