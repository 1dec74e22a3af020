package io.sparkprop.spark.data;

import java.util.Arrays;
import org.apache.spark.Partitioner;

/**
 * Sends a row to a partition by where its key falls in the input's order, so that partition
 * {@code p} holds a contiguous run of the input (file by file, row by row) and partitions follow
 * each other in that order: part file 0 of a prediction output holds the first rows. Unlike
 * {@link RowPartitioner}, which spreads each file over every partition, this keeps the order for
 * scoring, where balance matters less than rows a user can find.
 *
 * <p>A key is {@code fileIndex << 40 | position} ({@link TextSource}, {@link ParquetReader}); file
 * {@code i} spans {@code extent[i]} positions (bytes of a text file, rows of a Parquet file), and
 * the global position {@code Σ_{j<i} extent[j] + position} is cut into {@code partitions} equal
 * ranges. A position at or past its file's extent (a compressed file's uncompressed offsets) counts
 * as the file's last, so such a file's rows past its size share one partition. The assignment
 * depends on nothing but the key, the extents and the partition count.
 */
final class InputOrderPartitioner extends Partitioner {

    private static final long serialVersionUID = 1L;

    private static final long POSITION_MASK = (1L << TextSource.OFFSET_BITS) - 1;

    private final int partitions;
    /** Where each file starts in the global order: {@code Σ_{j<i} extent[j]}. */
    private final long[] starts;
    private final long[] extents;
    private final long total;

    InputOrderPartitioner(long[] extents, int partitions) {
        if (partitions <= 0) {
            throw new IllegalArgumentException("Partition count must be positive but got " + partitions);
        }
        this.partitions = partitions;
        this.extents = extents.clone();
        this.starts = new long[extents.length];
        long sum = 0;
        for (int i = 0; i < extents.length; i++) {
            if (extents[i] < 0) {
                throw new IllegalArgumentException("File " + i + " has a negative extent " + extents[i]);
            }
            starts[i] = sum;
            sum += extents[i];
        }
        this.total = sum;
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        long k = (Long) key;
        int file = (int) (k >>> TextSource.OFFSET_BITS);
        if (total == 0 || file >= extents.length) {
            return file >= extents.length ? partitions - 1 : 0;
        }
        long position = Math.min(k & POSITION_MASK, Math.max(0, extents[file] - 1));
        long global = starts[file] + position;
        return (int) Math.min(partitions - 1, (long) Math.floor((double) global / total * partitions));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof InputOrderPartitioner that && that.partitions == partitions
                && Arrays.equals(that.extents, extents);
    }

    @Override
    public int hashCode() {
        return 31 * partitions + Arrays.hashCode(extents);
    }
}
