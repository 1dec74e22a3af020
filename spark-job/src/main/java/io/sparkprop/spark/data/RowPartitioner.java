package io.sparkprop.spark.data;

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
        return (int) Long.remainderUnsigned(mix((Long) key), partitions);
    }

    /** SplitMix64's output function (the same as {@code io.sparkprop.core.SplitMix64}). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
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
