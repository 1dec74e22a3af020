package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Momentum;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.ParameterRanges;
import io.sparkprop.core.optim.Sgd;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link SparseUpdate#LAZY}: SGD's bits equal DENSE's where the maths makes them equal, LazyAdam's
 * step derived by hand for a parameter skipped for k steps, the touched ranges and their zeroing,
 * and the documented differences from dense Adam.
 */
class LazyUpdateTest {

    /** 40 sparse features, 3 nonzeros a row drawn from the first 12 (so most features are never touched). */
    private static DataBlock sparseRows(int rows, long seed) {
        int[] start = new int[rows + 1];
        int[] columns = new int[rows * 3];
        double[] values = new double[rows * 3];
        double[] targets = new double[rows * 2];
        SplitMix64 random = new SplitMix64(seed);
        for (int r = 0; r < rows; r++) {
            int a = random.nextInt(4);
            int b = 4 + random.nextInt(4);
            int c = 8 + random.nextInt(4);
            columns[3 * r] = a;
            columns[3 * r + 1] = b;
            columns[3 * r + 2] = c;
            values[3 * r] = 1.0;
            values[3 * r + 1] = random.nextDouble();
            values[3 * r + 2] = -random.nextDouble();
            start[r + 1] = 3 * r + 3;
            targets[2 * r + ((a + b) % 2)] = 1.0;
        }
        return DataBlock.sparse(rows, 40, 2, start, columns, values, targets, null);
    }

    private static NetworkSpec spec() {
        return NetworkSpec.of(new int[] {40, 6, 2}, Activation.TANH, Activation.SOFTMAX, Loss.SOFTMAX_CROSS_ENTROPY)
                .withFirstLayerLayout(WeightLayout.IN_OUT);
    }

    private static double[] train(SparseUpdate update, Optimizer optimizer, double l2, double clip, Precision precision) {
        NetworkSpec spec = spec();
        return new LocalTrainer(spec, new LocalTrainer.Settings(8, 3, 5, l2, clip, update), optimizer,
                LearningRateSchedule.constant(0.1), precision).fit(sparseRows(64, 3)).params();
    }

    @Test
    void lazySgdIsDenseSgdBitForBitWithAndWithoutClipping() {
        int n = spec().paramCount();
        for (Precision precision : Precision.values()) {
            for (double clip : new double[] {0.0, 0.05}) {
                double[] dense = train(SparseUpdate.DENSE, new Sgd(n), 0.0, clip, precision);
                double[] lazy = train(SparseUpdate.LAZY, new Sgd(n), 0.0, clip, precision);
                assertArrayEquals(dense, lazy, precision + " clip " + clip);
            }
        }
        // Never-touched features (12..39) keep their initial weights under both.
        double[] initial = WeightInit.initialize(spec(), 5);
        double[] lazy = train(SparseUpdate.LAZY, new Sgd(n), 0.0, 0.0, Precision.FLOAT64);
        for (int i = 12 * 6; i < 40 * 6; i++) {
            assertEquals(initial[i], lazy[i]);
        }
        assertNotEquals(initial[0], lazy[0], "a touched feature moved");
    }

    @Test
    void lazyAdamAndMomentumDifferFromDenseAsDocumented() {
        int n = spec().paramCount();
        double[] dense = train(SparseUpdate.DENSE, new Adam(n), 0.0, 0.0, Precision.FLOAT64);
        double[] lazy = train(SparseUpdate.LAZY, new Adam(n), 0.0, 0.0, Precision.FLOAT64);
        assertNotEquals(dense[0], lazy[0], "dense Adam keeps moving a feature's weights on steps that skip it");
        // Both train: the never-touched features stay put under both (m = v = 0 there all along).
        double[] initial = WeightInit.initialize(spec(), 5);
        assertEquals(initial[20 * 6], dense[20 * 6]);
        assertEquals(initial[20 * 6], lazy[20 * 6]);
        double[] denseMomentum = train(SparseUpdate.DENSE, new Momentum(n, 0.9, false), 0.0, 0.0, Precision.FLOAT64);
        double[] lazyMomentum = train(SparseUpdate.LAZY, new Momentum(n, 0.9, false), 0.0, 0.0, Precision.FLOAT64);
        assertNotEquals(denseMomentum[0], lazyMomentum[0]);
    }

