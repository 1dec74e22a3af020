package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.config.ConfigKey;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.Param;
import org.junit.jupiter.api.Test;

/**
 * The estimators' params and the config file are two doors to one {@link TrainingConfig}: the same
 * settings give equal typed values, the params' defaults and checks are the schema's, and errors
 * name the param.
 */
class MlpParamsTest {

    @Test
    void theSameSettingsThroughEitherDoorGiveTheSameTypedConfig() {
        TrainingConfig fromParams = new MlpClassifier().setLayers(new int[] {4, 8, 3}).setHiddenActivation("leaky_relu")
                .setOptimizer("nesterov").setStepSize(0.05).setMomentum(0.8).setBatchSize(32).setMaxIter(7).setSeed(11)
                .setRegParam(1e-3).setClipNorm(2).setSchedule("cosine").setMinStepSize(1e-4).setWarmupSteps(5)
                .setLocalSteps(8).setPrecision("float32").setSparse(true).setSparseUpdate("lazy")
                .setValidationFraction(0.25)
                .setEarlyStoppingMetric("val_loss").setEarlyStoppingPatience(2).setCheckpointInterval(100)
                .setMaxJobRetries(2).setNumPartitions(3).setWeightCol("w").setDropout(0.2)
                .setShuffle("window").setShuffleBuffer(6).setChunkBytes(1 << 20)
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        TrainingConfig fromFile = TrainingConfig.from(JobConfig.parse(String.join("\n", "model.layers = 4,8,3",
                "model.hidden-activation = leaky-relu", "train.optimizer = nesterov", "train.learning-rate = 0.05",
                "train.momentum = 0.8", "train.batch-size = 32", "train.epochs = 7", "train.seed = 11",
                "train.l2 = 0.001", "train.clip-norm = 2", "train.schedule = cosine",
                "train.schedule.min-learning-rate = 0.0001", "train.warmup-steps = 5", "train.local-steps = 8",
                "train.precision = float32", "data.sparse = true", "train.sparse-update = lazy",
                "data.validation-fraction = 0.25",
                "train.early-stopping.metric = val_loss", "train.early-stopping.patience = 2",
                "checkpoint.every-steps = 100", "train.max-job-retries = 2", "data.partitions = 3",
                "data.weight-column = w", "model.dropout = 0.2", "train.shuffle = window", "train.shuffle-buffer = 6",
                "data.chunk-bytes = 1048576", ""), "test.conf"));
        assertEquals(fromFile.data(), fromParams.data());
        assertEquals(fromFile.spec(), fromParams.spec());
        assertEquals(fromFile.model(), fromParams.model());
        assertTrue(fromParams.model().dropout().isActive());
        assertEquals(fromFile.optimization(), fromParams.optimization());
        assertEquals(fromFile.exchange(), fromParams.exchange());
        assertEquals(fromFile.stopping(), fromParams.stopping());
        assertEquals(fromFile.faults(), fromParams.faults());
        assertEquals(fromFile.checkpoints(), fromParams.checkpoints());
        // The estimator's config.conf reads back to the same values.
        assertEquals(fromParams.optimization(), TrainingConfig.from(JobConfig.parse(fromParams.text().render(),
                "rendered")).optimization());
        assertTrue(fromParams.text().render().contains("# from param stepSize\ntrain.learning-rate = 0.05\n"),
                fromParams.text().render());
    }

    @Test
    void everyParamOfAKeyHasTheSchemasDocAndDefault() {
        MlpRegressor stage = new MlpRegressor();
        int checked = 0;
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            if (key.param() == null || key == ConfigSchema.MODEL_OUTPUT_ACTIVATION) {
                continue;
            }
            Param<?> param = stage.getParam(key.param());
            assertTrue(param.doc().startsWith(key.name().equals("model.layers") ? "layer sizes" : key.description()),
                    key.name() + ": " + param.doc());
            Object expected = ParamsSource.toParam(key, key.defaultTyped());
            if (expected == null) {
                boolean text = key.kind() == ConfigKey.Kind.STRING || key.kind() == ConfigKey.Kind.PATH;
                assertEquals(text, stage.hasDefault(param), key.name());
            } else {
                Object actual = stage.getDefault(param).get();
                assertTrue(java.util.Objects.deepEquals(expected, actual), key.name() + ": " + expected + " vs " + actual);
            }
            checked++;
        }
        assertEquals(36, checked, "keys with an estimator param (all but the regressor's own outputActivation)");
    }

    @Test
    void paramValidatorsAreTheKeysOwnChecks() {
        assertThrows(IllegalArgumentException.class, () -> new MlpClassifier().setStepSize(0));
        assertThrows(IllegalArgumentException.class, () -> new MlpClassifier().setMomentum(1.0));
        assertThrows(IllegalArgumentException.class, () -> new MlpClassifier().setHiddenActivation("leaky-relu"));
        assertThrows(IllegalArgumentException.class, () -> new MlpClassifier().setEarlyStoppingMetric("val_f1"));
        new MlpClassifier().setHiddenActivation("leaky_relu").setEarlyStoppingMetric("val_accuracy");
    }

    @Test
    void errorsAcrossKeysNameTheParamAndWhereTheValueCameFrom() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MlpClassifier()
                .setLayers(new int[] {2, 2}).setStepSize(0.001).setSchedule("cosine").setMinStepSize(0.5)
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification")));
        for (String fragment : List.of("Param minStepSize", "train.schedule.min-learning-rate",
                "must be in [0, train.learning-rate]", "'0.5'", "param minStepSize")) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage() + " should contain " + fragment);
        }
        IllegalArgumentException regression = assertThrows(IllegalArgumentException.class, () -> new MlpRegressor()
                .setLayers(new int[] {2, 1}).setEarlyStoppingMetric("val_accuracy")
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "regression")));
        assertTrue(regression.getMessage().contains("Param earlyStoppingMetric")
                && regression.getMessage().contains("val_rmse or val_mae for regression"), regression.getMessage());
    }

    @Test
    void mllibsSolverAndTolMapToTheOptimizerAndEarlyStopping() {
        TrainingConfig gd = new MlpClassifier().setLayers(new int[] {2, 2}).setSolver("gd").setTol(1e-3)
                .trainingConfig(Map.of(ConfigSchema.MODEL_TASK, "classification"));
        assertEquals("sgd", gd.optimization().optimizer());
        assertEquals(0.03, gd.optimization().learningRate());
        assertEquals(new TrainingConfig.Stopping("train_loss", 1, 1e-3), gd.stopping());
        assertTrue(gd.text().render().contains("# from param solver=gd"), gd.text().render());
        assertArrayEquals(new int[] {2, 2}, gd.spec().sizes());
    }
}
