package io.sparkprop.spark.train;

import io.sparkprop.core.GradientAccumulator;

/**
 * A partition's gradient sums for one step and how long its compute took; merging adds the sums
 * and keeps the longest compute time (partitions compute in parallel).
 */
final class TimedGradient implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    final GradientAccumulator gradient;
    long computeNanos;

    TimedGradient(GradientAccumulator gradient, long computeNanos) {
        this.gradient = gradient;
        this.computeNanos = computeNanos;
    }

    /** Adds {@code other}'s sums into this one; returns this. */
    TimedGradient merge(TimedGradient other) {
        gradient.merge(other.gradient);
        computeNanos = Math.max(computeNanos, other.computeNanos);
        return this;
    }

    /** Cut by parameters for {@link ReduceScatter}: the gradient's slices, the compute time kept whole. */
    static final ReduceScatter.Slicing<TimedGradient> SLICING = new ReduceScatter.Slicing<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int length(TimedGradient whole) {
            return whole.gradient.gradSum().length;
        }

        @Override
        public TimedGradient slice(TimedGradient whole, int from, int to) {
            return new TimedGradient(whole.gradient.slice(from, to), whole.computeNanos);
        }

        @Override
        public TimedGradient finish(TimedGradient merged) {
            return merged;
        }

        @Override
        public TimedGradient concat(java.util.List<TimedGradient> slices) {
            return new TimedGradient(io.sparkprop.core.GradientAccumulator.concat(
                    slices.stream().map(t -> t.gradient).toList()), slices.get(0).computeNanos);
        }
    };
}
