package io.sparkprop.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code train.shuffle = window}: one partition's chunks in the windowed order of a
 * {@link WindowPlan}, decoded one window at a time ({@code docs/out-of-core.md}).
 *
 * <p>Step {@code s} takes positions {@code [⌊s·n_p/S⌋, ⌊(s+1)·n_p/S⌋)} of the epoch's order
 * ({@link EpochPlan#sliceStart}, as in {@code partition} mode). Each run of those positions that
 * lies in one window is one piece: the window's rows at those positions are gathered into a
 * workspace of {@code ⌈n_p/S⌉} rows ({@link EpochPlan#maxSlice}) and each row keeps its partition
 * row index as its dropout id. A slice inside one window is one piece; one that crosses into the
 * next window is two (or more, when windows are smaller than slices). The pieces depend on the
 * positions only, never on which windows were already decoded, so the sums are the same bits
 * whether a window came from the caller's buffer or was decoded here.
 *
 * <p>Windows are decoded on demand: the {@link Window} in hand is kept while the positions stay in
 * it, and the next window is decoded from its chunks ({@link ChunkSource#chunk}) when they leave
 * it. Positions only move forward within an epoch, so at most one window is held at a time, and
 * each chunk is read once per window visit. Lifecycle: construct with the plan, the chunks and the
 * window a previous task left (or null); take slices in ascending steps; read {@link #window()}
 * to keep the last window for the next task. Not thread-safe.
 */
public final class WindowedRows implements EpochRows {

    /** Reads chunk {@code c} (0-based, in the partition's chunk order) of the partition. */
    @FunctionalInterface
    public interface ChunkSource {
        /**
         * The partition's chunk {@code chunk}, whose row count must be the plan's
         * {@link WindowPlan#chunkRows}.
         */
        DataBlock chunk(int chunk);
    }

    /**
     * One decoded window: its chunks' rows concatenated in {@code σ} order ({@code block}), the
     * window's shuffled order as offsets into that block ({@code offsets (n_w)}) and each row's
     * partition row index in the same order ({@code rows (n_w)}). A pure function of the plan's
     * {@code (seed, epoch, partition, W)}, the window index and the chunks' contents.
     */
    public record Window(long seed, long epoch, int partition, int windowChunks, int index, DataBlock block,
                         int[] offsets, int[] rows) {

        /** About how many bytes it holds: the block's arrays and the two index arrays. */
        public long bytes() {
            long values = block.isSparse() ? 12L * block.values().length + 4L * (block.rows() + 1)
                    : 8L * block.rows() * block.numFeatures();
            long targets = 8L * block.rows() * block.numTargets() + (block.weighted() ? 8L * block.rows() : 0);
            return values + targets + 8L * offsets.length;
        }

        boolean isWindowOf(WindowPlan plan, int window) {
            return seed == plan.seed() && epoch == plan.epoch() && partition == plan.partition()
                    && windowChunks == plan.windowChunks() && index == window;
        }
    }

    private final WindowPlan plan;
    private final ChunkSource chunks;
    private Window window;
    private int decoded;

    /**
     * @param plan     the partition's windowed order for this epoch
     * @param chunks   reads the partition's chunks
     * @param buffered a window a previous task left (any plan's; used only when it is one of
     *                 this plan's windows), or null
     */
    public WindowedRows(WindowPlan plan, ChunkSource chunks, Window buffered) {
        if (plan == null || chunks == null) {
            throw new IllegalArgumentException("A window plan and a chunk source must be given");
        }
        this.plan = plan;
        this.chunks = chunks;
        this.window = buffered;
    }

    @Override
    public long rows() {
        return plan.rows();
    }

    /** The window decoded last (or the buffered one if none was), for the next task; may be null. */
    public Window window() {
        return window;
    }

    /** How many windows this object decoded (a buffered window that was used is not counted). */
    public int decodedWindows() {
        return decoded;
    }

    @Override
    public void slice(int step, int stepsPerEpoch, NetworkSpec spec, LocalRound.Workspaces workspaces,
                      Consumer<Workspace> piece) {
        int n = plan.rows();
        int from = EpochPlan.sliceStart(step, n, stepsPerEpoch);
        int to = EpochPlan.sliceStart(step + 1, n, stepsPerEpoch);
        if (to == from) {
            return;
        }
        Workspace ws = workspaces.borrow(spec, EpochPlan.maxSlice(n, stepsPerEpoch));
        try {
            int position = from;
            while (position < to) {
                int w = plan.windowAt(position);
                Window current = window(w);
                int start = plan.windowStart(w);
                int end = Math.min(to, plan.windowEnd(w));
                piece.accept(ws.gather(current.block(), current.offsets(), position - start, end - start,
                        current.rows()));
                position = end;
            }
        } finally {
            workspaces.release(ws);
        }
    }

    /** Window {@code w} of the plan: the one in hand, or decoded from its chunks. */
    private Window window(int w) {
        if (window != null && window.isWindowOf(plan, w)) {
            return window;
        }
        window = null; // let the old window go before the new one is read
        int[] members = plan.chunks(w);
        List<DataBlock> blocks = new ArrayList<>(members.length);
        for (int c : members) {
            DataBlock block = chunks.chunk(c);
            if (block.rows() != plan.chunkRows(c)) {
                throw new IllegalStateException("Chunk " + c + " of partition " + plan.partition() + " has "
                        + block.rows() + " rows but the plan counts " + plan.chunkRows(c));
            }
            blocks.add(block);
        }
        int rows = plan.windowEnd(w) - plan.windowStart(w);
        int[] offsets = new int[rows];
        int[] ids = new int[rows];
        plan.windowOffsets(w, offsets);
        plan.windowRows(w, ids);
        window = new Window(plan.seed(), plan.epoch(), plan.partition(), plan.windowChunks(), w,
                blocks.size() == 1 ? blocks.get(0) : DataBlock.concat(blocks), offsets, ids);
        decoded++;
        return window;
    }
}
