package io.sparkprop.spark.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;

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

    /** What a task computes from its partition: one partial result. Shipped to executors. */
    @FunctionalInterface
    public interface PartitionFunction<T, U> extends java.io.Serializable {
        U apply(int partition, Iterator<T> rows);
    }

    /**
     * Computes {@code f} on every partition of {@code source} and merges the results in partition
     * order with {@code merge}, which may mutate and return its first argument.
     *
     * <p>When the tree needs no intermediate level (up to 5 partitions at depth 2, for example),
     * this is a single job straight on {@code source}: no derived RDD, no keys, no closure for
     * Spark's ClosureCleaner to read with ASM (it reads the class files of the Java API's wrapper
     * closures on every call), and results collected in partition order. A synchronous training
     * step pays this path's cost every time, so it is kept to the bone.
     */
    public static <T, U> U aggregate(JavaRDD<T> source, PartitionFunction<T, U> f, Merge<U> merge, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("Aggregation depth must be at least 1 but got " + depth);
        }
        int numPartitions = source.getNumPartitions();
        int scale = scale(numPartitions, depth);
        if (numPartitions > scale + (int) Math.ceil((double) numPartitions / scale)) {
            return aggregate(source.rdd().mapPartitionsWithIndex(new Partials<>(f), true, tag()).toJavaRDD(), merge,
                    depth);
        }
        Object[] results = (Object[]) source.context().runJob(source.rdd(), new Task<>(f), tag());
        U total = null;
        for (Object result : results) {
            @SuppressWarnings("unchecked")
            U next = (U) result;
            total = total == null ? next : merge.merge(total, next);
        }
        if (total == null) {
            throw new IllegalStateException("Nothing to aggregate: the RDD has no partitions");
        }
        return total;
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
        int scale = scale(numPartitions, depth);
        JavaPairRDD<Integer, T> keyed = partials.mapPartitionsWithIndex(OrderedTreeAggregate::key, true)
                .mapToPair(t -> t);
        while (numPartitions > scale + (int) Math.ceil((double) numPartitions / scale)) {
            numPartitions /= scale;
            keyed = keyed.repartitionAndSortWithinPartitions(new ModPartitioner(numPartitions))
                    .mapPartitionsWithIndex((index, it) -> mergeInOrder(index, it, merge), true)
                    .mapToPair(t -> t);
        }
        List<Tuple2<Integer, T>> results;
        try {
            results = keyed.collect();
        } finally {
            // Drop this aggregation's level shuffles now, not when the driver's GC finds them.
            keyed.rdd().cleanShuffleDependencies(false);
        }
        T total = null;
        for (Tuple2<Integer, T> result : results) {
            total = total == null ? result._2() : merge.merge(total, result._2());
        }
        if (total == null) {
            throw new IllegalStateException("Nothing to aggregate: every partition was empty");
        }
        return total;
    }

    /**
     * Merges {@code partials} (one per partition, in partition order, none missing) in exactly the
     * order {@link #aggregate(JavaRDD, PartitionFunction, Merge, int)} merges them at this
     * {@code depth}: each level that the tree has puts partial {@code i} into group
     * {@code i mod groups} and merges a group's members in ascending index, and the last level is
     * folded in index order. Applied element by element to slices of the partials (a
     * reduce-scatter, {@link ReduceScatter}), it gives the tree's sums bit for bit.
     *
     * @throws IllegalArgumentException when {@code partials} is empty or {@code depth < 1}
     */
    static <T> T mergeAsTree(List<T> partials, Merge<T> merge, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("Aggregation depth must be at least 1 but got " + depth);
        }
        if (partials.isEmpty()) {
            throw new IllegalArgumentException("Nothing to aggregate: no partials");
        }
        int numPartitions = partials.size();
        int scale = scale(numPartitions, depth);
        List<T> level = partials;
        while (numPartitions > scale + (int) Math.ceil((double) numPartitions / scale)) {
            numPartitions /= scale;
            List<T> groups = new ArrayList<>(java.util.Collections.nCopies(numPartitions, (T) null));
            for (int i = 0; i < level.size(); i++) {
                int g = i % numPartitions;
                T total = groups.get(g);
                groups.set(g, total == null ? level.get(i) : merge.merge(total, level.get(i)));
            }
            level = groups;
        }
        T total = null;
        for (T next : level) {
            total = total == null ? next : merge.merge(total, next);
        }
        return total;
    }

    /**
     * How many results the driver receives from a tree over {@code numPartitions} partials at
     * {@code depth}: all of them while no intermediate level is needed, else the last level's
     * groups (for example 2 for 8 partitions at depth 2, 5 for 32).
     */
    static int driverResults(int numPartitions, int depth) {
        int scale = scale(numPartitions, depth);
        int n = numPartitions;
        while (n > scale + (int) Math.ceil((double) n / scale)) {
            n /= scale;
        }
        return n;
    }

    private static int scale(int numPartitions, int depth) {
        return Math.max((int) Math.ceil(Math.pow(numPartitions, 1.0 / depth)), 2);
    }

    @SuppressWarnings("unchecked")
    private static <U> ClassTag<U> tag() {
        return (ClassTag<U>) ClassTag$.MODULE$.AnyRef();
    }

    /** A task's function for {@code SparkContext.runJob}: a plain class, which Spark does not clean. */
    private static final class Task<T, U> extends AbstractFunction2<TaskContext, scala.collection.Iterator<T>, U>
            implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final PartitionFunction<T, U> f;

        Task(PartitionFunction<T, U> f) {
            this.f = f;
        }

        @Override
        public U apply(TaskContext context, scala.collection.Iterator<T> rows) {
            return f.apply(context.partitionId(), CollectionConverters.asJava(rows));
        }
    }

    /** {@code f}'s result as a one-element partition, for the levels of a tree. */
    private static final class Partials<T, U>
            extends AbstractFunction2<Object, scala.collection.Iterator<T>, scala.collection.Iterator<U>>
            implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final PartitionFunction<T, U> f;

        Partials(PartitionFunction<T, U> f) {
            this.f = f;
        }

        @Override
        public scala.collection.Iterator<U> apply(Object partition, scala.collection.Iterator<T> rows) {
            return CollectionConverters.asScala(List.of(f.apply((Integer) partition, CollectionConverters.asJava(rows)))
                    .iterator());
        }
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
