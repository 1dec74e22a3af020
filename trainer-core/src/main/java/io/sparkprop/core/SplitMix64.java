package io.sparkprop.core;

/**
 * A tiny, fully specified pseudo-random generator (Steele, Lea and Flood's SplitMix64, the
 * generator behind {@code java.util.SplittableRandom}), written out here so that initial weights
 * and shuffles are bit-identical on every JVM and every release, independent of the JDK's own
 * algorithms. Not thread-safe; not for cryptography.
 *
 * <p>Streams: {@link #derive} hashes a seed and any number of keys (a stream id, an epoch, a
 * partition) into an independent seed, so every (seed, epoch, partition) has its own stream that
 * can be recreated on any executor without coordination, and a retried task draws the same numbers.
 */
public final class SplitMix64 {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    /** Stream id for initial weights. */
    public static final long STREAM_INIT = 1;
    /** Stream id for the per-epoch, per-partition shuffles. */
    public static final long STREAM_SHUFFLE = 2;
    /** Stream id for sampling (validation splits, synthetic data). */
    public static final long STREAM_SAMPLE = 3;
    /** Stream id for dropout masks ({@link Dropout}). */
    public static final long STREAM_DROPOUT = 4;
    /** Stream id for the per-epoch, per-partition order of a partition's chunks ({@link WindowPlan}). */
    public static final long STREAM_CHUNK_ORDER = 5;
    /** Stream id for the shuffle of the rows within one window of chunks ({@link WindowPlan}). */
    public static final long STREAM_WINDOW = 6;
    /**
     * Stream of the chunk layout of {@code train.shuffle = window}: which of a partition's rows
     * form each chunk. Derived from seed 0, not the run's seed, so chunks depend on the data only.
     */
    public static final long STREAM_CHUNKS = 7;

    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** The next 64 random bits. */
    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** A double uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** An int uniform in {@code [0, bound)}, unbiased (rejection on the top of the 64-bit range). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive but got " + bound);
        }
        long rem = (Long.remainderUnsigned(-1L, bound) + 1) % bound; // 2^64 mod bound
        while (true) {
            long bits = nextLong();
            // Accept bits below 2^64 - rem, the largest multiple of bound: every residue equally likely.
            if (rem == 0 || Long.compareUnsigned(bits, -rem) < 0) {
                return (int) Long.remainderUnsigned(bits, bound);
            }
        }
    }

    /** An independent seed for the stream named by {@code keys} under {@code seed}. */
    public static long derive(long seed, long... keys) {
        long h = mix(seed + GOLDEN_GAMMA);
        for (long key : keys) {
            h = extend(h, key);
        }
        return h;
    }

    /** {@code derive(seed, key)} without a varargs array, for per-step callers. */
    public static long derive(long seed, long key) {
        return extend(mix(seed + GOLDEN_GAMMA), key);
    }

    /**
     * One more key on a derived seed, without an array: {@code extend(derive(seed, k1, ..., kn), key)}
     * is {@code derive(seed, k1, ..., kn, key)}.
     */
    public static long extend(long derived, long key) {
        return mix(derived ^ mix(key + GOLDEN_GAMMA) + GOLDEN_GAMMA);
    }

    /**
     * The double that the {@code (index + 1)}-th {@link #nextDouble()} of {@code new SplitMix64(seed)}
     * returns, without drawing the ones before it (the state is a counter: {@code seed + (index + 1) γ}).
     */
    public static double doubleAt(long seed, long index) {
        return bitsAt(seed, index) * 0x1.0p-53;
    }

    /**
     * The 53 bits behind {@link #doubleAt}: {@code doubleAt(seed, index) = bitsAt(seed, index) · 2^-53},
     * an integer in {@code [0, 2^53)}.
     */
    static long bitsAt(long seed, long index) {
        return mix(seed + (index + 1) * GOLDEN_GAMMA) >>> 11;
    }

    /** SplitMix64's output function (Stafford's Mix13 variant): a bijective 64-bit hash. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
