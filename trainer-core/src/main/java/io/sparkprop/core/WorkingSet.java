package io.sparkprop.core;

import java.util.Arrays;
import java.util.BitSet;
import java.util.function.Consumer;

/**
 * A task's working set for one lazy local-SGD round of a wide sparse first layer: the rows of the
 * features the round's steps use, copied out of the whole model into a compact network of
 * {@code C} inputs, with everything above the first layer whole. The round's steps run on the
 * compact copy (a {@link ColumnMap} turns each gathered column into its row there), and the
 * round's change comes back in the wide model's rows ({@link #change}). Work and memory follow the
 * rows the round touches, not {@code D x H}: what a parameter server's pull and push of a batch's
 * embedding rows do (Li et al., "Scaling Distributed Machine Learning with the Parameter Server",
 * OSDI 2014), with the task's broadcast copy of the model in the server's place.
 *
 * <p>A compact row holds exactly the wide row's values and each compact step does the wide lazy
 * step's arithmetic on them, so a round computes the bits it would on the whole model: gradients,
 * means and optimizer updates are elementwise, and the one sum across rows (the gradient norm,
 * when clipping) runs in slot order, which is the features' order when the source announced the
 * round's columns ({@link EpochRows#columnsOf}) and their first-use order otherwise.
 *
 * <p>Shapes, with {@code A} arrays (weights, then the optimizer's slots), {@code C} the capacity
 * and {@code H} the first layer's width: {@code values[a] (C·H + rest)} in the compact spec's
 * layout (first layer {@link WeightLayout#IN_OUT}), the step sums {@code (C·H + rest)} tracking
 * their rows, the column map {@code (D)} ints. Lifecycle: construct for a spec, an array count and
 * a capacity; per round {@link #begin} (the round's start, its rows), run the steps on
 * {@link #values}, {@link #sums} and {@link #workspaces}, then read {@link #change} and
 * {@link #features}; reuse for the next round of the same spec when it {@link #fits}. Rows
 * outside the current round's slots hold stale values that nothing reads. Not thread-safe.
 */
public final class WorkingSet {

    private final NetworkSpec wide;
    private final NetworkSpec compact;
    private final ColumnMap map;
    private final double[][] values;
    private final GradientAccumulator sums;
    /** The round's start: the base's arrays and the update over them (or null). Read only. */
    private double[][] base;
    private IndexedRows update;
    /** Slots {@code [0, pulled)} hold their start values. */
    private int pulled;
    /** Per pulled slot, its row's index in the update, or -1 (the start is the base's row). */
    private final int[] updateIndex;
    /**
     * The update's rows before {@code updateCursor} are below {@code cursorFeature}, the largest
     * feature found by walking them: a larger one is found by walking on, a smaller one by search.
     */
    private int updateCursor;
    private int cursorFeature;

    /**
     * Room for {@code capacity} rows of {@code wide}'s first layer, with {@code arrays} arrays.
     *
     * @throws IllegalArgumentException unless the first layer is IN_OUT and
     *                                  {@code 1 <= capacity <= D}
     */
    public WorkingSet(NetworkSpec wide, int arrays, int capacity) {
        if (wide.firstLayerLayout() != WeightLayout.IN_OUT) {
            throw new IllegalArgumentException("A working set needs the first layer stored " + WeightLayout.IN_OUT
                    + " but got " + wide);
        }
        if (arrays < 1) {
            throw new IllegalArgumentException("A working set holds at least the weights but got " + arrays + " arrays");
        }
        this.wide = wide;
        this.map = new ColumnMap(wide.inputSize(), capacity);
        this.compact = wide.withInputSize(capacity);
        this.values = new double[arrays][compact.paramCount()];
        this.sums = new GradientAccumulator(compact.paramCount()).trackRows(compact);
        this.updateIndex = new int[capacity];
    }

    /**
     * The capacity a working set for {@code columns} of {@code features} columns gets: at least
     * {@code columns}, rounded up to {@code 2^m} or {@code 1.5·2^m} (so rounds of similar size
     * reuse one set), at most {@code features}.
     */
    public static int capacityFor(int columns, int features) {
        int c = Math.max(64, columns);
        int pow = Integer.highestOneBit(c);
        long rounded = c == pow ? pow : c <= pow + pow / 2 ? pow + pow / 2 : 2L * pow;
        return (int) Math.min(features, rounded);
    }

    /** Whether this set serves a round of {@code wide} with {@code arrays} arrays over {@code columns} columns. */
    public boolean fits(NetworkSpec wide, int arrays, int columns) {
        return this.wide.equals(wide) && values.length == arrays && map.capacity() >= columns;
    }

    /** The compact network's spec: {@code wide} with {@link #capacity()} inputs. */
    public NetworkSpec spec() {
        return compact;
    }

