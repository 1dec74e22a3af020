package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.session.SparkSettings;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The estimators run in the user's session (issue 13, "Also"): they leave the session's job
 * description as the user set it, and name the Spark settings that would make training faster
 * instead of setting them.
 */
class UserSessionTest {

    @Test
    void aFitAndAnEvaluationRestoreTheUsersJobDescription() {
        SparkContext sc = SparkTestSupport.spark().sparkContext();
        Dataset<Row> data = MlpClassifierTest.vectors(SparkTestSupport.spark(), 60, 3);
        sc.setJobDescription("nightly scoring");
        try {
            MlpClassificationModel model = new MlpClassifier().setLayers(new int[] {3, 4, 3}).setMaxIter(2).fit(data);
            assertEquals("nightly scoring", sc.getLocalProperty("spark.job.description"), "after fit");
            model.metrics(data);
            assertEquals("nightly scoring", sc.getLocalProperty("spark.job.description"), "after metrics");
            sc.setJobDescription(null);
            new MlpClassifier().setLayers(new int[] {3, 4, 3}).setMaxIter(1).fit(data);
            assertEquals(null, sc.getLocalProperty("spark.job.description"), "none set, none left");
        } finally {
            sc.setJobDescription(null);
        }
    }

    @Test
    void theAdviceNamesOnlyTheSettingsThatMatterForTheRun() {
        // 784-256-10 with Adam and local SGD: weights and two state arrays, 8 × 203,530 × 3 bytes ≈ 4.9 MB.
        TrainingConfig wide = new MlpClassifier().setLayers(new int[] {784, 256, 10}).setLocalSteps(4)
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        Map<String, String> advice = SparkSettings.missing(new SparkConf(false), wide);
        assertEquals(List.of("spark.task.maxDirectResultSize", "spark.broadcast.compress", "spark.plugins"),
                List.copyOf(advice.keySet()));
        assertTrue(advice.get("spark.task.maxDirectResultSize").startsWith("128m (a task's result is 4.9 MB"),
                advice.toString());

        // 3-4-3 (35 parameters): its results fit Spark's 1 MiB default; only the broadcast's compression matters.
        TrainingConfig small = new MlpClassifier().setLayers(new int[] {3, 4, 3})
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        assertEquals(List.of("spark.broadcast.compress", "spark.plugins"),
                List.copyOf(SparkSettings.missing(new SparkConf(false), small).keySet()));

        // The warm-up plugin: added to the user's own plugins, and not asked for once it is among them.
        String warmup = "io.sparkprop.spark.session.WarmupPlugin";
        assertTrue(advice.get("spark.plugins").startsWith(warmup + " (each executor compiles"), advice.toString());
        SparkConf theirs = new SparkConf(false).set("spark.plugins", "com.example.Telemetry");
        assertTrue(SparkSettings.missing(theirs, small).get("spark.plugins")
                .startsWith("com.example.Telemetry," + warmup + " "), SparkSettings.missing(theirs, small).toString());
        SparkConf both = new SparkConf(false).set("spark.plugins", "com.example.Telemetry, " + warmup);
        assertFalse(SparkSettings.missing(both, small).containsKey("spark.plugins"));
        // Spaces and empty entries are dropped from the advised list (its --conf flag is cut at the
        // first space); an empty spark.plugins is the user turning the warm-up off; Spark's
        // spark.plugins.defaultList counts.
        SparkConf spaced = new SparkConf(false).set("spark.plugins", " a.P , b.Q,, ");
        assertTrue(SparkSettings.missing(spaced, small).get("spark.plugins").startsWith("a.P,b.Q," + warmup + " "),
                SparkSettings.missing(spaced, small).toString());
        assertFalse(SparkSettings.missing(new SparkConf(false).set("spark.plugins", ""), small)
                .containsKey("spark.plugins"));
        assertFalse(SparkSettings.missing(new SparkConf(false).set("spark.plugins.defaultList", warmup), small)
                .containsKey("spark.plugins"));
        assertEquals("--conf spark.plugins=a.P,b.Q", SparkSettings.confFlag("spark.plugins", "a.P,b.Q"));
        assertEquals("--conf 'spark.plugins=a.Outer$Inner'", SparkSettings.confFlag("spark.plugins", "a.Outer$Inner"));

        // With Kryo, results over 64 MB (2000-4096-10 with Adam: 8.24 M parameters x 3 arrays x 8 bytes = 197.7 MB)
        // are worth Kryo's bulk array copies; MNIST's 4.9 MB are not.
        SparkConf kryo = new SparkConf(false).set("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        assertFalse(SparkSettings.missing(kryo, wide).containsKey("spark.kryo.unsafe"));
        TrainingConfig large = new MlpClassifier().setLayers(new int[] {2000, 4096, 10}).setLocalSteps(4)
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        assertTrue(SparkSettings.missing(kryo, large).get("spark.kryo.unsafe").startsWith("true (a task's result is"
                + " 197.7 MB"), SparkSettings.missing(kryo, large).toString());
        assertFalse(SparkSettings.missing(kryo.clone().set("spark.kryo.unsafe", "true"), large)
                .containsKey("spark.kryo.unsafe"));

        SparkConf tuned = new SparkConf(false);
        SparkSettings.tune(tuned);
        assertEquals(Map.of(), SparkSettings.missing(tuned, wide), "the command line's settings leave nothing to add");
        // The command line's session keeps a user's plugins (the warm-up then does not run, and the
        // log says so) and adds the rest.
        SparkConf own = new SparkConf(false).set("spark.plugins", "com.example.Telemetry");
        SparkSettings.tune(own);
        assertEquals("com.example.Telemetry", own.get("spark.plugins"));
        assertEquals("false", own.get("spark.broadcast.compress"));
    }
}
