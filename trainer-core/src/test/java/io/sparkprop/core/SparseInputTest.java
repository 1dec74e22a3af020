package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.LearningRateSchedule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Sparse features ({@link DataBlock#sparse}): the first layer from the nonzeros only. */
class SparseInputTest {

    /** {@code dense} as a sparse block: its nonzeros, by row, in column order. */
    static DataBlock toSparse(DataBlock dense) {
        int n = dense.rows();
        int d = dense.numFeatures();
        double[] x = dense.features();
        int[] start = new int[n + 1];
        List<Integer> columns = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                if (x[r * d + c] != 0.0) {
                    columns.add(c);
                    values.add(x[r * d + c]);
                }
            }
            start[r + 1] = columns.size();
        }
        return DataBlock.sparse(n, d, dense.numTargets(), start, columns.stream().mapToInt(Integer::intValue).toArray(),
                values.stream().mapToDouble(Double::doubleValue).toArray(), dense.targets(), dense.weights());
    }

    /** Random data with about two thirds of the features zeroed. */
    static DataBlock mostlyZero(NetworkSpec spec, int rows, boolean weighted, long seed) {
        DataBlock data = GradientCheckTest.randomData(spec, rows, weighted, seed);
        double[] x = data.features().clone();
        SplitMix64 random = new SplitMix64(seed + 99);
        for (int i = 0; i < x.length; i++) {
            if (random.nextInt(3) != 0) {
                x[i] = 0.0;
            }
        }
        return new DataBlock(rows, spec.inputSize(), spec.outputSize(), x, data.targets(), data.weights());
    }

    @Test
    void theFirstLayerAddsTheNonzerosToTheBiasInColumnOrderAndOnlyTheirWeightsGetGradients() {
        // 4 inputs, 2 identity units, MSE; one row with x1 = 0.5 and x3 = -2 (x0 = x2 = 0).
        NetworkSpec spec = NetworkSpec.of(new int[] {4, 2}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        double[] p = {0.1, 0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8, 0.01, -0.02};
        DataBlock row = DataBlock.sparse(1, 4, 2, new int[] {0, 2}, new int[] {1, 3}, new double[] {0.5, -2},
                new double[] {1.0, -1.0}, null);
        Workspace ws = new Workspace(spec, 1).load(row, 0, 1);
        double[] grad = new double[spec.paramCount()];
        new Network(spec).lossAndGradient(p, ws, grad);
        double a0 = 0.01 + 0.2 * 0.5 + 0.4 * -2;
        double a1 = -0.02 + 0.6 * 0.5 + 0.8 * -2;
        assertEquals(a0, ws.output()[0]);
        assertEquals(a1, ws.output()[1]);
        double d0 = a0 - 1.0;
        double d1 = a1 + 1.0;
        assertArrayEquals(new double[] {0, d0 * 0.5, 0, d0 * -2, 0, d1 * 0.5, 0, d1 * -2, d0, d1}, grad);
    }

    @ParameterizedTest(name = "{0} hidden, {1} output, {2}, l2={3}, weighted={4}")
    @MethodSource("io.sparkprop.core.GradientCheckTest#combinations")
    void sparseMatchesDenseAndPassesTheGradientCheck(Activation hidden, Activation output, Loss loss, double l2,
                                                     boolean weighted) {
        NetworkSpec spec = NetworkSpec.of(new int[] {9, 6, 5, 3}, hidden, output, loss);
        long seed = 13L * hidden.ordinal() + 3L * output.ordinal() + loss.ordinal();
        double[] params = WeightInit.initialize(spec, seed);
        DataBlock dense = mostlyZero(spec, 7, weighted, seed + 1);
        DataBlock sparse = toSparse(dense);
        assertTrue(sparse.values().length < 7 * 9 / 2, "mostly zero: " + sparse.values().length + " nonzeros");

        for (Precision precision : Precision.values()) {
            Network network = new Network(spec, precision);
            double[] denseGrad = new double[spec.paramCount()];
            double denseLoss = network.lossAndGradient(params, new Workspace(spec, 7).load(dense, 0, 7), denseGrad);
            double[] sparseGrad = new double[spec.paramCount()];
            double sparseLoss = network.lossAndGradient(params, new Workspace(spec, 7).load(sparse, 0, 7),
                    sparseGrad);
            double tolerance = precision == Precision.FLOAT64 ? 1e-12 : 1e-5;
            assertEquals(denseLoss, sparseLoss, tolerance * Math.max(1, Math.abs(denseLoss)), precision.name());
            for (int i = 0; i < denseGrad.length; i++) {
                assertEquals(denseGrad[i], sparseGrad[i], tolerance * Math.max(1, Math.abs(denseGrad[i])),
                        precision + " parameter " + i);
            }
        }
        GradientCheck.Result check = GradientCheck.check(new Network(spec), params, sparse, l2,
                GradientCheck.Options.defaults());
        assertTrue(check.passed(), check::toString);
        assertTrue(check.maxError() < 1e-6, check::toString);
    }

    @Test
    void aMillionInputsTrainWithoutADenseInputBuffer() {
        // A dense workspace for 64 rows of 1,000,000 inputs would be 512 MB; the sparse one holds
        // the nonzeros. Two classes: feature 7 set means class 1, feature 999,999 set class 0.
        int inputs = 1_000_000;
        NetworkSpec spec = NetworkSpec.of(new int[] {inputs, 4, 2}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        int rows = 64;
        int[] start = new int[rows + 1];
        int[] columns = new int[rows * 2];
        double[] values = new double[rows * 2];
        double[] targets = new double[rows * 2];
        SplitMix64 random = new SplitMix64(5);
        for (int r = 0; r < rows; r++) {
            int label = r % 2;
            columns[2 * r] = 1 + random.nextInt(5); // noise below 7
            columns[2 * r + 1] = label == 1 ? 7 : inputs - 1;
            values[2 * r] = random.nextDouble();
            values[2 * r + 1] = 1.0;
            start[r + 1] = 2 * r + 2;
            targets[2 * r + label] = 1.0;
        }
        DataBlock data = DataBlock.sparse(rows, inputs, 2, start, columns, values, targets, null);
        for (Precision precision : Precision.values()) {
            double[] params = new LocalTrainer(spec, new LocalTrainer.Settings(16, 30, 3, 0.0, 0.0),
                    new Adam(spec.paramCount()), LearningRateSchedule.constant(0.05), precision).fit(data).params();
            assertEquals(1.0, Evaluation.accuracy(new Network(spec), params, data), precision.name());
            // Columns no row uses keep their initial weights exactly (their gradient is 0; Adam moves nothing).
            double[] initial = WeightInit.initialize(spec, 3);
            assertEquals(initial[spec.weightOffset(0) + 500_000], params[spec.weightOffset(0) + 500_000]);
        }
    }

    @Test
    void sparseBlocksAreValidatedAndSelectKeepsTheirRows() {
        IllegalArgumentException unsorted = assertThrows(IllegalArgumentException.class, () -> DataBlock.sparse(2, 5,
                1, new int[] {0, 1, 3}, new int[] {0, 4, 2}, new double[] {1, 2, 3}, new double[2], null));
        assertTrue(unsorted.getMessage().startsWith("Row 1 feature index 2"), unsorted.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> DataBlock.sparse(1, 5,
                1, new int[] {0, 1}, new int[] {5}, new double[] {1}, new double[1], null));
        assertTrue(range.getMessage().contains("[0, 5)"), range.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> DataBlock.sparse(1, 5,
                1, new int[] {0, 1}, new int[] {2}, new double[] {Double.NaN}, new double[1], null));
        assertTrue(nan.getMessage().startsWith("Row 0 feature 2 must be finite"), nan.getMessage());

        DataBlock block = DataBlock.sparse(3, 5, 1, new int[] {0, 1, 1, 3}, new int[] {4, 0, 2},
                new double[] {1, 2, 3}, new double[] {10, 20, 30}, new double[] {1, 0.5, 2});
        assertThrows(IllegalStateException.class, block::features);
        DataBlock picked = block.select(new int[] {2, 0, 1}, 0, 2);
        assertTrue(picked.isSparse());
        assertArrayEquals(new int[] {0, 2, 3}, picked.rowStart());
        assertArrayEquals(new int[] {0, 2, 4}, picked.columns());
        assertArrayEquals(new double[] {2, 3, 1}, picked.values());
        assertArrayEquals(new double[] {30, 10}, picked.targets());
        assertArrayEquals(new double[] {2, 1}, picked.weights());
        assertFalse(new DataBlock(1, 1, 1, new double[] {1}, new double[] {1}, null).isSparse());
    }
}
