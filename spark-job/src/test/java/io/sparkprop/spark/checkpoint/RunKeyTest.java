package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.config.ConfigKey;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which settings make an estimator fit one run: every key but the harmless ones, plus the epoch
 * count; the starting weights; and the data's fingerprints. And a store that holds another run's
 * key is refused.
 */
class RunKeyTest {

    private static final JobConfig BASE = JobConfig.defaults().withOverrides(List.of("model.layers=4,8,3"));
    private static final String TRAIN = "training data\npartitions 2\nrows 60\ncontent hash 1f\n";

    @TempDir
    Path dir;

    private static String id(JobConfig config) {
        return RunKey.of(config, null, TRAIN, null).id();
    }

    private static String id(String override) {
        return id(BASE.withOverrides(List.of(override)));
    }

    @Test
    void trajectoryAndMustMatchKeysAndTheEpochCountSplitARun() {
        String base = id(BASE);
        assertTrue(base.matches("fit-[0-9a-f]{16}"), base);
        assertEquals(base, id(BASE), "stable");
        for (String defining : List.of("train.learning-rate=0.01", "train.l2=0.1", "train.epochs=3",
                "model.dropout=0.2", "train.local-steps=8", "train.seed=7", "model.layers=4,9,3",
                "train.early-stopping.patience=5", "data.validation-fraction=0.1")) {
            assertNotEquals(base, id(defining), defining);
        }
        for (String harmless : List.of("checkpoint.dir=/elsewhere", "checkpoint.every-steps=100", "checkpoint.keep=5",
                "checkpoint.on-failure=warn", "train.max-job-retries=2", "data.test=/t")) {
            assertEquals(base, id(harmless), harmless);
        }
    }

    @Test
    void everyKeyButTheHarmlessOnesIsInTheKeyAndTheEpochCountToo() {
        String text = RunKey.of(BASE, null, TRAIN, null).text();
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            boolean defining = key.resume() != ConfigKey.Resume.HARMLESS || key == ConfigSchema.TRAIN_EPOCHS;
            assertEquals(defining, text.contains("\n" + key.name() + " = "), key.name());
        }
    }

    @Test
    void theStartingWeightsAndTheDataSplitARun() {
        String base = RunKey.of(BASE, null, TRAIN, null).id();
        String weights = RunKey.of(BASE, new double[] {0.5, -0.25}, TRAIN, null).id();
        assertNotEquals(base, weights);
        assertNotEquals(weights, RunKey.of(BASE, new double[] {0.5, -0.0}, TRAIN, null).id());
        assertEquals(weights, RunKey.of(BASE, new double[] {0.5, -0.25}, TRAIN, null).id());
        assertNotEquals(base, RunKey.of(BASE, null, TRAIN.replace("1f", "20"), null).id());
        String validation = "validation data\npartitions 2\nrows 20\ncontent hash 3\n";
        assertNotEquals(base, RunKey.of(BASE, null, TRAIN, validation).id());
        assertTrue(RunKey.of(BASE, null, TRAIN, validation).text().endsWith(TRAIN + validation));
    }

    @Test
    void aStoreKeepsItsKeyAndRefusesAnother() throws Exception {
        RunKey key = RunKey.of(BASE, null, TRAIN, null);
        String root = dir.toUri().toString();
        CheckpointStore store = CheckpointStore.open(key.directory(root), new Configuration(), 3);
        store.bind(key);
        store.bind(key);
        Path file = dir.resolve(key.id()).resolve(CheckpointStore.RUN_KEY);
        assertEquals(key.text(), Files.readString(file));
        assertTrue(store.list().isEmpty(), "the key file is not a checkpoint");

        RunKey other = RunKey.of(BASE.withOverrides(List.of("train.l2=0.1")), null, TRAIN, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.bind(other));
        assertTrue(e.getMessage().contains(CheckpointStore.RUN_KEY) && e.getMessage().contains("train.l2 = 0.1"),
                e.getMessage());
        assertEquals(key.text(), Files.readString(file), "left intact");
        assertFalse(Files.exists(dir.resolve(key.id()).resolve("." + CheckpointStore.RUN_KEY + ".tmp")));
    }
}
