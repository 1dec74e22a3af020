package io.sparkprop.spark.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;

/**
 * A reduce-scatter of the partitions' results through a Spark shuffle, then an all-gather of the
 * summed slices on the driver: the exchange whose bytes into the driver are one result (a
 * gradient, or weights and optimizer state), whatever the partition count {@code P}.
 *
 * <p>Each task computes its partition's result and cuts it into {@code R} slices ({@link #slices}) of the
 * parameters (slice {@code s} is parameters {@code [⌊sN/R⌋, ⌊(s+1)N/R⌋)}), written to the shuffle
 * keyed by slice. Reduce task {@code s} receives the {@code P} pieces of slice {@code s}, places
 * them in an array indexed by source partition and merges them in the order
 * {@link OrderedTreeAggregate} merges whole results at the same depth
 * ({@link OrderedTreeAggregate#mergeAsTree}), then finishes the slice ({@link Slicing#finish}: a
 * local-SGD round's average). The driver collects the {@code R} summed slices in slice order and
 * concatenates them. This is the pattern of MLlib's ALS (blocks keyed by destination, summed in a
 * fixed order on the reduce side), on public APIs only: a lost map output is recomputed from
 * lineage like any shuffle's, and a speculative or retried task's duplicate output is discarded
 * by Spark's map-output tracking, not summed twice. The lineage is one shuffle deep every time
 * (the input is the cached training data, the weights come by broadcast), and each exchange's
 * shuffle files are removed once it returns ({@code RDD.cleanShuffleDependencies}), so a long run
 * does not accumulate state.
 *
 * <p><b>Bits:</b> merging is element by element, so every element meets the same additions in
 * the same order as in the tree: the result is bit-identical to
 * {@link OrderedTreeAggregate#aggregate(JavaRDD, OrderedTreeAggregate.PartitionFunction,
 * OrderedTreeAggregate.Merge, int)} for every {@code P}, depth and slice count. The choice between
 * the two ({@code train.aggregation}) changes the time, never the weights.
 *
 * <p><b>Cost:</b> one job of two stages ({@code P} map tasks, {@code R = min(P, slots)} reduce tasks) against the
 * tree's one stage while it has no intermediate level (up to 5 partitions at depth 2); shuffle
 * bytes {@code P × result}; bytes into the driver one result (plus {@code R} small headers)
 * against the tree's {@code P} results (about {@code √P} with an intermediate level).
 * docs/scaling.md has the measurements.
 */
public final class ReduceScatter {

    private ReduceScatter() {
    }

    /**
     * How a partition's result is cut into slices of its parameters and put back together. The
     * pieces must merge with the result's own merge, element by element.
     */
    public interface Slicing<U> extends java.io.Serializable {

        /** {@code N}: the parameters a result covers (each of its arrays has this length). */
        int length(U whole);

        /** Parameters {@code [from, to)} of {@code whole}, with its scalars; {@code whole} is unchanged. */
        U slice(U whole, int from, int to);

        /** What the reduce side does to a slice once merged (nothing, or a local-SGD round's average). */
        U finish(U merged);

        /** The slices, in parameter order, as one result; their scalars agree. */
        U concat(List<U> slices);
    }

    /**
     * Computes {@code f} on every partition of {@code source}, sums the results slice by slice in
     * the tree's order at {@code depth} and returns them concatenated on the driver.
     *
     * @param slices {@code R >= 1}, at most the result's parameter count (fewer are used when a
     *               result has fewer parameters)
     * @throws IllegalArgumentException when {@code depth < 1}, {@code slices < 1} or the RDD has
     *                                  no partitions
     */
    public static <T, U> U aggregate(JavaRDD<T> source, OrderedTreeAggregate.PartitionFunction<T, U> f,
                                     Slicing<U> slicing, OrderedTreeAggregate.Merge<U> merge, int depth, int slices) {
        if (depth < 1) {
            throw new IllegalArgumentException("Aggregation depth must be at least 1 but got " + depth);
        }
        if (slices < 1) {
            throw new IllegalArgumentException("Slices must be at least 1 but got " + slices);
        }
        int partitions = source.getNumPartitions();
        if (partitions == 0) {
            throw new IllegalStateException("Nothing to aggregate: the RDD has no partitions");
        }
        RDD<Tuple2<Integer, Tuple2<Integer, U>>> pieces = source.rdd().mapPartitionsWithIndex(
                new Scatter<>(f, slicing, slices), false, tag());
        JavaPairRDD<Integer, Tuple2<Integer, U>> shuffled = JavaPairRDD.fromRDD(pieces, tag(), tag())
                .partitionBy(new HashPartitioner(slices));
        RDD<U> summed = shuffled.rdd().mapPartitionsWithIndex(new Reduce<>(slicing, merge, depth, partitions), true,
                tag());
        Object[] results;
        try {
            results = (Object[]) summed.collect();
        } finally {
            // Each exchange is its own shuffle: drop its files now rather than when the driver's
            // garbage collector finds the RDD, so a long run keeps one exchange's files, not all.
            summed.cleanShuffleDependencies(false);
        }
        List<U> parts = new ArrayList<>(results.length);
        for (Object r : results) {
            @SuppressWarnings("unchecked")
            U part = (U) r;
            parts.add(part);
        }
        if (parts.isEmpty()) {
            throw new IllegalStateException("The reduce-scatter returned no slices");
        }
        return slicing.concat(parts);
    }

