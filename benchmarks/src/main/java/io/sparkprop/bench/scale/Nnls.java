package io.sparkprop.bench.scale;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealVector;

/**
 * Non-negative least squares: the x >= 0 that minimizes |A x - y|, by Lawson and Hanson's
 * active-set method ("Solving Least Squares Problems", 1974, chapter 23, algorithm NNLS). Each
 * unconstrained subproblem is solved by Commons Math's {@link QRDecomposition}; this class is only the
 * active-set loop around it. Commons Math 3 has no NNLS, and Spark's ({@code mllib.optimization.NNLS})
 * is {@code private[spark]}.
 *
 * <p>Columns are scaled to unit norm first, so features in units far apart (tasks, megabytes,
 * row-parameters) are treated alike; the answer is scaled back.
 */
final class Nnls {

    private Nnls() {
    }

    /**
     * The non-negative least-squares solution for {@code a} (n rows, p columns, n >= p) and {@code y}.
     * A column of zeros gets the coefficient 0.
     */
    static double[] solve(double[][] a, double[] y) {
        int n = a.length;
        if (n == 0 || y.length != n) {
            throw new IllegalArgumentException("NNLS needs as many targets as rows, at least one, but got " + n
                    + " rows and " + y.length + " targets");
        }
        int p = a[0].length;
        double[] norm = new double[p];
        for (double[] row : a) {
            if (row.length != p) {
                throw new IllegalArgumentException("NNLS rows must all have " + p + " columns but one has " + row.length);
            }
            for (int j = 0; j < p; j++) {
                norm[j] += row[j] * row[j];
            }
        }
        double[][] scaled = new double[n][p];
        for (int j = 0; j < p; j++) {
            norm[j] = Math.sqrt(norm[j]);
            for (int i = 0; i < n; i++) {
                scaled[i][j] = norm[j] > 0 ? a[i][j] / norm[j] : 0;
            }
        }
        double[] x = activeSet(scaled, y, norm);
        for (int j = 0; j < p; j++) {
            x[j] = norm[j] > 0 ? x[j] / norm[j] : 0;
        }
        return x;
    }

    private static double[] activeSet(double[][] a, double[] y, double[] norm) {
        int p = a[0].length;
        boolean[] passive = new boolean[p];
        double[] x = new double[p];
        double tolerance = 1e-12 * Math.max(1, new ArrayRealVector(y).getNorm());
        for (int outer = 0; outer < 3 * p + 3; outer++) {
            double[] w = gradient(a, y, x);
            int t = -1;
            for (int j = 0; j < p; j++) {
                if (!passive[j] && norm[j] > 0 && w[j] > tolerance && (t < 0 || w[j] > w[t])) {
                    t = j;
                }
            }
            if (t < 0) {
                return x;
            }
            passive[t] = true;
            for (int inner = 0; inner <= p; inner++) {
                double[] s = solvePassive(a, y, passive);
                double alpha = 1;
                boolean feasible = true;
                for (int j = 0; j < p; j++) {
                    if (passive[j] && s[j] <= 0) {
                        feasible = false;
                        alpha = Math.min(alpha, x[j] / (x[j] - s[j]));
                    }
                }
                if (feasible) {
                    x = s;
                    break;
                }
                for (int j = 0; j < p; j++) {
                    x[j] += alpha * (s[j] - x[j]);
                    if (passive[j] && x[j] <= 1e-15) {
                        passive[j] = false;
                        x[j] = 0;
                    }
                }
            }
        }
        throw new IllegalStateException("NNLS did not converge in " + (3 * p + 3) + " outer iterations");
    }

    /** Aᵀ (y - A x): the negative gradient of half the squared residual. */
    private static double[] gradient(double[][] a, double[] y, double[] x) {
        int p = x.length;
        double[] w = new double[p];
        for (int i = 0; i < a.length; i++) {
            double r = y[i];
            for (int j = 0; j < p; j++) {
                r -= a[i][j] * x[j];
            }
            for (int j = 0; j < p; j++) {
                w[j] += a[i][j] * r;
            }
        }
        return w;
    }

    /** The unconstrained least-squares solution on the passive columns, 0 elsewhere. */
    private static double[] solvePassive(double[][] a, double[] y, boolean[] passive) {
        int k = 0;
        int[] columns = new int[passive.length];
        for (int j = 0; j < passive.length; j++) {
            if (passive[j]) {
                columns[k++] = j;
            }
        }
        double[][] sub = new double[a.length][k];
        for (int i = 0; i < a.length; i++) {
            for (int c = 0; c < k; c++) {
                sub[i][c] = a[i][columns[c]];
            }
        }
        RealVector solution = new QRDecomposition(new Array2DRowRealMatrix(sub, false), 1e-12).getSolver()
                .solve(new ArrayRealVector(y, false));
        double[] s = new double[passive.length];
        for (int c = 0; c < k; c++) {
            s[columns[c]] = solution.getEntry(c);
        }
        return s;
    }
}
