package io.sparkprop.spark.train;

import io.sparkprop.core.GradientAccumulator;

/**
 * A partition's gradient sums for one step and how long its compute took; merging adds the sums
 * and keeps the longest compute time (partitions compute in parallel).
 *
 * <p>A synchronous lazy step over cached blocks ships its sums row-sparse ({@link #rowSparse}: the
 * first layer's touched rows and the dense rest, {@code docs/sparse.md}); merging adds them as the
 * dense sums would be added (an unstored row is {@code +0.0}), so both forms give the same bits.
 * Slicing for the reduce-scatter turns them dense first; the float32 wire rounds them in place.
 *
 * <p>With {@code train.exchange-precision = float32} a task {@link #compact}s its sums before they
 * are shipped (rounded to float, half the bytes); merging and the driver {@link #expand} them back
 * to doubles first (exact), so every sum is of the same rounded values in the same order.
 */
final class TimedGradient implements java.io.Serializable, DistributedTrainer.Wire<TimedGradient> {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /** The sums; null while {@link #compact} or row-sparse. */
    GradientAccumulator gradient;
    /** While row-sparse: the gradient sums' touched rows and rest (one array), and the scalars and {@link #rows}. */
    private io.sparkprop.core.IndexedRows sparse;
    long computeNanos;
    /** While compact: the gradient sum rounded to float, and the scalars. */
    private float[] wire;
    private double lossSum;
    private long count;
    private double weightSum;
    /** While compact or row-sparse: the rows the sums touch (lazy updates), or null. */
    private io.sparkprop.core.TouchedRows rows;

    TimedGradient(GradientAccumulator gradient, long computeNanos) {
        this.gradient = gradient;
        this.computeNanos = computeNanos;
    }

    /**
     * Row-sparse sums: {@code sums} holds the first layer's rows in {@code touched}'s features (its
     * rows, increasing) and the rest, one array.
     */
    static TimedGradient rowSparse(io.sparkprop.core.IndexedRows sums, io.sparkprop.core.TouchedRows touched,
                                   double lossSum, long count, double weightSum, long computeNanos) {
        TimedGradient out = new TimedGradient(null, computeNanos);
        out.sparse = sums;
        out.rows = touched;
        out.lossSum = lossSum;
        out.count = count;
        out.weightSum = weightSum;
        return out;
    }

    /** Whether the sums are row-sparse ({@link #rowSparse}): read them with {@link #sparseSums}. */
    boolean isRowSparse() {
        return sparse != null;
    }

    /** The row-sparse sums (one array), null unless {@link #isRowSparse}. */
    io.sparkprop.core.IndexedRows sparseSums() {
        return sparse;
    }

    /** The touched rows of row-sparse sums. */
    io.sparkprop.core.TouchedRows touchedRows() {
        return rows;
    }

    double lossSum() {
        return lossSum;
    }

    long count() {
        return count;
    }

    double weightSum() {
        return weightSum;
    }

    /** Row-sparse sums made dense (exact; a no-op otherwise). Returns this. */
    TimedGradient densify() {
        if (sparse != null) {
            gradient = GradientAccumulator.of(sparse.fromFloatWire().toDense()[0], lossSum, count, weightSum)
                    .withTouchedRows(rows);
            sparse = null;
            rows = null;
        }
        return this;
    }

    /**
     * Rounds the gradient sum to float for the wire (a no-op when already compact). Row-sparse sums
     * stay row-sparse, in their float form ({@link io.sparkprop.core.IndexedRows#toFloatWire}).
     * Returns this.
     */
    @Override
    public TimedGradient compact() {
        if (sparse != null) {
            sparse.toFloatWire();
            return this;
        }
        if (gradient != null) {
            wire = io.sparkprop.core.FloatArrays.rounded(gradient.gradSum());
            lossSum = gradient.lossSum();
            count = gradient.count();
            weightSum = gradient.weightSum();
            rows = gradient.touchedRows();
            gradient = null;
        }
        return this;
    }

    /** The sums as doubles again, widened exactly (a no-op unless compact). Returns this. */
    @Override
    public TimedGradient expand() {
        if (sparse != null) {
            sparse.fromFloatWire();
            return this;
        }
        if (gradient == null && sparse == null) {
            gradient = GradientAccumulator.of(io.sparkprop.core.FloatArrays.widened(wire), lossSum, count, weightSum)
                    .withTouchedRows(rows);
            wire = null;
            rows = null;
        }
        return this;
    }

    /** Adds {@code other}'s sums into this one, both expanded first (and made dense unless both are row-sparse); returns this. */
    TimedGradient merge(TimedGradient other) {
        computeNanos = Math.max(computeNanos, other.computeNanos);
        if (sparse != null && other.sparse != null) {
            sparse.fromFloatWire().merge(other.sparse.fromFloatWire());
            rows.or(other.rows);
            lossSum += other.lossSum;
            count += other.count;
            weightSum += other.weightSum;
            return this;
        }
        densify().expand();
        gradient.merge(other.densify().expand().gradient);
        return this;
    }

    /** Cut by parameters for {@link ReduceScatter}: the gradient's slices, the compute time kept whole. */
    static final ReduceScatter.Slicing<TimedGradient> SLICING = new ReduceScatter.Slicing<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int length(TimedGradient whole) {
            whole.densify();
            return whole.gradient != null ? whole.gradient.gradSum().length : whole.wire.length;
        }

        /** A compact whole gives compact slices, cut from its floats. */
        @Override
        public TimedGradient slice(TimedGradient whole, int from, int to) {
            whole.densify();
            if (whole.gradient != null) {
                return new TimedGradient(whole.gradient.slice(from, to), whole.computeNanos);
            }
            TimedGradient piece = new TimedGradient(null, whole.computeNanos);
            piece.wire = java.util.Arrays.copyOfRange(whole.wire, from, to);
            piece.lossSum = whole.lossSum;
            piece.count = whole.count;
            piece.weightSum = whole.weightSum;
            piece.rows = whole.rows == null ? null : whole.rows.copy();
            return piece;
        }

        @Override
        public TimedGradient finish(TimedGradient merged) {
            return merged.expand();
        }

        @Override
        public TimedGradient concat(java.util.List<TimedGradient> slices) {
            return new TimedGradient(io.sparkprop.core.GradientAccumulator.concat(
                    slices.stream().map(t -> t.expand().gradient).toList()), slices.get(0).computeNanos);
        }
    };
}
