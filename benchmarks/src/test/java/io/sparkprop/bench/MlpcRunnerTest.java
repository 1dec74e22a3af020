package io.sparkprop.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkprop.spark.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader against the shipped MNIST bytes, and MLPC runs on small subsets reaching (or not) a target. */
class MlpcRunnerTest {

    private static final Path MNIST = Path.of("..", "data", "mnist");
    private static final Path TEST_IMAGES = MNIST.resolve("t10k-images-idx3-ubyte.gz");
    private static final Path TEST_LABELS = MNIST.resolve("t10k-labels-idx1-ubyte.gz");
    private static final Path TRAIN_IMAGES = MNIST.resolve("train-images-idx3-ubyte.gz");
    private static final Path TRAIN_LABELS = MNIST.resolve("train-labels-idx1-ubyte.gz");

    /** The first ten labels of the MNIST test set, as its authors publish them. */
    private static final double[] T10K_FIRST_LABELS = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};

    private static final int[] LAYERS = {784, 16, 10};
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    @Test
    void readsTheShippedTestFilesRowByRow() throws IOException {
        int n = 20;
        Dataset<Row> frame = MlpcRunner.loadIdx(SparkTestSupport.spark(), TEST_IMAGES, TEST_LABELS, n, 3);
        assertEquals(3, frame.javaRDD().getNumPartitions());
        assertTrue(frame.storageLevel().useMemory(), "cached");
        List<Row> rows = frame.collectAsList();
        assertEquals(n, rows.size());

        // an independent reading: the decompressed files' bytes at the offsets the IDX format gives
        byte[] images = gunzip(TEST_IMAGES);
        byte[] labels = gunzip(TEST_LABELS);
        for (int i = 0; i < n; i++) {
            Row row = rows.get(i);
            assertEquals(labels[8 + i] & 0xFF, row.getDouble(0), "label of record " + i);
            if (i < T10K_FIRST_LABELS.length) {
                assertEquals(T10K_FIRST_LABELS[i], row.getDouble(0), "published label of record " + i);
            }
            double[] expected = new double[784];
            for (int j = 0; j < 784; j++) {
                expected[j] = (images[16 + i * 784 + j] & 0xFF) / 255.0;
            }
            Vector features = row.getAs(1);
            assertArrayEquals(expected, features.toDense().toArray(), "pixels of record " + i);
        }
        frame.unpersist();
    }

    @Test
    void readsAllRecordsOfASmallPairAndRejectsBadFiles() throws IOException {
        Path images = idx(dir.resolve("img.gz"), 0x803, 3, new int[] {2, 2}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7,
            8, 9, 10, (byte) 255});
        Path labels = idx(dir.resolve("lab.gz"), 0x801, 3, new int[0], new byte[] {3, 1, 2});
        List<Row> rows = MlpcRunner.loadIdx(SparkTestSupport.spark(), images, labels, MlpcRunner.ALL_ROWS, 2)
                .collectAsList();
        assertEquals(3, rows.size());
        assertEquals(3.0, rows.get(0).getDouble(0));
        assertArrayEquals(new double[] {8 / 255.0, 9 / 255.0, 10 / 255.0, 1.0},
                ((Vector) rows.get(2).getAs(1)).toArray());

        IllegalArgumentException swapped = assertThrows(IllegalArgumentException.class,
                () -> MlpcRunner.loadIdx(SparkTestSupport.spark(), labels, images, 1, 1));
        assertTrue(swapped.getMessage().contains("expected magic number 2051"), swapped.getMessage());

        Path shortImages = idx(dir.resolve("short.gz"), 0x803, 3, new int[] {2, 2}, new byte[] {0, 1, 2, 3, 4, 5});
        IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
                () -> MlpcRunner.loadIdx(SparkTestSupport.spark(), shortImages, labels, 3, 1));
        assertTrue(truncated.getMessage().contains("ends inside image 1"), truncated.getMessage());

        Path twoLabels = idx(dir.resolve("two.gz"), 0x801, 2, new int[0], new byte[] {3, 1});
        IllegalArgumentException disagree = assertThrows(IllegalArgumentException.class,
                () -> MlpcRunner.loadIdx(SparkTestSupport.spark(), images, twoLabels, 3, 1));
        assertTrue(disagree.getMessage().contains("holds 3 images but"), disagree.getMessage());
    }

    @Test
    void lbfgsReachesALowTargetOnTheFirstFit() throws IOException {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpcRunner.loadIdx(spark, TEST_IMAGES, TEST_LABELS, 1000, 2);
        Dataset<Row> test = MlpcRunner.loadIdx(spark, TRAIN_IMAGES, TRAIN_LABELS, 500, 2);
        MlpcRunner.Result result = new MlpcRunner(QUIET).run(train, test, LAYERS, "l-bfgs", 0.5, 60, 7, 128, 0.03);

        assertTrue(result.reached(), result.toString());
        assertEquals(MlpcRunner.StopReason.REACHED, result.stopReason());
        assertEquals(1, result.attempts().size());
        MlpcRunner.Attempt fit = result.attempts().get(0);
        assertEquals(MlpcRunner.FIRST_MAX_ITER, fit.maxIter());
        // tol = 0: L-BFGS runs its maxIter iterations (counted from the objective history)
        assertEquals(MlpcRunner.FIRST_MAX_ITER, fit.iterations());
        assertEquals(fit.iterations(), result.iterationsToTarget());
        assertEquals(fit.fitSeconds(), result.secondsToTarget());
        assertEquals(fit.fitSeconds(), result.totalFitSeconds());
        assertTrue(result.warmupSeconds() > 0, "an untimed warm-up fit ran");
        assertTrue(result.accuracy() >= 0.5 && result.accuracy() <= 1, result.toString());
        assertEquals(1000, result.trainRows());
        assertEquals(500, result.testRows());
        assertEquals(2, result.partitions());
        assertEquals(fit.fitSeconds() / fit.iterations(), result.secondsPerIteration(), 1e-12);
        assertEquals(1000.0 * fit.iterations() / fit.fitSeconds(), result.examplesPerSecond(), 1e-6);

        JsonNode json = new ObjectMapper().readTree(result.toJson());
        assertTrue(json.get("reached").asBoolean());
        assertEquals(result.secondsToTarget(), json.get("seconds_to_target").asDouble());
        assertEquals(MlpcRunner.FIRST_MAX_ITER, json.get("iterations_to_target").asInt());
        assertEquals("reached", json.get("stop_reason").asText());
        assertTrue(json.get("step_size").isNull(), "no step size for l-bfgs");
        assertEquals(3, json.get("layers").size());
        assertEquals(1, json.get("fits").size());
        assertTrue(result.toString().contains("reached in"), result.toString());
        train.unpersist();
        test.unpersist();
    }

    @Test
    void gdStopsAtTheBudgetWithoutReachingAnUnreachableTarget() throws IOException {
        // the shared session requires Kryo registration, which gd's shuffled partials fail: refused before any fit
        IllegalArgumentException unregistered = assertThrows(IllegalArgumentException.class,
                () -> new MlpcRunner(QUIET).run(null, null, LAYERS, "gd", 0.999, 1, 7, 128, 0.03));
        assertTrue(unregistered.getMessage().contains("spark.kryo.registrationRequired=false"),
                unregistered.getMessage());

        SparkTestSupport.stopShared();
        SparkSession spark = SparkTestSupport.builder("local[2]")
                .config("spark.kryo.registrationRequired", "false")
                .getOrCreate();
        try {
            Dataset<Row> train = MlpcRunner.loadIdx(spark, TEST_IMAGES, TEST_LABELS, 1000, 2);
            Dataset<Row> test = MlpcRunner.loadIdx(spark, TRAIN_IMAGES, TRAIN_LABELS, 500, 2);
            // the first fit always runs; a budget it is sure to use up ends the search after it
            MlpcRunner.Result result = new MlpcRunner(QUIET).run(train, test, LAYERS, "gd", 0.999, 1e-3, 7, 128,
                    0.03);

            assertFalse(result.reached(), result.toString());
            assertEquals(MlpcRunner.StopReason.BUDGET, result.stopReason());
            assertTrue(Double.isNaN(result.secondsToTarget()));
            assertEquals(-1, result.iterationsToTarget());
            assertEquals(1, result.attempts().size());
            assertEquals(MlpcRunner.FIRST_MAX_ITER, result.largestMaxIter());
            // tol = 0: gradient descent runs its maxIter iterations too
            assertEquals(MlpcRunner.FIRST_MAX_ITER, result.largestIterations());
            assertEquals(result.attempts().get(0).testAccuracy(), result.accuracy());
            assertTrue(result.accuracy() >= 0 && result.accuracy() < 0.999, result.toString());
            assertTrue(result.totalFitSeconds() > 0);

            JsonNode json = new ObjectMapper().readTree(result.toJson());
            assertFalse(json.get("reached").asBoolean());
            assertTrue(json.get("seconds_to_target").isNull());
            assertTrue(json.get("iterations_to_target").isNull());
            assertEquals(0.03, json.get("step_size").asDouble());
            assertEquals("budget", json.get("stop_reason").asText());
            assertTrue(result.toString().contains("not reached"), result.toString());
        } finally {
            spark.stop();
        }
    }

    @Test
    void rejectsBadArgumentsBeforeAnyFit() {
        MlpcRunner runner = new MlpcRunner(QUIET);
        assertThrows(IllegalArgumentException.class, () -> runner.run(null, null, LAYERS, "sgd", 0.9, 1, 1, 1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> runner.run(null, null, new int[] {784}, "gd", 0.9, 1, 1,
                1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> runner.run(null, null, LAYERS, "gd", 1.5, 1, 1, 1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> runner.run(null, null, LAYERS, "gd", 0.9, 0, 1, 1, 0.1));
    }

    @Test
    void lbfgsScheduleGrows() {
        assertEquals(50, MlpcRunner.nextScheduled(25));
        assertEquals(100, MlpcRunner.nextScheduled(60));
        assertEquals(1200, MlpcRunner.nextScheduled(800));
        assertEquals(1800, MlpcRunner.nextScheduled(1200));
    }

    private static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    /** A gzip IDX file: magic, count, dimensions, then the bytes as given (which may disagree with the count). */
    private static Path idx(Path file, int magic, int count, int[] dims, byte[] body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(bytes))) {
            out.writeInt(magic);
            out.writeInt(count);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(body);
        }
        return Files.write(file, bytes.toByteArray());
    }
}
