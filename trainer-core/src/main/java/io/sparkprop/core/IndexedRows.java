package io.sparkprop.core;

import java.util.Arrays;

/**
 * Row-sparse values of {@code A} parameter-shaped arrays (weights, then optimizer state slots) of a
 * network whose first layer is stored {@link WeightLayout#IN_OUT}: the values of the first layer's
 * rows in a sorted index list, and every parameter outside the first layer's weights (the "rest",
 * which is small), with every other first-layer row exactly {@code +0.0}. TensorFlow's
 * {@code IndexedSlices} (indices and values) plus a dense remainder. A local-SGD round's lazy
 * exchange ships each partition's change ({@code current - start}) in this form, because a round
 * changes only the rows its steps touched.
 *
 * <p>Every operation gives the bits the same operation on the dense arrays gives:
 * {@link #scale} multiplies only stored values ({@code +0.0 · w = +0.0}), and {@link #merge} adds
 * stored values where both sides have a row and otherwise computes {@code x + 0.0} (which turns a
 * {@code -0.0} into {@code +0.0}, as the dense sum would). So a sum of these in any fixed order
 * equals the dense sum in that order, bit for bit.
 *
 * <p>Shapes: {@code values[a]} is {@code (count, width)} row-major, {@code rest[a]} holds the
 * parameters {@code [0, rowsOffset)} then {@code [rowsEnd, paramCount)}. Mutable; not thread-safe.
 */
