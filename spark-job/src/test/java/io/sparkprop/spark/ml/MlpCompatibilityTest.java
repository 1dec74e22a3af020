package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.MapPartitions;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/**
 * MLlib's {@code MultilayerPerceptronClassifier} users switch by changing the class name: the same
 * setters and getters, {@code solver} and {@code tol} with their meaning here, and a
 * {@code transform} that gives what the per-row methods give without shipping the weights in tasks.
 */
class MlpCompatibilityTest {

    @Test
    void everyMllibSetterAndGetterExistsWithTheSameSignature() {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Method m : MultilayerPerceptronClassifier.class.getMethods()) {
            if (!m.getName().matches("(set|get)[A-Z].*") || m.getName().startsWith("getNumClasses")) {
                continue;
            }
            checked++;
            try {
                Method ours = MlpClassifier.class.getMethod(m.getName(), m.getParameterTypes());
                if (m.getName().startsWith("get") && !ours.getReturnType().equals(m.getReturnType())) {
                    missing.add(m.getName() + " returns " + ours.getReturnType());
                }
            } catch (NoSuchMethodException e) {
                missing.add(m.getName() + java.util.Arrays.toString(m.getParameterTypes()));
            }
        }
        assertTrue(checked > 30, "MLlib's class has " + checked + " setters and getters");
        assertEquals(List.of(), missing);
    }

    @Test
    void theModelHasEveryGetterAndParamOfMllibsModel() {
        // MLlib's model carries its estimator's params (MultilayerPerceptronParams): tuning code reads
        // bestModel.getStepSize() or getParam("stepSize").
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Method m : org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel.class.getMethods()) {
            boolean getter = m.getName().matches("get[A-Z].*") && m.getParameterCount() == 0;
            boolean param = m.getParameterCount() == 0
                    && org.apache.spark.ml.param.Param.class.isAssignableFrom(m.getReturnType());
            if (!getter && !param) {
                continue;
            }
            checked++;
            try {
                Method ours = MlpClassificationModel.class.getMethod(m.getName());
                if (!ours.getReturnType().equals(m.getReturnType())
                        && !m.getReturnType().isAssignableFrom(ours.getReturnType())) {
                    missing.add(m.getName() + " returns " + ours.getReturnType());
                }
            } catch (NoSuchMethodException e) {
                missing.add(m.getName());
            }
        }
        assertTrue(checked > 20, "MLlib's model has " + checked + " getters and params");
        assertEquals(List.of(), missing);

        SparkSession spark = SparkTestSupport.spark();
        MlpClassificationModel model = MlpClassifierTest.classifier().setMaxIter(2).setStepSize(0.02).setRegParam(0.001)
                .fit(MlpClassifierTest.vectors(spark, 100, 5));
        assertEquals(0.02, model.getStepSize());
        assertEquals(2, model.getMaxIter());
        assertEquals(0.001, model.getOrDefault(model.getParam("regParam")));
        assertEquals(7L, model.getSeed());
    }

    @Test
    void mllibsExampleRunsUnchangedButForTheClassName() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 400, 21);
        // Spark's documentation example, with our class name (and fewer epochs).
        MlpClassifier trainer = new MlpClassifier().setLayers(new int[] {3, 8, 3}).setBlockSize(128).setSeed(1234L)
                .setMaxIter(3);
        MlpClassificationModel model = trainer.fit(train);
        assertEquals(3, model.numFeatures());
        assertEquals(3, model.numClasses());
        assertArrayEquals(new int[] {3, 8, 3}, model.getLayers());
        assertEquals(3 * 8 + 8 + 8 * 3 + 3, model.weights().size());
        assertEquals(128, model.getBlockSize(), "blockSize goes from the estimator to the model");
        assertEquals(3, model.history().size());
    }

    @Test
    void solverGdIsPlainSgdAndLbfgsIsRefusedByName() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 200, 22);
        MlpClassifier gdClassifier = MlpClassifierTest.classifier().setSolver("gd").setMaxIter(2);
        gdClassifier.clear(gdClassifier.stepSize());
        double[] gd = gdClassifier.fit(train).weights().toArray();
        double[] sgd = MlpClassifierTest.classifier().setOptimizer("sgd").setStepSize(0.03).setMaxIter(2).fit(train)
                .weights().toArray();
        assertArrayEquals(sgd, gd, "solver=gd is sgd with MLlib's stepSize 0.03");
        IllegalArgumentException lbfgs = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setSolver("l-bfgs").fit(train));
        assertTrue(lbfgs.getMessage().contains("solver=l-bfgs") && lbfgs.getMessage().contains("no L-BFGS"),
                lbfgs.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setSolver("gd").setOptimizer("adam").fit(train));
        assertTrue(both.getMessage().contains("optimizer is set to adam"), both.getMessage());
    }

    @Test
    void tolStopsWhenTheTrainingLossStopsImprovingAndKeepsTheBestEpoch() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 23);
        // No epoch improves on the first by 1e9: patience 1 stops after the second, keeping the first.
        MlpClassificationModel stopped = MlpClassifierTest.classifier().setTol(1e9).fit(train);
        assertEquals(2, stopped.history().size());
        double[] oneEpoch = MlpClassifierTest.classifier().setMaxIter(1).fit(train).weights().toArray();
        assertArrayEquals(oneEpoch, stopped.weights().toArray());
        // With tol 0, every epoch but the last lowered the training loss, and the last (if before
        // maxIter) did not.
        List<io.sparkprop.spark.train.EpochMetrics> history = MlpClassifierTest.classifier().setTol(0).fit(train)
                .history();
        assertTrue(history.size() > 2, "stopped after " + history.size() + " epochs");
        for (int e = 1; e < history.size(); e++) {
            boolean lower = history.get(e).trainLoss() < history.get(e - 1).trainLoss();
            assertEquals(e < history.size() - 1 || history.size() == 30, lower, "epoch " + (e + 1));
        }
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> MlpClassifierTest
                .classifier().setTol(1e-3).setValidationFraction(0.2).setEarlyStoppingMetric("val_loss").fit(train));
        assertTrue(both.getMessage().contains("set one of them"), both.getMessage());
    }

    @Test
    void transformGivesWhatThePerRowMethodsGiveAndShipsNoWeightsInTasks() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 24);
        // Wide enough that the weights (57k doubles) would show in a task closure's size.
        MlpClassificationModel model = MlpClassifierTest.classifier().setLayers(new int[] {3, 8192, 3}).setMaxIter(1)
                .fit(train).setBlockSize(7);
        Dataset<Row> test = MlpClassifierTest.vectors(spark, 250, 25).repartition(3);
        for (double[] thresholds : new double[][] {null, {0.5, 0.25, 0.05}}) {
            if (thresholds != null) {
                model.setThresholds(thresholds);
            }
            List<Row> rows = model.transform(test).select("features", "rawPrediction", "probability", "prediction")
                    .collectAsList();
            assertEquals(250, rows.size());
            for (Row r : rows) {
                Vector features = r.getAs(0);
                assertClose(model.predictRaw(features), r.getAs(1));
                assertClose(model.predictProbability(features), r.getAs(2));
                assertEquals(model.predict(features), r.getDouble(3), "Spark's prediction rule, thresholds "
                        + java.util.Arrays.toString(thresholds));
            }
        }
        // Only the prediction column, as Spark allows.
        assertEquals(List.of("features", "label", "prediction"), List.of(model.copy(new org.apache.spark.ml.param
                .ParamMap()).setRawPredictionCol("").setProbabilityCol("").transform(test).columns()));

        // The partition function in the plan holds a broadcast handle, not the 458 KB of weights.
        byte[] closure = serialize(mapPartitionsFunction(model.transform(test).queryExecution().analyzed()));
        assertTrue(closure.length < 20_000, "the task function serializes to " + closure.length + " bytes");
        assertTrue(serialize(model).length > 400_000, "the model itself is large");
    }

    private static void assertClose(Vector expected, Vector actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.apply(i), actual.apply(i), 1e-12 * Math.max(1, Math.abs(expected.apply(i))));
        }
    }

    private static Object mapPartitionsFunction(LogicalPlan plan) {
        if (plan instanceof MapPartitions m) {
            return m.func();
        }
        for (LogicalPlan child : CollectionConverters.asJava(plan.children())) {
            Object found = mapPartitionsFunction(child);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static byte[] serialize(Object o) throws Exception {
        assertTrue(o != null, "a MapPartitions node in the plan");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }
}
