package io.sparkprop.spark.train;

import io.sparkprop.core.GradientAccumulator;

/**
 * A partition's gradient sums for one step and how long its compute took; merging adds the sums
 * and keeps the longest compute time (partitions compute in parallel).
 *
 * <p>With {@code train.exchange-precision = float32} a task {@link #compact}s its sums before they
 * are shipped (rounded to float, half the bytes); merging and the driver {@link #expand} them back
 * to doubles first (exact), so every sum is of the same rounded values in the same order.
 */
final class TimedGradient implements java.io.Serializable, DistributedTrainer.Wire<TimedGradient> {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /** The sums; null while {@link #compact}. */
    GradientAccumulator gradient;
    long computeNanos;
    /** While compact: the gradient sum rounded to float, and the scalars. */
    private float[] wire;
    private double lossSum;
    private long count;
    private double weightSum;
    /** While compact: the rows the sums touch (lazy updates), or null. */
    private io.sparkprop.core.TouchedRows rows;

    TimedGradient(GradientAccumulator gradient, long computeNanos) {
        this.gradient = gradient;
        this.computeNanos = computeNanos;
    }

    /** Rounds the gradient sum to float for the wire (a no-op when already compact). Returns this. */
    @Override
    public TimedGradient compact() {
        if (gradient != null) {
            wire = WireArrays.toFloats(gradient.gradSum());
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
        if (gradient == null) {
            gradient = GradientAccumulator.of(WireArrays.toDoubles(wire), lossSum, count, weightSum)
                    .withTouchedRows(rows);
            wire = null;
            rows = null;
        }
        return this;
    }

    /** Adds {@code other}'s sums into this one, both expanded first; returns this. */
    TimedGradient merge(TimedGradient other) {
        expand();
        gradient.merge(other.expand().gradient);
        computeNanos = Math.max(computeNanos, other.computeNanos);
        return this;
    }

    /** Cut by parameters for {@link ReduceScatter}: the gradient's slices, the compute time kept whole. */
    static final ReduceScatter.Slicing<TimedGradient> SLICING = new ReduceScatter.Slicing<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int length(TimedGradient whole) {
            return whole.gradient != null ? whole.gradient.gradSum().length : whole.wire.length;
        }

        /** A compact whole gives compact slices, cut from its floats. */
        @Override
        public TimedGradient slice(TimedGradient whole, int from, int to) {
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