    /** {@code C}, the compact first layer's rows. */
    public int capacity() {
        return map.capacity();
    }

    /** The round's weights and optimizer slots in the compact layout, changed in place by its steps. */
    public double[][] values() {
        return values;
    }

    /** Step sums for the compact network, tracking their rows (a {@link LocalRound}'s). */
    public GradientAccumulator sums() {
        return sums;
    }

    /** The column map of the current round (slots in use: {@link ColumnMap#count}). */
    public ColumnMap columns() {
        return map;
    }

    /**
     * Starts a round from {@code base} overwritten by {@code update} (its stored rows and rest, as
     * {@link IndexedRows#writeTo} would write them; null for the base alone): the rest copied,
     * the announced {@code columns} (null when the source could not say) given slots in
     * ascending order and their rows copied. Returns {@code source} with every later column
     * copied in when a step first gathers it; run the round's steps on it.
     *
     * <p>Without a base ({@code base == null}) the update is a pull: it must hold the row of every
     * column the round uses (the announced ones; a step that gathers another is refused).
     *
     * @param base the wide model's {@code A} arrays, or null for a pull; read only, and must not
     *             change until {@link #change} has been read
     * @throws IllegalArgumentException when the arrays do not fit the spec, or neither a base nor
     *                                  an update is given
     * @throws IllegalStateException    when the announced columns exceed the capacity, or a pull
     *                                  lacks a row the round uses
     */
    public EpochRows begin(double[][] base, IndexedRows update, BitSet columns, EpochRows source) {
        if (base == null && update == null) {
            throw new IllegalArgumentException("A round starts from a base, an update or both but got neither");
        }
        int arrays = base != null ? base.length : update.arrays();
        if (arrays != values.length || update != null && update.arrays() != values.length) {
            throw new IllegalArgumentException("Expected " + values.length + " start arrays but got " + arrays);
        }
        for (double[] array : base == null ? new double[0][] : base) {
            if (array.length != wide.paramCount()) {
                throw new IllegalArgumentException("Network " + wide + " has " + wide.paramCount()
                        + " parameters but a start array holds " + array.length);
            }
        }
        this.base = base;
        this.update = update;
        map.clear();
        pulled = 0;
        updateCursor = 0;
        cursorFeature = -1;
        int restAt = wide.biasOffset(0);
        int compactRestAt = compact.biasOffset(0);
        int restLength = wide.paramCount() - restAt;
        int before = wide.weightOffset(0);
        for (int a = 0; a < values.length; a++) {
            if (update == null) {
                System.arraycopy(base[a], 0, values[a], 0, before);
                System.arraycopy(base[a], restAt, values[a], compactRestAt, restLength);
            } else {
                double[] rest = update.restValues(a);
                System.arraycopy(rest, 0, values[a], 0, before);
                System.arraycopy(rest, before, values[a], compactRestAt, restLength);
            }
        }
        if (columns != null) {
            map.admit(columns);
        }
        pull();
        return new EpochRows() {
            @Override
            public long rows() {
                return source.rows();
            }

            @Override
            public void slice(int step, int stepsPerEpoch, NetworkSpec spec, LocalRound.Workspaces workspaces,
                              Consumer<Workspace> piece) {
                source.slice(step, stepsPerEpoch, spec, workspaces, ws -> {
                    pull();
                    piece.accept(ws);
                });
            }
        };
    }

    /**
     * {@code pool}'s workspaces with this set's column map while borrowed: what the round's
     * {@link LocalRound} gathers through.
     */
    public LocalRound.Workspaces workspaces(LocalRound.Workspaces pool) {
        return new LocalRound.Workspaces() {
            @Override
            public Workspace borrow(NetworkSpec spec, int capacity) {
                return pool.borrow(spec, capacity).mapColumns(map);
            }

            @Override
            public void release(Workspace ws) {
                pool.release(ws.mapColumns(null));
            }
        };
    }

