package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradientClippingTest {

    @Test
    void clipsAThreeFourVectorToUnitLength() {
        double[] grad = {3.0, 4.0};
        assertEquals(5.0, GradientClipping.clipByGlobalNorm(grad, 1.0), 0.0);
        // scale = 1/5; 3 · 0.2 rounds to 0.6000000000000001 in double.
        assertArrayEquals(new double[] {0.6, 0.8}, grad, 1e-15);
        assertEquals(1.0, GradientClipping.globalNorm(grad), 1e-15);
    }

    @Test
    void leavesAGradientAtOrUnderTheLimitUntouched() {
        double[] grad = {0.3, -0.4};
        assertEquals(0.5, GradientClipping.clipByGlobalNorm(grad, 1.0), 1e-16);
        assertArrayEquals(new double[] {0.3, -0.4}, grad);
        double[] atLimit = {3.0, 4.0};
        assertEquals(5.0, GradientClipping.clipByGlobalNorm(atLimit, 5.0), 0.0);
        assertArrayEquals(new double[] {3.0, 4.0}, atLimit);
        assertEquals(0.0, GradientClipping.clipByGlobalNorm(new double[0], 1.0), 0.0);
    }

    @Test
    void leavesANonFiniteGradientUntouchedAndReportsIt() {
        double[] grad = {1.0, Double.NaN};
        assertTrue(Double.isNaN(GradientClipping.clipByGlobalNorm(grad, 1.0)));
        assertEquals(1.0, grad[0], 0.0);
    }

    @Test
    void maxNormMustBeFiniteAndPositive() {
        for (double bad : new double[] {0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GradientClipping.clipByGlobalNorm(new double[] {1.0}, bad));
            assertTrue(e.getMessage().contains("maxNorm must be finite and > 0 but got " + bad), e.getMessage());
        }
    }

    @Test
    void theFastNormTellsFiniteFromNonFiniteAndClipToNormEqualsClipByGlobalNorm() {
        // 3-4-12: a norm of 13 by hand, in any summation order; 7 elements leave a tail of 3.
        double[] grad = {3, 0, 4, 0, 0, 12, 0};
        assertEquals(13.0, GradientClipping.fastNorm(grad), 0.0);
        assertEquals(13.0, GradientClipping.stepNorm(grad, 0.0), 0.0);
        assertEquals(GradientClipping.globalNorm(grad), GradientClipping.stepNorm(grad, 5.0), 0.0);
        io.sparkprop.core.SplitMix64 random = new io.sparkprop.core.SplitMix64(9);
        double[] big = new double[1001];
        for (int i = 0; i < big.length; i++) {
            big[i] = random.nextDouble() - 0.5;
        }
        assertEquals(GradientClipping.globalNorm(big), GradientClipping.fastNorm(big),
                1e-14 * GradientClipping.globalNorm(big));
        double[] clipped = big.clone();
        GradientClipping.clipByGlobalNorm(clipped, 1.0);
        double[] again = big.clone();
        GradientClipping.clipToNorm(again, GradientClipping.globalNorm(big), 1.0);
        assertArrayEquals(clipped, again, "the same bits, one pass fewer");

        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            for (int at : new int[] {0, 5, 1000}) {
                double[] g = big.clone();
                g[at] = bad;
                assertTrue(!Double.isFinite(GradientClipping.fastNorm(g)), bad + " at " + at);
            }
        }
        assertEquals(Double.POSITIVE_INFINITY, GradientClipping.fastNorm(new double[] {1e200, 1e200}),
                "squares that overflow make the norm infinite, as globalNorm's do");
    }
}
