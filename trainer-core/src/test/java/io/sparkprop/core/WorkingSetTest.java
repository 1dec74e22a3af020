package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.OptimizerState;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A lazy round on a {@link WorkingSet} (the touched rows copied into a compact network) gives the
 * bits of the same lazy round on a whole copy of the model: the reference is {@link LocalRound}
 * on the wide arrays and {@link IndexedRows#difference}, which the working set never calls.
 */
class WorkingSetTest {

    private static final int D = 40;
    private static final int H = 6;

    private static NetworkSpec spec() {
        return NetworkSpec.of(new int[] {D, H, 2}, Activation.TANH, Activation.SOFTMAX, Loss.SOFTMAX_CROSS_ENTROPY)
                .withFirstLayerLayout(WeightLayout.IN_OUT);
    }

    /** 4 nonzeros a row at columns drawn from all 40, two classes. */
    private static DataBlock rows(int n, long seed) {
        int[] start = new int[n + 1];
        int[] columns = new int[n * 4];
        double[] values = new double[n * 4];
        double[] targets = new double[n * 2];
        SplitMix64 random = new SplitMix64(seed);
        for (int r = 0; r < n; r++) {
            BitSet used = new BitSet();
            while (used.cardinality() < 4) {
                used.set(random.nextInt(D));
            }
            int p = 4 * r;
            for (int c = used.nextSetBit(0); c >= 0; c = used.nextSetBit(c + 1)) {
                columns[p] = c;
                values[p++] = random.nextDouble() - 0.25;
            }
            start[r + 1] = 4 * r + 4;
            targets[2 * r + (columns[4 * r] % 2)] = 1.0;
        }
        return DataBlock.sparse(n, D, 2, start, columns, values, targets, null);
    }

    private static final DataBlock BLOCK = rows(96, 11);
    private static final int[] ORDER = EpochPlan.permutation(3, 0, 0, BLOCK.rows());
    private static final int STEPS_PER_EPOCH = 24;

    /** Weights, Adam's m and v, all nonzero. */
    private static double[][] base() {
        NetworkSpec spec = spec();
        double[] w = WeightInit.initialize(spec, 5);
        double[] m = new double[w.length];
        double[] v = new double[w.length];
        SplitMix64 random = new SplitMix64(8);
        for (int i = 0; i < w.length; i++) {
            m[i] = 0.01 * (random.nextDouble() - 0.5);
            v[i] = 1e-4 * random.nextDouble();
        }
        return new double[][] {w, m, v};
    }

    /** An update over the base: rows 0 .. D-1 step 3 and the rest, shifted. */
    private static IndexedRows update(double[][] base) {
        double[][] changed = new double[base.length][];
        for (int a = 0; a < base.length; a++) {
            changed[a] = base[a].clone();
            for (int i = 0; i < changed[a].length; i++) {
                changed[a][i] += 1e-3 * (a + 1);
            }
        }
        int[] rows = new int[(D + 2) / 3];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = 3 * i;
        }
        return IndexedRows.gather(spec(), rows, changed);
    }

    private static Adam adam(NetworkSpec spec) {
        return new Adam(spec.paramCount(), 0.9, 0.999, 1e-8, 0.01, spec.weightRanges());
    }

    private record Outcome(double[][] change, int[] touched) {
    }

    /** The reference: steps {@code first .. first+steps-1} on a whole copy of base + update. */
    private static Outcome wholeModel(double[][] base, IndexedRows update, int first, int steps, double l2, double clip) {
        NetworkSpec spec = spec();
        double[][] start = new double[base.length][];
        for (int a = 0; a < base.length; a++) {
            start[a] = base[a].clone();
        }
        if (update != null) {
            update.writeTo(start);
        }
        double[][] current = new double[base.length][];
        for (int a = 0; a < base.length; a++) {
            current[a] = start[a].clone();
        }
        Network network = new Network(spec);
        Adam optimizer = adam(spec);
        optimizer.adopt(new OptimizerState(Adam.KIND, 7, new double[][] {current[1], current[2]}));
        LocalRound round = new LocalRound(network, new StepRule(network, l2, clip, SparseUpdate.LAZY),
                LocalRound.Workspaces.fixed(new Workspace(spec, 8)));
        round.run(current[0], optimizer, EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER)),
                new LocalRound.Origin(3, 0, 0), first, steps, STEPS_PER_EPOCH, (j, applied) -> 0.05, null);
        return new Outcome(IndexedRows.difference(spec, round.touchedRows(), current, start).toDense(),
                round.touchedRows().rows());
    }

    /** The same round on {@code set}; {@code announce} false hides the source's columns. */
    private static Outcome onWorkingSet(WorkingSet set, double[][] base, IndexedRows update, int first, int steps,
                                        double l2, double clip, boolean announce) {
        EpochRows wide = EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER));
        EpochRows source = announce ? wide : new EpochRows() {
            @Override
            public long rows() {
                return wide.rows();
            }

            @Override
            public void slice(int step, int stepsPerEpoch, NetworkSpec spec, LocalRound.Workspaces workspaces,
                              Consumer<Workspace> piece) {
                wide.slice(step, stepsPerEpoch, spec, workspaces, piece);
            }
        };
        BitSet columns = new BitSet(D);
        boolean announced = source.columnsOf(first, steps, STEPS_PER_EPOCH, columns);
        assertEquals(announce, announced);
        EpochRows rows = set.begin(base, update, announced ? columns : null, source);
        Network compact = new Network(set.spec());
        Adam optimizer = adam(set.spec());
        double[][] values = set.values();
        optimizer.adopt(new OptimizerState(Adam.KIND, 7, new double[][] {values[1], values[2]}));
        Workspace ws = new Workspace(set.spec(), 8);
        LocalRound round = new LocalRound(compact, new StepRule(compact, l2, clip, SparseUpdate.LAZY),
                set.workspaces(LocalRound.Workspaces.fixed(ws)), set.sums());
        round.run(values[0], optimizer, rows, new LocalRound.Origin(3, 0, 0), first, steps, STEPS_PER_EPOCH,
                (j, applied) -> 0.05, null);
        if (announce) {
            assertTrue(set.columns().ascending(), "announced columns get slots in their order");
        }
        IndexedRows change = set.change(round.touchedRows());
        int[] touched = set.features(round.touchedRows()).rows();
        for (int i = 0; i < touched.length; i++) {
            assertEquals(i, change.indexOf(touched[i]), "the change's rows are in the features' order");
        }
        return new Outcome(change.toDense(), touched);
    }

    private static void assertSameBits(Outcome expected, Outcome actual, String what) {
        assertArrayEquals(expected.touched(), actual.touched(), what + ": touched rows");
        for (int a = 0; a < expected.change().length; a++) {
            assertArrayEquals(expected.change()[a], actual.change()[a], what + ": array " + a);
        }
    }

    @Test
    void aRoundOnAnnouncedRowsGivesTheWholeModelsBitsWithAndWithoutClipping() {
        double[][] base = base();
        IndexedRows update = update(base);
        for (double clip : new double[] {0.0, 0.01}) {
            BitSet columns = new BitSet(D);
            EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER)).columnsOf(4, 6, STEPS_PER_EPOCH, columns);
            assertTrue(columns.cardinality() < D, "the round leaves some rows untouched");
            WorkingSet set = new WorkingSet(spec(), 3, WorkingSet.capacityFor(columns.cardinality(), D));
            Outcome expected = wholeModel(base, update, 4, 6, 1e-3, clip);
            assertSameBits(expected, onWorkingSet(set, base, update, 4, 6, 1e-3, clip, true), "clip " + clip);
            // The round changed something, and the update's rows and rest were its start.
            assertTrue(expected.touched().length > 0);
            assertFalse(java.util.Arrays.equals(expected.change()[0], wholeModel(base, null, 4, 6, 1e-3, clip)
                    .change()[0]), "the update matters");
        }
    }

    @Test
    void aRoundOnRowsCopiedAsFirstGatheredGivesTheWholeModelsBits() {
        double[][] base = base();
        IndexedRows update = update(base);
        WorkingSet set = new WorkingSet(spec(), 3, D);
        Outcome actual = onWorkingSet(set, base, update, 4, 6, 1e-3, 0.0, false);
        assertFalse(set.columns().ascending(), "rows first gathered out of the columns' order (the sorted path)");
        assertSameBits(wholeModel(base, update, 4, 6, 1e-3, 0.0), actual, "unannounced");
    }

    /**
     * A pull: no base, the update holds exactly the rows of the round's announced columns (taken
     * from base + update, as the driver gathers them from its arrays) and the rest. The round gives
     * the whole model's bits; a pull one row short, or a source that does not announce, is refused.
     */
    @Test
    void aRoundOnAPullOfItsRowsGivesTheWholeModelsBits() {
        double[][] base = base();
        IndexedRows update = update(base);
        double[][] driver = new double[base.length][];
        for (int a = 0; a < base.length; a++) {
            driver[a] = base[a].clone();
        }
        update.writeTo(driver);
        BitSet columns = new BitSet(D);
        EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER)).columnsOf(4, 6, STEPS_PER_EPOCH, columns);
        int[] rows = columns.stream().toArray();
        IndexedRows pull = IndexedRows.gather(spec(), rows, driver);
        WorkingSet set = new WorkingSet(spec(), 3, WorkingSet.capacityFor(rows.length, D));
        assertSameBits(wholeModel(base, update, 4, 6, 1e-3, 0.01), onWorkingSet(set, null, pull, 4, 6, 1e-3, 0.01, true),
                "pull");

        IndexedRows short1 = IndexedRows.gather(spec(), java.util.Arrays.copyOf(rows, rows.length - 1), driver);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> onWorkingSet(set, null, short1, 4, 6, 1e-3, 0.0, true));
        assertTrue(e.getMessage().contains("Feature " + rows[rows.length - 1]), e.getMessage());
        assertThrows(IllegalStateException.class, () -> onWorkingSet(new WorkingSet(spec(), 3, D), null, pull, 12, 5,
                0.0, 0.0, false), "another round's columns, gathered as first used");
        assertThrows(IllegalArgumentException.class, () -> set.begin(null, null, columns,
                EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER))));
    }

    @Test
    void aReusedSetGivesTheBitsOfANewOne() {
        double[][] base = base();
        IndexedRows update = update(base);
        WorkingSet set = new WorkingSet(spec(), 3, D);
        onWorkingSet(set, base, update, 0, 8, 0.0, 0.0, true); // leaves its rows and sums behind
        assertSameBits(wholeModel(base, null, 10, 3, 0.0, 0.0), onWorkingSet(set, base, null, 10, 3, 0.0, 0.0, true),
                "reused");
        assertSameBits(wholeModel(base, update, 12, 5, 0.0, 0.0),
                onWorkingSet(set, base, update, 12, 5, 0.0, 0.0, false), "reused, unannounced");
    }

    @Test
    void aSetTooSmallForItsRoundAndAMismatchedWorkspaceAreRefused() {
        WorkingSet set = new WorkingSet(spec(), 3, 4);
        assertThrows(IllegalStateException.class, () -> onWorkingSet(set, base(), null, 0, 4, 0.0, 0.0, true));
        assertThrows(IllegalArgumentException.class,
                () -> new Workspace(spec(), 4).mapColumns(new ColumnMap(D, 5)));
        assertThrows(IllegalArgumentException.class, () -> new WorkingSet(spec(), 3, D + 1));
        assertThrows(IllegalArgumentException.class,
                () -> new WorkingSet(spec().withFirstLayerLayout(WeightLayout.OUT_IN), 3, 8));
        assertThrows(IllegalArgumentException.class, () -> set.begin(new double[][] {new double[3]}, null, null,
                EpochRows.ofBlocks(List.of(BLOCK), List.of(ORDER))));
    }

    @Test
    void capacitiesRoundUpToPowersOfTwoOrOneAndAHalfWithinTheWidth() {
        assertEquals(64, WorkingSet.capacityFor(0, 1000));
        assertEquals(64, WorkingSet.capacityFor(64, 1000));
        assertEquals(96, WorkingSet.capacityFor(65, 1000));
        assertEquals(96, WorkingSet.capacityFor(96, 1000));
        assertEquals(128, WorkingSet.capacityFor(97, 1000));
        assertEquals(150, WorkingSet.capacityFor(130, 150));
        assertEquals(40, WorkingSet.capacityFor(3, 40));
        assertTrue(new WorkingSet(spec(), 3, 32).fits(spec(), 3, 32));
        assertFalse(new WorkingSet(spec(), 3, 32).fits(spec(), 3, 33));
        assertFalse(new WorkingSet(spec(), 3, 32).fits(spec(), 1, 8));
    }

    @Test
    void aColumnMapGivesSlotsInOrderOfArrivalAndForgetsThem() {
        ColumnMap map = new ColumnMap(10, 3);
        BitSet some = new BitSet();
        some.set(7);
        some.set(2);
        map.admit(some);
        assertEquals(0, map.find(2));
        assertEquals(1, map.find(7));
        assertTrue(map.ascending());
        assertEquals(2, map.slot(5));
        assertFalse(map.ascending(), "5 arrived after 7");
        assertEquals(5, map.feature(2));
        assertEquals(1, map.slot(7), "a known column keeps its slot");
        assertThrows(IllegalStateException.class, () -> map.slot(9));
        map.clear();
        assertEquals(0, map.count());
        assertEquals(-1, map.find(7));
        assertTrue(map.ascending());
        assertEquals(0, map.slot(9));
        assertThrows(IllegalArgumentException.class, () -> new ColumnMap(10, 11));
    }
}
