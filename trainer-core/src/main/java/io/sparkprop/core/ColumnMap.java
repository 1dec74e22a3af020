package io.sparkprop.core;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Which row of a compact first layer holds each column (feature) of a wide sparse input: the
 * index map of a task's {@link WorkingSet}. Columns get slots {@code 0, 1, 2, ...} in the order
 * they are {@linkplain #admit(BitSet) announced} (ascending) or first {@linkplain #slot seen}; a
 * {@link Workspace} given the map ({@link Workspace#mapColumns}) stores each gathered nonzero's
 * slot instead of its column, so a network of {@link #capacity()} inputs computes what the wide
 * one would on those columns. A parameter server's pull of the rows a batch uses, without the
 * server: the rows come from the task's broadcast copy.
 *
 * <p>Shapes: {@code slotOf (features)}, {@code featureOf (capacity)}. Lifecycle: construct once
 * (the {@code features} ints are its size), {@link #clear} between uses (work in the assigned
 * slots only). Not thread-safe.
 */
public final class ColumnMap {

    private final int[] slotOf;
    private final int[] featureOf;
    private int count;
    private boolean ascending = true;

    /**
     * An empty map for an input of {@code features} columns with room for {@code capacity} of them.
     *
     * @throws IllegalArgumentException unless {@code 1 <= capacity <= features}
     */
    public ColumnMap(int features, int capacity) {
        if (capacity < 1 || capacity > features) {
            throw new IllegalArgumentException("A column map holds 1 to " + features + " columns but got a capacity of "
                    + capacity);
        }
        slotOf = new int[features];
        Arrays.fill(slotOf, -1);
        featureOf = new int[capacity];
    }

    /** The wide input's width: columns are {@code 0 .. features-1}. */
    public int features() {
        return slotOf.length;
    }

    /** How many columns the map can hold: the compact layer's rows. */
    public int capacity() {
        return featureOf.length;
    }

    /** How many columns have a slot; they hold slots {@code 0 .. count-1}. */
    public int count() {
        return count;
    }

    /** Whether the slots are in the columns' order (every column admitted ascending, none seen first). */
    public boolean ascending() {
        return ascending;
    }

    /**
     * The slot of {@code column}, given the next free one if it has none yet.
     *
     * @throws IllegalStateException when the column is new and the map is full (the caller's
     *                               bound on the columns was wrong)
     */
    public int slot(int column) {
        int s = slotOf[column];
        if (s < 0) {
            s = assign(column);
            if (s > 0 && featureOf[s - 1] > column) {
                ascending = false;
            }
        }
        return s;
    }

    /** The slot of {@code column}, or -1 when it has none. */
    public int find(int column) {
        return slotOf[column];
    }

    /** The column in slot {@code slot} ({@code 0 <= slot < count}). */
    public int feature(int slot) {
        return featureOf[slot];
    }

    /**
     * Gives every column set in {@code columns} that has no slot yet the next free one, in
     * ascending column order: admitted into an empty map, slots follow the columns' order.
     *
     * @throws IllegalStateException when they do not fit the capacity (the map then holds the
     *                               ones that did)
     */
    public void admit(BitSet columns) {
        for (int c = columns.nextSetBit(0); c >= 0; c = columns.nextSetBit(c + 1)) {
            slot(c);
        }
    }

    /** Forgets every slot (in time proportional to {@link #count}). */
    public void clear() {
        for (int s = 0; s < count; s++) {
            slotOf[featureOf[s]] = -1;
        }
        count = 0;
        ascending = true;
    }

    private int assign(int column) {
        if (count == featureOf.length) {
            throw new IllegalStateException("Column " + column + " does not fit a column map full at " + count
                    + " of its " + slotOf.length + " columns");
        }
        slotOf[column] = count;
        featureOf[count] = column;
        return count++;
    }
}
