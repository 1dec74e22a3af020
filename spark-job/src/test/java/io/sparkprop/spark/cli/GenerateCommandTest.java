package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.Activation;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.WeightInit;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.report.RunDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate} through {@link Main#run}: the written data reads back through the loader with
 * the config keys the command prints, is deterministic, follows the documented recipe (checked
 * against a teacher rebuilt here from that recipe with the core's classes), and is learnable.
 */
class GenerateCommandTest {

    @TempDir
    Path dir;

    private static String parquetConfig(Path data, int features, int classes) {
        return String.join("\n",
                "data.format = parquet",
                "data.train = " + data,
                "data.features-column = features",
                "data.label-column = label",
                "model.task = classification",
                "model.layers = " + features + ",32," + classes,
                "");
    }

    private LoadedData load(String configText, int partitions) {
        TrainingConfig settings = TrainingConfig.from(JobConfig.parse(configText, "test config"));
        return DataLoader.load(SparkTestSupport.spark(), settings.trainData(),
                partitions);
    }

    private Path writeConfig(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    private static double lastMetric(Path run, String field) throws IOException {
        List<String> lines = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        String last = lines.get(lines.size() - 1);
        return Double.parseDouble(last.replaceAll(".*\"" + field + "\":([0-9.eE-]+).*", "$1"));
    }

    private static List<Path> parts(Path output, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(output)) {
            return files.filter(f -> f.getFileName().toString().startsWith("part-")
                    && f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void parquetClassificationReadsBackIsDeterministicAndLearnable() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path data = dir.resolve("cls");
        String[] generate = {"generate", "--output", data.toString(), "--rows", "3000", "--features", "20",
            "--classes", "4", "--hidden", "16", "--noise", "0.05", "--partitions", "3", "--seed", "7"};
        assertEquals(0, Main.run(spark, generate));
        assertEquals(3, parts(data, ".parquet").size());

        String config = parquetConfig(data, 20, 4);
        LoadedData loaded = load(config, 2);
        int[] counts = new int[4];
        List<DataBlock> blocks;
        try {
            assertEquals(3000, loaded.rows());
            assertEquals(20, loaded.numFeatures());
            blocks = loaded.blocks().collect();
        } finally {
            loaded.blocks().unpersist(false);
        }
        for (DataBlock block : blocks) {
            for (int r = 0; r < block.rows(); r++) {
                int label = -1;
                for (int k = 0; k < 4; k++) {
                    if (block.targets()[r * 4 + k] == 1.0) {
                        label = k;
                    }
                }
                counts[label]++;
                for (int j = 0; j < 20; j++) {
                    double x = block.features()[r * 20 + j];
                    assertTrue(x >= -1.0 && x < 1.0, "feature " + x);
                }
            }
        }
        for (int k = 0; k < 4; k++) {
            assertTrue(counts[k] >= 3000 / 4 / 5, "class " + k + " has " + counts[k] + " of 3000 rows: "
                    + java.util.Arrays.toString(counts));
        }

        // The same command into another path gives the same rows in the same order.
        Path again = dir.resolve("cls-again");
        generate[2] = again.toString();
        assertEquals(0, Main.run(spark, generate));
        LoadedData second = load(parquetConfig(again, 20, 4), 2);
        try {
            List<DataBlock> secondBlocks = second.blocks().collect();
            assertEquals(blocks.size(), secondBlocks.size());
            for (int b = 0; b < blocks.size(); b++) {
                assertArrayEquals(blocks.get(b).features(), secondBlocks.get(b).features());
                assertArrayEquals(blocks.get(b).targets(), secondBlocks.get(b).targets());
            }
        } finally {
            second.blocks().unpersist(false);
        }

        // Learnable: a student of the teacher's shape gets well above chance (0.25) on held-out rows.
        Path conf = writeConfig("cls.conf", config + String.join("\n",
                "data.validation-fraction = 0.2",
                "data.partitions = 2",
                "train.epochs = 2",
                "train.batch-size = 64",
                "train.learning-rate = 0.01",
                ""));
        Path run = dir.resolve("run-cls");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString()));
        double accuracy = lastMetric(run, "val_accuracy");
        assertTrue(accuracy > 0.6, "held-out accuracy " + accuracy);
    }

    @Test
    void libsvmRegressionFollowsTheTeacherWithinTheNoise() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path data = dir.resolve("reg");
        int d = 8;
        int hidden = 32;
        double sigma = 0.1;
        long seed = 42;
        assertEquals(0, Main.run(spark, "generate", "--output", data.toString(), "--format", "libsvm", "--rows",
                "2000", "--features", String.valueOf(d), "--task", "regression", "--noise", String.valueOf(sigma),
                "--partitions", "2"));

        List<String> lines = new ArrayList<>();
        for (Path part : parts(data, "")) {
            lines.addAll(Files.readAllLines(part));
        }
        assertEquals(2000, lines.size());

        // Row 0 of partition 0: its features are the first d draws of the partition's stream.
        SplitMix64 stream = new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_SAMPLE, 0));
        String[] first = lines.get(0).split(" ");
        assertEquals(d + 1, first.length);
        for (int j = 0; j < d; j++) {
            assertEquals((j + 1) + ":" + (2.0 * stream.nextDouble() - 1.0), first[j + 1]);
        }

        // Every label is the documented teacher's output plus N(0, sigma²) noise.
        NetworkSpec spec = NetworkSpec.of(new int[] {d, hidden, 1}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        double[] w = WeightInit.initialize(spec, SplitMix64.derive(seed, SplitMix64.STREAM_SAMPLE, -1));
        double sum = 0;
        double sumSq = 0;
        double labelSum = 0;
        double labelSq = 0;
        for (String line : lines) {
            String[] tokens = line.split(" ");
            double label = Double.parseDouble(tokens[0]);
            double[] x = new double[d];
            for (int j = 0; j < d; j++) {
                x[j] = Double.parseDouble(tokens[j + 1].substring(tokens[j + 1].indexOf(':') + 1));
            }
            double residual = label - teacher(spec, w, x);
            sum += residual;
            sumSq += residual * residual;
            labelSum += label;
            labelSq += label * label;
        }
        int n = lines.size();
        double mean = sum / n;
        double std = Math.sqrt(sumSq / n - mean * mean);
        assertTrue(Math.abs(mean) < 4 * sigma / Math.sqrt(n), "residual mean " + mean);
        assertTrue(Math.abs(std - sigma) < 0.1 * sigma, "residual std " + std + ", noise " + sigma);
        double labelStd = Math.sqrt(labelSq / n - (labelSum / n) * (labelSum / n));
        assertTrue(labelStd > 3 * sigma, "the teacher's signal (std " + labelStd + ") should dominate the noise");

        String config = String.join("\n",
                "data.format = libsvm",
                "data.train = " + data,
                "model.task = regression",
                "model.layers = " + d + ",32,1",
                "model.hidden-activation = tanh",
                "");
        LoadedData loaded = load(config, 2);
        try {
            assertEquals(2000, loaded.rows());
            assertEquals(d, loaded.numFeatures());
        } finally {
            loaded.blocks().unpersist(false);
        }

        Path conf = writeConfig("reg.conf", config + String.join("\n",
                "data.validation-fraction = 0.2",
                "data.partitions = 2",
                "train.epochs = 2",
                "train.batch-size = 64",
                "train.learning-rate = 0.01",
                ""));
        Path run = dir.resolve("run-reg");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString()));
        double rmse = lastMetric(run, "val_rmse");
        assertTrue(rmse < 0.5 * labelStd, "held-out RMSE " + rmse + " vs label std " + labelStd);
    }

    /** The teacher's output for one row, written out: tanh(W1 x + b1), then W2 h + b2. */
    private static double teacher(NetworkSpec spec, double[] params, double[] x) {
        int hidden = spec.layer(0).numOut();
        int d = x.length;
        double out = params[spec.biasOffset(1)];
        for (int i = 0; i < hidden; i++) {
            double a = params[spec.biasOffset(0) + i];
            for (int j = 0; j < d; j++) {
                a += params[spec.weightOffset(0) + i * d + j] * x[j];
            }
            out += params[spec.weightOffset(1) + i] * Math.tanh(a);
        }
        return out;
    }

    @Test
    void sparseRowsWriteAsLibsvmAndParquetReadBackSparseAndAreLearnable() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path svm = dir.resolve("ctr-svm");
        String[] generate = {"generate", "--output", svm.toString(), "--format", "libsvm", "--rows", "4000",
            "--features", "3000", "--nonzeros", "20", "--zipf-exponent", "1.0", "--classes", "2", "--hidden", "8",
            "--noise", "0.05", "--partitions", "2", "--seed", "11"};
        assertEquals(0, Main.run(spark, generate));
        List<String> lines = new ArrayList<>();
        for (Path part : parts(svm, "")) {
            lines.addAll(Files.readAllLines(part));
        }
        assertEquals(4000, lines.size());
        int[] seen = new int[3000];
        int positives = 0;
        for (String line : lines) {
            String[] fields = line.split(" ");
            assertTrue(fields[0].equals("0") || fields[0].equals("1"), line);
            positives += fields[0].equals("1") ? 1 : 0;
            assertEquals(21, fields.length, line);
            int previous = 0;
            for (int f = 1; f < fields.length; f++) {
                String[] pair = fields[f].split(":");
                int index = Integer.parseInt(pair[0]);
                assertTrue(index > previous && index <= 3000, "1-based, increasing: " + line);
                assertEquals("1.0", pair[1]);
                seen[index - 1]++;
                previous = index;
            }
        }
        assertTrue(positives > 4000 / 5 && positives < 4000 * 4 / 5, positives + " positives");
        // The most popular feature is rank 1's, and is in about 4000 * 20 / H_3000 (8.6) rows
        // (at most once a row: rank 1 appears in most rows).
        ZipfFeatures zipf = new ZipfFeatures(3000, 20, 1.0, 8, 2, SyntheticRows.teacherSeed(11));
        int mode = 0;
        for (int j = 1; j < 3000; j++) {
            mode = seen[j] > seen[mode] ? j : mode;
        }
        assertEquals(zipf.featureOf(1), mode);

        // The same rows as Parquet sparse vectors, and the loader's sparse blocks hold them.
        Path parquet = dir.resolve("ctr-parquet");
        generate[2] = parquet.toString();
        generate[4] = "parquet";
        assertEquals(0, Main.run(spark, generate));
        String config = parquetConfig(parquet, 3000, 2).replace("model.layers = 3000,32,2", "model.layers = 3000,16,2")
                + "data.sparse = true\n";
        LoadedData loaded = load(config, 2);
        List<DataBlock> blocks;
        try {
            blocks = loaded.blocks().collect();
        } finally {
            loaded.blocks().unpersist(false);
        }
        long nonzeros = 0;
        long rows = 0;
        for (DataBlock block : blocks) {
            assertTrue(block.isSparse());
            nonzeros += block.rowStart()[block.rows()];
            rows += block.rows();
        }
        assertEquals(4000, rows);
        assertEquals(4000 * 20, nonzeros);

        // Learnable from the popular features: above chance on held-out rows.
        Path conf = writeConfig("ctr.conf", config + String.join("\n",
                "data.validation-fraction = 0.2",
                "data.partitions = 2",
                "train.epochs = 4",
                "train.batch-size = 64",
                "train.learning-rate = 0.01",
                ""));
        Path run = dir.resolve("run-ctr");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString()));
        double accuracy = lastMetric(run, "val_accuracy");
        assertTrue(accuracy > 0.65, "held-out accuracy " + accuracy);
    }

    @Test
    void refusesAnExistingOutputAndBadOptions() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path existing = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(existing.resolve("keep.txt"), "mine");
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> Main.run(spark, "generate", "--output", existing.toString(), "--rows", "10"));
        assertTrue(taken.getMessage().contains(existing.toString()) && taken.getMessage().contains("already exists"),
                taken.getMessage());
        assertEquals("mine", Files.readString(existing.resolve("keep.txt")));

        Path fresh = dir.resolve("fresh");
        assertBad("--rows must be at least 1 but got 0", "--output", fresh.toString(), "--rows", "0");
        assertBad("--classes must be at least 2 but got 1", "--output", fresh.toString(), "--classes", "1");
        assertBad("--features needs an integer but got 'ten'", "--output", fresh.toString(), "--features", "ten");
        assertBad("--hidden must be at least 1 but got -3", "--output", fresh.toString(), "--hidden", "-3");
        assertBad("--noise must be a finite number >= 0 but got -0.5", "--output", fresh.toString(), "--noise", "-0.5");
        assertBad("--partitions must be at least 1", "--output", fresh.toString(), "--partitions", "0");
        assertBad("but got -2", "--output", fresh.toString(), "--partitions", "-2");
        assertBad("--format must be one of parquet, libsvm but got 'csv'", "--output", fresh.toString(), "--format",
                "csv");
        assertBad("--outputs must be 1 with --format libsvm", "--output", fresh.toString(), "--format", "libsvm",
                "--task", "regression", "--outputs", "3");
        assertBad("--classes is for --task classification", "--output", fresh.toString(), "--task", "regression",
                "--classes", "3");
        assertBad("generate needs --output", "--rows", "10");
        assertBad("--nonzeros must be at most --features (100", "--output", fresh.toString(), "--nonzeros", "101");
        assertBad("--nonzeros must be at least 1", "--output", fresh.toString(), "--nonzeros", "0");
        assertBad("--zipf-exponent must be a finite number > 0 but got -1.0", "--output", fresh.toString(),
                "--nonzeros", "3", "--zipf-exponent", "-1");
        assertBad("give --nonzeros N with it", "--output", fresh.toString(), "--zipf-exponent", "1.2");
        assertBad("Unknown option '--config' for generate", "--config", "x.conf", "--output", fresh.toString());
        assertTrue(Files.notExists(fresh));
    }

    private static void assertBad(String expected, String... options) {
        String[] args = new String[options.length + 1];
        args[0] = "generate";
        System.arraycopy(options, 0, args, 1, options.length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Main.run(SparkTestSupport.spark(), args));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void partitionsSplitTheRowsEvenlyForAnySize() {
        SyntheticRows huge = new SyntheticRows(Long.MAX_VALUE, 7, 1, 1, 2, true, 0.0, 1);
        for (int p = 0; p < 7; p++) {
            long expected = java.math.BigInteger.valueOf(p).multiply(java.math.BigInteger.valueOf(Long.MAX_VALUE))
                    .divide(java.math.BigInteger.valueOf(7)).longValueExact();
            assertEquals(expected, huge.firstRow(p));
        }
        SyntheticRows small = new SyntheticRows(10, 4, 1, 1, 2, true, 0.0, 1);
        long[] sizes = new long[4];
        for (int p = 0; p < 4; p++) {
            var it = small.partition(p);
            while (it.hasNext()) {
                it.next();
                sizes[p]++;
            }
        }
        assertArrayEquals(new long[] {2, 3, 2, 3}, sizes);
    }

    @Test
    void regressionWithSeveralOutputsIsAnArrayLabelInParquet() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path data = dir.resolve("multi");
        assertEquals(0, Main.run(spark, "generate", "--output", data.toString(), "--rows", "50", "--features", "3",
                "--task", "regression", "--outputs", "2", "--partitions", "2"));
        LoadedData loaded = load(String.join("\n",
                "data.format = parquet",
                "data.train = " + data,
                "data.features-column = features",
                "model.task = regression",
                "model.layers = 3,4,2",
                ""), 1);
        try {
            assertEquals(50, loaded.rows());
            assertEquals(2, loaded.blocks().first().numTargets());
        } finally {
            loaded.blocks().unpersist(false);
        }
    }
}
