package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.ParameterRanges;
import org.junit.jupiter.api.Test;

/** Workers sum and the driver divides once: splitting rows any way gives the same mean gradient. */
class GradientAccumulatorTest {

    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {5, 7, 3}, Activation.TANH, Activation.SOFTMAX,
            Loss.SOFTMAX_CROSS_ENTROPY);
    private static final Network NETWORK = new Network(SPEC);
    private static final double[] PARAMS = WeightInit.initialize(SPEC, 11);

    @Test
    void mergingUnevenPartsEqualsOneBatchOfAllRows() {
        DataBlock data = GradientCheckTest.randomData(SPEC, 10, true, 3);
        double[] whole = new double[SPEC.paramCount()];
        GradientAccumulator all = new GradientAccumulator(SPEC.paramCount())
                .add(NETWORK, PARAMS, new Workspace(SPEC, 10).load(data, 0, 10));
        double jWhole = all.mean(NETWORK, PARAMS, 0.05, whole);

        // Parts of 7, 2 and 1 rows (the last one "short"), merged in a tree.
        Workspace ws = new Workspace(SPEC, 7);
        GradientAccumulator a = new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, ws.load(data, 0, 7));
        GradientAccumulator b = new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, ws.load(data, 7, 9));
        GradientAccumulator c = new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, ws.load(data, 9, 10));
        GradientAccumulator merged = a.merge(b.merge(c));
        double[] split = new double[SPEC.paramCount()];
        double jSplit = merged.mean(NETWORK, PARAMS, 0.05, split);

        assertEquals(10, merged.count());
        assertEquals(all.weightSum(), merged.weightSum(), 1e-12);
        assertEquals(jWhole, jSplit, 1e-12);
        assertArrayEquals(whole, split, 1e-12);
    }

    @Test
    void aRowOfWeightTwoCountsLikeTheSameRowTwice() {
        double[] x = {0.1, -0.2, 0.3, 0.4, -0.5, 0.9, 0.8, 0.7, -0.6, 0.5};
        double[] y = {0, 1, 0, 1, 0, 0};
        DataBlock weighted = new DataBlock(2, 5, 3, x, y, new double[] {2.0, 1.0});
        double[] xTwice = new double[15];
        System.arraycopy(x, 0, xTwice, 0, 5);
        System.arraycopy(x, 0, xTwice, 5, 10);
        double[] yTwice = {0, 1, 0, 0, 1, 0, 1, 0, 0};
        DataBlock duplicated = new DataBlock(3, 5, 3, xTwice, yTwice, null);

        double[] g1 = new double[SPEC.paramCount()];
        double[] g2 = new double[SPEC.paramCount()];
        double j1 = new GradientAccumulator(SPEC.paramCount())
                .add(NETWORK, PARAMS, new Workspace(SPEC, 3).load(weighted, 0, 2)).mean(NETWORK, PARAMS, 0.1, g1);
        double j2 = new GradientAccumulator(SPEC.paramCount())
                .add(NETWORK, PARAMS, new Workspace(SPEC, 3).load(duplicated, 0, 3)).mean(NETWORK, PARAMS, 0.1, g2);
        assertEquals(j2, j1, 1e-12);
        assertArrayEquals(g2, g1, 1e-12);
    }

    @Test
    void zeroWeightRowsContributeNothing() {
        DataBlock data = GradientCheckTest.randomData(SPEC, 4, false, 8);
        double[] w = {1, 0, 1, 0};
        DataBlock masked = new DataBlock(4, 5, 3, data.features(), data.targets(), w);
        int[] keep = {0, 2};
        double[] g1 = new double[SPEC.paramCount()];
        double[] g2 = new double[SPEC.paramCount()];
        new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, new Workspace(SPEC, 4).load(masked, 0, 4))
                .mean(NETWORK, PARAMS, 0, g1);
        new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, new Workspace(SPEC, 4).gather(data, keep, 0, 2))
                .mean(NETWORK, PARAMS, 0, g2);
        assertArrayEquals(g2, g1, 1e-12);
    }

    @Test
    void l2IsLambdaOverTwoMOfSquaredWeightsAndSparesBiases() {
        // A 1-1 identity network, MSE, one row x = 2, y = 0, W = 3, b = 1: ŷ = 7, L = 24.5.
        // λ = 0.5, m = 1: J = 24.5 + 0.5/2 · 3² = 26.75; ∂J/∂W = 7·2 + 0.5·3 = 15.5; ∂J/∂b = 7 (no L2).
        NetworkSpec spec = NetworkSpec.of(new int[] {1, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        Network network = new Network(spec);
        double[] params = {3, 1};
        DataBlock data = new DataBlock(1, 1, 1, new double[] {2}, new double[] {0}, null);
        double[] grad = new double[2];
        double j = new GradientAccumulator(2).add(network, params, new Workspace(spec, 1).load(data, 0, 1))
                .mean(network, params, 0.5, grad);
        assertEquals(26.75, j, 1e-12);
        assertArrayEquals(new double[] {15.5, 7}, grad, 1e-12);
    }

    @Test
    void resetEmptiesEverything() {
        GradientAccumulator acc = new GradientAccumulator(SPEC.paramCount())
                .add(NETWORK, PARAMS, new Workspace(SPEC, 3).load(GradientCheckTest.randomData(SPEC, 3, false, 1), 0, 3));
        acc.reset();
        assertEquals(0, acc.count());
        assertEquals(0.0, acc.lossSum());
        assertEquals(0.0, acc.weightSum());
        assertArrayEquals(new double[SPEC.paramCount()], acc.gradSum());
    }

    /**
     * A reduce-scatter merges slices of the same range element by element and concatenates them:
     * bit for bit the whole accumulators' merge, whatever the cut points.
     */
    @Test
    void mergingSlicesAndConcatenatingEqualsMergingWholes() {
        DataBlock data = GradientCheckTest.randomData(SPEC, 9, true, 5);
        Workspace ws = new Workspace(SPEC, 9);
        GradientAccumulator a = new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, ws.load(data, 0, 4));
        GradientAccumulator b = new GradientAccumulator(SPEC.paramCount()).add(NETWORK, PARAMS, ws.load(data, 4, 9));
        int n = SPEC.paramCount();
        int[] cuts = {0, 1, n / 3, n - 1, n};
        java.util.List<GradientAccumulator> merged = new java.util.ArrayList<>();
        for (int s = 0; s + 1 < cuts.length; s++) {
            merged.add(a.slice(cuts[s], cuts[s + 1]).merge(b.slice(cuts[s], cuts[s + 1])));
        }
        GradientAccumulator whole = GradientAccumulator.concat(merged);
        GradientAccumulator expected = new GradientAccumulator(n).merge(a).merge(b);
        assertArrayEquals(expected.gradSum(), whole.gradSum(), 0.0);
        assertEquals(expected.lossSum(), whole.lossSum(), 0.0);
        assertEquals(expected.weightSum(), whole.weightSum(), 0.0);
        assertEquals(9, whole.count());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> a.slice(3, 3));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> a.slice(0, n + 1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GradientAccumulator.concat(java.util.List.of(a.slice(0, 2), b.slice(2, n))));
    }

    @Test
    void theFusedNormIsFastNormsBitsOverTheMeanItWrites() {
        // meanWithFastNorm: the mean's bits, and the lanes of GradientClipping.fastNorm of what it
        // wrote, for every remainder mod 4, ranges that start anywhere (packed positions out of
        // step with the indices), and sums holding a NaN or an infinity. One accumulator and one
        // lanes buffer for every call, as a step rule keeps them (the lanes must start from zero).
        SplitMix64 random = new SplitMix64(20261130L);
        int[] sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 1001};
        double[] lanes = new double[4];
        for (int n : sizes) {
            double[] sums = new double[n];
            GradientAccumulator acc = GradientAccumulator.of(sums, 1.5, 3, 3.0);
            for (int trial = 0; trial < 12; trial++) {
                for (int i = 0; i < n; i++) {
                    // Values of one magnitude first (each square changes the lane sums' rounding,
                    // so a square in the wrong lane shows), then spread over 2^±20.
                    double scale = trial < 6 ? 1.0 : Math.scalb(1.0, random.nextInt(40) - 20);
                    sums[i] = (random.nextDouble() - 0.5) * scale;
                }
                if (trial == 10) {
                    sums[random.nextInt(n)] = Double.NaN;
                } else if (trial == 11) {
                    sums[random.nextInt(n)] = Double.NEGATIVE_INFINITY;
                }
                ParameterRanges active = new ParameterRanges();
                int at = trial % 2 == 0 ? 0 : random.nextInt(n);
                while (at < n) {
                    int end = at + 1 + random.nextInt(Math.max(1, n / 3));
                    active.add(at, Math.min(end, n));
                    at = Math.min(end, n) + (trial % 3 == 0 ? 0 : random.nextInt(3));
                }
                int[] weights = {0, n / 2, n / 2 + 1, n}; // two weight ranges, one bias between them
                int size = (int) active.size();
                double[] plain = new double[size];
                double[] fused = new double[size];
                double plainObjective = acc.mean(weights, null, 0.0, plain, active);
                double fusedObjective = acc.meanWithFastNorm(weights, null, fused, active, lanes);
                String where = "n " + n + ", trial " + trial + ", ranges " + active;
                assertEquals(Double.doubleToLongBits(plainObjective), Double.doubleToLongBits(fusedObjective), where);
                for (int q = 0; q < size; q++) {
                    assertEquals(Double.doubleToLongBits(plain[q]), Double.doubleToLongBits(fused[q]), where);
                }
                assertEquals(Double.doubleToLongBits(GradientClipping.fastNorm(plain, size)),
                        Double.doubleToLongBits(GradientClipping.laneNorm(lanes)), where);
            }
        }
    }
}
