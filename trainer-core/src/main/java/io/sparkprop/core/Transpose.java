package io.sparkprop.core;

import java.util.BitSet;

/**
 * In-place transposition of a row-major matrix inside a flat array, for {@link
 * NetworkSpec#relayoutInPlace}: a wide first layer's weights and optimizer slots (gigabytes at
 * 2^20 features) change layout without a second copy.
 *
 * <p>An {@code (m, n)} grid of chunks of {@code len} values each, row-major, becomes the
 * {@code (n, m)} grid by following the permutation's cycles (chunk {@code p = a·n + b} goes to
 * {@code b·m + a}, that is {@code p·m mod (mn − 1)}; the first and last stay), with one bit per
 * chunk for the chunks already placed and one chunk of scratch (Cate and Twigg 1977's
 * cycle-following; Knuth, TAOCP vol. 1, §1.3.3, exercise 12). A matrix whose one side divides the
 * other ({@code (q·c, c)}, a wide first layer's {@code (numIn, numOut)} when {@code numOut} divides
 * {@code numIn}, and its transpose) is done in two cache-friendly passes: the {@code (c, c)} blocks
 * transposed in place, and a cycle-following over whole rows of a block ({@code c} values, 512
 * bytes at 64 outputs). Any other shape follows cycles of single values: correct, with one random
 * access per value.
 */
final class Transpose {

    private Transpose() {
    }

    /**
     * Transposes the {@code (rows, cols)} row-major matrix at {@code values[offset ..]} into the
     * {@code (cols, rows)} row-major matrix at the same place. Exact (a permutation).
     */
    static void inPlace(double[] values, int offset, int rows, int cols) {
        if (rows <= 1 || cols <= 1) {
            return; // a row or a column: the same values in the same order
        }
        if (rows % cols == 0) {
            // (q·c, c) -> (c, q·c): block j (rows j·c ..) to its transpose, then its row o, the
            // chunk (j, o) of a (q, c) grid of c-value chunks, to (o, j).
            int c = cols;
            int q = rows / cols;
            for (int j = 0; j < q; j++) {
                square(values, offset + j * c * c, c);
            }
            chunks(values, offset, q, c, c);
        } else if (cols % rows == 0) {
            // (r, q·r) -> (q·r, r): the inverse of the case above, in reverse order.
            int r = rows;
            int q = cols / rows;
            chunks(values, offset, r, q, r);
            for (int j = 0; j < q; j++) {
                square(values, offset + j * r * r, r);
            }
        } else {
            chunks(values, offset, rows, cols, 1);
        }
    }

    /** Transposes the {@code (n, n)} block at {@code values[at ..]}. */
    private static void square(double[] values, int at, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                int a = at + i * n + j;
                int b = at + j * n + i;
                double t = values[a];
                values[a] = values[b];
                values[b] = t;
            }
        }
    }

    /** The {@code (m, n)} grid of {@code len}-value chunks at {@code values[offset ..]} to its {@code (n, m)} transpose. */
    private static void chunks(double[] values, int offset, int m, int n, int len) {
        if (m == 1 || n == 1) {
            return; // one row or one column of chunks: the same order
        }
        long count = (long) m * n;
        long last = count - 1;
        BitSet placed = new BitSet((int) count);
        double[] carry = new double[len];
        double[] swap = new double[len];
        for (int start = 1; start < last; start++) {
            if (placed.get(start)) {
                continue;
            }
            // Carry the chunk at start to where it belongs, pick up the one there, and so on round the cycle.
            System.arraycopy(values, offset + start * len, carry, 0, len);
            long p = start;
            do {
                int d = (int) (p * m % last);
                int at = offset + d * len;
                System.arraycopy(values, at, swap, 0, len);
                System.arraycopy(carry, 0, values, at, len);
                double[] t = carry;
                carry = swap;
                swap = t;
                placed.set(d);
                p = d;
            } while (p != start);
        }
    }
}
