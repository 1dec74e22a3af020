package io.sparkprop.core;

import io.sparkprop.core.optim.ParameterRanges;
import java.util.Arrays;

/**
 * Which rows (input features) of a first layer stored {@link WeightLayout#IN_OUT} a batch's
 * gradient sums touch: a bitset of {@code numIn} bits (32 KB for 2^18 features), or "every row"
 * once a dense input was added. It travels with the sums ({@link GradientAccumulator#trackRows}) and
 * is OR-ed when they merge, so the driver of a synchronous step knows the batch's rows too. The
 * parameters a lazy step updates ({@link #ranges}) are the touched rows plus everything outside the
 * first layer's weights.
 *
 * <p>Mutable, not thread-safe; {@link #copy} for another owner.
 */
public final class TouchedRows implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private final long[] bits;
    private boolean all;
    /** The first layer's weight offset, row width ({@code numOut}) and bias offset. */
    private final int offset;
    private final int width;
    private final int end;

    /**
     * No rows yet, for {@code spec}'s first layer.
     *
     * @throws IllegalArgumentException unless the first layer is stored {@link WeightLayout#IN_OUT}
     */
    public TouchedRows(NetworkSpec spec) {
        if (spec.firstLayerLayout() != WeightLayout.IN_OUT) {
            throw new IllegalArgumentException("Tracking rows needs the first layer stored " + WeightLayout.IN_OUT
                    + " (a feature's weights in one range) but got " + spec);
        }
        this.bits = new long[(spec.inputSize() + 63) >>> 6];
        this.offset = spec.weightOffset(0);
        this.width = spec.layer(0).numOut();
        this.end = spec.biasOffset(0);
    }

    private TouchedRows(TouchedRows other) {
        this.bits = other.bits.clone();
        this.all = other.all;
        this.offset = other.offset;
        this.width = other.width;
        this.end = other.end;
    }

    /** A copy its new owner may change. */
    public TouchedRows copy() {
        return new TouchedRows(this);
    }

    /** Marks the rows the workspace's current rows use: its sparse input's columns, or every row for dense input. */
    void add(Workspace ws) {
        if (ws.rows == 0) {
            return;
        }
        if (!ws.sparse) {
            all = true;
            return;
        }
        for (int s = 0; s < ws.xUniqueCount; s++) {
            int c = ws.xUnique[s];
            bits[c >>> 6] |= 1L << c;
        }
    }

    /** Marks row {@code row} (a feature, {@code 0 <= row < numRows()}). */
    public void mark(int row) {
        if (row < 0 || row >= numRows()) {
            throw new IndexOutOfBoundsException("Row " + row + " of " + numRows());
        }
        bits[row >>> 6] |= 1L << row;
    }

    /** Forgets every row. Returns this. */
    public TouchedRows reset() {
        Arrays.fill(bits, 0L);
        all = false;
        return this;
    }

    /** Adds {@code other}'s rows (the union). */
    public TouchedRows or(TouchedRows other) {
        if (bits.length != other.bits.length || offset != other.offset || width != other.width) {
            throw new IllegalArgumentException("Cannot combine the rows of different first layers");
        }
        for (int w = 0; w < bits.length; w++) {
            bits[w] |= other.bits[w];
        }
        all |= other.all;
        return this;
    }

    /**
     * The parameters of a network of {@code paramCount} parameters that the touched rows' sums can
     * be nonzero in, into {@code out} (cleared first), in index order: everything before the first
     * layer's weights (nothing), the touched rows, everything from the first layer's biases on;
     * every parameter when a dense input was added. Returns {@code out}.
     */
    public ParameterRanges ranges(int paramCount, ParameterRanges out) {
        out.clear();
        if (all) {
            return out.add(0, paramCount);
        }
        out.add(0, offset);
        for (int w = 0; w < bits.length; w++) {
            for (long word = bits[w]; word != 0; word &= word - 1) {
                int start = offset + ((w << 6) + Long.numberOfTrailingZeros(word)) * width;
                out.add(start, start + width);
            }
        }
        return out.add(end, paramCount);
    }

    /** The marked rows (input features), increasing; every row after a dense input. */
    public int[] rows() {
        int[] out = new int[count()];
        if (all) {
            for (int i = 0; i < out.length; i++) {
                out[i] = i;
            }
            return out;
        }
        int n = 0;
        for (int w = 0; w < bits.length; w++) {
            for (long word = bits[w]; word != 0; word &= word - 1) {
                out[n++] = (w << 6) + Long.numberOfTrailingZeros(word);
            }
        }
        return out;
    }

    /** The first layer's rows: the network's input width. */
    public int numRows() {
        return (end - offset) / width;
    }

    /** How many rows are marked (all {@code numIn} after a dense input). */
    public int count() {
        if (all) {
            return (end - offset) / width;
        }
        int n = 0;
        for (long word : bits) {
            n += Long.bitCount(word);
        }
        return n;
    }

    /**
     * Zeroes {@code values} outside the first layer's weights (the first layer's rows are known to
     * be zero already), then forgets the rows.
     */
    void clearOutsideRows(double[] values) {
        Arrays.fill(values, 0, offset, 0.0);
        Arrays.fill(values, end, values.length, 0.0);
        Arrays.fill(bits, 0L);
        all = false;
    }

    /** Zeroes {@code values} in {@link #ranges} (the parameters these rows' sums can touch), then forgets the rows. */
    void clear(double[] values) {
        if (all) {
            Arrays.fill(values, offset, end, 0.0);
        } else {
            for (int w = 0; w < bits.length; w++) {
                for (long word = bits[w]; word != 0; word &= word - 1) {
                    int start = offset + ((w << 6) + Long.numberOfTrailingZeros(word)) * width;
                    Arrays.fill(values, start, start + width, 0.0);
                }
            }
        }
        clearOutsideRows(values);
    }
}
