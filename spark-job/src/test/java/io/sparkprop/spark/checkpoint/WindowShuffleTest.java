package io.sparkprop.spark.checkpoint;

import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.RunDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train.shuffle = window} end to end (issue 15): a run whose storage memory is forced tiny,
 * so that the cached chunks go to disk, gives bit-identical weights to the same run in memory
 * (window mode with local SGD, also with a task retried, and with synchronous steps, and partition
 * mode for comparison); a
 * run resumed mid-epoch from a checkpoint, in a fresh process with an empty shuffle buffer, ends
 * with the uninterrupted run's weights; and an epoch reads each training chunk once (Spark's own
 * input metrics), where partition mode reads the whole cached partition every round.
 */
class WindowShuffleTest {

    private static final int ROWS = 8000;
    private static final int FEATURES = 8;
    /** Storage memory small enough that the cached data (about 770 KB) cannot stay in memory. */
    private static final String TINY_MEMORY = "-Dspark.memory.fraction=0.00002";

    @TempDir
    static Path tmp;

    private static Path csv;

    @BeforeAll
    static void data() throws IOException {
        SplitMix64 random = new SplitMix64(77);
        StringBuilder text = new StringBuilder("label");
        for (int j = 0; j < FEATURES; j++) {
            text.append(",x").append(j);
        }
        text.append(",w\n");
        for (int i = 0; i < ROWS; i++) {
            double[] x = new double[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = 2 * random.nextDouble() - 1;
            }
            double[] score = {x[0] + x[1] - x[2], x[3] - x[4] + x[5], x[6] - x[7] + 0.5 * x[0]};
            int label = score[1] > score[0] ? (score[2] > score[1] ? 2 : 1) : (score[2] > score[0] ? 2 : 0);
            text.append(label);
            for (double v : x) {
                text.append(',').append(String.format(Locale.ROOT, "%.17g", v));
            }
            text.append(',').append(1 + i % 3).append('\n');
        }
        csv = tmp.resolve("train.csv");
        Files.writeString(csv, text.toString(), StandardCharsets.UTF_8);
    }

    /**
     * The run's config: 8000 weighted rows in 2 partitions, a tenth held out, 2 epochs of 57 steps
     * at batch 128, checkpoints every 10 steps; window mode cuts 8 KiB chunks (a row is 8·(8 + 3 +
     * 1) = 96 bytes, so 85 rows a chunk, about 47 chunks a partition) and shuffles 3 at a time.
     */
    private static Path config(String name, String shuffle, int localSteps) throws IOException {
        Path config = tmp.resolve(name + ".conf");
        Files.writeString(config, String.join("\n",
                "data.format = csv",
                "data.train = " + csv,
                "data.label-column = label",
                "data.weight-column = w",
                "data.partitions = 2",
                "data.validation-fraction = 0.1",
                "data.chunk-bytes = 8192",
                "model.layers = " + FEATURES + ",12,3",
                "train.epochs = 2",
                "train.batch-size = 128",
                "train.seed = 5",
                "train.learning-rate = 0.01",
                "train.local-steps = " + localSteps,
                "train.shuffle = " + shuffle,
                "train.shuffle-buffer = 3",
                "checkpoint.every-steps = 10",
                "checkpoint.keep = 100",
                ""), StandardCharsets.UTF_8);
        return config;
    }

