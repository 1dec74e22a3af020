package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import java.util.Iterator;
import org.apache.commons.math3.distribution.ZipfDistribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sparse recipe of {@code generate} against its documentation: ranks drawn with Zipf's
 * frequencies (a chi-square test against r^-s / H computed here), rank-to-feature a bijection,
 * rows of N distinct increasing indices, and the teacher's outputs recomputed here from the
 * documented formulas.
 */
class ZipfFeaturesTest {

    private static final long TEACHER_SEED = SyntheticRows.teacherSeed(42);

    @ParameterizedTest(name = "D = {0}")
    @ValueSource(ints = {1, 2, 7, 12, 1024, 1000, 65_537})
    void ranksMapToFeaturesOneToOne(int features) {
        ZipfFeatures zipf = new ZipfFeatures(features, 1, 1.0, 4, 2, TEACHER_SEED);
        boolean[] seen = new boolean[features];
        for (int rank = 1; rank <= features; rank++) {
            int j = zipf.featureOf(rank);
            assertTrue(j >= 0 && j < features, "feature " + j);
            assertTrue(!seen[j], "feature " + j + " twice");
            seen[j] = true;
        }
    }

    @Test
    void popularFeaturesAreSpreadOverTheIndexRange() {
        ZipfFeatures zipf = new ZipfFeatures(1 << 18, 40, 1.0, 4, 2, TEACHER_SEED);
        int low = 0;
        for (int rank = 1; rank <= 1000; rank++) {
            low += zipf.featureOf(rank) < (1 << 18) / 4 ? 1 : 0;
        }
        // A quarter of the range, so about 250 of the 1000 most popular; packed at the start would be 1000.
        assertTrue(low > 180 && low < 320, low + " of the top 1000 in the first quarter");
    }

    @Test
    void ranksFollowZipfsLaw() {
        // D = 50, s = 1.1, 100,000 draws: Pearson's chi-square over the 50 ranks, 49 degrees of
        // freedom; 85.4 is the 0.999 quantile, so a correct sampler fails this one time in 1000 (the
        // seed is fixed, so it is decided once).
        int d = 50;
        double s = 1.1;
        int draws = 100_000;
        ZipfFeatures zipf = new ZipfFeatures(d, 1, s, 4, 2, TEACHER_SEED);
        ZipfDistribution sampler = zipf.sampler(new SplitMix64(7));
        long[] counts = new long[d + 1];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample()]++;
        }
        double harmonic = 0;
        for (int r = 1; r <= d; r++) {
            harmonic += Math.pow(r, -s);
        }
        double chiSquare = 0;
        for (int r = 1; r <= d; r++) {
            double expected = draws * Math.pow(r, -s) / harmonic;
            chiSquare += (counts[r] - expected) * (counts[r] - expected) / expected;
        }
        assertTrue(chiSquare < 85.4, "chi-square " + chiSquare);
        // And not uniform: rank 1 is drawn about 2^1.1 = 2.14 times as often as rank 2.
        assertEquals(Math.pow(2, s), (double) counts[1] / counts[2], 0.1);
    }

    @Test
    void aRowHasNDistinctIncreasingIndicesAndTheSameStreamGivesTheSameRow() {
        ZipfFeatures zipf = new ZipfFeatures(1000, 40, 1.0, 4, 2, TEACHER_SEED);
        ZipfDistribution a = zipf.sampler(new SplitMix64(3));
        ZipfDistribution b = zipf.sampler(new SplitMix64(3));
        for (int row = 0; row < 200; row++) {
            int[] indices = zipf.draw(a);
            assertEquals(40, indices.length);
            for (int i = 0; i < indices.length; i++) {
                assertTrue(indices[i] >= 0 && indices[i] < 1000);
                assertTrue(i == 0 || indices[i] > indices[i - 1], "increasing and distinct");
            }
            assertArrayEquals(indices, zipf.draw(b));
        }
        // Every feature of a 40-of-40 row.
        ZipfFeatures all = new ZipfFeatures(40, 40, 0.5, 4, 2, TEACHER_SEED);
        int[] row = all.draw(all.sampler(new SplitMix64(1)));
        for (int j = 0; j < 40; j++) {
            assertEquals(j, row[j]);
        }
    }

    @Test
    void aRowThatCannotFindItsDistinctFeaturesSaysWhatToChange() {
        // 200 of 200 features with s = 4: rank 200 comes up once in about 200^4 / 1.08 draws.
        ZipfFeatures steep = new ZipfFeatures(200, 200, 4.0, 4, 2, TEACHER_SEED);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> steep.draw(steep.sampler(new SplitMix64(1))));
        assertTrue(e.getMessage().contains("fewer --nonzeros or a smaller --zipf-exponent"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ZipfFeatures(10, 11, 1.0, 4, 2, TEACHER_SEED));
        assertThrows(IllegalArgumentException.class, () -> new ZipfFeatures(10, 2, 0.0, 4, 2, TEACHER_SEED));
    }

    @Test
    void theTeacherIsTheDocumentedNetwork() {
        // H = 3, W = 2, N = 2: the row {1, 5}; weights from the docstring's formulas.
        int hidden = 3;
        int width = 2;
        ZipfFeatures zipf = new ZipfFeatures(8, 2, 1.0, hidden, width, TEACHER_SEED);
        long s1 = SplitMix64.extend(TEACHER_SEED, 1);
        long s2 = SplitMix64.extend(TEACHER_SEED, 2);
        double limit1 = Math.sqrt(3.0 / 2);
        double limit2 = Math.sqrt(6.0 / (hidden + width));
        double[] a = new double[hidden];
        for (int h = 0; h < hidden; h++) {
            double w1 = limit1 * (2 * SplitMix64.doubleAt(s1, 1L * hidden + h) - 1);
            double w5 = limit1 * (2 * SplitMix64.doubleAt(s1, 5L * hidden + h) - 1);
            a[h] = StrictMath.tanh(0.0 + w1 + w5);
        }
        double[] expected = new double[width];
        for (int c = 0; c < width; c++) {
            for (int h = 0; h < hidden; h++) {
                expected[c] += limit2 * (2 * SplitMix64.doubleAt(s2, (long) c * hidden + h) - 1) * a[h];
            }
        }
        double[] z = new double[width];
        zipf.teacher(new int[] {1, 5}, new double[hidden], z);
        assertArrayEquals(expected, z);
    }

    @Test
    void sparseRowsCarryTheirIndicesOnesAndTheTeachersLabel() {
        // Noise 0: the label is the argmax of the teacher on the row's own indices.
        SyntheticRows rows = new SyntheticRows(600, 2, 5000, 8, 2, true, 0.0, 42, 12, 1.0);
        ZipfFeatures zipf = new ZipfFeatures(5000, 12, 1.0, 8, 2, SyntheticRows.teacherSeed(42));
        int ones = 0;
        for (int p = 0; p < 2; p++) {
            Iterator<SyntheticRows.Sample> it = rows.partition(p);
            while (it.hasNext()) {
                SyntheticRows.Sample s = it.next();
                assertEquals(12, s.indices().length);
                assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, s.features());
                double[] z = new double[2];
                zipf.teacher(s.indices(), new double[8], z);
                assertEquals(z[1] > z[0] ? 1 : 0, s.classIndex());
                ones += s.classIndex();
            }
        }
        assertTrue(ones > 600 / 5 && ones < 600 * 4 / 5, ones + " of 600 rows in class 1");
    }
}
