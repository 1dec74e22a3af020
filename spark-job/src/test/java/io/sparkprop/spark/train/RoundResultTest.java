package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.Activation;
import io.sparkprop.core.IndexedRows;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.TouchedRows;
import io.sparkprop.core.WeightLayout;
import org.junit.jupiter.api.Test;

/**
 * A lazy round's finiteness check before the driver adds the mean change in place: decided by the
 * bound {@code |start| + max |change|} while that is far below overflow (no pass over the start),
 * by the exact sums otherwise; in the row-sparse and the dense form alike.
 */
class RoundResultTest {

    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {5, 2, 1}, Activation.TANH, Activation.IDENTITY,
            Loss.MSE).withFirstLayerLayout(WeightLayout.IN_OUT);

    /** Two partitions' changes of one array: rows 1 and 3 (values {@code v}) and the rest, weights 1 and 3. */
    private static RoundResult merged(double v, double fraction) {
        System.setProperty(RoundResult.DENSE_FRACTION_PROPERTY, Double.toString(fraction));
        try {
            RoundResult a = RoundResult.lazy(change(v, 1), touched(1), 0.5, 1.0, 4, 0, null);
            RoundResult b = RoundResult.lazy(change(v, 3), touched(3), 0.5, 3.0, 4, 0, null);
            return a.merge(b);
        } finally {
            System.clearProperty(RoundResult.DENSE_FRACTION_PROPERTY);
        }
    }

    private static IndexedRows change(double v, int row) {
        double[] dense = new double[SPEC.paramCount()];
        java.util.Arrays.fill(dense, SPEC.weightOffset(0) + row * 2, SPEC.weightOffset(0) + row * 2 + 2, v);
        java.util.Arrays.fill(dense, SPEC.biasOffset(0), dense.length, v / 2);
        return IndexedRows.gather(SPEC, new int[] {row}, new double[][] {dense});
    }

    private static TouchedRows touched(int row) {
        TouchedRows rows = new TouchedRows(SPEC);
        rows.mark(row);
        return rows;
    }

    private static double[][] start(double v) {
        double[] start = new double[SPEC.paramCount()];
        java.util.Arrays.fill(start, v);
        return new double[][] {start};
    }

    @Test
    void aSmallBoundDecidesWithoutThePassAndLargeValuesAreSummedExactly() {
        for (double fraction : new double[] {1.0, 0.0}) { // row-sparse, dense
            String form = fraction == 1.0 ? "row-sparse" : "dense";
            RoundResult round = merged(0.25, fraction);
            // The bound 10 + 0.25 is small: true without reading the start (whose infinity it never sees).
            assertTrue(round.meanChangeKeepsFinite(start(Double.POSITIVE_INFINITY), SPEC, 10.0), form);
            assertEquals(0.75 / 4, round.maxChange(), form + ": the mean change's largest magnitude (row 3: 3 x 0.25 / 4)");
            // An unknown bound: the exact sums, which here overflow, and which here do not.
            assertFalse(merged(0.25, fraction).meanChangeKeepsFinite(start(Double.POSITIVE_INFINITY), SPEC,
                    Double.POSITIVE_INFINITY), form);
            assertTrue(merged(0.25, fraction).meanChangeKeepsFinite(start(1.0), SPEC, Double.POSITIVE_INFINITY), form);
            // A change near overflow (means of up to 3.75e307): the bound does not decide; the sums with a start of 1.7e308 overflow.
            assertFalse(merged(5e307, fraction).meanChangeKeepsFinite(start(1.7e308), SPEC, 1.7e308), form);
            assertTrue(merged(5e307, fraction).meanChangeKeepsFinite(start(-1.7e308), SPEC, 1.7e308), form);
            // A NaN change is never finite, whatever the bound.
            assertFalse(merged(Double.NaN, fraction).meanChangeKeepsFinite(start(0.0), SPEC, 0.0), form);
        }
    }
}