    @Test
    void lazyAdamStepsASkippedParameterByHand() {
        // Three parameters; step 1 touches all, steps 2 and 3 only parameter 0, step 4 all again.
        // Parameter 2 has g = 0.5 at step 1 and g = -0.25 at step 4; η = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8.
        Adam adam = new Adam(3);
        double[] params = {1.0, 1.0, 1.0};
        ParameterRanges all = new ParameterRanges().add(0, 3);
        ParameterRanges first = new ParameterRanges().add(0, 1);
        adam.step(params, new double[] {0.1, 0.2, 0.5}, 0.1, all);
        adam.step(params, new double[] {0.1, 99, 99}, 0.1, first);
        adam.step(params, new double[] {0.1, 99, 99}, 0.1, first);
        double before = params[2];
        adam.step(params, new double[] {0.1, 0.2, -0.25}, 0.1, all);
        // After step 1: m = 0.05, v = 0.00025 (moments of parameter 2); steps 2-3 leave them.
        // Step 4 (t = 4): m = 0.9·0.05 + 0.1·(-0.25) = 0.02; v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225.
        double m = 0.9 * 0.05 + 0.1 * -0.25;
        double v = 0.999 * 0.00025 + 0.001 * 0.0625;
        double mHat = m / (1 - Math.pow(0.9, 4));
        double vHat = v / (1 - Math.pow(0.999, 4));
        assertEquals(before - 0.1 * mHat / (Math.sqrt(vHat) + 1e-8), params[2], 1e-15);
        // Step 1 by hand: m̂ = g, v̂ = g², so θ = 1 - 0.1 · 0.5 / (0.5 + 1e-8).
        assertEquals(1 - 0.1 * 0.5 / (0.5 + 1e-8), before, 1e-15);
        assertEquals(4, adam.state().steps());
        assertEquals(m, adam.state().slots()[0][2], 1e-16);
        assertEquals(v, adam.state().slots()[1][2], 1e-16);
    }

    @Test
    void activeRangesAreTheTouchedRowsAndResetZeroesOnlyThem() {
        NetworkSpec spec = spec();
        Network network = new Network(spec);
        double[] params = WeightInit.initialize(spec, 1);
        GradientAccumulator sums = new GradientAccumulator(spec.paramCount()).trackRows(spec);
        // Two pieces: rows using features {9, 2} and {2, 30}.
        DataBlock one = DataBlock.sparse(1, 40, 2, new int[] {0, 2}, new int[] {2, 9}, new double[] {1, 1},
                new double[] {1, 0}, null);
        DataBlock two = DataBlock.sparse(1, 40, 2, new int[] {0, 2}, new int[] {2, 30}, new double[] {1, -1},
                new double[] {0, 1}, null);
        sums.add(network, params, new Workspace(spec, 1).load(one, 0, 1));
        sums.add(network, params, new Workspace(spec, 1).load(two, 0, 1));
        ParameterRanges active = sums.activeRanges(new ParameterRanges());
        int bias = spec.biasOffset(0);
        assertEquals("[12, 18) [54, 60) [180, 186) [" + bias + ", " + spec.paramCount() + ")", active.toString());
        for (int i = 0; i < spec.paramCount(); i++) {
            boolean in = (i >= 12 && i < 18) || (i >= 54 && i < 60) || (i >= 180 && i < 186) || i >= bias;
            if (!in) {
                assertEquals(0.0, sums.gradSum()[i], "untouched parameter " + i);
            }
        }
        assertTrue(sums.gradSum()[12] != 0.0 && sums.gradSum()[180] != 0.0);
        sums.reset();
        assertArrayEquals(new double[spec.paramCount()], sums.gradSum());
        assertEquals("[" + bias + ", " + spec.paramCount() + ")", sums.activeRanges(active).toString());
        // A dense input makes every row count.
        DataBlock dense = new DataBlock(1, 40, 2, new double[40], new double[] {1, 0}, null);
        sums.add(network, params, new Workspace(spec, 1).load(dense, 0, 1));
        assertEquals("[0, " + spec.paramCount() + ")", sums.activeRanges(active).toString());
    }

