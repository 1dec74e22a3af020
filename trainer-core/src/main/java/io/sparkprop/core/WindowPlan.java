package io.sparkprop.core;

/**
 * The windowed sample order of one partition's epoch: a bounded shuffle for data that is stored
 * as chunks and read chunk by chunk ({@code docs/out-of-core.md}, "The windowed order"). It is
 * the order {@code train.shuffle = window} takes its slices from ({@link WindowedRows}), where
 * {@code partition} takes them from {@link EpochPlan#permutation}; the slicing
 * ({@link EpochPlan#sliceStart}) is the same. It is not the chunk layout (which rows form a chunk: the Spark side decides) and holds no data: only
 * row counts and indices.
 *
 * <p>A partition of {@code C} chunks, chunk {@code c} holding the partition's rows
 * {@code [start_c, start_c + n_c)} (the chunks' rows concatenated in chunk order, {@code n} in
 * all), and a shuffle buffer of {@code W} chunks give, for {@code (seed, epoch, partition)}:
 * <ol>
 *   <li>the chunk order {@code σ}: the Fisher-Yates shuffle of {@code 0 .. C-1} (the loop of
 *       {@link EpochPlan#permutation}) drawn from
 *       {@code SplitMix64(derive(seed, STREAM_CHUNK_ORDER, epoch, partition))};</li>
 *   <li>windows: window {@code w} is the chunks {@code σ[w·W .. min((w+1)·W, C))}, for
 *       {@code w = 0 .. ⌈C/W⌉-1};</li>
 *   <li>window {@code w}'s rows: its chunks' rows, chunk by chunk in {@code σ} order and each
 *       chunk's rows ascending, then Fisher-Yates shuffled (the same loop) with
 *       {@code SplitMix64(derive(seed, STREAM_WINDOW, epoch, partition, w))};</li>
 *   <li>the epoch's order: window 0's shuffled rows, then window 1's, and so on. Window
 *       {@code w} occupies positions {@code [P_w, P_{w+1})}, {@code P_w} the rows of the windows
 *       before it.</li>
 * </ol>
 * Every row occurs exactly once. Each window has its own stream, so one window's rows can be
 * computed without the others ({@link #windowRows}): a task that needs positions
 * {@code [from, to)} builds only the windows that overlap them. With {@code W ≥ C} there is one
 * window and the order is a uniform shuffle of all the rows, but not
 * {@link EpochPlan#permutation}'s bits (another stream, another starting order).
 *
 * <p>Memory: the plan itself holds {@code O(C)} ints (chunk starts, {@code σ}, window starts), so
 * the driver can make one per partition per round; {@link #windowRows} makes {@code (n_w)} ints
 * and {@link #order} {@code (n)}, as {@link EpochPlan#permutation} does. Immutable and thread-safe.
 */
public final class WindowPlan {

    /** The largest Java array: a row index must fit one (as the JDK's collections assume). */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final long seed;
    private final long epoch;
    private final int partition;
    private final int windowChunks;
    /** {@code (C + 1)}: chunk {@code c} holds rows {@code [chunkStart[c], chunkStart[c+1])}. */
    private final int[] chunkStart;
    /** {@code (C)}: {@code σ}, the chunks in the order the epoch visits them. */
    private final int[] chunkOrder;
    /** {@code (⌈C/W⌉ + 1)}: window {@code w} occupies positions {@code [windowStart[w], windowStart[w+1])}. */
    private final int[] windowStart;

    private WindowPlan(long seed, long epoch, int partition, int[] chunkStart, int windowChunks) {
        this.seed = seed;
        this.epoch = epoch;
        this.partition = partition;
        this.windowChunks = windowChunks;
        this.chunkStart = chunkStart;
        int chunks = chunkStart.length - 1;
        this.chunkOrder = chunkOrder(seed, epoch, partition, chunks);
        int windows = (chunks + windowChunks - 1) / windowChunks;
        this.windowStart = new int[windows + 1];
        for (int w = 0; w < windows; w++) {
            int rows = 0;
            for (int i = w * windowChunks; i < Math.min(chunks, (w + 1) * windowChunks); i++) {
                rows += chunkRows(chunkOrder[i]);
            }
            windowStart[w + 1] = windowStart[w] + rows;
        }
    }

