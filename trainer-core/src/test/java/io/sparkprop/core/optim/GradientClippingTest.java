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
}
