package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.LearningRateSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The windowed source of a partition's slices ({@link WindowedRows}) takes every row once per
 * epoch, in exactly {@link WindowPlan#order}'s sequence, with the data of that row and its
 * partition row index as its dropout id, whether windows come from a buffer or are decoded; and
 * {@link DataBlock#concat} keeps rows, targets, weights and sparse entries.
 */
class WindowedRowsTest {

    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {3, 4, 2}, Activation.TANH, Activation.SOFTMAX,
            Loss.SOFTMAX_CROSS_ENTROPY);

    /**
     * Chunks of a partition whose row {@code r} (counted across the chunks in order) has features
     * {@code (r, r + 0.5, -r)} (sparse: the first is left out for row 0, so it has 2 nonzeros),
     * class {@code r mod 2} and weight {@code 1 + r}.
     */
    private static List<DataBlock> chunks(int[] rows, boolean sparse) {
        List<DataBlock> out = new ArrayList<>();
        int r0 = 0;
        for (int n : rows) {
            double[] x = new double[3 * n];
            double[] y = new double[2 * n];
            double[] w = new double[n];
            for (int i = 0; i < n; i++) {
                int r = r0 + i;
                x[3 * i] = r;
                x[3 * i + 1] = r + 0.5;
                x[3 * i + 2] = -r;
                y[2 * i + r % 2] = 1;
                w[i] = 1 + r;
            }
            DataBlock block = new DataBlock(n, 3, 2, x, y, w);
            out.add(sparse ? block.toSparse() : block);
            r0 += n;
        }
        return out;
    }

    /** Every piece of every step of an epoch, as the partition rows (read from the data) in gathered order. */
    private static List<Integer> epoch(WindowedRows rows, int steps, List<Integer> ids) {
        List<Integer> seen = new ArrayList<>();
        Workspace lent = new Workspace(SPEC, EpochPlan.maxSlice((int) rows.rows(), steps));
        for (int s = 0; s < steps; s++) {
            rows.slice(s, steps, SPEC, LocalRound.Workspaces.fixed(lent), ws -> {
                for (int i = 0; i < ws.rows(); i++) {
                    double first = ws.sparse ? featureOfSparse(ws, i) : ws.x[3 * i];
                    int r = (int) Math.round(ws.x == null || ws.sparse ? -featureOfSparseLast(ws, i) : -ws.x[3 * i + 2]);
                    assertEquals(r, first, 0.0, "feature 0 of row " + r);
                    assertEquals(1 + r, ws.w[i], 0.0, "weight of row " + r);
                    assertEquals(1.0, ws.y[2 * i + r % 2], 0.0, "target of row " + r);
                    seen.add(r);
                    ids.add(ws.rowIds[i]);
                }
            });
        }
        return seen;
    }

    private static double featureOfSparse(Workspace ws, int i) {
        return ws.xColumns[ws.xStart[i]] == 0 ? ws.xValues[ws.xStart[i]] : 0.0;
    }

    private static double featureOfSparseLast(Workspace ws, int i) {
        int last = ws.xStart[i + 1] - 1;
        return ws.xColumns[last] == 2 ? ws.xValues[last] : 0.0;
    }

    @ParameterizedTest(name = "chunks {0}, W = {1}, {2} steps, sparse {3}")
    @CsvSource({"'5,5,5,5', 1, 4, false", "'5,5,5,5', 2, 7, false", "'7,1,3,9,2', 3, 5, true", "'4', 1, 3, false",
            "'6,6,6', 9, 2, true", "'2,3,2,3,2,3', 2, 13, false", "'10,1,10', 1, 21, true"})
    void everyRowOncePerEpochInThePlansOrderWithItsDataAndId(String counts, int windowChunks, int steps,
                                                            boolean sparse) {
        int[] rows = java.util.Arrays.stream(counts.split(",")).mapToInt(Integer::parseInt).toArray();
        List<DataBlock> chunks = chunks(rows, sparse);
        WindowPlan plan = WindowPlan.of(7, 2, 1, rows, windowChunks);
        List<Integer> ids = new ArrayList<>();
        List<Integer> seen = epoch(new WindowedRows(plan, chunks::get, null), steps, ids);
        int[] expected = plan.order();
        assertArrayEquals(expected, seen.stream().mapToInt(Integer::intValue).toArray(), "the epoch's rows in order");
        assertEquals(seen, ids, "each row's dropout id is its partition row index");
    }

    @Test
    void aBufferedWindowIsUsedAndGivesTheSameRowsAsDecodingIt() {
        int[] rows = {6, 6, 6, 6, 6, 6};
        List<DataBlock> chunks = chunks(rows, false);
        WindowPlan plan = WindowPlan.of(3, 0, 0, rows, 2);
        AtomicInteger reads = new AtomicInteger();
        WindowedRows.ChunkSource counting = c -> {
            reads.incrementAndGet();
            return chunks.get(c);
        };
        int steps = 9; // 36 rows, 4 a step: window boundaries at 12 and 24 fall inside steps 3 and 6
        List<Integer> whole = epoch(new WindowedRows(plan, counting, null), steps, new ArrayList<>());
        assertEquals(6, reads.get(), "each chunk read once in an epoch taken by one task");

        // Two tasks: steps 0-3, then 4-8 with the first task's last window as the buffer.
        reads.set(0);
        WindowedRows first = new WindowedRows(plan, counting, null);
        List<Integer> seen = new ArrayList<>();
        Workspace lent = new Workspace(SPEC, EpochPlan.maxSlice(36, steps));
        for (int s = 0; s < 4; s++) {
            first.slice(s, steps, SPEC, LocalRound.Workspaces.fixed(lent), ws -> collect(ws, seen));
        }
        WindowedRows second = new WindowedRows(plan, counting, first.window());
        for (int s = 4; s < steps; s++) {
            second.slice(s, steps, SPEC, LocalRound.Workspaces.fixed(lent), ws -> collect(ws, seen));
        }
        assertEquals(whole, seen);
        assertEquals(6, reads.get(), "the buffered window's chunks are not read again");
        assertEquals(1, second.decodedWindows());

        // A buffer of another epoch is not used.
        WindowedRows other = new WindowedRows(WindowPlan.of(3, 1, 0, rows, 2), counting, first.window());
        other.slice(0, steps, SPEC, LocalRound.Workspaces.fixed(lent), ws -> { });
        assertEquals(1, other.decodedWindows());
    }

    private static void collect(Workspace ws, List<Integer> seen) {
        for (int i = 0; i < ws.rows(); i++) {
            seen.add((int) Math.round(-ws.x[3 * i + 2]));
        }
    }

    @Test
    void aChunkOfTheWrongSizeIsAnError() {
        int[] rows = {3, 3};
        List<DataBlock> chunks = chunks(new int[] {3, 2}, false);
        WindowedRows windowed = new WindowedRows(WindowPlan.of(1, 0, 0, rows, 2), chunks::get, null);
        Workspace lent = new Workspace(SPEC, 6);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> windowed.slice(0, 1, SPEC, LocalRound.Workspaces.fixed(lent), ws -> { }));
        assertTrue(e.getMessage().contains("Chunk 1 of partition 0 has 2 rows but the plan counts 3"), e.getMessage());
    }

    /**
     * With one window (W ≥ C) no slice is split, so training over the chunks is bit-identical to
     * training over their concatenation in the plan's order; with several windows the slices that
     * cross a boundary are summed in two pieces, so the weights agree to rounding only.
     */
    @Test
    void trainingOverWindowsIsTrainingInThePlansOrder() {
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 5, 2}, Activation.TANH, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        int[] rows = {9, 9, 9, 9, 4};
        List<DataBlock> chunks = chunks(rows, false);
        for (int w : new int[] {5, 2}) {
            LocalTrainer.Settings settings = new LocalTrainer.Settings(8, 3, 11, 0.01, 0.0);
            double[] init = WeightInit.initialize(spec, 11);
            double[] windowed = new LocalTrainer(spec, settings, new Adam(spec.paramCount()),
                    LearningRateSchedule.constant(0.01)).fitWindowed(chunks, w, init).params();

            // The reference: one block in chunk order, each epoch's order taken from the plan.
            DataBlock all = DataBlock.concat(chunks);
            Network network = new Network(spec);
            double[] params = init.clone();
            Adam adam = new Adam(spec.paramCount());
            int steps = EpochPlan.stepsPerEpoch(all.rows(), 8);
            LocalRound round = new LocalRound(network, new StepRule(network, 0.01, 0),
                    LocalRound.Workspaces.fixed(new Workspace(spec, EpochPlan.maxSlice(all.rows(), steps))));
            long done = 0;
            for (int epoch = 0; epoch < 3; epoch++) {
                int[] order = WindowPlan.of(11, epoch, 0, rows, w).order();
                done += round.run(params, adam, List.of(all), List.of(order), new LocalRound.Origin(11, epoch, 0),
                        0, steps, steps, (j, applied) -> 0.01, null).applied();
            }
            if (w == 5) {
                assertArrayEquals(params, windowed, 0.0, "one window: the same bits");
            } else {
                assertArrayEquals(params, windowed, 1e-12, "several windows: the same up to rounding");
                assertNotEquals(java.util.Arrays.toString(params), java.util.Arrays.toString(windowed),
                        "slices crossing a window are summed in two pieces (if this fails, no slice crossed one)");
            }
        }
    }

    @Test
    void concatKeepsEveryRowsValuesTargetsAndWeights() {
        for (boolean sparse : new boolean[] {false, true}) {
            List<DataBlock> parts = chunks(new int[] {2, 0, 3}, sparse);
            DataBlock all = DataBlock.concat(parts);
            DataBlock expected = chunks(new int[] {5}, sparse).get(0);
            assertEquals(5, all.rows());
            assertEquals(sparse, all.isSparse());
            assertArrayEquals(sparse ? expected.values() : expected.features(), sparse ? all.values() : all.features(),
                    0.0);
            assertArrayEquals(expected.targets(), all.targets(), 0.0);
            assertArrayEquals(expected.weights(), all.weights(), 0.0);
            if (sparse) {
                assertArrayEquals(expected.rowStart(), all.rowStart());
                assertArrayEquals(expected.columns(), all.columns());
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataBlock.concat(
                List.of(chunks(new int[] {1}, false).get(0), chunks(new int[] {1}, true).get(0))));
        assertTrue(e.getMessage().startsWith("Block 1 (sparse, 3 features, 2 targets, weighted) does not match block 0"
                + " (dense"), e.getMessage());
    }
}
