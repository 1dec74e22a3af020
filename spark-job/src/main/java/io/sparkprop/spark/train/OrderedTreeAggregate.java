package io.sparkprop.spark.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Spark's {@code treeAggregate} with a fixed merge order, so floating-point sums come out
 * bit-identical run after run.
 *
 * <p>{@code RDD.treeAggregate} merges partial results in whatever order they arrive: its
 * intermediate levels use {@code foldByKey} (shuffle fetch order) and its last level folds task
 * results on the driver as tasks complete. Floating-point addition is not associative, so the
 * sum's last bits would vary from run to run. This does the same tree, with the same shape
 * ({@code scale = max(ceil(P^(1/depth)), 2)}; a level while {@code P > scale + ceil(P/scale)}),
 * but every level merges the partials of a group in ascending partition index, and the last level
 * is an ordered {@code collect()} merged on the driver in partition order. The result depends only
 * on the partials, never on timing.
 */
public final class OrderedTreeAggregate {

    /** An associative merge that may mutate and return its first argument; shipped to executors. */
    @FunctionalInterface
    public interface Merge<T> extends java.io.Serializable {
        T merge(T into, T other);
    }

    private OrderedTreeAggregate() {
    }

    /**
     * Merges the elements of {@code partials} (one per partition; partitions with none are skipped)
     * with {@code merge}, which may mutate and return its first argument.
     */
    public static <T> T aggregate(JavaRDD<T> partials, Merge<T> merge, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("Aggregation depth must be at least 1 but got " + depth);
        }
        int numPartitions = partials.getNumPartitions();
        int scale = Math.max((int) Math.ceil(Math.pow(numPartitions, 1.0 / depth)), 2);
        JavaPairRDD<Integer, T> keyed = partials.mapPartitionsWithIndex(OrderedTreeAggregate::key, true)
                .mapToPair(t -> t);
        while (numPartitions > scale + (int) Math.ceil((double) numPartitions / scale)) {
            numPartitions /= scale;
            keyed = keyed.repartitionAndSortWithinPartitions(new ModPartitioner(numPartitions))
                    .mapPartitionsWithIndex((index, it) -> mergeInOrder(index, it, merge), true)
                    .mapToPair(t -> t);
        }
        List<Tuple2<Integer, T>> results = keyed.collect();
        T total = null;
        for (Tuple2<Integer, T> result : results) {
            total = total == null ? result._2() : merge.merge(total, result._2());
        }
        if (total == null) {
            throw new IllegalStateException("Nothing to aggregate: every partition was empty");
        }
        return total;
    }

    private static <T> Iterator<Tuple2<Integer, T>> key(int index, Iterator<T> it) {
        List<Tuple2<Integer, T>> out = new ArrayList<>(1);
        while (it.hasNext()) {
            out.add(new Tuple2<>(index, it.next()));
        }
        return out.iterator();
    }

    /** Merges one group's partials, which arrive sorted by source partition index. */
    private static <T> Iterator<Tuple2<Integer, T>> mergeInOrder(int index, Iterator<Tuple2<Integer, T>> it,
                                                                Merge<T> merge) {
        T total = null;
        while (it.hasNext()) {
            T next = it.next()._2();
            total = total == null ? next : merge.merge(total, next);
        }
        List<Tuple2<Integer, T>> out = new ArrayList<>(1);
        if (total != null) {
            out.add(new Tuple2<>(index, total));
        }
        return out.iterator();
    }

    /** Sends partial {@code i} to group {@code i mod n}, as treeAggregate does. */
    static final class ModPartitioner extends Partitioner {

        private static final long serialVersionUID = 1L;
        private final int partitions;

        ModPartitioner(int partitions) {
            this.partitions = partitions;
        }

        @Override
        public int numPartitions() {
            return partitions;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key % partitions;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ModPartitioner other && other.partitions == partitions;
        }

        @Override
        public int hashCode() {
            return partitions;
        }
    }
}
