package io.sparkprop.spark.train;

/**
 * What partitions return from a local-SGD round ({@link RoundFunction}) and how they merge.
 *
 * <p>{@code values} are the partition's weights followed by its optimizer's state slots, all in
 * the parameters' layout. A single partition's result holds them as they are; merging turns them
 * into sums weighted by each partition's total sample weight over the round, which the driver
 * divides by {@link #weightSum} ({@link #average}). A round on one partition thus returns that
 * partition's weights bit for bit, as sequential training would have them.
 */
final class RoundResult implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /** Weights, then optimizer slots; weighted sums once {@link #summed}. */
    double[][] values;
    boolean summed;
    /** Σ over local steps of (step objective × step weight sum), for the epoch's training loss. */
    double objectiveSum;
    /** Σ of the sample weights of every row used in the round. */
    double weightSum;
    long count;
    long computeNanos;
    /** The first non-finite loss or gradient met, in partition order; {@code null} when none. */
    String nonFinite;

    RoundResult(double[][] values, double objectiveSum, double weightSum, long count, long computeNanos,
                String nonFinite) {
        this.values = values;
        this.objectiveSum = objectiveSum;
        this.weightSum = weightSum;
        this.count = count;
        this.computeNanos = computeNanos;
        this.nonFinite = nonFinite;
    }

    /** Adds {@code other} into this, in that order; {@code other} may be modified. Returns this. */
    RoundResult merge(RoundResult other) {
        if (nonFinite == null) {
            nonFinite = other.nonFinite;
        }
        computeNanos = Math.max(computeNanos, other.computeNanos);
        if (other.weightSum > 0.0) {
            if (!(weightSum > 0.0)) {
                values = other.values;
                summed = other.summed;
            } else {
                toSums();
                other.toSums();
                for (int s = 0; s < values.length; s++) {
                    double[] into = values[s];
                    double[] from = other.values[s];
                    for (int i = 0; i < into.length; i++) {
                        into[i] += from[i];
                    }
                }
            }
        }
        objectiveSum += other.objectiveSum;
        weightSum += other.weightSum;
        count += other.count;
        return this;
    }

    private void toSums() {
        if (!summed) {
            double w = weightSum;
            for (double[] slot : values) {
                for (int i = 0; i < slot.length; i++) {
                    slot[i] *= w;
                }
            }
            summed = true;
        }
    }

    /** The weighted average of the merged values (weights, then slots); valid when {@code weightSum > 0}. */
    double[][] average() {
        if (summed) {
            double inv = 1.0 / weightSum;
            for (double[] slot : values) {
                for (int i = 0; i < slot.length; i++) {
                    slot[i] *= inv;
                }
            }
            summed = false;
        }
        return values;
    }
}
