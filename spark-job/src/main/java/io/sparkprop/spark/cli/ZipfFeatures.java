package io.sparkprop.spark.cli;

import io.sparkprop.core.SplitMix64;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.commons.math3.distribution.ZipfDistribution;
import org.apache.commons.math3.random.AbstractRandomGenerator;

/**
 * The sparse, click-through-like half of {@link SyntheticRows}' recipe: which features a row has
 * (N distinct of D, by Zipf-distributed popularity, each with value 1, as hashed one-hot
 * categorical features are) and the teacher that labels such rows without storing a D × H matrix.
 *
 * <h2>Features</h2>
 * A row draws popularity ranks {@code r ∈ [1, D]} with {@code P(r) ∝ r^-s} (Zipf's law, exponent
 * s = {@code --zipf-exponent}; click logs and word counts have s near 1) until it has N distinct
 * ones; a rank drawn twice is drawn again. Each draw is Commons Math's
 * {@link ZipfDistribution#sample()}, Hörmann and Derflinger's rejection-inversion ("Rejection-
 * inversion to generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996),
 * fed by the partition's {@link SplitMix64} stream and computed with {@code FastMath}, so the
 * same on every JVM. Rank r is feature {@code (a (r - 1) + b) mod D}, a bijection ({@code a}
 * coprime to D, both from the seed): popular features are spread over the index range as a hash
 * spreads them, not packed at its start. Indices are written in increasing order.
 *
 * <h2>Teacher</h2>
 * A D-H-W network with a tanh hidden layer, zero biases and weights computed from their position
 * instead of stored (D × H is 2^24 × 32 for wide data):
 * <ul>
 *   <li>first layer {@code W[j][h] = √(3/N) (2 u - 1)}, u = {@code SplitMix64.doubleAt(s1, j H + h)}:
 *       uniform with variance 1/N, so a row's N ones give pre-activations of variance 1;</li>
 *   <li>output layer {@code V[c][h] = √(6/(H + W)) (2 u - 1)}, u = {@code doubleAt(s2, c H + h)}
 *       (Xavier's uniform limit);</li>
 *   <li>{@code z_c = Σ_h V[c][h] tanh(Σ_{j in the row, ascending} W[j][h])} with
 *       {@link StrictMath#tanh}, summed in that order: bit-identical on every JVM.</li>
 * </ul>
 * where s1 and s2 extend {@link SyntheticRows#teacherSeed} with keys 1 and 2.
 */
