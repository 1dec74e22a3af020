package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.split;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkprop.core.Activation;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.LayerSpec;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.cli.ModelDataCommands;
import io.sparkprop.spark.report.EvaluationMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Per-class precision, recall and F1, confusion matrices and R², on networks whose predictions
 * are known by construction (identity weights), checked against counts done by hand. Two
 * partitions, so the sums are merged.
 */
class EvaluationMetricsTest {

    @Test
    void softmaxConfusionAndPerClassScoresMatchAHandCount() throws Exception {
        // 3 -> 3 softmax with W = I, b = 0: the predicted class is the arg-max of x.
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(3, 3, Activation.SOFTMAX)),
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
        // rows (x as a one-hot of the predicted class, true class, weight):
        // pred 0 true 0; pred 1 true 0; pred 2 true 2; pred 1 true 1; pred 0 true 1; pred 2 true 2 (weight 2)
        int[] predicted = {0, 1, 2, 1, 0, 2};
        int[] truth = {0, 0, 2, 1, 1, 2};
        double[] weights = {1, 1, 1, 1, 1, 2};
        double[] x = new double[18];
        double[] y = new double[18];
        for (int r = 0; r < 6; r++) {
            x[3 * r + predicted[r]] = 1;
            y[3 * r + truth[r]] = 1;
        }
        EvaluationSums sums = evaluate(spec, params, new DataBlock(6, 3, 3, x, y, weights));
        // [true][predicted]: true 0 -> {1, 1, 0}; true 1 -> {1, 1, 0}; true 2 -> {0, 0, 3}
        assertArrayEquals(new double[] {1, 1, 0, 1, 1, 0, 0, 0, 3}, sums.confusion());
        assertEquals(5.0 / 7, sums.accuracy(), 1e-15);
        double[][] perClass = sums.perClass();
        // class 0: tp 1 of 2 predicted and 2 true; class 1 the same; class 2: 3 of 3 and 3.
        assertArrayEquals(new double[] {0.5, 0.5, 0.5, 2}, perClass[0], 1e-15);
        assertArrayEquals(new double[] {0.5, 0.5, 0.5, 2}, perClass[1], 1e-15);
        assertArrayEquals(new double[] {1, 1, 1, 3}, perClass[2], 1e-15);
        assertTrue(Double.isNaN(sums.r2()));

