package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Evaluation sums on networks whose outputs are known by construction, checked against counts
 * and sums done by hand in the comments; merging the sums of two halves gives the whole's.
 */
class EvaluationSumsTest {

    private static final double TOL = 1e-14;

    /*
     * 3 -> 3 softmax with W = I, b = 0, and x a one-hot of the predicted class, so the logits are
     * e_pred and p(true) = e / (e + 2) when pred = true, 1 / (e + 2) otherwise.
     * Rows (predicted, true, weight): (0, 0, 1), (1, 0, 2), (2, 1, 1), (1, 1, 1), (2, 2, 0.5).
     *   confusion [true][predicted]: true 0 -> {1, 2, 0}; true 1 -> {0, 1, 1}; true 2 -> {0, 0, 0.5}
     *   accuracy = (1 + 1 + 0.5) / 5.5 = 5/11
     *   class 0: tp 1, predicted 1, actual 3: precision 1, recall 1/3, F1 = 2·(1/3)/(4/3) = 1/2
     *   class 1: tp 1, predicted 3, actual 2: precision 1/3, recall 1/2, F1 = 2·(1/6)/(5/6) = 2/5
     *   class 2: tp 0.5, predicted 1.5, actual 0.5: precision 1/3, recall 1, F1 = 1/2
     *   loss: right rows (weight 2.5) ln(e + 2) - 1 each, wrong rows (weight 3) ln(e + 2) each:
     *   mean = ln(e + 2) - 2.5/5.5
     */
    @Test
    void softmaxConfusionAndScoresMatchAHandCount() {
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(3, 3, Activation.SOFTMAX)),
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
        int[] predicted = {0, 1, 2, 1, 2};
        int[] truth = {0, 0, 1, 1, 2};
        double[] x = new double[15];
        double[] y = new double[15];
        for (int r = 0; r < 5; r++) {
            x[3 * r + predicted[r]] = 1;
            y[3 * r + truth[r]] = 1;
        }
        DataBlock data = new DataBlock(5, 3, 3, x, y, new double[] {1, 2, 1, 1, 0.5});
        // Passes of 2 rows: three of them over five rows.
        EvaluationSums sums = new EvaluationSums(spec).add(new Network(spec), params, data, new Workspace(spec, 2));