    @Test
    void lazyNeedsTheInOutLayoutAndRangesComeInOrder() {
        NetworkSpec outIn = spec().withFirstLayerLayout(WeightLayout.OUT_IN);
        assertThrows(IllegalArgumentException.class,
                () -> new StepRule(new Network(outIn), 0, 0, SparseUpdate.LAZY));
        assertThrows(IllegalArgumentException.class,
                () -> new GradientAccumulator(outIn.paramCount()).trackRows(outIn));
        ParameterRanges ranges = new ParameterRanges().add(0, 2).add(2, 5).add(7, 7).add(9, 10);
        assertEquals("[0, 5) [9, 10)", ranges.toString());
        assertEquals(6, ranges.size());
        assertThrows(IllegalArgumentException.class, () -> ranges.add(8, 12));
        assertThrows(IllegalArgumentException.class,
                () -> new Sgd(5).step(new double[5], new double[5], 0.1, new ParameterRanges().add(3, 6)));
    }

    @Test
    void decoupledDecayShrinksOnlyActiveWeights() {
        // Weights [0, 4) and [6, 8) decay; active [2, 7): decayed 2, 3, 6 only.
        Sgd sgd = new Sgd(8, 0.5, new int[] {0, 4, 6, 8});
        double[] params = {1, 1, 1, 1, 1, 1, 1, 1};
        sgd.step(params, new double[8], 0.1, new ParameterRanges().add(2, 7));
        assertArrayEquals(new double[] {1, 1, 0.95, 0.95, 1, 1, 0.95, 1}, params);
    }