        EvaluationMetrics metrics = new EvaluationMetrics(sums.rows(), sums.meanLoss(),
                sums.accuracy(), Double.NaN, Double.NaN, sums.r2(), perClass, sums.confusion(), false);
        JsonNode json = new ObjectMapper().readTree(metrics.toJson());
        assertEquals(3, json.get("per_class").size());
        assertEquals(0.5, json.get("per_class").get(1).get("f1").asDouble());
        assertEquals(3.0, json.get("confusion").get(2).get(2).asDouble());
        assertEquals(1.0, json.get("confusion").get(1).get(0).asDouble());
        String text = metrics.toText();
        assertTrue(text.contains("accuracy 71.43%") && text.contains("confusion matrix"), text);
    }

    @Test
    void sigmoidLabelsGetTheirOwnTwoByTwoCounts() throws Exception {
        // 2 -> 2 sigmoid with W = I, b = 0: label j is predicted positive when x_j >= 0.
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(2, 2, Activation.SIGMOID)),
                Loss.BINARY_CROSS_ENTROPY);
        double[] params = {1, 0, 0, 1, 0, 0};
        double[] x = {1, -1, -1, 1, 1, 1};
        double[] y = {1, 0, 1, 1, 0, 1};
        EvaluationSums sums = evaluate(spec, params, new DataBlock(3, 2, 2, x, y, null));
        // label 0: (pred 1, true 1) tp, (0, 1) fn, (1, 0) fp; label 1: tn, tp, tp. Layout {tn, fp, fn, tp}.
        assertArrayEquals(new double[] {0, 1, 1, 1, 1, 0, 0, 2}, sums.confusion());
        assertArrayEquals(new double[] {0.5, 0.5, 0.5, 2}, sums.perClass()[0], 1e-15);
        assertArrayEquals(new double[] {1, 1, 1, 2}, sums.perClass()[1], 1e-15);
        EvaluationMetrics metrics = new EvaluationMetrics(sums.rows(), sums.meanLoss(),
                sums.accuracy(), Double.NaN, Double.NaN, sums.r2(), sums.perClass(), sums.confusion(), true);
        JsonNode json = new ObjectMapper().readTree(metrics.toJson());
        assertEquals(2, json.get("per_label").size());
        // label 0's 2 x 2 matrix [true][predicted]: {{tn, fp}, {fn, tp}} = {{0, 1}, {1, 1}}
        assertEquals(1.0, json.get("confusion").get(0).get(0).get(1).asDouble());
        assertEquals(0.0, json.get("confusion").get(0).get(0).get(0).asDouble());
    }

    @Test
    void regressionRSquaredMatchesAHandComputation() throws Exception {
        // 1 -> 1 identity with w = 1, b = 0.5: predictions x + 0.5 = 0.5, 1.5, 2.5, 3.5 for targets
        // 0, 1, 3, 2. Residuals 0.5, 0.5, -0.5, 1.5: SS_res = 3; mean 1.5: SS_tot = 5; R² = 0.4.
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(1, 1, Activation.IDENTITY)), Loss.MSE);
        EvaluationSums sums = evaluate(spec, new double[] {1, 0.5},
                new DataBlock(4, 1, 1, new double[] {0, 1, 2, 3}, new double[] {0, 1, 3, 2}, null));
        assertEquals(0.4, sums.r2(), 1e-14);
        assertEquals(Math.sqrt(3.0 / 4), sums.rmse(), 1e-14);
        assertEquals(0.75, sums.mae(), 1e-14);
        assertEquals(0, sums.perClass().length);
        EvaluationMetrics metrics = new EvaluationMetrics(sums.rows(), sums.meanLoss(), Double.NaN,
                sums.rmse(), sums.mae(), sums.r2(), sums.perClass(), sums.confusion(), false);
        assertEquals(0.4, new ObjectMapper().readTree(metrics.toJson()).get("r2").asDouble(), 1e-14);
        assertTrue(metrics.toText().contains("R² 0.4000"), metrics.toText());
    }

    private static EvaluationSums evaluate(NetworkSpec spec, double[] params, DataBlock data) {
        return DistributedTrainer.evaluate(sc(), spec, cache(sc(), split(data, 2)), params, "metrics test");
    }

    @Test
    void theJsonIsValidForADivergedModelAndWritesLargeCountsWhole() throws Exception {
        // A NaN loss and an infinite RMSE were written as bare NaN and Infinity (not JSON), and a
        // weighted count of 12,000,000 as 1.2E7.
        EvaluationMetrics regression = new EvaluationMetrics(3, Double.NaN, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NaN, Double.NaN, new double[0][], new double[0], false);
        JsonNode json = new ObjectMapper().readTree(regression.toJson());
        assertTrue(json.get("loss").isNull() && json.get("rmse").isNull() && json.get("mae").isNull(), json.toString());
        EvaluationMetrics classes = new EvaluationMetrics(24_000_000L, 0.25, 0.5, Double.NaN, Double.NaN, Double.NaN,
                new double[][] {{0.5, 0.5, 0.5, 12_000_000}, {0.5, 0.5, 0.5, 12_000_000.5}},
                new double[] {6_000_000, 6_000_000, 6_000_000, 6_000_000}, false);
        String text = classes.toJson();
        assertTrue(text.contains("\"support\":12000000}") && text.contains("[[6000000,6000000]"), text);
        assertEquals(12_000_000.5, new ObjectMapper().readTree(text).get("per_class").get(1).get("support").asDouble());
    }
}
