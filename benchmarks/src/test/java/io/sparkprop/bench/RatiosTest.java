package io.sparkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The summary's ratios, against figures worked by hand. */
class RatiosTest {

    @Test
    void theRoofOfAnEpochIsItsFlopsAtTheCoresDgemmRate() {
        // MNIST 784-256-128-10 by Roof's count: layer 0 forward and weight gradient, the others all
        // three products: 2*(784*256*2 + 256*128*3 + 128*10*3) = 2*(401,408 + 98,304 + 3,840)
        // = 1,007,104 FLOPs an example; 60,000 rows = 60.43 GFLOP; at 2 x 40 GFLOP/s = 0.7553 s.
        double perExample = 2.0 * (784 * 256 * 2 + 256 * 128 * 3 + 128 * 10 * 3);
        assertEquals(1_007_104.0, perExample);
        assertEquals(0.755328, Ratios.roofEpochSeconds(60_000, perExample, 2, 40.0), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Ratios.roofEpochSeconds(60_000, perExample, 0, 40.0));
        assertThrows(IllegalArgumentException.class, () -> Ratios.roofEpochSeconds(60_000, perExample, 2, Double.NaN));
    }

    @Test
    void aLocalStepIsTheMedianRoundOverItsMedianNumberOfSteps() {
        // 469 MNIST steps: k = 64 gives 7 rounds of 64 and one of 21 (median 64); k = 128 three of
        // 128 and one of 85 (median (128 + 128) / 2); k = 256 one of 256 and one of 213 (234.5);
        // k = 500 a single round of 469.
        assertEquals(64.0, Ratios.medianRoundSteps(469, 64));
        assertEquals(128.0, Ratios.medianRoundSteps(469, 128));
        assertEquals(234.5, Ratios.medianRoundSteps(469, 256));
        assertEquals(469.0, Ratios.medianRoundSteps(469, 500));
        assertEquals(1.0, Ratios.medianRoundSteps(469, 1));
        assertThrows(IllegalArgumentException.class, () -> Ratios.medianRoundSteps(0, 64));
    }

    @Test
    void ratiosAreTheQuotientsOfTheirFiguresAndMissingOnesSayNotAvailable() {
        Ratios r = new Ratios(4.4, 5.0, 2.2, 1.76, 0.88, 2.64, 2.2);
        assertEquals(0.88, r.toTorch(), 1e-12);
        assertEquals(1.25, r.firstToLater(), 1e-12);
        assertEquals(2.0, r.epochToRoof(), 1e-12);
        assertEquals(1.2, r.taskStepToCore(), 1e-12);
        String text = String.join("\n", r.lines("default k=64"));
        assertTrue(text.contains("sparkprop / PyTorch = 0.88 (goal <= 1.0)"), text);
        assertTrue(text.contains("-> 1.25 (goal <= 1.2)"), text);
        assertTrue(text.contains("dgemm roof 0.88 s -> 2.00 (goal <= 1.3)"), text);
        assertTrue(text.contains("-> 1.20 (goal <= 1.2)"), text);
        assertTrue(r.toJson().contains("\"to_torch\":0.8800"), r.toJson());

        Ratios noTorch = new Ratios(4.4, Double.NaN, 2.2, Double.NaN, 0.88, 2.64, 2.2);
        String missing = String.join("\n", noTorch.lines("k"));
        assertTrue(missing.contains("PyTorch n/a s -> sparkprop / PyTorch = n/a"), missing);
        assertTrue(noTorch.toJson().contains("\"to_torch\":null"), noTorch.toJson());
        assertTrue(noTorch.toJson().contains("\"first_to_later\":null"), noTorch.toJson());
    }
}