    /**
     * Sums that keep the first layer row-sparse give the dense scatter's bits: several sparse
     * pieces a step (overlapping columns, in and out of order), the dense array read between two
     * adds, a reset after a step whose rows never reached the dense array, then another step.
     */
    @Test
    void rowSparseSumsGiveTheDenseSumsBits() {
        NetworkSpec spec = spec();
        Network network = new Network(spec);
        double[] params = WeightInit.initialize(spec, 1);
        DataBlock block = sparseRows(24, 11);
        int[][] steps = {{0, 5, 5, 9, 9, 16}, {16, 24}, {3, 8, 8, 12}};
        GradientAccumulator rowSparse = new GradientAccumulator(spec.paramCount()).trackRows(spec);
        for (int[] pieces : steps) {
            GradientAccumulator dense = new GradientAccumulator(spec.paramCount()); // not tracked: scatters
            rowSparse.reset();
            for (int p = 0; p < pieces.length; p += 2) {
                dense.add(network, params, new Workspace(spec, 8).load(block, pieces[p], pieces[p + 1]));
                rowSparse.add(network, params, new Workspace(spec, 8).load(block, pieces[p], pieces[p + 1]));
            }
            ParameterRanges active = rowSparse.activeRanges(new ParameterRanges());
            // The packed mean from the row-sparse form = the dense mean at the active parameters.
            for (double l2 : new double[] {0.0, 0.01}) {
                double[] packed = new double[(int) active.size()];
                double objective = rowSparse.mean(network, params, l2, packed, active);
                double[] denseOut = new double[spec.paramCount()];
                double expectedObjective = GradientAccumulator.of(dense.gradSum().clone(), dense.lossSum(),
                        dense.count(), dense.weightSum()).withTouchedRows(rowSparse.touchedRows().copy())
                        .mean(network, params, l2, denseOut, active);
                assertEquals(expectedObjective, objective, "objective, l2 " + l2);
                assertArrayEquals(Arrays.copyOf(denseOut, packed.length), packed, "packed mean, l2 " + l2);
                // The mean with its fused norm: the same values from the row-sparse form, and the norm
                // GradientClipping.fastNorm takes of them.
                if (l2 == 0.0) {
                    double[] fused = new double[packed.length];
                    double[] lanes = {7, 7, 7, 7}; // overwritten, not added to
                    assertEquals(objective, rowSparse.meanWithFastNorm(spec.weightRanges(), params, fused, active, lanes));
                    assertArrayEquals(packed, fused, "fused mean");
                    assertEquals(GradientClipping.fastNorm(packed, packed.length), GradientClipping.laneNorm(lanes), 0.0,
                            "fused norm");
                }
            }
            assertArrayEquals(dense.gradSum(), rowSparse.gradSum(), Arrays.toString(pieces));
        }
        // The dense array read between two adds of one step: the second add's rows must not be
        // taken for the whole first layer (rows 2 and 9, then 2 and 30 again).
        DataBlock one = DataBlock.sparse(1, 40, 2, new int[] {0, 2}, new int[] {2, 9}, new double[] {1, 1},
                new double[] {1, 0}, null);
        DataBlock two = DataBlock.sparse(1, 40, 2, new int[] {0, 2}, new int[] {2, 9}, new double[] {1, -1},
                new double[] {0, 1}, null);
        GradientAccumulator dense = new GradientAccumulator(spec.paramCount());
        dense.add(network, params, new Workspace(spec, 1).load(one, 0, 1));
        dense.add(network, params, new Workspace(spec, 1).load(two, 0, 1));
        rowSparse.reset();
        rowSparse.add(network, params, new Workspace(spec, 1).load(one, 0, 1));
        assertTrue(rowSparse.gradSum()[2 * 6] != 0.0); // read (flushes) between the adds
        rowSparse.add(network, params, new Workspace(spec, 1).load(two, 0, 1));
        ParameterRanges active = rowSparse.activeRanges(new ParameterRanges());
        double[] packed = new double[(int) active.size()];
        rowSparse.mean(network, params, 0.0, packed, active);
        double[] expected = new double[(int) active.size()];
        GradientAccumulator.of(dense.gradSum().clone(), dense.lossSum(), dense.count(), dense.weightSum())
                .withTouchedRows(rowSparse.touchedRows().copy()).mean(network, params, 0.0, expected, active);
        assertArrayEquals(expected, packed);
    }

    /**
     * Found in review: sums merged into reset sums are in the dense array, so the next reset must
     * clear them; adds after a read of the dense array are summed there in add order (a later
     * flush of row-sparse adds would add their own sum at once); and the row-sparse form is read
     * only for ranges over exactly its rows (ranges of as many other rows read the dense array).
     */
    @Test
    void rowSparseSumsStayExactAfterMergesReadsAndForeignRanges() {
        NetworkSpec spec = spec();
        Network network = new Network(spec);
        double[] params = WeightInit.initialize(spec, 1);
        DataBlock block = sparseRows(24, 17);
        GradientAccumulator merged = new GradientAccumulator(spec.paramCount()).trackRows(spec).reset();
        GradientAccumulator other = new GradientAccumulator(spec.paramCount()).trackRows(spec).reset();
        other.add(network, params, new Workspace(spec, 8).load(block, 0, 8));
        merged.merge(other);
        merged.reset();
        assertArrayEquals(new double[spec.paramCount()], merged.gradSum(), "a reset after a merge clears it");
        // Add, read, then several adds over shared rows, for many batches: the dense sums' bits.
        for (int seed = 0; seed < 40; seed++) {
            DataBlock rows = sparseRows(12, 100 + seed);
            GradientAccumulator dense = new GradientAccumulator(spec.paramCount());
            GradientAccumulator tracked = new GradientAccumulator(spec.paramCount()).trackRows(spec).reset();
            for (int from = 0; from < 12; from += 3) {
                dense.add(network, params, new Workspace(spec, 3).load(rows, from, from + 3));
                tracked.add(network, params, new Workspace(spec, 3).load(rows, from, from + 3));
                if (from == 0) {
                    assertTrue(tracked.gradSum().length > 0); // a read between adds
                }
            }
            assertArrayEquals(dense.gradSum(), tracked.gradSum(), "seed " + seed);
        }
        // Ranges over as many rows as the sums hold, but other rows: the dense mean of those ranges.
        DataBlock one = DataBlock.sparse(1, 40, 2, new int[] {0, 2}, new int[] {2, 9}, new double[] {1, 1},
                new double[] {1, 0}, null);
        GradientAccumulator sums = new GradientAccumulator(spec.paramCount()).trackRows(spec).reset();
        sums.add(network, params, new Workspace(spec, 1).load(one, 0, 1));
        int bias = spec.biasOffset(0);
        ParameterRanges foreign = new ParameterRanges().add(3 * 6, 4 * 6).add(9 * 6, 10 * 6).add(bias,
                spec.paramCount());
        double[] packed = new double[(int) foreign.size()];
        sums.mean(network, params, 0.0, packed, foreign);
        GradientAccumulator reference = new GradientAccumulator(spec.paramCount());
        reference.add(network, params, new Workspace(spec, 1).load(one, 0, 1));
        double[] expected = new double[(int) foreign.size()];
        reference.mean(network, params, 0.0, expected, foreign);
        assertArrayEquals(expected, packed);
        assertEquals(0.0, packed[0], "feature 3 is not in the batch");
    }

