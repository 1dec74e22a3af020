package io.sparkprop.spark.cli;

import io.sparkprop.core.Activation;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.Workspace;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.commons.math3.distribution.ZipfDistribution;

/**
 * The recipe of a synthetic dataset, and the executor-side generator of one partition's rows: the
 * {@code generate} command ships this small object (a few sizes and a seed, never an array) to
 * every task, and each task computes its own rows from it. It is not a dataset and holds no rows;
 * it knows nothing of file formats (see {@link GenerateCommand}).
 *
 * <h2>The recipe</h2>
 * <ul>
 *   <li>Rows: N rows over P partitions; partition {@code p} holds rows
 *       {@code [⌊p·N/P⌋, ⌊(p+1)·N/P⌋)}, so sizes differ by at most one.</li>
 *   <li>Random numbers: partition {@code p} draws from its own stream
 *       {@code SplitMix64(derive(seed, STREAM_SAMPLE, p))}, row by row: the row's D features,
 *       then its W noise values (W = classes or outputs). Noise is drawn even when sigma is 0, so
 *       the features do not depend on the noise level.</li>
 *   <li>Features: uniform in {@code [-1, 1)}: {@code 2u - 1} with {@code u} SplitMix64's 53-bit
 *       double.</li>
 *   <li>Noise: standard normal by Box-Muller, {@code √(-2 ln(1 - u1)) cos(2π u2)} with
 *       {@link StrictMath} (the sine partner is not used), times sigma.</li>
 *   <li>Teacher: a D-H-W network, tanh hidden layer, identity output, with
 *       {@link WeightInit#initialize} weights (Xavier, zero biases) for the seed
 *       {@code derive(seed, STREAM_SAMPLE, -1)}: a key no partition uses, and not the generation
 *       seed itself, so a student trained with {@code train.seed} equal to the generation seed
 *       does not start at the teacher's weights.</li>
 *   <li>Targets: {@code z = teacher(x) + sigma·ε}; classification labels the row with
 *       {@code argmax z} (the lowest index on a tie), regression keeps all W values of {@code z}.</li>
 * </ul>
 * Features and noise are bit-identical on every JVM; the teacher's outputs go through the core's
 * BLAS {@code dgemm} and {@link Math#tanh}, so they are bit-identical for a given JVM and BLAS
 * implementation. The same seed, rows, partitions and sizes give the same rows in the same order.
 *
 * <h2>Sparse rows</h2>
 * With {@code nonzeros} N > 0 the features are click-through-like instead: N distinct of the D
 * features with value 1, by Zipf-distributed popularity, and the teacher's first layer is computed
 * from the weights' positions ({@link ZipfFeatures} has that half of the recipe). Row by row, a
 * partition's stream then gives the row's ranks (as many uniforms as the sampler takes), then its
 * W noise values; targets are made from {@code z} as above. Everything is bit-identical on every JVM.
 *
 * <p>Rows are generated {@value #CHUNK} at a time, one teacher forward pass per chunk, and handed
 * out one by one: a partition is never materialized whole. The stream order (features then noise,
 * row by row) does not depend on the chunk size.
 */
