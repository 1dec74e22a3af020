package io.sparkprop.core;

import java.util.List;
import java.util.function.Consumer;

/**
 * One partition's training rows in one epoch's order, as the steps of a {@link LocalRound} take
 * them: step {@code s} of an epoch of {@code S} steps takes its slice, and the source gathers the
 * slice's rows into workspaces, one piece at a time, in the order the gradient sums them. There
 * are two sources, one per {@code train.shuffle} mode:
 * <ul>
 *   <li>{@link #ofBlocks}: {@code partition}, the partition's blocks each in its own epoch
 *       permutation ({@link EpochPlan#permutation}); a step's pieces are its slice of each block,
 *       block by block;</li>
 *   <li>{@link WindowedRows}: {@code window}, the partition's chunks in the windowed order
 *       ({@link WindowPlan}); a step's pieces are its slice's runs within one window each.</li>
 * </ul>
 * Either way the pieces of a step, and the rows of each piece, depend only on the seed, the epoch,
 * the partition, the step and the data, so a retried task sums the same rows in the same order.
 */
public interface EpochRows {

    /** {@code n_p}: the partition's rows (what its share of the L2 strength is counted from). */
    long rows();

    /**
     * Gathers step {@code step}'s slice of an epoch of {@code stepsPerEpoch} steps, piece by piece,
     * into workspaces borrowed from {@code workspaces} (for {@code spec}), handing each loaded
     * workspace to {@code piece} before the next is gathered and returning it afterwards. An empty
     * slice calls {@code piece} not at all.
     */
    void slice(int step, int stepsPerEpoch, NetworkSpec spec, LocalRound.Workspaces workspaces,
               Consumer<Workspace> piece);

    /**
     * Marks in {@code columns} every input column that a nonzero of steps
     * {@code firstStep .. firstStep + steps - 1}'s slices uses, if the source can say so without
     * reading ahead, and returns whether it did (nothing is marked when not). A lazy round copies
     * exactly those rows of a wide first layer ({@link WorkingSet}); a source that cannot say
     * ({@link WindowedRows}: its windows are read as the steps reach them) gets room for every row.
     * The default says nothing.
     */
    default boolean columnsOf(int firstStep, int steps, int stepsPerEpoch, java.util.BitSet columns) {
        return false;
    }

    /**
     * {@code train.shuffle = partition}: each block's slices taken from its epoch permutation,
     * {@code π_b[⌊s·n_b/S⌋ .. ⌊(s+1)·n_b/S⌋)} ({@link EpochPlan#sliceStart}), gathered into a
     * workspace of {@code ⌈n_b/S⌉} rows ({@link EpochPlan#maxSlice}), block by block.
     *
     * @param orders for each block, its epoch permutation; read only
     * @throws IllegalArgumentException when the lists differ in length or an order's length is not
     *                                  its block's row count
     */
    static EpochRows ofBlocks(List<DataBlock> blocks, List<int[]> orders) {
        if (blocks.size() != orders.size()) {
            throw new IllegalArgumentException("Expected one permutation per block (" + blocks.size()
                    + " blocks) but got " + orders.size());
        }
        long total = 0;
        for (int b = 0; b < blocks.size(); b++) {
            if (orders.get(b).length != blocks.get(b).rows()) {
                throw new IllegalArgumentException("Block " + b + " has " + blocks.get(b).rows()
                        + " rows but its permutation has " + orders.get(b).length);
            }
            total += blocks.get(b).rows();
        }
        long rows = total;
        return new EpochRows() {
            @Override
            public long rows() {
                return rows;
            }

            @Override
            public boolean columnsOf(int firstStep, int steps, int stepsPerEpoch, java.util.BitSet columns) {
                for (DataBlock block : blocks) {
                    if (!block.isSparse()) {
                        return false;
                    }
                }
                for (int b = 0; b < blocks.size(); b++) {
                    DataBlock block = blocks.get(b);
                    int[] order = orders.get(b);
                    int[] starts = block.rowStart();
                    int[] cols = block.columns();
                    int n = block.rows();
                    int to = EpochPlan.sliceStart(firstStep + steps, n, stepsPerEpoch);
                    for (int i = EpochPlan.sliceStart(firstStep, n, stepsPerEpoch); i < to; i++) {
                        for (int p = starts[order[i]]; p < starts[order[i] + 1]; p++) {
                            columns.set(cols[p]);
                        }
                    }
                }
                return true;
            }

            @Override
            public void slice(int step, int stepsPerEpoch, NetworkSpec spec, LocalRound.Workspaces workspaces,
                              Consumer<Workspace> piece) {
                for (int b = 0; b < blocks.size(); b++) {
                    DataBlock block = blocks.get(b);
                    int n = block.rows();
                    int from = EpochPlan.sliceStart(step, n, stepsPerEpoch);
                    int to = EpochPlan.sliceStart(step + 1, n, stepsPerEpoch);
                    if (to == from) {
                        continue;
                    }
                    Workspace ws = workspaces.borrow(spec, EpochPlan.maxSlice(n, stepsPerEpoch));
                    try {
                        piece.accept(ws.gather(block, orders.get(b), from, to));
                    } finally {
                        workspaces.release(ws);
                    }
                }
            }
        };
    }
}
