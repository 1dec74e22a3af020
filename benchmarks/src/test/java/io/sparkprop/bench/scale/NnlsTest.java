package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class NnlsTest {

    @Test
    void anExactNonNegativeSolutionIsRecovered() {
        double[][] a = {{1, 1}, {1, 2}, {1, 3}, {1, 4}};
        double[] y = {2.5, 3.0, 3.5, 4.0}; // 2 + 0.5 x
        assertArrayEquals(new double[] {2, 0.5}, Nnls.solve(a, y), 1e-12);
    }

    @Test
    void aCoefficientThatLeastSquaresMakesNegativeIsHeldAtZero() {
        // Unconstrained: AᵀA = [[2, 1], [1, 2]], Aᵀy = [3, 0], so x = [2, -1]. With x2 held at 0,
        // x1 minimizes (x1 - 2)^2 + (x1 - 1)^2: x1 = 1.5. KKT: a2ᵀ(y - A x) = -1 - 0.5 < 0.
        double[][] a = {{1, 0}, {0, 1}, {1, 1}};
        double[] y = {2, -1, 1};
        assertArrayEquals(new double[] {1.5, 0}, Nnls.solve(a, y), 1e-12);
    }

    @Test
    void columnsOfVeryDifferentScalesAreSolvedAlike() {
        double[][] a = {{1, 1e9}, {2, 3e9}, {3, 1e9}, {4, 5e9}};
        double[] y = new double[4];
        for (int i = 0; i < 4; i++) {
            y[i] = 7 * a[i][0] + 2e-9 * a[i][1];
        }
        double[] x = Nnls.solve(a, y);
        assertArrayEquals(new double[] {7, 2e-9}, x, 1e-9 * 7);
        assertArrayEquals(new double[] {2}, new double[] {x[1] * 1e9}, 1e-9);
    }

    @Test
    void aColumnOfZerosGetsZero() {
        double[][] a = {{1, 0}, {2, 0}, {3, 0}};
        assertArrayEquals(new double[] {2, 0}, Nnls.solve(a, new double[] {2, 4, 6}), 1e-12);
    }
}
