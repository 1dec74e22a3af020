package io.sparkprop.spark.train;

import io.sparkprop.core.IndexedRows;
import io.sparkprop.core.TouchedRows;

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
 *
 * <p>A lazy round ({@code train.sparse-update = lazy}, {@link #lazy}) returns instead its change
 * {@code d = current - start} of every array, with the first-layer rows its steps touched
 * ({@link #touched}): exactly {@code +0.0} on every other row. Merging weights and sums the changes
 * the same way, and the driver adds the weighted mean change to its own copy, on the touched rows
 * and the rest only: {@code new = start + (Σ ω_p d_p) / Σ ω_p}. The change travels row-sparse
 * ({@link IndexedRows}: the touched rows' values and the layers above) while at most
 * {@link #DENSE_FRACTION} of the rows are touched, dense above that; both forms give the same bits
 * ({@link IndexedRows}' merge is the dense sum), so the switch changes the bytes, never the weights.
 */
final class RoundResult implements java.io.Serializable, DistributedTrainer.Wire<RoundResult> {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /**
     * Above this fraction of touched rows a lazy change travels and merges dense. The row-sparse
     * form ships fewer bytes at any fraction below {@code 1 - 4/(8·H·A)} (a 4-byte index per row of
     * {@code H·A} doubles: 99.7% at H = 64 with Adam) and never holds more memory; its merge walks
     * a sorted union with one branch per row, spread over the row's {@code H·A} values. So dense
     * is kept only for rounds that touch nearly every row, where its merge adds in place without
     * allocating. (Half, the first guess, made a round of 512 steps that touched 57% of the
     * benchmark's rows copy its change into a dense array the size of the model and run out of
     * the default heap.)
     */
    static final double DENSE_FRACTION = 0.9;

    /**
     * Test hook: a JVM system property overriding {@link #DENSE_FRACTION} (0: always dense, 1:
     * never), read where results are made and merged; in local mode the tasks run in the test's JVM.
     */
    static final String DENSE_FRACTION_PROPERTY = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX
            + "denseChangeFraction";

    private static double denseFraction() {
        return io.sparkprop.spark.config.JobConfig.testHook(DENSE_FRACTION_PROPERTY, DENSE_FRACTION);
    }

    /**
     * Weights, then optimizer slots (changes, for a lazy round); weighted sums once {@link #summed}.
     * Null while {@link #compact}, or while a lazy round's change is row-sparse ({@link #rows}).
     */
    double[][] values;
    /** A lazy round's change, row-sparse; null when dense ({@link #values}) or not lazy. */
    IndexedRows rows;
    /** A lazy round's touched rows (the union, once merged); null when not lazy. */
    TouchedRows touched;
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

    /**
     * A lazy round's result: the change {@code rows} of every array on the {@code touched} rows and
     * the rest; dense at once when more than {@link #DENSE_FRACTION} of the rows are touched.
     */
    static RoundResult lazy(IndexedRows rows, TouchedRows touched, double objectiveSum, double weightSum, long count,
                            long computeNanos, String nonFinite) {
        RoundResult r = new RoundResult(null, objectiveSum, weightSum, count, computeNanos, nonFinite);
        r.rows = rows;
        r.touched = touched;
        r.densifyIfFull();
        return r;
    }

    /** Whether this is a lazy round's change (row-sparse or dense). */
    boolean isLazy() {
        return touched != null;
    }

    private void densifyIfFull() {
        if (rows != null && rows.count() > denseFraction() * rows.numRows()) {
            densify();
        }
    }

    /** A row-sparse change made dense (the same values); a no-op otherwise. */
    private void densify() {
        if (rows != null) {
            values = rows.fromFloatWire().toDense();
            rows = null;
        }
    }

    /**
     * Rounds the values to float for the wire (a no-op when already compact). A row-sparse change
     * stays row-sparse, in its float form ({@link IndexedRows#toFloatWire}: half the bytes).
     * Returns this.
     */
    @Override
    public RoundResult compact() {
        if (rows != null) {
            rows.toFloatWire();
            return this;
        }
        if (values != null) {
            wire = io.sparkprop.core.FloatArrays.rounded(values);
            values = null;
        }
        return this;
    }

    /** The values as doubles again, widened exactly (a no-op unless compact). Returns this. */
    @Override
    public RoundResult expand() {
        if (rows != null) {
            rows.fromFloatWire();
        }
        if (values == null && wire != null) {
            values = io.sparkprop.core.FloatArrays.widened(wire);
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
        if (isLazy() != other.isLazy()) {
            throw new IllegalArgumentException("Cannot merge a lazy round's change with a dense round's values");
        }
        if (isLazy()) {
            touched.or(other.touched);
        }
        if (other.weightSum > 0.0) {
            if (!(weightSum > 0.0)) {
                values = other.values;
                rows = other.rows;
                summed = other.summed;
            } else if (rows != null && other.rows != null) {
                toSums();
                other.toSums();
                rows.merge(other.rows);
                densifyIfFull();
            } else {
                densify();
                other.densify();
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

    /** The mean change's largest magnitude, set by {@link #averageChange}; NaN before. */
    private double maxChange = Double.NaN;

    private void toSums() {
        if (!summed && rows != null) {
            rows.scale(weightSum);
            summed = true;
        }
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

    /**
     * The weighted average of the merged values (weights, then slots), or of a lazy round's changes
     * (see {@link #averageChange}); valid when {@code weightSum > 0}. Dense: a row-sparse change is
     * made dense.
     */
    double[][] average() {
        averageChange();
        densify();
        return values;
    }

    /**
     * The weighted average in place, in whichever form the values are (row-sparse or dense): the
     * mean change of a lazy round. Returns this.
     */
    RoundResult averageChange() {
        if (summed && rows != null) {
            maxChange = rows.scaleMaxAbs(1.0 / weightSum);
            summed = false;
        }
        if (summed) {
            maxChange = io.sparkprop.core.IndexedRows.scaleMaxAbs(values, 1.0 / weightSum);
            summed = false;
        }
        return this;
    }

    /**
     * The largest magnitude of the mean change, from the pass that averaged it (NaN when a value is
     * NaN, or when no averaging pass ran: one partition's result).
     */
    double maxChange() {
        return maxChange;
    }

    /**
     * Below this, {@code |start| + |change|} cannot overflow when rounded (it is {@code ~10^8} times
     * below {@code Double.MAX_VALUE}, far beyond any rounding of the bound's sums).
     */
    static final double SAFE_MAGNITUDE = 1e300;

    /**
     * Whether {@code start + mean change} is finite wherever {@link #addMeanChangeTo} would write it
     * (the touched rows and the rest); computes the mean change in place. Valid when
     * {@code weightSum > 0}. Without a pass over {@code start} when {@code startBound + maxChange()
     * < SAFE_MAGNITUDE}: then {@code |start + change| <= |start| + |change|} is finite everywhere.
     *
     * @param startBound an upper bound of {@code |start|} over every array and parameter (the
     *                   driver's, kept up to date round by round); infinity when unknown
     */
    boolean meanChangeKeepsFinite(double[][] start, io.sparkprop.core.NetworkSpec spec, double startBound) {
        averageChange();
        if (maxChange < SAFE_MAGNITUDE - startBound) {
            return true;
        }
        if (rows != null) {
            return rows.sumStaysFinite(start);
        }
        double[][] dense = values;
        io.sparkprop.core.optim.ParameterRanges ranges = touched.ranges(spec.paramCount(),
                new io.sparkprop.core.optim.ParameterRanges());
        for (int a = 0; a < start.length; a++) {
            for (int r = 0; r < ranges.count(); r++) {
                for (int i = ranges.start(r), end = ranges.end(r); i < end; i++) {
                    if (!Double.isFinite(start[a][i] + dense[a][i])) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * A lazy round's mean change added to {@code start} (weights, then slots, in place) on the
     * touched rows and the rest; every other first-layer row keeps its value (and its sign of zero).
     * Valid when {@code weightSum > 0}.
     */
    void addMeanChangeTo(double[][] start, io.sparkprop.core.NetworkSpec spec) {
        averageChange();
        if (rows != null) {
            rows.addScaledTo(start, 1.0);
            return;
        }
        io.sparkprop.core.optim.ParameterRanges ranges = touched.ranges(spec.paramCount(),
                new io.sparkprop.core.optim.ParameterRanges());
        for (int a = 0; a < start.length; a++) {
            double[] t = start[a];
            double[] v = values[a];
            for (int r = 0; r < ranges.count(); r++) {
                for (int i = ranges.start(r), end = ranges.end(r); i < end; i++) {
                    t[i] += v[i];
                }
            }
        }
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
            whole.densify();
            return whole.values != null ? whole.values[0].length : whole.wire[0].length;
        }

        /** A compact whole gives compact slices, cut from its floats. */
        @Override
        public RoundResult slice(RoundResult whole, int from, int to) {
            whole.densify();
            RoundResult piece = new RoundResult(whole.values == null ? null
                    : ReduceScatter.sliceArrays(whole.values, from, to), whole.objectiveSum, whole.weightSum,
                    whole.count, whole.computeNanos, whole.nonFinite);
            if (whole.values == null) {
                piece.wire = WireArrays.slice(whole.wire, from, to);
            }
            piece.summed = whole.summed;
            piece.touched = whole.touched == null ? null : whole.touched.copy();
            return piece;
        }

        @Override
        public RoundResult finish(RoundResult merged) {
            merged.expand();
            if (merged.weightSum > 0.0) {
                merged.averageChange();
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
            whole.touched = first.touched;
            return whole;
        }
    };
}
