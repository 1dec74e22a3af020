package io.sparkprop.core;

/**
 * The buffers of one forward and backward pass over up to {@link #capacity()} rows: the gathered
 * input, targets and weights, each layer's pre-activation {@code a} and output {@code h}, and two
 * gradient buffers that the backward pass uses in turn. Allocated once and reused for every batch
 * that fits, so the hot path allocates nothing; a batch with fewer rows uses the leading rows. The
 * float copies of {@link Precision#FLOAT32} and the masks of {@link Dropout} are made on their
 * first use and kept likewise.
 *
 * <p>It also knows each loaded row's index in its block and the batch's dropout key
 * ({@link #setDropoutKey}), from which a training pass with dropout draws its masks.
 *
 * <p>Not thread-safe: one workspace per thread (one per Spark task).
 */
public final class Workspace {

    private final NetworkSpec spec;
    private final int capacity;
    /** Dense input rows; made on the first dense batch (a sparse input may be too wide for it). */
    double[] x;
    /** Sparse input: row {@code r}'s nonzeros are {@code xValues[xStart[r] .. xStart[r+1])} at {@code xColumns}. */
    final int[] xStart;
    int[] xColumns = new int[0];
    double[] xValues = new double[0];
    /** Whether the current batch's input is sparse. */
    boolean sparse;
    /** Sparse input: the batch's distinct columns, ascending, {@code xUniqueCount} of them. */
    int[] xUnique = new int[0];
    int xUniqueCount;
    /** Sparse input: for each nonzero, the index of its column in {@link #xUnique}. */
    int[] xSlot = new int[0];
    /** Sparse input: the first layer's weights of the batch's columns, {@code (xUniqueCount, numOut)}. */
    double[] xWeights = new double[0];
    /** Sparse input: their gradient, {@code (xUniqueCount, numOut)}. */
    double[] xGrad = new double[0];
    /** Per input column, -1; used while a sparse batch is gathered. */
    private int[] columnSlot;
    /** While set ({@link #mapColumns}): sparse gathers read its wide columns and store their slots. */
    private ColumnMap columnMap;
    final double[] y;
    final double[] w;
    final double[][] a;
    final double[][] h;
    final double[] gradA;
    final double[] gradB;
    int rows;
    boolean weighted;
    /** Each loaded row's index in its block, {@code (rows)}: dropout masks are drawn per row index. */
    final int[] rowIds;
    /**
     * The loaded batch's dropout stream {@code derive(seed, STREAM_DROPOUT, epoch, step, partition)},
     * valid while {@code dropoutKeySet}: set by {@link #setDropoutKey}, cleared by every gather and load.
     */
    long dropoutStream;
    boolean dropoutKeySet;
    /** Whether the last forward pass applied dropout masks, so the backward pass applies them too. */
    boolean masked;

