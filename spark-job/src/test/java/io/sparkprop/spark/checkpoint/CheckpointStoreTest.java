package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.cli.InspectCommand;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.StepTimes;
import io.sparkprop.spark.train.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints are written completely or not at all, verified on load, and pruned safely. */
class CheckpointStoreTest {

    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {3, 4, 2}, Activation.TANH, Activation.SOFTMAX,
            Loss.SOFTMAX_CROSS_ENTROPY);

    @TempDir
    Path dir;

    private CheckpointStore store(int keep) {
        return CheckpointStore.open(dir.resolve("ckpt").toString(), new Configuration(), keep);
    }

    private static TrainingState state(long globalStep) {
        double[] params = new double[SPEC.paramCount()];
        double[] m = new double[SPEC.paramCount()];
        double[] v = new double[SPEC.paramCount()];
        for (int i = 0; i < params.length; i++) {
            params[i] = Math.sin(globalStep + i) * 1e-3 - 0.0;
            m[i] = Math.cos(globalStep * i);
            v[i] = Double.MIN_VALUE * i;
        }
        return new TrainingState((int) (globalStep / 10), (int) (globalStep % 10), globalStep, params,
                new OptimizerState("adam", globalStep, new double[][] {m, v}), 12.5 + globalStep, 40.0, 0.25, 1, 2,
                3.75, List.of(new EpochMetrics(0, 10, 1.0986122886681098, 0.9162907318741551, 0.625, Double.NaN,
                        Double.NaN, 12345.678901234567, 0.81, 2.5, new StepTimes.Summary(10, 0.123, 2.5, 1.0, 0.05, 3.9)),
                        new EpochMetrics(1, 20, Double.POSITIVE_INFINITY, Double.NaN, Double.NaN, Double.NaN,
                                Double.NaN, 4000.0, 1.5, 4.0, null)), m.clone());
    }

    private static CheckpointStore.Checkpoint checkpoint(long globalStep) {
        TrainingState s = state(globalStep);
        return new CheckpointStore.Checkpoint(s, new Model(SPEC, s.params(), Map.of(), Map.of("sparkprop.task",
                "classification")), "train.seed = 1\n", "training data\nfile:/données/μ 100\nrows 10\npartitions 2\n");
    }

    @Test
    void aCheckpointRoundTripsEveryFieldBitForBit() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(27));
        CheckpointStore.Checkpoint loaded = store.loadNewest().orElseThrow();
        TrainingState expected = state(27);
        TrainingState actual = loaded.state();
        assertEquals(expected.epoch(), actual.epoch());
        assertEquals(expected.step(), actual.step());
        assertEquals(expected.globalStep(), actual.globalStep());
        assertBits(expected.params(), actual.params());
        assertEquals(expected.optimizer().kind(), actual.optimizer().kind());
        assertEquals(expected.optimizer().steps(), actual.optimizer().steps());
        assertBits(expected.optimizer().slots()[0], actual.optimizer().slots()[0]);
        assertBits(expected.optimizer().slots()[1], actual.optimizer().slots()[1]);
        assertEquals(expected.epochObjectiveSum(), actual.epochObjectiveSum());
        assertEquals(expected.epochWeightSum(), actual.epochWeightSum());
        assertEquals(expected.learningRateScale(), actual.learningRateScale());
        assertEquals(expected.consecutiveSkips(), actual.consecutiveSkips());
        assertEquals(expected.rollbacks(), actual.rollbacks());
        assertEquals(expected.elapsedSeconds(), actual.elapsedSeconds());
        assertEquals(expected.history(), actual.history());
        assertBits(expected.bestParams(), actual.bestParams());
        assertEquals("train.seed = 1\n", loaded.config());
        assertTrue(loaded.fingerprint().contains("partitions 2"));
        // Non-ASCII text survives (it lived in the metrics lines before they became records).
        assertTrue(loaded.fingerprint().contains("file:/données/μ 100"), loaded.fingerprint());
        assertEquals(SPEC, loaded.model().spec());
    }

    @Test
    void onlyTheNewestKeepCheckpointsRemain() throws Exception {
        CheckpointStore store = store(2);
        for (long step : new long[] {5, 10, 15, 20}) {
            store.write(checkpoint(step));
        }
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(List.of(15L, 20L), entries.stream().map(CheckpointStore.Entry::globalStep).toList());
        assertTrue(entries.stream().allMatch(CheckpointStore.Entry::valid));
        assertEquals(20, store.loadNewest().orElseThrow().state().globalStep());
    }

    @Test
    void aTruncatedFileIsDetectedAndTheStoreFallsBackToThePreviousCheckpoint() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Path state = dir.resolve("ckpt/step-000000000010/state.bin");
        byte[] bytes = Files.readAllBytes(state);
        Files.write(state, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        // Hadoop's local file system notices first (its .crc files); HDFS or an object store would
        // reach our manifest check. Either way the checkpoint is invalid and names the file.
        assertInvalidAndFallsBack(store, "state.bin");
    }

    @Test
    void aFlippedByteIsDetectedAndTheStoreFallsBackToThePreviousCheckpoint() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Path model = dir.resolve("ckpt/step-000000000010/model.spm");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(model, bytes);
        assertInvalidAndFallsBack(store, "model.spm");
    }

    @Test
    void withoutTheFileSystemsOwnChecksumsOurManifestCatchesTruncationAndFlippedBytes() throws Exception {
        // fs.file.impl = RawLocalFileSystem: no .crc side files, as on stores that keep no checksums.
        Configuration raw = new Configuration();
        raw.set("fs.file.impl", org.apache.hadoop.fs.RawLocalFileSystem.class.getName());
        raw.setBoolean("fs.file.impl.disable.cache", true);
        CheckpointStore store = CheckpointStore.open(dir.resolve("raw").toString(), raw, 3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Path state = dir.resolve("raw/step-000000000010/state.bin");
        byte[] bytes = Files.readAllBytes(state);
        Files.write(state, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        CheckpointStore.Entry truncated = store.list().get(1);
        assertFalse(truncated.valid());
        assertTrue(truncated.problem().contains("has " + (bytes.length - 1) + " bytes but the manifest says "
                + bytes.length), truncated.problem());
        Files.write(state, bytes);
        assertTrue(store.list().get(1).valid());
        bytes[7] ^= 0x01;
        Files.write(state, bytes);
        CheckpointStore.Entry flipped = store.list().get(1);
        assertTrue(flipped.problem().contains("state.bin: checksum mismatch"), flipped.problem());
        assertEquals(5, store.loadNewest().orElseThrow().state().globalStep());
    }

    @Test
    void aMissingManifestMeansAnIncompleteCheckpointThatIsSkipped() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Files.delete(dir.resolve("ckpt/step-000000000010/MANIFEST"));
        assertInvalidAndFallsBack(store, "has no MANIFEST (incomplete checkpoint)");
    }

    @Test
    void aTamperedManifestIsDetected() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Path manifest = dir.resolve("ckpt/step-000000000010/MANIFEST");
        Files.writeString(manifest, Files.readString(manifest).replace("step 10", "step 11"));
        assertInvalidAndFallsBack(store, "MANIFEST");
    }

    @Test
    void pruningNeverDeletesTheNewestValidCheckpointNorAnythingNewer() throws Exception {
        CheckpointStore store = store(1);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        // An incomplete newer checkpoint (a crash mid-write) and then an older valid one being rewritten.
        Files.delete(dir.resolve("ckpt/step-000000000010/MANIFEST"));
        store.write(checkpoint(7));
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(List.of(7L, 10L), entries.stream().map(CheckpointStore.Entry::globalStep).toList());
        assertTrue(entries.get(0).valid());
        assertFalse(entries.get(1).valid());
        assertEquals(7, store.loadNewest().orElseThrow().state().globalStep());
    }

    @Test
    void inspectReportsPositionChecksumsAndValidity() throws Exception {
        CheckpointStore store = store(3);
        store.write(checkpoint(5));
        store.write(checkpoint(10));
        Files.delete(dir.resolve("ckpt/step-000000000010/MANIFEST"));
        String all = InspectCommand.run(dir.resolve("ckpt").toString(), new Configuration());
        assertTrue(all.contains("step 5  VALID"), all);
        assertTrue(all.contains("step 10  INVALID") && all.contains("no MANIFEST"), all);
        assertTrue(all.contains("global step 5") && all.contains("adam after 5 steps"), all);
        assertTrue(all.contains("topology: 3-4(TANH)-2(SOFTMAX)"), all);
        assertTrue(all.matches("(?s).*parameters: 26, CRC32C [0-9a-f]{8}.*"), all);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> InspectCommand.run(dir.resolve("nothing").toString(), new Configuration()));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }

    private void assertInvalidAndFallsBack(CheckpointStore store, String problem) throws Exception {
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(2, entries.size());
        assertTrue(entries.get(0).valid());
        assertFalse(entries.get(1).valid());
        assertTrue(entries.get(1).problem().contains(problem), entries.get(1).problem());
        assertEquals(5, store.loadNewest().orElseThrow().state().globalStep());
        assertThrows(CheckpointException.class, () -> store.load(entries.get(1).uri()));
    }

    private static void assertBits(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]), "index " + i);
        }
        assertArrayEquals(expected, actual);
    }
}