    /**
     * The lazy step reads its gradient packed ({@code grad[q]} for the q-th active parameter):
     * each optimizer's bits equal its dense step on a copy where the gradient is spread to the
     * parameters' own indices and inactive parameters are restored afterwards, over ranges that
     * start at 0 (packed = aligned), lie elsewhere, and run longer than Adam's 512-value chunks.
     */
    @Test
    void packedLazyStepsEqualTheDenseStepOnTheActiveParameters() {
        int n = 2000;
        ParameterRanges active = new ParameterRanges().add(0, 10).add(70, 134).add(300, 1400).add(1990, 2000);
        SplitMix64 random = new SplitMix64(4);
        double[] start = new double[n];
        for (int i = 0; i < n; i++) {
            start[i] = random.nextDouble() - 0.5;
        }
        double[][] packedGrads = new double[3][(int) active.size()];
        for (double[] g : packedGrads) {
            for (int q = 0; q < g.length; q++) {
                g[q] = random.nextDouble() - 0.5;
            }
        }
        java.util.function.Supplier<Optimizer[]> make = () -> new Optimizer[] {new Sgd(n), new Momentum(n, 0.9, true),
            new Adam(n)};
        Optimizer[] lazy = make.get();
        Optimizer[] dense = make.get();
        for (int o = 0; o < lazy.length; o++) {
            double[] lazyParams = start.clone();
            double[] denseParams = start.clone();
            for (double[] g : packedGrads) {
                lazy[o].step(lazyParams, g, 0.01, active);
                // The same step, spread: a dense step with the gradient at each parameter's index,
                // then the inactive parameters put back (their state stays zero: never touched).
                double[] spread = new double[n];
                int q = 0;
                for (int r = 0; r < active.count(); r++) {
                    for (int i = active.start(r); i < active.end(r); i++) {
                        spread[i] = g[q++];
                    }
                }
                double[] before = denseParams.clone();
                dense[o].step(denseParams, spread, 0.01);
                for (int i = 0; i < n; i++) {
                    if (!inRanges(active, i)) {
                        denseParams[i] = before[i];
                    }
                }
            }
            assertArrayEquals(denseParams, lazyParams, lazy[o].getClass().getSimpleName());
        }
        assertThrows(IllegalArgumentException.class,
                () -> new Sgd(n).step(new double[n], new double[(int) active.size() - 1], 0.1, active),
                "a packed gradient shorter than the ranges");
    }

    private static boolean inRanges(ParameterRanges ranges, int i) {
        for (int r = 0; r < ranges.count(); r++) {
            if (i >= ranges.start(r) && i < ranges.end(r)) {
                return true;
            }
        }
        return false;
    }
}