    /** Buffers for {@code spec} and batches of at most {@code capacity} rows. */
    public Workspace(NetworkSpec spec, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("Workspace capacity must be positive but got " + capacity);
        }
        long widest = (long) capacity * layerWidth(spec);
        if (widest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Workspace of " + capacity + " rows x " + layerWidth(spec)
                    + " units exceeds a Java array; use a smaller batch");
        }
        this.spec = spec;
        this.capacity = capacity;
        this.xStart = new int[capacity + 1];
        this.y = new double[capacity * spec.outputSize()];
        this.w = new double[capacity];
        this.a = new double[spec.numLayers()][];
        this.h = new double[spec.numLayers()][];
        for (int k = 0; k < spec.numLayers(); k++) {
            int width = spec.layer(k).numOut();
            a[k] = new double[capacity * width];
            h[k] = new double[capacity * width];
        }
        this.gradA = new double[(int) widest];
        this.gradB = new double[(int) widest];
        this.rowIds = new int[capacity];
    }

    /** The widest layer output: what the pre-activation and gradient buffers hold per row. */
    static int layerWidth(NetworkSpec spec) {
        int max = 1;
        for (int k = 0; k < spec.numLayers(); k++) {
            max = Math.max(max, spec.layer(k).numOut());
        }
        return max;
    }

    public NetworkSpec spec() {
        return spec;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Until called again with null: sparse blocks gathered or loaded into this workspace have
     * {@code map.features()} columns, and each nonzero is stored at its column's slot in
     * {@code map} (a new column gets the next free slot), so this workspace's network, of
     * {@code map.capacity()} inputs, computes on a compact copy of the wide first layer
     * ({@link WorkingSet}). Returns this.
     *
     * @throws IllegalArgumentException when the map's capacity is not this spec's input width
     */
    public Workspace mapColumns(ColumnMap map) {
        if (map != null && map.capacity() != spec.inputSize()) {
            throw new IllegalArgumentException("A column map of capacity " + map.capacity() + " does not fit " + spec);
        }
        columnMap = map;
        return this;
    }

    /** Rows of the batch currently loaded. */
    public int rows() {
        return rows;
    }

    /**
     * Copies rows {@code order[from..to)} of {@code block} into this workspace's input, target and
     * weight buffers (the batch's rows in that order) and makes them the current batch. Batch row
     * {@code i} keeps its index {@code order[from + i]} in the block for the dropout masks; the
     * previous batch's dropout key is cleared.
     */
    public Workspace gather(DataBlock block, int[] order, int from, int to) {
        return gather(block, order, from, to, null);
    }

    /**
     * {@link #gather(DataBlock, int[], int, int)}, except that batch row {@code i} keeps the id
     * {@code ids[from + i]} for the dropout masks, or {@code order[from + i]} when {@code ids} is
     * null: a window of chunks ({@link WindowedRows}) keys each row by its index in its partition,
     * not by its place in the window.
     */
    public Workspace gather(DataBlock block, int[] order, int from, int to, int[] ids) {
        int n = to - from;
        checkBatch(block, n);
        int in = block.numFeatures();
        int out = block.numTargets();
        double[] targets = block.targets();
        double[] weights = block.weights();
        if (block.isSparse()) {
            gatherSparse(block, order, from, n);
        } else {
            double[] features = block.features();
            double[] dense = denseInput();
            for (int i = 0; i < n; i++) {
                System.arraycopy(features, order[from + i] * in, dense, i * in, in);
            }
        }
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            System.arraycopy(targets, r * out, y, i * out, out);
            if (weights != null) {
                w[i] = weights[r];
            }
            rowIds[i] = ids == null ? r : ids[from + i];
        }
        rows = n;
        weighted = weights != null;
        dropoutKeySet = false;
        return this;
    }

    /**
     * Sets the dropout key of the loaded batch: its masks ({@link Dropout}) are a function of
     * {@code (seed, epoch, step, partition)} and each row's index in its block, nothing else, so a
     * retried task draws the same masks. Call it after {@link #gather} or {@link #load} (which clear
     * the key) and before the training pass ({@link Network#lossAndGradient}) of a network with
     * dropout, which fails without one.
     */
    public Workspace setDropoutKey(long seed, long epoch, long step, int partition) {
        // derive(seed, STREAM_DROPOUT, epoch, step, partition), key by key: no array per step.
        dropoutStream = SplitMix64.extend(SplitMix64.extend(SplitMix64.extend(
                SplitMix64.derive(seed, SplitMix64.STREAM_DROPOUT), epoch), step), partition);
        dropoutKeySet = true;
        return this;
    }

    private double[] denseInput() {
        if (x == null) {
            x = new double[capacity * spec.inputSize()];
        }
        sparse = false;
        return x;
    }

    /**
     * Copies the nonzeros of rows {@code order[from .. from+n)} of sparse {@code block}, or of rows
     * {@code from .. from+n} when {@code order} is null.
     */
    private void gatherSparse(DataBlock block, int[] order, int from, int n) {
        int[] starts = block.rowStart();
        int nonzeros = 0;
        for (int i = 0; i < n; i++) {
            int r = order == null ? from + i : order[from + i];
            nonzeros += starts[r + 1] - starts[r];
        }
        if (xColumns.length < nonzeros) {
            int size = Math.max(nonzeros, xColumns.length + xColumns.length / 2);
            xColumns = new int[size];
            xValues = new double[size];
        }
        int[] columns = block.columns();
        double[] values = block.values();
        xStart[0] = 0;
        for (int i = 0; i < n; i++) {
            int r = order == null ? from + i : order[from + i];
            int count = starts[r + 1] - starts[r];
            if (columnMap == null) {
                System.arraycopy(columns, starts[r], xColumns, xStart[i], count);
            } else {
                for (int p = 0; p < count; p++) {
                    xColumns[xStart[i] + p] = columnMap.slot(columns[starts[r] + p]);
                }
            }
            System.arraycopy(values, starts[r], xValues, xStart[i], count);
            xStart[i + 1] = xStart[i] + count;
        }
        indexColumns(nonzeros);
        sparse = true;
    }

    /**
     * The batch's distinct columns ({@link #xUnique}, ascending) and each nonzero's slot among them,
     * so the kernels can work on a compact {@code (columns, numOut)} copy of the first layer.
     */
    private void indexColumns(int nonzeros) {
        if (columnSlot == null) {
            columnSlot = new int[spec.inputSize()];
            java.util.Arrays.fill(columnSlot, -1);
        }
        if (xSlot.length < nonzeros) {
            xSlot = new int[xColumns.length];
            xUnique = new int[xColumns.length];
        }
        int unique = 0;
        for (int p = 0; p < nonzeros; p++) {
            int c = xColumns[p];
            if (columnSlot[c] < 0) {
                columnSlot[c] = 0;
                xUnique[unique++] = c;
            }
        }
        java.util.Arrays.sort(xUnique, 0, unique);
        for (int s = 0; s < unique; s++) {
            columnSlot[xUnique[s]] = s;
        }
        for (int p = 0; p < nonzeros; p++) {
            xSlot[p] = columnSlot[xColumns[p]];
        }
        for (int s = 0; s < unique; s++) {
            columnSlot[xUnique[s]] = -1;
        }
        xUniqueCount = unique;
        int compact = unique * spec.layer(0).numOut();
        if (xWeights.length < compact) {
            xWeights = new double[Math.max(compact, xWeights.length + xWeights.length / 2)];
            xGrad = new double[xWeights.length];
        }
    }

    /**
     * Makes rows {@code [from, to)} of {@code block}, in stored order, the current batch (batch row
     * {@code i} is block row {@code from + i}); the previous batch's dropout key is cleared.
     */
    public Workspace load(DataBlock block, int from, int to) {
        int n = to - from;
        checkBatch(block, n);
        int in = block.numFeatures();
        int out = block.numTargets();
        if (block.isSparse()) {
            gatherSparse(block, null, from, n);
        } else {
            System.arraycopy(block.features(), from * in, denseInput(), 0, n * in);
        }
        System.arraycopy(block.targets(), from * out, y, 0, n * out);
        if (block.weighted()) {
            System.arraycopy(block.weights(), from, w, 0, n);
        }
        for (int i = 0; i < n; i++) {
            rowIds[i] = from + i;
        }
        rows = n;
        weighted = block.weighted();
        dropoutKeySet = false;
        return this;
    }

    private void checkBatch(DataBlock block, int n) {
        int features = columnMap != null && block.isSparse() ? columnMap.features() : spec.inputSize();
        if (block.numFeatures() != features || block.numTargets() != spec.outputSize()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + features + " features and "
                    + spec.outputSize() + " targets per row but the data has " + block.numFeatures() + " and "
                    + block.numTargets());
        }
        if (n < 0 || n > capacity) {
            throw new IllegalArgumentException("Batch of " + n + " rows does not fit a workspace of capacity " + capacity);
        }
    }

    private Floats floats;

    /** The single-precision buffers of {@link Precision#FLOAT32}, made on first use. */
    Floats floats() {
        if (floats == null) {
            floats = new Floats(spec, capacity);
        }
        return floats;
    }

    /**
     * The float shadows a {@link Precision#FLOAT32} pass needs: the weights, the input, each hidden
     * layer's output, a delta and a product's result, and one layer's weight gradient. The input,
     * product and gradient buffers grow on demand (a sparse input never needs a dense float copy).
     */
    static final class Floats {
        final float[] weights;
        final float[][] h;
        final float[] delta;
        private float[] x = new float[0];
        private float[] product;
        private float[] gradW = new float[0];

        Floats(NetworkSpec spec, int capacity) {
            int widest = capacity * layerWidth(spec);
            weights = new float[spec.paramCount()];
            h = new float[spec.numLayers()][];
            for (int k = 0; k < spec.numLayers(); k++) {
                h[k] = new float[capacity * spec.layer(k).numOut()];
            }
            delta = new float[widest];
            product = new float[widest];
        }

        float[] x(int size) {
            if (x.length < size) {
                x = new float[size];
            }
            return x;
        }

        float[] product(int size) {
            if (product.length < size) {
                product = new float[size];
            }
            return product;
        }

        float[] gradW(int size) {
            if (gradW.length < size) {
                gradW = new float[size];
            }
            return gradW;
        }
    }

    private Masks masks;

    /** The dropout buffers, made on the first training pass with dropout and kept for every later one. */
    Masks masks() {
        if (masks == null) {
            masks = new Masks(spec, capacity);
        }
        return masks;
    }

    /**
     * A training pass's dropout buffers, for each hidden layer {@code k}: its mask {@code M_k} and
     * its dropped output {@code H̃_k = H_k ⊙ M_k}, both {@code (capacity, numOut)}. {@code h[k]}
     * keeps the activation's own output, which its backward pass needs.
     */
    static final class Masks {
        final double[][] mask;
        final double[][] out;

        Masks(NetworkSpec spec, int capacity) {
            int hidden = spec.numLayers() - 1;
            mask = new double[hidden][];
            out = new double[hidden][];
            for (int k = 0; k < hidden; k++) {
                mask[k] = new double[capacity * spec.layer(k).numOut()];
                out[k] = new double[capacity * spec.layer(k).numOut()];
            }
        }
    }

    /**
     * The output layer's pre-activation {@code a = b + W h} {@code (rows, outputSize)} after
     * {@link Network#forward}: the logits when the output activation is a softmax (or a sigmoid),
     * finite for finite inputs and weights where the output may round to 0 or 1. Read only.
     */
    public double[] logits() {
        return a[a.length - 1];
    }

    /** The network's output {@code (rows, outputSize)} after {@link Network#forward}; read only. */
    public double[] output() {
        return h[h.length - 1];
    }
}
