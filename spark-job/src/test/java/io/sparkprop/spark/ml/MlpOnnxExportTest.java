package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.OnnxRuntimeSupport;
import io.sparkprop.spark.SparkTestSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fitted models' {@code exportOnnx}: the graph, run in ONNX Runtime on the features of a
 * DataFrame, gives the model's own {@code transform} columns (rawPrediction, probability,
 * prediction; a regression's prediction) to 1e-6 as float32 and 1e-12 as float64.
 */
class MlpOnnxExportTest {

    @TempDir
    Path dir;

    @Test
    void aClassifiersGraphGivesItsTransformColumns() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        MlpClassificationModel model = MlpClassifierTest.classifier().setMaxIter(5)
                .fit(MlpClassifierTest.vectors(spark, 300, 1));
        List<Row> rows = model.transform(MlpClassifierTest.vectors(spark, 80, 2))
                .select("features", "rawPrediction", "probability", "prediction").collectAsList();
        for (String precision : List.of("float32", "float64")) {
            Path onnx = dir.resolve("classifier-" + precision + ".onnx");
            if (precision.equals("float32")) {
                model.exportOnnx(onnx.toString());
            } else {
                model.exportOnnx(onnx.toString(), precision);
            }
            boolean float32 = precision.equals("float32");
            Map<String, double[][]> got = OnnxRuntimeSupport.run(onnx, features(rows, float32), float32);
            double tolerance = float32 ? 1e-6 : 1e-12;
            for (int r = 0; r < rows.size(); r++) {
                if (float32) {
                    // transform saw the double features; compare on the float-rounded ones it would see.
                    Vector x = org.apache.spark.ml.linalg.Vectors.dense(features(rows, true)[r]);
                    assertClose(model.predictRaw(x).toArray(), got.get("rawPrediction")[r], tolerance, "rawPrediction");
                    assertClose(model.predictProbability(x).toArray(), got.get("probability")[r], tolerance,
                            "probability");
                    assertEquals(model.predict(x), got.get("prediction")[r][0], "prediction of row " + r);
                    continue;
                }
                assertClose(((Vector) rows.get(r).get(1)).toArray(), got.get("rawPrediction")[r], tolerance,
                        "rawPrediction");
                assertClose(((Vector) rows.get(r).get(2)).toArray(), got.get("probability")[r], tolerance,
                        "probability");
                assertEquals(rows.get(r).getDouble(3), got.get("prediction")[r][0], "prediction of row " + r);
            }
        }
    }

    @Test
    void aRegressionsGraphGivesItsPredictions() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        MlpRegressionModel model = MlpRegressorTest.regressor().setMaxIter(5)
                .fit(MlpRegressorTest.data(spark, 200, 1, false));
        Dataset<Row> test = MlpRegressorTest.data(spark, 50, 2, false);
        List<Row> rows = model.transform(test).select("features", "prediction").collectAsList();
        Path onnx = dir.resolve("regression.onnx");
        model.exportOnnx(onnx.toString(), "float64");
        assertEquals(List.of("prediction"), OnnxRuntimeSupport.outputNames(onnx));
        double[][] got = OnnxRuntimeSupport.run(onnx, features(rows, false), false).get("prediction");
        for (int r = 0; r < rows.size(); r++) {
            assertClose(new double[] {rows.get(r).getDouble(1)}, got[r], 1e-12, "prediction of row " + r);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.exportOnnx(dir.resolve("x.onnx").toString(), "half"));
        assertTrue(e.getMessage().contains("Unknown precision 'half'"), e.getMessage());
    }

    private static double[][] features(List<Row> rows, boolean float32) {
        double[][] x = new double[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            x[r] = ((Vector) rows.get(r).get(0)).toArray().clone(); // a DenseVector's toArray is its own array
            if (float32) {
                for (int j = 0; j < x[r].length; j++) {
                    x[r][j] = (float) x[r][j];
                }
            }
        }
        return x;
    }

    private static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int j = 0; j < expected.length; j++) {
            double error = Math.abs(expected[j] - actual[j]) / Math.max(1.0, Math.abs(expected[j]));
            assertTrue(error <= tolerance, String.format(Locale.ROOT, "%s, value %d: expected %s got %s", what, j,
                    expected[j], actual[j]));
        }
    }
}
