package io.sparkprop.core;

/**
 * A block of training rows in the layout the kernels read: features {@code (rows, numFeatures)},
 * targets {@code (rows, numTargets)}, both row-major, and an optional weight per row. A Spark
 * partition is converted into one block once and cached; the single-process trainer holds one.
 *
 * <p>The constructor validates every value once (finite features and targets, finite non-negative
 * weights) and names the first bad row, so the hot path never checks again. Arrays are kept, not
 * copied: the caller must not change them afterwards.
 */
public final class DataBlock {

    private final int rows;
    private final int numFeatures;
    private final int numTargets;
    private final double[] features;
    private final double[] targets;
    private final double[] weights;

    /**
     * @param weights one non-negative weight per row, or {@code null} for weight 1 everywhere
     */
    public DataBlock(int rows, int numFeatures, int numTargets, double[] features, double[] targets,
                     double[] weights) {
        if (rows < 0) {
            throw new IllegalArgumentException("Row count must be >= 0 but got " + rows);
        }
        if (numFeatures <= 0 || numTargets <= 0) {
            throw new IllegalArgumentException("Feature and target widths must be positive but got "
                    + numFeatures + " and " + numTargets);
        }
        checkLength("features", features, (long) rows * numFeatures);
        checkLength("targets", targets, (long) rows * numTargets);
        if (weights != null) {
            checkLength("weights", weights, rows);
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < numFeatures; j++) {
                double v = features[r * numFeatures + j];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("Row " + r + " feature " + j + " must be finite but is " + v);
                }
            }
            for (int j = 0; j < numTargets; j++) {
                double v = targets[r * numTargets + j];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("Row " + r + " target " + j + " must be finite but is " + v);
                }
            }
            if (weights != null && !(weights[r] >= 0.0 && weights[r] < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("Row " + r + " weight must be finite and >= 0 but is " + weights[r]);
            }
        }
        this.rows = rows;
        this.numFeatures = numFeatures;
        this.numTargets = numTargets;
        this.features = features;
        this.targets = targets;
        this.weights = weights;
    }

    private static void checkLength(String name, double[] array, long expected) {
        if (array == null) {
            throw new IllegalArgumentException("The " + name + " array must be given but got null");
        }
        if (array.length != expected) {
            throw new IllegalArgumentException("Expected " + expected + " " + name + " values but got " + array.length);
        }
    }

    public int rows() {
        return rows;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public int numTargets() {
        return numTargets;
    }

    /** The features, row-major {@code (rows, numFeatures)}; do not modify. */
    public double[] features() {
        return features;
    }

    /** The targets, row-major {@code (rows, numTargets)}; do not modify. */
    public double[] targets() {
        return targets;
    }

    /** The row weights, or {@code null} when every row has weight 1; do not modify. */
    public double[] weights() {
        return weights;
    }

    /** Whether the rows carry weights. */
    public boolean weighted() {
        return weights != null;
    }
}