    /**
     * {@code current - start} of each array for the compact rows in {@code touched} (the round's,
     * {@link LocalRound#touchedRows}) and the rest, in the wide model's rows (increasing): what
     * {@link IndexedRows#difference} gives on a whole-model copy that ran the same steps.
     */
    public IndexedRows change(TouchedRows touched) {
        int[] slots = touched.rows();
        int[] features = sortByFeature(slots);
        int m = slots.length;
        int width = wide.layer(0).numOut();
        int offset = wide.weightOffset(0);
        int restAt = wide.biasOffset(0);
        int compactRestAt = compact.biasOffset(0);
        int restLength = wide.paramCount() - restAt;
        double[][] rows = new double[values.length][m * width];
        double[][] rest = new double[values.length][offset + restLength];
        for (int i = 0; i < m; i++) {
            int from = offset + slots[i] * width;
            int u = updateIndex[slots[i]];
            for (int a = 0; a < values.length; a++) {
                double[] cur = values[a];
                double[] start = u >= 0 ? update.rowValues(a) : base[a];
                int at = u >= 0 ? u * width : offset + features[i] * width;
                double[] v = rows[a];
                for (int j = 0; j < width; j++) {
                    v[i * width + j] = cur[from + j] - start[at + j];
                }
            }
        }
        for (int a = 0; a < values.length; a++) {
            double[] cur = values[a];
            double[] startRest = update == null ? null : update.restValues(a);
            double[] o = rest[a];
            for (int i = 0; i < offset; i++) {
                o[i] = cur[i] - (startRest == null ? base[a][i] : startRest[i]);
            }
            for (int i = 0; i < restLength; i++) {
                o[offset + i] = cur[compactRestAt + i]
                        - (startRest == null ? base[a][restAt + i] : startRest[offset + i]);
            }
        }
        return new IndexedRows(offset, width, restAt, wide.paramCount(), features, rows, rest);
    }

    /**
     * A compact array's rows in {@code touched} and its rest, in the wide model's rows (increasing):
     * a synchronous lazy step's gradient sums, say ({@link #sums}), row-sparse. One array; the
     * values are copied as they are.
     *
     * @param compact {@code (C·H + rest)} in the compact spec's layout
     */
    public IndexedRows rowsOf(double[] compact, TouchedRows touched) {
        int[] slots = touched.rows();
        int[] features = sortByFeature(slots);
        int width = wide.layer(0).numOut();
        int offset = wide.weightOffset(0);
        int restAt = wide.biasOffset(0);
        int compactRestAt = this.compact.biasOffset(0);
        int restLength = wide.paramCount() - restAt;
        double[] rows = new double[slots.length * width];
        for (int i = 0; i < slots.length; i++) {
            System.arraycopy(compact, offset + slots[i] * width, rows, i * width, width);
        }
        double[] rest = new double[offset + restLength];
        System.arraycopy(compact, 0, rest, 0, offset);
        System.arraycopy(compact, compactRestAt, rest, offset, restLength);
        return new IndexedRows(offset, width, restAt, wide.paramCount(), features, new double[][] {rows},
                new double[][] {rest});
    }

    /**
     * The features of {@code slots}, increasing; {@code slots} REORDERED to match (already in that
     * order when the map's slots are ascending).
     */
    private int[] sortByFeature(int[] slots) {
        int m = slots.length;
        int[] features = new int[m];
        if (map.ascending()) {
            for (int i = 0; i < m; i++) {
                features[i] = map.feature(slots[i]);
            }
        } else {
            long[] keys = new long[m];
            for (int i = 0; i < m; i++) {
                keys[i] = (long) map.feature(slots[i]) << 32 | slots[i];
            }
            Arrays.sort(keys);
            for (int i = 0; i < m; i++) {
                features[i] = (int) (keys[i] >>> 32);
                slots[i] = (int) keys[i];
            }
        }
        return features;
    }

    /** The wide model's rows (features) of the compact rows in {@code touched}. */
    public TouchedRows features(TouchedRows touched) {
        TouchedRows out = new TouchedRows(wide);
        for (int slot : touched.rows()) {
            out.mark(map.feature(slot));
        }
        return out;
    }

    /** Copies the start values of every slot given since the last pull. */
    private void pull() {
        int width = wide.layer(0).numOut();
        int offset = wide.weightOffset(0);
        int[] updated = update == null ? new int[0] : update.storedRows();
        for (int s = pulled; s < map.count(); s++) {
            int f = map.feature(s);
            int u;
            if (f < cursorFeature) {
                u = update == null ? -1 : update.indexOf(f); // out of order: search
            } else {
                cursorFeature = f;
                // Ascending (every announced column, in one pass): walk the update's rows once.
                while (updateCursor < updated.length && updated[updateCursor] < f) {
                    updateCursor++;
                }
                u = updateCursor < updated.length && updated[updateCursor] == f ? updateCursor : -1;
            }
            if (u < 0 && base == null) {
                throw new IllegalStateException("Feature " + f + " is used by the round but its pull holds no row for"
                        + " it (" + updated.length + " rows): the driver's columns for the round are incomplete");
            }
            updateIndex[s] = u;
            for (int a = 0; a < values.length; a++) {
                if (u >= 0) {
                    System.arraycopy(update.rowValues(a), u * width, values[a], offset + s * width, width);
                } else {
                    System.arraycopy(base[a], offset + f * width, values[a], offset + s * width, width);
                }
            }
        }
        pulled = map.count();
    }
}
