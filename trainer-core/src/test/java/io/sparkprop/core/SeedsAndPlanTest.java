package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Seeded streams, initial weights and the batch plan. */
class SeedsAndPlanTest {

    @Test
    void splitMix64MatchesTheJdksSplittableRandom() {
        // java.util.SplittableRandom(seed).nextLong() is SplitMix64 with the golden gamma: an
        // independent implementation of the same generator.
        for (long seed : new long[] {0, 1, -7, 42, Long.MAX_VALUE}) {
            SplitMix64 ours = new SplitMix64(seed);
            SplittableRandom jdk = new SplittableRandom(seed);
            for (int i = 0; i < 100; i++) {
                assertEquals(jdk.nextLong(), ours.nextLong());
            }
        }
    }

    @Test
    void extendAddsOneKeyAndDoubleAtJumpsAlongTheStream() {
        long seed = -12345;
        assertEquals(SplitMix64.derive(seed, 4, 7, -1), SplitMix64.extend(SplitMix64.derive(seed, 4, 7), -1));
        assertEquals(SplitMix64.derive(seed, 9), SplitMix64.extend(SplitMix64.derive(seed), 9));
        for (long start : new long[] {0, seed, Long.MIN_VALUE}) {
            SplitMix64 walk = new SplitMix64(start);
            for (int i = 0; i < 50; i++) {
                assertEquals(walk.nextDouble(), SplitMix64.doubleAt(start, i), "draw " + i);
            }
        }
    }

    @Test
    void boundedIntsAreInRangeAndRoughlyUniform() {
        SplitMix64 random = new SplitMix64(3);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[random.nextInt(7)]++;
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000) < 500, Arrays.toString(counts));
        }
    }

    @Test
    void theSameSeedGivesBitIdenticalInitialWeightsAndAnotherSeedDoesNot() {
        NetworkSpec spec = NetworkSpec.of(new int[] {784, 256, 128, 10}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] a = WeightInit.initialize(spec, 2024);
        double[] b = WeightInit.initialize(spec, 2024);
        double[] c = WeightInit.initialize(spec, 2025);
        assertEquals(spec.paramCount(), a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]));
        }
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void heAndXavierUseTheirLimitsAndBiasesStartAtZero() {
        NetworkSpec spec = NetworkSpec.of(new int[] {600, 300, 10}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] p = WeightInit.initialize(spec, 1);
        double heLimit = Math.sqrt(6.0 / 600);
        double xavierLimit = Math.sqrt(6.0 / (300 + 10));
        double maxAbs = 0;
        double sumSquares = 0;
        for (int i = spec.weightOffset(0); i < spec.biasOffset(0); i++) {
            maxAbs = Math.max(maxAbs, Math.abs(p[i]));
            sumSquares += p[i] * p[i];
        }
        assertTrue(maxAbs <= heLimit && maxAbs > 0.99 * heLimit, "max " + maxAbs + " vs limit " + heLimit);
        // He: variance 2 / numIn.
        assertEquals(2.0 / 600, sumSquares / spec.layer(0).weightCount(), 0.02 * 2.0 / 600);
        for (int i = spec.weightOffset(1); i < spec.biasOffset(1); i++) {
            assertTrue(Math.abs(p[i]) <= xavierLimit);
        }
        for (int k = 0; k < 2; k++) {
            for (int j = 0; j < spec.layer(k).numOut(); j++) {
                assertEquals(0.0, p[spec.biasOffset(k) + j]);
            }
        }
    }

    @Test
    void everyRowIsUsedExactlyOncePerEpochInSlicesThatDifferByAtMostOne() {
        int rows = 1003;
        int steps = EpochPlan.stepsPerEpoch(rows, 128);
        assertEquals(8, steps);
        int[] order = EpochPlan.permutation(7, 3, 1, rows);
        boolean[] seen = new boolean[rows];
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int s = 0; s < steps; s++) {
            int from = EpochPlan.sliceStart(s, rows, steps);
            int to = EpochPlan.sliceStart(s + 1, rows, steps);
            min = Math.min(min, to - from);
            max = Math.max(max, to - from);
            for (int i = from; i < to; i++) {
                assertFalse(seen[order[i]]);
                seen[order[i]] = true;
            }
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
        assertTrue(max - min <= 1, min + ".." + max);
        assertEquals(EpochPlan.maxSlice(rows, steps), max);
    }

    @Test
    void permutationsDependOnSeedEpochAndPartitionOnly() {
        assertArrayEquals(EpochPlan.permutation(1, 2, 3, 50), EpochPlan.permutation(1, 2, 3, 50));
        assertFalse(Arrays.equals(EpochPlan.permutation(1, 2, 3, 50), EpochPlan.permutation(1, 3, 3, 50)));
        assertFalse(Arrays.equals(EpochPlan.permutation(1, 2, 3, 50), EpochPlan.permutation(1, 2, 4, 50)));
        assertFalse(Arrays.equals(EpochPlan.permutation(1, 2, 3, 50), EpochPlan.permutation(2, 2, 3, 50)));
    }
}
