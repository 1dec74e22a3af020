package io.sparkprop.spark.train;

/**
 * What partitions return from a local-SGD round ({@link RoundFunction}) and how they merge.
 *
 * <p>{@code values} are the partition's weights followed by its optimizer's state slots, all in
 * the parameters' layout. A single partition's result holds them as they are; merging turns them
 * into sums weighted by each partition's total sample weight over the round, which the driver
 * divides by {@link #weightSum} ({@link #average}). A round on one partition thus returns that
 * partition's weights bit for bit, as sequential training would have them.
 *
 * <p>With {@code train.exchange-precision = float32} a task {@link #compact}s the values before
 * they are shipped (rounded to float); merging and the driver {@link #expand} them (exact) first.
 */
final class RoundResult implements java.io.Serializable, DistributedTrainer.Wire<RoundResult> {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /** Weights, then optimizer slots; weighted sums once {@link #summed}. Null while {@link #compact}. */
    double[][] values;
    /** While compact: {@link #values} rounded to float. */
    private float[][] wire;
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

    /** Rounds the values to float for the wire (a no-op when already compact). Returns this. */
    @Override
    public RoundResult compact() {
        if (values != null) {
            wire = WireArrays.toFloats(values);
            values = null;
        }
        return this;
    }

    /** The values as doubles again, widened exactly (a no-op unless compact). Returns this. */
    @Override
    public RoundResult expand() {
        if (values == null) {
            values = WireArrays.toDoubles(wire);
            wire = null;
        }
        return this;
    }

    /** Adds {@code other} into this, in that order, both expanded first; {@code other} may be modified. Returns this. */
    RoundResult merge(RoundResult other) {
        expand();
        other.expand();
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

    /**
     * Cut by parameters for {@link ReduceScatter}: every array's slice with the whole scalars; a
     * merged slice is averaged where it was summed ({@link #average}, when the round has weight),
     * so the driver only concatenates.
     */
    static final ReduceScatter.Slicing<RoundResult> SLICING = new ReduceScatter.Slicing<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int length(RoundResult whole) {
            return whole.values != null ? whole.values[0].length : whole.wire[0].length;
        }

        /** A compact whole gives compact slices, cut from its floats. */
        @Override
        public RoundResult slice(RoundResult whole, int from, int to) {
            RoundResult piece = new RoundResult(whole.values == null ? null
                    : ReduceScatter.sliceArrays(whole.values, from, to), whole.objectiveSum, whole.weightSum,
                    whole.count, whole.computeNanos, whole.nonFinite);
            if (whole.values == null) {
                piece.wire = WireArrays.slice(whole.wire, from, to);
            }
            piece.summed = whole.summed;
            return piece;
        }

        @Override
        public RoundResult finish(RoundResult merged) {
            merged.expand();
            if (merged.weightSum > 0.0) {
                merged.average();
            }
            return merged;
        }

        @Override
        public RoundResult concat(java.util.List<RoundResult> slices) {
            slices.forEach(RoundResult::expand);
            RoundResult first = slices.get(0);
            double[][] values = ReduceScatter.concatArrays(slices.stream().map(r -> r.values).toList());
            RoundResult whole = new RoundResult(values, first.objectiveSum, first.weightSum, first.count,
                    first.computeNanos, first.nonFinite);
            whole.summed = first.summed;
            return whole;
        }
    };
}