    /**
     * The plan of partition {@code partition}'s epoch {@code epoch} under {@code seed}, for chunks
     * of {@code chunkRows[c]} rows (chunk order, as stored) and windows of {@code windowChunks}
     * chunks (class comment). {@code chunkRows} is copied.
     *
     * @param chunkRows    {@code (C)}: each chunk's row count, at least 1; empty for a partition
     *                     with no rows
     * @param windowChunks {@code W}, the shuffle buffer in chunks, at least 1
     * @throws IllegalArgumentException when a chunk has no rows, {@code W < 1}, or the chunks
     *                                  hold more rows than one Java array
     */
    public static WindowPlan of(long seed, long epoch, int partition, int[] chunkRows, int windowChunks) {
        if (chunkRows == null) {
            throw new IllegalArgumentException("Chunk row counts must be given but got null");
        }
        if (windowChunks < 1) {
            throw new IllegalArgumentException("A window must hold at least 1 chunk but got " + windowChunks);
        }
        int[] start = new int[chunkRows.length + 1];
        long total = 0;
        for (int c = 0; c < chunkRows.length; c++) {
            if (chunkRows[c] < 1) {
                throw new IllegalArgumentException("Chunk " + c + " of partition " + partition
                        + " must hold at least 1 row but holds " + chunkRows[c]);
            }
            total += chunkRows[c];
            if (total > MAX_ARRAY) {
                throw new IllegalArgumentException("Partition " + partition + "'s chunks hold more than " + MAX_ARRAY
                        + " rows, more than one Java array; use more partitions");
            }
            start[c + 1] = (int) total;
        }
        return new WindowPlan(seed, epoch, partition, start, windowChunks);
    }