final class SyntheticRows implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Rows per teacher forward pass. */
    static final int CHUNK = 256;

    /** The {@code STREAM_SAMPLE} key of the teacher's seed; partitions use keys {@code 0..P-1}. */
    static final long TEACHER_KEY = -1;

    /**
     * One generated row: its features and either a class index or regression targets.
     *
     * @param features the D feature values (dense), or the values at {@code indices} (sparse)
     * @param indices null for a dense row; else the nonzeros' feature indices, 0-based, increasing
     */
    record Sample(double[] features, int[] indices, int classIndex, double[] targets) {
    }

    private final long rows;
    private final int partitions;
    private final int features;
    private final int hidden;
    private final int width;
    private final boolean classification;
    private final double noise;
    private final long seed;
    /** The sparse recipe, or null for dense uniform rows. */
    private final ZipfFeatures sparse;

    /** Dense rows: uniform features, a stored teacher. */
    SyntheticRows(long rows, int partitions, int features, int hidden, int width, boolean classification,
                  double noise, long seed) {
        this(rows, partitions, features, hidden, width, classification, noise, seed, 0, 0);
    }

    /**
     * @param width classes (classification) or outputs (regression): the teacher's output width
     * @param nonzeros 0 for dense rows; else N, the distinct features of a sparse row
     * @param zipfExponent s of the features' popularity (sparse rows only)
     */
    SyntheticRows(long rows, int partitions, int features, int hidden, int width, boolean classification,
                  double noise, long seed, int nonzeros, double zipfExponent) {
        if (rows <= 0 || partitions <= 0 || features <= 0 || hidden <= 0 || width <= 0) {
            throw new IllegalArgumentException("Rows, partitions, features, hidden units and outputs must be positive"
                    + " but got " + rows + ", " + partitions + ", " + features + ", " + hidden + ", " + width);
        }
        if (!(noise >= 0.0 && noise < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("Noise must be finite and >= 0 but got " + noise);
        }
        this.rows = rows;
        this.partitions = partitions;
        this.features = features;
        this.hidden = hidden;
        this.width = width;
        this.classification = classification;
        this.noise = noise;
        this.seed = seed;
        this.sparse = nonzeros == 0 ? null
                : new ZipfFeatures(features, nonzeros, zipfExponent, hidden, width, teacherSeed(seed));
    }

    /** The teacher's topology: D-H-W, tanh hidden, identity output (the loss is never used). */
    static NetworkSpec teacherSpec(int features, int hidden, int width) {
        return NetworkSpec.of(new int[] {features, hidden, width}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
    }

    /** The seed the teacher's weights are initialized with. */
    static long teacherSeed(long seed) {
        return SplitMix64.derive(seed, SplitMix64.STREAM_SAMPLE, TEACHER_KEY);
    }

    /** The first row of partition {@code p}, {@code ⌊p·N/P⌋}, without overflow for any N. */
    long firstRow(int p) {
        long q = rows / partitions;
        long r = rows % partitions;
        return p * q + p * r / partitions;
    }

    /** The rows of partition {@code p}, generated lazily, a chunk at a time. */
    Iterator<Sample> partition(int p) {
        if (p < 0 || p >= partitions) {
            throw new IllegalArgumentException("Partition must be in [0, " + partitions + ") but got " + p);
        }
        long count = (p + 1 == partitions ? rows : firstRow(p + 1)) - firstRow(p);
        return new PartitionIterator(new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_SAMPLE, p)), count);
    }

    /** A standard normal draw: Box-Muller's cosine branch, two uniforms per value. */
    static double gaussian(SplitMix64 random) {
        double u1 = 1.0 - random.nextDouble(); // (0, 1]: the logarithm stays finite
        double u2 = random.nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
    }

    /** Generates one partition's rows; holds one chunk at a time. */
    private final class PartitionIterator implements Iterator<Sample> {
        private final SplitMix64 random;
        /** The dense teacher, its weights and workspace; null for sparse rows. */
        private final Network teacher;
        private final double[] params;
        private final Workspace workspace;
        /** The sparse rows' rank sampler over {@link #random}; null for dense rows. */
        private final ZipfDistribution ranks;
        private final Sample[] chunk = new Sample[CHUNK];
        private long remaining;
        private int size;
        private int next;

        PartitionIterator(SplitMix64 random, long count) {
            this.random = random;
            this.remaining = count;
            if (sparse != null) {
                this.teacher = null;
                this.params = null;
                this.workspace = null;
                this.ranks = sparse.sampler(random);
                return;
            }
            NetworkSpec spec = teacherSpec(features, hidden, width);
            this.teacher = new Network(spec);
            this.params = WeightInit.initialize(spec, teacherSeed(seed));
            this.workspace = new Workspace(spec, CHUNK);
            this.ranks = null;
        }

        @Override
        public boolean hasNext() {
            return next < size || remaining > 0;
        }

        @Override
        public Sample next() {
            if (next == size) {
                if (remaining == 0) {
                    throw new NoSuchElementException("The partition's rows are exhausted");
                }
                fill();
            }
            Sample sample = chunk[next];
            chunk[next++] = null;
            return sample;
        }

        private void fill() {
            if (sparse != null) {
                fillSparse();
                return;
            }
            int n = (int) Math.min(CHUNK, remaining);
            // x (n, features), eps (n, width): drawn row by row, features first.
            double[] x = new double[n * features];
            double[] eps = new double[n * width];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < features; j++) {
                    x[r * features + j] = 2.0 * random.nextDouble() - 1.0;
                }
                for (int k = 0; k < width; k++) {
                    eps[r * width + k] = gaussian(random);
                }
            }
            workspace.load(new DataBlock(n, features, width, x, new double[n * width], null), 0, n);
            teacher.forward(params, workspace);
            double[] out = workspace.output(); // (n, width)
            for (int r = 0; r < n; r++) {
                double[] z = new double[width];
                for (int k = 0; k < width; k++) {
                    z[k] = out[r * width + k] + noise * eps[r * width + k];
                }
                double[] row = Arrays.copyOfRange(x, r * features, (r + 1) * features);
                chunk[r] = classification ? new Sample(row, null, argmax(z), null) : new Sample(row, null, -1, z);
            }
            size = n;
            next = 0;
            remaining -= n;
        }

        private void fillSparse() {
            int n = (int) Math.min(CHUNK, remaining);
            double[] activation = new double[hidden];
            for (int r = 0; r < n; r++) {
                int[] indices = sparse.draw(ranks);
                double[] z = new double[width];
                sparse.teacher(indices, activation, z);
                for (int k = 0; k < width; k++) {
                    z[k] += noise * gaussian(random);
                }
                double[] ones = new double[indices.length];
                Arrays.fill(ones, 1.0);
                chunk[r] = classification ? new Sample(ones, indices, argmax(z), null) : new Sample(ones, indices, -1, z);
            }
            size = n;
            next = 0;
            remaining -= n;
        }
    }

    private static int argmax(double[] z) {
        int best = 0;
        for (int k = 1; k < z.length; k++) {
            if (z[k] > z[best]) {
                best = k;
            }
        }
        return best;
    }
}
