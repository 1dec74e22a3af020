package io.sparkprop.core;

/**
 * The buffers of one forward and backward pass over up to {@link #capacity()} rows: the gathered
 * input, targets and weights, each layer's pre-activation {@code a} and output {@code h}, and two
 * gradient buffers that the backward pass uses in turn. Allocated once and reused for every batch
 * that fits, so the hot path allocates nothing; a batch with fewer rows uses the leading rows.
 *
 * <p>Not thread-safe: one workspace per thread (one per Spark task).
 */
public final class Workspace {

    private final NetworkSpec spec;
    private final int capacity;
    final double[] x;
    final double[] y;
    final double[] w;
    final double[][] a;
    final double[][] h;
    final double[] gradA;
    final double[] gradB;
    int rows;
    boolean weighted;

    /** Buffers for {@code spec} and batches of at most {@code capacity} rows. */
    public Workspace(NetworkSpec spec, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("Workspace capacity must be positive but got " + capacity);
        }
        long widest = (long) capacity * spec.maxWidth();
        if (widest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Workspace of " + capacity + " rows x " + spec.maxWidth()
                    + " units exceeds a Java array; use a smaller batch");
        }
        this.spec = spec;
        this.capacity = capacity;
        this.x = new double[capacity * spec.inputSize()];
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
    }

    public NetworkSpec spec() {
        return spec;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows of the batch currently loaded. */
    public int rows() {
        return rows;
    }

    /**
     * Copies rows {@code order[from..to)} of {@code block} into this workspace's input, target and
     * weight buffers (the batch's rows in that order) and makes them the current batch.
     */
    public Workspace gather(DataBlock block, int[] order, int from, int to) {
        int n = to - from;
        checkBatch(block, n);
        int in = block.numFeatures();
        int out = block.numTargets();
        double[] features = block.features();
        double[] targets = block.targets();
        double[] weights = block.weights();
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            System.arraycopy(features, r * in, x, i * in, in);
            System.arraycopy(targets, r * out, y, i * out, out);
            if (weights != null) {
                w[i] = weights[r];
            }
        }
        rows = n;
        weighted = weights != null;
        return this;
    }

    /** Makes rows {@code [from, to)} of {@code block}, in stored order, the current batch. */
    public Workspace load(DataBlock block, int from, int to) {
        int n = to - from;
        checkBatch(block, n);
        int in = block.numFeatures();
        int out = block.numTargets();
        System.arraycopy(block.features(), from * in, x, 0, n * in);
        System.arraycopy(block.targets(), from * out, y, 0, n * out);
        if (block.weighted()) {
            System.arraycopy(block.weights(), from, w, 0, n);
        }
        rows = n;
        weighted = block.weighted();
        return this;
    }

    private void checkBatch(DataBlock block, int n) {
        if (block.numFeatures() != spec.inputSize() || block.numTargets() != spec.outputSize()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.inputSize() + " features and "
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
     * layer's output, a delta and a product's result, and one layer's weight gradient.
     */
    static final class Floats {
        final float[] weights;
        final float[] x;
        final float[][] h;
        final float[] delta;
        final float[] product;
        final float[] gradW;

        Floats(NetworkSpec spec, int capacity) {
            int widest = capacity * spec.maxWidth();
            weights = new float[spec.paramCount()];
            x = new float[capacity * spec.inputSize()];
            h = new float[spec.numLayers()][];
            int largestLayer = 0;
            for (int k = 0; k < spec.numLayers(); k++) {
                h[k] = new float[capacity * spec.layer(k).numOut()];
                largestLayer = Math.max(largestLayer, spec.layer(k).numIn() * spec.layer(k).numOut());
            }
            delta = new float[widest];
            product = new float[widest];
            gradW = new float[largestLayer];
        }
    }

    /** The network's output {@code (rows, outputSize)} after {@link Network#forward}; read only. */
    public double[] output() {
        return h[h.length - 1];
    }
}
