package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * What crosses the MLPC-compatible surface means what it means in MLlib (issue 13, items 2 and 3):
 * {@code initialWeights} and {@code weights()} in MLlib's layout, checked in both directions
 * against a real MLlib model; {@code rawPrediction} the output layer's logits, finite where the
 * softmax saturates, with {@code probability = softmax(rawPrediction)}.
 */
class MllibMeaningTest {

    private static final StructType SCHEMA = new StructType().add("features", SQLDataTypes.VectorType())
            .add("label", DataTypes.DoubleType);

    /** 90 rows of 3 well separated classes in the plane: centers (-2, 0), (2, 0), (0, 3), spread ±0.5. */
    private static Dataset<Row> threeClasses(SparkSession spark) {
        double[][] centers = {{-2, 0}, {2, 0}, {0, 3}};
        Random random = new Random(11);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 90; r++) {
            int c = r % 3;
            rows.add(RowFactory.create(Vectors.dense(centers[c][0] + random.nextDouble() - 0.5,
                    centers[c][1] + random.nextDouble() - 0.5), (double) c));
        }
        return spark.createDataFrame(rows, SCHEMA).coalesce(2);
    }

    @Test
    void mllibWeightsGiveMllibsPredictionsHereAndOurWeightsGiveOursInMllib() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> data = threeClasses(spark);
        MultilayerPerceptronClassificationModel mllib = new MultilayerPerceptronClassifier()
                .setLayers(new int[] {2, 5, 3}).setSeed(3L).setMaxIter(200).fit(data);
        assertEquals(90, correct(mllib.transform(data)), "MLlib separates the three clusters");

        // MLlib → sparkprop: a step of 1e-12 leaves MLlib's network as it is (to ~1e-12).
        MlpClassificationModel ours = new MlpClassifier().setLayers(new int[] {2, 5, 3})
                .setHiddenActivation("sigmoid").setOptimizer("sgd").setStepSize(1e-12).setMaxIter(1)
                .setInitialWeights(mllib.weights()).fit(data);
        assertEquals(90, correct(ours.transform(data)), "MLlib's weights score here as in MLlib");
        assertColumnsClose(mllib.transform(data), ours.transform(data), 1e-9);
        assertArrayEquals(mllib.weights().toArray(), ours.weights().toArray(), 1e-9,
                "weights() reads back in MLlib's layout");

        // sparkprop → MLlib: a network trained here, scored by MLlib's own model class.
        MlpClassificationModel trained = new MlpClassifier().setLayers(new int[] {2, 5, 3})
                .setHiddenActivation("sigmoid").setStepSize(0.05).setMaxIter(20).setBatchSize(16).setSeed(5L)
                .fit(data);
        MultilayerPerceptronClassificationModel inMllib =
                new MultilayerPerceptronClassificationModel("mllib-from-sparkprop", trained.weights());
        inMllib.set(inMllib.layers(), new int[] {2, 5, 3});
        assertColumnsClose(inMllib.transform(data), trained.transform(data), 1e-9);
    }

    /** Rows whose prediction equals their label. */
    private static long correct(Dataset<Row> scored) {
        return scored.filter("prediction = label").count();
    }

    /** Equal predictions, and rawPrediction and probability equal to {@code tolerance}, row by row. */
    private static void assertColumnsClose(Dataset<Row> expected, Dataset<Row> actual, double tolerance) {
        List<Row> e = expected.select("rawPrediction", "probability", "prediction").collectAsList();
        List<Row> a = actual.select("rawPrediction", "probability", "prediction").collectAsList();
        assertEquals(e.size(), a.size());
        for (int r = 0; r < e.size(); r++) {
            for (int c = 0; c < 2; c++) {
                assertArrayEquals(((Vector) e.get(r).get(c)).toArray(), ((Vector) a.get(r).get(c)).toArray(),
                        tolerance, "row " + r + " column " + c);
            }
            assertEquals(e.get(r).getDouble(2), a.get(r).getDouble(2), "row " + r + " prediction");
        }
    }

    @Test
    void rawPredictionHoldsFiniteLogitsWhereTheSoftmaxSaturates() {
        SparkSession spark = SparkTestSupport.spark();
        Random random = new Random(21);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 80; r++) {
            double a = 2 * random.nextDouble() - 1;
            double b = 2 * random.nextDouble() - 1;
            rows.add(RowFactory.create(Vectors.dense(a, b), a + b > 0 ? 1.0 : 0.0));
        }
        Dataset<Row> train = spark.createDataFrame(rows, SCHEMA).coalesce(2);
        MlpClassificationModel model = new MlpClassifier().setLayers(new int[] {2, 8, 2}).setMaxIter(30)
                .setStepSize(0.05).setBatchSize(16).setSeed(1L).fit(train);

        List<Row> scoring = new ArrayList<>(rows.subList(0, 20));
        for (double x : new double[] {-900, -400, 400, 900}) {
            scoring.add(RowFactory.create(Vectors.dense(x, 0), x > 0 ? 1.0 : 0.0));
        }
        Dataset<Row> scored = model.transform(spark.createDataFrame(scoring, SCHEMA).coalesce(1));
        List<Row> out = scored.select("features", "rawPrediction", "probability", "label").collectAsList();
        double[] w = model.weights().toArray();
        boolean saturated = false;
        for (Row row : out) {
            double[] x = ((Vector) row.get(0)).toArray();
            double[] raw = ((Vector) row.get(1)).toArray();
            double[] probability = ((Vector) row.get(2)).toArray();
            double[] logits = logits(w, x);
            for (int k = 0; k < 2; k++) {
                assertTrue(Double.isFinite(raw[k]), "rawPrediction " + java.util.Arrays.toString(raw) + " at "
                        + java.util.Arrays.toString(x));
                assertEquals(logits[k], raw[k], 1e-9 * Math.max(1, Math.abs(logits[k])), "logit " + k);
            }
            // probability = softmax(rawPrediction): p_1 = 1 / (1 + exp(raw_0 - raw_1)).
            assertEquals(1 / (1 + Math.exp(raw[0] - raw[1])), probability[1], 1e-15);
            assertEquals(1 / (1 + Math.exp(raw[1] - raw[0])), probability[0], 1e-15);
            saturated |= probability[0] == 0.0 || probability[1] == 0.0;
        }
        assertTrue(saturated, "some far row's softmax rounds a probability to 0 (log would be -Infinity)");
        assertEquals(model.raw2probability(Vectors.dense(((Vector) out.get(0).get(1)).toArray())),
                out.get(0).get(2), "the per-row method agrees");

        // The evaluator ranks by rawPrediction[1]; with finite logits that is the ranking of the logits.
        double auc = new BinaryClassificationEvaluator().setRawPredictionCol("rawPrediction").evaluate(scored);
        assertEquals(auc(out), auc, 1e-12);
    }

    /**
     * The logits of a 2-8-2 ReLU network from MLlib-layout weights, by hand: per layer
     * {@code W (out, in)} column-major, {@code W[i][j]} at {@code offset + i + j·out}, then b.
     */
    private static double[] logits(double[] w, double[] x) {
        double[] h = new double[8];
        for (int i = 0; i < 8; i++) {
            double a = w[16 + i];
            for (int j = 0; j < 2; j++) {
                a += w[i + j * 8] * x[j];
            }
            h[i] = Math.max(0, a);
        }
        int offset = 24;
        double[] z = new double[2];
        for (int i = 0; i < 2; i++) {
            double a = w[offset + 16 + i];
            for (int j = 0; j < 8; j++) {
                a += w[offset + i + j * 2] * h[j];
            }
            z[i] = a;
        }
        return z;
    }

    /** The area under the ROC curve of score rawPrediction[1], by pairs: P(positive > negative) + ties / 2. */
    private static double auc(List<Row> rows) {
        double pairs = 0;
        double wins = 0;
        for (Row p : rows) {
            if (p.getDouble(3) != 1.0) {
                continue;
            }
            for (Row n : rows) {
                if (n.getDouble(3) != 0.0) {
                    continue;
                }
                double sp = ((Vector) p.get(1)).apply(1);
                double sn = ((Vector) n.get(1)).apply(1);
                pairs++;
                wins += sp > sn ? 1 : sp == sn ? 0.5 : 0;
            }
        }
        return wins / pairs;
    }
}
