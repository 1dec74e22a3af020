package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The ReLU family's branch-free kernels ({@link Activation#positiveMask}) against the textbook
 * comparisons written out here, {@code a > 0 ? a : 0.0} and {@code a > 0 ? g : 0.0} (and the
 * leaky slope's), bit for bit: signed zeros, infinities, NaNs of either sign and any payload,
 * subnormals, and random bit patterns.
 */
class ActivationTest {

    private static final long PLUS_INF = Double.doubleToRawLongBits(Double.POSITIVE_INFINITY);

    /** Doubles at and around every boundary of {@code > 0.0}, then random bit patterns and Gaussians. */
    private static double[] inputs(int random) {
        long[] edges = {0L, 1L, 2L, Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE, -1L, PLUS_INF - 1, PLUS_INF,
                PLUS_INF + 1, 0x7ff8000000000000L, 0xfff0000000000000L, 0xfff0000000000001L, 0xfff8000000000000L,
                Double.doubleToRawLongBits(Double.MIN_NORMAL), Double.doubleToRawLongBits(-Double.MIN_NORMAL),
                Double.doubleToRawLongBits(1.0), Double.doubleToRawLongBits(-1.0)};
        Random rng = new Random(20261130L);
        double[] x = new double[edges.length + 2 * random];
        for (int i = 0; i < edges.length; i++) {
            x[i] = Double.longBitsToDouble(edges[i]);
        }
        for (int i = 0; i < random; i++) {
            x[edges.length + 2 * i] = Double.longBitsToDouble(rng.nextLong());
            x[edges.length + 2 * i + 1] = rng.nextGaussian();
        }
        return x;
    }

    @Test
    void positiveMaskIsTheComparisonForEveryDouble() {
        for (double v : inputs(1_000_000)) {
            long bits = Double.doubleToRawLongBits(v);
            assertEquals(v > 0.0 ? -1L : 0L, Activation.positiveMask(bits), () -> "bits " + Long.toHexString(bits));
        }
    }

    @Test
    void reluKernelsGiveTheComparisonsBits() {
        double[] a = inputs(100_000);
        double[] g = inputs(100_000);
        // g: the same values shifted by one, so each a meets a different g (NaNs and zeros too).
        double[] shifted = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            shifted[i] = g[(i + 1) % g.length];
        }
        int n = a.length;
        double[] h = new double[n];
        double[] leaky = new double[n];
        double[] gRelu = shifted.clone();
        double[] gLeaky = shifted.clone();
        Activation.RELU.forward(a, h, 1, n);
        Activation.LEAKY_RELU.forward(a, leaky, 1, n);
        Activation.RELU.backward(a, h, gRelu, 1, n);
        Activation.LEAKY_RELU.backward(a, leaky, gLeaky, 1, n);
        double slope = Activation.LEAKY_SLOPE;
        for (int i = 0; i < n; i++) {
            double v = a[i];
            int at = i;
            assertBits(v > 0.0 ? v : 0.0, h[i], "ReLU forward", v);
            assertBits(v > 0.0 ? v : slope * v, leaky[i], "leaky ReLU forward", v);
            assertBits(v > 0.0 ? shifted[at] : 0.0, gRelu[i], "ReLU backward", v);
            assertBits(v > 0.0 ? shifted[at] : shifted[at] * slope, gLeaky[i], "leaky ReLU backward", v);
        }
    }

    private static void assertBits(double expected, double actual, String what, double a) {
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                () -> what + " at a = " + a + " (bits " + Long.toHexString(Double.doubleToRawLongBits(a)) + "): expected "
                        + expected + " but got " + actual);
    }
}
