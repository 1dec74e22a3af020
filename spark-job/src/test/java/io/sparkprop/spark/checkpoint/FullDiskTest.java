package io.sparkprop.spark.checkpoint;

import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.assertSameBits;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.stepDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk, for real: {@code train} runs in a child JVM whose run directory is a 4 MB tmpfs,
 * mounted in a private mount namespace ({@code unshare}; skipped where that is not allowed). The
 * child pauses while writing its second checkpoint; the disk is then filled, so the checkpoint's
 * manifest write fails with Hadoop's {@code FSError} (No space left on device). The run must end
 * with one line naming the file, the cause and the newest valid checkpoint, leave no temporary
 * files, and leave the first checkpoint intact: a copy of the directory resumes from it to the
 * weights of an uninterrupted run.
 */
class FullDiskTest {

    private static final long FIRST = CheckpointTestSupport.EVERY_STEPS;
    private static final long FAILING = 2L * CheckpointTestSupport.EVERY_STEPS;

    @TempDir
    Path tmp;

    @Test
    void aCheckpointOnAFullDiskEndsInOneLineAndLeavesTheLastOneResumable() throws Exception {
        assumeTrue(canMountTmpfs(), "unshare -rm and mount -t tmpfs are not allowed here");
        Files.writeString(tmp.resolve("train.csv"), CheckpointTestSupport.trainingCsv(), StandardCharsets.UTF_8);
        Path config = tmp.resolve("run.conf");
        Files.writeString(config, CheckpointTestSupport.config("train.csv"), StandardCharsets.UTF_8);
        Path disk = Files.createDirectory(tmp.resolve("disk"));
        Path run = disk.resolve("run");
        Path copy = tmp.resolve("copy");
        Path paused = run.resolve("checkpoints").resolve(stepDir(FAILING)).resolve("PAUSED");
        String script = String.join("\n",
                "mount -t tmpfs -o size=4m tmpfs \"$DISK\" || exit 97",
                "\"$@\" &",
                "child=$!",
                "while [ ! -e \"$PAUSED\" ] && kill -0 $child 2>/dev/null; do sleep 0.05; done",
                "dd if=/dev/zero of=\"$DISK/filler\" bs=64k 2>/dev/null",
                "echo \"disk filled: $(df -k \"$DISK\" | tail -1)\"",
                "rm -f \"$PAUSED\"",
                "wait $child; code=$?",
                "rm -f \"$DISK/filler\"",
                "cp -a \"$DISK/run\" \"$COPY\"",
                "exit $code");
        List<String> prefix = List.of("env", "DISK=" + disk, "PAUSED=" + paused, "COPY=" + copy, "unshare", "-rm",
                "sh", "-c", script, "full-disk");
        try (TrainProcess child = TrainProcess.start(prefix, TrainProcess.command(config, run,
                List.of("-D" + CheckpointStore.PAUSE_AT_STEP + "=" + FAILING)), tmp.resolve("full-disk.log"))) {
            child.check(() -> {
                assertEquals(1, child.awaitExit(), "exit code of the run on a full disk");
                String out = child.output();
                assertTrue(out.contains("disk filled"), out);
                assertFalse(out.contains("Exception in thread"), out);
                List<String> lines = out.lines().filter(l -> l.startsWith("sparkprop: ")).toList();
                assertEquals(1, lines.size(), out);
                String line = lines.get(0);
                // The checkpoint's directory or the file in it whose write met the full disk: which one
                // depends on how far the checkpoint got when the disk filled (seen: MANIFEST, the directory).
                assertTrue(line.contains("Cannot write file:" + run.resolve("checkpoints").resolve(stepDir(FAILING))),
                        line);
                assertTrue(line.contains("No space left on device"), line);
                assertTrue(line.contains("the newest valid checkpoint is file:" + run.resolve("checkpoints")
                        .resolve(stepDir(FIRST)) + " (global step " + FIRST + "), left intact"), line);
            });
        }

        try (Stream<Path> files = Files.walk(copy)) {
            List<Path> temporary = files.filter(p -> p.getFileName().toString().contains(".tmp")).toList();
            assertEquals(List.of(), temporary, "temporary files left");
        }
        assertFalse(Files.exists(copy.resolve("checkpoints").resolve(stepDir(FAILING))), "the incomplete checkpoint");
        assertFalse(Files.exists(copy.resolve(RunDirectory.MODEL)));
        assertFalse(Files.exists(copy.resolve(WriterClaim.FILE)), "the failed run released its claim");
        CheckpointStore store = CheckpointStore.open(copy.resolve("checkpoints").toString(), new Configuration(),
                CheckpointTestSupport.KEEP);
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(1, entries.size(), entries.toString());
        assertTrue(entries.get(0).valid() && entries.get(0).globalStep() == FIRST, entries.toString());

        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                copy.toString(), "--resume"));
        Path alone = tmp.resolve("alone");
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                alone.toString()));
        assertSameBits(ModelCodec.read(alone.resolve(RunDirectory.MODEL)).params(),
                ModelCodec.read(copy.resolve(RunDirectory.MODEL)).params(), "the resumed run's weights");
    }

    private static boolean canMountTmpfs() {
        try {
            Process p = new ProcessBuilder("unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /tmp")
                    .redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