        assertArrayEquals(new double[] {1, 2, 0, 0, 1, 1, 0, 0, 0.5}, sums.confusion(), 0.0);
        assertEquals(5.0 / 11, sums.accuracy(), TOL);
        double[][] perClass = sums.perClass();
        assertArrayEquals(new double[] {1, 1.0 / 3, 0.5, 3}, perClass[0], TOL);
        assertArrayEquals(new double[] {1.0 / 3, 0.5, 0.4, 2}, perClass[1], TOL);
        assertArrayEquals(new double[] {1.0 / 3, 1, 0.5, 0.5}, perClass[2], TOL);
        assertEquals(Math.log(Math.E + 2) - 2.5 / 5.5, sums.meanLoss(), TOL);
        assertEquals(5, sums.rows());
        assertEquals(5.5, sums.weightSum(), 0.0);
        assertTrue(Double.isNaN(sums.r2()));
        assertEquals(sums.accuracy(), Evaluation.accuracy(new Network(spec), params, data), 0.0);
        assertEquals(sums.meanLoss(), Evaluation.meanLoss(new Network(spec), params, data), TOL);
    }

    /*
     * 1 -> 2 linear with W = (1, 2)ᵀ, b = 0: ŷ = (x, 2x). MSE, per row ½ Σ_j (ŷ_j - y_j)².
     *   row 1: x = 1, y = (0, 1), weight 1: ŷ = (1, 2), residuals (1, 1)
     *   row 2: x = 2, y = (1, 6), weight 3: ŷ = (2, 4), residuals (1, -2)
     *   Σ w Σ r² = 1·2 + 3·5 = 17; Σ w Σ |r| = 1·2 + 3·3 = 11; Σ w = 4, K = 2
     *   RMSE = √(17/8), MAE = 11/8, mean loss = (1·½·2 + 3·½·5) / 4 = 8.5/4
     *   output 0: Σwy = 3, Σwy² = 3, SS_tot = 3 - 9/4 = 3/4, SS_res = 1 + 3 = 4: R² = 1 - 16/3 = -13/3
     *   output 1: Σwy = 19, Σwy² = 109, SS_tot = 109 - 361/4 = 75/4, SS_res = 1 + 12 = 13: R² = 23/75
     *   R² = (-13/3 + 23/75) / 2 = -151/75
     *   accuracy (every output and target thresholded at 0.5): row 1 misses output 0, row 2 hits: 3/4
     */
    @Test
    void regressionErrorsAndRSquaredMatchAHandComputation() {
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(1, 2, Activation.IDENTITY)), Loss.MSE);
        DataBlock data = new DataBlock(2, 1, 2, new double[] {1, 2}, new double[] {0, 1, 1, 6}, new double[] {1, 3});
        EvaluationSums sums = Evaluation.sums(new Network(spec), new double[] {1, 2, 0, 0}, data);
        assertEquals(Math.sqrt(17.0 / 8), sums.rmse(), TOL);
        assertEquals(11.0 / 8, sums.mae(), TOL);
        assertEquals(8.5 / 4, sums.meanLoss(), TOL);
        assertEquals(-151.0 / 75, sums.r2(), TOL);
        assertEquals(0.75, sums.accuracy(), TOL);
        assertEquals(0, sums.confusion().length);
        assertEquals(0, sums.perClass().length);
    }

    @Test
    void mergingTwoHalvesEqualsTheWhole() {
        for (Loss loss : Loss.values()) {
            Activation output = loss == Loss.SOFTMAX_CROSS_ENTROPY ? Activation.SOFTMAX
                    : loss == Loss.BINARY_CROSS_ENTROPY ? Activation.SIGMOID : Activation.IDENTITY;
            NetworkSpec spec = NetworkSpec.of(new int[] {4, 5, 3}, Activation.TANH, output, loss);
            Network network = new Network(spec);
            double[] params = WeightInit.initialize(spec, 8);
            DataBlock data = GradientCheckTest.randomData(spec, 12, true, 9);
            int[] identity = new int[12];
            for (int r = 0; r < 12; r++) {
                identity[r] = r;
            }
            Workspace ws = new Workspace(spec, 6);
            EvaluationSums whole = new EvaluationSums(spec).add(network, params, data, ws);
            EvaluationSums first = new EvaluationSums(spec).add(network, params, data.select(identity, 0, 6), ws);
            EvaluationSums second = new EvaluationSums(spec).add(network, params, data.select(identity, 6, 12), ws);
            EvaluationSums merged = new EvaluationSums(spec).merge(first).merge(second);

            String what = loss.name();
            assertEquals(whole.rows(), merged.rows(), what);
            assertEquals(whole.weightSum(), merged.weightSum(), TOL, what);
            assertEquals(whole.meanLoss(), merged.meanLoss(), TOL, what);
            assertEquals(whole.accuracy(), merged.accuracy(), TOL, what);
            assertArrayEquals(whole.confusion(), merged.confusion(), TOL, what);
            if (loss == Loss.MSE) {
                assertEquals(whole.rmse(), merged.rmse(), TOL, what);
                assertEquals(whole.mae(), merged.mae(), TOL, what);
                assertEquals(whole.r2(), merged.r2(), TOL, what);
            } else {
                assertEquals(3, merged.perClass().length, what);
                for (int c = 0; c < 3; c++) {
                    assertArrayEquals(whole.perClass()[c], merged.perClass()[c], TOL, what + " class " + c);
                }
            }
            // Merging leaves the other side as it was.
            assertEquals(6, second.rows());
        }
    }

    @Test
    void sumsOfAnotherOutputAreRefused() {
        NetworkSpec softmax = NetworkSpec.of(new int[] {2, 3}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        NetworkSpec regression = NetworkSpec.of(new int[] {2, 3}, Activation.RELU, Activation.IDENTITY, Loss.MSE);
        IllegalArgumentException merge = assertThrows(IllegalArgumentException.class,
                () -> new EvaluationSums(softmax).merge(new EvaluationSums(regression)));
        assertTrue(merge.getMessage().contains("regression") && merge.getMessage().contains("softmax"),
                merge.getMessage());
        DataBlock data = new DataBlock(1, 2, 3, new double[] {1, 2}, new double[] {0, 1, 0}, null);
        assertThrows(IllegalArgumentException.class, () -> new EvaluationSums(softmax)
                .add(new Network(regression), new double[regression.paramCount()], data, new Workspace(regression, 1)));
    }
}
