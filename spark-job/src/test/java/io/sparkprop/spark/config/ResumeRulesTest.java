package io.sparkprop.spark.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.checkpoint.ResumeCheck;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * What changing a key between a checkpoint and its resumption means, as the keys' declarations
 * state it (the lists ResumeCheck kept before the rules moved to {@link ConfigSchema}), and list
 * values with an empty element.
 */
class ResumeRulesTest {

    private static final JobConfig SAVED = JobConfig.defaults().withOverrides(List.of("model.layers=4,8,3"));

    private static ResumeCheck.Differences change(String... overrides) {
        return ResumeCheck.compare(SAVED, SAVED.withOverrides(List.of(overrides)));
    }

    @Test
    void resumingComparesValuesNotWhereTheyCameFrom() {
        // A checkpoint's config is its config.conf text, '# from' lines and all.
        JobConfig saved = JobConfig.parse(SAVED.withSparkConf(Map.of("spark.sparkprop.train.seed", "7",
                "spark.sparkprop.train.learning-rate", "0.01")).render(), "checkpoint config");
        ResumeCheck.Differences moved = ResumeCheck.compare(saved, SAVED.withOverrides(List.of("train.seed=7"))
                .withSparkConf(Map.of("spark.sparkprop.train.learning-rate", "0.01")));
        assertTrue(moved.incompatible().isEmpty() && moved.harmless().isEmpty() && moved.trajectory().isEmpty(),
                moved.toString());
        ResumeCheck.Differences changed = ResumeCheck.compare(saved, SAVED.withSparkConf(Map.of(
                "spark.sparkprop.train.seed", "8", "spark.sparkprop.train.learning-rate", "0.01")));
        assertEquals(List.of("train.seed: '7' -> '8'"), changed.incompatible());
    }

    @Test
    void aPathComparesByTheFileItNamesHoweverItWasGiven() {
        Configuration hadoop = new Configuration();
        String absolute = Path.of("data", "train.csv").toAbsolutePath().toString();
        // A run records its paths qualified; a checkpoint written before that holds a --set path as given.
        JobConfig qualified = SAVED.withOverrides(List.of("data.train=data/train.csv")).withQualifiedPaths(hadoop);
        JobConfig asGiven = JobConfig.parse(SAVED.withOverrides(List.of("data.train=data/train.csv")).render(),
                "checkpoint config");
        for (JobConfig saved : List.of(qualified, asGiven)) {
            for (String now : List.of("data/train.csv", absolute, "file:" + absolute, "./data/../data/train.csv")) {
                ResumeCheck.Differences d = ResumeCheck.compare(saved.withQualifiedPaths(hadoop),
                        SAVED.withOverrides(List.of("data.train=" + now)).withQualifiedPaths(hadoop));
                assertTrue(d.incompatible().isEmpty() && d.harmless().isEmpty() && d.trajectory().isEmpty(),
                        now + ": " + d);
            }
            assertEquals(1, ResumeCheck.compare(saved.withQualifiedPaths(hadoop), SAVED.withOverrides(
                    List.of("data.train=data/other.csv")).withQualifiedPaths(hadoop)).incompatible().size());
        }
    }

    @Test
    void eachKeyChangesWhatItsDeclarationSays() {
        for (String incompatible : List.of("model.layers=4,9,3", "model.hidden-activation=tanh", "train.seed=7",
                "train.batch-size=64", "train.optimizer=sgd", "data.partitions=3", "data.format=csv",
                "data.train=/elsewhere", "data.scaling=divide", "data.validation-fraction=0.1")) {
            assertEquals(1, change(incompatible).incompatible().size(), incompatible);
        }
        for (String harmless : List.of("train.epochs=20", "train.max-job-retries=2", "data.validation=/v",
                "data.test=/t", "train.non-finite=skip", "checkpoint.keep=5", "checkpoint.every-steps=100")) {
            assertEquals(1, change(harmless).harmless().size(), harmless);
        }
        for (String trajectory : List.of("train.learning-rate=0.01", "train.l2=0.1", "model.dropout=0.2",
                "train.local-steps=8", "train.precision=float32")) {
            assertEquals(1, change(trajectory).trajectory().size(), trajectory);
        }
    }

    @Test
    void theSampleOrderMustMatchAndItsWindowSettingsOnlyInWindowMode() {
        assertEquals(List.of("train.shuffle: 'partition' -> 'window'"), change("train.shuffle=window").incompatible());
        // Unused in partition mode: harmless there.
        assertEquals(1, change("data.chunk-bytes=1024").harmless().size());
        assertEquals(1, change("train.shuffle-buffer=2").harmless().size());
        // They change which rows a window holds, so a resume under others would repeat and skip rows.
        JobConfig window = SAVED.withOverrides(List.of("train.shuffle=window"));
        for (String setting : List.of("data.chunk-bytes=1024", "train.shuffle-buffer=2")) {
            ResumeCheck.Differences d = ResumeCheck.compare(window, window.withOverrides(List.of(setting)));
            assertEquals(1, d.incompatible().size(), setting + ": " + d);
        }
    }

    @Test
    void moreEpochsChangeACosineSchedulesTrajectory() {
        JobConfig cosine = SAVED.withOverrides(List.of("train.schedule=cosine"));
        ResumeCheck.Differences d = ResumeCheck.compare(cosine, cosine.withOverrides(List.of("train.epochs=20")));
        assertEquals(List.of("train.epochs: '10' -> '20'"), d.trajectory());
        assertTrue(d.harmless().isEmpty());
    }

    @Test
    void aListWithAnEmptyElementIsAnError() {
        for (String bad : List.of("model.layers=784,256,", "model.layers=784,,10", "model.dropout=0.2,")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> JobConfig.defaults().withOverrides(List.of(bad)));
            assertTrue(e.getMessage().contains("comma-separated") && e.getMessage().contains("--set"),
                    e.getMessage());
        }
    }
}