public final class IndexedRows implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private final int rowsOffset;
    private final int width;
    private final int rowsEnd;
    private final int paramCount;
    /** The stored rows, increasing. */
    private int[] rows;
    private double[][] values;
    private double[][] rest;
    /**
     * While in its wire form ({@link #toFloatWire}): {@link #values} and {@link #rest} rounded to
     * float, the doubles null; null otherwise.
     */
    private float[][] floatValues;
    private float[][] floatRest;

    IndexedRows(int rowsOffset, int width, int rowsEnd, int paramCount, int[] rows, double[][] values,
                        double[][] rest) {
        this.rowsOffset = rowsOffset;
        this.width = width;
        this.rowsEnd = rowsEnd;
        this.paramCount = paramCount;
        this.rows = rows;
        this.values = values;
        this.rest = rest;
    }

    /**
     * {@code current - start} of each array, stored for the rows in {@code touched} and the rest;
     * the caller guarantees the arrays are equal on every other first-layer row (so the difference
     * is {@code +0.0} there).
     *
     * @param spec    a spec with its first layer IN_OUT
     * @param current {@code A} arrays of {@code paramCount}
     * @param start   {@code A} arrays of {@code paramCount}
     * @throws IllegalArgumentException when the layout or the shapes do not fit
     */
    public static IndexedRows difference(NetworkSpec spec, TouchedRows touched, double[][] current, double[][] start) {
        requireRows(spec);
        if (current.length != start.length) {
            throw new IllegalArgumentException("Expected as many start arrays as current ones but got " + start.length
                    + " and " + current.length);
        }
        int n = spec.paramCount();
        for (int a = 0; a < current.length; a++) {
            if (current[a].length != n || start[a].length != n) {
                throw new IllegalArgumentException("Array " + a + " must hold " + n + " values but got "
                        + current[a].length + " and " + start[a].length);
            }
        }
        int offset = spec.weightOffset(0);
        int width = spec.layer(0).numOut();
        int end = spec.biasOffset(0);
        int[] rows = touched.rows();
        double[][] values = new double[current.length][rows.length * width];
        double[][] rest = new double[current.length][offset + n - end];
        for (int a = 0; a < current.length; a++) {
            double[] cur = current[a];
            double[] st = start[a];
            double[] v = values[a];
            for (int r = 0; r < rows.length; r++) {
                int from = offset + rows[r] * width;
                for (int j = 0; j < width; j++) {
                    v[r * width + j] = cur[from + j] - st[from + j];
                }
            }
            double[] o = rest[a];
            for (int i = 0; i < offset; i++) {
                o[i] = cur[i] - st[i];
            }
            for (int i = end; i < n; i++) {
                o[offset + i - end] = cur[i] - st[i];
            }
        }
        return new IndexedRows(offset, width, end, n, rows, values, rest);
    }

    /**
     * The values of {@code arrays} (each of {@code paramCount}) at the first-layer {@code rows}
     * (increasing) and the rest, copied: what {@link #writeTo} puts back.
     */
    public static IndexedRows gather(NetworkSpec spec, int[] rows, double[][] arrays) {
        requireRows(spec);
        int n = spec.paramCount();
        int offset = spec.weightOffset(0);
        int width = spec.layer(0).numOut();
        int end = spec.biasOffset(0);
        for (int r = 1; r < rows.length; r++) {
            if (rows[r] <= rows[r - 1]) {
                throw new IllegalArgumentException("Rows must be increasing but " + rows[r] + " follows " + rows[r - 1]);
            }
        }
        double[][] values = new double[arrays.length][rows.length * width];
        double[][] rest = new double[arrays.length][offset + n - end];
        for (int a = 0; a < arrays.length; a++) {
            if (arrays[a].length != n) {
                throw new IllegalArgumentException("Array " + a + " must hold " + n + " values but got "
                        + arrays[a].length);
            }
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(arrays[a], offset + rows[r] * width, values[a], r * width, width);
            }
            System.arraycopy(arrays[a], 0, rest[a], 0, offset);
            System.arraycopy(arrays[a], end, rest[a], offset, n - end);
        }
        return new IndexedRows(offset, width, end, n, rows.clone(), values, rest);
    }

    /** Overwrites {@code target}'s stored rows and rest with these values (each array of {@code paramCount}). */
    public void writeTo(double[][] target) {
        requireDoubles();
        for (int a = 0; a < values.length; a++) {
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(values[a], r * width, target[a], rowsOffset + rows[r] * width, width);
            }
            System.arraycopy(rest[a], 0, target[a], 0, rowsOffset);
            System.arraycopy(rest[a], rowsOffset, target[a], rowsEnd, paramCount - rowsEnd);
        }
    }

    /**
     * Rounds every value to the nearest float, kept as a double (what a float32 wire delivers:
     * {@code train.exchange-precision = float32}). Returns this.
     */
    public IndexedRows roundToFloat() {
        requireDoubles();
        for (double[][] group : new double[][][] {values, rest}) {
            for (double[] array : group) {
                for (int i = 0; i < array.length; i++) {
                    array[i] = (float) array[i];
                }
            }
        }
        return this;
    }

    /**
     * The float wire form ({@code train.exchange-precision = float32}): every value rounded to the
     * nearest float and kept as a float, half the bytes to serialize; the double arrays are
     * dropped until {@link #fromFloatWire}, and the operations that read values refuse to run
     * before it. A no-op when already in that form. Returns this.
     */
    public IndexedRows toFloatWire() {
        if (floatValues == null) {
            floatValues = FloatArrays.rounded(values);
            floatRest = FloatArrays.rounded(rest);
            values = null;
            rest = null;
        }
        return this;
    }

    /**
     * Back from {@link #toFloatWire}: the floats widened to doubles, exactly (the bits
     * {@link #roundToFloat} gives). A no-op unless in the wire form. Returns this.
     */
    public IndexedRows fromFloatWire() {
        if (floatValues != null) {
            values = FloatArrays.widened(floatValues);
            rest = FloatArrays.widened(floatRest);
            floatValues = null;
            floatRest = null;
        }
        return this;
    }

    /** Refuses to read values while they are in the float wire form. */
    private void requireDoubles() {
        if (values == null) {
            throw new IllegalStateException("These rows are in their float wire form: call fromFloatWire() first");
        }
    }

    /** Where {@code row} is among the stored rows, or -1. */
    public int indexOf(int row) {
        int i = Arrays.binarySearch(rows, row);
        return i >= 0 ? i : -1;
    }

    private static void requireRows(NetworkSpec spec) {
        if (spec.firstLayerLayout() != WeightLayout.IN_OUT) {
            throw new IllegalArgumentException("Row-sparse values need the first layer stored " + WeightLayout.IN_OUT
                    + " but got " + spec);
        }
    }

    /** The stored rows, increasing: live, for this package's readers. */
    int[] storedRows() {
        return rows;
    }

    /** Array {@code a}'s stored rows, {@code (count, width)}: live, for this package's readers. */
    double[] rowValues(int a) {
        requireDoubles();
        return values[a];
    }

    /** Array {@code a}'s parameters outside the first layer's weights: live, for this package's readers. */
    double[] restValues(int a) {
        requireDoubles();
        return rest[a];
    }

    /** The stored rows' count. */
    public int count() {
        return rows.length;
    }

    /** The first layer's rows (the network's input width). */
    public int numRows() {
        return (rowsEnd - rowsOffset) / width;
    }

    /** The number of arrays. */
    public int arrays() {
        return values != null ? values.length : floatValues.length;
    }

    /**
     * {@link #scale} that also returns the largest magnitude of the scaled values (0 when none is
     * stored; NaN when one is NaN): a bound the driver uses to know, without another pass, that
     * adding these values cannot overflow.
     */
    public double scaleMaxAbs(double factor) {
        requireDoubles();
        return Math.max(scaleMaxAbs(values, factor), scaleMaxAbs(rest, factor));
    }

    /**
     * Every value of {@code arrays} multiplied by {@code factor} in place; returns the largest
     * magnitude of the products (0 for none, NaN when one is NaN): {@link #scaleMaxAbs(double)}
     * for dense arrays.
     */
    public static double scaleMaxAbs(double[][] arrays, double factor) {
        double max = 0.0;
        for (double[] array : arrays) {
            for (int i = 0; i < array.length; i++) {
                double v = array[i] * factor;
                array[i] = v;
                max = Math.max(max, Math.abs(v));
            }
        }
        return max;
    }

    /** Multiplies every value by {@code factor}, in place (an unstored value stays {@code +0.0}). Returns this. */
    public IndexedRows scale(double factor) {
        requireDoubles();
        for (double[][] group : new double[][][] {values, rest}) {
            for (double[] array : group) {
                for (int i = 0; i < array.length; i++) {
                    array[i] *= factor;
                }
            }
        }
        return this;
    }

    /**
     * {@code this + other}, element by element, in that order: a row both store is added, a row one
     * stores is that value plus {@code +0.0}. This object becomes the sum; {@code other} is
     * unchanged. Returns this.
     *
     * @throws IllegalArgumentException when the layouts or array counts differ
     */
    public IndexedRows merge(IndexedRows other) {
        requireDoubles();
        other.requireDoubles();
        if (other.rowsOffset != rowsOffset || other.width != width || other.rowsEnd != rowsEnd
                || other.paramCount != paramCount || other.values.length != values.length) {
            throw new IllegalArgumentException("Cannot add row-sparse values of another layout or array count");
        }
        int[] union = new int[rows.length + other.rows.length];
        int n = 0;
        for (int i = 0, j = 0; i < rows.length || j < other.rows.length; ) {
            int next = j == other.rows.length || (i < rows.length && rows[i] <= other.rows[j]) ? rows[i] : other.rows[j];
            union[n++] = next;
            if (i < rows.length && rows[i] == next) {
                i++;
            }
            if (j < other.rows.length && other.rows[j] == next) {
                j++;
            }
        }
        union = Arrays.copyOf(union, n);
        double[][] sum = new double[values.length][n * width];
        for (int a = 0; a < values.length; a++) {
            double[] mine = values[a];
            double[] theirs = other.values[a];
            double[] out = sum[a];
            for (int u = 0, i = 0, j = 0; u < n; u++) {
                boolean left = i < rows.length && rows[i] == union[u];
                boolean right = j < other.rows.length && other.rows[j] == union[u];
                int to = u * width;
                for (int c = 0; c < width; c++) {
                    double l = left ? mine[i * width + c] : 0.0;
                    double r = right ? theirs[j * width + c] : 0.0;
                    out[to + c] = l + r;
                }
                i += left ? 1 : 0;
                j += right ? 1 : 0;
            }
            double[] into = rest[a];
            double[] from = other.rest[a];
            for (int k = 0; k < into.length; k++) {
                into[k] += from[k];
            }
        }
        rows = union;
        values = sum;
        return this;
    }

    /** The dense arrays: the stored rows and the rest in place, {@code +0.0} elsewhere. */
    public double[][] toDense() {
        requireDoubles();
        double[][] out = new double[values.length][paramCount];
        for (int a = 0; a < values.length; a++) {
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(values[a], r * width, out[a], rowsOffset + rows[r] * width, width);
            }
            System.arraycopy(rest[a], 0, out[a], 0, rowsOffset);
            System.arraycopy(rest[a], rowsOffset, out[a], rowsEnd, paramCount - rowsEnd);
        }
        return out;
    }

    /**
     * {@code target[a][i] += values[a][i] · factor} for every stored parameter of every array (the
     * stored rows and the rest), nothing elsewhere. {@code target} arrays hold {@code paramCount}.
     */
    public void addScaledTo(double[][] target, double factor) {
        requireDoubles();
        for (int a = 0; a < values.length; a++) {
            double[] t = target[a];
            double[] v = values[a];
            for (int r = 0; r < rows.length; r++) {
                int to = rowsOffset + rows[r] * width;
                for (int c = 0; c < width; c++) {
                    t[to + c] += v[r * width + c] * factor;
                }
            }
            double[] o = rest[a];
            for (int i = 0; i < rowsOffset; i++) {
                t[i] += o[i] * factor;
            }
            for (int i = rowsEnd; i < paramCount; i++) {
                t[i] += o[rowsOffset + i - rowsEnd] * factor;
            }
        }
    }

    /**
     * Whether {@code target[a][i] + values[a][i]} is finite for every stored parameter: what
     * {@link #addScaledTo}{@code (target, 1.0)} would write, checked without writing it.
     */
    public boolean sumStaysFinite(double[][] target) {
        requireDoubles();
        for (int a = 0; a < values.length; a++) {
            double[] t = target[a];
            double[] v = values[a];
            for (int r = 0; r < rows.length; r++) {
                int to = rowsOffset + rows[r] * width;
                for (int c = 0; c < width; c++) {
                    if (!Double.isFinite(t[to + c] + v[r * width + c])) {
                        return false;
                    }
                }
            }
            double[] o = rest[a];
            for (int i = 0; i < rowsOffset; i++) {
                if (!Double.isFinite(t[i] + o[i])) {
                    return false;
                }
            }
            for (int i = rowsEnd; i < paramCount; i++) {
                if (!Double.isFinite(t[i] + o[rowsOffset + i - rowsEnd])) {
                    return false;
                }
            }
        }
        return true;
    }
}
