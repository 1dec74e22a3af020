package io.sparkprop.core;

import java.util.Arrays;

/**
 * A step's gradient sums of the first layer's weights in row-sparse form (MXNet's
 * {@code row_sparse}, TensorFlow's {@code IndexedSlices}): the rows (input features) its sparse
 * batches used, increasing, and each row's {@code width} sums. A {@link GradientAccumulator} that
 * tracks rows keeps its first layer here rather than in its dense {@code gradSum}, so a lazy step
 * reads and writes a few thousand contiguous rows instead of scattering them into, zeroing and
 * re-reading a model-sized array (the scatter alone was a quarter of a 2^18-feature lazy step).
 *
 * <p>Bits: {@link #add} sums as the dense array would, row by row in the order of the adds, each
 * new row starting from {@code +0.0} ({@code 0.0 + g}); {@link #addTo} adds the rows to a dense
 * array whose rows are still zero, which leaves each value's bits (no sum here is {@code -0.0}).
 *
 * <p>Shapes: {@code values} is {@code (count, width)} row-major, row {@code s} the sums of
 * feature {@code rows[s]}. Lifecycle: filled by {@link #add}, read, emptied by {@link #clear};
 * grows and never shrinks. Mutable, not thread-safe. Public only so that a Kryo registrator can
 * name it: it travels inside the accumulator that holds it.
 */
public final class RowSparseSums implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private final int width;
    private int[] rows = new int[0];
    private double[] values = new double[0];
    private int count;
    /** The other pair of buffers a merge writes into (swapped with the live pair). */
    private transient int[] spareRows;
    private transient double[] spareValues;

    /** Empty sums for rows of {@code width} values (the first layer's {@code numOut}). */
    RowSparseSums(int width) {
        this.width = width;
    }

    /**
     * Adds the sums {@code g (unique, width)} of rows {@code columns[0 .. unique)} (increasing):
     * a row already held gets {@code held + g}, a new one {@code 0.0 + g}, merged in row order.
     */
    void add(int[] columns, double[] g, int unique) {
        if (unique == 0) {
            return;
        }
        if (count == 0) {
            ensure(unique);
            System.arraycopy(columns, 0, rows, 0, unique);
            for (int i = 0, n = unique * width; i < n; i++) {
                values[i] = 0.0 + g[i];
            }
            count = unique;
            return;
        }
        int capacity = count + unique;
        if (spareRows == null || spareRows.length < capacity) {
            spareRows = new int[Math.max(capacity, rows.length)];
        }
        if (spareValues == null || spareValues.length < capacity * width) {
            spareValues = new double[Math.max(capacity * width, values.length)];
        }
        int a = 0;
        int b = 0;
        int n = 0;
        while (a < count || b < unique) {
            int to = n * width;
            if (b == unique || (a < count && rows[a] < columns[b])) {
                spareRows[n] = rows[a];
                System.arraycopy(values, a * width, spareValues, to, width);
                a++;
            } else if (a == count || columns[b] < rows[a]) {
                spareRows[n] = columns[b];
                int from = b * width;
                for (int j = 0; j < width; j++) {
                    spareValues[to + j] = 0.0 + g[from + j];
                }
                b++;
            } else {
                spareRows[n] = rows[a];
                int mine = a * width;
                int from = b * width;
                for (int j = 0; j < width; j++) {
                    spareValues[to + j] = values[mine + j] + g[from + j];
                }
                a++;
                b++;
            }
            n++;
        }
        int[] r = rows;
        double[] v = values;
        rows = spareRows;
        values = spareValues;
        spareRows = r;
        spareValues = v;
        count = n;
    }

    /**
     * {@code dense[offset + rows[s] * width + j] += values[s * width + j]}: the rows into a dense
     * gradient whose first layer is stored {@link WeightLayout#IN_OUT} at {@code offset}.
     */
    void addTo(double[] dense, int offset) {
        for (int s = 0; s < count; s++) {
            int to = offset + rows[s] * width;
            int from = s * width;
            for (int j = 0; j < width; j++) {
                dense[to + j] += values[from + j];
            }
        }
    }

    /** Forgets every row (the buffers are kept). */
    void clear() {
        count = 0;
    }

    /** How many rows are held. */
    int count() {
        return count;
    }

    /** The held rows, increasing ({@link #count} of them); live, read only. */
    int[] rows() {
        return rows;
    }

    /** The held rows' sums, {@code (count, width)} row-major; live, read only. */
    double[] values() {
        return values;
    }

    private void ensure(int n) {
        if (rows.length < n) {
            rows = new int[Math.max(n, rows.length + rows.length / 2)];
        }
        if (values.length < n * width) {
            values = new double[Math.max(n * width, values.length + values.length / 2)];
        }
    }

    @Override
    public String toString() {
        return count + " rows of " + width + (count == 0 ? "" : " " + Arrays.toString(Arrays.copyOf(rows,
                Math.min(count, 8))) + (count > 8 ? "..." : ""));
    }
}
