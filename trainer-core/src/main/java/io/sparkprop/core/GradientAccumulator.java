package io.sparkprop.core;

import java.util.Arrays;

/**
 * The only thing that crosses from workers to the driver: {@code (gradient sum, loss sum, example
 * count, weight sum)} over any number of rows. Workers {@link #add} batches and {@link #merge}
 * partial results; the driver divides once in {@link #mean}, so every example counts with its
 * weight no matter how the rows were split (a short last batch or a small partition is not
 * over-weighted, unlike a mean of per-block means).
 *
 * <p>{@code add} and {@code merge} mutate and return {@code this}, the shape Spark's
 * {@code treeAggregate} expects of its seqOp and combOp. Floating-point sums depend on their order:
 * callers that need bit-identical results must merge in a fixed order.
 */
public final class GradientAccumulator implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    private final double[] gradSum;
    private double lossSum;
    private long count;
    private double weightSum;
    /** The rows the sums touch, for lazy updates ({@link #trackRows}); null when not tracked. */
    private TouchedRows touched;
    /**
     * With tracked rows: the first layer's sums of the sparse batches added since the last
     * {@link #reset} or flush, row-sparse; {@link #gradSum} holds them only once flushed
     * ({@link #flush}: whenever something reads the dense array). Null when not tracked.
     */
    private RowSparseSums firstLayer;
    /** The first layer's weights {@code [rowsOffset, rowsEnd)} when {@link #firstLayer} is kept. */
    private int rowsOffset;
    private int rowsEnd;
    private int rowWidth;
    /** Whether {@link #gradSum}'s first-layer rows may be nonzero since the last reset (a flush, a dense input). */
    private boolean rowsInDense;

    /** An empty accumulator for {@code paramCount} parameters. */
    public GradientAccumulator(int paramCount) {
        if (paramCount <= 0) {
            throw new IllegalArgumentException("Parameter count must be positive but got " + paramCount);
        }
        this.gradSum = new double[paramCount];
    }

    /**
     * An accumulator holding these sums (the array is kept, not copied): what a wire format that
     * shipped them another way ({@code train.exchange-precision = float32}) rebuilds.
     *
     * @param gradSum (paramCount) summed gradient
     * @throws IllegalArgumentException when {@code gradSum} is empty
     */
    public static GradientAccumulator of(double[] gradSum, double lossSum, long count, double weightSum) {
        GradientAccumulator g = new GradientAccumulator(gradSum);
        g.lossSum = lossSum;
        g.count = count;
        g.weightSum = weightSum;
        return g;
    }

    private GradientAccumulator(double[] gradSum) {
        if (gradSum.length == 0) {
            throw new IllegalArgumentException("Parameter count must be positive but got 0");
        }
        this.gradSum = gradSum;
    }

    /**
     * Makes this accumulator remember which of {@code spec}'s first-layer rows (input features) the
     * added rows use, for a lazy step ({@link SparseUpdate#LAZY}): {@link #activeRanges} then lists
     * them, and {@link #reset} zeroes only them and the rest of the network. Returns {@code this}.
     *
     * @throws IllegalArgumentException unless {@code spec} has this accumulator's parameter count and
     *                                  its first layer is stored {@link WeightLayout#IN_OUT}
     */
    public GradientAccumulator trackRows(NetworkSpec spec) {
        if (spec.paramCount() != gradSum.length || spec.firstLayerLayout() != WeightLayout.IN_OUT) {
            throw new IllegalArgumentException("Tracking rows needs a network of " + gradSum.length + " parameters"
                    + " whose first layer is stored " + WeightLayout.IN_OUT + " but got " + spec);
        }
        this.touched = new TouchedRows(spec);
        this.firstLayer = new RowSparseSums(spec.layer(0).numOut());
        this.rowsOffset = spec.weightOffset(0);
        this.rowsEnd = spec.biasOffset(0);
        this.rowWidth = spec.layer(0).numOut();
        this.rowsInDense = true; // whatever the dense array holds now: the first reset clears it all
        return this;
    }

    /**
     * These sums tracking {@code rows} (kept, not copied; null for none): what a wire format that
     * shipped the rows beside the sums rebuilds. Returns {@code this}.
     */
    public GradientAccumulator withTouchedRows(TouchedRows rows) {
        if (rows == null) {
            flush();
            firstLayer = null; // untracked sums keep every value in the dense array
        }
        this.touched = rows;
        return this;
    }

    /** The number of parameters these sums cover; reads nothing else. */
    public int paramCount() {
        return gradSum.length;
    }

    /** The rows these sums touch (live), or null when rows are not tracked. */
    public TouchedRows touchedRows() {
        return touched;
    }

    /**
     * Adds the rows loaded in {@code ws}: their summed loss and gradient under {@code params}, their
     * count and their weight sum. Workspace buffers are OVERWRITTEN. This is the training pass
     * ({@link Network#lossAndGradient}): a network with {@link Dropout} needs the batch's key
     * ({@link Workspace#setDropoutKey}).
     */
    public GradientAccumulator add(Network network, double[] params, Workspace ws) {
        // Row-sparse only until the dense array holds first-layer sums: after that, adding to the
        // dense rows in add order keeps the dense sums' order (a later flush would add the pending
        // rows' own sum at once).
        if (firstLayer != null && ws.sparse && !rowsInDense
                && network.spec().firstLayerLayout() == WeightLayout.IN_OUT) {
            lossSum += network.lossAndGradient(params, ws, gradSum, firstLayer);
        } else {
            flush();
            rowsInDense = true;
            lossSum += network.lossAndGradient(params, ws, gradSum);
        }
        if (touched != null) {
            touched.add(ws);
        }
        count += ws.rows;
        if (ws.weighted) {
            for (int i = 0; i < ws.rows; i++) {
                weightSum += ws.w[i];
            }
        } else {
            weightSum += ws.rows;
        }
        return this;
    }

    /** Adds another accumulator's sums to this one; {@code other} is unchanged. */
    public GradientAccumulator merge(GradientAccumulator other) {
        if (other.gradSum.length != gradSum.length) {
            throw new IllegalArgumentException("Cannot merge a gradient of " + other.gradSum.length
                    + " parameters into one of " + gradSum.length);
        }
        flush();
        other.flush();
        rowsInDense = true; // the other sums' first-layer rows are now in the dense array
        double[] theirs = other.gradSum;
        for (int i = 0; i < gradSum.length; i++) {
            gradSum[i] += theirs[i];
        }
        lossSum += other.lossSum;
        count += other.count;
        weightSum += other.weightSum;
        mergeTracking(other);
        return this;
    }

    /** Tracked rows: the union of both; sums tracking rows merge only with sums that track them too. */
    private void mergeTracking(GradientAccumulator other) {
        if (touched == null && other.touched == null) {
            return;
        }
        if (touched == null || other.touched == null) {
            throw new IllegalArgumentException("Cannot merge sums that track their rows with sums that do not");
        }
        touched.or(other.touched);
    }

    /** This accumulator's row tracking put on {@code to}, which gets its own copy. */
    private void copyTracking(GradientAccumulator to) {
        if (touched != null) {
            to.touched = touched.copy();
        }
    }

    /**
     * Parameters {@code [from, to)} of the gradient sum with this accumulator's whole loss sum,
     * count and weight sum: one slice of a reduce-scatter, which merges slices of the same range
     * as it merges whole accumulators (element by element) and puts them back together with
     * {@link #concat}. This accumulator is unchanged.
     *
     * @throws IllegalArgumentException unless {@code 0 <= from < to <= paramCount}
     */
    public GradientAccumulator slice(int from, int to) {
        if (from < 0 || to > gradSum.length || from >= to) {
            throw new IllegalArgumentException("Slice [" + from + ", " + to + ") is not within the " + gradSum.length
                    + " parameters");
        }
        flush();
        GradientAccumulator piece = new GradientAccumulator(to - from);
        System.arraycopy(gradSum, from, piece.gradSum, 0, to - from);
        piece.lossSum = lossSum;
        piece.count = count;
        piece.weightSum = weightSum;
        // Every slice carries the whole row set: the slices' merges OR the same sets, and concat
        // takes the first slice's.
        copyTracking(piece);
        return piece;
    }

    /**
     * The accumulator whose gradient sum is the {@code slices}' sums one after the other, and
     * whose loss sum, count and weight sum are theirs, which must agree (every slice of a
     * reduce-scatter merges the same scalars in the same order).
     *
     * @throws IllegalArgumentException when {@code slices} is empty or their scalars differ
     */
    public static GradientAccumulator concat(java.util.List<GradientAccumulator> slices) {
        if (slices.isEmpty()) {
            throw new IllegalArgumentException("No slices to concatenate");
        }
        GradientAccumulator first = slices.get(0);
        int n = 0;
        for (GradientAccumulator s : slices) {
            if (Double.doubleToLongBits(s.lossSum) != Double.doubleToLongBits(first.lossSum) || s.count != first.count
                    || Double.doubleToLongBits(s.weightSum) != Double.doubleToLongBits(first.weightSum)) {
                throw new IllegalArgumentException("Slices disagree on their loss sum, count or weight sum: ("
                        + first.lossSum + ", " + first.count + ", " + first.weightSum + ") and (" + s.lossSum + ", "
                        + s.count + ", " + s.weightSum + ")");
            }
            n += s.gradSum.length;
        }
        GradientAccumulator whole = new GradientAccumulator(n);
        int at = 0;
        for (GradientAccumulator s : slices) {
            s.flush();
            System.arraycopy(s.gradSum, 0, whole.gradSum, at, s.gradSum.length);
            at += s.gradSum.length;
        }
        whole.lossSum = first.lossSum;
        whole.count = first.count;
        whole.weightSum = first.weightSum;
        first.copyTracking(whole);
        return whole;
    }

    /**
     * The parameters the added rows' gradient can be nonzero in, into {@code out} (cleared first):
     * everything outside the first layer's weights, and the first layer's rows of the features the
     * rows used, in index order; every parameter when a dense input was added. Returns {@code out}.
     *
     * @throws IllegalStateException when rows are not tracked ({@link #trackRows})
     */
    public io.sparkprop.core.optim.ParameterRanges activeRanges(io.sparkprop.core.optim.ParameterRanges out) {
        if (touched == null) {
            throw new IllegalStateException("Active ranges need tracked rows: call trackRows(spec) first");
        }
        return touched.ranges(gradSum.length, out);
    }

    /** Whether this accumulator tracks the rows its sums touch ({@link #trackRows}). */
    public boolean tracksRows() {
        return touched != null;
    }

    /** Empties this accumulator for reuse; with tracked rows, zeroing only what the added rows touched. */
    public GradientAccumulator reset() {
        if (touched != null) {
            resetTracked();
            return this;
        }
        Arrays.fill(gradSum, 0.0);
        lossSum = 0.0;
        count = 0;
        weightSum = 0.0;
        return this;
    }

    private void resetTracked() {
        if (firstLayer != null && !rowsInDense) {
            touched.clearOutsideRows(gradSum); // the rows' sums never left firstLayer
        } else {
            touched.clear(gradSum);
        }
        if (firstLayer != null) {
            firstLayer.clear();
        }
        rowsInDense = false;
        lossSum = 0.0;
        count = 0;
        weightSum = 0.0;
    }

    /**
     * {@link #mean(Network, double[], double, double[])} over the parameters in {@code active} only
     * ({@link #activeRanges}), packed: {@code gradOut[q]} is OVERWRITTEN with the mean gradient of
     * the {@code q}-th active parameter in index order, {@code q < active.size()} (the lazy
     * {@link io.sparkprop.core.optim.Optimizer#step(double[], double[], double,
     * io.sparkprop.core.optim.ParameterRanges)}'s form; for ranges {@code [0, paramCount)} the dense
     * gradient), and the L2 term and its penalty cover the weights in {@code active} only (a lazy
     * step's objective). The sums' values are read only (a fallback to the dense array moves the
     * row-sparse rows into it: the same values).
     */
    public double mean(Network network, double[] params, double l2, double[] gradOut,
                       io.sparkprop.core.optim.ParameterRanges active) {
        return mean(network.spec().weightRanges(), params, l2, gradOut, active);
    }

    /**
     * The mean above with the network's weight ranges ({@link NetworkSpec#weightRanges()}) given,
     * so that a step rule computes them once, not every step.
     */
    double mean(int[] weights, double[] params, double l2, double[] gradOut,
                io.sparkprop.core.optim.ParameterRanges active) {
        return mean(weights, params, l2, gradOut, active, null);
    }

    /**
     * The mean above without L2 ({@code λ = 0}), and in the same pass over the gradient the four
     * partial sums of squares that
     * {@link io.sparkprop.core.optim.GradientClipping#fastNorm(double[], int)} takes of
     * {@code gradOut[0 .. active.size())}, bit for bit (the lanes by packed position, each summed in
     * index order): {@code lanes (4)} is OVERWRITTEN with them, and
     * {@link io.sparkprop.core.optim.GradientClipping#laneNorm} gives the norm. A step rule's
     * finiteness check without a second read of the gradient. Returns the objective.
     */
    double meanWithFastNorm(int[] weights, double[] params, double[] gradOut,
                            io.sparkprop.core.optim.ParameterRanges active, double[] lanes) {
        if (lanes.length != 4) {
            throw new IllegalArgumentException("Expected 4 lanes but got " + lanes.length);
        }
        return mean(weights, params, 0.0, gradOut, active, lanes);
    }

    /** The mean; with {@code lanes} (only when {@code l2 = 0}) the fused norm's sums as well. */
    private double mean(int[] weights, double[] params, double l2, double[] gradOut,
                        io.sparkprop.core.optim.ParameterRanges active, double[] lanes) {
        if (!(weightSum > 0.0)) {
            throw new IllegalStateException("Cannot average a gradient over " + count + " rows with total weight "
                    + weightSum + "; the batch must have positive total weight");
        }
        if (gradOut.length < active.size()) {
            throw new IllegalArgumentException("Expected a gradient buffer of at least " + active.size()
                    + " values (the active parameters) but got " + gradOut.length);
        }
        // The first layer's values come from the row-sparse sums when the ranges cover exactly
        // their rows (activeRanges lists them in the same order); from the dense array otherwise.
        boolean rowSparse = firstLayer != null && firstLayer.count() > 0 && !rowsInDense
                && coversExactlyTheRows(active);
        if (!rowSparse) {
            flush();
        }
        double[] rowValues = rowSparse ? firstLayer.values() : null;
        double inv = 1.0 / weightSum;
        double sumSquares = 0.0;
        // fastNorm's lanes: packed position p below mainEnd (the last multiple of 4) adds its
        // square to lane p & 3, the rest to lane 0; each lane in increasing p, as it sums them.
        int mainEnd = 0;
        if (lanes != null) {
            Arrays.fill(lanes, 0.0);
            int size = (int) active.size();
            mainEnd = size - (size & 3);
        }
        int k = 0; // the weight range (sorted, half-open pairs) that can hold the next index
        int q = 0; // the next packed position
        int c = 0; // the next row-sparse value
        for (int r = 0; r < active.count(); r++) {
            int start = active.start(r);
            int end = active.end(r);
            // Three segments: before the first layer's weights, its rows (from the row-sparse sums,
            // in order, when read from there), after them; the dense array otherwise.
            int rowsFrom = rowSparse ? Math.min(Math.max(rowsOffset, start), end) : end;
            int rowsTo = rowSparse ? Math.min(Math.max(rowsEnd, rowsFrom), end) : end;
            for (int segment = 0; segment < 3; segment++) {
                int from = segment == 0 ? start : segment == 1 ? rowsFrom : rowsTo;
                int to = segment == 0 ? rowsFrom : segment == 1 ? rowsTo : end;
                double[] src = segment == 1 ? rowValues : gradSum;
                int srcShift = segment == 1 ? c - from : 0;
                int outShift = q - from;
                if (lanes != null) {
                    scaleWithLanes(src, srcShift, gradOut, outShift, from, to, inv, lanes, mainEnd);
                } else if (l2 == 0.0) {
                    for (int i = from; i < to; i++) {
                        gradOut[i + outShift] = src[i + srcShift] * inv;
                    }
                } else {
                    for (int i = from; i < to; i++) {
                        double g = src[i + srcShift];
                        while (k < weights.length && weights[k + 1] <= i) {
                            k += 2;
                        }
                        if (k < weights.length && i >= weights[k]) {
                            double w = params[i];
                            sumSquares += w * w;
                            g += l2 * w;
                        }
                        gradOut[i + outShift] = g * inv;
                    }
                }
                q += to - from;
                if (segment == 1) {
                    c += to - from;
                }
            }
        }
        return (lossSum + 0.5 * l2 * sumSquares) * inv;
    }

    /**
     * {@code out[i + outShift] = src[i + srcShift] · inv} for {@code i} in {@code [from, to)}, each
     * value's square added to {@code lanes} as {@link #meanWithFastNorm} says (packed position
     * {@code p = i + outShift}): one position at a time up to a multiple of 4, then four at a time
     * in four running sums (the loop the norm's speed needs), then the rest one at a time.
     */
    private static void scaleWithLanes(double[] src, int srcShift, double[] out, int outShift, int from, int to,
                                       double inv, double[] lanes, int mainEnd) {
        int i = from;
        for (; i < to && ((i + outShift) & 3) != 0 && i + outShift < mainEnd; i++) {
            double v = src[i + srcShift] * inv;
            out[i + outShift] = v;
            lanes[(i + outShift) & 3] += v * v;
        }
        // Here i + outShift is a multiple of 4, or past mainEnd (then the loop below does nothing).
        int bodyEnd = Math.min(to, mainEnd - outShift);
        double s0 = lanes[0];
        double s1 = lanes[1];
        double s2 = lanes[2];
        double s3 = lanes[3];
        for (; i + 3 < bodyEnd; i += 4) {
            double v0 = src[i + srcShift] * inv;
            double v1 = src[i + 1 + srcShift] * inv;
            double v2 = src[i + 2 + srcShift] * inv;
            double v3 = src[i + 3 + srcShift] * inv;
            out[i + outShift] = v0;
            out[i + 1 + outShift] = v1;
            out[i + 2 + outShift] = v2;
            out[i + 3 + outShift] = v3;
            s0 += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        lanes[0] = s0;
        lanes[1] = s1;
        lanes[2] = s2;
        lanes[3] = s3;
        for (; i < to; i++) {
            int p = i + outShift;
            double v = src[i + srcShift] * inv;
            out[p] = v;
            lanes[p < mainEnd ? p & 3 : 0] += v * v;
        }
    }

    /**
     * Whether {@code active}'s first-layer weights are exactly the rows {@link #firstLayer} holds,
     * whole and in order (as {@link #activeRanges} lists them): then its values are those rows'.
     */
    private boolean coversExactlyTheRows(io.sparkprop.core.optim.ParameterRanges active) {
        int[] rows = firstLayer.rows();
        int count = firstLayer.count();
        int s = 0;
        for (int r = 0; r < active.count(); r++) {
            int from = Math.max(active.start(r), rowsOffset);
            int to = Math.min(active.end(r), rowsEnd);
            for (int at = from; at < to; at += rowWidth) {
                if ((at - rowsOffset) % rowWidth != 0 || to - at < rowWidth || s == count
                        || rows[s] != (at - rowsOffset) / rowWidth) {
                    return false;
                }
                s++;
            }
        }
        return s == count;
    }

    /**
     * Moves the row-sparse first-layer sums into {@link #gradSum}, whose first-layer rows are zero
     * then: the row-sparse form holds only adds made while nothing else was in the dense rows
     * ({@link #rowsInDense} false), and after a flush every add goes to the dense array until the
     * next reset, so each row is summed in add order, as the dense array sums it.
     */
    private void flush() {
        if (firstLayer != null && firstLayer.count() > 0) {
            firstLayer.addTo(gradSum, rowsOffset);
            firstLayer.clear();
            rowsInDense = true;
        }
    }

    /**
     * The objective and its gradient for the accumulated rows:
     * {@code J = (Σ w_i L_i + λ/2 Σ W²) / m} with {@code m = Σ w_i}, and
     * {@code ∇J = (Σ w_i ∇L_i + λ W) / m} written into {@code gradOut (paramCount)}, which is
     * OVERWRITTEN. The accumulator is unchanged. Throws {@code IllegalStateException} when the
     * weight sum is not positive (no rows, or all weights zero).
     */
    public double mean(Network network, double[] params, double l2, double[] gradOut) {
        // Over every parameter, this is the formula written out element by element: the penalty
        // sums the weights' squares in index order, as the lazy mean does over its ranges.
        return mean(network, params, l2, gradOut, new io.sparkprop.core.optim.ParameterRanges().add(0, gradSum.length));
    }

    /**
     * The summed gradient {@code (paramCount)}; live, not a copy. With tracked rows this first
     * moves the row-sparse first layer's sums into it.
     */
    public double[] gradSum() {
        flush();
        rowsInDense = true; // the caller may write into it
        return gradSum;
    }

    public double lossSum() {
        return lossSum;
    }

    /** Number of rows added. */
    public long count() {
        return count;
    }

    /** Sum of the rows' weights (equal to {@link #count()} for unweighted rows). */
    public double weightSum() {
        return weightSum;
    }
}
