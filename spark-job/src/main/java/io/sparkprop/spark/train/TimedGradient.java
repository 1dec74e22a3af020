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
}
