package io.sparkprop.spark.data;

import io.sparkprop.core.SplitMix64;
import org.apache.spark.Partitioner;

/**
 * Sends a row to a partition by its 64-bit row key alone: {@code mix(key) mod partitions} with
 * SplitMix64's finalizer, so rows of one file spread evenly over all partitions (roughly
 * balanced, not exactly) and the assignment depends on nothing but the key and the partition
 * count. Not for IDX, which reads contiguous record ranges without a shuffle.
 */
final class RowPartitioner extends Partitioner {

    private static final long serialVersionUID = 1L;

    private final int partitions;

    RowPartitioner(int partitions) {
        if (partitions <= 0) {
            throw new IllegalArgumentException("Partition count must be positive but got " + partitions);
        }
        this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        return (int) Long.remainderUnsigned(SplitMix64.mix((Long) key), partitions);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RowPartitioner that && that.partitions == partitions;
    }

    @Override
    public int hashCode() {
        return partitions;
    }
}
