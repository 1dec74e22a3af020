package io.sparkprop.spark.checkpoint;

import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.assertSameBits;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.stepDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.train.EpochMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery with real processes: {@code train} runs in a child JVM ({@link io.sparkprop.spark.LocalLauncher}, its
 * own local[2] Spark) that the test kills with SIGKILL, once between checkpoints and once in the
 * middle of writing one; {@code train} on the same run directory then resumes from the newest
 * complete checkpoint (taking over the killed run's stale claim) and ends with the weights of an
 * uninterrupted run, bit for bit.
 */
class CrashResumeTest {

    /** A checkpoint step late in the run where a child pauses, so it cannot finish before the test kills it. */
    private static final long BRAKE_STEP = 112;

    @TempDir
    static Path tmp;

    private static Path config;
    private static double[] uninterrupted;

    @BeforeAll
    static void trainWithoutInterruption() throws Exception {
        Files.writeString(tmp.resolve("train.csv"), CheckpointTestSupport.trainingCsv(), StandardCharsets.UTF_8);
        config = tmp.resolve("run.conf");
        Files.writeString(config, CheckpointTestSupport.config("train.csv"), StandardCharsets.UTF_8);
        Path run = tmp.resolve("uninterrupted");
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                run.toString()));
        uninterrupted = ModelCodec.read(run.resolve(RunDirectory.MODEL)).params();
    }

    @Test
    void aRunKilledBetweenCheckpointsResumesToTheUninterruptedWeights() throws Exception {
        Path run = tmp.resolve("killed-mid-training");
        CheckpointStore store = store(run);
        long[] newest = {-1};
        try (TrainProcess child = TrainProcess.train(config, run, tmp.resolve("killed-mid-training.log"),
                "-D" + CheckpointStore.PAUSE_AT_STEP + "=" + BRAKE_STEP)) {
            child.check(() -> {
                child.awaitUntil("a valid checkpoint past global step 10 in " + store.uri(), () -> {
                    try {
                        newest[0] = newestValid(store.list());
                    } catch (IOException e) {
                        return false; // a listing can race the child pruning old checkpoints: look again
                    }
                    return newest[0] > 10;
                });
                assertEquals(137, child.kill(), "exit code of the SIGKILLed child");
            });
        }
        assertFalse(Files.exists(run.resolve(RunDirectory.MODEL)), "the killed child wrote its model");
        CheckpointStore.Checkpoint from = store.loadNewest().orElseThrow();
        long step = from.state().globalStep();
        assertTrue(step >= newest[0] && step < BRAKE_STEP, "killed at global step " + step + ", not between 10 and "
                + BRAKE_STEP);
        assertFalse(Files.exists(run.resolve("checkpoints").resolve(stepDir(BRAKE_STEP))),
                "the child reached its brake at global step " + BRAKE_STEP + " before it was killed");

        resumeAndCompare(run, store, step);
    }

    @Test
    void aRunKilledWhileWritingACheckpointResumesFromThePreviousOne() throws Exception {
        Path run = tmp.resolve("killed-mid-checkpoint");
        CheckpointStore store = store(run);
        long killed = 2L * CheckpointTestSupport.EVERY_STEPS;
        long previous = CheckpointTestSupport.EVERY_STEPS;
        Path killedDir = run.resolve("checkpoints").resolve(stepDir(killed));
        try (TrainProcess child = TrainProcess.train(config, run, tmp.resolve("killed-mid-checkpoint.log"),
                "-D" + CheckpointStore.PAUSE_AT_STEP + "=" + killed)) {
            child.check(() -> {
                child.awaitUntil(killedDir.resolve("PAUSED") + " (the child paused before writing the manifest)",
                        () -> Files.exists(killedDir.resolve("PAUSED")));
                assertEquals(137, child.kill(), "exit code of the SIGKILLed child");
            });
        }
        assertFalse(Files.exists(run.resolve(RunDirectory.MODEL)), "the killed child wrote its model");

        // Every data file of the checkpoint is there, but without its manifest it does not count.
        for (String file : List.of(CheckpointStore.MODEL, CheckpointStore.STATE, CheckpointStore.CONFIG,
                CheckpointStore.FINGERPRINT)) {
            assertTrue(Files.exists(killedDir.resolve(file)), file + " in " + killedDir);
        }
        assertFalse(Files.exists(killedDir.resolve(CheckpointStore.MANIFEST)));
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(List.of(previous, killed), entries.stream().map(CheckpointStore.Entry::globalStep).toList(),
                entries.toString());
        assertTrue(entries.get(0).valid(), entries.get(0).toString());
        assertFalse(entries.get(1).valid(), entries.get(1).toString());
        assertTrue(entries.get(1).problem().contains("no " + CheckpointStore.MANIFEST), entries.get(1).problem());
        assertEquals(previous, store.loadNewest().orElseThrow().state().globalStep());

        resumeAndCompare(run, store, previous);
        // The incomplete checkpoint was written again, whole, by the resumed run.
        assertTrue(Files.exists(killedDir.resolve(CheckpointStore.MANIFEST)));
        assertFalse(Files.exists(killedDir.resolve("PAUSED")));
        store.verify(new org.apache.hadoop.fs.Path(killedDir.toUri()));
    }

    /**
     * Resumes {@code run} in this JVM and checks that it started from the checkpoint at global step
     * {@code from} and ended with the uninterrupted weights. The resumed run keeps every checkpoint
     * (a harmless change), so the one it started from must still be there untouched: a run that
     * started afresh would have rewritten it.
     */
    private static void resumeAndCompare(Path run, CheckpointStore store, long from) throws Exception {
        Path start = run.resolve("checkpoints").resolve(stepDir(from)).resolve(CheckpointStore.MANIFEST);
        long writtenAt = Files.getLastModifiedTime(start).toMillis();
        List<String> epochsBefore = store.load(start.getParent().toString()).state().history().stream()
                .map(EpochMetrics::toJson).toList();

        // The killed run's claim is left behind: take it over once it has had no heartbeat for 1 s.
        Thread.sleep(1_500);
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                run.toString(), "--resume", "--set", "checkpoint.keep=100", "--set", "checkpoint.writer-timeout=1"));

        assertSameBits(uninterrupted, ModelCodec.read(run.resolve(RunDirectory.MODEL)).params(),
                "the resumed run's final weights");
        assertEquals(writtenAt, Files.getLastModifiedTime(start).toMillis(), start + " was rewritten");
        List<String> metrics = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        assertEquals(CheckpointTestSupport.EPOCHS, metrics.size(), String.join("\n", metrics));
        assertEquals(epochsBefore, metrics.subList(0, epochsBefore.size()), "the killed run's finished epochs");
        List<CheckpointStore.Entry> after = store.list();
        assertTrue(after.stream().allMatch(CheckpointStore.Entry::valid), after.toString());
        assertTrue(after.stream().anyMatch(e -> e.globalStep() == from), after.toString());
        assertEquals(120, after.get(after.size() - 1).globalStep(), after.toString());
    }

    private static CheckpointStore store(Path run) {
        return CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(),
                CheckpointTestSupport.KEEP);
    }

    private static long newestValid(List<CheckpointStore.Entry> entries) {
        Optional<CheckpointStore.Entry> newest = entries.stream().filter(CheckpointStore.Entry::valid)
                .reduce((a, b) -> b);
        return newest.map(CheckpointStore.Entry::globalStep).orElse(-1L);
    }
}