    /** Trains in this JVM (the shared local[2] session) and returns the model's weights. */
    private static double[] train(Path config, Path run) throws Exception {
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                run.toString()));
        return ModelCodec.read(run.resolve(RunDirectory.MODEL)).params();
    }

    /**
     * Trains in a child JVM with tiny storage memory, checks that the cache went to disk, returns
     * the weights. With {@code failAtStep >= 0} the first attempt of partition 0's task at that
     * global step fails (Spark retries it: {@code local[2,4]}), which the log must show.
     */
    private static double[] trainSpilled(Path config, Path run, int failAtStep) throws Exception {
        Path log = tmp.resolve(run.getFileName() + ".log");
        List<String> properties = failAtStep < 0 ? List.of(TINY_MEMORY) : List.of(TINY_MEMORY,
                "-Dspark.master=local[2,4]", "-Dspark.sparkprop.test.failOnceAtStep=" + failAtStep);
        try (TrainProcess child = TrainProcess.train(config, run, log, properties)) {
            assertEquals(0, child.awaitExit(), () -> "the spilled run's exit code; its log: " + tail(log));
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        Matcher loaded = Pattern.compile("cached ([0-9.]+) MiB in memory, ([0-9.]+) MiB on disk").matcher(text);
        assertTrue(loaded.find(), "no storage line in " + log);
        assertTrue(Double.parseDouble(loaded.group(2)) > 10 * Double.parseDouble(loaded.group(1)),
                "the spilled run's cache was mostly on disk: " + loaded.group());
        if (failAtStep >= 0) {
            assertTrue(text.contains("Injected failure (spark.sparkprop.test.failOnceAtStep=" + failAtStep + ")"),
                    () -> "no injected task failure in " + tail(log));
        }
        return ModelCodec.read(run.resolve(RunDirectory.MODEL)).params();
    }

    @Test
    void aSpilledRunHasTheInMemoryRunsBitsInEitherMode() throws Exception {
        // The first also retries a task: the round that starts at global step 65 (epoch 2, its
        // rounds 57, 61, 65, ...), whose retry must decode its window again from the chunks.
        for (Object[] run : new Object[][] {{"window", 4, 65}, {"window", 1, -1}, {"partition", 4, -1}}) {
            String name = run[0] + "-k" + run[1];
            Path config = config(name, (String) run[0], (Integer) run[1]);
            double[] inMemory = train(config, tmp.resolve(name + "-memory"));
            double[] spilled = trainSpilled(config, tmp.resolve(name + "-spilled"), (Integer) run[2]);
            assertSameBits(inMemory, spilled, name + ": spilled" + ((Integer) run[2] >= 0 ? ", a task retried," : "")
                    + " vs in memory");
        }
    }

    /**
     * The {@code evaluate} command under a window-mode config (which reads the data as chunks) measures
     * the same rows as under a partition-mode config: the same row count and accuracy, the same
     * loss up to the rounding of other summation groups.
     */
    @Test
    void evaluateUnderAWindowConfigMeasuresTheSameRows() throws Exception {
        Path window = config("evaluate-window", "window", 4);
        Path model = tmp.resolve("evaluate-run").resolve(RunDirectory.MODEL);
        train(window, tmp.resolve("evaluate-run"));
        io.sparkprop.spark.config.JobConfig partitionConfig = io.sparkprop.spark.config.JobConfig.parse(
                Files.readString(config("evaluate-partition", "partition", 4)), "partition.conf")
                .withOverrides(List.of("data.test=" + csv));
        io.sparkprop.spark.config.JobConfig windowConfig = io.sparkprop.spark.config.JobConfig.parse(
                Files.readString(window), "window.conf").withOverrides(List.of("data.test=" + csv));
        var byBlocks = io.sparkprop.spark.cli.ModelDataCommands.evaluate(SparkTestSupport.spark(), partitionConfig,
                model.toString(), null);
        var byChunks = io.sparkprop.spark.cli.ModelDataCommands.evaluate(SparkTestSupport.spark(), windowConfig,
                model.toString(), null);
        assertEquals(ROWS, byChunks.rows());
        assertEquals(byBlocks.rows(), byChunks.rows());
        assertEquals(byBlocks.accuracy(), byChunks.accuracy(), 0.0);
        assertEquals(byBlocks.loss(), byChunks.loss(), 1e-12);
    }

    @Test
    void aRunResumedMidEpochInAFreshProcessEndsWithTheUninterruptedWeights() throws Exception {
        Path config = config("resume", "window", 4);
        Path whole = tmp.resolve("resume-whole");
        double[] uninterrupted = train(config, whole);
        // 7200 training rows at batch 128: 57 steps an epoch; rounds of 4 steps put checkpoints at
        // 12, 20, ..., 52, 57 (the epoch's end), 61, 73, ... Resume from step 73: epoch 2, step 17.
        Path resumed = tmp.resolve("resume-part");
        Files.createDirectories(resumed.resolve("checkpoints"));
        List<String> copied = new ArrayList<>();
        try (Stream<Path> steps = Files.list(whole.resolve("checkpoints"))) {
            for (Path step : steps.sorted().toList()) {
                String name = step.getFileName().toString();
                if (name.startsWith("step-") && Long.parseLong(name.substring(5)) <= 73) {
                    copyTree(step, resumed.resolve("checkpoints").resolve(name));
                    copied.add(name);
                }
            }
        }
        assertTrue(copied.contains(CheckpointTestSupport.stepDir(73)), "checkpoints: " + copied);
        // Another order, or other chunks, is refused naming the key (before any data is read).
        for (String changed : List.of("train.shuffle=partition", "data.chunk-bytes=4096")) {
            io.sparkprop.spark.config.JobConfig other = io.sparkprop.spark.config.JobConfig.parse(
                    Files.readString(config), "resume.conf").withOverrides(List.of(changed));
            IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> io.sparkprop.spark.cli.TrainCommand.run(
                            SparkTestSupport.spark(), other, resumed.toString(), true));
            String key = changed.substring(0, changed.indexOf('='));
            assertTrue(refused.getMessage().contains("incompatible config: " + key + ": "), refused.getMessage());
        }
        Path log = tmp.resolve("resume-part.log");
        try (TrainProcess child = TrainProcess.train(config, resumed, log)) {
            assertEquals(0, child.awaitExit(), () -> "the resumed run's exit code; its log: " + tail(log));
        }
        assertTrue(Files.readString(log, StandardCharsets.UTF_8).contains("Resuming from checkpoint at global step 73"
                + " (epoch 2, step 17)"), () -> "the child did not resume at step 73; its log: " + tail(log));
        assertSameBits(uninterrupted, ModelCodec.read(resumed.resolve(RunDirectory.MODEL)).params(),
                "resumed mid-epoch vs uninterrupted");
    }

    /** The last lines of {@code log} that are not stack frames, for a failure's message. */
    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(line -> !line.startsWith("\tat ")).toList();
            return log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return log + " (unreadable: " + e + ")";
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    /**
     * Spark's input metrics count every read of a cached block (from memory or disk). Over the
     * training jobs of a run, window mode reads about the training data once an epoch; partition
     * mode reads every partition's block every round, 15 rounds an epoch here.
     */
    @Test
    void anEpochReadsEachChunkOnceWherePartitionModeReadsTheBlockEveryRound() throws Exception {
        long window = trainingBytesRead(config("read-window", "window", 4), tmp.resolve("read-window"));
        long partition = trainingBytesRead(config("read-partition", "partition", 4), tmp.resolve("read-partition"));
        // Both read the same data: window mode 2 epochs x once, partition mode 2 epochs x 15 rounds.
        double ratio = (double) partition / window;
        assertTrue(ratio > 13.5 && ratio < 16, String.format(Locale.ROOT, "partition mode read %d bytes, window mode %d:"
                + " %.2f x, expected about 15 x", partition, window, ratio));
    }

    /** The bytes of cached blocks the training jobs (not validation) of a run in this JVM read. */
    private static long trainingBytesRead(Path config, Path run) throws Exception {
        SparkContext sc = SparkTestSupport.spark().sparkContext();
        Map<Integer, Boolean> trainingStage = new ConcurrentHashMap<>();
        AtomicLong bytes = new AtomicLong();
        SparkListener listener = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart job) {
                String description = job.properties() == null ? null
                        : job.properties().getProperty("spark.job.description");
                boolean training = description != null && description.startsWith("epoch ")
                        && !description.contains("validation");
                scala.jdk.javaapi.CollectionConverters.asJava(job.stageIds())
                        .forEach(id -> trainingStage.put((Integer) id, training));
            }

            @Override
            public void onTaskEnd(SparkListenerTaskEnd task) {
                if (task.taskMetrics() != null && trainingStage.getOrDefault(task.stageId(), false)) {
                    bytes.addAndGet(task.taskMetrics().inputMetrics().bytesRead());
                }
            }
        };
        sc.addSparkListener(listener);
        try {
            train(config, run);
            sc.listenerBus().waitUntilEmpty();
        } finally {
            sc.removeSparkListener(listener);
        }
        assertTrue(bytes.get() > 0, "no training bytes read");
        return bytes.get();
    }
}
