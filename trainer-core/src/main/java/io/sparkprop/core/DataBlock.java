package io.sparkprop.core;

/**
 * A block of training rows in the layout the kernels read: features {@code (rows, numFeatures)},
 * targets {@code (rows, numTargets)}, both row-major, and an optional weight per row. A Spark
 * partition is converted into one block once and cached; the single-process trainer holds one.
 *
 * <p>Features are dense ({@link #features()}) or, for a block made by {@link #sparse}, compressed
 * sparse rows: row {@code r}'s nonzero features are {@code values[rowStart[r] .. rowStart[r+1])}
 * at the ascending 0-based {@code columns} of the same range. The kernels then compute the first
 * layer from the nonzeros only.
 *
 * <p>The constructor validates every value once (finite features and targets, finite non-negative
 * weights) and names the first bad row, so the hot path never checks again. Arrays are kept, not
 * copied: the caller must not change them afterwards.
 */
public final class DataBlock implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    private final int rows;
    private final int numFeatures;
    private final int numTargets;
    private final double[] features;
    private final double[] targets;
    private final double[] weights;
    private final int[] rowStart;
    private final int[] columns;

    /**
     * @param weights one non-negative weight per row, or {@code null} for weight 1 everywhere
     */
    public DataBlock(int rows, int numFeatures, int numTargets, double[] features, double[] targets,
                     double[] weights) {
        checkShape(rows, numFeatures, numTargets);
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
            checkTargetsAndWeight(r, numTargets, targets, weights);
        }
        this.rows = rows;
        this.numFeatures = numFeatures;
        this.numTargets = numTargets;
        this.features = features;
        this.targets = targets;
        this.weights = weights;
        this.rowStart = null;
        this.columns = null;
    }

    private DataBlock(int rows, int numFeatures, int numTargets, int[] rowStart, int[] columns, double[] values,
                      double[] targets, double[] weights) {
        this.rows = rows;
        this.numFeatures = numFeatures;
        this.numTargets = numTargets;
        this.features = values;
        this.targets = targets;
        this.weights = weights;
        this.rowStart = rowStart;
        this.columns = columns;
    }

    /**
     * A block with sparse features: row {@code r}'s nonzeros are {@code values[rowStart[r] ..
     * rowStart[r+1])} at {@code columns} of the same range, ascending within the row and below
     * {@code numFeatures}. Validated like the dense constructor, naming the first bad row.
     */
    public static DataBlock sparse(int rows, int numFeatures, int numTargets, int[] rowStart, int[] columns,
                                   double[] values, double[] targets, double[] weights) {
        checkShape(rows, numFeatures, numTargets);
        if (rowStart == null || rowStart.length != rows + 1 || rowStart[0] != 0) {
            throw new IllegalArgumentException("Expected " + (rows + 1) + " row starts beginning with 0 but got "
                    + (rowStart == null ? "null" : rowStart.length + " starting with "
                            + (rowStart.length > 0 ? rowStart[0] : "nothing")));
        }
        int nonzeros = rowStart[rows];
        if (columns == null || values == null || columns.length != nonzeros || values.length != nonzeros) {
            throw new IllegalArgumentException("Expected " + nonzeros + " columns and values but got "
                    + (columns == null ? "null" : columns.length) + " and " + (values == null ? "null" : values.length));
        }
        checkLength("targets", targets, (long) rows * numTargets);
        if (weights != null) {
            checkLength("weights", weights, rows);
        }
        for (int r = 0; r < rows; r++) {
            if (rowStart[r + 1] < rowStart[r]) {
                throw new IllegalArgumentException("Row " + r + " ends at " + rowStart[r + 1] + ", before it starts at "
                        + rowStart[r]);
            }
            for (int p = rowStart[r]; p < rowStart[r + 1]; p++) {
                int c = columns[p];
                if (c < 0 || c >= numFeatures || (p > rowStart[r] && c <= columns[p - 1])) {
                    throw new IllegalArgumentException("Row " + r + " feature index " + c + " must be in [0, "
                            + numFeatures + ") and above the row's previous index");
                }
                if (!Double.isFinite(values[p])) {
                    throw new IllegalArgumentException("Row " + r + " feature " + c + " must be finite but is "
                            + values[p]);
                }
            }
            checkTargetsAndWeight(r, numTargets, targets, weights);
        }
        return new DataBlock(rows, numFeatures, numTargets, rowStart, columns, values, targets, weights);
    }

    private static void checkShape(int rows, int numFeatures, int numTargets) {
        if (rows < 0) {
            throw new IllegalArgumentException("Row count must be >= 0 but got " + rows);
        }
        if (numFeatures <= 0 || numTargets <= 0) {
            throw new IllegalArgumentException("Feature and target widths must be positive but got "
                    + numFeatures + " and " + numTargets);
        }
    }

    /** Row {@code r}'s targets are finite and its weight (if any) finite and non-negative. */
    private static void checkTargetsAndWeight(int r, int numTargets, double[] targets, double[] weights) {
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

    /** The features, row-major {@code (rows, numFeatures)}; do not modify. Dense blocks only. */
    public double[] features() {
        if (rowStart != null) {
            throw new IllegalStateException("A sparse block has no dense features: read rowStart(), columns()"
                    + " and values()");
        }
        return features;
    }

    /** Whether the features are sparse ({@link #sparse}). */
    public boolean isSparse() {
        return rowStart != null;
    }

    /** Sparse blocks: where each row's nonzeros start, {@code rows + 1} entries; do not modify. */
    public int[] rowStart() {
        requireSparse();
        return rowStart;
    }

    /** Sparse blocks: the nonzeros' feature indices; do not modify. */
    public int[] columns() {
        requireSparse();
        return columns;
    }

    /** Sparse blocks: the nonzero feature values; do not modify. */
    public double[] values() {
        requireSparse();
        return features;
    }

    private void requireSparse() {
        if (rowStart == null) {
            throw new IllegalStateException("A dense block has no sparse structure: read features()");
        }
    }

    /** This block with sparse features (its nonzeros); itself when already sparse. */
    public DataBlock toSparse() {
        if (rowStart != null) {
            return this;
        }
        int[] starts = new int[rows + 1];
        for (int r = 0; r < rows; r++) {
            int count = 0;
            for (int c = 0; c < numFeatures; c++) {
                if (features[r * numFeatures + c] != 0.0) {
                    count++;
                }
            }
            starts[r + 1] = starts[r] + count;
        }
        int[] cols = new int[starts[rows]];
        double[] vals = new double[starts[rows]];
        int p = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < numFeatures; c++) {
                double v = features[r * numFeatures + c];
                if (v != 0.0) {
                    cols[p] = c;
                    vals[p++] = v;
                }
            }
        }
        return new DataBlock(rows, numFeatures, numTargets, starts, cols, vals, targets, weights);
    }

    /**
     * The rows of {@code blocks}, block after block, as one new block of their kind: what a window
     * of chunks is decoded into ({@link WindowedRows}). The blocks must agree in kind (all dense or
     * all sparse), widths and whether they are weighted; their values were checked when they were
     * built, so they are copied without a second check.
     *
     * @throws IllegalArgumentException for an empty list or blocks that disagree, naming the first
     *                                  that does
     */
    public static DataBlock concat(java.util.List<DataBlock> blocks) {
        if (blocks == null || blocks.isEmpty()) {
            throw new IllegalArgumentException("Expected at least one block to concatenate but got none");
        }
        DataBlock first = blocks.get(0);
        long rows = 0;
        long stored = 0;
        for (int b = 0; b < blocks.size(); b++) {
            DataBlock block = blocks.get(b);
            if (block.isSparse() != first.isSparse() || block.numFeatures != first.numFeatures
                    || block.numTargets != first.numTargets || block.weighted() != first.weighted()) {
                throw new IllegalArgumentException("Block " + b + " (" + describe(block) + ") does not match block 0 ("
                        + describe(first) + ")");
            }
            rows += block.rows;
            stored += block.features.length;
        }
        if (stored > Integer.MAX_VALUE - 8 || rows * first.numTargets > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("The " + blocks.size() + " blocks hold " + rows + " rows and " + stored
                    + " feature values, more than one Java array holds");
        }
        int n = (int) rows;
        double[] x = new double[(int) stored];
        double[] y = new double[n * first.numTargets];
        double[] w = first.weighted() ? new double[n] : null;
        int[] starts = first.isSparse() ? new int[n + 1] : null;
        int[] cols = first.isSparse() ? new int[(int) stored] : null;
        int row = 0;
        int value = 0;
        for (DataBlock block : blocks) {
            System.arraycopy(block.features, 0, x, value, block.features.length);
            System.arraycopy(block.targets, 0, y, row * first.numTargets, block.targets.length);
            if (w != null) {
                System.arraycopy(block.weights, 0, w, row, block.rows);
            }
            if (starts != null) {
                System.arraycopy(block.columns, 0, cols, value, block.columns.length);
                for (int r = 0; r < block.rows; r++) {
                    starts[row + r + 1] = value + block.rowStart[r + 1];
                }
            }
            row += block.rows;
            value += block.features.length;
        }
        return new DataBlock(n, first.numFeatures, first.numTargets, starts, cols, x, y, w);
    }

    private static String describe(DataBlock block) {
        return (block.isSparse() ? "sparse, " : "dense, ") + block.numFeatures + " features, " + block.numTargets
                + " targets, " + (block.weighted() ? "weighted" : "unweighted");
    }

    /**
     * Rows {@code order[from..to)} of this block, in that order, as a new block of the same kind
     * (dense or sparse).
     */
    public DataBlock select(int[] order, int from, int to) {
        int n = to - from;
        double[] y = new double[n * numTargets];
        double[] w = weights == null ? null : new double[n];
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            System.arraycopy(targets, r * numTargets, y, i * numTargets, numTargets);
            if (w != null) {
                w[i] = weights[r];
            }
        }
        if (rowStart == null) {
            double[] x = new double[n * numFeatures];
            for (int i = 0; i < n; i++) {
                System.arraycopy(features, order[from + i] * numFeatures, x, i * numFeatures, numFeatures);
            }
            return new DataBlock(n, numFeatures, numTargets, x, y, w);
        }
        int[] starts = new int[n + 1];
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            starts[i + 1] = starts[i] + rowStart[r + 1] - rowStart[r];
        }
        int[] cols = new int[starts[n]];
        double[] vals = new double[starts[n]];
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            System.arraycopy(columns, rowStart[r], cols, starts[i], rowStart[r + 1] - rowStart[r]);
            System.arraycopy(features, rowStart[r], vals, starts[i], rowStart[r + 1] - rowStart[r]);
        }
        return new DataBlock(n, numFeatures, numTargets, starts, cols, vals, y, w);
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
