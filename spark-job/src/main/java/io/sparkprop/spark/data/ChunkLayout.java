package io.sparkprop.spark.data;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Which cached chunks belong to which training partition, for {@code train.shuffle = window}
 * ({@code docs/out-of-core.md}, "The chunk layout"). The chunk RDD has {@code Σ_p C_p} partitions,
 * partition-major: training partition {@code p}'s chunks are the chunk RDD's partitions
 * {@code [partitionStart(p), partitionStart(p + 1))}, in chunk order. A narrow one-to-one map of
 * the chunk RDD (the hold-out, scaling) keeps the layout.
 *
 * @param partitionStarts {@code (P + 1)}: partition {@code p}'s first chunk; the last entry is the
 *                        chunk count
 * @param rowsPerChunk    {@code (P)}: {@code R_p}, the rows of each of partition {@code p}'s chunks
 *                        but its last (as loaded, before any hold-out); at most the partition's rows
 */
public record ChunkLayout(int[] partitionStarts, int[] rowsPerChunk) implements Serializable {

    public ChunkLayout {
        partitionStarts = partitionStarts.clone();
        rowsPerChunk = rowsPerChunk.clone();
        if (partitionStarts.length != rowsPerChunk.length + 1 || partitionStarts[0] != 0) {
            throw new IllegalArgumentException("Expected " + (rowsPerChunk.length + 1) + " partition starts from 0 but"
                    + " got " + Arrays.toString(partitionStarts));
        }
    }

    /** {@code P}: the training partitions. */
    public int partitions() {
        return rowsPerChunk.length;
    }

    /** {@code Σ_p C_p}: the chunks, the chunk RDD's partition count. */
    public int chunks() {
        return partitionStarts[partitionStarts.length - 1];
    }

    /** The training partition chunk {@code chunk} (a chunk RDD partition) belongs to. */
    public int partitionOf(int chunk) {
        int p = Arrays.binarySearch(partitionStarts, chunk);
        if (p < 0) {
            return -p - 2;
        }
        while (p + 1 < partitionStarts.length && partitionStarts[p + 1] == chunk) {
            p++; // skip empty partitions that start at the same chunk
        }
        return p;
    }

    @Override
    public int[] partitionStarts() {
        return partitionStarts.clone();
    }

    @Override
    public int[] rowsPerChunk() {
        return rowsPerChunk.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkLayout that && Arrays.equals(partitionStarts, that.partitionStarts)
                && Arrays.equals(rowsPerChunk, that.rowsPerChunk);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(partitionStarts) + Arrays.hashCode(rowsPerChunk);
    }

    @Override
    public String toString() {
        return "ChunkLayout" + Arrays.toString(partitionStarts);
    }
}