    /** Columns {@code [from, to)} of every array of {@code whole}: one slice of arrays in the parameters' layout. */
    public static double[][] sliceArrays(double[][] whole, int from, int to) {
        double[][] out = new double[whole.length][];
        for (int a = 0; a < out.length; a++) {
            out[a] = Arrays.copyOfRange(whole[a], from, to);
        }
        return out;
    }

    /** The slices' arrays put back together, array by array, in slice order. */
    public static double[][] concatArrays(List<double[][]> slices) {
        double[][] out = new double[slices.get(0).length][];
        for (int a = 0; a < out.length; a++) {
            int n = 0;
            for (double[][] s : slices) {
                n += s[a].length;
            }
            out[a] = new double[n];
            int at = 0;
            for (double[][] s : slices) {
                System.arraycopy(s[a], 0, out[a], at, s[a].length);
                at += s[a].length;
            }
        }
        return out;
    }

    /**
     * {@code R}: one reduce task per task slot, at most one per partition, so the reduce stage runs
     * in one wave with the fewest tasks that use every core. Each reduce task reads {@code P/R} of a
     * result from every partition, so an executor's bytes are the same for any {@code R}. The bits
     * do not depend on {@code R}, so it may follow the cluster (dynamic allocation included).
     *
     * @param slots the cluster's task slots now ({@code SparkContext.defaultParallelism})
     */
    public static int slices(int partitions, int slots) {
        return Math.max(1, Math.min(partitions, slots));
    }

    /** Slice {@code s}'s first parameter: {@code ⌊sN/R⌋}. */
    static int sliceStart(int s, int n, int slices) {
        return (int) ((long) s * n / slices);
    }

    @SuppressWarnings("unchecked")
    private static <U> ClassTag<U> tag() {
        return (ClassTag<U>) ClassTag$.MODULE$.AnyRef();
    }

    /**
     * The map side: the partition's result cut into {@code (slice, (partition, piece))} records.
     * A plain class, not a lambda, so Spark's ClosureCleaner has nothing to read.
     */
    private static final class Scatter<T, U> extends
            AbstractFunction2<Object, scala.collection.Iterator<T>, scala.collection.Iterator<Tuple2<Integer, Tuple2<Integer, U>>>>
            implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final OrderedTreeAggregate.PartitionFunction<T, U> f;
        private final Slicing<U> slicing;
        private final int slices;

        Scatter(OrderedTreeAggregate.PartitionFunction<T, U> f, Slicing<U> slicing, int slices) {
            this.f = f;
            this.slicing = slicing;
            this.slices = slices;
        }

        @Override
        public scala.collection.Iterator<Tuple2<Integer, Tuple2<Integer, U>>> apply(Object partition,
                                                                                  scala.collection.Iterator<T> rows) {
            int p = (Integer) partition;
            U whole = f.apply(p, CollectionConverters.asJava(rows));
            int n = slicing.length(whole);
            int r = Math.min(slices, n);
            List<Tuple2<Integer, Tuple2<Integer, U>>> out = new ArrayList<>(r);
            for (int s = 0; s < r; s++) {
                out.add(new Tuple2<>(s, new Tuple2<>(p, slicing.slice(whole, sliceStart(s, n, r),
                        sliceStart(s + 1, n, r)))));
            }
            return CollectionConverters.asScala(out.iterator());
        }
    }

    /** The reduce side: one slice's pieces, placed by source partition, merged in the tree's order. */
    private static final class Reduce<U> extends
            AbstractFunction2<Object, scala.collection.Iterator<Tuple2<Integer, Tuple2<Integer, U>>>, scala.collection.Iterator<U>>
            implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final Slicing<U> slicing;
        private final OrderedTreeAggregate.Merge<U> merge;
        private final int depth;
        private final int partitions;

        Reduce(Slicing<U> slicing, OrderedTreeAggregate.Merge<U> merge, int depth, int partitions) {
            this.slicing = slicing;
            this.merge = merge;
            this.depth = depth;
            this.partitions = partitions;
        }

        @Override
        public scala.collection.Iterator<U> apply(Object slice,
                                                 scala.collection.Iterator<Tuple2<Integer, Tuple2<Integer, U>>> it) {
            @SuppressWarnings("unchecked")
            U[] bySource = (U[]) new Object[partitions];
            int received = 0;
            while (it.hasNext()) {
                Tuple2<Integer, U> piece = it.next()._2();
                if (bySource[piece._1()] != null) {
                    throw new IllegalStateException("Slice " + slice + " received partition " + piece._1()
                            + "'s piece twice");
                }
                bySource[piece._1()] = piece._2();
                received++;
            }
            if (received == 0) {
                return CollectionConverters.asScala(java.util.Collections.<U>emptyIterator());
            }
            if (received != partitions) {
                throw new IllegalStateException("Slice " + slice + " received " + received + " of " + partitions
                        + " partitions' pieces");
            }
            U total = OrderedTreeAggregate.mergeAsTree(Arrays.asList(bySource), merge, depth);
            return CollectionConverters.asScala(List.of(slicing.finish(total)).iterator());
        }
    }
}
