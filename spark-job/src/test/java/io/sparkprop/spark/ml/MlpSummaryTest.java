package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationSummary;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationTrainingSummary;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MLPC's summary API (issue 13, item 6): {@code summary()}, {@code hasSummary()},
 * {@code evaluate(df)} with MLlib's types, so code written against MLlib's model runs unchanged
 * on ours; the values checked against metrics computed here from the scored rows. The regressor
 * has the analogue with RMSE, MAE and R².
 */
class MlpSummaryTest {

    @TempDir
    Path dir;

    /**
     * Code written for MLlib's MLPC model, as a user has it: it takes MLlib's summary types and
     * reads what MLlib's documentation shows. Returns {@code (totalIterations, accuracy,
     * weightedPrecision, weightedRecall, weightedFMeasure, evaluated accuracy)}.
     */
    static double[] mllibStyleReport(MultilayerPerceptronClassificationTrainingSummary summary,
                                     MultilayerPerceptronClassificationSummary evaluated) {
        double[] objectiveHistory = summary.objectiveHistory();
        assertEquals(summary.totalIterations() + 1, objectiveHistory.length, "MLlib's count: the start, then each");
        assertEquals(summary.labels().length, summary.precisionByLabel().length);
        assertEquals(summary.labels().length, summary.fMeasureByLabel().length);
        return new double[] {summary.totalIterations(), summary.accuracy(), summary.weightedPrecision(),
            summary.weightedRecall(), summary.weightedFMeasure(), evaluated.accuracy()};
    }

