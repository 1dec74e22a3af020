package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochRows;
import io.sparkprop.core.WindowPlan;
import io.sparkprop.core.WindowedRows;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.SparkEnv;

/**
 * How a training task turns its input into the partition's rows for the epoch
 * ({@link EpochRows}), one per {@code train.shuffle} mode: {@link #BLOCKS} for {@code partition}
 * (the cached block in its epoch permutation) and {@link Windows} for {@code window} (the chunks
 * a {@link ChunkRoundRDD} reads, through the executor's shuffle buffer). Shipped to executors
 * with the task's function.
 *
 * @param <T> what the task's input iterator yields
 */
interface PartitionRows<T> extends Serializable {

    /** The partition's rows in epoch {@code epoch}'s order, from the task's input. */
    EpochRows open(int partition, Iterator<T> input, long seed, int epoch);

    /** After the task's steps: keeps what the next task of the partition may reuse. */
    default void close(EpochRows rows) {
    }

    /** {@code train.shuffle = partition}: the partition's blocks, each in its epoch permutation. */
    PartitionRows<DataBlock> BLOCKS = (partition, input, seed, epoch) -> {
        List<DataBlock> blocks = new ArrayList<>(1);
        List<int[]> orders = new ArrayList<>(1);
        input.forEachRemaining(block -> {
            blocks.add(block);
            orders.add(ExecutorCache.permutation(seed, epoch, partition, block.rows()));
        });
        return EpochRows.ofBlocks(blocks, orders);
    };

    /**
     * {@code train.shuffle = window}: the chunks in the windowed order with a shuffle buffer of
     * {@code windowChunks} chunks; the window the previous task of the partition left on this
     * executor is reused when it is the one the task starts in, and the task's last window is left
     * for the next ({@link ExecutorCache#takeWindow}).
     */
    record Windows(int windowChunks) implements PartitionRows<ChunkRoundRDD.ChunkReader> {

        @Override
        public EpochRows open(int partition, Iterator<ChunkRoundRDD.ChunkReader> input, long seed, int epoch) {
            ChunkRoundRDD.ChunkReader reader = input.next();
            WindowPlan plan = WindowPlan.of(seed, epoch, partition, reader.chunkRows(), windowChunks);
            return new Buffered(new WindowedRows(plan, reader::chunk,
                    ExecutorCache.takeWindow(key(reader))), key(reader));
        }

        @Override
        public void close(EpochRows rows) {
            Buffered buffered = (Buffered) rows;
            ExecutorCache.putWindow(buffered.key(), buffered.windowed().window());
        }

        private static ExecutorCache.WindowKey key(ChunkRoundRDD.ChunkReader reader) {
            SparkEnv env = SparkEnv.get();
            String app = env == null ? "" : env.conf().get("spark.app.id", "");
            return new ExecutorCache.WindowKey(app, reader.chunkRddId(), reader.partition());
        }
    }

    /** A windowed source with the buffer key it goes back under. */
    record Buffered(WindowedRows windowed, ExecutorCache.WindowKey key) implements EpochRows {

        @Override
        public long rows() {
            return windowed.rows();
        }

        @Override
        public void slice(int step, int stepsPerEpoch, io.sparkprop.core.NetworkSpec spec,
                          io.sparkprop.core.LocalRound.Workspaces workspaces,
                          java.util.function.Consumer<io.sparkprop.core.Workspace> piece) {
            windowed.slice(step, stepsPerEpoch, spec, workspaces, piece);
        }
    }
}
