package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.SparkTestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML regressor: learns a linear target, honours sample weights, saves and loads. */
class MlpRegressorTest {

    @TempDir
    Path dir;

    /**
     * y = 0.5 x0 - 0.25 x1 + 0.1 for x uniform in [0, 1)²; with {@code corrupt}, every other row
     * gets y = 100 and weight 0 (the clean rows weight 1).
     */
    static Dataset<Row> data(SparkSession spark, int rows, long seed, boolean corrupt) {
        SplitMix64 random = new SplitMix64(seed);
        List<Row> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            double a = random.nextDouble();
            double b = random.nextDouble();
            boolean bad = corrupt && r % 2 == 1;
            out.add(RowFactory.create(Vectors.dense(a, b), bad ? 100.0 : 0.5 * a - 0.25 * b + 0.1, bad ? 0.0 : 1.0));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType)
                .add("w", DataTypes.DoubleType);
        return spark.createDataFrame(out, schema).coalesce(2);
    }

    static MlpRegressor regressor() {
        return new MlpRegressor().setLayers(new int[] {2, 1}).setMaxIter(40).setBatchSize(16).setStepSize(0.02)
                .setLocalSteps(8);
    }

    static double rmse(MlpRegressionModel model, Dataset<Row> data) {
        double sse = 0;
        List<Row> rows = model.transform(data).select("label", "prediction").collectAsList();
        for (Row r : rows) {
            double d = r.getDouble(0) - r.getDouble(1);
            sse += d * d;
        }
        return Math.sqrt(sse / rows.size());
    }

    @Test
    void learnsALinearTargetAndRoundTripsThroughSaveAndLoad() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = data(spark, 400, 1, false);
        Dataset<Row> test = data(spark, 200, 2, false);
        MlpRegressionModel model = regressor().setValidationFraction(0.25).fit(train);
        assertTrue(rmse(model, test) < 0.02, "RMSE " + rmse(model, test));
        assertEquals(rmse(model, test), model.metrics(test).rmse(), 1e-12, "metrics's RMSE is transform's");
        assertEquals(40, model.history().size());
        assertTrue(model.history().get(39).valRmse() < 0.02, model.history().get(39).toJson());
        // w ≈ (0.5, -0.25), b ≈ 0.1 (one output: W then b, MLlib's layout and the core's alike)
        double[] w = model.weights().toArray();
        assertEquals(0.5, w[0], 0.05);
        assertEquals(-0.25, w[1], 0.05);
        assertEquals(0.1, w[2], 0.05);

        String path = dir.resolve("regressor").toString();
        model.write().save(path);
        MlpRegressionModel loaded = MlpRegressionModel.load(path);
        assertArrayEquals(model.weights().toArray(), loaded.weights().toArray());
        assertEquals(model.transform(test).select("prediction").collectAsList(),
                loaded.transform(test).select("prediction").collectAsList());
    }

    @Test
    void rowsOfWeightZeroDoNotCount() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> clean = data(spark, 200, 3, false);
        // Half the rows say y = 100 with weight 0: with weightCol they change nothing that matters.
        MlpRegressionModel weighted = regressor().setWeightCol("w").fit(data(spark, 400, 4, true));
        assertTrue(rmse(weighted, clean) < 0.02, "weighted RMSE " + rmse(weighted, clean));
        MlpRegressionModel unweighted = regressor().fit(data(spark, 400, 4, true));
        assertTrue(rmse(unweighted, clean) > 10, "unweighted RMSE " + rmse(unweighted, clean));
    }

    @Test
    void aNetworkWithMoreThanOneOutputIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MlpRegressor().setLayers(new int[] {2, 2}).fit(data(SparkTestSupport.spark(), 10, 5, false)));
        assertTrue(e.getMessage().contains("layers must end in 1"), e.getMessage());
    }

    @Test
    void outputActivationBoundsPredictionsAndTransformMatchesPredict() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = data(spark, 300, 3, false);
        MlpRegressionModel model = regressor().setLayers(new int[] {2, 8, 1}).setOutputActivation("sigmoid")
                .setMaxIter(3).fit(train).setBlockSize(5);
        // Far outside the training range a linear output would leave (0, 1); a sigmoid cannot.
        Dataset<Row> far = spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(-50, 80)),
                RowFactory.create(Vectors.dense(60, -90)), RowFactory.create(Vectors.dense(0.3, 0.2))),
                new StructType().add("features", new VectorUDT()));
        for (Row r : model.transform(far).collectAsList()) {
            double p = r.getDouble(1);
            assertTrue(p >= 0 && p <= 1, "prediction " + p);
            assertEquals(model.predict(r.getAs(0)), p, 1e-12);
        }
        for (Row r : model.transform(data(spark, 40, 4, false).repartition(3)).collectAsList()) {
            assertEquals(model.predict(r.getAs(0)), r.getDouble(r.fieldIndex("prediction")), 1e-12);
        }
    }
}