    /**
     * {@code σ}: the seeded order of {@code chunks} chunks for {@code (seed, epoch, partition)}, the
     * Fisher-Yates loop of {@link EpochPlan#permutation} on the stream
     * {@code derive(seed, STREAM_CHUNK_ORDER, epoch, partition)}.
     */
    public static int[] chunkOrder(long seed, long epoch, int partition, int chunks) {
        if (chunks < 0) {
            throw new IllegalArgumentException("Chunk count must be >= 0 but got " + chunks);
        }
        int[] order = new int[chunks];
        for (int c = 0; c < chunks; c++) {
            order[c] = c;
        }
        shuffle(order, chunks,
                new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_CHUNK_ORDER, epoch, partition)));
        return order;
    }

    /** {@code n}: the partition's rows, all chunks together. */
    public int rows() {
        return chunkStart[chunkStart.length - 1];
    }

    /** {@code C}. */
    public int chunkCount() {
        return chunkStart.length - 1;
    }

    /** {@code W}, the shuffle buffer in chunks. */
    public int windowChunks() {
        return windowChunks;
    }

    /** {@code ⌈C/W⌉}. */
    public int windowCount() {
        return windowStart.length - 1;
    }

    /** Chunk {@code c}'s row count {@code n_c}. */
    public int chunkRows(int chunk) {
        checkChunk(chunk);
        return chunkStart[chunk + 1] - chunkStart[chunk];
    }

    /**
     * Chunk {@code c}'s first row in the partition, {@code start_c}: the chunk's local row
     * {@code i} is partition row {@code start_c + i}.
     */
    public int chunkStart(int chunk) {
        checkChunk(chunk);
        return chunkStart[chunk];
    }

    /** The chunk holding partition row {@code row} (binary search over the chunk starts). */
    public int chunkOf(int row) {
        if (row < 0 || row >= rows()) {
            throw new IllegalArgumentException("Row " + row + " is not a row of a partition of " + rows() + " rows");
        }
        return floor(chunkStart, row);
    }

    /** A copy of {@code σ}, the chunks in the order the epoch visits them. */
    public int[] chunkOrder() {
        return chunkOrder.clone();
    }

    /** Window {@code w}'s chunks, in {@code σ} order. */
    public int[] chunks(int window) {
        checkWindow(window);
        int from = window * windowChunks;
        return java.util.Arrays.copyOfRange(chunkOrder, from, Math.min(chunkCount(), from + windowChunks));
    }

    /** {@code P_w}: window {@code w}'s first position in the epoch's order. */
    public int windowStart(int window) {
        checkWindow(window);
        return windowStart[window];
    }

    /** {@code P_{w+1}}: one past window {@code w}'s last position. */
    public int windowEnd(int window) {
        checkWindow(window);
        return windowStart[window + 1];
    }

    /** The window whose positions hold position {@code position} of the epoch's order. */
    public int windowAt(int position) {
        if (position < 0 || position >= rows()) {
            throw new IllegalArgumentException("Position " + position + " is not in an epoch of " + rows() + " rows");
        }
        return floor(windowStart, position);
    }

    /**
     * Window {@code w}'s shuffled rows (partition row indices) into {@code out[0 .. n_w)}, which is
     * OVERWRITTEN there; the rest of {@code out} is not touched. Returns {@code n_w}. Allocates
     * nothing: a task can keep one buffer of the largest window's size.
     *
     * @throws IllegalArgumentException when {@code out} holds fewer than {@code n_w} ints
     */
    public int windowRows(int window, int[] out) {
        checkBuffer(window, out);
        int n = 0;
        for (int i = window * windowChunks; i < Math.min(chunkCount(), (window + 1) * windowChunks); i++) {
            int c = chunkOrder[i];
            for (int r = chunkStart[c]; r < chunkStart[c + 1]; r++) {
                out[n++] = r;
            }
        }
        shuffle(out, n, new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_WINDOW, epoch, partition, window)));
        return n;
    }

    /**
     * Window {@code w}'s shuffled rows as offsets into its chunks' rows concatenated in {@code σ}
     * order ({@link #chunks}), into {@code out[0 .. n_w)}: entry {@code i} is where the row that
     * {@link #windowRows} puts at {@code i} sits in that concatenation. The same shuffle as
     * {@link #windowRows}, applied to {@code 0 .. n_w-1}. Returns {@code n_w}; allocates nothing.
     *
     * @throws IllegalArgumentException when {@code out} holds fewer than {@code n_w} ints
     */
    public int windowOffsets(int window, int[] out) {
        int rows = checkBuffer(window, out);
        for (int i = 0; i < rows; i++) {
            out[i] = i;
        }
        shuffle(out, rows, new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_WINDOW, epoch, partition, window)));
        return rows;
    }

    /** The seed, epoch and partition this plan orders, with its buffer {@code W}: what identifies it. */
    public long seed() {
        return seed;
    }

    public long epoch() {
        return epoch;
    }

    public int partition() {
        return partition;
    }

    /** Window {@code w}'s shuffled rows, a new {@code (n_w)} array. */
    public int[] windowRows(int window) {
        checkWindow(window);
        int[] out = new int[windowStart[window + 1] - windowStart[window]];
        windowRows(window, out);
        return out;
    }

    /** The epoch's whole order, a new {@code (n)} array: every window's shuffled rows, window by window. */
    public int[] order() {
        int[] order = new int[rows()];
        int[] buffer = new int[largestWindow()];
        for (int w = 0; w < windowCount(); w++) {
            int n = windowRows(w, buffer);
            System.arraycopy(buffer, 0, order, windowStart[w], n);
        }
        return order;
    }

    /** The most rows any window holds (0 for a partition with no rows). */
    public int largestWindow() {
        int max = 0;
        for (int w = 0; w < windowCount(); w++) {
            max = Math.max(max, windowStart[w + 1] - windowStart[w]);
        }
        return max;
    }

    /**
     * The chunks of every window that overlaps positions {@code [from, to)}, window by window and
     * within a window in {@code σ} order: what a task taking those positions may read, computed
     * from the row counts alone ({@code O(C)}, no shuffle), as the driver needs it to declare a
     * round's dependencies. A superset of {@link #chunksNeeded}; empty when {@code from == to}.
     */
    public int[] windowChunks(int from, int to) {
        checkRange(from, to);
        if (from == to) {
            return new int[0];
        }
        int first = windowAt(from);
        int last = windowAt(to - 1);
        return java.util.Arrays.copyOfRange(chunkOrder, first * windowChunks,
                Math.min(chunkCount(), (last + 1) * windowChunks));
    }

    /**
     * Exactly the chunks whose rows occur at positions {@code [from, to)} of the epoch's order,
     * ascending: what a task taking those positions must read. Builds the shuffled rows of each
     * window that overlaps the range ({@code O(rows of those windows)} time, one buffer of the
     * largest of them).
     */
    public int[] chunksNeeded(int from, int to) {
        checkRange(from, to);
        if (from == to) {
            return new int[0];
        }
        boolean[] needed = new boolean[chunkCount()];
        int count = 0;
        int first = windowAt(from);
        int last = windowAt(to - 1);
        int[] buffer = new int[largestWindow()];
        for (int w = first; w <= last; w++) {
            int n = windowRows(w, buffer);
            int lo = Math.max(from, windowStart[w]) - windowStart[w];
            int hi = Math.min(to, windowStart[w + 1]) - windowStart[w];
            int inWindow = Math.min(chunkCount(), (w + 1) * windowChunks) - w * windowChunks;
            int found = 0;
            for (int i = lo; i < hi && i < n && found < inWindow; i++) {
                int c = floor(chunkStart, buffer[i]);
                if (!needed[c]) {
                    needed[c] = true;
                    found++;
                    count++;
                }
            }
        }
        int[] chunks = new int[count];
        int k = 0;
        for (int c = 0; c < needed.length; c++) {
            if (needed[c]) {
                chunks[k++] = c;
            }
        }
        return chunks;
    }

    /** Fisher-Yates over {@code a[0 .. length)}, the loop of {@link EpochPlan#permutation}. */
    private static void shuffle(int[] a, int length, SplitMix64 random) {
        for (int i = length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The largest {@code i} with {@code starts[i] <= value} ({@code starts} ascending, {@code starts[0] <= value}). */
    private static int floor(int[] starts, int value) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= value) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private void checkChunk(int chunk) {
        if (chunk < 0 || chunk >= chunkCount()) {
            throw new IllegalArgumentException("Chunk " + chunk + " is not one of the partition's " + chunkCount()
                    + " chunks");
        }
    }

    /** Window {@code w}'s row count {@code n_w}, after checking that {@code out} holds that many ints. */
    private int checkBuffer(int window, int[] out) {
        checkWindow(window);
        int rows = windowStart[window + 1] - windowStart[window];
        if (out == null || out.length < rows) {
            throw new IllegalArgumentException("Window " + window + " has " + rows + " rows but the buffer holds "
                    + (out == null ? "none" : out.length));
        }
        return rows;
    }

    private void checkWindow(int window) {
        if (window < 0 || window >= windowCount()) {
            throw new IllegalArgumentException("Window " + window + " is not one of the epoch's " + windowCount()
                    + " windows");
        }
    }

    private void checkRange(int from, int to) {
        if (from < 0 || to < from || to > rows()) {
            throw new IllegalArgumentException("Positions [" + from + ", " + to + ") are not within an epoch of "
                    + rows() + " rows");
        }
    }
}
