package io.sparkprop.spark.checkpoint;

import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.assertSameBits;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.stepDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per run directory, with real processes: a second {@code train} on a run directory
 * that a live run holds exits at once naming the holder, and the holder ends with the weights of a
 * run that was alone (nothing interleaved); a claim left by a SIGKILLed run is refused while fresh
 * and taken over once it has had no heartbeat for {@code checkpoint.writer-timeout}, and the run
 * that takes it over resumes to the uninterrupted weights.
 */
class OneWriterTest {

    /** The first run pauses while writing this checkpoint (its first, at step 7, is complete by then). */
    private static final long PAUSE_STEP = 2L * CheckpointTestSupport.EVERY_STEPS;

    @TempDir
    static Path tmp;

    private static Path config;
    private static double[] alone;

    @BeforeAll
    static void trainAlone() throws Exception {
        Files.writeString(tmp.resolve("train.csv"), CheckpointTestSupport.trainingCsv(), StandardCharsets.UTF_8);
        config = tmp.resolve("run.conf");
        Files.writeString(config, CheckpointTestSupport.config("train.csv"), StandardCharsets.UTF_8);
        Path run = tmp.resolve("alone");
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                run.toString()));
        alone = ModelCodec.read(run.resolve(RunDirectory.MODEL)).params();
        assertFalse(Files.exists(run.resolve(WriterClaim.FILE)), "a finished run releases its claim");
    }

    @Test
    void aSecondTrainOnALiveRunsDirectoryIsRefusedNamingTheOwner() throws Exception {
        Path run = tmp.resolve("contended");
        Path paused = run.resolve("checkpoints").resolve(stepDir(PAUSE_STEP)).resolve("PAUSED");
        try (TrainProcess first = TrainProcess.train(config, run, tmp.resolve("first.log"),
                "-D" + CheckpointStore.PAUSE_AT_STEP + "=" + PAUSE_STEP)) {
            first.check(() -> {
                first.awaitUntil(paused + " (the first run is mid-training)", () -> Files.exists(paused));
                try (TrainProcess second = TrainProcess.train(config, run, tmp.resolve("second.log"), List.of(),
                        "--set", "train.learning-rate=0.003")) {
                    second.check(() -> {
                        assertEquals(1, second.awaitExit(), "the second run's exit code");
                        String out = second.output();
                        assertTrue(out.contains("sparkprop: The run directory file:" + run + " is in use by another"
                                + " run: application local-"), out);
                        assertTrue(out.contains("pid " + first.pid() + " on host"), out);
                        assertFalse(out.contains("Checkpoint at global step"), "the second run trained:\n" + out);
                    });
                }
                assertTrue(Files.exists(paused), "the first run was still paused while the second was refused");
                Files.delete(paused);
                assertEquals(0, first.awaitExit(), "the first run's exit code");
            });
        }
        assertSameBits(alone, ModelCodec.read(run.resolve(RunDirectory.MODEL)).params(),
                "the first run's weights next to a refused second run");
        assertFalse(Files.readString(run.resolve(RunDirectory.CONFIG)).contains("0.003"),
                "config.conf is the first run's");
        assertFalse(Files.exists(run.resolve(RunDirectory.FAILED)));
        assertFalse(Files.exists(run.resolve(WriterClaim.FILE)), "the claim is released");
        List<CheckpointStore.Entry> entries = store(run).list();
        assertTrue(entries.stream().allMatch(CheckpointStore.Entry::valid), entries.toString());
    }

    @Test
    void aKilledRunsClaimIsRefusedWhileFreshAndTakenOverOnceStale() throws Exception {
        Path run = tmp.resolve("killed");
        Path claim = run.resolve(WriterClaim.FILE);
        Path paused = run.resolve("checkpoints").resolve(stepDir(PAUSE_STEP)).resolve("PAUSED");
        String timeout = "checkpoint.writer-timeout=5";
        long killedPid;
        try (TrainProcess first = TrainProcess.train(config, run, tmp.resolve("killed.log"),
                List.of("-D" + CheckpointStore.PAUSE_AT_STEP + "=" + PAUSE_STEP), "--set", timeout)) {
            killedPid = first.pid();
            first.check(() -> {
                first.awaitUntil(paused + " (the run is mid-training)", () -> Files.exists(paused));
                assertEquals(137, first.kill(), "exit code of the SIGKILLed run");
            });
        }
        assertTrue(Files.readString(claim).contains("pid = " + killedPid), "the killed run's claim is left");

        String[] train = {"train", "--config", config.toString(), "--run-dir", run.toString(), "--set", timeout};
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> Main.run(SparkTestSupport.spark(), train));
        assertTrue(refused.getMessage().contains("is in use by another run") && refused.getMessage()
                .contains("pid " + killedPid + " on host"), refused.getMessage());
        assertTrue(Files.readString(claim).contains("pid = " + killedPid), "a refused run leaves the claim alone");

        while (System.currentTimeMillis() - Files.getLastModifiedTime(claim).toMillis() <= 5_000) {
            Thread.sleep(100);
        }
        assertEquals(0, Main.run(SparkTestSupport.spark(), train));
        assertSameBits(alone, ModelCodec.read(run.resolve(RunDirectory.MODEL)).params(),
                "the weights of the run that took over and resumed");
        assertFalse(Files.exists(claim), "the claim is released");
    }

    private static CheckpointStore store(Path run) {
        return CheckpointStore.open(run.resolve("checkpoints").toString(), new Configuration(),
                CheckpointTestSupport.KEEP);
    }
}