final class ZipfFeatures implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Draws allowed per wanted nonzero before a row gives up (with a constant for tiny N). */
    static final int DRAWS_PER_NONZERO = 64;
    static final int EXTRA_DRAWS = 1000;

    private final int features;
    private final int nonzeros;
    private final double exponent;
    private final int hidden;
    private final int width;
    private final long multiplier;
    private final long offset;
    private final long firstLayerSeed;
    private final double firstLayerLimit;
    /** V (width, hidden), row-major. */
    private final double[] output;

    /**
     * @param features D, at least {@code nonzeros}
     * @param nonzeros N, distinct features per row, at least 1
     * @param exponent s, Zipf's exponent, finite and > 0
     * @param hidden H, the teacher's hidden width
     * @param width W, the teacher's outputs (classes or regression outputs)
     * @param teacherSeed {@link SyntheticRows#teacherSeed} of the generation seed
     */
    ZipfFeatures(int features, int nonzeros, double exponent, int hidden, int width, long teacherSeed) {
        if (nonzeros < 1 || nonzeros > features) {
            throw new IllegalArgumentException("Nonzeros per row must be in [1, " + features + "] (the features) but got "
                    + nonzeros);
        }
        if (!(exponent > 0 && exponent < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("The Zipf exponent must be finite and > 0 but got " + exponent);
        }
        this.features = features;
        this.nonzeros = nonzeros;
        this.exponent = exponent;
        this.hidden = hidden;
        this.width = width;
        SplitMix64 layout = new SplitMix64(SplitMix64.extend(teacherSeed, 0));
        long a = 1 + Long.remainderUnsigned(layout.nextLong(), features);
        while (gcd(a, features) != 1) {
            a++;
        }
        this.multiplier = a % features;
        this.offset = Long.remainderUnsigned(layout.nextLong(), features);
        this.firstLayerSeed = SplitMix64.extend(teacherSeed, 1);
        this.firstLayerLimit = Math.sqrt(3.0 / nonzeros);
        long outputSeed = SplitMix64.extend(teacherSeed, 2);
        double limit = Math.sqrt(6.0 / (hidden + width));
        this.output = new double[width * hidden];
        for (int i = 0; i < output.length; i++) {
            output[i] = limit * (2 * SplitMix64.doubleAt(outputSeed, i) - 1);
        }
    }

    /** The feature index (0-based) of popularity rank {@code rank} (1 = most popular). */
    int featureOf(int rank) {
        return (int) ((multiplier * (rank - 1L) + offset) % features);
    }

    /** A sampler of ranks drawing from {@code random}; one per partition stream. */
    ZipfDistribution sampler(SplitMix64 random) {
        return new ZipfDistribution(new Uniforms(random), features, exponent);
    }

    /**
     * One row's N distinct feature indices, increasing.
     *
     * @throws IllegalStateException when N distinct ranks did not come up in
     *     {@code DRAWS_PER_NONZERO N + EXTRA_DRAWS} draws (N close to D with a steep exponent)
     */
    int[] draw(ZipfDistribution sampler) {
        int[] ranks = new int[nonzeros];
        int have = 0;
        long limit = (long) DRAWS_PER_NONZERO * nonzeros + EXTRA_DRAWS;
        for (long tries = 0; have < nonzeros; tries++) {
            if (tries == limit) {
                throw new IllegalStateException("Drew " + limit + " Zipf ranks (D = " + features + ", s = " + exponent
                        + ") and found only " + have + " distinct of the " + nonzeros + " a row needs; use fewer"
                        + " --nonzeros or a smaller --zipf-exponent");
            }
            int rank = sampler.sample();
            boolean seen = false;
            for (int i = 0; i < have && !seen; i++) {
                seen = ranks[i] == rank;
            }
            if (!seen) {
                ranks[have++] = rank;
            }
        }
        int[] indices = new int[nonzeros];
        for (int i = 0; i < nonzeros; i++) {
            indices[i] = featureOf(ranks[i]);
        }
        Arrays.sort(indices);
        return indices;
    }

    /**
     * The teacher's outputs for a row of ones at {@code indices} (increasing), into {@code z}
     * (length W); {@code activation} (length H) is scratch.
     */
    void teacher(int[] indices, double[] activation, double[] z) {
        Arrays.fill(activation, 0.0);
        for (int j : indices) {
            long base = (long) j * hidden;
            for (int h = 0; h < hidden; h++) {
                activation[h] += firstLayerLimit * (2 * SplitMix64.doubleAt(firstLayerSeed, base + h) - 1);
            }
        }
        for (int h = 0; h < hidden; h++) {
            activation[h] = StrictMath.tanh(activation[h]);
        }
        for (int c = 0; c < width; c++) {
            double sum = 0;
            for (int h = 0; h < hidden; h++) {
                sum += output[c * hidden + h] * activation[h];
            }
            z[c] = sum;
        }
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** Commons Math's generator interface over a {@link SplitMix64} stream (only doubles are drawn). */
    private static final class Uniforms extends AbstractRandomGenerator {
        private final SplitMix64 random;

        Uniforms(SplitMix64 random) {
            this.random = random;
        }

        @Override
        public void setSeed(long seed) {
            throw new UnsupportedOperationException("The stream is the partition's; it is not reseeded");
        }

        @Override
        public double nextDouble() {
            return random.nextDouble();
        }
    }
}
