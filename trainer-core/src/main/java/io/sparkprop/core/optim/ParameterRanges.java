package io.sparkprop.core.optim;

import java.util.Arrays;

/**
 * The parameters a lazy step updates ({@link Optimizer#step(double[], double[], double,
 * ParameterRanges)}): sorted, disjoint, half-open index ranges {@code [start_r, end_r)} of the flat
 * parameter array, adjacent ranges merged. For sparse input these are every parameter outside the
 * first layer's weights and the first layer's rows (features) the step's rows used.
 *
 * <p>Lifecycle: a trainer keeps one and refills it every step with {@link #clear} and
 * {@link #add}; it grows and never shrinks, so a step allocates nothing once it has room. Not
 * thread-safe.
 */
public final class ParameterRanges {

    private int[] starts = new int[16];
    private int[] ends = new int[16];
    private int count;
    private long size;

    /** Empties the ranges for the next step. */
    public ParameterRanges clear() {
        count = 0;
        size = 0;
        return this;
    }

    /**
     * Appends {@code [start, end)}, which must start at or after the last range's end (merged with
     * it when they touch). An empty range is ignored.
     *
     * @throws IllegalArgumentException when the range is before the last one or {@code start < 0}
     */
    public ParameterRanges add(int start, int end) {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("A range [start, end) needs 0 <= start <= end but got [" + start + ", "
                    + end + ")");
        }
        if (end == start) {
            return this;
        }
        if (count > 0 && start < ends[count - 1]) {
            throw new IllegalArgumentException("Ranges must be added in increasing order: [" + start + ", " + end
                    + ") starts before the last range's end " + ends[count - 1]);
        }
        size += end - start;
        if (count > 0 && start == ends[count - 1]) {
            ends[count - 1] = end;
            return this;
        }
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, 2 * count);
            ends = Arrays.copyOf(ends, 2 * count);
        }
        starts[count] = start;
        ends[count] = end;
        count++;
        return this;
    }

    /** How many (merged) ranges. */
    public int count() {
        return count;
    }

    /** Range {@code r}'s first index. */
    public int start(int r) {
        return starts[r];
    }

    /** Range {@code r}'s end (exclusive). */
    public int end(int r) {
        return ends[r];
    }

    /** The parameters in all ranges. */
    public long size() {
        return size;
    }

    /** Whether the last range ends at or before {@code paramCount}. */
    boolean fitsIn(int paramCount) {
        return count == 0 || ends[count - 1] <= paramCount;
    }

    /** For example {@code [0, 10) [40, 48)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < count; r++) {
            sb.append(r == 0 ? "" : " ").append('[').append(starts[r]).append(", ").append(ends[r]).append(')');
        }
        return sb.toString();
    }
}
