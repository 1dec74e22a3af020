package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * {@link IndexedRows} against the dense arrays it stands for: every operation (difference, scale,
 * merge in a fixed order, the final add) gives the dense arithmetic's bits, signs of zero included.
 */
class IndexedRowsTest {

    /** 10 features, 3 units, then a 3 -> 2 layer: rows of 3 weights, the rest 3 + 6 + 2 = 11 values. */
    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {10, 3, 2}, Activation.TANH,
            Activation.IDENTITY, Loss.MSE).withFirstLayerLayout(WeightLayout.IN_OUT);

    /** Two arrays (weights and one slot) changed from {@code start} on {@code rows} and the rest. */
    private static double[][] changed(double[][] start, int[] rows, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        double[][] out = {start[0].clone(), start[1].clone()};
        for (double[] array : out) {
            for (int row : rows) {
                for (int j = 0; j < 3; j++) {
                    array[row * 3 + j] += random.nextDouble() - 0.5;
                }
            }
            for (int i = SPEC.biasOffset(0); i < array.length; i++) {
                array[i] += random.nextDouble() - 0.5;
            }
        }
        return out;
    }

    private static TouchedRows touched(int... rows) {
        // Mark rows through a workspace of one sparse row using them.
        int[] start = {0, rows.length};
        double[] values = new double[rows.length];
        java.util.Arrays.fill(values, 1.0);
        DataBlock block = DataBlock.sparse(1, 10, 2, start, rows, values, new double[2], null);
        TouchedRows t = new TouchedRows(SPEC);
        t.add(new Workspace(SPEC, 1).load(block, 0, 1));
        return t;
    }

    private static double[][] denseDifference(double[][] current, double[][] start) {
        double[][] out = new double[current.length][current[0].length];
        for (int a = 0; a < current.length; a++) {
            for (int i = 0; i < current[a].length; i++) {
                out[a][i] = current[a][i] - start[a][i];
            }
        }
        return out;
    }

    @Test
    void weightedSumsInTreeOrderAreTheDenseSumsBitForBit() {
        double[][] start = {WeightInit.initialize(SPEC, 1), WeightInit.initialize(SPEC, 2)};
        start[0][SPEC.weightOffset(0) + 7 * 3] = -0.0; // a signed zero on a row nobody touches
        int[][] rows = {{1, 4}, {4, 8}, {2}};
        double[] omega = {3.0, 1.5, 7.25};
        IndexedRows[] sparse = new IndexedRows[3];
        double[][][] dense = new double[3][][];
        for (int p = 0; p < 3; p++) {
            double[][] current = changed(start, rows[p], 10 + p);
            sparse[p] = IndexedRows.difference(SPEC, touched(rows[p]), current, start).scale(omega[p]);
            dense[p] = denseDifference(current, start);
            for (double[] array : dense[p]) {
                for (int i = 0; i < array.length; i++) {
                    array[i] *= omega[p];
                }
            }
            assertArrayEquals(dense[p][0], sparse[p].toDense()[0]);
        }
        // ((0 + 1) + 2), as a tree merges them.
        IndexedRows sum = sparse[0].merge(sparse[1]).merge(sparse[2]);
        assertEquals(4, sum.count(), "rows 1, 2, 4, 8");
        double inv = 1.0 / (omega[0] + omega[1] + omega[2]);
        double[][] expected = {start[0].clone(), start[1].clone()};
        for (int a = 0; a < 2; a++) {
            for (int i = 0; i < expected[a].length; i++) {
                double s = dense[0][a][i] + dense[1][a][i];
                s = s + dense[2][a][i];
                if (touchedParameter(i, 1, 2, 4, 8)) {
                    expected[a][i] += s * inv;
                }
            }
        }
        double[][] actual = {start[0].clone(), start[1].clone()};
        sum.scale(inv).addScaledTo(actual, 1.0);
        for (int a = 0; a < 2; a++) {
            for (int i = 0; i < expected[a].length; i++) {
                assertEquals(Double.doubleToRawLongBits(expected[a][i]), Double.doubleToRawLongBits(actual[a][i]),
                        "array " + a + " parameter " + i);
            }
        }
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(actual[0][7 * 3]),
                "an untouched row keeps its signed zero");
    }

    private static boolean touchedParameter(int i, int... rows) {
        if (i >= SPEC.biasOffset(0)) {
            return true;
        }
        for (int r : rows) {
            if (i / 3 == r) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aNegativeZeroOnOneSideBecomesPositiveAsTheDenseSumMakesIt() {
        double[][] start = {new double[SPEC.paramCount()], new double[SPEC.paramCount()]};
        double[][] current = {start[0].clone(), start[1].clone()};
        current[0][3] = -0.0; // row 1's first weight changes from +0.0 to -0.0: a difference of -0.0
        IndexedRows left = IndexedRows.difference(SPEC, touched(1), current, start);
        IndexedRows right = IndexedRows.difference(SPEC, touched(5), start, start);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(left.toDense()[0][3]));
        double[] merged = left.merge(right).toDense()[0];
        assertEquals(Double.doubleToRawLongBits(-0.0 + 0.0), Double.doubleToRawLongBits(merged[3]));
    }

    @Test
    void shapesAndLayoutsAreChecked() {
        NetworkSpec outIn = SPEC.withFirstLayerLayout(WeightLayout.OUT_IN);
        double[][] a = {new double[SPEC.paramCount()]};
        assertThrows(IllegalArgumentException.class, () -> IndexedRows.difference(outIn, touched(1), a, a));
        assertThrows(IllegalArgumentException.class,
                () -> IndexedRows.difference(SPEC, touched(1), a, new double[][] {new double[3]}));
        IndexedRows one = IndexedRows.difference(SPEC, touched(1), a, a);
        IndexedRows two = IndexedRows.difference(SPEC, touched(1), new double[2][SPEC.paramCount()],
                new double[2][SPEC.paramCount()]);
        assertThrows(IllegalArgumentException.class, () -> one.merge(two));
    }

    /**
     * The float wire form: the values as floats (so serialized at half the bytes), widened back to
     * exactly {@link IndexedRows#roundToFloat}'s bits; every operation that reads values refuses
     * the wire form instead of reading missing arrays.
     */
    @Test
    void theFloatWireFormWidensToTheRoundedBitsAndGuardsItsValues() throws Exception {
        double[][] start = {WeightInit.initialize(SPEC, 1), WeightInit.initialize(SPEC, 2)};
        double[][] current = changed(start, new int[] {3, 6}, 5);
        IndexedRows rounded = IndexedRows.difference(SPEC, touched(3, 6), current, start).roundToFloat();
        IndexedRows wire = IndexedRows.difference(SPEC, touched(3, 6), current, start).toFloatWire();
        assertEquals(2, wire.arrays());
        assertThrows(IllegalStateException.class, wire::toDense);
        assertThrows(IllegalStateException.class, () -> wire.scale(2.0));
        assertThrows(IllegalStateException.class, () -> rounded.merge(wire));
        assertThrows(IllegalStateException.class, () -> wire.addScaledTo(new double[2][SPEC.paramCount()], 1.0));
        java.io.ByteArrayOutputStream asDoubles = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream asFloats = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(asDoubles)) {
            out.writeObject(rounded);
        }
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(asFloats)) {
            out.writeObject(wire);
        }
        IndexedRows received;
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(asFloats.toByteArray()))) {
            received = (IndexedRows) in.readObject();
        }
        double[][] expected = rounded.toDense();
        double[][] actual = received.fromFloatWire().toDense();
        for (int a = 0; a < 2; a++) {
            assertArrayEquals(expected[a], actual[a]);
        }
        // 2 arrays of (2 rows x 3 + 11 rest) values: 4 bytes fewer each, less the float form's field names.
        int values = 2 * (2 * 3 + 11);
        assertEquals(4 * values, asDoubles.size() - asFloats.size(), 64, "bytes saved");
    }
}