    @Test
    void mllibSummaryCodeRunsUnchangedOnOurModelWithTheRightValues() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 31).cache();
        Dataset<Row> test = MlpClassifierTest.vectors(spark, 200, 32).cache();

        MultilayerPerceptronClassificationModel mllib = new MultilayerPerceptronClassifier()
                .setLayers(new int[] {3, 8, 3}).setSeed(1L).setMaxIter(20).fit(train);
        double[] theirs = mllibStyleReport(mllib.summary(), mllib.evaluate(test));
        assertTrue(mllib.hasSummary());
        assertEquals(accuracy(mllib.transform(test)), theirs[5], 1e-12, "the report reads MLlib's meaning");

        MlpClassificationModel model = MlpClassifierTest.classifier().setMaxIter(12).fit(train);
        assertTrue(model.hasSummary());
        double[] ours = mllibStyleReport(model.summary(), model.evaluate(test));
        assertEquals(12, ours[0], "an iteration is an epoch");
        double[] objective = model.summary().objectiveHistory();
        double[] losses = model.history().stream().mapToDouble(m -> m.trainLoss()).toArray();
        assertArrayEquals(losses, java.util.Arrays.copyOfRange(objective, 1, 13), "then train_loss by epoch");
        // Entry 0, by hand: with every weight and bias c the three logits are equal, so each row's
        // cross-entropy is log 3, and L2 adds λ/2 · 96 weights · c² over the 300 rows.
        double c = 0.1;
        double lambda = 0.5;
        double[] start = MlpClassifierTest.classifier().setMaxIter(1).setRegParam(lambda)
                .setInitialWeights(org.apache.spark.ml.linalg.Vectors.dense(filled(3 * 16 + 16 + 16 * 3 + 3, c)))
                .fit(train).summary().objectiveHistory();
        assertEquals(2, start.length);
        assertEquals(Math.log(3) + lambda / 2 * 96 * c * c / 300, start[0], 1e-12, "the objective at the start");

        Dataset<Row> scoredTrain = model.transform(train);
        double[] byHand = weightedMetrics(scoredTrain);
        assertEquals(byHand[0], ours[1], 1e-12, "accuracy");
        assertEquals(byHand[1], ours[2], 1e-12, "weightedPrecision");
        assertEquals(byHand[2], ours[3], 1e-12, "weightedRecall");
        assertEquals(byHand[3], ours[4], 1e-12, "weightedFMeasure");
        assertEquals(accuracy(model.transform(test)), ours[5], 1e-12, "evaluate(test).accuracy");
        assertEquals(model.metrics(test).accuracy(), ours[5], 1e-12, "sparkprop's metrics agree");

        assertTrue(model.copy(new org.apache.spark.ml.param.ParamMap()).hasSummary(), "a copy keeps the summary");
        String path = dir.resolve("model").toString();
        model.write().save(path);
        MlpClassificationModel loaded = MlpClassificationModel.load(path);
        assertFalse(loaded.hasSummary(), "a loaded model has no training summary, as in MLlib");
        assertThrows(SparkException.class, loaded::summary);
        assertEquals(ours[5], loaded.evaluate(test).accuracy(), 1e-12, "a loaded model evaluates");
    }

    @Test
    void theTrainingSummaryWeighsRowsByTheFitsWeightColumn() {
        SparkSession spark = SparkTestSupport.spark();
        // Weight 3 on rows whose first feature is above 0.5, 1 elsewhere.
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 33)
                .withColumn("w", functions.when(org.apache.spark.ml.functions.vector_to_array(functions.col("features"),
                        "float64").getItem(0).gt(0.5), 3.0)
                        .otherwise(1.0))
                .cache();
        MlpClassificationModel model = MlpClassifierTest.classifier().setMaxIter(3).setWeightCol("w").fit(train);
        assertEquals("w", model.summary().weightCol());
        List<Row> rows = model.transform(train).select("prediction", "label", "w").collectAsList();
        double right = 0;
        double total = 0;
        for (Row r : rows) {
            total += r.getDouble(2);
            right += r.getDouble(0) == r.getDouble(1) ? r.getDouble(2) : 0;
        }
        assertEquals(right / total, model.summary().accuracy(), 1e-12, "weighted accuracy");
    }

    @Test
    void theRegressorsSummaryHasRmseMaeAndR2() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpRegressorTest.data(spark, 200, 1, false).cache();
        Dataset<Row> test = MlpRegressorTest.data(spark, 100, 2, false).cache();
        MlpRegressionModel model = MlpRegressorTest.regressor().setMaxIter(5).fit(train);
        assertTrue(model.hasSummary());
        assertEquals(5, model.summary().totalIterations());
        assertEquals(200, model.summary().numInstances());

        MlpRegressionSummary evaluated = model.evaluate(test);
        List<Row> rows = model.transform(test).select("prediction", "label").collectAsList();
        double sse = 0;
        double sae = 0;
        double mean = 0;
        for (Row r : rows) {
            mean += r.getDouble(1) / rows.size();
        }
        double sst = 0;
        for (Row r : rows) {
            double e = r.getDouble(1) - r.getDouble(0);
            sse += e * e;
            sae += Math.abs(e);
            sst += (r.getDouble(1) - mean) * (r.getDouble(1) - mean);
        }
        assertEquals(Math.sqrt(sse / rows.size()), evaluated.rootMeanSquaredError(), 1e-12);
        assertEquals(sse / rows.size(), evaluated.meanSquaredError(), 1e-12);
        assertEquals(sae / rows.size(), evaluated.meanAbsoluteError(), 1e-12);
        assertEquals(1 - sse / sst, evaluated.r2(), 1e-12);
        assertEquals(100, evaluated.residuals().count());
        assertEquals(model.metrics(test).rmse(), evaluated.rootMeanSquaredError(), 1e-12);
    }

    private static double[] filled(int n, double value) {
        double[] values = new double[n];
        java.util.Arrays.fill(values, value);
        return values;
    }

    /** Unweighted accuracy of scored rows. */
    private static double accuracy(Dataset<Row> scored) {
        List<Row> rows = scored.select("prediction", "label").collectAsList();
        return rows.stream().filter(r -> r.getDouble(0) == r.getDouble(1)).count() / (double) rows.size();
    }

    /**
     * Accuracy and MLlib's weighted precision, recall and F1 (each label's value weighted by its
     * share of the rows), from the confusion counts of {@code scored}.
     */
    private static double[] weightedMetrics(Dataset<Row> scored) {
        List<Row> rows = scored.select("prediction", "label").collectAsList();
        int k = 3;
        double[][] confusion = new double[k][k];
        for (Row r : rows) {
            confusion[(int) r.getDouble(1)][(int) r.getDouble(0)]++;
        }
        double n = rows.size();
        double correct = 0;
        double precision = 0;
        double recall = 0;
        double f1 = 0;
        for (int c = 0; c < k; c++) {
            double tp = confusion[c][c];
            double actual = 0;
            double predicted = 0;
            for (int j = 0; j < k; j++) {
                actual += confusion[c][j];
                predicted += confusion[j][c];
            }
            correct += tp;
            double p = predicted == 0 ? 0 : tp / predicted;
            double rc = actual == 0 ? 0 : tp / actual;
            double f = p + rc == 0 ? 0 : 2 * p * rc / (p + rc);
            precision += p * actual / n;
            recall += rc * actual / n;
            f1 += f * actual / n;
        }
        return new double[] {correct / n, precision, recall, f1};
    }
}
